//! Live updates: the office's change feed, read from the audit log after each commit.
//!
//! Every change of state is written together with its audit entry in one transaction (see
//! ARCHITECTURE.md), so the audit log *is* the list of changes. The feed does not rely on
//! every mutation remembering to announce itself: [`crate::office::Office::db`] hands out a
//! guard that, when it is dropped after SQLite counted changes on the connection (so after the
//! transaction committed or rolled back), rings [`Events`]. A pump thread then reads the audit
//! entries after the last one it saw, on its own read-only connection (WAL: it never waits
//! for the writer), turns those that describe a change into [`api::ChangeEvent`]s, and
//! broadcasts them. A client that refetches on an event therefore always sees the change.
//! The pump also looks every [`POLL`] without being rung, which picks up changes another
//! process (the `warta` CLI) made to the same database.
//!
//! An event's `seq` is the audit entry's sequence number, so a client that reconnects with
//! `Last-Event-ID` is replayed what it missed from the audit log itself (the same filter,
//! at most [`REPLAY_LIMIT`] entries, else it is told to resync) — also after a hub restart.
//!
//! Who may see an event is decided by the same rule as the item list ([`Office::can_view_item`]):
//! the item's author and whether it is published are read together with the entry. Incident
//! events (`incident.*` entries, linked to their incident in `incident_audit`) follow the
//! incidents' rule ([`Office::can_view_incident`]).

use crate::db::Cached as _;
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags, params};
use tokio::sync::{broadcast, watch};
use warta_api::{self as api, ChangeKind, Role};

use crate::office::{Caller, Office};

/// The pump reads the audit log at least this often, rung or not.
pub const POLL: Duration = Duration::from_secs(2);
/// Reconnecting clients are replayed at most this many audit entries; further behind, they resync.
pub const REPLAY_LIMIT: usize = 500;
/// Events buffered per subscriber before it counts as lagging (it is then replayed from the log).
const CHANNEL: usize = 1024;
/// Default time between keep-alive comments, and between checks that the stream's session holds.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often the lapsed-lock sweep runs.
const SWEEP: Duration = Duration::from_secs(60);

/// One change with what deciding its visibility needs.
#[derive(Debug, Clone)]
pub(crate) struct Change {
    pub(crate) event: api::ChangeEvent,
    /// For item events: the item's author and whether it is published.
    author_id: Option<i64>,
    published: bool,
    /// For incident events: the incident's SOP and who reported it.
    incident_sop: Option<String>,
    incident_reporter: Option<i64>,
}

impl Change {
    /// Whether `caller` may see this change (same rules as reading what it is about).
    pub(crate) fn visible_to(&self, caller: &Caller, office: &Office) -> bool {
        match self.event.kind {
            ChangeKind::Incident => match (self.event.incident_id, &self.incident_sop) {
                (Some(_), Some(sop)) => {
                    office.can_view_incident(caller, sop, self.incident_reporter)
                }
                _ => false,
            },
            ChangeKind::Users => caller.has(Role::Admin),
            ChangeKind::Targets | ChangeKind::Guard => {
                caller.has(Role::Admin) || caller.has(Role::Publisher)
            }
            ChangeKind::Settings | ChangeKind::Resync | ChangeKind::Ready => true,
            ChangeKind::Item
            | ChangeKind::Comment
            | ChangeKind::Attachment
            | ChangeKind::Lock
            | ChangeKind::Publishing => match (self.event.item_id, self.author_id) {
                (Some(_), Some(author)) => Office::can_view_item(caller, author, self.published),
                _ => false,
            },
        }
    }
}

/// What the broadcast carries.
#[derive(Debug, Clone)]
pub(crate) enum Signal {
    Change(Arc<Change>),
    /// Sessions were revoked: every stream checks its own at once.
    Sessions,
}

