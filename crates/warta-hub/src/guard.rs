//! The website guard inside the hub (issue 6, SOP-B): a watch list per website, checks on a
//! schedule, the office's own changes expected, and incidents with their evidence.
//!
//! - **Watch list** (`guard_pages`): the site's home and section pages (added by a person; the
//!   home page by itself once the site's public address is known), every page the office
//!   publishes (enrolled in the transaction that records the publish, removed with the
//!   unpublish), and the pages of the site's sitemap. The first reading of a sitemap is its
//!   inventory; an address that appears in it later and that the office did not publish is a
//!   finding (`unknown_url`).
//! - **Checks** ([`Office::guard_run_due`], run by [`Scheduler`] around the clock): every due
//!   page through [`warta_guard::check_url`] with the site's allowed domains and the page's
//!   approved baseline and noise, plus, for a page the office published,
//!   [`warta_guard::compare_published`] against the HTML it sent. At most [`CONCURRENCY`] pages
//!   at once, each within the fetcher's size and time limits.
//! - **Expected changes**: the office's own publish, update or unpublish opens a window of
//!   [`EXPECTED_WINDOW_MINUTES`] on that page and on the site's home and section pages. In it a
//!   difference from the baseline (or from what was published) raises nothing, and once the page
//!   passes the injection checks its baseline is re-taken (audited). Injection findings
//!   ([`INJECTION`]) alarm in the window too.
//! - **Incidents** (`guard_incidents`): at most one open per page; a repeat is folded into it (a
//!   count and the time last seen). Opening, folding and resolving are audited, so the change
//!   feed carries them to the app. A new guard incident opens an SOP-B incident (issue 7,
//!   `incidents.rs`) in the same transaction; a repeat is recorded on it.
//! - **Evidence**: the bodies of the baseline, the published version, the last check, the last
//!   good and the last bad version, and an incident's versions, are kept content-addressed in
//!   `<data>/guard/<sha256>.html`; bodies nothing refers to any more are swept, and checks older
//!   than [`CHECK_RETENTION_DAYS`] are deleted.

use crate::db::Cached as _;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Duration, Utc};
use futures_util::StreamExt as _;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use sha2::{Digest, Sha256};
use url::Url;
use warta_api as api;
use warta_api::Role;
use warta_guard::{Agent, Fetcher, Finding, FindingKind, Limits, Page, Policy, Vocabulary};

use crate::audit::{self, Actor};
use crate::error::{HubError, HubResult};
use crate::office::{Caller, Office};

/// Default interval of a home page, in seconds.
pub const HOME_INTERVAL_SECS: i64 = 5 * 60;
/// Default interval of other pages, in seconds.
pub const PAGE_INTERVAL_SECS: i64 = 60 * 60;
/// How long the office's own publish, update or unpublish makes changes expected.
pub const EXPECTED_WINDOW_MINUTES: i64 = 30;
/// Pages checked at once.
pub const CONCURRENCY: usize = 4;
/// How often a site's sitemap is read.
pub const SITEMAP_INTERVAL_SECS: i64 = 60 * 60;
/// Addresses read from one site's sitemaps at most, and sitemap files followed at most.
pub const SITEMAP_LIMIT: usize = 5000;
const SITEMAP_FILES: usize = 20;
/// Checks are kept this long.
pub const CHECK_RETENTION_DAYS: i64 = 30;
/// Pages taken per round at most (the rest are due in the next round).
const ROUND_LIMIT: i64 = 2000;
/// Pages of one site that could not be fetched in a row before its other pages wait for the
/// next round.
pub const SITE_DOWN_AFTER: u32 = 3;
/// Watched pages per website at most.
pub const PAGES_PER_SITE: i64 = 10_000;

/// Findings that alarm always, also while a change is expected: what an attacker leaves.
pub const INJECTION: [FindingKind; 5] = [
    FindingKind::Gambling,
    FindingKind::Defacement,
    FindingKind::HiddenLinks,
    FindingKind::ForeignRedirect,
    FindingKind::Cloaking,
];

fn vocabulary() -> &'static Vocabulary {
    static V: OnceLock<Vocabulary> = OnceLock::new();
    V.get_or_init(Vocabulary::built_in)
}

