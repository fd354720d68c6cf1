//! Incidents (issue 7): SOP-D and SOP-B run from their definitions in the hub, on the demo
//! office (one user per SOP role), a real SQLite database, the real OS keyring (run under
//! `scripts/with-keyring`) and an injected clock. The website guard's SOP-B incident is opened
//! by a real check of a loopback test page. Nothing is timed.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use axum::response::{Html, IntoResponse};
use chrono::{DateTime, Duration, TimeZone, Utc};
use chrono_tz::Asia::Makassar;
use rusqlite::Connection;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use warta_api::{
    GuardSiteInput, IncidentActionRequest, IncidentDetail, NewIncident, PublishTargetInput,
    SopRoleAssignment, SopRolesInput,
};
use warta_hub::{Caller, FixedClock, HubConfig, HubError, Office};
use warta_sop::Definition;

/// Who holds which role in the demo office.
const HOLDERS: &[(&str, &str, &str)] = &[
    ("sop-d", "examiner", "pemeriksa"),
    ("sop-d", "tech_team", "teknisi"),
    ("sop-d", "supervisor", "kasi"),
    ("sop-d", "administrator", "kabid"),
    ("sop-b", "division", "aptika"),
    ("sop-b", "head", "kabid.aptika"),
    ("sop-b", "web_team", "webteam"),
];

fn holder(sop: &str, role: &str) -> &'static str {
    HOLDERS
        .iter()
        .find(|(s, r, _)| *s == sop && *r == role)
        .map(|(_, _, u)| *u)
        .unwrap_or_else(|| panic!("nobody holds {sop} {role}"))
}

