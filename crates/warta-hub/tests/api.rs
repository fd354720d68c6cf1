//! Integration tests: a real hub on 127.0.0.1:0 over a temporary SQLite database,
//! driven over HTTP exactly as the desktop app drives it.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use warta_api::{NewUser, Role};
use warta_hub::{FixedClock, HubConfig, RunningHub};

const PW: &str = "password-123";

struct TestHub {
    hub: Option<RunningHub>,
    clock: Arc<FixedClock>,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

/// Friday 24 Oct 2025? No: a fixed, known working day — Monday 23 Nov 2026, 09:00 WITA.
fn wita(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Makassar
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

impl TestHub {
    async fn start() -> TestHub {
        Self::start_with(|_| {}).await
    }

    async fn start_with(adjust: impl FnOnce(&mut HubConfig)) -> TestHub {
        Self::start_inner(adjust, true).await
    }

    async fn start_inner(adjust: impl FnOnce(&mut HubConfig), users: bool) -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(wita(2026, 11, 23, 9, 0)));
        let mut config = HubConfig::solo(dir.path());
        adjust(&mut config);
        let hub = warta_hub::start(config, clock.clone()).await.unwrap();
        let t = TestHub {
            hub: Some(hub),
            clock,
            dir,
            http: reqwest::Client::new(),
        };
        // Holidays are the office's data; tests start from none unless they add some.
        let office = t.hub().office().clone();
        if !users {
            return t;
        }
        tokio::task::spawn_blocking(move || {
            for (name, roles) in [
                ("admin", vec![Role::Admin]),
                ("rina", vec![Role::Reporter]),
                ("rudi", vec![Role::Reporter]),
                ("eko", vec![Role::Editor]),
                ("edi", vec![Role::Editor]),
                ("ibu", vec![Role::Official]),
                ("putu", vec![Role::Publisher]),
            ] {
                office
                    .add_user(
                        None,
                        NewUser {
                            username: name.into(),
                            display_name: format!("{name} display"),
                            password: PW.into(),
                            roles,
                            unit: "Bidang IKP".into(),
                        },
                    )
                    .unwrap();
            }
        })
        .await
        .unwrap();
        t
    }

    fn hub(&self) -> &RunningHub {
        self.hub.as_ref().unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.hub().base_url(), path)
    }

    async fn login(&self, user: &str) -> Session<'_> {
        let r = self
            .http
            .post(self.url("/api/v1/auth/login"))
            .json(&json!({"username": user, "password": PW}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "login {user}");
        let v: Value = r.json().await.unwrap();
        Session {
            t: self,
            token: v["token"].as_str().unwrap().to_string(),
        }
    }

    fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.dir.path().join("warta.db")).unwrap()
    }

    async fn clear_holidays(&self) {
        let admin = self.login("admin").await;
        let (s, _) = admin
            .req(Method::PUT, "/api/v1/holidays", Some(json!([])))
            .await;
        assert_eq!(s, StatusCode::OK);
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(h) = self.hub.take() {
            // Stop the server; the runtime is going away with the test anyway.
            drop(h.shutdown());
        }
    }
}

struct Session<'a> {
    t: &'a TestHub,
    token: String,
}

fn content(title: &str) -> Value {
    json!({"title": title, "summary": "ringkas", "body": "# Judul\n\nParagraf pertama.",
           "category": "Berita", "tags": ["a", "b"], "unit": "Bidang IKP"})
}

