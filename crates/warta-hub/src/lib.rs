//! The hub: everything behind the `/api/v1` HTTP API.
#![forbid(unsafe_code)]

pub mod clock;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

pub use clock::{Clock, FixedClock, SystemClock};

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

/// A hub serving HTTP. Dropping it does not stop it; call [`RunningHub::shutdown`].
pub struct RunningHub {
    addr: SocketAddr,
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

    /// Stops accepting requests and waits for in-flight ones.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        let _ = self.task.await;
    }
}

/// Opens (or creates) the hub's data in `config.data_dir` and starts serving.
pub async fn start(config: HubConfig, clock: Arc<dyn Clock>) -> anyhow::Result<RunningHub> {
    let _ = (&config.data_dir, clock);
    let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
    });
    Ok(RunningHub {
        addr,
        shutdown: tx,
        task,
    })
}
