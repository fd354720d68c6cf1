//! Batch import commands: thin adapters over `warta-import`, which owns the persisted job queue and
//! the work (local renditions, uploads). Here: the session to act with, one cancel flag per running
//! job, and the `Channel` that carries a job's events to the window.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use serde::Serialize;
use tauri::Manager;
use tauri::ipc::Channel;
use warta_api::{Attachment, ImportEvent, ImportJob, ImportProblem, ImportState};
use warta_client::HubClient;
use warta_import::{ImportError, ImportEvents, ImportQueue, RunOptions};

/// What the UI can tell apart (`ui/src/lib/shell.ts` mirrors it); anything else is `Internal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Code {
    NotSignedIn,
    JobNotFound,
    AlreadyRunning,
    UnreadableFolder,
    /// An office hub's address that is not an http(s) URL.
    InvalidUrl,
    /// No answer at the address (nothing listening, no route, DNS).
    Unreachable,
    /// A TLS problem: an untrusted or expired certificate, or https:// to a plain-HTTP server.
    Tls,
    /// Something answers, but not a Warta hub.
    NotAHub,
    /// The hub was set on the command line (`--hub`, `WARTA_HUB`) and cannot be changed here.
    Forced,
    /// No such outbox entry (removed meanwhile).
    EntryNotFound,
    /// An outbox entry needs a title.
    EmptyTitle,
    /// A file given to the outbox cannot be read.
    UnreadableFile,
    /// The outbox entry is being sent right now.
    Busy,
    /// A file (a downloaded report) cannot be written where the user chose.
    UnwritableFile,
    Internal,
}

/// A refused command as the UI receives it: `{code, message}`. The UI shows its own text for
/// `code`; `message` is English, for the console.
#[derive(Debug, Serialize)]
pub struct CommandError {
    code: Code,
    message: String,
}

impl CommandError {
    pub(crate) fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    #[cfg(test)]
    pub(crate) fn code(&self) -> Code {
        self.code
    }

    pub(crate) fn message(&self) -> &str {
        &self.message
    }
}

impl From<ImportError> for CommandError {
    fn from(err: ImportError) -> Self {
        let code = match &err {
            ImportError::JobNotFound(_) => Code::JobNotFound,
            ImportError::Io { .. } => Code::UnreadableFolder,
            _ => Code::Internal,
        };
        if code == Code::Internal {
            tracing::error!("import command failed: {err}");
        }
        Self::new(code, err.to_string())
    }
}

type CommandResult<T> = Result<T, CommandError>;

/// The signed-in user's session token, handed over by the UI after login (and `None` after
/// logout), so imports upload as that user.
#[derive(Default)]
pub struct Session {
    token: RwLock<Option<String>>,
}

impl Session {
    fn token(&self) -> CommandResult<String> {
        self.token
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
            .ok_or_else(|| CommandError::new(Code::NotSignedIn, "no session: sign in first"))
    }

