//! Web copies of videos, with the real `ffmpeg` (installed by the Makefile's `deps-apt`):
//! made in the background after a video is attached, checked with warta-media's own probe,
//! served by their variant URL and published instead of the original; a broken video fails
//! in plain words; an office without web copies makes none; a copy left pending by a stopped
//! hub is made at the next start, and one that never finishes is given up.
//!
//! Where ffmpeg is missing, each test checks the hub's refusal to turn web copies on instead.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use warta_api::{ActionRequest, Attachment, ItemContent, MediaSettings, WebCopyState};
use warta_hub::{Caller, FixedClock, HubConfig, Office};

/// Height the tests ask for: the smallest the settings accept, below the test videos' 240.
const HEIGHT: u32 = 144;

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .output()
        .expect("running ffmpeg");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A one-second 320×240 QuickTime video (MPEG-4 Part 2 and AAC, as old cameras write):
/// not something a browser plays, so the web copy is worth making. Its tone's `pitch`
/// makes different bytes.
fn camera_video(dir: &Path, pitch: u32) -> Vec<u8> {
    let path = dir.join("camera.mov");
    let tone = format!("sine=frequency={pitch}:duration=1");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=duration=1:size=320x240:rate=10",
        "-f",
        "lavfi",
        "-i",
        &tone,
        "-shortest",
        "-c:v",
        "mpeg4",
        "-c:a",
        "aac",
        path.to_str().unwrap(),
    ]);
    std::fs::read(path).unwrap()
}

/// The same video with every byte of its pictures and sound overwritten: its container is
/// intact (so it is accepted and probed), but nothing in it can be decoded.
fn broken_video(dir: &Path) -> Vec<u8> {
    let mut bytes = camera_video(dir, 440);
    let mut at = 0;
    while at + 8 <= bytes.len() {
        let size = u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if &bytes[at + 4..at + 8] == b"mdat" {
            bytes[at + 8..at + size].fill(0xab);
        }
        assert!(size >= 8);
        at += size;
    }
    bytes
}

fn probe(bytes: &[u8]) -> warta_media::VideoInfo {
    warta_media::probe_video_from(std::io::Cursor::new(bytes)).expect("a readable video")
}

fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

fn settings_with(office: &Office, admin: &Caller, copy: bool) -> MediaSettings {
    let mut s = office.media_settings_view().unwrap();
    s.video_web_copy = copy;
    s.video_web_height = HEIGHT;
    office.set_media_settings(admin, s).unwrap()
}

/// Without ffmpeg, turning web copies on is refused in plain words and reads back off.
fn check_refused_without_ffmpeg(office: &Office, admin: &Caller) {
    println!("note: ffmpeg is not installed; checking that web copies cannot be turned on");
    let mut s = office.media_settings_view().unwrap();
    assert!(!s.ffmpeg_available);
    s.video_web_copy = true;
    let e = office.set_media_settings(admin, s).unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("ffmpeg"), "{e}");
    assert!(!office.media_settings_view().unwrap().video_web_copy);
}

fn content(title: &str) -> ItemContent {
    ItemContent {
        title: title.into(),
        summary: "Ringkasan".into(),
        body: "Paragraf pertama.".into(),
        category: "Berita".into(),
        tags: vec![],
        unit: "Bidang IKP".into(),
    }
}

fn attach(office: &Office, who: &Caller, item: i64, name: &str, bytes: &[u8]) -> Attachment {
    let blob = office.blobs().put_bytes(bytes, u64::MAX).unwrap();
    office.record_attachment(who, item, name, &blob).unwrap()
}

fn attachment(office: &Office, who: &Caller, item: i64, id: i64) -> Attachment {
    let d = office.get_item(who, item).unwrap();
    d.attachments.into_iter().find(|a| a.id == id).unwrap()
}

