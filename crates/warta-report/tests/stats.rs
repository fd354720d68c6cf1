//! Step statistics against figures worked out by hand.
//!
//! SOP-A's calendar: Asia/Makassar (WITA, UTC+8), Mon–Thu 08:00–16:00, Fri 08:00–11:30,
//! holidays observed. Here the only holiday is Wed 11 March 2026. All times below are WITA.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use warta_report::stats::{Visit, percentile, step_stats};
use warta_sop::Holidays;

fn wita(d: u32, h: u32, m: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Makassar
        .with_ymd_and_hms(2026, 3, d, h, m, 0)
        .unwrap()
        .with_timezone(&Utc)
}

fn visit(step: &str, from: DateTime<Utc>, to: Option<DateTime<Utc>>) -> Visit {
    Visit {
        step: step.into(),
        entered_at: from,
        left_at: to,
        due_at: None,
    }
}

#[test]
fn hand_computed_fixture() {
    let a = warta_sop::builtin_sop_a();
    let holidays = Holidays::from_dates([NaiveDate::from_ymd_opt(2026, 3, 11).unwrap()]);
    let visits = vec![
        // review, standard 1 h (60 working minutes):
        // 1. Mon 2 09:00 → 09:30: 30 min; due 10:00 → met.
        visit("review", wita(2, 9, 0), Some(wita(2, 9, 30))),
        // 2. Mon 2 09:00 → 10:00: 60 min; due 10:00, left at the due time → met.
        visit("review", wita(2, 9, 0), Some(wita(2, 10, 0))),
        // 3. Mon 2 15:30 → Tue 3 08:45: 30 (Mon) + 45 (Tue) = 75 min; due Tue 08:30 → missed.
        visit("review", wita(2, 15, 30), Some(wita(3, 8, 45))),
        // 4. Thu 5 15:00 → Fri 6 09:00: 60 + 60 = 120 min; due Thu 16:00 → missed.
        visit("review", wita(5, 15, 0), Some(wita(6, 9, 0))),
        // 5. Fri 6 11:00 → Mon 9 08:20: 30 (Fri closes 11:30) + 20 = 50 min;
        //    due: 30 min on Fri, 30 on Mon → Mon 08:30 → met.
        visit("review", wita(6, 11, 0), Some(wita(9, 8, 20))),
        // 6. Tue 10 15:00 → Thu 12 08:30 over the Wednesday holiday: 60 + 30 = 90 min;
        //    due Tue 16:00 → missed.
        visit("review", wita(10, 15, 0), Some(wita(12, 8, 30))),
        // 7. Still in review.
        visit("review", wita(12, 9, 0), None),
        // collect, standard 1 working day (480 nominal minutes):
        // Mon 2 10:00 → Tue 3 10:00: 360 + 120 = 480 min; due (mid-day start, offset 2 h)
        // Tue 10:00 → met.
        visit("collect", wita(2, 10, 0), Some(wita(3, 10, 0))),
        // publish, standard 15 min: Mon 2 10:00 → 10:10: 10 min → met.
        visit("publish", wita(2, 10, 0), Some(wita(2, 10, 10))),
        // Final steps are not steps anyone works on: ignored.
        visit("published", wita(2, 10, 10), None),
    ];
    let stats = step_stats(&a, &holidays, &visits);
    let ids: Vec<&str> = stats.iter().map(|s| s.step.as_str()).collect();
    assert_eq!(ids, ["collect", "handover", "edit", "review", "publish"]);

    let review = stats.iter().find(|s| s.step == "review").unwrap();
    // Sorted: 30, 50, 60, 75, 90, 120 (n = 6). Median rank ⌈0.5·6⌉ = 3 → 60;
    // p90 rank ⌈0.9·6⌉ = 6 → 120. Met: visits 1, 2, 5 → 3 of 6 = 50%.
    assert_eq!(review.count, 6);
    assert_eq!(review.in_progress, 1);
    assert_eq!(review.met, 3);
    assert_eq!(review.met_rate(), Some(0.5));
    assert_eq!(review.median_minutes, Some(60));
    assert_eq!(review.p90_minutes, Some(120));
    assert_eq!(review.standard_minutes, Some(60));

    let collect = &stats[0];
    assert_eq!(
        (
            collect.count,
            collect.met,
            collect.median_minutes,
            collect.standard_minutes
        ),
        (1, 1, Some(480), Some(480))
    );
    let publish = stats.iter().find(|s| s.step == "publish").unwrap();
    assert_eq!(
        (publish.count, publish.met, publish.p90_minutes),
        (1, 1, Some(10))
    );

    let handover = &stats[1];
    assert_eq!(
        (handover.count, handover.median_minutes, handover.met_rate()),
        (0, None, None)
    );
    // 1-3 h: the maximum is the standard.
    assert_eq!(handover.standard_minutes, Some(180));
}

#[test]
fn a_recorded_due_time_wins_over_the_calendar() {
    let a = warta_sop::builtin_sop_a();
    // Entered Mon 2 09:00, left 10:30: 90 min against 1 h → missed by the calendar, but the
    // due time recorded at entry (11:00) says met.
    let mut v = visit("review", wita(2, 9, 0), Some(wita(2, 10, 30)));
    let missed = step_stats(&a, &Holidays::new(), std::slice::from_ref(&v));
    assert_eq!(missed[3].met, 0);
    v.due_at = Some(wita(2, 11, 0));
    let met = step_stats(&a, &Holidays::new(), &[v]);
    assert_eq!((met[3].step.as_str(), met[3].met), ("review", 1));
}

#[test]
fn nearest_rank_percentiles() {
    let ten: Vec<i64> = (1..=10).collect();
    assert_eq!(percentile(&ten, 50), Some(5));
    assert_eq!(percentile(&ten, 90), Some(9));
    assert_eq!(percentile(&ten, 100), Some(10));
    assert_eq!(percentile(&[7], 90), Some(7));
    assert_eq!(percentile(&[], 50), None);
    // 11 values: p90 rank ⌈9.9⌉ = 10.
    let eleven: Vec<i64> = (1..=11).collect();
    assert_eq!(percentile(&eleven, 90), Some(10));
}
