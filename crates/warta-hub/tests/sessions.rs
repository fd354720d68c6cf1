//! Sessions and units over HTTP: a real hub on 127.0.0.1:0 with a fixed clock. Expired and
//! revoked sessions are refused, users see and end their own sessions, admins end anyone's,
//! and the office's units are a list admins keep.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
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

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap()
}

impl TestHub {
    async fn start(adjust: impl FnOnce(&mut HubConfig)) -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(start_time()));
        let mut config = HubConfig::solo(dir.path());
        adjust(&mut config);
        let hub = warta_hub::start(config, clock.clone()).await.unwrap();
        let office = hub.office().clone();
        tokio::task::spawn_blocking(move || {
            for (name, roles) in [
                ("admin", vec![Role::Admin]),
                ("rina", vec![Role::Reporter]),
                ("eko", vec![Role::Editor]),
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
        TestHub {
            hub: Some(hub),
            clock,
            dir,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.hub.as_ref().unwrap().base_url(), path)
    }

    async fn login(&self, user: &str) -> Session<'_> {
        let r = self
            .http
            .post(self.url("/auth/login"))
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

    fn audit_count(&self, kind: &str) -> i64 {
        self.db()
            .query_row("SELECT count(*) FROM audit WHERE kind = ?1", [kind], |r| {
                r.get(0)
            })
            .unwrap()
    }

    async fn user_id(&self, admin: &Session<'_>, name: &str) -> i64 {
        let users = admin.ok(Method::GET, "/users", None).await;
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["id"]
            .as_i64()
            .unwrap()
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(h) = self.hub.take() {
            drop(h.shutdown());
        }
    }
}

struct Session<'a> {
    t: &'a TestHub,
    token: String,
}

impl Session<'_> {
    async fn req(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut r = self
            .t
            .http
            .request(method, self.t.url(path))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let r = r.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.req(method.clone(), path, body).await;
        assert!(s.is_success(), "{method} {path}: {s} {v}");
        v
    }

    async fn status(&self, method: Method, path: &str) -> StatusCode {
        self.req(method, path, None).await.0
    }

    /// This session's id, from its own listing.
    async fn id(&self) -> i64 {
        let list = self.ok(Method::GET, "/me/sessions", None).await;
        list.as_array()
            .unwrap()
            .iter()
            .find(|s| s["current"] == true)
            .expect("the current session is listed")["id"]
            .as_i64()
            .unwrap()
    }
}

