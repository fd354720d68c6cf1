//! `warta serve`'s settings: a TOML file, `WARTA_*` environment variables and flags, in that
//! order of strength (flag > environment > file > default).
//!
//! Every setting has one name — `listen`, `tls.cert`, `backup.keep_days` — from which its
//! environment variable (`WARTA_LISTEN`, `WARTA_TLS_CERT`, `WARTA_BACKUP_KEEP_DAYS`) and flag
//! (`--listen`, `--tls-cert`, `--backup-keep-days`) are derived. A bad value is refused with
//! one sentence naming the setting, the value and where it came from.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde::Deserialize;
use warta_hub::{BackupPolicy, HubConfig, SecretsConfig, SiteBackupPolicy, TlsFiles};

/// The systemd credential holding the secrets key (`LoadCredential=warta-secrets-key:PATH`),
/// read from `$CREDENTIALS_DIRECTORY`.
pub const KEY_CREDENTIAL: &str = "warta-secrets-key";

/// The flags of `warta serve`; each overrides the config file and the environment.
#[derive(clap::Args, Debug, Default)]
pub struct ServeArgs {
    /// Check the settings (and the certificate files), print them and exit.
    #[arg(long)]
    pub check: bool,
    /// TOML config file (also WARTA_CONFIG); see deploy/warta.toml.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Directory holding the database, attachments and the site.
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Address to listen on [default: 127.0.0.1:8080].
    #[arg(long)]
    pub listen: Option<String>,
    /// Base URL clients and published pages reach the hub at, e.g. https://warta.example.go.id.
    #[arg(long)]
    pub public_url: Option<String>,
    /// Seed a demo office into an empty database.
    #[arg(long)]
    pub demo: bool,
    /// Largest attachment accepted, in bytes [default: 2 GiB].
    #[arg(long)]
    pub max_attachment_bytes: Option<String>,
    /// text or json [default: text].
    #[arg(long)]
    pub log_format: Option<String>,
    /// A tracing filter such as info or warn,warta_hub=debug [default: info].
    #[arg(long)]
    pub log_level: Option<String>,
    /// How long requests in flight may take once shutdown begins, e.g. 10s [default: 10s].
    #[arg(long)]
    pub shutdown_grace: Option<String>,
    /// How long a sign-in lasts, in hours (1 to 720) [default: 12].
    #[arg(long)]
    pub session_hours: Option<String>,
    /// Reverse proxies (addresses or networks, comma-separated) whose X-Forwarded-For names the client.
    #[arg(long, value_delimiter = ',')]
    pub trusted_proxies: Vec<String>,
    /// PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long)]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the certificate.
    #[arg(long)]
    pub tls_key: Option<PathBuf>,
    /// Folder for scheduled backups; backups are off without it.
    #[arg(long)]
    pub backup_dir: Option<PathBuf>,
    /// Time between backups, e.g. 6h [default: 6h].
    #[arg(long)]
    pub backup_every: Option<String>,
    /// Keep this many most recent backups [default: 28 when no rule is given].
    #[arg(long)]
    pub backup_keep: Option<String>,
    /// Keep backups younger than this many days.
    #[arg(long)]
    pub backup_keep_days: Option<String>,
    /// Time between backups of each website's content (WordPress posts, pages, media; a site
    /// folder), e.g. 24h, or off [default: 24h].
    #[arg(long)]
    pub site_backup_every: Option<String>,
    /// Keep this many most recent backups of each website [default: 14].
    #[arg(long)]
    pub site_backup_keep: Option<String>,
    /// Also keep every website backup younger than this many days [default: 30].
    #[arg(long)]
    pub site_backup_keep_days: Option<String>,
    /// Files of a website's media library larger than this many MiB are listed, not kept
    /// [default: 256].
    #[arg(long)]
    pub site_backup_max_file_mb: Option<String>,
    /// Where website passwords and keys are kept: keyring or file [default: file when a key
    /// file or the systemd credential warta-secrets-key is given, else keyring].
    #[arg(long)]
    pub secrets: Option<String>,
    /// The key of the encrypted secrets file (outside the data folder); make one with
    /// `warta secrets init-key PATH`.
    #[arg(long)]
    pub secrets_key_file: Option<PathBuf>,
}

