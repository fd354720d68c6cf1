//! The crate's one integration-test binary: builtin files, refusals, and the SLA calendar.

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Asia::Makassar;
use warta_sop::{
    Calendar, CalendarSpec, Holidays, ProblemKind, SopError, Span, StandardTime, builtin,
    builtin_sop_a, load_file, parse,
};

// ---------- builtin definitions ----------

#[test]
fn the_four_builtin_files_load() {
    let all = builtin();
    let ids: Vec<&str> = all.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["sop-a", "sop-b", "sop-c", "sop-d"]);
    for d in &all {
        assert!(d.step(&d.start).is_some(), "{}", d.id);
        for s in &d.steps {
            assert!(
                !s.activity.id.is_empty() && !s.activity.en.is_empty(),
                "{}",
                s.id
            );
        }
        for r in &d.roles {
            assert!(!r.name.id.is_empty() && !r.name.en.is_empty(), "{}", r.id);
        }
    }
    assert!(all[1].calendar.is_around_the_clock());
    for d in [&all[0], &all[2], &all[3]] {
        assert!(!d.calendar.is_around_the_clock(), "{}", d.id);
    }
    assert_eq!(all[3].steps.iter().filter(|s| !s.is_final).count(), 12);
}

#[test]
fn load_file_reads_the_repository_files() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sops/");
    for name in ["sop-a", "sop-b", "sop-c", "sop-d"] {
        let d = load_file(format!("{root}{name}.toml")).unwrap();
        assert_eq!(d.id, name);
    }
    let err = load_file(format!("{root}missing.toml")).unwrap_err();
    assert!(matches!(err, SopError::Read { .. }));
    assert!(err.to_string().contains("missing.toml"), "{err}");
}

/// The hub depends on these ids; this is the contract.
#[test]
fn sop_a_has_the_agreed_shape() {
    let a = builtin_sop_a();
    assert_eq!(a.start, "collect");
    let roles: Vec<&str> = a.roles.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(roles, ["reporter", "editor", "official", "publisher"]);

    // (step, number, actor, max standard, [(action, to, requires_note)])
    type Row = (
        &'static str,
        u32,
        Option<&'static str>,
        Option<Span>,
        &'static [(&'static str, &'static str, bool)],
    );
    let expected: &[Row] = &[
        (
            "collect",
            1,
            Some("reporter"),
            Some(Span::WorkingDays(1)),
            &[("submit", "handover", false)],
        ),
        (
            "handover",
            2,
            Some("editor"),
            Some(Span::Minutes(180)),
            &[("claim", "edit", false)],
        ),
        (
            "edit",
            3,
            Some("editor"),
            Some(Span::Minutes(180)),
            &[
                ("send_to_official", "review", false),
                ("return_to_reporter", "collect", true),
            ],
        ),
        (
            "review",
            4,
            Some("official"),
            Some(Span::Minutes(60)),
            &[
                ("approve", "publish", false),
                ("reject", "rejected", true),
                ("send_back", "edit", true),
            ],
        ),
        (
            "publish",
            5,
            Some("publisher"),
            Some(Span::Minutes(15)),
            &[
                ("publish", "published", false),
                ("not_publish", "not_published", true),
            ],
        ),
        ("published", 7, None, None, &[]),
        ("rejected", 4, None, None, &[]),
        ("not_published", 6, None, None, &[]),
    ];
    assert_eq!(a.steps.len(), expected.len());
    for (id, number, actor, max, actions) in expected {
        let s = a.step(id).unwrap_or_else(|| panic!("no step {id}"));
        assert_eq!(s.number, *number, "{id}");
        assert_eq!(s.actor.as_deref(), *actor, "{id}");
        assert_eq!(s.standard.max(), *max, "{id}");
        assert_eq!(s.is_final, actions.is_empty(), "{id}");
        let got: Vec<(&str, &str, bool)> = s
            .actions
            .iter()
            .map(|a| (a.id.as_str(), a.to.as_str(), a.requires_note))
            .collect();
        assert_eq!(got, *actions, "{id}");
    }
    assert_eq!(a.action("review", "reject").unwrap().to, "rejected");
    assert!(a.action("review", "publish").is_none());
    assert!(a.action("ghost", "approve").is_none());
}

