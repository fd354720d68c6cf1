//! `warta-loadbench`: the hub under load, side by side with its anchors, in one run.
//!
//! - **Creates** at 64 concurrent clients: the hub (authentication, permission checks,
//!   validation, audit chain), WordPress's REST API, and a bare axum + rusqlite server.
//! - **SOP-A mix** at 64 concurrent clients against the hub: create, attach a photo, submit,
//!   claim, edit, send to the official, approve; latency per request kind.
//! - **Queries at scale**: 100,000 items and 1,000,000 audit entries; "my tasks" for each role
//!   and full-text search, p95 over sequential requests.
//!
//! `make bench-load` runs it; the table goes to stdout and `target/bench-load.md`.
//! Everything is bounded: each phase by time and by a request budget.
#![forbid(unsafe_code)]

mod anchor;
mod load;
mod seed;
mod targets;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use base64::Engine as _;
use serde_json::{Value, json};

use crate::load::{Report, Samples, Timer};

const CLIENTS: usize = 64;
const API: &str = "/api/v1";

struct Settings {
    seconds: u64,
    items: u64,
    open_items: u64,
    audit: u64,
    warta: PathBuf,
    skip_wordpress: bool,
}

fn settings() -> anyhow::Result<Settings> {
    let num = |k: &str, d: u64| -> anyhow::Result<u64> {
        match std::env::var(k) {
            Ok(v) => v
                .parse()
                .with_context(|| format!("{k}={v} is not a number")),
            Err(_) => Ok(d),
        }
    };
    let warta = match std::env::var_os("WARTA_BIN") {
        Some(p) => PathBuf::from(p),
        None => std::env::current_exe()?
            .parent()
            .context("binary folder")?
            .join("warta"),
    };
    if !warta.exists() {
        bail!(
            "{} not found: build it with `cargo build --release -p warta-cli` or set WARTA_BIN",
            warta.display()
        );
    }
    Ok(Settings {
        seconds: num("LOAD_SECONDS", 10)?,
        items: num("LOAD_ITEMS", 100_000)?,
        open_items: num("LOAD_OPEN_ITEMS", 400)?,
        audit: num("LOAD_AUDIT", 1_000_000)?,
        warta,
        skip_wordpress: std::env::var_os("LOAD_SKIP_WORDPRESS").is_some(),
    })
}

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("anchor") => {
            let value = |flag: &str| {
                args.iter()
                    .position(|a| a == flag)
                    .and_then(|i| args.get(i + 1))
                    .with_context(|| format!("anchor needs {flag}"))
            };
            anchor::serve(value("--listen")?, Path::new(value("--db")?))
        }
        Some("office") => office_only(),
        Some("run") | None => {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(run(settings()?))
        }
        Some(other) => bail!("unknown command {other} (use `run` or `anchor`)"),
    }
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(CLIENTS * 2)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("HTTP client")
}

async fn ok_json(r: reqwest::RequestBuilder) -> anyhow::Result<Value> {
    let resp = r.send().await?;
    let status = resp.status();
    let body = resp.bytes().await?;
    if !status.is_success() {
        bail!("HTTP {status}: {}", String::from_utf8_lossy(&body));
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    Ok(serde_json::from_slice(&body)?)
}

async fn login(http: &reqwest::Client, base: &str, user: &str) -> anyhow::Result<String> {
    let v = ok_json(http.post(format!("{base}{API}/auth/login")).json(&json!({
        "username": user,
        "password": warta_hub::DEMO_PASSWORD,
    })))
    .await?;
    Ok(v["token"].as_str().context("token")?.to_string())
}

fn item_content(n: u64) -> Value {
    json!({
        "title": format!("Kunjungan kerja gubernur ke desa {n}"),
        "summary": "Ringkasan kegiatan kunjungan kerja.",
        "body": "Gubernur meninjau **jembatan** dan posyandu di desa.\n\nWarga menyambut baik.",
        "category": "Berita",
        "tags": ["kunjungan", "desa"],
        "unit": "Bidang IKP",
    })
}

/// A small camera-like JPEG, the photo every mix round attaches.
fn photo() -> Vec<u8> {
    let img = image::RgbImage::from_fn(320, 240, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("JPEG");
    out.into_inner()
}

fn data_dir(prefix: &str) -> anyhow::Result<tempfile::TempDir> {
    // Under target/ rather than /tmp: /tmp may be a small tmpfs, and SQLite wants a real disk.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-load");
    std::fs::create_dir_all(&root)?;
    Ok(tempfile::Builder::new().prefix(prefix).tempdir_in(root)?)
}

/// A hub over a fresh demo office (users for every role, a few items).
async fn demo_hub(s: &Settings, dir: &Path) -> anyhow::Result<targets::Server> {
    let data = dir.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let mut config = warta_hub::HubConfig::solo(&data);
        config.demo = true;
        warta_hub::Office::open(config, Arc::new(warta_hub::SystemClock)).map(drop)
    })
    .await??;
    targets::hub(&s.warta, dir).await
}