/// How log lines are written (standard error; the journal under systemd).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Everything `warta serve` runs with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub hub: HubConfig,
    pub log_format: LogFormat,
    pub log_level: String,
    pub config_file: Option<PathBuf>,
    /// Where the secrets store (and its key) was chosen, for the log and `--check`.
    pub secrets_from: String,
}

/// The config file's shape; unknown keys are refused.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    data: Option<PathBuf>,
    listen: Option<String>,
    public_url: Option<String>,
    demo: Option<bool>,
    max_attachment_bytes: Option<u64>,
    log_format: Option<String>,
    log_level: Option<String>,
    shutdown_grace: Option<String>,
    session_hours: Option<u64>,
    trusted_proxies: Option<Vec<String>>,
    tls: Option<FileTls>,
    backup: Option<FileBackup>,
    site_backup: Option<FileSiteBackup>,
    secrets: Option<String>,
    secrets_key_file: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileTls {
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileBackup {
    dir: Option<PathBuf>,
    every: Option<String>,
    keep: Option<u64>,
    keep_days: Option<u64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSiteBackup {
    every: Option<String>,
    keep: Option<u64>,
    keep_days: Option<u64>,
    max_file_mb: Option<u64>,
}

/// Where a value came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => write!(f, "the default"),
            Source::File(p) => write!(f, "the config file {}", p.display()),
            Source::Env(v) => write!(f, "the environment variable {v}"),
            Source::Flag(n) => write!(f, "the flag {n}"),
        }
    }
}

/// One setting's value before parsing.
#[derive(Debug, Clone)]
struct Raw {
    key: &'static str,
    value: String,
    from: Source,
}

impl Raw {
    /// `the setting `listen` = "x" (from the flag --listen) <problem>`.
    fn refuse(&self, problem: impl fmt::Display) -> anyhow::Error {
        anyhow::anyhow!(
            "the setting `{}` = \"{}\" (from {}) {problem}",
            self.key,
            self.value,
            self.from
        )
    }
}

fn env_name(key: &str) -> String {
    format!("WARTA_{}", key.replace('.', "_").to_uppercase())
}

fn flag_name(key: &str) -> String {
    format!("--{}", key.replace(['.', '_'], "-"))
}

struct Layers<'a> {
    flags: BTreeMap<&'static str, String>,
    env: &'a dyn Fn(&str) -> Option<String>,
    file: BTreeMap<&'static str, String>,
    file_path: Option<PathBuf>,
}

impl Layers<'_> {
    fn get(&self, key: &'static str) -> Option<Raw> {
        if let Some(v) = self.flags.get(key) {
            return Some(Raw {
                key,
                value: v.clone(),
                from: Source::Flag(flag_name(key)),
            });
        }
        let var = env_name(key);
        if let Some(v) = (self.env)(&var).filter(|v| !v.trim().is_empty()) {
            return Some(Raw {
                key,
                value: v,
                from: Source::Env(var),
            });
        }
        self.file.get(key).map(|v| Raw {
            key,
            value: v.clone(),
            from: Source::File(self.file_path.clone().unwrap_or_default()),
        })
    }

    fn or_default(&self, key: &'static str, default: &str) -> Raw {
        self.get(key).unwrap_or(Raw {
            key,
            value: default.to_string(),
            from: Source::Default,
        })
    }
}

/// Reads and checks the config file, with `line N` in what it says about a mistake.
fn read_file(path: &Path) -> anyhow::Result<FileConfig> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("the config file {} cannot be read", path.display()))?;
    toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        let message = e.message().trim_end_matches('\n').replace('\n', " ");
        match line {
            Some(l) => anyhow::anyhow!(
                "the config file {} is not valid at line {l}: {message}",
                path.display()
            ),
            None => anyhow::anyhow!("the config file {} is not valid: {message}", path.display()),
        }
    })
}

