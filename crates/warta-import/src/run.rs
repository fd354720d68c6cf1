//! Working through a job's pending files.

use std::collections::{HashMap, VecDeque};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use warta_api::{
    Attachment, ErrorCode, ImportEvent, ImportJob, ImportProblem, ImportProblemCode, ImportState,
    MediaSettings, PreparedPhoto, SendOriginals,
};
use warta_client::{ClientError, HubClient, UploadOptions, UploadProgress, UploadState};
use warta_media::{Detected, Kind, MediaError};

use crate::queue::{FileOutcome, ImportFile, ImportQueue};
use crate::{ImportError, ImportEvents, RunOptions, connection_is_metered};

/// At most this often a `Progress` event (per-file events are not throttled).
const PROGRESS_EVERY: Duration = Duration::from_millis(250);

/// Runs (or resumes) job `job_id`, uploading as the user `client` is signed in as.
///
/// Pending files are done and failed ones tried again, so a job that ended `failed` or
/// `cancelled`, or was killed, carries on; a `done` job only reports `Finished`. Setting `cancel`
/// stops the job between files: the files in hand are finished, the rest stay pending, and
/// the job ends `cancelled`. The job ends `failed` when a file failed or the hub cannot be
/// used (then the error is returned too, after `Finished`).
pub async fn run(
    queue: &ImportQueue,
    job_id: i64,
    client: &HubClient,
    events: &dyn ImportEvents,
    cancel: &AtomicBool,
    options: RunOptions,
) -> Result<ImportJob, ImportError> {
    let job = queue.job(job_id)?.ok_or(ImportError::JobNotFound(job_id))?;
    if job.state == ImportState::Done {
        events.emit(ImportEvent::Finished(job.clone()));
        return Ok(job);
    }
    // Another run is another try for files that failed (a card reader hiccup, a hub error).
    queue.retry_failed(job_id)?;
    queue.set_state(job_id, ImportState::Running)?;

    let prepared = match prepare(client, job.item_id, &options).await {
        Ok(p) => p,
        Err(e) => return finish(queue, job_id, events, Some(e.into()), false),
    };
    let ctx = Context {
        queue,
        job_id,
        item_id: job.item_id,
        folder: queue.folder(job_id)?,
        client,
        events,
        cancel,
        settings: prepared.settings,
        send_originals: prepared.send_originals,
        resumable_above: options.resumable_above,
        upload: options.upload.clone(),
        pause: options.pause_between_files,
        todo: Mutex::new(queue.pending_files(job_id)?.into()),
        known: Mutex::new(prepared.known),
        fatal: Mutex::new(None),
        stop: AtomicBool::new(false),
        last_progress: Mutex::new(None),
    };
    ctx.progress(true)?;
    let workers = (0..options.workers.max(1)).map(|_| ctx.worker());
    for result in futures_util::future::join_all(workers).await {
        if let Err(e) = result {
            ctx.fail(e);
        }
    }
    let fatal = ctx.fatal.into_inner().unwrap_or_else(|p| p.into_inner());
    finish(queue, job_id, events, fatal, cancel.load(Ordering::Relaxed))
}

/// Sets the end state, reports `Finished`, and returns the job (or the error that stopped it).
fn finish(
    queue: &ImportQueue,
    job_id: i64,
    events: &dyn ImportEvents,
    fatal: Option<ImportError>,
    cancelled: bool,
) -> Result<ImportJob, ImportError> {
    let job = queue.job(job_id)?.ok_or(ImportError::JobNotFound(job_id))?;
    let pending = job.total - job.done - job.skipped - job.failed;
    let state = if fatal.is_some() {
        ImportState::Failed
    } else if cancelled && pending > 0 {
        ImportState::Cancelled
    } else if job.failed > 0 || pending > 0 {
        ImportState::Failed
    } else {
        ImportState::Done
    };
    queue.set_state(job_id, state)?;
    let job = ImportJob { state, ..job };
    events.emit(ImportEvent::Finished(job.clone()));
    match fatal {
        Some(e) => Err(e),
        None => Ok(job),
    }
}

