//! `Office`: the hub's one API. Every client request — over HTTP from the desktop app,
//! or directly from the CLI — goes through these methods, which check permissions,
//! run the workflow, and record the audit trail in the same transaction as the change.

use crate::db::Cached as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, RwLock};

use anyhow::Context;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use warta_api as api;
use warta_api::Role;
use warta_sop::{Calendar, Definition, Holidays};

use crate::HubConfig;
use crate::audit::{self, Actor};
use crate::auth;
use crate::clock::Clock;
use crate::error::{HubError, HubResult};
use crate::publish::{PublishTarget, PublishedPage, StaticSite};

/// How long a session token stays valid unless the hub is configured otherwise
/// ([`HubConfig::session_hours`]).
pub const SESSION_HOURS: u32 = 12;
/// Longest a unit's name may be, in characters.
pub const UNIT_NAME_MAX: usize = 100;
/// Failed sign-ins counted over this many minutes.
pub const LOGIN_WINDOW_MINUTES: i64 = 15;
/// Failures of one account in the window before it must wait.
pub const LOGIN_FAILURES_PER_ACCOUNT: i64 = 5;
/// Failures from one address (any accounts) in the window before it must wait.
pub const LOGIN_FAILURES_PER_ADDRESS: i64 = 20;

/// An edit lock lapses after this long without its holder saving or keeping it (default of
/// [`Office::set_lock_idle`]).
pub const LOCK_IDLE_MINUTES: i64 = 30;

/// The signed-in user a request acts for.
#[derive(Debug, Clone)]
pub struct Caller {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub unit: String,
    /// The session the request came with (`None` for the CLI and demo seeding).
    pub session_id: Option<i64>,
}

impl Caller {
    pub fn has(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    pub(crate) fn actor(&self) -> Actor {
        Actor {
            id: Some(self.id),
            name: self.username.clone(),
        }
    }

    pub(crate) fn require(&self, role: Role, what: &str) -> HubResult<()> {
        if self.has(role) {
            Ok(())
        } else {
            Err(HubError::Forbidden(format!(
                "{what} needs the {} role",
                role.as_str()
            )))
        }
    }
}

/// One row of `items`.
#[derive(Debug, Clone)]
pub(crate) struct ItemRow {
    pub(crate) id: i64,
    pub(crate) sop: String,
    pub(crate) content: api::ItemContent,
    pub(crate) author_id: i64,
    pub(crate) version: i64,
    pub(crate) step: String,
    pub(crate) step_entered_at: DateTime<Utc>,
    pub(crate) step_due_at: Option<DateTime<Utc>>,
    pub(crate) lock_user_id: Option<i64>,
    pub(crate) lock_since: Option<DateTime<Utc>>,
    /// The holder's last save or keep-alive (NULL: none since `lock_since`).
    pub(crate) lock_active_at: Option<DateTime<Utc>>,
    pub(crate) created_at: DateTime<Utc>,
    pub(crate) updated_at: DateTime<Utc>,
    pub(crate) published_url: Option<String>,
    pub(crate) published_at: Option<DateTime<Utc>>,
    pub(crate) outcome_note: Option<String>,
    pub(crate) scheduled_at: Option<DateTime<Utc>>,
}

/// Whether an item's detail reads its attachments, comments, visits and publications
/// (`Read`), or the item was created by this very request (`New`), which has none to read.
#[derive(Clone, Copy)]
enum Stored {
    Read,
    New,
}

const ITEM_COLS: &str = "id, sop, title, summary, body, category, tags, unit, author_id, version, step, \
     step_entered_at, step_due_at, lock_user_id, lock_since, created_at, updated_at, \
     published_url, published_at, outcome_note, scheduled_at, lock_active_at";

fn item_from_row(r: &rusqlite::Row) -> rusqlite::Result<ItemRow> {
    let tags: String = r.get(6)?;
    Ok(ItemRow {
        id: r.get(0)?,
        sop: r.get(1)?,
        content: api::ItemContent {
            title: r.get(2)?,
            summary: r.get(3)?,
            body: r.get(4)?,
            category: r.get(5)?,
            tags: serde_json::from_str(&tags).unwrap_or_default(),
            unit: r.get(7)?,
        },
        author_id: r.get(8)?,
        version: r.get(9)?,
        step: r.get(10)?,
        step_entered_at: r.get(11)?,
        step_due_at: r.get(12)?,
        lock_user_id: r.get(13)?,
        lock_since: r.get(14)?,
        created_at: r.get(15)?,
        updated_at: r.get(16)?,
        published_url: r.get(17)?,
        published_at: r.get(18)?,
        outcome_note: r.get(19)?,
        scheduled_at: r.get(20)?,
        lock_active_at: r.get(21)?,
    })
}

fn user_from_row(r: &rusqlite::Row) -> rusqlite::Result<api::User> {
    let roles: String = r.get(3)?;
    Ok(api::User {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        roles: parse_roles(&roles),
        unit: r.get(4)?,
        active: r.get(5)?,
    })
}

const USER_COLS: &str = "id, username, display_name, roles, unit, active";

fn parse_roles(s: &str) -> Vec<Role> {
    s.split(',').filter_map(|r| Role::parse(r.trim())).collect()
}

fn roles_string(roles: &[Role]) -> String {
    let mut v: Vec<Role> = roles.to_vec();
    v.sort();
    v.dedup();
    v.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(",")
}

/// The hub's state and API.
pub struct Office {
    /// parking_lot's mutex: a holder that leaves while others wait hands it to the one that
    /// waited (`unlock_fair`), so a request on the blocking pool is not overtaken again and
    /// again by the request thread (`serial.rs`), which asks for it after every request.
    conn: parking_lot::Mutex<Connection>,
    clock: Arc<dyn Clock>,
    pub(crate) config: HubConfig,
    pub(crate) blobs: warta_media::BlobStore,
    sops: Vec<Definition>,
    pub(crate) holidays: RwLock<Holidays>,
    site: StaticSite,
    pub(crate) site_base: RwLock<String>,
    /// Signs attachment URLs for frames and <img> tags that cannot send a bearer token.
    pub(crate) url_key: [u8; 32],
    pub(crate) queue: Arc<crate::publishing::PublishQueue>,
    /// The bell and stop flag of the web-copy worker (`webcopy.rs`).
    pub(crate) web_copies: Arc<crate::webcopy::WebCopyQueue>,
    /// One site backup at a time, and their policy (`site_backup.rs`).
    pub(crate) site_backups: crate::site_backup::SiteBackups,
    /// Publishing-target secrets: the OS keyring, namespaced by the data directory, or the
    /// secrets file (`HubConfig::secrets`).
    pub(crate) secrets: Arc<dyn warta_secrets::SecretStore>,
    /// The change feed (live updates); rung whenever a connection guard saw changes.
    pub(crate) events: Arc<crate::events::Events>,
    /// How long an edit lock lasts without activity.
    lock_idle: RwLock<Duration>,
    /// One writer at a time per resumable upload.
    pub(crate) upload_locks: crate::uploads::UploadLocks,
    /// The website guard's stored page versions (`<data>/guard`).
    pub(crate) guard_bodies: crate::guard::BodyStore,
    /// Checkpoints the WAL in the background; stops when the office is dropped.
    _checkpointer: crate::db::Checkpointer,
    /// Group commits over `conn`.
    group: Arc<Group>,
    /// `SELECT` of the items in a non-final step of any SOP ("my tasks"), made once.
    open_items_sql: String,
    /// Bearer tokens resolved without the database; emptied by any change to users or
    /// sessions (see `memo.rs`).
    sessions: Arc<crate::memo::SessionCache>,
    /// The media settings, read once; emptied by any change to `settings`.
    pub(crate) media_memo: Arc<crate::memo::Memo<api::MediaSettings>>,
    /// Perceptual hashes of every photo, for near-duplicate search (see `attachments.rs`).
    pub(crate) prints: crate::attachments::Prints,
    /// Which SOPs each user holds a role in, for the live feed's incident filter
    /// (`incidents.rs`).
    pub(crate) incident_staff: crate::incidents::Staff,
    /// The request thread short database work of HTTP requests runs on (`serial.rs`).
    pub(crate) serial: crate::serial::Serial,
}

/// The database connection, locked, inside the current *group commit*.
///
/// Writes from concurrent requests are committed together: the first holder opens a
/// transaction (`BEGIN`); each method works inside a savepoint of it (`conn.savepoint()`, never
/// `transaction()`), which it releases or rolls back on its own. When a holder lets go while
/// others are queued for the connection, it leaves the transaction open for them and waits until
/// the group is committed; the last one in the queue (or the `MAX_GROUP`th) commits for all.
/// A request is answered only after its group committed, so nothing is reported done that is not
/// on disk, and one commit (its WAL frames written once) serves many requests: under load that
/// was the larger half of a write's cost. If the commit fails, every member of the group fails.
///
/// On commit the change feed is rung (see `events.rs`): other connections see the changes now.
pub(crate) struct Db<'a> {
    conn: Option<parking_lot::MutexGuard<'a, Connection>>,
    /// `total_changes` when this holder got the connection: whether it wrote anything.
    changes: u64,
    group: &'a Arc<Group>,
    events: &'a crate::events::Events,
}

/// Requests committed together at most.
const MAX_GROUP: u32 = 64;

/// The state of group commits, next to the connection's mutex.
pub(crate) struct Group {
    /// Threads waiting to lock the connection.
    queued: std::sync::atomic::AtomicUsize,
    state: Mutex<GroupState>,
    committed: std::sync::Condvar,
    /// `GroupState::done`, for requests that wait for their group without a thread
    /// ([`deferring_commit_waits`]).
    done: tokio::sync::watch::Sender<u64>,
}

impl Default for Group {
    fn default() -> Self {
        Group {
            queued: Default::default(),
            state: Default::default(),
            committed: Default::default(),
            done: tokio::sync::watch::Sender::new(0),
        }
    }
}

impl Group {
    /// Waits, without holding a thread, until group `epoch` is done; fails if its commit did.
    pub(crate) async fn committed(&self, epoch: u64) -> HubResult<()> {
        let mut done = self.done.subscribe();
        // The sender lives as long as `self`: this cannot fail.
        let _ = done.wait_for(|d| *d > epoch).await;
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match state.failed.iter().find(|(e, _)| *e == epoch) {
            Some((_, why)) => Err(HubError::Internal(anyhow::anyhow!(
                "the database could not commit: {why}"
            ))),
            None => Ok(()),
        }
    }
}

/// A group commit a request still has to wait for before it is answered.
pub(crate) struct PendingCommit {
    group: Arc<Group>,
    epoch: u64,
}

impl PendingCommit {
    pub(crate) async fn wait(self) -> HubResult<()> {
        self.group.committed(self.epoch).await
    }
}

thread_local! {
    /// Inside [`deferring_commit_waits`]: writers record their group here instead of waiting.
    static DEFER: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static PENDING: std::cell::RefCell<Option<PendingCommit>> = const { std::cell::RefCell::new(None) };
}

/// Runs `f` (hub work on a blocking thread) with its group-commit waits handed back instead of
/// done on this thread: a writer that leaves the transaction to the next holder records its
/// group and lets the thread go. The caller must wait for the returned [`PendingCommit`]
/// before answering — the HTTP layer does so asynchronously ([`crate::http::blocking`]), which
/// spares a sleeping thread and its wake-up per write. Every other caller of `Office` (the
/// CLI, background workers, tests) waits on its thread as before.
pub(crate) fn deferring_commit_waits<T>(f: impl FnOnce() -> T) -> (T, Option<PendingCommit>) {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            DEFER.set(false);
            PENDING.with_borrow_mut(|p| *p = None);
        }
    }
    let _reset = Reset;
    DEFER.set(true);
    let r = f();
    (r, PENDING.with_borrow_mut(Option::take))
}

#[derive(Default)]
struct GroupState {
    /// The group now open (or the next one).
    open: u64,
    /// Holders that have finished in the open group.
    members: u32,
    /// Groups up to this one are done (committed or failed).
    done: u64,
    /// Groups whose commit failed, with why (a few kept).
    failed: Vec<(u64, String)>,
    /// `total_changes` when the open group began.
    changes_at_start: u64,
}

impl std::ops::Deref for Db<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("connection held")
    }
}

