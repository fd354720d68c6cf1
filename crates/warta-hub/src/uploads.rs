//! Resumable uploads: the tus 1.0 protocol (core, and the creation, checksum, termination and
//! expiration extensions) under `/api/v1/uploads`, for large files sent from laptops on poor
//! connections. See docs/API.md for the wire format.
//!
//! An upload is a row in `uploads` (who, how long, the whole file's SHA-256, bytes confirmed)
//! and the bytes received so far in `data/uploads/<id>.part`. A chunk (one `PATCH`) is written at
//! the confirmed offset, hashed as it arrives, fsynced, checked against its `Upload-Checksum`,
//! and only then is the new offset recorded. So:
//!
//! - every offset the hub acknowledged survives a crash or a restart of the hub;
//! - a chunk cut short, refused or damaged leaves nothing behind (the file is cut back to the
//!   confirmed offset), and a chunk is never stored twice: a `PATCH` for any other offset than
//!   the confirmed one is refused (409) before a byte is written;
//! - the last chunk makes the hub hash the whole file (streamed from disk); only a file that
//!   hashes to the declared SHA-256 enters the blob store, anything else is deleted.
//!
//! One request at a time writes to an upload. A request that finds the upload busy asks the
//! writer to stop (a client that lost its connection without the hub noticing comes back
//! sooner than the hub would time out the old request), and the writer discards its unfinished
//! chunk. Abandoned uploads expire [`EXPIRE_AFTER_DAYS`] after their last chunk (injected
//! clock) and are removed by [`Office::sweep_uploads`], which runs when the hub opens its data
//! and whenever an upload is created.
//!
//! A finished upload is attached with `POST /items/{id}/attachments/blob`
//! ([`Office::attach_uploaded_blob`]), only by the user who sent the bytes: knowing a file's
//! digest is not enough to attach (and then download) it.

use std::collections::HashMap;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use rusqlite::{OptionalExtension, params};
use serde_json::json;
use sha2::{Digest, Sha256};
use tokio::sync::{Notify, OwnedMutexGuard};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use warta_api as api;

use crate::audit;
use crate::error::{HubError, HubResult};
use crate::http::Path;
use crate::office::{Caller, Office};

/// The protocol version spoken (`Tus-Resumable`).
pub const TUS_VERSION: &str = "1.0.0";
/// The tus extensions supported (`Tus-Extension`).
pub const TUS_EXTENSIONS: &str = "creation,checksum,termination,expiration";
/// An upload with no new chunk for this long is removed.
pub const EXPIRE_AFTER_DAYS: i64 = 7;
/// Unfinished uploads one user may have at once (each holds disk space on the hub).
pub const MAX_OPEN_UPLOADS_PER_USER: i64 = 20;
/// How long a request waits for another one to let go of an upload.
const LOCK_WAIT: Duration = Duration::from_secs(60);
/// A chunk whose bytes stop coming for this long is abandoned (a connection that died silently).
const IDLE_TIMEOUT: Duration = Duration::from_secs(120);

/// One resumable upload, as recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    pub id: String,
    pub user_id: i64,
    /// `Upload-Length`.
    pub length: u64,
    /// `Upload-Offset`: bytes received, fsynced and confirmed.
    pub confirmed: u64,
    /// The whole file's SHA-256, lower-case hex, as declared at creation.
    pub sha256: String,
    pub filename: String,
    pub expires_at: DateTime<Utc>,
    /// The whole file was verified and is in the blob store.
    pub completed: bool,
}

impl Upload {
    /// Where clients address it (relative to the hub's base URL).
    pub fn location(&self) -> String {
        format!("{}/uploads/{}", api::API_PREFIX, self.id)
    }
}

/// What `POST /uploads` asks for.
#[derive(Debug, Clone)]
pub struct NewUpload {
    pub length: u64,
    pub sha256: String,
    pub filename: String,
}

const COLS: &str = "id, user_id, length, confirmed, sha256, filename, expires_at, completed_at";

fn upload_row(r: &rusqlite::Row) -> rusqlite::Result<Upload> {
    Ok(Upload {
        id: r.get(0)?,
        user_id: r.get(1)?,
        length: r.get::<_, i64>(2)? as u64,
        confirmed: r.get::<_, i64>(3)? as u64,
        sha256: r.get(4)?,
        filename: r.get(5)?,
        expires_at: r.get(6)?,
        completed: r.get::<_, Option<DateTime<Utc>>>(7)?.is_some(),
    })
}

