//! `warta-guardbench`: the website guard's benchmark (issue 6, "Speed"): 1,000 watched pages on
//! a loopback site checked in one round by the hub's guard, with the time and the peak memory
//! (VmHWM) of the process, against an anchor measured in the same run: fetching the same pages
//! (as a browser and as a crawler, the same concurrency) and doing nothing else.
//!
//! The site runs in a child process (`warta-guardbench serve`), so the peak memory measured is
//! the hub's alone. Goal: one full round in under 30 s on 2 cores with under 150 MB resident.
//!
//! `warta-guardbench run [PAGES]` prints the table and writes it to `target/bench-guard.md`.
#![forbid(unsafe_code)]

use std::io::{BufRead, BufReader, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt as _;
use warta_api::{GuardPageInput, GuardSiteInput};
use warta_hub::{FixedClock, HubConfig, Office};

const CONCURRENCY: usize = warta_hub::guard::CONCURRENCY;

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") => serve(),
        Some("run") => {
            let pages = args
                .get(2)
                .map_or(Ok(1000), |n| n.parse())
                .context("PAGES")?;
            run(pages)
        }
        _ => bail!("usage: warta-guardbench run [PAGES] | serve"),
    }
}

/// A government page of realistic size (about 40 KB of HTML): menus, a long article, related links.
fn page_html(n: usize) -> String {
    let menu: String = (0..40)
        .map(|i| format!(r#"<li><a href="/rubrik/{i}">Rubrik {i}</a></li>"#))
        .collect();
    let paragraphs: String = (0..150)
        .map(|i| {
            format!(
                "<p>Paragraf {i} halaman {n}: Pemerintah Provinsi Kalimantan Timur melalui Dinas \
                 Komunikasi dan Informatika menyampaikan informasi pelayanan publik, jadwal \
                 kegiatan, dan capaian pembangunan daerah kepada masyarakat secara terbuka.</p>"
            )
        })
        .collect();
    let related: String = (0..30)
        .map(|i| {
            format!(
                r#"<li><a href="/berita/{}">Berita terkait {i}</a></li>"#,
                (n + i) % 1000
            )
        })
        .collect();
    format!(
        r#"<!doctype html><html lang="id"><head><title>Halaman {n} - Diskominfo</title>
<meta name="description" content="Portal resmi"><link rel="stylesheet" href="/assets/site.css">
<script src="/assets/site.js"></script></head><body>
<header><nav><ul>{menu}</ul></nav></header>
<main><article><h1>Berita nomor {n}</h1>{paragraphs}
<img src="/media/{n}.jpg" alt="Foto kegiatan {n}"></article>
<aside><ul>{related}</ul></aside></main>
<footer><a href="https://www.instagram.com/diskominfo">Instagram</a> Hak cipta Pemprov</footer>
</body></html>"#
    )
}

/// The loopback site: `/berita/{n}` for any n; prints its address on the first line.
fn serve() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        println!("{}", listener.local_addr()?);
        std::io::stdout().flush()?;
        let app = axum::Router::new()
            .route(
                "/berita/{n}",
                axum::routing::get(
                    |axum::extract::Path(n): axum::extract::Path<usize>| async move {
                        axum::response::Html(page_html(n))
                    },
                ),
            )
            .route(
                "/",
                axum::routing::get(|| async { axum::response::Html(page_html(0)) }),
            );
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}

/// Peak resident memory of this process so far, in bytes (`VmHWM`).
fn vm_hwm() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Current resident memory, in bytes (`VmRSS`).
fn vm_rss() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb * 1024)
}

/// Resets the peak to the current resident size (Linux: `clear_refs` 5).
fn reset_hwm() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / 1048576.0)
}

struct Row {
    what: &'static str,
    secs: f64,
    pages: usize,
    peak: u64,
}

fn run(pages: usize) -> anyhow::Result<()> {
    let me = std::env::current_exe()?;
    let mut child = std::process::Command::new(me)
        .arg("serve")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .context("starting the loopback site")?;
    let mut first = String::new();
    BufReader::new(child.stdout.take().context("site output")?).read_line(&mut first)?;
    let base = format!("http://{}", first.trim());
    let result = bench(&base, pages);
    let _ = child.kill();
    let _ = child.wait();
    result
}

