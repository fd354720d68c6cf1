//! The website guard in the hub against a real test site on 127.0.0.1 (an in-house CMS that
//! receives the office's items by webhook and serves them inside its own header and footer,
//! with a home page, a section page and a sitemap), with the real OS keyring (run under
//! `scripts/with-keyring`, as `make test` does) and an injected clock.
//!
//! What an attacker does is done to the test site directly (as someone with access to the CMS
//! would): gambling links hidden in a published post, a page that shows search engines
//! something else, a defaced home page, a page in the sitemap nobody published.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use chrono::{DateTime, Duration, TimeZone, Utc};
use rusqlite::Connection;
use serde_json::{Value, json};
use warta_api::{
    ActionRequest, GuardPageInput, GuardPageUpdate, GuardResolveRequest, GuardSiteInput,
    ItemContent, PublishTargetInput,
};
use warta_hub::{Caller, FixedClock, HubConfig, Office};

const KEY: &str = "kunci-situs-uji-456";

#[derive(Default)]
struct SiteState {
    base: String,
    /// Posts the CMS holds: id → (title, body HTML).
    posts: BTreeMap<String, (String, String)>,
    /// Extra HTML put into a page by path (what an attacker adds).
    injected: BTreeMap<String, String>,
    /// Extra HTML only a search crawler is served, by path.
    cloaked: BTreeMap<String, String>,
    /// The home page replaced altogether.
    home_replaced: Option<String>,
    /// Addresses listed in the sitemap besides the posts.
    sitemap_extra: Vec<String>,
    /// Visitor counter shown on the home page (noise).
    visits: u32,
}

type Site = Arc<Mutex<SiteState>>;

fn chrome(title: &str, main: &str) -> String {
    format!(
        r#"<!doctype html><html lang="id"><head><title>{title} - Diskominfo Kaltim</title></head>
<body><header><a href="/">Beranda</a> <a href="/profil">Profil</a>
<a href="https://www.instagram.com/diskominfokaltim">Instagram</a></header>
<main>{main}</main><footer>Hak cipta Pemerintah Provinsi Kalimantan Timur</footer></body></html>"#
    )
}

fn is_crawler(h: &HeaderMap) -> bool {
    h.get("user-agent")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ua| ua.contains("Googlebot"))
}

async fn hook(State(site): State<Site>, body: axum::body::Bytes) -> Response {
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut s = site.lock().unwrap();
    let action = v["action"].as_str().unwrap_or_default();
    if action == "unpublish" {
        let id = v["id"].as_str().unwrap_or_default().to_string();
        s.posts.remove(&id);
        return StatusCode::NO_CONTENT.into_response();
    }
    let id = match v["previous"]["id"].as_str() {
        Some(prev) => prev.to_string(),
        None => format!("post-{}", s.posts.len() + 1),
    };
    s.posts.insert(
        id.clone(),
        (
            v["title"].as_str().unwrap_or_default().to_string(),
            v["body_html"].as_str().unwrap_or_default().to_string(),
        ),
    );
    let url = format!("{}/berita/{id}", s.base);
    axum::Json(json!({ "id": id, "url": url })).into_response()
}