/// A small valid PNG photo.
fn png_bytes() -> Vec<u8> {
    let img = image::RgbImage::from_fn(400, 300, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

impl Session<'_> {
    async fn req(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self
            .t
            .http
            .request(method, self.t.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let s = r.status();
        let text = r.text().await.unwrap();
        (
            s,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.req(method.clone(), path, body).await;
        assert!(s.is_success(), "{method} {path}: {s} {v}");
        v
    }

    async fn create(&self, title: &str) -> i64 {
        let v = self
            .ok(Method::POST, "/api/v1/items", Some(content(title)))
            .await;
        v["id"].as_i64().unwrap()
    }

    async fn item(&self, id: i64) -> Value {
        self.ok(Method::GET, &format!("/api/v1/items/{id}"), None)
            .await
    }

    async fn act(&self, id: i64, action: &str, note: Option<&str>) -> (StatusCode, Value) {
        let body = note.map(|n| json!({"note": n})).unwrap_or(json!({}));
        self.req(
            Method::POST,
            &format!("/api/v1/items/{id}/actions/{action}"),
            Some(body),
        )
        .await
    }

    async fn claim(&self, id: i64) -> (StatusCode, Value) {
        self.req(Method::POST, &format!("/api/v1/items/{id}/claim"), None)
            .await
    }

    /// Saves the item's current content (as this user can see it) with a new body.
    async fn save(&self, id: i64, version: i64, body: &str) -> (StatusCode, Value) {
        let (s, current) = self
            .req(Method::GET, &format!("/api/v1/items/{id}"), None)
            .await;
        let mut c = if s.is_success() {
            current["content"].clone()
        } else {
            content("Judul")
        };
        c["body"] = json!(body);
        self.req(
            Method::PUT,
            &format!("/api/v1/items/{id}"),
            Some(json!({"version": version, "content": c})),
        )
        .await
    }

    async fn upload(&self, id: i64, filename: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
        let r = self
            .t
            .http
            .post(self.t.url(&format!("/api/v1/items/{id}/attachments")))
            .query(&[("filename", filename)])
            .bearer_auth(&self.token)
            .header("content-type", "application/octet-stream")
            .body(bytes)
            .send()
            .await
            .unwrap();
        let s = r.status();
        let v = r.json().await.unwrap_or(Value::Null);
        (s, v)
    }
}

fn step(v: &Value) -> &str {
    v["state"]["step"].as_str().unwrap()
}

#[tokio::test]
async fn the_whole_sop_a_path_ends_on_the_local_site() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let eko = t.login("eko").await;
    let ibu = t.login("ibu").await;
    let putu = t.login("putu").await;

    // 1. The reporter collects material.
    let id = rina.create("Banjir di Samarinda").await;
    let d = rina.item(id).await;
    assert_eq!(step(&d), "collect");
    assert_eq!(d["can_edit"], true);
    let (s, att) = rina.upload(id, "foto banjir.png", png_bytes()).await;
    assert_eq!(s, StatusCode::CREATED, "{att}");
    assert_eq!(att["mime"], "image/png");
    assert_eq!(att["kind"], "photo");
    // 2. ...and hands it over.
    let (s, d) = rina.act(id, "submit", None).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(step(&d), "handover");
    assert_eq!(
        d["can_edit"], false,
        "the reporter cannot edit after handing over"
    );

    // 3. The editor claims and revises.
    let tasks = eko.ok(Method::GET, "/api/v1/tasks", None).await;
    assert!(tasks.as_array().unwrap().iter().any(|i| i["id"] == id));
    t.clock.advance(chrono::Duration::minutes(30));
    let (s, d) = eko.claim(id).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(step(&d), "edit");
    assert_eq!(d["lock"]["display_name"], "eko display");
    let (s, d) = eko
        .save(
            id,
            d["version"].as_i64().unwrap(),
            "# Judul\n\nParagraf yang disunting editor.",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(d["version"], 2);
    let (s, d) = eko.act(id, "send_to_official", None).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(step(&d), "review");
    assert!(
        d["lock"].is_null(),
        "leaving the edit step releases the lock"
    );

    // 4. The official reviews the page exactly as it will appear, and approves.
    let p = ibu
        .ok(Method::GET, &format!("/api/v1/items/{id}/preview"), None)
        .await;
    let preview = p["html"].as_str().unwrap();
    assert!(preview.contains("Paragraf yang disunting editor."));
    let signed = att["url"].as_str().unwrap();
    assert!(
        preview.contains(signed),
        "the preview shows the photo: {preview}"
    );
    let r = t.http.get(signed).send().await.unwrap();
    assert_eq!(
        r.headers()["content-type"],
        "image/jpeg",
        "the web rendition"
    );
    // Change the signature's last digit (to one it is not: the same URL would be no forgery).
    let last = if signed.ends_with('0') { '1' } else { '0' };
    let forged = format!("{}{last}", &signed[..signed.len() - 1]);
    assert_eq!(
        t.http.get(&forged).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let (s, d) = ibu.act(id, "approve", None).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(step(&d), "publish");

    // 5. The publisher publishes to the embedded static site.
    let (s, d) = putu.act(id, "publish", None).await;
    assert_eq!(s, StatusCode::OK, "{d}");
    assert_eq!(step(&d), "published");
    assert_eq!(d["state"]["is_final"], true);
    let url = d["published_url"].as_str().unwrap().to_string();
    assert!(url.starts_with(&t.hub().base_url()), "{url}");
    let page = t.http.get(&url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("Banjir di Samarinda"));
    assert!(html.contains("Paragraf yang disunting editor."));
    assert!(!html.contains("<script"));
    // The photo is published beside the page as its web rendition, named by its content hash.
    let media_href = html
        .split("../media/")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the page links its photo")
        .to_string();
    assert!(media_href.ends_with(".jpg"), "{media_href}");
    let media = fetch(&t, &t.url(&format!("/site/media/{media_href}"))).await;
    assert!(media.starts_with(&[0xFF, 0xD8]), "a JPEG rendition");
    assert!(warta_photo::probe(&media).unwrap().metadata.is_empty());
    let index = String::from_utf8(fetch(&t, &t.url("/site/")).await).unwrap();
    assert!(index.contains("Banjir di Samarinda"));

    // Published items list and timeline (read from the audit log).
    let published = rina
        .ok(Method::GET, "/api/v1/items?filter=published", None)
        .await;
    assert_eq!(published[0]["published_url"], url.as_str());
    let tl = rina
        .ok(Method::GET, &format!("/api/v1/items/{id}/timeline"), None)
        .await;
    let kinds: Vec<&str> = tl
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "item.created",
            "item.attached",
            "item.action",
            "item.claimed",
            "item.saved",
            "item.action",
            "item.action",
            "item.action",
            "publish.done",
            "item.published"
        ]
    );
    let actions: Vec<&str> = tl
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        ["submit", "send_to_official", "approve", "publish"]
    );

    // Actual vs standard time: handover took 30 working minutes against 3 h.
    let times = d["step_times"].as_array().unwrap();
    let handover = times.iter().find(|s| s["step"] == "handover").unwrap();
    assert_eq!(handover["actual_minutes"], 30);
    assert_eq!(handover["standard_minutes"], 180);
    assert_eq!(handover["met"], true);

    let admin = t.login("admin").await;
    let report = admin.ok(Method::GET, "/api/v1/audit/verify", None).await;
    assert_eq!(report["intact"], true, "{report}");
}

#[tokio::test]
async fn return_send_back_reject_and_not_publish_branches() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let eko = t.login("eko").await;
    let ibu = t.login("ibu").await;
    let putu = t.login("putu").await;

    async fn to_edit(rina: &Session<'_>, eko: &Session<'_>, title: &str) -> i64 {
        let id = rina.create(title).await;
        assert_eq!(rina.act(id, "submit", None).await.0, StatusCode::OK);
        assert_eq!(eko.claim(id).await.0, StatusCode::OK);
        id
    }

    // Editor returns to the reporter: a note is required.
    let a = to_edit(&rina, &eko, "A").await;
    let (s, e) = eko.act(a, "return_to_reporter", None).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["code"], "validation");
    assert_eq!(e["field"], "note");
    assert_eq!(
        step(&eko.item(a).await),
        "edit",
        "a refused action changes nothing"
    );
    let (s, d) = eko
        .act(a, "return_to_reporter", Some("Tambahkan foto"))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(step(&d), "collect");
    let d = rina.item(a).await;
    assert_eq!(d["can_edit"], true, "the reporter can revise again");
    assert_eq!(rina.act(a, "submit", None).await.0, StatusCode::OK);

    // Official sends back to the editor, who must claim again.
    let b = to_edit(&rina, &eko, "B").await;
    assert_eq!(eko.act(b, "send_to_official", None).await.0, StatusCode::OK);
    assert_eq!(
        ibu.act(b, "send_back", None).await.0,
        StatusCode::BAD_REQUEST
    );
    let (s, d) = ibu.act(b, "send_back", Some("Perbaiki judul")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(step(&d), "edit");
    assert!(d["lock"].is_null());
    let (s, e) = eko.act(b, "send_to_official", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "must claim first: {e}");
    assert_eq!(eko.claim(b).await.0, StatusCode::OK);
    assert_eq!(eko.act(b, "send_to_official", None).await.0, StatusCode::OK);

    // Official rejects with a required reason: final, reason kept.
    let (s, _) = ibu.act(b, "reject", Some("  ")).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "a blank reason is no reason");
    let (s, d) = ibu.act(b, "reject", Some("Tidak sesuai kebijakan")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(step(&d), "rejected");
    assert_eq!(d["outcome_note"], "Tidak sesuai kebijakan");
    let (s, e) = putu.act(b, "publish", None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["code"], "invalid_transition");
    assert_eq!(e["allowed_actions"], json!([]));

    // Publisher records "not published" with the reason.
    let c = to_edit(&rina, &eko, "C").await;
    assert_eq!(eko.act(c, "send_to_official", None).await.0, StatusCode::OK);
    assert_eq!(ibu.act(c, "approve", None).await.0, StatusCode::OK);
    assert_eq!(
        putu.act(c, "not_publish", None).await.0,
        StatusCode::BAD_REQUEST
    );
    let (s, d) = putu.act(c, "not_publish", Some("Sudah kedaluwarsa")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(step(&d), "not_published");
    assert_eq!(d["outcome_note"], "Sudah kedaluwarsa");
    assert!(d["published_url"].is_null());

    // An invalid transition lists what is possible now.
    let e2 = rina.create("D").await;
    let (s, e) = rina.act(e2, "approve", None).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["allowed_actions"], json!(["submit"]));
}

/// The steps an item can be put in for the permission matrix.
const STATES: [&str; 5] = ["collect", "handover", "edit", "review", "publish"];
const USERS: [&str; 7] = ["rina", "rudi", "eko", "edi", "ibu", "putu", "admin"];
const OPS: [&str; 11] = [
    "save",
    "attach",
    "submit",
    "claim",
    "send_to_official",
    "return_to_reporter",
    "approve",
    "reject",
    "send_back",
    "publish",
    "not_publish",
];

/// Who may do what: rina wrote every item; eko holds the lock in `edit`.
fn allowed(state: &str, user: &str, op: &str) -> bool {
    matches!(
        (state, user, op),
        ("collect", "rina", "save" | "attach" | "submit")
            | ("handover", "eko" | "edi", "claim")
            | (
                "edit",
                "eko",
                "save" | "attach" | "claim" | "send_to_official" | "return_to_reporter"
            )
            | ("review", "ibu", "approve" | "reject" | "send_back")
            | ("publish", "putu", "publish" | "not_publish")
    )
}