fn kind_name(k: FindingKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn to_api(f: &Finding) -> api::GuardFinding {
    api::GuardFinding {
        kind: kind_name(f.kind),
        message: f.message.clone(),
        evidence: f.evidence.clone(),
    }
}

fn findings_from(s: &str) -> Vec<api::GuardFinding> {
    serde_json::from_str(s).unwrap_or_default()
}

/// An address as the watch list keeps it: parsed, without its fragment.
pub fn normal_url(u: &str) -> Option<String> {
    let mut url = Url::parse(u.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    Some(url.to_string())
}

fn same_address(a: &str, b: &str) -> bool {
    a.trim_end_matches('/') == b.trim_end_matches('/')
}

// ------------------------------------------------------------------ the body store

/// Bodies kept as evidence, named by their SHA-256.
pub(crate) struct BodyStore {
    root: PathBuf,
}

impl BodyStore {
    pub(crate) fn new(data_dir: &Path) -> BodyStore {
        BodyStore {
            root: data_dir.join("guard"),
        }
    }

    fn path(&self, hash: &str) -> Option<PathBuf> {
        (hash.len() == 64 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.root.join(format!("{hash}.html")))
    }

    /// Stores `body`; returns its hash. Already there: nothing is written.
    pub(crate) fn put(&self, body: &str) -> HubResult<String> {
        let hash = hex::encode(Sha256::digest(body.as_bytes()));
        let path = self.path(&hash).expect("a sha256 is a valid name");
        if path.exists() {
            return Ok(hash);
        }
        std::fs::create_dir_all(&self.root)
            .map_err(|e| HubError::Internal(anyhow::anyhow!("creating the guard folder: {e}")))?;
        let write = || -> std::io::Result<()> {
            let mut tmp = tempfile::NamedTempFile::new_in(&self.root)?;
            std::io::Write::write_all(&mut tmp, body.as_bytes())?;
            tmp.persist(&path).map_err(|e| e.error)?;
            Ok(())
        };
        write().map_err(|e| HubError::Internal(anyhow::anyhow!("storing a page body: {e}")))?;
        Ok(hash)
    }

    /// The file of a stored body, if the hash is a valid name.
    pub(crate) fn file(&self, hash: &str) -> Option<PathBuf> {
        self.path(hash)
    }

    /// The size of a stored body in bytes.
    pub(crate) fn size(&self, hash: &str) -> Option<u64> {
        std::fs::metadata(self.path(hash)?).ok().map(|m| m.len())
    }

    pub(crate) fn get(&self, hash: &str) -> Option<String> {
        let bytes = std::fs::read(self.path(hash)?).ok()?;
        Some(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// Deletes bodies not in `keep` and older than an hour (a check may be about to refer to
    /// a newer one). Returns how many went.
    fn sweep(&self, keep: &HashSet<String>) -> usize {
        let Ok(dir) = std::fs::read_dir(&self.root) else {
            return 0;
        };
        let hour_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        let mut n = 0;
        for entry in dir.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(hash) = name.strip_suffix(".html") else {
                continue;
            };
            let old = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t < hour_ago);
            if old && !keep.contains(hash) && std::fs::remove_file(entry.path()).is_ok() {
                n += 1;
            }
        }
        n
    }
}

// ------------------------------------------------------------------ rows

/// A website as the guard sees it.
#[derive(Debug, Clone)]
struct SiteRow {
    target_id: i64,
    target_name: String,
    target_kind: String,
    public_url: String,
    allowed_domains: Vec<String>,
    /// Whether internal addresses may be fetched: the setting, or the hub's own site.
    allow_private: bool,
    /// The office's setting alone.
    private_setting: bool,
    enabled: bool,
    sitemap_known: bool,
    expected_until: Option<DateTime<Utc>>,
}

impl SiteRow {
    fn host(&self) -> Option<String> {
        Url::parse(&self.public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
    }

    fn fetcher(&self) -> Fetcher {
        let hosts: Vec<String> = self.host().into_iter().collect();
        if self.allow_private {
            Fetcher::allow_private(hosts, Limits::default())
        } else {
            Fetcher::new(hosts, Limits::default())
        }
    }

    fn policy(&self) -> Policy {
        Policy {
            allowed_domains: self.allowed_domains.clone(),
        }
    }
}

const SITE_SQL: &str = "SELECT t.id, t.name, t.kind, t.config, g.public_url, g.allowed_domains,
        g.allow_private, g.enabled, g.sitemap_known, g.expected_until
     FROM publish_targets t LEFT JOIN guard_sites g ON g.target_id = t.id";

#[derive(Debug, Clone)]
struct PageRow {
    id: i64,
    target_id: i64,
    url: String,
    source: String,
    item_id: Option<i64>,
    interval_secs: i64,
    next_check_at: DateTime<Utc>,
    noise: Vec<String>,
    published_hash: Option<String>,
    baseline_hash: Option<String>,
    baseline_at: Option<DateTime<Utc>>,
    baseline_by: Option<String>,
    expected_until: Option<DateTime<Utc>>,
    last_check_at: Option<DateTime<Utc>>,
    last_status: Option<u16>,
    last_hash: Option<String>,
    last_good_hash: Option<String>,
    last_findings: String,
    state: String,
    open_incident: Option<i64>,
}

const PAGE_COLS: &str = "p.id, p.target_id, p.url, p.source, p.item_id, p.interval_secs,
    p.next_check_at, p.noise, p.published_hash, p.baseline_hash, p.baseline_at, p.baseline_by,
    p.expected_until, p.last_check_at, p.last_status, p.last_hash, p.last_good_hash,
    p.last_findings, p.state,
    (SELECT i.id FROM guard_incidents i WHERE i.page_id = p.id AND i.state = 'open')";

fn page_from_row(r: &rusqlite::Row) -> rusqlite::Result<PageRow> {
    let noise: String = r.get(7)?;
    Ok(PageRow {
        id: r.get(0)?,
        target_id: r.get(1)?,
        url: r.get(2)?,
        source: r.get(3)?,
        item_id: r.get(4)?,
        interval_secs: r.get(5)?,
        next_check_at: r.get(6)?,
        noise: serde_json::from_str(&noise).unwrap_or_default(),
        published_hash: r.get(8)?,
        baseline_hash: r.get(9)?,
        baseline_at: r.get(10)?,
        baseline_by: r.get(11)?,
        expected_until: r.get(12)?,
        last_check_at: r.get(13)?,
        last_status: r.get(14)?,
        last_hash: r.get(15)?,
        last_good_hash: r.get(16)?,
        last_findings: r.get(17)?,
        state: r.get(18)?,
        open_incident: r.get(19)?,
    })
}

impl PageRow {
    fn to_api(&self) -> api::GuardPage {
        api::GuardPage {
            id: self.id,
            target_id: self.target_id,
            url: self.url.clone(),
            source: self.source.clone(),
            item_id: self.item_id,
            interval_minutes: (self.interval_secs / 60).max(1) as u32,
            noise: self.noise.clone(),
            has_baseline: self.baseline_hash.is_some(),
            baseline_at: self.baseline_at,
            baseline_by: self.baseline_by.clone(),
            expected_until: self.expected_until,
            next_check_at: self.next_check_at,
            last_check_at: self.last_check_at,
            last_status: self.last_status,
            state: self.state.clone(),
            open_incident: self.open_incident,
            last_findings: findings_from(&self.last_findings),
        }
    }
}

const INCIDENT_COLS: &str = "i.id, i.target_id, t.name, i.page_id, i.url, i.kinds, i.state,
    i.opened_at, i.last_seen_at, i.count, i.findings, i.good_hash, i.bad_hash, i.crawler_hash,
    i.diff, i.resolved_at, i.resolved_by, i.resolution_note";

fn incident_from_row(r: &rusqlite::Row) -> rusqlite::Result<api::GuardIncident> {
    let kinds: String = r.get(5)?;
    let findings: String = r.get(10)?;
    let diff: String = r.get(14)?;
    Ok(api::GuardIncident {
        summary: api::GuardIncidentSummary {
            id: r.get(0)?,
            target_id: r.get(1)?,
            target_name: r.get::<_, Option<String>>(2)?.unwrap_or_default(),
            page_id: r.get(3)?,
            url: r.get(4)?,
            kinds: serde_json::from_str(&kinds).unwrap_or_default(),
            state: r.get(6)?,
            opened_at: r.get(7)?,
            last_seen_at: r.get(8)?,
            count: r.get(9)?,
        },
        findings: findings_from(&findings),
        good_hash: r.get(11)?,
        bad_hash: r.get(12)?,
        crawler_hash: r.get(13)?,
        diff: serde_json::from_str(&diff).unwrap_or_default(),
        resolved_at: r.get(15)?,
        resolved_by: r.get(16)?,
        resolution_note: r.get(17)?,
        restores: Vec::new(),
    })
}

/// What one check needs, read before any request leaves the hub.
struct Job {
    page: PageRow,
    site: SiteRow,
    baseline: Option<String>,
    published: Option<String>,
}

/// What one check found, recorded afterwards.
struct Outcome {
    status: Option<u16>,
    body: Option<String>,
    crawler_body: Option<String>,
    findings: Vec<Finding>,
    elapsed_ms: u32,
}

// ------------------------------------------------------------------ hooks from publishing

/// The office changes what is on website `target_id` (a publish, update or unpublish of
/// `item_id`): changes of the item's page and of the site's home and section pages are
/// expected for [`EXPECTED_WINDOW_MINUTES`].
pub(crate) fn expect_change(
    tx: &Connection,
    target_id: i64,
    item_id: Option<i64>,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    let until = now + Duration::minutes(EXPECTED_WINDOW_MINUTES);
    // Checked at once, so that the change is seen while it is expected.
    tx.exec(
        "UPDATE guard_pages SET expected_until = MAX(COALESCE(expected_until, ?3), ?3),
             next_check_at = MIN(next_check_at, ?4)
         WHERE target_id = ?1 AND (source IN ('home', 'section') OR item_id = ?2)",
        params![target_id, item_id, until, now],
    )?;
    tx.exec(
        "INSERT INTO guard_sites (target_id, public_url, expected_until) VALUES (?1, '', ?2)
         ON CONFLICT (target_id) DO UPDATE SET expected_until = ?2",
        params![target_id, until],
    )?;
    Ok(())
}

/// Item `item_id` is now on website `target_id` at `url`, showing `body_html` from `live_from`
/// (a WordPress post scheduled for later is only there from then): its page is watched
/// (replacing an older address of it) from then, with a change expected.
#[allow(clippy::too_many_arguments)]
pub(crate) fn enrol_published(
    office: &Office,
    tx: &Connection,
    target_id: i64,
    item_id: i64,
    url: &str,
    body_html: &str,
    live_from: DateTime<Utc>,
    now: DateTime<Utc>,
) -> HubResult<()> {
    let Some(url) = normal_url(url) else {
        return Ok(());
    };
    let kind: String = tx.row(
        "SELECT kind FROM publish_targets WHERE id = ?1",
        [target_id],
        |r| r.get(0),
    )?;
    let url = office.guard_store_url(&kind, url);
    let hash = office.guard_bodies.put(body_html)?;
    tx.exec(
        "DELETE FROM guard_pages WHERE target_id = ?1 AND item_id = ?2 AND url <> ?3",
        params![target_id, item_id, url],
    )?;
    tx.exec(
        "INSERT INTO guard_pages (target_id, url, source, item_id, interval_secs, next_check_at,
             published_hash, created_at)
         VALUES (?1, ?2, 'published', ?3, ?4, ?5, ?6, ?5)
         ON CONFLICT (target_id, url) DO UPDATE SET source = 'published', item_id = ?3,
             published_hash = ?6, next_check_at = ?5",
        params![
            target_id,
            url,
            item_id,
            PAGE_INTERVAL_SECS,
            live_from.max(now),
            hash
        ],
    )?;
    expect_change(tx, target_id, Some(item_id), now)?;
    if live_from > now {
        // Not there yet: not checked before it is (see `expect_scheduled`).
        tx.exec(
            "UPDATE guard_pages SET next_check_at = ?3 WHERE target_id = ?1 AND item_id = ?2",
            params![target_id, item_id, live_from],
        )?;
    }
    Ok(())
}

/// Posts the website itself puts online at their scheduled time (WordPress `future`) change
/// the site then: each opens its expected-change window once, when it goes live.
fn expect_scheduled(tx: &Connection, now: DateTime<Utc>) -> rusqlite::Result<usize> {
    let window = Duration::minutes(EXPECTED_WINDOW_MINUTES);
    let live: Vec<(i64, i64, DateTime<Utc>)> = crate::db::all(
        tx,
        "SELECT target_id, item_id, published_at FROM item_remotes
         WHERE published_at > ?1 AND published_at <= ?2",
        params![now - window, now],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
    )?;
    let mut n = 0;
    for (target_id, item_id, at) in live {
        let until = at + window;
        // Once: only where no window reaching that far is open yet.
        n += tx.exec(
            "UPDATE guard_pages SET expected_until = ?3, next_check_at = MIN(next_check_at, ?4)
             WHERE target_id = ?1 AND (source IN ('home', 'section') OR item_id = ?2)
               AND (expected_until IS NULL OR expected_until < ?3)",
            params![target_id, item_id, until, now],
        )?;
        tx.exec(
            "UPDATE guard_sites SET expected_until = ?2
             WHERE target_id = ?1 AND (expected_until IS NULL OR expected_until < ?2)",
            params![target_id, until],
        )?;
    }
    Ok(n)
}

/// Item `item_id` was taken off website `target_id`: its page is no longer watched.
pub(crate) fn withdraw_published(
    tx: &Connection,
    target_id: i64,
    item_id: i64,
    now: DateTime<Utc>,
) -> rusqlite::Result<()> {
    expect_change(tx, target_id, Some(item_id), now)?;
    tx.exec(
        "DELETE FROM guard_pages WHERE target_id = ?1 AND item_id = ?2",
        params![target_id, item_id],
    )?;
    Ok(())
}

// ------------------------------------------------------------------ Office

fn guard_allowed(caller: &Caller) -> HubResult<()> {
    if caller.has(Role::Admin) || caller.has(Role::Publisher) {
        Ok(())
    } else {
        Err(HubError::Forbidden(
            "the website guard needs the publisher or admin role".into(),
        ))
    }
}

fn validate_noise(noise: &[String]) -> HubResult<Vec<String>> {
    if noise.len() > 50 {
        return Err(HubError::validation("noise", "at most 50 noise patterns"));
    }
    let mut out = Vec::new();
    for n in noise {
        let n = n.trim();
        if n.is_empty() {
            continue;
        }
        if n.len() > 500 {
            return Err(HubError::validation(
                "noise",
                "a noise pattern may be at most 500 characters",
            ));
        }
        regex::RegexBuilder::new(n)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| {
                HubError::validation("noise", format!("{n:?} is not a regular expression: {e}"))
            })?;
        out.push(n.to_string());
    }
    Ok(out)
}

fn compile_noise(noise: &[String]) -> Vec<regex::Regex> {
    noise
        .iter()
        .filter_map(|n| regex::RegexBuilder::new(n).size_limit(1 << 20).build().ok())
        .collect()
}

fn validate_domain(d: &str) -> HubResult<String> {
    let d = d.trim().trim_start_matches("*.").to_ascii_lowercase();
    let ok = !d.is_empty()
        && d.len() <= 253
        && d.contains('.')
        && d.split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if ok {
        Ok(d)
    } else {
        Err(HubError::validation(
            "allowed_domains",
            format!("{d:?} is not a domain name (like kominfo.go.id)"),
        ))
    }
}

impl Office {
    /// A page of the hub's own site is kept by its path (`/site/...`): in solo mode the hub
    /// listens on another port at every start.
    fn guard_store_url(&self, target_kind: &str, url: String) -> String {
        let base = self.site_base.read().expect("site base").clone();
        match url.strip_prefix(&base) {
            Some(path) if target_kind == "static" && !base.is_empty() && path.starts_with('/') => {
                path.to_string()
            }
            _ => url,
        }
    }

    /// Where a watched page is now (see [`Office::guard_store_url`]).
    pub(crate) fn guard_live_url(&self, stored: &str) -> String {
        if stored.starts_with('/') {
            format!("{}{stored}", self.site_base.read().expect("site base"))
        } else {
            stored.to_string()
        }
    }

    fn page_api(&self, p: &PageRow) -> api::GuardPage {
        let mut out = p.to_api();
        out.url = self.guard_live_url(&p.url);
        out
    }

    fn guard_site_row(&self, conn: &Connection, target_id: i64) -> HubResult<SiteRow> {
        conn.row(&format!("{SITE_SQL} WHERE t.id = ?1"), [target_id], |r| {
            self.site_from_row(r)
        })
        .optional()?
        .ok_or(HubError::NotFound("website"))
    }

    fn site_from_row(&self, r: &rusqlite::Row) -> rusqlite::Result<SiteRow> {
        let kind: String = r.get(2)?;
        let config: String = r.get(3)?;
        let stored: Option<String> = r.get(4)?;
        let domains: Option<String> = r.get(5)?;
        // Where the site is when nobody said: the hub's own site, a WordPress site's address.
        let default_url = match kind.as_str() {
            "static" => format!(
                "{}/site/",
                self.site_base.read().expect("site base").clone()
            ),
            "wordpress" => serde_json::from_str::<serde_json::Value>(&config)
                .ok()
                .and_then(|v| v["url"].as_str().map(str::to_string))
                .map(|u| format!("{}/", u.trim_end_matches('/')))
                .unwrap_or_default(),
            _ => String::new(),
        };
        let public_url = stored.filter(|s| !s.is_empty()).unwrap_or(default_url);
        // The hub's own site lives where the hub does (loopback in solo mode): fetching it
        // there is allowed, but no other internal address through it.
        let own = kind == "static" && {
            let host = |u: &str| {
                Url::parse(u)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string))
            };
            let base = self.site_base.read().expect("site base").clone();
            host(&public_url).is_some() && host(&public_url) == host(&base)
        };
        Ok(SiteRow {
            target_id: r.get(0)?,
            target_name: r.get(1)?,
            allow_private: r.get::<_, Option<bool>>(6)?.unwrap_or(false) || own,
            private_setting: r.get::<_, Option<bool>>(6)?.unwrap_or(false),
            target_kind: kind,
            public_url,
            allowed_domains: domains
                .and_then(|d| serde_json::from_str(&d).ok())
                .unwrap_or_default(),
            enabled: r.get::<_, Option<bool>>(7)?.unwrap_or(true),
            sitemap_known: r.get::<_, Option<bool>>(8)?.unwrap_or(false),
            expected_until: r.get(9)?,
        })
    }

    fn site_to_api(&self, conn: &Connection, s: &SiteRow) -> HubResult<api::GuardSite> {
        let pages: u32 = conn.row(
            "SELECT COUNT(*) FROM guard_pages WHERE target_id = ?1",
            [s.target_id],
            |r| r.get(0),
        )?;
        let open: u32 = conn.row(
            "SELECT COUNT(*) FROM guard_incidents WHERE target_id = ?1 AND state = 'open'",
            [s.target_id],
            |r| r.get(0),
        )?;
        Ok(api::GuardSite {
            target_id: s.target_id,
            target_name: s.target_name.clone(),
            target_kind: s.target_kind.clone(),
            public_url: s.public_url.clone(),
            allowed_domains: s.allowed_domains.clone(),
            allow_private: s.private_setting,
            enabled: s.enabled,
            pages,
            open_incidents: open,
        })
    }

    fn load_guard_page(conn: &Connection, id: i64) -> HubResult<PageRow> {
        conn.row(
            &format!("SELECT {PAGE_COLS} FROM guard_pages p WHERE p.id = ?1"),
            [id],
            page_from_row,
        )
        .optional()?
        .ok_or(HubError::NotFound("watched page"))
    }

    /// The office's websites with the guard's settings (admins and publishers).
    pub fn guard_sites(&self, caller: &Caller) -> HubResult<Vec<api::GuardSite>> {
        self.refuse_unless(caller, None, "guard.sites", guard_allowed(caller))?;
        let conn = self.db();
        let sites = crate::db::all(&conn, &format!("{SITE_SQL} ORDER BY t.id"), [], |r| {
            self.site_from_row(r)
        })?;
        sites.iter().map(|s| self.site_to_api(&conn, s)).collect()
    }

    /// Changes the guard's settings of a website; its home page is watched from then on.
    /// Fetching from private addresses is the admin's decision.
    pub fn guard_set_site(
        &self,
        caller: &Caller,
        target_id: i64,
        input: api::GuardSiteInput,
    ) -> HubResult<api::GuardSite> {
        self.refuse_unless(caller, None, "guard.site", guard_allowed(caller))?;
        let now = self.now();
        let url = if input.public_url.trim().is_empty() {
            String::new()
        } else {
            normal_url(&input.public_url).ok_or_else(|| {
                HubError::validation(
                    "public_url",
                    "give the site's public address as an http or https address",
                )
            })?
        };
        if input.allowed_domains.len() > 200 {
            return Err(HubError::validation(
                "allowed_domains",
                "at most 200 allowed domains",
            ));
        }
        let domains: Vec<String> = input
            .allowed_domains
            .iter()
            .filter(|d| !d.trim().is_empty())
            .map(|d| validate_domain(d))
            .collect::<HubResult<BTreeSet<_>>>()?
            .into_iter()
            .collect();
        let before = self.guard_site_row(&self.db(), target_id)?;
        if input.allow_private != before.private_setting {
            self.refuse_unless(
                caller,
                None,
                "guard.site",
                caller.require(Role::Admin, "fetching a site from private addresses"),
            )?;
        }
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        tx.exec(
            "INSERT INTO guard_sites (target_id, public_url, allowed_domains, allow_private, enabled)
             VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (target_id) DO UPDATE SET public_url = ?2, allowed_domains = ?3,
                 allow_private = ?4, enabled = ?5",
            params![
                target_id,
                url,
                serde_json::to_string(&domains).expect("json"),
                input.allow_private,
                input.enabled
            ],
        )?;
        let site = self.guard_site_row(&tx, target_id)?;
        if site.enabled
            && let Some(home) = normal_url(&site.public_url)
        {
            let home = self.guard_store_url(&site.target_kind, home);
            tx.exec(
                "INSERT INTO guard_pages (target_id, url, source, interval_secs, next_check_at,
                     created_at)
                 VALUES (?1, ?2, 'home', ?3, ?4, ?4) ON CONFLICT (target_id, url) DO NOTHING",
                params![target_id, home, HOME_INTERVAL_SECS, now],
            )?;
        }
        if site.enabled {
            self.enrol_missing_published(&tx, target_id, now)?;
        }
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "guard.site_updated",
            None,
            json!({ "target": target_id, "public_url": site.public_url,
                    "allowed_domains": domains, "allow_private": site.private_setting,
                    "enabled": site.enabled }),
        )?;
        let out = self.site_to_api(&tx, &site)?;
        tx.commit()?;
        Ok(out)
    }

    /// Pages the office published on website `target_id` that are not watched yet — published
    /// before the guard watched the site, or by the demo office before the hub knew its own
    /// address — are enrolled with the version that was published.
    fn enrol_missing_published(
        &self,
        tx: &Connection,
        target_id: i64,
        now: DateTime<Utc>,
    ) -> HubResult<usize> {
        let missing: Vec<(i64, String, String)> = crate::db::all(
            tx,
            "SELECT r.item_id, r.url, v.body FROM item_remotes r
             JOIN revisions v ON v.item_id = r.item_id AND v.version = r.version
             WHERE r.target_id = ?1 AND r.url <> '' AND NOT EXISTS
                 (SELECT 1 FROM guard_pages g WHERE g.target_id = ?1 AND g.item_id = r.item_id)",
            [target_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?;
        let base = self.site_base.read().expect("site base").clone();
        for (item_id, url, body) in &missing {
            let url = if url.starts_with('/') {
                format!("{base}{url}")
            } else {
                url.clone()
            };
            enrol_published(
                self,
                tx,
                target_id,
                *item_id,
                &url,
                &warta_render::render_markdown(body),
                now,
                now,
            )?;
        }
        Ok(missing.len())
    }

    /// The watched pages (of one website, or all).
    pub fn guard_pages(
        &self,
        caller: &Caller,
        target_id: Option<i64>,
    ) -> HubResult<Vec<api::GuardPage>> {
        self.refuse_unless(caller, None, "guard.pages", guard_allowed(caller))?;
        let conn = self.db();
        let rows = crate::db::all(
            &conn,
            &format!(
                "SELECT {PAGE_COLS} FROM guard_pages p WHERE ?1 IS NULL OR p.target_id = ?1
                 ORDER BY CASE p.source WHEN 'home' THEN 0 WHEN 'section' THEN 1
                     WHEN 'published' THEN 2 ELSE 3 END, p.id LIMIT 10000"
            ),
            [target_id],
            page_from_row,
        )?;
        Ok(rows.iter().map(|p| self.page_api(p)).collect())
    }

    /// One watched page.
    pub fn guard_page(&self, caller: &Caller, id: i64) -> HubResult<api::GuardPage> {
        self.refuse_unless(caller, None, "guard.pages", guard_allowed(caller))?;
        let page = Self::load_guard_page(&self.db(), id)?;
        Ok(self.page_api(&page))
    }

    /// Watches a home or section page of one of the office's websites.
    pub fn guard_add_page(
        &self,
        caller: &Caller,
        input: api::GuardPageInput,
    ) -> HubResult<api::GuardPage> {
        self.refuse_unless(caller, None, "guard.page_add", guard_allowed(caller))?;
        if !matches!(input.source.as_str(), "home" | "section") {
            return Err(HubError::validation(
                "source",
                "a page added by hand is a home page or a section page",
            ));
        }
        let url = normal_url(&input.url).ok_or_else(|| {
            HubError::validation("url", "give the page as an http or https address")
        })?;
        let interval = match input.interval_minutes {
            Some(m) if (1..=1440).contains(&m) => i64::from(m) * 60,
            Some(_) => {
                return Err(HubError::validation(
                    "interval_minutes",
                    "check a page every 1 to 1440 minutes",
                ));
            }
            None if input.source == "home" => HOME_INTERVAL_SECS,
            None => PAGE_INTERVAL_SECS,
        };
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let site = self.guard_site_row(&tx, input.target_id)?;
        let host = Url::parse(&url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_ascii_lowercase));
        let site_host = site.host().map(|h| h.to_ascii_lowercase());
        let on_site = match (&host, &site_host) {
            (Some(h), Some(s)) => {
                let bare = |x: &str| x.strip_prefix("www.").unwrap_or(x).to_string();
                bare(h) == bare(s) || h.ends_with(&format!(".{}", bare(s)))
            }
            _ => false,
        };
        if !on_site {
            return Err(HubError::validation(
                "url",
                match site_host {
                    Some(s) => format!("the page must be on the website's own host ({s})"),
                    None => "set the website's public address first".to_string(),
                },
            ));
        }
        let url = self.guard_store_url(&site.target_kind, url);
        let count: i64 = tx.row(
            "SELECT COUNT(*) FROM guard_pages WHERE target_id = ?1",
            [input.target_id],
            |r| r.get(0),
        )?;
        if count >= PAGES_PER_SITE {
            return Err(HubError::validation(
                "url",
                format!("a website can have at most {PAGES_PER_SITE} watched pages"),
            ));
        }
        let exists: Option<i64> = tx
            .row(
                "SELECT id FROM guard_pages WHERE target_id = ?1 AND url = ?2",
                params![input.target_id, url],
                |r| r.get(0),
            )
            .optional()?;
        let id = match exists {
            Some(id) => {
                tx.exec(
                    "UPDATE guard_pages SET source = CASE WHEN source IN ('sitemap', 'home',
                         'section') THEN ?2 ELSE source END, interval_secs = ?3,
                         next_check_at = ?4 WHERE id = ?1",
                    params![id, input.source, interval, now],
                )?;
                id
            }
            None => {
                tx.exec(
                    "INSERT INTO guard_pages (target_id, url, source, interval_secs, next_check_at,
                         created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
                    params![input.target_id, url, input.source, interval, now],
                )?;
                tx.last_insert_rowid()
            }
        };
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "guard.page_added",
            None,
            json!({ "page": id, "target": input.target_id, "url": url, "source": input.source,
                    "interval_secs": interval }),
        )?;
        let page = Self::load_guard_page(&tx, id)?;
        tx.commit()?;
        Ok(self.page_api(&page))
    }

    /// Changes a watched page's interval and noise patterns.
    pub fn guard_update_page(
        &self,
        caller: &Caller,
        id: i64,
        update: api::GuardPageUpdate,
    ) -> HubResult<api::GuardPage> {
        self.refuse_unless(caller, None, "guard.page_update", guard_allowed(caller))?;
        if !(1..=1440).contains(&update.interval_minutes) {
            return Err(HubError::validation(
                "interval_minutes",
                "check a page every 1 to 1440 minutes",
            ));
        }
        let noise = validate_noise(&update.noise)?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let page = Self::load_guard_page(&tx, id)?;
        let interval = i64::from(update.interval_minutes) * 60;
        let next = page
            .last_check_at
            .map_or(now, |t| t + Duration::seconds(interval))
            .min(page.next_check_at.max(now));
        tx.exec(
            "UPDATE guard_pages SET interval_secs = ?2, noise = ?3, next_check_at = ?4 WHERE id = ?1",
            params![id, interval, serde_json::to_string(&noise).expect("json"), next],
        )?;
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "guard.page_updated",
            None,
            json!({ "page": id, "url": page.url, "interval_secs": interval, "noise": noise }),
        )?;
        let page = Self::load_guard_page(&tx, id)?;
        tx.commit()?;
        Ok(self.page_api(&page))
    }

    /// Stops watching a page (its incidents stay).
    pub fn guard_remove_page(&self, caller: &Caller, id: i64) -> HubResult<()> {
        self.refuse_unless(caller, None, "guard.page_remove", guard_allowed(caller))?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let page = Self::load_guard_page(&tx, id)?;
        tx.exec("DELETE FROM guard_pages WHERE id = ?1", [id])?;
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "guard.page_removed",
            None,
            json!({ "page": id, "url": page.url, "source": page.source }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A person approves the page as last fetched as its baseline.
    pub fn guard_approve_baseline(&self, caller: &Caller, id: i64) -> HubResult<api::GuardPage> {
        self.refuse_unless(caller, None, "guard.baseline", guard_allowed(caller))?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let page = Self::load_guard_page(&tx, id)?;
        let Some(hash) = page.last_hash.clone() else {
            return Err(HubError::validation(
                "baseline",
                "the page has not been fetched yet; check it first",
            ));
        };
        tx.exec(
            "UPDATE guard_pages SET baseline_hash = ?2, baseline_at = ?3, baseline_by = ?4,
                 last_good_hash = ?2 WHERE id = ?1",
            params![id, hash, now, caller.username],
        )?;
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "guard.baseline_approved",
            None,
            json!({ "page": id, "url": page.url, "hash": hash }),
        )?;
        let page = Self::load_guard_page(&tx, id)?;
        tx.commit()?;
        Ok(self.page_api(&page))
    }

    /// Recent checks (of one page, or all), newest first.
    pub fn guard_checks(
        &self,
        caller: &Caller,
        page_id: Option<i64>,
        limit: u32,
    ) -> HubResult<Vec<api::GuardCheck>> {
        self.refuse_unless(caller, None, "guard.checks", guard_allowed(caller))?;
        if !(1..=500).contains(&limit) {
            return Err(HubError::validation("limit", "limit is 1 to 500"));
        }
        let conn = self.db();
        let rows = crate::db::all(
            &conn,
            "SELECT c.id, c.page_id, COALESCE(p.url, ''), c.at, c.status, c.body_hash, c.findings,
                    c.expected, c.incident_id, c.elapsed_ms
             FROM guard_checks c LEFT JOIN guard_pages p ON p.id = c.page_id
             WHERE ?1 IS NULL OR c.page_id = ?1 ORDER BY c.id DESC LIMIT ?2",
            params![page_id, limit],
            check_from_row,
        )?;
        Ok(rows
            .into_iter()
            .map(|mut c| {
                c.url = self.guard_live_url(&c.url);
                c
            })
            .collect())
    }

    /// Guard incidents (`open`, `resolved`, or all), newest first.
    pub fn guard_incidents(
        &self,
        caller: &Caller,
        state: Option<&str>,
    ) -> HubResult<Vec<api::GuardIncidentSummary>> {
        self.refuse_unless(caller, None, "guard.incidents", guard_allowed(caller))?;
        if let Some(s) = state
            && !matches!(s, "open" | "resolved")
        {
            return Err(HubError::validation("state", "state is open or resolved"));
        }
        let conn = self.db();
        let rows = crate::db::all(
            &conn,
            &format!(
                "SELECT {INCIDENT_COLS} FROM guard_incidents i
                 LEFT JOIN publish_targets t ON t.id = i.target_id
                 WHERE ?1 IS NULL OR i.state = ?1 ORDER BY i.id DESC LIMIT 500"
            ),
            [state],
            incident_from_row,
        )?;
        Ok(rows.into_iter().map(|i| i.summary).collect())
    }

    /// One incident with its evidence.
    pub fn guard_incident(&self, caller: &Caller, id: i64) -> HubResult<api::GuardIncident> {
        self.refuse_unless(caller, None, "guard.incidents", guard_allowed(caller))?;
        Self::load_incident(&self.db(), id)
    }

    fn load_incident(conn: &Connection, id: i64) -> HubResult<api::GuardIncident> {
        let mut incident = conn
            .row(
                &format!(
                    "SELECT {INCIDENT_COLS} FROM guard_incidents i
                     LEFT JOIN publish_targets t ON t.id = i.target_id WHERE i.id = ?1"
                ),
                [id],
                incident_from_row,
            )
            .optional()?
            .ok_or(HubError::NotFound("incident"))?;
        incident.restores = crate::site_backup::restores_of_incident(conn, id)?;
        Ok(incident)
    }

    /// A restore made for incident `id` on website `target_id`: the incident must exist and be
    /// about that website (a 400 naming `incident_id` otherwise).
    pub(crate) fn check_restore_incident(
        conn: &Connection,
        id: i64,
        target_id: i64,
    ) -> HubResult<()> {
        let target: Option<i64> = conn
            .row(
                "SELECT target_id FROM guard_incidents WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        match target {
            None => Err(HubError::validation(
                "incident_id",
                format!("there is no incident {id}"),
            )),
            Some(t) if t != target_id => Err(HubError::validation(
                "incident_id",
                format!("incident {id} is about another website"),
            )),
            Some(_) => Ok(()),
        }
    }

    /// After restore `restore_id` for incident `id`: when the restore is `normal` and the
    /// incident's page was among the pages checked after it (and is clean), the incident is
    /// resolved by that proof, in the caller's transaction, with the restore's reason (the
    /// person's own words) as its note. Returns whether it was.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn resolve_by_restore(
        tx: &Connection,
        now: DateTime<Utc>,
        caller: &Caller,
        id: i64,
        restore_id: i64,
        reason: &str,
        normal: bool,
        after: &[api::SitePageCheck],
    ) -> HubResult<bool> {
        let incident = Self::load_incident(tx, id)?;
        let proven = normal
            && incident.summary.state == "open"
            && after
                .iter()
                .any(|c| same_page(&c.url, &incident.summary.url) && c.findings.is_empty());
        if !proven {
            return Ok(false);
        }
        Self::mark_resolved(tx, now, caller, &incident, reason, Some(restore_id))?;
        Ok(true)
    }

    /// Resolves open incident `incident` with `note` (by a person, or by the proof of restore
    /// `restore`): its page leaves the alert state; audited.
    fn mark_resolved(
        tx: &Connection,
        now: DateTime<Utc>,
        caller: &Caller,
        incident: &api::GuardIncident,
        note: &str,
        restore: Option<i64>,
    ) -> HubResult<()> {
        let s = &incident.summary;
        tx.exec(
            "UPDATE guard_incidents SET state = 'resolved', resolved_at = ?2, resolved_by = ?3,
                 resolution_note = ?4 WHERE id = ?1",
            params![s.id, now, caller.username, note],
        )?;
        tx.exec(
            "UPDATE guard_pages SET state = CASE WHEN state = 'alert' THEN 'ok' ELSE state END
             WHERE id = ?1",
            [s.page_id],
        )?;
        let mut data = json!({ "incident": s.id, "page": s.page_id, "url": s.url, "note": note });
        if let Some(r) = restore {
            data["restore"] = json!(r);
        }
        audit::append(
            tx,
            now,
            &caller.actor(),
            "guard.incident_resolved",
            None,
            data,
        )?;
        Ok(())
    }

    /// A stored page version (evidence), by its SHA-256.
    pub fn guard_body(&self, caller: &Caller, hash: &str) -> HubResult<String> {
        self.refuse_unless(caller, None, "guard.body", guard_allowed(caller))?;
        self.guard_bodies
            .get(hash)
            .ok_or(HubError::NotFound("stored page version"))
    }

    /// Resolves an open incident; the next finding on the page opens a new one.
    pub fn guard_resolve(
        &self,
        caller: &Caller,
        id: i64,
        req: api::GuardResolveRequest,
    ) -> HubResult<api::GuardIncident> {
        self.refuse_unless(caller, None, "guard.resolve", guard_allowed(caller))?;
        let note = req.note.trim().to_string();
        if note.chars().count() > 2000 {
            return Err(HubError::validation(
                "note",
                "a note may be at most 2000 characters",
            ));
        }
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let incident = Self::load_incident(&tx, id)?;
        if incident.summary.state != "open" {
            return Err(HubError::validation(
                "state",
                "the incident is already resolved",
            ));
        }
        Self::mark_resolved(&tx, now, caller, &incident, &note, None)?;
        let out = Self::load_incident(&tx, id)?;
        tx.commit()?;
        Ok(out)
    }

    // -------------------------------------------------------------- running checks

    /// Checks one page now (admins and publishers).
    pub async fn guard_check_now(
        self: &Arc<Self>,
        caller: &Caller,
        id: i64,
    ) -> HubResult<api::GuardCheck> {
        let office = Arc::clone(self);
        let c = caller.clone();
        tokio::task::spawn_blocking(move || {
            office.refuse_unless(&c, None, "guard.check", guard_allowed(&c))?;
            Self::load_guard_page(&office.db(), id).map(|_| ())
        })
        .await
        .map_err(|e| HubError::Internal(e.into()))??;
        let check = self.guard_check(id, &HashMap::new()).await?;
        check.ok_or(HubError::NotFound("watched page"))
    }

    /// Reads what checking page `id` needs.
    fn guard_job(&self, id: i64) -> HubResult<Option<Job>> {
        let conn = self.db();
        let Some(mut page) = conn
            .row(
                &format!("SELECT {PAGE_COLS} FROM guard_pages p WHERE p.id = ?1"),
                [id],
                page_from_row,
            )
            .optional()?
        else {
            return Ok(None);
        };
        let site = self.guard_site_row(&conn, page.target_id)?;
        drop(conn);
        page.url = self.guard_live_url(&page.url);
        let baseline = page
            .baseline_hash
            .as_deref()
            .and_then(|h| self.guard_bodies.get(h));
        let published = page
            .published_hash
            .as_deref()
            .and_then(|h| self.guard_bodies.get(h));
        Ok(Some(Job {
            page,
            site,
            baseline,
            published,
        }))
    }

    /// Checks page `id` and records what was found; `None` when the page is gone.
    async fn guard_check(
        self: &Arc<Self>,
        id: i64,
        fetchers: &HashMap<i64, Fetcher>,
    ) -> HubResult<Option<api::GuardCheck>> {
        let office = Arc::clone(self);
        let job = tokio::task::spawn_blocking(move || office.guard_job(id))
            .await
            .map_err(|e| HubError::Internal(e.into()))??;
        let Some(job) = job else { return Ok(None) };
        let fetcher = match fetchers.get(&job.site.target_id) {
            Some(f) => f.clone(),
            None => job.site.fetcher(),
        };
        let outcome = run_check(&fetcher, &job, self.now()).await;
        let office = Arc::clone(self);
        tokio::task::spawn_blocking(move || office.guard_record(&job, outcome))
            .await
            .map_err(|e| HubError::Internal(e.into()))?
    }

    /// Records one check: the page's state, the evidence, the baseline re-taken in an expected
    /// window, an incident opened or folded — with its audit entries, in one transaction.
    fn guard_record(&self, job: &Job, outcome: Outcome) -> HubResult<Option<api::GuardCheck>> {
        let now = self.now();
        let body_hash = match &outcome.body {
            Some(b) => Some(self.guard_bodies.put(b)?),
            None => None,
        };
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        // Re-read: the page may have been removed, its window opened, or its baseline
        // approved while the check ran.
        let Some(mut page) = tx
            .row(
                &format!("SELECT {PAGE_COLS} FROM guard_pages p WHERE p.id = ?1"),
                [job.page.id],
                page_from_row,
            )
            .optional()?
        else {
            return Ok(None);
        };
        page.url = self.guard_live_url(&page.url);
        let expected = page.expected_until.is_some_and(|u| u > now);
        let injected = outcome.findings.iter().any(|f| INJECTION.contains(&f.kind));
        // In an expected window, a difference from the baseline or from what was published is
        // the office's own change.
        let (explained, alarm): (Vec<&Finding>, Vec<&Finding>) =
            outcome.findings.iter().partition(|f| {
                expected && matches!(f.kind, FindingKind::Changed | FindingKind::Tampered)
            });
        let fetched_ok = outcome.status.is_some_and(|s| (200..300).contains(&s));
        let mut baseline_hash = page.baseline_hash.clone();
        // The baseline is re-taken once the page passes the injection checks in the window;
        // a published page gets its first baseline the same way.
        let retake = fetched_ok
            && !injected
            && alarm.is_empty()
            && body_hash.is_some()
            && baseline_hash != body_hash
            && ((expected && !explained.is_empty())
                || (baseline_hash.is_none() && page.source == "published"));
        if retake {
            baseline_hash = body_hash.clone();
            tx.exec(
                "UPDATE guard_pages SET baseline_hash = ?2, baseline_at = ?3, baseline_by = NULL
                 WHERE id = ?1",
                params![page.id, body_hash, now],
            )?;
            audit::append(
                &tx,
                now,
                &Actor::system(),
                "guard.baseline_retaken",
                None,
                json!({ "page": page.id, "url": page.url, "hash": body_hash,
                        "reason": if expected { "expected change" } else { "first version" } }),
            )?;
        }
        let alarm: Vec<Finding> = alarm.into_iter().cloned().collect();
        let mut incident_id = page.open_incident;
        if !alarm.is_empty() {
            let good = page.last_good_hash.clone().or(baseline_hash.clone());
            let crawler_hash = match (&outcome.crawler_body, &outcome.body) {
                (Some(c), Some(b)) if c != b => Some(self.guard_bodies.put(c)?),
                _ => None,
            };
            // The diff of the version that opened the incident (a repeat folds into it).
            let diff = match (&good, &outcome.body) {
                (Some(g), Some(bad)) if page.open_incident.is_none() => self
                    .guard_bodies
                    .get(g)
                    .map(|good_body| {
                        let url = Url::parse(&page.url).ok();
                        let before = Page::parse(&good_body, url.as_ref());
                        let after = Page::parse(bad, url.as_ref());
                        warta_guard::checks::compare_baseline(
                            &after,
                            &before,
                            &compile_noise(&page.noise),
                        )
                        .map(|f| f.evidence)
                        .unwrap_or_default()
                    })
                    .unwrap_or_default(),
                _ => Vec::new(),
            };
            incident_id = Some(open_or_fold(
                self,
                &tx,
                &page,
                &alarm,
                Evidence {
                    good,
                    bad: body_hash.clone(),
                    crawler: crawler_hash,
                    diff,
                },
                now,
            )?);
        }
        let state = if incident_id.is_some() {
            "alert"
        } else if outcome.status.is_none() {
            "error"
        } else {
            "ok"
        };
        let shown: Vec<api::GuardFinding> = outcome.findings.iter().map(to_api).collect();
        let shown_json = serde_json::to_string(&shown).expect("json");
        let clean = alarm.is_empty() && fetched_ok;
        tx.exec(
            "UPDATE guard_pages SET last_check_at = ?2, last_status = ?3, last_hash = ?4,
                 last_findings = ?5, state = ?6, next_check_at = ?7,
                 last_good_hash = CASE WHEN ?8 THEN ?4 ELSE last_good_hash END,
                 last_bad_hash = CASE WHEN ?8 THEN last_bad_hash ELSE COALESCE(?4, last_bad_hash) END
             WHERE id = ?1",
            params![
                page.id,
                now,
                outcome.status,
                body_hash,
                shown_json,
                state,
                now + Duration::seconds(page.interval_secs),
                clean
            ],
        )?;
        tx.exec(
            "INSERT INTO guard_checks (page_id, at, status, body_hash, findings, expected,
                 incident_id, elapsed_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                page.id,
                now,
                outcome.status,
                body_hash,
                shown_json,
                !explained.is_empty(),
                if alarm.is_empty() { None } else { incident_id },
                outcome.elapsed_ms
            ],
        )?;
        let check_id = tx.last_insert_rowid();
        let check = tx.row(
            "SELECT c.id, c.page_id, p.url, c.at, c.status, c.body_hash, c.findings, c.expected,
                    c.incident_id, c.elapsed_ms
             FROM guard_checks c JOIN guard_pages p ON p.id = c.page_id WHERE c.id = ?1",
            [check_id],
            check_from_row,
        )?;
        tx.commit()?;
        Ok(Some(api::GuardCheck {
            url: page.url.clone(),
            ..check
        }))
    }

    /// Reads the sitemaps of every website due for it and records new addresses.
    async fn guard_sitemaps(self: &Arc<Self>) -> HubResult<usize> {
        let office = Arc::clone(self);
        let now = self.now();
        let sites: Vec<SiteRow> = tokio::task::spawn_blocking(move || {
            let conn = office.db();
            crate::db::all(
                &conn,
                &format!(
                    "{SITE_SQL} WHERE g.target_id IS NOT NULL AND g.enabled = 1
                     AND (g.sitemap_next_at IS NULL OR g.sitemap_next_at <= ?1)"
                ),
                [now],
                |r| office.site_from_row(r),
            )
        })
        .await
        .map_err(|e| HubError::Internal(e.into()))??;
        let mut n = 0;
        for site in sites {
            let Ok(home) = Url::parse(&site.public_url) else {
                continue;
            };
            let found = read_sitemaps(&site.fetcher(), &home).await;
            let office = Arc::clone(self);
            n += tokio::task::spawn_blocking(move || office.guard_record_sitemap(&site, found))
                .await
                .map_err(|e| HubError::Internal(e.into()))??;
        }
        Ok(n)
    }

    /// Records the addresses a site's sitemaps list (`None`: it has none that could be read).
    fn guard_record_sitemap(&self, site: &SiteRow, found: Option<Vec<Url>>) -> HubResult<usize> {
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        tx.exec(
            "UPDATE guard_sites SET sitemap_next_at = ?2 WHERE target_id = ?1",
            params![
                site.target_id,
                now + Duration::seconds(SITEMAP_INTERVAL_SECS)
            ],
        )?;
        let Some(found) = found else {
            tx.commit()?;
            return Ok(0);
        };
        let watched: HashSet<String> = crate::db::all(
            &tx,
            "SELECT url FROM guard_pages WHERE target_id = ?1",
            [site.target_id],
            |r| r.get::<_, String>(0),
        )?
        .into_iter()
        .map(|u| self.guard_live_url(&u).trim_end_matches('/').to_string())
        .collect();
        let ours: Vec<String> = crate::db::all(
            &tx,
            "SELECT url FROM item_remotes WHERE target_id = ?1 AND url <> ''",
            [site.target_id],
            |r| r.get(0),
        )?;
        let site_expected = site.expected_until.is_some_and(|u| u > now);
        let first = !site.sitemap_known;
        let mut count: i64 = tx.row(
            "SELECT COUNT(*) FROM guard_pages WHERE target_id = ?1",
            [site.target_id],
            |r| r.get(0),
        )?;
        let mut added = 0;
        for url in found {
            let url = url.to_string();
            if watched.contains(url.trim_end_matches('/')) || count >= PAGES_PER_SITE {
                continue;
            }
            // An address that appears while the office itself changes the site (its post, a
            // category page its post created) is the office's.
            let published = site_expected || ours.iter().any(|o| same_address(o, &url));
            let stored = self.guard_store_url(&site.target_kind, url.clone());
            tx.exec(
                "INSERT INTO guard_pages (target_id, url, source, interval_secs, next_check_at,
                     created_at) VALUES (?1, ?2, 'sitemap', ?3, ?4, ?4)
                 ON CONFLICT (target_id, url) DO NOTHING",
                params![site.target_id, stored, PAGE_INTERVAL_SECS, now],
            )?;
            count += 1;
            added += 1;
            if !first && !published {
                let mut page = tx.row(
                    &format!(
                        "SELECT {PAGE_COLS} FROM guard_pages p WHERE p.target_id = ?1 AND p.url = ?2"
                    ),
                    params![site.target_id, stored],
                    page_from_row,
                )?;
                page.url = url.clone();
                let finding = Finding::new(
                    FindingKind::UnknownUrl,
                    "a new address in the site's sitemap that the office did not publish",
                    vec![url.clone()],
                );
                let id = open_or_fold(
                    self,
                    &tx,
                    &page,
                    std::slice::from_ref(&finding),
                    Evidence::default(),
                    now,
                )?;
                let shown = serde_json::to_string(&[to_api(&finding)]).expect("json");
                tx.exec(
                    "UPDATE guard_pages SET state = 'alert', last_findings = ?2 WHERE id = ?1",
                    params![page.id, shown],
                )?;
                tx.exec(
                    "INSERT INTO guard_checks (page_id, at, status, findings, incident_id, elapsed_ms)
                     VALUES (?1, ?2, NULL, ?3, ?4, 0)",
                    params![page.id, now, shown, id],
                )?;
            }
        }
        tx.exec(
            "UPDATE guard_sites SET sitemap_known = 1 WHERE target_id = ?1",
            [site.target_id],
        )?;
        tx.commit()?;
        Ok(added)
    }

    /// One round: reads due sitemaps, then checks every due page, [`CONCURRENCY`] at a time.
    /// Returns how many pages were checked.
    pub async fn guard_run_due(self: &Arc<Self>) -> usize {
        let office = Arc::clone(self);
        let opened = tokio::task::spawn_blocking(move || -> HubResult<usize> {
            let now = office.now();
            let mut conn = office.db();
            let tx = conn.savepoint()?;
            let n = expect_scheduled(&tx, now)?;
            tx.commit()?;
            Ok(n)
        })
        .await;
        if let Ok(Err(e)) = opened {
            tracing::error!("opening the windows of scheduled posts: {e}");
        }
        if let Err(e) = self.guard_sitemaps().await {
            tracing::error!("reading sitemaps: {e}");
        }
        let office = Arc::clone(self);
        let now = self.now();
        let due = tokio::task::spawn_blocking(move || {
            crate::db::all(
                &office.db(),
                "SELECT p.id, p.target_id FROM guard_pages p
                 LEFT JOIN guard_sites g ON g.target_id = p.target_id
                 WHERE p.next_check_at <= ?1 AND COALESCE(g.enabled, 1) = 1
                 ORDER BY p.next_check_at, p.id LIMIT ?2",
                params![now, ROUND_LIMIT],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
        })
        .await;
        let due = match due {
            Ok(Ok(d)) => d,
            Ok(Err(e)) => {
                tracing::error!("reading the watch list: {e}");
                return 0;
            }
            Err(e) => {
                tracing::error!("reading the watch list: {e}");
                return 0;
            }
        };
        // One fetcher per website per round: its connections are reused.
        let mut fetchers: HashMap<i64, Fetcher> = HashMap::new();
        {
            let office = Arc::clone(self);
            let targets: BTreeSet<i64> = due.iter().map(|d| d.1).collect();
            let sites = tokio::task::spawn_blocking(move || {
                let conn = office.db();
                targets
                    .into_iter()
                    .filter_map(|t| office.guard_site_row(&conn, t).ok())
                    .collect::<Vec<_>>()
            })
            .await
            .unwrap_or_default();
            for s in sites {
                fetchers.insert(s.target_id, s.fetcher());
            }
        }
        let fetchers = Arc::new(fetchers);
        // A site that does not answer costs a fetch timeout per page: after a few in a row its
        // other pages wait for the next round instead of holding up every other site's.
        let down: Arc<std::sync::Mutex<HashMap<i64, u32>>> = Arc::default();
        futures_util::stream::iter(due.into_iter().map(|(id, target)| {
            let office = Arc::clone(self);
            let fetchers = Arc::clone(&fetchers);
            let down = Arc::clone(&down);
            async move {
                let failures = |d: &std::sync::Mutex<HashMap<i64, u32>>| {
                    *d.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .get(&target)
                        .unwrap_or(&0)
                };
                if failures(&down) >= SITE_DOWN_AFTER {
                    return 0;
                }
                match office.guard_check(id, &fetchers).await {
                    Ok(Some(c)) => {
                        let mut d = down.lock().unwrap_or_else(|e| e.into_inner());
                        if c.status.is_none() {
                            *d.entry(target).or_default() += 1;
                        } else {
                            d.insert(target, 0);
                        }
                        1
                    }
                    Ok(None) => 0,
                    Err(e) => {
                        tracing::error!("checking watched page {id}: {e}");
                        0
                    }
                }
            }
        }))
        .buffer_unordered(CONCURRENCY)
        .fold(0usize, |n, one| async move { n + one })
        .await
    }

    /// Deletes old checks and the stored bodies nothing refers to any more.
    pub fn guard_maintenance(&self) -> HubResult<(usize, usize)> {
        let cutoff = self.now() - Duration::days(CHECK_RETENTION_DAYS);
        let (checks, keep) = {
            let conn = self.db();
            let checks = conn.exec("DELETE FROM guard_checks WHERE at < ?1", [cutoff])?;
            let mut keep: HashSet<String> = HashSet::new();
            for sql in [
                "SELECT published_hash FROM guard_pages UNION SELECT baseline_hash FROM guard_pages
                 UNION SELECT last_hash FROM guard_pages UNION SELECT last_good_hash FROM guard_pages
                 UNION SELECT last_bad_hash FROM guard_pages",
                "SELECT good_hash FROM guard_incidents UNION SELECT bad_hash FROM guard_incidents
                 UNION SELECT crawler_hash FROM guard_incidents",
                // Page versions SOP-B incidents hold as evidence.
                "SELECT sha256 FROM incident_evidence WHERE source = 'guard'",
            ] {
                for h in crate::db::all(&conn, sql, [], |r| r.get::<_, Option<String>>(0))?
                    .into_iter()
                    .flatten()
                {
                    keep.insert(h);
                }
            }
            (checks, keep)
        };
        Ok((checks, self.guard_bodies.sweep(&keep)))
    }

    /// Starts the schedule: a round whenever a page is due (looked at every few seconds),
    /// and the clean-up hourly. Stopped by [`Scheduler::stop`].
    pub fn start_guard(self: &Arc<Self>) -> Scheduler {
        let stop = Arc::new(AtomicBool::new(false));
        let bell = Arc::new(tokio::sync::Notify::new());
        let weak = Arc::downgrade(self);
        let (s, b) = (Arc::clone(&stop), Arc::clone(&bell));
        let task = tokio::spawn(async move {
            let mut last_maintenance: Option<std::time::Instant> = None;
            loop {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Some(office) = weak.upgrade() else { return };
                office.guard_run_due().await;
                if last_maintenance.is_none_or(|t| t.elapsed().as_secs() >= 3600) {
                    last_maintenance = Some(std::time::Instant::now());
                    let o = Arc::clone(&office);
                    match tokio::task::spawn_blocking(move || o.guard_maintenance()).await {
                        Ok(Ok((c, b))) if c + b > 0 => {
                            tracing::info!("guard clean-up: {c} old check(s), {b} body(ies)")
                        }
                        Ok(Err(e)) => tracing::warn!("guard clean-up: {e}"),
                        _ => {}
                    }
                }
                drop(office);
                tokio::select! {
                    _ = tokio::time::sleep(std::time::Duration::from_secs(POLL_SECS)) => {}
                    _ = b.notified() => {}
                }
            }
        });
        Scheduler { stop, bell, task }
    }
}