fn audit_kinds(dir: &Path) -> Vec<String> {
    let db = rusqlite::Connection::open(dir.join("warta.db")).unwrap();
    let mut stmt = db.prepare("SELECT kind FROM audit ORDER BY seq").unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

struct Direct {
    dir: tempfile::TempDir,
    office: Office,
}

/// An office without its background workers: the test makes the copies itself, in order.
fn direct() -> Direct {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 3, 10, 1, 0, 0).unwrap(),
    ));
    let mut config = HubConfig::solo(dir.path());
    config.demo = true;
    let office = Office::open(config, clock).unwrap();
    office.set_base_url("http://127.0.0.1:9");
    Direct { dir, office }
}

#[test]
fn a_video_copy_is_made_stored_once_and_published_instead_of_the_original() {
    let d = direct();
    let o = &d.office;
    let c = |u: &str| o.user_caller(u).unwrap();
    let (admin, reporter) = (c("admin"), c("reporter"));
    if !warta_media::ffmpeg_available() {
        return check_refused_without_ffmpeg(o, &admin);
    }
    let s = settings_with(o, &admin, true);
    assert!(s.ffmpeg_available && s.video_web_copy);
    assert_eq!(s.video_web_height, HEIGHT);

    let video = camera_video(d.dir.path(), 440);
    let item = o
        .create_item(&reporter, content("Banjir Samarinda"))
        .unwrap()
        .id;
    let a = attach(o, &reporter, item, "banjir.mov", &video);
    assert_eq!(
        a.web_copy,
        WebCopyState::Pending,
        "made later, not in the request"
    );
    assert!(a.web_copy_url.is_none());

    assert!(o.make_next_web_copy().unwrap(), "the pending copy is made");
    assert!(
        !o.make_next_web_copy().unwrap(),
        "and nothing else is pending"
    );
    let a = attachment(o, &reporter, item, a.id);
    assert_eq!(a.web_copy, WebCopyState::Ready, "{:?}", a.web_copy_error);
    assert!(a.web_copy_error.is_none());
    let url = a.web_copy_url.clone().expect("a web copy URL");
    assert!(url.contains("/signed/web_copy/"), "{url}");

    // The copy is a real MP4, no taller than the office asked, stored under its hash.
    let (path, mime, _) = signed(o, &url);
    assert_eq!(mime, "video/mp4");
    let copy = std::fs::read(&path).unwrap();
    let info = probe(&copy);
    assert_eq!(info.container, warta_media::Container::Mp4);
    assert_eq!(info.video_codec.as_deref(), Some("h264"));
    assert_eq!(info.audio_codec.as_deref(), Some("aac"));
    assert!(info.height.unwrap() <= HEIGHT, "{info:?}");
    assert_eq!(a.web_copy_height, info.height);
    assert_eq!(a.web_copy_size, Some(copy.len() as u64));
    assert_eq!(path, o.blobs().path_of(&sha256(&copy)).unwrap());

    // The original is untouched and still what `url` and `original_url` serve.
    assert_eq!(a.sha256, sha256(&video));
    let (path, mime, _) = signed(o, &a.url);
    assert_eq!(std::fs::read(path).unwrap(), video);
    assert_eq!(mime, "video/quicktime");

    // The same video attached again reuses the same copy's bytes (content-addressed).
    let again = attach(o, &reporter, item, "banjir-lagi.mov", &video);
    assert!(o.make_next_web_copy().unwrap());
    let again = attachment(o, &reporter, item, again.id);
    assert_eq!(again.web_copy, WebCopyState::Ready);

    let kinds = audit_kinds(d.dir.path());
    assert_eq!(
        kinds.iter().filter(|k| *k == "attachment.web_copy").count(),
        2
    );
    assert_eq!(
        warta_hub::events::kind_of("attachment.web_copy", Some(item)),
        Some(warta_api::ChangeKind::Attachment),
        "the change feed announces it"
    );

    // The review preview and the published page show the copy, not the original.
    let html = o.preview(&reporter, item).unwrap().html;
    assert!(html.contains("/signed/web_copy/"), "{html}");
    assert!(html.contains("type=\"video/mp4\""), "{html}");
    assert!(html.contains("banjir.mp4"), "{html}");
    assert!(!html.contains("video/quicktime"), "{html}");
    publish(o, item);
    let media = d.dir.path().join("site/media");
    let copy_name = format!("{}.mp4", sha256(&copy));
    assert!(media.join(&copy_name).is_file(), "the copy is on the site");
    assert!(
        !media.join(format!("{}.mov", sha256(&video))).exists(),
        "the original is not"
    );
    let page = std::fs::read_dir(d.dir.path().join("site/items"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|p| p.contains("Banjir Samarinda"))
        .unwrap();
    assert!(page.contains(&format!("../media/{copy_name}")), "{page}");
}

#[test]
fn a_broken_video_fails_in_plain_words_and_an_office_without_copies_makes_none() {
    let d = direct();
    let o = &d.office;
    let c = |u: &str| o.user_caller(u).unwrap();
    let (admin, reporter) = (c("admin"), c("reporter"));
    if !warta_media::ffmpeg_available() {
        return check_refused_without_ffmpeg(o, &admin);
    }
    let item = o.create_item(&reporter, content("Rapat")).unwrap().id;

    // Off (the default): a video is attached as it is, with no copy and nothing pending.
    assert!(!o.media_settings_view().unwrap().video_web_copy);
    let video = camera_video(d.dir.path(), 440);
    let plain = attach(o, &reporter, item, "rapat.mov", &video);
    assert_eq!(plain.web_copy, WebCopyState::None);
    assert!(!o.make_next_web_copy().unwrap());
    let html = o.preview(&reporter, item).unwrap().html;
    assert!(
        html.contains("type=\"video/quicktime\""),
        "unchanged: {html}"
    );
    assert!(html.contains("/signed/display/"), "{html}");

    // On: a video whose pictures cannot be decoded is kept, and its copy fails once.
    settings_with(o, &admin, true);
    let broken = broken_video(d.dir.path());
    let a = attach(o, &reporter, item, "rusak.mov", &broken);
    assert_eq!(a.web_copy, WebCopyState::Pending);
    assert!(o.make_next_web_copy().unwrap());
    assert!(!o.make_next_web_copy().unwrap(), "a failure is not retried");
    let a = attachment(o, &reporter, item, a.id);
    assert_eq!(a.web_copy, WebCopyState::Failed);
    assert!(a.web_copy_url.is_none() && a.web_copy_size.is_none());
    let reason = a.web_copy_error.clone().unwrap();
    assert!(
        reason.starts_with("ffmpeg could not process the file"),
        "{reason}"
    );
    let (path, _, _) = signed(o, &a.url);
    assert_eq!(
        std::fs::read(path).unwrap(),
        broken,
        "the original is untouched"
    );
    assert!(audit_kinds(d.dir.path()).contains(&"attachment.web_copy_failed".to_string()));
    // Nothing half-made is left in the store's scratch folder.
    let tmp: Vec<_> = std::fs::read_dir(o.blobs().root().join("tmp"))
        .unwrap()
        .collect();
    assert!(tmp.is_empty(), "{tmp:?}");

    // A web-copy height out of range is refused, naming the field.
    let mut s = o.media_settings_view().unwrap();
    s.video_web_height = 20;
    let e = o.set_media_settings(&admin, s).unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("between 144 and 2160"), "{e}");
}

