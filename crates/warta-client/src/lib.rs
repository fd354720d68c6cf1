//! The Rust client of the hub's HTTP API (`/api/v1`, see `docs/API.md`).
//!
//! Typed, async methods over the wire types of `warta-api`; nothing here defines a JSON shape.
//! Used by batch import on the reporter's laptop (`warta-import`) and the `warta` CLI; the same
//! client serves an office hub in team mode.
//!
//! Files are streamed from disk into request bodies, never read whole into memory.
#![forbid(unsafe_code)]

mod events;
mod upload;
pub use events::{EventStream, SseMessage, SseParser};

use std::path::{Path, PathBuf};

pub use upload::{MemoryUploadState, UploadOptions, UploadProgress, UploadReport, UploadState};

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;
use tokio_util::io::ReaderStream;
use warta_api::{
    API_PREFIX, ActionRequest, ApiError, Attachment, ErrorCode, ItemContent, ItemDetail,
    LoginRequest, LoginResponse, MediaSettings, PreparedPhoto, User,
};

/// Why a request to the hub did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The hub answered with a non-2xx status; switch on `error.code`, never on the message.
    #[error("the hub refused the request ({status}): {}", .error.message)]
    Api { status: u16, error: Box<ApiError> },
    /// The hub could not be reached, or the connection broke.
    #[error("cannot reach the hub: {0}")]
    Network(#[source] reqwest::Error),
    /// A local file to upload could not be read.
    #[error("cannot read {}: {source}", .path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A 2xx answer whose body is not what the API promises (a hub of another version?).
    #[error("unexpected answer from the hub: {0}")]
    Decode(String),
}

impl ClientError {
    /// The hub's error code, when the hub answered.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            ClientError::Api { error, .. } => Some(error.code),
            _ => None,
        }
    }
}

pub type ClientResult<T> = Result<T, ClientError>;

/// Whether `PUT /blobs/{sha256}` stored new bytes or found them already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobPut {
    Created,
    AlreadyStored,
}

/// A client of one hub, optionally signed in. Cheap to clone (the connection pool is shared).
#[derive(Debug, Clone)]
pub struct HubClient {
    http: reqwest::Client,
    /// `http://host:port`, without a trailing slash.
    base: String,
    token: Option<String>,
}

impl HubClient {
    /// A client of the hub at `base_url` (e.g. `http://127.0.0.1:8080`), not signed in.
    pub fn new(base_url: impl Into<String>) -> Self {
        let base = base_url.into().trim_end_matches('/').to_string();
        HubClient {
            http: reqwest::Client::builder()
                .user_agent(concat!("warta-client/", env!("CARGO_PKG_VERSION")))
                // A hub that cannot be reached should say so, not hang a job.
                .connect_timeout(std::time::Duration::from_secs(20))
                .build()
                // Only fails when the TLS backend cannot initialise, which is a build defect.
                .expect("the HTTP client must build"),
            base,
            token: None,
        }
    }