#[test]
fn sop_d_branches_and_loops() {
    let d = &builtin()[3];
    let targets = |step: &str| -> Vec<String> {
        d.step(step)
            .unwrap()
            .actions
            .iter()
            .map(|a| a.to.clone())
            .collect()
    };
    assert_eq!(targets("check"), ["resolved", "consult"]);
    assert_eq!(targets("verify"), ["acknowledge", "resolve"]);
    assert_eq!(d.step("resolve").unwrap().number, 7);
    assert_eq!(d.step("resolve").unwrap().standard.display(), "1-2 d");
    // The whole procedure: 2-5 working days.
    assert_eq!(d.total.display(), "2-5 d");
    // The disposition names to whom and the instruction; directing the team gives one.
    let dispose = d.action("dispose", "dispose").unwrap();
    assert!(dispose.requires_assignee && dispose.requires_instruction);
    let direct = d.action("direct", "direct").unwrap();
    assert!(direct.requires_instruction && !direct.requires_assignee);
    assert!(d.action("verify", "incomplete").unwrap().requires_note);
    // SOP-B gives no total.
    assert_eq!(builtin()[1].total, StandardTime::None);
}

// ---------- refusals ----------

const GOOD: &str = r#"
id = "sop-x"
start = "one"
name = { id = "X", en = "X" }

[calendar]
time_zone = "Asia/Makassar"
around_the_clock = true

[[roles]]
id = "clerk"
name = { id = "Staf", en = "Clerk" }

[[steps]]
id = "one"
number = 1
actor = "clerk"
activity = { id = "Satu", en = "One" }
time = "1h"
actions = [{ id = "go", to = "done" }]

[[steps]]
id = "done"
number = 2
final = true
activity = { id = "Selesai", en = "Done" }
"#;

/// `GOOD` with `from` replaced by `to` (exactly once).
fn mutate(from: &str, to: &str) -> String {
    assert_eq!(
        GOOD.matches(from).count(),
        1,
        "fixture edit {from:?} is ambiguous"
    );
    GOOD.replacen(from, to, 1)
}

const EXTRA_STEP: &str = r#"
[[steps]]
id = "extra"
number = 3
actor = "clerk"
activity = { id = "Tambahan", en = "Extra" }
time = "1h"
actions = [{ id = "go", to = "done" }]
"#;

#[test]
fn good_fixture_loads() {
    let d = parse("sops/x.toml", GOOD).unwrap();
    assert_eq!(d.start_step().id, "one");
}

