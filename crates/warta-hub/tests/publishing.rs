//! The publishing queue against a real webhook receiver on 127.0.0.1 and the real OS keyring
//! (run under `scripts/with-keyring`, as `make test` does): a website that is down, refuses our
//! key, or comes back; nothing is lost and every item version reaches it exactly once.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};
use warta_api::{ActionRequest, ItemContent, PublishTargetInput};
use warta_hub::{Caller, FixedClock, HubConfig, Office};

const KEY: &str = "kunci-rahasia-uji-123";

const OK: u8 = 0;
const DOWN: u8 = 1;
const REFUSE: u8 = 2;
/// Accepts, but the page it then shows is not what was sent.
const MANGLE: u8 = 3;

#[derive(Default)]
struct Received {
    /// Every attempt that reached the receiver: (idempotency key, action).
    attempts: Vec<(String, String)>,
    /// What the CMS holds: idempotency key → created id (a repeated key creates nothing).
    created: HashMap<String, String>,
    unpublished: Vec<String>,
    /// The pages the CMS shows: id → HTML.
    pages: HashMap<String, String>,
    /// The `media` of the last publish or update received.
    media: Vec<Value>,
    /// Where the receiver is, for the URLs it answers with.
    base: String,
}

struct Receiver {
    mode: AtomicU8,
    got: Mutex<Received>,
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    let ts = headers
        .get("x-warta-timestamp")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let sig = headers
        .get("x-warta-signature")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let expected =
        warta_publish::webhook::signature(KEY.as_bytes(), ts.parse().unwrap_or(0), &body);
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let action = v["action"].as_str().unwrap_or_default().to_string();
    let mut got = r.got.lock().unwrap();
    got.attempts.push((key.clone(), action.clone()));
    match r.mode.load(Ordering::SeqCst) {
        DOWN => return (StatusCode::SERVICE_UNAVAILABLE, "maintenance").into_response(),
        REFUSE => return (StatusCode::UNAUTHORIZED, "bad key").into_response(),
        _ => {}
    }
    if sig != expected {
        return (StatusCode::UNAUTHORIZED, "bad signature").into_response();
    }
    if action == "unpublish" {
        got.unpublished
            .push(v["id"].as_str().unwrap_or_default().to_string());
        return StatusCode::NO_CONTENT.into_response();
    }
    got.media = v["media"].as_array().cloned().unwrap_or_default();
    let n = got.created.len() + 1;
    let id = got
        .created
        .entry(key)
        .or_insert_with(|| format!("post-{n}"))
        .clone();
    let body = if r.mode.load(Ordering::SeqCst) == MANGLE {
        "<p>Situs judi slot gacor</p>"
    } else {
        v["body_html"].as_str().unwrap_or_default()
    };
    let page = format!(
        "<html><body><nav>Beranda</nav><article><h1>{}</h1>{body}</article></body></html>",
        v["title"].as_str().unwrap_or_default(),
    );
    got.pages.insert(id.clone(), page);
    let url = format!("{}/page/{id}", got.base);
    axum::Json(json!({ "id": id, "url": url })).into_response()
}

async fn page(
    State(r): State<Arc<Receiver>>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    match r.got.lock().unwrap().pages.get(&id) {
        Some(html) => axum::response::Html(html.clone()).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The receiver on its own runtime thread, so the hub's blocking client never runs inside it.
fn start_receiver() -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver {
        mode: AtomicU8::new(OK),
        got: Mutex::default(),
    });
    let state = r.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            state.got.lock().unwrap().base = format!("http://{addr}");
            tx.send(addr).unwrap();
            let app = axum::Router::new()
                .route("/hook", axum::routing::post(receive))
                .route("/page/{id}", axum::routing::get(page))
                .with_state(state);
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (r, format!("http://{addr}/hook"))
}

struct Setup {
    _dir: tempfile::TempDir,
    office: Office,
    clock: Arc<FixedClock>,
    admin: Caller,
    reporter: Caller,
    editor: Caller,
    official: Caller,
    publisher: Caller,
}

fn start() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at(2026, 3, 10, 1, 0)));
    let mut config = HubConfig::solo(dir.path());
    config.demo = true;
    let office = Office::open(config, clock.clone()).unwrap();
    office.set_base_url("http://127.0.0.1:9");
    let c = |u: &str| office.user_caller(u).unwrap();
    Setup {
        admin: c("admin"),
        reporter: c("reporter"),
        editor: c("editor"),
        official: c("official"),
        publisher: c("publisher"),
        clock,
        office,
        _dir: dir,
    }
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