impl std::ops::DerefMut for Db<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("connection held")
    }
}

impl Drop for Db<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        let mut state = self.group.state.lock().unwrap_or_else(|e| e.into_inner());
        let epoch = state.open;
        if conn.is_autocommit() {
            // No transaction open: SQLite ended it (an I/O or full-disk error rolls the whole
            // transaction back), so the work of those waiting in this group is gone too.
            if state.members > 0 {
                state
                    .failed
                    .push((epoch, "the database rolled the transaction back".into()));
                Self::finish(&mut state, self.group);
            }
            return;
        }
        let queued = self.group.queued.load(std::sync::atomic::Ordering::SeqCst);
        if conn.total_changes() == self.changes && queued > 0 {
            // Only read: nothing of ours to wait for; the next holder carries the group on.
            drop(state);
            parking_lot::MutexGuard::unlock_fair(conn);
            return;
        }
        state.members += 1;
        if queued > 0 && state.members < MAX_GROUP && !std::thread::panicking() {
            // Leave the transaction to the next holder and wait for the group's commit.
            parking_lot::MutexGuard::unlock_fair(conn);
            if DEFER.get() && self.defer(epoch) {
                return;
            }
            while state.done < epoch + 1 {
                state = self
                    .group
                    .committed
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
            let failed = state.failed.iter().find(|(e, _)| *e == epoch).cloned();
            drop(state);
            if let Some((_, why)) = failed {
                panic!("the database could not commit: {why}");
            }
            return;
        }
        let changed = conn.total_changes() != state.changes_at_start;
        let result = conn.execute_batch("COMMIT");
        if let Err(e) = &result {
            let _ = conn.execute_batch("ROLLBACK");
            state.failed.push((epoch, e.to_string()));
            if state.failed.len() > 16 {
                state.failed.remove(0);
            }
        }
        Self::finish(&mut state, self.group);
        drop(state);
        parking_lot::MutexGuard::unlock_fair(conn);
        if changed && result.is_ok() {
            self.events.ring();
        }
        if let Err(e) = result
            && !std::thread::panicking()
        {
            panic!("the database could not commit: {e}");
        }
    }
}

impl Db<'_> {
    fn finish(state: &mut GroupState, group: &Group) {
        state.done = state.open + 1;
        state.open += 1;
        state.members = 0;
        group.committed.notify_all();
        group.done.send_replace(state.done);
    }

    /// Records group `epoch` as this thread's to wait for (see [`deferring_commit_waits`]);
    /// false when this thread already waits for another office's group (then it waits here).
    fn defer(&self, epoch: u64) -> bool {
        PENDING.with_borrow_mut(|pending| match pending {
            Some(p) if Arc::ptr_eq(&p.group, self.group) => {
                p.epoch = p.epoch.max(epoch);
                true
            }
            Some(_) => false,
            None => {
                *pending = Some(PendingCommit {
                    group: self.group.clone(),
                    epoch,
                });
                true
            }
        })
    }
}

impl Office {
    /// Opens (creating and migrating) the office's data in `config.data_dir`, with the secret
    /// store `config.secrets` names.
    pub fn open(config: HubConfig, clock: Arc<dyn Clock>) -> anyhow::Result<Office> {
        let secrets = crate::secrets::open_store(&config)?;
        Self::open_with_secrets(config, clock, secrets)
    }

    /// [`Office::open`] with another secret store (a test's own keyring namespace).
    pub fn open_with_secrets(
        config: HubConfig,
        clock: Arc<dyn Clock>,
        secrets: Arc<dyn warta_secrets::SecretStore>,
    ) -> anyhow::Result<Office> {
        std::fs::create_dir_all(&config.data_dir)
            .with_context(|| format!("creating {}", config.data_dir.display()))?;
        let db_path = config.data_dir.join("warta.db");
        let conn = crate::db::open(&db_path)?;
        let high: i64 = conn.row("SELECT COALESCE(MAX(seq), 0) FROM audit", [], |r| r.get(0))?;
        let blobs = warta_media::BlobStore::open(config.data_dir.join("blobs"))?;
        let site = StaticSite::open(config.data_dir.join("site"))?;
        let sops = warta_sop::builtin();
        let open_items_sql = open_items_sql(&sops);
        let sessions = Arc::new(crate::memo::SessionCache::default());
        let media_memo = Arc::default();
        crate::memo::watch(&conn, &sessions, &media_memo);
        let office = Office {
            conn: parking_lot::Mutex::new(conn),
            clock,
            blobs,
            sops,
            holidays: RwLock::new(Holidays::new()),
            site,
            site_base: RwLock::new(String::new()),
            url_key: rand::random(),
            queue: Arc::default(),
            web_copies: Arc::default(),
            site_backups: crate::site_backup::SiteBackups::new(config.site_backup.clone()),
            secrets,
            upload_locks: Default::default(),
            guard_bodies: crate::guard::BodyStore::new(&config.data_dir),
            config,
            events: Arc::new(crate::events::Events::new(db_path.clone(), high)),
            lock_idle: RwLock::new(Duration::minutes(LOCK_IDLE_MINUTES)),
            _checkpointer: crate::db::Checkpointer::start(&db_path)?,
            group: Arc::default(),
            open_items_sql,
            sessions,
            media_memo,
            prints: Default::default(),
            incident_staff: Default::default(),
            serial: Default::default(),
        };
        office.seed_holidays()?;
        office.reload_holidays()?;
        office.sweep_uploads()?;
        office.load_incident_staff()?;
        crate::attachments::look_for_ffmpeg_soon();
        if office.config.demo {
            crate::demo::seed(&office)?;
        }
        Ok(office)
    }

    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Where the hub is reachable, so published pages get absolute URLs.
    pub fn set_base_url(&self, base: &str) {
        *self.site_base.write().expect("site base") = base.trim_end_matches('/').to_string();
    }

    pub fn site_root(&self) -> PathBuf {
        self.site.root().to_path_buf()
    }

    pub fn site_url(&self) -> String {
        format!("{}/site/", self.site_base.read().expect("site base"))
    }

