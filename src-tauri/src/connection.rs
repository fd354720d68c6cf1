//! Which hub the window talks to, and the signed-in session's token.
//!
//! Solo (the default): this laptop's embedded hub, started on loopback. Office: a hub the office
//! runs (`warta serve`), at a URL checked before it is saved. The choice is made on first run and
//! kept in `<data>/connection.json`; `--hub URL` (or `WARTA_HUB`) forces an office hub without
//! saving anything, and `--demo` / `--data` imply solo when nothing is saved, so scripted runs
//! never stop at the question.
//!
//! The session token is kept in the OS keyring (`warta-secrets`' `KeyringStore`), one namespace
//! per hub (the office URL, or for solo the data folder, since the embedded hub's port changes
//! every run), so the app stays signed in across restarts until the session expires or is
//! revoked. Without a usable keyring the token is kept in memory only (signed out when the app
//! closes), and the UI says so.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use warta_secrets::{KeyringStore, Secret, SecretId, SecretStore};

use crate::imports::{Code, CommandError};

/// The saved choice, in the data folder.
pub const FILE_NAME: &str = "connection.json";

/// How long checking an office hub may take per request.
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// The user's choice of hub, as saved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum Choice {
    /// Work alone on this laptop: the embedded hub.
    Solo,
    /// The office's hub at `url` (normalised: scheme and host, no trailing slash).
    Office { url: String },
}

/// Reads a saved choice. An office URL that is not usable is refused like malformed JSON.
pub fn parse_saved(text: &str) -> anyhow::Result<Choice> {
    let choice: Choice = serde_json::from_str(text)
        .map_err(|e| anyhow::anyhow!("the saved connection is not valid: {e}"))?;
    match choice {
        Choice::Solo => Ok(Choice::Solo),
        Choice::Office { url } => normalize_url(&url)
            .map(|url| Choice::Office { url })
            .map_err(|e| anyhow::anyhow!("the saved hub address is not valid: {}", e.message())),
    }
}

/// The saved choice in `dir`, if any. A file that cannot be read or parsed counts as no choice
/// (the question is asked again), with a warning in the log.
pub fn load(dir: &Path) -> Option<Choice> {
    let path = dir.join(FILE_NAME);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => {
            tracing::warn!("cannot read {}: {e}; asking again", path.display());
            return None;
        }
    };
    parse_saved(&text)
        .inspect_err(|e| tracing::warn!("{}: {e:#}; asking again", path.display()))
        .ok()
}

/// Saves the choice in `dir` (written aside, then renamed over the old file).
pub fn save(dir: &Path, choice: &Choice) -> std::io::Result<()> {
    let path = dir.join(FILE_NAME);
    let tmp = dir.join(format!("{FILE_NAME}.tmp"));
    let text = serde_json::to_string_pretty(choice).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, &path)
}

