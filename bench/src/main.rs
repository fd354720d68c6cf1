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
//! `worker TOOL OUT_DIR LIST_FILE`; and `upload` (`make bench-upload`, see `upload.rs`) with its
//! helper `rss CMD ARGS...`.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{Context, Result, bail};

mod generate;
mod ssim;
mod upload;

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
        "upload" => upload::run(),
        "rss" => upload::rss(&args[1..]),
        other => {
            bail!("unknown subcommand {other:?}; use run, generate, process, worker, upload or rss")
        }
    }
}

/// The workspace's `target/` (not `CARGO_TARGET_DIR`: the photos and the report live with the
/// checkout, where `make bench-media` leaves them).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
}

/// Named after the generator's version: a change to what it draws must not reuse old photos.
fn photo_dir() -> PathBuf {
    target_dir()
        .join("bench-media")
        .join(format!("photos-v{}", generate::VERSION))
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

/// The ways of making the renditions that are compared. Each "per photo" tool starts its
/// program(s) once per photo, as a script or an import job calling a command would; the
/// "batched" ones hand a worker's whole share to one program run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    /// `warta-bench process --out DIR FILE`, once per photo.
    Ours,
    /// `warta-bench process --out DIR FILE...`, once per worker (as the import job runs it).
    OursBatched,
    /// `vipsthumbnail` for the web size, then again on that for the thumbnail, per photo.
    Vips,
    /// As `Vips`, with `VIPS_CONCURRENCY=1`: one thread per worker, as ours.
    VipsOneThread,
    /// The same two `vipsthumbnail` runs, each given all of the worker's files.
    VipsBatched,
    /// One `convert` per photo writing both sizes.
    Magick,
    /// As `Magick`, with `MAGICK_THREAD_LIMIT=1`: one thread per worker, as ours.
    MagickOneThread,
}