async fn home(State(site): State<Site>, h: HeaderMap) -> Response {
    let mut s = site.lock().unwrap();
    s.visits += 1;
    if let Some(html) = &s.home_replaced {
        return Html(html.clone()).into_response();
    }
    let list: String = s
        .posts
        .iter()
        .rev()
        .map(|(id, (title, _))| format!(r#"<li><a href="/berita/{id}">{title}</a></li>"#))
        .collect();
    let extra = s.injected.get("/").cloned().unwrap_or_default();
    let cloak = if is_crawler(&h) {
        s.cloaked.get("/").cloned().unwrap_or_default()
    } else {
        String::new()
    };
    Html(chrome(
        "Beranda",
        &format!(
            "<h1>Berita terbaru</h1><ul>{list}</ul>{extra}{cloak}<p>Pengunjung: {}</p>",
            s.visits
        ),
    ))
    .into_response()
}

async fn profil(State(site): State<Site>, h: HeaderMap) -> Response {
    let s = site.lock().unwrap();
    let cloak = if is_crawler(&h) {
        s.cloaked.get("/profil").cloned().unwrap_or_default()
    } else {
        String::new()
    };
    Html(chrome(
        "Profil",
        &format!(
            "<h1>Profil Dinas</h1><p>Dinas Komunikasi dan Informatika melayani informasi publik \
             provinsi setiap hari kerja.</p>{cloak}"
        ),
    ))
    .into_response()
}

async fn post(
    State(site): State<Site>,
    h: HeaderMap,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Response {
    let s = site.lock().unwrap();
    let path = format!("/berita/{id}");
    match s.posts.get(&id) {
        Some((title, body)) => {
            // An attacker edits the post: the injection goes inside its content.
            let body = match (s.injected.get(&path), body.find("</a>")) {
                (Some(extra), Some(at)) => format!("{}{extra}{}", &body[..at + 4], &body[at + 4..]),
                (Some(extra), None) => format!("{body}{extra}"),
                _ => body.clone(),
            };
            let cloak = if is_crawler(&h) {
                s.cloaked.get(&path).cloned().unwrap_or_default()
            } else {
                String::new()
            };
            Html(chrome(
                title,
                &format!(
                    "<article><h1>{title}</h1><p class=meta>Diterbitkan oleh Admin</p>{body}{cloak}</article>"
                ),
            ))
            .into_response()
        }
        // A page someone else put on the site.
        None if s.sitemap_extra.iter().any(|u| u.ends_with(&path)) => Html(chrome(
            "Slot gacor",
            "<h1>Situs slot gacor maxwin hari ini</h1><p>Daftar sekarang.</p>",
        ))
        .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn sitemap(State(site): State<Site>) -> Response {
    let s = site.lock().unwrap();
    let mut urls = vec![format!("{}/", s.base), format!("{}/profil", s.base)];
    urls.extend(s.posts.keys().map(|id| format!("{}/berita/{id}", s.base)));
    urls.extend(s.sitemap_extra.iter().cloned());
    let body: String = urls
        .iter()
        .map(|u| format!("<url><loc>{u}</loc></url>"))
        .collect();
    (
        [("content-type", "application/xml")],
        format!(r#"<?xml version="1.0"?><urlset>{body}</urlset>"#),
    )
        .into_response()
}

/// The test site on its own runtime thread (the hub's blocking publisher never runs inside it).
fn start_site() -> (Site, String) {
    let site: Site = Arc::default();
    let state = site.clone();
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
                .route("/", axum::routing::get(home))
                .route("/profil", axum::routing::get(profil))
                .route("/berita/{id}", axum::routing::get(post))
                .route("/sitemap.xml", axum::routing::get(sitemap))
                .route("/hook", axum::routing::post(hook))
                .with_state(state);
            axum::serve(listener, app).await.unwrap();
        });
    });
    let addr = rx.recv().unwrap();
    (site, format!("http://{addr}"))
}

struct Setup {
    dir: tempfile::TempDir,
    office: Arc<Office>,
    clock: Arc<FixedClock>,
    rt: tokio::runtime::Runtime,
    site: Site,
    base: String,
    target: i64,
    admin: Caller,
    reporter: Caller,
    editor: Caller,
    official: Caller,
    publisher: Caller,
}

fn at(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
}

/// An office publishing to the test site by webhook, the guard watching that site (its home
/// page, the profile section page, its sitemap read once as the inventory).
fn start() -> Setup {
    let (site, base) = start_site();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at(2026, 3, 10, 1, 0)));
    let mut config = HubConfig::solo(dir.path());
    config.demo = true;
    let office = Arc::new(Office::open(config, clock.clone()).unwrap());
    office.set_base_url("http://127.0.0.1:9");
    let c = |u: &str| office.user_caller(u).unwrap();
    let admin = c("admin");
    // Only the test site is watched: the hub's own site is not served in these tests.
    office
        .guard_set_site(
            &admin,
            1,
            GuardSiteInput {
                public_url: String::new(),
                allowed_domains: vec![],
                allow_private: true,
                enabled: false,
            },
        )
        .unwrap();
    let target = office
        .add_publish_target(
            &admin,
            PublishTargetInput {
                name: "Portal Diskominfo".into(),
                kind: "webhook".into(),
                url: Some(format!("{base}/hook")),
                username: None,
                folder: None,
                git: false,
                enabled: true,
                secret: Some(KEY.into()),
            },
        )
        .unwrap()
        .id;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let s = Setup {
        reporter: c("reporter"),
        editor: c("editor"),
        official: c("official"),
        publisher: c("publisher"),
        admin,
        dir,
        office,
        clock,
        rt,
        site,
        base,
        target,
    };
    s.office
        .guard_set_site(
            &s.admin,
            s.target,
            GuardSiteInput {
                public_url: format!("{}/", s.base),
                allowed_domains: vec!["kaltimprov.go.id".into(), "instagram.com".into()],
                allow_private: true,
                enabled: true,
            },
        )
        .unwrap();
    s.office
        .guard_add_page(
            &s.publisher,
            GuardPageInput {
                target_id: s.target,
                url: format!("{}/profil", s.base),
                source: "section".into(),
                interval_minutes: None,
            },
        )
        .unwrap();
    // The visitor counter is noise.
    let home = s.page(&format!("{}/", s.base));
    s.office
        .guard_update_page(
            &s.publisher,
            home.id,
            GuardPageUpdate {
                interval_minutes: 5,
                noise: vec![r"Pengunjung: \d+".into()],
            },
        )
        .unwrap();
    // First round: the pages fetched, the sitemap read as the inventory; a person approves
    // the home and section pages as they are.
    assert_eq!(s.round(), 2);
    for p in s.office.guard_pages(&s.admin, Some(s.target)).unwrap() {
        if p.source == "home" || p.source == "section" {
            s.office.guard_approve_baseline(&s.publisher, p.id).unwrap();
        }
    }
    assert!(s.open_incidents().is_empty());
    s
}

