//! `warta import`: batch import of a folder or memory card into an item, through a hub, the way
//! the desktop app does it (renditions made here, only what is needed travels). The job is kept
//! in a local queue file, so running the same command again after an interruption resumes it.

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use warta_api::{Attachment, ImportEvent, ImportState};
use warta_client::HubClient;
use warta_import::{ImportEvents, ImportQueue, RunOptions};

/// Test-only: milliseconds to wait after each file and after each chunk of a large file, so a
/// test can kill the import midway.
const PAUSE_ENV: &str = "WARTA_IMPORT_PAUSE_MS";
/// The password, when not given on standard input.
const PASSWORD_ENV: &str = "WARTA_PASSWORD";

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The hub, e.g. http://127.0.0.1:8080
    #[arg(long, value_name = "URL")]
    pub hub: String,
    /// User name to sign in as (a reporter or editor)
    #[arg(long, value_name = "NAME")]
    pub user: String,
    /// Read the password from the first line of standard input (otherwise from WARTA_PASSWORD)
    #[arg(long)]
    pub password_stdin: bool,
    /// The item to attach the files to
    #[arg(long, value_name = "ID")]
    pub item: i64,
    /// The local job queue; an unfinished job of the same item and folder in it is resumed
    #[arg(long, value_name = "PATH", default_value = "warta-import.db")]
    pub queue: PathBuf,
    /// Files handled at once
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub workers: usize,
    /// The folder or memory card (searched recursively; hidden files are left out)
    pub folder: PathBuf,
}

/// Signs in, queues (or resumes) the import, runs it and prints one line per file and a
/// summary. Exits non-zero if a file failed or the job did not finish.
pub fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let password = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        match std::env::var(PASSWORD_ENV) {
            Ok(p) => p,
            Err(_) => {
                bail!("give the password on standard input (--password-stdin) or in {PASSWORD_ENV}")
            }
        }
    };
    let pause = match std::env::var(PAUSE_ENV) {
        Ok(ms) => Duration::from_millis(
            ms.parse()
                .with_context(|| format!("{PAUSE_ENV} must be a number of milliseconds"))?,
        ),
        Err(_) => Duration::ZERO,
    };
    let queue = ImportQueue::open(&args.queue)
        .with_context(|| format!("cannot open the import queue {}", args.queue.display()))?;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let client = HubClient::new(&args.hub);
        let login = client
            .login(&args.user, &password)
            .await
            .with_context(|| format!("cannot sign in to {} as {}", args.hub, args.user))?;
        let client = client.with_token(login.token);

        let job = match queue.unfinished_job(args.item, &args.folder)? {
            Some(job) => {
                println!(
                    "resuming import {} of {}: {} of {} files handled",
                    job.id,
                    job.folder,
                    job.done + job.skipped,
                    job.total
                );
                job
            }
            None => {
                let job = queue
                    .enqueue(args.item, &args.folder)
                    .with_context(|| format!("cannot read {}", args.folder.display()))?;
                println!("import {} of {}: {} files", job.id, job.folder, job.total);
                job
            }
        };

        let cancel = Arc::new(AtomicBool::new(false));
        let on_ctrl_c = cancel.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                eprintln!("stopping after the files in hand (Ctrl+C)…");
                on_ctrl_c.store(true, Ordering::Relaxed);
            }
        });
        let defaults = RunOptions::default();
        let options = RunOptions {
            workers: args.workers.max(1),
            pause_between_files: pause,
            upload: warta_client::UploadOptions {
                pause_between_chunks: pause,
                ..defaults.upload.clone()
            },
            ..defaults
        };
        let job = warta_import::run(&queue, job.id, &client, &Lines, &cancel, options)
            .await
            .context("the import stopped")?;
        println!(
            "{} attached, {} skipped, {} failed of {} files; {} sent",
            job.done,
            job.skipped,
            job.failed,
            job.total,
            human_size(job.bytes_sent)
        );
        Ok(match job.state {
            ImportState::Done => ExitCode::SUCCESS,
            ImportState::Cancelled => {
                println!("cancelled: run the same command again to resume");
                ExitCode::FAILURE
            }
            _ => ExitCode::FAILURE,
        })
    })
}

/// One line per file on standard output.
struct Lines;

impl ImportEvents for Lines {
    fn emit(&self, ev: ImportEvent) {
        let line = match ev {
            ImportEvent::FileDone {
                path, attachment, ..
            } => format!(
                "done {path} → attachment {} ({})",
                attachment.id,
                facts(&attachment)
            ),
            ImportEvent::FileSkipped { path, problem, .. } => format!("skipped {path}: {problem}"),
            ImportEvent::FileFailed { path, problem, .. } => format!("failed {path}: {problem}"),
            ImportEvent::FileProgress {
                path, sent, total, ..
            } => format!("sending {path}: {sent} of {total} bytes confirmed"),
            ImportEvent::Progress(_) | ImportEvent::Finished(_) => return,
        };
        let mut out = std::io::stdout().lock();
        // A closed pipe must not stop the import; the queue has the outcome.
        let _ = writeln!(out, "{line}");
        let _ = out.flush();
    }
}

/// `web 1600×1200, 4.1 MB`, `1 page, 120 KB`, `1920×1080, 0:42, 30 MB`.
fn facts(a: &Attachment) -> String {
    let mut parts = Vec::new();
    match (a.kind.as_str(), a.width, a.height) {
        ("photo", Some(w), Some(h)) => parts.push(format!("web {w}×{h}")),
        (_, Some(w), Some(h)) => parts.push(format!("{w}×{h}")),
        _ => {}
    }
    if let Some(p) = a.pages {
        parts.push(format!("{p} page{}", if p == 1 { "" } else { "s" }));
    }
    if let Some(ms) = a.duration_ms {
        parts.push(format!("{}:{:02}", ms / 60_000, ms / 1000 % 60));
    }
    parts.push(human_size(a.size.max(0) as u64));
    parts.join(", ")
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{} KB", b / 1_000),
        b => format!("{b} bytes"),
    }
}
