//! The reporter's outbox: drafts and submissions written on the laptop, kept in a local SQLite
//! file, and sent to the office's hub when it can be reached.
//!
//! An entry is the item's text, whether to submit it to the editor, and files on disk. Sending
//! one ([`Outbox::send_pending`]) is three steps, each recorded before the next starts, so a
//! killed app, a dropped network or a hub that went away carries on where it stopped:
//! 1. **create** the item with the entry's `Idempotency-Key` (a repeat after a lost answer
//!    returns the item made the first time), and keep the hub's id;
//! 2. **files**: queued once as upload jobs in the outbox's own [`ImportQueue`] (renditions
//!    made here, large files in resumable chunks; see `warta-import`), run until done;
//! 3. **submit**, when asked: only if the item still offers `submit` (a repeat after a lost
//!    answer finds it already moved on).
//!
//! Then the entry is `received`. An unreachable hub (or one answering 5xx) leaves the entry
//! `waiting` and stops the round; a refusal (4xx) or unreadable files make it `failed`, sent
//! again only when the reporter asks ([`Outbox::retry`]).
//!
//! Architecture Invariant: no `tauri` here; the shell runs the sending loop and forwards
//! [`OutboxEvents`] to the window.
#![forbid(unsafe_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use warta_api::{
    ActionRequest, ErrorCode, ImportEvent, ImportState, ItemContent, NewOutboxEntry, OutboxEntry,
    OutboxProblem, OutboxProblemCode, OutboxState,
};
use warta_client::{ClientError, HubClient};
use warta_import::{FileState, ImportError, ImportEvents, ImportQueue, RunOptions};

/// Numbered migrations; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[include_str!("../migrations/0001_outbox.sql")];

/// A request to the hub that has not answered in this long counts as "no connection".
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Received entries are listed for this long, then forgotten (the hub has them).
pub const KEEP_RECEIVED: chrono::TimeDelta = chrono::TimeDelta::days(7);

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("no outbox entry {0}")]
    NotFound(i64),
    #[error("the title is empty")]
    EmptyTitle,
    /// A file attached to a new entry cannot be read.
    #[error("cannot read {}: {source}", .path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The entry is being sent right now; try again when it is not.
    #[error("outbox entry {0} is being sent")]
    Busy(i64),
    #[error("the outbox database failed: {0}")]
    Db(#[from] rusqlite::Error),
    #[error(transparent)]
    Import(#[from] ImportError),
}

pub type OutboxResult<T> = Result<T, OutboxError>;

/// Where the outbox reports changes (state, percent). Called while sending; keep it quick.
pub trait OutboxEvents: Send + Sync {
    fn changed(&self, entry: &OutboxEntry);
}

impl OutboxEvents for () {
    fn changed(&self, _entry: &OutboxEntry) {}
}

/// What one sending round did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SendReport {
    pub received: usize,
    pub failed: usize,
    /// Why the round stopped before the end: the hub cannot be reached (`Offline`), or there
    /// is no valid session (`SignedOut`). `None`: nothing is left to send.
    pub stopped: Option<OutboxProblemCode>,
}

/// The outbox of one hub on this laptop. Safe to share between threads.
pub struct Outbox {
    conn: Mutex<Connection>,
    files: ImportQueue,
    /// Percent of the entry being sent (the one in flight).
    sending: Mutex<HashMap<i64, u8>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // SQLite stays consistent if a holder panicked (transactions roll back).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn state_str(s: OutboxState) -> &'static str {
    match s {
        OutboxState::Waiting => "waiting",
        OutboxState::Sending => "sending",
        OutboxState::Received => "received",
        OutboxState::Failed => "failed",
    }
}

fn parse_state(s: &str) -> OutboxState {
    match s {
        "sending" => OutboxState::Sending,
        "received" => OutboxState::Received,
        "failed" => OutboxState::Failed,
        _ => OutboxState::Waiting,
    }
}

/// Why sending one entry stopped.
enum Stop {
    /// Keep it waiting and end the round (no connection, no session).
    Wait(OutboxProblem),
    /// Mark it failed and go on with the next entry.
    Fail(OutboxProblem),
    /// The outbox itself failed (its database).
    Local(OutboxError),
}

fn problem(code: OutboxProblemCode, hub_code: Option<ErrorCode>, message: String) -> OutboxProblem {
    OutboxProblem {
        code,
        hub_code,
        message,
    }
}

