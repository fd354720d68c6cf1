//! Reports made from the hub's data (issue 7; SOP-C step 5's periodic site report) and the
//! dashboard's per-step figures, written through `warta-report` as DOCX, PDF or CSV.
//!
//! * The periodic activity report: items published per unit, guard incidents opened and
//!   resolved, and per step of SOP-A the count, met rate, median and p90 working time.
//! * The website status and damage report: guard checks run per website, incidents by kind
//!   and one by one, restores with the checks before and after.
//! * The SOP printed from its definition (any signed-in user).
//! * One incident's report and, once it is closed, its completion report (whoever may see the
//!   incident).
//!
//! Per-step figures come from `step_visits` (SOP-A's items) and `incident_steps` (SOP-D's and
//! SOP-B's incidents).
//!
//! A period is whole days in the office's time zone (SOP-A's calendar), `to` included, at
//! most 366 days. Reports and the dashboard are for admins, officials and publishers; a
//! refusal is audited. Nothing here writes to the database.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Datelike, Days, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use rusqlite::params;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warta_api::{self as api, Role};
use warta_report::stats::{self, Visit};
use warta_report::{Block, Column, Document, Format, Lang, Orientation, Table};
use warta_sop::Definition;

use crate::error::{HubError, HubResult};
use crate::http::{Json, Path, Query, blocking};
use crate::office::{Caller, Office};
use crate::openapi::{BadRequest, Forbidden, NotFound, Unauthenticated};

type Hub = State<Arc<Office>>;

/// The longest period a report or the dashboard covers.
pub const MAX_DAYS: u64 = 366;

pub(crate) fn routes() -> OpenApiRouter<Arc<Office>> {
    OpenApiRouter::new()
        .routes(routes!(dashboard))
        .routes(routes!(activity_report))
        .routes(routes!(site_status_report))
        .routes(routes!(sop_report))
        .routes(routes!(incident_report))
        .routes(routes!(incident_completion_report))
}

fn report_allowed(caller: &Caller) -> HubResult<()> {
    if [Role::Admin, Role::Official, Role::Publisher]
        .into_iter()
        .any(|r| caller.has(r))
    {
        Ok(())
    } else {
        Err(HubError::Forbidden(
            "reports need the official, publisher or admin role".into(),
        ))
    }
}

/// Whole days `from`..=`to` in `tz`, as the instants [start, end).
#[derive(Debug, Clone, Copy)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Period {
    /// From the query's `from`/`to` (YYYY-MM-DD); missing `from` is the first of `today`'s
    /// month, missing `to` is `today`.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        today: NaiveDate,
        tz: Tz,
    ) -> HubResult<Period> {
        let day = |field: &str, v: &str| {
            NaiveDate::parse_from_str(v.trim(), "%Y-%m-%d").map_err(|_| {
                HubError::validation(field, format!("{field} is a date as YYYY-MM-DD, not {v:?}"))
            })
        };
        let from = match from.filter(|s| !s.trim().is_empty()) {
            Some(v) => day("from", v)?,
            None => today.with_day(1).unwrap_or(today),
        };
        let to = match to.filter(|s| !s.trim().is_empty()) {
            Some(v) => day("to", v)?,
            None => today,
        };
        if to < from {
            return Err(HubError::validation(
                "to",
                format!("the period ends ({to}) before it starts ({from})"),
            ));
        }
        if (to - from).num_days() >= MAX_DAYS as i64 {
            return Err(HubError::validation(
                "to",
                format!("a period is at most {MAX_DAYS} days"),
            ));
        }
        let midnight = |d: NaiveDate| {
            tz.from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
                .earliest()
                .map(|t| t.with_timezone(&Utc))
                .ok_or_else(|| HubError::validation("from", "the date has no midnight here"))
        };
        let next = to
            .checked_add_days(Days::new(1))
            .ok_or_else(|| HubError::validation("to", "the date is out of range"))?;
        Ok(Period {
            from,
            to,
            start: midnight(from)?,
            end: midnight(next)?,
        })
    }

    fn label(&self) -> String {
        format!("{} – {}", self.from, self.to)
    }
}

/// A written report: bytes, media type and a file name.
#[derive(Debug)]
pub struct ReportFile {
    pub bytes: Vec<u8>,
    pub format: Format,
    pub name: String,
}

fn parse_format(v: Option<&str>) -> HubResult<Format> {
    v.filter(|s| !s.trim().is_empty())
        .map_or(Ok(Format::Pdf), |s| s.parse())
        .map_err(|e: warta_report::UnknownFormat| HubError::validation("format", e.to_string()))
}

fn parse_lang(v: Option<&str>) -> HubResult<Lang> {
    v.filter(|s| !s.trim().is_empty())
        .map_or(Ok(Lang::Id), |s| s.parse())
        .map_err(|e: warta_report::UnknownLang| HubError::validation("lang", e.to_string()))
}

fn written(doc: &Document, format: Format, stem: String) -> HubResult<ReportFile> {
    let bytes = doc
        .write(format)
        .map_err(|e| HubError::Internal(anyhow::anyhow!("{e}")))?;
    Ok(ReportFile {
        bytes,
        format,
        name: format!("{stem}.{}", format.as_str()),
    })
}

/// Counts of a JSON array of kinds (`["changed","gambling"]`) into `into`.
fn count_kinds(json: &str, into: &mut BTreeMap<String, u32>) {
    let kinds: Vec<String> = serde_json::from_str(json).unwrap_or_default();
    for k in kinds {
        *into.entry(k).or_default() += 1;
    }
}