/// The kind of change an audit entry records, or `None` for entries that change nothing a
/// client shows (sign-ins, refusals).
pub fn kind_of(audit_kind: &str, item_id: Option<i64>) -> Option<ChangeKind> {
    let k = match audit_kind {
        "refused" => return None,
        k if k.starts_with("incident.") => ChangeKind::Incident,
        // Who holds an SOP's roles: part of the users' set-up.
        k if k.starts_with("sop_roles.") => ChangeKind::Users,
        "item.comment" => ChangeKind::Comment,
        "item.attached" | "item.attach" => ChangeKind::Attachment,
        "item.claimed" | "item.released" | "item.lock_broken" | "item.lock_expired" => {
            ChangeKind::Lock
        }
        k if k.starts_with("attachment.") => ChangeKind::Attachment,
        k if k.starts_with("publish.") || k.starts_with("unpublish.") => ChangeKind::Publishing,
        // A unit renamed moves its users: the users list changed.
        k if k.starts_with("user.") || k.starts_with("unit.") => ChangeKind::Users,
        k if k.starts_with("target.") => ChangeKind::Targets,
        k if k.starts_with("guard.") => ChangeKind::Guard,
        k if k.starts_with("settings.") || k.starts_with("holidays.") => ChangeKind::Settings,
        k if k.starts_with("auth.") => return None,
        // Any other entry about an item (including kinds added later) changed the item.
        _ if item_id.is_some() => ChangeKind::Item,
        _ => return None,
    };
    Some(k)
}

/// Reads changes with `after < seq <= upto` from the audit log, at most `limit` entries
/// (changes and non-changes alike); the second value is the last seq read.
pub(crate) fn read_changes(
    conn: &Connection,
    after: i64,
    upto: i64,
    limit: usize,
) -> rusqlite::Result<(Vec<Change>, i64, usize)> {
    let mut stmt = conn.prepare_cached(
        "SELECT a.seq, a.kind, a.item_id, a.at, i.author_id, i.published_url IS NOT NULL,
                l.incident_id, n.sop, n.reported_by
         FROM audit a LEFT JOIN items i ON i.id = a.item_id
         LEFT JOIN incident_audit l ON l.seq = a.seq
         LEFT JOIN incidents n ON n.id = l.incident_id
         WHERE a.seq > ?1 AND a.seq <= ?2 ORDER BY a.seq LIMIT ?3",
    )?;
    let mut rows = stmt.query(params![after, upto, limit as i64])?;
    let mut out = Vec::new();
    let mut last = after;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        n += 1;
        let seq: i64 = r.get(0)?;
        last = seq;
        let kind: String = r.get(1)?;
        let item_id: Option<i64> = r.get(2)?;
        let Some(ck) = kind_of(&kind, item_id) else {
            continue;
        };
        let at: String = r.get(3)?;
        out.push(Change {
            event: api::ChangeEvent {
                seq,
                kind: ck,
                item_id,
                incident_id: r.get(6)?,
                at: DateTime::parse_from_rfc3339(&at)
                    .map(|d| d.with_timezone(&Utc))
                    .unwrap_or_default(),
                change: kind,
            },
            author_id: r.get(4)?,
            published: r.get::<_, Option<bool>>(5)?.unwrap_or(false),
            incident_sop: r.get(7)?,
            incident_reporter: r.get(8)?,
        });
    }
    Ok((out, last, n))
}

/// Stream timings; tests shorten them.
#[derive(Debug, Clone, Copy)]
pub struct LiveTiming {
    /// Between keep-alive comments on an idle stream.
    pub keep_alive: Duration,
    /// Between checks that the stream's session is still valid (expired, revoked, user
    /// deactivated end the stream).
    pub session_check: Duration,
}

impl Default for LiveTiming {
    fn default() -> Self {
        LiveTiming {
            keep_alive: KEEP_ALIVE,
            session_check: KEEP_ALIVE,
        }
    }
}

/// The change feed of one office.
pub struct Events {
    db_path: PathBuf,
    /// Highest seq broadcast; changed only together with a send, under this lock.
    high: Mutex<i64>,
    tx: broadcast::Sender<Signal>,
    rung: Mutex<bool>,
    bell: Condvar,
    stop: AtomicBool,
    started: AtomicBool,
    shutdown: watch::Sender<bool>,
    timing: Mutex<LiveTiming>,
}

impl Events {
    pub(crate) fn new(db_path: PathBuf, high: i64) -> Events {
        Events {
            db_path,
            high: Mutex::new(high),
            tx: broadcast::channel(CHANNEL).0,
            rung: Mutex::new(false),
            bell: Condvar::new(),
            stop: AtomicBool::new(false),
            started: AtomicBool::new(false),
            shutdown: watch::channel(false).0,
            timing: Mutex::new(LiveTiming::default()),
        }
    }

    /// Something was committed: the pump looks at the audit log.
    pub(crate) fn ring(&self) {
        *self.rung.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.bell.notify_all();
    }

