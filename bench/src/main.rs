#![forbid(unsafe_code)]
//! `make bench-media`: Warta's photo renditions against `vipsthumbnail` (libvips) and
//! ImageMagick `convert`, side by side in one run, at 1 and 2 workers.
//!
//! It generates 200 deterministic 12 MP JPEGs (gradients, shapes and noise from a seeded
//! generator, GPS EXIF, a mix of orientations) into `target/bench-media/photos` once, then for
//! each tool and worker count splits the photos between worker processes. Every worker is a
//! `warta-bench worker` process that runs the tool's own command line(s) one after the other
//! and reports the peak RSS of the largest of them (`getrusage(RUSAGE_CHILDREN)`), so memory is
//! measured the same way for every tool — ours runs as `warta-bench process`, a CLI like the
//! others. Throughput is photos divided by wall time. Finally the web renditions of ours are
//! compared with vips' (SSIM and PSNR on luma). The table is printed and written to
//! `target/bench-media.md`.
//!
//! Subcommands: `run` (default), `generate`, `process --out DIR FILE...`,
//! `worker TOOL OUT_DIR LIST_FILE`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

mod generate;
mod ssim;

/// Photos in the batch.
const PHOTOS: usize = 200;
const WEB_MAX: u32 = 1600;
const THUMB_MAX: u32 = 320;
const QUALITY: u8 = 82;

fn main() -> Result<()> {
    let args: Vec<OsString> = std::env::args_os().skip(1).collect();
    let sub = args.first().and_then(|a| a.to_str()).unwrap_or("run");
    match sub {
        "run" => run(),
        "generate" => generate::ensure(&photo_dir(), PHOTOS).map(drop),
        "process" => process(&args[1..]),
        "worker" => worker(&args[1..]),
        other => bail!("unknown subcommand {other:?}; use run, generate, process or worker"),
    }
}

/// The workspace's `target/` (not `CARGO_TARGET_DIR`: the photos and the report live with the
/// checkout, where `make bench-media` leaves them).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
}

fn photo_dir() -> PathBuf {
    target_dir().join("bench-media").join("photos")
}

/// `warta-bench process --out DIR FILE...`: our renditions, one file after the other.
fn process(args: &[OsString]) -> Result<()> {
    let (Some(flag), Some(out)) = (args.first(), args.get(1)) else {
        bail!("usage: warta-bench process --out DIR FILE...");
    };
    if flag != "--out" {
        bail!("usage: warta-bench process --out DIR FILE...");
    }
    let out = PathBuf::from(out);
    let cfg = warta_photo::PhotoConfig {
        web_max: WEB_MAX,
        thumb_max: THUMB_MAX,
        format: warta_photo::OutputFormat::Jpeg { quality: QUALITY },
        ..Default::default()
    };
    for file in &args[2..] {
        let file = Path::new(file);
        let r =
            warta_photo::process_file(file, &cfg).with_context(|| format!("{}", file.display()))?;
        let stem = stem(file);
        std::fs::write(out.join(format!("{stem}.web.jpg")), &r.web.bytes)?;
        std::fs::write(out.join(format!("{stem}.thumb.jpg")), &r.thumb.bytes)?;
    }
    Ok(())
}

fn stem(p: &Path) -> String {
    p.file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The tools compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Ours,
    Vips,
    Magick,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "ours",
            Tool::Vips => "vips",
            Tool::Magick => "magick",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tool::Ours => "warta-photo (ours)",
            Tool::Vips => "vipsthumbnail",
            Tool::Magick => "ImageMagick convert",
        }
    }

    fn parse(s: &str) -> Result<Tool> {
        Ok(match s {
            "ours" => Tool::Ours,
            "vips" => Tool::Vips,
            "magick" => Tool::Magick,
            _ => bail!("unknown tool {s}"),
        })
    }
}

/// ImageMagick's real `convert` (Debian installs it as `convert-im6.q16`; a `convert` earlier
/// on PATH may be a wrapper script, which would add its own start-up to every photo).
fn magick_program() -> Option<&'static str> {
    ["convert-im6.q16", "magick", "convert"]
        .into_iter()
        .find(|p| runs(p, "-version"))
}

