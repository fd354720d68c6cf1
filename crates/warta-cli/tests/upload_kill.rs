//! A large video through `warta import` to a real `warta serve`, both child processes: the
//! import is killed (SIGKILL) mid-upload and run again, and carries on from the last chunk the
//! hub confirmed; the file arrives whole and once. Peak memory (VmHWM) of both processes stays
//! far below the size of the file.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const PASSWORD: &str = "kata-sandi-uji-123";
/// The video: 96 MiB, twelve chunks of the client's default 8 MiB.
const VIDEO_BYTES: u64 = 96 * 1024 * 1024;
/// What the hub may grow by while it receives and attaches the video (it holds a few frames of
/// a chunk at a time; sign-ins and the attachment's processing account for the rest). The
/// issue's bound of 100 MB for a 2 GiB file is checked by `make bench-upload`.
const HUB_GROWTH_LIMIT_KIB: u64 = VIDEO_BYTES / 2 / 1024;
/// The import holds one chunk at a time: far less than half the video.
const IMPORT_LIMIT_KIB: u64 = VIDEO_BYTES / 2 / 1024;

/// `warta serve` as a child process, killed when dropped.
struct Hub {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Hub {
    /// With one reporter (`reporter`), added through `warta user add` first: the demo office
    /// would only add its start-up work to the memory measured here.
    fn start(data: &Path, log: &Path) -> Hub {
        let mut add = Command::new(env!("CARGO_BIN_EXE_warta"))
            .args(["user", "add", "--data"])
            .arg(data)
            .args(["reporter", "--role", "reporter", "--password-stdin"])
            .args(["--unit", "Bidang IKP"])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(add.stdin.take().unwrap(), "{PASSWORD}").unwrap();
        assert!(add.wait().unwrap().success());
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_warta"))
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap();
        let hub = Hub {
            child,
            port,
            log: log.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        let http = reqwest::blocking::Client::new();
        while !http
            .get(format!("{}/healthz", hub.base()))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                Instant::now() < deadline,
                "warta serve did not come up; its log:\n{}",
                std::fs::read_to_string(&hub.log).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        hub
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Peak resident memory of a running process, in KiB.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// A real (tiny) MP4 made by ffmpeg, then a top-level `free` box of pseudo-random bytes up to
/// `len`: a valid video the hub probes by its headers, as large as wanted. Its SHA-256.
fn video(path: &Path, len: u64) -> String {
    // Made next to the card, not on it.
    let small = path.parent().unwrap().with_extension("small.mp4");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=duration=1:size=160x120:rate=10")
        .args(["-c:v", "mpeg4", "-pix_fmt", "yuv420p"])
        .arg(&small)
        .output()
        .expect("ffmpeg is needed (make deps installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut bytes = std::fs::read(&small).unwrap();
    let rest = len - bytes.len() as u64;
    bytes.extend_from_slice(&1u32.to_be_bytes());
    bytes.extend_from_slice(b"free");
    bytes.extend_from_slice(&rest.to_be_bytes());
    let mut file = std::fs::File::create(path).unwrap();
    file.write_all(&bytes).unwrap();
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    sha2::Digest::update(&mut hasher, &bytes);
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut left = rest - 16;
    let mut buf = vec![0u8; 1 << 20];
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        for b in buf[..n].chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
        }
        file.write_all(&buf[..n]).unwrap();
        sha2::Digest::update(&mut hasher, &buf[..n]);
        left -= n as u64;
    }
    hex_string(&sha2::Digest::finalize(hasher))
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_file(path: &Path) -> String {
    let mut f = std::fs::File::open(path).unwrap();
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        sha2::Digest::update(&mut hasher, &buf[..n]);
    }
    hex_string(&sha2::Digest::finalize(hasher))
}

/// `warta import` of `card` into `item`, its stdout lines and its peak memory read while it
/// runs. `kill_when` sees each line and says whether to SIGKILL the import there.
fn import(
    hub: &Hub,
    item: i64,
    queue: &Path,
    card: &Path,
    pause_ms: u32,
    kill_when: impl Fn(&str) -> bool,
) -> (Vec<String>, bool, u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warta"))
        .arg("import")
        .args([
            "--hub",
            &hub.base(),
            "--user",
            "reporter",
            "--password-stdin",
        ])
        .args(["--item", &item.to_string()])
        .arg("--queue")
        .arg(queue)
        .arg(card)
        .env("WARTA_IMPORT_PAUSE_MS", pause_ms.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    let pid = child.id();
    let peak = Arc::new(AtomicU64::new(0));
    let watcher = {
        let peak = peak.clone();
        std::thread::spawn(move || {
            // Until the process is gone; VmHWM only grows, so the last reading is the peak.
            while let Some(kib) = vm_hwm_kib(pid) {
                peak.fetch_max(kib, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let mut lines = Vec::new();
    let mut killed = false;
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let kill = kill_when(&line);
        lines.push(line);
        if kill {
            child.kill().unwrap();
            killed = true;
            break;
        }
    }
    let status = child.wait().unwrap();
    watcher.join().unwrap();
    if !killed {
        assert!(status.success(), "import failed: {lines:#?}");
    }
    (lines, killed, peak.load(Ordering::SeqCst))
}

/// `sending PATH: N of M bytes confirmed` → (N, M).
fn sending(line: &str) -> Option<(u64, u64)> {
    let rest = line.strip_prefix("sending ")?;
    let (_, counts) = rest.rsplit_once(": ")?;
    let mut words = counts.split(' ');
    let n = words.next()?.parse().ok()?;
    let m = words.nth(1)?.parse().ok()?;
    Some((n, m))
}

#[test]
fn a_killed_import_resumes_a_large_video_from_the_last_confirmed_chunk_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let card = dir.path().join("card");
    std::fs::create_dir_all(&card).unwrap();
    let path = card.join("VID_0001.MP4");
    let sha = video(&path, VIDEO_BYTES);
    let data = dir.path().join("hub");
    let hub = Hub::start(&data, &dir.path().join("hub.log"));

    let http = reqwest::blocking::Client::new();
    let login: Value = http
        .post(format!("{}/api/v1/auth/login", hub.base()))
        .json(&json!({"username": "reporter", "password": PASSWORD}))
        .send()
        .unwrap()
        .json()
        .unwrap();
    let token = login["token"].as_str().unwrap().to_string();
    let item: Value = http
        .post(format!("{}/api/v1/items", hub.base()))
        .bearer_auth(&token)
        .json(
            &json!({"title": "Banjir bandang", "summary": "", "body": "",
                      "category": "berita", "tags": [], "unit": "Bidang IKP"}),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    let item = item["id"].as_i64().unwrap();
    let queue = dir.path().join("import.db");
    let hub_before = vm_hwm_kib(hub.child.id()).unwrap();

    // First run, slowed down between chunks, killed once the hub confirmed a few chunks.
    let (lines, killed, first_peak) = import(&hub, item, &queue, &card, 300, |line| {
        sending(line).is_some_and(|(n, m)| n >= 3 * 8 * 1024 * 1024 && n < m)
    });
    assert!(
        killed,
        "the import finished before it could be killed: {lines:#?}"
    );
    let (at_kill, total) = sending(lines.last().unwrap()).unwrap();
    assert_eq!(total, VIDEO_BYTES);

    // The hub holds exactly what it confirmed (once the cut connection is noticed).
    let hub_db = rusqlite::Connection::open(data.join("warta.db")).unwrap();
    let (id, confirmed): (String, i64) = hub_db
        .query_row("SELECT id, confirmed FROM uploads", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert!(confirmed as u64 >= at_kill, "{confirmed} < {at_kill}");
    let part = data.join("uploads").join(format!("{id}.part"));
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::metadata(&part).unwrap().len() != confirmed as u64 {
        assert!(Instant::now() < deadline, "the cut chunk was not discarded");
        std::thread::sleep(Duration::from_millis(20));
    }

    // Second run: resumes at the hub's offset, not at zero, and attaches the video once.
    let (lines, _, second_peak) = import(&hub, item, &queue, &card, 0, |_| false);
    let first = lines
        .iter()
        .find_map(|l| sending(l))
        .expect("progress lines");
    assert!(first.0 >= at_kill, "resumed at {} after {at_kill}", first.0);
    assert!(
        lines.iter().any(|l| l.starts_with("done VID_0001.MP4")),
        "{lines:#?}"
    );
    let detail: Value = http
        .get(format!("{}/api/v1/items/{item}", hub.base()))
        .bearer_auth(&token)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let atts = detail["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 1, "{atts:#?}");
    assert_eq!(atts[0]["kind"], "video");
    assert_eq!(atts[0]["sha256"], sha.as_str());
    assert_eq!(atts[0]["size"], VIDEO_BYTES);
    let blob = data.join("blobs").join(&sha[..2]).join(&sha[2..]);
    assert_eq!(sha256_file(&blob), sha);
    assert!(!part.exists());

    let hub_peak = vm_hwm_kib(hub.child.id()).unwrap();
    eprintln!(
        "peak memory of the hub: {} MiB before the imports, {} MiB after",
        hub_before / 1024,
        hub_peak / 1024
    );
    for (who, kib, limit) in [
        ("first import", first_peak, IMPORT_LIMIT_KIB),
        ("second import", second_peak, IMPORT_LIMIT_KIB),
        ("hub (growth)", hub_peak - hub_before, HUB_GROWTH_LIMIT_KIB),
    ] {
        eprintln!("peak memory of the {who}: {} MiB", kib / 1024);
        assert!(
            kib > 0 && kib < limit,
            "{who} peaked at {kib} KiB (limit {limit})"
        );
    }
}
