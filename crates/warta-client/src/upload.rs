//! Resumable uploads of large files (the hub's tus 1.0 routes under `/uploads`).
//!
//! [`HubClient::upload_resumable`] sends a file one chunk at a time (8 MiB by default: memory
//! stays bounded whatever the file's size), each with its SHA-256 so the hub refuses a chunk
//! damaged on the way. The upload's address is handed to an [`UploadState`] before any byte
//! travels, so a run that was killed, lost the network or outlived a reboot carries on from the
//! last chunk the hub confirmed (asked with `HEAD`), not from the start. Transient failures
//! (the network, a hub restarting, a busy upload) are retried with exponential backoff a bounded
//! number of times; then the error is returned and the next run resumes.

use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use warta_api::{API_PREFIX, AttachBlob, Attachment, ErrorCode};

use crate::{ClientError, ClientResult, HubClient, api_error, json, send};

const TUS_VERSION: &str = "1.0.0";

/// Where an upload's address is kept between runs (a row of the import queue, a file…).
pub trait UploadState: Send + Sync {
    /// The address of an upload of this file started earlier, if there is one.
    fn load(&self) -> Option<String>;
    /// Remembers the address of a new upload (before any of its bytes are sent), or forgets it
    /// (`None`) when the hub no longer has it.
    fn save(&self, location: Option<&str>) -> std::io::Result<()>;
}

/// Keeps the address in memory only: resumes after a dropped connection, not after a restart.
#[derive(Debug, Default)]
pub struct MemoryUploadState(Mutex<Option<String>>);

impl UploadState for MemoryUploadState {
    fn load(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    fn save(&self, location: Option<&str>) -> std::io::Result<()> {
        *self.0.lock().unwrap_or_else(|p| p.into_inner()) = location.map(str::to_string);
        Ok(())
    }
}

/// How far an upload is: bytes the hub confirmed, of the file's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UploadProgress {
    pub confirmed: u64,
    pub total: u64,
}

/// How [`HubClient::upload_resumable_with`] sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadOptions {
    /// Bytes per `PATCH` (held in memory one at a time). Default 8 MiB.
    pub chunk_size: usize,
    /// Failures in a row (network, hub errors, damaged chunks) before giving up. Default 8.
    pub max_failures: u32,
    /// Wait after the first failure; doubled after each further one, up to `max_backoff`.
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    /// Waits this long after each confirmed chunk. Zero in real use; tests slow an upload
    /// down with it to kill the process midway.
    pub pause_between_chunks: Duration,
}

impl Default for UploadOptions {
    fn default() -> Self {
        UploadOptions {
            chunk_size: 8 * 1024 * 1024,
            max_failures: 8,
            first_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            pause_between_chunks: Duration::ZERO,
        }
    }
}

/// What [`HubClient::upload_resumable`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadReport {
    /// The upload's address on the hub.
    pub location: String,
    /// Where this run started: 0, or the offset an earlier run had reached.
    pub resumed_from: u64,
    /// Bytes the hub confirmed during this run (each counted once, however often it travelled).
    pub bytes_sent: u64,
}

/// A failed chunk: what to do next.
enum Failure {
    /// Try again after a pause (the network, a damaged chunk, a hub restarting or busy).
    Transient(ClientError),
    /// The hub holds another offset: carry on from there.
    Offset(u64),
    /// The hub no longer has the upload (expired, cancelled): start a new one.
    Gone,
    /// Nothing more to try.
    Fatal(ClientError),
}

impl HubClient {
    /// Uploads the file at `path`, whose SHA-256 is `sha256` (lower-case hex), with the default
    /// [`UploadOptions`]. `progress` hears how many bytes the hub has confirmed after each chunk.
    pub async fn upload_resumable(
        &self,
        path: &Path,
        sha256: &str,
        state: &dyn UploadState,
        progress: &(dyn Fn(UploadProgress) + Sync),
    ) -> ClientResult<UploadReport> {
        self.upload_resumable_with(path, sha256, state, progress, &UploadOptions::default())
            .await
    }

