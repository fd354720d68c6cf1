//! SQLite connection set-up and numbered migrations.

use anyhow::Context;
use rusqlite::Connection;
use std::path::Path;

/// Migrations in order; `PRAGMA user_version` records how many were applied.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_media.sql"),
    include_str!("../migrations/0003_publishing.sql"),
    include_str!("../migrations/0004_lock_activity.sql"),
    include_str!("../migrations/0005_uploads.sql"),
    include_str!("../migrations/0006_search.sql"),
    include_str!("../migrations/0007_sessions_units.sql"),
    include_str!("../migrations/0008_session_address.sql"),
    include_str!("../migrations/0009_idempotent_create.sql"),
    include_str!("../migrations/0010_video_web_copy.sql"),
    include_str!("../migrations/0011_blob_grants.sql"),
    include_str!("../migrations/0012_site_backups.sql"),
    include_str!("../migrations/0013_guard.sql"),
    include_str!("../migrations/0014_incidents.sql"),
    // 0015 is kept for the hub performance work.
    include_str!("../migrations/0015_report_indexes.sql"),
];

/// Opens the database file (creating it), in WAL mode, and brings the schema up to date.
pub fn open(path: &Path) -> anyhow::Result<Connection> {
    let mut conn =
        Connection::open(path).with_context(|| format!("opening database {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    // Savepoint journals in memory: every request writes inside a savepoint of its group's
    // transaction (see `Office::db`), and once a savepoint's journal passed 64 KiB SQLite
    // spilled it to a temporary file for the rest of the transaction — a write system call
    // per page a request touched (8 % of the hub's time under load).
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Checkpoints are the `Checkpointer`'s job, off the request path; this is only the
    // backstop should it fall far behind (the WAL would reach about 80 MB).
    conn.pragma_update(None, "wal_autocheckpoint", BACKSTOP_CHECKPOINT_PAGES)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    migrate(&mut conn)?;
    Ok(conn)
}

fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let applied: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if applied > MIGRATIONS.len() {
        anyhow::bail!(
            "the database was written by a newer Warta (schema {applied}, this build knows {})",
            MIGRATIONS.len()
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        let tx = conn.transaction()?; // own connection, before any Office exists
        tx.execute_batch(sql)
            .with_context(|| format!("applying migration {}", i + 1))?;
        tx.pragma_update(None, "user_version", i + 1)?;
        tx.commit()?;
    }
    Ok(())
}

/// Runs a query and collects every row through `f`.
pub fn all<T, P: rusqlite::Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    f: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    conn.prepare_cached(sql)?.query_map(params, f)?.collect()
}

/// Statements the hub runs again and again are compiled once per connection: parsing SQL was
/// a third of the cost of creating an item. Same meaning as `execute` and `query_row`.
pub trait Cached {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize>;
    fn row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl Cached for Connection {
    fn exec<P: rusqlite::Params>(&self, sql: &str, params: P) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T, P: rusqlite::Params>(
        &self,
        sql: &str,
        params: P,
        f: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }
}

/// Distinct statements kept compiled per connection (rusqlite's default is 16).
const STATEMENT_CACHE: usize = 256;

/// WAL pages after which a committing writer checkpoints itself (SQLite's default is 1000).
const BACKSTOP_CHECKPOINT_PAGES: i64 = 20_000;

/// How often the background checkpoint runs.
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Copies the write-ahead log back into the database on its own thread and connection, every
/// half second. A checkpoint (page copies and an fsync) in the committing request instead
/// was a fifth of the cost of creating an item, paid while every other writer waited. PASSIVE:
/// it never blocks readers or the writer; what it cannot copy yet it copies next time.
pub struct Checkpointer {
    stop: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Checkpointer {
    pub fn start(path: &Path) -> anyhow::Result<Checkpointer> {
        let conn = Connection::open(path)
            .with_context(|| format!("opening database {}", path.display()))?;
        conn.busy_timeout(std::time::Duration::from_secs(1))?;
        let stop = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let flag = stop.clone();
        let thread = std::thread::Builder::new()
            .name("warta-checkpoint".into())
            .spawn(move || {
                let (lock, cvar) = &*flag;
                let mut stopped = lock.lock().unwrap_or_else(|e| e.into_inner());
                loop {
                    let (guard, _) = cvar
                        .wait_timeout(stopped, CHECKPOINT_EVERY)
                        .unwrap_or_else(|e| e.into_inner());
                    stopped = guard;
                    if *stopped {
                        return;
                    }
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                    {
                        tracing::warn!("background checkpoint: {e}");
                    }
                }
            })?;
        Ok(Checkpointer {
            stop,
            thread: Some(thread),
        })
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        *self.stop.0.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.stop.1.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_background_checkpointer_copies_the_log_into_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warta.db");
        let conn = open(&path).unwrap();
        let size = || std::fs::metadata(&path).unwrap().len();
        // Only the backstop would checkpoint on commit, and this stays far below it.
        conn.execute_batch("CREATE TABLE t (x TEXT)").unwrap();
        conn.execute_batch("BEGIN").unwrap();
        for i in 0..2_000 {
            conn.exec(
                "INSERT INTO t VALUES (?1)",
                [format!("row {i} {}", "x".repeat(200))],
            )
            .unwrap();
        }
        conn.execute_batch("COMMIT").unwrap();
        let before = size();
        let _checkpointer = Checkpointer::start(&path).unwrap();
        let t0 = std::time::Instant::now();
        while size() <= before && t0.elapsed() < std::time::Duration::from_secs(20) {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            size() > before + 200_000,
            "the database file did not receive the logged pages ({before} -> {})",
            size()
        );
    }
}

#[cfg(test)]
mod group_commit_rules {
    /// `Office::db()` hands out the connection inside an open group transaction; a
    /// `transaction()` in there fails ("cannot start a transaction within a transaction").
    /// Writers use `savepoint()`. Only the hub's own connections matter: files opened on their
    /// own connection (backups) may use what they like, so they say so with `own connection`.
    #[test]
    fn hub_code_opens_savepoints_not_transactions() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            for (n, line) in text.lines().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if code.contains(".transaction()") && !line.contains("own connection") {
                    offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
                }
            }
        }
        assert!(
            offenders.is_empty(),
            "use conn.savepoint() inside Office::db() (group commit):\n{}",
            offenders.join("\n")
        );
    }
}