impl Setup {
    /// Runs one round of the guard (every due page and sitemap).
    fn round(&self) -> usize {
        self.rt.block_on(self.office.guard_run_due())
    }

    /// The clock moves on by `minutes`, then a round runs.
    fn later(&self, minutes: i64) -> usize {
        self.clock.advance(Duration::minutes(minutes));
        self.round()
    }

    fn page(&self, url: &str) -> warta_api::GuardPage {
        self.office
            .guard_pages(&self.admin, Some(self.target))
            .unwrap()
            .into_iter()
            .find(|p| p.url == url)
            .unwrap_or_else(|| panic!("{url} is not watched"))
    }

    fn open_incidents(&self) -> Vec<warta_api::GuardIncidentSummary> {
        self.office
            .guard_incidents(&self.admin, Some("open"))
            .unwrap()
    }

    /// A new item through SOP-A, published to the test site; returns its id and address.
    fn publish(&self, title: &str, body: &str) -> (i64, String) {
        let o = &self.office;
        let d = o
            .create_item(
                &self.reporter,
                ItemContent {
                    title: title.into(),
                    summary: "Ringkasan".into(),
                    body: body.into(),
                    category: "Berita".into(),
                    tags: vec![],
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
        go(&self.publisher, "publish");
        let d = o.get_item(&self.publisher, d.id).unwrap();
        assert_eq!(d.state.step, "published");
        (d.id, d.published_url.unwrap())
    }

    /// The audit kinds the guard wrote, in order.
    fn guard_audit(&self) -> Vec<String> {
        let db = Connection::open(self.dir.path().join("warta.db")).unwrap();
        let mut st = db
            .prepare("SELECT kind FROM audit WHERE kind LIKE 'guard.%' ORDER BY seq")
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }
}

const BODY: &str = "Gubernur meresmikan jembatan Mahakam IV di Samarinda hari ini. \
    Data lengkap di [situs BPS](https://www.bps.go.id/id/statistics-table) dan \
    [portal provinsi](https://kaltimprov.go.id/berita).";

#[test]
fn our_own_publish_and_update_raise_nothing_and_unpublish_removes_the_page() {
    let s = start();
    let (id, url) = s.publish("Jembatan Mahakam IV diresmikan", BODY);
    // Enrolled in the same transaction as the publish, with the change expected.
    let p = s.page(&url);
    assert_eq!(p.source, "published");
    assert_eq!(p.item_id, Some(id));
    assert!(p.expected_until.is_some());
    let home = s.page(&format!("{}/", s.base));
    assert!(
        home.expected_until.is_some(),
        "the home page lists the new post: expected"
    );

    // The home page changed (a new entry) and the post is new: nothing raised; the home
    // page's baseline re-taken, the post's first baseline taken. The post links to bps.go.id,
    // outside the allowed domains: the office put it there itself.
    s.later(5);
    assert!(s.open_incidents().is_empty(), "{:?}", s.open_incidents());
    assert!(s.page(&url).has_baseline);
    let audit = s.guard_audit();
    assert!(
        audit
            .iter()
            .filter(|k| *k == "guard.baseline_retaken")
            .count()
            >= 2,
        "{audit:?}"
    );
    // Around the clock afterwards: nothing (the sitemap lists the post: ours).
    for _ in 0..14 {
        s.later(5);
    }
    s.later(60);
    assert!(s.open_incidents().is_empty(), "{:?}", s.open_incidents());

    // An update (a correction through the official again) changes the post: nothing either.
    let note = ActionRequest {
        note: Some("data koreksi".into()),
        scheduled_at: None,
    };
    let d = s.office.correct(&s.editor, id, note).unwrap();
    let mut content = d.content.clone();
    content.body =
        format!("{BODY}\n\nKoreksi: peresmian dihadiri Menteri PUPR dan warga sekitar jembatan.");
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
    assert!(
        s.site
            .lock()
            .unwrap()
            .posts
            .values()
            .any(|p| p.1.contains("Koreksi"))
    );
    for _ in 0..13 {
        s.later(5);
    }
    s.later(60);
    assert!(s.open_incidents().is_empty(), "{:?}", s.open_incidents());
    let checks = s
        .office
        .guard_checks(&s.admin, Some(s.page(&url).id), 500)
        .unwrap();
    assert!(checks.len() >= 3);
    assert!(
        checks.iter().any(|c| c.expected),
        "the update's change was explained by the window"
    );

    // Unpublish: the page is no longer watched.
    s.office
        .unpublish(
            &s.publisher,
            id,
            ActionRequest {
                note: Some("permintaan pimpinan".into()),
                scheduled_at: None,
            },
        )
        .unwrap();
    assert!(
        !s.office
            .guard_pages(&s.admin, Some(s.target))
            .unwrap()
            .iter()
            .any(|p| p.url == url)
    );
    for _ in 0..13 {
        s.later(5);
    }
    assert!(s.open_incidents().is_empty(), "{:?}", s.open_incidents());
}

#[test]
fn gambling_injected_into_a_published_post_opens_one_incident_and_repeats_fold() {
    let s = start();
    let (_, url) = s.publish("Jembatan Mahakam IV diresmikan", BODY);
    s.later(5);
    s.later(40);
    assert!(s.open_incidents().is_empty());

    // Someone with access to the CMS hides gambling links in the post.
    let path = url.trim_start_matches(&s.base).to_string();
    s.site.lock().unwrap().injected.insert(
        path,
        r#"<div style="position:absolute;left:-9999px">Situs <a href="https://gacor-maxwin.example/">slot gacor</a>
           dan <a href="https://toto88.example/daftar">togel online</a> terpercaya</div>"#
            .into(),
    );
    s.later(60);
    let open = s.open_incidents();
    assert_eq!(open.len(), 1, "{open:?}");
    let inc = s.office.guard_incident(&s.admin, open[0].id).unwrap();
    assert_eq!(inc.summary.url, url);
    for k in ["changed", "gambling", "hidden_links"] {
        assert!(
            inc.summary.kinds.contains(&k.to_string()),
            "{:?}",
            inc.summary.kinds
        );
    }
    let words: Vec<&String> = inc.findings.iter().flat_map(|f| &f.evidence).collect();
    assert!(words.iter().any(|w| *w == "slot gacor"), "{words:?}");
    assert!(words.iter().any(|w| *w == "toto88.example"), "{words:?}");
    // Evidence: both versions kept, and the diff shows what was added.
    let (good, bad) = (
        inc.good_hash.clone().unwrap(),
        inc.bad_hash.clone().unwrap(),
    );
    assert_ne!(good, bad);
    assert!(
        s.office
            .guard_body(&s.admin, &bad)
            .unwrap()
            .contains("toto88.example")
    );
    assert!(
        !s.office
            .guard_body(&s.admin, &good)
            .unwrap()
            .contains("toto88")
    );
    assert!(
        inc.diff
            .iter()
            .any(|l| l.starts_with('+') && l.contains("gacor")),
        "{:?}",
        inc.diff
    );

    // Every check after that is folded in: one incident, counted.
    for _ in 0..3 {
        s.later(60);
    }
    let open = s.open_incidents();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].count, 4);
    let audit = s.guard_audit();
    assert_eq!(
        audit
            .iter()
            .filter(|k| *k == "guard.incident_opened")
            .count(),
        1
    );
    assert_eq!(
        audit
            .iter()
            .filter(|k| *k == "guard.incident_folded")
            .count(),
        3
    );
    // The change feed carries them to admins and publishers.
    assert_eq!(
        warta_hub::events::kind_of("guard.incident_opened", None),
        Some(warta_api::ChangeKind::Guard)
    );

