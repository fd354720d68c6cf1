//! The publishing queue: approved items going out to the office's websites exactly once.
//!
//! The publisher's "publish" writes one `publications` row per enabled target, each with an
//! idempotency key, in the same transaction that records the action; only then does any
//! request leave the hub. The queue (run inline right after the action, then by a background
//! worker) works through due rows; a target adopts what a key already created before creating
//! anything (see `warta_publish`). A failure keeps the row pending with the error in plain
//! words and a backoff; nothing is dropped. When every target has the item version, the item
//! moves to the SOP's `published` step.
//!
//! A hub that was killed may have left a request on its way: the website can still be working
//! on it (a slow upload, a slow site) when the hub is started again. A retry that looked the
//! key up before that request landed would not see what it creates, and would create it a
//! second time. So rows to a remote website that were pending when the hub started are retried
//! only after [`RESUME_GRACE`], as long as such a website is given to answer one request; the
//! hub's own site and folders are written by the hub alone and go at once.

use crate::db::Cached as _;
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};

use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use warta_api as api;
use warta_api::Role;
use warta_publish::{MediaFile, Publication, PublishError, PublishTarget, RemoteRef};

use crate::audit::{self, Actor};
use crate::error::{HubError, HubResult};
use crate::office::{Caller, ItemRow, Office};

/// The embedded static site's target id (created by the migration, always present).
pub const LOCAL_SITE: i64 = 1;

/// After this many failed attempts the publisher is told (the item shows "needs attention").
pub const ATTENTION_AFTER: u32 = 3;

/// How long after the hub starts the rows it found pending for a remote website wait: the
/// request timeout of the WordPress and webhook targets, so whatever a killed hub left on its
/// way has landed (or been dropped) before the retry looks its key up. The environment
/// variable `WARTA_PUBLISH_RESUME_GRACE_MS` shortens it for tests.
pub const RESUME_GRACE: std::time::Duration = std::time::Duration::from_secs(60);

/// In-process coordination of the queue: which rows are being worked on, and the worker's bell.
#[derive(Default)]
pub(crate) struct PublishQueue {
    in_flight: Mutex<HashSet<i64>>,
    /// Rows a previous run of the hub left pending for a remote website, and until when they
    /// wait (see [`RESUME_GRACE`]).
    resuming: Mutex<Option<(std::time::Instant, HashSet<i64>)>>,
    bell: Mutex<bool>,
    rung: Condvar,
    stop: AtomicBool,
}

impl PublishQueue {
    pub(crate) fn ring(&self) {
        *self.bell.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.rung.notify_all();
    }

    /// Waits until rung or `timeout` passed.
    fn wait(&self, timeout: std::time::Duration) {
        let mut rung = self.bell.lock().unwrap_or_else(|e| e.into_inner());
        if !*rung {
            rung = self
                .rung
                .wait_timeout(rung, timeout)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *rung = false;
    }

    pub(crate) fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        self.ring();
    }

    /// Whether row `id` still waits for what a previous run of the hub left on its way.
    fn still_resuming(&self, id: i64) -> bool {
        let mut resuming = self.resuming.lock().unwrap_or_else(|e| e.into_inner());
        match &*resuming {
            Some((until, _)) if std::time::Instant::now() >= *until => {
                *resuming = None;
                false
            }
            Some((_, ids)) => ids.contains(&id),
            None => false,
        }
    }
}

/// Non-secret settings of a target, stored as JSON in `publish_targets.config`.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct TargetConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    username: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    folder: Option<String>,
    #[serde(default)]
    git: bool,
}

#[derive(Debug, Clone)]
pub(crate) struct TargetRow {
    pub(crate) id: i64,
    pub(crate) name: String,
    pub(crate) kind: String,
    config: TargetConfig,
    pub(crate) secret_id: Option<String>,
    pub(crate) enabled: bool,
}

const TARGET_COLS: &str = "id, name, kind, config, secret_id, enabled";

fn target_from_row(r: &rusqlite::Row) -> rusqlite::Result<TargetRow> {
    let config: String = r.get(3)?;
    Ok(TargetRow {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        config: serde_json::from_str(&config).unwrap_or_default(),
        secret_id: r.get(4)?,
        enabled: r.get(5)?,
    })
}

#[derive(Debug, Clone)]
struct PublicationRow {
    id: i64,
    item_id: i64,
    target_id: i64,
    version: i64,
    action: String,
    key: String,
    state: String,
    attempts: u32,
    last_error: Option<String>,
    last_error_kind: Option<String>,
    requested_by: i64,
}

const PUB_COLS: &str = "id, item_id, target_id, version, action, idempotency_key, state, attempts, \
     last_error, last_error_kind, requested_by";

fn publication_from_row(r: &rusqlite::Row) -> rusqlite::Result<PublicationRow> {
    Ok(PublicationRow {
        id: r.get(0)?,
        item_id: r.get(1)?,
        target_id: r.get(2)?,
        version: r.get(3)?,
        action: r.get(4)?,
        key: r.get(5)?,
        state: r.get(6)?,
        attempts: r.get(7)?,
        last_error: r.get(8)?,
        last_error_kind: r.get(9)?,
        requested_by: r.get(10)?,
    })
}

fn error_kind(e: &PublishError) -> &'static str {
    match e {
        PublishError::Unavailable(_) => "unavailable",
        PublishError::Unauthorized(_) => "unauthorized",
        PublishError::Rejected(_) => "rejected",
        PublishError::Local(_) => "local",
    }
}

