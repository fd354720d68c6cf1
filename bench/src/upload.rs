//! `make bench-upload`: a 2 GiB video sent by `warta import` (resumable upload in 8 MiB chunks)
//! to a `warta serve` child process, with the peak resident memory of both processes, next to
//! two anchors measured in the same run on the same file: a plain copy on this disk, and `curl`
//! sending it whole to the same hub (`PUT /api/v1/blobs/{sha256}`, streamed).
//!
//! The video is a real (tiny) MP4 made by ffmpeg followed by a top-level `free` box of
//! pseudo-random bytes, written streamed to `target/bench-upload/` once and reused. The client's
//! peak is `getrusage(RUSAGE_CHILDREN)` of a `warta-bench rss` process that runs only the import;
//! the hub's is `VmHWM` from `/proc`. The run fails when either reaches 100 MB.
//!
//! Environment: `BENCH_UPLOAD_BYTES` (default 2 GiB), `WARTA_BIN` (default
//! `target/release/warta`).

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use sha2::{Digest, Sha256};

/// The bound for the app and for the hub, in bytes.
const LIMIT_BYTES: u64 = 100_000_000;
const USER: &str = "bench";
const PASSWORD: &str = "bench-password-123";

fn bench_dir() -> PathBuf {
    crate::target_dir().join("bench-upload")
}

fn warta_bin() -> PathBuf {
    std::env::var_os("WARTA_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::target_dir().join("release").join("warta"))
}

/// `warta-bench rss CMD ARGS...`: runs the command (inheriting stdin and stdout) and prints
/// `maxrss_kib N` on stderr once it ended: its peak resident memory and nothing else's.
pub fn rss(args: &[std::ffi::OsString]) -> Result<()> {
    let (cmd, rest) = args
        .split_first()
        .context("usage: warta-bench rss CMD ARGS...")?;
    let status = Command::new(cmd).args(rest).status()?;
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)?;
    eprintln!("maxrss_kib {}", usage.max_rss());
    ensure!(
        status.success(),
        "{} failed: {status}",
        cmd.to_string_lossy()
    );
    Ok(())
}

/// The video of `len` bytes (made once); its SHA-256.
fn video(len: u64) -> Result<(PathBuf, String)> {
    let dir = bench_dir();
    let card = dir.join(format!("card-{len}"));
    let path = card.join("VID_0001.MP4");
    let sha_file = dir.join(format!("video-{len}.sha256"));
    if path.is_file()
        && std::fs::metadata(&path)?.len() == len
        && let Ok(sha) = std::fs::read_to_string(&sha_file)
    {
        return Ok((card, sha.trim().to_string()));
    }
    std::fs::create_dir_all(&card)?;
    let small = dir.join("small.mp4");
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc=duration=2:size=320x240:rate=25")
        .args(["-c:v", "mpeg4", "-pix_fmt", "yuv420p"])
        .arg(&small)
        .output()
        .context("ffmpeg is needed to make the video (make deps installs it)")?;
    ensure!(
        out.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!(
        "==> writing a {} MiB video to {}",
        len >> 20,
        path.display()
    );
    let head = std::fs::read(&small)?;
    let rest = len
        .checked_sub(head.len() as u64 + 16)
        .context("BENCH_UPLOAD_BYTES is too small")?;
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path)?);
    let mut hasher = Sha256::new();
    let mut put = |bytes: &[u8]| -> Result<()> {
        hasher.update(bytes);
        file.write_all(bytes)?;
        Ok(())
    };
    put(&head)?;
    put(&1u32.to_be_bytes())?;
    put(b"free")?;
    put(&(rest + 16).to_be_bytes())?;
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = rest;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        for b in buf[..n].chunks_mut(8) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b.copy_from_slice(&x.to_le_bytes()[..b.len()]);
        }
        put(&buf[..n])?;
        left -= n as u64;
    }
    file.flush()?;
    file.get_ref().sync_all()?;
    drop(file);
    let sha = hex::encode(hasher.finalize());
    std::fs::write(&sha_file, &sha)?;
    Ok((card, sha))
}