struct Prepared {
    settings: MediaSettings,
    send_originals: bool,
    /// SHA-256 of every original already attached to the item → what to say when skipping.
    known: HashMap<String, ImportProblem>,
}

async fn prepare(
    client: &HubClient,
    item_id: i64,
    options: &RunOptions,
) -> Result<Prepared, ClientError> {
    let settings = client.media_settings().await?;
    let item = client.item(item_id).await?;
    let send_originals = settings.keep_originals
        && match options.send_originals {
            Some(send) => send,
            None => match settings.send_originals {
                SendOriginals::Always => true,
                SendOriginals::Never => false,
                SendOriginals::Unmetered => {
                    tokio::task::spawn_blocking(connection_is_metered)
                        .await
                        .ok()
                        .flatten()
                        == Some(false)
                }
            },
        };
    let known = item
        .attachments
        .iter()
        .map(|a| (a.sha256.clone(), already_attached(&a.filename)))
        .collect();
    Ok(Prepared {
        settings,
        send_originals,
        known,
    })
}

fn already_attached(filename: &str) -> ImportProblem {
    ImportProblem {
        code: ImportProblemCode::AlreadyAttached,
        hub_code: None,
        other: Some(filename.to_string()),
        message: format!("already attached to the item (as \"{filename}\")"),
    }
}

fn duplicate(path: &str) -> ImportProblem {
    ImportProblem {
        code: ImportProblemCode::Duplicate,
        hub_code: None,
        other: Some(path.to_string()),
        message: format!("same content as {path}"),
    }
}

fn problem(code: ImportProblemCode, message: impl Into<String>) -> ImportProblem {
    ImportProblem {
        code,
        hub_code: None,
        other: None,
        message: message.into(),
    }
}

/// A file the hub refused (skipped) or failed, by the hub's code.
fn hub_problem(code: ErrorCode, message: &str) -> ImportProblem {
    ImportProblem {
        code: ImportProblemCode::Hub,
        hub_code: Some(code),
        other: None,
        message: message.to_string(),
    }
}

/// What warta-media said about a file read here (its name, or its type from its bytes).
fn media_problem(e: &MediaError) -> ImportProblem {
    let code = match e {
        MediaError::BadFilename { .. } => ImportProblemCode::BadFilename,
        MediaError::Damaged { .. } => ImportProblemCode::Damaged,
        MediaError::TooLarge { .. } => ImportProblemCode::TooLarge,
        MediaError::Io(_) => ImportProblemCode::Unreadable,
        _ => ImportProblemCode::Unsupported,
    };
    problem(code, e.to_string())
}

struct Context<'a> {
    queue: &'a ImportQueue,
    job_id: i64,
    item_id: i64,
    folder: PathBuf,
    client: &'a HubClient,
    events: &'a dyn ImportEvents,
    cancel: &'a AtomicBool,
    settings: MediaSettings,
    send_originals: bool,
    resumable_above: u64,
    upload: UploadOptions,
    pause: Duration,
    todo: Mutex<VecDeque<ImportFile>>,
    /// Content already attached, or claimed by a worker: a file with the same bytes is skipped.
    known: Mutex<HashMap<String, ImportProblem>>,
    /// What stopped the whole job.
    fatal: Mutex<Option<ImportError>>,
    stop: AtomicBool,
    last_progress: Mutex<Option<Instant>>,
}

/// A file's problem (recorded on the file), or the job's (stops it).
enum Problem {
    Skip(ImportProblem),
    Fail(ImportProblem),
    Fatal(ImportError),
}

