//! `warta media process`: the same renditions the hub makes, written to a folder.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Arguments of `warta media process`.
#[derive(clap::Args)]
pub struct ProcessArgs {
    /// Photos, documents or videos.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Folder the renditions are written to (created if missing).
    #[arg(long)]
    pub out: PathBuf,
    /// Longest side of the web rendition.
    #[arg(long, default_value_t = 1600)]
    pub web_max: u32,
    /// Longest side of the thumbnail.
    #[arg(long, default_value_t = 320)]
    pub thumb_max: u32,
    /// Write WebP instead of JPEG.
    #[arg(long)]
    pub webp: bool,
    /// Refuse photos declaring more pixels than this.
    #[arg(long, default_value_t = 100_000_000)]
    pub max_pixels: u64,
    /// Also transcode videos to a web-size MP4 (needs ffmpeg).
    #[arg(long)]
    pub transcode: bool,
}

fn kb(n: usize) -> String {
    if n >= 1024 * 1024 {
        format!("{:.1} MB", n as f64 / (1024.0 * 1024.0))
    } else {
        format!("{} KB", n.div_ceil(1024))
    }
}

fn ext(mime: &str) -> &'static str {
    if mime == "image/webp" { "webp" } else { "jpg" }
}

fn one(file: &Path, args: &ProcessArgs) -> anyhow::Result<String> {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let detected = warta_media::detect_file(file, &name)?;
    match detected.kind {
        warta_media::Kind::Photo => {
            let cfg = warta_photo::PhotoConfig {
                web_max: args.web_max,
                thumb_max: args.thumb_max,
                format: if args.webp {
                    warta_photo::OutputFormat::WebP
                } else {
                    warta_photo::OutputFormat::default()
                },
                max_pixels: args.max_pixels,
            };
            let r = warta_photo::process_file(file, &cfg)?;
            let web = args.out.join(format!("{name}.web.{}", ext(r.web.mime)));
            let thumb = args.out.join(format!("{name}.thumb.{}", ext(r.thumb.mime)));
            std::fs::write(&web, &r.web.bytes)?;
            std::fs::write(&thumb, &r.thumb.bytes)?;
            Ok(format!(
                "web {}x{} ({}), thumbnail {}x{} ({}), metadata removed",
                r.web.width,
                r.web.height,
                kb(r.web.bytes.len()),
                r.thumb.width,
                r.thumb.height,
                kb(r.thumb.bytes.len())
            ))
        }
        warta_media::Kind::Document => {
            let info = warta_media::document_info(file, &detected)?;
            let pages = info
                .pages
                .map(|p| format!("{p} pages"))
                .unwrap_or_else(|| "pages unknown".into());
            if detected.mime != "application/pdf" {
                return Ok(format!(
                    "{} document, {pages}; no preview for this type",
                    detected.mime
                ));
            }
            let png = args.out.join(format!("{name}.thumb.png"));
            Ok(match warta_media::pdf_preview(file, &png, args.thumb_max) {
                Ok(()) => format!("PDF, {pages}, first-page preview written"),
                Err(e) => format!("PDF, {pages}; no preview: {e}"),
            })
        }
        warta_media::Kind::Video => {
            let v = warta_media::probe_video(file)?;
            let mut parts = vec![format!("{} video", v.container)];
            if let (Some(w), Some(h)) = (v.width, v.height) {
                parts.push(format!("{w}x{h}"));
            }
            if let Some(ms) = v.duration_ms {
                parts.push(format!("{:.1} s", ms as f64 / 1000.0));
            }
            let jpg = args.out.join(format!("{name}.thumb.jpg"));
            match warta_media::poster_frame(file, &jpg, args.thumb_max) {
                Ok(()) => parts.push("poster frame written".into()),
                Err(e) => parts.push(format!("no poster: {e}")),
            }
            if args.transcode {
                let mp4 = args.out.join(format!("{name}.web.mp4"));
                match warta_media::transcode_web(file, &mp4, 720) {
                    Ok(()) => parts.push("web MP4 written".into()),
                    Err(e) => anyhow::bail!("transcoding failed: {e}"),
                }
            }
            Ok(parts.join(", "))
        }
    }
}

/// Processes every file, printing one line each; fails if any file failed.
pub fn process(args: ProcessArgs) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)?;
    let mut failed = 0;
    for file in &args.files {
        match one(file, &args) {
            Ok(line) => println!("{}: {line}", file.display()),
            Err(e) => {
                failed += 1;
                println!("{}: error: {e:#}", file.display());
            }
        }
    }
    if failed > 0 {
        eprintln!("{failed} of {} files failed", args.files.len());
        Ok(ExitCode::from(1))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}
