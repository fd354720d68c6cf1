//! Live updates and lapsing edit locks, over HTTP on loopback: users with their own tokens, one
//! acting and another's `GET /events` stream (read with `warta-client`) receiving the change.
//! Waits are bounded (a stuck stream fails the test instead of hanging it); nothing is timed.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use warta_api::{ChangeEvent, ChangeKind, NewUser, Role};
use warta_client::{EventStream, HubClient};
use warta_hub::events::LiveTiming;
use warta_hub::{FixedClock, HubConfig, RunningHub};

const PW: &str = "password-123";
/// Longest wait for something that should happen at once (a bound, not a measurement).
const BOUND: Duration = Duration::from_secs(30);

struct Hub {
    hub: Option<RunningHub>,
    clock: Arc<FixedClock>,
    _dir: tempfile::TempDir,
    http: reqwest::Client,
}

fn start_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap()
}

impl Hub {
    async fn start() -> Hub {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(start_time()));
        let hub = warta_hub::start(HubConfig::solo(dir.path()), clock.clone())
            .await
            .unwrap();
        let office = hub.office().clone();
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
        Hub {
            hub: Some(hub),
            clock,
            _dir: dir,
            http: reqwest::Client::new(),
        }
    }

    fn hub(&self) -> &RunningHub {
        self.hub.as_ref().unwrap()
    }

    async fn login(&self, user: &str) -> User<'_> {
        let client = HubClient::new(self.hub().base_url());
        let token = client.login(user, PW).await.unwrap().token;
        User {
            hub: self,
            client: client.with_token(token.clone()),
            token,
        }
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(h) = self.hub.take() {
            drop(h.shutdown());
        }
    }
}

struct User<'a> {
    hub: &'a Hub,
    client: HubClient,
    token: String,
}

impl User<'_> {
    async fn req(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut rb = self
            .hub
            .http
            .request(
                method,
                format!("{}/api/v1{path}", self.hub.hub().base_url()),
            )
            .bearer_auth(&self.token);
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let r = rb.send().await.unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn ok(&self, method: Method, path: &str, body: Option<Value>) -> Value {
        let (s, v) = self.req(method.clone(), path, body).await;
        assert!(s.is_success(), "{method} {path}: {s} {v}");
        v
    }

    /// Opens the event stream and reads its `ready` event; returns the stream and its seq.
    async fn stream(&self, last_event_id: Option<i64>) -> EventStream {
        self.client.events(last_event_id).await.unwrap()
    }

    async fn create(&self, title: &str) -> i64 {
        let v = self
            .ok(
                Method::POST,
                "/items",
                Some(
                    json!({"title": title, "summary": "", "body": "satu\n", "category": "",
                            "tags": [], "unit": ""}),
                ),
            )
            .await;
        v["id"].as_i64().unwrap()
    }
}

/// The next event, waiting at most [`BOUND`].
async fn next(s: &mut EventStream) -> ChangeEvent {
    tokio::time::timeout(BOUND, s.next())
        .await
        .expect("no event within the bound")
        .expect("the stream ended")
        .expect("a well-formed event")
}

/// Reads the `ready` event that follows any replay; returns what came before it and its seq.
async fn until_ready(s: &mut EventStream) -> (Vec<ChangeEvent>, i64) {
    let mut before = Vec::new();
    loop {
        let e = next(s).await;
        if e.kind == ChangeKind::Ready {
            return (before, e.seq);
        }
        before.push(e);
    }
}

/// Waits for the stream to end (the hub closed it), at most [`BOUND`].
async fn ends(s: &mut EventStream) {
    let end = tokio::time::timeout(BOUND, async {
        loop {
            match s.next().await {
                None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            }
        }
    })
    .await;
    assert!(end.is_ok(), "the stream did not end within the bound");
}