    /// Sessions were revoked (sign-out): open streams check theirs now.
    pub(crate) fn sessions_changed(&self) {
        let _ = self.tx.send(Signal::Sessions);
    }

    pub fn timing(&self) -> LiveTiming {
        *self.timing.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn set_timing(&self, t: LiveTiming) {
        *self.timing.lock().unwrap_or_else(|e| e.into_inner()) = t;
    }

    /// Subscribes, returning the receiver and the highest seq already broadcast: every change
    /// after it arrives on the receiver, everything up to it is in the audit log.
    pub(crate) fn subscribe(&self) -> (broadcast::Receiver<Signal>, i64) {
        let high = self.high.lock().unwrap_or_else(|e| e.into_inner());
        (self.tx.subscribe(), *high)
    }

    /// Ends every open stream and the pump (the server is shutting down).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.shutdown.send(true);
        self.ring();
    }

    pub(crate) fn stopped(&self) -> watch::Receiver<bool> {
        self.shutdown.subscribe()
    }

    fn wait(&self, timeout: Duration) {
        let mut rung = self.rung.lock().unwrap_or_else(|e| e.into_inner());
        if !*rung {
            rung = self
                .bell
                .wait_timeout(rung, timeout)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *rung = false;
    }

    /// Reads what was committed since the last look and broadcasts it.
    fn pump_once(&self, conn: &Connection) -> rusqlite::Result<()> {
        {
            // Nobody listening: only move the mark (a stream that opens later starts there).
            let mut high = self.high.lock().unwrap_or_else(|e| e.into_inner());
            if self.tx.receiver_count() == 0 {
                *high = conn.row("SELECT COALESCE(MAX(seq), 0) FROM audit", [], |r| r.get(0))?;
                return Ok(());
            }
        }
        loop {
            let after = *self.high.lock().unwrap_or_else(|e| e.into_inner());
            let (changes, last, n) = read_changes(conn, after, i64::MAX, 1000)?;
            if n == 0 {
                return Ok(());
            }
            let mut high = self.high.lock().unwrap_or_else(|e| e.into_inner());
            for c in changes {
                // A subscriber that comes later reads these from the log instead.
                *high = c.event.seq;
                let _ = self.tx.send(Signal::Change(Arc::new(c)));
            }
            *high = last;
            drop(high);
            if n < 1000 {
                return Ok(());
            }
        }
    }

    /// Starts the pump thread (once): it broadcasts committed changes and, once a minute,
    /// lets lapsed edit locks go (which is itself a change, announced like any other).
    pub(crate) fn start(self: &Arc<Self>, office: Weak<Office>) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let events = Arc::clone(self);
        std::thread::Builder::new()
            .name("warta-live".into())
            .spawn(move || {
                let conn = match Connection::open_with_flags(
                    &events.db_path,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                ) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::error!("live updates are off: cannot open the database: {e}");
                        return;
                    }
                };
                let _ = conn.busy_timeout(Duration::from_secs(5));
                let mut last_sweep = std::time::Instant::now();
                while !events.stop.load(Ordering::SeqCst) {
                    if let Err(e) = events.pump_once(&conn) {
                        tracing::error!("reading changes for live updates: {e}");
                    }
                    if last_sweep.elapsed() >= SWEEP {
                        last_sweep = std::time::Instant::now();
                        let Some(office) = office.upgrade() else {
                            return;
                        };
                        if let Err(e) = office.expire_locks() {
                            tracing::error!("letting lapsed edit locks go: {e}");
                        }
                    }
                    events.wait(POLL);
                }
            })
            .expect("spawning the live-updates thread");
    }
}

/// What a stream still has to send, and where it is in the feed.
pub(crate) struct StreamState {
    pub(crate) office: Arc<Office>,
    pub(crate) token: String,
    pub(crate) caller: Caller,
    rx: broadcast::Receiver<Signal>,
    /// Highest seq this stream has dealt with (sent or filtered out).
    last: i64,
    pending: VecDeque<api::ChangeEvent>,
    stopped: watch::Receiver<bool>,
    check: tokio::time::Interval,
}