    /// The same client acting with the session token `token`.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(token.into());
        self
    }

    pub fn base_url(&self) -> &str {
        &self.base
    }

    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    fn request(&self, method: Method, path: &str) -> RequestBuilder {
        let mut rb = self
            .http
            .request(method, format!("{}{API_PREFIX}{path}", self.base));
        if let Some(t) = &self.token {
            rb = rb.bearer_auth(t);
        }
        rb
    }

    /// `POST /auth/login`. Use [`HubClient::with_token`] with the returned token.
    pub async fn login(&self, username: &str, password: &str) -> ClientResult<LoginResponse> {
        let body = LoginRequest {
            username: username.to_string(),
            password: password.to_string(),
        };
        json(send(self.request(Method::POST, "/auth/login").json(&body)).await?).await
    }

    /// `GET /me`: the signed-in user.
    pub async fn me(&self) -> ClientResult<User> {
        json(send(self.request(Method::GET, "/me")).await?).await
    }

    /// `GET /settings/media`: renditions, originals policy and limits of the office.
    pub async fn media_settings(&self) -> ClientResult<MediaSettings> {
        json(send(self.request(Method::GET, "/settings/media")).await?).await
    }

    /// `POST /items`: a new item at the SOP's first step (reporters).
    pub async fn create_item(&self, content: &ItemContent) -> ClientResult<ItemDetail> {
        json(send(self.request(Method::POST, "/items").json(content)).await?).await
    }

    /// `POST /items` with an `Idempotency-Key`: sent again with the same key (the answer to
    /// the first try was lost), it returns the item made the first time instead of a second.
    pub async fn create_item_once(
        &self,
        content: &ItemContent,
        key: &str,
    ) -> ClientResult<ItemDetail> {
        let rb = self
            .request(Method::POST, "/items")
            .header("Idempotency-Key", key)
            .json(content);
        json(send(rb).await?).await
    }

    /// `POST /items/{id}/actions/{action}`: a workflow action such as `submit`.
    pub async fn act(
        &self,
        id: i64,
        action: &str,
        request: &ActionRequest,
    ) -> ClientResult<ItemDetail> {
        let rb = self
            .request(Method::POST, &format!("/items/{id}/actions/{action}"))
            .json(request);
        json(send(rb).await?).await
    }

    /// `GET /items/{id}`.
    pub async fn item(&self, id: i64) -> ClientResult<ItemDetail> {
        json(send(self.request(Method::GET, &format!("/items/{id}"))).await?).await
    }

    /// `HEAD /blobs/{sha256}`: whether the hub already stores these bytes.
    pub async fn blob_exists(&self, sha256: &str) -> ClientResult<bool> {
        let resp = self
            .request(Method::HEAD, &format!("/blobs/{sha256}"))
            .send()
            .await
            .map_err(ClientError::Network)?;
        match resp.status() {
            s if s.is_success() => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            _ => Err(api_error(resp).await),
        }
    }

    /// `PUT /blobs/{sha256}` with the bytes of `path`, streamed. The hub refuses (400) bytes that
    /// do not hash to `sha256`.
    pub async fn put_blob_file(&self, sha256: &str, path: &Path) -> ClientResult<BlobPut> {
        let (body, len) = file_body(path).await?;
        self.put_blob(sha256, body, len).await
    }

    /// `PUT /blobs/{sha256}` with bytes already in memory (small renditions).
    pub async fn put_blob_bytes(&self, sha256: &str, bytes: Vec<u8>) -> ClientResult<BlobPut> {
        let len = bytes.len() as u64;
        self.put_blob(sha256, reqwest::Body::from(bytes), len).await
    }

    async fn put_blob(&self, sha256: &str, body: reqwest::Body, len: u64) -> ClientResult<BlobPut> {
        let resp = send(
            self.request(Method::PUT, &format!("/blobs/{sha256}"))
                .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
                .header(reqwest::header::CONTENT_LENGTH, len)
                .body(body),
        )
        .await?;
        Ok(if resp.status() == StatusCode::CREATED {
            BlobPut::Created
        } else {
            BlobPut::AlreadyStored
        })
    }

    /// `POST /items/{id}/attachments/prepared`: attaches a photo whose renditions were made
    /// here and uploaded as blobs first (409 `missing_blob` otherwise).
    pub async fn attach_prepared(
        &self,
        item_id: i64,
        photo: &PreparedPhoto,
    ) -> ClientResult<Attachment> {
        let rb = self
            .request(
                Method::POST,
                &format!("/items/{item_id}/attachments/prepared"),
            )
            .json(photo);
        json(send(rb).await?).await
    }

    /// `POST /items/{id}/attachments?filename=NAME` with the bytes of `path`, streamed: a
    /// document or video, which the hub detects and probes itself.
    pub async fn attach_file(
        &self,
        item_id: i64,
        filename: &str,
        path: &Path,
    ) -> ClientResult<Attachment> {
        let (body, len) = file_body(path).await?;
        let rb = self
            .request(Method::POST, &format!("/items/{item_id}/attachments"))
            .query(&[("filename", filename)])
            .header(reqwest::header::CONTENT_TYPE, "application/octet-stream")
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(body);
        json(send(rb).await?).await
    }
}

/// A request body reading `path` chunk by chunk, and its length.
async fn file_body(path: &Path) -> ClientResult<(reqwest::Body, u64)> {
    let file_error = |source| ClientError::File {
        path: path.to_path_buf(),
        source,
    };
    let file = tokio::fs::File::open(path).await.map_err(file_error)?;
    let len = file.metadata().await.map_err(file_error)?.len();
    Ok((reqwest::Body::wrap_stream(ReaderStream::new(file)), len))
}

/// Sends, and turns a non-2xx answer into [`ClientError::Api`].
async fn send(rb: RequestBuilder) -> ClientResult<Response> {
    let resp = rb.send().await.map_err(ClientError::Network)?;
    if resp.status().is_success() {
        Ok(resp)
    } else {
        Err(api_error(resp).await)
    }
}

async fn json<T: DeserializeOwned>(resp: Response) -> ClientResult<T> {
    let bytes = resp.bytes().await.map_err(ClientError::Network)?;
    serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))
}

/// The `ApiError` body of a refused request; one is made up from the status when the body is
/// not one (a proxy's page, a HEAD answer).
async fn api_error(resp: Response) -> ClientError {
    let status = resp.status();
    let body = resp.bytes().await.unwrap_or_default();
    let error = serde_json::from_slice::<ApiError>(&body).unwrap_or_else(|_| ApiError {
        code: code_of_status(status),
        message: match std::str::from_utf8(&body).map(str::trim) {
            Ok(text) if !text.is_empty() => format!("{status}: {}", truncate(text, 200)),
            _ => status.to_string(),
        },
        field: None,
        allowed_actions: None,
        current_version: None,
        holder: None,
        retry_after_secs: None,
    });
    ClientError::Api {
        status: status.as_u16(),
        error: Box::new(error),
    }
}

fn code_of_status(status: StatusCode) -> ErrorCode {
    match status {
        StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
        StatusCode::FORBIDDEN => ErrorCode::Forbidden,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::CONFLICT => ErrorCode::VersionConflict,
        StatusCode::LOCKED => ErrorCode::Locked,
        StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::TooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ErrorCode::RefusedType,
        s if s.is_client_error() => ErrorCode::Validation,
        _ => ErrorCode::Internal,
    }
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}
