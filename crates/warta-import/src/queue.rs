//! The persisted queue: jobs and their files in a local SQLite file (WAL), so a job survives a
//! restart or a killed process and resumes where it stopped.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use warta_api::{ImportJob, ImportState};

use crate::ImportError;
use crate::scan::{self, FoundFile};

/// Numbered migrations; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_queue.sql"),
    include_str!("../migrations/0002_upload_url.sql"),
];

/// The state of one file of a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// Not attached yet (new, or interrupted before the hub confirmed it).
    Pending,
    /// The hub confirmed the attachment. Never redone.
    Done,
    /// Not attached on purpose: already on the item, or not a photo/document/video.
    Skipped,
    /// Could not be attached; retried when the job is run again.
    Failed,
}

impl FileState {
    fn as_str(self) -> &'static str {
        match self {
            FileState::Pending => "pending",
            FileState::Done => "done",
            FileState::Skipped => "skipped",
            FileState::Failed => "failed",
        }
    }

    fn parse(s: &str) -> FileState {
        match s {
            "done" => FileState::Done,
            "skipped" => FileState::Skipped,
            "failed" => FileState::Failed,
            _ => FileState::Pending,
        }
    }
}

/// One file of a job, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportFile {
    pub id: i64,
    pub job_id: i64,
    /// Relative to the job's folder, `/`-separated.
    pub path: String,
    pub size: u64,
    pub mtime_ns: i64,
    pub sha256: Option<String>,
    pub state: FileState,
    pub attachment_id: Option<i64>,
    /// Why it was skipped, or what went wrong.
    pub detail: Option<String>,
}

/// The import jobs of this computer. One per user profile; safe to share between threads.
pub struct ImportQueue {
    conn: Mutex<Connection>,
}

fn state_str(s: ImportState) -> &'static str {
    match s {
        ImportState::Queued => "queued",
        ImportState::Running => "running",
        ImportState::Done => "done",
        ImportState::Failed => "failed",
        ImportState::Cancelled => "cancelled",
    }
}

fn parse_state(s: &str) -> ImportState {
    match s {
        "running" => ImportState::Running,
        "done" => ImportState::Done,
        "failed" => ImportState::Failed,
        "cancelled" => ImportState::Cancelled,
        _ => ImportState::Queued,
    }
}

const JOB_COLUMNS: &str = "j.id, j.item_id, j.folder, j.state, j.bytes_sent, j.created_at,
    (SELECT count(*) FROM files f WHERE f.job_id = j.id),
    (SELECT count(*) FROM files f WHERE f.job_id = j.id AND f.state = 'done'),
    (SELECT count(*) FROM files f WHERE f.job_id = j.id AND f.state = 'skipped'),
    (SELECT count(*) FROM files f WHERE f.job_id = j.id AND f.state = 'failed')";

fn job_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImportJob> {
    let state: String = r.get(3)?;
    Ok(ImportJob {
        id: r.get(0)?,
        item_id: r.get(1)?,
        folder: r.get(2)?,
        state: parse_state(&state),
        bytes_sent: r.get::<_, i64>(4)?.max(0) as u64,
        created_at: r.get(5)?,
        total: r.get(6)?,
        done: r.get(7)?,
        skipped: r.get(8)?,
        failed: r.get(9)?,
    })
}

const FILE_COLUMNS: &str = "id, job_id, path, size, mtime_ns, sha256, state, attachment_id, detail";

fn file_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ImportFile> {
    let state: String = r.get(6)?;
    Ok(ImportFile {
        id: r.get(0)?,
        job_id: r.get(1)?,
        path: r.get(2)?,
        size: r.get::<_, i64>(3)?.max(0) as u64,
        mtime_ns: r.get(4)?,
        sha256: r.get(5)?,
        state: FileState::parse(&state),
        attachment_id: r.get(7)?,
        detail: r.get(8)?,
    })
}