fn flatten(file: FileConfig) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    let path = |p: PathBuf| p.to_string_lossy().into_owned();
    let mut put = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k, v);
        }
    };
    put("data", file.data.map(path));
    put("listen", file.listen);
    put("public_url", file.public_url);
    put("demo", file.demo.map(|b| b.to_string()));
    put(
        "max_attachment_bytes",
        file.max_attachment_bytes.map(|n| n.to_string()),
    );
    put("log_format", file.log_format);
    put("log_level", file.log_level);
    put("shutdown_grace", file.shutdown_grace);
    put("session_hours", file.session_hours.map(|n| n.to_string()));
    put("trusted_proxies", file.trusted_proxies.map(|v| v.join(",")));
    let tls = file.tls.unwrap_or_default();
    put("tls.cert", tls.cert.map(path));
    put("tls.key", tls.key.map(path));
    let backup = file.backup.unwrap_or_default();
    put("backup.dir", backup.dir.map(path));
    put("backup.every", backup.every);
    put("backup.keep", backup.keep.map(|n| n.to_string()));
    put("backup.keep_days", backup.keep_days.map(|n| n.to_string()));
    let site = file.site_backup.unwrap_or_default();
    put("site_backup.every", site.every);
    put("site_backup.keep", site.keep.map(|n| n.to_string()));
    put(
        "site_backup.keep_days",
        site.keep_days.map(|n| n.to_string()),
    );
    put(
        "site_backup.max_file_mb",
        site.max_file_mb.map(|n| n.to_string()),
    );
    put("secrets", file.secrets);
    put("secrets_key_file", file.secrets_key_file.map(path));
    m
}

fn flags(args: &ServeArgs) -> BTreeMap<&'static str, String> {
    let mut m = BTreeMap::new();
    let path = |p: &PathBuf| p.to_string_lossy().into_owned();
    let mut put = |k: &'static str, v: Option<String>| {
        if let Some(v) = v {
            m.insert(k, v);
        }
    };
    put("data", args.data.as_ref().map(path));
    put("listen", args.listen.clone());
    put("public_url", args.public_url.clone());
    put("demo", args.demo.then(|| "true".to_string()));
    put("max_attachment_bytes", args.max_attachment_bytes.clone());
    put("log_format", args.log_format.clone());
    put("log_level", args.log_level.clone());
    put("shutdown_grace", args.shutdown_grace.clone());
    put("session_hours", args.session_hours.clone());
    put(
        "trusted_proxies",
        (!args.trusted_proxies.is_empty()).then(|| args.trusted_proxies.join(",")),
    );
    put("tls.cert", args.tls_cert.as_ref().map(path));
    put("tls.key", args.tls_key.as_ref().map(path));
    put("backup.dir", args.backup_dir.as_ref().map(path));
    put("backup.every", args.backup_every.clone());
    put("backup.keep", args.backup_keep.clone());
    put("backup.keep_days", args.backup_keep_days.clone());
    put("site_backup.every", args.site_backup_every.clone());
    put("site_backup.keep", args.site_backup_keep.clone());
    put("site_backup.keep_days", args.site_backup_keep_days.clone());
    put(
        "site_backup.max_file_mb",
        args.site_backup_max_file_mb.clone(),
    );
    put("secrets", args.secrets.clone());
    put("secrets_key_file", args.secrets_key_file.as_ref().map(path));
    m
}

fn parse_bool(raw: &Raw) -> anyhow::Result<bool> {
    match raw.value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(raw.refuse("is not true or false")),
    }
}

fn parse_duration(raw: &Raw) -> anyhow::Result<Duration> {
    let d = humantime::parse_duration(raw.value.trim())
        .map_err(|_| raw.refuse("is not a duration like 10s, 30min or 6h"))?;
    if d.is_zero() {
        return Err(raw.refuse("must be longer than zero"));
    }
    Ok(d)
}

fn parse_count(raw: &Raw) -> anyhow::Result<u64> {
    match raw.value.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(raw.refuse("is not a whole number above zero")),
    }
}

fn parse_public_url(raw: &Raw) -> anyhow::Result<String> {
    let v = raw.value.trim();
    let rest = v
        .strip_prefix("https://")
        .or_else(|| v.strip_prefix("http://"));
    match rest {
        Some(r)
            if !r.is_empty()
                && !r.starts_with('/')
                && !r.contains(['?', '#', ' ', '\t'])
                && !v.contains(char::is_control) =>
        {
            Ok(v.trim_end_matches('/').to_string())
        }
        _ => Err(raw.refuse(
            "is not a base URL like https://warta.example.go.id (http or https, no query)",
        )),
    }
}