    // Resolved (after cleaning the site): audited, and the page is clean again.
    s.site.lock().unwrap().injected.clear();
    let r = s
        .office
        .guard_resolve(
            &s.publisher,
            open[0].id,
            GuardResolveRequest {
                note: "tautan disisipkan dihapus".into(),
            },
        )
        .unwrap();
    assert_eq!(r.summary.state, "resolved");
    assert_eq!(r.resolved_by.as_deref(), Some("publisher"));
    s.later(60);
    assert!(s.open_incidents().is_empty());
    assert_eq!(s.page(&url).state, "ok");
    assert!(
        s.guard_audit()
            .contains(&"guard.incident_resolved".to_string())
    );

    // A visible edit inside the post (no gambling word, no foreign link): what we published
    // is no longer what it shows.
    let path = url.trim_start_matches(&s.base).to_string();
    s.site.lock().unwrap().injected.insert(
        path,
        "<p>Jembatan ini ternyata dibangun tanpa izin.</p>".into(),
    );
    s.later(60);
    let open = s.open_incidents();
    assert_eq!(
        open.len(),
        1,
        "a new incident after the resolved one: {open:?}"
    );
    assert!(
        open[0].kinds.contains(&"tampered".to_string()),
        "{:?}",
        open[0].kinds
    );
    let inc = s.office.guard_incident(&s.admin, open[0].id).unwrap();
    let tampered = inc.findings.iter().find(|f| f.kind == "tampered").unwrap();
    assert!(
        tampered
            .evidence
            .iter()
            .any(|e| e == "+ jembatan ini ternyata dibangun tanpa izin"),
        "{:?}",
        tampered.evidence
    );
}