#[test]
fn malformed_definitions_are_refused_naming_file_step_and_problem() {
    // (edited text, kind, expected message line)
    let cases: Vec<(String, ProblemKind, &str)> = vec![
        (
            mutate(r#"actor = "clerk""#, r#"actor = "ghost""#),
            ProblemKind::UnknownRole,
            r#"sops/x.toml: step "one": actor "ghost" is not a role of this SOP"#,
        ),
        (
            mutate(r#"to = "done""#, r#"to = "nowhere""#),
            ProblemKind::UnknownTarget,
            r#"sops/x.toml: step "one": action "go" leads to "nowhere", which is not a step"#,
        ),
        (
            format!("{GOOD}{EXTRA_STEP}"),
            ProblemKind::Unreachable,
            r#"sops/x.toml: step "extra": unreachable from the start step "one""#,
        ),
        (
            mutate(r#"actions = [{ id = "go", to = "done" }]"#, ""),
            ProblemKind::DeadEnd,
            r#"sops/x.toml: step "one": dead end: the step is not final and has no actions"#,
        ),
        (
            mutate(
                "final = true",
                "final = true\nactions = [{ id = \"again\", to = \"one\" }]",
            ),
            ProblemKind::FinalWithActions,
            r#"sops/x.toml: step "done": final step has actions; final steps have none"#,
        ),
        (
            mutate(r#"time = "1h""#, ""),
            ProblemKind::MissingTime,
            r#"sops/x.toml: step "one": has no standard time (write time = "none" if the SOP gives none)"#,
        ),
        (
            mutate(r#"time = "1h""#, r#"time = "soon""#),
            ProblemKind::BadTime,
            r#"sops/x.toml: step "one": bad standard time "soon": unknown unit; use m, h or d (expected e.g. "15m", "3h", "1d", "1-3h", "1-2d" or "none")"#,
        ),
        (
            mutate(r#"time = "1h""#, r#"time = "3-1h""#),
            ProblemKind::BadTime,
            r#"sops/x.toml: step "one": bad standard time "3-1h": range minimum is above its maximum (expected e.g. "15m", "3h", "1d", "1-3h", "1-2d" or "none")"#,
        ),
        (
            mutate(r#"id = "done""#, r#"id = "one""#),
            ProblemKind::DuplicateStep,
            r#"sops/x.toml: step "one": step id is defined twice"#,
        ),
        (
            mutate(
                r#"actions = [{ id = "go", to = "done" }]"#,
                r#"actions = [{ id = "go", to = "done" }, { id = "go", to = "one" }]"#,
            ),
            ProblemKind::DuplicateAction,
            r#"sops/x.toml: step "one": action "go" is defined twice"#,
        ),
        (
            mutate(r#"start = "one""#, r#"start = "zero""#),
            ProblemKind::UnknownStart,
            r#"sops/x.toml: start step "zero" is not a step of this SOP"#,
        ),
        (
            mutate(
                r#"time_zone = "Asia/Makassar""#,
                r#"time_zone = "Mars/Olympus""#,
            ),
            ProblemKind::BadCalendar,
            r#"sops/x.toml: calendar: time zone "Mars/Olympus" is not an IANA zone"#,
        ),
        (
            mutate(
                "around_the_clock = true",
                r#"hours = { mon = "16:00-08:00" }"#,
            ),
            ProblemKind::BadCalendar,
            r#"sops/x.toml: calendar: hours.mon: "16:00-08:00" is not "HH:MM-HH:MM" with opening before closing"#,
        ),
        (
            mutate("final = true", "final = true\nactor = \"clerk\""),
            ProblemKind::FinalWithActor,
            r#"sops/x.toml: step "done": final step has an actor ("clerk"); final steps have none"#,
        ),
        (
            mutate("actor = \"clerk\"\n", ""),
            ProblemKind::MissingActor,
            r#"sops/x.toml: step "one": has no actor"#,
        ),
        (
            mutate(
                r#"{ id = "go", to = "done" }"#,
                r#"{ id = "go", to = "done", requires_assignee = true }"#,
            ),
            ProblemKind::AssigneeWithoutActor,
            r#"sops/x.toml: step "one": action "go" requires an assignee but leads to "done", where nobody acts"#,
        ),
        (
            mutate(r#"start = "one""#, "start = \"one\"\ntotal = \"soon\""),
            ProblemKind::BadTime,
            r#"sops/x.toml: total: bad standard time "soon": unknown unit; use m, h or d (expected e.g. "15m", "3h", "1d", "1-3h", "1-2d" or "none")"#,
        ),
    ];
    for (text, kind, line) in cases {
        let err = parse("sops/x.toml", &text).expect_err(line);
        let kinds: Vec<ProblemKind> = err.problems().iter().map(|p| p.kind).collect();
        assert!(kinds.contains(&kind), "{line}\ngot {kinds:?}\n{err}");
        let shown = err.to_string();
        assert!(
            shown.lines().any(|l| l == line),
            "expected line:\n{line}\ngot:\n{shown}"
        );
    }
}

#[test]
fn all_problems_are_reported_together() {
    let text = mutate(r#"actor = "clerk""#, r#"actor = "ghost""#).replace(r#"time = "1h""#, "");
    let err = parse("sops/x.toml", &text).unwrap_err();
    let kinds: Vec<ProblemKind> = err.problems().iter().map(|p| p.kind).collect();
    assert_eq!(kinds, [ProblemKind::UnknownRole, ProblemKind::MissingTime]);
}

#[test]
fn malformed_toml_names_file_line_and_column() {
    let text = mutate("number = 2", "number = = 2");
    let err = parse("sops/x.toml", &text).unwrap_err();
    let SopError::Toml { line, column, .. } = &err else {
        panic!("expected a TOML error, got {err}");
    };
    let expected_line = text.lines().position(|l| l.contains("= = 2")).unwrap() + 1;
    assert_eq!(*line, expected_line);
    assert!(*column > 1);
    assert!(
        err.to_string()
            .starts_with(&format!("sops/x.toml: line {expected_line}, column ")),
        "{err}"
    );

    // Unknown keys are typos, not silently ignored.
    let err = parse("sops/x.toml", &mutate("number = 2", "numbr = 2")).unwrap_err();
    assert!(matches!(err, SopError::Toml { .. }), "{err}");
}

// ---------- holidays ----------

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

#[test]
fn builtin_holidays_cover_2026_and_2027() {
    let h = Holidays::builtin();
    assert_eq!(
        h.name(date(2026, 8, 17)),
        Some("Hari Proklamasi Kemerdekaan Republik Indonesia")
    );
    assert!(h.contains(date(2026, 12, 25)));
    assert!(h.contains(date(2027, 1, 1)));
    assert!(!h.contains(date(2026, 8, 18)));
    assert!(
        h.iter()
            .all(|(d, _)| d.year_ce().1 == 2026 || d.year_ce().1 == 2027)
    );
}

#[test]
fn holidays_round_trip_through_toml() {
    let mut h = Holidays::builtin();
    h.insert(date(2026, 7, 1), "Hari \"Bhayangkara\" lokal");
    let text = h.to_toml();
    assert!(text.starts_with("# Indonesian national public holidays"));
    assert!(text.contains("official decree"));
    let back = Holidays::parse_toml("sops/holidays.toml", &text).unwrap();
    assert_eq!(back, h);
    assert!(h.remove(date(2026, 7, 1)));
    assert!(!h.remove(date(2026, 7, 1)));
}

#[test]
fn bad_holidays_are_refused() {
    let twice = "[[holiday]]\ndate = \"2026-01-01\"\nname = \"A\"\n[[holiday]]\ndate = \"2026-01-01\"\nname = \"B\"\n";
    let err = Holidays::parse_toml("h.toml", twice).unwrap_err();
    assert!(err.to_string().starts_with("h.toml: holiday #2"), "{err}");
    let bad = "[[holiday]]\ndate = \"2026-13-01\"\nname = \"A\"\n";
    let err = Holidays::parse_toml("h.toml", bad).unwrap_err();
    assert!(err.to_string().contains("not YYYY-MM-DD"), "{err}");
}

// ---------- calendar ----------

/// A WITA wall-clock time as UTC.
fn wita(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Makassar
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn sop_a_calendar() -> Calendar {
    builtin_sop_a().working_calendar()
}

fn t(s: &str) -> StandardTime {
    StandardTime::parse(s).unwrap()
}

// June 2026: Mon 1 is Pancasila day (a builtin holiday), Mon 8 … Sun 14 is an ordinary week.
#[test]
fn due_times_in_office_hours() {
    let cal = sop_a_calendar();
    let none = Holidays::new();
    let builtin = Holidays::builtin();
    let extra = Holidays::from_dates([date(2026, 6, 10)]); // a Wednesday
    // (case, entered, standard, holidays, expected due)
    let cases = [
        (
            "required: Fri 11:00 + 1h",
            wita(2026, 6, 12, 11, 0),
            "1h",
            &none,
            wita(2026, 6, 15, 8, 30),
        ),
        (
            "Thu 15:30 + 3h",
            wita(2026, 6, 11, 15, 30),
            "3h",
            &none,
            wita(2026, 6, 12, 10, 30),
        ),
        (
            "inside one day",
            wita(2026, 6, 8, 9, 0),
            "1-3h",
            &none,
            wita(2026, 6, 8, 12, 0),
        ),
        (
            "exactly to closing",
            wita(2026, 6, 8, 15, 0),
            "1h",
            &none,
            wita(2026, 6, 8, 16, 0),
        ),
        (
            "15 min over the weekend",
            wita(2026, 6, 12, 11, 20),
            "15m",
            &none,
            wita(2026, 6, 15, 8, 5),
        ),
        (
            "entered at night",
            wita(2026, 6, 8, 22, 0),
            "1h",
            &none,
            wita(2026, 6, 9, 9, 0),
        ),
        (
            "entered before opening",
            wita(2026, 6, 9, 6, 0),
            "15m",
            &none,
            wita(2026, 6, 9, 8, 15),
        ),
        (
            "entered on Sunday",
            wita(2026, 6, 14, 10, 0),
            "3h",
            &none,
            wita(2026, 6, 15, 11, 0),
        ),
        (
            "entered on Friday after close",
            wita(2026, 6, 12, 13, 0),
            "1h",
            &none,
            wita(2026, 6, 15, 9, 0),
        ),
        (
            "across a holiday (Holidays set)",
            wita(2026, 6, 9, 15, 0),
            "3h",
            &extra,
            wita(2026, 6, 11, 10, 0),
        ),
        (
            "same without the holiday",
            wita(2026, 6, 9, 15, 0),
            "3h",
            &none,
            wita(2026, 6, 10, 10, 0),
        ),
        (
            "Fri before Pancasila Monday",
            wita(2026, 5, 29, 11, 0),
            "1h",
            &builtin,
            wita(2026, 6, 2, 8, 30),
        ),
        (
            "more than a day of hours",
            wita(2026, 6, 8, 8, 0),
            "10h",
            &none,
            wita(2026, 6, 9, 10, 0),
        ),
        // Working days.
        (
            "1d mid-day",
            wita(2026, 6, 8, 10, 0),
            "1d",
            &none,
            wita(2026, 6, 9, 10, 0),
        ),
        (
            "1d Thu clamps to Fri close",
            wita(2026, 6, 11, 14, 0),
            "1d",
            &none,
            wita(2026, 6, 12, 11, 30),
        ),
        (
            "1d Fri to Mon",
            wita(2026, 6, 12, 10, 0),
            "1d",
            &none,
            wita(2026, 6, 15, 10, 0),
        ),
        (
            "1d from Sunday: end of Monday",
            wita(2026, 6, 14, 12, 0),
            "1d",
            &none,
            wita(2026, 6, 15, 16, 0),
        ),
        (
            "1d at opening: end of that day",
            wita(2026, 6, 8, 8, 0),
            "1d",
            &none,
            wita(2026, 6, 8, 16, 0),
        ),
        (
            "1d after close: end of next day",
            wita(2026, 6, 8, 17, 0),
            "1d",
            &none,
            wita(2026, 6, 9, 16, 0),
        ),
        (
            "1d across a holiday",
            wita(2026, 6, 9, 10, 0),
            "1d",
            &extra,
            wita(2026, 6, 11, 10, 0),
        ),
        (
            "1-2d uses the max",
            wita(2026, 6, 8, 10, 0),
            "1-2d",
            &none,
            wita(2026, 6, 10, 10, 0),
        ),
    ];
    for (case, entered, standard, holidays, expected) in cases {
        let due = cal.due(entered, &t(standard), holidays);
        assert_eq!(
            due.map(|d| d.with_timezone(&Makassar)),
            Some(expected.with_timezone(&Makassar)),
            "{case}"
        );
    }
    assert_eq!(
        cal.due(wita(2026, 6, 8, 10, 0), &StandardTime::None, &none),
        None
    );
}

#[test]
fn around_the_clock_is_plain_addition() {
    let cal = Calendar::new(CalendarSpec::AroundTheClock {
        time_zone: Makassar,
    });
    let holidays = Holidays::builtin();
    let sat_night = wita(2026, 8, 15, 23, 50); // weekend, before a holiday
    assert_eq!(
        cal.due(sat_night, &t("15m"), &holidays),
        Some(wita(2026, 8, 16, 0, 5))
    );
    assert_eq!(
        cal.due(sat_night, &t("1d"), &holidays),
        Some(wita(2026, 8, 16, 23, 50))
    );
    assert_eq!(
        cal.working_minutes(sat_night, wita(2026, 8, 17, 0, 50), &holidays),
        25 * 60
    );
    assert_eq!(t("1d").max_minutes(&cal), Some(1440));
    // SOP-B is such a calendar.
    assert_eq!(Calendar::from(&builtin()[1].calendar), cal);
}

#[test]
fn working_minutes_count_only_open_time() {
    let cal = sop_a_calendar();
    let none = Holidays::new();
    // Fri 11:00 -> Mon 08:30: 30 min on Friday, 30 on Monday.
    assert_eq!(
        cal.working_minutes(wita(2026, 6, 12, 11, 0), wita(2026, 6, 15, 8, 30), &none),
        60
    );
    // A whole ordinary week: 4 x 8 h + 3.5 h.
    assert_eq!(
        cal.working_minutes(wita(2026, 6, 8, 0, 0), wita(2026, 6, 15, 0, 0), &none),
        4 * 480 + 210
    );
    // The same week with Wednesday a holiday.
    let wed = Holidays::from_dates([date(2026, 6, 10)]);
    assert_eq!(
        cal.working_minutes(wita(2026, 6, 8, 0, 0), wita(2026, 6, 15, 0, 0), &wed),
        3 * 480 + 210
    );
    // Entirely outside hours, and reversed.
    assert_eq!(
        cal.working_minutes(wita(2026, 6, 13, 9, 0), wita(2026, 6, 14, 15, 0), &none),
        0
    );
    assert_eq!(
        cal.working_minutes(wita(2026, 6, 9, 9, 0), wita(2026, 6, 8, 9, 0), &none),
        0
    );
    // Consistent with `due`: the standard is used up exactly at the due time.
    let entered = wita(2026, 6, 11, 15, 30);
    let due = cal.due(entered, &t("3h"), &none).unwrap();
    assert_eq!(cal.working_minutes(entered, due, &none), 180);
}

#[test]
fn max_minutes_uses_the_nominal_day() {
    let cal = sop_a_calendar();
    assert_eq!(cal.nominal_day_minutes(), 480);
    assert_eq!(t("1-2d").max_minutes(&cal), Some(960));
    assert_eq!(t("1-3h").max_minutes(&cal), Some(180));
    assert_eq!(t("15m").max_minutes(&cal), Some(15));
    assert_eq!(StandardTime::None.max_minutes(&cal), None);
}