fn is_sha256_hex(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Upload ids are 32 hex digits; anything else can never name a file.
fn is_upload_id(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

// ------------------------------------------------------------------ one writer per upload

/// Who is writing to which upload, so that two requests never write to one file at once.
#[derive(Default)]
pub(crate) struct UploadLocks {
    slots: std::sync::Mutex<HashMap<String, Arc<Slot>>>,
}

#[derive(Default)]
struct Slot {
    lock: Arc<tokio::sync::Mutex<()>>,
    /// Raised by every request that wants the upload; the writer stops when it moves.
    wanted: AtomicU64,
    release: Notify,
}

/// The right to write to one upload, until dropped.
pub(crate) struct UploadGuard {
    slot: Arc<Slot>,
    seen: u64,
    _held: OwnedMutexGuard<()>,
}

impl UploadLocks {
    fn slot(&self, id: &str) -> Arc<Slot> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.entry(id.to_string()).or_default().clone()
    }

    fn forget(&self, id: &str) {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        slots.remove(id);
    }

    /// Takes the upload, asking whoever holds it to let go first.
    async fn acquire(&self, id: &str) -> HubResult<UploadGuard> {
        let slot = self.slot(id);
        slot.wanted.fetch_add(1, Ordering::SeqCst);
        slot.release.notify_waiters();
        let held = tokio::time::timeout(LOCK_WAIT, slot.lock.clone().lock_owned())
            .await
            .map_err(|_| HubError::UploadBusy)?;
        let seen = slot.wanted.load(Ordering::SeqCst);
        Ok(UploadGuard {
            slot,
            seen,
            _held: held,
        })
    }
}

impl UploadGuard {
    /// Resolves when another request asks for the upload.
    async fn release_requested(&self) {
        loop {
            // Created before the check, so a request made in between is not missed.
            let notified = self.slot.release.notified();
            if self.slot.wanted.load(Ordering::SeqCst) != self.seen {
                return;
            }
            notified.await;
        }
    }
}

// ------------------------------------------------------------------ the office's side

impl Office {
    fn uploads_dir(&self) -> PathBuf {
        self.config.data_dir.join("uploads")
    }

    fn part_path(&self, id: &str) -> PathBuf {
        self.uploads_dir().join(format!("{id}.part"))
    }

    /// Creates an upload of `new.length` bytes (refused before any byte when over the office's
    /// attachment limit).
    pub fn create_upload(&self, caller: &Caller, new: NewUpload) -> HubResult<Upload> {
        self.check_can_upload_blob(caller)?;
        if !is_sha256_hex(&new.sha256) {
            return Err(HubError::Protocol {
                status: 400,
                header: "Upload-Metadata",
                message: "Upload-Metadata must carry the whole file's sha256 (64 lower-case hex \
                          digits, base64-encoded like every metadata value)"
                    .into(),
            });
        }
        let filename = if new.filename.is_empty() {
            String::new()
        } else {
            warta_media::validate_filename(&new.filename).map_err(crate::media_error)?
        };
        let limit = self.media_settings()?.max_attachment_bytes;
        if new.length > limit {
            return Err(HubError::TooLarge { limit });
        }
        self.sweep_uploads()?;
        let now = self.now();
        let id = hex::encode(rand::random::<[u8; 16]>());
        {
            let conn = self.db();
            let open: i64 = conn.query_row(
                "SELECT count(*) FROM uploads WHERE user_id = ?1 AND completed_at IS NULL",
                [caller.id],
                |r| r.get(0),
            )?;
            if open >= MAX_OPEN_UPLOADS_PER_USER {
                return Err(HubError::validation(
                    "uploads",
                    format!(
                        "you have {open} unfinished uploads; finish or cancel some before starting another"
                    ),
                ));
            }
            conn.execute(
                "INSERT INTO uploads (id, user_id, length, confirmed, sha256, filename, created_at, expires_at)
                 VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6, ?7)",
                params![
                    id,
                    caller.id,
                    new.length as i64,
                    new.sha256,
                    filename,
                    now,
                    now + chrono::Duration::days(EXPIRE_AFTER_DAYS)
                ],
            )?;
        }
        // The row first: a crash before the file exists leaves an upload whose file is
        // created (empty) by its first chunk.
        let dir = self.uploads_dir();
        let io = |e: std::io::Error| HubError::Internal(anyhow::anyhow!("creating upload: {e}"));
        std::fs::create_dir_all(&dir).map_err(io)?;
        std::fs::File::create(self.part_path(&id)).map_err(io)?;
        std::fs::File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(io)?;
        if new.length == 0 {
            return self.complete_upload(caller, &id);
        }
        self.load_upload(caller, &id)
    }

    /// The caller's upload `id`. Another user's, an expired or an unknown one: 404.
    pub fn upload_status(&self, caller: &Caller, id: &str) -> HubResult<Upload> {
        self.load_upload(caller, id)
    }

    fn load_upload(&self, caller: &Caller, id: &str) -> HubResult<Upload> {
        if !is_upload_id(id) {
            return Err(HubError::NotFound("upload"));
        }
        let now = self.now();
        let up = self
            .db()
            .query_row(
                &format!("SELECT {COLS} FROM uploads WHERE id = ?1"),
                [id],
                upload_row,
            )
            .optional()?
            .ok_or(HubError::NotFound("upload"))?;
        if up.user_id != caller.id || up.expires_at <= now {
            return Err(HubError::NotFound("upload"));
        }
        Ok(up)
    }

    /// Before a chunk is written (with the upload held): the file is made to hold exactly the
    /// confirmed bytes. Longer (a chunk a killed hub left half-written): cut back. Shorter (the
    /// disk lost bytes the database still counts): the offset comes down to what is there.
    fn prepare_write(&self, caller: &Caller, id: &str) -> HubResult<Upload> {
        let mut up = self.load_upload(caller, id)?;
        if up.completed {
            return Ok(up);
        }
        let path = self.part_path(id);
        let io = |e: std::io::Error| HubError::Internal(anyhow::anyhow!("upload file: {e}"));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        if len > up.confirmed {
            file.set_len(up.confirmed).map_err(io)?;
            file.sync_all().map_err(io)?;
        } else if len < up.confirmed {
            tracing::warn!(
                upload = id,
                confirmed = up.confirmed,
                on_disk = len,
                "upload file is shorter than its confirmed offset; resuming from what is on disk"
            );
            self.db().execute(
                "UPDATE uploads SET confirmed = ?2 WHERE id = ?1",
                params![id, len as i64],
            )?;
            up.confirmed = len;
        }
        Ok(up)
    }

    /// Records a chunk that was written and fsynced.
    fn confirm_chunk(&self, id: &str, confirmed: u64) -> HubResult<()> {
        let now = self.now();
        self.db().execute(
            "UPDATE uploads SET confirmed = ?2, expires_at = ?3 WHERE id = ?1",
            params![
                id,
                confirmed as i64,
                now + chrono::Duration::days(EXPIRE_AFTER_DAYS)
            ],
        )?;
        Ok(())
    }

    /// All bytes are here: hashes the file and moves it into the blob store if it is the file
    /// that was announced, otherwise deletes the upload.
    fn complete_upload(&self, caller: &Caller, id: &str) -> HubResult<Upload> {
        let up = self.load_upload(caller, id)?;
        let path = self.part_path(id);
        match self.blobs.adopt_file(&path, &up.sha256) {
            Ok(_) => {}
            Err(e @ warta_media::MediaError::DigestMismatch { .. }) => {
                self.delete_upload(id);
                let e = HubError::validation(
                    "sha256",
                    format!("{e}; the upload was discarded, start it again"),
                );
                let now = self.now();
                audit::append(
                    &self.db(),
                    now,
                    &caller.actor(),
                    "refused",
                    None,
                    json!({ "request": "upload.complete", "filename": up.filename,
                            "sha256": up.sha256, "reason": e.to_string() }),
                )?;
                return Err(e);
            }
            Err(e) => return Err(HubError::Internal(anyhow::Error::new(e))),
        }
        let now = self.now();
        let conn = self.db();
        conn.execute(
            "UPDATE uploads SET confirmed = length, completed_at = ?2, expires_at = ?3 WHERE id = ?1",
            params![id, now, now + chrono::Duration::days(EXPIRE_AFTER_DAYS)],
        )?;
        // The whole file came from the caller and hashed right: they hold it.
        crate::attachments::grant_blob(&conn, &up.sha256, caller.id, now)?;
        drop(conn);
        self.upload_locks.forget(id);
        self.load_upload(caller, id)
    }

    /// Removes an upload's row and file.
    fn delete_upload(&self, id: &str) {
        if let Err(e) = self.db().execute("DELETE FROM uploads WHERE id = ?1", [id]) {
            tracing::error!(upload = id, "deleting upload row: {e}");
        }
        let _ = std::fs::remove_file(self.part_path(id));
        self.upload_locks.forget(id);
    }

    /// Removes expired uploads and `.part` files no upload owns (left by a crash). Returns how
    /// many uploads expired.
    pub fn sweep_uploads(&self) -> HubResult<usize> {
        let now = self.now();
        let expired: Vec<String> = crate::db::all(
            &self.db(),
            "DELETE FROM uploads WHERE expires_at <= ?1 RETURNING id",
            [now],
            |r| r.get(0),
        )?;
        for id in &expired {
            let _ = std::fs::remove_file(self.part_path(id));
            self.upload_locks.forget(id);
        }
        if let Ok(entries) = std::fs::read_dir(self.uploads_dir()) {
            let known: std::collections::HashSet<String> =
                crate::db::all(&self.db(), "SELECT id FROM uploads", [], |r| r.get(0))?
                    .into_iter()
                    .collect();
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if let Some(id) = name.strip_suffix(".part")
                    && !known.contains(id)
                {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        Ok(expired.len())
    }

    /// Cancels (tus termination) the caller's upload: its bytes are deleted.
    pub fn cancel_upload(&self, caller: &Caller, id: &str) -> HubResult<()> {
        self.load_upload(caller, id)?;
        self.delete_upload(id);
        Ok(())
    }

    /// Attaches a file the caller finished uploading, processed like an original sent whole
    /// (type told from the bytes, renditions, video probe, document checks).
    pub fn attach_uploaded_blob(
        &self,
        caller: &Caller,
        item_id: i64,
        req: api::AttachBlob,
    ) -> HubResult<api::Attachment> {
        self.check_can_attach(caller, item_id)?;
        let filename = warta_media::validate_filename(&req.filename).map_err(crate::media_error)?;
        if !is_sha256_hex(&req.sha256) {
            return Err(HubError::validation(
                "sha256",
                "give the file's SHA-256 as 64 lower-case hex digits",
            ));
        }
        let now = self.now();
        let uploaded: bool = self.db().query_row(
            "SELECT count(*) > 0 FROM uploads
             WHERE user_id = ?1 AND sha256 = ?2 AND completed_at IS NOT NULL AND expires_at > ?3",
            params![caller.id, req.sha256, now],
            |r| r.get(0),
        )?;
        let path = self.blob_path(&req.sha256)?;
        let size = match std::fs::metadata(&path) {
            Ok(m) if uploaded && m.is_file() => m.len(),
            _ => {
                return Err(HubError::MissingBlob(format!(
                    "no finished upload of {} by you is on the hub; upload it with /uploads first",
                    req.sha256
                )));
            }
        };
        let blob = warta_media::StoredBlob {
            sha256: req.sha256,
            size,
            head: Vec::new(),
        };
        self.record_attachment(caller, item_id, &filename, &blob)
    }
}

/// Writes one chunk (a `PATCH` body) to the caller's upload, returning the upload after it.
pub(crate) async fn write_chunk(
    office: Arc<Office>,
    caller: Caller,
    id: String,
    chunk: Chunk,
    body: Body,
) -> HubResult<Upload> {
    if !is_upload_id(&id) {
        return Err(HubError::NotFound("upload"));
    }
    let guard = office.upload_locks.acquire(&id).await?;
    let up = {
        let (o, c, id) = (office.clone(), caller.clone(), id.clone());
        run_blocking(move || o.prepare_write(&c, &id)).await?
    };
    let current = if up.completed {
        up.length
    } else {
        up.confirmed
    };
    if chunk.offset != current {
        return Err(HubError::OffsetMismatch { current });
    }
    if up.completed {
        // Nothing left to send: an empty PATCH at the end is answered, anything else refused.
        return match chunk.content_length {
            Some(0) => Ok(up),
            _ => Err(beyond_length(up.length)),
        };
    }
    let room = up.length - up.confirmed;
    if chunk.content_length.is_some_and(|n| n > room) {
        return Err(beyond_length(up.length));
    }
    let path = office.part_path(&id);
    let written = match receive(path.clone(), &guard, up.confirmed, room, &chunk, body).await {
        Ok(n) => n,
        Err(e) => {
            // Nothing of a chunk that was not confirmed stays.
            let confirmed = up.confirmed;
            let cut = tokio::task::spawn_blocking(move || {
                let file = std::fs::OpenOptions::new().write(true).open(&path)?;
                file.set_len(confirmed)?;
                file.sync_all()
            })
            .await;
            if let Ok(Err(io)) = cut {
                tracing::error!(upload = id, "cutting back an unconfirmed chunk: {io}");
            }
            return Err(e);
        }
    };
    let confirmed = up.confirmed + written;
    let (o, c) = (office.clone(), caller.clone());
    let done = run_blocking(move || {
        if confirmed == up.length {
            o.complete_upload(&c, &id)
        } else {
            o.confirm_chunk(&id, confirmed)?;
            o.load_upload(&c, &id)
        }
    })
    .await;
    drop(guard);
    done
}

fn beyond_length(length: u64) -> HubError {
    HubError::Protocol {
        status: 413,
        header: "Upload-Length",
        message: format!("the chunk goes beyond the upload's length of {length} bytes"),
    }
}

/// Streams the body to the file at `start`: the async side reads frames and hands them, a few
/// at a time (memory stays bounded however fast the client sends), to one blocking writer that
/// hashes, writes and finally fsyncs. Checks the checksum; returns the bytes written.
async fn receive(
    path: PathBuf,
    guard: &UploadGuard,
    start: u64,
    room: u64,
    chunk: &Chunk,
    body: Body,
) -> HubResult<u64> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<bytes::Bytes>(4);
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<([u8; 32], u64)> {
        use std::io::{Seek, Write};
        let mut file = std::fs::OpenOptions::new().write(true).open(&path)?;
        file.seek(SeekFrom::Start(start))?;
        let mut hasher = Sha256::new();
        let mut written = 0u64;
        while let Some(data) = rx.blocking_recv() {
            hasher.update(&data);
            file.write_all(&data)?;
            written += data.len() as u64;
        }
        file.sync_data()?;
        Ok((hasher.finalize().into(), written))
    });
    let mut stream = body.into_data_stream();
    let mut received: u64 = 0;
    let released = guard.release_requested();
    tokio::pin!(released);
    let mut refused = None;
    loop {
        let next = tokio::select! {
            next = tokio::time::timeout(IDLE_TIMEOUT, stream.next()) => next,
            () = &mut released => {
                // A newer request for this upload took over (this connection is most likely
                // dead); the chunk is discarded.
                refused = Some(HubError::UploadBusy);
                break;
            }
        };
        let data = match next {
            Err(_) => {
                refused = Some(HubError::Protocol {
                    status: 408,
                    header: "Content-Length",
                    message: "the chunk stopped arriving; it was discarded".into(),
                });
                break;
            }
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                refused = Some(HubError::Protocol {
                    status: 400,
                    header: "Content-Length",
                    message: format!("the chunk was cut short ({e}); it was discarded"),
                });
                break;
            }
            Ok(Some(Ok(data))) => data,
        };
        received += data.len() as u64;
        if received > room {
            refused = Some(beyond_length(start + room));
            break;
        }
        if tx.send(data).await.is_err() {
            // The writer stopped: its error is below.
            break;
        }
    }
    drop(tx);
    let written = writer
        .await
        .map_err(|e| HubError::Internal(anyhow::anyhow!("upload writer failed: {e}")))?
        .map_err(|e| HubError::Internal(anyhow::anyhow!("writing upload file: {e}")));
    if let Some(e) = refused {
        return Err(e);
    }
    let (digest, written) = written?;
    if chunk.checksum.is_some_and(|expected| digest != expected) {
        return Err(HubError::ChecksumMismatch);
    }
    Ok(written)
}

