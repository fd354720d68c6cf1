//! The Warta desktop shell: starts the embedded hub on loopback (solo) or points the window at
//! the office's hub (team mode), and opens a window on the UI.
//!
//! This crate is wiring only. Everything the UI does goes over the hub's HTTP API; the commands
//! here tell the UI where that API listens and which hub was chosen (`connection.rs`), keep the
//! session token in the OS keyring, and run batch imports (`imports.rs`), which need the local
//! disk and so cannot go through the hub.
#![forbid(unsafe_code)]
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod connection;
mod imports;
mod options;
mod outbox;
mod reports;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context as _;
use tauri::{Manager, RunEvent};
use warta_hub::{HubConfig, RunningHub};

use crate::connection::{Choice, Current, TokenStore};
use crate::imports::{Imports, Session};
use crate::options::Options;
use crate::outbox::Outboxes;

/// How long the window may wait on in-flight hub requests when it closes.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Where the hub's HTTP API listens: the embedded hub (`http://127.0.0.1:41234`) or the office's.
#[tauri::command]
fn hub_url(current: tauri::State<'_, Current>) -> String {
    current.api_url.clone()
}

fn main() {
    // Logs go to stderr: tauri-driver drops a launched app's stdout, and the e2e log keeps stderr.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,warta=debug".into()),
        )
        .init();

    let options = match Options::from_env() {
        Ok(options) => options,
        Err(err) => {
            eprintln!("warta-app: {err:#}\n\n{}", options::USAGE);
            std::process::exit(2);
        }
    };
    if options.help {
        println!("{}", options::USAGE);
        return;
    }

    // The hub is started in `setup()` (it needs the app's data dir) but must be shut down from the
    // run loop's exit event; this channel hands its ownership from one closure to the other.
    let (hand_over, take_back) = mpsc::sync_channel::<RunningHub>(1);

    let app = tauri::Builder::default()
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_notification::init())
        .invoke_handler(tauri::generate_handler![
            hub_url,
            connection::connection_info,
            connection::connection_check,
            connection::connection_choose,
            connection::session_get,
            connection::session_set,
            connection::session_clear,
            imports::set_session,
            imports::import_folder,
            imports::resume_import,
            imports::cancel_import,
            imports::import_jobs,
            imports::attach_photo,
            outbox::outbox_add,
            outbox::outbox_list,
            outbox::outbox_retry,
            outbox::outbox_remove,
            outbox::outbox_wake,
            reports::save_report,
        ])
        .setup(move |app| {
            app.manage(Session::default());
            let started = data_dir(app, &options).and_then(|dir| {
                // `--demo` and `--data` are scripted runs: solo unless a choice is saved.
                let implied_solo = options.demo || options.data_dir.is_some();
                let (choice, needs_choice, forced) =
                    Current::decide(&dir, options.hub.as_deref(), implied_solo)?;
                // In office mode the embedded hub is not started: the office's hub holds the
                // data, and batch imports upload to it too.
                let hub = match choice {
                    Choice::Solo => Some(start_hub(&dir, &options)?),
                    Choice::Office { .. } => None,
                };
                Ok((dir, choice, needs_choice, forced, hub))
            });
            match started {
                Ok((dir, choice, needs_choice, forced, hub)) => {
                    // One import queue and one outbox per office hub: their rows name items
                    // of one hub.
                    let (api_url, suffix) = match (&choice, &hub) {
                        (Choice::Office { url }, _) => {
                            tracing::info!(%url, forced, "using the office hub");
                            let ns = connection::session_namespace(&choice, &dir);
                            (url.clone(), format!("-{ns}"))
                        }
                        (Choice::Solo, Some(hub)) => {
                            tracing::info!(url = %hub.base_url(), needs_choice, "embedded hub listening");
                            (hub.base_url(), String::new())
                        }
                        (Choice::Solo, None) => unreachable!("solo starts the embedded hub"),
                    };
                    let import_db = dir.join(format!("import{suffix}.db"));
                    // Without its outbox the app still works online; new items are refused.
                    match Outboxes::open(
                        &dir.join(format!("outbox{suffix}.db")),
                        &dir.join(format!("outbox-files{suffix}.db")),
                        api_url.clone(),
                    ) {
                        Ok(outboxes) => {
                            outboxes.run(app.handle().clone());
                            app.manage(outboxes);
                        }
                        Err(err) => tracing::error!("the outbox did not open: {err:#}"),
                    }
                    // Without its queue the app still works; only batch imports are refused.
                    match Imports::open(&import_db, api_url.clone()) {
                        Ok(imports) => {
                            app.manage(Arc::new(imports));
                        }
                        Err(err) => tracing::error!("the import queue did not open: {err:#}"),
                    }
                    app.manage(Current {
                        tokens: TokenStore::keyring(&connection::session_namespace(&choice, &dir)),
                        data_dir: dir,
                        choice,
                        needs_choice: needs_choice.into(),
                        forced,
                        api_url,
                    });
                    if let Some(hub) = hub {
                        // Capacity 1 and a single send: this cannot block or fail.
                        let _ = hand_over.try_send(hub);
                    }
                    exit_on_signal(app.handle().clone());
                }
                Err(err) => {
                    tracing::error!("the embedded hub did not start: {err:#}");
                    show_startup_error(app, &err);
                }
            }
            Ok(())
        })
        .build(tauri::generate_context!());

    let app = match app {
        Ok(app) => app,
        Err(err) => {
            tracing::error!("the app could not be built: {err:#}");
            eprintln!("Warta could not start: {err}");
            std::process::exit(1);
        }
    };

    app.run(move |_app, event| {
        if !matches!(event, RunEvent::Exit) {
            return;
        }
        let Ok(hub) = take_back.try_recv() else {
            return; // it never started
        };
        tauri::async_runtime::block_on(async {
            if tokio::time::timeout(SHUTDOWN_GRACE, hub.shutdown())
                .await
                .is_err()
            {
                tracing::warn!("hub shutdown timed out after {SHUTDOWN_GRACE:?}");
            }
        });
        tracing::info!("embedded hub stopped");
    });
}