#[test]
fn a_copy_stopped_by_a_shutdown_stays_pending_uncounted_and_is_made_by_the_next_start() {
    let d = direct();
    let o = &d.office;
    let c = |u: &str| o.user_caller(u).unwrap();
    let (admin, reporter) = (c("admin"), c("reporter"));
    if !warta_media::ffmpeg_available() {
        return check_refused_without_ffmpeg(o, &admin);
    }
    settings_with(o, &admin, true);
    let item = o.create_item(&reporter, content("Upacara")).unwrap().id;
    let a = attach(
        o,
        &reporter,
        item,
        "upacara.mov",
        &camera_video(d.dir.path(), 440),
    );

    // The hub is shutting down: ffmpeg is started and stopped at once.
    o.stop_web_copies();
    assert!(o.make_next_web_copy().unwrap());
    let a2 = attachment(o, &reporter, item, a.id);
    assert_eq!(
        a2.web_copy,
        WebCopyState::Pending,
        "{:?}",
        a2.web_copy_error
    );
    let attempts: i64 = rusqlite::Connection::open(d.dir.path().join("warta.db"))
        .unwrap()
        .query_row(
            "SELECT web_copy_attempts FROM attachments WHERE id = ?1",
            [a.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(attempts, 0, "a stop is not an attempt");
    assert_eq!(
        std::fs::read_dir(o.blobs().root().join("tmp"))
            .unwrap()
            .count(),
        0,
        "nothing half-made is left"
    );
    assert!(
        !audit_kinds(d.dir.path())
            .iter()
            .any(|k| k.starts_with("attachment.web_copy"))
    );

    // The next start makes it.
    let Direct { dir, office } = d;
    drop(office);
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 3, 10, 2, 0, 0).unwrap(),
    ));
    let o = Office::open(HubConfig::solo(dir.path()), clock).unwrap();
    assert!(o.make_next_web_copy().unwrap());
    let reporter = o.user_caller("reporter").unwrap();
    assert_eq!(
        attachment(&o, &reporter, item, a.id).web_copy,
        WebCopyState::Ready
    );
}