#[test]
fn a_cloaked_section_page_and_a_defaced_home_page_are_found_even_in_an_expected_window() {
    let s = start();
    // Only search engines get gambling on the profile page.
    s.site.lock().unwrap().cloaked.insert(
        "/profil".into(),
        r#"<p>Bandar togel terpercaya, <a href="https://slot-rtp.example/">rtp live</a> hari ini</p>"#
            .into(),
    );
    s.later(60);
    let open = s.open_incidents();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].url, format!("{}/profil", s.base));
    assert!(
        open[0].kinds.contains(&"cloaking".to_string()),
        "{:?}",
        open[0].kinds
    );
    let inc = s.office.guard_incident(&s.admin, open[0].id).unwrap();
    let crawler = inc.crawler_hash.expect("the crawler's version is kept");
    assert!(
        s.office
            .guard_body(&s.admin, &crawler)
            .unwrap()
            .contains("slot-rtp.example")
    );

    // The office publishes (the home page's window opens) and the home page is defaced:
    // an injection alarms in the window too.
    s.publish(
        "Rapat koordinasi",
        "Rapat koordinasi bulanan seluruh bidang.",
    );
    s.site.lock().unwrap().home_replaced = Some(
        "<html><title>Hacked by Anon4x</title><body><h1>HACKED BY ANON4X</h1>\
         <p>Your security is low</p></body></html>"
            .into(),
    );
    assert!(s.page(&format!("{}/", s.base)).expected_until.is_some());
    s.later(5);
    let home = s
        .open_incidents()
        .into_iter()
        .find(|i| i.url == format!("{}/", s.base))
        .expect("the defaced home page is an incident");
    assert!(
        home.kinds.contains(&"defacement".to_string()),
        "{:?}",
        home.kinds
    );
    // And its baseline was not re-taken from the defaced page.
    let page = s.page(&format!("{}/", s.base));
    assert_eq!(page.state, "alert");
    let inc = s.office.guard_incident(&s.admin, home.id).unwrap();
    let good = s
        .office
        .guard_body(&s.admin, inc.good_hash.as_deref().unwrap())
        .unwrap();
    assert!(!good.contains("HACKED"));
}

#[test]
fn a_new_sitemap_address_nobody_published_is_found() {
    let s = start();
    // Our own post shows in the sitemap: nothing.
    let (_, url) = s.publish("Festival Mahakam", "Festival budaya di tepian Mahakam.");
    s.later(1);
    s.later(60);
    assert!(s.open_incidents().is_empty(), "{:?}", s.open_incidents());
    assert_eq!(s.page(&url).source, "published");

    let foreign = format!("{}/berita/slot-gacor-maxwin-88", s.base);
    s.site.lock().unwrap().sitemap_extra.push(foreign.clone());
    s.later(61);
    let open = s.open_incidents();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].url, foreign);
    assert!(
        open[0].kinds.contains(&"unknown_url".to_string()),
        "{:?}",
        open[0].kinds
    );
    assert!(
        open[0].kinds.contains(&"gambling".to_string()),
        "{:?}",
        open[0].kinds
    );
    assert_eq!(s.page(&foreign).source, "sitemap");
}

