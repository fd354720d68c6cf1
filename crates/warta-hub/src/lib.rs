//! The hub: storage, workflow, permissions, audit and publishing, and the HTTP API over them.
//!
//! The desktop app starts a hub in-process on 127.0.0.1 (solo mode); `warta serve` runs
//! the same hub for a whole office. Clients always talk to it over HTTP, so there is one
//! code path. The CLI calls [`Office`] directly for administration.
#![forbid(unsafe_code)]

pub mod attachments;
pub mod audit;
pub mod auth;
pub mod clock;
mod db;
mod demo;
mod diff;
pub mod error;
pub mod events;
pub mod http;
mod live;
pub mod media;
pub mod office;
pub mod openapi;
pub mod publish;
pub mod publishing;
mod secrets;
mod targets;
pub mod uploads;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use attachments::Variant;
pub use clock::{Clock, FixedClock, SystemClock};
pub use demo::DEMO_PASSWORD;
pub use error::{HubError, HubResult};
pub use office::{Caller, Office};

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
}

impl HubConfig {
    /// The embedded hub of one laptop: loopback only, ephemeral port.
    pub fn solo(data_dir: impl Into<PathBuf>) -> Self {
        HubConfig {
            data_dir: data_dir.into(),
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            max_attachment_bytes: 2 * 1024 * 1024 * 1024,
            demo: false,
        }
    }
}

/// A hub serving HTTP. Call [`RunningHub::shutdown`] to stop it.
pub struct RunningHub {
    addr: SocketAddr,
    office: Arc<Office>,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningHub {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The office behind the server (for tests and the CLI).
    pub fn office(&self) -> &Arc<Office> {
        &self.office
    }

    /// Stops accepting requests and waits for in-flight ones (open event streams end).
    pub async fn shutdown(self) {
        self.office.stop_publisher();
        self.office.stop_live();
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// Opens (or creates) the hub's data in `config.data_dir` and starts serving.
pub async fn start(config: HubConfig, clock: Arc<dyn Clock>) -> anyhow::Result<RunningHub> {
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let office = tokio::task::spawn_blocking(move || Office::open(config, clock)).await??;
    let office = Arc::new(office);
    office.set_base_url(&format!("http://{addr}"));
    // Publications left pending by a previous run (killed, or a website down) go out now.
    office.start_publisher();
    // Committed changes go out to event streams; lapsed edit locks are let go.
    office.start_live();
    let app = http::router(office.clone());
    let live = office.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        if let Err(e) = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
            // Event streams never end by themselves: end them, or shutdown would wait forever.
            live.stop_live();
        })
        .await
        {
            tracing::error!("hub server stopped: {e}");
        }
    });
    tracing::info!("hub listening on http://{addr}");
    Ok(RunningHub {
        addr,
        office,
        shutdown: tx,
        task,
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