impl ImportQueue {
    /// Opens (or creates) the queue at `path`, e.g. `<app data>/import.db`.
    pub fn open(path: &Path) -> Result<Self, ImportError> {
        let conn = Connection::open(path)?;
        // WAL: the app and a CLI may read the queue while a job writes to it.
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&conn)?;
        Ok(ImportQueue {
            conn: Mutex::new(conn),
        })
    }

    fn db(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Scans `folder` (recursively; hidden files and folders are ignored) and queues every
    /// regular file in it for item `item_id`. Created now (the system clock).
    pub fn enqueue(&self, item_id: i64, folder: &Path) -> Result<ImportJob, ImportError> {
        self.enqueue_at(item_id, folder, Utc::now())
    }

    /// [`ImportQueue::enqueue`] with the creation time passed in.
    pub fn enqueue_at(
        &self,
        item_id: i64,
        folder: &Path,
        now: DateTime<Utc>,
    ) -> Result<ImportJob, ImportError> {
        let folder = canonical(folder)?;
        let found = scan::scan(&folder)?;
        let mut conn = self.db();
        let tx = conn.transaction()?;
        let job = insert_job(&tx, item_id, &folder, &found, now)?;
        tx.commit()?;
        Ok(job)
    }

    /// Queues the files `paths` (picked one by one, e.g. attached to an outbox entry) for item
    /// `item_id`: one job per folder they are in, so a job still reads its files relative to its
    /// folder. Every path must be a readable regular file; otherwise nothing is queued.
    pub fn enqueue_files(
        &self,
        item_id: i64,
        paths: &[PathBuf],
        now: DateTime<Utc>,
    ) -> Result<Vec<ImportJob>, ImportError> {
        let mut by_folder: std::collections::BTreeMap<PathBuf, Vec<FoundFile>> =
            std::collections::BTreeMap::new();
        for path in paths {
            let io = |source| ImportError::Io {
                path: path.clone(),
                source,
            };
            let path = path.canonicalize().map_err(io)?;
            let meta = std::fs::metadata(&path).map_err(io)?;
            let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
                return Err(io(std::io::Error::other("not a file")));
            };
            if !meta.is_file() {
                return Err(io(std::io::Error::other("not a regular file")));
            }
            by_folder
                .entry(folder.to_path_buf())
                .or_default()
                .push(FoundFile {
                    path: name.to_string_lossy().into_owned(),
                    size: meta.len(),
                    mtime_ns: scan::mtime_ns(&meta),
                });
        }
        let mut conn = self.db();
        let tx = conn.transaction()?;
        let mut jobs = Vec::with_capacity(by_folder.len());
        for (folder, found) in by_folder {
            jobs.push(insert_job(&tx, item_id, &folder, &found, now)?);
        }
        tx.commit()?;
        Ok(jobs)
    }

    /// Every job, newest first.
    pub fn jobs(&self) -> Result<Vec<ImportJob>, ImportError> {
        let conn = self.db();
        let mut st = conn.prepare(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs j ORDER BY j.id DESC"
        ))?;
        let rows = st.query_map([], job_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn job(&self, id: i64) -> Result<Option<ImportJob>, ImportError> {
        Ok(load_job(&self.db(), id)?)
    }

    /// Jobs that were queued or running when the app stopped, oldest first: resume these at
    /// start-up.
    pub fn pending_jobs(&self) -> Result<Vec<ImportJob>, ImportError> {
        let conn = self.db();
        let mut st = conn.prepare(&format!(
            "SELECT {JOB_COLUMNS} FROM jobs j WHERE j.state IN ('queued', 'running') ORDER BY j.id"
        ))?;
        let rows = st.query_map([], job_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The newest job of `item_id` over `folder` that is not done (to resume instead of
    /// queuing the same folder again).
    pub fn unfinished_job(
        &self,
        item_id: i64,
        folder: &Path,
    ) -> Result<Option<ImportJob>, ImportError> {
        let folder = canonical(folder)?;
        let conn = self.db();
        Ok(conn
            .query_row(
                &format!(
                    "SELECT {JOB_COLUMNS} FROM jobs j
                     WHERE j.item_id = ?1 AND j.folder = ?2 AND j.state <> 'done'
                     ORDER BY j.id DESC LIMIT 1"
                ),
                params![item_id, folder.to_string_lossy()],
                job_from_row,
            )
            .optional()?)
    }

    /// Marks a job that is not running in this process as cancelled (a running one is stopped
    /// through the cancel flag given to [`crate::run`]). A done job stays done.
    pub fn cancel(&self, id: i64) -> Result<ImportJob, ImportError> {
        let conn = self.db();
        conn.execute(
            "UPDATE jobs SET state = 'cancelled' WHERE id = ?1 AND state <> 'done'",
            [id],
        )?;
        load_job(&conn, id)?.ok_or(ImportError::JobNotFound(id))
    }

    /// The files of a job, in path order.
    pub fn files(&self, job_id: i64) -> Result<Vec<ImportFile>, ImportError> {
        let conn = self.db();
        let mut st = conn.prepare(&format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE job_id = ?1 ORDER BY path"
        ))?;
        let rows = st.query_map([job_id], file_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    // ---- used by the runner ----

    pub(crate) fn set_state(&self, id: i64, state: ImportState) -> Result<(), ImportError> {
        self.db().execute(
            "UPDATE jobs SET state = ?2 WHERE id = ?1",
            params![id, state_str(state)],
        )?;
        Ok(())
    }

    /// Failed files get another try when a job is run again.
    pub(crate) fn retry_failed(&self, job_id: i64) -> Result<(), ImportError> {
        self.db().execute(
            "UPDATE files SET state = 'pending', detail = NULL WHERE job_id = ?1 AND state = 'failed'",
            [job_id],
        )?;
        Ok(())
    }

    pub(crate) fn pending_files(&self, job_id: i64) -> Result<Vec<ImportFile>, ImportError> {
        let conn = self.db();
        let mut st = conn.prepare(&format!(
            "SELECT {FILE_COLUMNS} FROM files WHERE job_id = ?1 AND state = 'pending' ORDER BY path"
        ))?;
        let rows = st.query_map([job_id], file_from_row)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records what became of a file, and the bytes sent for it, in one transaction.
    pub(crate) fn finish_file(
        &self,
        file_id: i64,
        outcome: &FileOutcome,
        bytes_sent: u64,
    ) -> Result<(), ImportError> {
        let mut conn = self.db();
        let tx = conn.transaction()?;
        let (state, attachment_id, detail) = match outcome {
            FileOutcome::Done { attachment_id } => (FileState::Done, Some(*attachment_id), None),
            FileOutcome::Skipped(reason) => (FileState::Skipped, None, Some(reason.as_str())),
            FileOutcome::Failed(error) => (FileState::Failed, None, Some(error.as_str())),
        };
        tx.execute(
            "UPDATE files SET state = ?2, attachment_id = ?3, detail = ?4,
                 upload_url = CASE WHEN ?2 = 'failed' THEN upload_url END
             WHERE id = ?1",
            params![file_id, state.as_str(), attachment_id, detail],
        )?;
        if bytes_sent > 0 {
            tx.execute(
                "UPDATE jobs SET bytes_sent = bytes_sent + ?2
                 WHERE id = (SELECT job_id FROM files WHERE id = ?1)",
                params![file_id, bytes_sent as i64],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub(crate) fn set_sha256(&self, file_id: i64, sha256: &str) -> Result<(), ImportError> {
        self.db().execute(
            "UPDATE files SET sha256 = ?2 WHERE id = ?1",
            params![file_id, sha256],
        )?;
        Ok(())
    }

    /// The address of the file's resumable upload on the hub, if one was started.
    pub(crate) fn upload_url(&self, file_id: i64) -> Result<Option<String>, ImportError> {
        Ok(self
            .db()
            .query_row(
                "SELECT upload_url FROM files WHERE id = ?1",
                [file_id],
                |r| r.get(0),
            )
            .optional()?
            .flatten())
    }

    pub(crate) fn set_upload_url(
        &self,
        file_id: i64,
        url: Option<&str>,
    ) -> Result<(), ImportError> {
        self.db().execute(
            "UPDATE files SET upload_url = ?2 WHERE id = ?1",
            params![file_id, url],
        )?;
        Ok(())
    }

    /// Bytes sent for files that were not confirmed (the process stopped mid-file) still count.
    pub(crate) fn add_bytes_sent(&self, job_id: i64, bytes: u64) -> Result<(), ImportError> {
        if bytes > 0 {
            self.db().execute(
                "UPDATE jobs SET bytes_sent = bytes_sent + ?2 WHERE id = ?1",
                params![job_id, bytes as i64],
            )?;
        }
        Ok(())
    }

    /// The folder a job reads from.
    pub(crate) fn folder(&self, job_id: i64) -> Result<PathBuf, ImportError> {
        let folder: String = self
            .db()
            .query_row("SELECT folder FROM jobs WHERE id = ?1", [job_id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or(ImportError::JobNotFound(job_id))?;
        Ok(PathBuf::from(folder))
    }
}

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FileOutcome {
    Done { attachment_id: i64 },
    Skipped(String),
    Failed(String),
}

fn canonical(folder: &Path) -> Result<PathBuf, ImportError> {
    folder.canonicalize().map_err(|source| ImportError::Io {
        path: folder.to_path_buf(),
        source,
    })
}

/// A queued job of `item_id` over `found` in `folder`.
fn insert_job(
    tx: &Transaction<'_>,
    item_id: i64,
    folder: &Path,
    found: &[FoundFile],
    now: DateTime<Utc>,
) -> Result<ImportJob, ImportError> {
    tx.execute(
        "INSERT INTO jobs (item_id, folder, state, created_at) VALUES (?1, ?2, 'queued', ?3)",
        params![item_id, folder.to_string_lossy(), now],
    )?;
    let job_id = tx.last_insert_rowid();
    insert_files(tx, job_id, found)?;
    load_job(tx, job_id)?.ok_or(ImportError::JobNotFound(job_id))
}

fn insert_files(tx: &Transaction<'_>, job_id: i64, found: &[FoundFile]) -> rusqlite::Result<()> {
    let mut st = tx.prepare(
        "INSERT OR IGNORE INTO files (job_id, path, size, mtime_ns) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for f in found {
        st.execute(params![job_id, f.path, f.size as i64, f.mtime_ns])?;
    }
    Ok(())
}

fn load_job(conn: &Connection, id: i64) -> rusqlite::Result<Option<ImportJob>> {
    conn.query_row(
        &format!("SELECT {JOB_COLUMNS} FROM jobs j WHERE j.id = ?1"),
        [id],
        job_from_row,
    )
    .optional()
}

fn migrate(conn: &Connection) -> Result<(), ImportError> {
    let done: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(done.max(0) as usize) {
        conn.execute_batch(&format!(
            "BEGIN; {sql}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}