#[tokio::test]
async fn a_session_expires_after_the_configured_hours() {
    let t = TestHub::start(|c| c.session_hours = 2).await;
    let rina = t.login("rina").await;
    let list = rina.ok(Method::GET, "/me/sessions", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    let expires: DateTime<Utc> = list[0]["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires, start_time() + Duration::hours(2));

    t.clock.advance(Duration::hours(2) - Duration::seconds(1));
    assert_eq!(rina.status(Method::GET, "/me").await, StatusCode::OK);
    t.clock.advance(Duration::seconds(1));
    let (s, body) = rina.req(Method::GET, "/me", None).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body["code"], "unauthenticated");
    assert_eq!(
        rina.status(Method::GET, "/me/sessions").await,
        StatusCode::UNAUTHORIZED
    );
    // An admin no longer sees it among rina's live sessions.
    let admin = t.login("admin").await;
    let rina_id = t.user_id(&admin, "rina").await;
    let list = admin
        .ok(Method::GET, &format!("/users/{rina_id}/sessions"), None)
        .await;
    assert_eq!(list, json!([]));
}

#[tokio::test]
async fn the_default_lifetime_is_twelve_hours() {
    let t = TestHub::start(|_| {}).await;
    let rina = t.login("rina").await;
    t.clock.advance(Duration::hours(12) - Duration::seconds(1));
    assert_eq!(rina.status(Method::GET, "/me").await, StatusCode::OK);
    t.clock.advance(Duration::seconds(1));
    assert_eq!(
        rina.status(Method::GET, "/me").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn users_list_and_end_their_own_sessions() {
    let t = TestHub::start(|_| {}).await;
    let laptop = t.login("rina").await;
    let phone = t.login("rina").await;
    let admin = t.login("admin").await;

    let list = laptop.ok(Method::GET, "/me/sessions", None).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    // Where each signed in from: this test's client, on loopback.
    assert!(list.iter().all(|s| s["address"] == "127.0.0.1"), "{list:?}");
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    // Neither the token nor its hash is shown.
    let text = serde_json::to_string(list).unwrap();
    assert!(!text.contains(&laptop.token) && !text.contains(&phone.token));
    assert!(!text.contains("token"));

    let laptop_id = laptop.id().await;
    let phone_id = phone.id().await;
    assert_ne!(laptop_id, phone_id);

    // Another user's session id is not hers to end: answered like an unknown one.
    let admin_id = admin.id().await;
    assert_eq!(
        laptop
            .status(Method::DELETE, &format!("/me/sessions/{admin_id}"))
            .await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(admin.status(Method::GET, "/me").await, StatusCode::OK);

    let before = t.audit_count("auth.session_revoked");
    assert_eq!(
        laptop
            .status(Method::DELETE, &format!("/me/sessions/{phone_id}"))
            .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(t.audit_count("auth.session_revoked"), before + 1);
    assert_eq!(
        phone.status(Method::GET, "/me").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(laptop.status(Method::GET, "/me").await, StatusCode::OK);
    // Ending it again: it is no longer live.
    assert_eq!(
        laptop
            .status(Method::DELETE, &format!("/me/sessions/{phone_id}"))
            .await,
        StatusCode::NOT_FOUND
    );
    let list = laptop.ok(Method::GET, "/me/sessions", None).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["id"], laptop_id);

    // Ending one's own current session signs out.
    assert_eq!(
        laptop
            .status(Method::DELETE, &format!("/me/sessions/{laptop_id}"))
            .await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        laptop.status(Method::GET, "/me").await,
        StatusCode::UNAUTHORIZED
    );
    // A malformed id is a 400, not a 500.
    assert_eq!(
        admin.status(Method::DELETE, "/me/sessions/abc").await,
        StatusCode::BAD_REQUEST
    );
}

#[tokio::test]
async fn logout_revokes_the_session() {
    let t = TestHub::start(|_| {}).await;
    let rina = t.login("rina").await;
    let id = rina.id().await;
    assert_eq!(
        rina.status(Method::POST, "/auth/logout").await,
        StatusCode::NO_CONTENT
    );
    // Audited, naming the session.
    let (actor, data): (String, String) = t
        .db()
        .query_row(
            "SELECT actor, data FROM audit WHERE kind = 'auth.logout'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(actor, "rina");
    assert_eq!(
        serde_json::from_str::<Value>(&data).unwrap()["session_id"],
        id
    );
    assert_eq!(
        rina.status(Method::GET, "/me").await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        rina.status(Method::GET, "/me/sessions").await,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn an_admin_lists_and_ends_all_of_a_users_sessions() {
    let t = TestHub::start(|_| {}).await;
    let admin = t.login("admin").await;
    let a = t.login("rina").await;
    let b = t.login("rina").await;
    let eko = t.login("eko").await;
    let rina_id = t.user_id(&admin, "rina").await;

    let list = admin
        .ok(Method::GET, &format!("/users/{rina_id}/sessions"), None)
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|s| s["current"] == false));

    let before = t.audit_count("auth.session_revoked");
    let r = admin
        .ok(
            Method::POST,
            &format!("/users/{rina_id}/sessions/revoke"),
            None,
        )
        .await;
    assert_eq!(r, json!({"revoked": 2}));
    assert_eq!(t.audit_count("auth.session_revoked"), before + 1);
    let (data, actor): (String, String) = t
        .db()
        .query_row(
            "SELECT data, actor FROM audit WHERE kind = 'auth.session_revoked' ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(actor, "admin");
    assert_eq!(data["user_id"], rina_id);
    assert_eq!(data["count"], 2);

    assert_eq!(a.status(Method::GET, "/me").await, StatusCode::UNAUTHORIZED);
    assert_eq!(b.status(Method::GET, "/me").await, StatusCode::UNAUTHORIZED);
    // Other users keep theirs.
    assert_eq!(eko.status(Method::GET, "/me").await, StatusCode::OK);
    assert_eq!(admin.status(Method::GET, "/me").await, StatusCode::OK);
    let list = admin
        .ok(Method::GET, &format!("/users/{rina_id}/sessions"), None)
        .await;
    assert_eq!(list, json!([]));
    // She signs in again normally.
    let again = t.login("rina").await;
    assert_eq!(again.status(Method::GET, "/me").await, StatusCode::OK);

    // An admin's own listing marks the session in use.
    let admin_id = t.user_id(&admin, "admin").await;
    let list = admin
        .ok(Method::GET, &format!("/users/{admin_id}/sessions"), None)
        .await;
    assert_eq!(list[0]["current"], true);

    for (method, path) in [
        (Method::GET, "/users/9999/sessions"),
        (Method::POST, "/users/9999/sessions/revoke"),
    ] {
        let (s, v) = admin.req(method, path, None).await;
        assert_eq!(s, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(v["code"], "not_found");
    }
}

#[tokio::test]
async fn a_reporter_cannot_see_or_end_other_peoples_sessions() {
    let t = TestHub::start(|_| {}).await;
    let admin = t.login("admin").await;
    let rina = t.login("rina").await;
    let admin_id = t.user_id(&admin, "admin").await;
    let before: i64 = t.audit_count("refused");

    let (s, v) = rina
        .req(Method::GET, &format!("/users/{admin_id}/sessions"), None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(v["code"], "forbidden");
    let (s, _) = rina
        .req(
            Method::POST,
            &format!("/users/{admin_id}/sessions/revoke"),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(admin.status(Method::GET, "/me").await, StatusCode::OK);

    // Both refusals are audited, naming who and what.
    assert_eq!(t.audit_count("refused"), before + 2);
    let rows: Vec<(String, String)> = t
        .db()
        .prepare("SELECT actor, data FROM audit WHERE kind = 'refused' ORDER BY seq DESC LIMIT 2")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let requests: Vec<String> = rows
        .iter()
        .map(|(actor, data)| {
            assert_eq!(actor, "rina");
            let d: Value = serde_json::from_str(data).unwrap();
            d["request"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(requests, ["session.revoke", "session.list"]);
}

#[tokio::test]
async fn admins_keep_the_list_of_units() {
    let t = TestHub::start(|_| {}).await;
    let admin = t.login("admin").await;
    let rina = t.login("rina").await;

    // Users added by the CLI with a new unit name brought it into the list.
    let units = rina.ok(Method::GET, "/units", None).await;
    assert_eq!(units, json!([{"id": 1, "name": "Bidang IKP", "users": 3}]));

    for (name, why) in [
        ("", "empty"),
        ("   ", "blank"),
        ("bidang ikp", "duplicate ignoring case"),
        (" Bidang IKP ", "duplicate after trimming"),
        ("Bidang\nIKP", "control character"),
    ] {
        let (s, v) = admin
            .req(Method::POST, "/units", Some(json!({"name": name})))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{why}: {v}");
        assert_eq!(v["code"], "validation", "{why}");
        assert_eq!(v["field"], "name", "{why}");
    }
    // Over 100 characters as sent, spaces included (as the API document says).
    for long in ["x".repeat(101), format!(" {}", "x".repeat(100))] {
        let (s, _) = admin
            .req(Method::POST, "/units", Some(json!({"name": long})))
            .await;
        assert_eq!(s, StatusCode::BAD_REQUEST);
    }
    let (s, v) = admin
        .req(Method::POST, "/units", Some(json!({"nama": "x"})))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    let before_refused = t.audit_count("refused");
    let (s, _) = rina
        .req(Method::POST, "/units", Some(json!({"name": "Bidang Rina"})))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = rina
        .req(Method::PUT, "/units/1", Some(json!({"name": "Rina"})))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(t.audit_count("refused"), before_refused + 2);

    let (s, humas) = admin
        .req(
            Method::POST,
            "/units",
            Some(json!({"name": " Bidang Humas "})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(humas["name"], "Bidang Humas");
    assert_eq!(humas["users"], 0);
    let humas_id = humas["id"].as_i64().unwrap();

    // Renaming to another unit's name is refused; renaming moves the users along.
    let (s, v) = admin
        .req(
            Method::PUT,
            &format!("/units/{humas_id}"),
            Some(json!({"name": "BIDANG IKP"})),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let renamed = admin
        .ok(
            Method::PUT,
            "/units/1",
            Some(json!({"name": "Bidang Informasi"})),
        )
        .await;
    assert_eq!(renamed["name"], "Bidang Informasi");
    assert_eq!(renamed["users"], 3);
    let me = rina.ok(Method::GET, "/me", None).await;
    assert_eq!(me["unit"], "Bidang Informasi");
    // A change of case only is a rename too.
    admin
        .ok(
            Method::PUT,
            &format!("/units/{humas_id}"),
            Some(json!({"name": "bidang humas"})),
        )
        .await;
    let (s, v) = admin
        .req(Method::PUT, "/units/999", Some(json!({"name": "Baru"})))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert_eq!(t.audit_count("unit.added"), 1);
    assert_eq!(t.audit_count("unit.renamed"), 2);

    let units = admin.ok(Method::GET, "/units", None).await;
    let names: Vec<&str> = units
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bidang humas", "Bidang Informasi"]);
}

#[tokio::test]
async fn users_must_belong_to_a_known_unit() {
    let t = TestHub::start(|_| {}).await;
    let admin = t.login("admin").await;
    admin
        .ok(
            Method::POST,
            "/units",
            Some(json!({"name": "Bidang Humas"})),
        )
        .await;
    let new_user = |unit: &str| {
        json!({"username": "sari", "display_name": "Sari", "password": PW,
               "roles": ["reporter"], "unit": unit})
    };
    let (s, v) = admin
        .req(Method::POST, "/users", Some(new_user("Bidang Tidak Ada")))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "unit");
    assert!(v["message"].as_str().unwrap().contains("Bidang Tidak Ada"));
    let n: i64 = t
        .db()
        .query_row(
            "SELECT count(*) FROM users WHERE username = 'sari'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 0, "a refused user is not added");

    // The unit's own spelling is kept whatever the case typed; no unit is allowed.
    let (s, sari) = admin
        .req(Method::POST, "/users", Some(new_user("bidang humas")))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sari}");
    assert_eq!(sari["unit"], "Bidang Humas");
    let id = sari["id"].as_i64().unwrap();

    let update = |unit: &str| json!({"display_name": "Sari", "roles": ["reporter"], "unit": unit, "active": true});
    let (s, v) = admin
        .req(Method::PUT, &format!("/users/{id}"), Some(update("Nope")))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert_eq!(v["field"], "unit");
    let users = admin.ok(Method::GET, "/users", None).await;
    let sari = users
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["username"] == "sari")
        .unwrap();
    assert_eq!(
        sari["unit"], "Bidang Humas",
        "a refused change changes nothing"
    );
    let v = admin
        .ok(Method::PUT, &format!("/users/{id}"), Some(update("")))
        .await;
    assert_eq!(v["unit"], "");
}

/// A database from before units and session ids: free-text units become the list (one per
/// spelling ignoring case), sessions get ids, and a token issued before still works.
#[tokio::test]
async fn older_databases_are_migrated() {
    let dir = tempfile::tempdir().unwrap();
    let token = "0123456789abcdef";
    {
        let conn = rusqlite::Connection::open(dir.path().join("warta.db")).unwrap();
        for sql in [
            include_str!("../migrations/0001_init.sql"),
            include_str!("../migrations/0002_media.sql"),
            include_str!("../migrations/0003_publishing.sql"),
            include_str!("../migrations/0004_lock_activity.sql"),
            include_str!("../migrations/0005_uploads.sql"),
            include_str!("../migrations/0006_search.sql"),
        ] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        let hash = warta_hub::auth::hash_password(PW).unwrap();
        for (i, (name, unit)) in [
            ("admin", ""),
            ("rina", " Bidang IKP"),
            ("rudi", "bidang ikp"),
            ("eko", "Bidang Humas"),
        ]
        .into_iter()
        .enumerate()
        {
            conn.execute(
                "INSERT INTO users (username, display_name, password_hash, roles, unit, created_at)
                 VALUES (?1, ?1, ?2, ?3, ?4, ?5)",
                rusqlite::params![
                    name,
                    hash,
                    if i == 0 { "admin" } else { "reporter" },
                    unit,
                    start_time()
                ],
            )
            .unwrap();
        }
        conn.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?1, 1, ?2, ?3)",
            rusqlite::params![
                warta_hub::auth::token_hash(token),
                start_time(),
                start_time() + Duration::hours(12)
            ],
        )
        .unwrap();
    }
    let clock = Arc::new(FixedClock::new(start_time()));
    let hub = warta_hub::start(HubConfig::solo(dir.path()), clock)
        .await
        .unwrap();
    let t = TestHub {
        hub: Some(hub),
        clock: Arc::new(FixedClock::new(start_time())),
        dir,
        http: reqwest::Client::new(),
    };
    let admin = Session {
        t: &t,
        token: token.into(),
    };
    let units = admin.ok(Method::GET, "/units", None).await;
    assert_eq!(
        units,
        json!([
            {"id": 2, "name": "Bidang Humas", "users": 1},
            {"id": 1, "name": "Bidang IKP", "users": 2},
        ])
    );
    let users = admin.ok(Method::GET, "/users", None).await;
    let unit_of = |n: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == n)
            .unwrap()["unit"]
            .clone()
    };
    assert_eq!(unit_of("rudi"), "Bidang IKP");
    assert_eq!(unit_of("admin"), "");
    let mine = admin.ok(Method::GET, "/me/sessions", None).await;
    assert_eq!(mine[0]["id"], 1);
    assert_eq!(
        mine[0]["address"],
        Value::Null,
        "unknown for a session from before"
    );
    assert_eq!(mine[0]["current"], true);
}

/// Who a token belongs to is remembered in memory, so that a request needs no database read to
/// say who sent it. Every way a session ends or its user changes must still show on the very
/// next request: each case below first proves the token is remembered, then changes it.
#[tokio::test]
async fn remembered_sessions_follow_every_change_on_the_very_next_request() {
    let t = TestHub::start(|c| c.session_hours = 2).await;
    let office = t.hub.as_ref().unwrap().office().clone();
    let admin = t.login("admin").await;
    let rina_id = t.user_id(&admin, "rina").await;
    let eko_id = t.user_id(&admin, "eko").await;
    let (logout, other, kept) = (
        t.login("rina").await,
        t.login("rina").await,
        t.login("rina").await,
    );
    let eko = t.login("eko").await;
    // Signing in adds a session, which empties the memory; a request fills it again.
    let remembered = |s: &Session<'_>| office.authenticate_cached(&s.token).is_some();
    let warm = async |s: &Session<'_>| {
        let me = s.ok(Method::GET, "/me", None).await;
        assert!(remembered(s), "{me} is not remembered");
        me
    };

    // Signing out.
    warm(&logout).await;
    assert_eq!(
        logout.status(Method::POST, "/auth/logout").await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        logout.status(Method::GET, "/me").await,
        StatusCode::UNAUTHORIZED
    );

    // Ending one's own other session.
    warm(&other).await;
    let other_id = other.id().await;
    warm(&other).await;
    kept.ok(Method::DELETE, &format!("/me/sessions/{other_id}"), None)
        .await;
    assert_eq!(
        other.status(Method::GET, "/me").await,
        StatusCode::UNAUTHORIZED
    );

    // A change of roles counts from the next request: a reporter made editor may not create.
    let me = warm(&kept).await;
    assert_eq!(me["roles"], json!(["reporter"]));
    let item = json!({"title": "Judul", "summary": "", "body": "", "category": "", "tags": [], "unit": ""});
    let (s, _) = kept.req(Method::POST, "/items", Some(item.clone())).await;
    assert_eq!(s, StatusCode::CREATED);
    warm(&kept).await;
    admin
        .ok(
            Method::PUT,
            &format!("/users/{rina_id}"),
            Some(json!({"display_name": "Rina", "roles": ["editor"], "unit": "Bidang IKP", "active": true})),
        )
        .await;
    let (s, _) = kept.req(Method::POST, "/items", Some(item)).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let me = kept.ok(Method::GET, "/me", None).await;
    assert_eq!(me["roles"], json!(["editor"]));
    assert_eq!(me["display_name"], "Rina");

    // A unit renamed: the member's next request carries the new name.
    let me = warm(&eko).await;
    assert_eq!(me["unit"], "Bidang IKP");
    admin
        .ok(
            Method::PUT,
            "/units/1",
            Some(json!({"name": "Bidang Humas"})),
        )
        .await;
    assert_eq!(
        eko.ok(Method::GET, "/me", None).await["unit"],
        "Bidang Humas"
    );

    // An admin ending all of a user's sessions.
    warm(&kept).await;
    admin
        .ok(
            Method::POST,
            &format!("/users/{rina_id}/sessions/revoke"),
            None,
        )
        .await;
    assert_eq!(
        kept.status(Method::GET, "/me").await,
        StatusCode::UNAUTHORIZED
    );

    // Deactivating a user.
    warm(&eko).await;
    admin
        .ok(
            Method::PUT,
            &format!("/users/{eko_id}"),
            Some(json!({"display_name": "eko display", "roles": ["editor"], "unit": "Bidang Humas", "active": false})),
        )
        .await;
    assert_eq!(
        eko.status(Method::GET, "/me").await,
        StatusCode::UNAUTHORIZED
    );

    // Expiry, by the hub's clock.
    warm(&admin).await;
    t.clock.advance(Duration::hours(2));
    assert!(!remembered(&admin));
    assert_eq!(
        admin.status(Method::GET, "/me").await,
        StatusCode::UNAUTHORIZED
    );
}