fn kind_label(kind: &str, lang: Lang) -> String {
    let (id, en) = match kind {
        "gambling" => ("Judi online", "Online gambling"),
        "defacement" => ("Deface", "Defacement"),
        "hidden_links" => ("Tautan tersembunyi", "Hidden links"),
        "foreign_links" => ("Tautan ke luar", "Links outside the allowed domains"),
        "foreign_resources" => ("Sumber dari luar", "Resources from outside"),
        "foreign_redirect" => ("Pengalihan ke luar", "Redirect outside"),
        "cloaking" => ("Cloaking (mesin pencari)", "Cloaking (search engines)"),
        "changed" => ("Perubahan tak terduga", "Unexpected change"),
        "tampered" => (
            "Berbeda dari yang diterbitkan",
            "Differs from what was published",
        ),
        "unknown_url" => ("Halaman tak dikenal", "Unknown page"),
        "unreachable" => ("Tidak dapat diakses", "Unreachable"),
        "truncated" => ("Halaman terpotong", "Page cut short"),
        "certificate_expiring" => ("Sertifikat segera habis", "Certificate expiring"),
        other => (other, other),
    };
    lang.tr(id, en).to_owned()
}

impl Office {
    fn office_tz(&self) -> Tz {
        self.sop("sop-a")
            .map(|d| d.calendar.time_zone())
            .unwrap_or(chrono_tz::Asia::Makassar)
    }

    fn period(&self, from: Option<&str>, to: Option<&str>) -> HubResult<Period> {
        let tz = self.office_tz();
        let today = self.now().with_timezone(&tz).date_naive();
        Period::parse(from, to, today, tz)
    }

    fn made_line(&self, caller: &Caller, lang: Lang) -> (String, String) {
        let tz = self.office_tz();
        (
            lang.tr("Dibuat", "Made").to_owned(),
            format!(
                "{} ({tz}), {}",
                self.now().with_timezone(&tz).format("%Y-%m-%d %H:%M"),
                caller.display_name
            ),
        )
    }