/// Wait before the next attempt: 30 s doubling to one hour for a site that is down; an hour
/// for refusals a retry cannot fix by itself (the publisher can retry at once after fixing).
pub fn backoff(attempts: u32, transient: bool) -> Duration {
    if !transient {
        return Duration::hours(1);
    }
    let secs = 30i64.saturating_mul(1i64 << attempts.saturating_sub(1).min(7));
    Duration::seconds(secs.min(3600))
}

/// Keyring entry of a target's secret; a new one per change, so a secret is stored before the
/// row that names it.
fn new_secret_id() -> String {
    let r: [u8; 8] = rand::random();
    format!("target/{}", hex::encode(r))
}

fn new_key(item_id: i64, version: i64, target_id: i64) -> String {
    let r: [u8; 6] = rand::random();
    format!("w{item_id}-v{version}-t{target_id}-{}", hex::encode(r))
}

/// What one run of a publication produced, recorded afterwards.
enum Outcome {
    Published(RemoteRef),
    Unpublished,
    Failed(PublishError),
    /// Superseded by a newer version, or the target was removed.
    Cancelled(&'static str),
}

impl Office {
    // ------------------------------------------------------------ targets

    pub(crate) fn load_target(conn: &Connection, id: i64) -> HubResult<TargetRow> {
        conn.row(
            &format!("SELECT {TARGET_COLS} FROM publish_targets WHERE id = ?1"),
            [id],
            target_from_row,
        )
        .optional()?
        .ok_or(HubError::NotFound("website"))
    }

    fn target_info(t: &TargetRow) -> api::PublishTargetInfo {
        api::PublishTargetInfo {
            id: t.id,
            name: t.name.clone(),
            kind: t.kind.clone(),
            url: t.config.url.clone(),
            username: t.config.username.clone(),
            folder: t.config.folder.clone(),
            git: t.config.git,
            enabled: t.enabled,
            has_secret: t.secret_id.is_some(),
        }
    }

    /// The office's websites; publishers and admins may see them (never their secrets).
    pub fn publish_targets(&self, caller: &Caller) -> HubResult<Vec<api::PublishTargetInfo>> {
        let allowed = if caller.has(Role::Admin) || caller.has(Role::Publisher) {
            Ok(())
        } else {
            Err(HubError::Forbidden(
                "seeing the websites needs the publisher or admin role".into(),
            ))
        };
        self.refuse_unless(caller, None, "targets.list", allowed)?;
        let conn = self.db();
        let rows = crate::db::all(
            &conn,
            &format!("SELECT {TARGET_COLS} FROM publish_targets ORDER BY id"),
            [],
            target_from_row,
        )?;
        Ok(rows.iter().map(Self::target_info).collect())
    }

    fn validate_target(input: &api::PublishTargetInput) -> HubResult<TargetConfig> {
        let name = input.name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(HubError::validation(
                "name",
                "give the website a name of 1 to 100 characters",
            ));
        }
        let url = |field: &str| -> HubResult<String> {
            let u = input.url.as_deref().map(str::trim).unwrap_or_default();
            if !(u.starts_with("http://") || u.starts_with("https://")) || u.len() < 10 {
                return Err(HubError::validation(
                    field,
                    "the address must start with https:// (or http://)",
                ));
            }
            Ok(u.trim_end_matches('/').to_string())
        };
        Ok(match input.kind.as_str() {
            "wordpress" => {
                let username = input.username.as_deref().map(str::trim).unwrap_or_default();
                if username.is_empty() {
                    return Err(HubError::validation(
                        "username",
                        "WordPress needs the user name the application password belongs to",
                    ));
                }
                TargetConfig {
                    url: Some(url("url")?),
                    username: Some(username.to_string()),
                    ..TargetConfig::default()
                }
            }
            "webhook" => TargetConfig {
                url: Some(url("url")?),
                ..TargetConfig::default()
            },
            "markdown" => {
                let folder = input.folder.as_deref().map(str::trim).unwrap_or_default();
                if !std::path::Path::new(folder).is_absolute() {
                    return Err(HubError::validation(
                        "folder",
                        "give the full path of the folder to write to",
                    ));
                }
                TargetConfig {
                    folder: Some(folder.to_string()),
                    git: input.git,
                    ..TargetConfig::default()
                }
            }
            "static" => {
                return Err(HubError::validation(
                    "kind",
                    "the hub's own site is always there; it cannot be added twice",
                ));
            }
            other => {
                return Err(HubError::validation(
                    "kind",
                    format!("unknown kind of website \"{other}\" (wordpress, webhook, markdown)"),
                ));
            }
        })
    }

    fn needs_secret(kind: &str) -> bool {
        matches!(kind, "wordpress" | "webhook")
    }

