//! `warta serve`, `warta backup` and `warta restore`: the hub as an office server.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use warta_hub::{HubConfig, Office, SystemClock};

use crate::config::{self, LogFormat, ServeArgs};

/// Runs the hub until SIGTERM or SIGINT, then shuts it down gracefully and exits 0.
pub fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let settings = config::resolve(&args, &|name| std::env::var(name).ok())?;
    if args.check {
        print!("{}", settings.describe());
        println!("settings ok");
        return Ok(ExitCode::SUCCESS);
    }
    init_logging(settings.log_format, &settings.log_level);
    if let Some(file) = &settings.config_file {
        tracing::info!(config = %file.display(), "settings read");
    }
    tracing::info!(secrets = %settings.secrets_from, "website passwords and keys");
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        // Listen for signals before anything starts, so an early SIGTERM is not fatal.
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut int = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())?;
        let data_dir = settings.hub.data_dir.clone();
        let grace = settings.hub.shutdown_grace;
        if settings.hub.secrets == warta_hub::SecretsConfig::Keyring {
            warn_without_keyring(&data_dir).await;
        }
        let hub = warta_hub::start(settings.hub, Arc::new(SystemClock)).await?;
        tracing::info!(
            url = %hub.base_url(),
            site = %format!("{}/site/", hub.base_url()),
            data = %data_dir.display(),
            "Warta hub ready"
        );
        let signal = tokio::select! {
            _ = term.recv() => "SIGTERM",
            _ = int.recv() => "SIGINT",
        };
        tracing::info!(signal, grace = ?grace, "shutting down: no new connections, requests in flight may finish");
        hub.shutdown().await;
        tracing::info!("hub stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Asks the keyring whether it answers (a lookup, no prompt); when it does not, says how to keep
/// the secrets in the encrypted file instead. The hub starts either way: it does more than
/// publish, and the publisher sees the same words on a website's secret.
async fn warn_without_keyring(data_dir: &std::path::Path) {
    let store = warta_secrets::KeyringStore::for_data_dir(data_dir);
    let probe = tokio::task::spawn_blocking(move || store.probe());
    let problem = match tokio::time::timeout(std::time::Duration::from_secs(10), probe).await {
        Ok(Ok(Ok(()))) => return,
        Ok(Ok(Err(e))) if e.is_unavailable() => e.to_string(),
        Ok(Ok(Err(e))) => {
            tracing::warn!("the keyring answered with an error: {e}");
            return;
        }
        Ok(Err(e)) => e.to_string(),
        Err(_) => "the keyring did not answer within 10 s".to_string(),
    };
    tracing::warn!(
        "{problem}. Until that is fixed this hub cannot store or read website passwords and \
         keys, so it cannot publish to WordPress or webhooks. On a server without a desktop, \
         keep them in the encrypted secrets file instead: make a key with `warta secrets \
         init-key /etc/warta/secrets.key` and pass it as the systemd credential \
         LoadCredential={}:/etc/warta/secrets.key (deploy/warta.service), or set \
         secrets_key_file = \"/etc/warta/secrets.key\" (WARTA_SECRETS_KEY_FILE); then enter \
         the websites' passwords again under Websites",
        config::KEY_CREDENTIAL
    );
}

fn init_logging(format: LogFormat, level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(false)
            .with_span_list(false)
            .init(),
    }
}

/// `warta backup`: one backup now, with the same checks as the scheduled ones.
#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The office's data folder (a running hub may keep using it).
    #[arg(long)]
    pub data: PathBuf,
    /// The folder backups are made in; each goes into a new sub-folder named by its UTC time.
    #[arg(long)]
    pub out: PathBuf,
    /// Then keep only this many most recent backups in --out.
    #[arg(long)]
    pub keep: Option<usize>,
    /// Then remove backups older than this many days (with --keep, a backup either keeps stays).
    #[arg(long)]
    pub keep_days: Option<u32>,
}

pub fn backup(args: BackupArgs) -> anyhow::Result<ExitCode> {
    if !args.data.join("warta.db").is_file() {
        anyhow::bail!(
            "no Warta data in {} (expected warta.db)",
            args.data.display()
        );
    }
    let office = Office::open(HubConfig::solo(&args.data), Arc::new(SystemClock))?;
    let made = warta_hub::backup::make_backup(&office, &args.out)?;
    let m = &made.manifest;
    println!(
        "backup {} made: {} items, {} attachments, {} files ({} copied, {} linked), {} site files, audit up to entry {}",
        made.path.display(),
        m.items,
        m.attachments,
        m.blobs,
        m.blobs_copied,
        m.blobs_linked + m.blobs_from_previous,
        m.site_files,
        m.audit_head_seq
    );
    let removed = warta_hub::backup::prune(&args.out, args.keep, args.keep_days, office.now())?;
    for name in removed {
        println!("removed the old backup {name}");
    }
    Ok(ExitCode::SUCCESS)
}

/// `warta restore`: a backup folder becomes a data folder (with the hub stopped).
#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The backup folder, e.g. /var/backups/warta/20261124T060000Z.
    #[arg(long)]
    pub from: PathBuf,
    /// The data folder to create; it must not exist or be empty.
    #[arg(long)]
    pub data: PathBuf,
}

pub fn restore(args: RestoreArgs) -> anyhow::Result<ExitCode> {
    let check = warta_hub::backup::restore(&args.from, &args.data)
        .with_context(|| format!("restoring {}", args.from.display()))?;
    println!(
        "restored {} into {}: database intact, audit log intact ({} entries), {} attachment files present",
        args.from.display(),
        args.data.display(),
        check.audit_entries,
        check.referenced_blobs
    );
    if args.data.join(warta_secrets::SECRETS_FILE_NAME).is_file() {
        println!(
            "Website passwords and keys were restored encrypted (secrets.enc): start the hub with \
             the same secrets key file as before (it is not in backups); without it, enter them \
             again under Websites."
        );
    } else {
        println!(
            "Website passwords and keys live in the OS keyring under the data folder's path: \
             restored to the same path they are found again, elsewhere enter them again under Websites."
        );
    }
    Ok(ExitCode::SUCCESS)
}