/// Ctrl+C in the terminal of `make run` (or SIGTERM) closes the app through its exit event, so
/// the hub still shuts down gracefully.
fn exit_on_signal(app: tauri::AppHandle) {
    tauri::async_runtime::spawn(async move {
        #[cfg(unix)]
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut signal) => {
                    signal.recv().await;
                }
                Err(_) => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            () = terminate => {}
        }
        tracing::info!("signal received; closing");
        app.exit(0);
    });
}

/// The hub's data, the import queues and the saved connection live here: `--data DIR`, else the
/// system's app data dir.
fn data_dir(app: &tauri::App, options: &Options) -> anyhow::Result<PathBuf> {
    let data_dir: PathBuf = match &options.data_dir {
        Some(dir) => dir.clone(),
        None => app
            .path()
            .app_data_dir()
            .context("no application data directory on this system; pass --data DIR")?,
    };
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    Ok(data_dir)
}

fn start_hub(data_dir: &Path, options: &Options) -> anyhow::Result<RunningHub> {
    tracing::info!(data_dir = %data_dir.display(), demo = options.demo, "starting the embedded hub");
    let config = HubConfig {
        demo: options.demo,
        ..HubConfig::solo(data_dir)
    };
    tauri::async_runtime::block_on(warta_hub::start(config, Arc::new(warta_hub::SystemClock)))
        .with_context(|| format!("the hub could not open {}", data_dir.display()))
}

/// Replaces the UI with a plain page saying what went wrong: without its hub the UI cannot work,
/// and a window that silently shows nothing is worse than one that says why.
fn show_startup_error(app: &tauri::App, err: &anyhow::Error) {
    eprintln!("Warta could not start: {err:#}");
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let page = format!(
        "<!doctype html><meta charset=utf-8><title>Warta</title>\
         <body style=\"font:16px system-ui,sans-serif;margin:3em;max-width:50em\">\
         <h1>Warta tidak dapat dimulai</h1><p>Warta could not start.</p><pre style=\"white-space:pre-wrap\">{}</pre>",
        html_escape(&format!("{err:#}"))
    );
    match tauri::Url::parse(&format!(
        "data:text/html;charset=utf-8,{}",
        percent_encode(&page)
    )) {
        Ok(url) => {
            if let Err(nav) = window.navigate(url) {
                tracing::error!("cannot show the start-up error: {nav}");
            }
        }
        Err(parse) => tracing::error!("cannot show the start-up error: {parse}"),
    }
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}
