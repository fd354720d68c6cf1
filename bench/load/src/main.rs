//! `warta-loadbench`: the hub under load, side by side with its anchors, in one run.
//!
//! - **Creates** at 64 concurrent clients: the hub (authentication, permission checks,
//!   validation, audit chain), WordPress's REST API, and a bare axum + rusqlite server.
//! - **SOP-A mix** at 64 concurrent clients against the hub: create, attach a photo, submit,
//!   claim, edit, send to the official, approve; latency per request kind. Twice: the photo as
//!   a reporter's laptop sends it (the outbox: renditions made on the laptop, blobs uploaded,
//!   then `/attachments/prepared`), and as the item screen's attach button sends it (the
//!   original whole, renditions made by the hub).
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
        Some("creates") => {
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(creates_only(settings()?))
        }
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

/// A camera-like JPEG (640×480), the photo every mix round attaches (made different in bytes for
/// every round by [`variant`]).
fn photo() -> Vec<u8> {
    // Small next to a camera's 12 MP, but large enough that the thumbnail (320 px) is not the
    // web rendition: each of the three blobs is sent.
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, ((x + y) % 256) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Jpeg)
        .expect("JPEG");
    // As a camera's: with an EXIF segment (an empty little-endian TIFF directory), which the
    // renditions drop, so that the original is never byte for byte the web rendition.
    let jpeg = out.into_inner();
    let mut exif = b"Exif\0\0II*\0\x08\0\0\0\0\0\0\0\0\0".to_vec();
    exif.extend_from_slice(b"Warta load bench camera\0");
    let len = u16::try_from(exif.len() + 2).expect("short segment");
    let mut with = jpeg[..2].to_vec();
    with.extend_from_slice(&[0xFF, 0xE1]);
    with.extend_from_slice(&len.to_be_bytes());
    with.extend_from_slice(&exif);
    with.extend_from_slice(&jpeg[2..]);
    with
}

