//! Standard times ("mutu baku: waktu") and their file syntax.

use std::fmt;

use crate::calendar::Calendar;

/// One bound of a standard time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Span {
    /// Working minutes (hours are stored as minutes).
    Minutes(i64),
    /// Working days of the SOP's calendar.
    WorkingDays(i64),
}

/// The standard time the SOP gives a step.
///
/// File syntax: `"15m"`, `"3h"`, `"1d"` (one working day), ranges of one unit such as
/// `"1-3h"` or `"1-2d"`, and `"none"` for steps the SOP gives no time ("–", "as needed").
/// A single value is stored as a range whose bounds are equal. Due times use the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StandardTime {
    /// The SOP gives no time for this step (also used by final steps).
    None,
    /// From `min` to `max`; equal bounds for a single value.
    Range {
        /// Lower bound, for display.
        min: Span,
        /// Upper bound: the target the due time is computed from.
        max: Span,
    },
}

/// Why a standard time string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad standard time {text:?}: {reason} (expected e.g. \"15m\", \"3h\", \"1d\", \"1-3h\", \"1-2d\" or \"none\")"
)]
pub struct BadStandardTime {
    /// The text as written.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl StandardTime {
    /// Parses the file syntax (see the type's documentation).
    pub fn parse(text: &str) -> Result<Self, BadStandardTime> {
        let bad = |reason| BadStandardTime {
            text: text.to_owned(),
            reason,
        };
        let t = text.trim();
        if t == "none" {
            return Ok(StandardTime::None);
        }
        let (digits, unit) = if let Some(d) = t.strip_suffix("min") {
            (d, 'm')
        } else {
            let unit = t.chars().last().ok_or_else(|| bad("empty"))?;
            (&t[..t.len() - unit.len_utf8()], unit)
        };
        let make = |n: i64| match unit {
            'm' => Ok(Span::Minutes(n)),
            'h' => Ok(Span::Minutes(n * 60)),
            'd' => Ok(Span::WorkingDays(n)),
            _ => Err(bad("unknown unit; use m, h or d")),
        };
        let number = |s: &str| -> Result<i64, BadStandardTime> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || s.len() > 6 {
                return Err(bad("not a whole number"));
            }
            s.parse().map_err(|_| bad("not a whole number"))
        };
        if !matches!(unit, 'm' | 'h' | 'd') {
            return Err(bad("unknown unit; use m, h or d"));
        }
        let (lo, hi) = match digits.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(digits)?;
                (n, n)
            }
        };
        if lo <= 0 {
            return Err(bad("must be greater than zero"));
        }
        if lo > hi {
            return Err(bad("range minimum is above its maximum"));
        }
        Ok(StandardTime::Range {
            min: make(lo)?,
            max: make(hi)?,
        })
    }

    /// The upper bound, the target due times are computed from.
    pub fn max(&self) -> Option<Span> {
        match self {
            StandardTime::None => None,
            StandardTime::Range { max, .. } => Some(*max),
        }
    }

    /// The upper bound in minutes of `cal`, for "actual vs standard" displays.
    ///
    /// Working days are converted with the calendar's nominal day length
    /// ([`Calendar::nominal_day_minutes`]): 24 h around the clock, otherwise the longest
    /// opening of the week (8 h for Mon–Thu 08:00–16:00). The due time itself does not use
    /// this conversion; see [`Calendar::due`].
    pub fn max_minutes(&self, cal: &Calendar) -> Option<i64> {
        self.max().map(|span| match span {
            Span::Minutes(m) => m,
            Span::WorkingDays(d) => d * cal.nominal_day_minutes(),
        })
    }

    /// Short English display: `"15 min"`, `"3 h"`, `"1-3 h"`, `"1 d"`, `"1-2 d"`, `"–"`.
    pub fn display(&self) -> String {
        self.to_string()
    }
}

impl fmt::Display for StandardTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fn single(s: Span) -> String {
            match s {
                Span::WorkingDays(d) => format!("{d} d"),
                Span::Minutes(m) if m % 60 == 0 => format!("{} h", m / 60),
                Span::Minutes(m) => format!("{m} min"),
            }
        }
        match *self {
            StandardTime::None => f.write_str("–"),
            StandardTime::Range { min, max } if min == max => f.write_str(&single(max)),
            // One unit for both bounds so ranges read "1-3 h", not "60 min-3 h".
            StandardTime::Range { min, max } => match (min, max) {
                (Span::Minutes(a), Span::Minutes(b)) if a % 60 == 0 && b % 60 == 0 => {
                    write!(f, "{}-{} h", a / 60, b / 60)
                }
                (Span::Minutes(a), Span::Minutes(b)) => write!(f, "{a}-{b} min"),
                (Span::WorkingDays(a), Span::WorkingDays(b)) => write!(f, "{a}-{b} d"),
                (a, b) => write!(f, "{}-{}", single(a), single(b)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        let cases = [
            ("15m", "15 min"),
            ("20min", "20 min"),
            ("3h", "3 h"),
            ("1-3h", "1-3 h"),
            ("1d", "1 d"),
            ("1-2d", "1-2 d"),
            ("90m", "90 min"),
            ("none", "–"),
        ];
        for (input, shown) in cases {
            let t = StandardTime::parse(input).unwrap();
            assert_eq!(t.display(), shown, "{input}");
        }
        assert_eq!(
            StandardTime::parse("1-3h").unwrap(),
            StandardTime::Range {
                min: Span::Minutes(60),
                max: Span::Minutes(180)
            }
        );
        assert_eq!(
            StandardTime::parse("2d").unwrap().max(),
            Some(Span::WorkingDays(2))
        );
    }

    #[test]
    fn refuses_bad_syntax() {
        for bad in [
            "", "h", "3", "3x", "0h", "3-1h", "-3h", "1.5h", "1h-2h", "soon",
        ] {
            assert!(StandardTime::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