fn webhook(url: &str, secret: Option<&str>) -> PublishTargetInput {
    PublishTargetInput {
        name: "CMS Dinas".into(),
        kind: "webhook".into(),
        url: Some(url.into()),
        username: None,
        folder: None,
        git: false,
        enabled: true,
        secret: secret.map(str::to_string),
    }
}

impl Setup {
    /// A new item walked through SOP-A to the publisher's step.
    fn approved_item(&self, title: &str) -> i64 {
        let o = &self.office;
        let d = o
            .create_item(
                &self.reporter,
                ItemContent {
                    title: title.into(),
                    summary: "Ringkasan".into(),
                    body: "Paragraf **pertama** berita.".into(),
                    category: "Berita".into(),
                    tags: vec!["uji".into()],
                    unit: "Bidang IKP".into(),
                },
            )
            .unwrap();
        let go = |who: &Caller, action: &str| {
            o.act(who, d.id, action, ActionRequest::default()).unwrap();
        };
        go(&self.reporter, "submit");
        o.claim(&self.editor, d.id).unwrap();
        go(&self.editor, "send_to_official");
        go(&self.official, "approve");
        d.id
    }

    fn item(&self, id: i64) -> warta_api::ItemDetail {
        self.office.get_item(&self.publisher, id).unwrap()
    }

    fn later(&self, by: Duration) {
        self.clock.advance(by);
        self.office.run_due_publications(None);
    }
}

#[test]
fn a_website_that_is_down_keeps_the_item_pending_and_gets_it_once_when_back() {
    let (rx, url) = start_receiver();
    let s = start();
    s.office
        .add_publish_target(&s.admin, webhook(&url, Some(KEY)))
        .unwrap();
    // The secret is in the keyring, not in the database.
    let db = std::fs::read(s._dir.path().join("warta.db")).unwrap();
    assert!(!db.windows(KEY.len()).any(|w| w == KEY.as_bytes()));

    rx.mode.store(DOWN, Ordering::SeqCst);
    let id = s.approved_item("Banjir di Samarinda");
    let d = s
        .office
        .act(&s.publisher, id, "publish", ActionRequest::default())
        .unwrap();
    assert_eq!(
        d.state.step, "publish",
        "not published while a website lacks it"
    );
    let p = d.publishing.expect("publishing pending");
    assert_eq!(p.pending, 1);
    assert_eq!(p.last_error_kind.as_deref(), Some("unavailable"));
    assert!(!p.attention);
    assert!(d.actions.is_empty(), "no second publish while it goes out");
    // The hub's own site already has it; the webhook row waits with its key.
    let rows = s.office.publication_keys(id).unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].2, "done");
    assert_eq!(rows[1].2, "pending");
    let key = rows[1].1.clone();

    // Nothing is retried before its backoff time; then it is, with the same key.
    assert_eq!(s.office.run_due_publications(None), 0);
    s.later(Duration::seconds(31));
    s.later(Duration::seconds(61));
    let d = s.item(id);
    let p = d.publishing.expect("still pending");
    assert!(p.attention, "the publisher is told after repeated failures");
    assert_eq!(d.publications[0].attempts, 3);

    // The site comes back: the next attempt publishes it, once.
    rx.mode.store(OK, Ordering::SeqCst);
    s.later(Duration::seconds(121));
    let d = s.item(id);
    assert_eq!(d.state.step, "published");
    assert!(d.publishing.is_none());
    // "Published" means seen live: the public page was fetched and shows what was sent.
    let hook = d
        .publications
        .iter()
        .find(|p| p.target_kind == "webhook")
        .unwrap();
    assert_eq!(hook.live_matches, Some(true), "{hook:?}");
    assert_eq!(d.published_url.as_deref(), hook.url.as_deref());
    assert!(d.published_url.unwrap().contains("/page/post-1"));
    let got = rx.got.lock().unwrap();
    assert_eq!(got.attempts.len(), 4);
    assert!(
        got.attempts
            .iter()
            .all(|(k, a)| k == &key && a == "publish")
    );
    assert_eq!(got.created.len(), 1);
    drop(got);

    // Nothing more goes out afterwards.
    s.later(Duration::hours(2));
    assert_eq!(rx.got.lock().unwrap().attempts.len(), 4);
}