    /// The token, if someone is signed in.
    pub(crate) fn current(&self) -> Option<String> {
        self.token
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    fn set(&self, token: Option<String>) {
        *self
            .token
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = token;
    }
}

/// The window's end of a running job. Swappable, so a screen opened again (or a restarted UI)
/// can take over the events of a job that is still running.
struct ChannelEvents {
    channel: RwLock<Channel<ImportEvent>>,
}

impl ImportEvents for ChannelEvents {
    fn emit(&self, ev: ImportEvent) {
        let channel = self
            .channel
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // The window may have closed; the job goes on and its state is in the queue.
        if let Err(err) = channel.send(ev) {
            tracing::debug!("import event not delivered: {err}");
        }
    }
}

struct RunningImport {
    cancel: Arc<AtomicBool>,
    events: Arc<ChannelEvents>,
}

/// The import queue and the jobs running in this process; managed once in `setup()`.
pub struct Imports {
    queue: ImportQueue,
    /// Photos attached one at a time from the item screen ([`attach_photo`]): a queue of their
    /// own, so the item's import panel never offers to resume one.
    single: ImportQueue,
    /// Where [`attach_photo`] keeps a photo's bytes while it is made light and sent.
    scratch: PathBuf,
    hub_url: String,
    running: Mutex<HashMap<i64, RunningImport>>,
}

impl Imports {
    /// Opens (or creates) the queue at `path`, e.g. `<app data>/import.db`, and beside it the
    /// queue and scratch folder of photos attached one at a time.
    pub fn open(path: &Path, hub_url: String) -> anyhow::Result<Self> {
        let open = |p: &Path| {
            ImportQueue::open(p)
                .map_err(|err| anyhow::anyhow!("cannot open {}: {err}", p.display()))
        };
        let single_path = path.with_extension("single.db");
        let scratch = path.with_extension("scratch");
        // What a killed app left there is of no use: the photo is still where it came from.
        let _ = std::fs::remove_dir_all(&scratch);
        Ok(Self {
            queue: open(path)?,
            single: open(&single_path)?,
            scratch,
            hub_url,
            running: Mutex::new(HashMap::new()),
        })
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<i64, RunningImport>> {
        self.running
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn job(self: &Arc<Self>, job_id: i64) -> CommandResult<ImportJob> {
        self.blocking(move |queue| {
            queue
                .job(job_id)?
                .ok_or_else(|| ImportError::JobNotFound(job_id).into())
        })
        .await
    }

    /// Runs `job_id` on the async runtime, unless it already runs here.
    fn start(
        self: &Arc<Self>,
        job_id: i64,
        token: String,
        channel: Channel<ImportEvent>,
    ) -> CommandResult<()> {
        let cancel = Arc::new(AtomicBool::new(false));
        let events = Arc::new(ChannelEvents {
            channel: RwLock::new(channel),
        });
        {
            let mut running = self.running();
            if running.contains_key(&job_id) {
                return Err(CommandError::new(
                    Code::AlreadyRunning,
                    format!("import job {job_id} is already running"),
                ));
            }
            running.insert(
                job_id,
                RunningImport {
                    cancel: Arc::clone(&cancel),
                    events: Arc::clone(&events),
                },
            );
        }
        let this = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            let client = HubClient::new(this.hub_url.as_str()).with_token(token);
            // The job reports its own end (`Finished`) through the channel; this is for the log.
            match warta_import::run(
                &this.queue,
                job_id,
                &client,
                events.as_ref(),
                &cancel,
                RunOptions::default(),
            )
            .await
            {
                Ok(job) => tracing::info!(job_id, state = ?job.state, "import job ended"),
                Err(err) => tracing::warn!(job_id, "import job stopped: {err}"),
            }
            this.running().remove(&job_id);
        });
        Ok(())
    }

    /// Runs a short queue operation (SQLite, or the folder scan) off the async workers.
    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        op: impl FnOnce(&ImportQueue) -> CommandResult<T> + Send + 'static,
    ) -> CommandResult<T> {
        let this = Arc::clone(self);
        tauri::async_runtime::spawn_blocking(move || op(&this.queue))
            .await
            .map_err(|err| CommandError::new(Code::Internal, format!("queue task: {err}")))?
    }
}

/// Remembers the session token the UI signed in with (`None`: signed out).
#[tauri::command]
pub fn set_session(
    app: tauri::AppHandle,
    session: tauri::State<'_, Session>,
    token: Option<String>,
) {
    let signed_in = token.is_some();
    session.set(token);
    // What waited in the outbox for a session goes now.
    if signed_in && let Some(outboxes) = app.try_state::<Arc<crate::outbox::Outboxes>>() {
        outboxes.wake();
    }
}

