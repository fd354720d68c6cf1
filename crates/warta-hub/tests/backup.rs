//! Backups of a live office: made on a schedule while the hub serves requests, verified,
//! pruned, audited, and restored into a working data folder.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use reqwest::StatusCode;
use serde_json::{Value, json};
use warta_hub::backup::{self, BackupPolicy};
use warta_hub::{DEMO_PASSWORD, FixedClock, HubConfig, Office};

/// A small valid PNG photo (its original, web rendition and thumbnail become three blobs).
fn png_bytes(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, seed])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 24, 6, 0, 0).unwrap(),
    ))
}

fn audit_kinds(data: &Path, kind: &str) -> Vec<Value> {
    let db = rusqlite::Connection::open(data.join("warta.db")).unwrap();
    let mut stmt = db
        .prepare("SELECT data FROM audit WHERE kind = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([kind], |r| r.get::<_, String>(0))
        .unwrap()
        .map(|d| serde_json::from_str(&d.unwrap()).unwrap())
        .collect()
}

async fn login(http: &reqwest::Client, base: &str, user: &str) -> String {
    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": user, "password": DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn create_item(http: &reqwest::Client, base: &str, token: &str, title: &str) -> i64 {
    let r = http
        .post(format!("{base}/api/v1/items"))
        .bearer_auth(token)
        .json(
            &json!({"title": title, "summary": "ringkas", "body": "Isi berita.",
                      "category": "Berita", "tags": [], "unit": "Bidang IKP"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "creating {title}");
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn attach_photo(http: &reqwest::Client, base: &str, token: &str, item: i64, seed: u8) {
    let r = http
        .post(format!("{base}/api/v1/items/{item}/attachments"))
        .query(&[("filename", format!("foto-{seed}.png"))])
        .bearer_auth(token)
        .header("content-type", "application/octet-stream")
        .body(png_bytes(seed))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "upload: {}", r.status());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scheduled_backups_are_made_while_the_hub_serves_verified_and_kept_to_n() {
    let data = tempfile::tempdir().unwrap();
    let backups = tempfile::tempdir().unwrap();
    let mut config = HubConfig::solo(data.path());
    config.demo = true;
    config.backup = Some(BackupPolicy {
        dir: backups.path().to_path_buf(),
        every: Duration::from_millis(150),
        keep: Some(3),
        keep_days: None,
    });
    let clock = clock();
    let hub = warta_hub::start(config, clock.clone()).await.unwrap();
    let base = hub.base_url();
    let http = reqwest::Client::new();
    let token = login(&http, &base, "reporter").await;
    let first = create_item(&http, &base, &token, "Berita berfoto").await;
    attach_photo(&http, &base, &token, first, 1).await;

    // A reporter keeps creating items (and now and then a photo) while backups run.
    let stop = Arc::new(AtomicBool::new(false));
    let created = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (http, base, token, stop, created, clock) = (
            http.clone(),
            base.clone(),
            token.clone(),
            stop.clone(),
            created.clone(),
            clock.clone(),
        );
        tokio::spawn(async move {
            for n in 0..2000u32 {
                if stop.load(Ordering::SeqCst) {
                    break;
                }
                let id = create_item(&http, &base, &token, &format!("Berita {n}")).await;
                if n % 25 == 0 {
                    attach_photo(&http, &base, &token, id, (n % 250) as u8 + 2).await;
                }
                // Time moves on, so backup names move on too (and sometimes collide).
                if n % 10 == 0 {
                    clock.advance(chrono::Duration::seconds(1));
                }
                created.fetch_add(1, Ordering::SeqCst);
            }
        })
    };

    // Wait (bounded) until at least six backups were made and two of them saw different
    // numbers of items, i.e. requests were served between them.
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        let made = audit_kinds(data.path(), "backup.made").len();
        let counts: std::collections::BTreeSet<i64> = backup::list_backups(backups.path())
            .unwrap()
            .iter()
            .filter_map(|b| backup::read_manifest(&b.path).ok())
            .map(|m| m.items)
            .collect();
        if made >= 6 && counts.len() >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {made} backups made, item counts {counts:?}, {} items created",
            created.load(Ordering::SeqCst)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::SeqCst);
    writer
        .await
        .expect("every request succeeded during backups");
    hub.shutdown().await;

    assert!(
        audit_kinds(data.path(), "backup.failed").is_empty(),
        "{:?}",
        audit_kinds(data.path(), "backup.failed")
    );
    assert!(!audit_kinds(data.path(), "backup.pruned").is_empty());
    let kept = backup::list_backups(backups.path()).unwrap();
    assert_eq!(kept.len(), 3, "retention keeps the 3 newest: {kept:?}");
    // Nothing half-written is left.
    for e in std::fs::read_dir(backups.path()).unwrap() {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!name.starts_with(".partial-"), "{name} left behind");
    }
    let mut previous: Option<backup::Manifest> = None;
    for b in &kept {
        let check = backup::verify_backup(&b.path).unwrap();
        let m = backup::read_manifest(&b.path).unwrap();
        assert!(check.audit_entries >= m.audit_head_seq);
        assert!(check.referenced_blobs >= 3, "the photo's three files");
        assert!(m.blobs >= check.referenced_blobs);
        // Each backup's database is a consistent snapshot: its own audit chain verifies,
        // and it opens as an office.
        let office = Office::open(HubConfig::solo(&b.path), clock.clone()).unwrap();
        let report = office.verify_audit(None).unwrap();
        assert!(report.intact);
        if let Some(p) = &previous {
            // Blobs an earlier backup has are linked, never copied again.
            assert_eq!(m.blobs_copied, 0);
            assert_eq!(
                m.blobs_from_previous, p.blobs,
                "every blob of the previous backup"
            );
            assert!(m.audit_head_seq > p.audit_head_seq);
            let prev_path = backups.path().join(&p.name);
            let shared = std::fs::read_dir(prev_path.join("blobs"))
                .unwrap()
                .flat_map(|fan| std::fs::read_dir(fan.unwrap().path()).unwrap())
                .map(|f| f.unwrap().path())
                .filter(|f| {
                    let rel = f.strip_prefix(&prev_path).unwrap();
                    b.path.join(rel).exists()
                })
                .all(|f| {
                    let rel = f.strip_prefix(&prev_path).unwrap();
                    std::fs::metadata(&f).unwrap().ino()
                        == std::fs::metadata(b.path.join(rel)).unwrap().ino()
                });
            assert!(shared, "a blob both backups have is one file on disk");
        }
        previous = Some(m);
    }
    let made = audit_kinds(data.path(), "backup.made");
    assert!(made.len() >= 6);
    assert_eq!(
        made.last().unwrap()["name"],
        json!(kept.last().unwrap().name)
    );
}

#[test]
fn retention_by_age_uses_the_hubs_clock_and_keeps_the_newest() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut config = HubConfig::solo(data.path());
    config.demo = true;
    let office = Office::open(config, clock.clone()).unwrap();
    let mut names = Vec::new();
    for _ in 0..4 {
        names.push(
            backup::make_backup(&office, out.path())
                .unwrap()
                .manifest
                .name,
        );
        clock.advance(chrono::Duration::days(1));
    }
    assert_eq!(
        names,
        [
            "20261124T060000Z",
            "20261125T060000Z",
            "20261126T060000Z",
            "20261127T060000Z"
        ]
    );
    // Now 28 Nov 06:00: younger than 2 days are the 27th's (1 day) only; the 26th is exactly 2.
    let removed = backup::prune(out.path(), None, Some(2), office.now()).unwrap();
    assert_eq!(
        removed,
        ["20261124T060000Z", "20261125T060000Z", "20261126T060000Z"]
    );
    // Either rule keeps: 3 most recent OR younger than 1 day.
    for _ in 0..3 {
        backup::make_backup(&office, out.path()).unwrap();
        clock.advance(chrono::Duration::hours(1));
    }
    let removed = backup::prune(out.path(), Some(3), Some(1), office.now()).unwrap();
    assert_eq!(removed, ["20261127T060000Z"]);
    // Everything old: the newest still stays.
    clock.advance(chrono::Duration::days(30));
    backup::prune(out.path(), None, Some(1), office.now()).unwrap();
    let left: Vec<String> = backup::list_backups(out.path())
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(left, ["20261128T080000Z"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_missing_a_file_or_history_is_refused_and_audited() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let mut config = HubConfig::solo(data.path());
    config.demo = true;
    let hub = warta_hub::start(config, clock()).await.unwrap();
    let http = reqwest::Client::new();
    let token = login(&http, &hub.base_url(), "reporter").await;
    let item = create_item(&http, &hub.base_url(), &token, "Berita").await;
    attach_photo(&http, &hub.base_url(), &token, item, 9).await;
    let office = hub.office().clone();

    let good = {
        let (office, out) = (office.clone(), out.path().to_path_buf());
        tokio::task::spawn_blocking(move || backup::make_backup(&office, &out))
            .await
            .unwrap()
            .unwrap()
    };

    // A file an attachment needs disappears from the store.
    let sha: String = rusqlite::Connection::open(data.path().join("warta.db"))
        .unwrap()
        .query_row("SELECT sha256 FROM attachments LIMIT 1", [], |r| r.get(0))
        .unwrap();
    let blob = office.blobs().path_of(&sha).unwrap();
    let saved = std::fs::read(&blob).unwrap();
    std::fs::remove_file(&blob).unwrap();
    let err = {
        let (office, out) = (office.clone(), out.path().to_path_buf());
        tokio::task::spawn_blocking(move || backup::make_backup(&office, &out))
            .await
            .unwrap()
            .unwrap_err()
    };
    assert!(format!("{err:#}").contains(&sha), "{err:#}");
    let failed = audit_kinds(data.path(), "backup.failed");
    assert!(failed[0]["error"].as_str().unwrap().contains("missing"));
    std::fs::write(&blob, &saved).unwrap();

    // The audit log's newest entries are cut off after the backup recorded its head.
    {
        let db = rusqlite::Connection::open(data.path().join("warta.db")).unwrap();
        db.execute(
            "DELETE FROM audit WHERE seq >= ?1",
            [good.manifest.audit_head_seq],
        )
        .unwrap();
    }
    let err = {
        let (office, out) = (office.clone(), out.path().to_path_buf());
        tokio::task::spawn_blocking(move || backup::make_backup(&office, &out))
            .await
            .unwrap()
            .unwrap_err()
    };
    assert!(format!("{err:#}").contains("cut short"), "{err:#}");

    // A backup folder that cannot be made.
    let file = out.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let err = {
        let office = office.clone();
        tokio::task::spawn_blocking(move || backup::make_backup(&office, &file))
            .await
            .unwrap()
            .unwrap_err()
    };
    assert!(format!("{err:#}").contains("cannot create the backup folder"));
    hub.shutdown().await;

    // (The first failure's entry went with the cut-off history.)
    let failed = audit_kinds(data.path(), "backup.failed");
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed[0]["error"].as_str().unwrap().contains("cut short"));
    // Only the good backup exists, and nothing half-made.
    let names: Vec<String> = std::fs::read_dir(out.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "a-file")
        .collect();
    assert_eq!(names, vec![good.manifest.name]);
}

#[test]
fn blobs_are_copied_and_checked_when_the_backup_is_on_another_file_system() {
    let Some(other) = ["/dev/shm", "/run/user"]
        .iter()
        .map(Path::new)
        .find(|p| p.is_dir() && tempfile::tempdir_in(p).is_ok())
        .filter(|p| {
            let here = std::fs::metadata(std::env::temp_dir()).unwrap().dev();
            std::fs::metadata(p).unwrap().dev() != here
        })
    else {
        eprintln!("skipped: no writable folder on another file system than the temp folder");
        return;
    };
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir_in(other).unwrap();
    let mut config = HubConfig::solo(data.path());
    config.demo = true;
    let office = Office::open(config, clock()).unwrap();
    let stored = office.blobs().put_bytes(&png_bytes(3), 1 << 20).unwrap();
    let first = backup::make_backup(&office, out.path()).unwrap().manifest;
    assert_eq!(first.blobs, 1);
    assert_eq!(first.blobs_copied, 1);
    assert_eq!(first.blobs_linked, 0);
    let second = backup::make_backup(&office, out.path()).unwrap().manifest;
    assert_eq!((second.blobs_from_previous, second.blobs_copied), (1, 0));

    // A stored file whose bytes no longer match its name is not carried into a backup.
    std::fs::write(office.blobs().path_of(&stored.sha256).unwrap(), b"rotten").unwrap();
    let fresh = tempfile::tempdir_in(other).unwrap();
    let err = backup::make_backup(&office, fresh.path()).unwrap_err();
    assert!(format!("{err:#}").contains("damaged"), "{err:#}");
}

#[test]
fn a_backup_restores_into_an_empty_folder_only() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let clock = clock();
    let mut config = HubConfig::solo(data.path());
    config.demo = true;
    let office = Office::open(config, clock.clone()).unwrap();
    let stored = office.blobs().put_bytes(b"some bytes", 1 << 20).unwrap();
    // A page version the website guard keeps as an incident's evidence.
    let evidence = format!("guard/{}.html", "ab".repeat(32));
    std::fs::create_dir_all(data.path().join("guard")).unwrap();
    std::fs::write(data.path().join(&evidence), "<h1>HACKED BY X</h1>").unwrap();
    let made = backup::make_backup(&office, out.path()).unwrap();

    let target = tempfile::tempdir().unwrap();
    let restored = target.path().join("restored");
    let check = backup::restore(&made.path, &restored).unwrap();
    assert!(check.audit_entries > 0);
    let again = Office::open(HubConfig::solo(&restored), clock.clone()).unwrap();
    assert!(again.verify_audit(None).unwrap().intact);
    assert!(again.blobs().exists(&stored.sha256));
    assert_eq!(
        std::fs::read_to_string(restored.join(&evidence)).unwrap(),
        "<h1>HACKED BY X</h1>"
    );
    let items = |data: &Path| -> i64 {
        rusqlite::Connection::open(data.join("warta.db"))
            .unwrap()
            .query_row("SELECT count(*) FROM items", [], |r| r.get(0))
            .unwrap()
    };
    assert!(items(data.path()) > 0);
    assert_eq!(items(&restored), items(data.path()));

    // A folder with anything in it is never overwritten.
    let occupied = tempfile::tempdir().unwrap();
    std::fs::write(occupied.path().join("warta.db"), b"precious").unwrap();
    let err = backup::restore(&made.path, occupied.path()).unwrap_err();
    assert!(format!("{err:#}").contains("not empty"), "{err:#}");
    assert_eq!(
        std::fs::read(occupied.path().join("warta.db")).unwrap(),
        b"precious"
    );
    // An empty one (as systemd's StateDirectory makes it) is fine.
    let empty = tempfile::tempdir().unwrap();
    backup::restore(&made.path, empty.path()).unwrap();
    let mut names: Vec<String> = std::fs::read_dir(empty.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["blobs", "guard", "site", "warta.db"]);
    assert!(
        Office::open(HubConfig::solo(empty.path()), clock)
            .unwrap()
            .verify_audit(None)
            .unwrap()
            .intact
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restarted_hub_makes_a_missed_backup_at_once() {
    let data = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let clock = clock();
    {
        let office = Office::open(HubConfig::solo(data.path()), clock.clone()).unwrap();
        backup::make_backup(&office, out.path()).unwrap();
    }
    // The hub was down past the time the next backup was due.
    clock.advance(chrono::Duration::hours(2));
    let mut config = HubConfig::solo(data.path());
    config.backup = Some(BackupPolicy {
        dir: out.path().to_path_buf(),
        every: Duration::from_secs(3600),
        keep: None,
        keep_days: None,
    });
    let hub = warta_hub::start(config, clock.clone()).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while backup::list_backups(out.path()).unwrap().len() < 2 {
        assert!(
            Instant::now() < deadline,
            "no catch-up backup (the next one would be an hour away)"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    hub.shutdown().await;
    let names: Vec<String> = backup::list_backups(out.path())
        .unwrap()
        .into_iter()
        .map(|b| b.name)
        .collect();
    assert_eq!(names, ["20261124T060000Z", "20261124T080000Z"]);
}