/// `warta serve` on a fresh data directory, stopped when dropped.
struct Hub {
    child: Child,
    base: String,
}

impl Drop for Hub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Hub {
    fn start(data: &Path) -> Result<Hub> {
        let mut add = Command::new(warta_bin())
            .args(["user", "add", "--data"])
            .arg(data)
            .args([USER, "--role", "reporter", "--password-stdin"])
            .stdin(Stdio::piped())
            .spawn()
            .with_context(|| format!("running {}", warta_bin().display()))?;
        writeln!(add.stdin.take().context("stdin")?, "{PASSWORD}")?;
        ensure!(add.wait()?.success(), "warta user add failed");
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let log = std::fs::File::create(bench_dir().join("hub.log"))?;
        let child = Command::new(warta_bin())
            .arg("serve")
            .arg("--data")
            .arg(data)
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let hub = Hub {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let http = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while !http
            .get(format!("{}/healthz", hub.base))
            .send()
            .is_ok_and(|r| r.status().is_success())
        {
            ensure!(Instant::now() < deadline, "warta serve did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(hub)
    }

    fn vm_hwm_bytes(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .context("no VmHWM")?;
        Ok(kib * 1024)
    }
}

fn mb_per_s(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1e6
}

pub fn run() -> Result<()> {
    let len: u64 = match std::env::var("BENCH_UPLOAD_BYTES") {
        Ok(v) => v
            .parse()
            .context("BENCH_UPLOAD_BYTES must be a number of bytes")?,
        Err(_) => 2 * 1024 * 1024 * 1024,
    };
    std::fs::create_dir_all(bench_dir())?;
    let (card, sha) = video(len)?;
    let file = card.join("VID_0001.MP4");

    // Anchor 1: a plain copy on the same disk, fsynced.
    let copy = bench_dir().join("copy.bin");
    let t = Instant::now();
    std::fs::copy(&file, &copy)?;
    std::fs::File::open(&copy)?.sync_all()?;
    let copy_time = t.elapsed();
    std::fs::remove_file(&copy)?;

    let data = bench_dir().join("hub");
    let _ = std::fs::remove_dir_all(&data);
    let hub = Hub::start(&data)?;
    let http = reqwest::blocking::Client::builder().timeout(None).build()?;
    let login: serde_json::Value = http
        .post(format!("{}/api/v1/auth/login", hub.base))
        .json(&serde_json::json!({"username": USER, "password": PASSWORD}))
        .send()?
        .error_for_status()?
        .json()?;
    let token = login["token"].as_str().context("token")?.to_string();
    let item: serde_json::Value = http
        .post(format!("{}/api/v1/items", hub.base))
        .bearer_auth(&token)
        .json(
            &serde_json::json!({"title": "Bench", "summary": "", "body": "",
            "category": "berita", "tags": [], "unit": ""}),
        )
        .send()?
        .error_for_status()?
        .json()?;
    let item = item["id"].as_i64().context("item id")?;
    let hub_at_start = hub.vm_hwm_bytes()?;

    // Anchor 2: curl sends the file whole (streamed) to the same hub.
    let t = Instant::now();
    let out = Command::new("curl")
        .args(["-sS", "-f", "-o", "/dev/null", "-T"])
        .arg(&file)
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .args(["-H", "Content-Type: application/octet-stream"])
        .arg(format!("{}/api/v1/blobs/{sha}", hub.base))
        .output()
        .context("curl is needed for the anchor")?;
    ensure!(
        out.status.success(),
        "curl: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let curl_time = t.elapsed();
    let hub_after_curl = hub.vm_hwm_bytes()?;
    // The resumable upload must carry the bytes itself: drop what curl stored.
    std::fs::remove_file(data.join("blobs").join(&sha[..2]).join(&sha[2..]))?;

    // Ours: `warta import` (hash the file, resumable upload in 8 MiB chunks, attach).
    let queue = bench_dir().join("import.db");
    let _ = std::fs::remove_file(&queue);
    let t = Instant::now();
    let mut child = Command::new(std::env::current_exe()?)
        .arg("rss")
        .arg(warta_bin())
        .args(["import", "--hub", &hub.base, "--user", USER])
        .args(["--item", &item.to_string(), "--queue"])
        .arg(&queue)
        .arg(&card)
        .env("WARTA_PASSWORD", PASSWORD)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut first_send = None;
    let mut last_send = None;
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().context("stdout")?).lines() {
        let line = line?;
        if line.starts_with("sending ") {
            first_send.get_or_insert_with(Instant::now);
            last_send = Some(Instant::now());
        }
        lines.push(line);
    }
    let mut err = String::new();
    child
        .stderr
        .take()
        .context("stderr")?
        .read_to_string(&mut err)?;
    let status = child.wait()?;
    let import_time = t.elapsed();
    ensure!(
        status.success(),
        "warta import failed:\n{}\n{err}",
        lines.join("\n")
    );
    let client_peak: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("maxrss_kib "))
        .and_then(|v| v.trim().parse().ok())
        .map(|kib: u64| kib * 1024)
        .context("no maxrss from warta-bench rss")?;
    let hub_peak = hub.vm_hwm_bytes()?;
    let detail: serde_json::Value = http
        .get(format!("{}/api/v1/items/{item}", hub.base))
        .bearer_auth(&token)
        .send()?
        .error_for_status()?
        .json()?;
    let attached = detail["attachments"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x["sha256"] == sha.as_str()));
    ensure!(attached, "the video was not attached: {detail}");
    drop(hub);
    // The video stays for the next run; the hub's copy of it does not.
    std::fs::remove_dir_all(&data)?;
    let send_time = match (first_send, last_send) {
        (Some(a), Some(b)) if b > a => b - a,
        _ => import_time,
    };

    let mut md = String::new();
    use std::fmt::Write as _;
    writeln!(
        md,
        "Upload of a {:.0} MB video to a `warta serve` child process on loopback (release build).\n",
        mb(len)
    )?;
    writeln!(md, "| what | time (s) | MB/s | vs. curl | peak RSS (MB) |")?;
    writeln!(md, "|---|---:|---:|---:|---:|")?;
    let row = |md: &mut String, what: &str, d: Duration, rss: Option<u64>| -> Result<()> {
        writeln!(
            md,
            "| {what} | {:.1} | {:.0} | {:.2} | {} |",
            d.as_secs_f64(),
            mb_per_s(len, d),
            curl_time.as_secs_f64() / d.as_secs_f64(),
            rss.map(|b| format!("{:.0}", mb(b)))
                .unwrap_or_else(|| "–".into())
        )?;
        Ok(())
    };
    row(
        &mut md,
        "anchor: plain copy on this disk (fsynced)",
        copy_time,
        None,
    )?;
    row(
        &mut md,
        "anchor: `curl -T` whole to `PUT /blobs/{sha256}`",
        curl_time,
        None,
    )?;
    row(
        &mut md,
        "`warta import`: chunks confirmed (first to last progress line)",
        send_time,
        None,
    )?;
    row(
        &mut md,
        "`warta import` in all (hash locally, 8 MiB chunks, hub hashes the file, attach)",
        import_time,
        Some(client_peak),
    )?;
    writeln!(
        md,
        "\nHub peak RSS (VmHWM): {:.0} MB at start, {:.0} MB after the curl anchor, {:.0} MB after \
         the import (limit {:.0} MB for each process). The client's is `getrusage` of the import \
         process alone.",
        mb(hub_at_start),
        mb(hub_after_curl),
        mb(hub_peak),
        mb(LIMIT_BYTES)
    )?;
    println!("{md}");
    std::fs::write(crate::target_dir().join("bench-upload.md"), &md)?;
    if client_peak >= LIMIT_BYTES || hub_peak >= LIMIT_BYTES {
        bail!(
            "peak memory over {:.0} MB: client {:.0} MB, hub {:.0} MB",
            mb(LIMIT_BYTES),
            mb(client_peak),
            mb(hub_peak)
        );
    }
    Ok(())
}