    /// Step visits of `sop`'s items (SOP-A: `step_visits`) and incidents (SOP-D, SOP-B:
    /// `incident_steps`) that entered their step within the period.
    fn sop_visits(&self, sop: &str, p: &Period) -> HubResult<Vec<Visit>> {
        let conn = self.db();
        let visit = |r: &rusqlite::Row<'_>| {
            Ok(Visit {
                step: r.get(0)?,
                entered_at: r.get(1)?,
                left_at: r.get(2)?,
                due_at: r.get(3)?,
            })
        };
        let mut visits = crate::db::all(
            &conn,
            "SELECT v.step, v.entered_at, v.left_at, v.due_at FROM step_visits v
             JOIN items i ON i.id = v.item_id
             WHERE i.sop = ?1 AND v.entered_at >= ?2 AND v.entered_at < ?3",
            params![sop, p.start, p.end],
            visit,
        )?;
        visits.extend(crate::db::all(
            &conn,
            "SELECT s.step, s.entered_at, s.left_at, s.due_at FROM incident_steps s
             JOIN incidents i ON i.id = s.incident_id
             WHERE i.sop = ?1 AND s.entered_at >= ?2 AND s.entered_at < ?3",
            params![sop, p.start, p.end],
            visit,
        )?);
        Ok(visits)
    }

    /// Whether the hub runs this SOP's workflow (SOP-A's items, SOP-D's and SOP-B's incidents).
    fn runs_sop(def: &Definition) -> bool {
        def.id == "sop-a" || crate::incidents::INCIDENT_SOPS.contains(&def.id.as_str())
    }

    fn step_stats(&self, def: &Definition, p: &Period) -> HubResult<Vec<stats::StepStats>> {
        let visits = self.sop_visits(&def.id, p)?;
        let holidays = self.holidays_now();
        Ok(stats::step_stats(def, &holidays, &visits))
    }

    /// `GET /dashboard`: per SOP, per step, the met rate and times in the period.
    pub fn dashboard(
        &self,
        caller: &Caller,
        from: Option<&str>,
        to: Option<&str>,
    ) -> HubResult<api::Dashboard> {
        self.refuse_unless(caller, None, "dashboard", report_allowed(caller))?;
        let p = self.period(from, to)?;
        let mut sops = Vec::new();
        for def in self.definitions() {
            let figures = self.step_stats(def, &p)?;
            let tracked =
                Self::runs_sop(def) || figures.iter().any(|s| s.count + s.in_progress > 0);
            sops.push(api::DashboardSop {
                id: def.id.clone(),
                name_id: def.name.id.clone(),
                name_en: def.name.en.clone(),
                tracked,
                steps: figures
                    .iter()
                    .map(|s| {
                        let step = def.step(&s.step);
                        api::DashboardStep {
                            step: s.step.clone(),
                            number: s.number,
                            activity_id: step.map(|st| st.activity.id.clone()).unwrap_or_default(),
                            activity_en: step.map(|st| st.activity.en.clone()).unwrap_or_default(),
                            standard_minutes: s.standard_minutes,
                            count: s.count as u32,
                            met: s.met as u32,
                            in_progress: s.in_progress as u32,
                            met_rate: s.met_rate(),
                            median_minutes: s.median_minutes,
                            p90_minutes: s.p90_minutes,
                        }
                    })
                    .collect(),
            });
        }
        Ok(api::Dashboard {
            from: p.from.to_string(),
            to: p.to.to_string(),
            sops,
        })
    }

    /// The periodic activity report as a document.
    pub fn activity_document(
        &self,
        caller: &Caller,
        from: Option<&str>,
        to: Option<&str>,
        lang: Lang,
    ) -> HubResult<(Document, Period)> {
        self.refuse_unless(caller, None, "report.activity", report_allowed(caller))?;
        let p = self.period(from, to)?;
        let published: Vec<(String, i64)> = {
            let conn = self.db();
            crate::db::all(
                &conn,
                "SELECT unit, count(*) FROM items
                 WHERE published_at >= ?1 AND published_at < ?2
                 GROUP BY unit ORDER BY unit COLLATE NOCASE",
                params![p.start, p.end],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
        };
        let (opened, resolved) = self.guard_incident_counts(&p)?;

        let mut blocks = Vec::new();
        blocks.push(Block::Heading(
            lang.tr(
                "1. Berita yang dipublikasikan per unit",
                "1. Items published per unit",
            )
            .into(),
        ));
        let total: i64 = published.iter().map(|(_, n)| n).sum();
        let mut rows: Vec<Vec<String>> = published
            .into_iter()
            .map(|(unit, n)| {
                let unit = if unit.trim().is_empty() {
                    lang.tr("(tanpa unit)", "(no unit)").to_owned()
                } else {
                    unit
                };
                vec![unit, n.to_string()]
            })
            .collect();
        rows.push(vec![lang.tr("Jumlah", "Total").into(), total.to_string()]);
        blocks.push(Block::Table(Table {
            caption: lang.tr("Berita per unit", "Items per unit").into(),
            columns: vec![
                Column::new(lang.tr("Unit kerja", "Unit"), 30),
                Column::new(lang.tr("Dipublikasikan", "Published"), 12),
            ],
            rows,
        }));

        blocks.push(Block::Heading(
            lang.tr("2. Insiden yang ditangani", "2. Incidents handled")
                .into(),
        ));
        let kinds: Vec<&String> = opened.keys().chain(resolved.keys()).collect();
        let mut kinds: Vec<&String> = kinds.into_iter().collect();
        kinds.sort();
        kinds.dedup();
        let mut rows: Vec<Vec<String>> = kinds
            .iter()
            .map(|k| {
                vec![
                    kind_label(k, lang),
                    opened.get(*k).copied().unwrap_or(0).to_string(),
                    resolved.get(*k).copied().unwrap_or(0).to_string(),
                ]
            })
            .collect();
        let (o_total, r_total) = self.guard_incident_totals(&p)?;
        rows.push(vec![
            lang.tr("Jumlah insiden", "Incidents in all").into(),
            o_total.to_string(),
            r_total.to_string(),
        ]);
        blocks.push(Block::Paragraph(
            lang.tr(
                "Insiden situs web yang dicatat penjaga website (SOP-B). Satu insiden dapat memiliki beberapa jenis temuan.",
                "Website incidents recorded by the website guard (SOP-B). One incident can have several kinds of finding.",
            )
            .into(),
        ));
        blocks.push(Block::Table(Table {
            caption: lang.tr("Insiden", "Incidents").into(),
            columns: vec![
                Column::new(lang.tr("Jenis temuan", "Kind of finding"), 30),
                Column::new(lang.tr("Dibuka", "Opened"), 10),
                Column::new(lang.tr("Diselesaikan", "Resolved"), 10),
            ],
            rows,
        }));
        let handled = self.incident_counts(&p)?;
        blocks.push(Block::Paragraph(
            lang.tr(
                "Insiden keamanan yang ditangani menurut SOP (SOP-D gangguan keamanan jaringan, SOP-B keamanan website).",
                "Security incidents handled under their SOP (SOP-D network security, SOP-B website security).",
            )
            .into(),
        ));
        blocks.push(Block::Table(Table {
            caption: lang.tr("Insiden per SOP", "Incidents per SOP").into(),
            columns: vec![
                Column::new("SOP", 30),
                Column::new(lang.tr("Dibuka", "Opened"), 10),
                Column::new(lang.tr("Ditutup", "Closed"), 10),
                Column::new(lang.tr("Masih terbuka", "Still open"), 10),
                Column::new(lang.tr("Putaran verifikasi", "Verification loops"), 10),
            ],
            rows: handled
                .iter()
                .map(|(sop, opened, closed, open, loops)| {
                    let name = self
                        .definitions()
                        .iter()
                        .find(|d| &d.id == sop)
                        .map_or_else(
                            || sop.clone(),
                            |d| format!("{}: {}", d.id.to_uppercase(), lang.pick(&d.name)),
                        );
                    vec![
                        name,
                        opened.to_string(),
                        closed.to_string(),
                        open.to_string(),
                        loops.to_string(),
                    ]
                })
                .collect(),
        }));

        let mut n = 3;
        for def in self.definitions() {
            let figures = self.step_stats(def, &p)?;
            if !Self::runs_sop(def) && figures.iter().all(|s| s.count + s.in_progress == 0) {
                continue;
            }
            blocks.push(Block::Heading(format!(
                "{n}. {} {}: {}",
                lang.tr("Waktu per langkah", "Time per step"),
                def.id.to_uppercase(),
                lang.pick(&def.name)
            )));
            n += 1;
            blocks.push(Block::Table(stats::table(def, &figures, lang)));
        }
        blocks.push(Block::Paragraph(
            lang.tr(
                "Waktu dihitung dalam jam kerja SOP (hari libur tidak dihitung) untuk kunjungan langkah yang dimulai dalam periode ini. \
                 Memenuhi standar: selesai paling lambat pada batas waktunya. Median dan persentil 90 memakai peringkat terdekat.",
                "Times are counted in the SOP's working hours (holidays excluded) for step visits that began within the period. \
                 Met standard: ended by its due time. Median and 90th percentile use the nearest rank.",
            )
            .into(),
        ));

        let doc = Document {
            title: lang
                .tr("Laporan Kegiatan Periodik", "Periodic activity report")
                .into(),
            meta: vec![
                (lang.tr("Periode", "Period").into(), p.label()),
                self.made_line(caller, lang),
            ],
            orientation: Orientation::Landscape,
            blocks,
        };
        Ok((doc, p))
    }

    /// Guard incidents opened and resolved in the period, per kind.
    fn guard_incident_counts(
        &self,
        p: &Period,
    ) -> HubResult<(BTreeMap<String, u32>, BTreeMap<String, u32>)> {
        let conn = self.db();
        let mut opened = BTreeMap::new();
        let mut resolved = BTreeMap::new();
        for kinds in crate::db::all(
            &conn,
            "SELECT kinds FROM guard_incidents WHERE opened_at >= ?1 AND opened_at < ?2",
            params![p.start, p.end],
            |r| r.get::<_, String>(0),
        )? {
            count_kinds(&kinds, &mut opened);
        }
        for kinds in crate::db::all(
            &conn,
            "SELECT kinds FROM guard_incidents WHERE resolved_at >= ?1 AND resolved_at < ?2",
            params![p.start, p.end],
            |r| r.get::<_, String>(0),
        )? {
            count_kinds(&kinds, &mut resolved);
        }
        Ok((opened, resolved))
    }

    /// Per incident SOP: incidents opened in the period, closed in it, open at its end, and
    /// the verification loops of those handled in it.
    #[allow(clippy::type_complexity)]
    fn incident_counts(&self, p: &Period) -> HubResult<Vec<(String, i64, i64, i64, i64)>> {
        let conn = self.db();
        let mut out = Vec::new();
        for sop in crate::incidents::INCIDENT_SOPS {
            let row: (i64, i64, i64, i64) = conn.query_row(
                "SELECT
                    count(CASE WHEN created_at >= ?2 AND created_at < ?3 THEN 1 END),
                    count(CASE WHEN closed_at >= ?2 AND closed_at < ?3 THEN 1 END),
                    count(CASE WHEN created_at < ?3 AND (closed_at IS NULL OR closed_at >= ?3) THEN 1 END),
                    COALESCE(sum(CASE WHEN (created_at >= ?2 AND created_at < ?3)
                                        OR (closed_at >= ?2 AND closed_at < ?3) THEN loops END), 0)
                 FROM incidents WHERE sop = ?1",
                params![sop, p.start, p.end],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )?;
            out.push((sop.to_owned(), row.0, row.1, row.2, row.3));
        }
        Ok(out)
    }

    fn guard_incident_totals(&self, p: &Period) -> HubResult<(i64, i64)> {
        let conn = self.db();
        Ok(conn.query_row(
            "SELECT
                (SELECT count(*) FROM guard_incidents WHERE opened_at >= ?1 AND opened_at < ?2),
                (SELECT count(*) FROM guard_incidents WHERE resolved_at >= ?1 AND resolved_at < ?2)",
            params![p.start, p.end],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    }

    /// The website status and damage report (SOP-C step 5) as a document.
    pub fn site_status_document(
        &self,
        caller: &Caller,
        from: Option<&str>,
        to: Option<&str>,
        lang: Lang,
    ) -> HubResult<(Document, Period)> {
        self.refuse_unless(caller, None, "report.site_status", report_allowed(caller))?;
        let p = self.period(from, to)?;
        let tz = self.office_tz();
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
        let conn = self.db();
        let checks: Vec<(String, i64, i64, i64)> = crate::db::all(
            &conn,
            "SELECT COALESCE(t.name, '–'), count(*),
                    sum(c.findings <> '[]' AND c.expected = 0), sum(c.status IS NULL)
             FROM guard_checks c
             LEFT JOIN guard_pages g ON g.id = c.page_id
             LEFT JOIN publish_targets t ON t.id = g.target_id
             WHERE c.at >= ?1 AND c.at < ?2
             GROUP BY g.target_id ORDER BY 1",
            params![p.start, p.end],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        #[allow(clippy::type_complexity)]
        let incidents: Vec<(
            i64,
            DateTime<Utc>,
            String,
            String,
            String,
            Option<DateTime<Utc>>,
            Option<String>,
            i64,
        )> = crate::db::all(
            &conn,
            "SELECT id, opened_at, url, kinds, state, resolved_at, resolution_note, count
                 FROM guard_incidents WHERE opened_at >= ?1 AND opened_at < ?2 ORDER BY id",
            params![p.start, p.end],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                ))
            },
        )?;
        #[allow(clippy::type_complexity)]
        let restores: Vec<(
            i64,
            DateTime<Utc>,
            String,
            String,
            String,
            String,
            bool,
            String,
            String,
            Option<i64>,
        )> = crate::db::all(
            &conn,
            "SELECT r.id, r.started_at, COALESCE(t.name, '–'), r.scope, r.reason, r.state,
                        r.normal, r.before, r.after, r.incident_id
                 FROM site_restores r LEFT JOIN publish_targets t ON t.id = r.target_id
                 WHERE r.started_at >= ?1 AND r.started_at < ?2 ORDER BY r.id",
            params![p.start, p.end],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            },
        )?;
        drop(conn);

        let mut blocks = vec![Block::Heading(
            lang.tr("1. Pemeriksaan website", "1. Website checks")
                .into(),
        )];
        let sum = |f: fn(&(String, i64, i64, i64)) -> i64| checks.iter().map(f).sum::<i64>();
        let mut rows: Vec<Vec<String>> = checks
            .iter()
            .map(|(name, n, found, down)| {
                vec![
                    name.clone(),
                    n.to_string(),
                    found.to_string(),
                    down.to_string(),
                ]
            })
            .collect();
        rows.push(vec![
            lang.tr("Jumlah", "Total").into(),
            sum(|c| c.1).to_string(),
            sum(|c| c.2).to_string(),
            sum(|c| c.3).to_string(),
        ]);
        blocks.push(Block::Table(Table {
            caption: lang.tr("Pemeriksaan", "Checks").into(),
            columns: vec![
                Column::new(lang.tr("Website", "Website"), 30),
                Column::new(lang.tr("Pemeriksaan", "Checks run"), 12),
                Column::new(lang.tr("Dengan temuan", "With findings"), 12),
                Column::new(lang.tr("Tidak terjangkau", "Unreachable"), 12),
            ],
            rows,
        }));

        blocks.push(Block::Heading(
            lang.tr("2. Insiden menurut jenis", "2. Incidents by kind")
                .into(),
        ));
        let mut by_kind = BTreeMap::new();
        for i in &incidents {
            count_kinds(&i.3, &mut by_kind);
        }
        blocks.push(Block::Table(Table {
            caption: lang.tr("Insiden menurut jenis", "Incidents by kind").into(),
            columns: vec![
                Column::new(lang.tr("Jenis temuan", "Kind of finding"), 30),
                Column::new(lang.tr("Insiden", "Incidents"), 12),
            ],
            rows: by_kind
                .iter()
                .map(|(k, n)| vec![kind_label(k, lang), n.to_string()])
                .collect(),
        }));

        blocks.push(Block::Heading(
            lang.tr("3. Daftar insiden", "3. The incidents").into(),
        ));
        blocks.push(Block::Table(Table {
            caption: lang.tr("Daftar insiden", "Incidents").into(),
            columns: vec![
                Column::new(lang.tr("No", "No."), 5),
                Column::new(lang.tr("Dibuka", "Opened"), 12),
                Column::new(lang.tr("Halaman", "Page"), 30),
                Column::new(lang.tr("Jenis", "Kinds"), 20),
                Column::new(lang.tr("Terlihat", "Seen"), 7),
                Column::new(lang.tr("Status", "State"), 10),
                Column::new(lang.tr("Diselesaikan", "Resolved"), 12),
                Column::new(lang.tr("Catatan", "Note"), 20),
            ],
            rows: incidents
                .iter()
                .map(|(id, opened, url, kinds, state, resolved, note, count)| {
                    let kinds: Vec<String> = serde_json::from_str::<Vec<String>>(kinds)
                        .unwrap_or_default()
                        .iter()
                        .map(|k| kind_label(k, lang))
                        .collect();
                    let state = match state.as_str() {
                        "open" => lang.tr("terbuka", "open"),
                        "resolved" => lang.tr("selesai", "resolved"),
                        other => other,
                    };
                    vec![
                        id.to_string(),
                        local(*opened),
                        self.guard_live_url(url),
                        kinds.join(", "),
                        format!("{count}×"),
                        state.to_owned(),
                        resolved.map(local).unwrap_or_default(),
                        note.clone().unwrap_or_default(),
                    ]
                })
                .collect(),
        }));

        blocks.push(Block::Heading(
            lang.tr(
                "4. Pemulihan dan verifikasi",
                "4. Restores and their verification",
            )
            .into(),
        ));
        let checked = |json: &str| {
            let pages: Vec<api::SitePageCheck> = serde_json::from_str(json).unwrap_or_default();
            let findings: usize = pages.iter().map(|c| c.findings.len()).sum();
            format!(
                "{} {}, {} {}",
                pages.len(),
                lang.tr("halaman", "pages"),
                findings,
                lang.tr("temuan", "findings")
            )
        };
        blocks.push(Block::Table(Table {
            caption: lang.tr("Pemulihan", "Restores").into(),
            columns: vec![
                Column::new(lang.tr("No", "No."), 5),
                Column::new(lang.tr("Waktu", "When"), 12),
                Column::new(lang.tr("Website", "Website"), 14),
                Column::new(lang.tr("Cakupan", "Scope"), 9),
                Column::new(lang.tr("Alasan", "Reason"), 20),
                Column::new(lang.tr("Insiden", "Incident"), 7),
                Column::new(lang.tr("Sebelum", "Before"), 13),
                Column::new(lang.tr("Sesudah", "After"), 13),
                Column::new(lang.tr("Hasil", "Result"), 12),
            ],
            rows: restores
                .iter()
                .map(
                    |(id, at, site, scope, reason, state, normal, before, after, incident)| {
                        let result = if *normal {
                            lang.tr("website normal", "site normal").to_owned()
                        } else {
                            format!("{state}; {}", lang.tr("belum normal", "not yet normal"))
                        };
                        vec![
                            id.to_string(),
                            local(*at),
                            site.clone(),
                            scope.clone(),
                            reason.clone(),
                            incident.map(|i| i.to_string()).unwrap_or_default(),
                            checked(before),
                            checked(after),
                            result,
                        ]
                    },
                )
                .collect(),
        }));
        let doc = Document {
            title: lang
                .tr(
                    "Laporan Status dan Kerusakan Website",
                    "Website status and damage report",
                )
                .into(),
            meta: vec![
                (lang.tr("Periode", "Period").into(), p.label()),
                self.made_line(caller, lang),
            ],
            orientation: Orientation::Landscape,
            blocks,
        };
        Ok((doc, p))
    }

    /// The periodic activity report in `format`.
    pub fn activity_report(&self, caller: &Caller, q: &ReportQuery) -> HubResult<ReportFile> {
        let format = parse_format(q.format.as_deref())?;
        let lang = parse_lang(q.lang.as_deref())?;
        let (doc, p) = self.activity_document(caller, q.from.as_deref(), q.to.as_deref(), lang)?;
        written(
            &doc,
            format,
            format!(
                "{}-{}-{}",
                lang.tr("laporan-kegiatan", "activity-report"),
                p.from,
                p.to
            ),
        )
    }

    /// The website status and damage report in `format`.
    pub fn site_status_report(&self, caller: &Caller, q: &ReportQuery) -> HubResult<ReportFile> {
        let format = parse_format(q.format.as_deref())?;
        let lang = parse_lang(q.lang.as_deref())?;
        let (doc, p) =
            self.site_status_document(caller, q.from.as_deref(), q.to.as_deref(), lang)?;
        written(
            &doc,
            format,
            format!(
                "{}-{}-{}",
                lang.tr("laporan-status-website", "website-status-report"),
                p.from,
                p.to
            ),
        )
    }

    /// An SOP in the official table layout, for any signed-in user.
    pub fn sop_report(
        &self,
        _caller: &Caller,
        sop: &str,
        q: &ReportQuery,
    ) -> HubResult<ReportFile> {
        let format = parse_format(q.format.as_deref())?;
        let lang = parse_lang(q.lang.as_deref())?;
        let def = self
            .definitions()
            .iter()
            .find(|d| d.id == sop)
            .ok_or(HubError::NotFound("SOP"))?;
        written(
            &warta_report::sop::document(def, lang),
            format,
            def.id.clone(),
        )
    }
}