/// Works the settings out from `args`, the environment (`env`) and the config file.
pub fn resolve(args: &ServeArgs, env: &dyn Fn(&str) -> Option<String>) -> anyhow::Result<Settings> {
    let file_path = args.config.clone().or_else(|| {
        env("WARTA_CONFIG")
            .filter(|v| !v.trim().is_empty())
            .map(PathBuf::from)
    });
    let file = match &file_path {
        Some(p) => read_file(p)?,
        None => FileConfig::default(),
    };
    let layers = Layers {
        flags: flags(args),
        env,
        file: flatten(file),
        file_path: file_path.clone(),
    };

    let data = layers.get("data").ok_or_else(|| {
        anyhow::anyhow!(
            "the setting `data` (the folder holding the office's data) is missing: \
             set it in the config file, as WARTA_DATA or with --data"
        )
    })?;
    let data_dir = std::path::absolute(data.value.trim())
        .map_err(|e| data.refuse(format_args!("cannot be used: {e}")))?;

    let listen_raw = layers.or_default("listen", "127.0.0.1:8080");
    let listen: SocketAddr = listen_raw
        .value
        .trim()
        .parse()
        .map_err(|_| listen_raw.refuse("is not an address like 0.0.0.0:8443 or [::]:8443"))?;

    let public_url = layers
        .get("public_url")
        .map(|r| parse_public_url(&r))
        .transpose()?;
    let demo = layers
        .get("demo")
        .map(|r| parse_bool(&r))
        .transpose()?
        .unwrap_or(false);
    let max_raw = layers.or_default("max_attachment_bytes", "2147483648");
    let max_attachment_bytes = parse_count(&max_raw)?;

    let format_raw = layers.or_default("log_format", "text");
    let log_format = match format_raw.value.trim() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        _ => return Err(format_raw.refuse("is neither text nor json")),
    };
    let default_level = env("RUST_LOG").unwrap_or_else(|| "info".into());
    let level_raw = layers.or_default("log_level", &default_level);
    tracing_subscriber::EnvFilter::try_new(level_raw.value.trim()).map_err(|_| {
        level_raw.refuse("is not a log level like info, warn or info,warta_hub=debug")
    })?;
    let log_level = level_raw.value.trim().to_string();

    let grace_raw = layers.or_default("shutdown_grace", "10s");
    let shutdown_grace = parse_duration(&grace_raw)?;
    let hours_raw = layers.or_default("session_hours", "12");
    let session_hours = match parse_count(&hours_raw)? {
        n @ 1..=720 => n as u32,
        _ => return Err(hours_raw.refuse("is more than 720 hours (30 days)")),
    };

    let trusted_proxies = match layers.get("trusted_proxies") {
        Some(raw) => raw
            .value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| warta_hub::server::parse_proxy(s).map_err(|e| raw.refuse(e)))
            .collect::<anyhow::Result<Vec<_>>>()?,
        None => Vec::new(),
    };

    let tls = match (layers.get("tls.cert"), layers.get("tls.key")) {
        (None, None) => None,
        (Some(c), None) => bail!(
            "the setting `tls.cert` is set (from {}) but `tls.key` is not: HTTPS needs both",
            c.from
        ),
        (None, Some(k)) => bail!(
            "the setting `tls.key` is set (from {}) but `tls.cert` is not: HTTPS needs both",
            k.from
        ),
        (Some(cert), Some(key)) => {
            let files = TlsFiles {
                cert: PathBuf::from(cert.value.trim()),
                key: PathBuf::from(key.value.trim()),
            };
            if let Err(e) = warta_hub::server::load_tls(&files) {
                bail!(
                    "{e} (`tls.cert` from {}, `tls.key` from {})",
                    cert.from,
                    key.from
                );
            }
            Some(files)
        }
    };

    let backup = match layers.get("backup.dir") {
        None => {
            for key in ["backup.every", "backup.keep", "backup.keep_days"] {
                if let Some(r) = layers.get(key) {
                    return Err(
                        r.refuse("has no effect without `backup.dir`; set where backups go")
                    );
                }
            }
            None
        }
        Some(dir_raw) => {
            let dir = std::path::absolute(dir_raw.value.trim())
                .map_err(|e| dir_raw.refuse(format_args!("cannot be used: {e}")))?;
            if dir.starts_with(&data_dir) {
                return Err(dir_raw.refuse(format_args!(
                    "lies inside the data folder {}; put backups elsewhere, best on another disk",
                    data_dir.display()
                )));
            }
            let every = parse_duration(&layers.or_default("backup.every", "6h"))?;
            let keep = layers
                .get("backup.keep")
                .map(|r| parse_count(&r))
                .transpose()?;
            let keep_days = layers
                .get("backup.keep_days")
                .map(|r| {
                    parse_count(&r).and_then(|n| {
                        u32::try_from(n).map_err(|_| r.refuse("is more days than can be kept"))
                    })
                })
                .transpose()?;
            let keep = match (keep, keep_days) {
                (None, None) => Some(28),
                (k, _) => k.map(|k| usize::try_from(k).unwrap_or(usize::MAX)),
            };
            Some(BackupPolicy {
                dir,
                every,
                keep,
                keep_days,
            })
        }
    };

    let site_backup = resolve_site_backup(&layers)?;

    let (secrets, secrets_from) = resolve_secrets(&layers, env, &data_dir, backup.as_ref())?;

    Ok(Settings {
        hub: HubConfig {
            data_dir,
            listen,
            max_attachment_bytes,
            demo,
            public_url,
            tls,
            trusted_proxies,
            shutdown_grace,
            backup,
            secrets,
            session_hours,
            site_backup,
        },
        log_format,
        log_level,
        config_file: file_path,
        secrets_from,
    })
}

