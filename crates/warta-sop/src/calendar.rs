//! The SLA calendar: when a step is due, and how much working time has passed.
//!
//! Nothing here reads the clock; every instant is passed in.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::SopError;
use crate::standard::{Span, StandardTime};

/// Bound on day-by-day walks, so a calendar with (almost) no open days cannot loop forever.
const MAX_DAYS: u32 = 3 * 366;

/// Opening hours of one weekday, local time, `open < close`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenHours {
    /// Opening time.
    pub open: NaiveTime,
    /// Closing time (exclusive).
    pub close: NaiveTime,
}

/// When an SOP's clock runs, as written in its definition file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarSpec {
    /// 24 hours a day, every day, holidays included (SOP-B).
    AroundTheClock {
        /// Zone used to show times.
        time_zone: Tz,
    },
    /// Weekly opening hours in a time zone (SOP-A: Mon–Thu 08:00–16:00, Fri 08:00–11:30 WITA).
    WorkingHours {
        /// IANA zone the hours are in.
        time_zone: Tz,
        /// Index 0 = Monday … 6 = Sunday; `None` = closed.
        week: [Option<OpenHours>; 7],
        /// Whether public holidays and collective leave close the office.
        observes_holidays: bool,
    },
}

impl CalendarSpec {
    /// The zone the calendar's times are in.
    pub fn time_zone(&self) -> Tz {
        match self {
            CalendarSpec::AroundTheClock { time_zone }
            | CalendarSpec::WorkingHours { time_zone, .. } => *time_zone,
        }
    }

    /// True for a 24/7 calendar.
    pub fn is_around_the_clock(&self) -> bool {
        matches!(self, CalendarSpec::AroundTheClock { .. })
    }
}

/// Public holidays and collective leave ("cuti bersama"): dates in the SOP's zone, with names.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holidays {
    days: BTreeMap<NaiveDate, String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHolidays {
    #[serde(default)]
    holiday: Vec<RawHoliday>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHoliday {
    date: String,
    name: String,
}

const HOLIDAYS_HEADER: &str = "\
# Indonesian national public holidays (hari libur nasional) and collective leave (cuti bersama).
# The administrator edits this list to match the government's official decree
# (Surat Keputusan Bersama Menteri Agama, Menteri Ketenagakerjaan dan Menteri PANRB) each year.
# Offices that keep working hours (SOP-A, SOP-C, SOP-D) do not count these days; SOP-B runs 24/7.
# Format: one [[holiday]] table per day; date = \"YYYY-MM-DD\", name = free text.
";

impl Holidays {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// A set of unnamed dates (tests, quick setups).
    pub fn from_dates(dates: impl IntoIterator<Item = NaiveDate>) -> Self {
        Holidays {
            days: dates.into_iter().map(|d| (d, String::new())).collect(),
        }
    }

    /// Parses a holidays file (`[[holiday]] date = "YYYY-MM-DD" name = "…"`).
    ///
    /// `source` names the file in error messages. A date listed twice is refused.
    pub fn parse_toml(source: &str, text: &str) -> Result<Self, SopError> {
        let raw: RawHolidays =
            toml::from_str(text).map_err(|e| SopError::from_toml(source, text, &e))?;
        let mut days = BTreeMap::new();
        for (i, h) in raw.holiday.into_iter().enumerate() {
            let problem = |message: String| SopError::Holidays {
                file: source.to_owned(),
                message: format!("holiday #{} ({:?}): {message}", i + 1, h.name),
            };
            let date = NaiveDate::parse_from_str(&h.date, "%Y-%m-%d")
                .map_err(|_| problem(format!("date {:?} is not YYYY-MM-DD", h.date)))?;
            if days.contains_key(&date) {
                return Err(problem(format!("date {date} is listed twice")));
            }
            days.insert(date, h.name);
        }
        Ok(Holidays { days })
    }

    /// The list shipped in `sops/holidays.toml` (2026 and 2027).
    pub fn builtin() -> Self {
        Self::parse_toml("sops/holidays.toml", crate::BUILTIN_HOLIDAYS)
            .expect("sops/holidays.toml is valid (tested)")
    }

    /// Writes the set back in the file format, with the explanatory header.
    pub fn to_toml(&self) -> String {
        let mut out = String::from(HOLIDAYS_HEADER);
        for (date, name) in &self.days {
            let name = toml::Value::String(name.clone()).to_string();
            out.push_str(&format!(
                "\n[[holiday]]\ndate = \"{date}\"\nname = {name}\n"
            ));
        }
        out
    }

    /// Whether `date` is a holiday.
    pub fn contains(&self, date: NaiveDate) -> bool {
        self.days.contains_key(&date)
    }

    /// The holiday's name, if `date` is one.
    pub fn name(&self, date: NaiveDate) -> Option<&str> {
        self.days.get(&date).map(String::as_str)
    }

    /// Adds or renames a holiday.
    pub fn insert(&mut self, date: NaiveDate, name: impl Into<String>) {
        self.days.insert(date, name.into());
    }

    /// Removes a holiday; false if it was not listed.
    pub fn remove(&mut self, date: NaiveDate) -> bool {
        self.days.remove(&date).is_some()
    }

    /// Holidays in date order.
    pub fn iter(&self) -> impl Iterator<Item = (NaiveDate, &str)> {
        self.days.iter().map(|(d, n)| (*d, n.as_str()))
    }

    /// Number of holidays.
    pub fn len(&self) -> usize {
        self.days.len()
    }

    /// True when no holiday is listed.
    pub fn is_empty(&self) -> bool {
        self.days.is_empty()
    }
}

/// Working-time arithmetic for one SOP's [`CalendarSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    spec: CalendarSpec,
}