#[test]
fn a_refused_key_needs_attention_at_once_and_a_new_key_sends_it() {
    let (rx, url) = start_receiver();
    let s = start();
    let t = s
        .office
        .add_publish_target(&s.admin, webhook(&url, Some("kunci-lama-yang-salah")))
        .unwrap();
    assert!(t.has_secret);
    let id = s.approved_item("Pelatihan ASN");
    let d = s
        .office
        .act(&s.publisher, id, "publish", ActionRequest::default())
        .unwrap();
    let p = d.publishing.unwrap();
    assert!(p.attention);
    assert_eq!(p.last_error_kind.as_deref(), Some("unauthorized"));
    let err = p.last_error.unwrap();
    assert!(!err.contains("kunci-lama"), "the key never appears: {err}");

    // The admin enters the right key: what waited goes out at once.
    let mut fixed = webhook(&url, Some(KEY));
    fixed.name = "CMS Dinas (baru)".into();
    s.office
        .update_publish_target(&s.admin, t.id, fixed)
        .unwrap();
    s.office.run_due_publications(None);
    assert_eq!(s.item(id).state.step, "published");
    assert_eq!(rx.got.lock().unwrap().created.len(), 1);

    // Others may not manage websites, and the hub says so.
    let e = s
        .office
        .add_publish_target(&s.publisher, webhook(&url, Some(KEY)))
        .unwrap_err();
    assert_eq!(e.status(), 403);
    // Secrets are never sent back.
    let listed = serde_json::to_string(&s.office.publish_targets(&s.publisher).unwrap()).unwrap();
    assert!(!listed.contains(KEY));
}

#[test]
fn a_correction_updates_the_same_post_and_unpublish_takes_it_down() {
    let (rx, url) = start_receiver();
    let s = start();
    s.office
        .add_publish_target(&s.admin, webhook(&url, Some(KEY)))
        .unwrap();
    let id = s.approved_item("Festival Mahakam");
    s.office
        .act(&s.publisher, id, "publish", ActionRequest::default())
        .unwrap();
    assert_eq!(s.item(id).state.step, "published");

    // Correction: back to editing, through the official again, then an update.
    let note = |n: &str| ActionRequest {
        note: Some(n.into()),
        scheduled_at: None,
    };
    let e = s
        .office
        .correct(&s.editor, id, ActionRequest::default())
        .unwrap_err();
    assert_eq!(e.status(), 400, "a correction needs a note");
    let d = s
        .office
        .correct(&s.editor, id, note("tanggal salah"))
        .unwrap();
    assert_eq!(d.state.step, "edit");
    let mut content = d.content.clone();
    content
        .body
        .push_str("\n\nKoreksi: acara tanggal 12 Maret.");
    s.office
        .save_item(
            &s.editor,
            id,
            warta_api::SaveItem {
                version: d.version,
                content,
            },
        )
        .unwrap();
    s.office
        .act(&s.editor, id, "send_to_official", ActionRequest::default())
        .unwrap();
    s.office
        .act(&s.official, id, "approve", ActionRequest::default())
        .unwrap();
    s.office
        .act(&s.publisher, id, "publish", ActionRequest::default())
        .unwrap();
    assert_eq!(s.item(id).state.step, "published");
    {
        let got = rx.got.lock().unwrap();
        let actions: Vec<&str> = got.attempts.iter().map(|(_, a)| a.as_str()).collect();
        assert_eq!(actions, ["publish", "update"]);
        assert_eq!(got.created.len(), 2, "each version has its own key");
    }

    // Unpublish needs a reason and the publisher role.
    assert_eq!(
        s.office
            .unpublish(&s.editor, id, note("x"))
            .unwrap_err()
            .status(),
        403
    );
    let d = s
        .office
        .unpublish(&s.publisher, id, note("permintaan pimpinan"))
        .unwrap();
    assert_eq!(d.state.step, "not_published");
    assert!(d.published_url.is_none());
    assert_eq!(rx.got.lock().unwrap().unpublished.len(), 1);
    // The hub's own page is gone too.
    assert!(
        !std::fs::read_dir(s._dir.path().join("site/items"))
            .unwrap()
            .any(|e| e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(&format!("{id}-")))
    );
}

#[test]
fn a_scheduled_item_waits_for_its_time() {
    let (rx, url) = start_receiver();
    let s = start();
    s.office
        .add_publish_target(&s.admin, webhook(&url, Some(KEY)))
        .unwrap();
    let id = s.approved_item("Jadwal terbit");
    let when = s.office.now() + Duration::hours(3);
    let past = ActionRequest {
        note: None,
        scheduled_at: Some(s.office.now() - Duration::hours(1)),
    };
    assert_eq!(
        s.office
            .act(&s.publisher, id, "publish", past)
            .unwrap_err()
            .status(),
        400
    );
    let d = s
        .office
        .act(
            &s.publisher,
            id,
            "publish",
            ActionRequest {
                note: None,
                scheduled_at: Some(when),
            },
        )
        .unwrap();
    assert_eq!(d.scheduled_at, Some(when));
    assert_eq!(d.state.step, "publish");
    assert!(rx.got.lock().unwrap().attempts.is_empty());
    s.later(Duration::hours(2));
    assert!(rx.got.lock().unwrap().attempts.is_empty());
    // This CMS shows something else than what it was sent: published, but not as sent.
    rx.mode.store(MANGLE, Ordering::SeqCst);
    s.later(Duration::hours(1));
    let d = s.item(id);
    assert_eq!(d.state.step, "published");
    assert_eq!(rx.got.lock().unwrap().created.len(), 1);
    let hook = d
        .publications
        .iter()
        .find(|p| p.target_kind == "webhook")
        .unwrap();
    assert_eq!(hook.live_matches, Some(false), "{hook:?}");
}