impl From<ClientError> for Problem {
    fn from(e: ClientError) -> Self {
        match &e {
            ClientError::Network(_) => Problem::Fatal(e.into()),
            ClientError::Api { error, .. } => match error.code {
                // Nothing else in this job can succeed either.
                ErrorCode::Unauthenticated
                | ErrorCode::Forbidden
                | ErrorCode::NotFound
                | ErrorCode::Locked => Problem::Fatal(e.into()),
                ErrorCode::RefusedType | ErrorCode::TooLarge => {
                    Problem::Skip(hub_problem(error.code, &error.message))
                }
                _ => Problem::Fail(hub_problem(error.code, &error.message)),
            },
            ClientError::File { .. } => {
                Problem::Fail(problem(ImportProblemCode::Unreadable, e.to_string()))
            }
            ClientError::Decode(_) => {
                Problem::Fail(hub_problem(ErrorCode::Internal, &e.to_string()))
            }
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Context<'_> {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.cancel.load(Ordering::Relaxed)
    }

    fn fail(&self, e: ImportError) {
        self.stop.store(true, Ordering::Relaxed);
        lock(&self.fatal).get_or_insert(e);
    }

    /// Reports the job's counters, at most every [`PROGRESS_EVERY`] unless `force`.
    fn progress(&self, force: bool) -> Result<(), ImportError> {
        {
            let mut last = lock(&self.last_progress);
            let now = Instant::now();
            if !force && last.is_some_and(|t| now.duration_since(t) < PROGRESS_EVERY) {
                return Ok(());
            }
            *last = Some(now);
        }
        if let Some(job) = self.queue.job(self.job_id)? {
            self.events.emit(ImportEvent::Progress(job));
        }
        Ok(())
    }

    async fn worker(&self) -> Result<(), ImportError> {
        loop {
            if self.stopped() {
                return Ok(());
            }
            let Some(file) = lock(&self.todo).pop_front() else {
                return Ok(());
            };
            let mut sent = 0;
            let result = self.handle(&file, &mut sent).await;
            let (outcome, event) = match result {
                Ok(attachment) => (
                    FileOutcome::Done {
                        attachment_id: attachment.id,
                    },
                    ImportEvent::FileDone {
                        job_id: self.job_id,
                        path: file.path.clone(),
                        attachment: Box::new(attachment),
                    },
                ),
                Err(Problem::Skip(problem)) => (
                    FileOutcome::Skipped(problem.message.clone()),
                    ImportEvent::FileSkipped {
                        job_id: self.job_id,
                        path: file.path.clone(),
                        problem,
                    },
                ),
                Err(Problem::Fail(problem)) => (
                    FileOutcome::Failed(problem.message.clone()),
                    ImportEvent::FileFailed {
                        job_id: self.job_id,
                        path: file.path.clone(),
                        problem,
                    },
                ),
                Err(Problem::Fatal(e)) => {
                    // The file stays pending: it is not its fault.
                    self.queue.add_bytes_sent(self.job_id, sent)?;
                    self.fail(e);
                    return Ok(());
                }
            };
            // Recorded before anything else happens, so a kill from here on never redoes it.
            self.queue.finish_file(file.id, &outcome, sent)?;
            self.events.emit(event);
            self.progress(false)?;
            if !self.pause.is_zero() && !self.stopped() {
                tokio::time::sleep(self.pause).await;
            }
        }
    }

    /// Attaches one file, or says why not. `sent` counts the bytes that went to the hub.
    async fn handle(&self, file: &ImportFile, sent: &mut u64) -> Result<Attachment, Problem> {
        let path = self.folder.join(&file.path);
        let name = file.path.rsplit('/').next().unwrap_or(&file.path);
        let filename =
            warta_media::validate_filename(name).map_err(|e| Problem::Skip(media_problem(&e)))?;

        let (sha256, size, detected) = {
            let (path, filename) = (path.clone(), filename.clone());
            blocking(move || hash_and_detect(&path, &filename)).await??
        };
        self.queue
            .set_sha256(file.id, &sha256)
            .map_err(Problem::Fatal)?;
        let detected = detected.map_err(|e| match e {
            MediaError::Io(e) => Problem::Fail(problem(
                ImportProblemCode::Unreadable,
                format!("cannot read the file: {e}"),
            )),
            e => Problem::Skip(media_problem(&e)),
        })?;

        // Claim the content, so two copies on the card are attached once.
        {
            let mut known = lock(&self.known);
            if let Some(reason) = known.get(&sha256) {
                return Err(Problem::Skip(reason.clone()));
            }
            known.insert(sha256.clone(), duplicate(&file.path));
        }
        let result = match detected.kind {
            Kind::Photo => {
                self.attach_photo(file, &path, &filename, &sha256, size, sent)
                    .await
            }
            Kind::Document | Kind::Video => {
                self.attach_file(file, &path, &filename, &sha256, size, &detected, sent)
                    .await
            }
        };
        match result {
            Ok(attachment) => {
                lock(&self.known).insert(sha256, already_attached(&attachment.filename));
                Ok(attachment)
            }
            Err(problem) => {
                lock(&self.known).remove(&sha256);
                Err(problem)
            }
        }
    }

    async fn attach_photo(
        &self,
        file: &ImportFile,
        path: &Path,
        filename: &str,
        sha256: &str,
        size: u64,
        sent: &mut u64,
    ) -> Result<Attachment, Problem> {
        let cfg = photo_config(&self.settings);
        let renditions = {
            let path = path.to_path_buf();
            blocking(move || warta_photo::process_file(&path, &cfg))
                .await?
                .map_err(|e| Problem::Fail(problem(ImportProblemCode::Photo, e.to_string())))?
        };
        let web_sha = hex::encode(Sha256::digest(&renditions.web.bytes));
        let thumb_sha = hex::encode(Sha256::digest(&renditions.thumb.bytes));
        let photo = PreparedPhoto {
            filename: filename.to_string(),
            original_sha256: sha256.to_string(),
            original_size: size,
            original_sent: self.send_originals,
            web_sha256: web_sha.clone(),
            thumb_sha256: thumb_sha.clone(),
            phash: format!("{:016x}", renditions.phash),
        };
        // HEAD first: what the hub has (a photo attached elsewhere) does not travel again. If
        // the hub dropped a blob in between (409 missing_blob), everything is sent once more.
        for ask_first in [true, false] {
            self.put_bytes(&web_sha, &renditions.web.bytes, ask_first, sent)
                .await?;
            self.put_bytes(&thumb_sha, &renditions.thumb.bytes, ask_first, sent)
                .await?;
            if self.send_originals && !(ask_first && self.client.blob_exists(sha256).await?) {
                if size > self.resumable_above {
                    self.send_resumable(file, path, sha256, sent).await?;
                } else {
                    self.client.put_blob_file(sha256, path).await?;
                    *sent += size;
                }
            }
            match self.client.attach_prepared(self.item_id, &photo).await {
                Err(ClientError::Api { error, .. })
                    if ask_first && error.code == ErrorCode::MissingBlob =>
                {
                    continue;
                }
                other => return Ok(other?),
            }
        }
        unreachable!("the second round returns")
    }

    async fn put_bytes(
        &self,
        sha256: &str,
        bytes: &[u8],
        ask_first: bool,
        sent: &mut u64,
    ) -> Result<(), Problem> {
        if ask_first && self.client.blob_exists(sha256).await? {
            return Ok(());
        }
        self.client.put_blob_bytes(sha256, bytes.to_vec()).await?;
        *sent += bytes.len() as u64;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn attach_file(
        &self,
        file: &ImportFile,
        path: &Path,
        filename: &str,
        sha256: &str,
        size: u64,
        detected: &Detected,
        sent: &mut u64,
    ) -> Result<Attachment, Problem> {
        if size > self.settings.max_attachment_bytes {
            return Err(Problem::Skip(problem(
                ImportProblemCode::TooLarge,
                format!(
                    "{} of {} MB is larger than the office's limit of {} MB",
                    detected.kind,
                    size / 1_000_000,
                    self.settings.max_attachment_bytes / 1_000_000
                ),
            )));
        }
        if size > self.resumable_above {
            self.send_resumable(file, path, sha256, sent).await?;
            return match self
                .client
                .attach_blob(self.item_id, sha256, filename)
                .await
            {
                // The hub dropped the finished file (refused elsewhere meanwhile): send it again.
                Err(ClientError::Api { error, .. }) if error.code == ErrorCode::MissingBlob => {
                    self.queue
                        .set_upload_url(file.id, None)
                        .map_err(Problem::Fatal)?;
                    self.send_resumable(file, path, sha256, sent).await?;
                    Ok(self
                        .client
                        .attach_blob(self.item_id, sha256, filename)
                        .await?)
                }
                other => Ok(other?),
            };
        }
        let attachment = self
            .client
            .attach_file(self.item_id, filename, path)
            .await?;
        *sent += size;
        Ok(attachment)
    }

    /// Sends a large file as a resumable upload whose address is kept on the file's row,
    /// reporting how much the hub confirmed.
    async fn send_resumable(
        &self,
        file: &ImportFile,
        path: &Path,
        sha256: &str,
        sent: &mut u64,
    ) -> Result<(), Problem> {
        let state = FileUpload {
            queue: self.queue,
            file_id: file.id,
        };
        let last = Mutex::new(None::<Instant>);
        let progress = |p: UploadProgress| {
            let mut last = lock(&last);
            let now = Instant::now();
            let done = p.confirmed == p.total;
            if !done && last.is_some_and(|t| now.duration_since(t) < PROGRESS_EVERY) {
                return;
            }
            *last = Some(now);
            self.events.emit(ImportEvent::FileProgress {
                job_id: self.job_id,
                path: file.path.clone(),
                sent: p.confirmed,
                total: p.total,
            });
        };
        let report = self
            .client
            .upload_resumable_with(path, sha256, &state, &progress, &self.upload)
            .await?;
        *sent += report.bytes_sent;
        Ok(())
    }
}

/// A file's resumable upload address, kept on its row of the queue.
struct FileUpload<'a> {
    queue: &'a ImportQueue,
    file_id: i64,
}

impl UploadState for FileUpload<'_> {
    fn load(&self) -> Option<String> {
        self.queue.upload_url(self.file_id).ok().flatten()
    }