/// An office hub's address as typed, made canonical: `http(s)://host[:port][/path]` without a
/// trailing slash. A missing scheme means `https://`.
pub fn normalize_url(raw: &str) -> Result<String, CommandError> {
    let raw = raw.trim();
    let bad = |why: &str| CommandError::new(Code::InvalidUrl, format!("{raw:?}: {why}"));
    if raw.is_empty() {
        return Err(bad("no address given"));
    }
    let with_scheme = if raw.contains("://") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let url = tauri::Url::parse(&with_scheme).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("the address must start with https:// or http://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("the address has no host name"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("the address must not hold a user name or password"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("the address must not hold ? or #"));
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

/// What the check of an office hub found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HubCheck {
    /// The address, normalised.
    pub url: String,
    /// The hub has no admin yet (its first-run set-up was not done).
    pub needs_admin: bool,
}

/// Checks that `raw` is a reachable Warta hub: `GET /healthz` answers `ok` and
/// `GET /api/v1/setup` a set-up status.
pub async fn check_hub(raw: &str) -> Result<HubCheck, CommandError> {
    let url = normalize_url(raw)?;
    let client = reqwest::Client::builder()
        .timeout(CHECK_TIMEOUT)
        .build()
        .map_err(|e| CommandError::new(Code::Internal, format!("HTTP client: {e}")))?;
    let not_a_hub = |why: String| {
        CommandError::new(
            Code::NotAHub,
            format!("{url} does not answer like a Warta hub: {why}"),
        )
    };
    let health = client
        .get(format!("{url}/healthz"))
        .send()
        .await
        .map_err(|e| request_failed(&url, &e))?;
    let status = health.status();
    let body = health.text().await.unwrap_or_default();
    if !status.is_success() || body.trim() != "ok" {
        return Err(not_a_hub(format!("/healthz answered {status}")));
    }
    let setup = client
        .get(format!("{url}/api/v1/setup"))
        .send()
        .await
        .map_err(|e| request_failed(&url, &e))?;
    if !setup.status().is_success() {
        return Err(not_a_hub(format!(
            "/api/v1/setup answered {}",
            setup.status()
        )));
    }
    let status: warta_api::SetupStatus = setup
        .json()
        .await
        .map_err(|e| not_a_hub(format!("/api/v1/setup: {e}")))?;
    Ok(HubCheck {
        url,
        needs_admin: status.needs_admin,
    })
}

/// A request that got no answer: a TLS problem (untrusted or expired certificate, a hub that
/// speaks plain HTTP to https://) or no hub there at all.
fn request_failed(url: &str, err: &reqwest::Error) -> CommandError {
    let mut chain = String::new();
    let mut source: Option<&dyn std::error::Error> = Some(err);
    while let Some(e) = source {
        chain.push_str(&e.to_string());
        chain.push_str(": ");
        source = e.source();
    }
    let lower = chain.to_lowercase();
    // rustls says "invalid peer certificate: UnknownIssuer", "received corrupt message of type
    // InvalidContentType" (https:// to a plain-HTTP server), "handshake ..."; no type to match on.
    let tls = ["certificate", "corrupt message", "tls", "ssl", "handshake"]
        .iter()
        .any(|w| lower.contains(w));
    let code = if tls { Code::Tls } else { Code::Unreachable };
    CommandError::new(code, format!("{url}: {}", chain.trim_end_matches(": ")))
}

/// The keyring namespace of a hub's session: per office URL, or per data folder for solo.
pub fn session_namespace(choice: &Choice, data_dir: &Path) -> String {
    match choice {
        Choice::Solo => format!(
            "session-solo-{}",
            warta_secrets::namespace_for_data_dir(data_dir)
        ),
        Choice::Office { url } => {
            let digest = Sha256::digest(url.as_bytes());
            format!("session-office-{}", hex::encode(&digest[..8]))
        }
    }
}

/// Where the token is kept, as the UI is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Storage {
    /// The OS keyring: it outlives the app.
    Keyring,
    /// Memory only (no usable keyring): gone when the app closes.
    Memory,
}

/// The session token of the current hub: in the keyring when there is one, else in memory.
pub struct TokenStore {
    store: Option<Box<dyn SecretStore>>,
    memory: Mutex<Option<String>>,
}

fn session_id() -> SecretId {
    SecretId::new("session").expect("a valid id")
}

impl TokenStore {
    /// The keyring under `namespace`.
    pub fn keyring(namespace: &str) -> Self {
        let store = KeyringStore::new(namespace)
            .inspect_err(|e| tracing::warn!("session keyring namespace: {e}"))
            .ok()
            .map(|s| Box::new(s) as Box<dyn SecretStore>);
        Self::with_store(store)
    }