    /// [`HubClient::upload_resumable`] with options.
    pub async fn upload_resumable_with(
        &self,
        path: &Path,
        sha256: &str,
        state: &dyn UploadState,
        progress: &(dyn Fn(UploadProgress) + Sync),
        options: &UploadOptions,
    ) -> ClientResult<UploadReport> {
        let file_error = |source| ClientError::File {
            path: path.to_path_buf(),
            source,
        };
        let mut file = tokio::fs::File::open(path).await.map_err(file_error)?;
        let total = file.metadata().await.map_err(file_error)?.len();
        let filename = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let chunk_size = options.chunk_size.max(1) as u64;
        let mut failures = 0u32;
        let mut restarts = 0u32;
        let mut bytes_sent = 0u64;
        // Counts a failure and waits, or gives up with it.
        let pause = |failures: &mut u32, e: ClientError| {
            *failures += 1;
            let wait = options
                .first_backoff
                .saturating_mul(1 << (*failures - 1).min(16))
                .min(options.max_backoff);
            let give_up = *failures >= options.max_failures.max(1);
            async move {
                if give_up {
                    return Err(e);
                }
                tokio::time::sleep(wait).await;
                Ok(())
            }
        };
        'upload: loop {
            // Find the upload an earlier run started, or start one.
            let known = match state.load() {
                Some(location) => loop {
                    match self.upload_offset(&location).await {
                        // Only an upload of this very file (a file edited since is another).
                        Ok(Some(found)) if found.length == total && found.sha256 == sha256 => {
                            break Some((location, found.offset));
                        }
                        Ok(_) => break None,
                        Err(e) if transient(&e) => pause(&mut failures, e).await?,
                        Err(e) => return Err(e),
                    }
                },
                None => None,
            };
            let (location, mut offset) = match known {
                Some(found) => found,
                None => {
                    state.save(None).map_err(file_error)?;
                    let location = loop {
                        match self.create_upload(total, sha256, &filename).await {
                            Ok(location) => break location,
                            Err(e) if transient(&e) => pause(&mut failures, e).await?,
                            Err(e) => return Err(e),
                        }
                    };
                    state.save(Some(&location)).map_err(file_error)?;
                    (location, 0)
                }
            };
            let resumed_from = offset;
            progress(UploadProgress {
                confirmed: offset,
                total,
            });
            while offset < total {
                let len = chunk_size.min(total - offset) as usize;
                let mut chunk = vec![0u8; len];
                file.seek(std::io::SeekFrom::Start(offset))
                    .await
                    .map_err(file_error)?;
                file.read_exact(&mut chunk).await.map_err(file_error)?;
                let last = offset + len as u64 == total;
                match self
                    .patch_chunk(&location, offset, chunk, last, total)
                    .await
                {
                    Ok(next) => {
                        bytes_sent += next.saturating_sub(offset);
                        offset = next;
                        failures = 0;
                        progress(UploadProgress {
                            confirmed: offset,
                            total,
                        });
                        if !options.pause_between_chunks.is_zero() && offset < total {
                            tokio::time::sleep(options.pause_between_chunks).await;
                        }
                    }
                    Err(Failure::Offset(current)) => {
                        // The hub knows best (a chunk whose answer was lost was stored).
                        bytes_sent += current.saturating_sub(offset);
                        failures += 1;
                        if failures >= options.max_failures.max(1) {
                            return Err(ClientError::Decode(format!(
                                "the hub keeps answering with another offset ({current})"
                            )));
                        }
                        offset = current;
                    }
                    Err(Failure::Gone) => {
                        state.save(None).map_err(file_error)?;
                        restarts += 1;
                        if restarts > 2 {
                            return Err(ClientError::Decode(
                                "the hub keeps losing this upload".into(),
                            ));
                        }
                        continue 'upload;
                    }
                    Err(Failure::Transient(e)) => {
                        pause(&mut failures, e).await?;
                        // Where did the hub get to? (Also the way back after a hub restart.)
                        match self.upload_offset(&location).await {
                            Ok(Some(found)) => {
                                bytes_sent += found.offset.saturating_sub(offset);
                                offset = found.offset;
                            }
                            Ok(None) => {
                                state.save(None).map_err(file_error)?;
                                continue 'upload;
                            }
                            Err(e) if transient(&e) => {}
                            Err(e) => return Err(e),
                        }
                    }
                    Err(Failure::Fatal(e)) => {
                        if is_whole_file_mismatch(&e) {
                            // The hub deleted the upload; the next try starts afresh.
                            state.save(None).map_err(file_error)?;
                        }
                        return Err(e);
                    }
                }
            }
            return Ok(UploadReport {
                location,
                resumed_from,
                bytes_sent,
            });
        }
    }

    /// `POST /items/{id}/attachments/blob`: attaches a file this user finished uploading.
    pub async fn attach_blob(
        &self,
        item_id: i64,
        sha256: &str,
        filename: &str,
    ) -> ClientResult<Attachment> {
        let body = AttachBlob {
            sha256: sha256.to_string(),
            filename: filename.to_string(),
        };
        let rb = self
            .request(Method::POST, &format!("/items/{item_id}/attachments/blob"))
            .json(&body);
        json(send(rb).await?).await
    }

    /// A request to an upload's address (as the hub gave it: a path, or a whole URL).
    fn upload_request(&self, method: Method, location: &str) -> RequestBuilder {
        let url = if location.starts_with("http://") || location.starts_with("https://") {
            location.to_string()
        } else {
            format!("{}{location}", self.base)
        };
        let mut rb = self
            .http
            .request(method, url)
            .header("Tus-Resumable", TUS_VERSION);
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    /// `POST /uploads`: the new upload's address.
    async fn create_upload(
        &self,
        total: u64,
        sha256: &str,
        filename: &str,
    ) -> ClientResult<String> {
        let mut meta = format!("sha256 {}", BASE64.encode(sha256));
        if !filename.is_empty() {
            meta.push_str(&format!(",filename {}", BASE64.encode(filename)));
        }
        let resp = send(
            self.upload_request(Method::POST, &format!("{API_PREFIX}/uploads"))
                .header("Upload-Length", total)
                .header("Upload-Metadata", meta)
                .timeout(Duration::from_secs(60)),
        )
        .await?;
        resp.headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .ok_or_else(|| {
                ClientError::Decode("the hub created an upload without a Location".into())
            })
    }

    /// `HEAD` an upload, or `None` when the hub does not have it.
    async fn upload_offset(&self, location: &str) -> ClientResult<Option<Found>> {
        let resp = self
            .upload_request(Method::HEAD, location)
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .map_err(ClientError::Network)?;
        match resp.status() {
            StatusCode::OK => Ok(Some(Found {
                offset: number(&resp, "upload-offset")?,
                length: number(&resp, "upload-length")?,
                sha256: declared_sha256(&resp).unwrap_or_default(),
            })),
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(None),
            _ => Err(api_error(resp).await),
        }
    }

    /// `PATCH` one chunk at `offset`: the new offset.
    async fn patch_chunk(
        &self,
        location: &str,
        offset: u64,
        chunk: Vec<u8>,
        last: bool,
        total: u64,
    ) -> Result<u64, Failure> {
        let len = chunk.len() as u64;
        let checksum = format!("sha256 {}", BASE64.encode(Sha256::digest(&chunk)));
        // Generous for a slow link (16 KiB/s), and for the hub hashing the whole file after
        // the last chunk (20 MB/s).
        let mut timeout = Duration::from_secs(60) + Duration::from_millis(len / 16);
        if last {
            timeout += Duration::from_millis(total / 20_000);
        }
        let sent = self
            .upload_request(Method::PATCH, location)
            .header("Upload-Offset", offset)
            .header("Upload-Checksum", checksum)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/offset+octet-stream",
            )
            .header(reqwest::header::CONTENT_LENGTH, len)
            .timeout(timeout)
            .body(chunk)
            .send()
            .await;
        let resp = match sent {
            Ok(resp) => resp,
            Err(e) => return Err(Failure::Transient(ClientError::Network(e))),
        };
        let status = resp.status();
        if status.is_success() {
            return number(&resp, "upload-offset").map_err(Failure::Transient);
        }
        if status == StatusCode::CONFLICT
            && let Ok(current) = number(&resp, "upload-offset")
        {
            return Err(Failure::Offset(current));
        }
        if status == StatusCode::NOT_FOUND || status == StatusCode::GONE {
            return Err(Failure::Gone);
        }
        let e = api_error(resp).await;
        Err(if transient(&e) {
            Failure::Transient(e)
        } else {
            Failure::Fatal(e)
        })
    }
}