/// A local time in WITA (UTC+8), as UTC.
fn wita(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Makassar
        .with_ymd_and_hms(y, mo, d, h, mi, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn def(sop: &str) -> Definition {
    warta_sop::builtin()
        .into_iter()
        .find(|d| d.id == sop)
        .unwrap()
}

struct Office_ {
    _dir: tempfile::TempDir,
    office: Arc<Office>,
    clock: Arc<FixedClock>,
}

fn demo_office(at: DateTime<Utc>) -> Office_ {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(at));
    let mut config = HubConfig::solo(dir.path());
    config.demo = true;
    let office = Arc::new(Office::open(config, clock.clone()).unwrap());
    Office_ {
        _dir: dir,
        office,
        clock,
    }
}

impl Office_ {
    fn c(&self, user: &str) -> Caller {
        self.office.user_caller(user).unwrap()
    }

    fn report(&self, sop: &str, title: &str) -> IncidentDetail {
        self.office
            .create_incident(
                &self.c("reporter"),
                NewIncident {
                    sop: sop.into(),
                    title: title.into(),
                    description: "Lalu lintas aneh dari server DNS.".into(),
                },
            )
            .unwrap()
    }

    /// What the action needs, as a holder of the step would give it.
    fn request(&self, d: &Definition, step: &str, action: &str) -> IncidentActionRequest {
        let a = d.action(step, action).unwrap();
        IncidentActionRequest {
            note: a.requires_note.then(|| format!("catatan untuk {action}")),
            instruction: a
                .requires_instruction
                .then(|| format!("instruksi untuk {action}")),
            assignee_id: a.requires_assignee.then(|| {
                let role = d.step(&a.to).unwrap().actor.clone().unwrap();
                self.c(holder(&d.id, &role)).id
            }),
        }
    }

    /// The holder of the current step's role takes `action`.
    fn act(&self, id: i64, action: &str) -> IncidentDetail {
        let now = self.office.get_incident(&self.c("admin"), id).unwrap();
        let d = def(&now.summary.sop);
        let step = now.summary.current.step.clone();
        let role = d.step(&step).unwrap().actor.clone().unwrap();
        let req = self.request(&d, &step, action);
        self.office
            .act_incident(&self.c(holder(&d.id, &role)), id, action, req)
            .unwrap_or_else(|e| panic!("{action} in {step}: {e}"))
    }

    fn detail(&self, id: i64) -> IncidentDetail {
        self.office.get_incident(&self.c("admin"), id).unwrap()
    }

    fn db(&self) -> Connection {
        Connection::open(self._dir.path().join("warta.db")).unwrap()
    }

    /// Audit entries linked to the incident, by kind.
    fn audit_kinds(&self, id: i64) -> Vec<String> {
        let db = self.db();
        let mut st = db
            .prepare(
                "SELECT a.kind FROM incident_audit l JOIN audit a ON a.seq = l.seq
                 WHERE l.incident_id = ?1 ORDER BY a.seq",
            )
            .unwrap();
        st.query_map([id], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }
}

/// The shortest way from the SOP's start to `target`: the actions, in order.
fn path_to(d: &Definition, target: &str) -> Vec<(String, String)> {
    let mut prev: HashMap<String, (String, String)> = HashMap::new();
    let mut queue = VecDeque::from([d.start.clone()]);
    while let Some(at) = queue.pop_front() {
        if at == target {
            break;
        }
        for a in &d.step(&at).unwrap().actions {
            if a.to != d.start && !prev.contains_key(&a.to) {
                prev.insert(a.to.clone(), (at.clone(), a.id.clone()));
                queue.push_back(a.to.clone());
            }
        }
    }
    let mut out = Vec::new();
    let mut at = target.to_string();
    while at != d.start {
        let (from, action) = prev[&at].clone();
        out.push((from.clone(), action));
        at = from;
    }
    out.reverse();
    out
}

fn step_ids(d: &IncidentDetail) -> Vec<&str> {
    d.history.iter().map(|v| v.step.as_str()).collect()
}

#[test]
fn sop_d_full_path_with_escalation_and_two_verification_loops() {
    // Monday 2 November 2026, 08:00 WITA: office hours.
    let t = demo_office(wita(2026, 11, 2, 8, 0));
    let opened = t.report("sop-d", "Serangan DDoS pada server DNS");
    let id = opened.summary.id;
    assert_eq!(opened.summary.state, "open");
    assert_eq!(opened.summary.source, "form");
    assert_eq!(opened.summary.current.step, "log");
    assert_eq!(opened.summary.current.actor.as_deref(), Some("examiner"));
    // "1d" entered at the start of a working day: due at its close.
    assert_eq!(
        opened.summary.current.due_at,
        Some(wita(2026, 11, 2, 16, 0))
    );
    assert_eq!(opened.elapsed.total, "2-5 d");
    assert_eq!(opened.elapsed.total_max_minutes, Some(5 * 8 * 60));

    let steps = [
        ("forward", "dispose"),
        ("dispose", "direct"),
        ("direct", "check"),
        ("escalate", "consult"),
        ("consult", "advise"),
        ("advise", "resolve"),
        ("finish", "report_result"),
        ("report", "verify"),
        ("incomplete", "resolve"),
        ("finish", "report_result"),
        ("report", "verify"),
        ("incomplete", "resolve"),
        ("finish", "report_result"),
        ("report", "verify"),
        ("complete", "acknowledge"),
        ("acknowledge", "notify_team"),
        ("notify", "forward_outcome"),
        ("forward", "closed"),
    ];
    let mut loops = 0;
    for (action, to) in steps {
        t.clock.advance(Duration::minutes(15));
        let d = t.act(id, action);
        if action == "incomplete" {
            loops += 1;
        }
        assert_eq!(d.summary.current.step, to, "after {action}");
        assert_eq!(d.summary.loops, loops, "after {action}");
    }
    let d = t.detail(id);
    assert_eq!(d.summary.loops, 2);
    assert_eq!(d.summary.state, "closed");
    assert_eq!(d.final_step.as_deref(), Some("closed"));
    assert!(d.summary.current.is_final);
    assert!(d.actions.is_empty());
    assert_eq!(
        d.summary.closed_at,
        Some(wita(2026, 11, 2, 8, 0) + Duration::minutes(15 * 18))
    );

    // The history: every visit in order, exactly as it happened.
    let mut expected = vec!["log"];
    expected.extend(steps.iter().map(|(_, to)| *to));
    assert_eq!(step_ids(&d), expected);
    let start = wita(2026, 11, 2, 8, 0);
    for (i, v) in d.history.iter().enumerate() {
        assert_eq!(
            v.entered_at,
            start + Duration::minutes(15 * i as i64),
            "visit {i}"
        );
        if i + 1 < d.history.len() {
            assert_eq!(
                v.left_at,
                Some(start + Duration::minutes(15 * (i as i64 + 1)))
            );
            assert_eq!(v.action.as_deref(), Some(steps[i].0));
            // All in office hours on a Monday: 15 working minutes each.
            assert_eq!(v.actual_minutes, 15, "visit {i}");
            assert_eq!(v.met, Some(true), "visit {i} ({})", v.step);
        } else {
            assert_eq!(v.left_at, None);
            assert_eq!(v.action, None);
        }
    }
    // Who acted: the holder of each step's role.
    let actors: Vec<&str> = d
        .history
        .iter()
        .filter_map(|v| v.actor.as_deref())
        .collect();
    assert_eq!(actors[0], "Agus Pemeriksa TI");
    assert_eq!(actors[1], "Bambang Kabid TIK");
    assert_eq!(actors[2], "Siti Kasi Keamanan Jaringan");
    assert_eq!(actors[3], "Tono Tim Teknis");
    // The disposition named to whom and the instruction; directing gave an instruction.
    let dispose = &d.history[1];
    assert_eq!(dispose.payload.assignee_id, Some(t.c("kasi").id));
    assert_eq!(
        dispose.payload.assignee.as_deref(),
        Some("Siti Kasi Keamanan Jaringan")
    );
    assert_eq!(
        dispose.payload.instruction.as_deref(),
        Some("instruksi untuk dispose")
    );
    assert_eq!(
        d.history[2].payload.instruction.as_deref(),
        Some("instruksi untuk direct")
    );
    assert_eq!(
        d.assignee.as_ref().map(|u| u.username.as_str()),
        Some("kasi")
    );
    // The send-backs kept their reason.
    let notes: Vec<&str> = d
        .history
        .iter()
        .filter(|v| v.action.as_deref() == Some("incomplete"))
        .map(|v| v.note.as_deref().unwrap())
        .collect();
    assert_eq!(
        notes,
        ["catatan untuk incomplete", "catatan untuk incomplete"]
    );
    // The whole incident took 18 × 15 working minutes, well within 2-5 working days.
    assert_eq!(d.elapsed.working_minutes, 18 * 15);
    assert!(!d.elapsed.over);

    // Every change is in the audit log, linked to the incident, and the chain holds.
    let kinds = t.audit_kinds(id);
    assert_eq!(kinds[0], "incident.created");
    assert_eq!(kinds.iter().filter(|k| *k == "incident.action").count(), 18);
    let timeline = t.office.incident_timeline(&t.c("kasi"), id).unwrap();
    assert_eq!(timeline.len(), kinds.len());
    let loops_back: Vec<_> = timeline
        .iter()
        .filter(|e| e.action.as_deref() == Some("incomplete"))
        .collect();
    assert_eq!(loops_back.len(), 2);
    assert_eq!(loops_back[0].from_step.as_deref(), Some("verify"));
    assert_eq!(loops_back[0].to_step.as_deref(), Some("resolve"));
    assert!(t.office.verify_audit(None).unwrap().intact);
}

#[test]
fn sop_d_easy_path_ends_resolved_at_step_four() {
    let t = demo_office(wita(2026, 11, 3, 9, 0));
    let id = t.report("sop-d", "Akun surel diretas").summary.id;
    for action in ["forward", "dispose", "direct", "resolve_directly"] {
        t.clock.advance(Duration::minutes(10));
        t.act(id, action);
    }
    let d = t.detail(id);
    assert_eq!(d.summary.state, "closed");
    assert_eq!(d.final_step.as_deref(), Some("resolved"));
    assert_eq!(d.summary.loops, 0);
    assert_eq!(
        step_ids(&d),
        ["log", "dispose", "direct", "check", "resolved"]
    );
    assert_eq!(d.elapsed.working_minutes, 40);
    // Closed: nobody's task any more, and nothing more can be done.
    assert!(t.office.incident_tasks(&t.c("teknisi")).unwrap().is_empty());
    let e = t
        .office
        .act_incident(
            &t.c("teknisi"),
            id,
            "finish",
            IncidentActionRequest::default(),
        )
        .unwrap_err();
    assert!(matches!(e, HubError::InvalidTransition { ref allowed, .. } if allowed.is_empty()));
}

#[test]
fn every_sop_d_role_and_action_exactly_the_holder_succeeds() {
    let t = demo_office(wita(2026, 11, 4, 8, 0));
    let d = def("sop-d");
    // Everyone who might try: the four SOP-D roles, an admin, a reporter without SOP roles,
    // and an SOP-B role holder.
    let people = [
        "pemeriksa",
        "teknisi",
        "kasi",
        "kabid",
        "admin",
        "reporter",
        "aptika",
    ];
    let mut tried = 0;
    for step in d.steps.iter().filter(|s| !s.is_final) {
        let role = step.actor.clone().unwrap();
        let allowed = holder("sop-d", &role);
        for action in &step.actions {
            let id = t
                .report("sop-d", &format!("{} / {}", step.id, action.id))
                .summary
                .id;
            for (from, a) in path_to(&d, &step.id) {
                assert_eq!(t.detail(id).summary.current.step, from);
                t.act(id, &a);
            }
            assert_eq!(t.detail(id).summary.current.step, step.id);
            let req = t.request(&d, &step.id, &action.id);
            for who in people.iter().filter(|p| **p != allowed) {
                let caller = t.c(who);
                // It is not on their list of actions either.
                if let Ok(seen) = t.office.get_incident(&caller, id) {
                    assert!(
                        seen.actions.is_empty(),
                        "{who} offered actions in {}",
                        step.id
                    );
                }
                let e = t
                    .office
                    .act_incident(&caller, id, &action.id, req.clone())
                    .unwrap_err();
                match (e, *who) {
                    (HubError::Forbidden(_), _) => {}
                    // Who may not see the incident does not learn it exists.
                    (HubError::NotFound(_), "aptika") => {}
                    (e, _) => panic!("{who} {} in {}: {e:?}", action.id, step.id),
                }
                tried += 1;
            }
            let before = t.detail(id);
            assert_eq!(
                before.summary.current.step, step.id,
                "a refusal changed nothing"
            );
            // The holder sees exactly the step's actions and may take this one.
            let offered: Vec<String> = t
                .office
                .get_incident(&t.c(allowed), id)
                .unwrap()
                .actions
                .into_iter()
                .map(|a| a.id)
                .collect();
            let all: Vec<String> = step.actions.iter().map(|a| a.id.clone()).collect();
            assert_eq!(offered, all);
            let after = t
                .office
                .act_incident(&t.c(allowed), id, &action.id, req)
                .unwrap();
            assert_eq!(after.summary.current.step, action.to);
            tried += 1;
        }
    }
    // 14 actions over 12 steps, 7 people each.
    assert_eq!(tried, 14 * 7);
    // The refusals are in the audit log.
    let refused: i64 = t
        .db()
        .query_row(
            "SELECT count(*) FROM audit WHERE kind = 'refused' AND data LIKE '%incident.action.%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // aptika cannot see SOP-D incidents (not found, not a refusal).
    assert_eq!(refused, 14 * 5);
    // An action of another step: 409 with what the caller may do now.
    let id = t.report("sop-d", "salah langkah").summary.id;
    let e = t
        .office
        .act_incident(
            &t.c("pemeriksa"),
            id,
            "dispose",
            IncidentActionRequest::default(),
        )
        .unwrap_err();
    match e {
        HubError::InvalidTransition { allowed, .. } => assert_eq!(allowed, ["forward"]),
        e => panic!("{e:?}"),
    }
}

#[test]
fn due_times_follow_the_sop_calendar_across_a_weekend_and_a_holiday() {
    // Friday 20 November 2026, 10:00 WITA.
    let t = demo_office(wita(2026, 11, 20, 10, 0));
    let d = def("sop-d");
    // Friday 11:00 + 1 working hour: 30 minutes on Friday (closes 11:30), the weekend is
    // closed, 30 minutes on Monday from 08:00.
    let id = t.report("sop-d", "akhir pekan").summary.id;
    let path = path_to(&d, "consult");
    for (_, a) in &path[..path.len() - 1] {
        t.act(id, a);
    }
    t.clock.set(wita(2026, 11, 20, 11, 0));
    let x = t.act(id, &path.last().unwrap().1);
    assert_eq!(x.summary.current.step, "consult");
    assert_eq!(x.summary.current.entered_at, wita(2026, 11, 20, 11, 0));
    assert_eq!(x.summary.current.due_at, Some(wita(2026, 11, 23, 8, 30)));

    // Friday 29 May 2026, 11:00: Monday 1 June is a public holiday (Pancasila), so Tuesday.
    assert!(
        t.office
            .holiday_list()
            .unwrap()
            .iter()
            .any(|h| h.date == "2026-06-01")
    );
    t.clock.set(wita(2026, 5, 29, 9, 0));
    let id = t.report("sop-d", "libur").summary.id;
    for (_, a) in &path[..path.len() - 1] {
        t.act(id, a);
    }
    t.clock.set(wita(2026, 5, 29, 11, 0));
    let x = t.act(id, &path.last().unwrap().1);
    assert_eq!(x.summary.current.due_at, Some(wita(2026, 6, 2, 8, 30)));

    // A "1d" step entered after closing time is due at the next working day's close:
    // logged Friday 20 November 15:00 (after Friday's 11:30 close) → Monday 16:00.
    t.clock.set(wita(2026, 11, 20, 15, 0));
    let late = t.report("sop-d", "sore");
    assert_eq!(late.summary.current.due_at, Some(wita(2026, 11, 23, 16, 0)));

    // SOP-B runs around the clock: "assign" (10 min) entered Saturday 23:55 is due Sunday
    // 00:05; "receive" has no standard time ("–"), so no due time.
    t.clock.set(wita(2026, 11, 21, 23, 55));
    let b = t.report("sop-b", "situs lambat");
    assert_eq!(b.summary.current.step, "receive");
    assert_eq!(b.summary.current.due_at, None);
    assert_eq!(b.elapsed.total_max_minutes, None);
    let b = t.act(b.summary.id, "forward");
    assert_eq!(b.summary.current.due_at, Some(wita(2026, 11, 22, 0, 5)));
}

#[test]
fn an_overdue_step_is_announced_once_and_marked_in_my_tasks() {
    // Monday 9 November 2026, 09:00 WITA.
    let t = demo_office(wita(2026, 11, 9, 9, 0));
    let id = t.report("sop-d", "Port scanning").summary.id;
    let examiner = t.c("pemeriksa");
    let tasks = t.office.incident_tasks(&examiner).unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].id, id);
    assert!(!tasks[0].current.overdue);
    // Others' tasks do not list it.
    assert!(t.office.incident_tasks(&t.c("kasi")).unwrap().is_empty());
    assert!(
        t.office
            .incident_tasks(&t.c("reporter"))
            .unwrap()
            .is_empty()
    );

    // Nothing is due yet.
    assert_eq!(t.office.notify_overdue_incidents().unwrap(), 0);
    // "1d" from Monday 09:00 is due Tuesday 09:00; at Tuesday 09:01 it is overdue.
    let due = t.detail(id).summary.current.due_at.unwrap();
    assert_eq!(due, wita(2026, 11, 10, 9, 0));
    t.clock.set(due);
    assert_eq!(
        t.office.notify_overdue_incidents().unwrap(),
        0,
        "due, not past due"
    );
    t.clock.set(due + Duration::minutes(1));
    assert_eq!(t.office.notify_overdue_incidents().unwrap(), 1);
    // Once per step: later sweeps say nothing more.
    t.clock.advance(Duration::hours(5));
    assert_eq!(t.office.notify_overdue_incidents().unwrap(), 0);
    assert_eq!(t.office.notify_overdue_incidents().unwrap(), 0);
    let kinds = t.audit_kinds(id);
    assert_eq!(kinds.iter().filter(|k| *k == "incident.overdue").count(), 1);
    let d = t.detail(id);
    assert_eq!(
        d.history[0].overdue_notified_at,
        Some(due + Duration::minutes(1))
    );
    assert_eq!(d.history[0].met, Some(false));
    let tasks = t.office.incident_tasks(&examiner).unwrap();
    assert!(tasks[0].current.overdue);

    // The next step has its own due time and its own notice.
    t.act(id, "forward");
    assert_eq!(t.office.notify_overdue_incidents().unwrap(), 0);
    let d = t.detail(id);
    assert_eq!(d.history[0].met, Some(false), "left after its due time");
    t.clock
        .set(d.summary.current.due_at.unwrap() + Duration::minutes(1));
    assert_eq!(t.office.notify_overdue_incidents().unwrap(), 1);
    assert_eq!(t.office.notify_overdue_incidents().unwrap(), 0);
    assert_eq!(
        t.audit_kinds(id)
            .iter()
            .filter(|k| *k == "incident.overdue")
            .count(),
        2
    );
    // Tasks are ordered by due time: a newer incident due later comes after.
    let later = t.report("sop-d", "Later").summary.id;
    t.act(later, "forward");
    let kabid = t.office.incident_tasks(&t.c("kabid")).unwrap();
    assert_eq!(kabid.iter().map(|s| s.id).collect::<Vec<_>>(), [id, later]);
    assert!(kabid[0].current.overdue && !kabid[1].current.overdue);
}

#[test]
fn bad_input_is_refused_in_plain_words_and_changes_nothing() {
    let t = demo_office(wita(2026, 11, 10, 9, 0));
    let reporter = t.c("reporter");
    let admin = t.c("admin");
    let count = |t: &Office_| -> i64 {
        t.db()
            .query_row("SELECT count(*) FROM incidents", [], |r| r.get(0))
            .unwrap()
    };
    for (sop, says) in [("sop-x", "sop-x"), ("sop-a", "sop-a"), ("", "\"\"")] {
        let e = t
            .office
            .create_incident(
                &reporter,
                NewIncident {
                    sop: sop.into(),
                    title: "x".into(),
                    description: String::new(),
                },
            )
            .unwrap_err();
        assert_eq!(e.status(), 400, "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }
    let e = t
        .office
        .create_incident(
            &reporter,
            NewIncident {
                sop: "sop-d".into(),
                title: "  ".into(),
                description: String::new(),
            },
        )
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(count(&t), 0);

    let id = t.report("sop-d", "Malware").summary.id;
    t.act(id, "forward");
    let kabid = t.c("kabid");
    let snapshot = |t: &Office_| {
        let d = t.detail(id);
        (
            d.summary.current.step.clone(),
            d.history.len(),
            t.audit_kinds(id).len(),
        )
    };
    let before = snapshot(&t);
    let tries = [
        // The disposition without to whom.
        (
            IncidentActionRequest {
                instruction: Some("Tangani".into()),
                ..Default::default()
            },
            "assignee_id",
        ),
        // To a user who does not exist.
        (
            IncidentActionRequest {
                instruction: Some("Tangani".into()),
                assignee_id: Some(987_654),
                ..Default::default()
            },
            "assignee_id",
        ),
        // To a user without the supervisor role.
        (
            IncidentActionRequest {
                instruction: Some("Tangani".into()),
                assignee_id: Some(t.c("teknisi").id),
                ..Default::default()
            },
            "assignee_id",
        ),
        // Without the instruction.
        (
            IncidentActionRequest {
                assignee_id: Some(t.c("kasi").id),
                instruction: Some("   ".into()),
                ..Default::default()
            },
            "instruction",
        ),
    ];
    for (req, field) in tries {
        let e = t
            .office
            .act_incident(&kabid, id, "dispose", req)
            .unwrap_err();
        assert_eq!(e.status(), 400, "{e}");
        assert_eq!(e.to_api().field.as_deref(), Some(field), "{e}");
    }
    assert_eq!(snapshot(&t), before, "nothing changed");

    // verify → incomplete needs a reason.
    for a in [
        "dispose", "direct", "escalate", "consult", "advise", "finish", "report",
    ] {
        t.act(id, a);
    }
    let before = snapshot(&t);
    let e = t
        .office
        .act_incident(
            &t.c("kasi"),
            id,
            "incomplete",
            IncidentActionRequest {
                note: Some(" ".into()),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert_eq!(e.status(), 400);
    assert_eq!(e.to_api().field.as_deref(), Some("note"));
    assert_eq!(snapshot(&t), before);

    // Role membership: unknown SOP, unknown role, unknown user: 400 naming it.
    let set = |sop: &str, role: &str, ids: Vec<i64>| {
        t.office.set_sop_roles(
            &admin,
            sop,
            SopRolesInput {
                roles: vec![SopRoleAssignment {
                    role: role.into(),
                    user_ids: ids,
                }],
            },
        )
    };
    let e = set("sop-z", "examiner", vec![]).unwrap_err();
    assert!(e.status() == 400 && e.to_string().contains("sop-z"), "{e}");
    let e = set("sop-d", "juggler", vec![]).unwrap_err();
    assert!(
        e.status() == 400 && e.to_string().contains("juggler"),
        "{e}"
    );
    let e = set("sop-d", "examiner", vec![424_242]).unwrap_err();
    assert!(e.status() == 400 && e.to_string().contains("424242"), "{e}");
    let e = set("sop-a", "editor", vec![]).unwrap_err();
    assert_eq!(e.status(), 400);
    // Only admins read or set them (403, audited).
    let e = t.office.sop_roles(&kabid, "sop-d").unwrap_err();
    assert_eq!(e.status(), 403);
    // Nothing changed: the demo's holders are still there.
    let roles = t.office.sop_roles(&admin, "sop-d").unwrap();
    let held: BTreeMap<String, Vec<String>> = roles
        .roles
        .iter()
        .map(|r| {
            (
                r.role.clone(),
                r.users.iter().map(|u| u.username.clone()).collect(),
            )
        })
        .collect();
    for (sop, role, user) in HOLDERS.iter().filter(|h| h.0 == "sop-d") {
        let _ = sop;
        assert_eq!(held[*role], [user.to_string()]);
    }
    // An admin moves the examiner role to someone else: the old holder loses the action.
    set("sop-d", "examiner", vec![t.c("editor").id]).unwrap();
    let id2 = t.report("sop-d", "baru").summary.id;
    let e = t
        .office
        .act_incident(
            &t.c("pemeriksa"),
            id2,
            "forward",
            IncidentActionRequest::default(),
        )
        .unwrap_err();
    // The old examiner no longer holds any SOP-D role: the incident is not theirs to see.
    assert!(matches!(e, HubError::NotFound(_)), "{e:?}");
    t.office
        .act_incident(
            &t.c("editor"),
            id2,
            "forward",
            IncidentActionRequest::default(),
        )
        .unwrap();
}

// ---------- the website guard opens SOP-B incidents ----------

/// A defaced home page on loopback, on a runtime of its own.
fn start_defaced_site() -> String {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            let app = axum::Router::new()
                .route(
                    "/",
                    axum::routing::get(|| async {
                        Html(
                            "<html><head><title>Hacked by Anon4x</title></head><body>\
                             <h1>HACKED BY ANON4X</h1><p>Your security is low.</p></body></html>",
                        )
                        .into_response()
                    }),
                )
                .route(
                    "/sitemap.xml",
                    axum::routing::get(|| async { axum::http::StatusCode::NOT_FOUND }),
                );
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{}", rx.recv().unwrap())
}

#[test]
fn the_guard_opens_one_sop_b_incident_with_its_evidence_and_folds_repeats_into_it() {
    let base = start_defaced_site();
    let t = demo_office(wita(2026, 11, 11, 10, 0));
    let admin = t.c("admin");
    // Only the test site is watched (the hub's own site is not served here).
    t.office
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
    let target = t
        .office
        .add_publish_target(
            &admin,
            PublishTargetInput {
                name: "Portal".into(),
                kind: "webhook".into(),
                url: Some(format!("{base}/hook")),
                username: None,
                folder: None,
                git: false,
                enabled: true,
                secret: Some("kunci-uji-incidents".into()),
            },
        )
        .unwrap()
        .id;
    t.office
        .guard_set_site(
            &admin,
            target,
            GuardSiteInput {
                public_url: format!("{base}/"),
                allowed_domains: vec![],
                allow_private: true,
                enabled: true,
            },
        )
        .unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    assert_eq!(rt.block_on(t.office.guard_run_due()), 1);
    let guard = t.office.guard_incidents(&admin, Some("open")).unwrap();
    assert_eq!(guard.len(), 1);
    let guard_id = guard[0].id;

    let list = t
        .office
        .list_incidents(&admin, Some("open"), Some("sop-b"), Default::default())
        .unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let inc = &list[0];
    assert_eq!(inc.source, "guard");
    assert_eq!(inc.guard_incident_id, Some(guard_id));
    assert_eq!(inc.current.step, "receive");
    assert_eq!(inc.reporter, "website guard");
    assert!(inc.title.contains("defacement"), "{}", inc.title);
    // It waits for the applications division.
    let tasks = t.office.incident_tasks(&t.c("aptika")).unwrap();
    assert_eq!(tasks.iter().map(|s| s.id).collect::<Vec<_>>(), [inc.id]);

    // The evidence: the defaced version, by reference to the guard's copy, with its SHA-256.
    let d = t.office.get_incident(&t.c("aptika"), inc.id).unwrap();
    let guard_detail = t.office.guard_incident(&admin, guard_id).unwrap();
    let bad = guard_detail.bad_hash.clone().unwrap();
    let ev: Vec<_> = d.evidence.iter().filter(|e| e.label == "bad").collect();
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].source, "guard");
    assert_eq!(ev[0].sha256, bad);
    let (path, mime, _) = t
        .office
        .incident_evidence_file(&t.c("aptika"), inc.id, ev[0].id)
        .unwrap();
    assert!(mime.starts_with("text/plain"));
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(hex::encode(Sha256::digest(&bytes)), bad);
    assert!(String::from_utf8_lossy(&bytes).contains("HACKED BY ANON4X"));
    assert_eq!(ev[0].size, bytes.len() as i64);

    // Five minutes later the page is still defaced: the guard folds the repeat into its
    // incident, and the SOP-B incident hears of it; no second incident.
    t.clock.advance(Duration::minutes(6));
    assert_eq!(rt.block_on(t.office.guard_run_due()), 1);
    assert_eq!(
        t.office
            .guard_incident(&admin, guard_id)
            .unwrap()
            .summary
            .count,
        2
    );
    let all = t
        .office
        .list_incidents(&admin, None, None, Default::default())
        .unwrap();
    assert_eq!(all.len(), 1);
    let kinds = t.audit_kinds(inc.id);
    assert_eq!(kinds, ["incident.created", "incident.guard_repeat"]);

    // SOP-B runs: division → head assigns → web team secures → head sends back once → ...
    for a in [
        "forward",
        "assign",
        "report",
        "send_back",
        "report",
        "approve",
        "close",
    ] {
        t.clock.advance(Duration::minutes(3));
        t.act(inc.id, a);
    }
    let d = t.detail(inc.id);
    assert_eq!(d.final_step.as_deref(), Some("secured"));
    assert_eq!(d.summary.loops, 1);
    // Around the clock: working minutes are plain minutes.
    assert_eq!(d.elapsed.working_minutes, 6 + 7 * 3);
    // The guard's evidence bodies stay while the incident refers to them.
    t.office.guard_maintenance().unwrap();
    assert!(
        t.office
            .incident_evidence_file(&admin, inc.id, ev[0].id)
            .is_ok()
    );
}

// ---------- over HTTP ----------

#[test]
fn the_routes_answer_as_documented_and_the_live_feed_shows_incidents_to_whom_may_see_them() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(FixedClock::new(wita(2026, 11, 12, 9, 0)));
        let mut config = HubConfig::solo(dir.path());
        config.demo = true;
        let hub = warta_hub::start(config, clock.clone()).await.unwrap();
        let base = format!("{}/api/v1", hub.base_url());
        let http = reqwest::Client::new();
        let token = |user: &'static str| {
            let (http, base) = (http.clone(), base.clone());
            async move {
                let v: Value = http
                    .post(format!("{base}/auth/login"))
                    .json(&json!({"username": user, "password": warta_hub::DEMO_PASSWORD}))
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                v["token"].as_str().unwrap().to_string()
            }
        };
        let reporter = token("reporter").await;
        let examiner = token("pemeriksa").await;
        let kabid = token("kabid").await;
        let editor = token("editor").await;
        let send = |method: reqwest::Method, path: &str, tok: &str, body: Option<Value>| {
            let mut rb = http.request(method, format!("{base}{path}")).bearer_auth(tok);
            if let Some(b) = body {
                rb = rb.json(&b);
            }
            async move {
                let r = rb.send().await.unwrap();
                let s = r.status().as_u16();
                let v: Value = r.json().await.unwrap_or(Value::Null);
                (s, v)
            }
        };
        use reqwest::Method;
        let (s, v) = send(
            Method::POST,
            "/incidents",
            &reporter,
            Some(json!({"sop": "sop-d", "title": "Virus di jaringan", "description": "Banyak PC lambat"})),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        let id = v["summary"]["id"].as_i64().unwrap();
        assert_eq!(v["summary"]["current"]["step"], "log");
        // Unknown SOP: 400 with the field.
        let (s, v) = send(
            Method::POST,
            "/incidents",
            &reporter,
            Some(json!({"sop": "sop-q", "title": "x"})),
        )
        .await;
        assert_eq!((s, v["code"].as_str(), v["field"].as_str()), (400, Some("validation"), Some("sop")));
        // The reporter may not take the examiner's step: 403, audited.
        let (s, v) = send(Method::POST, &format!("/incidents/{id}/actions/forward"), &reporter, Some(json!({}))).await;
        assert_eq!((s, v["code"].as_str()), (403, Some("forbidden")), "{v}");
        // An action of another step: 409 with the caller's possible actions.
        let (s, v) = send(Method::POST, &format!("/incidents/{id}/actions/complete"), &examiner, Some(json!({}))).await;
        assert_eq!(s, 409, "{v}");
        assert_eq!(v["allowed_actions"], json!(["forward"]));
        let (s, v) = send(Method::POST, &format!("/incidents/{id}/actions/forward"), &examiner, Some(json!({}))).await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["summary"]["current"]["step"], "dispose");
        // The disposition's form: to whom (holders of the supervisor role) and the instruction.
        let (_, v) = send(Method::GET, &format!("/incidents/{id}"), &kabid, None).await;
        let action = &v["actions"][0];
        assert_eq!(action["id"], "dispose");
        assert_eq!(action["assignee_role"], "supervisor");
        assert_eq!(action["assignees"][0]["username"], "kasi");
        assert_eq!(action["requires_instruction"], true);
        // Tasks of the head of division list it.
        let (s, v) = send(Method::GET, "/incidents/tasks", &kabid, None).await;
        assert_eq!(s, 200);
        assert_eq!(v[0]["id"], id);
        // Comments and evidence.
        let (s, _) = send(Method::POST, &format!("/incidents/{id}/comments"), &kabid, Some(json!({"body": "Segera ditangani"}))).await;
        assert_eq!(s, 201);
        let log_bytes = b"Nov 12 09:01 firewall: DROP 10.0.0.7 -> 8.8.8.8:53\n".to_vec();
        let sha = hex::encode(Sha256::digest(&log_bytes));
        let r = http
            .post(format!("{base}/incidents/{id}/evidence?filename=firewall.log"))
            .bearer_auth(&examiner)
            .body(log_bytes.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        let ev: Value = r.json().await.unwrap();
        assert_eq!(ev["sha256"], sha);
        assert_eq!(ev["source"], "upload");
        let got = http
            .get(format!("{base}/incidents/{id}/evidence/{}/content", ev["id"]))
            .bearer_auth(&kabid)
            .send()
            .await
            .unwrap();
        assert_eq!(got.status().as_u16(), 200);
        assert_eq!(got.bytes().await.unwrap().to_vec(), log_bytes);
        // Who may not see the incident: 404, also for its evidence.
        let (s, _) = send(Method::GET, &format!("/incidents/{id}"), &editor, None).await;
        assert_eq!(s, 404);
        let (s, v) = send(Method::GET, "/incidents", &editor, None).await;
        assert_eq!((s, v.as_array().map(Vec::len)), (200, Some(0)));
        let (s, _) = send(Method::GET, &format!("/incidents/{id}/evidence/{}/content", ev["id"]), &editor, None).await;
        assert_eq!(s, 404);
        // Bad filters: 400.
        let (s, _) = send(Method::GET, "/incidents?state=maybe", &kabid, None).await;
        assert_eq!(s, 400);
        // The timeline: created, the refusal, the action, the comment, the evidence.
        let (_, v) = send(Method::GET, &format!("/incidents/{id}/timeline"), &kabid, None).await;
        let kinds: Vec<&str> = v.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["incident.created", "refused", "refused", "incident.action", "incident.comment", "incident.evidence"]);

        // The live feed replays what each caller may see: the head of division gets the
        // incident's events, the editor (no SOP-D role) none.
        let events = |tok: String| {
            let base = hub.base_url();
            async move {
                let client = warta_client::HubClient::new(base).with_token(tok);
                let mut s = client.events(Some(0)).await.unwrap();
                let mut out = Vec::new();
                loop {
                    let e = tokio::time::timeout(std::time::Duration::from_secs(30), s.next())
                        .await
                        .expect("an event within the bound")
                        .unwrap()
                        .unwrap();
                    if e.kind == warta_api::ChangeKind::Ready {
                        return out;
                    }
                    out.push(e);
                }
            }
        };
        let seen = events(kabid.clone()).await;
        let mine: Vec<&str> = seen
            .iter()
            .filter(|e| e.kind == warta_api::ChangeKind::Incident)
            .map(|e| {
                assert_eq!(e.incident_id, Some(id));
                e.change.as_str()
            })
            .collect();
        assert_eq!(mine, ["incident.created", "incident.action", "incident.comment", "incident.evidence"]);
        let theirs = events(editor.clone()).await;
        assert!(theirs.iter().all(|e| e.kind != warta_api::ChangeKind::Incident));
        hub.shutdown().await;
    });
}