    fn save(&self, location: Option<&str>) -> std::io::Result<()> {
        self.queue
            .set_upload_url(self.file_id, location)
            .map_err(std::io::Error::other)
    }
}

/// The office's rendition settings as `warta-photo` takes them.
fn photo_config(s: &MediaSettings) -> warta_photo::PhotoConfig {
    warta_photo::PhotoConfig {
        web_max: s.web_max,
        thumb_max: s.thumb_max,
        format: if s.photo_format == "webp" {
            warta_photo::OutputFormat::WebP
        } else {
            warta_photo::OutputFormat::default()
        },
        max_pixels: s.max_pixels,
    }
}

/// Runs CPU or disk work off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Problem> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Problem::Fatal(ImportError::Worker(e.to_string())))
}

type HashDetect = (String, u64, Result<Detected, MediaError>);

/// Hashes the file (streaming) and tells its type from its bytes.
fn hash_and_detect(path: &Path, filename: &str) -> Result<HashDetect, Problem> {
    let unreadable = |e: std::io::Error| {
        Problem::Fail(problem(
            ImportProblemCode::Unreadable,
            format!("cannot read the file: {e}"),
        ))
    };
    let mut file = std::fs::File::open(path).map_err(unreadable)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(unreadable)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    let detected = warta_media::detect_file(path, filename);
    Ok((hex::encode(hasher.finalize()), size, detected))
}