/// Runs blocking hub work (SQLite, hashing a whole file) off the async executor.
async fn run_blocking<T: Send + 'static>(
    f: impl FnOnce() -> HubResult<T> + Send + 'static,
) -> HubResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| HubError::Internal(anyhow::anyhow!("worker failed: {e}")))?
}

// ------------------------------------------------------------------ HTTP (tus 1.0)

/// What a `PATCH` says about its body.
#[derive(Debug, Clone)]
pub(crate) struct Chunk {
    offset: u64,
    content_length: Option<u64>,
    checksum: Option<[u8; 32]>,
}

type Hub = State<Arc<Office>>;

/// The `/uploads` routes, merged into the API router (and so into the OpenAPI document).
pub(crate) fn routes() -> OpenApiRouter<Arc<Office>> {
    OpenApiRouter::new()
        .routes(routes!(create))
        .routes(routes!(status, patch, cancel))
        .layer(axum::middleware::map_response(tus_resumable))
}

/// Every answer of these routes names the protocol version and what the hub supports (tus
/// discovery by `OPTIONS` is not offered: the CORS layer answers every `OPTIONS` request).
async fn tus_resumable(mut res: Response) -> Response {
    let h = res.headers_mut();
    h.insert(
        HeaderName::from_static("tus-resumable"),
        HeaderValue::from_static(TUS_VERSION),
    );
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    h.insert("tus-checksum-algorithm", HeaderValue::from_static("sha256"));
    res
}

