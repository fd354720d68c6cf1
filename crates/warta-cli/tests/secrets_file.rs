//! An office hub on a server without any keyring: `warta serve` runs with its environment
//! cleared and the D-Bus session address pointing nowhere, with a key made by `warta secrets
//! init-key`. An admin adds a webhook website with its key through the HTTP API, an item goes
//! through SOP-A and reaches a webhook receiver on loopback signed with that key; the key is
//! nowhere in the data folder in plain text, backups carry the encrypted file but never the
//! key, and a wrong key stops the hub with words instead of garbage secrets. Without a key, the
//! same hub warns at start how to fix it and the website's key is refused with a 400.

mod support;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use sha2::Sha256;
use warta_secrets::{FileStore, SecretId, SecretStore, SecretsKey};

const DEMO_PASSWORD: &str = "warta-demo";
/// The webhook's shared key: what must never be found in plain text on disk.
const WEBHOOK_KEY: &str = "kunci-webhook-dinas-7f3a9c21e5";

// ---------------------------------------------------------------------- the receiver

#[derive(Default)]
struct Received {
    /// (action, idempotency key, signature valid) of every request.
    requests: Vec<(String, String, bool)>,
    pages: Vec<String>,
    base: String,
}

/// Checks the signature itself (HMAC-SHA256 over "timestamp.body" with the shared key, as the
/// webhook module documents it), independently of the hub's code.
fn signed_right(headers: &HeaderMap, body: &[u8]) -> bool {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let ts = header("x-warta-timestamp");
    let Some(sig) = header("x-warta-signature")
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
    else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(WEBHOOK_KEY.as_bytes()).unwrap();
    mac.update(ts.as_bytes());
    mac.update(b".");
    mac.update(body);
    !ts.is_empty() && mac.verify_slice(&sig).is_ok()
}

