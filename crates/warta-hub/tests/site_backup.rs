//! Backups of the office's websites' content, restores and their proof, against a real
//! WordPress (Debian's package, started once for this file's WordPress test by
//! `tests/wordpress/harness.sh`) and the hub's own static site, over the hub's HTTP API and
//! the real OS keyring (run under `scripts/with-keyring`).

#[allow(dead_code)]
#[path = "../../warta-publish/tests/support/wordpress_harness.rs"]
mod wordpress_harness;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use warta_hub::{DEMO_PASSWORD, FixedClock, HubConfig, RunningHub, SiteBackupPolicy};
use wordpress_harness::WordPressHarness;

struct Hub {
    hub: Option<RunningHub>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Hub {
    async fn start() -> Hub {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap(),
        ));
        let mut config = HubConfig::solo(dir.path());
        config.demo = true;
        let hub = warta_hub::start(config, clock).await.unwrap();
        Hub {
            hub: Some(hub),
            dir,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(600))
                .build()
                .unwrap(),
        }
    }

    fn hub(&self) -> &RunningHub {
        self.hub.as_ref().unwrap()
    }

    async fn login(&self, user: &str) -> String {
        let r = self
            .http
            .post(format!("{}/api/v1/auth/login", self.hub().base_url()))
            .json(&json!({"username": user, "password": DEMO_PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {user}");
        r.json::<Value>().await.unwrap()["token"]
            .as_str()
            .unwrap()
            .to_string()
    }

    async fn call(
        &self,
        token: &str,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/api/v1{path}", self.hub().base_url()))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let s = r.status();
        let text = r.text().await.unwrap();
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    fn blob_count(&self) -> usize {
        let root = self.dir.path().join("site-backups/blobs");
        let mut n = 0;
        for d in std::fs::read_dir(&root).unwrap().flatten() {
            if d.file_name().len() == 2 {
                n += std::fs::read_dir(d.path()).unwrap().count();
            }
        }
        n
    }

    fn blob_path(&self, sha: &str) -> std::path::PathBuf {
        self.dir
            .path()
            .join("site-backups/blobs")
            .join(&sha[..2])
            .join(&sha[2..])
    }

    fn audit_kinds(&self) -> Vec<String> {
        let db = rusqlite::Connection::open(self.dir.path().join("warta.db")).unwrap();
        let mut stmt = db.prepare("SELECT kind FROM audit ORDER BY seq").unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(h) = self.hub.take() {
            drop(h.shutdown());
        }
    }
}

/// WordPress's REST API as one of its users.
struct Wp {
    http: reqwest::Client,
    api: String,
    user: String,
    password: String,
}

impl Wp {
    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self
            .http
            .request(method, format!("{}/wp/v2/{path}", self.api))
            .basic_auth(&self.user, Some(&self.password));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let (s, v) = self.call(Method::POST, path, Some(body)).await;
        assert!(s.is_success(), "POST {path}: {s} {v}");
        v
    }

    async fn raw_content(&self, kind: &str, id: i64) -> (StatusCode, Value) {
        self.call(Method::GET, &format!("{kind}/{id}?context=edit"), None)
            .await
    }

    async fn upload_png(&self, name: &str) -> Value {
        let img =
            image::RgbImage::from_fn(64, 48, |x, y| image::Rgb([x as u8 * 3, y as u8 * 5, 90]));
        let mut out = std::io::Cursor::new(Vec::new());
        img.write_to(&mut out, image::ImageFormat::Png).unwrap();
        let r = self
            .http
            .post(format!("{}/wp/v2/media", self.api))
            .basic_auth(&self.user, Some(&self.password))
            .header("Content-Type", "image/png")
            .header(
                "Content-Disposition",
                format!("attachment; filename=\"{name}\""),
            )
            .body(out.into_inner())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "upload: {}", r.status());
        r.json().await.unwrap()
    }
}

fn add_wp_user(wp: &WordPressHarness, login: &str, role: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/wordpress/harness.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .args(["add-user", wp.dir().to_str().unwrap(), login, role])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "add-user: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn kinds(checks: &Value) -> Vec<String> {
    checks
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap().iter())
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

const INJECTION: &str = "<p>Info resmi.</p>\n<div style=\"display:none\"><a href=\"https://slot-gacor.example/daftar\">slot gacor maxwin</a> <a href=\"https://togel.example/\">bandar togel</a></div>\n<p>Situs slot gacor hari ini, bocoran rtp live.</p>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wordpress_site_is_backed_up_restored_and_the_restore_is_proven() {
    let wp_site = tokio::task::spawn_blocking(WordPressHarness::start)
        .await
        .unwrap();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .unwrap();
    let warta_wp = Wp {
        http: http.clone(),
        api: wp_site.api_root.clone(),
        user: wp_site.user.clone(),
        password: wp_site.app_password.clone(),
    };

    // The site as it should be: two posts (one with a featured photo in a category), a page.
    let photo = warta_wp.upload_png("banjir.png").await;
    let photo_id = photo["id"].as_i64().unwrap();
    let photo_url = photo["source_url"].as_str().unwrap().to_string();
    let category = warta_wp
        .post("categories", json!({"name": "Berita Daerah"}))
        .await["id"]
        .as_i64()
        .unwrap();
    let good_a = format!(
        "<p>Pemerintah provinsi membuka posko banjir di Samarinda.</p>\n<figure><img src=\"{photo_url}\" alt=\"Posko\"></figure>"
    );
    let a = warta_wp
        .post(
            "posts",
            json!({"title": "Posko banjir dibuka", "content": good_a, "status": "publish",
                   "categories": [category], "featured_media": photo_id}),
        )
        .await;
    let a_id = a["id"].as_i64().unwrap();
    let a_url = a["link"].as_str().unwrap().to_string();
    let good_b = "<p>Jadwal pelayanan SIM keliling pekan ini.</p>";
    let b = warta_wp
        .post(
            "posts",
            json!({"title": "SIM keliling", "content": good_b, "status": "publish"}),
        )
        .await;
    let b_id = b["id"].as_i64().unwrap();
    let page = warta_wp
        .post(
            "pages",
            json!({"title": "Profil dinas", "content": "<p>Visi dan misi.</p>", "status": "publish"}),
        )
        .await;
    let page_id = page["id"].as_i64().unwrap();

    let hub = Hub::start().await;
    let admin = hub.login("admin").await;
    let publisher = hub.login("publisher").await;
    let reporter = hub.login("reporter").await;
    let (s, t) = hub
        .call(
            &admin,
            Method::POST,
            "/targets",
            Some(
                json!({"name": "Situs dinas", "kind": "wordpress", "url": wp_site.url,
                        "username": wp_site.user, "secret": wp_site.app_password,
                        "enabled": true, "git": false}),
            ),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{t}");
    let target = t["id"].as_i64().unwrap();

    // Reporters neither see nor make backups.
    let (s, _) = hub
        .call(
            &reporter,
            Method::POST,
            &format!("/targets/{target}/site-backups"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = hub
        .call(
            &reporter,
            Method::GET,
            &format!("/targets/{target}/site-backups"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Back up now (a publisher may): verified, with every post, page, term and the file.
    let (s, first) = hub
        .call(
            &publisher,
            Method::POST,
            &format!("/targets/{target}/site-backups"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["state"], "verified", "{first}");
    assert!(first["new_blobs"].as_u64().unwrap() > 0);
    let first_id = first["id"].as_i64().unwrap();
    let (s, detail) = hub
        .call(
            &publisher,
            Method::GET,
            &format!("/site-backups/{first_id}"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let keys: Vec<String> = detail["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["key"].as_str().unwrap().to_string())
        .collect();
    for k in [
        format!("post/{a_id}"),
        format!("post/{b_id}"),
        format!("page/{page_id}"),
        format!("media/{photo_id}"),
        format!("category/{category}"),
    ] {
        assert!(keys.contains(&k), "{k} missing from {keys:?}");
    }
    assert_eq!(detail["skipped"], json!([]));

    // Nothing changed: the next backup stores nothing new.
    let blobs = hub.blob_count();
    let (_, second) = hub
        .call(
            &admin,
            Method::POST,
            &format!("/targets/{target}/site-backups"),
            None,
        )
        .await;
    assert_eq!(second["state"], "verified", "{second}");
    assert_eq!(second["new_blobs"], 0, "{second}");
    assert_eq!(hub.blob_count(), blobs);
    let second_id = second["id"].as_i64().unwrap();

    // Someone else changes the site directly in WordPress: gambling links injected into post
    // A, post B and the photo deleted for good.
    let other = Wp {
        http: http.clone(),
        api: wp_site.api_root.clone(),
        user: "penyusup".into(),
        password: add_wp_user(&wp_site, "penyusup", "editor"),
    };
    other
        .post(&format!("posts/{a_id}"), json!({"content": INJECTION}))
        .await;
    let (s, _) = other
        .call(Method::DELETE, &format!("posts/{b_id}?force=true"), None)
        .await;
    assert!(s.is_success());
    let (s, _) = other
        .call(
            Method::DELETE,
            &format!("media/{photo_id}?force=true"),
            None,
        )
        .await;
    assert!(s.is_success());

    // A restore needs a reason.
    let (s, e) = hub
        .call(
            &admin,
            Method::POST,
            &format!("/site-backups/{second_id}/restore"),
            Some(json!({"key": format!("post/{a_id}"), "reason": "  "})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["field"], "reason");
    let (s, _) = hub
        .call(
            &reporter,
            Method::POST,
            &format!("/site-backups/{second_id}/restore"),
            Some(json!({"key": format!("post/{a_id}"), "reason": "coba"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // Restore post A: the content is back, the checks before found the injection, after
    // nothing.
    let (s, report) = hub
        .call(
            &publisher,
            Method::POST,
            &format!("/site-backups/{second_id}/restore"),
            Some(json!({"key": format!("post/{a_id}"), "reason": "Injeksi judi online"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    assert_eq!(report["state"], "done", "{report}");
    assert_eq!(report["scope"], "object");
    assert_eq!(report["requested_by"], "publisher");
    assert_eq!(report["incident_id"], Value::Null);
    let before = kinds(&report["before"]);
    assert!(before.contains(&"gambling".to_string()), "{before:?}");
    assert!(before.contains(&"hidden_links".to_string()), "{before:?}");
    assert_eq!(report["before"][0]["url"], a_url.as_str());
    assert_eq!(kinds(&report["after"]), Vec::<String>::new(), "{report}");
    assert_eq!(report["normal"], true);
    let (_, now_a) = warta_wp.raw_content("posts", a_id).await;
    let restored_photo = report["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == format!("media/{photo_id}"))
        .cloned()
        .expect("the deleted photo the post shows is uploaded again");
    assert_eq!(restored_photo["action"], "reuploaded");
    let new_photo_id: i64 = restored_photo["new_id"].as_str().unwrap().parse().unwrap();
    let new_photo_url = restored_photo["detail"]
        .as_str()
        .unwrap()
        .strip_prefix("now at ")
        .unwrap()
        .to_string();
    assert_eq!(
        now_a["content"]["raw"].as_str().unwrap(),
        good_a.replace(&photo_url, &new_photo_url)
    );
    assert_eq!(now_a["featured_media"], new_photo_id);
    assert_eq!(now_a["categories"], json!([category]));
    assert_eq!(now_a["title"]["raw"], "Posko banjir dibuka");

    // Everything: post B comes back (as a new post), the rest is unchanged.
    let (s, all) = hub
        .call(
            &admin,
            Method::POST,
            &format!("/site-backups/{second_id}/restore"),
            Some(json!({"reason": "Pemulihan penuh setelah serangan"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{all}");
    assert_eq!(all["scope"], "all");
    let actions = all["actions"].as_array().unwrap();
    let b_action = actions
        .iter()
        .find(|a| a["key"] == format!("post/{b_id}"))
        .unwrap();
    assert_eq!(b_action["action"], "recreated", "{all}");
    let new_b: i64 = b_action["new_id"].as_str().unwrap().parse().unwrap();
    let (s, now_b) = warta_wp.raw_content("posts", new_b).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(now_b["content"]["raw"], good_b);
    assert_eq!(now_b["status"], "publish");
    let page_action = actions
        .iter()
        .find(|a| a["key"] == format!("page/{page_id}"))
        .unwrap();
    assert_eq!(page_action["action"], "unchanged");
    assert_eq!(all["normal"], true, "{all}");
    assert!(!all["after"].as_array().unwrap().is_empty());

    // The reports are kept and audited.
    let (_, reports) = hub
        .call(
            &publisher,
            Method::GET,
            &format!("/targets/{target}/site-restores"),
            None,
        )
        .await;
    assert_eq!(reports.as_array().unwrap().len(), 2);
    let kinds_logged = hub.audit_kinds();
    assert_eq!(
        kinds_logged
            .iter()
            .filter(|k| *k == "site.restored")
            .count(),
        2
    );
    assert!(kinds_logged.iter().any(|k| k == "site_backup.made"));

    // A damaged backup is refused, saying what is damaged.
    let (_, detail) = hub
        .call(
            &admin,
            Method::GET,
            &format!("/site-backups/{second_id}"),
            None,
        )
        .await;
    let a_obj = detail["objects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["key"] == format!("post/{a_id}"))
        .unwrap()
        .clone();
    let sha = a_obj["sha256"].as_str().unwrap();
    std::fs::write(hub.blob_path(sha), b"{\"tampered\": true}").unwrap();
    let (s, e) = hub
        .call(
            &admin,
            Method::POST,
            &format!("/site-backups/{second_id}/verify"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("post/{a_id}")) && msg.contains("damaged"),
        "{msg}"
    );
    let (s, _) = hub
        .call(
            &admin,
            Method::POST,
            &format!("/site-backups/{first_id}/restore"),
            Some(json!({"key": format!("post/{a_id}"), "reason": "x"})),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::BAD_REQUEST,
        "both backups share the damaged blob"
    );
}

/// Writes `body` as a page of the hub's own site.
fn write_page(hub: &Hub, rel: &str, body: &str) {
    let path = hub.dir.path().join("site").join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(
        path,
        format!("<!doctype html><html><head><title>Dinas</title></head><body><main>{body}</main></body></html>"),
    )
    .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_static_site_file_is_restored_and_retention_keeps_shared_blobs() {
    let hub = Hub::start().await;
    let admin = hub.login("admin").await;
    hub.hub().office().set_site_backup_policy(SiteBackupPolicy {
        every: None,
        keep: 1,
        keep_days: 0,
        ..SiteBackupPolicy::default()
    });
    write_page(&hub, "profil/index.html", "<p>Profil dinas komunikasi.</p>");
    write_page(&hub, "layanan.html", "<p>Layanan publik.</p>");

    let (s, first) = hub
        .call(&admin, Method::POST, "/targets/1/site-backups", None)
        .await;
    assert_eq!(s, StatusCode::OK, "{first}");
    assert_eq!(first["state"], "verified", "{first}");
    let first_id = first["id"].as_i64().unwrap();
    let (_, d1) = hub
        .call(
            &admin,
            Method::GET,
            &format!("/site-backups/{first_id}"),
            None,
        )
        .await;
    let sha_of = |d: &Value, key: &str| -> String {
        d["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["key"] == key)
            .unwrap_or_else(|| panic!("{key} in {d}"))["sha256"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let old_layanan = sha_of(&d1, "file/layanan.html");
    let profil = sha_of(&d1, "file/profil/index.html");

    // The office changes a page and backs up again: the first backup goes (keep 1), its blob
    // of the old page with it, but the unchanged page's blob, which both name, stays.
    write_page(
        &hub,
        "layanan.html",
        "<p>Layanan publik, jam buka baru.</p>",
    );
    let (_, second) = hub
        .call(&admin, Method::POST, "/targets/1/site-backups", None)
        .await;
    assert_eq!(second["state"], "verified");
    assert_eq!(second["new_blobs"], 1, "only the changed page is new");
    let second_id = second["id"].as_i64().unwrap();
    let (_, list) = hub
        .call(&admin, Method::GET, "/targets/1/site-backups", None)
        .await;
    let ids: Vec<i64> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![second_id]);
    assert!(!hub.blob_path(&old_layanan).exists());
    assert!(hub.blob_path(&profil).exists());
    let (s, _) = hub
        .call(
            &admin,
            Method::POST,
            &format!("/site-backups/{second_id}/verify"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);

    // Defaced: a page changed and a page planted. Restoring the page brings it back, proven
    // by the checks on the live page.
    write_page(
        &hub,
        "profil/index.html",
        "<h1>Hacked by 0x1337</h1><p>slot gacor maxwin</p>",
    );
    write_page(&hub, "promo.html", "<p>bandar togel</p>");
    let (s, report) = hub
        .call(
            &admin,
            Method::POST,
            &format!("/site-backups/{second_id}/restore"),
            Some(json!({"key": "file/profil/index.html", "reason": "Halaman profil dirusak"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{report}");
    let before = kinds(&report["before"]);
    assert!(before.contains(&"defacement".to_string()), "{before:?}");
    assert!(before.contains(&"gambling".to_string()), "{before:?}");
    assert_eq!(kinds(&report["after"]), Vec::<String>::new(), "{report}");
    assert_eq!(report["normal"], true);
    let restored = std::fs::read_to_string(hub.dir.path().join("site/profil/index.html")).unwrap();
    assert!(restored.contains("Profil dinas komunikasi."));
    assert!(hub.dir.path().join("site/promo.html").exists());

    // Everything: the planted page goes.
    let (_, all) = hub
        .call(
            &admin,
            Method::POST,
            &format!("/site-backups/{second_id}/restore"),
            Some(json!({"reason": "Bersihkan halaman tanam"})),
        )
        .await;
    assert!(
        all["actions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["key"] == "file/promo.html" && a["action"] == "removed"),
        "{all}"
    );
    assert!(!hub.dir.path().join("site/promo.html").exists());

    // A webhook website has nothing to read back.
    let (_, t) = hub
        .call(
            &admin,
            Method::POST,
            "/targets",
            Some(
                json!({"name": "CMS", "kind": "webhook", "url": "https://cms.example.invalid/hook",
                        "secret": "kunci-rahasia-123", "enabled": false, "git": false}),
            ),
        )
        .await;
    let (s, e) = hub
        .call(
            &admin,
            Method::POST,
            &format!("/targets/{}/site-backups", t["id"]),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_schedule_backs_up_due_websites() {
    let hub = Hub::start().await;
    write_page(&hub, "index.html", "<p>Beranda.</p>");
    hub.hub().office().set_site_backup_policy(SiteBackupPolicy {
        every: Some(Duration::from_secs(24 * 3600)),
        first_after: Duration::ZERO,
        check_every: Duration::from_secs(3600),
        ..SiteBackupPolicy::default()
    });
    let admin = hub.login("admin").await;
    // Bounded wait for the worker (woken by the policy change).
    let mut found = Value::Null;
    for _ in 0..600 {
        let (_, list) = hub
            .call(&admin, Method::GET, "/targets/1/site-backups", None)
            .await;
        if list
            .as_array()
            .is_some_and(|l| l.iter().any(|b| b["state"] != "running"))
        {
            found = list;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let list = found.as_array().expect("a scheduled backup was made");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["trigger"], "schedule");
    assert_eq!(list[0]["state"], "verified");
    assert_eq!(list[0]["requested_by"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_page_is_restored_to_what_warta_published() {
    let hub = Hub::start().await;
    let admin = hub.login("admin").await;
    // The demo office published one item to the hub's own site.
    let db = rusqlite::Connection::open(hub.dir.path().join("warta.db")).unwrap();
    let (item, url): (i64, String) = db
        .query_row(
            "SELECT item_id, url FROM item_remotes WHERE target_id = 1 LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let page = hub
        .dir
        .path()
        .join("site")
        .join(url.split("/site/").nth(1).unwrap().trim_end_matches('/'));
    let page = if page.is_dir() {
        page.join("index.html")
    } else {
        page
    };
    let original = std::fs::read_to_string(&page).unwrap();
    std::fs::write(&page, "<html><body><h1>Hacked by 0x1337</h1></body></html>").unwrap();

    // The guard watches the published page (enrolled when it was published): checking it now
    // opens an incident.
    let path = format!("/site/{}", url.split("/site/").nth(1).unwrap());
    let (s, e) = hub
        .call(
            &admin,
            Method::PUT,
            "/guard/sites/1",
            Some(json!({"public_url": "", "allowed_domains": [], "allow_private": false, "enabled": true})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{e}");
    let (_, pages) = hub.call(&admin, Method::GET, "/guard/pages", None).await;
    let watched = pages
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["url"].as_str().is_some_and(|u| u.ends_with(&path)))
        .unwrap_or_else(|| panic!("{path} is not watched: {pages}"))
        .clone();
    let (s, check) = hub
        .call(
            &admin,
            Method::POST,
            &format!("/guard/pages/{}/check", watched["id"]),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{check}");
    let (_, incidents) = hub
        .call(&admin, Method::GET, "/guard/incidents?state=open", None)
        .await;
    let incident = incidents
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["page_id"] == watched["id"])
        .unwrap_or_else(|| panic!("no incident for the defaced page: {incidents}"))["id"]
        .as_i64()
        .unwrap();

    // An incident that does not exist, or is about another website, is refused by name and
    // nothing is restored.
    for (bad, says) in [(incident + 1000, "no incident"), (-1, "no incident")] {
        let (s, e) = hub
            .call(
                &admin,
                Method::POST,
                "/targets/1/restore-published",
                Some(json!({"item_id": item, "reason": "Halaman berita dirusak", "incident_id": bad})),
            )
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
        assert_eq!(e["field"], "incident_id", "{e}");
        assert!(e["message"].as_str().unwrap().contains(says), "{e}");
    }
    assert!(
        std::fs::read_to_string(&page)
            .unwrap()
            .contains("Hacked by")
    );

    let (s, r) = hub
        .call(
            &admin,
            Method::POST,
            "/targets/1/restore-published",
            Some(json!({"item_id": item, "reason": "Halaman berita dirusak", "incident_id": incident})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{r}");
    assert_eq!(r["incident_id"], incident);
    assert_eq!(r["scope"], "published");
    assert!(
        kinds(&r["before"]).contains(&"defacement".to_string()),
        "{r}"
    );
    assert_eq!(kinds(&r["after"]), Vec::<String>::new(), "{r}");
    assert_eq!(r["normal"], true);
    let restored = std::fs::read_to_string(&page).unwrap();
    assert!(!restored.contains("Hacked by"));
    assert_eq!(restored, original, "the page is what Warta published");

    // The proof is the incident's evidence, and it resolved the incident.
    let (_, detail) = hub
        .call(
            &admin,
            Method::GET,
            &format!("/guard/incidents/{incident}"),
            None,
        )
        .await;
    assert_eq!(detail["summary"]["state"], "resolved", "{detail}");
    assert_eq!(
        detail["resolution_note"], "Halaman berita dirusak",
        "the restore's reason: {detail}"
    );
    assert_eq!(detail["restores"][0]["id"], r["id"]);
    assert!(
        kinds(&detail["restores"][0]["before"]).contains(&"defacement".to_string()),
        "{detail}"
    );
    assert!(
        hub.audit_kinds()
            .iter()
            .any(|k| k == "guard.incident_resolved")
    );

    // The SOP-B incident the guard opened has the restore report as evidence and on its
    // timeline.
    let (_, list) = hub
        .call(&admin, Method::GET, "/incidents?sop=sop-b&state=all", None)
        .await;
    let sop_b = list
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["guard_incident_id"] == incident)
        .unwrap_or_else(|| panic!("no SOP-B incident for guard incident {incident}: {list}"))["id"]
        .as_i64()
        .unwrap();
    let (_, detail) = hub
        .call(&admin, Method::GET, &format!("/incidents/{sop_b}"), None)
        .await;
    let evidence = detail["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["label"] == "restore")
        .unwrap_or_else(|| panic!("no restore evidence: {detail}"))
        .clone();
    assert_eq!(evidence["filename"], format!("restore-{}.json", r["id"]));
    let url = format!(
        "{}/api/v1/incidents/{sop_b}/evidence/{}/content",
        hub.hub().base_url(),
        evidence["id"]
    );
    let body = reqwest::Client::new()
        .get(url)
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let kept: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(kept["id"], r["id"]);
    assert_eq!(kept["normal"], true);
    assert_eq!(
        sha256_hex(body.as_bytes()),
        evidence["sha256"].as_str().unwrap(),
        "the evidence is what its hash says"
    );
    let (_, timeline) = hub
        .call(
            &admin,
            Method::GET,
            &format!("/incidents/{sop_b}/timeline"),
            None,
        )
        .await;
    assert!(
        timeline
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "incident.restored"),
        "{timeline}"
    );
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}