fn hval(s: impl ToString) -> HeaderValue {
    HeaderValue::from_str(&s.to_string()).expect("numbers and dates are valid header values")
}

fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// An error as JSON, with the offset the hub holds when that is what went wrong.
fn refusal(e: HubError) -> Response {
    let offset = match &e {
        HubError::OffsetMismatch { current } => Some(*current),
        _ => None,
    };
    let mut res = e.into_response();
    if let Some(offset) = offset {
        res.headers_mut().insert("upload-offset", hval(offset));
    }
    res
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// tus: every request says which protocol version it speaks. Missing: a malformed request
/// (400); another version: 412, as tus says.
fn check_version(headers: &HeaderMap) -> HubResult<()> {
    match header_str(headers, "tus-resumable") {
        Some(TUS_VERSION) => Ok(()),
        None | Some("") => Err(HubError::Protocol {
            status: 400,
            header: "Tus-Resumable",
            message: format!("send \"Tus-Resumable: {TUS_VERSION}\" with upload requests"),
        }),
        Some(v) => Err(HubError::Protocol {
            status: 412,
            header: "Tus-Resumable",
            message: format!("this hub speaks tus {TUS_VERSION}, not {v:?}"),
        }),
    }
}

fn number_header(headers: &HeaderMap, name: &'static str, display: &'static str) -> HubResult<u64> {
    let bad = || HubError::Protocol {
        status: 400,
        header: display,
        message: format!("{display} must be a whole number of bytes"),
    };
    header_str(headers, name)
        .ok_or_else(bad)?
        .parse::<u64>()
        .map_err(|_| bad())
}

/// `Upload-Metadata: key base64, key base64`. Unknown keys are ignored.
fn parse_metadata(raw: &str) -> HubResult<HashMap<String, String>> {
    let bad = |why: &str| HubError::Protocol {
        status: 400,
        header: "Upload-Metadata",
        message: format!("Upload-Metadata is malformed: {why}"),
    };
    let mut out = HashMap::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let mut parts = pair.splitn(2, ' ');
        let key = parts.next().unwrap_or_default();
        let value = match parts.next().map(str::trim) {
            Some(v) if !v.is_empty() => {
                let bytes = BASE64
                    .decode(v)
                    .map_err(|_| bad(&format!("the value of {key:?} is not base64")))?;
                String::from_utf8(bytes)
                    .map_err(|_| bad(&format!("the value of {key:?} is not UTF-8 text")))?
            }
            _ => String::new(),
        };
        out.insert(key.to_string(), value);
    }
    Ok(out)
}

