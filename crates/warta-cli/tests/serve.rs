//! `warta serve` as an office server, driven as a process: settings and their precedence,
//! refusals, HTTPS, graceful shutdown on SIGTERM, JSON logs, the client address behind a
//! trusted proxy, one-shot backup and restore, and the systemd unit.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

fn warta() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_warta"));
    // The tests set what they mean; nothing leaks in from the machine running them.
    for (k, _) in std::env::vars() {
        if k.starts_with("WARTA_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A `warta serve` process whose standard error (the log) is collected line by line.
struct Served {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Served {
    fn start(mut cmd: Command) -> Served {
        let mut child = cmd
            .arg("--listen")
            .arg("127.0.0.1:0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("starting warta serve");
        let lines = Arc::new(Mutex::new(Vec::new()));
        for pipe in [
            Box::new(child.stderr.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stdout.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            });
        }
        Served { child, lines }
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits (bounded) for a log line containing `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(l) = self.lines().into_iter().find(|l| l.contains(needle)) {
                return l;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Let the readers catch up with what it printed before exiting.
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "warta serve exited ({status}) before logging {needle:?}:\n{}",
                    self.lines().join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the log:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The URL of the `Warta hub ready` line (JSON logs).
    fn url(&mut self) -> String {
        let line = self.wait_for("Warta hub ready");
        let v: Value = serde_json::from_str(&line).expect("a JSON log line");
        v["fields"]["url"].as_str().unwrap().to_string()
    }

    fn port(&mut self) -> u16 {
        let line = self.wait_for("hub listening");
        let v: Value = serde_json::from_str(&line).expect("a JSON log line");
        let listen: std::net::SocketAddr = v["fields"]["listen"].as_str().unwrap().parse().unwrap();
        listen.port()
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    /// Waits (bounded) for the process to end.
    fn wait_exit(&mut self) -> std::process::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                std::thread::sleep(Duration::from_millis(200));
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "warta serve did not exit:\n{}",
                self.lines().join("\n")
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path) -> Command {
    let mut c = warta();
    c.arg("serve").arg("--data").arg(data);
    c
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

// ------------------------------------------------------------------------------- settings

#[test]
fn a_flag_beats_the_environment_which_beats_the_file_which_beats_the_default() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = write(
        &dir.path().join("warta.toml"),
        "public_url = \"https://file.example\"\nlog_format = \"json\"\n",
    );
    // SIGINT (Ctrl-C) stops the hub as cleanly as SIGTERM.
    let run = |env: Option<&str>, flag: Option<&str>| {
        let mut c = serve(&data);
        c.arg("--config").arg(&file);
        if let Some(e) = env {
            c.env("WARTA_PUBLIC_URL", e);
        }
        if let Some(f) = flag {
            c.args(["--public-url", f]);
        }
        let mut s = Served::start(c);
        let url = s.url();
        s.signal("INT");
        assert_eq!(s.wait_exit().code(), Some(0));
        assert!(s.lines().iter().any(|l| l.contains("SIGINT")));
        url
    };
    assert_eq!(run(None, None), "https://file.example");
    assert_eq!(
        run(Some("https://env.example/"), None),
        "https://env.example"
    );
    assert_eq!(
        run(Some("https://env.example"), Some("https://flag.example")),
        "https://flag.example"
    );
    // No public URL anywhere: the address listened on. And the config file named by
    // WARTA_CONFIG instead of --config.
    let mut c = serve(&data);
    c.env(
        "WARTA_CONFIG",
        write(&dir.path().join("b.toml"), "log_format = \"json\"\n"),
    );
    let mut s = Served::start(c);
    let port = s.port();
    assert_eq!(s.url(), format!("http://127.0.0.1:{port}"));
}

#[test]
fn the_example_config_and_every_setting_it_documents_are_accepted() {
    let example = repo().join("deploy/warta.toml");
    let o = warta()
        .args(["serve", "--check", "--config"])
        .arg(&example)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    for line in [
        "data = /var/lib/warta",
        "listen = 127.0.0.1:8080",
        "public_url = https://warta.example.go.id",
        "log_format = json",
        "shutdown_grace = 10s",
        "session_hours = 12",
        "trusted_proxies = 127.0.0.1/32, ::1/128",
        "backup.dir = /var/backups/warta",
        "backup.every = 6h",
        "backup.keep = 28",
        "backup.keep_days = 14",
        "settings ok",
    ] {
        assert!(out.contains(line), "{line:?} missing from:\n{out}");
    }

    // The commented-out [tls] section works once uncommented (with real files).
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let uncommented = std::fs::read_to_string(&example)
        .unwrap()
        .replace("# [tls]", "[tls]")
        .replace(
            "# cert = \"/etc/warta/tls/fullchain.pem\"",
            &format!("cert = {cert:?}"),
        )
        .replace(
            "# key = \"/etc/warta/tls/privkey.pem\"",
            &format!("key = {key:?}"),
        );
    let file = write(&dir.path().join("tls.toml"), &uncommented);
    let o = warta()
        .args(["serve", "--check", "--config"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains(&format!("tls.cert = {}", cert.display())));
}

/// A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem).
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let made =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let cert = write(&dir.join("cert.pem"), &made.cert.pem());
    let key = write(&dir.join("key.pem"), &made.signing_key.serialize_pem());
    (cert, key)
}

/// Flags, environment variables, and what the one-line refusal must say.
type RefusalCase = (Vec<String>, Vec<(&'static str, String)>, Vec<String>);

#[test]
fn bad_settings_stop_the_hub_with_exit_2_and_one_sentence_naming_setting_and_source() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let (cert, key) = certificate(dir.path());
    let other_key = write(
        &dir.path().join("other-key.pem"),
        &rcgen::KeyPair::generate().unwrap().serialize_pem(),
    );
    let typo = write(
        &dir.path().join("typo.toml"),
        "data = \"/srv/warta\"\n\n[backup]\ndir = \"/srv/b\"\nevery = \"6h\"\nkeep_dayz = 3\n",
    );
    let bad_every = write(
        &dir.path().join("every.toml"),
        "[backup]\ndir = \"/srv/backups\"\nevery = \"sometimes\"\n",
    );
    let cases: Vec<RefusalCase> = vec![
        (
            vec!["--listen".into(), "nope".into()],
            vec![],
            vec![
                "`listen`".into(),
                "\"nope\"".into(),
                "the flag --listen".into(),
            ],
        ),
        (
            vec![],
            vec![("WARTA_LISTEN", "10.0.0.1".into())],
            vec![
                "`listen`".into(),
                "the environment variable WARTA_LISTEN".into(),
            ],
        ),
        (
            vec!["--config".into(), typo.display().to_string()],
            vec![],
            vec![
                typo.display().to_string(),
                "line 6".into(),
                "keep_dayz".into(),
            ],
        ),
        (
            vec!["--config".into(), bad_every.display().to_string()],
            vec![],
            vec![
                "`backup.every`".into(),
                "\"sometimes\"".into(),
                bad_every.display().to_string(),
            ],
        ),
        (
            vec!["--tls-cert".into(), "/nonexistent/cert.pem".into()],
            vec![("WARTA_TLS_KEY", key.display().to_string())],
            vec![
                "/nonexistent/cert.pem".into(),
                "cannot be read".into(),
                "`tls.cert` from the flag --tls-cert".into(),
                "`tls.key` from the environment variable WARTA_TLS_KEY".into(),
            ],
        ),
        (
            vec![
                "--tls-cert".into(),
                cert.display().to_string(),
                "--tls-key".into(),
                other_key.display().to_string(),
            ],
            vec![],
            vec![
                "does not belong to the certificate".into(),
                other_key.display().to_string(),
            ],
        ),
        (
            vec![],
            vec![("WARTA_TLS_CERT", cert.display().to_string())],
            vec!["`tls.key` is not".into(), "WARTA_TLS_CERT".into()],
        ),
        (
            vec![],
            vec![("WARTA_TRUSTED_PROXIES", "10.0.0.0/8, proxy.local".into())],
            vec![
                "`trusted_proxies`".into(),
                "proxy.local".into(),
                "WARTA_TRUSTED_PROXIES".into(),
            ],
        ),
        (
            vec![
                "--backup-dir".into(),
                data.join("backups").display().to_string(),
            ],
            vec![],
            vec!["`backup.dir`".into(), "inside the data folder".into()],
        ),
        (
            vec!["--log-format".into(), "xml".into()],
            vec![],
            vec!["`log_format`".into(), "neither text nor json".into()],
        ),
    ];
    for (args, env, needles) in cases {
        let mut c = serve(&data);
        c.args(&args);
        for (k, v) in &env {
            c.env(k, v);
        }
        let o = c.stdin(Stdio::null()).output().unwrap();
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert_eq!(o.status.code(), Some(2), "{args:?} {env:?}: {}", text(&o));
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        for n in &needles {
            assert!(err.contains(n.as_str()), "{n:?} missing from: {err}");
        }
    }
    // Nothing was created for a refused start.
    assert!(!data.exists());
}

// ---------------------------------------------------------------------------- HTTPS

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_certificate_files_serves_health_and_sign_in_and_refuses_plain_http() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = certificate(dir.path());
    let mut c = serve(&dir.path().join("data"));
    c.args(["--demo", "--log-format", "json"])
        .arg("--tls-cert")
        .arg(&cert)
        .env("WARTA_TLS_KEY", &key);
    let mut s = Served::start(c);
    let url = s.url();
    let port = s.port();
    assert_eq!(url, format!("https://127.0.0.1:{port}"));

    let pem = std::fs::read(&cert).unwrap();
    let https = reqwest::Client::builder()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let r = https.get(format!("{url}/healthz")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
    let r = https
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": warta_hub::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let me: Value = https
        .get(format!("{url}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "admin");

    // A client that does not trust the certificate gets nowhere, nor does plain HTTP.
    let untrusting = reqwest::Client::new();
    assert!(
        untrusting
            .get(format!("{url}/healthz"))
            .send()
            .await
            .is_err()
    );
    let plain = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let r = plain
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await;
    assert!(
        r.as_ref().map_or(true, |r| !r.status().is_success()),
        "plain HTTP answered: {r:?}"
    );

    s.signal("TERM");
    assert!(s.wait_exit().success());
    // The request log names routes and statuses, never the token.
    let lines = s.lines();
    assert!(lines.iter().all(|l| !l.contains(&token)));
    assert!(
        lines
            .iter()
            .any(|l| l.contains("\"/api/v1/me\"") && l.contains("200"))
    );
}

// ------------------------------------------------------------------- graceful shutdown

/// Bytes whose SHA-256 is their name in the blob store.
fn payload(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_an_upload_in_flight_finish_refuses_new_connections_and_exits_0() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let mut c = serve(&data);
    c.args(["--demo", "--log-format", "json", "--shutdown-grace", "5min"])
        .args(["--backup-every", "1h"])
        .env("WARTA_BACKUP_DIR", dir.path().join("backups"));
    let mut s = Served::start(c);
    let url = s.url();
    s.wait_for("backups scheduled");

    let http = reqwest::Client::new();
    let token = http
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"username": "reporter", "password": warta_hub::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();

    // A slow upload: the first megabyte now, the rest only after SIGTERM.
    let bytes = payload(4 << 20);
    let sha = hex::encode(Sha256::digest(&bytes));
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let body = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(bytes::Bytes::from(chunk)), rx))
    });
    let upload = {
        let (http, url, token, sha) = (http.clone(), url.clone(), token.clone(), sha.clone());
        tokio::spawn(async move {
            http.put(format!("{url}/api/v1/blobs/{sha}"))
                .bearer_auth(token)
                .header("content-length", (4u64 << 20).to_string())
                .body(reqwest::Body::wrap_stream(body))
                .send()
                .await
        })
    };
    tx.send(bytes[..1 << 20].to_vec()).await.unwrap();
    // The hub is writing the upload once its temporary file exists.
    let tmp = data.join("blobs/tmp");
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(&tmp)
        .map(|d| d.count() == 0)
        .unwrap_or(true)
    {
        assert!(Instant::now() < deadline, "the upload never started");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    s.signal("TERM");
    s.wait_for("shutting down");
    // Soon after the signal, new connections are refused (while the upload is still open).
    let fresh = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while fresh.get(format!("{url}/healthz")).send().await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "new connections are still served after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The upload in flight completes.
    for chunk in bytes[1 << 20..].chunks(256 << 10) {
        tx.send(chunk.to_vec()).await.unwrap();
    }
    drop(tx);
    let r = upload
        .await
        .unwrap()
        .expect("the upload in flight was answered");
    assert_eq!(r.status(), 201, "{:?}", r.text().await);
    let status = s.wait_exit();
    assert_eq!(status.code(), Some(0), "{}", s.lines().join("\n"));

    let stored = std::fs::read(data.join("blobs").join(&sha[..2]).join(&sha[2..])).unwrap();
    assert_eq!(stored, bytes);
    // Every log line is one JSON object; the upload's request line is there; no secrets.
    let lines = s.lines();
    let parsed: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let put = parsed
        .iter()
        .find(|v| v["fields"]["method"] == "PUT")
        .expect("a request line for the upload");
    assert_eq!(put["fields"]["path"], "/api/v1/blobs/{sha}");
    assert_eq!(put["fields"]["status"], 201);
    assert!(put["fields"]["latency_ms"].as_f64().is_some());
    assert!(
        lines
            .iter()
            .all(|l| !l.contains(&token) && !l.contains("Bearer"))
    );
    assert!(lines.iter().any(|l| l.contains("database checkpointed")));
    // The checkpoint folded the WAL into the database file.
    let wal = data.join("warta.db-wal");
    assert!(!wal.exists() || std::fs::metadata(&wal).unwrap().len() == 0);
}

// ------------------------------------------------------------------ trusted proxies

async fn failed_logins(url: &str, forwarded_for: &str, n: usize) -> Vec<u16> {
    let http = reqwest::Client::new();
    let mut statuses = Vec::new();
    for i in 0..n {
        let r = http
            .post(format!("{url}/api/v1/auth/login"))
            .header("x-forwarded-for", forwarded_for)
            .json(&json!({"username": format!("tamu{i}-{forwarded_for}"), "password": "salah"}))
            .send()
            .await
            .unwrap();
        statuses.push(r.status().as_u16());
    }
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_names_the_client_only_when_the_peer_is_a_trusted_proxy() {
    for trusted in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let mut c = serve(&data);
        c.args(["--log-format", "json"]);
        if trusted {
            // The hub's peer here is 127.0.0.1, standing in for the office's nginx.
            c.env("WARTA_TRUSTED_PROXIES", "127.0.0.1, 10.0.0.0/8");
        } else {
            c.env("WARTA_TRUSTED_PROXIES", "10.0.0.0/8");
        }
        let mut s = Served::start(c);
        let url = s.url();
        // 20 failures from one client use up that address's allowance.
        let first = failed_logins(&url, "203.0.113.5", 20).await;
        assert!(first.iter().all(|s| *s == 401), "{first:?}");
        let again = failed_logins(&url, "203.0.113.5", 1).await;
        assert_eq!(again, [429], "the same client is throttled");
        // Another client behind the same proxy: its own allowance only when the proxy is trusted.
        let other = failed_logins(&url, "198.51.100.9", 1).await;
        assert_eq!(
            other,
            [if trusted { 401 } else { 429 }],
            "trusted = {trusted}"
        );
        s.signal("TERM");
        assert!(s.wait_exit().success());

        let db = rusqlite::Connection::open(data.join("warta.db")).unwrap();
        let addresses: Vec<String> = db
            .prepare(
                "SELECT DISTINCT json_extract(data, '$.address') FROM audit
                 WHERE kind IN ('auth.login_failed', 'auth.login_throttled') ORDER BY 1",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        if trusted {
            assert_eq!(addresses, ["198.51.100.9", "203.0.113.5"]);
        } else {
            assert_eq!(addresses, ["127.0.0.1"]);
        }
    }
}

// ---------------------------------------------------------------- backup and restore

#[test]
fn warta_backup_then_restore_gives_a_working_office_and_never_overwrites_one() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = dir.path().join("backups");
    let o = warta()
        .args(["user", "add", "--data"])
        .arg(&data)
        .args(["kepala", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            c.stdin.take().unwrap().write_all(b"rahasia-sekali\n")?;
            c.wait_with_output()
        })
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    let o = warta()
        .args(["backup", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("made"), "{}", text(&o));
    let made: Vec<PathBuf> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(made.len(), 1);

    let restored = dir.path().join("restored");
    let o = warta()
        .args(["restore", "--from"])
        .arg(&made[0])
        .arg("--data")
        .arg(&restored)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = warta()
        .args(["audit", "verify", "--data"])
        .arg(&restored)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    // The restored office has the account, and its audit log records the backup.
    let db = rusqlite::Connection::open(restored.join("warta.db")).unwrap();
    let users: i64 = db
        .query_row(
            "SELECT count(*) FROM users WHERE username = 'kepala'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(users, 1);
    let live = rusqlite::Connection::open(data.join("warta.db")).unwrap();
    let made_entries: i64 = live
        .query_row(
            "SELECT count(*) FROM audit WHERE kind = 'backup.made'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(made_entries, 1);

    // Restoring over an office is refused, with exit 2 and the office untouched.
    let before = std::fs::read(data.join("warta.db")).unwrap();
    let o = warta()
        .args(["restore", "--from"])
        .arg(&made[0])
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("not empty"), "{}", text(&o));
    assert_eq!(std::fs::read(data.join("warta.db")).unwrap(), before);
}

// ------------------------------------------------------------------------- systemd

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let Ok(o) = Command::new("systemd-analyze").arg("--version").output() else {
        eprintln!("skipped: systemd-analyze is not installed (apt-get install systemd)");
        return;
    };
    assert!(o.status.success());
    let unit = std::fs::read_to_string(repo().join("deploy/warta.service")).unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/warta serve --config /etc/warta/warta.toml"));
    for key in [
        "User=warta",
        "StateDirectory=warta",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "Restart=on-failure",
    ] {
        assert!(unit.lines().any(|l| l == key), "{key} missing");
    }
    // Stop timeout above the shutdown grace of the example config.
    let stop: u64 = unit
        .lines()
        .find_map(|l| l.strip_prefix("TimeoutStopSec="))
        .unwrap()
        .parse()
        .unwrap();
    assert!(stop > 10);
    // Verify it as installed, with this build standing in for /usr/local/bin/warta.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("warta.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/warta", env!("CARGO_BIN_EXE_warta")),
    )
    .unwrap();
    let o = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .unwrap();
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        !out.contains("warta.service:"),
        "systemd-analyze has remarks on the unit:\n{out}"
    );
}