/// How a stream opens: `after` is the client's `Last-Event-ID`, if it reconnects.
pub(crate) async fn open_stream(
    office: Arc<Office>,
    token: String,
    caller: Caller,
    after: Option<i64>,
) -> crate::HubResult<StreamState> {
    let (rx, high) = office.events.subscribe();
    // The stream starts at what is committed now, even if the pump has not broadcast it yet:
    // those entries are read from the log, and skipped when they come through the channel.
    let high = high.max(committed_high(&office).await?);
    let stopped = office.events.stopped();
    let period = office.events.timing().session_check;
    let mut check = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut st = StreamState {
        office,
        token,
        caller,
        rx,
        last: high,
        pending: VecDeque::new(),
        stopped,
        check,
    };
    if let Some(after) = after {
        st.catch_up(after, high).await?;
    }
    st.pending.push_back(api::ChangeEvent {
        seq: high,
        kind: ChangeKind::Ready,
        item_id: None,
        incident_id: None,
        at: st.office.now(),
        change: "ready".into(),
    });
    Ok(st)
}

/// The newest audit entry's seq.
async fn committed_high(office: &Arc<Office>) -> crate::HubResult<i64> {
    let office = office.clone();
    crate::http::blocking(move || {
        Ok(office
            .db()
            .row("SELECT COALESCE(MAX(seq), 0) FROM audit", [], |r| r.get(0))?)
    })
    .await
}

impl StreamState {
    /// Queues what happened in `(after, upto]` from the audit log, or a resync when that is
    /// too much or cannot be told (an id from the future: another database).
    async fn catch_up(&mut self, after: i64, upto: i64) -> crate::HubResult<()> {
        self.last = upto;
        if after == upto {
            return Ok(());
        }
        let replay = if after < upto && after >= 0 {
            let office = self.office.clone();
            crate::http::blocking(move || {
                let conn = office.db();
                let (changes, last, n) = read_changes(&conn, after, upto, REPLAY_LIMIT + 1)?;
                Ok((n <= REPLAY_LIMIT && last == upto).then_some(changes))
            })
            .await?
        } else {
            None
        };
        match replay {
            Some(changes) => self.pending.extend(
                changes
                    .into_iter()
                    .filter(|c| c.visible_to(&self.caller, &self.office))
                    .map(|c| c.event),
            ),
            None => self.pending.push_back(api::ChangeEvent {
                seq: upto,
                kind: ChangeKind::Resync,
                item_id: None,
                incident_id: None,
                at: self.office.now(),
                change: "resync".into(),
            }),
        }
        Ok(())
    }

    /// Whether the stream's session still holds; refreshes the caller's roles.
    async fn session_holds(&mut self) -> bool {
        let (office, token) = (self.office.clone(), self.token.clone());
        match crate::http::blocking(move || office.authenticate(&token)).await {
            Ok(c) => {
                self.caller = c;
                true
            }
            Err(_) => false,
        }
    }

    /// The next event to send; `None` ends the stream (session gone, server stopping).
    pub(crate) async fn next(&mut self) -> Option<api::ChangeEvent> {
        loop {
            if let Some(e) = self.pending.pop_front() {
                return Some(e);
            }
            enum Woke {
                Stop,
                Check,
                Got(Result<Signal, broadcast::error::RecvError>),
            }
            let woke = tokio::select! {
                biased;
                _ = self.stopped.wait_for(|s| *s) => Woke::Stop,
                _ = self.check.tick() => Woke::Check,
                r = self.rx.recv() => Woke::Got(r),
            };
            match woke {
                Woke::Stop => return None,
                Woke::Check | Woke::Got(Ok(Signal::Sessions)) => {
                    if !self.session_holds().await {
                        return None;
                    }
                }
                Woke::Got(Ok(Signal::Change(c))) => {
                    if c.event.seq <= self.last {
                        continue;
                    }
                    self.last = c.event.seq;
                    if c.event.kind == ChangeKind::Users && !self.session_holds().await {
                        return None;
                    }
                    if c.visible_to(&self.caller, &self.office) {
                        return Some(c.event.clone());
                    }
                }
                Woke::Got(Err(broadcast::error::RecvError::Lagged(_))) => {
                    // Too slow to keep up: read what was missed from the log.
                    let (rx, high) = self.office.events.subscribe();
                    self.rx = rx;
                    let Ok(committed) = committed_high(&self.office).await else {
                        return None;
                    };
                    let high = high.max(committed);
                    let after = self.last;
                    if self.catch_up(after, high).await.is_err() {
                        return None;
                    }
                }
                Woke::Got(Err(broadcast::error::RecvError::Closed)) => return None,
            }
        }
    }
}
