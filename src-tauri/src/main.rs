//! The Warta desktop shell: starts the embedded hub on loopback and opens a window on the UI.
//!
//! This crate is wiring only. Everything the UI does goes over the hub's HTTP API; the commands
//! here tell the UI where that API listens and run batch imports (`imports.rs`), which need the
//! local disk and so cannot go through the hub.
#![forbid(unsafe_code)]
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod imports;
mod options;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use anyhow::Context as _;
use tauri::{Manager, RunEvent};
use warta_hub::{HubConfig, RunningHub};

use crate::imports::{Imports, Session};
use crate::options::Options;

/// How long the window may wait on in-flight hub requests when it closes.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The embedded hub's base URL, managed once in `setup()`.
struct HubAddress(String);

/// Where the hub's HTTP API listens, e.g. `http://127.0.0.1:41234`.
#[tauri::command]
fn hub_url(hub: tauri::State<'_, HubAddress>) -> String {
    hub.0.clone()
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
        .invoke_handler(tauri::generate_handler![
            hub_url,
            imports::set_session,
            imports::import_folder,
            imports::resume_import,
            imports::cancel_import,
            imports::import_jobs,
        ])
        .setup(move |app| {
            app.manage(Session::default());
            let started = data_dir(app, &options).and_then(|dir| {
                let hub = start_hub(&dir, &options)?;
                Ok((dir, hub))
            });
            match started {
                Ok((dir, hub)) => {
                    tracing::info!(url = %hub.base_url(), "embedded hub listening");
                    app.manage(HubAddress(hub.base_url()));
                    // Without its queue the app still works; only batch imports are refused.
                    match Imports::open(&dir.join("import.db"), hub.base_url()) {
                        Ok(imports) => {
                            app.manage(Arc::new(imports));
                        }
                        Err(err) => tracing::error!("the import queue did not open: {err:#}"),
                    }
                    // Capacity 1 and a single send: this cannot block or fail.
                    let _ = hand_over.try_send(hub);
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

/// The hub's data and the import queue live here: `--data DIR`, else the system's app data dir.
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
