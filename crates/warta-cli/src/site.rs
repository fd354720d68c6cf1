//! `warta site`: backups of the office's websites' content, and restores with their proof,
//! run on a hub's data folder (the same code the hub's schedule and API run).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum SiteCommand {
    /// Back up one website's content (--website) or every website's now, and check each backup
    /// by reading it back. Exit 1 when one failed.
    Backup(BackupArgs),
    /// List a website's backups, newest first.
    Backups(ListArgs),
    /// Restore one object (--key, e.g. post/12 or file/index.html) or everything to a backup,
    /// and check the restored pages before and after. Exit 1 unless the site is normal after.
    Restore(RestoreArgs),
}

/// Where the websites' passwords are: the OS keyring (the default), or the encrypted secrets
/// file of a server without one.
#[derive(Args)]
pub struct SecretsArgs {
    /// The key of the data folder's encrypted secrets file (what `warta serve` was given as
    /// secrets_key_file; also WARTA_SECRETS_KEY_FILE). Without it, the OS keyring.
    #[arg(long)]
    pub secrets_key_file: Option<PathBuf>,
}

impl SecretsArgs {
    fn key_file(&self) -> Option<PathBuf> {
        self.secrets_key_file.clone().or_else(|| {
            std::env::var_os("WARTA_SECRETS_KEY_FILE")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        })
    }
}

#[derive(Args)]
pub struct BackupArgs {
    #[arg(long)]
    pub data: PathBuf,
    /// The website's id (`warta` lists them in Administrasi › Situs web); all when left out.
    #[arg(long)]
    pub website: Option<i64>,
    #[command(flatten)]
    pub secrets: SecretsArgs,
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long)]
    pub website: i64,
}

#[derive(Args)]
pub struct RestoreArgs {
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long)]
    pub backup: i64,
    /// One object of the backup; everything when left out.
    #[arg(long)]
    pub key: Option<String>,
    /// Why (kept in the restore report and the audit log).
    #[arg(long)]
    pub reason: String,
    /// The Warta user (publisher or admin) the restore is recorded for.
    #[arg(long = "as")]
    pub user: String,
    #[command(flatten)]
    pub secrets: SecretsArgs,
}

fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}

fn line(b: &warta_api::SiteBackupInfo) -> String {
    match b.state.as_str() {
        "verified" => format!(
            "backup {} {} {}: {} objects, {}; new {} ({})",
            b.id,
            b.started_at.format("%Y-%m-%d %H:%M"),
            b.state,
            b.objects,
            size(b.bytes),
            b.new_blobs,
            size(b.new_bytes)
        ),
        _ => format!(
            "backup {} {} {}: {}",
            b.id,
            b.started_at.format("%Y-%m-%d %H:%M"),
            b.state,
            b.error.clone().unwrap_or_default()
        ),
    }
}

pub fn run(command: SiteCommand) -> anyhow::Result<ExitCode> {
    match command {
        SiteCommand::Backup(args) => {
            let office = crate::open_with_secrets(args.data, args.secrets.key_file())?;
            let mut failed = false;
            for (name, made) in office.back_up_sites_now(args.website)? {
                match made {
                    Ok(b) => {
                        failed |= b.state != "verified";
                        println!("{name} (website {}): {}", b.target_id, line(&b));
                    }
                    Err(e) => {
                        failed = true;
                        println!("{name}: {e}");
                    }
                }
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        SiteCommand::Backups(args) => {
            let office = crate::open(args.data)?;
            for b in office.site_backups_of(args.website)? {
                println!("{}", line(&b));
            }
            Ok(ExitCode::SUCCESS)
        }
        SiteCommand::Restore(args) => {
            let office = crate::open_with_secrets(args.data, args.secrets.key_file())?;
            let caller = office
                .user_caller(&args.user)
                .with_context(|| format!("no Warta user \"{}\"", args.user))?;
            let r = office.restore_site(
                &caller,
                args.backup,
                warta_api::SiteRestoreInput {
                    key: args.key,
                    reason: args.reason,
                    incident_id: None,
                },
            )?;
            for a in &r.actions {
                println!(
                    "{} {}{}",
                    a.action,
                    a.key,
                    a.detail
                        .as_deref()
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default()
                );
            }
            for (when, checks) in [("before", &r.before), ("after", &r.after)] {
                for c in checks {
                    for f in &c.findings {
                        println!(
                            "{when}: {} {}: {} {}",
                            c.url,
                            f.kind,
                            f.message,
                            f.evidence.join(", ")
                        );
                    }
                    if c.findings.is_empty() {
                        println!("{when}: {} clean", c.url);
                    }
                }
            }
            println!(
                "restore {} {}: website {}",
                r.id,
                r.state,
                if r.normal { "normal" } else { "NOT normal" }
            );
            Ok(if r.normal {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
    }
}