/// What `HEAD` says about an upload.
struct Found {
    offset: u64,
    length: u64,
    /// The whole file's digest declared at creation (from `Upload-Metadata`).
    sha256: String,
}

/// The `sha256` value of an answer's `Upload-Metadata`.
fn declared_sha256(resp: &Response) -> Option<String> {
    let meta = resp.headers().get("upload-metadata")?.to_str().ok()?;
    meta.split(',').find_map(|pair| {
        let (key, value) = pair.trim().split_once(' ')?;
        (key == "sha256")
            .then(|| BASE64.decode(value.trim()).ok())
            .flatten()
            .and_then(|v| String::from_utf8(v).ok())
    })
}

fn number(resp: &Response, name: &str) -> ClientResult<u64> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
        .ok_or_else(|| ClientError::Decode(format!("the hub's answer has no {name} number")))
}

/// Worth trying again after a pause.
fn transient(e: &ClientError) -> bool {
    match e {
        ClientError::Network(_) => true,
        ClientError::Api { status, error } => {
            *status >= 500
                || *status == 408
                || *status == 429
                || matches!(
                    error.code,
                    ErrorCode::ChecksumMismatch | ErrorCode::UploadBusy | ErrorCode::Internal
                )
        }
        ClientError::File { .. } | ClientError::Decode(_) => false,
    }
}

/// The hub refused the finished file: it does not hash to the declared digest.
fn is_whole_file_mismatch(e: &ClientError) -> bool {
    matches!(e, ClientError::Api { status: 400, error }
        if error.code == ErrorCode::Validation && error.field.as_deref() == Some("sha256"))
}
