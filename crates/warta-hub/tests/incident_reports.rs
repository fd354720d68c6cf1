//! Reports of incidents (SOP-D) against figures worked out by hand: two incidents walked
//! through SOP-D at known times with an injected clock, on a real SQLite database; the
//! dashboard's per-step figures, the activity report's incident counts, and one incident's
//! report and completion report read back with pdftotext. Run under `scripts/with-keyring`.

use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use warta_api::{
    IncidentActionRequest, NewIncident, NewUser, Role, SopRoleAssignment, SopRolesInput,
};
use warta_hub::reports::ReportQuery;
use warta_hub::{Caller, FixedClock, HubConfig, HubError, Office};

/// A local time in WITA (UTC+8), as UTC. 3 November 2026 is a Tuesday.
fn wita(d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Makassar
        .with_ymd_and_hms(2026, 11, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

struct T {
    _dir: tempfile::TempDir,
    office: Arc<Office>,
    clock: Arc<FixedClock>,
}

impl T {
    fn new() -> T {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(wita(3, 9, 0)));
        let office = Arc::new(Office::open(HubConfig::solo(dir.path()), clock.clone()).unwrap());
        let mut ids = Vec::new();
        for (name, roles) in [
            ("admin", vec![Role::Admin]),
            ("pemeriksa", vec![Role::Reporter]),
            ("teknisi", vec![Role::Reporter]),
            ("kasi", vec![Role::Official]),
            ("kabid", vec![Role::Official]),
            ("rina", vec![Role::Reporter]),
        ] {
            let u = office
                .add_user(
                    None,
                    NewUser {
                        username: name.into(),
                        display_name: format!("{name} display"),
                        password: "password-123".into(),
                        roles,
                        unit: String::new(),
                    },
                )
                .unwrap();
            ids.push(u.id);
        }
        let admin = office.user_caller("admin").unwrap();
        office.set_holidays(&admin, vec![]).unwrap();
        let roles = [
            ("examiner", ids[1]),
            ("tech_team", ids[2]),
            ("supervisor", ids[3]),
            ("administrator", ids[4]),
        ];
        office
            .set_sop_roles(
                &admin,
                "sop-d",
                SopRolesInput {
                    roles: roles
                        .iter()
                        .map(|(role, id)| SopRoleAssignment {
                            role: (*role).into(),
                            user_ids: vec![*id],
                        })
                        .collect(),
                },
            )
            .unwrap();
        T {
            _dir: dir,
            office,
            clock,
        }
    }

    fn c(&self, user: &str) -> Caller {
        self.office.user_caller(user).unwrap()
    }

    fn at(&self, t: DateTime<Utc>) {
        self.clock.advance(t - self.office.now());
    }

    fn act(&self, user: &str, id: i64, action: &str, instruction: Option<&str>) {
        let assignee_id = (action == "dispose").then(|| self.c("kasi").id);
        self.office
            .act_incident(
                &self.c(user),
                id,
                action,
                IncidentActionRequest {
                    note: Some(format!("catatan {action}")),
                    assignee_id,
                    instruction: instruction.map(str::to_owned),
                },
            )
            .unwrap_or_else(|e| panic!("{action}: {e}"));
    }
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

fn query(format: &str, lang: &str) -> ReportQuery {
    ReportQuery {
        from: Some("2026-11-01".into()),
        to: Some("2026-11-30".into()),
        format: Some(format.into()),
        lang: Some(lang.into()),
    }
}

/// Incident 1, Tue 3 Nov: logged 09:00; forwarded 09:30 (log 30 min, standard 1 d: met);
/// disposed 10:00 (dispose 30 min, standard 20 min: missed); directed 11:00 (direct 60 min,
/// 1-2 h: met); resolved directly 13:00 (check 120 min, 1 d: met). Closed after 240 working
/// minutes.
///
/// Incident 2, Tue 3 Nov: logged 13:00; forwarded 13:10 (10 min); disposed 13:20 (10 min:
/// met); directed 15:00 (100 min: met); still in "check".
#[test]
fn incident_figures_and_reports_match_the_hand_computed_fixture() {
    let t = T::new();
    let new = |title: &str| {
        t.office
            .create_incident(
                &t.c("pemeriksa"),
                NewIncident {
                    sop: "sop-d".into(),
                    title: title.into(),
                    description: "Lalu lintas aneh dari server DNS kantor.".into(),
                },
            )
            .unwrap()
            .summary
            .id
    };
    let one = new("Server DNS diserang");
    t.at(wita(3, 9, 30));
    t.act("pemeriksa", one, "forward", None);
    t.at(wita(3, 10, 0));
    t.act("kabid", one, "dispose", Some("Periksa log firewall"));
    t.at(wita(3, 11, 0));
    t.act("kasi", one, "direct", Some("Blokir alamat penyerang"));
    t.at(wita(3, 13, 0));
    t.act("teknisi", one, "resolve_directly", None);

    let two = new("Akun surel diretas");
    t.at(wita(3, 13, 10));
    t.act("pemeriksa", two, "forward", None);
    t.at(wita(3, 13, 20));
    t.act("kabid", two, "dispose", Some("Ganti kata sandi"));
    t.at(wita(3, 15, 0));
    t.act("kasi", two, "direct", Some("Periksa akun lain"));

    let admin = t.c("admin");
    let dash = t
        .office
        .dashboard(&admin, Some("2026-11-01"), Some("2026-11-30"))
        .unwrap();
    let d = dash.sops.iter().find(|s| s.id == "sop-d").unwrap();
    assert!(d.tracked);
    let step = |id: &str| d.steps.iter().find(|s| s.step == id).unwrap();
    // (count, met, in progress, median, p90): nearest rank over two values is the smaller,
    // then the larger.
    for (id, count, met, open, median, p90) in [
        ("log", 2, 2, 0, Some(10), Some(30)),
        ("dispose", 2, 1, 0, Some(10), Some(30)),
        ("direct", 2, 2, 0, Some(60), Some(100)),
        ("check", 1, 1, 1, Some(120), Some(120)),
        ("consult", 0, 0, 0, None, None),
    ] {
        let s = step(id);
        assert_eq!(
            (
                s.count,
                s.met,
                s.in_progress,
                s.median_minutes,
                s.p90_minutes
            ),
            (count, met, open, median, p90),
            "{id}"
        );
    }
    assert_eq!(step("dispose").met_rate, Some(0.5));
    assert_eq!(step("dispose").standard_minutes, Some(20));
    // SOP-B runs in the hub too, without incidents yet; SOP-C does not run here.
    let b = dash.sops.iter().find(|s| s.id == "sop-b").unwrap();
    assert!(b.tracked && b.steps.iter().all(|s| s.count == 0));
    assert!(!dash.sops.iter().find(|s| s.id == "sop-c").unwrap().tracked);

    // The activity report counts them: opened 2, closed 1, still open 1, no loops.
    let csv = t
        .office
        .activity_report(&admin, &query("csv", "en"))
        .unwrap();
    let text = String::from_utf8(csv.bytes).unwrap();
    assert!(
        text.lines()
            .any(|l| l == "SOP-D: Network security incidents,2,1,1,0"),
        "{text}"
    );
    assert!(text.contains("Act on the disposition and direct the technical team"));

    // Incident 1's report: every step with its time, the instructions, the standard.
    let report = t
        .office
        .incident_report(&t.c("kasi"), one, &query("pdf", "id"), false)
        .unwrap();
    assert_eq!(report.name, format!("laporan-insiden-{one}.pdf"));
    let text = pdftotext(&report.bytes);
    for needle in [
        "Laporan Insiden Keamanan",
        "Judul: Server DNS diserang",
        "Lalu lintas aneh dari server DNS kantor.",
        "Melakukan disposisi untuk ditindaklanjuti",
        "Instruksi: Periksa log firewall",
        "Kepada: kasi display",
        "30 menit 20 menit tidak",
        "1 jam 1-2 jam ya",
    ] {
        assert!(text.contains(needle), "{needle:?} missing: {text}");
    }

    // Its completion report: the outcome and the whole time against SOP-D's 2-5 days.
    let done = t
        .office
        .incident_report(&admin, one, &query("pdf", "en"), true)
        .unwrap();
    let text = pdftotext(&done.bytes);
    for needle in [
        "Incident completion report",
        "Working time in all: 4 h (standard",
        "within the standard",
        "Verification loops: 0",
        "Receive and check the report",
    ] {
        assert!(text.contains(needle), "{needle:?} missing: {text}");
    }

    // No completion report while open; someone with no part in it does not see it at all.
    let e = t
        .office
        .incident_report(&admin, two, &query("pdf", "id"), true)
        .unwrap_err();
    assert!(
        matches!(e, HubError::Validation { ref field, .. } if field == "id"),
        "{e}"
    );
    let e = t
        .office
        .incident_report(&t.c("rina"), one, &query("pdf", "id"), false)
        .unwrap_err();
    assert!(matches!(e, HubError::NotFound(_)), "{e}");
    // DOCX and CSV come out too.
    let docx = t
        .office
        .incident_report(&admin, one, &query("docx", "id"), false)
        .unwrap();
    assert!(docx.bytes.starts_with(b"PK"));
    let csv = t
        .office
        .incident_report(&admin, one, &query("csv", "id"), false)
        .unwrap();
    assert!(
        String::from_utf8(csv.bytes)
            .unwrap()
            .contains("Blokir alamat penyerang")
    );
}
