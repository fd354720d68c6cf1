//! The website guard's checks (issue: SOP-B and SOP-C, watching the office's site): fetch a
//! page safely ([`fetch`]), read it ([`page`]), and find what an attacker leaves there
//! ([`checks`]): online-gambling words where injections put them, defacement signatures, links
//! hidden from visitors, links, resources and redirects outside the office's domains, a
//! different page served to search engines (cloaking), and changes against an approved
//! version with marked noise ignored.
//!
//! No IO besides [`fetch`]; no clock (the caller passes `now` where time matters). The hub runs
//! these on a schedule; `warta guard check` runs them once from the command line.
#![forbid(unsafe_code)]

pub mod checks;
pub mod fetch;
pub mod page;
pub mod text;
pub mod vocabulary;

use chrono::{DateTime, Utc};
use url::Url;

pub use checks::{Finding, FindingKind, Policy, compare_published, sitemap_urls};
pub use fetch::{Agent, BadCertificate, Cut, FetchError, Fetched, Fetcher, Limits};
pub use page::Page;
pub use vocabulary::Vocabulary;

#[derive(Debug, thiserror::Error)]
pub enum GuardError {
    #[error("invalid vocabulary: {0}")]
    Vocabulary(String),
}

/// A certificate ending within this many days is reported.
pub const CERTIFICATE_WARNING_DAYS: i64 = 14;

/// What one check of one page found, with the pages as fetched (evidence for an incident).
#[derive(Debug, Clone)]
pub struct Report {
    pub url: Url,
    pub findings: Vec<Finding>,
    /// The page as a browser got it (absent when it could not be fetched).
    pub browser: Option<Fetched>,
    /// The page as a search crawler got it.
    pub crawler: Option<Fetched>,
}

/// Checks `url`: fetches it as a browser and as a search crawler, runs every page check on the
/// browser's version, compares the crawler's with it, and the browser's with `baseline` when
/// given (`noise`: what to ignore there).
pub async fn check_url(
    fetcher: &Fetcher,
    url: &Url,
    vocab: &Vocabulary,
    policy: &Policy,
    baseline: Option<(&Page, &[regex::Regex])>,
    now: DateTime<Utc>,
) -> Report {
    let (browser, crawler) = tokio::join!(
        fetcher.fetch(url, Agent::Browser),
        fetcher.fetch(url, Agent::Crawler)
    );
    let mut findings = Vec::new();
    let browser = match browser {
        Ok(f) => Some(f),
        Err(e) => {
            findings.push(Finding::new(
                FindingKind::Unreachable,
                e.to_string(),
                vec![url.to_string()],
            ));
            None
        }
    };
    let crawler = crawler.ok();
    if let Some(b) = &browser {
        if !(200..300).contains(&b.status) {
            findings.push(Finding::new(
                FindingKind::Unreachable,
                format!("the page answered HTTP {}", b.status),
                vec![],
            ));
        }
        if let Some(away) = &b.redirected_away {
            findings.push(Finding::new(
                FindingKind::ForeignRedirect,
                "the site redirects to another site",
                vec![away.host_str().unwrap_or(away.as_str()).to_string()],
            ));
        }
        if let Some(cut) = b.cut {
            findings.push(Finding::new(
                FindingKind::Truncated,
                match cut {
                    Cut::Size => {
                        "the page is larger than the size limit; only its start was checked"
                    }
                    Cut::Time => "the page did not finish in time; only its start was checked",
                },
                vec![],
            ));
        }
        if let Some(expires) = b.certificate_expires {
            let days = (expires - now).num_days();
            if days < CERTIFICATE_WARNING_DAYS {
                findings.push(Finding::new(
                    FindingKind::CertificateExpiring,
                    format!("the TLS certificate ends in {days} day(s)"),
                    vec![expires.to_rfc3339()],
                ));
            }
        }
        let page = Page::parse(&b.body, Some(&b.url));
        findings.extend(checks::check_page(&page, vocab, policy));
        if let Some(c) = &crawler {
            let crawled = Page::parse(&c.body, Some(&c.url));
            findings.extend(checks::compare_crawler(&page, &crawled, vocab, policy));
        }
        if let Some((base, noise)) = baseline {
            findings.extend(checks::compare_baseline(&page, base, noise));
        }
    }
    findings.sort_by_key(|f| f.kind);
    Report {
        url: url.clone(),
        findings,
        browser,
        crawler,
    }
}
