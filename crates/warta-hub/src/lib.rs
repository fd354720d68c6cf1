//! The hub: storage, workflow, permissions, audit and publishing, and the HTTP API over them.
//!
//! The desktop app starts a hub in-process on 127.0.0.1 (solo mode); `warta serve` runs
//! the same hub for a whole office. Clients always talk to it over HTTP, so there is one
//! code path. The CLI calls [`Office`] directly for administration.
#![forbid(unsafe_code)]

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod backup;
pub mod clock;
mod db;
mod demo;
mod diff;
pub mod error;
pub mod events;
pub mod guard;
mod guard_http;
pub mod http;
pub mod incidents;
mod incidents_http;
mod live;
pub mod media;
mod memo;
pub mod office;
pub mod openapi;
pub mod publish;
pub mod publishing;
pub mod reports;
mod secrets;
mod serial;
pub mod server;
pub mod site_backup;
mod targets;
pub mod uploads;
pub mod webcopy;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use attachments::Variant;
pub use backup::BackupPolicy;
pub use clock::{Clock, FixedClock, SystemClock};
pub use demo::DEMO_PASSWORD;
pub use error::{HubError, HubResult};
pub use office::{Caller, Office};
pub use secrets::{SecretsConfig, check_key_outside_data};
pub use server::{ClientAddr, TlsFiles};
pub use site_backup::SiteBackupPolicy;

/// How a hub is started. Solo mode (the desktop app) listens on 127.0.0.1 with an ephemeral port.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// SQLite database, blobs and the published site live here.
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// Largest attachment accepted, in bytes (default 2 GiB).
    pub max_attachment_bytes: u64,
    /// Seed a demo office (one user per role, a few items) when the database is new.
    pub demo: bool,
    /// The base URL clients and published pages reach the hub at (`https://warta.example.go.id`),
    /// when it differs from the address listened on (a reverse proxy, a DNS name).
    pub public_url: Option<String>,
    /// Serve HTTPS with this certificate and key instead of plain HTTP.
    pub tls: Option<TlsFiles>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (see [`server::client_addr`]).
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// How long requests in flight may take to finish once shutdown begins.
    pub shutdown_grace: Duration,
    /// Scheduled backups of the database, the blobs and the site.
    pub backup: Option<BackupPolicy>,
    /// Where publishing-target secrets are kept: the OS keyring (the default), or the
    /// encrypted secrets file of a server without one.
    pub secrets: SecretsConfig,
    /// How long a session lasts after sign-in, in hours (default [`office::SESSION_HOURS`]).
    pub session_hours: u32,
    /// When the websites' content is backed up and how much is kept (default: daily, the
    /// newest 14 and everything from the last 30 days).
    pub site_backup: SiteBackupPolicy,
}

impl HubConfig {
    /// The embedded hub of one laptop: loopback only, ephemeral port.
    pub fn solo(data_dir: impl Into<PathBuf>) -> Self {
        HubConfig {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_attachment_bytes: 2 * 1024 * 1024 * 1024,
            demo: false,
            public_url: None,
            tls: None,
            trusted_proxies: Vec::new(),
            shutdown_grace: Duration::from_secs(10),
            backup: None,
            secrets: SecretsConfig::Keyring,
            session_hours: office::SESSION_HOURS,
            site_backup: SiteBackupPolicy::default(),
        }
    }
}

/// A hub serving HTTP. Call [`RunningHub::shutdown`] to stop it.
pub struct RunningHub {
    addr: SocketAddr,
    base_url: String,
    office: Arc<Office>,
    handle: axum_server::Handle<SocketAddr>,
    task: tokio::task::JoinHandle<()>,
    publisher: std::thread::JoinHandle<()>,
    web_copies: std::thread::JoinHandle<()>,
    backups: Option<backup::Scheduler>,
    site_backups: site_backup::Scheduler,
    guard: guard::Scheduler,
    overdue: incidents::OverdueScheduler,
    grace: Duration,
}

impl RunningHub {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Where clients reach the hub, without a trailing slash: the configured public URL, or
    /// `http://127.0.0.1:PORT` (`https://` with TLS).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The office behind the server (for tests and the CLI).
    pub fn office(&self) -> &Arc<Office> {
        &self.office
    }

