//! The three servers measured side by side: the hub (`warta serve`), the bare axum + rusqlite
//! anchor, and WordPress (the repository's test harness: PHP's server with 4 workers, MariaDB).

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// A child process killed when dropped.
pub struct Server {
    child: Child,
    pub base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Peak resident memory of the server process so far, in MiB (VmHWM).
    pub fn peak_rss_mib(&self) -> Option<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib / 1024.0)
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn wait_healthy(base: &str, child: &mut Child) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(60) {
        if let Some(status) = child.try_wait()? {
            bail!("the server exited before it was ready ({status})");
        }
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("{base} did not answer /healthz within 60 s")
}

/// `warta serve` on a free loopback port over `data`.
pub async fn hub(warta: &Path, data: &Path) -> anyhow::Result<Server> {
    let port = free_port()?;
    let mut child = Command::new(warta)
        .args(["serve", "--data"])
        .arg(data)
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .with_context(|| format!("starting {}", warta.display()))?;
    let base = format!("http://127.0.0.1:{port}");
    wait_healthy(&base, &mut child).await?;
    Ok(Server { child, base })
}

/// This binary's `anchor` subcommand on a free port.
pub async fn anchor(db: &Path) -> anyhow::Result<Server> {
    let me = std::env::current_exe()?;
    let mut child = Command::new(me)
        .args(["anchor", "--listen", "127.0.0.1:0", "--db"])
        .arg(db)
        .stdout(Stdio::piped())
        .spawn()?;
    let stdout = child.stdout.take().context("anchor stdout")?;
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    let addr = line
        .trim()
        .strip_prefix("listening on ")
        .context("the anchor did not say where it listens")?
        .to_string();
    let base = format!("http://{addr}");
    wait_healthy(&base, &mut child).await?;
    Ok(Server { child, base })
}

/// A WordPress started by `tests/wordpress/harness.sh`; stopped when dropped.
pub struct WordPress {
    harness: PathBuf,
    dir: tempfile::TempDir,
    pub api_root: String,
    pub user: String,
    pub app_password: String,
}

impl Drop for WordPress {
    fn drop(&mut self) {
        let _ = Command::new(&self.harness)
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

impl WordPress {
    pub fn start() -> anyhow::Result<WordPress> {
        let harness = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../tests/wordpress/harness.sh")
            .canonicalize()
            .context("tests/wordpress/harness.sh")?;
        let dir = tempfile::Builder::new()
            .prefix("warta-load-wp-")
            .tempdir()?;
        let out = Command::new(&harness)
            .arg("start")
            .arg(dir.path())
            .output()?;
        if !out.status.success() {
            let _ = Command::new(&harness).arg("stop").arg(dir.path()).status();
            bail!(
                "WordPress did not start (make deps-apt installs it):\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let info: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("wp.json"))?)?;
        let field = |k: &str| info[k].as_str().unwrap_or_default().to_string();
        Ok(WordPress {
            api_root: field("api_root"),
            user: field("user"),
            app_password: field("app_password"),
            harness,
            dir,
        })
    }

    pub fn version(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("wp.json"))
            .ok()
            .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
            .and_then(|v| v["wordpress_version"].as_str().map(str::to_string))
            .unwrap_or_else(|| "?".into())
    }
}
