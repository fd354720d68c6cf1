//! Exactly once at the process level: the real `warta serve` is killed (SIGKILL) at every point
//! of a publish to a real WordPress — right after the publisher's action, before each request
//! it makes, after WordPress answered each request but before the answer got back, while
//! WordPress is still busy with each request (it acts on it only once the hub runs again), and
//! three times in a row — then started again on the same data directory. Its publishing
//! worker finishes the job, and WordPress, read back over its REST API, holds exactly one post
//! for the item and one file per attachment, with nothing left over (no extra post, draft,
//! file or term anywhere).
//!
//! The hub reaches WordPress through a loopback proxy the test controls ([`HoldProxy`]): it
//! holds the chosen request while the test kills the hub. A restarted hub waits a grace
//! period before retrying what the killed one left (a minute; shortened here through
//! `WARTA_PUBLISH_RESUME_GRACE_MS`). The keyring secret (the application
//! password) must survive the restart, so this runs under `scripts/with-keyring`, as
//! `make test` does. WordPress, MariaDB and PHP come from Debian's packages (`make deps`).

mod support;

use std::fs::OpenOptions;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::Method;
use reqwest::blocking::Client;
use serde_json::{Value, json};
use support::hold_proxy::{Hold, HoldProxy};
use support::wordpress_harness::WordPressHarness;

/// Password of every demo account (`warta serve --demo`).
const DEMO_PASSWORD: &str = "warta-demo";
/// The most requests a publish of two photos may make; a bound for the matrix, not a target.
const MAX_REQUESTS: usize = 30;
/// How long the restarted hub may take to finish a publish.
const FINISH_WITHIN: Duration = Duration::from_secs(90);

// ---------------------------------------------------------------------- the hub process

/// `warta serve` as a child process; killed (and reaped) when dropped.
struct Hub {
    child: Option<Child>,
    data: PathBuf,
    port: u16,
    log: PathBuf,
    /// How long the next start lets rows a killed hub left for WordPress wait before retrying
    /// them (`WARTA_PUBLISH_RESUME_GRACE_MS`; a minute outside tests).
    grace: Duration,
}

/// The grace of a restart after a kill whose request WordPress had either answered or never
/// got: short, nothing can land late.
const SHORT_GRACE: Duration = Duration::from_millis(300);
/// The grace of a restart after a `Late` kill: long enough for the late request to land first.
const LATE_GRACE: Duration = Duration::from_secs(3);

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

impl Hub {
    fn start(data: &Path, port: u16, log: &Path) -> Hub {
        let mut hub = Hub {
            child: None,
            data: data.to_path_buf(),
            port,
            log: log.to_path_buf(),
            grace: SHORT_GRACE,
        };
        hub.spawn();
        hub
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts the process and waits for its health check. The port of a killed hub can take
    /// a moment to be free again, so a start that exits at once is tried again (bounded).
    fn spawn(&mut self) {
        assert!(self.child.is_none(), "the hub is already running");
        let health = Client::builder()
            .timeout(Duration::from_secs(2))
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        for _attempt in 0..20 {
            let log = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.log)
                .expect("hub log");
            let mut child = Command::new(env!("CARGO_BIN_EXE_warta"))
                .arg("serve")
                .arg("--data")
                .arg(&self.data)
                .args(["--listen", &format!("127.0.0.1:{}", self.port), "--demo"])
                .env("RUST_LOG", "warn,warta_hub=info")
                .env(
                    "WARTA_PUBLISH_RESUME_GRACE_MS",
                    self.grace.as_millis().to_string(),
                )
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("hub log"))
                .stderr(log)
                .spawn()
                .expect("starting warta serve");
            loop {
                if let Ok(r) = health.get(format!("{}/healthz", self.base())).send()
                    && r.status().is_success()
                {
                    self.child = Some(child);
                    return;
                }
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!(
                        "warta serve did not come up within 30 s; its log:\n{}",
                        log_tail(&self.log)
                    );
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            if Instant::now() > deadline {
                break;
            }
            std::thread::sleep(Duration::from_millis(250));
        }
        panic!(
            "warta serve kept exiting; its log:\n{}",
            log_tail(&self.log)
        );
    }

    /// SIGKILL: no shutdown code of the hub runs.
    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("SIGKILL the hub");
            let _ = child.wait();
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        self.kill();
    }
}