struct Row {
    what: String,
    rate: f64,
    p50: f64,
    p99: f64,
    note: String,
}

fn row(what: &str, r: &Report, note: impl Into<String>) -> Row {
    let all = r.all();
    Row {
        what: what.into(),
        rate: r.rate(),
        p50: all.quantile_ms(0.5),
        p99: all.quantile_ms(0.99),
        note: note.into(),
    }
}

fn check(r: &Report, what: &str) -> anyhow::Result<()> {
    if r.ok == 0 {
        bail!(
            "{what}: no request succeeded ({})",
            r.first_error.as_deref().unwrap_or("no error recorded")
        );
    }
    if r.failed > 0 {
        eprintln!(
            "warning: {what}: {} requests failed, first: {}",
            r.failed,
            r.first_error.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}

async fn run(s: Settings) -> anyhow::Result<()> {
    let secs = Duration::from_secs(s.seconds);
    let budget = 2_000_000;
    let http = client();
    let mut rows = Vec::new();
    let mut out = String::new();

    // ---- creates: hub
    eprintln!("creates: hub ({CLIENTS} clients, {} s)…", s.seconds);
    let hub_dir = data_dir("hub-")?;
    let hub = demo_hub(&s, hub_dir.path()).await?;
    let token = login(&http, &hub.base, "reporter").await?;
    let (base, h) = (Arc::new(hub.base.clone()), http.clone());
    let hub_creates = load::run(CLIENTS, secs, budget, move |w, mut t: Timer| {
        let (base, h, token) = (base.clone(), h.clone(), token.clone());
        async move {
            t.time(
                "create",
                ok_json(
                    h.post(format!("{base}{API}/items"))
                        .bearer_auth(&token)
                        .json(&item_content(w as u64)),
                ),
            )
            .await;
            t
        }
    })
    .await;
    check(&hub_creates, "hub creates")?;
    rows.push(row(
        "Warta hub: create item (auth, permissions, validation, audit chain)",
        &hub_creates,
        "",
    ));

    // ---- SOP-A mix: hub
    eprintln!("SOP-A mix: hub ({CLIENTS} clients, {} s)…", s.seconds);
    let tokens = Arc::new((
        login(&http, &hub.base, "reporter").await?,
        login(&http, &hub.base, "editor").await?,
        login(&http, &hub.base, "official").await?,
    ));
    let jpeg = bytes_of(photo());
    let (base, h) = (Arc::new(hub.base.clone()), http.clone());
    let mix = load::run(CLIENTS, secs, budget, move |w, t: Timer| {
        sop_a_round(w, t, base.clone(), h.clone(), tokens.clone(), jpeg.clone())
    })
    .await;
    check(&mix, "SOP-A mix")?;
    let hub_rss = hub.peak_rss_mib();
    drop(hub);
    drop(hub_dir);

    // ---- creates: bare axum + rusqlite
    eprintln!(
        "creates: bare axum + rusqlite ({CLIENTS} clients, {} s)…",
        s.seconds
    );
    let anchor_dir = data_dir("anchor-")?;
    let anchor = targets::anchor(&anchor_dir.path().join("anchor.db")).await?;
    let (base, h) = (Arc::new(anchor.base.clone()), http.clone());
    let bare = load::run(CLIENTS, secs, budget, move |w, mut t: Timer| {
        let (base, h) = (base.clone(), h.clone());
        async move {
            t.time(
                "create",
                ok_json(
                    h.post(format!("{base}/items"))
                        .json(&item_content(w as u64)),
                ),
            )
            .await;
            t
        }
    })
    .await;
    check(&bare, "anchor creates")?;
    drop(anchor);
    rows.push(row(
        "bare axum + rusqlite (WAL): insert a row, nothing else",
        &bare,
        "",
    ));

    // ---- creates: WordPress
    let wordpress = if s.skip_wordpress {
        None
    } else {
        eprintln!("creates: WordPress ({CLIENTS} clients, {} s)…", s.seconds);
        let wp = targets::WordPress::start()?;
        let auth = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD
                .encode(format!("{}:{}", wp.user, wp.app_password))
        );
        let url = Arc::new(format!("{}/wp/v2/posts", wp.api_root));
        let h = http.clone();
        let auth = Arc::new(auth);
        let r = load::run(CLIENTS, secs, budget, move |w, mut t: Timer| {
            let (url, h, auth) = (url.clone(), h.clone(), auth.clone());
            async move {
                let body = item_content(w as u64);
                t.time(
                    "create",
                    ok_json(
                        h.post(url.as_str())
                            .header("Authorization", auth.as_str())
                            .json(&json!({
                                "title": body["title"],
                                "content": body["body"],
                                "status": "publish",
                            })),
                    ),
                )
                .await;
                t
            }
        })
        .await;
        check(&r, "WordPress creates")?;
        let version = wp.version();
        drop(wp);
        rows.push(row(
            &format!("WordPress {version} REST API: create post (PHP, 4 workers, MariaDB)"),
            &r,
            "",
        ));
        Some(r)
    };

    // ---- queries at scale
    eprintln!(
        "queries: seeding {} items and {} audit entries…",
        s.items, s.audit
    );
    let big_dir = data_dir("scale-")?;
    let t0 = Instant::now();
    {
        let data = big_dir.path().to_path_buf();
        let (items, open, audit) = (s.items, s.open_items, s.audit);
        let seeded = tokio::task::spawn_blocking(move || {
            let mut config = warta_hub::HubConfig::solo(&data);
            config.demo = true;
            drop(warta_hub::Office::open(
                config,
                Arc::new(warta_hub::SystemClock),
            )?);
            seed::seed(&data.join("warta.db"), items, open, audit)
        })
        .await??;
        eprintln!(
            "seeded {} items ({} open), {} audit entries in {:.0} s",
            seeded.items,
            seeded.open_items,
            seeded.audit_entries,
            t0.elapsed().as_secs_f64()
        );
    }
    let big = targets::hub(&s.warta, big_dir.path()).await?;
    let mut queries: Vec<(String, Samples)> = Vec::new();
    for user in ["reporter", "editor", "official", "publisher"] {
        let token = login(&http, &big.base, user).await?;
        let url = format!("{}{API}/tasks", big.base);
        queries.push((
            format!("my tasks ({user})"),
            sequential(&http, &url, &token, 200).await?,
        ));
    }
    let token = login(&http, &big.base, "editor").await?;
    for q in [
        "jembatan",
        "banjir sekolah",
        "festival budaya pariwisata",
        "gubern*",
    ] {
        let url = format!("{}{API}/items?q={}", big.base, q.replace(' ', "%20"));
        queries.push((
            format!("search \"{q}\""),
            sequential(&http, &url, &token, 200).await?,
        ));
    }
    let big_rss = big.peak_rss_mib();
    drop(big);
    drop(big_dir);

    // ---- report
    writeln!(
        out,
        "### Load: {CLIENTS} concurrent clients, {} s per phase, one run\n",
        s.seconds
    )?;
    writeln!(
        out,
        "| Server and request | requests/s | p50 ms | p99 ms | × WordPress |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|")?;
    let wp_rate = wordpress.as_ref().map(Report::rate);
    for r in &rows {
        let ratio = wp_rate.map_or("—".into(), |w| format!("{:.0}×", r.rate / w));
        writeln!(
            out,
            "| {} | {:.0} | {:.1} | {:.1} | {}{} |",
            r.what, r.rate, r.p50, r.p99, ratio, r.note
        )?;
    }
    writeln!(
        out,
        "\n### SOP-A mix on the hub: {CLIENTS} clients, {} rounds' requests in {:.1} s ({:.0} requests/s)\n",
        mix.ok,
        mix.elapsed.as_secs_f64(),
        mix.rate()
    )?;
    writeln!(out, "| Request | count | p50 ms | p99 ms |")?;
    writeln!(out, "|---|---:|---:|---:|")?;
    for (kind, samples) in &mix.samples {
        writeln!(
            out,
            "| {kind} | {} | {:.1} | {:.1} |",
            samples.len(),
            samples.quantile_ms(0.5),
            samples.quantile_ms(0.99)
        )?;
    }
    let all = mix.all();
    writeln!(
        out,
        "| **all** | {} | {:.1} | **{:.1}** |",
        all.len(),
        all.quantile_ms(0.5),
        all.quantile_ms(0.99)
    )?;
    writeln!(
        out,
        "\n### Queries with {} items ({} open) and {} audit entries, one client, 200 requests each\n",
        s.items, s.open_items, s.audit
    )?;
    writeln!(out, "| Query | p50 ms | p95 ms | max ms |")?;
    writeln!(out, "|---|---:|---:|---:|")?;
    for (what, samples) in &queries {
        writeln!(
            out,
            "| {what} | {:.1} | **{:.1}** | {:.1} |",
            samples.quantile_ms(0.5),
            samples.quantile_ms(0.95),
            samples.quantile_ms(1.0)
        )?;
    }
    writeln!(
        out,
        "\nHub peak memory: {:.0} MiB under load, {:.0} MiB at scale.",
        hub_rss.unwrap_or(f64::NAN),
        big_rss.unwrap_or(f64::NAN)
    )?;
    // Goals of issue 5.
    let mut goals = Vec::new();
    if let Some(w) = wp_rate {
        let x = hub_creates.rate() / w;
        goals.push((
            format!("hub creates ÷ WordPress = {x:.0}× (goal ≥ 100×)"),
            x >= 100.0,
        ));
    }
    let p99 = all.quantile_ms(0.99);
    goals.push((
        format!("SOP-A mix p99 = {p99:.1} ms (goal < 50 ms)"),
        p99 < 50.0,
    ));
    let worst = queries
        .iter()
        .map(|(_, s)| s.quantile_ms(0.95))
        .fold(0.0, f64::max);
    goals.push((
        format!("slowest query p95 = {worst:.1} ms (goal < 20 ms)"),
        worst < 20.0,
    ));
    writeln!(out, "\nGoals:")?;
    for (g, met) in &goals {
        writeln!(out, "- {} {g}", if *met { "met:" } else { "NOT met:" })?;
    }
    print!("{out}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/bench-load.md");
    std::fs::write(&path, &out)?;
    eprintln!("written to {}", path.display());
    Ok(())
}

fn bytes_of(v: Vec<u8>) -> Arc<Vec<u8>> {
    Arc::new(v)
}

/// One pass of SOP-A by three people: the reporter files an item with a photo, the editor
/// claims, edits and sends it on, the official approves.
async fn sop_a_round(
    w: usize,
    mut t: Timer,
    base: Arc<String>,
    h: reqwest::Client,
    tokens: Arc<(String, String, String)>,
    jpeg: Arc<Vec<u8>>,
) -> Timer {
    let (reporter, editor, official) = (&tokens.0, &tokens.1, &tokens.2);
    let api = format!("{base}{API}");
    let Some(item) = t
        .time(
            "create",
            ok_json(
                h.post(format!("{api}/items"))
                    .bearer_auth(reporter)
                    .json(&item_content(w as u64)),
            ),
        )
        .await
    else {
        return t;
    };
    let Some(id) = item["id"].as_i64() else {
        return t;
    };
    let steps: [(&'static str, reqwest::RequestBuilder); 2] = [
        (
            "attach photo",
            h.post(format!(
                "{api}/items/{id}/attachments?filename=foto-{w}.jpg"
            ))
            .bearer_auth(reporter)
            .body(jpeg.as_ref().clone()),
        ),
        (
            "submit",
            h.post(format!("{api}/items/{id}/actions/submit"))
                .bearer_auth(reporter)
                .json(&json!({})),
        ),
    ];
    for (kind, req) in steps {
        if t.time(kind, ok_json(req)).await.is_none() {
            return t;
        }
    }
    let Some(claimed) = t
        .time(
            "claim",
            ok_json(
                h.post(format!("{api}/items/{id}/claim"))
                    .bearer_auth(editor),
            ),
        )
        .await
    else {
        return t;
    };
    let version = claimed["version"].as_i64().unwrap_or(1);
    let mut content = item_content(w as u64);
    content["body"] = json!("Gubernur meninjau **jembatan** yang baru selesai dibangun.");
    let steps: [(&'static str, reqwest::RequestBuilder); 3] = [
        (
            "edit",
            h.put(format!("{api}/items/{id}"))
                .bearer_auth(editor)
                .json(&json!({ "version": version, "content": content })),
        ),
        (
            "send to official",
            h.post(format!("{api}/items/{id}/actions/send_to_official"))
                .bearer_auth(editor)
                .json(&json!({})),
        ),
        (
            "approve",
            h.post(format!("{api}/items/{id}/actions/approve"))
                .bearer_auth(official)
                .json(&json!({})),
        ),
    ];
    for (kind, req) in steps {
        if t.time(kind, ok_json(req)).await.is_none() {
            return t;
        }
    }
    t
}

/// `n` requests one after another; every one must succeed.
async fn sequential(
    http: &reqwest::Client,
    url: &str,
    token: &str,
    n: usize,
) -> anyhow::Result<Samples> {
    let mut s = Samples::default();
    // One unmeasured request warms the page cache and the connection.
    ok_json(http.get(url).bearer_auth(token)).await?;
    for _ in 0..n {
        let t0 = Instant::now();
        ok_json(http.get(url).bearer_auth(token))
            .await
            .with_context(|| format!("GET {url}"))?;
        s.push(t0.elapsed());
    }
    Ok(s)
}

/// `warta-loadbench office`: the hub's own cost per request, in-process on one thread with no
/// HTTP, so that what a change to `Office` saves can be seen on a busy machine.
fn office_only() -> anyhow::Result<()> {
    let dir = data_dir("office-")?;
    let mut config = warta_hub::HubConfig::solo(dir.path());
    config.demo = true;
    let office = warta_hub::Office::open(config, Arc::new(warta_hub::SystemClock))?;
    // Experiments: LOAD_SQL="DROP TRIGGER x; DROP INDEX y" runs before measuring.
    if let Ok(sql) = std::env::var("LOAD_SQL") {
        rusqlite::Connection::open(dir.path().join("warta.db"))?.execute_batch(&sql)?;
    }
    let login = |u: &str| {
        office.login_from(
            warta_api::LoginRequest {
                username: u.into(),
                password: warta_hub::DEMO_PASSWORD.into(),
            },
            None,
        )
    };
    let token = login("reporter")?.token;
    let content: warta_api::ItemContent = serde_json::from_value(item_content(1))?;
    let n = 3_000;
    let t0 = Instant::now();
    for _ in 0..n {
        office.authenticate(&token)?;
    }
    let auth = t0.elapsed() / n;
    let caller = office.authenticate(&token)?;
    let t0 = Instant::now();
    for _ in 0..n {
        office.create_item(&caller, content.clone())?;
    }
    let create = t0.elapsed() / n;
    println!("per request, one thread: authenticate {auth:?}, create item {create:?}");
    Ok(())
}