/// `site_backup.*`: when each website's content is backed up (`off`: only "back up now") and
/// how much is kept; unset settings keep the hub's defaults.
fn resolve_site_backup(layers: &Layers<'_>) -> anyhow::Result<SiteBackupPolicy> {
    let mut policy = SiteBackupPolicy::default();
    if let Some(r) = layers.get("site_backup.every") {
        policy.every = match r.value.trim() {
            "off" | "never" => None,
            _ => Some(parse_duration(&r)?),
        };
    }
    if let Some(r) = layers.get("site_backup.keep") {
        policy.keep = usize::try_from(parse_count(&r)?).unwrap_or(usize::MAX);
    }
    if let Some(r) = layers.get("site_backup.keep_days") {
        policy.keep_days = u32::try_from(parse_count(&r)?)
            .map_err(|_| r.refuse("is more days than can be kept"))?;
    }
    if let Some(r) = layers.get("site_backup.max_file_mb") {
        policy.max_file_bytes = parse_count(&r)?.saturating_mul(1024 * 1024);
    }
    Ok(policy)
}

/// `secrets` and `secrets_key_file`: the keyring, or the encrypted file with its key from the
/// setting or the systemd credential. Unset, the file is chosen when a key is there. The key is
/// read now, so `--check` (and a start) fails on a missing, unreadable or public key file.
fn resolve_secrets(
    layers: &Layers<'_>,
    env: &dyn Fn(&str) -> Option<String>,
    data_dir: &Path,
    backup: Option<&BackupPolicy>,
) -> anyhow::Result<(SecretsConfig, String)> {
    let credential = env("CREDENTIALS_DIRECTORY")
        .filter(|d| !d.trim().is_empty())
        .map(|d| PathBuf::from(d.trim()).join(KEY_CREDENTIAL))
        .filter(|p| p.is_file());
    let key_raw = layers.get("secrets_key_file");
    let use_file = match layers.get("secrets") {
        Some(r) => match r.value.trim() {
            "keyring" => false,
            "file" => true,
            _ => return Err(r.refuse("is neither keyring nor file")),
        },
        None => key_raw.is_some() || credential.is_some(),
    };
    if !use_file {
        if let Some(k) = key_raw {
            return Err(k.refuse(
                "has no effect with `secrets` = \"keyring\"; set `secrets` = \"file\" to keep \
                 website passwords in the encrypted file",
            ));
        }
        let from = match layers.get("secrets") {
            Some(r) => format!("keyring (from {})", r.from),
            None => "keyring (the default: no secrets_key_file and no systemd credential \
                     warta-secrets-key)"
                .to_string(),
        };
        return Ok((SecretsConfig::Keyring, from));
    }
    let (key_file, from) = match (key_raw, credential) {
        (Some(k), _) => {
            let path = std::path::absolute(k.value.trim())
                .map_err(|e| k.refuse(format_args!("cannot be used: {e}")))?;
            (path, format!("`secrets_key_file` from {}", k.from))
        }
        (None, Some(c)) => (
            c,
            format!("the systemd credential {KEY_CREDENTIAL} ($CREDENTIALS_DIRECTORY)"),
        ),
        (None, None) => bail!(
            "the setting `secrets` = \"file\" needs the key of the secrets file: set \
             `secrets_key_file` (WARTA_SECRETS_KEY_FILE, --secrets-key-file) to a key made with \
             `warta secrets init-key /etc/warta/secrets.key`, or pass it as the systemd \
             credential LoadCredential={KEY_CREDENTIAL}:/etc/warta/secrets.key"
        ),
    };
    warta_hub::check_key_outside_data(data_dir, &key_file)
        .map_err(|e| anyhow::anyhow!("{e} ({from})"))?;
    if let Some(b) = backup
        && warta_hub::check_key_outside_data(&b.dir, &key_file).is_err()
    {
        bail!(
            "the secrets key file {} lies inside the backup folder {} ({from}): a backup would \
             then hold the key with the secrets. Keep it elsewhere, e.g. /etc/warta/secrets.key",
            key_file.display(),
            b.dir.display()
        );
    }
    warta_secrets::SecretsKey::read_file(&key_file).map_err(|e| anyhow::anyhow!("{e} ({from})"))?;
    Ok((
        SecretsConfig::File {
            key_file: key_file.clone(),
        },
        format!("file, key {} ({from})", key_file.display()),
    ))
}