#[test]
fn only_admins_and_publishers_may_use_the_guard_and_bad_input_is_refused() {
    let s = start();
    for who in [&s.reporter, &s.editor, &s.official] {
        assert_eq!(s.office.guard_sites(who).unwrap_err().status(), 403);
        assert_eq!(s.office.guard_pages(who, None).unwrap_err().status(), 403);
        assert_eq!(
            s.office.guard_incidents(who, None).unwrap_err().status(),
            403
        );
        let e = s.rt.block_on(s.office.guard_check_now(who, 1)).unwrap_err();
        assert_eq!(e.status(), 403);
    }
    // Refusals are audited.
    let db = Connection::open(s.dir.path().join("warta.db")).unwrap();
    let refused: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE kind = 'refused' AND data LIKE '%guard.%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(refused >= 12, "{refused}");

    // A publisher may manage the watch list but not open fetching to private addresses.
    let site = s
        .office
        .guard_sites(&s.publisher)
        .unwrap()
        .into_iter()
        .find(|x| x.target_id == s.target)
        .unwrap();
    assert!(site.allow_private);
    let e = s
        .office
        .guard_set_site(
            &s.publisher,
            s.target,
            GuardSiteInput {
                public_url: site.public_url.clone(),
                allowed_domains: vec![],
                allow_private: false,
                enabled: true,
            },
        )
        .unwrap_err();
    assert_eq!(e.status(), 403);
    // Bad input: plain words, 400.
    let bad_site = |input: GuardSiteInput| {
        s.office
            .guard_set_site(&s.admin, s.target, input)
            .unwrap_err()
    };
    let e = bad_site(GuardSiteInput {
        public_url: "ftp://x".into(),
        allowed_domains: vec![],
        allow_private: true,
        enabled: true,
    });
    assert_eq!(e.status(), 400);
    let e = bad_site(GuardSiteInput {
        public_url: site.public_url.clone(),
        allowed_domains: vec!["not a domain".into()],
        allow_private: true,
        enabled: true,
    });
    assert_eq!(e.status(), 400);
    let e = s
        .office
        .guard_add_page(
            &s.publisher,
            GuardPageInput {
                target_id: s.target,
                url: "https://elsewhere.example/".into(),
                source: "section".into(),
                interval_minutes: None,
            },
        )
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("website's own host"), "{e}");
    let home = s.page(&format!("{}/", s.base));
    let e = s
        .office
        .guard_update_page(
            &s.publisher,
            home.id,
            GuardPageUpdate {
                interval_minutes: 5,
                noise: vec!["(unclosed".into()],
            },
        )
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert!(e.to_string().contains("not a regular expression"), "{e}");

    assert_eq!(
        s.office
            .guard_checks(&s.publisher, None, 0)
            .unwrap_err()
            .status(),
        400
    );
    // Check now from a publisher answers with the check.
    let c =
        s.rt.block_on(s.office.guard_check_now(&s.publisher, home.id))
            .unwrap();
    assert_eq!(c.status, Some(200));
    assert!(c.findings.is_empty(), "{:?}", c.findings);
}