impl Tool {
    fn name(self) -> &'static str {
        match self {
            Tool::Ours => "ours",
            Tool::OursBatched => "ours-batched",
            Tool::Vips => "vips",
            Tool::VipsOneThread => "vips-1-thread",
            Tool::VipsBatched => "vips-batched",
            Tool::Magick => "magick",
            Tool::MagickOneThread => "magick-1-thread",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tool::Ours => "warta-photo (ours), per photo",
            Tool::OursBatched => "warta-photo (ours), batched",
            Tool::Vips => "vipsthumbnail, per photo",
            Tool::VipsOneThread => "vipsthumbnail, per photo, 1 thread",
            Tool::VipsBatched => "vipsthumbnail, batched",
            Tool::Magick => "ImageMagick convert, per photo",
            Tool::MagickOneThread => "ImageMagick convert, per photo, 1 thread",
        }
    }

    fn parse(s: &str) -> Result<Tool> {
        Ok(match s {
            "ours" => Tool::Ours,
            "ours-batched" => Tool::OursBatched,
            "vips" => Tool::Vips,
            "vips-1-thread" => Tool::VipsOneThread,
            "vips-batched" => Tool::VipsBatched,
            "magick" => Tool::Magick,
            "magick-1-thread" => Tool::MagickOneThread,
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

fn status(c: &mut Command) -> Result<()> {
    let s = c.stdin(Stdio::null()).stdout(Stdio::null()).status()?;
    if !s.success() {
        bail!("{c:?} failed: {s}");
    }
    Ok(())
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
    let ours = || -> Result<Command> {
        let mut c = Command::new(std::env::current_exe()?);
        c.arg("process").arg("--out").arg(&out);
        Ok(c)
    };
    let vips = |size: u32, suffix: &str, inputs: &[PathBuf]| {
        let pattern = format!("{}/%s.{suffix}.jpg[Q={QUALITY},strip]", out.display());
        let mut c = Command::new("vipsthumbnail");
        if tool == Tool::VipsOneThread {
            c.env("VIPS_CONCURRENCY", "1");
        }
        status(
            c.arg("--size")
                .arg(size.to_string())
                .arg("-o")
                .arg(pattern)
                .args(inputs),
        )
    };
    // vips makes the thumbnail from its web rendition, as ours does, and names it after its
    // input: "x.web.thumb.jpg" → "x.thumb.jpg".
    let web_of = |f: &PathBuf| out.join(format!("{}.web.jpg", stem(f)));
    let rename_thumbs = |files: &[PathBuf]| -> Result<()> {
        for f in files {
            let s = stem(f);
            std::fs::rename(
                out.join(format!("{s}.web.thumb.jpg")),
                out.join(format!("{s}.thumb.jpg")),
            )?;
        }
        Ok(())
    };
    match tool {
        Tool::Ours => {
            for f in &files {
                status(ours()?.arg(f))?;
            }
        }
        Tool::OursBatched => status(ours()?.args(&files))?,
        Tool::Vips | Tool::VipsOneThread => {
            for f in &files {
                vips(WEB_MAX, "web", std::slice::from_ref(f))?;
                vips(THUMB_MAX, "thumb", &[web_of(f)])?;
                rename_thumbs(std::slice::from_ref(f))?;
            }
        }
        Tool::VipsBatched => {
            vips(WEB_MAX, "web", &files)?;
            vips(
                THUMB_MAX,
                "thumb",
                &files.iter().map(web_of).collect::<Vec<_>>(),
            )?;
            rename_thumbs(&files)?;
        }
        Tool::Magick | Tool::MagickOneThread => {
            let program = magick_program().context("ImageMagick is not installed")?;
            for f in &files {
                let s = stem(f);
                let mut c = Command::new(program);
                if tool == Tool::MagickOneThread {
                    c.env("MAGICK_THREAD_LIMIT", "1");
                }
                status(
                    c.arg(f)
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
    let mut tools = vec![Tool::Ours, Tool::OursBatched];
    let mut notes = Vec::new();
    if runs("vipsthumbnail", "--version") {
        tools.extend([Tool::Vips, Tool::VipsOneThread, Tool::VipsBatched]);
    } else {
        notes.push(
            "vipsthumbnail is not installed (apt install libvips-tools): skipped".to_string(),
        );
    }
    match magick_program() {
        Some(p) => {
            notes.push(format!("ImageMagick ran as `{p}`."));
            tools.extend([Tool::Magick, Tool::MagickOneThread]);
        }
        None => notes
            .push("ImageMagick is not installed (apt install imagemagick): skipped".to_string()),
    }
    // WARTA_BENCH_TOOLS=ours,vips runs only those (for a quick look); the default is all.
    if let Ok(only) = std::env::var("WARTA_BENCH_TOOLS") {
        let only: Vec<&str> = only.split(',').map(str::trim).collect();
        tools.retain(|t| only.contains(&t.name()));
    }
    let load_before = load_average();
    let mut results = Vec::new();
    for workers in [1, 2] {
        for &tool in &tools {
            let out = work.join(format!("{}-{workers}", tool.name()));
            let m = measure(tool, workers, &photos, &out)?;
            eprintln!(
                "{:<32} {} worker(s): {:6.2} photos/s, peak {:5.1} MiB per worker",
                tool.label(),
                workers,
                m.per_second(),
                m.peak_mib
            );
            results.push(m);
        }
    }
    let mut quality = Vec::new();
    let (ours, vips) = (work.join("ours-1"), work.join("vips-1"));
    if tools.contains(&Tool::Ours) && tools.contains(&Tool::Vips) {
        let q = ssim::compare_dirs(&ours, &vips, &photos)?;
        quality.push(format!(
            "Web renditions, ours against vips' (luma, {} photos): mean SSIM {:.4} (lowest {:.4}), mean PSNR {:.2} dB.",
            q.count, q.mean_ssim, q.min_ssim, q.mean_psnr
        ));
        if tools.contains(&Tool::Magick) {
            let m = ssim::compare_dirs(&work.join("magick-1"), &vips, &photos)?;
            quality.push(format!(
                "For scale, ImageMagick's against vips': mean SSIM {:.4} (lowest {:.4}), mean PSNR {:.2} dB.",
                m.mean_ssim, m.min_ssim, m.mean_psnr
            ));
        }
    }
    notes.push(format!(
        "Load average (1 min) before the runs {load_before}, after {}: on a 2-core machine anything \
         above the bench's own workers means other work shared the cores and the figures are low.",
        load_average()
    ));
    let report = report(&results, &quality, &notes);
    println!("{report}");
    let path = target_dir().join("bench-media.md");
    std::fs::write(&path, &report)?;
    eprintln!("written to {}", path.display());
    Ok(())
}

/// The 1-minute load average, as /proc/loadavg gives it.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_string))
        .unwrap_or_else(|| "unknown".to_string())
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

fn report(results: &[Measured], quality: &[String], notes: &[String]) -> String {
    let find = |tool: Tool, workers: usize| {
        results
            .iter()
            .find(|m| m.tool == tool && m.workers == workers)
    };
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Photo renditions: {PHOTOS} photos, 12 MP JPEG → {WEB_MAX} px web + {THUMB_MAX} px thumbnail\n"
    );
    let _ = writeln!(
        s,
        "| tool | workers | photos/s | peak RSS per worker | web rendition (mean) | ours ÷ this |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
    for m in results {
        // Like for like: per-photo runs against ours per photo, batched against ours batched.
        let ours = match m.tool {
            Tool::VipsBatched | Tool::OursBatched => find(Tool::OursBatched, m.workers),
            _ => find(Tool::Ours, m.workers),
        };
        let ratio = match (m.tool, ours) {
            (Tool::Ours | Tool::OursBatched, _) | (_, None) => "—".to_string(),
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
    let ratio = |a: Tool, b: Tool, w: usize| match (find(a, w), find(b, w)) {
        (Some(a), Some(b)) => format!("{:.2}×", a.per_second() / b.per_second()),
        _ => "—".to_string(),
    };
    for (what, a, b, goal) in [
        (
            "ours ÷ vipsthumbnail (per photo)",
            Tool::Ours,
            Tool::Vips,
            "goal ≥ 3×",
        ),
        (
            "ours ÷ vipsthumbnail (per photo, 1 thread per worker like ours)",
            Tool::Ours,
            Tool::VipsOneThread,
            "goal ≥ 3×",
        ),
        (
            "ours ÷ vipsthumbnail (both batched)",
            Tool::OursBatched,
            Tool::VipsBatched,
            "no goal; for reference",
        ),
        (
            "ours ÷ ImageMagick (per photo)",
            Tool::Ours,
            Tool::Magick,
            "goal ≥ 8×",
        ),
        (
            "ours ÷ ImageMagick (per photo, 1 thread per worker like ours)",
            Tool::Ours,
            Tool::MagickOneThread,
            "goal ≥ 8×",
        ),
    ] {
        let _ = writeln!(
            s,
            "- {what}: 1 worker {}, 2 workers {} ({goal})",
            ratio(a, b, 1),
            ratio(a, b, 2)
        );
    }
    let ours_peak = results
        .iter()
        .filter(|m| matches!(m.tool, Tool::Ours | Tool::OursBatched))
        .map(|m| m.peak_mib)
        .fold(0.0, f64::max);
    let _ = writeln!(
        s,
        "- ours, peak RSS of any worker: {ours_peak:.1} MiB (goal ≤ 64 MiB)\n"
    );
    for q in quality {
        let _ = writeln!(s, "{q}\n");
    }
    let _ = writeln!(
        s,
        "Photos: deterministic 4000×3000 JPEGs (quality 92, 4:2:0, about 3.3 MB) with GPS EXIF and \
         orientations 1, 3, 6 and 8. Output: JPEG quality {QUALITY}, 4:2:0, no metadata; the \
         thumbnail is made from the web rendition by every tool but ImageMagick (one command for \
         both). Each worker is one process taking every n-th photo, one after another; vips and \
         ImageMagick keep their default threading but for the 1-thread rows \
         (VIPS_CONCURRENCY=1, MAGICK_THREAD_LIMIT=1). Peak RSS is \
         getrusage(RUSAGE_CHILDREN).ru_maxrss of the worker, i.e. the largest process it started."
    );
    for n in notes {
        let _ = writeln!(s, "\n- {n}");
    }
    s
}