/// The file a signed URL serves: (path, mime, filename).
fn signed(o: &Office, url: &str) -> (PathBuf, String, String) {
    let rest = url.split("/attachments/").nth(1).unwrap();
    let parts: Vec<&str> = rest.split('/').collect();
    let (id, variant, sig) = (parts[0].parse().unwrap(), parts[2], parts[3]);
    o.signed_attachment_file(id, warta_hub::Variant::parse(variant).unwrap(), sig)
        .unwrap()
}

/// Walks the item through SOP-A and publishes it (to the office's own site).
fn publish(o: &Office, item: i64) {
    let c = |u: &str| o.user_caller(u).unwrap();
    let go = |who: &str, action: &str| {
        o.act(&c(who), item, action, ActionRequest::default())
            .unwrap();
    };
    go("reporter", "submit");
    o.claim(&c("editor"), item).unwrap();
    go("editor", "send_to_official");
    go("official", "approve");
    go("publisher", "publish");
    assert_eq!(
        o.get_item(&c("publisher"), item).unwrap().state.step,
        "published"
    );
}

// ---------- the background worker of a running hub ----------

async fn start_hub(dir: &Path) -> warta_hub::RunningHub {
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 3, 10, 1, 0, 0).unwrap(),
    ));
    let mut config = HubConfig::solo(dir);
    config.demo = true;
    warta_hub::start(config, clock).await.unwrap()
}

async fn login(http: &reqwest::Client, base: &str, user: &str) -> String {
    let v: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": warta_hub::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"].as_str().unwrap().to_string()
}

