//! The office's request thread: short database work of HTTP requests, run one after another
//! on one thread that keeps the connection busy, instead of on tokio's blocking pool.
//!
//! Under load every request on the blocking pool cost a thread wake-up (`spawn_blocking`),
//! then a wait for the connection's mutex and another wake-up when it came free — with 64
//! clients, about a quarter of the hub's time went to the scheduler. Here a request hands its
//! closure to a channel; the thread takes them in order, so nothing waits for the mutex, and a
//! busy thread needs no waking. Group commit works as before (see [`crate::office::Db`]): a
//! request still in the channel counts as *queued* for the connection, so a writer leaves the
//! group's transaction open for it and the request awaits its group without a thread; when the
//! channel is empty after a request, the thread commits the group that is still open.
//!
//! Only work that holds the connection from start to end belongs here (items, workflow,
//! comments, tasks): a request that decodes a photo, reads a file or waits for the network would
//! hold up every other. Those stay on [`crate::http::blocking`].

use std::sync::{Arc, OnceLock, mpsc};

use crate::error::{HubError, HubResult};
use crate::office::{Office, PendingCommit};

type Job = Box<dyn FnOnce(&Office) + Send>;

/// The channel to the office's request thread, started by the first request that uses it (the
/// CLI and tests that call [`Office`] directly never start it). The thread ends when the
/// office is dropped: its sender goes with it.
#[derive(Default)]
pub(crate) struct Serial {
    jobs: OnceLock<mpsc::Sender<(Job, std::sync::Weak<Office>)>>,
}

impl Serial {
    fn sender(&self) -> HubResult<&mpsc::Sender<(Job, std::sync::Weak<Office>)>> {
        if let Some(tx) = self.jobs.get() {
            return Ok(tx);
        }
        let (tx, rx) = mpsc::channel::<(Job, std::sync::Weak<Office>)>();
        std::thread::Builder::new()
            .name("warta-office".into())
            .spawn(move || run(rx))
            .map_err(|e| HubError::Internal(anyhow::anyhow!("starting the request thread: {e}")))?;
        // Two first requests at once: the loser's thread ends at once (its sender is dropped).
        let _ = self.jobs.set(tx);
        Ok(self.jobs.get().expect("set above"))
    }
}

fn run(rx: mpsc::Receiver<(Job, std::sync::Weak<Office>)>) {
    while let Ok((job, office)) = rx.recv() {
        // The office outlives its jobs' senders; a job whose office is gone has nobody to answer.
        let Some(office) = office.upgrade() else {
            continue;
        };
        office.group_dequeued();
        // A panicking request fails alone (its answer channel is dropped); the thread goes on.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&office)));
        if !office.group_queued() {
            // Nobody else is coming for now: the group still open is committed here, not left
            // for a request that may not arrive.
            office.end_group();
        }
    }
}

/// Runs `f` on `office`'s request thread and answers once its work is committed (like
/// [`crate::http::blocking`], which it replaces for short database work).
pub(crate) async fn serial<T: Send + 'static>(
    office: &Arc<Office>,
    f: impl FnOnce(&Office) -> HubResult<T> + Send + 'static,
) -> HubResult<T> {
    let (tx, rx) = tokio::sync::oneshot::channel::<(HubResult<T>, Option<PendingCommit>)>();
    let job: Job = Box::new(move |o: &Office| {
        let out = crate::office::deferring_commit_waits(|| f(o));
        let _ = tx.send(out);
    });
    let sender = office.serial.sender()?;
    office.group_enqueued();
    if sender.send((job, Arc::downgrade(office))).is_err() {
        office.group_dequeued();
        return Err(HubError::Internal(anyhow::anyhow!(
            "the request thread has stopped"
        )));
    }
    let (result, pending) = rx
        .await
        .map_err(|_| HubError::Internal(anyhow::anyhow!("the request failed on its thread")))?;
    if let Some(pending) = pending {
        pending.wait().await?;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use warta_api::{ItemContent, LoginRequest, NewUser, Role};

    fn office(dir: &std::path::Path) -> (Arc<Office>, crate::office::Caller) {
        let config = crate::HubConfig::solo(dir);
        let office = Arc::new(Office::open(config, Arc::new(crate::SystemClock)).unwrap());
        office
            .add_user(
                None,
                NewUser {
                    username: "rina".into(),
                    display_name: "Rina".into(),
                    password: "kata sandi yang panjang".into(),
                    roles: vec![Role::Reporter],
                    unit: String::new(),
                },
            )
            .unwrap();
        let token = office
            .login_from(
                LoginRequest {
                    username: "rina".into(),
                    password: "kata sandi yang panjang".into(),
                },
                None,
            )
            .unwrap()
            .token;
        let caller = office.authenticate(&token).unwrap();
        (office, caller)
    }

    fn content(title: &str) -> ItemContent {
        ItemContent {
            title: title.into(),
            summary: String::new(),
            body: "Isi.".into(),
            category: String::new(),
            tags: vec![],
            unit: String::new(),
        }
    }

    /// A write followed in the channel by a request that never asks for the connection: the
    /// writer leaves its group open for that next request, and the thread commits the group
    /// once its channel is empty — nothing else would (no other request comes here). A lost
    /// commit would leave the create unanswered; the limit only stops such a test from hanging.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_thread_commits_a_group_left_open_for_a_request_that_wrote_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let (office, caller) = office(dir.path());
        let (started_tx, started_rx) = tokio::sync::oneshot::channel::<()>();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let create = {
            let (office, caller) = (office.clone(), caller.clone());
            tokio::spawn(async move {
                serial(&office, move |o| {
                    // Wait until the next request is in the channel behind this one.
                    started_tx.send(()).unwrap();
                    go_rx.recv().unwrap();
                    o.create_item(&caller, content("Ditunggu"))
                })
                .await
            })
        };
        started_rx.await.unwrap();
        // The create is on the thread; queue a request that is refused before the database.
        let refused = {
            let office = office.clone();
            tokio::spawn(async move {
                serial(&office, |_| -> HubResult<()> {
                    Err(HubError::validation("limit", "refused before the database"))
                })
                .await
            })
        };
        while !office.group_queued() {
            tokio::task::yield_now().await;
        }
        go_tx.send(()).unwrap();
        let made = tokio::time::timeout(std::time::Duration::from_secs(60), create)
            .await
            .expect("the create was answered")
            .unwrap()
            .unwrap();
        assert!(refused.await.unwrap().is_err());
        // Committed: another connection sees it.
        let title: String = rusqlite::Connection::open(dir.path().join("warta.db"))
            .unwrap()
            .query_row("SELECT title FROM items WHERE id = ?1", [made.id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(title, "Ditunggu");
    }
}
