//! The anchor the issue names: a bare axum + rusqlite (WAL) server that creates a row per POST,
//! with no authentication, permissions, validation or audit. Run as its own process so that it
//! competes for the same two cores the hub does.

use std::path::Path;
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use rusqlite::Connection;
use serde_json::{Value, json};

type Db = Arc<Mutex<Connection>>;

async fn create(State(db): State<Db>, Json(body): Json<Value>) -> Json<Value> {
    let title = body["title"].as_str().unwrap_or_default().to_string();
    let text = body["body"].as_str().unwrap_or_default().to_string();
    let id = tokio::task::spawn_blocking(move || {
        let conn = db.lock().unwrap_or_else(|e| e.into_inner());
        conn.execute(
            "INSERT INTO items (title, body, created_at) VALUES (?1, ?2, datetime('now'))",
            (&title, &text),
        )
        .map(|_| conn.last_insert_rowid())
    })
    .await
    .ok()
    .and_then(Result::ok)
    .unwrap_or(-1);
    Json(json!({ "id": id }))
}

/// Serves on `listen` until killed, printing `listening on ADDR` once ready.
pub fn serve(listen: &str, db_path: &Path) -> anyhow::Result<()> {
    let conn = Connection::open(db_path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.execute_batch(
        "CREATE TABLE IF NOT EXISTS items (id INTEGER PRIMARY KEY, title TEXT NOT NULL,
         body TEXT NOT NULL, created_at TEXT NOT NULL)",
    )?;
    let db: Db = Arc::new(Mutex::new(conn));
    let app = Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/items", post(create))
        .with_state(db);
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        println!("listening on {}", listener.local_addr()?);
        axum::serve(listener, app).await?;
        anyhow::Ok(())
    })
}