fn parse_checksum(raw: &str) -> HubResult<[u8; 32]> {
    let bad = |message: String| HubError::Protocol {
        status: 400,
        header: "Upload-Checksum",
        message,
    };
    let (alg, value) = raw
        .split_once(' ')
        .ok_or_else(|| bad("Upload-Checksum must be \"sha256 <base64 digest>\"".into()))?;
    if !alg.eq_ignore_ascii_case("sha256") {
        return Err(bad(format!(
            "checksums with {alg:?} are not supported; use sha256"
        )));
    }
    BASE64
        .decode(value.trim())
        .ok()
        .and_then(|d| <[u8; 32]>::try_from(d).ok())
        .ok_or_else(|| bad("the sha256 checksum must be 32 bytes in base64".into()))
}

/// Starts a resumable upload (tus creation): `Upload-Length` and `Upload-Metadata` with the whole
/// file's `sha256` (and optionally `filename`), each value base64-encoded.
#[utoipa::path(post, path = "/uploads", tag = "uploads", security(("bearer" = [])),
    params(
        ("Tus-Resumable" = String, Header, description = "`1.0.0`; none: 400, another version: 412"),
        ("Upload-Length" = u64, Header, description = "Size of the whole file in bytes"),
        ("Upload-Metadata" = String, Header, description = "`sha256 <base64 of the hex SHA-256>,filename <base64>`; sha256 is required"),
    ),
    responses(
        (status = 201, description = "Created; send the bytes with PATCH to `Location`",
            headers(("Location" = String, description = "`/api/v1/uploads/{id}`"),
                    ("Upload-Offset" = u64, description = "0"),
                    ("Upload-Expires" = String, description = "When it expires without a new chunk"))),
        (status = 400, description = "A header is missing or malformed (`field` names it), or too many unfinished uploads", body = api::ApiError),
        (status = 401, description = "Sign in first", body = api::ApiError),
        (status = 403, description = "Only reporters and editors upload", body = api::ApiError),
        (status = 412, description = "Another `Tus-Resumable` version than 1.0.0", body = api::ApiError),
        (status = 413, description = "Larger than the office's limit (`too_large`); refused before any byte", body = api::ApiError),
    ))]