fn item_event(e: &ChangeEvent) -> (ChangeKind, Option<i64>, &str) {
    (e.kind, e.item_id, e.change.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_reaches_another_users_stream_after_it_is_committed() {
    let hub = Hub::start().await;
    let rina = hub.login("rina").await;
    let eko = hub.login("eko").await;
    let rudi = hub.login("rudi").await;
    let mut eko_live = eko.stream(None).await;
    let (replayed, _) = until_ready(&mut eko_live).await;
    assert!(replayed.is_empty());
    let mut rudi_live = rudi.stream(None).await;
    until_ready(&mut rudi_live).await;

    let id = rina.create("Banjir di Samarinda").await;
    let e = next(&mut eko_live).await;
    assert_eq!(item_event(&e), (ChangeKind::Item, Some(id), "item.created"));
    // The change is there for a client that refetches on the event.
    let detail = eko.client.item(id).await.unwrap();
    assert_eq!(detail.content.title, "Banjir di Samarinda");

    rina.ok(Method::POST, &format!("/items/{id}/actions/submit"), None)
        .await;
    let e = next(&mut eko_live).await;
    assert_eq!(item_event(&e), (ChangeKind::Item, Some(id), "item.action"));
    assert_eq!(eko.client.item(id).await.unwrap().state.step, "handover");

    // Eko's own claim reaches Rina's stream (she wrote the item).
    let mut rina_live = rina.stream(None).await;
    until_ready(&mut rina_live).await;
    eko.ok(Method::POST, &format!("/items/{id}/claim"), None)
        .await;
    let e = next(&mut rina_live).await;
    assert_eq!(item_event(&e), (ChangeKind::Lock, Some(id), "item.claimed"));
    assert_eq!(next(&mut eko_live).await, e);

    rina.ok(
        Method::POST,
        &format!("/items/{id}/comments"),
        Some(json!({"body": "Foto menyusul"})),
    )
    .await;
    let e = next(&mut eko_live).await;
    assert_eq!(
        item_event(&e),
        (ChangeKind::Comment, Some(id), "item.comment")
    );
    let detail = eko.client.item(id).await.unwrap();
    assert_eq!(detail.comments.last().unwrap().body, "Foto menyusul");
    let e2 = next(&mut rina_live).await;
    assert_eq!(e2, e);
    assert!(e.seq > 0);

    // A refused request changes nothing and is not announced: Rudi may not see Rina's draft,
    // and his stream says nothing about it. The first thing it carries is his own item.
    let (s, _) = rudi.req(Method::GET, &format!("/items/{id}"), None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let own = rudi.create("Milik Rudi").await;
    let e = next(&mut rudi_live).await;
    assert_eq!(
        item_event(&e),
        (ChangeKind::Item, Some(own), "item.created")
    );
    // Eko sees Rudi's item too, right after Rina's comment.
    let e = next(&mut eko_live).await;
    assert_eq!(
        item_event(&e),
        (ChangeKind::Item, Some(own), "item.created")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_and_websites_events_go_only_to_who_may_see_them() {
    let hub = Hub::start().await;
    let admin = hub.login("admin").await;
    let rina = hub.login("rina").await;
    let mut admin_live = admin.stream(None).await;
    until_ready(&mut admin_live).await;
    let mut rina_live = rina.stream(None).await;
    until_ready(&mut rina_live).await;
    admin
        .ok(
            Method::POST,
            "/users",
            Some(
                json!({"username": "baru", "display_name": "Baru", "password": PW,
                        "roles": ["reporter"], "unit": ""}),
            ),
        )
        .await;
    let e = next(&mut admin_live).await;
    assert_eq!(item_event(&e), (ChangeKind::Users, None, "user.added"));
    admin
        .ok(
            Method::PUT,
            "/holidays",
            Some(json!([{"date": "2026-12-25", "name": "Natal"}])),
        )
        .await;
    let e = next(&mut admin_live).await;
    assert_eq!(item_event(&e), (ChangeKind::Settings, None, "holidays.set"));
    // Rina is not told about users; the holidays are everyone's.
    let e = next(&mut rina_live).await;
    assert_eq!(item_event(&e), (ChangeKind::Settings, None, "holidays.set"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn website_guard_events_go_to_publishers_and_admins_only() {
    let hub = Hub::start().await;
    let admin = hub.login("admin").await;
    let putu = hub.login("putu").await;
    let rina = hub.login("rina").await;
    let mut putu_live = putu.stream(None).await;
    until_ready(&mut putu_live).await;
    let mut rina_live = rina.stream(None).await;
    until_ready(&mut rina_live).await;
    // A reporter may not see the guard at all.
    let (s, _) = rina.req(Method::GET, "/guard/incidents", None).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    putu.ok(
        Method::PUT,
        "/guard/sites/1",
        Some(json!({"public_url": "", "allowed_domains": ["kominfo.go.id"], "enabled": true})),
    )
    .await;
    let e = next(&mut putu_live).await;
    assert_eq!(
        item_event(&e),
        (ChangeKind::Guard, None, "guard.site_updated")
    );
    admin
        .ok(
            Method::PUT,
            "/holidays",
            Some(json!([{"date": "2026-12-25", "name": "Natal"}])),
        )
        .await;
    // Rina's next event is the holidays: the guard's was not sent to her.
    let e = next(&mut rina_live).await;
    assert_eq!(item_event(&e), (ChangeKind::Settings, None, "holidays.set"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_with_last_event_id_replays_what_was_missed_or_resyncs() {
    let hub = Hub::start().await;
    let rina = hub.login("rina").await;
    let rudi = hub.login("rudi").await;
    let eko = hub.login("eko").await;
    let mut live = eko.stream(None).await;
    let (_, at) = until_ready(&mut live).await;
    assert_eq!(live.last_event_id(), Some(at));
    let mut rudi_live = rudi.stream(None).await;
    let (_, rudi_at) = until_ready(&mut rudi_live).await;
    drop(live);
    drop(rudi_live);
    // Rina's own stream tells when the hub has seen her changes.
    let mut rina_live = rina.stream(None).await;
    until_ready(&mut rina_live).await;

    // While Eko and Rudi are away: three changes of Rina's draft.
    let id = rina.create("Selagi terputus").await;
    rina.ok(
        Method::PUT,
        &format!("/items/{id}"),
        Some(
            json!({"version": 1, "content": {"title": "Selagi terputus", "summary": "",
                    "body": "dua\n", "category": "", "tags": [], "unit": ""}}),
        ),
    )
    .await;
    rina.ok(Method::POST, &format!("/items/{id}/actions/submit"), None)
        .await;
    for _ in 0..3 {
        next(&mut rina_live).await;
    }

    let mut live = eko.stream(Some(at)).await;
    let (replayed, now_at) = until_ready(&mut live).await;
    let got: Vec<_> = replayed.iter().map(item_event).collect();
    assert_eq!(
        got,
        vec![
            (ChangeKind::Item, Some(id), "item.created"),
            (ChangeKind::Item, Some(id), "item.saved"),
            (ChangeKind::Item, Some(id), "item.action"),
        ]
    );
    assert!(replayed.windows(2).all(|w| w[0].seq < w[1].seq));
    assert_eq!(now_at, replayed.last().unwrap().seq);
    // Rudi's replay leaves out the draft he may not see.
    let mut rudi_live = rudi.stream(Some(rudi_at)).await;
    let (replayed, _) = until_ready(&mut rudi_live).await;
    assert!(replayed.is_empty(), "{replayed:?}");

    // From the last id there is nothing to replay; live events follow.
    let mut again = eko.stream(Some(now_at)).await;
    let (replayed, _) = until_ready(&mut again).await;
    assert!(replayed.is_empty());

    // An id this hub never sent (another database, a restored backup): resync.
    let mut odd = eko.stream(Some(now_at + 1000)).await;
    let e = next(&mut odd).await;
    assert_eq!((e.kind, e.seq), (ChangeKind::Resync, now_at));
    assert_eq!(next(&mut odd).await.kind, ChangeKind::Ready);

    // Too far behind to replay: resync, then live.
    let office = hub.hub().office().clone();
    tokio::task::spawn_blocking(move || {
        let rina = office.user_caller("rina").unwrap();
        for i in 0..=warta_hub::events::REPLAY_LIMIT {
            office
                .add_comment(&rina, id, &format!("catatan {i}"))
                .unwrap();
        }
    })
    .await
    .unwrap();
    for _ in 0..=warta_hub::events::REPLAY_LIMIT {
        assert_eq!(next(&mut rina_live).await.kind, ChangeKind::Comment);
    }
    let mut far = eko.stream(Some(now_at)).await;
    let (replayed, high) = until_ready(&mut far).await;
    assert_eq!(replayed.len(), 1, "{replayed:?}");
    assert_eq!(
        (replayed[0].kind, replayed[0].seq),
        (ChangeKind::Resync, high)
    );

    // A malformed Last-Event-ID is refused in plain words.
    let r = hub
        .http
        .get(format!("{}/api/v1/events", hub.hub().base_url()))
        .bearer_auth(&eko.token)
        .header("Last-Event-ID", "kemarin")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["code"], "validation");
    assert_eq!(v["field"], "Last-Event-ID");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stream_ends_when_its_session_is_revoked_or_expires() {
    let hub = Hub::start().await;
    // Sessions are checked every 50 ms here (15 s by default).
    hub.hub().office().events().set_timing(LiveTiming {
        keep_alive: Duration::from_millis(50),
        session_check: Duration::from_millis(50),
    });
    let eko = hub.login("eko").await;
    let edi = hub.login("edi").await;
    let mut eko_live = eko.stream(None).await;
    until_ready(&mut eko_live).await;
    let mut edi_live = edi.stream(None).await;
    until_ready(&mut edi_live).await;

    // Signing out revokes the token: its stream ends, Edi's goes on.
    let (s, _) = eko.req(Method::POST, "/auth/logout", None).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    ends(&mut eko_live).await;
    let err = eko.client.events(None).await.unwrap_err();
    assert_eq!(err.code(), Some(warta_api::ErrorCode::Unauthenticated));

    let rina = hub.login("rina").await;
    let id = rina.create("Masih tersambung").await;
    let e = next(&mut edi_live).await;
    assert_eq!(e.item_id, Some(id));

    // Twelve hours later every session has expired: the stream ends at the next check.
    hub.clock.advance(chrono::Duration::hours(13));
    ends(&mut edi_live).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_completes_with_streams_open() {
    let mut hub = Hub::start().await;
    let eko = hub.login("eko").await;
    let rina = hub.login("rina").await;
    let mut a = eko.stream(None).await;
    until_ready(&mut a).await;
    let mut b = rina.stream(None).await;
    until_ready(&mut b).await;
    let running = hub.hub.take().unwrap();
    tokio::time::timeout(BOUND, running.shutdown())
        .await
        .expect("shutdown waited for the open streams");
    ends(&mut a).await;
    ends(&mut b).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_publishing_queue_announces_its_progress_off_any_request() {
    let hub = Hub::start().await;
    let rina = hub.login("rina").await;
    let eko = hub.login("eko").await;
    let ibu = hub.login("ibu").await;
    let putu = hub.login("putu").await;
    let id = claimed_by_eko(&rina, &eko, "Jadwal terbit").await;
    eko.ok(
        Method::POST,
        &format!("/items/{id}/actions/send_to_official"),
        None,
    )
    .await;
    ibu.ok(Method::POST, &format!("/items/{id}/actions/approve"), None)
        .await;
    // Scheduled for an hour from now: nothing goes out with the publisher's request.
    let at = start_time() + chrono::Duration::hours(1);
    putu.ok(
        Method::POST,
        &format!("/items/{id}/actions/publish"),
        Some(json!({"scheduled_at": at})),
    )
    .await;
    let mut rina_live = rina.stream(None).await;
    until_ready(&mut rina_live).await;

    // An hour later the queue runs (as the background worker does, on no request's behalf).
    hub.clock.advance(chrono::Duration::hours(1));
    let office = hub.hub().office().clone();
    tokio::task::spawn_blocking(move || office.run_due_publications(None))
        .await
        .unwrap();
    let mut seen = Vec::new();
    while seen.last().map(|e: &ChangeEvent| e.change.as_str()) != Some("item.published") {
        seen.push(next(&mut rina_live).await);
    }
    assert!(
        seen.iter()
            .any(|e| item_event(e) == (ChangeKind::Publishing, Some(id), "publish.done")),
        "{seen:?}"
    );
    assert_eq!(
        item_event(seen.last().unwrap()),
        (ChangeKind::Item, Some(id), "item.published")
    );
    let item = rina.client.item(id).await.unwrap();
    assert_eq!(item.state.step, "published");
}

// ------------------------------------------------------------------ lapsing edit locks

/// An item Rina submitted and Eko claimed; returns its id.
async fn claimed_by_eko(rina: &User<'_>, eko: &User<'_>, title: &str) -> i64 {
    let id = rina.create(title).await;
    rina.ok(Method::POST, &format!("/items/{id}/actions/submit"), None)
        .await;
    let d = eko
        .ok(Method::POST, &format!("/items/{id}/claim"), None)
        .await;
    assert_eq!(d["lock"]["display_name"], "eko display");
    id
}

async fn save(user: &User<'_>, id: i64, version: i64, body: &str) -> (StatusCode, Value) {
    user.req(
        Method::PUT,
        &format!("/items/{id}"),
        Some(
            json!({"version": version, "content": {"title": "Judul", "summary": "",
                    "body": body, "category": "", "tags": [], "unit": ""}}),
        ),
    )
    .await
}

/// The item's audit entries of these kinds, oldest first, as (kind, actor, data).
fn audit(hub: &Hub, id: i64, kinds: &[&str]) -> Vec<(String, String, Value)> {
    let conn = rusqlite::Connection::open(hub._dir.path().join("warta.db")).unwrap();
    let mut stmt = conn
        .prepare("SELECT kind, actor, data FROM audit WHERE item_id = ?1 ORDER BY seq")
        .unwrap();
    stmt.query_map([id], |r| {
        let data: String = r.get(2)?;
        Ok((r.get(0)?, r.get(1)?, serde_json::from_str(&data).unwrap()))
    })
    .unwrap()
    .map(Result::unwrap)
    .filter(|(k, _, _): &(String, String, Value)| kinds.contains(&k.as_str()))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_lapses_after_inactivity_and_the_former_holders_save_is_refused() {
    let hub = Hub::start().await;
    let rina = hub.login("rina").await;
    let eko = hub.login("eko").await;
    let edi = hub.login("edi").await;
    let id = claimed_by_eko(&rina, &eko, "Kunci").await;
    let mut eko_live = eko.stream(None).await;
    until_ready(&mut eko_live).await;

    // 29 minutes on, Eko saves: the lock lasts 30 minutes from that save.
    hub.clock.advance(chrono::Duration::minutes(29));
    let (s, d) = save(&eko, id, 1, "Eko menulis\n").await;
    assert_eq!(s, StatusCode::OK, "{d}");
    let expires: DateTime<Utc> = serde_json::from_value(d["lock"]["expires_at"].clone()).unwrap();
    assert_eq!(expires, start_time() + chrono::Duration::minutes(59));
    hub.clock.advance(chrono::Duration::minutes(29));
    let (s, v) = edi
        .req(Method::POST, &format!("/items/{id}/claim"), None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::LOCKED, Some("locked"))
    );

    // A minute past the limit, Edi may claim it: the lapse is audited and announced.
    hub.clock.advance(chrono::Duration::minutes(2));
    let d = edi
        .ok(Method::POST, &format!("/items/{id}/claim"), None)
        .await;
    assert_eq!(d["lock"]["display_name"], "edi display");
    let e = next(&mut eko_live).await;
    assert_eq!(item_event(&e), (ChangeKind::Item, Some(id), "item.saved"));
    // (Edi's refused claim changed nothing and was not announced.)
    let e = next(&mut eko_live).await;
    assert_eq!(
        item_event(&e),
        (ChangeKind::Lock, Some(id), "item.lock_expired")
    );
    let e = next(&mut eko_live).await;
    assert_eq!(item_event(&e), (ChangeKind::Lock, Some(id), "item.claimed"));
    let trail = audit(&hub, id, &["item.claimed", "item.lock_expired"]);
    let eko_id = eko.client.me().await.unwrap().id;
    assert_eq!(trail.len(), 3, "{trail:?}");
    assert_eq!(
        (trail[1].0.as_str(), trail[1].1.as_str()),
        ("item.lock_expired", "system")
    );
    assert_eq!(trail[1].2["holder"], eko_id);
    assert_eq!(trail[1].2["idle_minutes"], 30);
    assert_eq!(
        (trail[2].0.as_str(), trail[2].1.as_str()),
        ("item.claimed", "edi")
    );

    // Eko's next save is refused in plain words, naming who has it; nothing is overwritten.
    let (s, v) = save(&eko, id, 2, "Eko lagi\n").await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["code"], "lock_expired");
    assert_eq!(v["holder"], "edi display");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .contains("lapsed after 30 minutes"),
        "{v}"
    );
    let item = eko.client.item(id).await.unwrap();
    assert_eq!(
        (item.version, item.content.body.as_str()),
        (2, "Eko menulis\n")
    );
    let refused = audit(&hub, id, &["refused"]);
    assert_eq!(refused.last().unwrap().2["code"], "lock_expired");
    // Edi's save goes through.
    let (s, _) = save(&edi, id, 2, "Edi menulis\n").await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keep_alive_holds_the_lock_and_a_lapse_without_a_new_holder_is_refused_too() {
    let hub = Hub::start().await;
    let rina = hub.login("rina").await;
    let eko = hub.login("eko").await;
    let edi = hub.login("edi").await;
    hub.hub()
        .office()
        .set_lock_idle(Duration::from_secs(10 * 60));
    let id = claimed_by_eko(&rina, &eko, "Detak").await;

    // Keep-alives while Eko types keep the lock past the (10-minute) limit.
    for _ in 0..3 {
        hub.clock.advance(chrono::Duration::minutes(8));
        let lock = eko
            .ok(Method::PUT, &format!("/items/{id}/lock"), None)
            .await;
        assert_eq!(lock["display_name"], "eko display");
    }
    let (s, _) = edi
        .req(Method::POST, &format!("/items/{id}/claim"), None)
        .await;
    assert_eq!(s, StatusCode::LOCKED);
    // Only the holder keeps a lock.
    let (s, v) = edi
        .req(Method::PUT, &format!("/items/{id}/lock"), None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::LOCKED, Some("locked"))
    );

    // Eko goes quiet; the sweep lets the lock go with nobody claiming it.
    hub.clock.advance(chrono::Duration::minutes(11));
    let office = hub.hub().office().clone();
    let n = tokio::task::spawn_blocking(move || office.expire_locks())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(n, 1);
    let item = eko.client.item(id).await.unwrap();
    assert!(item.lock.is_none());
    assert!(!item.can_edit);
    let (s, v) = save(&eko, id, 1, "terlambat\n").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("lock_expired"))
    );
    assert!(v.get("holder").is_none(), "{v}");
    let (s, v) = eko
        .req(Method::PUT, &format!("/items/{id}/lock"), None)
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("lock_expired"))
    );
    // Claiming again is the way back; then saving works.
    eko.ok(Method::POST, &format!("/items/{id}/claim"), None)
        .await;
    let (s, _) = save(&eko, id, 1, "kembali\n").await;
    assert_eq!(s, StatusCode::OK);
    let lapses = audit(&hub, id, &["item.lock_expired"]);
    assert_eq!(lapses.len(), 1);

    // A holder whose lock lapsed unnoticed (no sweep yet) is refused at the save itself.
    hub.clock.advance(chrono::Duration::minutes(10));
    let (s, v) = save(&eko, id, 2, "lagi terlambat\n").await;
    assert_eq!(
        (s, v["code"].as_str()),
        (StatusCode::CONFLICT, Some("lock_expired"))
    );
    assert_eq!(audit(&hub, id, &["item.lock_expired"]).len(), 2);
    assert_eq!(eko.client.item(id).await.unwrap().version, 2);
}
