//! A fault-injecting HTTP proxy on 127.0.0.1: it forwards each request to the real server on
//! a fresh connection and, on the Nth request it sees, misbehaves in a chosen way. Every
//! connection carries one request (`Connection: close` both ways), so "the Nth request" is
//! exact whatever the client's connection pooling does.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Forward everything.
    None,
    /// On request N (1-based): close the client's connection without forwarding anything;
    /// the server never sees the request.
    DropBeforeForward(usize),
    /// On request N: forward it, wait for the server's whole answer (so the server did the
    /// work), then close the client's connection without sending a byte of it.
    DropAfterForward(usize),
    /// On request N: accept it and never answer (until the proxy is dropped).
    Stall(usize),
}

pub struct FaultProxy {
    addr: SocketAddr,
    state: Arc<State>,
    accept: Option<JoinHandle<()>>,
}

struct State {
    upstream: SocketAddr,
    fault: Fault,
    seen: AtomicUsize,
    tripped: AtomicBool,
    stop: AtomicBool,
    log: Mutex<Vec<String>>,
}

impl FaultProxy {
    pub fn start(upstream: SocketAddr, fault: Fault) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            upstream,
            fault,
            seen: AtomicUsize::new(0),
            tripped: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            log: Mutex::new(Vec::new()),
        });
        let s = state.clone();
        let accept = std::thread::spawn(move || {
            let mut workers = Vec::new();
            while !s.stop.load(Ordering::SeqCst) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let s = s.clone();
                        workers.push(std::thread::spawn(move || serve(conn, &s)));
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(2)),
                }
            }
            for w in workers {
                let _ = w.join();
            }
        });
        FaultProxy {
            addr,
            state,
            accept: Some(accept),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Requests seen so far (complete requests read from clients).
    pub fn seen(&self) -> usize {
        self.state.seen.load(Ordering::SeqCst)
    }

    /// Whether the fault happened.
    pub fn tripped(&self) -> bool {
        self.state.tripped.load(Ordering::SeqCst)
    }

    /// `METHOD path` of every request seen, in order.
    pub fn log(&self) -> Vec<String> {
        self.state.log.lock().unwrap().clone()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.state.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.accept.take() {
            let _ = t.join();
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Reads one HTTP request (head and body); `None` if the client sent nothing.
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
        if matches!(
            name.as_str(),
            "connection" | "keep-alive" | "proxy-connection"
        ) {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str("Connection: close\r\n\r\n");
    out
}

fn serve(mut client: TcpStream, s: &State) {
    let _ = client.set_read_timeout(Some(Duration::from_secs(120)));
    let Some((head, body)) = read_request(&mut client) else {
        return;
    };
    let n = s.seen.fetch_add(1, Ordering::SeqCst) + 1;
    let line = head.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    let what = format!(
        "{} {}",
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("")
    );
    s.log.lock().unwrap().push(what);
    match s.fault {
        Fault::DropBeforeForward(k) if k == n => {
            s.tripped.store(true, Ordering::SeqCst);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        Fault::Stall(k) if k == n => {
            s.tripped.store(true, Ordering::SeqCst);
            while !s.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        _ => {}
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
    if s.fault == Fault::DropAfterForward(n) {
        s.tripped.store(true, Ordering::SeqCst);
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