async fn create(State(o): Hub, c: Caller, headers: HeaderMap) -> Response {
    let result = async {
        // Malformed headers first (400), then the protocol version (412).
        if headers.contains_key("upload-defer-length") {
            return Err(HubError::Protocol {
                status: 400,
                header: "Upload-Defer-Length",
                message: "give Upload-Length; uploads of unknown length are not supported".into(),
            });
        }
        let length = number_header(&headers, "upload-length", "Upload-Length")?;
        let meta = parse_metadata(header_str(&headers, "upload-metadata").unwrap_or_default())?;
        check_version(&headers)?;
        let new = NewUpload {
            length,
            sha256: meta.get("sha256").cloned().unwrap_or_default(),
            filename: meta.get("filename").cloned().unwrap_or_default(),
        };
        run_blocking(move || o.create_upload(&c, new)).await
    }
    .await;
    match result {
        Ok(up) => {
            let mut res = StatusCode::CREATED.into_response();
            let h = res.headers_mut();
            h.insert(header::LOCATION, hval(up.location()));
            h.insert("upload-offset", hval(up.confirmed));
            h.insert("upload-expires", hval(http_date(up.expires_at)));
            res
        }
        Err(e) => refusal(e),
    }
}

/// How many bytes of the upload the hub holds (`Upload-Offset`): where to carry on.
#[utoipa::path(head, path = "/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path, description = "Upload id"), ("Tus-Resumable" = String, Header, description = "`1.0.0`; none: 400, another version: 412")),
    responses(
        (status = 200, description = "The upload",
            headers(("Upload-Offset" = u64, description = "Bytes confirmed (the length once complete)"),
                    ("Upload-Length" = u64, description = "Size of the whole file"),
                    ("Upload-Metadata" = String, description = "As given at creation"),
                    ("Upload-Expires" = String, description = "When it expires without a new chunk"))),
        (status = 401, description = "Sign in first"),
        (status = 404, description = "No such upload of the caller's (or it expired)"),
        (status = 400, description = "`Tus-Resumable` missing"),
        (status = 412, description = "Another `Tus-Resumable` version than 1.0.0"),
    ))]