impl Settings {
    /// The settings in effect, one per line, for `warta serve --check`.
    pub fn describe(&self) -> String {
        let h = &self.hub;
        let mut out = String::new();
        let mut line = |k: &str, v: String| out.push_str(&format!("{k} = {v}\n"));
        if let Some(f) = &self.config_file {
            line("config", f.display().to_string());
        }
        line("data", h.data_dir.display().to_string());
        line("listen", h.listen.to_string());
        line(
            "public_url",
            h.public_url
                .clone()
                .unwrap_or_else(|| "(the listen address)".into()),
        );
        line("demo", h.demo.to_string());
        line("max_attachment_bytes", h.max_attachment_bytes.to_string());
        line(
            "log_format",
            match self.log_format {
                LogFormat::Text => "text".into(),
                LogFormat::Json => "json".into(),
            },
        );
        line("log_level", self.log_level.clone());
        line(
            "shutdown_grace",
            humantime::format_duration(h.shutdown_grace).to_string(),
        );
        line("session_hours", h.session_hours.to_string());
        line(
            "trusted_proxies",
            h.trusted_proxies
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", "),
        );
        match &h.tls {
            Some(t) => {
                line("tls.cert", t.cert.display().to_string());
                line("tls.key", t.key.display().to_string());
            }
            None => line(
                "tls",
                "off (plain HTTP, e.g. behind a reverse proxy)".into(),
            ),
        }
        match &h.backup {
            Some(b) => {
                line("backup.dir", b.dir.display().to_string());
                line(
                    "backup.every",
                    humantime::format_duration(b.every).to_string(),
                );
                line(
                    "backup.keep",
                    b.keep.map_or("(no limit)".into(), |k| k.to_string()),
                );
                line(
                    "backup.keep_days",
                    b.keep_days.map_or("(no limit)".into(), |d| d.to_string()),
                );
            }
            None => line("backup", "off".into()),
        }
        let s = &h.site_backup;
        line(
            "site_backup.every",
            s.every
                .map_or("off".into(), |d| humantime::format_duration(d).to_string()),
        );
        line("site_backup.keep", s.keep.to_string());
        line("site_backup.keep_days", s.keep_days.to_string());
        line(
            "site_backup.max_file_mb",
            (s.max_file_bytes / (1024 * 1024)).to_string(),
        );
        line("secrets", self.secrets_from.clone());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("warta.toml");
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    fn env(vars: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn website_backups_keep_their_defaults_unless_set_and_bad_values_are_named() {
        let (_d, path) = file("[site_backup]\nevery = \"12h\"\nkeep = 5\n");
        let args = ServeArgs {
            config: Some(path.clone()),
            data: Some("/srv/warta".into()),
            site_backup_keep_days: Some("7".into()),
            ..ServeArgs::default()
        };
        let s = resolve(&args, &env(&[("WARTA_SITE_BACKUP_MAX_FILE_MB", "64")])).unwrap();
        let p = &s.hub.site_backup;
        assert_eq!(p.every, Some(Duration::from_secs(12 * 3600))); // file
        assert_eq!((p.keep, p.keep_days), (5, 7)); // file, flag
        assert_eq!(p.max_file_bytes, 64 * 1024 * 1024); // environment
        assert!(s.describe().contains("site_backup.every"));

        let plain = ServeArgs {
            data: Some("/srv/warta".into()),
            ..ServeArgs::default()
        };
        let d = resolve(&plain, &env(&[])).unwrap().hub.site_backup;
        let default = SiteBackupPolicy::default();
        assert_eq!(
            (d.every, d.keep, d.keep_days),
            (default.every, default.keep, default.keep_days)
        );
        let off = resolve(&plain, &env(&[("WARTA_SITE_BACKUP_EVERY", "off")])).unwrap();
        assert_eq!(off.hub.site_backup.every, None);

        for (var, value, says) in [
            ("WARTA_SITE_BACKUP_EVERY", "sometimes", "is not a duration"),
            ("WARTA_SITE_BACKUP_KEEP", "0", "whole number above zero"),
            (
                "WARTA_SITE_BACKUP_KEEP_DAYS",
                "-3",
                "whole number above zero",
            ),
        ] {
            let vars: &'static [(&'static str, &'static str)] =
                Box::leak(vec![(var, value)].into_boxed_slice());
            let e = resolve(&plain, &env(vars)).unwrap_err().to_string();
            assert!(
                e.contains(&format!("the environment variable {var}")) && e.contains(says),
                "{e}"
            );
        }
    }

    #[test]
    fn every_layer_can_set_nested_settings_and_the_stronger_one_wins() {
        let (_d, path) = file(
            "data = \"/srv/file\"\nshutdown_grace = \"20s\"\n\
             [backup]\ndir = \"/backups/file\"\nevery = \"1h\"\nkeep = 5\nkeep_days = 9\n",
        );
        let args = ServeArgs {
            config: Some(path),
            backup_keep: Some("7".into()),
            ..ServeArgs::default()
        };
        let s = resolve(
            &args,
            &env(&[
                ("WARTA_BACKUP_EVERY", "30min"),
                ("WARTA_BACKUP_KEEP", "6"),
                ("WARTA_DATA", ""),
            ]),
        )
        .unwrap();
        let b = s.hub.backup.unwrap();
        assert_eq!(b.dir, PathBuf::from("/backups/file"));
        assert_eq!(b.every, Duration::from_secs(30 * 60)); // env over file
        assert_eq!(b.keep, Some(7)); // flag over env over file
        assert_eq!(b.keep_days, Some(9)); // file
        assert_eq!(s.hub.shutdown_grace, Duration::from_secs(20));
        // An empty variable counts as unset.
        assert_eq!(s.hub.data_dir, PathBuf::from("/srv/file"));
        // Defaults.
        assert_eq!(s.hub.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(s.log_format, LogFormat::Text);
        assert!(s.hub.tls.is_none());
    }

    #[test]
    fn backups_default_to_28_kept_and_need_a_folder() {
        let args = ServeArgs {
            data: Some("/srv/data".into()),
            backup_dir: Some("/srv/backups".into()),
            ..ServeArgs::default()
        };
        let b = resolve(&args, &env(&[])).unwrap().hub.backup.unwrap();
        assert_eq!((b.keep, b.keep_days), (Some(28), None));
        assert_eq!(b.every, Duration::from_secs(6 * 3600));
        let args = ServeArgs {
            data: Some("/srv/data".into()),
            ..ServeArgs::default()
        };
        let e = resolve(&args, &env(&[("WARTA_BACKUP_KEEP", "3")])).unwrap_err();
        assert!(e.to_string().contains("without `backup.dir`"), "{e}");
        let e = resolve(&ServeArgs::default(), &env(&[])).unwrap_err();
        assert!(e.to_string().contains("`data`"), "{e}");
    }

    /// An environment of one variable.
    fn one_var<'a>(name: &'a str, value: &'a str) -> impl Fn(&str) -> Option<String> + 'a {
        move |n| (n == name).then(|| value.to_string())
    }

    fn key_in(dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        warta_secrets::SecretsKey::create_file(&path).unwrap();
        path
    }

    #[test]
    fn secrets_default_to_the_keyring_and_to_the_file_when_a_key_is_given() {
        let keys = tempfile::tempdir().unwrap();
        let data = ServeArgs {
            data: Some("/srv/data".into()),
            ..ServeArgs::default()
        };
        let s = resolve(&data, &env(&[])).unwrap();
        assert_eq!(s.hub.secrets, SecretsConfig::Keyring);
        assert!(s.describe().contains("secrets = keyring (the default"));

        // The setting (here from the environment) picks the file.
        let key = key_in(keys.path(), "secrets.key");
        let var = key.to_string_lossy().into_owned();
        let s = resolve(&data, &one_var("WARTA_SECRETS_KEY_FILE", &var)).unwrap();
        assert_eq!(
            s.hub.secrets,
            SecretsConfig::File {
                key_file: key.clone()
            }
        );
        assert!(
            s.describe().contains("WARTA_SECRETS_KEY_FILE"),
            "{}",
            s.describe()
        );

        // So does the systemd credential, unless the keyring is asked for.
        let creds = tempfile::tempdir().unwrap();
        let cred = key_in(creds.path(), KEY_CREDENTIAL);
        let dir = creds.path().to_string_lossy().into_owned();
        let systemd = one_var("CREDENTIALS_DIRECTORY", &dir);
        let s = resolve(&data, &systemd).unwrap();
        assert_eq!(s.hub.secrets, SecretsConfig::File { key_file: cred });
        assert!(
            s.describe().contains("systemd credential"),
            "{}",
            s.describe()
        );
        let keyring = ServeArgs {
            secrets: Some("keyring".into()),
            data: Some("/srv/data".into()),
            ..ServeArgs::default()
        };
        assert_eq!(
            resolve(&keyring, &systemd).unwrap().hub.secrets,
            SecretsConfig::Keyring
        );
    }

    #[test]
    fn secrets_settings_that_cannot_work_are_refused_with_the_fix() {
        let keys = tempfile::tempdir().unwrap();
        let data = keys.path().join("data");
        let args = |secrets: Option<&str>, key: Option<PathBuf>| ServeArgs {
            data: Some(data.clone()),
            secrets: secrets.map(str::to_string),
            secrets_key_file: key,
            ..ServeArgs::default()
        };
        let e = resolve(&args(Some("file"), None), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("needs the key") && e.contains("warta secrets init-key"),
            "{e}"
        );
        assert!(e.contains("LoadCredential=warta-secrets-key:"), "{e}");
        let e = resolve(&args(Some("vault"), None), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("`secrets` = \"vault\" (from the flag --secrets) is neither"),
            "{e}"
        );

        let key = key_in(keys.path(), "secrets.key");
        let e = resolve(&args(Some("keyring"), Some(key.clone())), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no effect"), "{e}");

        std::fs::create_dir(&data).unwrap();
        let inside = key_in(&data, "secrets.key");
        let e = resolve(&args(None, Some(inside)), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("inside the data folder"), "{e}");

        let missing = keys.path().join("missing.key");
        let e = resolve(&args(None, Some(missing)), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("cannot be read") && e.contains("--secrets-key-file"),
            "{e}"
        );

        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = resolve(&args(None, Some(key)), &env(&[]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("every user") && e.contains("chmod 600"), "{e}");
    }

    #[test]
    fn names_derive_from_the_setting() {
        assert_eq!(env_name("backup.keep_days"), "WARTA_BACKUP_KEEP_DAYS");
        assert_eq!(flag_name("backup.keep_days"), "--backup-keep-days");
        assert_eq!(flag_name("tls.cert"), "--tls-cert");
    }
}