/// How often the schedule looks for due pages.
const POLL_SECS: u64 = 5;

/// The guard's background schedule, held by the running hub.
pub struct Scheduler {
    stop: Arc<AtomicBool>,
    bell: Arc<tokio::sync::Notify>,
    task: tokio::task::JoinHandle<()>,
}

impl Scheduler {
    /// Stops the schedule: checks in flight are dropped (nothing half-recorded: a check is
    /// recorded in one transaction), waiting at most `grace`.
    pub async fn stop(self, grace: std::time::Duration) {
        self.stop.store(true, Ordering::SeqCst);
        self.bell.notify_one();
        let abort = self.task.abort_handle();
        if tokio::time::timeout(grace, self.task).await.is_err() {
            abort.abort();
        }
    }
}

fn check_from_row(r: &rusqlite::Row) -> rusqlite::Result<api::GuardCheck> {
    let findings: String = r.get(6)?;
    Ok(api::GuardCheck {
        id: r.get(0)?,
        page_id: r.get(1)?,
        url: r.get(2)?,
        at: r.get(3)?,
        status: r.get(4)?,
        body_hash: r.get(5)?,
        findings: findings_from(&findings),
        expected: r.get(7)?,
        incident_id: r.get(8)?,
        elapsed_ms: r.get(9)?,
    })
}

