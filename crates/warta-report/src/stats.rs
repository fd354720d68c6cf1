//! Step statistics: for each step of an SOP, how many visits ended, how many ended within the
//! standard time, and the median and 90th-percentile *working* time they took (in the SOP's
//! calendar, holidays observed as the SOP says), against the standard.
//!
//! Definitions, so the figures can be checked by hand:
//! * A visit counts once it has ended (`left_at`); visits still in progress are counted apart.
//! * A visit met its standard when it ended at or before its due time: the one recorded at its
//!   entry when there is one, else computed with [`warta_sop::Calendar::due`] (the same due
//!   time the workflow shows).
//! * Actual time is [`warta_sop::Calendar::working_minutes`] from entry to exit.
//! * Percentiles are nearest-rank: the p-th percentile of n sorted values is the value at rank
//!   ⌈p/100 · n⌉ (1-based). The median is the 50th percentile (the lower middle for even n).

use chrono::{DateTime, Utc};
use warta_sop::{Definition, Holidays};

use crate::sop::time_label;
use crate::{Column, Lang, Table};

/// One visit of a step by one item or incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    /// Step id.
    pub step: String,
    /// When the step was entered.
    pub entered_at: DateTime<Utc>,
    /// When it was left; `None` while in progress.
    pub left_at: Option<DateTime<Utc>>,
    /// The due time recorded when the step was entered (the hub keeps it, so a holiday added
    /// later does not change whether a visit met its standard); computed when `None`.
    pub due_at: Option<DateTime<Utc>>,
}

/// The figures of one step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepStats {
    /// Step id.
    pub step: String,
    /// The SOP's number for the step.
    pub number: u32,
    /// The standard time's maximum in working minutes (days at the calendar's nominal length);
    /// `None` when the SOP gives the step no time.
    pub standard_minutes: Option<i64>,
    /// Visits that ended.
    pub count: usize,
    /// Visits still in progress.
    pub in_progress: usize,
    /// Ended visits that ended by their due time (0 when the step has no standard).
    pub met: usize,
    /// Median working minutes of the ended visits.
    pub median_minutes: Option<i64>,
    /// 90th-percentile working minutes of the ended visits.
    pub p90_minutes: Option<i64>,
}

impl StepStats {
    /// Share of ended visits that met the standard, 0–1; `None` without visits or standard.
    pub fn met_rate(&self) -> Option<f64> {
        (self.count > 0 && self.standard_minutes.is_some())
            .then(|| self.met as f64 / self.count as f64)
    }
}

/// The nearest-rank `p`-th percentile (0 < p ≤ 100) of `sorted` (ascending).
pub fn percentile(sorted: &[i64], p: u32) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    let rank = (u64::from(p.clamp(1, 100)) * n as u64).div_ceil(100) as usize;
    sorted.get(rank.clamp(1, n) - 1).copied()
}

/// Figures for every non-final step of `def`, in the definition's order. Visits of other
/// steps (final steps, steps no longer in the definition) are ignored.
pub fn step_stats(def: &Definition, holidays: &Holidays, visits: &[Visit]) -> Vec<StepStats> {
    let cal = def.working_calendar();
    def.steps
        .iter()
        .filter(|s| !s.is_final)
        .map(|step| {
            let mut minutes = Vec::new();
            let mut met = 0;
            let mut in_progress = 0;
            for v in visits.iter().filter(|v| v.step == step.id) {
                let Some(left) = v.left_at else {
                    in_progress += 1;
                    continue;
                };
                minutes.push(cal.working_minutes(v.entered_at, left, holidays));
                let due = match v.due_at {
                    Some(due) => Some(due),
                    None => cal.due(v.entered_at, &step.standard, holidays),
                };
                if step.standard.max().is_some() && due.is_some_and(|due| left <= due) {
                    met += 1;
                }
            }
            minutes.sort_unstable();
            StepStats {
                step: step.id.clone(),
                number: step.number,
                standard_minutes: step.standard.max_minutes(&cal),
                count: minutes.len(),
                in_progress,
                met,
                median_minutes: percentile(&minutes, 50),
                p90_minutes: percentile(&minutes, 90),
            }
        })
        .collect()
}

/// Working minutes in words: `"45 menit"`, `"2 jam 5 menit"` / `"45 min"`, `"2 h 5 min"`.
pub fn minutes_label(m: i64, lang: Lang) -> String {
    let (h, min) = (m / 60, m % 60);
    let (hu, mu) = (lang.tr("jam", "h"), lang.tr("menit", "min"));
    match (h, min) {
        (0, m) => format!("{m} {mu}"),
        (h, 0) => format!("{h} {hu}"),
        (h, m) => format!("{h} {hu} {m} {mu}"),
    }
}

/// The figures as a report table: step, standard, visits ended, met (count and percent),
/// median and p90.
pub fn table(def: &Definition, stats: &[StepStats], lang: Lang) -> Table {
    let dash = || "–".to_owned();
    let rows = stats
        .iter()
        .map(|s| {
            let step = def.step(&s.step);
            vec![
                s.number.to_string(),
                step.map(|st| lang.pick(&st.activity).to_owned())
                    .unwrap_or_else(|| s.step.clone()),
                step.map_or_else(dash, |st| time_label(&st.standard, lang)),
                s.count.to_string(),
                s.met_rate()
                    .map_or_else(dash, |r| format!("{} ({:.0}%)", s.met, (r * 100.0).round())),
                s.median_minutes
                    .map_or_else(dash, |m| minutes_label(m, lang)),
                s.p90_minutes.map_or_else(dash, |m| minutes_label(m, lang)),
                s.in_progress.to_string(),
            ]
        })
        .collect();
    Table {
        caption: format!(
            "{} {}",
            lang.tr("Waktu per langkah", "Time per step"),
            def.id.to_uppercase()
        ),
        columns: vec![
            Column::new(lang.tr("No", "No."), 4),
            Column::new(lang.tr("Langkah", "Step"), 30),
            Column::new(lang.tr("Standar", "Standard"), 10),
            Column::new(lang.tr("Selesai", "Ended"), 7),
            Column::new(lang.tr("Memenuhi standar", "Met standard"), 11),
            Column::new(lang.tr("Median", "Median"), 11),
            Column::new(lang.tr("Persentil 90", "90th percentile"), 11),
            Column::new(lang.tr("Berjalan", "In progress"), 8),
        ],
        rows,
    }
}
