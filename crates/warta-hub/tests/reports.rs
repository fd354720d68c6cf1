//! Reports and the dashboard over HTTP against a real hub on 127.0.0.1 with an injected clock:
//! two items walked through SOP-A at known times, the figures checked against numbers worked
//! out by hand; the documents read back (CSV parsed, PDF through pdftotext, DOCX through
//! LibreOffice); permissions and bad requests.

use std::process::Command;
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

fn wita(d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Makassar
        .with_ymd_and_hms(2026, 11, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

impl TestHub {
    /// A hub whose clock reads Monday 23 November 2026, 09:00 WITA, without holidays.
    async fn start() -> TestHub {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(wita(23, 9, 0)));
        let mut config = HubConfig::solo(dir.path());
        // Sessions outlive the two days the clock walks through.
        config.session_hours = 24 * 7;
        let hub = warta_hub::start(config, clock.clone()).await.unwrap();
        let t = TestHub {
            hub: Some(hub),
            clock,
            dir,
            http: reqwest::Client::new(),
        };
        let office = t.hub().office().clone();
        // Edit locks must not lapse while the clock jumps hours ahead between actions.
        office.set_lock_idle(std::time::Duration::from_secs(7 * 24 * 3600));
        tokio::task::spawn_blocking(move || {
            for (name, roles, unit) in [
                ("admin", vec![Role::Admin], ""),
                ("rina", vec![Role::Reporter], "Bidang IKP"),
                ("rudi", vec![Role::Reporter], "Bidang TIK"),
                ("eko", vec![Role::Editor], "Bidang IKP"),
                ("ibu", vec![Role::Official], "Bidang IKP"),
                ("putu", vec![Role::Publisher], "Bidang IKP"),
            ] {
                office
                    .add_user(
                        None,
                        NewUser {
                            username: name.into(),
                            display_name: format!("{name} display"),
                            password: PW.into(),
                            roles,
                            unit: unit.into(),
                        },
                    )
                    .unwrap();
            }
        })
        .await
        .unwrap();
        let admin = t.login("admin").await;
        admin
            .ok(Method::PUT, "/api/v1/holidays", Some(json!([])))
            .await;
        t
    }

    fn hub(&self) -> &RunningHub {
        self.hub.as_ref().unwrap()
    }

    fn url(&self, path: &str) -> String {
        format!("{}{}", self.hub().base_url(), path)
    }

    fn set(&self, at: DateTime<Utc>) {
        let now = self.hub().office().now();
        self.clock.advance(at - now);
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

    /// A document: status, content type, bytes.
    async fn file(&self, path: &str) -> (StatusCode, String, Vec<u8>) {
        let r = self
            .t
            .http
            .get(self.t.url(path))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let s = r.status();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (s, ct, r.bytes().await.unwrap().to_vec())
    }

    async fn create(&self, title: &str, unit: &str) -> i64 {
        let v = self
            .ok(
                Method::POST,
                "/api/v1/items",
                Some(
                    json!({"title": title, "summary": "ringkas", "body": "Paragraf.",
                    "category": "Berita", "tags": [], "unit": unit}),
                ),
            )
            .await;
        v["id"].as_i64().unwrap()
    }

    async fn act(&self, id: i64, action: &str) {
        self.ok(
            Method::POST,
            &format!("/api/v1/items/{id}/actions/{action}"),
            Some(json!({})),
        )
        .await;
    }

    async fn claim(&self, id: i64) {
        self.ok(Method::POST, &format!("/api/v1/items/{id}/claim"), None)
            .await;
    }
}

/// Item A (Bidang IKP), Monday 23 Nov: created and submitted 09:00; claimed 09:30
/// (handover 30 min); sent to the official 11:30 (edit 120 min); approved 13:00 (review 90
/// min, standard 1 h: missed); published 13:10 (publish 10 min).
///
/// Item B (Bidang TIK): created and submitted Mon 13:10; claimed Mon 17:10, after closing
/// (handover 13:10–16:00 = 170 working min, due Tue 08:10: met); sent to the official Tue
/// 08:30 (edit 30 min); approved 08:50 (review 20 min); published 09:20 (publish 30 min,
/// standard 15 min: missed).
async fn walk_two_items(t: &TestHub) {
    let rina = t.login("rina").await;
    let rudi = t.login("rudi").await;
    let eko = t.login("eko").await;
    let ibu = t.login("ibu").await;
    let putu = t.login("putu").await;

    let a = rina.create("Banjir di Samarinda", "Bidang IKP").await;
    rina.act(a, "submit").await;
    t.set(wita(23, 9, 30));
    eko.claim(a).await;
    t.set(wita(23, 11, 30));
    eko.act(a, "send_to_official").await;
    t.set(wita(23, 13, 0));
    ibu.act(a, "approve").await;
    t.set(wita(23, 13, 10));
    putu.act(a, "publish").await;

    let b = rudi.create("Jaringan kantor pulih", "Bidang TIK").await;
    rudi.act(b, "submit").await;
    t.set(wita(23, 17, 10));
    eko.claim(b).await;
    t.set(wita(24, 8, 30));
    eko.act(b, "send_to_official").await;
    t.set(wita(24, 8, 50));
    ibu.act(b, "approve").await;
    t.set(wita(24, 9, 20));
    putu.act(b, "publish").await;
}

fn step<'a>(dash: &'a Value, sop: &str, step: &str) -> &'a Value {
    dash["sops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == sop)
        .unwrap()["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == step)
        .unwrap()
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[tokio::test]
async fn dashboard_and_activity_report_match_the_hand_computed_figures() {
    let t = TestHub::start().await;
    walk_two_items(&t).await;
    let ibu = t.login("ibu").await;
    let dash = ibu
        .ok(
            Method::GET,
            "/api/v1/dashboard?from=2026-11-01&to=2026-11-30",
            None,
        )
        .await;
    assert_eq!(dash["from"], "2026-11-01");
    // (count, met, median, p90) per step; nearest rank over two values: the median is the
    // smaller, the p90 the larger.
    let expect = [
        ("collect", 2, 2, 0, 0),
        ("handover", 2, 2, 30, 170),
        ("edit", 2, 2, 30, 120),
        ("review", 2, 1, 20, 90),
        ("publish", 2, 1, 10, 30),
    ];
    for (id, count, met, median, p90) in expect {
        let s = step(&dash, "sop-a", id);
        assert_eq!(s["count"], count, "{id}: {s}");
        assert_eq!(s["met"], met, "{id}: {s}");
        assert_eq!(s["median_minutes"], median, "{id}: {s}");
        assert_eq!(s["p90_minutes"], p90, "{id}: {s}");
        assert_eq!(s["in_progress"], 0, "{id}: {s}");
    }
    assert_eq!(step(&dash, "sop-a", "review")["met_rate"], 0.5);
    assert_eq!(step(&dash, "sop-a", "review")["standard_minutes"], 60);
    let sop_d = dash["sops"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "sop-d")
        .unwrap();
    assert_eq!(sop_d["name_id"], "Gangguan Keamanan Jaringan");

    // A period that ends before anything happened counts nothing.
    let empty = ibu
        .ok(
            Method::GET,
            "/api/v1/dashboard?from=2026-11-01&to=2026-11-22",
            None,
        )
        .await;
    assert_eq!(step(&empty, "sop-a", "review")["count"], 0);
    assert!(step(&empty, "sop-a", "review")["met_rate"].is_null());

    // The same figures in the report's CSV.
    let (s, ct, csv) = ibu
        .file("/api/v1/reports/activity?from=2026-11-01&to=2026-11-30&format=csv&lang=en")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.starts_with("text/csv"), "{ct}");
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&csv[..]);
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    let find = |first: &str| {
        rows.iter()
            .find(|r| r[0] == first)
            .unwrap_or_else(|| panic!("no row {first:?} in {rows:?}"))
    };
    assert_eq!(find("Bidang IKP")[1], "1");
    assert_eq!(find("Bidang TIK")[1], "1");
    assert_eq!(find("Total")[1], "2");
    let review = rows
        .iter()
        .find(|r| r.len() > 6 && r[1].starts_with("Filter the edited information"))
        .unwrap();
    // No., step, standard, ended, met, median, p90, in progress.
    assert_eq!(review[2], "1 h");
    assert_eq!(review[3], "2");
    assert_eq!(review[4], "1 (50%)");
    assert_eq!(review[5], "20 min");
    assert_eq!(review[6], "1 h 30 min");
    let handover = rows
        .iter()
        .find(|r| r.len() > 6 && r[1].starts_with("Hand the material over"))
        .unwrap();
    assert_eq!(handover[6], "2 h 50 min");

    // The PDF says the same, in Indonesian by default.
    let (s, ct, pdf) = ibu
        .file("/api/v1/reports/activity?from=2026-11-01&to=2026-11-30")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(ct, "application/pdf");
    let text = pdftotext(&pdf);
    assert!(text.contains("Laporan Kegiatan Periodik"), "{text}");
    assert!(text.contains("Periode: 2026-11-01 – 2026-11-30"), "{text}");
    assert!(text.contains("Bidang TIK 1"), "{text}");
    assert!(text.contains("1 (50%) 20 menit 1 jam 30 menit"), "{text}");
}

#[tokio::test]
async fn activity_report_docx_opens_in_libreoffice() {
    let t = TestHub::start().await;
    walk_two_items(&t).await;
    let putu = t.login("putu").await;
    let (s, ct, docx) = putu
        .file("/api/v1/reports/activity?from=2026-11-23&to=2026-11-24&format=docx")
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(ct.contains("wordprocessingml"), "{ct}");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("laporan.docx");
    std::fs::write(&input, &docx).unwrap();
    let out = Command::new("libreoffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            dir.path().join("profile").display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&input)
        .output()
        .expect("libreoffice runs");
    let pdf = std::fs::read(dir.path().join("laporan.pdf")).unwrap_or_else(|_| {
        panic!(
            "LibreOffice did not convert: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let text = pdftotext(&pdf);
    assert!(text.contains("Laporan Kegiatan Periodik"), "{text}");
    assert!(text.contains("Bidang IKP"), "{text}");
    assert!(text.contains("Filtering (penyaringan) informasi"), "{text}");
    assert!(text.contains("1 (50%)"), "{text}");
}

#[tokio::test]
async fn site_status_report_counts_checks_incidents_and_restores() {
    let t = TestHub::start().await;
    {
        // The guard's and the restores' records as the guard and site backups write them.
        let db = t.db();
        let target: i64 = db
            .query_row(
                "SELECT id FROM publish_targets ORDER BY id LIMIT 1",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let admin_id: i64 = db
            .query_row("SELECT id FROM users WHERE username = 'admin'", [], |r| {
                r.get(0)
            })
            .unwrap();
        db.execute(
            "INSERT INTO guard_pages (id, target_id, url, source, interval_secs, next_check_at, created_at)
             VALUES (1, ?1, 'https://dinas.example.go.id/', 'home', 600, ?2, ?2)",
            rusqlite::params![target, wita(20, 8, 0)],
        )
        .unwrap();
        let finding = r#"[{"kind":"gambling","message":"m","evidence":["slot gacor"]}]"#;
        for (at, status, findings) in [
            (wita(23, 8, 0), Some(200), "[]"),
            (wita(23, 8, 10), Some(200), finding),
            (wita(23, 8, 20), None, "[]"),
            // Outside the period: not counted.
            (wita(2, 8, 0), Some(200), "[]"),
        ] {
            db.execute(
                "INSERT INTO guard_checks (page_id, at, status, findings, elapsed_ms)
                 VALUES (1, ?1, ?2, ?3, 5)",
                rusqlite::params![at, status, findings],
            )
            .unwrap();
        }
        db.execute(
            "INSERT INTO guard_incidents (id, target_id, page_id, url, kinds, state, opened_at,
                 last_seen_at, count, findings, resolved_at, resolved_by, resolution_note)
             VALUES (7, ?1, 1, 'https://dinas.example.go.id/', '[\"cloaking\",\"gambling\"]',
                 'resolved', ?2, ?2, 3, ?3, ?4, 'admin', 'dipulihkan dari cadangan')",
            rusqlite::params![target, wita(23, 8, 10), finding, wita(23, 8, 40)],
        )
        .unwrap();
        let check = |n: usize| {
            let findings: Vec<Value> = (0..n)
                .map(|_| json!({"kind": "gambling", "message": "m", "evidence": []}))
                .collect();
            json!([{"url": "https://dinas.example.go.id/", "checked_at": wita(23, 8, 30),
                    "status": 200, "sha256": null, "findings": findings}])
            .to_string()
        };
        db.execute(
            "INSERT INTO site_restores (target_id, scope, reason, requested_by, started_at,
                 finished_at, state, normal, actions, before, after, incident_id)
             VALUES (?1, 'all', 'pemulihan setelah injeksi judi', ?2, ?3, ?3, 'done', 1, '[]', ?4, ?5, 7)",
            rusqlite::params![target, admin_id, wita(23, 8, 30), check(2), check(0)],
        )
        .unwrap();
    }
    let admin = t.login("admin").await;
    let (s, _, csv) = admin
        .file("/api/v1/reports/site-status?from=2026-11-20&to=2026-11-23&format=csv")
        .await;
    assert_eq!(s, StatusCode::OK);
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(&csv[..]);
    let rows: Vec<Vec<String>> = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    // Checks: 3 in the period, 1 with findings, 1 unreachable.
    let total = rows.iter().find(|r| r[0] == "Jumlah").unwrap();
    assert_eq!(&total[1..4], ["3", "1", "1"]);
    // Incidents by kind.
    assert!(rows.iter().any(|r| r == &["Judi online", "1"]), "{rows:?}");
    assert!(
        rows.iter().any(|r| r == &["Cloaking (mesin pencari)", "1"]),
        "{rows:?}"
    );
    // The incident and the restore with its proof.
    let incident = rows.iter().find(|r| r[0] == "7").unwrap();
    assert_eq!(incident[4], "3×");
    assert_eq!(incident[5], "selesai");
    assert_eq!(incident[7], "dipulihkan dari cadangan");
    let restore = rows
        .iter()
        .find(|r| r.len() > 8 && r[4] == "pemulihan setelah injeksi judi")
        .unwrap();
    assert_eq!(restore[5], "7");
    assert_eq!(restore[6], "1 halaman, 2 temuan");
    assert_eq!(restore[7], "1 halaman, 0 temuan");
    assert_eq!(restore[8], "website normal");

    let (s, _, pdf) = admin
        .file("/api/v1/reports/site-status?from=2026-11-20&to=2026-11-23&lang=en")
        .await;
    assert_eq!(s, StatusCode::OK);
    let text = pdftotext(&pdf);
    assert!(text.contains("Website status and damage report"), "{text}");
    assert!(text.contains("Online gambling"), "{text}");
    assert!(text.contains("site normal"), "{text}");
}

#[tokio::test]
async fn reports_are_refused_to_reporters_and_bad_requests_get_400() {
    let t = TestHub::start().await;
    for user in ["rina", "eko"] {
        let s = t.login(user).await;
        for path in [
            "/api/v1/dashboard",
            "/api/v1/reports/activity",
            "/api/v1/reports/site-status?format=csv",
        ] {
            let (status, v) = s.req(Method::GET, path, None).await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{user} {path}: {v}");
            assert_eq!(v["code"], "forbidden");
        }
        // The SOP itself is for everyone.
        let (status, ct, body) = s.file("/api/v1/reports/sops/sop-a?format=csv").await;
        assert_eq!(status, StatusCode::OK);
        assert!(ct.starts_with("text/csv"));
        assert!(String::from_utf8_lossy(&body).contains("Pengumpulan dan penyusunan data-data"));
    }
    // Refusals are audited.
    let n: i64 = t
        .db()
        .query_row(
            "SELECT count(*) FROM audit WHERE kind = 'refused' AND data LIKE '%report.activity%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 2);

    let ibu = t.login("ibu").await;
    for (path, field) in [
        ("/api/v1/reports/activity?format=xlsx", "format"),
        ("/api/v1/reports/activity?lang=fr", "lang"),
        ("/api/v1/reports/activity?from=2026-13-01", "from"),
        ("/api/v1/reports/site-status?from=kemarin", "from"),
        (
            "/api/v1/reports/activity?from=2026-11-10&to=2026-11-01",
            "to",
        ),
        ("/api/v1/dashboard?from=2025-01-01&to=2026-11-01", "to"),
        ("/api/v1/reports/sops/sop-a?format=odt", "format"),
    ] {
        let (status, v) = ibu.req(Method::GET, path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {v}");
        assert_eq!(v["code"], "validation", "{path}: {v}");
        assert_eq!(v["field"], field, "{path}: {v}");
    }
    let (status, v) = ibu
        .req(Method::GET, "/api/v1/reports/sops/sop-z", None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");

    // Without dates: this month so far.
    let d = ibu.ok(Method::GET, "/api/v1/dashboard", None).await;
    assert_eq!(
        (d["from"].as_str(), d["to"].as_str()),
        (Some("2026-11-01"), Some("2026-11-23"))
    );
}

#[tokio::test]
async fn period_queries_walk_indexes_not_the_whole_items_table() {
    let t = TestHub::start().await;
    let db = t.db();
    let plan = |sql: &str| -> String {
        let mut st = db.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
        st.query_map([], |r| r.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .join("; ")
    };
    // The reports' period filters (crates/warta-hub/src/reports.rs).
    let p = plan(
        "SELECT unit, count(*) FROM items WHERE published_at >= '2026-11-01' AND published_at < '2026-12-01' GROUP BY unit",
    );
    assert!(p.contains("USING INDEX items_published_at"), "{p}");
    let p = plan(
        "SELECT v.step FROM step_visits v JOIN items i ON i.id = v.item_id
         WHERE i.sop = 'sop-a' AND v.entered_at >= '2026-11-01' AND v.entered_at < '2026-12-01'",
    );
    assert!(p.contains("USING INDEX step_visits_entered"), "{p}");
    let p = plan(
        "SELECT s.step FROM incident_steps s JOIN incidents i ON i.id = s.incident_id
         WHERE i.sop = 'sop-d' AND s.entered_at >= '2026-11-01' AND s.entered_at < '2026-12-01'",
    );
    assert!(p.contains("USING INDEX incident_steps_entered"), "{p}");
}