#[derive(Default)]
struct Evidence {
    good: Option<String>,
    bad: Option<String>,
    crawler: Option<String>,
    diff: Vec<String>,
}

/// Opens an incident on the page, or folds the findings into its open one; audited.
fn open_or_fold(
    office: &Office,
    tx: &Connection,
    page: &PageRow,
    findings: &[Finding],
    evidence: Evidence,
    now: DateTime<Utc>,
) -> HubResult<i64> {
    let kinds: BTreeSet<String> = findings.iter().map(|f| kind_name(f.kind)).collect();
    let shown: Vec<api::GuardFinding> = findings.iter().map(to_api).collect();
    let words: Vec<String> = findings
        .iter()
        .filter(|f| f.kind != FindingKind::Changed && f.kind != FindingKind::Tampered)
        .flat_map(|f| f.evidence.iter().cloned())
        .take(50)
        .collect();
    let open: Option<(i64, String)> = tx
        .row(
            "SELECT id, kinds FROM guard_incidents WHERE page_id = ?1 AND state = 'open'",
            [page.id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    match open {
        Some((id, old)) => {
            let old: BTreeSet<String> = serde_json::from_str(&old).unwrap_or_default();
            let new_kinds: Vec<&String> = kinds.difference(&old).collect();
            let all: BTreeSet<&String> = old.iter().chain(kinds.iter()).collect();
            tx.exec(
                "UPDATE guard_incidents SET count = count + 1, last_seen_at = ?2, kinds = ?3,
                     findings = ?4, bad_hash = COALESCE(?5, bad_hash),
                     crawler_hash = COALESCE(?6, crawler_hash) WHERE id = ?1",
                params![
                    id,
                    now,
                    serde_json::to_string(&all).expect("json"),
                    serde_json::to_string(&shown).expect("json"),
                    evidence.bad,
                    evidence.crawler
                ],
            )?;
            audit::append(
                tx,
                now,
                &Actor::system(),
                "guard.incident_folded",
                None,
                json!({ "incident": id, "page": page.id, "url": page.url, "kinds": kinds,
                        "new_kinds": new_kinds }),
            )?;
            // The SOP-B incident opened from it hears of the repeat (no second incident).
            let count: i64 = tx.row(
                "SELECT count FROM guard_incidents WHERE id = ?1",
                [id],
                |r| r.get(0),
            )?;
            office.fold_into_guard_incident(tx, id, count, evidence.bad.as_ref(), now)?;
            Ok(id)
        }
        None => {
            tx.exec(
                "INSERT INTO guard_incidents (target_id, page_id, url, kinds, state, opened_at,
                     last_seen_at, count, findings, good_hash, bad_hash, crawler_hash, diff)
                 VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?5, 1, ?6, ?7, ?8, ?9, ?10)",
                params![
                    page.target_id,
                    page.id,
                    page.url,
                    serde_json::to_string(&kinds).expect("json"),
                    now,
                    serde_json::to_string(&shown).expect("json"),
                    evidence.good,
                    evidence.bad,
                    evidence.crawler,
                    serde_json::to_string(&evidence.diff).expect("json"),
                ],
            )?;
            let id = tx.last_insert_rowid();
            audit::append(
                tx,
                now,
                &Actor::system(),
                "guard.incident_opened",
                None,
                json!({ "incident": id, "page": page.id, "url": page.url, "kinds": kinds,
                        "evidence": words, "good_hash": evidence.good,
                        "bad_hash": evidence.bad }),
            )?;
            // SOP-B runs from here: an incident at its first step, the evidence attached.
            let kinds: Vec<String> = kinds.into_iter().collect();
            office.open_incident_from_guard(
                tx,
                id,
                &page.url,
                &kinds,
                &words,
                &[
                    ("good", evidence.good.as_ref()),
                    ("bad", evidence.bad.as_ref()),
                    ("crawler", evidence.crawler.as_ref()),
                ],
                now,
            )?;
            Ok(id)
        }
    }
}