#[tokio::test]
async fn every_role_and_action_is_enforced_by_the_hub() {
    let t = TestHub::start().await;
    let mut sessions = Vec::new();
    for u in USERS {
        sessions.push((u, t.login(u).await));
    }
    let get = |name: &str| &sessions.iter().find(|(u, _)| *u == name).unwrap().1;
    let refused_before: i64 = t
        .db()
        .query_row(
            "SELECT count(*) FROM audit WHERE kind = 'refused'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let mut expected_refusals = 0;
    let mut checked = 0;
    for state in STATES {
        for user in USERS {
            for op in OPS {
                // A fresh item in `state` for every attempt.
                let id = get("rina").create(&format!("{state} {user} {op}")).await;
                if state != "collect" {
                    assert_eq!(get("rina").act(id, "submit", None).await.0, StatusCode::OK);
                }
                if matches!(state, "edit" | "review" | "publish") {
                    assert_eq!(get("eko").claim(id).await.0, StatusCode::OK);
                }
                if matches!(state, "review" | "publish") {
                    assert_eq!(
                        get("eko").act(id, "send_to_official", None).await.0,
                        StatusCode::OK
                    );
                }
                if state == "publish" {
                    assert_eq!(get("ibu").act(id, "approve", None).await.0, StatusCode::OK);
                }
                let s = get(user);
                let version = get("admin").item(id).await["version"].as_i64().unwrap();
                let status = match op {
                    "save" => s.save(id, version, "changed").await.0,
                    "attach" => s.upload(id, "x.png", png_bytes()).await.0,
                    "claim" => s.claim(id).await.0,
                    action => s.act(id, action, Some("catatan")).await.0,
                };
                let want = allowed(state, user, op);
                assert_eq!(
                    status.is_success(),
                    want,
                    "{user} doing {op} in {state}: got {status}"
                );
                if !want {
                    assert!(
                        [403, 404, 409, 423].contains(&status.as_u16()),
                        "{user} {op} {state}: refusal status {status}"
                    );
                    expected_refusals += 1;
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, STATES.len() * USERS.len() * OPS.len());
    // Every refused attempt is in the audit log (other than 404s for items the reporter may not see).
    let refused_after: i64 = t
        .db()
        .query_row(
            "SELECT count(*) FROM audit WHERE kind = 'refused'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let not_found: i64 = expected_refusals - (refused_after - refused_before);
    assert!(
        not_found >= 0 && not_found <= (STATES.len() * OPS.len()) as i64,
        "refusals audited: {} of {expected_refusals}",
        refused_after - refused_before
    );

    // Admin-only endpoints.
    for user in USERS {
        let s = get(user);
        let (st, _) = s.req(Method::GET, "/api/v1/users", None).await;
        assert_eq!(st.is_success(), user == "admin", "{user} listing users");
        let (st, _) = s.req(Method::GET, "/api/v1/audit/verify", None).await;
        assert_eq!(st.is_success(), user == "admin", "{user} verifying audit");
        let (st, _) = s
            .req(Method::PUT, "/api/v1/holidays", Some(json!([])))
            .await;
        assert_eq!(st.is_success(), user == "admin", "{user} editing holidays");
        let (st, _) = s
            .req(Method::POST, "/api/v1/items", Some(content("new")))
            .await;
        assert_eq!(
            st.is_success(),
            matches!(user, "rina" | "rudi"),
            "{user} creating"
        );
    }
    // No token, no access.
    let r = t.http.get(t.url("/api/v1/tasks")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "unauthenticated");
}

#[tokio::test]
async fn a_stale_save_is_refused_and_overwrites_nothing() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let id = rina.create("Versi").await;
    let (s, d) = rina.save(id, 1, "first save").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(d["version"], 2);
    let (s, e) = rina.save(id, 1, "stale save").await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["code"], "version_conflict");
    assert_eq!(e["current_version"], 2);
    let d = rina.item(id).await;
    assert_eq!(d["content"]["body"], "first save");
    assert_eq!(d["version"], 2);

    // Every save is a revision; any two can be diffed.
    let revs = rina
        .ok(Method::GET, &format!("/api/v1/items/{id}/revisions"), None)
        .await;
    assert_eq!(revs.as_array().unwrap().len(), 2);
    let diff = rina
        .ok(
            Method::GET,
            &format!("/api/v1/items/{id}/diff?from=1&to=2"),
            None,
        )
        .await;
    let body = diff["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["field"] == "body")
        .unwrap();
    assert_eq!(body["changed"], true);
    let inserted: Vec<&str> = body["lines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|l| l["op"] == "insert")
        .map(|l| l["text"].as_str().unwrap())
        .collect();
    assert_eq!(inserted, ["first save"]);
    let (s, _) = rina
        .req(
            Method::GET,
            &format!("/api/v1/items/{id}/diff?from=1&to=9"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // Empty title: clear error, nothing saved.
    let mut c = content("x");
    c["title"] = json!("   ");
    let (s, e) = rina
        .req(
            Method::PUT,
            &format!("/api/v1/items/{id}"),
            Some(json!({"version": 2, "content": c})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(e["field"], "title");
    assert_eq!(rina.item(id).await["version"], 2);
}

#[tokio::test]
async fn edit_locks_show_the_holder_and_admins_can_break_them() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let eko = t.login("eko").await;
    let edi = t.login("edi").await;
    let admin = t.login("admin").await;
    let id = rina.create("Kunci").await;
    rina.act(id, "submit", None).await;
    assert_eq!(eko.claim(id).await.0, StatusCode::OK);
    let (s, e) = edi.claim(id).await;
    assert_eq!(s.as_u16(), 423);
    assert_eq!(e["code"], "locked");
    assert_eq!(e["holder"], "eko display");
    let d = edi.item(id).await;
    assert_eq!(d["lock"]["display_name"], "eko display");
    assert_eq!(d["can_claim"], false);
    // Another editor cannot release it; an admin can break it.
    let (s, _) = edi
        .req(Method::DELETE, &format!("/api/v1/items/{id}/lock"), None)
        .await;
    assert_eq!(s.as_u16(), 423);
    let (s, d) = admin
        .req(Method::DELETE, &format!("/api/v1/items/{id}/lock"), None)
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(d["lock"].is_null());
    assert_eq!(edi.claim(id).await.0, StatusCode::OK);
    let (s, _) = eko.save(id, 1, "eko lost the lock").await;
    assert_eq!(s.as_u16(), 423);
    let tl = admin
        .ok(Method::GET, &format!("/api/v1/items/{id}/timeline"), None)
        .await;
    assert!(
        tl.as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "item.lock_broken")
    );
}

#[tokio::test]
async fn bad_attachments_get_clear_errors_and_leave_nothing_behind() {
    let t = TestHub::start_with(|c| c.max_attachment_bytes = 64 * 1024).await;
    let rina = t.login("rina").await;
    let id = rina.create("Lampiran").await;

    // An executable renamed .pdf is refused by its bytes.
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.resize(4096, 0);
    let (s, e) = rina.upload(id, "laporan.pdf", elf).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");
    assert_eq!(e["code"], "refused_type");
    let (s, e) = rina
        .upload(id, "run.pdf", b"#!/bin/sh\nrm -rf /\n".to_vec())
        .await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");

    // Names with path separators or control characters.
    for bad in [
        "../etc/passwd",
        "a/b.png",
        "a\\b.png",
        "foto\n.png",
        "nul\0.png",
        "",
    ] {
        let (s, e) = rina.upload(id, bad, png_bytes()).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad:?}: {e}");
        assert_eq!(e["code"], "validation");
    }

    // Over the size limit.
    let mut big = png_bytes();
    big.resize(100 * 1024, 7);
    let (s, e) = rina.upload(id, "besar.png", big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert_eq!(e["code"], "too_large");

    // Nothing was recorded, and no refused bytes stay in the blob store.
    assert!(
        rina.item(id).await["attachments"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let blobs = walk_files(&t.dir.path().join("blobs"));
    assert!(blobs.is_empty(), "left behind: {blobs:?}");

    // The same photo twice is stored once.
    assert_eq!(
        rina.upload(id, "a.png", png_bytes()).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        rina.upload(id, "b.png", png_bytes()).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        rina.item(id).await["attachments"].as_array().unwrap().len(),
        2
    );
    assert_eq!(
        walk_files(&t.dir.path().join("blobs")).len(),
        3,
        "one original, one web rendition, one thumbnail"
    );
    // The reporter reads the rendition back; the original is for editors and above.
    let att = &rina.item(id).await["attachments"][0];
    let get = |variant: &str| {
        t.http
            .get(t.url(&format!(
                "/api/v1/attachments/{}/content?variant={variant}",
                att["id"]
            )))
            .bearer_auth(&rina.token)
            .send()
    };
    let r = get("display").await.unwrap();
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    let refused = |t: &TestHub| -> i64 {
        t.db()
            .query_row(
                "SELECT count(*) FROM audit WHERE kind = 'refused'
                 AND json_extract(data, '$.request') = 'attachment.download'",
                [],
                |r| r.get(0),
            )
            .unwrap()
    };
    assert_eq!(refused(&t), 0);
    assert_eq!(
        get("original").await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(refused(&t), 1, "the refused download is audited");
    assert_eq!(
        get("bogus").await.unwrap().status(),
        StatusCode::BAD_REQUEST
    );
    assert!(att["original_url"].is_null());
}

fn walk_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk_files(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[tokio::test]
async fn tampering_with_the_audit_log_is_detected() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let admin = t.login("admin").await;
    let id = rina.create("Audit").await;
    rina.act(id, "submit", None).await;
    assert_eq!(
        admin.ok(Method::GET, "/api/v1/audit/verify", None).await["intact"],
        true
    );
    let seq: i64 = t
        .db()
        .query_row(
            "SELECT seq FROM audit WHERE kind = 'item.action' AND item_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    // Someone rewrites who submitted the item.
    t.db()
        .execute("UPDATE audit SET actor = 'rudi' WHERE seq = ?1", [seq])
        .unwrap();
    let r = admin.ok(Method::GET, "/api/v1/audit/verify", None).await;
    assert_eq!(r["intact"], false);
    assert_eq!(r["first_bad"], seq);
    // Deleting a row is detected too.
    t.db()
        .execute("UPDATE audit SET actor = 'rina' WHERE seq = ?1", [seq])
        .unwrap();
    assert_eq!(
        admin.ok(Method::GET, "/api/v1/audit/verify", None).await["intact"],
        true
    );
    t.db()
        .execute("DELETE FROM audit WHERE seq = 2", [])
        .unwrap();
    let r = admin.ok(Method::GET, "/api/v1/audit/verify", None).await;
    assert_eq!(r["intact"], false);
    assert_eq!(r["first_bad"], 3);
}

#[tokio::test]
async fn due_times_follow_the_sop_calendar_and_queues_sort_by_them() {
    let t = TestHub::start().await;
    t.clear_holidays().await;
    let rina = t.login("rina").await;
    let eko = t.login("eko").await;

    // Friday 20 Nov 2026, 11:00 WITA: a 3 h handover runs out Monday 10:30 (Friday closes 11:30).
    t.clock.set(wita(2026, 11, 20, 11, 0));
    let late = rina.create("Jumat").await;
    let (_, d) = rina.act(late, "submit", None).await;
    assert_eq!(
        d["state"]["due_at"].as_str().unwrap(),
        wita(2026, 11, 23, 10, 30).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
    );
    // Monday 08:00: submitted now, due 11:00 the same day — earlier than nothing, later than Friday's.
    t.clock.set(wita(2026, 11, 23, 8, 0));
    let early = rina.create("Senin").await;
    rina.act(early, "submit", None).await;
    let tasks = eko.ok(Method::GET, "/api/v1/tasks", None).await;
    let order: Vec<i64> = tasks
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(order, [late, early]);
    assert_eq!(tasks[0]["state"]["overdue"], false);
    // Monday 10:31: Friday's item is overdue, Monday's is not.
    t.clock.set(wita(2026, 11, 23, 10, 31));
    let tasks = eko.ok(Method::GET, "/api/v1/tasks", None).await;
    assert_eq!(tasks[0]["state"]["overdue"], true);
    assert_eq!(tasks[1]["state"]["overdue"], false);

    // A holiday the admin adds moves later due times past it.
    let admin = t.login("admin").await;
    admin
        .ok(
            Method::PUT,
            "/api/v1/holidays",
            Some(json!([{"date": "2026-11-30", "name": "Cuti bersama"}])),
        )
        .await;
    t.clock.set(wita(2026, 11, 27, 11, 0)); // Friday again; sessions last 12 h
    let rina = t.login("rina").await;
    let admin = t.login("admin").await;
    let h = rina.create("Libur").await;
    let (_, d) = rina.act(h, "submit", None).await;
    assert_eq!(
        d["state"]["due_at"].as_str().unwrap(),
        wita(2026, 12, 1, 10, 30).to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        "Monday 30 Nov is a holiday, so Tuesday"
    );
    // Bad holiday input is refused and the list kept.
    let (s, e) = admin
        .req(
            Method::PUT,
            "/api/v1/holidays",
            Some(json!([{"date": "30/11/2026", "name": "x"}])),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{e}");
    let list = admin.ok(Method::GET, "/api/v1/holidays", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn first_run_set_up_login_failures_and_rendering() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(wita(2026, 11, 23, 9, 0)));
    let hub = warta_hub::start(HubConfig::solo(dir.path()), clock)
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let base = hub.base_url();
    let st: Value = http
        .get(format!("{base}/api/v1/setup"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(st["needs_admin"], true);
    let r = http
        .post(format!("{base}/api/v1/setup"))
        .json(&json!({"username": "kepala", "display_name": "Kepala", "password": "short"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = http
        .post(format!("{base}/api/v1/setup"))
        .json(&json!({"username": "kepala", "display_name": "Kepala", "password": "long-enough-1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["user"]["roles"], json!(["admin"]));
    let token = v["token"].as_str().unwrap().to_string();
    let r = http
        .post(format!("{base}/api/v1/setup"))
        .json(&json!({"username": "x", "display_name": "X", "password": "long-enough-2"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);

    let r = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "kepala", "password": "wrong-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "bad_credentials");

    let r: Value = http
        .post(format!("{base}/api/v1/render"))
        .bearer_auth(&token)
        .json(&json!({"markdown": "# Hi\n\n<script>alert(1)</script>[x](javascript:alert(1))"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let html = r["html"].as_str().unwrap();
    assert!(html.contains("<h1>Hi</h1>"), "{html}");
    assert!(!html.contains("<script"));
    assert!(!html.contains("href=\"javascript"));

    // Logout revokes the token.
    let r = http
        .post(format!("{base}/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = http
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    let conn = rusqlite::Connection::open(dir.path().join("warta.db")).unwrap();
    let kinds: Vec<String> = conn
        .prepare("SELECT kind FROM audit ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        kinds,
        [
            "user.added",
            "auth.login",
            "auth.login_failed",
            "auth.logout"
        ],
        "set-up, its login, the failed login, the sign-out"
    );
    hub.shutdown().await;
}

#[tokio::test]
async fn the_demo_office_has_one_user_per_role_and_items_in_each_step() {
    let t = TestHub::start_inner(|c| c.demo = true, false).await;
    let r = t
        .http
        .post(t.url("/api/v1/auth/login"))
        .json(&json!({"username": "admin", "password": warta_hub::DEMO_PASSWORD}))
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let admin = Session {
        t: &t,
        token: v["token"].as_str().unwrap().into(),
    };
    let items = admin
        .ok(Method::GET, "/api/v1/items?filter=all", None)
        .await;
    let mut steps: Vec<&str> = items.as_array().unwrap().iter().map(step).collect();
    steps.sort();
    assert_eq!(
        steps,
        [
            "collect",
            "edit",
            "handover",
            "publish",
            "published",
            "review"
        ]
    );
    let users = admin.ok(Method::GET, "/api/v1/users", None).await;
    let mut names: Vec<&str> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    names.sort();
    // One per SOP-A role, and one per role of the incident SOPs (SOP-D, SOP-B).
    assert_eq!(
        names,
        [
            "admin",
            "aptika",
            "editor",
            "kabid",
            "kabid.aptika",
            "kasi",
            "official",
            "pemeriksa",
            "publisher",
            "reporter",
            "teknisi",
            "webteam"
        ]
    );
    for sop in ["sop-d", "sop-b"] {
        let roles = admin
            .ok(Method::GET, &format!("/api/v1/sops/{sop}/roles"), None)
            .await;
        for r in roles["roles"].as_array().unwrap() {
            assert_eq!(r["users"].as_array().unwrap().len(), 1, "{sop}: {r}");
        }
    }
    // The published demo item is on the local site.
    let index = String::from_utf8(fetch(&t, &t.url("/site/")).await).unwrap();
    assert!(index.contains("Pemprov raih penghargaan keterbukaan informasi"));
}

#[tokio::test]
async fn admins_check_sop_definitions_before_adopting_them() {
    let t = TestHub::start().await;
    let admin = t.login("admin").await;
    let good = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../sops/sop-d.toml"
    ))
    .unwrap();
    let r = admin
        .ok(
            Method::POST,
            "/api/v1/sops/check",
            Some(json!({"source": "sop-d.toml", "text": good})),
        )
        .await;
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(
        r["sop"]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["is_final"] == false)
            .count(),
        12
    );
    let bad = good.replacen("time = ", "# time = ", 1);
    let r = admin
        .ok(
            Method::POST,
            "/api/v1/sops/check",
            Some(json!({"source": "mine.toml", "text": bad})),
        )
        .await;
    assert_eq!(r["ok"], false);
    let first = r["problems"][0].as_str().unwrap();
    assert!(first.starts_with("mine.toml: step \""), "{first}");
    assert!(first.contains("time"), "{first}");
    let rina = t.login("rina").await;
    let (s, _) = rina
        .req(
            Method::POST,
            "/api/v1/sops/check",
            Some(json!({"source": "x", "text": ""})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let all = rina.ok(Method::GET, "/api/v1/sops", None).await;
    let ids: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["sop-a", "sop-b", "sop-c", "sop-d"]);
}

// ------------------------------------------------------------------ media ingest

/// A natural-ish photo: gradients and a seeded pattern, JPEG-encoded.
fn photo_jpeg(w: u32, h: u32, seed: u32, quality: u8) -> Vec<u8> {
    // Big blocks whose layout depends on the seed dominate what a perceptual hash sees.
    let (bw, bh) = (w / (3 + seed % 5), h / (2 + seed % 3));
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        let block = ((x / bw) * 7 + (y / bh) * 3 + seed) % 4;
        let base = [30u8, 90, 160, 230][block as usize];
        // A smooth ramp on top, so neighbouring cells never tie.
        let ramp = (x * 40 / w + y * 20 / h) as u8;
        image::Rgb([base.saturating_add(ramp), base, 255 - base])
    });
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&img)
        .unwrap();
    out
}

/// Inserts EXIF (orientation + a GPS IFD), XMP and a comment right after SOI.
fn with_metadata(jpeg: &[u8]) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"II*\0");
    tiff.extend_from_slice(&8u32.to_le_bytes());
    // IFD0: 2 entries.
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&0x0112u16.to_le_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&0x8825u16.to_le_bytes()); // GPS IFD pointer
    tiff.extend_from_slice(&4u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&38u32.to_le_bytes());
    tiff.extend_from_slice(&0u32.to_le_bytes());
    // GPS IFD at 38: GPSLatitudeRef = "S".
    tiff.extend_from_slice(&1u16.to_le_bytes());
    tiff.extend_from_slice(&0x0001u16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&2u32.to_le_bytes());
    tiff.extend_from_slice(b"S\0\0\0");
    tiff.extend_from_slice(&0u32.to_le_bytes());
    let seg = |marker: u8, body: &[u8], out: &mut Vec<u8>| {
        out.extend_from_slice(&[0xFF, marker]);
        out.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(body);
    };
    let mut out = vec![0xFF, 0xD8];
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend_from_slice(&tiff);
    seg(0xE1, &exif, &mut out);
    seg(
        0xE1,
        b"http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>GPSLatitude 0,30S</x:xmpmeta>",
        &mut out,
    );
    seg(0xFE, b"camera serial 1234567", &mut out);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn jpeg_size(bytes: &[u8]) -> (u32, u32) {
    let img = image::load_from_memory(bytes).unwrap();
    (img.width(), img.height())
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A PNG whose header declares 50000 x 50000 pixels (and nothing else).
fn png_bomb() -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    out.extend_from_slice(&13u32.to_be_bytes());
    out.extend_from_slice(&ihdr);
    out.extend_from_slice(&crc32(&ihdr).to_be_bytes());
    out
}

async fn fetch(t: &TestHub, url: &str) -> Vec<u8> {
    let r = t.http.get(url).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{url}");
    r.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn photos_are_made_safe_and_light_and_originals_are_for_editors() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let eko = t.login("eko").await;
    let id = rina.create("Foto lapangan").await;
    let original = with_metadata(&photo_jpeg(2400, 1800, 1, 92));
    let (s, att) = rina.upload(id, "IMG_0001.JPG", original.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{att}");
    assert_eq!(att["kind"], "photo");
    assert_eq!(
        (att["width"].as_u64(), att["height"].as_u64()),
        (Some(1600), Some(1200))
    );
    assert!(
        att["original_url"].is_null(),
        "reporters do not get originals"
    );

    let web = fetch(&t, att["url"].as_str().unwrap()).await;
    assert_eq!(jpeg_size(&web), (1600, 1200));
    let thumb = fetch(&t, att["thumb_url"].as_str().unwrap()).await;
    assert_eq!(jpeg_size(&thumb), (320, 240));
    for (name, bytes) in [("web", &web), ("thumb", &thumb)] {
        assert!(
            warta_photo::probe(bytes).unwrap().metadata.is_empty(),
            "{name}"
        );
        let text = String::from_utf8_lossy(bytes);
        assert!(
            !text.contains("xmpmeta") && !text.contains("serial"),
            "{name} leaks metadata"
        );
    }
    // Editors see the untouched original.
    let d = eko.item(id).await;
    let orig_url = d["attachments"][0]["original_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(fetch(&t, &orig_url).await, original);
}

#[tokio::test]
async fn near_duplicate_photos_are_flagged() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let first = rina.create("Pertama").await;
    let second = rina.create("Kedua").await;
    let (_, a) = rina
        .upload(first, "a.jpg", photo_jpeg(1200, 900, 5, 90))
        .await;
    assert!(a["similar_to"].is_null());
    // The same scene, smaller and more compressed, in another item.
    let (_, b) = rina
        .upload(second, "a-kecil.jpg", photo_jpeg(800, 600, 5, 55))
        .await;
    assert_eq!(b["similar_to"]["item_id"], first, "{b}");
    assert_eq!(b["similar_to"]["filename"], "a.jpg");
    // A different photo is not flagged.
    let (_, c) = rina
        .upload(second, "lain.jpg", photo_jpeg(1200, 900, 77, 90))
        .await;
    assert!(c["similar_to"].is_null(), "{c}");
}

#[tokio::test]
async fn unusable_photos_are_refused_and_leave_nothing_behind() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let id = rina.create("Rusak").await;
    let good = photo_jpeg(640, 480, 3, 85);
    let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
    elf.resize(2048, 0);
    for (name, bytes) in [
        ("kosong.jpg", Vec::new()),
        ("terpotong.jpg", good[..good.len() / 3].to_vec()),
        ("bom.png", png_bomb()),
        ("program.jpg", elf),
    ] {
        let (s, e) = rina.upload(id, name, bytes).await;
        assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{name}: {e}");
        assert_eq!(e["code"], "refused_type", "{name}");
        assert!(
            e["message"].as_str().unwrap().len() > 20,
            "{name}: a clear message: {e}"
        );
    }
    let (_, e) = rina.upload(id, "bom.png", png_bomb()).await;
    assert!(e["message"].as_str().unwrap().contains("50000"), "{e}");
    assert!(
        rina.item(id).await["attachments"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let left = walk_files(&t.dir.path().join("blobs"));
    assert!(left.is_empty(), "left behind: {left:?}");
}

#[tokio::test]
async fn an_office_that_keeps_no_originals_stores_only_renditions() {
    let t = TestHub::start().await;
    let admin = t.login("admin").await;
    let rina = t.login("rina").await;
    let eko = t.login("eko").await;
    let mut s = admin.ok(Method::GET, "/api/v1/settings/media", None).await;
    assert_eq!(s["keep_originals"], true);
    s["keep_originals"] = json!(false);
    s["web_max"] = json!(1024);
    admin
        .ok(Method::PUT, "/api/v1/settings/media", Some(s.clone()))
        .await;
    let id = rina.create("Tanpa asli").await;
    let (_, att) = rina
        .upload(id, "x.jpg", photo_jpeg(2000, 1000, 9, 90))
        .await;
    assert_eq!(att["width"], 1024);
    assert!(eko.item(id).await["attachments"][0]["original_url"].is_null());
    assert_eq!(
        walk_files(&t.dir.path().join("blobs")).len(),
        2,
        "web and thumbnail only"
    );

    // Settings are the admin's, and bad values are refused with the field named.
    let (st, _) = rina
        .req(Method::PUT, "/api/v1/settings/media", Some(s.clone()))
        .await;
    assert_eq!(st, StatusCode::FORBIDDEN);
    s["web_max"] = json!(10);
    let (st, e) = admin
        .req(Method::PUT, "/api/v1/settings/media", Some(s))
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(e["field"], "web_max");
    assert_eq!(
        admin.ok(Method::GET, "/api/v1/settings/media", None).await["web_max"],
        1024
    );
}

#[tokio::test]
async fn renditions_made_on_the_laptop_are_checked_then_attached() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let eko = t.login("eko").await;
    let id = rina.create("Dari laptop").await;
    let original = with_metadata(&photo_jpeg(3000, 2000, 11, 90));
    let r = warta_photo::process(&original, &warta_photo::PhotoConfig::default()).unwrap();
    let sha = |b: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    };
    let put = |bytes: Vec<u8>, name: String| {
        t.http
            .put(t.url(&format!("/api/v1/blobs/{name}")))
            .bearer_auth(&rina.token)
            .body(bytes)
            .send()
    };
    let head = |name: String| {
        t.http
            .head(t.url(&format!("/api/v1/blobs/{name}")))
            .bearer_auth(&rina.token)
            .send()
    };
    let (web_sha, thumb_sha) = (sha(&r.web.bytes), sha(&r.thumb.bytes));
    assert_eq!(
        head(web_sha.clone()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        put(r.web.bytes.clone(), web_sha.clone())
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    assert_eq!(
        head(web_sha.clone()).await.unwrap().status(),
        StatusCode::OK
    );
    // Bytes that do not hash to their name are discarded.
    let wrong = put(b"not the thumbnail".to_vec(), thumb_sha.clone())
        .await
        .unwrap();
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        head(thumb_sha.clone()).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let prepared = json!({
        "filename": "IMG_2000.JPG", "original_sha256": sha(&original), "original_size": original.len(),
        "original_sent": false, "web_sha256": web_sha, "thumb_sha256": thumb_sha,
        "phash": format!("{:016x}", r.phash),
    });
    let path = format!("/api/v1/items/{id}/attachments/prepared");
    let (s, e) = rina.req(Method::POST, &path, Some(prepared.clone())).await;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(e["code"], "missing_blob");
    assert_eq!(
        put(r.thumb.bytes.clone(), thumb_sha.clone())
            .await
            .unwrap()
            .status(),
        StatusCode::CREATED
    );
    let (s, att) = rina.req(Method::POST, &path, Some(prepared)).await;
    assert_eq!(s, StatusCode::CREATED, "{att}");
    assert_eq!(att["sha256"], sha(&original));
    assert_eq!(
        (att["width"].as_u64(), att["height"].as_u64()),
        (Some(1600), Some(1067))
    );
    assert!(
        eko.item(id).await["attachments"][0]["original_url"].is_null(),
        "never sent"
    );

    // A "rendition" that still carries EXIF/GPS is refused and removed.
    let dirty = with_metadata(&r.thumb.bytes);
    let dirty_sha = sha(&dirty);
    put(dirty, dirty_sha.clone()).await.unwrap();
    let bad = json!({
        "filename": "b.jpg", "original_sha256": sha(b"x"), "original_size": 1, "original_sent": false,
        "web_sha256": web_sha, "thumb_sha256": dirty_sha, "phash": "0000000000000000",
    });
    let (s, e) = rina.req(Method::POST, &path, Some(bad)).await;
    assert_eq!(s, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{e}");
    assert!(e["message"].as_str().unwrap().contains("metadata"), "{e}");
    assert_eq!(
        head(dirty_sha).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        head(web_sha).await.unwrap().status(),
        StatusCode::OK,
        "still used by the first photo"
    );

    // Officials cannot upload blobs at all.
    let ibu = t.login("ibu").await;
    let r = t
        .http
        .put(t.url(&format!("/api/v1/blobs/{}", sha(b"z"))))
        .bearer_auth(&ibu.token)
        .body("z")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

fn small_pdf(padding: usize) -> Vec<u8> {
    let mut pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n\
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >> endobj\n"
        .to_vec();
    for _ in 0..padding / 64 {
        pdf.extend_from_slice(&[b'%'; 63]);
        pdf.push(b'\n');
    }
    pdf.extend_from_slice(b"trailer << /Root 1 0 R >>\n%%EOF\n");
    pdf
}

#[tokio::test]
async fn documents_have_their_own_size_limit_and_a_page_count() {
    let t = TestHub::start().await;
    let admin = t.login("admin").await;
    let rina = t.login("rina").await;
    let mut s = admin.ok(Method::GET, "/api/v1/settings/media", None).await;
    assert_eq!(s["max_document_bytes"], 200 * 1024 * 1024);
    s["max_document_bytes"] = json!(1024 * 1024);
    admin
        .ok(Method::PUT, "/api/v1/settings/media", Some(s))
        .await;
    let id = rina.create("Laporan").await;
    let (st, att) = rina.upload(id, "laporan.pdf", small_pdf(0)).await;
    assert_eq!(st, StatusCode::CREATED, "{att}");
    assert_eq!(att["kind"], "document");
    assert_eq!(att["pages"], 1);
    let (st, e) = rina
        .upload(id, "besar.pdf", small_pdf(2 * 1024 * 1024))
        .await;
    assert_eq!(st, StatusCode::PAYLOAD_TOO_LARGE, "{e}");
    assert_eq!(e["code"], "too_large");
    assert_eq!(
        rina.item(id).await["attachments"].as_array().unwrap().len(),
        1
    );
    // Photos are not held to the document limit.
    let mut photo = photo_jpeg(1600, 1200, 4, 100);
    photo.splice(2..2, {
        // A large comment segment (stripped from renditions) makes the file bigger than 1 MB.
        let mut com = Vec::new();
        for _ in 0..20 {
            com.extend_from_slice(&[0xFF, 0xFE, 0xFF, 0xFF]);
            com.extend(std::iter::repeat_n(b'x', 0xFFFD));
        }
        com
    });
    assert!(photo.len() > 1024 * 1024);
    let (st, e) = rina.upload(id, "foto.jpg", photo).await;
    assert_eq!(st, StatusCode::CREATED, "{e}");
}

#[tokio::test]
async fn sign_ins_are_throttled_per_account_and_per_address_and_audited() {
    let t = TestHub::start().await;
    let login = |user: &'static str, password: &'static str| {
        let http = t.http.clone();
        let url = t.url("/api/v1/auth/login");
        async move {
            let r = http
                .post(url)
                .json(&json!({"username": user, "password": password}))
                .send()
                .await
                .unwrap();
            let status = r.status();
            (status, r.json::<Value>().await.unwrap())
        }
    };
    // Four wrong passwords, then the right one: accepted, and the count starts again.
    for _ in 0..4 {
        assert_eq!(login("eko", "salah").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(login("eko", PW).await.0, StatusCode::OK);
    // Five wrong passwords: now even the right one is refused, with the wait in seconds.
    for _ in 0..5 {
        assert_eq!(login("eko", "salah").await.0, StatusCode::UNAUTHORIZED);
    }
    let (s, e) = login("eko", PW).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{e}");
    assert_eq!(e["code"], "too_many_attempts");
    let wait = e["retry_after_secs"].as_i64().unwrap();
    assert!((1..=15 * 60).contains(&wait), "{wait}");
    // Another account is not affected.
    assert_eq!(login("rina", PW).await.0, StatusCode::OK);
    // After the window, the account can sign in again.
    t.clock.advance(chrono::Duration::seconds(wait + 1));
    assert_eq!(login("eko", PW).await.0, StatusCode::OK);

    // One address trying many accounts is stopped too (20 failures in the window).
    t.clock.advance(chrono::Duration::minutes(16));
    for i in 0..20 {
        let user = ["rudi", "edi", "ibu", "putu"][i % 4];
        assert_eq!(login(user, "salah").await.0, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        login("admin", PW).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the address is throttled, whatever the account"
    );

    // Every failure and refusal is in the audit log, with the address.
    let db = t.db();
    let (throttled, with_address): (i64, i64) = db
        .query_row(
            "SELECT COUNT(*), COUNT(json_extract(data, '$.address')) FROM audit
             WHERE kind = 'auth.login_throttled'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(throttled, 2);
    assert_eq!(with_address, 2);
    let failed: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE kind = 'auth.login_failed'
             AND json_extract(data, '$.address') = '127.0.0.1'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(failed, 29);
}

async fn search(s: &Session<'_>, q: &str) -> (StatusCode, Value) {
    let path = format!(
        "/api/v1/items?q={}",
        q.replace(' ', "%20").replace('"', "%22")
    );
    s.req(Method::GET, &path, None).await
}

#[tokio::test]
async fn search_finds_words_anywhere_only_in_items_the_caller_may_see_and_pages() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let rudi = t.login("rudi").await;
    let eko = t.login("eko").await;
    let ids_of = |v: &Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_i64().unwrap())
            .collect()
    };

    let bridge = rina.create("Peresmian jembatan Mahakam").await;
    let mut flood = content("Tanggap darurat");
    flood["body"] = json!("Warga terdampak **banjir** di Samarinda menerima bantuan.");
    flood["tags"] = json!(["bencana", "e-government"]);
    let flood = rina.ok(Method::POST, "/api/v1/items", Some(flood)).await["id"]
        .as_i64()
        .unwrap();

    // Title, body and tags are searched; every word must match; a trailing * is a prefix.
    let (s, v) = search(&rina, "jembatan").await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(ids_of(&v), vec![bridge]);
    assert_eq!(
        ids_of(&search(&rina, "BANJIR samarinda").await.1),
        vec![flood]
    );
    assert_eq!(
        ids_of(&search(&rina, "banjir jembatan").await.1),
        Vec::<i64>::new()
    );
    assert_eq!(ids_of(&search(&rina, "Samarin*").await.1), vec![flood]);
    assert_eq!(ids_of(&search(&rina, "bencana").await.1), vec![flood]);
    assert_eq!(ids_of(&search(&rina, "e-government").await.1), vec![flood]);
    // Search syntax typed by a person is text, never an error from the index.
    assert_eq!(
        search(&rina, "NEAR(jembatan) OR \"").await.0,
        StatusCode::OK
    );

    // Another reporter does not find a draft that is not theirs; an editor does.
    assert_eq!(
        ids_of(&search(&rudi, "jembatan").await.1),
        Vec::<i64>::new()
    );
    assert_eq!(ids_of(&search(&eko, "jembatan").await.1), vec![bridge]);

    // A saved revision is what is searched from then on.
    let version = rina.item(bridge).await["version"].as_i64().unwrap();
    let (s, v) = rina
        .save(bridge, version, "Jembatan baru di Tenggarong.")
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(ids_of(&search(&rina, "tenggarong").await.1), vec![bridge]);
    assert_eq!(
        ids_of(&search(&rina, "mahakam").await.1),
        vec![bridge],
        "title kept"
    );

    // Lists come a page at a time, newest first.
    for n in 0..5 {
        rina.create(&format!("Rapat koordinasi {n}")).await;
    }
    let first = rina
        .ok(Method::GET, "/api/v1/items?filter=mine&limit=3", None)
        .await;
    let second = rina
        .ok(
            Method::GET,
            "/api/v1/items?filter=mine&limit=3&offset=3",
            None,
        )
        .await;
    let (a, b) = (ids_of(&first), ids_of(&second));
    assert_eq!(a.len(), 3);
    assert_eq!(b.len(), 3);
    assert!(a.iter().all(|x| !b.contains(x)));
    let rapat = ids_of(&search(&rina, "rapat").await.1);
    assert_eq!(rapat.len(), 5);
    assert!(
        rapat.windows(2).all(|w| w[0] > w[1]),
        "newest first: {rapat:?}"
    );

    // Bad input is a clear 400.
    for bad in [
        "q=***",
        "limit=0",
        "limit=100000",
        "offset=-1",
        "filter=nope",
    ] {
        let (s, v) = rina
            .req(Method::GET, &format!("/api/v1/items?{bad}"), None)
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {v}");
        assert_eq!(v["code"], "validation", "{bad}: {v}");
    }
    // A blank search is no search.
    assert_eq!(ids_of(&search(&rina, "  ").await.1).len(), 7);
}

#[tokio::test]
async fn concurrent_writes_committed_in_groups_all_land_and_refusals_stay_out() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let ibu = t.login("ibu").await;
    let draft = rina.create("Draf bersama").await;
    // Many requests at once: they share commits (group commit); each must land or fail alone.
    let mut creates = Vec::new();
    let mut refused = Vec::new();
    let mut reads = Vec::new();
    for n in 0..32 {
        creates.push(rina.req(
            Method::POST,
            "/api/v1/items",
            Some(content(&format!("Serentak {n}"))),
        ));
    }
    for _ in 0..12 {
        // An official cannot approve a draft still being collected: refused, and audited.
        refused.push(ibu.act(draft, "approve", None));
    }
    for _ in 0..12 {
        reads.push(rina.req(Method::GET, "/api/v1/items?filter=mine", None));
    }
    let (creates, refused, reads) = tokio::join!(
        futures_util::future::join_all(creates),
        futures_util::future::join_all(refused),
        futures_util::future::join_all(reads),
    );
    let mut ids = Vec::new();
    for (s, v) in creates {
        assert_eq!(s, StatusCode::CREATED, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    for (s, v) in refused {
        assert!(s.is_client_error(), "{s} {v}");
    }
    for (s, v) in reads {
        assert_eq!(s, StatusCode::OK, "{v}");
    }
    // Everything answered as done is in the database (read from another connection), once.
    let db = t.db();
    for id in &ids {
        let title: String = db
            .query_row("SELECT title FROM items WHERE id = ?1", [id], |r| r.get(0))
            .unwrap();
        assert!(title.starts_with("Serentak "), "{title}");
    }
    let n: i64 = db
        .query_row(
            "SELECT count(*) FROM items WHERE title LIKE 'Serentak %'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 32);
    let created: i64 = db
        .query_row(
            "SELECT count(*) FROM audit WHERE kind = 'item.created'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(created, 33);
    let admin = t.login("admin").await;
    let report = admin.ok(Method::GET, "/api/v1/audit/verify", None).await;
    assert_eq!(report["intact"], true, "{report}");
    let draft_now = rina.item(draft).await;
    assert_eq!(step(&draft_now), "collect", "refusals changed nothing");
}

/// A write answered over HTTP is committed before the answer leaves: the thread that ran it
/// does not wait for its group's COMMIT (the request waits without a thread), so each answer
/// is checked on arrival, from another connection, while the other writes are still in flight.
#[tokio::test]
async fn every_write_is_committed_when_its_answer_arrives() {
    use rusqlite::OptionalExtension as _;
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let path = t.dir.path().join("warta.db");
    let mut creates = Vec::new();
    for n in 0..48 {
        let (rina, path) = (&rina, path.clone());
        creates.push(async move {
            let (s, v) = rina
                .req(
                    Method::POST,
                    "/api/v1/items",
                    Some(content(&format!("Segera {n}"))),
                )
                .await;
            assert_eq!(s, StatusCode::CREATED, "{v}");
            let id = v["id"].as_i64().unwrap();
            let seen: Option<String> = rusqlite::Connection::open(&path)
                .unwrap()
                .query_row("SELECT title FROM items WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .unwrap();
            assert_eq!(
                seen.as_deref(),
                Some(format!("Segera {n}").as_str()),
                "item {id}"
            );
        });
    }
    futures_util::future::join_all(creates).await;
}

impl Session<'_> {
    async fn create_with_key(&self, key: &str, title: &str) -> (StatusCode, Value) {
        let r = self
            .t
            .http
            .post(self.t.url("/api/v1/items"))
            .bearer_auth(&self.token)
            .header("Idempotency-Key", key)
            .json(&content(title))
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

#[tokio::test]
async fn a_create_repeated_with_its_idempotency_key_makes_one_item() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let rudi = t.login("rudi").await;
    let key = "7f1c2a64-3b9e-4f3a-9d7e-2a1b0c9d8e7f";

    let (s, first) = rina.create_with_key(key, "Dari kecamatan").await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let id = first["id"].as_i64().unwrap();
    // The answer was lost; the outbox sends the same entry again (even with edited text).
    let (s, again) = rina.create_with_key(key, "Dari kecamatan (ulang)").await;
    assert_eq!(s, StatusCode::OK, "{again}");
    assert_eq!(again["id"].as_i64(), Some(id));
    assert_eq!(again["content"]["title"], "Dari kecamatan");
    // After the item moved on, a repeat still returns it as it is now, not a new draft.
    assert_eq!(rina.act(id, "submit", None).await.0, StatusCode::OK);
    let (s, later) = rina.create_with_key(key, "Dari kecamatan").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(later["id"].as_i64(), Some(id));
    assert_eq!(step(&later), "handover");

    // Keys belong to their author: the same key from someone else is a new item.
    let (s, other) = rudi.create_with_key(key, "Dari kecamatan").await;
    assert_eq!(s, StatusCode::CREATED);
    assert_ne!(other["id"].as_i64(), Some(id));
    // Without a key every create is a new item.
    assert_ne!(
        rina.create("Tanpa kunci").await,
        rina.create("Tanpa kunci").await
    );

    let (s, bad) = rina
        .create_with_key(&"k".repeat(129), "Terlalu panjang")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}");
    assert_eq!(bad["field"], "Idempotency-Key");
    let (s, _) = rina.create_with_key("dua kata", "Spasi").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    let made: i64 = t
        .db()
        .query_row(
            "SELECT count(*) FROM items WHERE title LIKE 'Dari kecamatan%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(made, 2, "one item for rina's key, one for rudi's");
    let created: i64 = t
        .db()
        .query_row(
            "SELECT count(*) FROM audit WHERE kind = 'item.created' AND item_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(created, 1, "the repeats are not audited as creates");
}

#[tokio::test]
async fn knowing_a_files_digest_is_not_enough_to_attach_someone_elses_file() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let rudi = t.login("rudi").await;
    let rinas = rina.create("Foto Rina").await;
    let rudis = rudi.create("Berita Rudi").await;
    let original = photo_jpeg(2400, 1600, 5, 90);
    let r = warta_photo::process(&original, &warta_photo::PhotoConfig::default()).unwrap();
    let sha = |b: &[u8]| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(b))
    };
    let (web_sha, thumb_sha) = (sha(&r.web.bytes), sha(&r.thumb.bytes));
    let put = |who: &Session<'_>, bytes: Vec<u8>, name: &str| {
        t.http
            .put(t.url(&format!("/api/v1/blobs/{name}")))
            .bearer_auth(&who.token)
            .body(bytes)
            .send()
    };
    let head = |who: &Session<'_>, name: &str| {
        t.http
            .head(t.url(&format!("/api/v1/blobs/{name}")))
            .bearer_auth(&who.token)
            .send()
    };
    let prepared = json!({
        "filename": "IMG_5.JPG", "original_sha256": sha(&original), "original_size": original.len(),
        "original_sent": false, "web_sha256": web_sha, "thumb_sha256": thumb_sha,
        "phash": format!("{:016x}", r.phash),
    });
    for (bytes, name) in [
        (r.web.bytes.clone(), &web_sha),
        (r.thumb.bytes.clone(), &thumb_sha),
    ] {
        assert_eq!(
            put(&rina, bytes, name).await.unwrap().status(),
            StatusCode::CREATED
        );
    }
    let (s, att) = rina
        .req(
            Method::POST,
            &format!("/api/v1/items/{rinas}/attachments/prepared"),
            Some(prepared.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{att}");
    assert_eq!(
        head(&rina, &web_sha).await.unwrap().status(),
        StatusCode::OK
    );

    // Rudi only knows the digests: the hub does not say it has them, and will not attach them.
    assert_eq!(
        head(&rudi, &web_sha).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let to_rudis = format!("/api/v1/items/{rudis}/attachments/prepared");
    let (s, e) = rudi
        .req(Method::POST, &to_rudis, Some(prepared.clone()))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["code"], "missing_blob");
    // Claiming the digest with other bytes does not help either...
    let (s, _) = {
        let r = put(&rudi, b"bukan foto itu".to_vec(), &web_sha)
            .await
            .unwrap();
        (r.status(), ())
    };
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(
        head(&rina, &web_sha).await.unwrap().status(),
        StatusCode::OK,
        "Rina's blob is untouched"
    );
    // ...but sending the very bytes shows he has the photo: then it is his to attach.
    for (bytes, name) in [
        (r.web.bytes.clone(), &web_sha),
        (r.thumb.bytes.clone(), &thumb_sha),
    ] {
        assert_eq!(
            put(&rudi, bytes, name).await.unwrap().status(),
            StatusCode::OK,
            "already stored"
        );
    }
    assert_eq!(
        head(&rudi, &web_sha).await.unwrap().status(),
        StatusCode::OK
    );
    let (s, att) = rudi.req(Method::POST, &to_rudis, Some(prepared)).await;
    assert_eq!(s, StatusCode::CREATED, "{att}");
    let stored: i64 = t
        .db()
        .query_row(
            "SELECT count(*) FROM blob_grants WHERE sha256 = ?1",
            [&web_sha],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, 2, "one grant each");
}

/// A create answers with the item it made without reading it back (see `Stored::New`): the
/// answer must be exactly what reading the item gives, for the author and for an editor, with
/// the start step's due time and visit, trimmed content and the author's unit filled in.
#[tokio::test]
async fn a_create_answers_exactly_what_reading_the_item_gives() {
    let t = TestHub::start().await;
    let rina = t.login("rina").await;
    let mut c = content("  Jembatan desa dibuka  ");
    c["unit"] = json!("");
    c["tags"] = json!([" banjir ", "", "desa"]);
    let (s, created) = rina.req(Method::POST, "/api/v1/items", Some(c)).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let id = created["id"].as_i64().unwrap();
    let (s, read) = rina
        .req(Method::GET, &format!("/api/v1/items/{id}"), None)
        .await;
    assert_eq!(s, StatusCode::OK, "{read}");
    assert_eq!(created, read);
    assert_eq!(created["content"]["title"], "Jembatan desa dibuka");
    assert_eq!(created["content"]["unit"], "Bidang IKP");
    assert_eq!(created["step_times"].as_array().unwrap().len(), 1);
    assert!(created["state"]["due_at"].is_string(), "{created}");
    assert!(
        !created["actions"].as_array().unwrap().is_empty(),
        "{created}"
    );
    // Time passes: both still agree (the answer's figures are made from the clock the same way).
    t.clock.advance(chrono::Duration::hours(3));
    let (_, again) = rina
        .req(Method::POST, "/api/v1/items", Some(content("Kedua")))
        .await;
    let id2 = again["id"].as_i64().unwrap();
    let (_, read2) = rina
        .req(Method::GET, &format!("/api/v1/items/{id2}"), None)
        .await;
    assert_eq!(again, read2);
    // The visit was written: the step history and the timeline start from it.
    let visits: i64 = t
        .db()
        .query_row(
            "SELECT COUNT(*) FROM step_visits WHERE item_id = ?1 AND left_at IS NULL AND due_at IS NOT NULL",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(visits, 1);
}
