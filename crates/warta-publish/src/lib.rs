#![forbid(unsafe_code)]
//! Publishing targets: where an approved item goes after the official's approval.
//!
//! Every target implements [`PublishTarget`]. The hub owns the queue (what is pending, retries,
//! backoff, the idempotency key stored before the first request); a target owns the remote
//! side and the *adopt-before-create* rule:
//!
//! Architecture Invariant: a target never creates a remote object (post, media file, commit,
//! webhook delivery) without first looking up the item version's idempotency key on the remote
//! and adopting what is already there. A publish interrupted at any point (before a request,
//! after a request but before its response, between media and post) therefore ends, when
//! retried, with exactly one post and all its media.
//!
//! Architecture Invariant: secrets (application passwords, webhook keys) are handed to a target
//! when it is built and never appear in a [`PublishError`] message, a `Debug` output or a log.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

pub mod markdown_site;
pub mod webhook;
pub mod wordpress;

/// One file of the page: a photo's web rendition, a document or a video.
#[derive(Debug, Clone)]
pub struct MediaFile {
    /// The hub's attachment id.
    pub attachment_id: i64,
    /// File name as uploaded, e.g. `banjir-1.jpg`.
    pub filename: String,
    pub mime: String,
    /// The bytes to send (the web rendition for photos).
    pub path: PathBuf,
    /// SHA-256 of those bytes, hex.
    pub sha256: String,
    /// Where the hub's own site serves the same bytes publicly (for targets that link rather
    /// than upload, e.g. a webhook).
    pub public_url: String,
    /// Alternative text for screen readers (photos).
    pub alt: String,
    pub caption: String,
}

/// Everything a target needs to publish one version of an item.
#[derive(Debug, Clone)]
pub struct Publication {
    pub item_id: i64,
    /// The item version being published; a correction is a new version.
    pub version: i64,
    /// Stored by the hub before the first request for this item version; the same on every
    /// retry. Short, lowercase hex and dashes, so it fits in slugs, file names and headers.
    pub idempotency_key: String,
    /// URL-safe slug of the title, e.g. `banjir-di-samarinda`.
    pub slug: String,
    pub title: String,
    pub summary: String,
    /// Sanitised HTML of the body, from `warta_render::render_markdown`.
    pub body_html: String,
    pub category: String,
    pub tags: Vec<String>,
    /// Producing unit (e.g. `Bidang IKP`).
    pub unit: String,
    /// Display name of the author shown on the site.
    pub author: String,
    /// When the official scheduled it; `None` publishes now.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// The photo to feature, if any: an index into `media`.
    pub featured: Option<usize>,
    pub media: Vec<MediaFile>,
}

/// Where the item is on the target after a publish, stored on the item by the hub and
/// handed back for updates, unpublishing and verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteRef {
    /// The target's id of the post/page/commit/delivery (e.g. a WordPress post id).
    pub remote_id: String,
    /// Public URL of the page (may be empty for a webhook without one).
    pub url: String,
    /// Remote ids of the media, in `Publication::media` order.
    pub media: Vec<RemoteMedia>,
    /// `publish` or `future` (scheduled).
    pub status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteMedia {
    pub attachment_id: i64,
    pub remote_id: String,
    pub url: String,
}

/// What fetching the public page showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveCheck {
    /// The public page shows the body we sent (after normalising what the CMS may rewrite).
    pub matches: bool,
    /// SHA-256 (hex) of the normalised text of the body we sent.
    pub expected_hash: String,
    /// SHA-256 (hex) of the normalised text found on the page, if the page could be read.
    pub found_hash: Option<String>,
    pub http_status: u16,
}

/// Why a publish failed, in plain words (English; the UI shows its own message per kind).
/// Never contains a secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublishError {
    /// Worth retrying with backoff: connection refused, timeout, TLS error, 5xx, 429.
    #[error("the website could not be reached or failed: {0}")]
    Unavailable(String),
    /// The credentials were refused (expired or revoked application password, wrong key):
    /// retrying will not help until someone fixes the target's settings.
    #[error("the website refused our credentials: {0}")]
    Unauthorized(String),
    /// The website refused the content or the request (4xx other than auth).
    #[error("the website refused the request: {0}")]
    Rejected(String),
    /// Something on our side (a media file missing, a folder not writable).
    #[error("{0}")]
    Local(String),
}

impl PublishError {
    /// Whether the queue should retry it by itself.
    pub fn is_transient(&self) -> bool {
        matches!(self, PublishError::Unavailable(_))
    }
}

/// A place approved items are published to.
pub trait PublishTarget: Send + Sync {
    /// Short name of the kind: `static`, `wordpress`, `webhook`, `markdown`.
    fn kind(&self) -> &'static str;

    /// Publishes `publication`, or updates what `previous` points at when the item was
    /// published before (a correction). Must adopt-before-create under
    /// `publication.idempotency_key`, so calling it again after any interruption is safe.
    fn publish(
        &self,
        publication: &Publication,
        previous: Option<&RemoteRef>,
    ) -> Result<RemoteRef, PublishError>;

    /// Takes the item off the site. Unpublishing something already gone succeeds.
    fn unpublish(&self, item_id: i64, remote: &RemoteRef) -> Result<(), PublishError>;

    /// Fetches the public page and checks it shows what was sent.
    fn check_live(
        &self,
        publication: &Publication,
        remote: &RemoteRef,
    ) -> Result<LiveCheck, PublishError>;
}