fn runs(program: &str, arg: &str) -> bool {
    Command::new(program)
        .arg(arg)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// `warta-bench worker TOOL OUT LIST`: runs TOOL on the files listed (one per line) into OUT,
/// then prints the peak RSS in KiB of the largest process it ran.
fn worker(args: &[OsString]) -> Result<()> {
    let [tool, out, list] = args else {
        bail!("usage: warta-bench worker TOOL OUT_DIR LIST_FILE");
    };
    let tool = Tool::parse(&tool.to_string_lossy())?;
    let out = PathBuf::from(out);
    let files: Vec<PathBuf> = std::fs::read_to_string(list)?
        .lines()
        .map(PathBuf::from)
        .collect();
    let status = |c: &mut Command| -> Result<()> {
        let s = c.stdin(Stdio::null()).stdout(Stdio::null()).status()?;
        if !s.success() {
            bail!("{c:?} failed: {s}");
        }
        Ok(())
    };
    match tool {
        Tool::Ours => {
            status(
                Command::new(std::env::current_exe()?)
                    .arg("process")
                    .arg("--out")
                    .arg(&out)
                    .args(&files),
            )?;
        }
        Tool::Vips => {
            let web = format!("{}/%s.web.jpg[Q={QUALITY},strip]", out.display());
            status(
                Command::new("vipsthumbnail")
                    .arg("--size")
                    .arg(WEB_MAX.to_string())
                    .arg("-o")
                    .arg(web)
                    .args(&files),
            )?;
            // The thumbnail from the web rendition, as ours does.
            let webs: Vec<PathBuf> = files
                .iter()
                .map(|f| out.join(format!("{}.web.jpg", stem(f))))
                .collect();
            let thumb = format!("{}/%s.thumb.jpg[Q={QUALITY},strip]", out.display());
            status(
                Command::new("vipsthumbnail")
                    .arg("--size")
                    .arg(THUMB_MAX.to_string())
                    .arg("-o")
                    .arg(thumb)
                    .args(&webs),
            )?;
            // vips names the thumbnail after its input: "x.web.thumb.jpg" → "x.thumb.jpg".
            for f in &files {
                let s = stem(f);
                std::fs::rename(
                    out.join(format!("{s}.web.thumb.jpg")),
                    out.join(format!("{s}.thumb.jpg")),
                )?;
            }
        }
        Tool::Magick => {
            let program = magick_program().context("ImageMagick is not installed")?;
            for f in &files {
                let s = stem(f);
                status(
                    Command::new(program)
                        .arg(f)
                        .args(["-auto-orient", "-strip", "-resize"])
                        .arg(format!("{WEB_MAX}x{WEB_MAX}>"))
                        .args([
                            "-quality",
                            &QUALITY.to_string(),
                            "-sampling-factor",
                            "4:2:0",
                            "-write",
                        ])
                        .arg(out.join(format!("{s}.web.jpg")))
                        .arg("-resize")
                        .arg(format!("{THUMB_MAX}x{THUMB_MAX}>"))
                        .arg(out.join(format!("{s}.thumb.jpg"))),
                )?;
            }
        }
    }
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_CHILDREN)?;
    println!("{}", usage.max_rss());
    Ok(())
}

/// One measured run.
struct Measured {
    tool: Tool,
    workers: usize,
    seconds: f64,
    /// Largest peak RSS of any worker, MiB.
    peak_mib: f64,
    /// Mean size of a web rendition, KiB.
    web_kib: f64,
}

impl Measured {
    fn per_second(&self) -> f64 {
        PHOTOS as f64 / self.seconds
    }
}

fn run() -> Result<()> {
    let photos = generate::ensure(&photo_dir(), PHOTOS)?;
    let work = target_dir().join("bench-media").join("out");
    let mut tools = vec![Tool::Ours];
    let mut notes = Vec::new();
    if runs("vipsthumbnail", "--version") {
        tools.push(Tool::Vips);
    } else {
        notes.push(
            "vipsthumbnail is not installed (apt install libvips-tools): skipped".to_string(),
        );
    }
    match magick_program() {
        Some(p) => notes.push(format!("ImageMagick runs as `{p}`")),
        None => notes
            .push("ImageMagick is not installed (apt install imagemagick): skipped".to_string()),
    }
    if magick_program().is_some() {
        tools.push(Tool::Magick);
    }
    let mut results = Vec::new();
    for workers in [1, 2] {
        for &tool in &tools {
            let out = work.join(format!("{}-{workers}", tool.name()));
            let m = measure(tool, workers, &photos, &out)?;
            eprintln!(
                "{:<20} {} worker(s): {:6.2} photos/s, peak {:5.1} MiB per worker",
                tool.label(),
                workers,
                m.per_second(),
                m.peak_mib
            );
            results.push(m);
        }
    }
    let quality = if tools.contains(&Tool::Vips) {
        let (ours, vips) = (work.join("ours-1"), work.join("vips-1"));
        let q = ssim::compare_dirs(&ours, &vips, &photos)?;
        let mut line = format!(
            "Web renditions of ours against vips' (luma, {} photos): mean SSIM {:.4} (lowest {:.4}), mean PSNR {:.2} dB.",
            q.count, q.mean_ssim, q.min_ssim, q.mean_psnr
        );
        if tools.contains(&Tool::Magick) {
            let m = ssim::compare_dirs(&work.join("magick-1"), &vips, &photos)?;
            let _ = write!(
                line,
                " For scale, ImageMagick's against vips': SSIM {:.4}, PSNR {:.2} dB.",
                m.mean_ssim, m.mean_psnr
            );
        }
        Some(line)
    } else {
        None
    };
    let report = report(&results, quality.as_deref(), &notes);
    println!("{report}");
    let path = target_dir().join("bench-media.md");
    std::fs::write(&path, &report)?;
    eprintln!("written to {}", path.display());
    Ok(())
}