    /// Adds a website (admin). The secret goes to the OS keyring before the row is written.
    pub fn add_publish_target(
        &self,
        caller: &Caller,
        input: api::PublishTargetInput,
    ) -> HubResult<api::PublishTargetInfo> {
        let result = (|| {
            caller.require(Role::Admin, "adding a website")?;
            let config = Self::validate_target(&input)?;
            let secret = input.secret.as_deref().map(str::trim).unwrap_or_default();
            if Self::needs_secret(&input.kind) && secret.is_empty() {
                return Err(HubError::validation(
                    "secret",
                    if input.kind == "wordpress" {
                        "WordPress needs an application password"
                    } else {
                        "a webhook needs a signing key"
                    },
                ));
            }
            // The keyring may block (an unlock prompt): never while holding the database.
            let secret_id = if secret.is_empty() {
                None
            } else {
                let id = new_secret_id();
                self.store_secret(&id, secret)?;
                Some(id)
            };
            let now = self.now();
            let mut conn = self.db();
            let tx = conn.savepoint()?;
            tx.exec(
                "INSERT INTO publish_targets (name, kind, config, secret_id, enabled, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    input.name.trim(),
                    input.kind,
                    serde_json::to_string(&config).expect("json"),
                    secret_id,
                    input.enabled,
                    now
                ],
            )?;
            let id = tx.last_insert_rowid();
            let t = Self::load_target(&tx, id)?;
            audit::append(
                &tx,
                now,
                &caller.actor(),
                "target.add",
                None,
                json!({ "target": id, "name": t.name, "kind": t.kind, "config": t.config }),
            )?;
            tx.commit()?;
            Ok(Self::target_info(&t))
        })();
        self.refuse_unless(caller, None, "target.add", result)
    }

    /// Changes a website (admin); a new secret replaces the stored one.
    pub fn update_publish_target(
        &self,
        caller: &Caller,
        id: i64,
        input: api::PublishTargetInput,
    ) -> HubResult<api::PublishTargetInfo> {
        let result = (|| {
            caller.require(Role::Admin, "changing a website")?;
            // The keyring may block (an unlock prompt): never while holding the database.
            let new_secret = match input.secret.as_deref().map(str::trim) {
                Some(secret) if !secret.is_empty() => {
                    let id = new_secret_id();
                    self.store_secret(&id, secret)?;
                    Some(id)
                }
                _ => None,
            };
            let now = self.now();
            let mut conn = self.db();
            let tx = conn.savepoint()?;
            let old = Self::load_target(&tx, id)?;
            if old.kind == "static" {
                tx.exec(
                    "UPDATE publish_targets SET name = ?2 WHERE id = ?1",
                    params![id, input.name.trim()],
                )?;
            } else {
                if input.kind != old.kind {
                    return Err(HubError::validation(
                        "kind",
                        "the kind of a website cannot change; add a new one instead",
                    ));
                }
                let config = Self::validate_target(&input)?;
                tx.exec(
                    "UPDATE publish_targets SET name = ?2, config = ?3, enabled = ?4 WHERE id = ?1",
                    params![
                        id,
                        input.name.trim(),
                        serde_json::to_string(&config).expect("json"),
                        input.enabled
                    ],
                )?;
                if let Some(secret_id) = &new_secret {
                    tx.exec(
                        "UPDATE publish_targets SET secret_id = ?2 WHERE id = ?1",
                        params![id, secret_id],
                    )?;
                }
            }
            let t = Self::load_target(&tx, id)?;
            audit::append(
                &tx,
                now,
                &caller.actor(),
                "target.update",
                None,
                json!({ "target": id, "name": t.name, "enabled": t.enabled, "config": t.config,
                        "secret_changed": input.secret.as_deref().is_some_and(|s| !s.trim().is_empty()) }),
            )?;
            tx.commit()?;
            drop(conn);
            // A fixed password or address: retry what waited on this website at once.
            self.retry_target_now(id)?;
            Ok(Self::target_info(&t))
        })();
        self.refuse_unless(caller, None, "target.update", result)
    }

    fn retry_target_now(&self, target_id: i64) -> HubResult<()> {
        let now = self.now();
        self.db().exec(
            "UPDATE publications SET next_attempt_at = ?2 WHERE target_id = ?1 AND state = 'pending'",
            params![target_id, now],
        )?;
        self.queue.ring();
        Ok(())
    }

    // ------------------------------------------------------------ queueing

    /// Called inside the transaction of the publisher's "publish": one row per enabled target.
    pub(crate) fn queue_publish(
        &self,
        tx: &Connection,
        caller: &Caller,
        item: &ItemRow,
        scheduled_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> HubResult<Vec<i64>> {
        Self::refuse_if_busy(tx, item.id)?;
        let targets = crate::db::all(
            tx,
            &format!("SELECT {TARGET_COLS} FROM publish_targets WHERE enabled = 1 ORDER BY id"),
            [],
            target_from_row,
        )?;
        let mut ids = Vec::new();
        for t in targets {
            // WordPress schedules by itself (status `future`); the others are sent at the time.
            let due = match scheduled_at {
                Some(at) if at > now && t.kind != "wordpress" => at,
                _ => now,
            };
            tx.exec(
                "INSERT INTO publications (item_id, target_id, version, action, idempotency_key,
                     state, next_attempt_at, requested_by, created_at)
                 VALUES (?1, ?2, ?3, 'publish', ?4, 'pending', ?5, ?6, ?7)",
                params![
                    item.id,
                    t.id,
                    item.version,
                    new_key(item.id, item.version, t.id),
                    due,
                    caller.id,
                    now
                ],
            )?;
            ids.push(tx.last_insert_rowid());
            // The site is about to change by the office's own hand (a scheduled item: when it
            // goes out, see `record_outcome`).
            if due <= now {
                crate::guard::expect_change(tx, t.id, Some(item.id), now)?;
            }
        }
        Ok(ids)
    }

    /// A publish or unpublish of the item that is still going out blocks another one.
    pub(crate) fn refuse_if_busy(conn: &Connection, item_id: i64) -> HubResult<()> {
        let pending: i64 = conn.row(
            "SELECT COUNT(*) FROM publications WHERE item_id = ?1 AND state = 'pending'",
            [item_id],
            |r| r.get(0),
        )?;
        if pending > 0 {
            return Err(HubError::Forbidden(
                "the item is still being sent to a website; wait for it or retry it first".into(),
            ));
        }
        Ok(())
    }

    /// Takes a published item off every website (publisher), with a reason.
    pub fn unpublish(
        &self,
        caller: &Caller,
        id: i64,
        req: api::ActionRequest,
    ) -> HubResult<api::ItemDetail> {
        let result = (|| {
            caller.require(Role::Publisher, "unpublishing")?;
            let reason = req
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| HubError::validation("note", "say why the item comes down"))?
                .to_string();
            let now = self.now();
            {
                let mut conn = self.db();
                let tx = conn.savepoint()?;
                let item = Self::viewable(&tx, caller, id)?;
                if item.step != "published" {
                    return Err(HubError::InvalidTransition {
                        action: "unpublish".into(),
                        step: item.step.clone(),
                        allowed: vec![],
                    });
                }
                Self::refuse_if_busy(&tx, id)?;
                let remotes: Vec<i64> = crate::db::all(
                    &tx,
                    "SELECT target_id FROM item_remotes WHERE item_id = ?1 ORDER BY target_id",
                    [id],
                    |r| r.get(0),
                )?;
                for target_id in &remotes {
                    tx.exec(
                        "INSERT INTO publications (item_id, target_id, version, action, idempotency_key,
                             state, next_attempt_at, requested_by, created_at)
                         VALUES (?1, ?2, ?3, 'unpublish', ?4, 'pending', ?5, ?6, ?5)",
                        params![
                            id,
                            target_id,
                            item.version,
                            new_key(id, item.version, *target_id),
                            now,
                            caller.id
                        ],
                    )?;
                    crate::guard::expect_change(&tx, *target_id, Some(id), now)?;
                }
                tx.exec(
                    "UPDATE items SET outcome_note = ?2 WHERE id = ?1",
                    params![id, reason],
                )?;
                audit::append(
                    &tx,
                    now,
                    &caller.actor(),
                    "item.unpublish",
                    Some(id),
                    json!({ "reason": reason, "targets": remotes, "version": item.version }),
                )?;
                if remotes.is_empty() {
                    self.finish_unpublish(&tx, id, now)?;
                }
                tx.commit()?;
            }
            self.run_due_publications(Some(id));
            self.get_item(caller, id)
        })();
        self.refuse_unless(caller, Some(id), "item.unpublish", result)
    }

    /// Reopens a published item for a correction (editor): it goes through editing, the
    /// official's review and publishing again, and then updates the same posts.
    pub fn correct(
        &self,
        caller: &Caller,
        id: i64,
        req: api::ActionRequest,
    ) -> HubResult<api::ItemDetail> {
        let result = (|| {
            caller.require(Role::Editor, "correcting a published item")?;
            let note = req
                .note
                .as_deref()
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .ok_or_else(|| HubError::validation("note", "say what needs correcting"))?
                .to_string();
            let now = self.now();
            let mut conn = self.db();
            let tx = conn.savepoint()?;
            let item = Self::viewable(&tx, caller, id)?;
            if item.step != "published" {
                return Err(HubError::InvalidTransition {
                    action: "correct".into(),
                    step: item.step.clone(),
                    allowed: vec![],
                });
            }
            Self::refuse_if_busy(&tx, id)?;
            let def = self.sop(&item.sop)?;
            self.enter_step(&tx, def, id, "edit", now)?;
            tx.exec(
                "UPDATE items SET lock_user_id = ?2, lock_since = ?3, scheduled_at = NULL WHERE id = ?1",
                params![id, caller.id, now],
            )?;
            audit::append(
                &tx,
                now,
                &caller.actor(),
                "item.correct",
                Some(id),
                json!({ "note": note, "version": item.version }),
            )?;
            tx.commit()?;
            drop(conn);
            self.get_item(caller, id)
        })();
        self.refuse_unless(caller, Some(id), "item.correct", result)
    }

    /// Publisher: try the item's waiting publications now instead of at their backoff time.
    pub fn retry_publishing(&self, caller: &Caller, id: i64) -> HubResult<api::ItemDetail> {
        let result = (|| {
            caller.require(Role::Publisher, "retrying a publish")?;
            let now = self.now();
            {
                let conn = self.db();
                Self::viewable(&conn, caller, id)?;
                conn.exec(
                    "UPDATE publications SET next_attempt_at = ?2 WHERE item_id = ?1 AND state = 'pending'",
                    params![id, now],
                )?;
                audit::append(
                    &conn,
                    now,
                    &caller.actor(),
                    "publish.retry",
                    Some(id),
                    json!({}),
                )?;
            }
            self.run_due_publications(Some(id));
            self.get_item(caller, id)
        })();
        self.refuse_unless(caller, Some(id), "publish.retry", result)
    }

    // ------------------------------------------------------------ the queue

    /// Starts the background worker; it holds only a weak reference and ends with the hub.
    /// Rows left pending for a remote website by a previous run wait [`RESUME_GRACE`] first.
    pub fn start_publisher(self: &Arc<Self>) -> std::thread::JoinHandle<()> {
        let grace = std::env::var("WARTA_PUBLISH_RESUME_GRACE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .map_or(RESUME_GRACE, std::time::Duration::from_millis);
        let until = std::time::Instant::now() + grace;
        let left: HashSet<i64> = crate::db::all(
            &self.db(),
            "SELECT p.id FROM publications p JOIN publish_targets t ON t.id = p.target_id
             WHERE p.state = 'pending' AND t.kind IN ('wordpress', 'webhook')",
            [],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| {
            tracing::error!("reading the publishing queue: {e}");
            Vec::new()
        })
        .into_iter()
        .collect();
        if !left.is_empty() {
            tracing::info!(
                "{} publication(s) left pending by the previous run resume in {grace:?}",
                left.len()
            );
            *self
                .queue
                .resuming
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some((until, left));
        }
        let weak: Weak<Office> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("warta-publisher".into())
            .spawn(move || {
                loop {
                    let Some(office) = weak.upgrade() else { return };
                    if office.queue.stop.load(Ordering::SeqCst) {
                        return;
                    }
                    office.run_due_publications(None);
                    let mut wait = office
                        .next_due_in()
                        .unwrap_or(std::time::Duration::from_secs(30))
                        .min(std::time::Duration::from_secs(30));
                    // Rows waiting out the grace are due but skipped: look again once a
                    // second (or when the grace ends), not every 50 ms.
                    if let Some((until, _)) = &*office
                        .queue
                        .resuming
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                    {
                        let rest = until.saturating_duration_since(std::time::Instant::now());
                        wait = wait.max(rest.min(std::time::Duration::from_secs(1)));
                    }
                    let queue = Arc::clone(&office.queue);
                    drop(office);
                    queue.wait(wait);
                }
            })
            .expect("spawning the publisher thread")
    }

    /// Stops the background worker (at its next wake-up).
    pub fn stop_publisher(&self) {
        self.queue.stop();
    }

    fn next_due_in(&self) -> Option<std::time::Duration> {
        let next: Option<DateTime<Utc>> = self
            .db()
            .row(
                "SELECT MIN(next_attempt_at) FROM publications WHERE state = 'pending'",
                [],
                |r| r.get(0),
            )
            .ok()
            .flatten();
        next.map(|t| {
            (t - self.now())
                .to_std()
                .unwrap_or(std::time::Duration::from_millis(50))
                .max(std::time::Duration::from_millis(50))
        })
    }

    /// Runs every due publication (of one item, or all); returns how many were attempted.
    pub fn run_due_publications(&self, only_item: Option<i64>) -> usize {
        let now = self.now();
        let ids: Vec<i64> = {
            let conn = self.db();
            let r = match only_item {
                Some(item) => crate::db::all(
                    &conn,
                    "SELECT id FROM publications WHERE state = 'pending' AND next_attempt_at <= ?1
                     AND item_id = ?2 ORDER BY id",
                    params![now, item],
                    |r| r.get(0),
                ),
                None => crate::db::all(
                    &conn,
                    "SELECT id FROM publications WHERE state = 'pending' AND next_attempt_at <= ?1
                     ORDER BY id LIMIT 100",
                    params![now],
                    |r| r.get(0),
                ),
            };
            match r {
                Ok(ids) => ids,
                Err(e) => {
                    tracing::error!("reading the publishing queue: {e}");
                    return 0;
                }
            }
        };
        let mut n = 0;
        for id in ids {
            match self.attempt_publication(id) {
                Ok(true) => n += 1,
                Ok(false) => {}
                Err(e) => tracing::error!("publication {id}: {e}"),
            }
        }
        n
    }

    /// One attempt of one row; `false` when another thread has it, it is no longer pending,
    /// or it waits for what a previous run of the hub left on its way.
    fn attempt_publication(&self, id: i64) -> HubResult<bool> {
        if self.queue.still_resuming(id) {
            return Ok(false);
        }
        {
            let mut busy = self
                .queue
                .in_flight
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            if !busy.insert(id) {
                return Ok(false);
            }
        }
        struct Release<'a>(&'a PublishQueue, i64);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0
                    .in_flight
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .remove(&self.1);
            }
        }
        let _release = Release(&self.queue, id);

        // Read everything needed, then let go of the database during the request.
        let (row, target, item, previous) = {
            let conn = self.db();
            let Some(row) = conn
                .row(
                    &format!("SELECT {PUB_COLS} FROM publications WHERE id = ?1"),
                    [id],
                    publication_from_row,
                )
                .optional()?
            else {
                return Ok(false);
            };
            if row.state != "pending" {
                return Ok(false);
            }
            let target = Self::load_target(&conn, row.target_id)?;
            let item = Self::load_item(&conn, row.item_id)?;
            let previous: Option<RemoteRef> = conn
                .row(
                    "SELECT remote FROM item_remotes WHERE item_id = ?1 AND target_id = ?2",
                    params![row.item_id, row.target_id],
                    |r| r.get::<_, String>(0),
                )
                .optional()?
                .and_then(|s| serde_json::from_str(&s).ok());
            (row, target, item, previous)
        };

        let outcome = if row.action == "publish" && item.version != row.version {
            Outcome::Cancelled("a newer version of the item was made")
        } else if !target.enabled && row.action == "publish" {
            Outcome::Cancelled("the website was switched off")
        } else if row.action == "publish" {
            match self.publication_for(&item, &row) {
                Ok(p) => match self.run_publish(&target, &item, &p, previous.as_ref()) {
                    Ok(remote) => Outcome::Published(remote),
                    Err(e) => Outcome::Failed(e),
                },
                Err(e) => Outcome::Failed(PublishError::Local(e.to_string())),
            }
        } else {
            match previous {
                None => Outcome::Unpublished,
                Some(remote) => match self.run_unpublish(&target, item.id, &remote) {
                    Ok(()) => Outcome::Unpublished,
                    Err(e) => Outcome::Failed(e),
                },
            }
        };
        let published = matches!(outcome, Outcome::Published(_));
        self.record_outcome(&row, &target, &item, outcome)?;
        if published && row.action == "publish" {
            self.check_live(&row, &target, &item);
        }
        Ok(true)
    }

    fn record_outcome(
        &self,
        row: &PublicationRow,
        target: &TargetRow,
        item: &ItemRow,
        outcome: Outcome,
    ) -> HubResult<()> {
        let now = self.now();
        let requester = Actor {
            id: Some(row.requested_by),
            name: self
                .db()
                .row(
                    "SELECT username FROM users WHERE id = ?1",
                    [row.requested_by],
                    |r| r.get(0),
                )
                .optional()?
                .unwrap_or_else(|| format!("#{}", row.requested_by)),
        };
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        match outcome {
            Outcome::Published(remote) => {
                tx.exec(
                    "UPDATE publications SET state = 'done', done_at = ?2, attempts = attempts + 1,
                         last_error = NULL, last_error_kind = NULL WHERE id = ?1",
                    params![row.id, now],
                )?;
                let published_at = item.scheduled_at.filter(|t| *t > now).unwrap_or(now);
                tx.exec(
                    "INSERT INTO item_remotes (item_id, target_id, remote, url, version, published_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (item_id, target_id) DO UPDATE SET remote = ?3, url = ?4,
                         version = ?5, published_at = ?6, live_checked_at = NULL,
                         live_matches = NULL, live_hash = NULL",
                    params![
                        row.item_id,
                        row.target_id,
                        serde_json::to_string(&remote).expect("json"),
                        remote.url,
                        row.version,
                        published_at
                    ],
                )?;
                // The page is watched from now on, with this change expected.
                crate::guard::enrol_published(
                    self,
                    &tx,
                    row.target_id,
                    row.item_id,
                    &remote.url,
                    &warta_render::render_markdown(&item.content.body),
                    published_at,
                    now,
                )?;
                audit::append(
                    &tx,
                    now,
                    &Actor::system(),
                    "publish.done",
                    Some(row.item_id),
                    json!({ "target": target.id, "target_name": target.name, "key": row.key,
                            "version": row.version, "remote_id": remote.remote_id,
                            "url": remote.url, "status": remote.status,
                            "media": remote.media.len(), "attempts": row.attempts + 1 }),
                )?;
            }
            Outcome::Unpublished => {
                tx.exec(
                    "UPDATE publications SET state = 'done', done_at = ?2, attempts = attempts + 1,
                         last_error = NULL, last_error_kind = NULL WHERE id = ?1",
                    params![row.id, now],
                )?;
                tx.exec(
                    "DELETE FROM item_remotes WHERE item_id = ?1 AND target_id = ?2",
                    params![row.item_id, row.target_id],
                )?;
                crate::guard::withdraw_published(&tx, row.target_id, row.item_id, now)?;
                audit::append(
                    &tx,
                    now,
                    &Actor::system(),
                    "unpublish.done",
                    Some(row.item_id),
                    json!({ "target": target.id, "target_name": target.name, "key": row.key }),
                )?;
            }
            Outcome::Failed(e) => {
                let attempts = row.attempts + 1;
                let next = now + backoff(attempts, e.is_transient());
                let message = e.to_string();
                tx.exec(
                    "UPDATE publications SET attempts = ?2, next_attempt_at = ?3, last_error = ?4,
                         last_error_kind = ?5 WHERE id = ?1",
                    params![row.id, attempts, next, message, error_kind(&e)],
                )?;
                let attention = attempts >= ATTENTION_AFTER || !e.is_transient();
                audit::append(
                    &tx,
                    now,
                    &Actor::system(),
                    "publish.failed",
                    Some(row.item_id),
                    json!({ "target": target.id, "target_name": target.name, "key": row.key,
                            "queue_action": row.action, "attempt": attempts, "error": message,
                            "kind": error_kind(&e), "next_attempt_at": next,
                            "attention": attention }),
                )?;
            }
            Outcome::Cancelled(why) => {
                tx.exec(
                    "UPDATE publications SET state = 'cancelled', done_at = ?2, last_error = ?3
                     WHERE id = ?1",
                    params![row.id, now, why],
                )?;
                audit::append(
                    &tx,
                    now,
                    &Actor::system(),
                    "publish.cancelled",
                    Some(row.item_id),
                    json!({ "target": target.id, "key": row.key, "reason": why }),
                )?;
            }
        }
        // Everything of this item's request done: the SOP step completes.
        let left: i64 = tx.row(
            "SELECT COUNT(*) FROM publications WHERE item_id = ?1 AND action = ?2 AND state = 'pending'",
            params![row.item_id, row.action],
            |r| r.get(0),
        )?;
        if left == 0 {
            let current = Self::load_item(&tx, row.item_id)?;
            if row.action == "publish"
                && current.step == "publish"
                && current.version == row.version
            {
                self.finish_publish(&tx, &current, &requester, now)?;
            } else if row.action == "unpublish" && current.step == "published" {
                self.finish_unpublish(&tx, row.item_id, now)?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// All targets have the version: the item enters `published` with its public URL.
    fn finish_publish(
        &self,
        tx: &Connection,
        item: &ItemRow,
        requester: &Actor,
        now: DateTime<Utc>,
    ) -> HubResult<()> {
        let done: i64 = tx.row(
            "SELECT COUNT(*) FROM publications WHERE item_id = ?1 AND version = ?2
             AND action = 'publish' AND state = 'done'",
            params![item.id, item.version],
            |r| r.get(0),
        )?;
        if done == 0 {
            // Every row was cancelled (e.g. all websites switched off): nothing went out.
            return Ok(());
        }
        // The main website's address: the first external target's, else the hub's own site.
        let url: Option<String> = tx
            .row(
                "SELECT url FROM item_remotes WHERE item_id = ?1 AND url <> ''
                 ORDER BY CASE WHEN target_id = ?2 THEN 1 ELSE 0 END, target_id LIMIT 1",
                params![item.id, LOCAL_SITE],
                |r| r.get(0),
            )
            .optional()?;
        let published_at = item.scheduled_at.filter(|t| *t > now).unwrap_or(now);
        let def = self.sop(&item.sop)?;
        self.enter_step(tx, def, item.id, "published", now)?;
        tx.exec(
            "UPDATE items SET published_url = ?2, published_at = ?3, outcome_note = NULL WHERE id = ?1",
            params![item.id, url, published_at],
        )?;
        audit::append(
            tx,
            now,
            requester,
            "item.published",
            Some(item.id),
            json!({ "version": item.version, "url": url, "published_at": published_at }),
        )?;
        Ok(())
    }

    fn finish_unpublish(&self, tx: &Connection, item_id: i64, now: DateTime<Utc>) -> HubResult<()> {
        let item = Self::load_item(tx, item_id)?;
        let def = self.sop(&item.sop)?;
        self.enter_step(tx, def, item_id, "not_published", now)?;
        tx.exec(
            "UPDATE items SET published_url = NULL WHERE id = ?1",
            [item_id],
        )?;
        audit::append(
            tx,
            now,
            &Actor::system(),
            "item.unpublished",
            Some(item_id),
            json!({ "version": item.version }),
        )?;
        Ok(())
    }

    /// After a publish: does the public page show what we sent? Recorded, never fatal.
    fn check_live(&self, row: &PublicationRow, target: &TargetRow, item: &ItemRow) {
        if target.kind == "static" {
            return;
        }
        let Ok(publication) = self.publication_for(item, row) else {
            return;
        };
        let remote: Option<RemoteRef> = self
            .db()
            .row(
                "SELECT remote FROM item_remotes WHERE item_id = ?1 AND target_id = ?2",
                params![item.id, target.id],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .ok()
            .flatten()
            .and_then(|s| serde_json::from_str(&s).ok());
        let Some(remote) = remote else { return };
        if remote.status == "future" || remote.url.is_empty() {
            return;
        }
        let result = self
            .remote_target(target)
            .and_then(|t| t.check_live(&publication, &remote));
        let now = self.now();
        let conn = self.db();
        let (matches, hash, detail) = match &result {
            Ok(c) => (Some(c.matches), c.found_hash.clone(), json!(c)),
            Err(e) => (None, None, json!({ "error": e.to_string() })),
        };
        let _ = conn.exec(
            "UPDATE item_remotes SET live_checked_at = ?3, live_matches = ?4, live_hash = ?5
             WHERE item_id = ?1 AND target_id = ?2",
            params![item.id, target.id, now, matches, hash],
        );
        let _ = audit::append(
            &conn,
            now,
            &Actor::system(),
            "publish.live_check",
            Some(item.id),
            json!({ "target": target.id, "url": remote.url, "result": detail }),
        );
    }

    // ------------------------------------------------------------ running one target

    /// The item version as every target receives it; the body is sanitised by warta-render.
    fn publication_for(&self, item: &ItemRow, row: &PublicationRow) -> HubResult<Publication> {
        let conn = self.db();
        let attachments = self.site_attachments(&conn, item.id, false)?;
        let author = Self::user_name(&conn, item.author_id)?;
        let base = self.site_base.read().expect("site base").clone();
        let media: Vec<MediaFile> = attachments
            .iter()
            .map(|a| MediaFile {
                attachment_id: a.meta.id,
                filename: a.filename.clone(),
                mime: a.mime.clone(),
                path: a.path.clone(),
                sha256: a.sha256.clone(),
                public_url: format!(
                    "{base}/site/media/{}.{}",
                    a.sha256,
                    crate::publish::extension_for(&a.mime)
                ),
                alt: a.meta.alt_text.clone(),
                caption: a.meta.caption.clone(),
            })
            .collect();
        let featured = media.iter().position(|m| m.mime.starts_with("image/"));
        Ok(Publication {
            item_id: item.id,
            version: row.version,
            idempotency_key: row.key.clone(),
            slug: crate::publish::slug(&item.content.title),
            title: item.content.title.clone(),
            summary: item.content.summary.clone(),
            body_html: warta_render::render_markdown(&item.content.body),
            category: item.content.category.clone(),
            tags: item.content.tags.clone(),
            unit: item.content.unit.clone(),
            author,
            scheduled_at: item.scheduled_at,
            featured,
            media,
        })
    }

    fn run_publish(
        &self,
        target: &TargetRow,
        item: &ItemRow,
        publication: &Publication,
        previous: Option<&RemoteRef>,
    ) -> Result<RemoteRef, PublishError> {
        if target.kind == "static" {
            let url = self
                .publish_to_site(item, self.now())
                .map_err(|e| PublishError::Local(e.to_string()))?;
            return Ok(RemoteRef {
                remote_id: item.id.to_string(),
                url,
                media: vec![],
                status: "publish".into(),
            });
        }
        self.remote_target(target)?.publish(publication, previous)
    }

    fn run_unpublish(
        &self,
        target: &TargetRow,
        item_id: i64,
        remote: &RemoteRef,
    ) -> Result<(), PublishError> {
        if target.kind == "static" {
            return self
                .unpublish_from_site(item_id)
                .map_err(|e| PublishError::Local(e.to_string()));
        }
        self.remote_target(target)?.unpublish(item_id, remote)
    }

    /// Sends the version of `item_id` that is on `target` again, exactly as it was published
    /// (a restore "to what we published"), through the same target code as publishing: the
    /// post is updated in place, or re-created under its key when it was deleted. Returns where
    /// it was before and the outcome; a success is recorded in `item_remotes`.
    pub(crate) fn republish(
        &self,
        target: &TargetRow,
        item_id: i64,
    ) -> HubResult<(RemoteRef, Result<RemoteRef, PublishError>)> {
        let (mut item, row, remote) = {
            let conn = self.db();
            let item = Self::load_item(&conn, item_id)?;
            let (remote, version): (String, i64) = conn
                .row(
                    "SELECT remote, version FROM item_remotes WHERE item_id = ?1 AND target_id = ?2",
                    params![item_id, target.id],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or(HubError::NotFound("published version of this item on this website"))?;
            let remote: RemoteRef = serde_json::from_str(&remote)
                .map_err(|e| HubError::Internal(anyhow::anyhow!("stored remote: {e}")))?;
            let row = conn
                .row(
                    &format!(
                        "SELECT {PUB_COLS} FROM publications WHERE item_id = ?1 AND target_id = ?2
                         AND version = ?3 AND action = 'publish' AND state = 'done'
                         ORDER BY id DESC LIMIT 1"
                    ),
                    params![item_id, target.id, version],
                    publication_from_row,
                )
                .optional()?
                .ok_or(HubError::NotFound(
                    "publication of this item on this website",
                ))?;
            let mut item = item;
            if item.version != version {
                item.content = Self::revision_content(&conn, item_id, version)?;
            }
            (item, row, remote)
        };
        item.version = row.version;
        let publication = self.publication_for(&item, &row)?;
        let outcome = self.run_publish(target, &item, &publication, Some(&remote));
        if let Ok(new) = &outcome {
            self.db().exec(
                "UPDATE item_remotes SET remote = ?3, url = ?4 WHERE item_id = ?1 AND target_id = ?2",
                params![
                    item_id,
                    target.id,
                    serde_json::to_string(new).expect("json"),
                    new.url
                ],
            )?;
        }
        Ok((remote, outcome))
    }

    /// Builds the target with its secret from the keyring; the secret lives only as long as
    /// the request.
    pub(crate) fn remote_target(
        &self,
        target: &TargetRow,
    ) -> Result<Box<dyn PublishTarget>, PublishError> {
        let secret = match &target.secret_id {
            Some(id) => self
                .load_secret(id)
                .map_err(|e| PublishError::Local(e.to_string()))?,
            None => None,
        };
        crate::targets::build(&target.kind, &target_settings(target), secret)
    }

    // ------------------------------------------------------------ what the UI shows

    pub(crate) fn publishing_state(
        conn: &Connection,
        item_id: i64,
    ) -> HubResult<Option<api::PublishingState>> {
        let rows = crate::db::all(
            conn,
            &format!(
                "SELECT {PUB_COLS} FROM publications WHERE item_id = ?1 AND state = 'pending'
                 ORDER BY id"
            ),
            [item_id],
            publication_from_row,
        )?;
        if rows.is_empty() {
            return Ok(None);
        }
        let worst = rows
            .iter()
            .filter(|r| r.last_error.is_some())
            .max_by_key(|r| r.attempts);
        Ok(Some(api::PublishingState {
            action: rows[0].action.clone(),
            pending: rows.len() as u32,
            attention: rows.iter().any(|r| {
                r.attempts >= ATTENTION_AFTER
                    || r.last_error_kind
                        .as_deref()
                        .is_some_and(|k| k != "unavailable")
            }),
            last_error: worst.and_then(|r| r.last_error.clone()),
            last_error_kind: worst.and_then(|r| r.last_error_kind.clone()),
        }))
    }

    pub(crate) fn publication_statuses(
        conn: &Connection,
        item_id: i64,
    ) -> HubResult<Vec<api::PublicationStatus>> {
        let v = crate::db::all(
            conn,
            "SELECT p.id, p.target_id, t.name, t.kind, p.action, p.version, p.state, p.attempts,
                    p.next_attempt_at, p.last_error, p.last_error_kind, r.url, r.live_matches
             FROM publications p JOIN publish_targets t ON t.id = p.target_id
             LEFT JOIN item_remotes r ON r.item_id = p.item_id AND r.target_id = p.target_id
                 AND p.action = 'publish' AND r.version = p.version
             WHERE p.item_id = ?1 ORDER BY p.id DESC LIMIT 50",
            [item_id],
            |r| {
                let state: String = r.get(6)?;
                Ok(api::PublicationStatus {
                    id: r.get(0)?,
                    target_id: r.get(1)?,
                    target_name: r.get(2)?,
                    target_kind: r.get(3)?,
                    action: r.get(4)?,
                    version: r.get(5)?,
                    next_attempt_at: if state == "pending" {
                        Some(r.get(8)?)
                    } else {
                        None
                    },
                    state,
                    attempts: r.get(7)?,
                    last_error: r.get(9)?,
                    last_error_kind: r.get(10)?,
                    url: r.get(11)?,
                    live_matches: r.get(12)?,
                })
            },
        )?;
        Ok(v)
    }

    /// The publication rows of an item (for tests and the CLI).
    pub fn publication_keys(&self, item_id: i64) -> HubResult<Vec<(i64, String, String)>> {
        Ok(crate::db::all(
            &self.db(),
            "SELECT target_id, idempotency_key, state FROM publications WHERE item_id = ?1 ORDER BY id",
            [item_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )?)
    }
}

/// The settings a target kind needs, without the secret.
pub struct TargetSettings {
    pub url: String,
    pub username: String,
    pub folder: String,
    pub git: bool,
}

pub(crate) fn target_settings(t: &TargetRow) -> TargetSettings {
    TargetSettings {
        url: t.config.url.clone().unwrap_or_default(),
        username: t.config.username.clone().unwrap_or_default(),
        folder: t.config.folder.clone().unwrap_or_default(),
        git: t.config.git,
    }
}