async fn receive(
    State(r): State<Arc<Mutex<Received>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let ok = signed_right(&headers, &body);
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut got = r.lock().unwrap();
    got.requests.push((
        v["action"].as_str().unwrap_or_default().to_string(),
        v["idempotency_key"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        ok,
    ));
    if !ok {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    got.pages.push(format!(
        "<html><body><article><h1>{}</h1>{}</article></body></html>",
        v["title"].as_str().unwrap_or_default(),
        v["body_html"].as_str().unwrap_or_default()
    ));
    let id = got.pages.len() - 1;
    let url = format!("{}/page/{id}", got.base);
    axum::Json(json!({ "id": format!("post-{id}"), "url": url })).into_response()
}

async fn page(
    State(r): State<Arc<Mutex<Received>>>,
    axum::extract::Path(id): axum::extract::Path<usize>,
) -> Response {
    match r.lock().unwrap().pages.get(id) {
        Some(html) => axum::response::Html(html.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// A webhook receiver on 127.0.0.1, on its own runtime thread; returns its hook URL.
fn start_receiver() -> (Arc<Mutex<Received>>, String) {
    let got = Arc::new(Mutex::new(Received::default()));
    let state = got.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            state.lock().unwrap().base = format!("http://{addr}");
            tx.send(addr).unwrap();
            let app = axum::Router::new()
                .route("/hook", axum::routing::post(receive))
                .route("/page/{id}", axum::routing::get(page))
                .with_state(state);
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (got, format!("http://{addr}/hook"))
}

// ---------------------------------------------------------------------- the hub process

/// `warta` with nothing from the machine's environment: no D-Bus session, no keyring, no
/// `WARTA_*` settings; only `PATH` and a `HOME` of the test's own.
fn bare_warta(home: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_warta"));
    c.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("XDG_RUNTIME_DIR", home)
        .env(
            "DBUS_SESSION_BUS_ADDRESS",
            format!("unix:path={}", home.join("no-bus-here").display()),
        );
    c
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

struct Served {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Served {
    fn start(mut cmd: Command) -> Served {
        let mut child = cmd
            .args(["--listen", "127.0.0.1:0", "--log-format", "json", "--demo"])
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

    fn log(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    /// Waits (bounded) for a log line containing `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(l) = self
                .lines
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return l.clone();
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                std::thread::sleep(Duration::from_millis(200));
                panic!(
                    "warta serve exited ({status}) before logging {needle:?}:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} in the log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn base(&mut self) -> String {
        let line = self.wait_for("hub listening");
        let v: Value = serde_json::from_str(&line).expect("a JSON log line");
        format!("http://{}", v["fields"]["listen"].as_str().unwrap())
    }

    /// SIGTERM, then waits (bounded) for a clean exit.
    fn stop(mut self) {
        let ok = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                assert!(s.success(), "{s}\n{}", self.log());
                return;
            }
            assert!(Instant::now() < deadline, "did not stop:\n{}", self.log());
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

// ---------------------------------------------------------------------- the hub's API

struct Api {
    http: Client,
    base: String,
}

impl Api {
    fn call(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut rb = self
            .http
            .request(method.clone(), format!("{}/api/v1{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = r.status().as_u16();
        (status, r.json().unwrap_or(Value::Null))
    }

    fn ok(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self.call(token, method.clone(), path, body);
        assert!(
            (200..300).contains(&status),
            "{method} {path}: {status} {v}"
        );
        v
    }

    fn login(&self, user: &str) -> String {
        let v = self.ok(
            "",
            Method::POST,
            "/auth/login",
            Some(json!({ "username": user, "password": DEMO_PASSWORD })),
        );
        v["token"].as_str().expect("token").to_string()
    }

    fn act(&self, token: &str, id: i64, action: &str) -> Value {
        self.ok(
            token,
            Method::POST,
            &format!("/items/{id}/actions/{action}"),
            Some(json!({})),
        )
    }
}

fn api(base: String) -> Api {
    Api {
        http: Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .unwrap(),
        base,
    }
}

fn webhook_target(url: &str) -> Value {
    json!({
        "name": "CMS Dinas",
        "kind": "webhook",
        "url": url,
        "enabled": true,
        "secret": WEBHOOK_KEY,
    })
}

/// Every file under `dir` whose bytes contain `needle`.
fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                found.push(path);
            }
        }
    }
    found
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

// ---------------------------------------------------------------------- the tests

#[test]
fn a_hub_without_a_keyring_publishes_to_a_webhook_with_its_key_kept_encrypted() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let data = tmp.path().join("data");
    let etc = tmp.path().join("etc");
    let backups = tmp.path().join("backups");
    for d in [&home, &etc] {
        std::fs::create_dir(d).unwrap();
    }
    let key_file = etc.join("secrets.key");

    // The key: made once, private, never replaced.
    let o = bare_warta(&home)
        .args(["secrets", "init-key"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("key id"), "{}", text(&o));
    assert!(text(&o).contains("apart from the backups"), "{}", text(&o));
    assert_eq!(mode(&key_file), 0o600);
    let key_text = std::fs::read_to_string(&key_file).unwrap();
    let o = bare_warta(&home)
        .args(["secrets", "init-key"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&key_file).unwrap(), key_text);

    // The hub: no keyring anywhere, the key from the setting's environment variable.
    let (got, hook) = start_receiver();
    let mut cmd = bare_warta(&home);
    cmd.args(["serve", "--data"])
        .arg(&data)
        .env("WARTA_SECRETS_KEY_FILE", &key_file);
    let mut hub = Served::start(cmd);
    let api = api(hub.base());
    let chosen = hub.wait_for("website passwords and keys");
    assert!(chosen.contains("file, key"), "{chosen}");
    assert!(!hub.log().contains("no keyring"), "{}", hub.log());

    let admin = api.login("admin");
    let target = api.ok(
        &admin,
        Method::POST,
        "/targets",
        Some(webhook_target(&hook)),
    );
    let target_id = target["id"].as_i64().expect("target id");
    assert_eq!(target["has_secret"], true, "{target}");

    // An item through SOP-A, published by the publisher.
    let reporter = api.login("reporter");
    let d = api.ok(
        &reporter,
        Method::POST,
        "/items",
        Some(json!({
            "title": "Jembatan baru dibuka di Balikpapan",
            "summary": "Ringkasan",
            "body": "Jembatan dibuka **Senin** pagi.",
            "category": "Berita",
            "tags": ["jembatan"],
            "unit": "Bidang IKP",
        })),
    );
    let id = d["id"].as_i64().unwrap();
    api.act(&reporter, id, "submit");
    let editor = api.login("editor");
    api.ok(&editor, Method::POST, &format!("/items/{id}/claim"), None);
    api.act(&editor, id, "send_to_official");
    api.act(&api.login("official"), id, "approve");
    let publisher = api.login("publisher");
    api.act(&publisher, id, "publish");
    let deadline = Instant::now() + Duration::from_secs(60);
    let d = loop {
        let d = api.ok(&publisher, Method::GET, &format!("/items/{id}"), None);
        if d["state"]["step"] == "published" {
            break d;
        }
        assert!(
            Instant::now() < deadline,
            "not published: {}\n{}",
            d["publications"],
            hub.log()
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let hooked = d["publications"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["target_kind"] == "webhook")
        .expect("a webhook publication")
        .clone();
    assert_eq!(hooked["state"], "done", "{hooked}");
    {
        let got = got.lock().unwrap();
        assert_eq!(got.requests.len(), 1, "{:?}", got.requests);
        let (action, _key, signed) = &got.requests[0];
        assert_eq!(action, "publish");
        assert!(signed, "the HMAC did not verify with the website's key");
        assert!(got.pages[0].contains("Jembatan baru dibuka"));
    }

    // Not in plain text anywhere in the data folder (database, WAL, site, secrets file), nor
    // in the log; the secrets file is private.
    let secrets_file = data.join(warta_secrets::SECRETS_FILE_NAME);
    assert!(secrets_file.is_file());
    assert_eq!(mode(&secrets_file), 0o600);
    assert_eq!(
        files_containing(&data, WEBHOOK_KEY.as_bytes()),
        Vec::<PathBuf>::new()
    );
    assert!(!hub.log().contains(WEBHOOK_KEY));
    hub.stop();
    assert_eq!(
        files_containing(&data, WEBHOOK_KEY.as_bytes()),
        Vec::<PathBuf>::new()
    );

    // A backup holds the encrypted file and never the key; restored and opened with the key,
    // the website's key is there.
    let o = bare_warta(&home)
        .args(["backup", "--data"])
        .arg(&data)
        .arg("--out")
        .arg(&backups)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let backup = std::fs::read_dir(&backups)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.is_dir())
        .expect("a backup folder");
    assert!(backup.join(warta_secrets::SECRETS_FILE_NAME).is_file());
    assert_eq!(mode(&backup.join(warta_secrets::SECRETS_FILE_NAME)), 0o600);
    assert_eq!(
        files_containing(&backups, WEBHOOK_KEY.as_bytes()),
        Vec::<PathBuf>::new()
    );
    assert_eq!(
        files_containing(&backups, key_text.trim().as_bytes()),
        Vec::<PathBuf>::new(),
        "the key is in the backup"
    );
    let restored = tmp.path().join("restored");
    let o = bare_warta(&home)
        .args(["restore", "--from"])
        .arg(&backup)
        .arg("--data")
        .arg(&restored)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("same secrets key file"), "{}", text(&o));
    let key = SecretsKey::read_file(&key_file).unwrap();
    let store = FileStore::open(&restored, &key).unwrap();
    let secret_id: String = rusqlite::Connection::open(restored.join("warta.db"))
        .unwrap()
        .query_row(
            "SELECT secret_id FROM publish_targets WHERE id = ?1",
            [target_id],
            |r| r.get(0),
        )
        .unwrap();
    let secret = store
        .get(&SecretId::new(secret_id.clone()).unwrap())
        .unwrap()
        .expect("the website's key in the restored secrets file");
    assert_eq!(secret.expose_secret(), WEBHOOK_KEY);
    drop(store);

    // `warta secrets check` lists it; `rekey` moves it to a new key, after which only the new
    // key opens the file.
    let o = bare_warta(&home)
        .args(["secrets", "check", "--data"])
        .arg(&restored)
        .arg("--key-file")
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("1 secret, every one opens"),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains(&secret_id), "{}", text(&o));
    let rotated = etc.join("rotated.key");
    SecretsKey::create_file(&rotated).unwrap();
    let o = bare_warta(&home)
        .args(["secrets", "rekey", "--data"])
        .arg(&restored)
        .arg("--key-file")
        .arg(&key_file)
        .arg("--new-key-file")
        .arg(&rotated)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    let o = bare_warta(&home)
        .args(["secrets", "check", "--data"])
        .arg(&restored)
        .arg("--key-file")
        .arg(&key_file)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("written with another key"),
        "{}",
        text(&o)
    );
    let moved = FileStore::open(&restored, &SecretsKey::read_file(&rotated).unwrap()).unwrap();
    assert_eq!(
        moved
            .get(&SecretId::new(secret_id).unwrap())
            .unwrap()
            .unwrap()
            .expose_secret(),
        WEBHOOK_KEY
    );

    // Another key: the hub does not start, and says why; the file is untouched.
    let before = std::fs::read(&secrets_file).unwrap();
    let other = etc.join("other.key");
    SecretsKey::create_file(&other).unwrap();
    let o = bare_warta(&home)
        .args(["serve", "--listen", "127.0.0.1:0", "--data"])
        .arg(&data)
        .arg("--secrets-key-file")
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("written with another key"),
        "{}",
        text(&o)
    );
    assert_eq!(std::fs::read(&secrets_file).unwrap(), before);
}

#[test]
fn a_hub_without_a_keyring_or_a_key_warns_how_to_fix_it_and_refuses_a_website_key_in_words() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let mut cmd = bare_warta(&home);
    cmd.args(["serve", "--data"]).arg(tmp.path().join("data"));
    let mut hub = Served::start(cmd);
    let api = api(hub.base());
    let warning = hub.wait_for("warta secrets init-key");
    let v: Value = serde_json::from_str(&warning).unwrap();
    assert_eq!(v["level"], "WARN", "{warning}");
    let message = v["fields"]["message"].as_str().unwrap();
    for words in [
        "no keyring is available",
        "LoadCredential=warta-secrets-key:/etc/warta/secrets.key",
        "secrets_key_file",
    ] {
        assert!(message.contains(words), "{words:?} missing: {message}");
    }

    let admin = api.login("admin");
    let (status, v) = api.call(
        &admin,
        Method::POST,
        "/targets",
        Some(webhook_target("http://127.0.0.1:9/hook")),
    );
    assert_eq!(status, 400, "{v}");
    assert!(v.to_string().contains("no keyring is available"), "{v}");
    assert!(!v.to_string().contains(WEBHOOK_KEY));
    hub.stop();
}

#[test]
fn the_deployed_unit_passes_the_key_as_a_credential_and_the_example_config_takes_a_key_file() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let unit = std::fs::read_to_string(repo.join("deploy/warta.service")).unwrap();
    assert!(
        unit.lines()
            .any(|l| l == "LoadCredential=warta-secrets-key:/etc/warta/secrets.key"),
        "the unit does not pass the key"
    );
    assert!(unit.contains("warta secrets init-key /etc/warta/secrets.key"));

    // The commented-out lines of the example work once uncommented, with a real key.
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let key = tmp.path().join("secrets.key");
    SecretsKey::create_file(&key).unwrap();
    let example = std::fs::read_to_string(repo.join("deploy/warta.toml")).unwrap();
    assert!(example.contains("# secrets = \"file\""));
    let uncommented = example
        .replace("# secrets = \"file\"", "secrets = \"file\"")
        .replace(
            "# secrets_key_file = \"/etc/warta/secrets.key\"",
            &format!("secrets_key_file = {key:?}"),
        );
    let config = tmp.path().join("warta.toml");
    std::fs::write(&config, uncommented).unwrap();
    let o = bare_warta(&home)
        .args(["serve", "--check", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("secrets = file, key {}", key.display())),
        "{}",
        text(&o)
    );

    // Under systemd the credential alone selects the file.
    let creds = tmp.path().join("credentials");
    std::fs::create_dir(&creds).unwrap();
    SecretsKey::create_file(&creds.join("warta-secrets-key")).unwrap();
    let o = bare_warta(&home)
        .args(["serve", "--check", "--config"])
        .arg(repo.join("deploy/warta.toml"))
        .env("CREDENTIALS_DIRECTORY", &creds)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("systemd credential warta-secrets-key"),
        "{}",
        text(&o)
    );
}

/// `warta site` on a server without a keyring: a WordPress website whose application password
/// is in the encrypted secrets file is backed up with the key given; without the key the
/// backup fails in words and nothing is lost.
#[test]
fn warta_site_backs_up_a_wordpress_site_whose_password_is_in_the_encrypted_file() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    let data = tmp.path().join("data");
    std::fs::create_dir(&home).unwrap();
    let key_file = tmp.path().join("secrets.key");
    let o = bare_warta(&home)
        .args(["secrets", "init-key"])
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));

    let wp = support::wordpress_harness::WordPressHarness::start();
    let mut cmd = bare_warta(&home);
    cmd.args(["serve", "--data"])
        .arg(&data)
        .env("WARTA_SECRETS_KEY_FILE", &key_file);
    let mut hub = Served::start(cmd);
    let api = api(hub.base());
    let admin = api.login("admin");
    let target = api.ok(
        &admin,
        Method::POST,
        "/targets",
        Some(json!({
            "name": "Situs utama (WordPress)",
            "kind": "wordpress",
            "url": wp.url,
            "username": wp.user,
            "secret": wp.app_password,
        })),
    );
    let website = target["id"].as_i64().unwrap().to_string();
    hub.stop();

    // Without the key: one sentence saying which option gives it, exit 2, nothing done.
    let o = bare_warta(&home)
        .args(["site", "backup", "--website", &website, "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--secrets-key-file"), "{}", text(&o));
    assert!(!text(&o).contains("verified"), "{}", text(&o));

    // With it: backed up and checked by reading it back.
    let o = bare_warta(&home)
        .args(["site", "backup", "--website", &website, "--data"])
        .arg(&data)
        .arg("--secrets-key-file")
        .arg(&key_file)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("verified"), "{}", text(&o));
    let o = bare_warta(&home)
        .args(["site", "backups", "--website", &website, "--data"])
        .arg(&data)
        .output()
        .unwrap();
    assert_eq!(
        text(&o).matches(" verified: ").count(),
        1,
        "one verified backup: {}",
        text(&o)
    );

    // A key file that is not one is refused in one sentence before anything runs.
    let wrong = tmp.path().join("not-a-key");
    std::fs::write(&wrong, "bukan kunci").unwrap();
    let o = bare_warta(&home)
        .args(["site", "backup", "--website", &website, "--data"])
        .arg(&data)
        .arg("--secrets-key-file")
        .arg(&wrong)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("not-a-key"), "{}", text(&o));
}