fn measure(tool: Tool, workers: usize, photos: &[PathBuf], out: &Path) -> Result<Measured> {
    if out.exists() {
        std::fs::remove_dir_all(out)?;
    }
    std::fs::create_dir_all(out)?;
    let exe = std::env::current_exe()?;
    let started = Instant::now();
    let mut children = Vec::new();
    for w in 0..workers {
        let share: Vec<String> = photos
            .iter()
            .skip(w)
            .step_by(workers)
            .map(|p| p.display().to_string())
            .collect();
        let list = out.join(format!("worker-{w}.list"));
        std::fs::write(&list, share.join("\n"))?;
        let child = Command::new(&exe)
            .arg("worker")
            .arg(tool.name())
            .arg(out)
            .arg(&list)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()?;
        children.push(child);
    }
    let mut peak_kib = 0u64;
    for c in children {
        let o = c.wait_with_output()?;
        if !o.status.success() {
            bail!("{} worker failed: {}", tool.label(), o.status);
        }
        let kib: u64 = String::from_utf8_lossy(&o.stdout)
            .trim()
            .parse()
            .context("worker's peak RSS")?;
        peak_kib = peak_kib.max(kib);
    }
    let seconds = started.elapsed().as_secs_f64();
    let mut total = 0u64;
    for p in photos {
        let web = out.join(format!("{}.web.jpg", stem(p)));
        let thumb = out.join(format!("{}.thumb.jpg", stem(p)));
        total += std::fs::metadata(&web)
            .with_context(|| format!("{} made no {}", tool.label(), web.display()))?
            .len();
        std::fs::metadata(&thumb)
            .with_context(|| format!("{} made no {}", tool.label(), thumb.display()))?;
    }
    Ok(Measured {
        tool,
        workers,
        seconds,
        peak_mib: peak_kib as f64 / 1024.0,
        web_kib: total as f64 / photos.len() as f64 / 1024.0,
    })
}

fn report(results: &[Measured], quality: Option<&str>, notes: &[String]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Photo renditions: {PHOTOS} photos, 12 MP JPEG → {WEB_MAX} px web + {THUMB_MAX} px thumbnail\n"
    );
    let _ = writeln!(
        s,
        "| tool | workers | photos/s | peak RSS per worker | web rendition (mean) | ours ÷ this (throughput) |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
    for m in results {
        let ours = results
            .iter()
            .find(|o| o.tool == Tool::Ours && o.workers == m.workers);
        let ratio = match (m.tool, ours) {
            (Tool::Ours, _) | (_, None) => "—".to_string(),
            (_, Some(o)) => format!("{:.2}×", o.per_second() / m.per_second()),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {:.2} | {:.1} MiB | {:.0} KiB | {} |",
            m.tool.label(),
            m.workers,
            m.per_second(),
            m.peak_mib,
            m.web_kib,
            ratio
        );
    }
    let _ = writeln!(s);
    if let Some(q) = quality {
        let _ = writeln!(s, "{q}\n");
    }
    let _ = writeln!(
        s,
        "Each worker is one process handling its share of the photos one after another; vips and \
         ImageMagick run with their default threading. Goal: ours ≥ 3× vipsthumbnail and ≥ 8× \
         ImageMagick at the same number of workers, ≤ 64 MiB peak per worker."
    );
    for n in notes {
        let _ = writeln!(s, "\n- {n}");
    }
    s
}
