//! Rows the hub reads on (almost) every request, kept in memory so those requests need no turn
//! at the one database connection (and no blocking thread): who a bearer token belongs to
//! ([`SessionCache`]) and the office's media settings ([`Memo`]).
//!
//! Correctness rests on one rule: **any change to a table a copy was read from empties that
//! copy**, at the moment SQLite executes it. [`watch`] installs an update hook on the hub's
//! connection — the only connection in the process that writes these tables — so no code path
//! can change a user, a session or a setting without the copy hearing of it: signing out,
//! ending sessions, deactivating a user, changing roles, units or passwords, signing in. A
//! revoked token is therefore refused on the very next request. A change that is later rolled
//! back has only emptied the cache, which costs one database read per token.
//!
//! A lookup that missed reads the database under the connection's lock and records the cache's
//! generation first; it stores what it read only if no change came in between
//! ([`SessionCache::insert`]), so a read older than a revocation is never remembered.
//! Expiry is checked against the hub's clock on every hit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use rusqlite::Connection;

use crate::office::Caller;
use warta_api::MediaSettings;

/// Copies kept in memory, each emptied when SQLite changes a row of the tables it was read
/// from. The one update hook of the hub's connection.
pub(crate) fn watch(
    conn: &Connection,
    sessions: &Arc<SessionCache>,
    media: &Arc<Memo<MediaSettings>>,
) {
    let (sessions, media) = (Arc::downgrade(sessions), Arc::downgrade(media));
    conn.update_hook(Some(
        move |_: rusqlite::hooks::Action, _: &str, table: &str, _: i64| match table {
            "users" | "sessions" => {
                if let Some(c) = sessions.upgrade() {
                    c.invalidate();
                }
            }
            "settings" => {
                if let Some(m) = media.upgrade() {
                    m.clear();
                }
            }
            _ => {}
        },
    ));
}

/// One value read from the database, kept until a change to its table empties it. Filled only
/// while holding the hub's connection (see [`Memo::get_or_load`]), where every change happens
/// too, so a value older than a change is never kept.
pub(crate) struct Memo<T>(Mutex<Option<T>>);

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Memo(Mutex::new(None))
    }
}

impl<T: Clone> Memo<T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<T>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn get(&self) -> Option<T> {
        self.lock().clone()
    }

    /// Loads the value with `load` on the held connection `conn` when none is kept.
    pub(crate) fn get_or_load<E>(
        &self,
        conn: &Connection,
        load: impl FnOnce(&Connection) -> Result<T, E>,
    ) -> Result<T, E> {
        if let Some(v) = self.get() {
            return Ok(v);
        }
        let v = load(conn)?;
        *self.lock() = Some(v.clone());
        Ok(v)
    }

    pub(crate) fn clear(&self) {
        *self.lock() = None;
    }
}

/// Sessions remembered at most; when full, the cache starts over (misses only cost a read).
const CAPACITY: usize = 10_000;

#[derive(Default)]
pub(crate) struct SessionCache {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    /// Bumped by every change to users or sessions.
    generation: u64,
    /// By the token's SHA-256 (as stored in `sessions.token_hash`), never the token.
    sessions: HashMap<String, Entry>,
}

struct Entry {
    caller: Caller,
    expires_at: DateTime<Utc>,
}