/// Fetches and checks one page (no database).
async fn run_check(fetcher: &Fetcher, job: &Job, now: DateTime<Utc>) -> Outcome {
    let started = std::time::Instant::now();
    let Ok(url) = Url::parse(&job.page.url) else {
        return Outcome {
            status: None,
            body: None,
            crawler_body: None,
            findings: vec![Finding::new(
                FindingKind::Unreachable,
                "the watched address is not a valid address",
                vec![job.page.url.clone()],
            )],
            elapsed_ms: 0,
        };
    };
    let noise = compile_noise(&job.page.noise);
    let baseline = job.baseline.as_deref().map(|b| Page::parse(b, Some(&url)));
    let vocab = vocabulary();
    let policy = job.site.policy();
    let mut report = warta_guard::check_url(
        fetcher,
        &url,
        vocab,
        &policy,
        baseline.as_ref().map(|b| (b, noise.as_slice())),
        now,
    )
    .await;
    if let (Some(published), Some(b)) = (&job.published, &report.browser)
        && (200..300).contains(&b.status)
    {
        let ours = Page::parse(published, Some(&url));
        let live = Page::parse(&b.body, Some(&b.url));
        if let Some(f) = warta_guard::compare_published(&live, &ours) {
            report.findings.push(f);
        }
        // Links the office itself put in the page are not foreign to it.
        let our_hosts: HashSet<String> = ours
            .links
            .iter()
            .filter_map(|l| l.url.host_str().map(str::to_string))
            .chain(
                ours.resources
                    .iter()
                    .filter_map(|r| r.url.host_str().map(str::to_string)),
            )
            .collect();
        for f in report.findings.iter_mut().filter(|f| {
            matches!(
                f.kind,
                FindingKind::ForeignLinks | FindingKind::ForeignResources
            )
        }) {
            f.evidence.retain(|h| !our_hosts.contains(h));
        }
        report.findings.retain(|f| {
            !(matches!(
                f.kind,
                FindingKind::ForeignLinks | FindingKind::ForeignResources
            ) && f.evidence.is_empty())
        });
        report.findings.sort_by_key(|f| f.kind);
    }
    Outcome {
        status: report.browser.as_ref().map(|b| b.status),
        crawler_body: report.crawler.as_ref().map(|c| c.body.clone()),
        body: report.browser.map(|b| b.body),
        findings: report.findings,
        elapsed_ms: started.elapsed().as_millis().min(u128::from(u32::MAX)) as u32,
    }
}