async fn status(State(o): Hub, c: Caller, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let result = async {
        check_version(&headers)?;
        run_blocking(move || o.upload_status(&c, &id)).await
    }
    .await;
    match result {
        Ok(up) => {
            let mut res = StatusCode::OK.into_response();
            let h = res.headers_mut();
            h.insert(
                "upload-offset",
                hval(if up.completed {
                    up.length
                } else {
                    up.confirmed
                }),
            );
            h.insert("upload-length", hval(up.length));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            h.insert("upload-expires", hval(http_date(up.expires_at)));
            let mut meta = format!("sha256 {}", BASE64.encode(&up.sha256));
            if !up.filename.is_empty() {
                meta.push_str(&format!(",filename {}", BASE64.encode(&up.filename)));
            }
            h.insert("upload-metadata", hval(meta));
            res
        }
        Err(e) => refusal(e),
    }
}

/// One chunk of the file at `Upload-Offset` (the offset HEAD gave), with the chunk's
/// `Upload-Checksum`. The last chunk makes the hub check the whole file's SHA-256.
#[utoipa::path(patch, path = "/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "Upload id"),
        ("Tus-Resumable" = String, Header, description = "`1.0.0`; none: 400, another version: 412"),
        ("Upload-Offset" = u64, Header, description = "Where this chunk starts: the upload's current offset"),
        ("Upload-Checksum" = Option<String>, Header, description = "`sha256 <base64 digest of this chunk>`"),
    ),
    request_body(description = "The chunk", content(
        (inline(crate::openapi::Binary) = "application/offset+octet-stream"),
        (inline(crate::openapi::Binary) = "application/octet-stream"),
    )),
    responses(
        (status = 204, description = "Stored and confirmed",
            headers(("Upload-Offset" = u64, description = "The new offset"),
                    ("Upload-Expires" = String, description = "When it expires without a new chunk"))),
        (status = 400, description = "A header is malformed, the chunk was cut short, or the whole file is not the declared one (`field: sha256`; the upload is deleted)", body = api::ApiError),
        (status = 401, description = "Sign in first", body = api::ApiError),
        (status = 404, description = "No such upload of the caller's (or it expired)", body = api::ApiError),
        (status = 408, description = "The chunk stopped arriving; discarded", body = api::ApiError),
        (status = 409, description = "`offset_mismatch`: not the current offset (in `Upload-Offset`); nothing written", body = api::ApiError,
            headers(("Upload-Offset" = u64, description = "The hub's offset"))),
        (status = 412, description = "Another `Tus-Resumable` version than 1.0.0", body = api::ApiError),
        (status = 413, description = "The chunk goes beyond `Upload-Length`", body = api::ApiError),
        (status = 415, description = "Neither `application/offset+octet-stream` nor `application/octet-stream`", body = api::ApiError),
        (status = 423, description = "`upload_busy`: another request still holds the upload, or took it over from this one (the chunk is discarded)", body = api::ApiError),
        (status = 460, description = "`checksum_mismatch`: the chunk does not match `Upload-Checksum`; discarded", body = api::ApiError),
    ))]
