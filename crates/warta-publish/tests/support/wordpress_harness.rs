//! A private, real WordPress for one test: started by `tests/wordpress/harness.sh` in a
//! temporary folder and stopped again when the guard is dropped, panicking test or not. The
//! harness is also given this process's id, so it stops by itself if the test process dies
//! without unwinding.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct WordPressHarness {
    dir: tempfile::TempDir,
    pub url: String,
    pub api_root: String,
    pub user: String,
    pub app_password: String,
    /// How long `start` took.
    pub started_in: Duration,
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/wordpress/harness.sh")
}

fn run(args: &[&str]) -> Result<String, (Option<i32>, String)> {
    let out = Command::new("bash")
        .arg(script())
        .args(args)
        .env("WARTA_WP_OWNER_PID", std::process::id().to_string())
        .output()
        .map_err(|e| (None, format!("cannot run the WordPress harness: {e}")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err((
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        ))
    }
}

impl WordPressHarness {
    /// Starts WordPress, or fails the test saying how to install what is missing.
    pub fn start() -> WordPressHarness {
        // Short path: MariaDB's socket lives in there.
        let dir = tempfile::Builder::new()
            .prefix("warta-wp-")
            .tempdir_in(std::env::temp_dir())
            .expect("temporary folder");
        let path = dir.path().to_str().expect("utf-8 path").to_string();
        let t0 = Instant::now();
        let guard_dir = dir;
        match run(&["start", &path]) {
            Ok(_) => {}
            Err((Some(3), msg)) => {
                let _ = run(&["stop", &path]);
                panic!(
                    "WordPress is not installed on this machine, so the WordPress tests cannot \
                     run.\n{msg}\n(`make test` installs it; by hand, as root: apt-get install -y \
                     wordpress wordpress-theme-twentytwentythree mariadb-server php-cli \
                     php-mysql php-gd php-xml php-mbstring php-curl)"
                );
            }
            Err((_, msg)) => {
                let _ = run(&["stop", &path]);
                panic!("the WordPress harness did not start:\n{msg}");
            }
        }
        let started_in = t0.elapsed();
        let mut wp = WordPressHarness {
            dir: guard_dir,
            url: String::new(),
            api_root: String::new(),
            user: String::new(),
            app_password: String::new(),
            started_in,
        };
        wp.reload();
        wp
    }

    fn reload(&mut self) {
        let info: Value = serde_json::from_str(
            &std::fs::read_to_string(self.dir.path().join("wp.json")).expect("wp.json"),
        )
        .expect("wp.json is JSON");
        let field = |k: &str| info[k].as_str().unwrap_or_default().to_string();
        self.url = field("url");
        self.api_root = field("api_root");
        self.user = field("user");
        self.app_password = field("app_password");
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn cmd(&self, what: &str) -> String {
        let path = self.dir.path().to_str().unwrap().to_string();
        run(&[what, &path]).unwrap_or_else(|(_, msg)| panic!("harness {what} failed: {msg}"))
    }

    /// Stops PHP's web server: WordPress is down, the database keeps everything.
    pub fn stop_web(&self) {
        self.cmd("stop-web");
    }

    /// Starts the web server again on the same port.
    pub fn start_web(&self) {
        self.cmd("start-web");
    }

    /// Revokes every application password of the user.
    pub fn revoke(&self) {
        self.cmd("revoke");
    }

    /// Creates a new application password (after a revocation) and returns it.
    pub fn new_password(&mut self) -> String {
        self.cmd("new-password");
        self.reload();
        self.app_password.clone()
    }

    /// The port WordPress listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port in url")
    }
}

impl Drop for WordPressHarness {
    fn drop(&mut self) {
        let path = self.dir.path().to_str().unwrap().to_string();
        if let Err((_, msg)) = run(&["stop", &path]) {
            eprintln!("stopping the WordPress harness failed: {msg}");
        }
    }
}