#[test]
fn the_hubs_own_site_is_watched_our_publish_raises_nothing_and_a_defaced_page_is_found() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at(2026, 3, 10, 1, 0)));
    let mut config = HubConfig::solo(dir.path());
    config.demo = true;
    let running = rt
        .block_on(warta_hub::start(config, clock.clone()))
        .unwrap();
    let office = running.office().clone();
    let c = |u: &str| office.user_caller(u).unwrap();
    let (admin, publisher) = (c("admin"), c("publisher"));
    // The hub's own site: its address and the private-address permission are known.
    let site = office
        .guard_sites(&admin)
        .unwrap()
        .into_iter()
        .find(|s| s.target_id == 1)
        .unwrap();
    assert_eq!(site.public_url, format!("{}/site/", running.base_url()));
    // Not the office's setting: the hub's own site is fetched where the hub runs anyway.
    assert!(!site.allow_private);
    office
        .guard_set_site(
            &admin,
            1,
            GuardSiteInput {
                public_url: String::new(),
                allowed_domains: vec![],
                allow_private: false,
                enabled: true,
            },
        )
        .unwrap();
    let round = || rt.block_on(office.guard_run_due());
    round();
    let home = office.guard_pages(&admin, Some(1)).unwrap()[0].clone();
    assert_eq!(home.source, "home");
    assert_eq!(home.last_status, Some(200), "{:?}", home.last_findings);

    // Pointed elsewhere inside the network, the hub's own site is not a way in: the internal
    // address is refused (a publisher cannot allow it either).
    office
        .guard_set_site(
            &publisher,
            1,
            GuardSiteInput {
                public_url: "http://10.1.2.3/".into(),
                allowed_domains: vec![],
                allow_private: false,
                enabled: true,
            },
        )
        .unwrap();
    let inside = office
        .guard_pages(&admin, Some(1))
        .unwrap()
        .into_iter()
        .find(|p| p.url == "http://10.1.2.3/")
        .unwrap();
    let c = rt
        .block_on(office.guard_check_now(&publisher, inside.id))
        .unwrap();
    assert_eq!(c.status, None);
    assert!(
        c.findings[0].message.contains("internal address"),
        "{:?}",
        c.findings
    );
    office.guard_remove_page(&publisher, inside.id).unwrap();
    let e = office
        .guard_set_site(
            &publisher,
            1,
            GuardSiteInput {
                public_url: String::new(),
                allowed_domains: vec![],
                allow_private: true,
                enabled: true,
            },
        )
        .unwrap_err();
    assert_eq!(e.status(), 403);
    office
        .guard_set_site(
            &publisher,
            1,
            GuardSiteInput {
                public_url: String::new(),
                allowed_domains: vec![],
                allow_private: false,
                enabled: true,
            },
        )
        .unwrap();
    // That check's incident is not this test's subject.
    for i in office.guard_incidents(&admin, Some("open")).unwrap() {
        office
            .guard_resolve(&admin, i.id, GuardResolveRequest::default())
            .unwrap();
    }
    office.guard_approve_baseline(&publisher, home.id).unwrap();

    // Publish through SOP-A to the hub's own site: nothing raised.
    let s = |u: &str| office.user_caller(u).unwrap();
    let d = office
        .create_item(
            &s("reporter"),
            ItemContent {
                title: "Pasar murah Ramadan".into(),
                summary: "Ringkasan".into(),
                body: "Pasar murah digelar di halaman kantor gubernur selama tiga hari.".into(),
                category: "Berita".into(),
                tags: vec![],
                unit: "Bidang IKP".into(),
            },
        )
        .unwrap();
    office
        .act(&s("reporter"), d.id, "submit", ActionRequest::default())
        .unwrap();
    office.claim(&s("editor"), d.id).unwrap();
    office
        .act(
            &s("editor"),
            d.id,
            "send_to_official",
            ActionRequest::default(),
        )
        .unwrap();
    office
        .act(&s("official"), d.id, "approve", ActionRequest::default())
        .unwrap();
    office
        .act(&publisher, d.id, "publish", ActionRequest::default())
        .unwrap();
    let url = office
        .get_item(&publisher, d.id)
        .unwrap()
        .published_url
        .unwrap();
    for _ in 0..3 {
        clock.advance(Duration::minutes(5));
        round();
    }
    clock.advance(Duration::minutes(60));
    round();
    assert!(
        office
            .guard_incidents(&admin, Some("open"))
            .unwrap()
            .is_empty(),
        "{:?}",
        office.guard_pages(&admin, Some(1)).unwrap()
    );
    let page = office
        .guard_pages(&admin, Some(1))
        .unwrap()
        .into_iter()
        .find(|p| p.url == url)
        .expect("the published page is watched");
    assert_eq!(page.state, "ok");

    // The app is closed and opened again: the embedded hub listens on another port, and its
    // own site's pages are watched there.
    let old_base = running.base_url();
    drop(office);
    rt.block_on(running.shutdown());
    let running = rt
        .block_on(warta_hub::start(HubConfig::solo(dir.path()), clock.clone()))
        .unwrap();
    let office = running.office().clone();
    let round = || rt.block_on(office.guard_run_due());
    assert_ne!(running.base_url(), old_base);
    clock.advance(Duration::minutes(61));
    round();
    assert!(
        office
            .guard_incidents(&admin, Some("open"))
            .unwrap()
            .is_empty(),
        "{:?}",
        office.guard_pages(&admin, Some(1)).unwrap()
    );
    let url = url.replace(&old_base, &running.base_url());
    let page = office
        .guard_pages(&admin, Some(1))
        .unwrap()
        .into_iter()
        .find(|p| p.url == url)
        .expect("the published page is watched at the hub's new address");
    assert_eq!((page.state.as_str(), page.last_status), ("ok", Some(200)));
    // The home page, the demo office's item published before the guard watched the site
    // (enrolled when the site was turned on, and raising nothing), and ours.
    let sources: Vec<_> = office
        .guard_pages(&admin, Some(1))
        .unwrap()
        .into_iter()
        .map(|p| (p.source, p.item_id.is_some()))
        .collect();
    assert_eq!(sources.len(), 3, "{sources:?}");
    assert_eq!(
        sources
            .iter()
            .filter(|(s, has_item)| s == "published" && *has_item)
            .count(),
        2,
        "{sources:?}"
    );

    // Someone writes into the page file on the server.
    let file = std::fs::read_dir(office.site_root().join("items"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().contains("pasar-murah"))
        .unwrap();
    let html = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        html.replace(
            "</body>",
            r#"<div style="display:none"><a href="https://slot-gacor.example/">slot gacor maxwin</a></div></body>"#,
        ),
    )
    .unwrap();
    let check = rt
        .block_on(office.guard_check_now(&publisher, page.id))
        .unwrap();
    let kinds: Vec<&str> = check.findings.iter().map(|f| f.kind.as_str()).collect();
    assert!(
        kinds.contains(&"gambling") && kinds.contains(&"hidden_links"),
        "{kinds:?}"
    );
    assert!(check.incident_id.is_some());
    rt.block_on(running.shutdown());
}