impl From<CalendarSpec> for Calendar {
    fn from(spec: CalendarSpec) -> Self {
        Calendar { spec }
    }
}

impl From<&CalendarSpec> for Calendar {
    fn from(spec: &CalendarSpec) -> Self {
        Calendar { spec: spec.clone() }
    }
}

impl Calendar {
    /// A calendar for `spec`.
    pub fn new(spec: CalendarSpec) -> Self {
        Calendar { spec }
    }

    /// The spec this calendar runs.
    pub fn spec(&self) -> &CalendarSpec {
        &self.spec
    }

    /// Minutes in one nominal working day: 1440 around the clock, otherwise the longest
    /// opening of the week (480 for SOP-A). Used only to show day-based standards in minutes.
    pub fn nominal_day_minutes(&self) -> i64 {
        match &self.spec {
            CalendarSpec::AroundTheClock { .. } => 24 * 60,
            CalendarSpec::WorkingHours { week, .. } => week
                .iter()
                .flatten()
                .map(|h| (h.close - h.open).num_minutes())
                .max()
                .unwrap_or(0),
        }
    }

    /// Whether the office is open at all on `date` (a working weekday and, when the calendar
    /// observes them, not a holiday). Always true around the clock.
    pub fn is_working_day(&self, date: NaiveDate, holidays: &Holidays) -> bool {
        match &self.spec {
            CalendarSpec::AroundTheClock { .. } => true,
            CalendarSpec::WorkingHours {
                week,
                observes_holidays,
                ..
            } => {
                week[date.weekday().num_days_from_monday() as usize].is_some()
                    && !(*observes_holidays && holidays.contains(date))
            }
        }
    }