/// Asks for the item until the attachment's copy is no longer pending (bounded: a copy of a
/// one-second video takes well under a second; two minutes allow for a very busy machine).
async fn settled(http: &reqwest::Client, base: &str, token: &str, item: i64, id: i64) -> Value {
    for _ in 0..1200 {
        let d: Value = http
            .get(format!("{base}/api/v1/items/{item}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let a = d["attachments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .unwrap()
            .clone();
        if a["web_copy"] != "pending" {
            return a;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the web copy of attachment {id} stayed pending");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_makes_copies_in_the_background_and_after_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    let hub = start_hub(dir.path()).await;
    let base = hub.base_url();
    let admin = login(&http, &base, "admin").await;
    let mut s: Value = http
        .get(format!("{base}/api/v1/settings/media"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    s["video_web_copy"] = json!(true);
    s["video_web_height"] = json!(HEIGHT);
    let r = http
        .put(format!("{base}/api/v1/settings/media"))
        .bearer_auth(&admin)
        .json(&s)
        .send()
        .await
        .unwrap();
    if !warta_media::ffmpeg_available() {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["field"], "video_web_copy");
        hub.shutdown().await;
        return;
    }
    assert_eq!(r.status(), StatusCode::OK);

    // Attached over HTTP: answered at once as pending, made by the worker, served signed.
    let reporter = login(&http, &base, "reporter").await;
    let item: Value = http
        .post(format!("{base}/api/v1/items"))
        .bearer_auth(&reporter)
        .json(
            &json!({"title": "Pasar terapung", "summary": "", "body": "Teks.",
                      "category": "Berita", "tags": [], "unit": "Bidang IKP"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let item = item["id"].as_i64().unwrap();
    let video = camera_video(dir.path(), 440);
    let a: Value = http
        .post(format!("{base}/api/v1/items/{item}/attachments"))
        .query(&[("filename", "pasar.mov")])
        .bearer_auth(&reporter)
        .header("content-type", "application/octet-stream")
        .body(video.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a["web_copy"], "pending", "{a}");
    let id = a["id"].as_i64().unwrap();
    let a = settled(&http, &base, &reporter, item, id).await;
    assert_eq!(a["web_copy"], "ready", "{a}");
    let copy = http
        .get(a["web_copy_url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(copy.status(), StatusCode::OK);
    assert_eq!(copy.headers()["content-type"], "video/mp4");
    let copy = copy.bytes().await.unwrap();
    let info = probe(&copy);
    assert_eq!(info.container, warta_media::Container::Mp4);
    assert!(info.height.unwrap() <= HEIGHT, "{info:?}");
    // Also through the bearer route, by its variant name.
    let by_variant = http
        .get(format!("{base}/api/v1/attachments/{id}/content"))
        .query(&[("variant", "web_copy")])
        .bearer_auth(&reporter)
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(by_variant, copy);

    // A hub stopped while copies were pending: one started once (the hub was killed while
    // making it), one started as often as allowed without ever finishing.
    let second = {
        let o = hub.office().clone();
        let (v2, v3) = (camera_video(dir.path(), 550), camera_video(dir.path(), 660));
        tokio::task::spawn_blocking(move || {
            let reporter = o.user_caller("reporter").unwrap();
            let mut s = o.media_settings_view().unwrap();
            s.video_web_copy = false;
            o.set_media_settings(&o.user_caller("admin").unwrap(), s)
                .unwrap();
            let first = attach(&o, &reporter, item, "pasar-2.mov", &v2);
            let second = attach(&o, &reporter, item, "pasar-3.mov", &v3);
            assert_eq!(first.web_copy, WebCopyState::None);
            (first.id, second.id)
        })
        .await
        .unwrap()
    };
    hub.shutdown().await;
    {
        let db = rusqlite::Connection::open(dir.path().join("warta.db")).unwrap();
        db.execute(
            "UPDATE attachments SET web_copy = 'pending', web_copy_attempts = 1 WHERE id = ?1",
            [second.0],
        )
        .unwrap();
        db.execute(
            "UPDATE attachments SET web_copy = 'pending', web_copy_attempts = ?2 WHERE id = ?1",
            [second.1, warta_hub::webcopy::MAX_ATTEMPTS],
        )
        .unwrap();
    }

    let hub = start_hub(dir.path()).await;
    let base = hub.base_url();
    let reporter = login(&http, &base, "reporter").await;
    let resumed = settled(&http, &base, &reporter, item, second.0).await;
    assert_eq!(resumed["web_copy"], "ready", "{resumed}");
    let given_up = settled(&http, &base, &reporter, item, second.1).await;
    assert_eq!(given_up["web_copy"], "failed", "{given_up}");
    assert!(
        given_up["web_copy_error"]
            .as_str()
            .unwrap()
            .contains("started 3 times and never finished"),
        "{given_up}"
    );
    let attempts: i64 = rusqlite::Connection::open(dir.path().join("warta.db"))
        .unwrap()
        .query_row(
            "SELECT web_copy_attempts FROM attachments WHERE id = ?1",
            [second.0],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(attempts, 2, "the attempt after the restart was counted");
    hub.shutdown().await;
}
