//! Batch import of a folder or memory card into one item, from the reporter's laptop.
//!
//! A job is rows in a local SQLite file ([`ImportQueue`]): the job, and one row per file found
//! when it was queued. [`run`] works through the pending files with a few workers: it hashes
//! each file (streaming), tells its type from the bytes, makes a photo's web rendition and
//! thumbnail *here* (so only what is needed travels), uploads what the hub lacks and attaches
//! it. Documents and videos are streamed to the hub as they are; it probes them itself. Files
//! over [`RunOptions::resumable_above`] travel as resumable uploads whose address is kept on the
//! file's row, so a killed app or a lost network costs at most the chunk in flight.
//!
//! Architecture Invariant: a file is marked done in the queue right after the hub confirms its
//! attachment, and before the next file starts; a job that is killed and run again never
//! attaches a done file twice. As a second guard, files whose content is already attached to
//! the item are skipped.
//!
//! Architecture Invariant: no `tauri` here. Progress goes through [`ImportEvents`], which the
//! desktop shell implements over a `tauri::ipc::Channel<ImportEvent>` and the CLI with lines.
#![forbid(unsafe_code)]

mod network;
mod queue;
mod run;
mod scan;

use std::path::PathBuf;
use std::time::Duration;

pub use network::connection_is_metered;
pub use queue::{FileState, ImportFile, ImportQueue};
pub use run::run;
pub use warta_api::{ImportEvent, ImportJob, ImportState};

/// Where a running job reports to. Called from the job's workers; keep it quick.
pub trait ImportEvents: Send + Sync {
    fn emit(&self, ev: ImportEvent);
}

/// Collects nothing: for callers that only want the job's end state.
impl ImportEvents for () {
    fn emit(&self, _ev: ImportEvent) {}
}

/// How [`run`] works through a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOptions {
    /// Files handled at once (hashing, renditions and uploads overlap). Default 2, one per
    /// core of a typical field laptop.
    pub workers: usize,
    /// Upload photo originals along with their renditions. `None` (the default): follow the
    /// office's `MediaSettings.send_originals` — `always`, `never`, or `unmetered`, which asks
    /// [`connection_is_metered`] and sends only on a connection known not to be metered.
    /// Originals are never sent to an office that does not keep them.
    pub send_originals: Option<bool>,
    /// Files larger than this (videos, documents, photo originals) are sent as resumable
    /// uploads, in checked chunks, resuming after a kill or a dropped network from the last
    /// chunk the hub confirmed; smaller ones go whole. Default 16 MiB.
    pub resumable_above: u64,
    /// Chunk size and retries of resumable uploads.
    pub upload: warta_client::UploadOptions,
    /// Waits this long after each file. Zero in real use; tests set it to slow a job down
    /// enough to kill it midway (the CLI reads it from `WARTA_IMPORT_PAUSE_MS`).
    pub pause_between_files: Duration,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            workers: 2,
            send_originals: None,
            resumable_above: 16 * 1024 * 1024,
            upload: warta_client::UploadOptions::default(),
            pause_between_files: Duration::ZERO,
        }
    }
}

/// Why a job could not be queued or run. Problems with single files are not errors: they are
/// recorded on the file and reported as [`ImportEvent::FileSkipped`] / [`ImportEvent::FileFailed`].
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("no import job {0}")]
    JobNotFound(i64),
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the import queue's database failed: {0}")]
    Db(#[from] rusqlite::Error),
    /// The hub cannot be used for this job at all (unreachable, session expired, the item
    /// gone or locked); the job stops as `failed` and the file in hand stays pending.
    #[error(transparent)]
    Hub(#[from] warta_client::ClientError),
    #[error("an import worker stopped unexpectedly: {0}")]
    Worker(String),
}