    /// The opening window of `date` in UTC, `None` when closed. Working-hours calendars only.
    fn window(
        &self,
        date: NaiveDate,
        holidays: &Holidays,
    ) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
        let CalendarSpec::WorkingHours {
            time_zone, week, ..
        } = &self.spec
        else {
            return None;
        };
        if !self.is_working_day(date, holidays) {
            return None;
        }
        let hours = week[date.weekday().num_days_from_monday() as usize]?;
        Some((
            local_to_utc(*time_zone, date, hours.open),
            local_to_utc(*time_zone, date, hours.close),
        ))
    }

    fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        t.with_timezone(&self.spec.time_zone()).date_naive()
    }

    /// When a step entered at `entered` is due under `standard` (its maximum), or `None` when
    /// the step has no standard time (or the calendar never opens).
    ///
    /// * Around the clock: plain addition (a day is 24 h).
    /// * Minutes and hours: working minutes are consumed from `entered`; outside opening hours
    ///   counting starts at the next opening. Consuming exactly to a closing time gives that
    ///   closing time (Mon 15:00 + 1 h = Mon 16:00).
    /// * Working days: counting starts at the first working instant at or after `entered`.
    ///   If that is mid-day, at offset *o* after the day's opening, the step is due *o* after
    ///   the opening of the N-th next working day, clamped to that day's closing time when the
    ///   day is shorter (Thu 14:00 + 1 d = Fri 11:30). If it is an opening (entered at or
    ///   before opening, at night, on a weekend or holiday), N whole days are counted from it
    ///   and the step is due at the close of the N-th working day (Sun 12:00 + 1 d = Mon 16:00).
    pub fn due(
        &self,
        entered: DateTime<Utc>,
        standard: &StandardTime,
        holidays: &Holidays,
    ) -> Option<DateTime<Utc>> {
        let span = standard.max()?;
        if self.spec.is_around_the_clock() {
            return Some(match span {
                Span::Minutes(m) => entered + Duration::minutes(m),
                Span::WorkingDays(d) => entered + Duration::days(d),
            });
        }
        match span {
            Span::Minutes(m) => self.add_minutes(entered, m, holidays),
            Span::WorkingDays(d) => self.add_days(entered, d, holidays),
        }
    }

    fn add_minutes(
        &self,
        entered: DateTime<Utc>,
        minutes: i64,
        holidays: &Holidays,
    ) -> Option<DateTime<Utc>> {
        if minutes <= 0 {
            return Some(entered);
        }
        let mut remaining = Duration::minutes(minutes);
        let mut date = self.local_date(entered);
        for _ in 0..MAX_DAYS {
            if let Some((open, close)) = self.window(date, holidays) {
                let start = open.max(entered);
                if start < close {
                    let available = close - start;
                    if remaining <= available {
                        return Some(start + remaining);
                    }
                    remaining -= available;
                }
            }
            date = date.succ_opt()?;
        }
        None
    }

    fn add_days(
        &self,
        entered: DateTime<Utc>,
        days: i64,
        holidays: &Holidays,
    ) -> Option<DateTime<Utc>> {
        if days <= 0 {
            return Some(entered);
        }
        // First working instant at or after `entered`, as (day, offset from its opening).
        let mut date = self.local_date(entered);
        let mut found = None;
        for _ in 0..MAX_DAYS {
            if let Some((open, close)) = self.window(date, holidays)
                && entered < close
            {
                found = Some((date, open.max(entered) - open));
                break;
            }
            date = date.succ_opt()?;
        }
        let (start_day, offset) = found?;
        let whole_days = offset.is_zero();
        // Whole days: the start day is the first of the N; otherwise N days after it.
        let mut to_skip = if whole_days { days - 1 } else { days };
        let mut date = start_day;
        let mut walked = 0;
        while to_skip > 0 {
            date = date.succ_opt()?;
            walked += 1;
            if walked > MAX_DAYS * 10 {
                return None;
            }
            if self.window(date, holidays).is_some() {
                to_skip -= 1;
            }
        }
        let (open, close) = self.window(date, holidays)?;
        Some(if whole_days {
            close
        } else {
            (open + offset).min(close)
        })
    }

    /// Working minutes elapsed between `from` and `to` (0 if `to` is not after `from`);
    /// whole minutes, rounded down. Around the clock this is wall-clock time.
    pub fn working_minutes(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        holidays: &Holidays,
    ) -> i64 {
        if to <= from {
            return 0;
        }
        if self.spec.is_around_the_clock() {
            return (to - from).num_minutes();
        }
        let last = self.local_date(to);
        let mut date = self.local_date(from);
        let mut total = Duration::zero();
        while date <= last {
            if let Some((open, close)) = self.window(date, holidays) {
                let (a, b) = (open.max(from), close.min(to));
                if a < b {
                    total += b - a;
                }
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        total.num_minutes()
    }
}

/// A local wall-clock time as UTC. Ambiguous times (DST fall-back) take the earlier instant;
/// times in a DST gap are read with the offset in force just before the gap.
fn local_to_utc(tz: Tz, date: NaiveDate, time: NaiveTime) -> DateTime<Utc> {
    let naive = date.and_time(time);
    match tz.from_local_datetime(&naive).earliest() {
        Some(t) => t.with_timezone(&Utc),
        None => {
            let before = tz
                .from_local_datetime(&(naive - Duration::hours(3)))
                .earliest()
                .map_or(0, |t| t.offset().fix().local_minus_utc());
            (naive - Duration::seconds(i64::from(before))).and_utc()
        }
    }
}
