//! The reporter's outbox: commands over `warta-outbox`, and the loop that sends it.
//!
//! The loop runs for the life of the app. It sends whatever waits as the signed-in user, and
//! then sleeps until something happens (a new entry, a retry, a sign-in, the window saying the
//! hub is back) or, while the hub cannot be reached, until the next try: 2 s, doubling, at most
//! [`MAX_BACKOFF`]. Changes go to the window through the `Channel` it registered last.

use std::path::Path;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager};
use tokio::sync::Notify;
use warta_api::{NewOutboxEntry, OutboxEntry, OutboxProblemCode};
use warta_client::HubClient;
use warta_outbox::{Outbox, OutboxError, OutboxEvents};

use crate::imports::{Code, CommandError, Session};

/// The longest wait between two tries while the hub cannot be reached.
const MAX_BACKOFF: Duration = Duration::from_secs(15);
/// Even with nothing to wake it, the loop looks again this often (a missed wake-up costs this).
const IDLE_TICK: Duration = Duration::from_secs(60);

impl From<OutboxError> for CommandError {
    fn from(err: OutboxError) -> Self {
        let code = match &err {
            OutboxError::NotFound(_) => Code::EntryNotFound,
            OutboxError::EmptyTitle => Code::EmptyTitle,
            OutboxError::File { .. } => Code::UnreadableFile,
            OutboxError::Busy(_) => Code::Busy,
            _ => Code::Internal,
        };
        if code == Code::Internal {
            tracing::error!("outbox command failed: {err}");
        }
        CommandError::new(code, err.to_string())
    }
}

/// The window's end: the channel it registered last (none before it did).
#[derive(Default)]
struct Watcher {
    channel: RwLock<Option<Channel<OutboxEntry>>>,
}

impl OutboxEvents for Watcher {
    fn changed(&self, entry: &OutboxEntry) {
        let channel = self
            .channel
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(channel) = channel.as_ref()
            && let Err(err) = channel.send(entry.clone())
        {
            // The window may be reloading; the entry's state is in the outbox.
            tracing::debug!("outbox event not delivered: {err}");
        }
    }
}

/// The outbox of the hub in use and its sending loop; managed once in `setup()`.
pub struct Outboxes {
    outbox: Outbox,
    hub_url: String,
    wake: Notify,
    watcher: Watcher,
}

impl Outboxes {
    /// Opens the outbox kept in `path` (its files' upload queue in `files_path`).
    pub fn open(path: &Path, files_path: &Path, hub_url: String) -> anyhow::Result<Arc<Self>> {
        let outbox = Outbox::open(path, files_path)
            .map_err(|err| anyhow::anyhow!("cannot open {}: {err}", path.display()))?;
        Ok(Arc::new(Self {
            outbox,
            hub_url,
            wake: Notify::new(),
            watcher: Watcher::default(),
        }))
    }

    /// Makes the loop look now.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Starts the sending loop; it ends with the app.
    pub fn run(self: &Arc<Self>, app: AppHandle) {
        let this = Arc::clone(self);
        tauri::async_runtime::spawn(async move {
            let mut backoff = Duration::from_secs(2);
            loop {
                let token = app.state::<Session>().current();
                let wait = match token {
                    None => IDLE_TICK,
                    Some(token) => {
                        let client = HubClient::new(this.hub_url.as_str()).with_token(token);
                        match this
                            .outbox
                            .send_pending(&client, &this.watcher, Utc::now)
                            .await
                        {
                            Ok(report) if report.stopped == Some(OutboxProblemCode::Offline) => {
                                let wait = backoff;
                                backoff = (backoff * 2).min(MAX_BACKOFF);
                                wait
                            }
                            Ok(report) => {
                                if report.received + report.failed > 0 {
                                    tracing::info!(?report, "outbox round");
                                }
                                backoff = Duration::from_secs(2);
                                IDLE_TICK
                            }
                            Err(err) => {
                                tracing::error!("the outbox could not be sent: {err}");
                                MAX_BACKOFF
                            }
                        }
                    }
                };
                tokio::select! {
                    () = this.wake.notified() => backoff = Duration::from_secs(2),
                    () = tokio::time::sleep(wait) => {}
                }
            }
        });
    }

    async fn blocking<T: Send + 'static>(
        self: &Arc<Self>,
        op: impl FnOnce(&Outbox) -> Result<T, OutboxError> + Send + 'static,
    ) -> Result<T, CommandError> {
        let this = Arc::clone(self);
        tauri::async_runtime::spawn_blocking(move || op(&this.outbox))
            .await
            .map_err(|err| CommandError::new(Code::Internal, format!("outbox task: {err}")))?
            .map_err(CommandError::from)
    }
}

fn outboxes(app: &AppHandle) -> Result<Arc<Outboxes>, CommandError> {
    app.try_state::<Arc<Outboxes>>()
        .map(|o| Arc::clone(o.inner()))
        .ok_or_else(|| CommandError::new(Code::Internal, "the outbox did not open"))
}

/// Keeps a new draft or submission and starts sending it.
#[tauri::command]
pub async fn outbox_add(
    app: AppHandle,
    entry: NewOutboxEntry,
) -> Result<OutboxEntry, CommandError> {
    let outboxes = outboxes(&app)?;
    let added = outboxes
        .blocking(move |outbox| outbox.add(entry, Utc::now()))
        .await?;
    outboxes.wake();
    Ok(added)
}

/// Every entry, newest first; changes from now on go to `on_event`.
#[tauri::command]
pub async fn outbox_list(
    app: AppHandle,
    on_event: Channel<OutboxEntry>,
) -> Result<Vec<OutboxEntry>, CommandError> {
    let outboxes = outboxes(&app)?;
    *outboxes
        .watcher
        .channel
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(on_event);
    outboxes.blocking(|outbox| outbox.entries(Utc::now())).await
}

/// Sends a failed entry again.
#[tauri::command]
pub async fn outbox_retry(app: AppHandle, id: i64) -> Result<OutboxEntry, CommandError> {
    let outboxes = outboxes(&app)?;
    let entry = outboxes.blocking(move |outbox| outbox.retry(id)).await?;
    outboxes.wake();
    Ok(entry)
}

/// Forgets an entry (not while it is being sent).
#[tauri::command]
pub async fn outbox_remove(app: AppHandle, id: i64) -> Result<(), CommandError> {
    outboxes(&app)?
        .blocking(move |outbox| outbox.remove(id))
        .await
}

/// The window thinks the hub may be reachable again: try now instead of at the next backoff.
#[tauri::command]
pub fn outbox_wake(app: AppHandle) -> Result<(), CommandError> {
    outboxes(&app)?.wake();
    Ok(())
}