/// A one-second 320×240 QuickTime video with MPEG-4 Part 2 and AAC; `pitch` varies its bytes.
fn camera_video(dir: &std::path::Path, pitch: u32) -> Vec<u8> {
    let path = dir.join(format!("camera-{pitch}.mov"));
    let out = std::process::Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args([
            "-f",
            "lavfi",
            "-i",
            "testsrc=duration=1:size=320x240:rate=10",
        ])
        .args([
            "-f",
            "lavfi",
            "-i",
            &format!("sine=frequency={pitch}:duration=1"),
        ])
        .args(["-shortest", "-c:v", "mpeg4", "-c:a", "aac"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read(path).unwrap()
}

#[test]
fn a_video_goes_to_a_website_as_its_web_copy_and_as_itself_without_one() {
    if !warta_media::ffmpeg_available() {
        println!("note: ffmpeg is not installed; web copies are checked in tests/web_copies.rs");
        return;
    }
    let (rx, url) = start_receiver();
    let s = start();
    let o = &s.office;
    o.add_publish_target(&s.admin, webhook(&url, Some(KEY)))
        .unwrap();
    let id = o
        .create_item(
            &s.reporter,
            ItemContent {
                title: "Banjir".into(),
                summary: "Ringkasan".into(),
                body: "Teks.".into(),
                category: "Berita".into(),
                tags: vec![],
                unit: "Bidang IKP".into(),
            },
        )
        .unwrap()
        .id;
    let attach = |name: &str, bytes: &[u8]| {
        let blob = o.blobs().put_bytes(bytes, u64::MAX).unwrap();
        o.record_attachment(&s.reporter, id, name, &blob).unwrap()
    };
    // Attached before the office makes web copies: sent as it is, as before.
    let plain = camera_video(s._dir.path(), 440);
    let plain_att = attach("rapat.mov", &plain);
    let mut settings = o.media_settings_view().unwrap();
    settings.video_web_copy = true;
    o.set_media_settings(&s.admin, settings).unwrap();
    let copied_att = attach("banjir.mov", &camera_video(s._dir.path(), 550));
    assert!(o.make_next_web_copy().unwrap());
    let copied_att = o
        .get_item(&s.reporter, id)
        .unwrap()
        .attachments
        .into_iter()
        .find(|a| a.id == copied_att.id)
        .unwrap();
    assert_eq!(copied_att.web_copy, warta_api::WebCopyState::Ready);
    let copy_sha = {
        let url = copied_att.web_copy_url.unwrap();
        let parts: Vec<&str> = url.rsplit('/').take(2).collect();
        let (path, _, _) = o
            .signed_attachment_file(copied_att.id, warta_hub::Variant::WebCopy, parts[0])
            .unwrap();
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
    };

    let go = |who: &Caller, action: &str| {
        o.act(who, id, action, ActionRequest::default()).unwrap();
    };
    go(&s.reporter, "submit");
    o.claim(&s.editor, id).unwrap();
    go(&s.editor, "send_to_official");
    go(&s.official, "approve");
    go(&s.publisher, "publish");
    assert_eq!(s.item(id).state.step, "published");

    let media = rx.got.lock().unwrap().media.clone();
    assert_eq!(media.len(), 2, "{media:?}");
    let by_id = |aid: i64| media.iter().find(|m| m["attachment_id"] == aid).unwrap();
    let m = by_id(plain_att.id);
    assert_eq!(m["mime"], "video/quicktime");
    assert_eq!(m["filename"], "rapat.mov");
    assert_eq!(m["sha256"], plain_att.sha256);
    assert!(m["url"].as_str().unwrap().ends_with(".mov"), "{m}");
    let m = by_id(copied_att.id);
    assert_eq!(m["mime"], "video/mp4");
    assert_eq!(m["filename"], "banjir.mp4");
    assert_eq!(m["sha256"], copy_sha.as_str());
    assert_ne!(m["sha256"], copied_att.sha256.as_str(), "not the original");
    assert!(
        m["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/site/media/{copy_sha}.mp4")),
        "{m}"
    );
}
