//! A loopback HTTP proxy in front of WordPress that can stop the world at one request: it
//! forwards each request on a fresh connection (`Connection: close` both ways, so "request N"
//! is exact whatever the client pools) and, when armed, holds request N — before forwarding it,
//! or after the server answered it but before passing the answer on — until the test has
//! killed the client and calls [`HoldProxy::arm`] again. A held connection is then closed
//! without a byte of the answer.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Forward everything.
    Nothing,
    /// Hold request N (1-based, counted from `arm`) before forwarding it: the server never
    /// sees it.
    Before(usize),
    /// Forward request N, read the server's whole answer (the server did the work), then hold
    /// it back.
    After(usize),
    /// Hold every request before forwarding: nothing reaches the server.
    Everything,
    /// Like `After`, for the first request whose `METHOD path` starts with this.
    AfterFirst(&'static str),
    /// Hold request N before forwarding it, whatever `arm` says later, until
    /// [`HoldProxy::deliver_late`]: then it reaches the server late (a request the server was
    /// still busy with when its client died), and its answer goes nowhere.
    Late(usize),
}

pub struct HoldProxy {
    addr: SocketAddr,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

struct Ctl {
    hold: Hold,
    /// Requests seen since the last `arm`.
    seen: usize,
    /// `METHOD path` of each of them.
    log: Vec<String>,
    /// Whether the hold point was reached since the last `arm`.
    holding: bool,
    /// Whether a request was picked for `AfterFirst` since the last `arm`.
    picked: bool,
    /// Bumped by `arm`: connections held under an older epoch are let go (closed).
    epoch: u64,
    /// Bumped by `deliver_late`: `Late` requests held before are forwarded.
    late_gen: u64,
    /// `Late` requests the server has answered.
    late_done: u64,
}

struct State {
    upstream: SocketAddr,
    ctl: Mutex<Ctl>,
    changed: Condvar,
    stop: AtomicBool,
}

impl State {
    fn ctl(&self) -> std::sync::MutexGuard<'_, Ctl> {
        self.ctl.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks the hold point reached and waits until the test re-arms (or the proxy stops).
    fn hold(&self, epoch: u64) {
        let mut c = self.ctl();
        c.holding = true;
        self.changed.notify_all();
        while c.epoch == epoch && !self.stop.load(Ordering::SeqCst) {
            c = self
                .changed
                .wait_timeout(c, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
}

impl HoldProxy {
    pub fn start(upstream: SocketAddr) -> HoldProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            upstream,
            ctl: Mutex::new(Ctl {
                hold: Hold::Nothing,
                seen: 0,
                log: Vec::new(),
                holding: false,
                picked: false,
                epoch: 0,
                late_gen: 0,
                late_done: 0,
            }),
            changed: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let s = state.clone();
        let accept = std::thread::spawn(move || {
            let mut workers: Vec<JoinHandle<()>> = Vec::new();
            while !s.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let _ = conn.set_nonblocking(false);
                        let s = s.clone();
                        workers.push(std::thread::spawn(move || serve(conn, &s)));
                        workers.retain(|w| !w.is_finished());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        HoldProxy {
            addr,
            state,
            accept: Some(accept),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Lets go of any held connection (closing it unanswered), then counts afresh under `hold`.
    pub fn arm(&self, hold: Hold) {
        let mut c = self.state.ctl();
        c.hold = hold;
        c.seen = 0;
        c.log.clear();
        c.holding = false;
        c.picked = false;
        c.epoch += 1;
        self.state.changed.notify_all();
    }

    /// Waits until the hold point is reached; `false` after `timeout`.
    pub fn wait_holding(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let mut c = self.state.ctl();
        while !c.holding {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            c = self
                .state
                .changed
                .wait_timeout(c, left.min(Duration::from_millis(100)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Forwards the request held by `Late` and waits (bounded) until the server answered it;
    /// `false` if it did not within `timeout`.
    pub fn deliver_late(&self, timeout: Duration) -> bool {
        let end = Instant::now() + timeout;
        let mut c = self.state.ctl();
        let done = c.late_done;
        c.late_gen += 1;
        self.state.changed.notify_all();
        while c.late_done == done {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            c = self
                .state
                .changed
                .wait_timeout(c, left.min(Duration::from_millis(100)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Requests seen since the last `arm`.
    pub fn seen(&self) -> usize {
        self.state.ctl().seen
    }

    /// `METHOD path` of every request seen since the last `arm`, in order.
    pub fn log(&self) -> Vec<String> {
        self.state.ctl().log.clone()
    }
}

impl Drop for HoldProxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        self.state.changed.notify_all();
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one HTTP request (head and body); `None` if the client sent nothing whole.
fn read_request(conn: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p + 4;
        }
        let n = conn.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut body = buf[head_end..].to_vec();
    let header = |name: &str| {
        head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    };
    if let Some(len) = header("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while body.len() < len {
            let n = conn.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        while !body.ends_with(b"0\r\n\r\n") {
            let n = conn.read(&mut chunk).ok()?;
            if n == 0 {
                return None;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    Some((head, body))
}

/// The head with its hop-by-hop connection headers replaced by `Connection: close`.
fn close_head(head: &str) -> String {
    let mut out = String::new();
    for line in head.split("\r\n").filter(|l| !l.is_empty()) {
        let name = line
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        if !matches!(
            name.as_str(),
            "connection" | "keep-alive" | "proxy-connection"
        ) {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

fn serve(mut client: TcpStream, s: &State) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(120)));
    let Some((head, body)) = read_request(&mut client) else {
        return;
    };
    let (n, hold, hold_after, epoch) = {
        let mut c = s.ctl();
        c.seen += 1;
        let mut parts = head.lines().next().unwrap_or_default().split(' ');
        let what = format!(
            "{} {}",
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("")
        );
        let hold_after = match c.hold {
            Hold::After(k) => k == c.seen,
            Hold::AfterFirst(prefix) if !c.picked && what.starts_with(prefix) => {
                c.picked = true;
                true
            }
            _ => false,
        };
        c.log.push(what);
        (c.seen, c.hold, hold_after, c.epoch)
    };
    let late = hold == Hold::Late(n);
    if late {
        let mut c = s.ctl();
        let generation = c.late_gen;
        c.holding = true;
        s.changed.notify_all();
        while c.late_gen == generation {
            if s.stop.load(Ordering::SeqCst) {
                let _ = client.shutdown(Shutdown::Both);
                return;
            }
            c = s
                .changed
                .wait_timeout(c, Duration::from_millis(50))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }
    if hold == Hold::Everything || hold == Hold::Before(n) {
        s.hold(epoch);
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let Ok(mut up) = TcpStream::connect(s.upstream) else {
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let _ = up.set_read_timeout(Some(Duration::from_secs(120)));
    if up.write_all(close_head(&head).as_bytes()).is_err() || up.write_all(&body).is_err() {
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let mut answer = Vec::new();
    let _ = up.read_to_end(&mut answer);
    if late {
        s.ctl().late_done += 1;
        s.changed.notify_all();
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    if hold_after {
        s.hold(epoch);
        let _ = client.shutdown(Shutdown::Both);
        return;
    }
    let out = match find(&answer, b"\r\n\r\n") {
        Some(p) => {
            let head = String::from_utf8_lossy(&answer[..p + 4]).into_owned();
            let mut out = close_head(&head).into_bytes();
            out.extend_from_slice(&answer[p + 4..]);
            out
        }
        None => answer,
    };
    let _ = client.write_all(&out);
    let _ = client.flush();
    let _ = client.shutdown(Shutdown::Both);
}
