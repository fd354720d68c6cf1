//! The SOP in the official table layout ("activities × actors"), built from its definition so
//! the printed procedure and the running workflow cannot disagree: one row per step with its
//! number, activity, a mark under the role that carries it out, the requirements/inputs, the
//! standard time and the output. Landscape.

use warta_sop::{Definition, Span, StandardTime};

use crate::{Block, Column, Document, Lang, Orientation, Table};

/// The mark put under the role that carries out a step.
pub const MARK: &str = "✓";

/// The standard time as the printed SOP shows it: `"15 menit"`, `"1-3 jam"`, `"1 hari kerja"`
/// (Indonesian) or `"15 min"`, `"1-3 h"`, `"1 working day"` (English); `"–"` when none.
pub fn time_label(t: &StandardTime, lang: Lang) -> String {
    let StandardTime::Range { min, max } = *t else {
        return "–".to_owned();
    };
    let (unit, a, b) = match (min, max) {
        (Span::WorkingDays(a), Span::WorkingDays(b)) => {
            let unit = match lang {
                Lang::Id => "hari kerja",
                Lang::En if b == 1 => "working day",
                Lang::En => "working days",
            };
            (unit, a, b)
        }
        (Span::Minutes(a), Span::Minutes(b)) if a % 60 == 0 && b % 60 == 0 => {
            (lang.tr("jam", "h"), a / 60, b / 60)
        }
        (Span::Minutes(a), Span::Minutes(b)) => (lang.tr("menit", "min"), a, b),
        // Mixed units do not occur in the file syntax; show the maximum.
        (_, Span::Minutes(b)) => (lang.tr("menit", "min"), b, b),
        (_, Span::WorkingDays(b)) => (lang.tr("hari kerja", "working days"), b, b),
    };
    if a == b {
        format!("{b} {unit}")
    } else {
        format!("{a}-{b} {unit}")
    }
}

/// The calendar the SOP's times are counted in, in words.
pub fn calendar_label(def: &Definition, lang: Lang) -> String {
    use warta_sop::CalendarSpec;
    const DAYS_ID: [&str; 7] = ["Sen", "Sel", "Rab", "Kam", "Jum", "Sab", "Min"];
    const DAYS_EN: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    match &def.calendar {
        CalendarSpec::AroundTheClock { time_zone } => format!(
            "{} ({time_zone})",
            lang.tr("24 jam setiap hari", "around the clock")
        ),
        CalendarSpec::WorkingHours {
            time_zone,
            week,
            observes_holidays,
        } => {
            let days = match lang {
                Lang::Id => DAYS_ID,
                Lang::En => DAYS_EN,
            };
            let hours: Vec<String> = week
                .iter()
                .enumerate()
                .filter_map(|(i, h)| {
                    h.map(|h| {
                        format!(
                            "{} {}-{}",
                            days[i],
                            h.open.format("%H:%M"),
                            h.close.format("%H:%M")
                        )
                    })
                })
                .collect();
            let holidays = if *observes_holidays {
                lang.tr(", kecuali hari libur", ", holidays excluded")
            } else {
                ""
            };
            format!("{} ({time_zone}){holidays}", hours.join(", "))
        }
    }
}

/// The SOP as a landscape document with one table in the official layout.
pub fn document(def: &Definition, lang: Lang) -> Document {
    let mut columns = vec![
        Column::new(lang.tr("No", "No."), 4),
        Column::new(lang.tr("Kegiatan", "Activity"), 26),
    ];
    for role in &def.roles {
        columns.push(Column::new(lang.pick(&role.name), 11));
    }
    columns.push(Column::new(
        lang.tr("Persyaratan / Kelengkapan", "Requirements / inputs"),
        18,
    ));
    columns.push(Column::new(lang.tr("Waktu", "Time"), 8));
    columns.push(Column::new(lang.tr("Output", "Output"), 16));
    let rows = def
        .steps
        .iter()
        .map(|step| {
            let mut row = vec![
                step.number.to_string(),
                lang.pick(&step.activity).to_owned(),
            ];
            for role in &def.roles {
                let acts = step.actor.as_deref() == Some(role.id.as_str());
                row.push(if acts { MARK.to_owned() } else { String::new() });
            }
            row.push(lang.pick(&step.inputs).to_owned());
            row.push(time_label(&step.standard, lang));
            row.push(lang.pick(&step.output).to_owned());
            row
        })
        .collect();
    Document {
        title: format!(
            "{}: {}",
            lang.tr(
                "Standar Operasional Prosedur",
                "Standard operating procedure"
            ),
            lang.pick(&def.name)
        ),
        meta: vec![
            (lang.tr("Kode", "Code").to_owned(), def.id.to_uppercase()),
            (
                lang.tr("Waktu kerja", "Working time").to_owned(),
                calendar_label(def, lang),
            ),
        ],
        orientation: Orientation::Landscape,
        blocks: vec![Block::Table(Table {
            caption: lang.pick(&def.name).to_owned(),
            columns,
            rows,
        })],
    }
}
