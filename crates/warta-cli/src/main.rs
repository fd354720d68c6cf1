//! `warta`: the admin CLI. Same crates as the app, no UI.
#![forbid(unsafe_code)]

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

mod config;
mod guard;
mod import;
mod media;
mod serve;
mod site;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use warta_api::Role;
use warta_hub::{HubConfig, Office, SystemClock};

#[derive(Parser)]
#[command(name = "warta", version, about = "Warta newsroom hub and tools")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a hub serving the API and the published site (settings: --config FILE, WARTA_*
    /// environment variables, flags; see deploy/warta.toml).
    Serve(Box<config::ServeArgs>),
    /// Back an office up now (database, attachment files, site) into a new folder under --out.
    Backup(serve::BackupArgs),
    /// Turn a backup folder into a data folder for a stopped hub; refuses a non-empty one.
    Restore(serve::RestoreArgs),
    /// Manage user accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Check SOP definition files, or print one in the official table layout.
    Sop {
        #[command(subcommand)]
        command: SopCommand,
    },
    /// Render Markdown (a file, or standard input with `-` or nothing) to the sanitised HTML publishing uses.
    Render { file: Option<PathBuf> },
    /// Import a folder or memory card into an item through a hub; resumable.
    Import(import::ImportArgs),
    /// Make web renditions and thumbnails of media files.
    Media {
        #[command(subcommand)]
        command: MediaCommand,
    },
    /// The website guard: check pages for gambling injections, defacement, hidden or outbound
    /// links and cloaking.
    Guard {
        #[command(subcommand)]
        command: GuardCommand,
    },
    /// Backups of the office's websites' content, and restores with their proof.
    Site {
        #[command(subcommand)]
        command: site::SiteCommand,
    },
    /// The key of the encrypted secrets file of a hub without a keyring.
    Secrets {
        #[command(subcommand)]
        command: SecretsCommand,
    },
}

#[derive(Subcommand)]
enum SecretsCommand {
    /// Write a new random key (mode 0600) to PATH, outside the data folder, e.g.
    /// /etc/warta/secrets.key; never replaces an existing file.
    InitKey { path: PathBuf },
    /// Check that every secret in the data folder's secrets.enc opens with the key; list them.
    Check {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        key_file: PathBuf,
    },
    /// With the hub stopped: seal every secret again under a new key (made first with
    /// init-key), e.g. when the old key may have been seen. Then start the hub with the new key.
    Rekey {
        #[arg(long)]
        data: PathBuf,
        /// The key the file is sealed with now.
        #[arg(long)]
        key_file: PathBuf,
        #[arg(long)]
        new_key_file: PathBuf,
    },
}

/// The secrets file of `data` opened with the key in `key_file` (both checked).
fn secrets_file(
    data: &std::path::Path,
    key_file: &std::path::Path,
) -> anyhow::Result<warta_secrets::FileStore> {
    if !data.join(warta_secrets::SECRETS_FILE_NAME).is_file() {
        bail!(
            "no secrets file in {} (expected {}): nothing is stored there yet",
            data.display(),
            warta_secrets::SECRETS_FILE_NAME
        );
    }
    warta_hub::check_key_outside_data(data, key_file)?;
    let key = warta_secrets::SecretsKey::read_file(key_file)?;
    Ok(warta_secrets::FileStore::open(data, &key)?)
}

#[derive(Subcommand)]
enum GuardCommand {
    /// Check each page now; one line per finding. Exit 0 when every page is clean, 1 when
    /// something was found.
    Check(guard::CheckArgs),
}