impl SessionCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn invalidate(&self) {
        let mut inner = self.lock();
        inner.generation += 1;
        inner.sessions.clear();
    }

    /// The generation to hand back to [`insert`](Self::insert); read it while holding the
    /// database connection, before reading the session.
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// The caller of a live session, if remembered. An expired one is forgotten.
    pub(crate) fn get(&self, token_hash: &str, now: DateTime<Utc>) -> Option<Caller> {
        let mut inner = self.lock();
        match inner.sessions.get(token_hash) {
            Some(e) if e.expires_at > now => Some(e.caller.clone()),
            Some(_) => {
                inner.sessions.remove(token_hash);
                None
            }
            None => None,
        }
    }

    /// Remembers a live session read from the database, unless users or sessions changed since
    /// `generation` was read (then what was read may already be stale).
    pub(crate) fn insert(
        &self,
        generation: u64,
        token_hash: String,
        caller: Caller,
        expires_at: DateTime<Utc>,
    ) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        if inner.sessions.len() >= CAPACITY {
            inner.sessions.clear();
        }
        inner
            .sessions
            .insert(token_hash, Entry { caller, expires_at });
    }

    pub(crate) fn len(&self) -> usize {
        self.lock().sessions.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn caller() -> Caller {
        Caller {
            id: 1,
            username: "rina".into(),
            display_name: "Rina".into(),
            roles: vec![warta_api::Role::Reporter],
            unit: String::new(),
            session_id: Some(7),
        }
    }

    #[test]
    fn a_write_to_users_or_sessions_empties_the_cache_and_other_tables_do_not() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE users (id INTEGER PRIMARY KEY, x TEXT);
             CREATE TABLE sessions (id INTEGER PRIMARY KEY, x TEXT);
             CREATE TABLE items (id INTEGER PRIMARY KEY, x TEXT);
             INSERT INTO users (x) VALUES ('a'); INSERT INTO sessions (x) VALUES ('a');",
        )
        .unwrap();
        let cache = Arc::new(SessionCache::default());
        watch(&conn, &cache, &Arc::default());
        let now = Utc::now();
        let fill = || {
            cache.insert(
                cache.generation(),
                "h".into(),
                caller(),
                now + Duration::hours(1),
            );
            assert!(cache.get("h", now).is_some());
        };
        fill();
        conn.execute("INSERT INTO items (x) VALUES ('b')", [])
            .unwrap();
        conn.execute("UPDATE items SET x = 'c'", []).unwrap();
        assert!(cache.get("h", now).is_some(), "items are not watched");
        for sql in [
            "UPDATE sessions SET x = 'revoked'",
            "UPDATE users SET x = 'inactive'",
            "INSERT INTO sessions (x) VALUES ('new')",
            "DELETE FROM users WHERE id = 1",
        ] {
            fill();
            conn.execute(sql, []).unwrap();
            assert!(cache.get("h", now).is_none(), "still cached after {sql}");
        }
    }

    #[test]
    fn a_read_older_than_a_change_is_not_remembered() {
        let cache = SessionCache::default();
        let now = Utc::now();
        let generation = cache.generation();
        cache.invalidate(); // a revocation between the read and the insert
        cache.insert(generation, "h".into(), caller(), now + Duration::hours(1));
        assert!(cache.get("h", now).is_none());
        assert_eq!(cache.len(), 0);
    }

    #[test]
    fn an_expired_session_is_forgotten() {
        let cache = SessionCache::default();
        let now = Utc::now();
        cache.insert(
            cache.generation(),
            "h".into(),
            caller(),
            now + Duration::minutes(1),
        );
        assert!(cache.get("h", now).is_some());
        assert!(cache.get("h", now + Duration::minutes(1)).is_none());
        assert_eq!(cache.len(), 0);
    }
}

#[cfg(test)]
mod memo_tests {
    use super::*;

    #[test]
    fn a_write_to_settings_empties_the_media_settings_and_other_writes_do_not() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT);
             CREATE TABLE items (id INTEGER PRIMARY KEY, x TEXT);",
        )
        .unwrap();
        let media: Arc<Memo<MediaSettings>> = Arc::default();
        watch(&conn, &Arc::default(), &media);
        let loads = std::cell::Cell::new(0);
        let load = |_: &Connection| {
            loads.set(loads.get() + 1);
            Ok::<_, ()>(crate::media::default_settings(1 << 20))
        };
        media.get_or_load(&conn, load).unwrap();
        media.get_or_load(&conn, load).unwrap();
        assert_eq!(loads.get(), 1, "kept after the first read");
        conn.execute("INSERT INTO items (x) VALUES ('a')", [])
            .unwrap();
        assert!(media.get().is_some(), "items are not watched");
        for sql in [
            "INSERT INTO settings VALUES ('media', '{}')",
            "UPDATE settings SET value = '[]'",
            "DELETE FROM settings WHERE key = 'media'",
        ] {
            media.get_or_load(&conn, load).unwrap();
            conn.execute(sql, []).unwrap();
            assert!(media.get().is_none(), "still kept after {sql}");
        }
    }

    /// SQLite does not call the update hook for a `DELETE` without `WHERE` (it empties the
    /// table in one step), so such a statement on a watched table would leave stale copies.
    #[test]
    fn hub_code_never_empties_a_watched_table_in_one_statement() {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut offenders = Vec::new();
        for entry in std::fs::read_dir(&src).unwrap() {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap().to_lowercase();
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for table in ["users", "sessions", "settings"] {
                let mut rest = flat.as_str();
                let needle = format!("delete from {table}");
                while let Some(i) = rest.find(&needle) {
                    rest = &rest[i + needle.len()..];
                    if !rest.trim_start().starts_with("where") && !rest.starts_with('_') {
                        offenders.push(format!("{}: {needle} without where", path.display()));
                    }
                }
            }
        }
        assert!(offenders.is_empty(), "{}", offenders.join("\n"));
    }
}