impl From<ClientError> for Stop {
    fn from(e: ClientError) -> Self {
        let message = e.to_string();
        match &e {
            ClientError::Network(_) => {
                Stop::Wait(problem(OutboxProblemCode::Offline, None, message))
            }
            // A proxy answering for a hub that is restarting, or the hub failing: try later.
            ClientError::Api { status, .. } if *status >= 500 => {
                Stop::Wait(problem(OutboxProblemCode::Offline, e.code(), message))
            }
            ClientError::Api { error, .. } if error.code == ErrorCode::Unauthenticated => {
                Stop::Wait(problem(
                    OutboxProblemCode::SignedOut,
                    Some(error.code),
                    message,
                ))
            }
            ClientError::Api { error, .. } => Stop::Fail(problem(
                OutboxProblemCode::Refused,
                Some(error.code),
                message,
            )),
            ClientError::File { .. } => {
                Stop::Fail(problem(OutboxProblemCode::Files, None, message))
            }
            ClientError::Decode(_) => {
                Stop::Fail(problem(OutboxProblemCode::Refused, None, message))
            }
        }
    }
}

impl From<OutboxError> for Stop {
    fn from(e: OutboxError) -> Self {
        match e {
            OutboxError::Import(ImportError::Hub(client)) => client.into(),
            OutboxError::Import(ImportError::Io { .. }) | OutboxError::File { .. } => {
                Stop::Fail(problem(OutboxProblemCode::Files, None, e.to_string()))
            }
            other => Stop::Local(other),
        }
    }
}

impl From<rusqlite::Error> for Stop {
    fn from(e: rusqlite::Error) -> Self {
        Stop::Local(e.into())
    }
}

/// A hub call bounded by [`REQUEST_TIMEOUT`]: a connection that stopped answering counts as none.
async fn bounded<T>(call: impl Future<Output = Result<T, ClientError>>) -> Result<T, Stop> {
    match tokio::time::timeout(REQUEST_TIMEOUT, call).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(Stop::Wait(problem(
            OutboxProblemCode::Offline,
            None,
            format!(
                "the hub did not answer within {} s",
                REQUEST_TIMEOUT.as_secs()
            ),
        ))),
    }
}

/// A row of `entries`, as stored.
struct Row {
    id: i64,
    key: String,
    content: ItemContent,
    submit: bool,
    state: OutboxState,
    item_id: Option<i64>,
    files_queued: bool,
    submitted: bool,
    problem: Option<OutboxProblem>,
    created_at: DateTime<Utc>,
    received_at: Option<DateTime<Utc>>,
}

const ROW_COLUMNS: &str = "id, key, content, submit, state, item_id, files_queued, submitted, problem, created_at, received_at";

fn row_from(r: &rusqlite::Row<'_>) -> rusqlite::Result<Row> {
    let content: String = r.get(2)?;
    let state: String = r.get(4)?;
    let problem: Option<String> = r.get(8)?;
    Ok(Row {
        id: r.get(0)?,
        key: r.get(1)?,
        content: serde_json::from_str(&content).map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(2, rusqlite::types::Type::Text, e.into())
        })?,
        submit: r.get(3)?,
        state: parse_state(&state),
        item_id: r.get(5)?,
        files_queued: r.get(6)?,
        submitted: r.get(7)?,
        // An unreadable problem is only a missing explanation.
        problem: problem.and_then(|p| serde_json::from_str(&p).ok()),
        created_at: r.get(9)?,
        received_at: r.get(10)?,
    })
}

impl Outbox {
    /// Opens (or creates) the outbox at `path` (e.g. `<app data>/outbox.db`); its files travel
    /// through an import queue of its own at `files_path`, apart from the batch imports the
    /// reporter starts by hand.
    pub fn open(path: &Path, files_path: &Path) -> OutboxResult<Self> {
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        migrate(&conn)?;
        Ok(Outbox {
            conn: Mutex::new(conn),
            files: ImportQueue::open(files_path)?,
            sending: Mutex::new(HashMap::new()),
        })
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        lock(&self.conn)
    }