/// A copy of a JPEG whose bytes differ for every `n`, as every photo a reporter takes does
/// (so that no upload finds its blob already on the hub), and which is still the same picture
/// to any eye and any check: the three last entries of its first quantisation table (the
/// highest frequencies) are set from `n`. No segment is added, so renditions carry no metadata.
fn variant(jpeg: &[u8], n: u64) -> Vec<u8> {
    let mut out = jpeg.to_vec();
    let mut i = 2;
    while i + 4 < out.len() && out[i] == 0xFF {
        let len = usize::from(u16::from_be_bytes([out[i + 2], out[i + 3]]));
        if out[i + 1] == 0xDB && out[i + 4] >> 4 == 0 {
            // Precision/table byte, then 64 one-byte values in zig-zag order.
            let values = i + 5;
            for (k, shift) in [(63, 0u32), (62, 1), (61, 2)] {
                out[values + k] = 1 + ((n / 255u64.pow(shift)) % 255) as u8;
            }
            return out;
        }
        i += 2 + len;
    }
    panic!("the JPEG has no 8-bit quantisation table");
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The photo and its renditions as a laptop makes them (`warta_photo::process`, the office's
/// default settings), made once; every round sends a variant of each.
struct Photo {
    original: Vec<u8>,
    web: Vec<u8>,
    thumb: Vec<u8>,
    phash: String,
    /// Rounds so far, across workers: each round's photo differs.
    next: std::sync::atomic::AtomicU64,
}

impl Photo {
    fn new() -> anyhow::Result<Photo> {
        let original = photo();
        let r = warta_photo::process(&original, &warta_photo::PhotoConfig::default())?;
        anyhow::ensure!(
            r.web.bytes != original && r.thumb.bytes != original && r.web.bytes != r.thumb.bytes,
            "the original and its renditions must all differ, or an upload would be skipped"
        );
        eprintln!(
            "photo: original {} bytes, web rendition {} bytes, thumbnail {} bytes",
            original.len(),
            r.web.bytes.len(),
            r.thumb.bytes.len()
        );
        Ok(Photo {
            original,
            web: r.web.bytes,
            thumb: r.thumb.bytes,
            phash: format!("{:016x}", r.phash),
            next: Default::default(),
        })
    }

    fn round(&self) -> u64 {
        self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }
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

    // ---- SOP-A mix: hub, photos as reporters' laptops send them (the outbox)
    eprintln!(
        "SOP-A mix, photos from the outbox: hub ({CLIENTS} clients, {} s)…",
        s.seconds
    );
    let tokens = Arc::new((
        login(&http, &hub.base, "reporter").await?,
        login(&http, &hub.base, "editor").await?,
        login(&http, &hub.base, "official").await?,
    ));
    let photo = Arc::new(Photo::new()?);
    let (base, h, t2, p2) = (
        Arc::new(hub.base.clone()),
        http.clone(),
        tokens.clone(),
        photo.clone(),
    );
    let mix = load::run(CLIENTS, secs, budget, move |w, t: Timer| {
        sop_a_round(
            w,
            t,
            base.clone(),
            h.clone(),
            t2.clone(),
            p2.clone(),
            PhotoPath::Outbox,
        )
    })
    .await;
    check(&mix, "SOP-A mix (outbox)")?;

    // ---- SOP-A mix: hub, photos through the item screen's attach button
    eprintln!(
        "SOP-A mix, originals sent whole: hub ({CLIENTS} clients, {} s)…",
        s.seconds
    );
    let (base, h) = (Arc::new(hub.base.clone()), http.clone());
    let button = load::run(CLIENTS, secs, budget, move |w, t: Timer| {
        sop_a_round(
            w,
            t,
            base.clone(),
            h.clone(),
            tokens.clone(),
            photo.clone(),
            PhotoPath::AttachButton,
        )
    })
    .await;
    check(&button, "SOP-A mix (attach button)")?;
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
    for (title, r) in [
        (
            "photos as a reporter's laptop sends them (outbox: renditions made on the laptop)",
            &mix,
        ),
        (
            "originals sent whole, as a browser or a script sends them (renditions made by the hub)",
            &button,
        ),
    ] {
        mix_table(&mut out, title, r)?;
    }
    let all = mix.all();
    let button_p99 = button.all().quantile_ms(0.99);
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
    let changes_p99 = changes_only(&mix).quantile_ms(0.99);
    goals.push((
        format!(
            "SOP-A mix p99 = {p99:.1} ms (goal < 50 ms), photos from the outbox \
             ({changes_p99:.1} ms without its HEAD and GET reads)"
        ),
        p99 < 50.0 && changes_p99 < 50.0,
    ));
    goals.push((
        format!("SOP-A mix p99 = {button_p99:.1} ms (same bar), originals sent whole (a browser or a script)"),
        button_p99 < 50.0,
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

fn mix_table(out: &mut String, title: &str, r: &Report) -> anyhow::Result<()> {
    writeln!(
        out,
        "\n### SOP-A mix on the hub, {title}: {CLIENTS} clients, {} requests in {:.1} s ({:.0} requests/s)\n",
        r.ok,
        r.elapsed.as_secs_f64(),
        r.rate()
    )?;
    writeln!(out, "| Request | count | p50 ms | p99 ms |")?;
    writeln!(out, "|---|---:|---:|---:|")?;
    for (kind, samples) in &r.samples {
        writeln!(
            out,
            "| {kind} | {} | {:.1} | {:.1} |",
            samples.len(),
            samples.quantile_ms(0.5),
            samples.quantile_ms(0.99)
        )?;
    }
    let all = r.all();
    writeln!(
        out,
        "| **all** | {} | {:.1} | **{:.1}** |",
        all.len(),
        all.quantile_ms(0.5),
        all.quantile_ms(0.99)
    )?;
    let changes = changes_only(r);
    if changes.len() < all.len() {
        writeln!(
            out,
            "| all but the outbox's reads (HEAD, GET) | {} | {:.1} | {:.1} |",
            changes.len(),
            changes.quantile_ms(0.5),
            changes.quantile_ms(0.99)
        )?;
    }
    Ok(())
}

/// Every request of a mix but the outbox's cheap reads, which lower a percentile taken over
/// all requests.
fn changes_only(r: &Report) -> Samples {
    let mut s = Samples::default();
    for (kind, samples) in &r.samples {
        if !kind.contains("(HEAD)") && !kind.starts_with("outbox: read") {
            s.extend(samples);
        }
    }
    s
}

/// How a round's photo reaches the hub.
#[derive(Clone, Copy)]
enum PhotoPath {
    /// As the desktop app's outbox sends a reporter's new item (`warta-outbox` through
    /// `warta-import`): the create carries an `Idempotency-Key`; the import reads the office's
    /// media settings and the item, asks for each blob (`HEAD`) and uploads it (`PUT`) — web
    /// rendition, thumbnail, and the original (the default policy sends originals on an
    /// unmetered connection, as an office network is) — then attaches the prepared photo.
    Outbox,
    /// As the item screen's attach button sends a file: the original whole, the hub detecting
    /// it and making the renditions.
    AttachButton,
}

/// `HEAD` that succeeds on 200 (have it) and 404 (do not), as the import client reads it.
async fn head(r: reqwest::RequestBuilder) -> anyhow::Result<bool> {
    let resp = r.send().await?;
    match resp.status().as_u16() {
        200 => Ok(true),
        404 => Ok(false),
        s => bail!("HTTP {s}"),
    }
}

/// The requests the outbox's import job makes for one photo of a new item (round `n`).
#[allow(clippy::too_many_arguments)]
async fn attach_from_outbox(
    t: &mut Timer,
    h: &reqwest::Client,
    api: &str,
    reporter: &str,
    id: i64,
    photo: &Photo,
    n: u64,
    w: usize,
) -> Option<()> {
    t.time(
        "outbox: read media settings",
        ok_json(h.get(format!("{api}/settings/media")).bearer_auth(reporter)),
    )
    .await?;
    t.time(
        "outbox: read item",
        ok_json(h.get(format!("{api}/items/{id}")).bearer_auth(reporter)),
    )
    .await?;
    let original = variant(&photo.original, n);
    let web = variant(&photo.web, n);
    let thumb = variant(&photo.thumb, n);
    let (original_sha, web_sha, thumb_sha) =
        (sha256_hex(&original), sha256_hex(&web), sha256_hex(&thumb));
    let original_size = original.len() as u64;
    for (sha, bytes) in [
        (&web_sha, web),
        (&thumb_sha, thumb),
        (&original_sha, original),
    ] {
        let have = t
            .time(
                "outbox: ask for a blob (HEAD)",
                head(h.head(format!("{api}/blobs/{sha}")).bearer_auth(reporter)),
            )
            .await?;
        if !have {
            t.time(
                "outbox: upload a blob (PUT)",
                ok_json(
                    h.put(format!("{api}/blobs/{sha}"))
                        .bearer_auth(reporter)
                        .header("Content-Type", "application/octet-stream")
                        .body(bytes),
                ),
            )
            .await?;
        }
    }
    t.time(
        "attach photo (prepared)",
        ok_json(
            h.post(format!("{api}/items/{id}/attachments/prepared"))
                .bearer_auth(reporter)
                .json(&json!({
                    "filename": format!("foto-{w}-{n}.jpg"),
                    "original_sha256": original_sha,
                    "original_size": original_size,
                    "original_sent": true,
                    "web_sha256": web_sha,
                    "thumb_sha256": thumb_sha,
                    "phash": photo.phash,
                })),
        ),
    )
    .await?;
    Some(())
}

/// One pass of SOP-A by three people: the reporter files an item with a photo, the editor
/// claims, edits and sends it on, the official approves.
async fn sop_a_round(
    w: usize,
    mut t: Timer,
    base: Arc<String>,
    h: reqwest::Client,
    tokens: Arc<(String, String, String)>,
    photo: Arc<Photo>,
    path: PhotoPath,
) -> Timer {
    let (reporter, editor, official) = (&tokens.0, &tokens.1, &tokens.2);
    let api = format!("{base}{API}");
    let n = photo.round();
    let mut create = h
        .post(format!("{api}/items"))
        .bearer_auth(reporter)
        .json(&item_content(w as u64));
    if let PhotoPath::Outbox = path {
        create = create.header("Idempotency-Key", format!("loadbench-{n}"));
    }
    let Some(item) = t.time("create", ok_json(create)).await else {
        return t;
    };
    let Some(id) = item["id"].as_i64() else {
        return t;
    };
    let attached = match path {
        PhotoPath::Outbox => attach_from_outbox(&mut t, &h, &api, reporter, id, &photo, n, w).await,
        PhotoPath::AttachButton => t
            .time(
                "attach photo (original, hub makes renditions)",
                ok_json(
                    h.post(format!(
                        "{api}/items/{id}/attachments?filename=foto-{w}-{n}.jpg"
                    ))
                    .bearer_auth(reporter)
                    .body(variant(&photo.original, n)),
                ),
            )
            .await
            .map(drop),
    };
    if attached.is_none() {
        return t;
    }
    if t.time(
        "submit",
        ok_json(
            h.post(format!("{api}/items/{id}/actions/submit"))
                .bearer_auth(reporter)
                .json(&json!({})),
        ),
    )
    .await
    .is_none()
    {
        return t;
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

/// `warta-loadbench creates`: only the create phases, the hub's and the bare anchor's, one after
/// the other (a quick A/B of a change to the write path; `run` is the benchmark). With
/// `LOAD_PAUSE=1` it prints the hub's process id and waits a few seconds before loading it, for a
/// profiler to attach.
async fn creates_only(s: Settings) -> anyhow::Result<()> {
    let secs = Duration::from_secs(s.seconds);
    let http = client();
    let hub_dir = data_dir("hub-")?;
    let hub = demo_hub(&s, hub_dir.path()).await?;
    let token = login(&http, &hub.base, "reporter").await?;
    if std::env::var_os("LOAD_PAUSE").is_some() {
        eprintln!("hub pid {}", hub.pid());
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
    let (base, h) = (Arc::new(hub.base.clone()), http.clone());
    let hub_creates = load::run(CLIENTS, secs, 2_000_000, move |w, mut t: Timer| {
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
    drop(hub);
    let anchor_dir = data_dir("anchor-")?;
    let anchor = targets::anchor(&anchor_dir.path().join("anchor.db")).await?;
    let (base, h) = (Arc::new(anchor.base.clone()), http.clone());
    let bare = load::run(CLIENTS, secs, 2_000_000, move |w, mut t: Timer| {
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
    let (a, b) = (row("hub", &hub_creates, ""), row("bare", &bare, ""));
    println!(
        "creates/s at {CLIENTS} clients: hub {:.0} (p50 {:.1} ms, p99 {:.1} ms), bare {:.0}; hub = {:.1} % of bare",
        a.rate,
        a.p50,
        a.p99,
        b.rate,
        100.0 * a.rate / b.rate
    );
    Ok(())
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
    let n: u32 = std::env::var("LOAD_OFFICE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3_000);
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
    // Several threads at once: their writes share group commits, as under load.
    let threads = 8;
    let t0 = Instant::now();
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                for _ in 0..n / threads {
                    office
                        .create_item(&caller, content.clone())
                        .expect("create");
                }
            });
        }
    });
    let grouped = t0.elapsed() / (n / threads * threads);
    println!("per request, {threads} threads (group commits): create item {grouped:?}");
    Ok(())
}
