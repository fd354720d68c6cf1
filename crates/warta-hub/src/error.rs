//! The hub's typed errors and their mapping to HTTP statuses and `ApiError` bodies.

use warta_api::{ApiError, ErrorCode};

/// Everything a hub operation can refuse or fail with. Messages are plain English;
/// the UI translates by [`ErrorCode`].
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("sign in first (no session, or it expired)")]
    Unauthenticated,
    #[error("wrong user name or password")]
    BadCredentials,
    #[error("not allowed: {0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("action \"{action}\" is not possible in step \"{step}\"; possible now: {}", allowed.join(", "))]
    InvalidTransition {
        action: String,
        step: String,
        allowed: Vec<String>,
    },
    #[error("someone saved a newer version ({current}) first; nothing was overwritten")]
    VersionConflict { current: i64 },
    #[error("the item is being edited by {holder}")]
    Locked { holder: String },
    #[error("your edit lock lapsed after {minutes} minutes without activity{}; nothing was saved, claim the item again to save", holder.as_ref().map(|h| format!(" and {h} has the item now")).unwrap_or_default())]
    LockExpired {
        minutes: i64,
        holder: Option<String>,
    },
    #[error("{message}")]
    Validation { field: String, message: String },
    #[error("the file is larger than the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("this type of file is not accepted: {0}")]
    RefusedType(String),
    #[error("{0}")]
    MissingBlob(String),
    #[error("set-up was already done; sign in instead")]
    AlreadySetUp,
    #[error("too many failed sign-ins; try again in {} minute(s)", (retry_after_secs + 59) / 60)]
    TooManyAttempts { retry_after_secs: i64 },
    /// A resumable upload's chunk was sent for another offset than the hub holds.
    #[error(
        "this upload has {current} bytes; send the chunk that starts there (nothing was written)"
    )]
    OffsetMismatch { current: u64 },
    /// A chunk did not match its `Upload-Checksum`; it was discarded.
    #[error(
        "the chunk was damaged on the way (its checksum does not match); it was discarded, send it again"
    )]
    ChecksumMismatch,
    /// Another request is still writing to the same upload.
    #[error("another request is still writing to this upload; try again in a moment")]
    UploadBusy,
    /// A request that does not follow the upload protocol (tus 1.0): a missing or wrong header,
    /// answered with the status the protocol names (400, 412, 415).
    #[error("{message}")]
    Protocol {
        status: u16,
        header: &'static str,
        message: String,
    },
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

impl From<rusqlite::Error> for HubError {
    fn from(e: rusqlite::Error) -> Self {
        HubError::Internal(e.into())
    }
}

impl HubError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        HubError::Validation {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn code(&self) -> ErrorCode {
        match self {
            HubError::Unauthenticated => ErrorCode::Unauthenticated,
            HubError::BadCredentials => ErrorCode::BadCredentials,
            HubError::Forbidden(_) => ErrorCode::Forbidden,
            HubError::NotFound(_) => ErrorCode::NotFound,
            HubError::InvalidTransition { .. } => ErrorCode::InvalidTransition,
            HubError::VersionConflict { .. } => ErrorCode::VersionConflict,
            HubError::Locked { .. } => ErrorCode::Locked,
            HubError::LockExpired { .. } => ErrorCode::LockExpired,
            HubError::Validation { .. } => ErrorCode::Validation,
            HubError::TooLarge { .. } => ErrorCode::TooLarge,
            HubError::RefusedType(_) => ErrorCode::RefusedType,
            HubError::AlreadySetUp => ErrorCode::AlreadySetUp,
            HubError::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            HubError::MissingBlob(_) => ErrorCode::MissingBlob,
            HubError::OffsetMismatch { .. } => ErrorCode::OffsetMismatch,
            HubError::ChecksumMismatch => ErrorCode::ChecksumMismatch,
            HubError::UploadBusy => ErrorCode::UploadBusy,
            HubError::Protocol { .. } => ErrorCode::Validation,
            HubError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// HTTP status for this error.
    pub fn status(&self) -> u16 {
        match self {
            HubError::Unauthenticated | HubError::BadCredentials => 401,
            HubError::Forbidden(_) => 403,
            HubError::NotFound(_) => 404,
            HubError::InvalidTransition { .. }
            | HubError::VersionConflict { .. }
            | HubError::LockExpired { .. }
            | HubError::AlreadySetUp => 409,
            HubError::Locked { .. } => 423,
            HubError::TooManyAttempts { .. } => 429,
            HubError::Validation { .. } => 400,
            HubError::MissingBlob(_) => 409,
            HubError::OffsetMismatch { .. } => 409,
            // tus checksum extension: "460 Checksum Mismatch".
            HubError::ChecksumMismatch => 460,
            HubError::UploadBusy => 423,
            HubError::Protocol { status, .. } => *status,
            HubError::TooLarge { .. } => 413,
            HubError::RefusedType(_) => 415,
            HubError::Internal(_) => 500,
        }
    }

    pub fn to_api(&self) -> ApiError {
        let mut e = ApiError {
            code: self.code(),
            message: self.to_string(),
            field: None,
            allowed_actions: None,
            current_version: None,
            holder: None,
            retry_after_secs: None,
        };
        match self {
            HubError::Validation { field, .. } => e.field = Some(field.clone()),
            HubError::Protocol { header, .. } => e.field = Some(header.to_string()),
            HubError::InvalidTransition { allowed, .. } => {
                e.allowed_actions = Some(allowed.clone())
            }
            HubError::VersionConflict { current } => e.current_version = Some(*current),
            HubError::Locked { holder } => e.holder = Some(holder.clone()),
            HubError::LockExpired { holder, .. } => e.holder = holder.clone(),
            HubError::TooManyAttempts { retry_after_secs } => {
                e.retry_after_secs = Some(*retry_after_secs)
            }
            HubError::Internal(_) => e.message = "internal error; see the hub's log".into(),
            _ => {}
        }
        e
    }
}

pub type HubResult<T> = Result<T, HubError>;