    /// Stops accepting connections, ends open event streams and lets requests in flight
    /// finish within the grace (then closes what is left); stops the publishing worker, the
    /// web-copy worker (ffmpeg is stopped; its copy stays pending) and the backup schedule
    /// (a backup in progress is abandoned, leaving no partial folder), and checkpoints the
    /// WAL into the database file.
    pub async fn shutdown(self) {
        self.office.stop_publisher();
        // Stops ffmpeg at once; the copy it was making stays pending for the next start.
        self.office.stop_web_copies();
        // Event streams never end by themselves: end them, or shutdown would wait the grace.
        self.office.stop_live();
        if let Some(b) = &self.backups {
            b.cancel();
        }
        self.site_backups.cancel();
        self.guard.stop(self.grace).await;
        self.overdue.stop(self.grace).await;
        self.handle.graceful_shutdown(Some(self.grace));
        let _ = self.task.await;
        if let Some(b) = self.backups {
            b.join().await;
        }
        self.site_backups.join().await;
        if !server::join_within(self.publisher, self.grace).await {
            tracing::warn!(
                "the publishing worker is still busy with a website after {:?}; \
                 what it sent is picked up at the next start",
                self.grace
            );
        }
        if !server::join_within(self.web_copies, self.grace).await {
            tracing::warn!("the web-copy worker did not stop within {:?}", self.grace);
        }
        let office = self.office.clone();
        let checkpoint = tokio::task::spawn_blocking(move || {
            office
                .db()
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        })
        .await;
        match checkpoint {
            Ok(Ok(())) => tracing::info!("database checkpointed"),
            Ok(Err(e)) => tracing::warn!("checkpointing the database: {e}"),
            Err(e) => tracing::warn!("checkpointing the database: {e}"),
        }
    }
}

/// Opens (or creates) the hub's data in `config.data_dir` and starts serving.
pub async fn start(config: HubConfig, clock: Arc<dyn Clock>) -> anyhow::Result<RunningHub> {
    let tls = match &config.tls {
        Some(files) => Some(server::load_tls(files)?),
        None => None,
    };
    let listener = server::bind(config.listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", config.listen))?;
    let addr = listener.local_addr()?;
    let trusted = config.trusted_proxies.clone();
    let grace = config.shutdown_grace;
    let backup_policy = config.backup.clone();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let base_url = match &config.public_url {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => format!("{scheme}://{addr}"),
    };
    let office = tokio::task::spawn_blocking(move || Office::open(config, clock)).await??;
    let office = Arc::new(office);
    office.set_base_url(&base_url);
    // Publications left pending by a previous run (killed, or a website down) go out now.
    let publisher = office.start_publisher();
    // Web copies of videos left pending by a previous run are made now, one at a time.
    let web_copies = office.start_web_copies();
    // Committed changes go out to event streams; lapsed edit locks are let go.
    office.start_live();
    let app = server::wrap(http::router(office.clone()), trusted);
    let handle = axum_server::Handle::new();
    let serving = handle.clone();
    let task = tokio::spawn(async move {
        if let Err(e) = server::serve(listener, app, tls, serving).await {
            tracing::error!("hub server stopped: {e}");
        }
    });
    let backups = backup_policy.map(|p| backup::Scheduler::start(office.clone(), p));
    // Backups of the office's websites' content, on their own schedule.
    let site_backups = site_backup::Scheduler::start(office.clone());
    // The website guard checks the watched pages around the clock.
    let guard = office.start_guard();
    // Incident steps that pass their due time are announced, once each.
    let overdue = office.start_incident_overdue();
    tracing::info!(url = %base_url, listen = %addr, scheme, "hub listening");
    Ok(RunningHub {
        addr,
        base_url,
        office,
        handle,
        task,
        publisher,
        web_copies,
        backups,
        site_backups,
        guard,
        overdue,
        grace,
    })
}

pub(crate) fn media_error(e: warta_media::MediaError) -> HubError {
    use warta_media::MediaError as M;
    match e {
        M::TooLarge { limit } => HubError::TooLarge { limit },
        M::RefusedType { .. } | M::Damaged { .. } => HubError::RefusedType(e.to_string()),
        M::BadFilename { .. } => HubError::validation("filename", e.to_string()),
        other => HubError::Internal(anyhow::Error::new(other)),
    }
}

pub(crate) fn sop_summary(d: &warta_sop::Definition) -> warta_api::SopSummary {
    warta_api::SopSummary {
        id: d.id.clone(),
        name: d.name.id.clone(),
        calendar: if d.calendar.is_around_the_clock() {
            "around_the_clock".into()
        } else {
            "working_hours".into()
        },
        steps: d
            .steps
            .iter()
            .map(|s| warta_api::SopStep {
                id: s.id.clone(),
                number: s.number,
                actor: s.actor.clone(),
                activity: s.activity.id.clone(),
                standard: s.standard.display(),
                output: s.output.id.clone(),
                is_final: s.is_final,
            })
            .collect(),
    }
}