#[test]
fn a_scheduled_publish_raises_nothing_when_it_goes_out_hours_later() {
    let s = start();
    let o = &s.office;
    let d = o
        .create_item(
            &s.reporter,
            ItemContent {
                title: "Jadwal vaksinasi".into(),
                summary: "Ringkasan".into(),
                body: "Vaksinasi gratis di puskesmas Samarinda Ulu pekan depan.".into(),
                category: "Berita".into(),
                tags: vec![],
                unit: "Bidang IKP".into(),
            },
        )
        .unwrap();
    o.act(&s.reporter, d.id, "submit", ActionRequest::default())
        .unwrap();
    o.claim(&s.editor, d.id).unwrap();
    o.act(
        &s.editor,
        d.id,
        "send_to_official",
        ActionRequest::default(),
    )
    .unwrap();
    o.act(&s.official, d.id, "approve", ActionRequest::default())
        .unwrap();
    let when = o.now() + Duration::hours(3);
    o.act(
        &s.publisher,
        d.id,
        "publish",
        ActionRequest {
            note: None,
            scheduled_at: Some(when),
        },
    )
    .unwrap();
    // Nothing changes on the site before its time, and no window is open meanwhile.
    assert!(s.page(&format!("{}/", s.base)).expected_until.is_none());
    for _ in 0..35 {
        s.later(5);
    }
    assert!(s.site.lock().unwrap().posts.is_empty());
    // It goes out at its time; the home page changes: expected.
    s.clock.set(when + Duration::minutes(1));
    o.run_due_publications(None);
    assert_eq!(s.site.lock().unwrap().posts.len(), 1);
    for _ in 0..8 {
        s.later(5);
    }
    s.later(60);
    assert!(s.open_incidents().is_empty(), "{:?}", s.open_incidents());
}

#[test]
fn a_site_that_does_not_answer_holds_up_a_round_for_a_few_pages_only() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at(2026, 3, 10, 1, 0)));
    let mut config = HubConfig::solo(dir.path());
    config.demo = true;
    let office = Arc::new(Office::open(config, clock.clone()).unwrap());
    let admin = office.user_caller("admin").unwrap();
    // Nothing listens on port 1.
    office
        .guard_set_site(
            &admin,
            1,
            GuardSiteInput {
                public_url: "http://127.0.0.1:1/".into(),
                allowed_domains: vec![],
                allow_private: true,
                enabled: true,
            },
        )
        .unwrap();
    for n in 0..20 {
        office
            .guard_add_page(
                &admin,
                GuardPageInput {
                    target_id: 1,
                    url: format!("http://127.0.0.1:1/rubrik/{n}"),
                    source: "section".into(),
                    interval_minutes: None,
                },
            )
            .unwrap();
    }
    let checked = rt.block_on(office.guard_run_due());
    // The pages already under way when the third failure came in, and no more.
    assert!(
        (3..=3 + warta_hub::guard::CONCURRENCY).contains(&checked),
        "{checked}"
    );
    let unreachable = office.guard_incidents(&admin, Some("open")).unwrap();
    assert_eq!(unreachable.len(), checked);
    assert!(unreachable.iter().all(|i| i.kinds == ["unreachable"]));
    // The others are still due: they are tried in the next round.
    assert!(rt.block_on(office.guard_run_due()) >= 3);
}