/// The page addresses of a site's sitemaps (`/sitemap.xml`, `/wp-sitemap.xml`, and the
/// sitemaps an index lists, on the site's own host); `None` when there is none.
async fn read_sitemaps(fetcher: &Fetcher, home: &Url) -> Option<Vec<Url>> {
    let mut queue: Vec<Url> = ["/sitemap.xml", "/wp-sitemap.xml"]
        .iter()
        .filter_map(|p| home.join(p).ok())
        .collect();
    let mut seen: HashSet<String> = HashSet::new();
    let mut pages: Vec<Url> = Vec::new();
    let mut listed: HashSet<String> = HashSet::new();
    let mut any = false;
    let mut files = 0;
    while let Some(map) = queue.pop() {
        if !seen.insert(map.to_string()) || files >= SITEMAP_FILES {
            continue;
        }
        files += 1;
        let Ok(got) = fetcher.fetch(&map, Agent::Browser).await else {
            continue;
        };
        if !(200..300).contains(&got.status) || !got.body.contains("<loc") {
            continue;
        }
        any = true;
        let (found, nested) = warta_guard::sitemap_urls(&got.body, SITEMAP_LIMIT);
        let same_host = |u: &Url| u.host_str() == home.host_str();
        for p in found.into_iter().filter(same_host) {
            if pages.len() < SITEMAP_LIMIT && listed.insert(p.to_string()) {
                pages.push(p);
            }
        }
        queue.extend(nested.into_iter().filter(same_host));
    }
    any.then_some(pages)
}

/// Whether a checked address is an incident's page: the same address (a trailing slash aside),
/// or, for a page of the hub's own site kept by its path, any address with that path.
fn same_page(checked: &str, page: &str) -> bool {
    if page.starts_with('/') {
        return Url::parse(checked).is_ok_and(|u| same_address(u.path(), page));
    }
    same_address(checked, page)
}