    /// The connection, in the current group commit (see [`Db`]). Methods open a savepoint for
    /// their writes; a plain `transaction()` would fail inside the group's.
    pub(crate) fn db(&self) -> Db<'_> {
        use std::sync::atomic::Ordering::SeqCst;
        self.group.queued.fetch_add(1, SeqCst);
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        let conn = self.conn.lock();
        self.group.queued.fetch_sub(1, SeqCst);
        if conn.is_autocommit() {
            let mut state = self.group.state.lock().unwrap_or_else(|e| e.into_inner());
            state.changes_at_start = conn.total_changes();
            drop(state);
            // Should BEGIN fail, the methods' own savepoints still commit on their own.
            if let Err(e) = conn.execute_batch("BEGIN") {
                tracing::warn!("could not open a group commit: {e}");
            }
        }
        Db {
            changes: conn.total_changes(),
            conn: Some(conn),
            group: &self.group,
            events: &self.events,
        }
    }

    /// A request was handed to the request thread (`serial.rs`): until it starts, it counts
    /// as waiting for the connection, so writers leave the group open for it.
    pub(crate) fn group_enqueued(&self) {
        self.group
            .queued
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// The request thread took a request from its channel.
    pub(crate) fn group_dequeued(&self) {
        self.group
            .queued
            .fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }

    /// Whether anyone waits for the connection (a thread at its mutex, a request in the
    /// request thread's channel).
    pub(crate) fn group_queued(&self) -> bool {
        self.group.queued.load(std::sync::atomic::Ordering::SeqCst) > 0
    }

    /// Commits the group left open by writers that expected a next holder, unless someone
    /// is queued for the connection again (then they carry it on). The request thread calls
    /// this when its channel is empty; nothing here waits for a commit.
    pub(crate) fn end_group(&self) {
        let conn = self.conn.lock();
        if conn.is_autocommit() {
            return;
        }
        // The holder that wrote nothing: it commits the group if nobody is queued, and
        // otherwise leaves it to the next holder (see `Db::drop`).
        drop(Db {
            changes: conn.total_changes(),
            conn: Some(conn),
            group: &self.group,
            events: &self.events,
        });
    }

    /// The change feed: open streams, their timing, stopping them.
    pub fn events(&self) -> &crate::events::Events {
        &self.events
    }

    /// Starts broadcasting committed changes (and sweeping lapsed edit locks once a minute).
    pub fn start_live(self: &Arc<Self>) {
        self.events.start(Arc::downgrade(self));
    }

    /// Ends every open event stream (the server is shutting down).
    pub fn stop_live(&self) {
        self.events.stop();
    }

    /// How long an edit lock lasts without its holder saving or keeping it (default
    /// [`LOCK_IDLE_MINUTES`]).
    pub fn set_lock_idle(&self, idle: std::time::Duration) {
        let idle = Duration::from_std(idle).unwrap_or(Duration::minutes(LOCK_IDLE_MINUTES));
        *self.lock_idle.write().unwrap_or_else(|e| e.into_inner()) = idle.max(Duration::minutes(1));
    }

    pub fn lock_idle(&self) -> std::time::Duration {
        self.lock_idle
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .to_std()
            .unwrap_or_default()
    }

    pub fn blobs(&self) -> &warta_media::BlobStore {
        &self.blobs
    }

    pub(crate) fn sop(&self, id: &str) -> HubResult<&Definition> {
        self.sops
            .iter()
            .find(|d| d.id == id)
            .ok_or_else(|| HubError::Internal(anyhow::anyhow!("unknown SOP {id}")))
    }

    /// The SOP definitions the hub runs.
    pub(crate) fn definitions(&self) -> &[Definition] {
        &self.sops
    }

    /// A copy of the office's holidays as they are now.
    pub(crate) fn holidays_now(&self) -> warta_sop::Holidays {
        self.holidays.read().expect("holidays").clone()
    }

    fn calendar(&self, def: &Definition) -> Calendar {
        Calendar::new(def.calendar.clone())
    }

    // ---------------------------------------------------------------- set-up, sessions

    pub fn setup_status(&self) -> HubResult<api::SetupStatus> {
        let n: i64 = self
            .db()
            .row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        Ok(api::SetupStatus {
            needs_admin: n == 0,
            site_url: self.site_url(),
        })
    }

    /// First run: creates the admin account, only while there are no users.
    pub fn setup(&self, req: api::SetupRequest) -> HubResult<api::LoginResponse> {
        {
            let conn = self.db();
            let n: i64 = conn.row("SELECT count(*) FROM users", [], |r| r.get(0))?;
            if n > 0 {
                return Err(HubError::AlreadySetUp);
            }
        }
        let password = req.password.clone();
        self.add_user(
            None,
            api::NewUser {
                username: req.username.clone(),
                display_name: req.display_name,
                password: req.password,
                roles: vec![Role::Admin],
                unit: String::new(),
            },
        )?;
        self.login(api::LoginRequest {
            username: req.username,
            password,
        })
    }

    pub fn login(&self, req: api::LoginRequest) -> HubResult<api::LoginResponse> {
        self.login_from(req, None)
    }

    /// Signs in, refusing early (without checking the password) while the account or the
    /// client's address has too many recent failures; every refusal is audited.
    pub fn login_from(
        &self,
        req: api::LoginRequest,
        address: Option<std::net::IpAddr>,
    ) -> HubResult<api::LoginResponse> {
        let username = req.username.trim().to_string();
        let address = address.map(|a| a.to_string());
        if let Some(retry_after_secs) = self.login_throttled(&username, address.as_deref())? {
            let now = self.now();
            audit::append(
                &self.db(),
                now,
                &Actor {
                    id: None,
                    name: username.clone(),
                },
                "auth.login_throttled",
                None,
                json!({ "username": username, "address": address }),
            )?;
            return Err(HubError::TooManyAttempts { retry_after_secs });
        }
        let found: Option<(i64, String, bool)> = self
            .db()
            .row(
                "SELECT id, password_hash, active FROM users WHERE username = ?1",
                [&username],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        // Verify outside the database lock: argon2 is deliberately slow.
        let ok = match &found {
            Some((_, hash, active)) => auth::verify_password(&req.password, hash) && *active,
            None => {
                auth::verify_password(&req.password, auth::dummy_hash());
                false
            }
        };
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let Some((user_id, _, _)) = found.filter(|_| ok) else {
            audit::append(
                &tx,
                now,
                &Actor {
                    id: None,
                    name: username.clone(),
                },
                "auth.login_failed",
                None,
                json!({ "username": username, "address": address }),
            )?;
            tx.commit()?;
            return Err(HubError::BadCredentials);
        };
        let token = auth::new_token();
        tx.exec(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, address)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                auth::token_hash(&token),
                user_id,
                now,
                now + Duration::hours(i64::from(self.config.session_hours.max(1))),
                address
            ],
        )?;
        let user = tx.row(
            &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
            [user_id],
            user_from_row,
        )?;
        audit::append(
            &tx,
            now,
            &Actor {
                id: Some(user_id),
                name: user.username.clone(),
            },
            "auth.login",
            None,
            json!({ "address": address }),
        )?;
        tx.commit()?;
        Ok(api::LoginResponse { token, user })
    }

    /// Seconds to wait when the account has had `LOGIN_FAILURES_PER_ACCOUNT` failures (since its
    /// last successful sign-in) or the address `LOGIN_FAILURES_PER_ADDRESS`, within the window;
    /// read from the audit log, so a restart forgets nothing.
    fn login_throttled(&self, username: &str, address: Option<&str>) -> HubResult<Option<i64>> {
        let now = self.now();
        let window_start = now - Duration::minutes(LOGIN_WINDOW_MINUTES);
        let fmt = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        let conn = self.db();
        // Failures since the account's last successful sign-in (by log order: the clock may
        // give both the same time), within the window.
        let last_ok: i64 = conn.row(
            "SELECT COALESCE(MAX(seq), 0) FROM audit WHERE kind = 'auth.login' AND actor = ?1",
            [username],
            |r| r.get(0),
        )?;
        // Oldest failure counted: when it leaves the window, one more attempt is allowed.
        let (count, oldest): (i64, Option<String>) = conn.row(
            "SELECT COUNT(*), MIN(at) FROM audit WHERE kind = 'auth.login_failed'
             AND actor = ?1 AND seq > ?2 AND at > ?3",
            params![username, last_ok, fmt(window_start)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut wait = None;
        if count >= LOGIN_FAILURES_PER_ACCOUNT {
            wait = oldest;
        }
        if let Some(addr) = address {
            let (count, oldest): (i64, Option<String>) = conn.row(
                "SELECT COUNT(*), MIN(at) FROM audit WHERE kind = 'auth.login_failed'
                 AND at > ?1 AND json_extract(data, '$.address') = ?2",
                params![fmt(window_start), addr],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if count >= LOGIN_FAILURES_PER_ADDRESS && wait.is_none() {
                wait = oldest;
            }
        }
        Ok(wait.map(|oldest| {
            let oldest = DateTime::parse_from_rfc3339(&oldest)
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or(now);
            (oldest + Duration::minutes(LOGIN_WINDOW_MINUTES) - now)
                .num_seconds()
                .max(1)
        }))
    }

    /// Ends the session of `token` (signing out), audited as `auth.logout`.
    pub fn logout(&self, token: &str) -> HubResult<()> {
        let now = self.now();
        let hash = auth::token_hash(token);
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let who: Option<(i64, i64, String)> = tx
            .row(
                "SELECT s.id, u.id, u.username FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.revoked = 0",
                [&hash],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        if let Some((session_id, user_id, username)) = who {
            tx.exec(
                "UPDATE sessions SET revoked = 1 WHERE id = ?1",
                [session_id],
            )?;
            audit::append(
                &tx,
                now,
                &Actor {
                    id: Some(user_id),
                    name: username,
                },
                "auth.logout",
                None,
                json!({ "session_id": session_id }),
            )?;
        }
        tx.commit()?;
        drop(conn);
        // An event stream opened with this token ends now.
        self.events.sessions_changed();
        Ok(())
    }

    /// Resolves a bearer token to the signed-in user.
    pub fn authenticate(&self, token: &str) -> HubResult<Caller> {
        let hash = auth::token_hash(token);
        let now = self.now();
        if let Some(caller) = self.sessions.get(&hash, now) {
            return Ok(caller);
        }
        let conn = self.db();
        // Read under the connection: a change to users or sessions after this point makes the
        // cache refuse what is read below.
        let generation = self.sessions.generation();
        let row: Option<(api::User, DateTime<Utc>, bool, i64)> = conn
            .row(
                "SELECT u.id, u.username, u.display_name, u.roles, u.unit, u.active, s.expires_at, s.revoked, s.id
                 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1",
                [&hash],
                |r| Ok((user_from_row(r)?, r.get(6)?, r.get(7)?, r.get(8)?)),
            )
            .optional()?;
        drop(conn);
        match row {
            Some((u, expires, revoked, sid)) if !revoked && expires > now && u.active => {
                let caller = Caller {
                    id: u.id,
                    username: u.username,
                    display_name: u.display_name,
                    roles: u.roles,
                    unit: u.unit,
                    session_id: Some(sid),
                };
                self.sessions
                    .insert(generation, hash, caller.clone(), expires);
                Ok(caller)
            }
            _ => Err(HubError::Unauthenticated),
        }
    }

    /// [`authenticate`](Self::authenticate) from memory only, without waiting for the database:
    /// `None` when the token is not a remembered live session (then ask `authenticate`).
    pub fn authenticate_cached(&self, token: &str) -> Option<Caller> {
        self.sessions.get(&auth::token_hash(token), self.now())
    }

    /// How many sessions are remembered in memory (for tests and diagnostics).
    pub fn cached_sessions(&self) -> usize {
        self.sessions.len()
    }

    // ---------------------------------------------------------------- users

    fn validate_user_fields(username: &str, display_name: &str, roles: &[Role]) -> HubResult<()> {
        if username.is_empty()
            || username.len() > 64
            || !username
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            return Err(HubError::validation(
                "username",
                "user names use 1 to 64 letters, digits, dots, dashes or underscores",
            ));
        }
        if display_name.trim().is_empty() {
            return Err(HubError::validation(
                "display_name",
                "a display name is required",
            ));
        }
        if roles.is_empty() {
            return Err(HubError::validation(
                "roles",
                "give the user at least one role",
            ));
        }
        Ok(())
    }

    fn validate_password(password: &str) -> HubResult<()> {
        if password.chars().count() < auth::MIN_PASSWORD_LEN {
            return Err(HubError::validation(
                "password",
                format!(
                    "passwords need at least {} characters",
                    auth::MIN_PASSWORD_LEN
                ),
            ));
        }
        Ok(())
    }

    /// Adds a user. `by` is the admin doing it, or `None` for the CLI and first-run set-up.
    pub fn add_user(&self, by: Option<&Caller>, new: api::NewUser) -> HubResult<api::User> {
        if let Some(c) = by {
            self.refuse_unless(c, None, "user.add", c.require(Role::Admin, "adding users"))?;
        }
        let username = new.username.trim().to_string();
        Self::validate_user_fields(&username, &new.display_name, &new.roles)?;
        Self::validate_password(&new.password)?;
        let hash = auth::hash_password(&new.password)?;
        self.add_user_hashed(by, new, &hash)
    }

    /// [`Office::add_user`] with the password's argon2id hash made already: the demo office
    /// hashes its one shared, public password once for all its accounts (each hash costs
    /// 19 MiB and tens of milliseconds, at every start of a new demo office).
    pub(crate) fn add_user_hashed(
        &self,
        by: Option<&Caller>,
        new: api::NewUser,
        hash: &str,
    ) -> HubResult<api::User> {
        let username = new.username.trim().to_string();
        Self::validate_user_fields(&username, &new.display_name, &new.roles)?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let exists: bool = tx.row(
            "SELECT count(*) > 0 FROM users WHERE username = ?1",
            [&username],
            |r| r.get(0),
        )?;
        if exists {
            return Err(HubError::validation("username", "that user name is taken"));
        }
        // An admin picks one of the office's units; the CLI and first-run set-up may name a
        // new one, which is then added.
        let unit = match by {
            Some(_) => Self::known_unit(&tx, &new.unit)?,
            None => Self::unit_or_add(&tx, now, &new.unit)?,
        };
        tx.exec(
            "INSERT INTO users (username, display_name, password_hash, roles, unit, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                username,
                new.display_name.trim(),
                hash,
                roles_string(&new.roles),
                unit,
                now
            ],
        )?;
        let id = tx.last_insert_rowid();
        let actor = by.map(Caller::actor).unwrap_or_else(Actor::system);
        audit::append(
            &tx,
            now,
            &actor,
            "user.added",
            None,
            json!({ "user_id": id, "username": username, "roles": roles_string(&new.roles) }),
        )?;
        let user = tx.row(
            &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
            [id],
            user_from_row,
        )?;
        tx.commit()?;
        Ok(user)
    }

    pub fn list_users(&self, caller: &Caller) -> HubResult<Vec<api::User>> {
        self.refuse_unless(
            caller,
            None,
            "user.list",
            caller.require(Role::Admin, "listing users"),
        )?;
        let conn = self.db();
        let users = crate::db::all(
            &conn,
            &format!("SELECT {USER_COLS} FROM users ORDER BY username"),
            [],
            user_from_row,
        )?;
        Ok(users)
    }

    pub fn update_user(
        &self,
        caller: &Caller,
        id: i64,
        upd: api::UpdateUser,
    ) -> HubResult<api::User> {
        self.refuse_unless(
            caller,
            None,
            "user.update",
            caller.require(Role::Admin, "changing users"),
        )?;
        if upd.display_name.trim().is_empty() {
            return Err(HubError::validation(
                "display_name",
                "a display name is required",
            ));
        }
        if upd.roles.is_empty() {
            return Err(HubError::validation(
                "roles",
                "give the user at least one role",
            ));
        }
        if id == caller.id && (!upd.roles.contains(&Role::Admin) || !upd.active) {
            return Err(HubError::validation(
                "roles",
                "you cannot remove your own admin role or deactivate yourself",
            ));
        }
        let hash = match &upd.password {
            Some(p) => {
                Self::validate_password(p)?;
                Some(auth::hash_password(p)?)
            }
            None => None,
        };
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let unit = Self::known_unit(&tx, &upd.unit)?;
        let n = tx.exec(
            "UPDATE users SET display_name = ?2, roles = ?3, unit = ?4, active = ?5 WHERE id = ?1",
            params![
                id,
                upd.display_name.trim(),
                roles_string(&upd.roles),
                unit,
                upd.active
            ],
        )?;
        if n == 0 {
            return Err(HubError::NotFound("user"));
        }
        if let Some(h) = hash {
            tx.exec(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                params![id, h],
            )?;
        }
        if !upd.active || upd.password.is_some() {
            tx.exec("UPDATE sessions SET revoked = 1 WHERE user_id = ?1", [id])?;
        }
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "user.updated",
            None,
            json!({ "user_id": id, "roles": roles_string(&upd.roles), "active": upd.active,
                    "unit": unit, "password_reset": upd.password.is_some() }),
        )?;
        let user = tx.row(
            &format!("SELECT {USER_COLS} FROM users WHERE id = ?1"),
            [id],
            user_from_row,
        )?;
        tx.commit()?;
        Ok(user)
    }

    // ---------------------------------------------------------------- sessions

    /// Live sessions (neither expired nor revoked) of `user_id`, newest first; `current` marks
    /// the caller's own.
    fn live_sessions(&self, caller: &Caller, user_id: i64) -> HubResult<Vec<api::SessionInfo>> {
        let now = self.now();
        let conn = self.db();
        let sessions = crate::db::all(
            &conn,
            "SELECT id, created_at, expires_at, address FROM sessions
             WHERE user_id = ?1 AND revoked = 0 AND expires_at > ?2 ORDER BY id DESC LIMIT 500",
            params![user_id, now],
            |r| {
                let id: i64 = r.get(0)?;
                Ok(api::SessionInfo {
                    id,
                    created_at: r.get(1)?,
                    expires_at: r.get(2)?,
                    address: r.get(3)?,
                    current: caller.session_id == Some(id),
                })
            },
        )?;
        Ok(sessions)
    }

    /// The caller's own live sessions (every signed-in user).
    pub fn my_sessions(&self, caller: &Caller) -> HubResult<Vec<api::SessionInfo>> {
        self.live_sessions(caller, caller.id)
    }

    /// Ends one of the caller's own sessions (another laptop's, or this one: signing out).
    /// Another user's session id is answered like an unknown one.
    pub fn revoke_my_session(&self, caller: &Caller, session_id: i64) -> HubResult<()> {
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let n = tx.exec(
            "UPDATE sessions SET revoked = 1
             WHERE id = ?1 AND user_id = ?2 AND revoked = 0 AND expires_at > ?3",
            params![session_id, caller.id, now],
        )?;
        if n == 0 {
            return Err(HubError::NotFound("session"));
        }
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "auth.session_revoked",
            None,
            json!({ "user_id": caller.id, "session_id": session_id, "count": 1 }),
        )?;
        tx.commit()?;
        drop(conn);
        // An event stream opened with that session ends now.
        self.events.sessions_changed();
        Ok(())
    }

    fn require_user(conn: &Connection, user_id: i64) -> HubResult<()> {
        let exists: bool = conn.row(
            "SELECT count(*) > 0 FROM users WHERE id = ?1",
            [user_id],
            |r| r.get(0),
        )?;
        if exists {
            Ok(())
        } else {
            Err(HubError::NotFound("user"))
        }
    }

    /// A user's live sessions (admin).
    pub fn user_sessions(&self, caller: &Caller, user_id: i64) -> HubResult<Vec<api::SessionInfo>> {
        self.refuse_unless(
            caller,
            None,
            "session.list",
            caller.require(Role::Admin, "listing another user's sessions"),
        )?;
        Self::require_user(&self.db(), user_id)?;
        self.live_sessions(caller, user_id)
    }

    /// Ends every live session of a user (admin): a lost laptop, a password that leaked.
    pub fn revoke_user_sessions(
        &self,
        caller: &Caller,
        user_id: i64,
    ) -> HubResult<api::RevokedSessions> {
        self.refuse_unless(
            caller,
            None,
            "session.revoke",
            caller.require(Role::Admin, "ending another user's sessions"),
        )?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        Self::require_user(&tx, user_id)?;
        let n = tx.exec(
            "UPDATE sessions SET revoked = 1 WHERE user_id = ?1 AND revoked = 0 AND expires_at > ?2",
            params![user_id, now],
        )?;
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "auth.session_revoked",
            None,
            json!({ "user_id": user_id, "session_id": null, "count": n }),
        )?;
        tx.commit()?;
        drop(conn);
        self.events.sessions_changed();
        Ok(api::RevokedSessions { revoked: n as i64 })
    }

    // ---------------------------------------------------------------- units

    fn validate_unit_name(name: &str) -> HubResult<String> {
        // The limit counts what was sent, spaces included, as the API document says.
        let too_long = name.chars().count() > UNIT_NAME_MAX;
        let name = name.trim();
        if name.is_empty() {
            return Err(HubError::validation("name", "a unit needs a name"));
        }
        if too_long {
            return Err(HubError::validation(
                "name",
                format!("a unit's name has at most {UNIT_NAME_MAX} characters"),
            ));
        }
        if name.chars().any(char::is_control) {
            return Err(HubError::validation(
                "name",
                "a unit's name cannot hold line breaks or control characters",
            ));
        }
        Ok(name.to_string())
    }

    /// The unit's name as the office spells it, for a user's `unit` field: empty (no unit) or
    /// the name of an existing unit (ignoring case).
    fn known_unit(conn: &Connection, unit: &str) -> HubResult<String> {
        let unit = unit.trim();
        if unit.is_empty() {
            return Ok(String::new());
        }
        conn.row("SELECT name FROM units WHERE name = ?1", [unit], |r| {
            r.get(0)
        })
        .optional()?
        .ok_or_else(|| {
            HubError::validation(
                "unit",
                format!("there is no unit \"{unit}\"; add it under Units first"),
            )
        })
    }

    /// [`Office::known_unit`], adding the unit when it is new (CLI, set-up, demo).
    fn unit_or_add(conn: &Connection, now: DateTime<Utc>, unit: &str) -> HubResult<String> {
        if unit.trim().is_empty() {
            return Ok(String::new());
        }
        let name = Self::validate_unit_name(unit)?;
        conn.exec(
            "INSERT OR IGNORE INTO units (name, created_at) VALUES (?1, ?2)",
            params![name, now],
        )?;
        Self::known_unit(conn, &name)
    }

    fn unit_by_id(conn: &Connection, id: i64) -> HubResult<api::Unit> {
        conn.row(
            "SELECT id, name, (SELECT count(*) FROM users WHERE users.unit = units.name)
             FROM units WHERE id = ?1",
            [id],
            |r| {
                Ok(api::Unit {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    users: r.get(2)?,
                })
            },
        )
        .optional()?
        .ok_or(HubError::NotFound("unit"))
    }

    /// The office's units, by name (every signed-in user: forms offer them).
    pub fn list_units(&self, _caller: &Caller) -> HubResult<Vec<api::Unit>> {
        let conn = self.db();
        let units = crate::db::all(
            &conn,
            "SELECT id, name, (SELECT count(*) FROM users WHERE users.unit = units.name)
             FROM units ORDER BY name",
            [],
            |r| {
                Ok(api::Unit {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    users: r.get(2)?,
                })
            },
        )?;
        Ok(units)
    }

    /// A 400 when another unit (not `except`) already has `name`.
    fn refuse_taken_unit_name(conn: &Connection, name: &str, except: Option<i64>) -> HubResult<()> {
        let taken: bool = conn.row(
            "SELECT count(*) > 0 FROM units WHERE name = ?1 AND id IS NOT ?2",
            params![name, except],
            |r| r.get(0),
        )?;
        if taken {
            return Err(HubError::validation(
                "name",
                "there is already a unit with that name",
            ));
        }
        Ok(())
    }

    /// Adds a unit (admin). Names are unique ignoring case.
    pub fn add_unit(&self, caller: &Caller, input: api::UnitInput) -> HubResult<api::Unit> {
        self.refuse_unless(
            caller,
            None,
            "unit.add",
            caller.require(Role::Admin, "adding units"),
        )?;
        let name = Self::validate_unit_name(&input.name)?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        Self::refuse_taken_unit_name(&tx, &name, None)?;
        tx.exec(
            "INSERT INTO units (name, created_at) VALUES (?1, ?2)",
            params![name, now],
        )?;
        let id = tx.last_insert_rowid();
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "unit.added",
            None,
            json!({ "unit_id": id, "name": name }),
        )?;
        let unit = Self::unit_by_id(&tx, id)?;
        tx.commit()?;
        Ok(unit)
    }

    /// Renames a unit (admin); its users move with it. Items keep the unit they were written
    /// under (their content is history).
    pub fn rename_unit(
        &self,
        caller: &Caller,
        id: i64,
        input: api::UnitInput,
    ) -> HubResult<api::Unit> {
        self.refuse_unless(
            caller,
            None,
            "unit.update",
            caller.require(Role::Admin, "renaming units"),
        )?;
        let name = Self::validate_unit_name(&input.name)?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let old = Self::unit_by_id(&tx, id)?;
        Self::refuse_taken_unit_name(&tx, &name, Some(id))?;
        tx.exec(
            "UPDATE units SET name = ?2 WHERE id = ?1",
            params![id, name],
        )?;
        tx.exec(
            "UPDATE users SET unit = ?2 WHERE unit = ?1",
            params![old.name, name],
        )?;
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "unit.renamed",
            None,
            json!({ "unit_id": id, "from": old.name, "to": name }),
        )?;
        let unit = Self::unit_by_id(&tx, id)?;
        tx.commit()?;
        Ok(unit)
    }

    // ---------------------------------------------------------------- refusals

    /// Records a refused request in the audit log, then returns the refusal.
    pub(crate) fn refuse_unless<T>(
        &self,
        caller: &Caller,
        item_id: Option<i64>,
        what: &str,
        result: HubResult<T>,
    ) -> HubResult<T> {
        if let Err(e) = &result
            && matches!(
                e,
                HubError::Forbidden(_)
                    | HubError::InvalidTransition { .. }
                    | HubError::Locked { .. }
                    | HubError::LockExpired { .. }
                    | HubError::VersionConflict { .. }
            )
        {
            let now = self.now();
            let conn = self.db();
            audit::append(
                &conn,
                now,
                &caller.actor(),
                "refused",
                item_id,
                json!({ "request": what, "code": e.code(), "reason": e.to_string() }),
            )?;
        }
        result
    }

    // ---------------------------------------------------------------- items: reading

    pub(crate) fn load_item(conn: &Connection, id: i64) -> HubResult<ItemRow> {
        conn.row(
            &format!("SELECT {ITEM_COLS} FROM items WHERE id = ?1"),
            [id],
            item_from_row,
        )
        .optional()?
        .ok_or(HubError::NotFound("item"))
    }

    fn can_view(caller: &Caller, item: &ItemRow) -> bool {
        Self::can_view_item(caller, item.author_id, item.published_url.is_some())
    }

    /// Who may see an item: its author, everyone once published, and the office's staff.
    /// The one rule for reading items, listing them and receiving their events.
    pub(crate) fn can_view_item(caller: &Caller, author_id: i64, published: bool) -> bool {
        author_id == caller.id
            || published
            || [Role::Editor, Role::Official, Role::Publisher, Role::Admin]
                .iter()
                .any(|r| caller.has(*r))
    }

    /// Loads an item the caller may see; to others it does not exist.
    pub(crate) fn viewable(conn: &Connection, caller: &Caller, id: i64) -> HubResult<ItemRow> {
        let item = Self::load_item(conn, id)?;
        Self::check_view(caller, &item)?;
        Ok(item)
    }

    pub(crate) fn check_view(caller: &Caller, item: &ItemRow) -> HubResult<()> {
        if Self::can_view(caller, item) {
            Ok(())
        } else {
            Err(HubError::NotFound("item"))
        }
    }

    pub(crate) fn user_name(conn: &Connection, id: i64) -> HubResult<String> {
        Ok(conn
            .row("SELECT display_name FROM users WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .unwrap_or_else(|| format!("#{id}")))
    }

    /// Whether `caller` may change the item's content (and attachments) now.
    pub(crate) fn check_edit(conn: &Connection, caller: &Caller, item: &ItemRow) -> HubResult<()> {
        match item.step.as_str() {
            "collect" => {
                caller.require(Role::Reporter, "editing a draft")?;
                if item.author_id != caller.id {
                    return Err(HubError::Forbidden(
                        "only the reporter who wrote this draft can edit it".into(),
                    ));
                }
                Ok(())
            }
            "edit" => {
                caller.require(Role::Editor, "editing")?;
                match item.lock_user_id {
                    Some(u) if u == caller.id => Ok(()),
                    Some(u) => Err(HubError::Locked {
                        holder: Self::user_name(conn, u)?,
                    }),
                    None => Err(HubError::Forbidden(
                        "claim the item before editing it".into(),
                    )),
                }
            }
            step => Err(HubError::Forbidden(format!(
                "the item cannot be edited in step \"{step}\""
            ))),
        }
    }

    fn can_claim(&self, caller: &Caller, item: &ItemRow, now: DateTime<Utc>) -> bool {
        caller.has(Role::Editor)
            && matches!(item.step.as_str(), "handover" | "edit")
            && (item.lock_user_id.is_none() || self.lock_lapsed(item, now))
    }

    // ---------------------------------------------------------------- edit locks

    fn lock_idle_span(&self) -> Duration {
        *self.lock_idle.read().unwrap_or_else(|e| e.into_inner())
    }

    /// When the item's edit lock lapses unless its holder saves or keeps it first.
    pub(crate) fn lock_expires_at(&self, item: &ItemRow) -> Option<DateTime<Utc>> {
        item.lock_user_id?;
        let since = item.lock_since?;
        let active = item.lock_active_at.map_or(since, |a| a.max(since));
        Some(active + self.lock_idle_span())
    }

    fn lock_lapsed(&self, item: &ItemRow, now: DateTime<Utc>) -> bool {
        self.lock_expires_at(item).is_some_and(|t| t <= now)
    }

    fn lock_expired_error(&self, holder: Option<String>) -> HubError {
        HubError::LockExpired {
            minutes: self.lock_idle_span().num_minutes(),
            holder,
        }
    }

    /// Lets the item's lock go inside `tx` if it lapsed, audited as `item.lock_expired`;
    /// returns the former holder.
    fn expire_lapsed_lock(
        &self,
        tx: &Connection,
        item: &mut ItemRow,
        now: DateTime<Utc>,
    ) -> HubResult<Option<i64>> {
        if !self.lock_lapsed(item, now) {
            return Ok(None);
        }
        let Some(holder) = item.lock_user_id else {
            return Ok(None);
        };
        let last_activity = item.lock_active_at.into_iter().chain(item.lock_since).max();
        tx.exec(
            "UPDATE items SET lock_user_id = NULL, lock_since = NULL, lock_active_at = NULL
             WHERE id = ?1",
            [item.id],
        )?;
        audit::append(
            tx,
            now,
            &Actor::system(),
            "item.lock_expired",
            Some(item.id),
            json!({ "holder": holder, "holder_name": Self::user_name(tx, holder)?,
                    "last_activity": last_activity,
                    "idle_minutes": self.lock_idle_span().num_minutes() }),
        )?;
        item.lock_user_id = None;
        item.lock_since = None;
        item.lock_active_at = None;
        Ok(Some(holder))
    }

    /// Lets the item's lock go, in a transaction of its own, if it lapsed; returns the former
    /// holder. Called before anything that depends on who holds the lock.
    fn settle_lock(&self, id: i64) -> HubResult<Option<i64>> {
        let now = self.now();
        let mut conn = self.db();
        self.settle_lock_in(&mut conn, id, now)
    }

    /// [`settle_lock`](Self::settle_lock) on a connection already held (in a savepoint of its
    /// own, released when the lock lapsed), so the request that follows needs no second turn
    /// at the connection.
    fn settle_lock_in(
        &self,
        conn: &mut Connection,
        id: i64,
        now: DateTime<Utc>,
    ) -> HubResult<Option<i64>> {
        let tx = conn.savepoint()?;
        let mut item = match Self::load_item(&tx, id) {
            Ok(item) => item,
            Err(HubError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let lapsed = self.expire_lapsed_lock(&tx, &mut item, now)?;
        if lapsed.is_some() {
            tx.commit()?;
        }
        Ok(lapsed)
    }

    /// Lets every lapsed edit lock go (the live-updates thread runs this once a minute; a
    /// claim, save or action on the item does it at once). Returns how many lapsed.
    pub fn expire_locks(&self) -> HubResult<usize> {
        let ids: Vec<i64> = crate::db::all(
            &self.db(),
            "SELECT id FROM items WHERE lock_user_id IS NOT NULL",
            [],
            |r| r.get(0),
        )?;
        let mut n = 0;
        for id in ids {
            if self.settle_lock(id)?.is_some() {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Whether `caller`'s last edit lock on the item ended by lapsing (not by a release, a
    /// break or an action), so a refusal can say so.
    fn lock_lapsed_for(conn: &Connection, item_id: i64, caller_id: i64) -> HubResult<bool> {
        let last: Option<String> = conn
            .row(
                "SELECT kind FROM audit WHERE item_id = ?1
                 AND kind IN ('item.claimed', 'item.correct', 'item.lock_expired', 'item.released',
                              'item.lock_broken', 'item.action')
                 AND (actor_id = ?2 OR json_extract(data, '$.holder') = ?2)
                 ORDER BY seq DESC LIMIT 1",
                params![item_id, caller_id],
                |r| r.get(0),
            )
            .optional()?;
        Ok(last.as_deref() == Some("item.lock_expired"))
    }

    /// Turns a refusal to edit into "your lock lapsed" when that is why.
    fn explain_lapse(
        &self,
        conn: &Connection,
        caller: &Caller,
        item: &ItemRow,
        refusal: HubError,
    ) -> HubResult<HubError> {
        if item.step == "edit"
            && matches!(refusal, HubError::Locked { .. } | HubError::Forbidden(_))
            && Self::lock_lapsed_for(conn, item.id, caller.id)?
        {
            let holder = match item.lock_user_id {
                Some(u) => Some(Self::user_name(conn, u)?),
                None => None,
            };
            return Ok(self.lock_expired_error(holder));
        }
        Ok(refusal)
    }

    /// The holder keeps the edit lock: its inactivity counts from now. A heartbeat, not a
    /// change of the item, so it is neither audited nor announced.
    pub fn keep_lock(&self, caller: &Caller, id: i64) -> HubResult<api::LockInfo> {
        let result = (|| {
            if self.settle_lock(id)? == Some(caller.id) {
                return Err(self.lock_expired_error(None));
            }
            let now = self.now();
            let conn = self.db();
            let item = Self::viewable(&conn, caller, id)?;
            let refusal = match item.lock_user_id {
                Some(u) if u == caller.id => None,
                Some(u) => Some(HubError::Locked {
                    holder: Self::user_name(&conn, u)?,
                }),
                None => Some(HubError::Forbidden(
                    "you do not hold this item's edit lock; claim it first".into(),
                )),
            };
            if let Some(refusal) = refusal {
                return Err(self.explain_lapse(&conn, caller, &item, refusal)?);
            }
            conn.exec(
                "UPDATE items SET lock_active_at = ?2 WHERE id = ?1 AND lock_user_id = ?3",
                params![id, now, caller.id],
            )?;
            let item = Self::load_item(&conn, id)?;
            self.lock_info(&conn, &item)?
                .ok_or_else(|| HubError::Internal(anyhow::anyhow!("the lock vanished")))
        })();
        self.refuse_unless(caller, Some(id), "item.keep_lock", result)
    }

    /// Checks one workflow action for `caller` (everything except the note).
    fn check_action<'d>(
        &self,
        conn: &Connection,
        def: &'d Definition,
        caller: &Caller,
        item: &ItemRow,
        action: &str,
    ) -> HubResult<&'d warta_sop::Action> {
        let step = def
            .step(&item.step)
            .ok_or_else(|| HubError::Internal(anyhow::anyhow!("item in unknown step")))?;
        let Some(act) = step.actions.iter().find(|a| a.id == action) else {
            return Err(HubError::InvalidTransition {
                action: action.to_string(),
                step: item.step.clone(),
                allowed: self.allowed_action_ids(conn, def, caller, item),
            });
        };
        let role =
            step.actor.as_deref().and_then(Role::parse).ok_or_else(|| {
                HubError::Forbidden(format!("nobody acts in step \"{}\"", item.step))
            })?;
        caller.require(role, &format!("\"{action}\""))?;
        match item.step.as_str() {
            "collect" if item.author_id != caller.id => Err(HubError::Forbidden(
                "only the reporter who wrote this draft can submit it".into(),
            )),
            "edit" => match item.lock_user_id {
                Some(u) if u == caller.id => Ok(act),
                Some(u) => Err(HubError::Locked {
                    holder: Self::user_name(conn, u)?,
                }),
                None => Err(HubError::Forbidden("claim the item first".into())),
            },
            "handover" if item.lock_user_id.is_some() => Err(HubError::Locked {
                holder: Self::user_name(conn, item.lock_user_id.unwrap_or_default())?,
            }),
            _ => Ok(act),
        }
    }

    fn allowed_action_ids(
        &self,
        conn: &Connection,
        def: &Definition,
        caller: &Caller,
        item: &ItemRow,
    ) -> Vec<String> {
        let Some(step) = def.step(&item.step) else {
            return vec![];
        };
        step.actions
            .iter()
            .filter(|a| self.check_action(conn, def, caller, item, &a.id).is_ok())
            .map(|a| a.id.clone())
            .collect()
    }

    fn step_state(&self, def: &Definition, item: &ItemRow, now: DateTime<Utc>) -> api::StepState {
        let step = def.step(&item.step);
        api::StepState {
            step: item.step.clone(),
            number: step.map(|s| s.number).unwrap_or(0),
            actor: step.and_then(|s| s.actor.as_deref()).and_then(Role::parse),
            is_final: step.map(|s| s.is_final).unwrap_or(true),
            entered_at: item.step_entered_at,
            due_at: item.step_due_at,
            overdue: item.step_due_at.is_some_and(|d| now > d),
        }
    }

    fn lock_info(&self, conn: &Connection, item: &ItemRow) -> HubResult<Option<api::LockInfo>> {
        Ok(
            match (
                item.lock_user_id,
                item.lock_since,
                self.lock_expires_at(item),
            ) {
                (Some(u), Some(since), Some(expires_at)) => Some(api::LockInfo {
                    user_id: u,
                    display_name: Self::user_name(conn, u)?,
                    since,
                    expires_at,
                }),
                _ => None,
            },
        )
    }

    fn summary(
        &self,
        conn: &Connection,
        item: &ItemRow,
        now: DateTime<Utc>,
    ) -> HubResult<api::ItemSummary> {
        let def = self.sop(&item.sop)?;
        Ok(api::ItemSummary {
            id: item.id,
            title: item.content.title.clone(),
            unit: item.content.unit.clone(),
            author: Self::user_name(conn, item.author_id)?,
            state: self.step_state(def, item, now),
            lock: self.lock_info(conn, item)?,
            version: item.version,
            updated_at: item.updated_at,
            published_url: item.published_url.clone(),
            scheduled_at: item.scheduled_at,
            publishing: Self::publishing_state(conn, item.id)?,
        })
    }

    fn detail(
        &self,
        conn: &Connection,
        caller: &Caller,
        item: &ItemRow,
    ) -> HubResult<api::ItemDetail> {
        self.detail_of(conn, caller, item, Stored::Read)
    }

    /// The detail of an item; of one this request has just created (`Stored::New`), without
    /// reading back what it wrote: a new item has no attachments, comments or publications,
    /// and one step visit — the item's own step, entered when it was made.
    fn detail_of(
        &self,
        conn: &Connection,
        caller: &Caller,
        item: &ItemRow,
        stored: Stored,
    ) -> HubResult<api::ItemDetail> {
        let now = self.now();
        let def = self.sop(&item.sop)?;
        let step = def.step(&item.step);
        let new = matches!(stored, Stored::New);
        let publishing = if new {
            None
        } else {
            Self::publishing_state(conn, item.id)?
        };
        let actions = step
            .map(|s| {
                s.actions
                    .iter()
                    .filter(|a| a.id != "claim")
                    // Nothing else while the item is going out to a website.
                    .filter(|_| publishing.is_none())
                    .filter(|a| self.check_action(conn, def, caller, item, &a.id).is_ok())
                    .map(|a| api::AvailableAction {
                        id: a.id.clone(),
                        to: a.to.clone(),
                        requires_note: a.requires_note,
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(api::ItemDetail {
            id: item.id,
            sop: item.sop.clone(),
            content: item.content.clone(),
            author_id: item.author_id,
            author: Self::user_name(conn, item.author_id)?,
            version: item.version,
            state: self.step_state(def, item, now),
            lock: self.lock_info(conn, item)?,
            attachments: if new {
                Vec::new()
            } else {
                self.attachments(conn, item.id, Some(caller))?
            },
            comments: if new {
                Vec::new()
            } else {
                Self::comments(conn, item.id)?
            },
            step_times: if new {
                let visit = (
                    item.step.clone(),
                    item.step_entered_at,
                    item.step_due_at,
                    None,
                );
                self.step_times_of(def, vec![visit], now)
            } else {
                self.step_times(conn, def, item.id, now)?
            },
            actions,
            can_edit: Self::check_edit(conn, caller, item).is_ok(),
            can_claim: self.can_claim(caller, item, now),
            created_at: item.created_at,
            updated_at: item.updated_at,
            published_url: item.published_url.clone(),
            outcome_note: item.outcome_note.clone(),
            scheduled_at: item.scheduled_at,
            publishing,
            publications: if new {
                Vec::new()
            } else {
                Self::publication_statuses(conn, item.id)?
            },
            can_correct: item.step == "published" && caller.has(Role::Editor),
            can_unpublish: item.step == "published" && caller.has(Role::Publisher),
        })
    }

    fn comments(conn: &Connection, item_id: i64) -> HubResult<Vec<api::Comment>> {
        let v = crate::db::all(
            conn,
            "SELECT c.id, u.display_name, c.body, c.created_at FROM comments c
             JOIN users u ON u.id = c.author_id WHERE c.item_id = ?1 ORDER BY c.id",
            [item_id],
            |r| {
                Ok(api::Comment {
                    id: r.get(0)?,
                    author: r.get(1)?,
                    body: r.get(2)?,
                    created_at: r.get(3)?,
                })
            },
        )?;
        Ok(v)
    }

    fn step_times(
        &self,
        conn: &Connection,
        def: &Definition,
        item_id: i64,
        now: DateTime<Utc>,
    ) -> HubResult<Vec<api::StepTime>> {
        let rows = crate::db::all(
            conn,
            "SELECT step, entered_at, due_at, left_at FROM step_visits WHERE item_id = ?1 ORDER BY id",
            [item_id],
            |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, DateTime<Utc>>(1)?,
                    r.get::<_, Option<DateTime<Utc>>>(2)?,
                    r.get::<_, Option<DateTime<Utc>>>(3)?,
                ))
            },
        )?;
        Ok(self.step_times_of(def, rows, now))
    }

    /// Step times from step visits (step, entered, due, left), oldest first.
    #[allow(clippy::type_complexity)]
    fn step_times_of(
        &self,
        def: &Definition,
        rows: Vec<(
            String,
            DateTime<Utc>,
            Option<DateTime<Utc>>,
            Option<DateTime<Utc>>,
        )>,
        now: DateTime<Utc>,
    ) -> Vec<api::StepTime> {
        let cal = self.calendar(def);
        let holidays = self.holidays.read().expect("holidays");
        let mut out = Vec::new();
        for (step_id, entered, due, left) in rows {
            let Some(step) = def.step(&step_id) else {
                continue;
            };
            if step.is_final {
                continue;
            }
            let end = left.unwrap_or(now);
            let met = match (due, left) {
                (Some(d), Some(l)) => Some(l <= d),
                (Some(d), None) if now > d => Some(false),
                _ => None,
            };
            out.push(api::StepTime {
                step: step_id.clone(),
                number: step.number,
                entered_at: entered,
                left_at: left,
                standard_minutes: step.standard.max_minutes(&cal),
                actual_minutes: cal.working_minutes(entered, end, &holidays),
                due_at: due,
                met,
            });
        }
        out
    }

    pub fn get_item(&self, caller: &Caller, id: i64) -> HubResult<api::ItemDetail> {
        let conn = self.db();
        let item = Self::viewable(&conn, caller, id)?;
        self.detail(&conn, caller, &item)
    }

    /// Everything waiting for `caller`, soonest due first.
    pub fn tasks(&self, caller: &Caller) -> HubResult<Vec<api::ItemSummary>> {
        let now = self.now();
        let conn = self.db();
        // Only items in a step someone still acts on, found through the `items_step` index:
        // an office's years of published items are never read.
        let items = crate::db::all(&conn, &self.open_items_sql, [], item_from_row)?;
        let mut out = Vec::new();
        for item in items {
            let def = self.sop(&item.sop)?;
            let mine = match item.step.as_str() {
                "handover" => self.can_claim(caller, &item, now),
                "edit" => {
                    caller.has(Role::Editor)
                        && (item.lock_user_id.is_none_or(|u| u == caller.id)
                            || self.lock_lapsed(&item, now))
                }
                _ => !self
                    .allowed_action_ids(&conn, def, caller, &item)
                    .is_empty(),
            };
            if mine {
                out.push(self.summary(&conn, &item, now)?);
            }
        }
        // Soonest due first, those with no due time last, then by id.
        out.sort_by_key(|s| (s.state.due_at.is_none(), s.state.due_at, s.id));
        Ok(out)
    }

    /// Items the caller may see, newest first, one page at a time.
    ///
    /// `filter`: `all`, `published` or `mine` (the caller's own drafts and submissions).
    /// `search`: words that must all appear in the title, summary, body or tags (a word ending
    /// in `*` matches as a prefix); FTS5 over the `items_fts` index.
    pub fn list_items(
        &self,
        caller: &Caller,
        filter: &str,
        search: Option<&str>,
        page: Page,
    ) -> HubResult<Vec<api::ItemSummary>> {
        let now = self.now();
        let filter_sql = match filter {
            "published" => "items.published_url IS NOT NULL",
            "mine" => "items.author_id = :me",
            "all" | "" => "1",
            other => {
                return Err(HubError::validation(
                    "filter",
                    format!("unknown filter \"{other}\" (use all, published or mine)"),
                ));
            }
        };
        // The same rule as `can_view`, in SQL, so that paging counts only visible items.
        let staff = [Role::Editor, Role::Official, Role::Publisher, Role::Admin]
            .iter()
            .any(|r| caller.has(*r));
        let visible = if staff {
            "1"
        } else {
            "(items.author_id = :me OR items.published_url IS NOT NULL)"
        };
        let cols = ITEM_COLS
            .split(", ")
            .map(|c| format!("items.{}", c.trim()))
            .collect::<Vec<_>>()
            .join(", ");
        let order = match filter {
            "published" => "items.published_at DESC, items.id DESC",
            _ => "items.updated_at DESC, items.id DESC",
        };
        let match_query = search.map(fts_query).transpose()?;
        let sql = match &match_query {
            // Newest matches first: FTS5 walks its index in rowid order and stops at the page,
            // where ranking by relevance would score every match of a common word first.
            Some(_) => format!(
                "SELECT {cols} FROM items_fts JOIN items ON items.id = items_fts.rowid
                 WHERE items_fts MATCH :q AND {filter_sql} AND {visible}
                 ORDER BY items_fts.rowid DESC LIMIT :limit OFFSET :offset"
            ),
            None => format!(
                "SELECT {cols} FROM items WHERE {filter_sql} AND {visible}
                 ORDER BY {order} LIMIT :limit OFFSET :offset"
            ),
        };
        let conn = self.db();
        let mut stmt = conn.prepare(&sql)?;
        let mut params: Vec<(&str, &dyn rusqlite::ToSql)> =
            vec![(":limit", &page.limit), (":offset", &page.offset)];
        if sql.contains(":me") {
            params.push((":me", &caller.id));
        }
        if let Some(q) = &match_query {
            params.push((":q", q));
        }
        let items = stmt
            .query_map(params.as_slice(), item_from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        items.iter().map(|i| self.summary(&conn, i, now)).collect()
    }

    // ---------------------------------------------------------------- items: writing

    fn validate_content(c: &api::ItemContent) -> HubResult<api::ItemContent> {
        let title = c.title.trim().to_string();
        if title.is_empty() {
            return Err(HubError::validation("title", "a title is required"));
        }
        if title.chars().count() > 300 {
            return Err(HubError::validation(
                "title",
                "the title is longer than 300 characters",
            ));
        }
        if c.body.len() > 1_000_000 {
            return Err(HubError::validation("body", "the text is longer than 1 MB"));
        }
        let tags: Vec<String> = c
            .tags
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if tags.len() > 50 {
            return Err(HubError::validation("tags", "at most 50 tags"));
        }
        Ok(api::ItemContent {
            title,
            summary: c.summary.trim().to_string(),
            body: c.body.clone(),
            category: c.category.trim().to_string(),
            tags,
            unit: c.unit.trim().to_string(),
        })
    }

    fn insert_revision(
        tx: &Connection,
        item_id: i64,
        version: i64,
        author: i64,
        at: DateTime<Utc>,
        c: &api::ItemContent,
    ) -> HubResult<()> {
        tx.exec(
            "INSERT INTO revisions (item_id, version, author_id, created_at, title, summary, body, category, tags, unit)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                item_id,
                version,
                author,
                at,
                c.title,
                c.summary,
                c.body,
                c.category,
                serde_json::to_string(&c.tags).expect("tags"),
                c.unit
            ],
        )?;
        Ok(())
    }

    /// When an item entering step `to` now is due to leave it (none for a final step).
    fn step_due(
        &self,
        def: &Definition,
        to: &str,
        now: DateTime<Utc>,
    ) -> HubResult<Option<DateTime<Utc>>> {
        let step = def
            .step(to)
            .ok_or_else(|| HubError::Internal(anyhow::anyhow!("unknown step {to}")))?;
        Ok(if step.is_final {
            None
        } else {
            let holidays = self.holidays.read().expect("holidays");
            self.calendar(def).due(now, &step.standard, &holidays)
        })
    }

    /// Moves the item into `to`: closes the open step visit, opens a new one with its due time.
    pub(crate) fn enter_step(
        &self,
        tx: &Connection,
        def: &Definition,
        item_id: i64,
        to: &str,
        now: DateTime<Utc>,
    ) -> HubResult<Option<DateTime<Utc>>> {
        let due = self.step_due(def, to, now)?;
        tx.exec(
            "UPDATE step_visits SET left_at = ?2 WHERE item_id = ?1 AND left_at IS NULL",
            params![item_id, now],
        )?;
        tx.exec(
            "INSERT INTO step_visits (item_id, step, entered_at, due_at) VALUES (?1, ?2, ?3, ?4)",
            params![item_id, to, now, due],
        )?;
        tx.exec(
            "UPDATE items SET step = ?2, step_entered_at = ?3, step_due_at = ?4, updated_at = ?3 WHERE id = ?1",
            params![item_id, to, now, due],
        )?;
        Ok(due)
    }

    /// A reporter starts a new item in SOP-A's first step.
    pub fn create_item(
        &self,
        caller: &Caller,
        content: api::ItemContent,
    ) -> HubResult<api::ItemDetail> {
        self.create_item_once(caller, content, None)
            .map(|(detail, _)| detail)
    }

    /// [`Office::create_item`] with the client's idempotency key: a create repeated with a key
    /// this author used before (the answer to the first one was lost) makes nothing and
    /// returns the item made then, as it is now. The flag says whether the item is new.
    pub fn create_item_once(
        &self,
        caller: &Caller,
        content: api::ItemContent,
        key: Option<&str>,
    ) -> HubResult<(api::ItemDetail, bool)> {
        if let Some(key) = key {
            validate_idempotency_key(key)?;
        }
        self.refuse_unless(
            caller,
            None,
            "item.create",
            caller.require(Role::Reporter, "creating items"),
        )?;
        let mut c = Self::validate_content(&content)?;
        if c.unit.is_empty() {
            c.unit = caller.unit.clone();
        }
        let def = self.sop("sop-a")?;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        if let Some(key) = key {
            let made: Option<i64> = tx
                .row(
                    "SELECT id FROM items WHERE author_id = ?1 AND client_key = ?2",
                    params![caller.id, key],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = made {
                let item = Self::load_item(&tx, id)?;
                let detail = self.detail(&tx, caller, &item)?;
                tx.commit()?;
                return Ok((detail, false));
            }
        }
        // The item is made in its first step, with that step's visit: what `enter_step` does
        // for an item that has been somewhere before, in one statement each.
        let due = self.step_due(def, &def.start, now)?;
        tx.exec(
            "INSERT INTO items (sop, title, summary, body, category, tags, unit, author_id, version, step,
                                step_entered_at, step_due_at, created_at, updated_at, client_key)
             VALUES ('sop-a', ?1, ?2, ?3, ?4, ?5, ?6, ?7, 1, ?8, ?9, ?10, ?9, ?9, ?11)",
            params![
                c.title,
                c.summary,
                c.body,
                c.category,
                serde_json::to_string(&c.tags).expect("tags"),
                c.unit,
                caller.id,
                def.start,
                now,
                due,
                key
            ],
        )?;
        let id = tx.last_insert_rowid();
        Self::insert_revision(&tx, id, 1, caller.id, now, &c)?;
        tx.exec(
            "INSERT INTO step_visits (item_id, step, entered_at, due_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, def.start, now, due],
        )?;
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "item.created",
            Some(id),
            json!({ "title": c.title, "version": 1, "to_step": def.start }),
        )?;
        // The row as written (the columns not named above are NULL), not read back.
        let item = ItemRow {
            id,
            sop: "sop-a".into(),
            content: c,
            author_id: caller.id,
            version: 1,
            step: def.start.clone(),
            step_entered_at: now,
            step_due_at: due,
            lock_user_id: None,
            lock_since: None,
            lock_active_at: None,
            created_at: now,
            updated_at: now,
            published_url: None,
            published_at: None,
            outcome_note: None,
            scheduled_at: None,
        };
        let detail = self.detail_of(&tx, caller, &item, Stored::New)?;
        tx.commit()?;
        Ok((detail, true))
    }

    /// Saves a new revision, refusing a save based on a stale version.
    pub fn save_item(
        &self,
        caller: &Caller,
        id: i64,
        save: api::SaveItem,
    ) -> HubResult<api::ItemDetail> {
        let c = Self::validate_content(&save.content)?;
        let now = self.now();
        let result = (|| {
            let mut conn = self.db();
            if self.settle_lock_in(&mut conn, id, now)? == Some(caller.id) {
                return Err(self.lock_expired_error(None));
            }
            let tx = conn.savepoint()?;
            let item = Self::load_item(&tx, id)?;
            Self::check_view(caller, &item)?;
            if let Err(refusal) = Self::check_edit(&tx, caller, &item) {
                return Err(self.explain_lapse(&tx, caller, &item, refusal)?);
            }
            if save.version != item.version {
                return Err(HubError::VersionConflict {
                    current: item.version,
                });
            }
            let version = item.version + 1;
            tx.exec(
                "UPDATE items SET title = ?2, summary = ?3, body = ?4, category = ?5, tags = ?6, unit = ?7,
                        version = ?8, updated_at = ?9 WHERE id = ?1 AND version = ?10",
                params![
                    id,
                    c.title,
                    c.summary,
                    c.body,
                    c.category,
                    serde_json::to_string(&c.tags).expect("tags"),
                    c.unit,
                    version,
                    now,
                    item.version
                ],
            )?;
            Self::insert_revision(&tx, id, version, caller.id, now, &c)?;
            // A save is activity: the holder's lock lasts from now.
            tx.exec(
                "UPDATE items SET lock_active_at = ?2 WHERE id = ?1 AND lock_user_id = ?3",
                params![id, now, caller.id],
            )?;
            audit::append(
                &tx,
                now,
                &caller.actor(),
                "item.saved",
                Some(id),
                json!({ "version": version, "step": item.step }),
            )?;
            let item = Self::load_item(&tx, id)?;
            let detail = self.detail(&tx, caller, &item)?;
            tx.commit()?;
            Ok(detail)
        })();
        self.refuse_unless(caller, Some(id), "item.save", result)
    }

    /// Runs a workflow action (`submit`, `approve`, `publish`, ...).
    pub fn act(
        &self,
        caller: &Caller,
        id: i64,
        action: &str,
        req: api::ActionRequest,
    ) -> HubResult<api::ItemDetail> {
        if action == "claim" {
            return self.claim(caller, id);
        }
        let note = req
            .note
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(str::to_string);
        let result = (|| {
            let def = self.sop("sop-a")?;
            // One turn at the connection: a lapsed lock let go, the checks, the change.
            let mut conn = self.db();
            self.settle_lock_in(&mut conn, id, self.now())?;
            let item = Self::load_item(&conn, id)?;
            Self::check_view(caller, &item)?;
            let act = self
                .check_action(&conn, def, caller, &item, action)?
                .clone();
            if act.requires_note && note.is_none() {
                return Err(HubError::validation(
                    "note",
                    format!("\"{action}\" needs a note or reason"),
                ));
            }
            let now = self.now();
            if let Some(at) = req.scheduled_at
                && (at <= now || at > now + Duration::days(366))
            {
                return Err(HubError::validation(
                    "scheduled_at",
                    "a scheduled time must be in the future, within a year",
                ));
            }
            let tx = conn.savepoint()?;
            if req.scheduled_at.is_some() && matches!(action, "approve" | "publish") {
                tx.exec(
                    "UPDATE items SET scheduled_at = ?2 WHERE id = ?1",
                    params![id, req.scheduled_at],
                )?;
            }
            if action == "publish" {
                // The step completes when every website has the item (see publishing.rs).
                let current = Self::load_item(&tx, id)?;
                let queued =
                    self.queue_publish(&tx, caller, &current, current.scheduled_at, now)?;
                audit::append(
                    &tx,
                    now,
                    &caller.actor(),
                    "item.action",
                    Some(id),
                    json!({ "action": action, "from_step": item.step, "queued": queued,
                            "version": item.version, "scheduled_at": current.scheduled_at }),
                )?;
                tx.commit()?;
                drop(conn);
                self.run_due_publications(Some(id));
                self.queue.ring();
                return self.get_item(caller, id);
            }
            if action == "not_publish" {
                Self::refuse_if_busy(&tx, id)?;
            }
            self.enter_step(&tx, def, id, &act.to, now)?;
            // Leaving the editor's step ends the editing session.
            tx.exec(
                "UPDATE items SET lock_user_id = NULL, lock_since = NULL, lock_active_at = NULL WHERE id = ?1",
                [id],
            )?;
            let target = def.step(&act.to).expect("validated target");
            if target.is_final {
                tx.exec(
                    "UPDATE items SET outcome_note = ?2 WHERE id = ?1",
                    params![id, note],
                )?;
            }
            audit::append(
                &tx,
                now,
                &caller.actor(),
                "item.action",
                Some(id),
                json!({ "action": action, "from_step": item.step, "to_step": act.to,
                        "note": note, "version": item.version }),
            )?;
            let item = Self::load_item(&tx, id)?;
            let detail = self.detail(&tx, caller, &item)?;
            tx.commit()?;
            Ok(detail)
        })();
        self.refuse_unless(caller, Some(id), &format!("item.action.{action}"), result)
    }

    /// An editor takes the item's edit lock; in `handover` this also receives the item into `edit`.
    pub fn claim(&self, caller: &Caller, id: i64) -> HubResult<api::ItemDetail> {
        let result = (|| {
            let def = self.sop("sop-a")?;
            let now = self.now();
            let mut conn = self.db();
            // A lapsed lock is let go (audited) first; then the item is free to claim.
            self.settle_lock_in(&mut conn, id, now)?;
            let tx = conn.savepoint()?;
            let item = Self::load_item(&tx, id)?;
            Self::check_view(caller, &item)?;
            caller.require(Role::Editor, "claiming an item")?;
            if let Some(u) = item.lock_user_id {
                if u == caller.id {
                    // Claiming again keeps the lock.
                    tx.exec(
                        "UPDATE items SET lock_active_at = ?2 WHERE id = ?1",
                        params![id, now],
                    )?;
                    let item = Self::load_item(&tx, id)?;
                    let detail = self.detail(&tx, caller, &item)?;
                    tx.commit()?;
                    return Ok(detail);
                }
                return Err(HubError::Locked {
                    holder: Self::user_name(&tx, u)?,
                });
            }
            match item.step.as_str() {
                "handover" => {
                    self.check_action(&tx, def, caller, &item, "claim")?;
                    self.enter_step(&tx, def, id, "edit", now)?;
                }
                "edit" => {}
                _ => {
                    let mut allowed = self.allowed_action_ids(&tx, def, caller, &item);
                    allowed.retain(|a| a != "claim");
                    return Err(HubError::InvalidTransition {
                        action: "claim".into(),
                        step: item.step.clone(),
                        allowed,
                    });
                }
            }
            tx.exec(
                "UPDATE items SET lock_user_id = ?2, lock_since = ?3, lock_active_at = ?3 WHERE id = ?1",
                params![id, caller.id, now],
            )?;
            audit::append(
                &tx,
                now,
                &caller.actor(),
                "item.claimed",
                Some(id),
                json!({ "from_step": item.step, "to_step": "edit" }),
            )?;
            let item = Self::load_item(&tx, id)?;
            let detail = self.detail(&tx, caller, &item)?;
            tx.commit()?;
            Ok(detail)
        })();
        self.refuse_unless(caller, Some(id), "item.claim", result)
    }

    /// The holder releases the edit lock, or an admin breaks it.
    pub fn release_lock(&self, caller: &Caller, id: i64) -> HubResult<api::ItemDetail> {
        let result = (|| {
            self.settle_lock(id)?;
            let now = self.now();
            let mut conn = self.db();
            let tx = conn.savepoint()?;
            let item = Self::load_item(&tx, id)?;
            Self::check_view(caller, &item)?;
            let Some(holder) = item.lock_user_id else {
                return self.detail(&tx, caller, &item);
            };
            let kind = if holder == caller.id {
                "item.released"
            } else if caller.has(Role::Admin) {
                "item.lock_broken"
            } else {
                return Err(HubError::Locked {
                    holder: Self::user_name(&tx, holder)?,
                });
            };
            tx.exec(
                "UPDATE items SET lock_user_id = NULL, lock_since = NULL, lock_active_at = NULL WHERE id = ?1",
                [id],
            )?;
            audit::append(
                &tx,
                now,
                &caller.actor(),
                kind,
                Some(id),
                json!({ "holder": holder }),
            )?;
            let item = Self::load_item(&tx, id)?;
            let detail = self.detail(&tx, caller, &item)?;
            tx.commit()?;
            Ok(detail)
        })();
        self.refuse_unless(caller, Some(id), "item.release_lock", result)
    }

    pub fn add_comment(&self, caller: &Caller, id: i64, body: &str) -> HubResult<api::Comment> {
        let body = body.trim();
        if body.is_empty() {
            return Err(HubError::validation("body", "the comment is empty"));
        }
        if body.len() > 20_000 {
            return Err(HubError::validation(
                "body",
                "the comment is longer than 20,000 characters",
            ));
        }
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let item = Self::load_item(&tx, id)?;
        Self::check_view(caller, &item)?;
        tx.exec(
            "INSERT INTO comments (item_id, author_id, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, caller.id, body, now],
        )?;
        let cid = tx.last_insert_rowid();
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "item.comment",
            Some(id),
            json!({ "comment_id": cid, "body": body }),
        )?;
        tx.commit()?;
        Ok(api::Comment {
            id: cid,
            author: caller.display_name.clone(),
            body: body.to_string(),
            created_at: now,
        })
    }

    // ---------------------------------------------------------------- revisions, timeline

    pub fn revisions(&self, caller: &Caller, id: i64) -> HubResult<Vec<api::RevisionSummary>> {
        let conn = self.db();
        Self::viewable(&conn, caller, id)?;
        let v = crate::db::all(
            &conn,
            "SELECT r.version, u.display_name, r.created_at, r.title FROM revisions r
             JOIN users u ON u.id = r.author_id WHERE r.item_id = ?1 ORDER BY r.version",
            [id],
            |r| {
                Ok(api::RevisionSummary {
                    version: r.get(0)?,
                    author: r.get(1)?,
                    created_at: r.get(2)?,
                    title: r.get(3)?,
                })
            },
        )?;
        Ok(v)
    }

    pub fn revision(&self, caller: &Caller, id: i64, version: i64) -> HubResult<api::Revision> {
        let conn = self.db();
        Self::viewable(&conn, caller, id)?;
        Self::load_revision(&conn, id, version)
    }

    pub(crate) fn revision_content(
        conn: &Connection,
        id: i64,
        version: i64,
    ) -> HubResult<api::ItemContent> {
        Ok(Self::load_revision(conn, id, version)?.content)
    }

    fn load_revision(conn: &Connection, id: i64, version: i64) -> HubResult<api::Revision> {
        conn.row(
            "SELECT r.version, u.display_name, r.created_at, r.title, r.summary, r.body, r.category, r.tags, r.unit
             FROM revisions r JOIN users u ON u.id = r.author_id WHERE r.item_id = ?1 AND r.version = ?2",
            params![id, version],
            |r| {
                let tags: String = r.get(7)?;
                Ok(api::Revision {
                    version: r.get(0)?,
                    author: r.get(1)?,
                    created_at: r.get(2)?,
                    content: api::ItemContent {
                        title: r.get(3)?,
                        summary: r.get(4)?,
                        body: r.get(5)?,
                        category: r.get(6)?,
                        tags: serde_json::from_str(&tags).unwrap_or_default(),
                        unit: r.get(8)?,
                    },
                })
            },
        )
        .optional()?
        .ok_or(HubError::NotFound("revision"))
    }

    pub fn diff(
        &self,
        caller: &Caller,
        id: i64,
        from: i64,
        to: i64,
    ) -> HubResult<api::RevisionDiff> {
        let conn = self.db();
        Self::viewable(&conn, caller, id)?;
        let a = Self::load_revision(&conn, id, from)?.content;
        let b = Self::load_revision(&conn, id, to)?.content;
        Ok(api::RevisionDiff {
            from,
            to,
            fields: crate::diff::content_diff(&a, &b),
        })
    }

    /// The item's history, read from the audit log.
    pub fn timeline(&self, caller: &Caller, id: i64) -> HubResult<Vec<api::TimelineEntry>> {
        let conn = self.db();
        Self::viewable(&conn, caller, id)?;
        let v = crate::db::all(
            &conn,
            "SELECT a.seq, a.at, coalesce(u.display_name, a.actor), a.kind, a.data FROM audit a
             LEFT JOIN users u ON u.id = a.actor_id WHERE a.item_id = ?1 ORDER BY a.seq",
            [id],
            |r| {
                let at: String = r.get(1)?;
                let data: String = r.get(4)?;
                let data: serde_json::Value = serde_json::from_str(&data).unwrap_or_default();
                let s = |k: &str| data.get(k).and_then(|v| v.as_str()).map(str::to_string);
                Ok(api::TimelineEntry {
                    seq: r.get(0)?,
                    at: DateTime::parse_from_rfc3339(&at)
                        .map(|d| d.with_timezone(&Utc))
                        .unwrap_or_default(),
                    actor: r.get(2)?,
                    kind: r.get(3)?,
                    action: s("action").or_else(|| s("request")),
                    from_step: s("from_step"),
                    to_step: s("to_step"),
                    note: s("note").or_else(|| s("reason")).or_else(|| s("body")),
                })
            },
        )?;
        Ok(v)
    }

    // ---------------------------------------------------------------- rendering, publishing

    fn page_for(
        &self,
        conn: &Connection,
        item: &ItemRow,
        preview: bool,
    ) -> HubResult<PublishedPage> {
        let attachments = self.site_attachments(conn, item.id, preview)?;
        Ok(PublishedPage {
            item_id: item.id,
            title: item.content.title.clone(),
            summary: item.content.summary.clone(),
            body_html: warta_render::render_markdown(&item.content.body),
            category: item.content.category.clone(),
            tags: item.content.tags.clone(),
            unit: item.content.unit.clone(),
            published_at: item.published_at,
            attachments,
        })
    }

    /// The page exactly as publishing will write it; attachments are linked through signed
    /// URLs because the preview frame cannot send credentials.
    pub fn preview(&self, caller: &Caller, id: i64) -> HubResult<api::PagePreview> {
        let page = {
            let conn = self.db();
            let item = Self::load_item(&conn, id)?;
            Self::check_view(caller, &item)?;
            self.page_for(&conn, &item, true)?
        };
        Ok(api::PagePreview {
            html: self.site.render_page(&page, self.now(), true)?,
        })
    }

    pub(crate) fn unpublish_from_site(&self, item_id: i64) -> anyhow::Result<()> {
        self.site.unpublish(item_id)
    }

    pub(crate) fn publish_to_site(&self, item: &ItemRow, now: DateTime<Utc>) -> HubResult<String> {
        let mut page = {
            let conn = self.db();
            self.page_for(&conn, item, false)?
        };
        page.published_at = Some(now);
        let receipt = self
            .site
            .publish(&page)
            .map_err(|e| HubError::Internal(e.context("publishing to the local site")))?;
        let base = self.site_base.read().expect("site base").clone();
        Ok(format!("{base}/site/{}", receipt.path))
    }

    // ---------------------------------------------------------------- SOPs, holidays, audit

    pub fn sops(&self) -> Vec<api::SopSummary> {
        self.sops.iter().map(crate::sop_summary).collect()
    }

    /// Validates a SOP definition the admin wants to adopt.
    pub fn check_sop(
        &self,
        caller: &Caller,
        req: api::SopCheckRequest,
    ) -> HubResult<api::SopCheckResult> {
        self.refuse_unless(
            caller,
            None,
            "sops.check",
            caller.require(Role::Admin, "checking SOP definitions"),
        )?;
        Ok(match warta_sop::parse(&req.source, &req.text) {
            Ok(def) => api::SopCheckResult {
                ok: true,
                problems: vec![],
                sop: Some(crate::sop_summary(&def)),
            },
            Err(e) => api::SopCheckResult {
                ok: false,
                problems: e.to_string().lines().map(str::to_string).collect(),
                sop: None,
            },
        })
    }

    fn seed_holidays(&self) -> anyhow::Result<()> {
        let mut conn = self.db();
        let users: i64 = conn.row("SELECT count(*) FROM users", [], |r| r.get(0))?;
        let have: i64 = conn.row("SELECT count(*) FROM holidays", [], |r| r.get(0))?;
        if users == 0 && have == 0 {
            let tx = conn.savepoint()?;
            for (date, name) in Holidays::builtin().iter() {
                tx.exec(
                    "INSERT INTO holidays (date, name) VALUES (?1, ?2)",
                    params![date.to_string(), name],
                )?;
            }
            tx.commit()?;
        }
        Ok(())
    }

    fn reload_holidays(&self) -> anyhow::Result<()> {
        let list = self.holiday_list()?;
        let mut h = Holidays::new();
        for d in list {
            if let Ok(date) = NaiveDate::parse_from_str(&d.date, "%Y-%m-%d") {
                h.insert(date, d.name);
            }
        }
        *self.holidays.write().expect("holidays") = h;
        Ok(())
    }

    pub fn holiday_list(&self) -> HubResult<Vec<api::Holiday>> {
        let conn = self.db();
        let v = crate::db::all(
            &conn,
            "SELECT date, name FROM holidays ORDER BY date",
            [],
            |r| {
                Ok(api::Holiday {
                    date: r.get(0)?,
                    name: r.get(1)?,
                })
            },
        )?;
        Ok(v)
    }

    /// Replaces the holiday list (admin). Due times of steps entered later use the new list.
    pub fn set_holidays(
        &self,
        caller: &Caller,
        list: Vec<api::Holiday>,
    ) -> HubResult<Vec<api::Holiday>> {
        self.refuse_unless(
            caller,
            None,
            "holidays.set",
            caller.require(Role::Admin, "editing holidays"),
        )?;
        for (i, h) in list.iter().enumerate() {
            if NaiveDate::parse_from_str(h.date.trim(), "%Y-%m-%d").is_err() {
                return Err(HubError::validation(
                    "date",
                    format!(
                        "row {}: \"{}\" is not a date like 2026-12-25",
                        i + 1,
                        h.date
                    ),
                ));
            }
            if h.name.trim().is_empty() {
                return Err(HubError::validation(
                    "name",
                    format!("row {}: the holiday needs a name", i + 1),
                ));
            }
        }
        let now = self.now();
        {
            let mut conn = self.db();
            let tx = conn.savepoint()?;
            tx.exec("DELETE FROM holidays", [])?;
            for h in &list {
                tx.exec(
                    "INSERT OR REPLACE INTO holidays (date, name) VALUES (?1, ?2)",
                    params![h.date.trim(), h.name.trim()],
                )?;
            }
            audit::append(
                &tx,
                now,
                &caller.actor(),
                "holidays.set",
                None,
                json!({ "count": list.len() }),
            )?;
            tx.commit()?;
        }
        self.reload_holidays()?;
        self.holiday_list()
    }

    pub fn verify_audit(&self, caller: Option<&Caller>) -> HubResult<api::AuditReport> {
        if let Some(c) = caller {
            self.refuse_unless(
                c,
                None,
                "audit.verify",
                c.require(Role::Admin, "verifying the audit log"),
            )?;
        }
        Ok(audit::verify(&self.db())?)
    }

    /// Used by demo seeding to act with a fixed time.
    pub fn user_caller(&self, username: &str) -> HubResult<Caller> {
        let u = self
            .db()
            .row(
                &format!("SELECT {USER_COLS} FROM users WHERE username = ?1"),
                [username],
                user_from_row,
            )
            .optional()?
            .ok_or(HubError::NotFound("user"))?;
        Ok(Caller {
            id: u.id,
            username: u.username,
            display_name: u.display_name,
            roles: u.roles,
            unit: u.unit,
            session_id: None,
        })
    }
}

/// The query for items in a step someone still acts on: every non-final step of `sops`. Step
/// ids come from validated definitions (identifiers), so they are quoted as SQL literals.
fn open_items_sql(sops: &[Definition]) -> String {
    let steps: std::collections::BTreeSet<&str> = sops
        .iter()
        .flat_map(|d| d.steps.iter())
        .filter(|s| !s.is_final)
        .map(|s| s.id.as_str())
        .collect();
    let list = steps
        .iter()
        .map(|s| format!("'{}'", s.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ");
    format!("SELECT {ITEM_COLS} FROM items WHERE step IN ({list})")
}

/// One page of a list: at most `limit` entries after skipping `offset`.
#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub limit: i64,
    pub offset: i64,
}

impl Page {
    /// Largest page a client may ask for.
    pub const MAX_LIMIT: i64 = 500;
    /// Entries per page when the client does not say.
    pub const DEFAULT_LIMIT: i64 = 200;

    pub fn new(limit: Option<i64>, offset: Option<i64>) -> HubResult<Page> {
        let limit = limit.unwrap_or(Self::DEFAULT_LIMIT);
        if !(1..=Self::MAX_LIMIT).contains(&limit) {
            return Err(HubError::validation(
                "limit",
                format!("limit must be between 1 and {}", Self::MAX_LIMIT),
            ));
        }
        let offset = offset.unwrap_or(0);
        if offset < 0 {
            return Err(HubError::validation("offset", "offset cannot be negative"));
        }
        Ok(Page { limit, offset })
    }
}

impl Default for Page {
    fn default() -> Self {
        Page {
            limit: Self::DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// Longest search text accepted.
const MAX_SEARCH_CHARS: usize = 200;

/// Turns what a person typed into an FTS5 query that cannot be a syntax error: each word
/// becomes a quoted phrase (all must match), a trailing `*` makes it a prefix, and FTS5's
/// operators and punctuation are plain text.
pub(crate) fn fts_query(text: &str) -> HubResult<String> {
    if text.chars().count() > MAX_SEARCH_CHARS {
        return Err(HubError::validation(
            "q",
            format!("the search is longer than {MAX_SEARCH_CHARS} characters"),
        ));
    }
    let mut terms = Vec::new();
    for word in text.split_whitespace() {
        // The tokenizer splits "e-government" into two words, so must the query.
        let parts: Vec<&str> = word
            .split(|c: char| !c.is_alphanumeric())
            .filter(|p| !p.is_empty())
            .collect();
        let prefix = word.ends_with('*');
        for (i, part) in parts.iter().enumerate() {
            let star = if prefix && i + 1 == parts.len() {
                "*"
            } else {
                ""
            };
            terms.push(format!("\"{part}\"{star}"));
        }
    }
    if terms.is_empty() {
        return Err(HubError::validation(
            "q",
            "type at least one word (letters or digits) to search for",
        ));
    }
    Ok(terms.join(" "))
}

/// An `Idempotency-Key`: 1 to 128 visible ASCII characters (a UUID in practice).
fn validate_idempotency_key(key: &str) -> HubResult<()> {
    if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(HubError::validation(
            "Idempotency-Key",
            "the Idempotency-Key header must be 1 to 128 visible ASCII characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod search_tests {
    use super::*;

    #[test]
    fn what_people_type_becomes_a_query_that_cannot_fail() {
        assert_eq!(fts_query("jembatan").unwrap(), "\"jembatan\"");
        assert_eq!(
            fts_query("  banjir   sekolah ").unwrap(),
            "\"banjir\" \"sekolah\""
        );
        assert_eq!(fts_query("gubern*").unwrap(), "\"gubern\"*");
        assert_eq!(fts_query("e-government*").unwrap(), "\"e\" \"government\"*");
        // FTS5 operators and quotes are text, not syntax.
        assert_eq!(
            fts_query("NEAR(\"a\" OR b) -c").unwrap(),
            "\"NEAR\" \"a\" \"OR\" \"b\" \"c\""
        );
        assert!(matches!(
            fts_query("*** --"),
            Err(HubError::Validation { .. })
        ));
        assert!(fts_query(&"x".repeat(201)).is_err());
    }

    #[test]
    fn pages_are_bounded() {
        assert_eq!(Page::new(None, None).unwrap().limit, Page::DEFAULT_LIMIT);
        assert!(Page::new(Some(0), None).is_err());
        assert!(Page::new(Some(Page::MAX_LIMIT + 1), None).is_err());
        assert!(Page::new(Some(10), Some(-1)).is_err());
    }
}