impl Office {
    /// The incident report of one incident (any time), or its completion report (once it is
    /// closed: the outcome, the whole time against the SOP's total, the loops). Whoever may
    /// see the incident may have its reports.
    pub fn incident_document(
        &self,
        caller: &Caller,
        id: i64,
        lang: Lang,
        completion: bool,
    ) -> HubResult<Document> {
        let inc = self.get_incident(caller, id)?;
        let s = &inc.summary;
        if completion && s.state != "closed" {
            return Err(HubError::validation(
                "id",
                "the incident is still open: its completion report is made once it is closed",
            ));
        }
        let def = self
            .definitions()
            .iter()
            .find(|d| d.id == s.sop)
            .ok_or(HubError::NotFound("SOP"))?;
        let tz = self.office_tz();
        let local = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
        let activity = |step: &str| {
            def.step(step)
                .map_or_else(|| step.to_owned(), |st| lang.pick(&st.activity).to_owned())
        };
        let minutes = |m: i64| stats::minutes_label(m, lang);
        let source = if s.source == "guard" {
            format!(
                "{}{}",
                lang.tr("penjaga website", "website guard"),
                s.guard_incident_id
                    .map(|g| format!(" (#{g})"))
                    .unwrap_or_default()
            )
        } else {
            lang.tr("formulir laporan", "report form").to_owned()
        };
        let mut meta = vec![
            (lang.tr("Nomor", "Number").to_owned(), format!("#{}", s.id)),
            (
                "SOP".to_owned(),
                format!("{}: {}", def.id.to_uppercase(), lang.pick(&def.name)),
            ),
            (lang.tr("Judul", "Title").to_owned(), s.title.clone()),
            (lang.tr("Sumber", "Source").to_owned(), source),
            (
                lang.tr("Dilaporkan oleh", "Reported by").to_owned(),
                s.reporter.clone(),
            ),
            (lang.tr("Dibuka", "Opened").to_owned(), local(s.created_at)),
        ];
        if completion {
            let outcome = inc
                .final_step
                .as_deref()
                .and_then(|f| def.step(f))
                .map(|st| format!("{} ({})", lang.pick(&st.activity), lang.pick(&st.output)))
                .unwrap_or_default();
            meta.push((
                lang.tr("Ditutup", "Closed").to_owned(),
                s.closed_at.map(local).unwrap_or_default(),
            ));
            meta.push((lang.tr("Hasil", "Outcome").to_owned(), outcome));
            let e = &inc.elapsed;
            meta.push((
                lang.tr("Waktu kerja seluruhnya", "Working time in all")
                    .to_owned(),
                format!(
                    "{} ({} {}; {})",
                    minutes(e.working_minutes),
                    lang.tr("standar", "standard"),
                    e.total,
                    if e.over {
                        lang.tr("melebihi standar", "over the standard")
                    } else {
                        lang.tr("dalam standar", "within the standard")
                    }
                ),
            ));
            meta.push((
                lang.tr("Putaran verifikasi", "Verification loops")
                    .to_owned(),
                s.loops.to_string(),
            ));
        } else {
            let state = if s.state == "closed" {
                lang.tr("ditutup", "closed").to_owned()
            } else {
                format!(
                    "{}: {}. {}",
                    lang.tr("terbuka, langkah", "open, step"),
                    s.current.number,
                    activity(&s.current.step)
                )
            };
            meta.push((lang.tr("Status", "State").to_owned(), state));
        }
        meta.push(self.made_line(caller, lang));

        let mut blocks = vec![
            Block::Heading(lang.tr("1. Uraian", "1. Description").into()),
            Block::Paragraph(if inc.description.trim().is_empty() {
                "–".into()
            } else {
                inc.description.clone()
            }),
            Block::Heading(
                lang.tr("2. Riwayat penanganan", "2. Handling, step by step")
                    .into(),
            ),
        ];
        let yes_no = |met: Option<bool>| match met {
            Some(true) => lang.tr("ya", "yes").to_owned(),
            Some(false) => lang.tr("tidak", "no").to_owned(),
            None => "–".to_owned(),
        };
        blocks.push(Block::Table(Table {
            caption: lang.tr("Riwayat penanganan", "Handling").into(),
            columns: vec![
                Column::new(lang.tr("No", "No."), 4),
                Column::new(lang.tr("Langkah", "Step"), 24),
                Column::new(lang.tr("Mulai", "Began"), 11),
                Column::new(lang.tr("Selesai", "Ended"), 11),
                Column::new(lang.tr("Oleh", "By"), 11),
                Column::new(lang.tr("Tindakan", "Action"), 10),
                Column::new(lang.tr("Catatan / instruksi", "Note / instruction"), 22),
                Column::new(lang.tr("Waktu kerja", "Working time"), 10),
                Column::new(lang.tr("Standar", "Standard"), 8),
                Column::new(lang.tr("Tepat waktu", "On time"), 7),
            ],
            rows: inc
                .history
                .iter()
                .map(|v| {
                    let mut note = v.note.clone().unwrap_or_default();
                    if let Some(to) = &v.payload.assignee {
                        note = format!("{note}\n{}: {to}", lang.tr("Kepada", "To"));
                    }
                    if let Some(i) = &v.payload.instruction {
                        note = format!("{note}\n{}: {i}", lang.tr("Instruksi", "Instruction"));
                    }
                    let standard = def
                        .step(&v.step)
                        .map_or_else(|| "–".to_owned(), |st| crate::reports::sop_time(st, lang));
                    vec![
                        v.number.to_string(),
                        activity(&v.step),
                        local(v.entered_at),
                        v.left_at.map(local).unwrap_or_default(),
                        v.actor.clone().unwrap_or_default(),
                        v.action.clone().unwrap_or_default(),
                        note.trim().to_owned(),
                        minutes(v.actual_minutes),
                        standard,
                        yes_no(v.met),
                    ]
                })
                .collect(),
        }));
        blocks.push(Block::Heading(lang.tr("3. Bukti", "3. Evidence").into()));
        blocks.push(Block::Table(Table {
            caption: lang.tr("Bukti", "Evidence").into(),
            columns: vec![
                Column::new(lang.tr("Berkas", "File"), 20),
                Column::new(lang.tr("Sumber", "Source"), 10),
                Column::new("SHA-256", 34),
                Column::new(lang.tr("Ditambahkan", "Added"), 18),
            ],
            rows: inc
                .evidence
                .iter()
                .map(|e| {
                    let source = match (e.source.as_str(), e.label.as_str()) {
                        ("guard", "") => lang.tr("penjaga website", "website guard").to_owned(),
                        ("guard", label) => {
                            format!("{} ({label})", lang.tr("penjaga website", "website guard"))
                        }
                        _ => lang.tr("unggahan", "upload").to_owned(),
                    };
                    vec![
                        e.filename.clone(),
                        source,
                        e.sha256.clone(),
                        format!(
                            "{}, {}",
                            local(e.added_at),
                            e.added_by.clone().unwrap_or_else(|| lang
                                .tr("penjaga website", "website guard")
                                .to_owned())
                        ),
                    ]
                })
                .collect(),
        }));
        if !completion {
            blocks.push(Block::Heading(lang.tr("4. Komentar", "4. Comments").into()));
            blocks.push(Block::Table(Table {
                caption: lang.tr("Komentar", "Comments").into(),
                columns: vec![
                    Column::new(lang.tr("Waktu", "When"), 12),
                    Column::new(lang.tr("Oleh", "By"), 12),
                    Column::new(lang.tr("Komentar", "Comment"), 50),
                ],
                rows: inc
                    .comments
                    .iter()
                    .map(|c| vec![local(c.created_at), c.author.clone(), c.body.clone()])
                    .collect(),
            }));
        }
        Ok(Document {
            title: if completion {
                lang.tr("Laporan Penyelesaian Insiden", "Incident completion report")
            } else {
                lang.tr("Laporan Insiden Keamanan", "Security incident report")
            }
            .into(),
            meta,
            orientation: Orientation::Landscape,
            blocks,
        })
    }