    /// Keeps a new entry. Its files must be readable now (they are read again when sent).
    pub fn add(&self, new: NewOutboxEntry, now: DateTime<Utc>) -> OutboxResult<OutboxEntry> {
        if new.content.title.trim().is_empty() {
            return Err(OutboxError::EmptyTitle);
        }
        let mut files: Vec<(String, u64)> = Vec::with_capacity(new.files.len());
        for name in &new.files {
            let path = PathBuf::from(name);
            let file_error = |source| OutboxError::File {
                path: path.clone(),
                source,
            };
            let meta = std::fs::metadata(&path).map_err(file_error)?;
            if !meta.is_file() {
                return Err(file_error(std::io::Error::other("not a file")));
            }
            // Readable, not only present.
            std::fs::File::open(&path).map_err(file_error)?;
            let path = path.canonicalize().map_err(file_error)?;
            let path = path.to_string_lossy().into_owned();
            if !files.iter().any(|(p, _)| *p == path) {
                files.push((path, meta.len()));
            }
        }
        let key = hex::encode(rand::random::<[u8; 16]>());
        let content = serde_json::to_string(&new.content).expect("ItemContent serialises");
        let id = {
            let mut conn = self.db();
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO entries (key, content, submit, created_at) VALUES (?1, ?2, ?3, ?4)",
                params![key, content, new.submit, now],
            )?;
            let id = tx.last_insert_rowid();
            for (path, size) in &files {
                tx.execute(
                    "INSERT INTO entry_files (entry_id, path, size) VALUES (?1, ?2, ?3)",
                    params![id, path, *size as i64],
                )?;
            }
            tx.commit()?;
            id
        };
        self.entry(id)
    }

    /// Every entry, newest first. Received entries older than [`KEEP_RECEIVED`] are dropped.
    pub fn entries(&self, now: DateTime<Utc>) -> OutboxResult<Vec<OutboxEntry>> {
        self.db().execute(
            "DELETE FROM entries WHERE state = 'received' AND received_at < ?1",
            [now - KEEP_RECEIVED],
        )?;
        let ids: Vec<i64> = {
            let conn = self.db();
            let mut st = conn.prepare("SELECT id FROM entries ORDER BY id DESC")?;
            st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
        };
        ids.into_iter().map(|id| self.entry(id)).collect()
    }

    /// One entry, with how far it got.
    pub fn entry(&self, id: i64) -> OutboxResult<OutboxEntry> {
        let row = self.row(id)?;
        let (files, files_sent, done_share) = self.file_progress(id)?;
        let percent = match row.state {
            OutboxState::Received => 100,
            OutboxState::Sending => lock(&self.sending)
                .get(&id)
                .copied()
                .unwrap_or_else(|| share_percent(done_share)),
            _ => share_percent(done_share),
        };
        Ok(OutboxEntry {
            id: row.id,
            paths: self.paths(id)?,
            content: row.content,
            submit: row.submit,
            state: row.state,
            percent,
            item_id: row.item_id,
            files,
            files_sent,
            problem: row.problem,
            created_at: row.created_at,
            received_at: row.received_at,
        })
    }

    /// Whether anything is left to send.
    pub fn has_pending(&self) -> OutboxResult<bool> {
        Ok(self.db().query_row(
            "SELECT EXISTS (SELECT 1 FROM entries WHERE state IN ('waiting', 'sending'))",
            [],
            |r| r.get(0),
        )?)
    }

    /// Forgets an entry (one not received yet is not sent; the hub may already have its item
    /// as a draft if sending had started).
    pub fn remove(&self, id: i64) -> OutboxResult<()> {
        if lock(&self.sending).contains_key(&id) {
            return Err(OutboxError::Busy(id));
        }
        let gone = self
            .db()
            .execute("DELETE FROM entries WHERE id = ?1", [id])?;
        if gone == 0 {
            return Err(OutboxError::NotFound(id));
        }
        Ok(())
    }

    /// Makes a failed entry wait to be sent again (its failed files are tried again too).
    pub fn retry(&self, id: i64) -> OutboxResult<OutboxEntry> {
        let changed = self.db().execute(
            "UPDATE entries SET state = 'waiting', problem = NULL WHERE id = ?1 AND state = 'failed'",
            [id],
        )?;
        if changed == 0 {
            self.row(id)?; // NotFound, or not failed: nothing to do
        }
        self.entry(id)
    }

    /// Sends every waiting entry, oldest first, as the user `client` is signed in as. Stops at
    /// the first sign that the hub cannot be reached or the session is gone; entries the hub
    /// refuses are marked failed and the round goes on.
    pub async fn send_pending(
        &self,
        client: &HubClient,
        events: &dyn OutboxEvents,
        now: impl Fn() -> DateTime<Utc>,
    ) -> OutboxResult<SendReport> {
        let ids: Vec<i64> = {
            let conn = self.db();
            let mut st = conn.prepare(
                "SELECT id FROM entries WHERE state IN ('waiting', 'sending') ORDER BY id",
            )?;
            st.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?
        };
        let mut report = SendReport::default();
        for id in ids {
            lock(&self.sending).insert(id, self.entry(id)?.percent);
            let outcome = self.send_one(id, client, events, &now).await;
            lock(&self.sending).remove(&id);
            match outcome {
                Ok(()) => {
                    self.db().execute(
                        "UPDATE entries SET state = 'received', problem = NULL, received_at = ?2 WHERE id = ?1",
                        params![id, now()],
                    )?;
                    report.received += 1;
                    events.changed(&self.entry(id)?);
                }
                Err(Stop::Wait(p)) => {
                    let code = p.code;
                    self.set_state(id, OutboxState::Waiting, Some(&p))?;
                    events.changed(&self.entry(id)?);
                    report.stopped = Some(code);
                    // Mark the others too, so the window says why they wait.
                    self.db().execute(
                        "UPDATE entries SET problem = ?2 WHERE id <> ?1 AND state = 'waiting'",
                        params![id, serde_json::to_string(&p).expect("problem serialises")],
                    )?;
                    return Ok(report);
                }
                Err(Stop::Fail(p)) => {
                    tracing::warn!(entry = id, "outbox entry failed: {}", p.message);
                    self.set_state(id, OutboxState::Failed, Some(&p))?;
                    report.failed += 1;
                    events.changed(&self.entry(id)?);
                }
                Err(Stop::Local(e)) => {
                    // The entry stays as it was (waiting or sending: tried again next round).
                    return Err(e);
                }
            }
        }
        Ok(report)
    }

    async fn send_one(
        &self,
        id: i64,
        client: &HubClient,
        events: &dyn OutboxEvents,
        now: &impl Fn() -> DateTime<Utc>,
    ) -> Result<(), Stop> {
        self.set_state(id, OutboxState::Sending, None)?;
        events.changed(&self.entry(id)?);
        let row = self.row(id)?;

        // 1. The item, once.
        let item_id = match row.item_id {
            Some(item_id) => item_id,
            None => {
                let item = bounded(client.create_item_once(&row.content, &row.key)).await?;
                self.db().execute(
                    "UPDATE entries SET item_id = ?2 WHERE id = ?1",
                    params![id, item.id],
                )?;
                events.changed(&self.entry(id)?);
                item.id
            }
        };

        // 2. Its files, queued once, then sent until every one is done.
        if !row.files_queued {
            self.queue_files(id, item_id, now())?;
        }
        let jobs = self.jobs(id)?;
        let progress = Progress {
            outbox: self,
            entry_id: id,
            events,
            in_flight: Mutex::new(HashMap::new()),
        };
        let never = AtomicBool::new(false);
        let mut failed_files = Vec::new();
        for job_id in jobs {
            let job = warta_import::run(
                &self.files,
                job_id,
                client,
                &progress,
                &never,
                RunOptions::default(),
            )
            .await
            .map_err(OutboxError::from)?;
            if job.state != ImportState::Done {
                for f in self.files.files(job_id).map_err(OutboxError::from)? {
                    if f.state == FileState::Failed {
                        failed_files.push(format!("{}: {}", f.path, f.detail.unwrap_or_default()));
                    }
                }
            }
        }
        if !failed_files.is_empty() {
            return Err(Stop::Fail(problem(
                OutboxProblemCode::Files,
                None,
                format!("not sent: {}", failed_files.join("; ")),
            )));
        }

        // 3. The submission, once: a repeat finds the item already moved on.
        if row.submit && !row.submitted {
            let item = bounded(client.item(item_id)).await?;
            if item.actions.iter().any(|a| a.id == "submit") {
                match bounded(client.act(item_id, "submit", &ActionRequest::default())).await {
                    Ok(_) => {}
                    // Someone moved it on between the two requests: it is submitted.
                    Err(Stop::Fail(p)) if p.hub_code == Some(ErrorCode::InvalidTransition) => {}
                    Err(stop) => return Err(stop),
                }
            }
            self.db()
                .execute("UPDATE entries SET submitted = 1 WHERE id = ?1", [id])?;
        }
        Ok(())
    }

    fn queue_files(&self, id: i64, item_id: i64, now: DateTime<Utc>) -> Result<(), Stop> {
        let paths: Vec<PathBuf> = self.paths(id)?.into_iter().map(PathBuf::from).collect();
        let jobs = if paths.is_empty() {
            Vec::new()
        } else {
            self.files
                .enqueue_files(item_id, &paths, now)
                .map_err(OutboxError::from)?
        };
        let mut conn = self.db();
        let tx = conn.transaction()?;
        for job in &jobs {
            tx.execute(
                "INSERT INTO entry_jobs (entry_id, job_id) VALUES (?1, ?2)",
                params![id, job.id],
            )?;
        }
        tx.execute("UPDATE entries SET files_queued = 1 WHERE id = ?1", [id])?;
        tx.commit()?;
        Ok(())
    }

    /// The entry's files, in path order.
    fn paths(&self, id: i64) -> OutboxResult<Vec<String>> {
        let conn = self.db();
        let mut st =
            conn.prepare("SELECT path FROM entry_files WHERE entry_id = ?1 ORDER BY path")?;
        Ok(st
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    fn jobs(&self, id: i64) -> OutboxResult<Vec<i64>> {
        let conn = self.db();
        let mut st =
            conn.prepare("SELECT job_id FROM entry_jobs WHERE entry_id = ?1 ORDER BY job_id")?;
        Ok(st
            .query_map([id], |r| r.get(0))?
            .collect::<Result<_, _>>()?)
    }

    fn row(&self, id: i64) -> OutboxResult<Row> {
        self.db()
            .query_row(
                &format!("SELECT {ROW_COLUMNS} FROM entries WHERE id = ?1"),
                [id],
                row_from,
            )
            .optional()?
            .ok_or(OutboxError::NotFound(id))
    }

    fn set_state(
        &self,
        id: i64,
        state: OutboxState,
        problem: Option<&OutboxProblem>,
    ) -> OutboxResult<()> {
        let problem = problem.map(|p| serde_json::to_string(p).expect("problem serialises"));
        self.db().execute(
            "UPDATE entries SET state = ?2, problem = ?3 WHERE id = ?1",
            params![id, state_str(state), problem],
        )?;
        Ok(())
    }

    /// (files, files the hub has, share of the entry's bytes done) — from the upload jobs,
    /// plus `extra` bytes of a file in flight.
    fn file_progress(&self, id: i64) -> OutboxResult<(u32, u32, f64)> {
        self.file_progress_with(id, 0)
    }

    fn file_progress_with(&self, id: i64, extra: u64) -> OutboxResult<(u32, u32, f64)> {
        let (count, total): (u32, i64) = self.db().query_row(
            "SELECT count(*), coalesce(sum(size), 0) FROM entry_files WHERE entry_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut sent = 0u32;
        let mut done_bytes = extra;
        for job_id in self.jobs(id)? {
            for f in self.files.files(job_id)? {
                if matches!(f.state, FileState::Done | FileState::Skipped) {
                    sent += 1;
                    done_bytes += f.size;
                }
            }
        }
        let share = if total > 0 {
            (done_bytes as f64 / total as f64).min(1.0)
        } else {
            0.0
        };
        Ok((count, sent, share))
    }
}

/// A share of the bytes as a percent that reaches 100 only when the entry is received.
fn share_percent(share: f64) -> u8 {
    ((share * 100.0).floor() as u8).min(99)
}

/// Turns an entry's upload events into its percent, reported when it changes.
struct Progress<'a> {
    outbox: &'a Outbox,
    entry_id: i64,
    events: &'a dyn OutboxEvents,
    /// Confirmed bytes of large files in flight, by (job, path).
    in_flight: Mutex<HashMap<(i64, String), u64>>,
}

impl ImportEvents for Progress<'_> {
    fn emit(&self, ev: ImportEvent) {
        {
            let mut in_flight = lock(&self.in_flight);
            match &ev {
                ImportEvent::FileProgress {
                    job_id, path, sent, ..
                } => {
                    in_flight.insert((*job_id, path.clone()), *sent);
                }
                ImportEvent::FileDone { job_id, path, .. }
                | ImportEvent::FileSkipped { job_id, path, .. }
                | ImportEvent::FileFailed { job_id, path, .. } => {
                    in_flight.remove(&(*job_id, path.clone()));
                }
                ImportEvent::Progress(_) | ImportEvent::Finished(_) => {}
            }
        }
        let extra: u64 = lock(&self.in_flight).values().sum();
        let Ok((_, _, share)) = self.outbox.file_progress_with(self.entry_id, extra) else {
            return;
        };
        let percent = share_percent(share);
        let changed = {
            let mut sending = lock(&self.outbox.sending);
            let before = sending.insert(self.entry_id, percent);
            before != Some(percent)
        };
        if changed && let Ok(entry) = self.outbox.entry(self.entry_id) {
            self.events.changed(&entry);
        }
    }
}

fn migrate(conn: &Connection) -> OutboxResult<()> {
    let done: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}