#[derive(Subcommand)]
enum MediaCommand {
    /// Write the web rendition and thumbnail of each file to --out; one line per file.
    Process(media::ProcessArgs),
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user; the password is read from standard input.
    Add {
        #[arg(long)]
        data: PathBuf,
        name: String,
        /// Comma-separated roles: reporter, editor, official, publisher, admin.
        #[arg(long, value_delimiter = ',', required = true)]
        role: Vec<String>,
        /// Read the password from standard input (the only way, so it never shows in `ps`).
        #[arg(long, required = true)]
        password_stdin: bool,
        #[arg(long)]
        display_name: Option<String>,
        #[arg(long, default_value = "")]
        unit: String,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Exit 0 when the hash chain is intact; otherwise print the first bad entry and exit 1.
    Verify {
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
enum SopCommand {
    /// Load and validate each file; print every problem.
    Check {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Print an SOP in the official table layout (steps × roles, requirements, time, output),
    /// made from its definition.
    Print {
        /// The definition file (e.g. sops/sop-a.toml).
        file: PathBuf,
        /// docx, pdf or csv.
        #[arg(long, default_value = "pdf")]
        format: warta_report::Format,
        /// Language of the labels and texts: id or en.
        #[arg(long, default_value = "id")]
        lang: warta_report::Lang,
        /// Where to write the document.
        #[arg(short, long)]
        output: PathBuf,
    },
}

fn open(data: PathBuf) -> anyhow::Result<Office> {
    open_config(HubConfig::solo(data))
}

/// The office in `config.data_dir`, which must hold one already.
fn open_config(config: HubConfig) -> anyhow::Result<Office> {
    if !config.data_dir.join("warta.db").exists() {
        bail!(
            "no Warta data in {} (expected warta.db)",
            config.data_dir.display()
        );
    }
    Office::open(config, Arc::new(SystemClock))
}

/// The office in `data`, its websites' secrets in the encrypted secrets file opened with
/// `key_file` when one is given (else the OS keyring; a folder that has the encrypted file
/// needs its key).
fn open_with_secrets(data: PathBuf, key_file: Option<PathBuf>) -> anyhow::Result<Office> {
    if !data.join("warta.db").exists() {
        bail!("no Warta data in {} (expected warta.db)", data.display());
    }
    let secrets = match key_file {
        Some(key_file) => {
            // Checked now, so a wrong path is one plain sentence rather than a failed website.
            warta_secrets::SecretsKey::read_file(&key_file)?;
            warta_hub::SecretsConfig::File { key_file }
        }
        None if data.join(warta_secrets::SECRETS_FILE_NAME).is_file() => bail!(
            "{} keeps its websites' passwords in the encrypted file {}: give its key with \
             --secrets-key-file PATH (or WARTA_SECRETS_KEY_FILE), as `warta serve` has it",
            data.display(),
            warta_secrets::SECRETS_FILE_NAME
        ),
        None => warta_hub::SecretsConfig::Keyring,
    };
    open_config(HubConfig {
        secrets,
        ..HubConfig::solo(data)
    })
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Serve(args) => serve::serve(*args),
        Command::Backup(args) => serve::backup(args),
        Command::Restore(args) => serve::restore(args),
        Command::User {
            command:
                UserCommand::Add {
                    data,
                    name,
                    role,
                    password_stdin: _,
                    display_name,
                    unit,
                },
        } => {
            let roles = role
                .iter()
                .map(|r| {
                    Role::parse(r.trim()).with_context(|| {
                        format!("unknown role \"{r}\" (use reporter, editor, official, publisher, admin)")
                    })
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            let mut password = String::new();
            std::io::stdin()
                .read_to_string(&mut password)
                .context("reading the password from standard input")?;
            let password = password.trim_end_matches(['\n', '\r']).to_string();
            std::fs::create_dir_all(&data)?;
            let office = Office::open(HubConfig::solo(data), Arc::new(SystemClock))?;
            let user = office.add_user(
                None,
                warta_api::NewUser {
                    display_name: display_name.unwrap_or_else(|| name.clone()),
                    username: name,
                    password,
                    roles,
                    unit,
                },
            )?;
            println!("added user {} (id {})", user.username, user.id);
            Ok(ExitCode::SUCCESS)
        }
        Command::Audit {
            command: AuditCommand::Verify { data },
        } => {
            let office = open(data)?;
            let report = office.verify_audit(None)?;
            if report.intact {
                println!("audit log intact: {} entries", report.entries);
                Ok(ExitCode::SUCCESS)
            } else {
                println!(
                    "audit log BROKEN at entry {}: {}",
                    report.first_bad.unwrap_or_default(),
                    report.problem.unwrap_or_default()
                );
                Ok(ExitCode::from(1))
            }
        }
        Command::Sop {
            command: SopCommand::Check { files },
        } => {
            let mut failed = false;
            for f in files {
                match warta_sop::load_file(&f) {
                    Ok(d) => println!("{}: ok ({}, {} steps)", f.display(), d.id, d.steps.len()),
                    Err(e) => {
                        failed = true;
                        eprintln!("{e}");
                    }
                }
            }
            Ok(if failed {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Sop {
            command:
                SopCommand::Print {
                    file,
                    format,
                    lang,
                    output,
                },
        } => {
            let def = warta_sop::load_file(&file)?;
            let bytes = warta_report::sop::document(&def, lang).write(format)?;
            std::fs::write(&output, &bytes)
                .with_context(|| format!("cannot write {}", output.display()))?;
            println!(
                "{}: {} ({} steps, {format}, {} bytes)",
                output.display(),
                def.id,
                def.steps.len(),
                bytes.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Media {
            command: MediaCommand::Process(args),
        } => media::process(args),
        Command::Import(args) => import::run(args),
        Command::Site { command } => site::run(command),
        Command::Guard {
            command: GuardCommand::Check(args),
        } => guard::check(args),
        Command::Secrets {
            command: SecretsCommand::Check { data, key_file },
        } => {
            let store = secrets_file(&data, &key_file)?;
            let ids = store.check()?;
            println!(
                "{}: {} {}, every one opens with this key",
                store.path().display(),
                ids.len(),
                if ids.len() == 1 { "secret" } else { "secrets" }
            );
            for id in ids {
                println!("  {id}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Secrets {
            command:
                SecretsCommand::Rekey {
                    data,
                    key_file,
                    new_key_file,
                },
        } => {
            let store = secrets_file(&data, &key_file)?;
            warta_hub::check_key_outside_data(&data, &new_key_file)?;
            let new = warta_secrets::SecretsKey::read_file(&new_key_file)?;
            let n = store.rekey(&new)?;
            println!(
                "{}: {n} secret(s) sealed again under the key in {} (key id {}). Start the hub \
                 with that key now; the old key no longer opens the file.",
                store.path().display(),
                new_key_file.display(),
                new.id()
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Secrets {
            command: SecretsCommand::InitKey { path },
        } => {
            let key = warta_secrets::SecretsKey::create_file(&path)?;
            println!(
                "wrote a new secrets key to {} (key id {}).\n\
                 Point the hub at it: secrets_key_file = \"{}\" in warta.toml, or under systemd \
                 LoadCredential={}:{} (see deploy/warta.service).\n\
                 Keep a copy of this file somewhere safe and apart from the backups: backups hold \
                 the encrypted secrets but never the key, and without the key the website \
                 passwords and keys have to be entered again.",
                path.display(),
                key.id(),
                path.display(),
                config::KEY_CREDENTIAL,
                path.display(),
            );
            Ok(ExitCode::SUCCESS)
        }
        Command::Render { file } => {
            let mut md = String::new();
            match file {
                Some(p) if p.as_os_str() != "-" => {
                    md = std::fs::read_to_string(&p)
                        .with_context(|| format!("reading {}", p.display()))?
                }
                _ => {
                    std::io::stdin().read_to_string(&mut md)?;
                }
            }
            print!("{}", warta_render::render_markdown(&md));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