    /// An incident's report or completion report in `format`.
    pub fn incident_report(
        &self,
        caller: &Caller,
        id: i64,
        q: &ReportQuery,
        completion: bool,
    ) -> HubResult<ReportFile> {
        let format = parse_format(q.format.as_deref())?;
        let lang = parse_lang(q.lang.as_deref())?;
        let doc = self.incident_document(caller, id, lang, completion)?;
        let stem = match (completion, lang) {
            (false, Lang::Id) => "laporan-insiden",
            (false, Lang::En) => "incident-report",
            (true, Lang::Id) => "laporan-penyelesaian-insiden",
            (true, Lang::En) => "incident-completion-report",
        };
        written(&doc, format, format!("{stem}-{id}"))
    }
}

/// A step's standard time as the printed SOP shows it.
pub(crate) fn sop_time(step: &warta_sop::Step, lang: Lang) -> String {
    warta_report::sop::time_label(&step.standard, lang)
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD&format=docx|pdf|csv&lang=id|en` of the report routes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// First day (YYYY-MM-DD, the office's time zone); default: the first of this month.
    #[param(required = false, example = "2026-11-01")]
    pub from: Option<String>,
    /// Last day, included; default: today. At most 366 days after `from`.
    #[param(required = false, example = "2026-11-30")]
    pub to: Option<String>,
    /// `docx`, `pdf` (default) or `csv`.
    #[param(required = false, example = "pdf")]
    pub format: Option<String>,
    /// `id` (default) or `en`.
    #[param(required = false, example = "id")]
    pub lang: Option<String>,
}

/// `?from&to` of the dashboard.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// First day (YYYY-MM-DD, the office's time zone); default: the first of this month.
    #[param(required = false, example = "2026-11-01")]
    pub from: Option<String>,
    /// Last day, included; default: today.
    #[param(required = false, example = "2026-11-30")]
    pub to: Option<String>,
}

fn file_response(f: ReportFile) -> Response {
    let mut resp = f.bytes.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(f.format.mime()),
    );
    let ascii: String = f
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{ascii}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// Per SOP and step: how often the standard time was met, median and p90 working time, for
/// step visits that began in the period (admins, officials, publishers).
#[utoipa::path(get, path = "/dashboard", tag = "reports", security(("bearer" = [])),
    params(PeriodQuery),
    responses(
        (status = 200, description = "OK", body = api::Dashboard),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn dashboard(
    State(o): Hub,
    c: Caller,
    Query(q): Query<PeriodQuery>,
) -> HubResult<Json<api::Dashboard>> {
    blocking(move || o.dashboard(&c, q.from.as_deref(), q.to.as_deref()))
        .await
        .map(Json)
}

/// The periodic activity report: items published per unit, incidents handled, and per SOP
/// step the median and 90th-percentile time against the standard (admins, officials,
/// publishers).
#[utoipa::path(get, path = "/reports/activity", tag = "reports", security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The report (DOCX, PDF or CSV)", content_type = "*/*", body = inline(crate::openapi::Binary)),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn activity_report(
    State(o): Hub,
    c: Caller,
    Query(q): Query<ReportQuery>,
) -> HubResult<Response> {
    blocking(move || o.activity_report(&c, &q))
        .await
        .map(file_response)
}

/// The website status and damage report (SOP-C step 5): checks run, incidents by kind and one
/// by one, restores with the checks before and after (admins, officials, publishers).
#[utoipa::path(get, path = "/reports/site-status", tag = "reports", security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "The report (DOCX, PDF or CSV)", content_type = "*/*", body = inline(crate::openapi::Binary)),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
    ))]
async fn site_status_report(
    State(o): Hub,
    c: Caller,
    Query(q): Query<ReportQuery>,
) -> HubResult<Response> {
    blocking(move || o.site_status_report(&c, &q))
        .await
        .map(file_response)
}

/// An SOP in the official table layout (steps × roles, requirements, time, output), made from
/// the definition the hub runs (`from`/`to` are ignored).
#[utoipa::path(get, path = "/reports/sops/{sop}", tag = "reports", security(("bearer" = [])),
    params(("sop" = String, Path, description = "SOP id", example = "sop-a"), ReportQuery),
    responses(
        (status = 200, description = "The SOP (DOCX, PDF or CSV)", content_type = "*/*", body = inline(crate::openapi::Binary)),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 404, response = NotFound),
    ))]
async fn sop_report(
    State(o): Hub,
    c: Caller,
    Path(sop): Path<String>,
    Query(q): Query<ReportQuery>,
) -> HubResult<Response> {
    blocking(move || o.sop_report(&c, &sop, &q))
        .await
        .map(file_response)
}

/// The incident report of one incident: its details, the step history with working time
/// against each step's standard, evidence and comments (whoever may see the incident).
#[utoipa::path(get, path = "/reports/incidents/{id}", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Incident id", example = 1), ReportQuery),
    responses(
        (status = 200, description = "The report (DOCX, PDF or CSV)", content_type = "*/*", body = inline(crate::openapi::Binary)),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn incident_report(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> HubResult<Response> {
    blocking(move || o.incident_report(&c, id, &q, false))
        .await
        .map(file_response)
}

/// The completion report of a closed incident: its outcome, the whole working time against
/// the SOP's total, the verification loops and the step history (400 while it is open).
#[utoipa::path(get, path = "/reports/incidents/{id}/completion", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "Incident id", example = 1), ReportQuery),
    responses(
        (status = 200, description = "The report (DOCX, PDF or CSV)", content_type = "*/*", body = inline(crate::openapi::Binary)),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthenticated),
        (status = 403, response = Forbidden),
        (status = 404, response = NotFound),
    ))]
async fn incident_completion_report(
    State(o): Hub,
    c: Caller,
    Path(id): Path<i64>,
    Query(q): Query<ReportQuery>,
) -> HubResult<Response> {
    blocking(move || o.incident_report(&c, id, &q, true))
        .await
        .map(file_response)
}
