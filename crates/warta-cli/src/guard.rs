//! `warta guard check`: the website guard's checks on pages, once, from the command line.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use url::Url;
use warta_guard::{Fetcher, Limits, Page, Policy, Vocabulary};

/// Arguments of `warta guard check`.
#[derive(clap::Args)]
pub struct CheckArgs {
    /// Pages to check (http or https).
    #[arg(required = true)]
    pub urls: Vec<String>,
    /// The approved version of the page (an HTML file) to compare with.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Text to ignore when comparing with the baseline (a regular expression: dates, counters).
    #[arg(long)]
    pub noise: Vec<String>,
    /// A domain links and resources may point to (its subdomains too); repeat for more. Without
    /// any, outbound links are not checked (hidden ones and redirects still are).
    #[arg(long = "allow-domain")]
    pub allow_domain: Vec<String>,
    /// The office's own vocabulary file instead of the built-in guard/vocabulary.toml.
    #[arg(long)]
    pub vocabulary: Option<PathBuf>,
    /// Also fetch from loopback and private addresses (a site on the office's own network).
    #[arg(long)]
    pub allow_private: bool,
    /// Also trust the certificate authority in this PEM file (a site whose certificate the
    /// office's own authority signed).
    #[arg(long)]
    pub ca_file: Option<PathBuf>,
    /// Seconds a page may take.
    #[arg(long, default_value_t = 20)]
    pub timeout: u64,
    /// Largest page read, in megabytes; a bigger one is checked up to there.
    #[arg(long, default_value_t = 4)]
    pub max_mb: usize,
}

/// Exit 0: every page clean; 1: something found; 2: bad arguments.
pub fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let mut urls = Vec::with_capacity(args.urls.len());
    for u in &args.urls {
        let url = Url::parse(u).with_context(|| format!("{u} is not a web address"))?;
        if !matches!(url.scheme(), "http" | "https") {
            bail!("{u}: only http and https addresses are checked");
        }
        urls.push(url);
    }
    let vocab = match &args.vocabulary {
        Some(path) => Vocabulary::load(path)?,
        None => Vocabulary::built_in(),
    };
    let noise = args
        .noise
        .iter()
        .map(|n| {
            regex::Regex::new(n)
                .with_context(|| format!("--noise {n:?} is not a regular expression"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let baseline = match &args.baseline {
        Some(path) => {
            let html = std::fs::read(path)
                .with_context(|| format!("cannot read the baseline {}", path.display()))?;
            Some(Page::parse(&String::from_utf8_lossy(&html), urls.first()))
        }
        None => None,
    };
    let limits = Limits {
        max_bytes: args.max_mb.max(1) * 1024 * 1024,
        timeout: std::time::Duration::from_secs(args.timeout.max(1)),
        ..Limits::default()
    };
    // Only the hosts given: a redirect elsewhere is reported, not followed.
    let hosts: Vec<String> = urls
        .iter()
        .filter_map(|u| u.host_str().map(str::to_string))
        .collect();
    let fetcher = if args.allow_private {
        Fetcher::allow_private(hosts, limits)
    } else {
        Fetcher::new(hosts, limits)
    };
    let fetcher = match &args.ca_file {
        Some(path) => {
            let pem = std::fs::read(path).with_context(|| {
                format!("cannot read the certificate authority {}", path.display())
            })?;
            fetcher
                .trusting(&pem)
                .with_context(|| format!("--ca-file {}", path.display()))?
        }
        None => fetcher,
    };
    let policy = Policy {
        allowed_domains: args.allow_domain.clone(),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut found = false;
    for url in &urls {
        let report = runtime.block_on(warta_guard::check_url(
            &fetcher,
            url,
            &vocab,
            &policy,
            baseline.as_ref().map(|b| (b, noise.as_slice())),
            chrono::Utc::now(),
        ));
        if report.findings.is_empty() {
            println!("{url}: clean");
        }
        for f in &report.findings {
            found = true;
            let kind = serde_json::to_value(f.kind)?;
            let kind = kind.as_str().unwrap_or("finding");
            if f.evidence.is_empty() {
                println!("{url}: {kind}: {}", f.message);
            } else {
                println!("{url}: {kind}: {}: {}", f.message, f.evidence.join(", "));
            }
        }
    }
    Ok(if found {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}