async fn patch(
    State(o): Hub,
    c: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let result = async {
        let content_type = header_str(&headers, "content-type").unwrap_or_default();
        // tus says offset+octet-stream; plain octet-stream is taken too (generic HTTP tools).
        if !content_type.eq_ignore_ascii_case("application/offset+octet-stream")
            && !content_type.eq_ignore_ascii_case("application/octet-stream")
        {
            return Err(HubError::Protocol {
                status: 415,
                header: "Content-Type",
                message: "send chunks as \"Content-Type: application/offset+octet-stream\"".into(),
            });
        }
        let chunk = Chunk {
            offset: number_header(&headers, "upload-offset", "Upload-Offset")?,
            content_length: header_str(&headers, "content-length").and_then(|v| v.parse().ok()),
            checksum: header_str(&headers, "upload-checksum")
                .map(parse_checksum)
                .transpose()?,
        };
        check_version(&headers)?;
        write_chunk(o, c, id, chunk, body).await
    }
    .await;
    match result {
        Ok(up) => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            let h = res.headers_mut();
            h.insert(
                "upload-offset",
                hval(if up.completed {
                    up.length
                } else {
                    up.confirmed
                }),
            );
            h.insert("upload-expires", hval(http_date(up.expires_at)));
            res
        }
        Err(e) => refusal(e),
    }
}

/// Cancels the upload (tus termination); the bytes received are deleted.
#[utoipa::path(delete, path = "/uploads/{id}", tag = "uploads", security(("bearer" = [])),
    params(("id" = String, Path, description = "Upload id"), ("Tus-Resumable" = String, Header, description = "`1.0.0`; none: 400, another version: 412")),
    responses(
        (status = 204, description = "Cancelled"),
        (status = 400, description = "`Tus-Resumable` missing", body = api::ApiError),
        (status = 401, description = "Sign in first", body = api::ApiError),
        (status = 404, description = "No such upload of the caller's (or it expired)", body = api::ApiError),
        (status = 412, description = "Another `Tus-Resumable` version than 1.0.0", body = api::ApiError),
        (status = 423, description = "`upload_busy`: another request still holds the upload", body = api::ApiError),
    ))]
async fn cancel(State(o): Hub, c: Caller, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let result = async {
        check_version(&headers)?;
        if !is_upload_id(&id) {
            return Err(HubError::NotFound("upload"));
        }
        let _guard = o.upload_locks.acquire(&id).await?;
        run_blocking(move || o.cancel_upload(&c, &id)).await
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => refusal(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_values_are_base64() {
        let m = parse_metadata("filename dmlkZW8ubXA0,sha256 YWJj, is_confidential").unwrap();
        assert_eq!(m["filename"], "video.mp4");
        assert_eq!(m["sha256"], "abc");
        assert_eq!(m["is_confidential"], "");
        assert!(parse_metadata("filename !!!").is_err());
    }

    #[test]
    fn checksums_are_sha256_only() {
        let digest = Sha256::digest(b"hello");
        let header = format!("sha256 {}", BASE64.encode(digest));
        assert_eq!(
            parse_checksum(&header).unwrap().as_slice(),
            digest.as_slice()
        );
        assert!(parse_checksum("md5 XUFAKrxLKna5cZ2REBfFkg==").is_err());
        assert!(parse_checksum("sha256 YWJj").is_err());
        assert!(parse_checksum("sha256").is_err());
    }
}