/// Imports `folder` into item `item_id`: resumes this item's unfinished job over the same folder,
/// else queues a new one, and runs it; events go to `on_event`.
#[tauri::command]
pub async fn import_folder(
    imports: tauri::State<'_, Arc<Imports>>,
    session: tauri::State<'_, Session>,
    item_id: i64,
    folder: String,
    on_event: Channel<ImportEvent>,
) -> CommandResult<ImportJob> {
    let token = session.token()?;
    let folder = PathBuf::from(folder);
    let job = imports
        .blocking(move |queue| match queue.unfinished_job(item_id, &folder)? {
            Some(job) => Ok(job),
            None => Ok(queue.enqueue(item_id, &folder)?),
        })
        .await?;
    imports.start(job.id, token, on_event)?;
    Ok(job)
}

/// Continues a job left unfinished (the app was closed, or the card pulled). A job still running
/// in this process sends its events to `on_event` from now on instead.
#[tauri::command]
pub async fn resume_import(
    imports: tauri::State<'_, Arc<Imports>>,
    session: tauri::State<'_, Session>,
    job_id: i64,
    on_event: Channel<ImportEvent>,
) -> CommandResult<ImportJob> {
    let taken_over = imports.running().get(&job_id).map(|run| {
        *run.events
            .channel
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = on_event.clone();
    });
    let job = imports.job(job_id).await?;
    if taken_over.is_none() {
        imports.start(job_id, session.token()?, on_event)?;
    }
    Ok(job)
}

/// Stops a running job after the files in hand; a job that is not running is marked cancelled.
#[tauri::command]
pub async fn cancel_import(
    imports: tauri::State<'_, Arc<Imports>>,
    job_id: i64,
) -> CommandResult<()> {
    if let Some(run) = imports.running().get(&job_id) {
        run.cancel.store(true, Ordering::Relaxed);
        return Ok(());
    }
    imports
        .blocking(move |queue| Ok(queue.cancel(job_id)?))
        .await?;
    Ok(())
}

/// The unfinished jobs of one item (queued, or running when the app stopped), oldest first.
#[tauri::command]
pub async fn import_jobs(
    imports: tauri::State<'_, Arc<Imports>>,
    item_id: i64,
) -> CommandResult<Vec<ImportJob>> {
    let pending = imports.blocking(|queue| Ok(queue.pending_jobs()?)).await?;
    Ok(pending
        .into_iter()
        .filter(|job| job.item_id == item_id)
        .filter(|job| matches!(job.state, ImportState::Queued | ImportState::Running))
        .collect())
}

/// What became of a photo attached from the item screen: the attachment, or why not (worded
/// by the window from the problem's code).
#[derive(Debug, Serialize)]
pub struct AttachOutcome {
    attachment: Option<Attachment>,
    problem: Option<ImportProblem>,
}

/// Collects the one file's outcome.
#[derive(Default)]
struct Outcome(Mutex<(Option<Attachment>, Option<ImportProblem>)>);

impl ImportEvents for Outcome {
    fn emit(&self, ev: ImportEvent) {
        let mut o = self
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match ev {
            ImportEvent::FileDone { attachment, .. } => o.0 = Some(*attachment),
            ImportEvent::FileSkipped { problem, .. } | ImportEvent::FileFailed { problem, .. } => {
                o.1 = Some(problem)
            }
            _ => {}
        }
    }
}

fn header<'a>(request: &'a tauri::ipc::Request<'_>, name: &str) -> CommandResult<&'a str> {
    request
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| CommandError::new(Code::Internal, format!("missing header {name}")))
}

