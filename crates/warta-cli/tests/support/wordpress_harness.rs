//! A private, real WordPress for one test: started by `tests/wordpress/harness.sh` in a
//! temporary folder and stopped when the guard is dropped, panicking test or not. The harness
//! also gets this process's id, so it stops by itself if the test process dies without
//! unwinding.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

pub struct WordPressHarness {
    dir: tempfile::TempDir,
    pub url: String,
    pub api_root: String,
    pub user: String,
    pub app_password: String,
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
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() {
        Ok(text)
    } else {
        Err((out.status.code(), text))
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
        if let Err((code, msg)) = run(&["start", &path]) {
            let _ = run(&["stop", &path]);
            if code == Some(3) {
                panic!(
                    "WordPress is not installed on this machine, so this test cannot run.\n{msg}\n\
                     (`make test` installs it; by hand, as root: apt-get install -y wordpress \
                     wordpress-theme-twentytwentythree mariadb-server php-cli php-mysql php-gd \
                     php-xml php-mbstring php-curl)"
                );
            }
            panic!("the WordPress harness did not start:\n{msg}");
        }
        let info: Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join("wp.json")).expect("wp.json"),
        )
        .expect("wp.json is JSON");
        let field = |k: &str| info[k].as_str().unwrap_or_default().to_string();
        WordPressHarness {
            url: field("url"),
            api_root: field("api_root"),
            user: field("user"),
            app_password: field("app_password"),
            dir,
        }
    }

    /// The port WordPress listens on.
    pub fn port(&self) -> u16 {
        self.url
            .rsplit(':')
            .next()
            .and_then(|p| p.trim_end_matches('/').parse().ok())
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