    /// Another store (tests), or none: memory only.
    pub fn with_store(store: Option<Box<dyn SecretStore>>) -> Self {
        Self {
            store,
            memory: Mutex::new(None),
        }
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Option<String>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The token kept for this hub, if any.
    pub fn get(&self) -> (Option<String>, Storage) {
        if let Some(token) = self.memory().clone() {
            return (Some(token), Storage::Memory);
        }
        match &self.store {
            Some(store) => match store.get(&session_id()) {
                Ok(token) => (
                    token.map(|t| t.expose_secret().to_string()),
                    Storage::Keyring,
                ),
                Err(e) => {
                    tracing::warn!(
                        "the keyring did not answer: {e}; the session is kept in memory"
                    );
                    (None, Storage::Memory)
                }
            },
            None => (None, Storage::Memory),
        }
    }

    /// Keeps `token`: in the keyring, or in memory when the keyring refuses.
    pub fn set(&self, token: &str) -> Storage {
        if let Some(store) = &self.store {
            match store.set(&session_id(), &Secret::new(token)) {
                Ok(()) => {
                    *self.memory() = None;
                    return Storage::Keyring;
                }
                Err(e) => {
                    tracing::warn!("the keyring refused the session: {e}; keeping it in memory")
                }
            }
        }
        *self.memory() = Some(token.to_string());
        Storage::Memory
    }

    /// Forgets the token everywhere.
    pub fn clear(&self) {
        *self.memory() = None;
        if let Some(store) = &self.store
            && let Err(e) = store.delete(&session_id())
        {
            tracing::warn!("the keyring did not remove the session: {e}");
        }
    }
}

/// The connection in effect for this run of the app; managed in `setup()`.
pub struct Current {
    /// The data folder (the saved choice, the embedded hub, the import queues).
    pub data_dir: PathBuf,
    /// The hub in use.
    pub choice: Choice,
    /// No choice is saved and none is implied: the window asks (solo runs meanwhile). Cleared
    /// once a choice is saved.
    pub needs_choice: AtomicBool,
    /// `--hub`/`WARTA_HUB` decided; the window cannot change it.
    pub forced: bool,
    /// The API's base URL (the embedded hub's, or the office's).
    pub api_url: String,
    pub tokens: TokenStore,
}

impl Current {
    /// Decides the hub for this run: `--hub` > the saved choice > solo (asking when nothing
    /// implied it).
    pub fn decide(
        data_dir: &Path,
        forced_hub: Option<&str>,
        implied_solo: bool,
    ) -> anyhow::Result<(Choice, bool, bool)> {
        if let Some(raw) = forced_hub {
            let url = normalize_url(raw).map_err(|e| anyhow::anyhow!("--hub: {}", e.message()))?;
            return Ok((Choice::Office { url }, false, true));
        }
        Ok(match load(data_dir) {
            Some(choice) => (choice, false, false),
            None => (Choice::Solo, !implied_solo, false),
        })
    }
}

/// What the window needs to know to show the first-run question or the sign-in screen.
#[derive(Debug, Clone, Serialize)]
pub struct ConnectionInfo {
    /// `solo` or `office`.
    pub mode: &'static str,
    /// The office hub's address (office mode).
    pub url: Option<String>,
    pub needs_choice: bool,
    pub forced: bool,
}

/// The connection in effect.
#[tauri::command]
pub fn connection_info(current: tauri::State<'_, Current>) -> ConnectionInfo {
    let (mode, url) = match &current.choice {
        Choice::Solo => ("solo", None),
        Choice::Office { url } => ("office", Some(url.clone())),
    };
    ConnectionInfo {
        mode,
        url,
        needs_choice: current.needs_choice.load(Ordering::Relaxed),
        forced: current.forced,
    }
}

/// Checks an office hub's address without saving it.
#[tauri::command]
pub async fn connection_check(url: String) -> Result<HubCheck, CommandError> {
    check_hub(&url).await
}

/// Saves the choice (an office hub is checked first). Answers `true` when the app restarts to
/// use it, `false` when nothing else changes (solo chosen while solo runs).
#[tauri::command]
pub async fn connection_choose(
    app: tauri::AppHandle,
    current: tauri::State<'_, Current>,
    choice: Choice,
) -> Result<bool, CommandError> {
    let restart = current.choose(choice).await?;
    if restart {
        // The embedded hub, the import queue and the session store all follow the hub.
        app.request_restart();
    }
    Ok(restart)
}

impl Current {
    /// Checks (office) and saves a choice; `true` when it differs from the hub in use, so the
    /// app must start again to use it.
    pub async fn choose(&self, choice: Choice) -> Result<bool, CommandError> {
        if self.forced {
            return Err(CommandError::new(
                Code::Forced,
                "the hub was set with --hub or WARTA_HUB",
            ));
        }
        let choice = match choice {
            Choice::Solo => Choice::Solo,
            Choice::Office { url } => Choice::Office {
                url: check_hub(&url).await?.url,
            },
        };
        save(&self.data_dir, &choice).map_err(|e| {
            CommandError::new(
                Code::Internal,
                format!(
                    "cannot save {}: {e}",
                    self.data_dir.join(FILE_NAME).display()
                ),
            )
        })?;
        self.needs_choice.store(false, Ordering::Relaxed);
        let restart = choice != self.choice;
        if restart {
            tracing::info!(?choice, "connection changed; restarting");
        }
        Ok(restart)
    }
}

/// The kept session token of the current hub (`None`: sign in), and where it is kept.
#[tauri::command]
pub async fn session_get(app: tauri::AppHandle) -> Result<(Option<String>, Storage), CommandError> {
    use tauri::Manager as _;
    // The keyring may wait on an unlock prompt: off the async workers.
    tauri::async_runtime::spawn_blocking(move || app.state::<Current>().tokens.get())
        .await
        .map_err(|e| CommandError::new(Code::Internal, e.to_string()))
}

/// Keeps the session token after sign-in; answers where it went.
#[tauri::command]
pub async fn session_set(app: tauri::AppHandle, token: String) -> Result<Storage, CommandError> {
    use tauri::Manager as _;
    tauri::async_runtime::spawn_blocking(move || app.state::<Current>().tokens.set(&token))
        .await
        .map_err(|e| CommandError::new(Code::Internal, e.to_string()))
}

/// Forgets the session token (signed out, or the hub said it expired or was revoked).
#[tauri::command]
pub async fn session_clear(app: tauri::AppHandle) -> Result<(), CommandError> {
    use tauri::Manager as _;
    tauri::async_runtime::spawn_blocking(move || app.state::<Current>().tokens.clear())
        .await
        .map_err(|e| CommandError::new(Code::Internal, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_choices_parse_and_bad_ones_are_refused() {
        assert_eq!(parse_saved(r#"{"mode":"solo"}"#).unwrap(), Choice::Solo);
        assert_eq!(
            parse_saved(r#"{"mode":"office","url":"https://warta.example.go.id/"}"#).unwrap(),
            Choice::Office {
                url: "https://warta.example.go.id".into()
            }
        );
        for bad in [
            "",
            "{}",
            r#"{"mode":"team"}"#,
            r#"{"mode":"office"}"#,
            r#"{"mode":"office","url":""}"#,
            r#"{"mode":"office","url":"ftp://x"}"#,
            "not json",
        ] {
            assert!(parse_saved(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_saved_choice_round_trips_through_the_file() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()), None);
        let office = Choice::Office {
            url: "http://10.0.0.5:8080".into(),
        };
        save(dir.path(), &office).unwrap();
        assert_eq!(load(dir.path()), Some(office));
        save(dir.path(), &Choice::Solo).unwrap();
        assert_eq!(load(dir.path()), Some(Choice::Solo));
        // A damaged file: asked again rather than refusing to start.
        std::fs::write(dir.path().join(FILE_NAME), "{").unwrap();
        assert_eq!(load(dir.path()), None);
    }

    #[test]
    fn addresses_are_normalised_or_refused() {
        assert_eq!(
            normalize_url(" warta.example.go.id ").unwrap(),
            "https://warta.example.go.id"
        );
        assert_eq!(
            normalize_url("http://10.0.0.5:8080/").unwrap(),
            "http://10.0.0.5:8080"
        );
        assert_eq!(
            normalize_url("https://kominfo.go.id/warta/").unwrap(),
            "https://kominfo.go.id/warta"
        );
        for bad in [
            "",
            "ftp://x",
            "https://",
            "https://a:b@x",
            "https://x/?a=1",
            "https://x/#y",
        ] {
            let e = normalize_url(bad).unwrap_err();
            assert_eq!(e.code(), Code::InvalidUrl, "{bad:?}");
        }
    }

    #[test]
    fn the_hub_for_a_run_is_decided_in_order() {
        let dir = tempfile::tempdir().unwrap();
        // Nothing saved, nothing implied: ask (solo meanwhile).
        assert_eq!(
            Current::decide(dir.path(), None, false).unwrap(),
            (Choice::Solo, true, false)
        );
        // --demo or --data: solo without asking.
        assert_eq!(
            Current::decide(dir.path(), None, true).unwrap(),
            (Choice::Solo, false, false)
        );
        let office = Choice::Office {
            url: "https://hub.example".into(),
        };
        save(dir.path(), &office).unwrap();
        assert_eq!(
            Current::decide(dir.path(), None, true).unwrap(),
            (office, false, false)
        );
        // --hub wins and is not saved.
        let forced = Current::decide(dir.path(), Some("http://127.0.0.1:9/"), false).unwrap();
        assert_eq!(
            forced,
            (
                Choice::Office {
                    url: "http://127.0.0.1:9".into()
                },
                false,
                true
            )
        );
        assert!(Current::decide(dir.path(), Some("ftp://x"), false).is_err());
    }

    #[test]
    fn sessions_are_namespaced_per_hub() {
        let dir = tempfile::tempdir().unwrap();
        let a = Choice::Office {
            url: "https://a.example".into(),
        };
        let b = Choice::Office {
            url: "https://b.example".into(),
        };
        let na = session_namespace(&a, dir.path());
        assert_eq!(na, session_namespace(&a, Path::new("/elsewhere")));
        assert_ne!(na, session_namespace(&b, dir.path()));
        let solo = session_namespace(&Choice::Solo, dir.path());
        assert_ne!(solo, na);
        // Valid keyring namespaces.
        for ns in [na, solo] {
            assert!(KeyringStore::new(&ns).is_ok(), "{ns}");
        }
    }

    #[test]
    fn without_a_keyring_the_token_is_kept_in_memory() {
        let tokens = TokenStore::with_store(None);
        assert_eq!(tokens.get(), (None, Storage::Memory));
        assert_eq!(tokens.set("t0k3n"), Storage::Memory);
        assert_eq!(tokens.get(), (Some("t0k3n".into()), Storage::Memory));
        tokens.clear();
        assert_eq!(tokens.get(), (None, Storage::Memory));
    }

    /// The real OS keyring (run under scripts/with-keyring): a token set by one store is read by
    /// another with the same namespace (the next start of the app), and gone once cleared.
    #[test]
    fn the_token_outlives_the_store_in_the_keyring() {
        let ns = format!("session-test-{}", std::process::id());
        let first = TokenStore::keyring(&ns);
        assert_eq!(first.set("t0k3n"), Storage::Keyring);
        let next_start = TokenStore::keyring(&ns);
        assert_eq!(next_start.get(), (Some("t0k3n".into()), Storage::Keyring));
        next_start.clear();
        assert_eq!(TokenStore::keyring(&ns).get(), (None, Storage::Keyring));
    }

    fn current(dir: &Path, choice: Choice, needs_choice: bool, forced: bool) -> Current {
        Current {
            data_dir: dir.to_path_buf(),
            choice,
            needs_choice: needs_choice.into(),
            forced,
            api_url: "http://127.0.0.1:1".into(),
            tokens: TokenStore::with_store(None),
        }
    }

    #[tokio::test]
    async fn choosing_saves_and_says_when_the_app_must_restart() {
        let dir = tempfile::tempdir().unwrap();
        // First run, solo chosen while solo runs: saved, no restart, not asked again.
        let first = current(dir.path(), Choice::Solo, true, false);
        assert!(!first.choose(Choice::Solo).await.unwrap());
        assert!(!first.needs_choice.load(Ordering::Relaxed));
        assert_eq!(load(dir.path()), Some(Choice::Solo));

        // An office hub that does not answer: refused, nothing saved.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let e = first.choose(Choice::Office { url }).await.unwrap_err();
        assert_eq!(e.code(), Code::Unreachable);
        assert_eq!(load(dir.path()), Some(Choice::Solo));

        // A real hub: saved (normalised), and the app restarts to use it.
        let data = tempfile::tempdir().unwrap();
        let hub = warta_hub::start(
            warta_hub::HubConfig::solo(data.path()),
            std::sync::Arc::new(warta_hub::SystemClock),
        )
        .await
        .unwrap();
        let office = Choice::Office {
            url: hub.base_url(),
        };
        let typed = Choice::Office {
            url: format!("{}/", hub.base_url()),
        };
        assert!(first.choose(typed).await.unwrap());
        assert_eq!(load(dir.path()), Some(office.clone()));
        // Back to solo from office mode: a restart.
        let in_office = current(dir.path(), office, false, false);
        assert!(in_office.choose(Choice::Solo).await.unwrap());
        hub.shutdown().await;

        // --hub: the window cannot change it.
        let forced = current(dir.path(), Choice::Solo, false, true);
        assert_eq!(
            forced.choose(Choice::Solo).await.unwrap_err().code(),
            Code::Forced
        );
    }

    #[tokio::test]
    async fn checking_a_hub_tells_a_hub_from_other_servers_and_no_server() {
        // A real hub on loopback.
        let dir = tempfile::tempdir().unwrap();
        let hub = warta_hub::start(
            warta_hub::HubConfig::solo(dir.path()),
            std::sync::Arc::new(warta_hub::SystemClock),
        )
        .await
        .unwrap();
        let found = check_hub(&format!("{}/", hub.base_url())).await.unwrap();
        assert_eq!(
            found,
            HubCheck {
                url: hub.base_url(),
                needs_admin: true
            }
        );

        // A web server that is not a hub.
        let other = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let other_url = format!("http://{}", other.local_addr().unwrap());
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
            for _ in 0..4 {
                let Ok((mut s, _)) = other.accept().await else {
                    return;
                };
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(
                        b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello",
                    )
                    .await;
            }
        });
        assert_eq!(
            check_hub(&other_url).await.unwrap_err().code(),
            Code::NotAHub
        );

        // Nothing listening.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let closed_url = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        assert_eq!(
            check_hub(&closed_url).await.unwrap_err().code(),
            Code::Unreachable
        );

        // https:// to a hub that speaks plain HTTP: a TLS problem, said as such.
        let tls_url = hub.base_url().replace("http://", "https://");
        let e = check_hub(&tls_url).await.unwrap_err();
        assert_eq!(e.code(), Code::Tls, "{}", e.message());
        hub.shutdown().await;
    }
}