/// A photo chosen or dropped on an item's attachments in the window. The webview has its bytes,
/// not its path, so they come over IPC (raw body; headers `x-item-id` and `x-filename`,
/// percent-encoded), are written to a scratch file, and go through the same import as a folder:
/// renditions made on this laptop, and only they — and the original when the office's policy
/// and the connection allow — sent to the hub. Documents and videos, which have no renditions,
/// the window uploads as they are.
#[tauri::command]
pub async fn attach_photo(
    imports: tauri::State<'_, Arc<Imports>>,
    session: tauri::State<'_, Session>,
    request: tauri::ipc::Request<'_>,
) -> CommandResult<AttachOutcome> {
    let token = session.token()?;
    let item_id: i64 = header(&request, "x-item-id")?
        .parse()
        .map_err(|_| CommandError::new(Code::Internal, "x-item-id is not a number"))?;
    let filename = percent_encoding::percent_decode_str(header(&request, "x-filename")?)
        .decode_utf8_lossy()
        .into_owned();
    // Only the name: a path in it could write outside the scratch folder.
    let name = Path::new(&filename)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && n != "." && n != "..")
        .unwrap_or_else(|| "foto".into());
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(CommandError::new(
            Code::Internal,
            "the photo's bytes are missing",
        ));
    };
    let bytes = bytes.clone();
    let imports = Arc::clone(&imports);
    let folder = imports.scratch.join(format!("{:016x}", rand_id()));
    let path = folder.join(&name);
    let write = {
        let (folder, path) = (folder.clone(), path.clone());
        tauri::async_runtime::spawn_blocking(move || {
            std::fs::create_dir_all(&folder)?;
            std::fs::write(&path, bytes)
        })
    };
    write
        .await
        .map_err(|err| CommandError::new(Code::Internal, format!("scratch task: {err}")))?
        .map_err(|err| CommandError::new(Code::UnreadableFile, err.to_string()))?;
    let outcome = async {
        let job = imports
            .single
            .enqueue_files(item_id, std::slice::from_ref(&path), chrono::Utc::now())?
            .into_iter()
            .next()
            .ok_or(ImportError::JobNotFound(0))?;
        let client = HubClient::new(imports.hub_url.as_str()).with_token(token);
        let collected = Outcome::default();
        let never = AtomicBool::new(false);
        let ran = warta_import::run(
            &imports.single,
            job.id,
            &client,
            &collected,
            &never,
            RunOptions::default(),
        )
        .await;
        // The scratch file goes either way: a job to resume would have nothing to read.
        if ran.is_err() {
            let _ = imports.single.cancel(job.id);
        }
        let (attachment, problem) = collected
            .0
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match ran {
            Err(ImportError::Hub(err)) if problem.is_none() && attachment.is_none() => {
                Err(CommandError::new(Code::Unreachable, err.to_string()))
            }
            Err(err) if attachment.is_none() && problem.is_none() => Err(err.into()),
            _ => Ok(AttachOutcome {
                attachment,
                problem,
            }),
        }
    }
    .await;
    let _ = std::fs::remove_dir_all(&folder);
    outcome
}

/// A name for a scratch folder nobody else uses.
fn rand_id() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_reach_the_ui_as_code_and_message() {
        let err = CommandError::new(Code::UnreadableFolder, "cannot read /media/sd");
        assert_eq!(
            serde_json::to_value(&err).unwrap(),
            serde_json::json!({"code": "unreadable_folder", "message": "cannot read /media/sd"})
        );
        let missing = CommandError::from(ImportError::JobNotFound(9));
        assert_eq!(missing.code, Code::JobNotFound);
        assert_eq!(missing.message, "no import job 9");
        let unreadable = CommandError::from(ImportError::Io {
            path: "/media/sd".into(),
            source: std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        });
        assert_eq!(unreadable.code, Code::UnreadableFolder);
        let internal = CommandError::from(ImportError::Worker("panicked".into()));
        assert_eq!(internal.code, Code::Internal);
    }

    #[test]
    fn the_session_is_refused_until_set_and_after_sign_out() {
        let session = Session::default();
        assert_eq!(session.token().unwrap_err().code, Code::NotSignedIn);
        session.set(Some("t0k3n".into()));
        assert_eq!(session.token().unwrap(), "t0k3n");
        session.set(None);
        assert_eq!(session.token().unwrap_err().code, Code::NotSignedIn);
    }
}