fn bench(base: &str, pages: usize) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let urls: Vec<String> = (0..pages).map(|n| format!("{base}/berita/{n}")).collect();
    let mut rows = Vec::new();

    // Anchor: fetching the pages only, as the guard does (browser and crawler), same concurrency.
    reset_hwm();
    let started = Instant::now();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()?;
    let fetched: usize = rt.block_on(async {
        futures_util::stream::iter(urls.iter().map(|u| {
            let client = client.clone();
            async move {
                let one = |ua: &'static str| {
                    let c = client.clone();
                    async move {
                        c.get(u)
                            .header("user-agent", ua)
                            .send()
                            .await
                            .ok()?
                            .text()
                            .await
                            .ok()
                    }
                };
                let (a, b) = tokio::join!(one("Mozilla/5.0"), one("Googlebot/2.1"));
                usize::from(a.is_some() && b.is_some())
            }
        }))
        .buffer_unordered(CONCURRENCY)
        .fold(0, |n, one| async move { n + one })
        .await
    });
    rows.push(Row {
        what: "anchor: fetch only (browser + crawler)",
        secs: started.elapsed().as_secs_f64(),
        pages: fetched,
        peak: vm_hwm(),
    });
    drop(client);

    // The hub's guard: an office with the pages on its watch list.
    let dir = tempfile::tempdir()?;
    let clock = Arc::new(FixedClock::new(chrono::Utc::now()));
    let mut config = HubConfig::solo(dir.path());
    config.demo = true;
    let office = Arc::new(Office::open(config, clock.clone())?);
    let rss_open = vm_rss();
    let admin = office.user_caller("admin")?;
    office.guard_set_site(
        &admin,
        1,
        GuardSiteInput {
            public_url: format!("{base}/"),
            allowed_domains: vec!["instagram.com".into()],
            allow_private: true,
            enabled: true,
        },
    )?;
    for u in &urls {
        office.guard_add_page(
            &admin,
            GuardPageInput {
                target_id: 1,
                url: u.clone(),
                source: "section".into(),
                interval_minutes: Some(60),
            },
        )?;
    }
    let watched = office.guard_pages(&admin, Some(1))?.len();
    let rss_before = vm_rss();

    reset_hwm();
    let started = Instant::now();
    let checked = rt.block_on(office.guard_run_due());
    rows.push(Row {
        what: "guard round, no baselines yet (sitemap looked up too)",
        secs: started.elapsed().as_secs_f64(),
        pages: checked,
        peak: vm_hwm(),
    });

    // A person approves every page; the next round compares each with its baseline.
    for p in office.guard_pages(&admin, Some(1))? {
        office.guard_approve_baseline(&admin, p.id)?;
    }
    clock.advance(chrono::Duration::hours(2));
    reset_hwm();
    let started = Instant::now();
    let checked = rt.block_on(office.guard_run_due());
    let round = started.elapsed().as_secs_f64();
    rows.push(Row {
        what: "guard round, every page against its baseline",
        secs: round,
        pages: checked,
        peak: vm_hwm(),
    });
    let incidents = office.guard_incidents(&admin, Some("open"))?.len();

    let anchor = rows[0].secs;
    let mut out = String::new();
    out.push_str(&format!(
        "{watched} watched pages of about {} KB each on a loopback site (a child process), \
         checked {CONCURRENCY} at a time. The hub process held {} once the office was open \
         (demo office) and {} with the pages on its watch list, before the rounds.\n\n",
        page_html(1).len() / 1000,
        mib(rss_open),
        mib(rss_before)
    ));
    out.push_str("| what | pages | time | pages/s | peak RSS (VmHWM) | time ÷ anchor |\n");
    out.push_str("|---|---:|---:|---:|---:|---:|\n");
    for r in &rows {
        out.push_str(&format!(
            "| {} | {} | {:.2} s | {:.0} | {} | {:.2}× |\n",
            r.what,
            r.pages,
            r.secs,
            r.pages as f64 / r.secs.max(1e-9),
            mib(r.peak),
            r.secs / anchor.max(1e-9)
        ));
    }
    let peak = rows[1].peak.max(rows[2].peak);
    out.push_str(&format!(
        "\n- one full round with baselines: {round:.2} s (goal < 30 s); peak RSS of the hub \
         process in the rounds: {} (goal < 150 MB); open incidents after the rounds: {incidents} \
         (expected 0)\n",
        mib(peak)
    ));
    print!("{out}");
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    std::fs::write(format!("{target}/bench-guard.md"), &out)?;
    if checked != watched {
        bail!("only {checked} of {watched} pages were checked in the round");
    }
    Ok(())
}