// ---------------------------------------------------------------------- the hub's HTTP API

#[derive(Clone)]
struct Api {
    http: Client,
    base: String,
}

impl Api {
    fn new(base: String) -> Api {
        Api {
            // No pooled connections: the hub behind them is killed over and over.
            http: Client::builder()
                .timeout(Duration::from_secs(120))
                .pool_max_idle_per_host(0)
                .build()
                .unwrap(),
            base,
        }
    }

    fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> reqwest::Result<(u16, Value)> {
        let mut rb = self
            .http
            .request(method, format!("{}/api/v1{path}", self.base))
            .bearer_auth(token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send()?;
        let status = r.status().as_u16();
        let text = r.text()?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    fn ok(&self, token: &str, method: Method, path: &str, body: Option<Value>) -> Value {
        let (status, v) = self
            .call(token, method.clone(), path, body)
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
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

    fn item(&self, token: &str, id: i64) -> Value {
        self.ok(token, Method::GET, &format!("/items/{id}"), None)
    }

    fn act(&self, token: &str, id: i64, action: &str) -> Value {
        self.ok(
            token,
            Method::POST,
            &format!("/items/{id}/actions/{action}"),
            Some(json!({})),
        )
    }

    fn upload(&self, token: &str, id: i64, filename: &str, bytes: Vec<u8>) -> Value {
        let r = self
            .http
            .post(format!("{}/api/v1/items/{id}/attachments", self.base))
            .query(&[("filename", filename)])
            .bearer_auth(token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .expect("upload");
        let status = r.status().as_u16();
        let v: Value = r.json().unwrap_or(Value::Null);
        assert_eq!(status, 201, "upload {filename}: {v}");
        v
    }
}

struct Tokens {
    reporter: String,
    editor: String,
    official: String,
    publisher: String,
}

fn step(d: &Value) -> &str {
    d["state"]["step"].as_str().unwrap_or_default()
}

/// A small real JPEG, different for each seed.
fn photo(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        let band = (x / (20 + seed % 17) + y / (15 + seed % 13)) % 2;
        image::Rgb([
            ((x * (seed % 7 + 1)) % 256) as u8,
            ((y * 3 + seed * 40) % 256) as u8,
            if band == 0 { 30 } else { 220 },
        ])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .unwrap();
    jpeg
}

/// An item with two photos (the first becomes the featured image, the second a figure in the
/// post, so there is a point between two files), walked by the demo users to the publisher's
/// step. Its category and tag are its own, so every publish makes the same requests (looking
/// them up and creating them).
fn prepare(api: &Api, t: &Tokens, label: &str, seed: u32) -> i64 {
    let d = api.ok(
        &t.reporter,
        Method::POST,
        "/items",
        Some(json!({
            "title": format!("Uji putus {label}: banjir surut di Samarinda"),
            "summary": format!("Ringkasan uji {label}"),
            "body": format!("Air mulai surut pada **Selasa** pagi.\n\nUji `{label}`."),
            "category": format!("Uji {label}"),
            "tags": [format!("uji-{label}")],
            "unit": "Bidang IKP",
        })),
    );
    let id = d["id"].as_i64().expect("item id");
    for (i, name) in ["utama", "kedua"].iter().enumerate() {
        let att = api.upload(
            &t.reporter,
            id,
            &format!("foto-{name}-{label}.jpg"),
            photo(seed * 2 + i as u32),
        );
        assert_eq!(att["kind"], "photo", "{att}");
    }
    api.act(&t.reporter, id, "submit");
    api.ok(&t.editor, Method::POST, &format!("/items/{id}/claim"), None);
    api.act(&t.editor, id, "send_to_official");
    let d = api.act(&t.official, id, "approve");
    assert_eq!(step(&d), "publish", "{d}");
    id
}

/// Polls the item until the SOP's `published` step (bounded).
fn wait_published(api: &Api, token: &str, id: i64, case: &str) -> Value {
    let end = Instant::now() + FINISH_WITHIN;
    loop {
        let d = api.item(token, id);
        if step(&d) == "published" {
            return d;
        }
        if Instant::now() > end {
            panic!(
                "{case}: item {id} not published within {FINISH_WITHIN:?}; step {}, publishing \
                 {}, publications {}",
                step(&d),
                d["publishing"],
                d["publications"]
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

// ---------------------------------------------------------------------- the hub's database

/// The publish rows of an item on a website: (idempotency key, state), read from the hub's
/// database (read-only; the key is not part of the API).
fn publish_rows(data: &Path, item: i64, target: i64) -> Vec<(String, String)> {
    let conn = rusqlite::Connection::open_with_flags(
        data.join("warta.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open warta.db read-only");
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    let mut st = conn
        .prepare(
            "SELECT idempotency_key, state FROM publications
             WHERE item_id = ?1 AND target_id = ?2 AND action = 'publish' ORDER BY id",
        )
        .unwrap();
    st.query_map([item, target], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

// ---------------------------------------------------------------------- WordPress, read back

/// WordPress's REST API, straight (not through the proxy), with the application password.
struct Wp {
    http: Client,
    api: String,
    user: String,
    password: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Totals {
    /// Posts of every status, the trash included.
    posts: usize,
    /// Unpublished posts (drafts, pending review) anywhere.
    drafts: usize,
    /// Files in the media library.
    media: usize,
}

const ANY_STATUS: &str = "publish,future,draft,pending,private,trash";

impl Wp {
    fn new(wp: &WordPressHarness) -> Wp {
        Wp {
            http: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            api: format!("{}/wp/v2", wp.api_root),
            user: wp.user.clone(),
            password: wp.app_password.clone(),
        }
    }

    fn get(&self, path: &str) -> (Value, usize) {
        self.get_q(path, &[])
    }

    fn get_q(&self, path: &str, query: &[(&str, &str)]) -> (Value, usize) {
        let r = self
            .http
            .get(format!("{}/{path}", self.api))
            .query(query)
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .unwrap_or_else(|e| panic!("WordPress GET {path}: {e}"));
        let status = r.status().as_u16();
        let total = r
            .headers()
            .get("x-wp-total")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok())
            .expect("X-WP-Total");
        let v: Value = r.json().unwrap_or(Value::Null);
        assert_eq!(status, 200, "WordPress GET {path}: {v}");
        (v, total)
    }

    fn totals(&self) -> Totals {
        Totals {
            posts: self.get(&format!("posts?status={ANY_STATUS}&per_page=1")).1,
            drafts: self.get("posts?status=draft,pending&per_page=1").1,
            media: self.get("media?per_page=1").1,
        }
    }

    /// Every post (any status) and every file, whole.
    fn everything(&self) -> (Vec<Value>, Vec<Value>) {
        let (posts, total) = self.get(&format!(
            "posts?status={ANY_STATUS}&context=edit&per_page=100"
        ));
        assert!(total <= 100, "more posts than one page: {total}");
        let (media, total) = self.get("media?context=edit&per_page=100");
        assert!(total <= 100, "more files than one page: {total}");
        (
            posts.as_array().cloned().unwrap_or_default(),
            media.as_array().cloned().unwrap_or_default(),
        )
    }
}

fn slug(v: &Value) -> &str {
    v["slug"].as_str().unwrap_or_default()
}

/// What WordPress holds for a published item: exactly one post under its key (and none under
/// any other key of the item), exactly one file per attachment, attached to that post and its
/// featured image, the totals grown by exactly that, no draft anywhere, and the item's
/// published URL is the post's.
fn check_exactly_once(
    wp: &Wp,
    before: Totals,
    detail: &Value,
    key: &str,
    case: &str,
) -> (i64, usize) {
    let id = detail["id"].as_i64().unwrap();
    let attachments: Vec<i64> = detail["attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    let after = wp.totals();
    let (posts, media) = wp.everything();
    let context = || {
        let posts: Vec<String> = posts
            .iter()
            .map(|p| format!("{} {} {}", p["id"], p["status"], slug(p)))
            .collect();
        let files: Vec<String> = media
            .iter()
            .map(|m| format!("{} post={} {}", m["id"], m["post"], slug(m)))
            .collect();
        format!("before {before:?}, after {after:?}\nposts: {posts:#?}\nfiles: {files:#?}")
    };

    let mine: Vec<&Value> = posts.iter().filter(|p| slug(p).contains(key)).collect();
    assert_eq!(
        mine.len(),
        1,
        "{case}: posts under key {key}\n{}",
        context()
    );
    let post = mine[0];
    let post_id = post["id"].as_i64().unwrap();
    assert_eq!(post["status"], "publish", "{case}: {}", context());
    let item_marker = format!("-w{id}-v");
    let of_item = posts
        .iter()
        .filter(|p| slug(p).contains(&item_marker))
        .count();
    assert_eq!(of_item, 1, "{case}: posts of item {id}\n{}", context());

    assert_eq!(
        post["title"]["raw"], detail["content"]["title"],
        "{case}: the post's title"
    );
    // The category and the tag exist once each in WordPress and are the post's.
    for (taxonomy, name) in [
        ("categories", &detail["content"]["category"]),
        ("tags", &detail["content"]["tags"][0]),
    ] {
        let name = name.as_str().unwrap();
        let (terms, _) = wp.get_q(
            taxonomy,
            &[
                ("search", name),
                ("per_page", "100"),
                ("hide_empty", "false"),
            ],
        );
        let same: Vec<&Value> = terms
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["name"] == name)
            .collect();
        assert_eq!(same.len(), 1, "{case}: {taxonomy} named {name}: {terms}");
        assert_eq!(
            post[taxonomy],
            json!([same[0]["id"]]),
            "{case}: the post's {taxonomy}"
        );
    }

    let prefix = format!("warta-{key}-");
    let files: Vec<&Value> = media
        .iter()
        .filter(|m| slug(m).starts_with(&prefix))
        .collect();
    assert_eq!(
        files.len(),
        attachments.len(),
        "{case}: files under key {key}\n{}",
        context()
    );
    for a in &attachments {
        let s = format!("{prefix}{a}");
        let f: Vec<&&Value> = files.iter().filter(|m| slug(m) == s).collect();
        assert_eq!(f.len(), 1, "{case}: file {s}\n{}", context());
        assert_eq!(
            f[0]["post"].as_i64(),
            Some(post_id),
            "{case}: {}",
            context()
        );
    }
    let attached = media
        .iter()
        .filter(|m| m["post"].as_i64() == Some(post_id))
        .count();
    assert_eq!(attached, attachments.len(), "{case}: {}", context());
    let featured = files
        .iter()
        .find(|m| slug(m) == format!("{prefix}{}", attachments[0]))
        .map(|m| m["id"].clone());
    assert_eq!(Some(post["featured_media"].clone()), featured, "{case}");
    // The other photos are in the post's content, each by its one file's address.
    let content = post["content"]["raw"].as_str().unwrap_or_default();
    for a in &attachments[1..] {
        let f = files
            .iter()
            .find(|m| slug(m) == format!("{prefix}{a}"))
            .unwrap();
        let src = f["source_url"].as_str().unwrap();
        assert!(
            content.contains(src),
            "{case}: the post shows {src}:\n{content}"
        );
    }

    assert_eq!(after.posts, before.posts + 1, "{case}: {}", context());
    assert_eq!(
        after.media,
        before.media + attachments.len(),
        "{case}: {}",
        context()
    );
    assert_eq!(after.drafts, 0, "{case}: drafts left\n{}", context());
    assert_eq!(
        detail["published_url"], post["link"],
        "{case}: the item's published URL is the post's"
    );
    (post_id, files.len())
}

// ---------------------------------------------------------------------- the matrix

struct World {
    wp: Wp,
    proxy: HoldProxy,
    hub: Hub,
    api: Api,
    tokens: Tokens,
    target: i64,
    report: Vec<String>,
}

/// How the hub is stopped during one publish.
#[derive(Debug, Clone, Copy)]
enum Kill {
    /// When the request arrives at the proxy, before it is forwarded.
    Before(usize),
    /// After WordPress answered the request, before the answer is passed back.
    After(usize),
    /// After WordPress answered the first request whose `METHOD path` starts with this.
    AfterFirst(&'static str),
    /// When the request arrives at the proxy, which holds it and forwards it to WordPress only
    /// once the hub runs again: WordPress was still busy with it when the hub died (a slow
    /// upload, a slow site) and acts on it after the restart.
    Late(usize),
    /// As soon as the publisher's action is committed (the queue rows exist), while the
    /// inline attempt runs; the proxy lets no request through, so none reaches WordPress.
    Pressed,
}

impl World {
    fn data(&self) -> &Path {
        &self.hub.data
    }

    /// Publishes `id`, killing the hub as `kills` says — the first kill during the publisher's
    /// action, each further one during the restarted hub's own attempt — then lets the last
    /// restarted hub finish and checks WordPress. Returns the number of proxied requests the
    /// last (uninterrupted) attempt made.
    fn run(&mut self, id: i64, kills: &[Kill]) -> usize {
        let case = format!("{kills:?}");
        let t0 = Instant::now();
        let before = self.wp.totals();
        assert_eq!(
            before.drafts, 0,
            "{case}: a draft was left before this case"
        );
        let hold = |kill: &Kill| match kill {
            Kill::Before(n) => Hold::Before(*n),
            Kill::After(n) => Hold::After(*n),
            Kill::AfterFirst(prefix) => Hold::AfterFirst(prefix),
            Kill::Late(n) => Hold::Late(*n),
            Kill::Pressed => Hold::Everything,
        };
        self.proxy.arm(kills.first().map_or(Hold::Nothing, hold));
        let (api, token) = (self.api.clone(), self.tokens.publisher.clone());
        let press = std::thread::spawn(move || {
            api.call(
                &token,
                Method::POST,
                &format!("/items/{id}/actions/publish"),
                Some(json!({})),
            )
        });

        let mut killed_at = Vec::new();
        let mut press_answer = String::new();
        for (i, kill) in kills.iter().enumerate() {
            if i > 0 {
                // The restarted hub's worker takes the row up at once: armed before it starts.
                self.proxy.arm(hold(kill));
                self.hub.grace = SHORT_GRACE;
                self.hub.spawn();
            }
            match kill {
                Kill::Before(_) | Kill::After(_) | Kill::AfterFirst(_) | Kill::Late(_) => {
                    assert!(
                        self.proxy.wait_holding(Duration::from_secs(60)),
                        "{case}: the hub never got to that request; it made {:?}",
                        self.proxy.log()
                    );
                }
                Kill::Pressed => {
                    assert_eq!(i, 0, "Pressed is the first kill");
                    let end = Instant::now() + Duration::from_secs(30);
                    while publish_rows(self.data(), id, self.target).is_empty() {
                        assert!(
                            Instant::now() < end,
                            "{case}: the publish action was never committed"
                        );
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            }
            let log = self.proxy.log();
            killed_at.push(format!(
                "{kill:?} with {} request(s) in{}",
                log.len(),
                log.last()
                    .map(|l| format!(" (last {})", l.split('?').next().unwrap_or_default()))
                    .unwrap_or_default()
            ));
            self.hub.kill();
            // Lets go of the held connection (closed unanswered).
            self.proxy.arm(Hold::Nothing);
            // What the killed hub left: the row with its key, still pending.
            let rows = publish_rows(self.data(), id, self.target);
            assert_eq!(rows.len(), 1, "{case}: {rows:?}");
            assert_eq!(rows[0].1, "pending", "{case}: {rows:?}");
        }
        let answer = press.join().expect("publish thread");
        if kills.is_empty() {
            let (status, v) = answer.expect("publish answered");
            assert_eq!(status, 200, "{v}");
        } else {
            press_answer = match answer {
                Ok((status, v)) => format!("answered {status} (step {})", step(&v)),
                Err(_) => "connection cut".into(),
            };
            let late = kills.iter().any(|k| matches!(k, Kill::Late(_)));
            self.hub.grace = if late { LATE_GRACE } else { SHORT_GRACE };
            self.hub.spawn();
            if late {
                // The dead hub's request lands now, while the new hub waits out its grace.
                assert!(
                    self.proxy.deliver_late(Duration::from_secs(30)),
                    "{case}: WordPress did not answer the late request"
                );
                assert_eq!(
                    self.proxy.seen(),
                    0,
                    "{case}: the restarted hub retried before the late request landed: {:?}",
                    self.proxy.log()
                );
            }
        }

        let detail = wait_published(&self.api, &self.tokens.publisher, id, &case);
        let requests = self.proxy.seen();
        let rows = publish_rows(self.data(), id, self.target);
        assert_eq!(rows.len(), 1, "{case}: one publish row: {rows:?}");
        assert_eq!(rows[0].1, "done", "{case}: {rows:?}");
        let (post, files) = check_exactly_once(&self.wp, before, &detail, &rows[0].0, &case);
        let line = if kills.is_empty() {
            format!(
                "no kill: {requests} requests, post {post}, {files} files ({:.1} s)",
                t0.elapsed().as_secs_f64()
            )
        } else {
            format!(
                "killed {}; publish call {press_answer}; last hub made {requests} \
                 request(s): 1 post ({post}), {files} files, no drafts, totals +1/+{files} \
                 ({:.1} s)",
                killed_at.join(", then "),
                t0.elapsed().as_secs_f64()
            )
        };
        println!("{line}");
        self.report.push(line);
        requests
    }
}

#[test]
fn killing_the_hub_at_any_point_of_a_publish_ends_with_exactly_one_post() {
    let started = Instant::now();
    let wp = WordPressHarness::start();
    println!("WordPress up in {:.1} s", started.elapsed().as_secs_f64());
    let proxy = HoldProxy::start(SocketAddr::from(([127, 0, 0, 1], wp.port())));
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hub");
    let hub = Hub::start(&data, free_port(), &tmp.path().join("hub.log"));
    let api = Api::new(hub.base());

    let admin = api.login("admin");
    let (status, target) = api
        .call(
            &admin,
            Method::POST,
            "/targets",
            Some(json!({
                "name": "Situs utama (WordPress)",
                "kind": "wordpress",
                "url": proxy.url(),
                "username": wp.user,
                "secret": wp.app_password,
            })),
        )
        .unwrap();
    assert!(
        (200..300).contains(&status),
        "adding the WordPress website failed ({status}): {target}\nThis test needs the OS \
         keyring: run it as `scripts/with-keyring cargo test -p warta-cli --test publish_kill`"
    );
    let target = target["id"].as_i64().expect("target id");
    let tokens = Tokens {
        reporter: api.login("reporter"),
        editor: api.login("editor"),
        official: api.login("official"),
        publisher: api.login("publisher"),
    };
    let mut w = World {
        wp: Wp::new(&wp),
        proxy,
        hub,
        api,
        tokens,
        target,
        report: Vec::new(),
    };

    // The clean run counts the requests of a whole publish: K.
    let clean = prepare(&w.api, &w.tokens, "bersih", 1);
    let k = w.run(clean, &[]);
    println!("a publish makes K = {k} requests: {:#?}", w.proxy.log());
    assert!(
        (4..=MAX_REQUESTS).contains(&k),
        "a publish made {k} requests: {:?}",
        w.proxy.log()
    );

    // Kill before and after every one of the K requests, right after the publisher's action,
    // and three times in a row (after the first file, after the second, after the post went
    // out, each answer lost).
    let mut cases: Vec<(String, Vec<Kill>)> = vec![("tekan".into(), vec![Kill::Pressed])];
    for n in 1..=k {
        cases.push((format!("a{n}"), vec![Kill::Before(n)]));
        cases.push((format!("b{n}"), vec![Kill::After(n)]));
    }
    for n in 1..=k {
        cases.push((format!("c{n}"), vec![Kill::Late(n)]));
    }
    cases.push((
        "tiga".into(),
        vec![
            Kill::AfterFirst("POST /wp-json/wp/v2/media"),
            Kill::AfterFirst("POST /wp-json/wp/v2/media"),
            Kill::AfterFirst("POST /wp-json/wp/v2/posts/"),
        ],
    ));
    // Every item first, while the hub runs undisturbed.
    let t = Instant::now();
    let items: Vec<i64> = cases
        .iter()
        .enumerate()
        .map(|(i, (label, _))| prepare(&w.api, &w.tokens, label, i as u32 + 2))
        .collect();
    println!(
        "{} items prepared in {:.1} s",
        items.len(),
        t.elapsed().as_secs_f64()
    );
    for (id, (_, kills)) in items.into_iter().zip(&cases) {
        w.run(id, kills);
    }
    println!(
        "fault matrix: {} publishes, {} kills of the hub, each publish ended with exactly one \
         post and its files ({:.0} s in all):\n{}",
        cases.len(),
        cases.iter().map(|(_, k)| k.len()).sum::<usize>(),
        started.elapsed().as_secs_f64(),
        w.report.join("\n")
    );
}
