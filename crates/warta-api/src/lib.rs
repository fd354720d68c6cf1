//! Wire types of the hub's HTTP API (`/api/v1/...`).
//!
//! Architecture invariant: this crate is the only place that defines JSON shapes
//! exchanged between the hub and its clients. Domain crates convert to and from
//! these types at the boundary. Every type here derives `ts_rs::TS`; running
//! `cargo test -p warta-api` regenerates `ui/src/lib/bindings/`, and CI fails if
//! the committed bindings drift.
#![forbid(unsafe_code)]

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Version prefix of every API route.
pub const API_PREFIX: &str = "/api/v1";

/// A role a user may hold. A user may hold several.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, TS, ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Role {
    Reporter,
    Editor,
    Official,
    Publisher,
    Admin,
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Reporter,
        Role::Editor,
        Role::Official,
        Role::Publisher,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Reporter => "reporter",
            Role::Editor => "editor",
            Role::Official => "official",
            Role::Publisher => "publisher",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// Machine-readable error code. The UI translates by code; it never parses `message`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// No or an expired session token.
    Unauthenticated,
    /// Wrong user name or password.
    BadCredentials,
    /// The user's roles do not allow this request.
    Forbidden,
    NotFound,
    /// The action is not allowed in the item's current step; `allowed_actions` lists what is.
    InvalidTransition,
    /// The save was based on an older version; nothing was overwritten.
    VersionConflict,
    /// Another user holds the item's edit lock.
    Locked,
    /// The caller's edit lock lapsed after a time without activity (and may have been claimed by
    /// someone else, named in `holder`); nothing was saved. Claim the item again to go on.
    LockExpired,
    /// A field is missing or malformed (see `field`).
    Validation,
    /// The upload is larger than the configured limit.
    TooLarge,
    /// The file's type (detected from its bytes) is refused, or its content is unusable
    /// (corrupt, too many pixels).
    RefusedType,
    /// A blob named in a request was never uploaded.
    MissingBlob,
    /// First-run set-up was already done.
    AlreadySetUp,
    /// Too many failed sign-ins for this account or from this address; `retry_after_secs` says
    /// when to try again.
    TooManyAttempts,
    /// A resumable upload's chunk was sent for another offset than the one the hub holds (the
    /// `Upload-Offset` response header has it); nothing was written. Ask again with HEAD.
    OffsetMismatch,
    /// A chunk's bytes do not match its `Upload-Checksum`; it was discarded, send it again.
    ChecksumMismatch,
    /// Another request is still writing to this upload; try again in a moment.
    UploadBusy,
    Internal,
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ApiError {
    pub code: ErrorCode,
    /// Plain-English explanation, for logs and the CLI; the UI shows its own translation of `code`.
    pub message: String,
    /// For `validation`: the offending field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub field: Option<String>,
    /// For `invalid_transition`: the actions the caller may take now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub allowed_actions: Option<Vec<String>>,
    /// For `version_conflict`: the version currently stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub current_version: Option<i64>,
    /// For `locked`: who holds the lock.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub holder: Option<String>,
    /// For `too_many_attempts`: seconds until signing in is possible again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub retry_after_secs: Option<i64>,
}

// ---------- set-up and sessions ----------

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SetupStatus {
    /// True until the first admin account exists.
    pub needs_admin: bool,
    /// Where the published static site is served.
    pub site_url: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SetupRequest {
    pub username: String,
    pub display_name: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct LoginResponse {
    /// Bearer token for the `Authorization` header.
    pub token: String,
    pub user: User,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct User {
    #[ts(type = "number")]
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub roles: Vec<Role>,
    pub unit: String,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct NewUser {
    /// 1 to 64 letters, digits, dots, dashes or underscores.
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub username: String,
    pub display_name: String,
    /// At least 8 characters.
    #[schema(min_length = 8)]
    pub password: String,
    #[schema(min_items = 1)]
    pub roles: Vec<Role>,
    pub unit: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct UpdateUser {
    pub display_name: String,
    #[schema(min_items = 1)]
    pub roles: Vec<Role>,
    pub unit: String,
    pub active: bool,
    /// When present, the user's password is replaced (at least 8 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    #[schema(min_length = 8)]
    pub password: Option<String>,
}

// ---------- sessions and units ----------

/// A live (neither expired nor revoked) session of a user. Its `id` names it; the token is
/// never shown again after sign-in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SessionInfo {
    #[ts(type = "number")]
    pub id: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The client address it signed in from (as the hub saw it, or as a trusted proxy named
    /// it); `null` when unknown.
    pub address: Option<String>,
    /// The session this request was made with.
    pub current: bool,
}

/// `POST /users/{id}/sessions/revoke`: how many live sessions were ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RevokedSessions {
    #[ts(type = "number")]
    pub revoked: i64,
}

/// One of the office's units (bidang, bagian); users belong to one by its name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Unit {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    /// Users (active or not) in this unit.
    #[ts(type = "number")]
    pub users: i64,
}

/// `POST /units` and `PUT /units/{id}`: a unit's name (1 to 100 characters, unique ignoring
/// case). Renaming a unit moves its users with it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct UnitInput {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
}

// ---------- items (SOP-A) ----------

/// Fields a reporter or editor writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ItemContent {
    pub title: String,
    pub summary: String,
    /// Markdown.
    pub body: String,
    pub category: String,
    pub tags: Vec<String>,
    /// The unit that produced the material.
    pub unit: String,
}

/// `PUT /items/{id}`: a save based on `version`; refused with `version_conflict` if stale.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SaveItem {
    #[ts(type = "number")]
    pub version: i64,
    pub content: ItemContent,
}

/// `POST /items/{id}/actions/{action}`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ActionRequest {
    /// A note or reason; required by actions whose definition says so (reject, return, send back, not publish).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub note: Option<String>,
    /// `approve` and `publish`: publish at this time instead of at once (WordPress shows the
    /// post as scheduled; other targets receive it then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub scheduled_at: Option<DateTime<Utc>>,
}

/// Where an item is in its workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct StepState {
    /// Step id from the SOP definition, e.g. `edit`.
    pub step: String,
    /// The SOP's number for the step (1-based), for display.
    pub number: u32,
    /// Role that acts in this step.
    pub actor: Option<Role>,
    pub is_final: bool,
    pub entered_at: DateTime<Utc>,
    /// None for final steps and steps without a standard time.
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct LockInfo {
    #[ts(type = "number")]
    pub user_id: i64,
    pub display_name: String,
    pub since: DateTime<Utc>,
    /// When the lock lapses unless its holder saves or keeps it (`PUT /items/{id}/lock`) before.
    pub expires_at: DateTime<Utc>,
}

/// One row of a queue ("my tasks", all items, published).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ItemSummary {
    #[ts(type = "number")]
    pub id: i64,
    pub title: String,
    pub unit: String,
    pub author: String,
    pub state: StepState,
    pub lock: Option<LockInfo>,
    #[ts(type = "number")]
    pub version: i64,
    pub updated_at: DateTime<Utc>,
    /// Public URL once published.
    pub published_url: Option<String>,
    /// When the item is to be published, if someone scheduled it.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// Set while the publisher's "publish" or "unpublish" is still going out to a website.
    pub publishing: Option<PublishingState>,
}

/// Progress of an item's publish (or unpublish) across the office's websites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct PublishingState {
    /// `publish` or `unpublish`.
    pub action: String,
    /// Targets still waiting.
    pub pending: u32,
    /// Failed several times or refused in a way retrying will not fix: the publisher must look.
    pub attention: bool,
    /// The most recent error, in plain words.
    pub last_error: Option<String>,
    /// Which kind of failure (`unavailable`, `unauthorized`, `rejected`, `local`); the UI
    /// words each in the user's language.
    pub last_error_kind: Option<String>,
}

/// One item version on one website: queued, done, or retrying.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct PublicationStatus {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub target_id: i64,
    pub target_name: String,
    /// `static`, `wordpress`, `webhook`, `markdown`.
    pub target_kind: String,
    /// `publish` or `unpublish`.
    pub action: String,
    #[ts(type = "number")]
    pub version: i64,
    /// `pending`, `done` or `cancelled` (superseded by a newer version).
    pub state: String,
    pub attempts: u32,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    pub last_error_kind: Option<String>,
    /// Where the item is on that website, once published.
    pub url: Option<String>,
    /// Whether the public page showed what was sent, when it was last checked.
    pub live_matches: Option<bool>,
}

/// A website the office publishes to. Secrets are write-only: `has_secret` says one is stored
/// (in the OS keyring, or the hub's encrypted secrets file), it is never sent back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct PublishTargetInfo {
    #[ts(type = "number")]
    pub id: i64,
    pub name: String,
    /// `static` (the hub's own site), `wordpress`, `webhook` or `markdown`.
    pub kind: String,
    /// WordPress site address or webhook URL.
    pub url: Option<String>,
    /// WordPress user the application password belongs to.
    pub username: Option<String>,
    /// Markdown site: the folder written to.
    pub folder: Option<String>,
    /// Markdown site: commit every publish in that folder's git repository.
    pub git: bool,
    pub enabled: bool,
    pub has_secret: bool,
}

/// Adds or changes a website. `secret` (application password, webhook key) goes to the OS
/// keyring, or the hub's encrypted secrets file on a server; leave it out when changing other
/// fields to keep the stored one.
#[derive(Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct PublishTargetInput {
    pub name: String,
    pub kind: String,
    #[serde(default)]
    #[ts(optional)]
    pub url: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub username: Option<String>,
    #[serde(default)]
    #[ts(optional)]
    pub folder: Option<String>,
    #[serde(default)]
    pub git: bool,
    #[serde(default = "default_true")]
    pub enabled: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub secret: Option<String>,
}

impl std::fmt::Debug for PublishTargetInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PublishTargetInput")
            .field("name", &self.name)
            .field("kind", &self.kind)
            .field("url", &self.url)
            .field("username", &self.username)
            .field("folder", &self.folder)
            .field("git", &self.git)
            .field("enabled", &self.enabled)
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

fn default_true() -> bool {
    true
}

/// Alternative text and caption of a photo, shown with it on the public site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AttachmentText {
    pub alt_text: String,
    pub caption: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Attachment {
    #[ts(type = "number")]
    pub id: i64,
    pub filename: String,
    /// Detected from the bytes, e.g. `image/jpeg`.
    pub mime: String,
    /// `photo`, `document` or `video`.
    pub kind: String,
    #[ts(type = "number")]
    pub size: i64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
    /// What to show: the web rendition of a photo, otherwise the file itself. Needs no bearer
    /// token (for `<img>`, `<video>`, the review preview); valid while the issuing hub runs.
    pub url: String,
    /// Small preview: a photo's thumbnail, a PDF's first page, a video's poster frame.
    pub thumb_url: Option<String>,
    /// The untouched original; only for editors and above, and only when the office keeps originals.
    pub original_url: Option<String>,
    /// Pixel size of what `url` shows (photos), or the video's frame size.
    pub width: Option<u32>,
    pub height: Option<u32>,
    /// Pages of a PDF.
    pub pages: Option<u32>,
    #[ts(type = "number | null")]
    pub duration_ms: Option<u64>,
    /// e.g. `h264 / aac` for a video.
    pub codecs: Option<String>,
    /// Another photo in the office that looks the same (perceptual hash), for the editor to check.
    pub similar_to: Option<SimilarPhoto>,
    /// Why a preview or rendition is missing, e.g. a tool that is not installed.
    pub note: Option<String>,
    /// Alternative text and caption for the public site (photos).
    pub alt_text: String,
    pub caption: String,
    /// A video's web-size MP4 copy, made in the background when the office asks for it
    /// ([`MediaSettings::video_web_copy`]); `none` for other files.
    #[serde(default)]
    pub web_copy: WebCopyState,
    /// The web copy (when `web_copy` is `ready`): what publishing sends instead of the
    /// original video. Signed like `url`.
    #[serde(default)]
    pub web_copy_url: Option<String>,
    /// Frame height of the web copy, in pixels.
    #[serde(default)]
    pub web_copy_height: Option<u32>,
    #[serde(default)]
    #[ts(type = "number | null")]
    pub web_copy_size: Option<u64>,
    /// Why the web copy could not be made (`web_copy` is `failed`), in plain English.
    #[serde(default)]
    pub web_copy_error: Option<String>,
}

/// Where a video's web copy is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum WebCopyState {
    /// No copy is made: not a video, or the office does not make web copies.
    #[default]
    None,
    /// Waiting for, or being made by, the hub's background worker (one video at a time).
    Pending,
    /// Made; `web_copy_url` serves it.
    Ready,
    /// Could not be made; `web_copy_error` says why. Not tried again.
    Failed,
}

/// A near-duplicate photo found when a photo was attached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SimilarPhoto {
    #[ts(type = "number")]
    pub attachment_id: i64,
    #[ts(type = "number")]
    pub item_id: i64,
    pub item_title: String,
    pub filename: String,
    /// Hamming distance of the perceptual hashes (0 = identical looking).
    pub distance: u32,
}

/// `POST /items/{id}/attachments/prepared`: a photo whose renditions the client already made
/// (on the reporter's laptop, so only what is needed travels). Every blob named here was
/// uploaded first with `PUT /blobs/{sha256}`; the hub checks each rendition before accepting it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct PreparedPhoto {
    pub filename: String,
    /// SHA-256 of the original file, whether or not it is sent.
    pub original_sha256: String,
    #[ts(type = "number")]
    pub original_size: u64,
    /// True when the original itself was uploaded as a blob.
    pub original_sent: bool,
    pub web_sha256: String,
    pub thumb_sha256: String,
    /// Perceptual hash of the photo, hex (16 digits).
    pub phash: String,
}

/// `POST /items/{id}/attachments/blob`: attaches a file the caller finished uploading with a
/// resumable upload (`/uploads`), processed exactly like an original sent whole.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AttachBlob {
    /// The whole file's SHA-256 (lower-case hex), as declared when the upload was created.
    pub sha256: String,
    pub filename: String,
}

/// When the desktop app sends originals of photos along with their renditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SendOriginals {
    Never,
    Always,
    /// Only on a connection the system does not mark as metered.
    Unmetered,
}

/// The office's media settings (admin).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct MediaSettings {
    /// Keep the untouched original in the archive (visible to editors and above).
    pub keep_originals: bool,
    pub send_originals: SendOriginals,
    /// Longest side of the web rendition, in pixels.
    pub web_max: u32,
    /// Longest side of thumbnails, in pixels.
    pub thumb_max: u32,
    /// `jpeg` or `webp`.
    pub photo_format: String,
    /// Refuse photos declaring more pixels than this, before decoding them.
    #[ts(type = "number")]
    pub max_pixels: u64,
    #[ts(type = "number")]
    pub max_attachment_bytes: u64,
    /// Largest document (PDF, office file) accepted; documents are read whole to count pages.
    #[serde(default = "default_max_document_bytes")]
    #[ts(type = "number")]
    pub max_document_bytes: u64,
    /// Make a web-size MP4 copy (H.264/AAC) of every attached video, in the background, and
    /// publish it instead of the original. Needs `ffmpeg` on the hub's computer: always
    /// `false` when it is missing, and turning it on is then refused.
    #[serde(default)]
    pub video_web_copy: bool,
    /// Largest frame height of web copies, in pixels (never enlarged).
    #[serde(default = "default_video_web_height")]
    pub video_web_height: u32,
    /// Whether `ffmpeg` is installed on the hub's computer (poster frames, web copies).
    /// Reported by the hub; ignored when saving.
    #[serde(default)]
    pub ffmpeg_available: bool,
}

/// 720 pixels: sharp on a phone and a laptop, a fraction of a phone's 1080p or 4K original.
pub fn default_video_web_height() -> u32 {
    720
}

/// 200 MB: generous for scanned reports, and documents are parsed in memory.
pub fn default_max_document_bytes() -> u64 {
    200 * 1024 * 1024
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Comment {
    #[ts(type = "number")]
    pub id: i64,
    pub author: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct NewComment {
    pub body: String,
}

/// Actual against standard time for one visit of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct StepTime {
    pub step: String,
    pub number: u32,
    pub entered_at: DateTime<Utc>,
    pub left_at: Option<DateTime<Utc>>,
    /// Standard time in minutes of the SOP's calendar (None when the step has none).
    #[ts(type = "number | null")]
    pub standard_minutes: Option<i64>,
    /// Elapsed minutes counted in the SOP's calendar (up to now for the open step).
    #[ts(type = "number")]
    pub actual_minutes: i64,
    pub due_at: Option<DateTime<Utc>>,
    pub met: Option<bool>,
}

/// An action the caller can take now, with what it requires.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AvailableAction {
    pub id: String,
    /// Step the item moves to.
    pub to: String,
    pub requires_note: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ItemDetail {
    #[ts(type = "number")]
    pub id: i64,
    pub sop: String,
    pub content: ItemContent,
    #[ts(type = "number")]
    pub author_id: i64,
    pub author: String,
    #[ts(type = "number")]
    pub version: i64,
    pub state: StepState,
    pub lock: Option<LockInfo>,
    pub attachments: Vec<Attachment>,
    pub comments: Vec<Comment>,
    pub step_times: Vec<StepTime>,
    /// What the caller may do now (the hub enforces the same rules).
    pub actions: Vec<AvailableAction>,
    pub can_edit: bool,
    pub can_claim: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_url: Option<String>,
    /// Reason recorded when rejected or not published.
    pub outcome_note: Option<String>,
    /// When the item is (to be) published, if someone scheduled it.
    pub scheduled_at: Option<DateTime<Utc>>,
    pub publishing: Option<PublishingState>,
    /// The item on each website, newest first.
    pub publications: Vec<PublicationStatus>,
    /// An editor may reopen a published item for a correction.
    pub can_correct: bool,
    /// A publisher may take a published item off the websites.
    pub can_unpublish: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RevisionSummary {
    #[ts(type = "number")]
    pub version: i64,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Revision {
    #[ts(type = "number")]
    pub version: i64,
    pub author: String,
    pub created_at: DateTime<Utc>,
    pub content: ItemContent,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DiffOp {
    Equal,
    Insert,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct DiffLine {
    pub op: DiffOp,
    pub text: String,
}

/// Line diff of two revisions, field by field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RevisionDiff {
    #[ts(type = "number")]
    pub from: i64,
    #[ts(type = "number")]
    pub to: i64,
    pub fields: Vec<FieldDiff>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct FieldDiff {
    /// `title`, `summary`, `body`, `category`, `tags` or `unit`.
    pub field: String,
    pub changed: bool,
    pub lines: Vec<DiffLine>,
}

/// One entry of an item's timeline, read from the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct TimelineEntry {
    #[ts(type = "number")]
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    /// e.g. `item.created`, `item.saved`, `item.action`, `item.comment`, `item.attached`, `item.refused`.
    pub kind: String,
    /// Workflow action id for `item.action`.
    pub action: Option<String>,
    pub from_step: Option<String>,
    pub to_step: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RenderRequest {
    pub markdown: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RenderResponse {
    /// Sanitised HTML, exactly what publishing uses.
    pub html: String,
}

/// The page exactly as it will appear on the site (the official's review screen).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct PagePreview {
    /// A complete HTML document.
    pub html: String,
}

// ---------- SOPs, calendar, audit ----------

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SopSummary {
    pub id: String,
    pub name: String,
    pub calendar: String,
    pub steps: Vec<SopStep>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SopStep {
    pub id: String,
    pub number: u32,
    pub actor: Option<String>,
    pub activity: String,
    pub standard: String,
    pub output: String,
    pub is_final: bool,
}

/// `POST /sops/check` (admin): validate a SOP definition before it is adopted.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SopCheckRequest {
    /// File name shown in messages.
    pub source: String,
    /// The definition, TOML.
    pub text: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SopCheckResult {
    pub ok: bool,
    /// One line per problem, each naming the file, the step and the problem.
    pub problems: Vec<String>,
    /// The definition as it would run, when `ok`.
    pub sop: Option<SopSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Holiday {
    /// `YYYY-MM-DD` in the SOP's time zone.
    pub date: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AuditReport {
    pub intact: bool,
    #[ts(type = "number")]
    pub entries: i64,
    /// Sequence number of the first entry that does not verify.
    #[ts(type = "number | null")]
    pub first_bad: Option<i64>,
    pub problem: Option<String>,
}

// ---------- batch import on the desktop (Tauri channel payloads) ----------

/// State of a batch import job (a persisted job on the reporter's laptop).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ImportState {
    Queued,
    Running,
    Done,
    Failed,
    Cancelled,
}

/// A batch import of a folder or memory card into one item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ImportJob {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub item_id: i64,
    pub folder: String,
    pub state: ImportState,
    pub total: u32,
    pub done: u32,
    pub skipped: u32,
    pub failed: u32,
    /// Bytes sent to the hub so far (renditions, and originals when sent).
    #[ts(type = "number")]
    pub bytes_sent: u64,
    pub created_at: DateTime<Utc>,
}

/// What a running import reports, through a Tauri channel, as it goes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
#[ts(export)]
pub enum ImportEvent {
    /// The job's counters changed (sent at most a few times a second).
    Progress(ImportJob),
    /// One file was attached; its thumbnail can be shown now.
    FileDone {
        #[ts(type = "number")]
        job_id: i64,
        path: String,
        attachment: Box<Attachment>,
    },
    /// One file was skipped (already attached, or not a photo/document/video).
    FileSkipped {
        #[ts(type = "number")]
        job_id: i64,
        path: String,
        problem: ImportProblem,
    },
    /// One file failed; tried again when the job runs again.
    FileFailed {
        #[ts(type = "number")]
        job_id: i64,
        path: String,
        problem: ImportProblem,
    },
    /// A large file is being sent in chunks: `sent` of `total` bytes are confirmed by the hub
    /// (reported at most a few times a second, and when it completes).
    FileProgress {
        #[ts(type = "number")]
        job_id: i64,
        path: String,
        #[ts(type = "number")]
        sent: u64,
        #[ts(type = "number")]
        total: u64,
    },
    /// The job ended (done, failed or cancelled).
    Finished(ImportJob),
}

/// Why an imported file was skipped or failed. The UI words it from `code` (with `hub_code`
/// and `other`); `message` is the English detail, for the log and the tooltip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ImportProblem {
    pub code: ImportProblemCode,
    /// The hub's error code when the hub refused or failed the file (`code` = `hub`).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_code: Option<ErrorCode>,
    /// The file this one repeats: the name it is attached under (`already_attached`), or
    /// its path in the folder (`duplicate`).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
    /// English detail, for the log and the tooltip.
    pub message: String,
}

impl std::fmt::Display for ImportProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ImportProblemCode {
    /// The same content is already attached to the item (skipped).
    AlreadyAttached,
    /// Another file of this import has the same content (skipped).
    Duplicate,
    /// The file's name cannot be used (skipped).
    BadFilename,
    /// Not a photo, document or video the office accepts, e.g. a program or a
    /// macro-enabled Office file (skipped).
    Unsupported,
    /// The file claims to be a photo, document or video but is broken or cut short (skipped).
    Damaged,
    /// Larger than the office's limit (skipped).
    TooLarge,
    /// The file could not be read from the folder or card (failed).
    Unreadable,
    /// The photo's web rendition and thumbnail could not be made (failed).
    Photo,
    /// The hub refused or failed the file; `hub_code` says how.
    Hub,
}

// ---------- the reporter's outbox (desktop app only; not a hub route) ----------

/// Where an outbox entry is on its way to the office.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OutboxState {
    /// Kept on the laptop until the hub can be reached (or the reporter signs in again).
    Waiting,
    /// Being sent now; `percent` says how far.
    Sending,
    /// The office's hub has it all: the item, its files, and the submission when asked for.
    Received,
    /// The hub refused it, or a file could not be read; `problem` says why. Sent again only
    /// when the reporter asks.
    Failed,
}

/// Why an outbox entry is waiting or failed. The UI words it from `code` (and `hub_code`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OutboxProblem {
    pub code: OutboxProblemCode,
    /// The hub's error code when the hub refused (`code` = `refused`).
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hub_code: Option<ErrorCode>,
    /// English detail, for the log and the tooltip.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OutboxProblemCode {
    /// The hub cannot be reached.
    Offline,
    /// No session, or the hub ended it: sign in again and it goes on.
    SignedOut,
    /// The hub refused the item or the submission.
    Refused,
    /// Some files could not be read or were refused; the item is on the hub without them.
    Files,
}

/// One draft or submission in the reporter's outbox.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct OutboxEntry {
    #[ts(type = "number")]
    pub id: i64,
    /// The item's text as written (a failed entry can be edited and sent again from it).
    pub content: ItemContent,
    /// Submit to the editor once the office has it (otherwise it arrives as a draft).
    pub submit: bool,
    pub state: OutboxState,
    /// 0-100 while sending: the share of the entry's bytes (its files) that the office has.
    pub percent: u8,
    /// The item on the hub, once created there.
    #[ts(type = "number | null")]
    pub item_id: Option<i64>,
    /// Absolute paths of the entry's files on this laptop.
    pub paths: Vec<String>,
    /// Files attached to the entry, and how many the office has.
    pub files: u32,
    pub files_sent: u32,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<OutboxProblem>,
    pub created_at: DateTime<Utc>,
    #[ts(optional)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<DateTime<Utc>>,
}

/// What the window hands the outbox: the item's text, whether to submit it, and files on disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct NewOutboxEntry {
    pub content: ItemContent,
    pub submit: bool,
    /// Absolute paths of photos, documents and videos to attach.
    pub files: Vec<String>,
}

// ---------- live updates ----------

/// What a [`ChangeEvent`] is about; clients refetch what shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ChangeKind {
    /// An item's content, step, schedule or outcome.
    Item,
    Comment,
    Attachment,
    /// An edit lock was taken, released, broken or lapsed.
    Lock,
    /// A publish or unpublish to a website progressed.
    Publishing,
    Users,
    /// The office's websites (publishing targets).
    Targets,
    /// Office settings: media, holidays.
    Settings,
    /// The website guard: an incident opened, folded, resolved, a watched page or a baseline
    /// changed (admins and publishers).
    Guard,
    /// An incident (SOP-D, SOP-B): opened, an action taken, a comment or evidence added, a
    /// step overdue. `incident_id` names it.
    Incident,
    /// The stream could not say what changed since `Last-Event-ID`: refetch everything.
    Resync,
    /// The first event of every stream, after any replay: its `seq` is where the feed stands
    /// (the `Last-Event-ID` to reconnect with); nothing changed.
    Ready,
}

/// One event of `GET /events` (server-sent events, `data:` is this as JSON, `id:` is `seq`).
/// Sent after the change is committed: a client that refetches on it sees the change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ChangeEvent {
    /// Increases with every change of the office; the stream's `id:`. Gaps are changes the
    /// caller may not see.
    #[ts(type = "number")]
    pub seq: i64,
    pub kind: ChangeKind,
    /// The item concerned, for item, comment, attachment, lock and publishing events.
    #[ts(type = "number | null")]
    pub item_id: Option<i64>,
    /// The incident concerned, for incident events (absent otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub incident_id: Option<i64>,
    pub at: DateTime<Utc>,
    /// The audit entry's kind, e.g. `item.saved`, `item.lock_expired` (`resync` for a resync).
    pub change: String,
}

// ---------- site backups, restores and their proof (SOP-C steps 3 and 4) ----------

/// One backup of a website's content (posts, pages, files and their metadata, or a site's
/// folder). Only a `verified` backup was read back completely and may be restored from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SiteBackupInfo {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub target_id: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    /// `running`, `verified` or `failed`.
    pub state: String,
    /// `schedule`, `manual` (the API) or `cli`.
    pub trigger: String,
    /// Who asked for it (`null`: the schedule).
    pub requested_by: Option<String>,
    /// Objects listed in the backup (posts, pages, files, terms).
    pub objects: u32,
    /// Their total size in bytes.
    #[ts(type = "number")]
    pub bytes: u64,
    /// Contents this backup stored that no earlier backup had (unchanged ones cost nothing).
    pub new_blobs: u32,
    #[ts(type = "number")]
    pub new_bytes: u64,
    /// Why it failed, in plain words.
    pub error: Option<String>,
}

/// One object of a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SiteBackupObject {
    /// `post/12`, `page/3`, `media/7`, `category/2`, `tag/5`, or `file/<path>` for a folder.
    pub key: String,
    /// `post`, `page`, `media`, `category`, `tag` or `file`.
    pub kind: String,
    pub title: String,
    /// SHA-256 of the stored record (or of the file, for a folder).
    pub sha256: String,
    #[ts(type = "number")]
    pub size: u64,
    /// Where it was public when the backup was made, if it has a page.
    pub url: Option<String>,
    /// For `post`/`page`: its status on the site (`publish`, `draft`, …).
    pub status: Option<String>,
}

/// Something the backup could not keep (a file too large, or not on the site's own host).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SiteBackupSkipped {
    pub key: String,
    pub reason: String,
}

/// A backup and everything in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SiteBackupDetail {
    pub backup: SiteBackupInfo,
    pub objects: Vec<SiteBackupObject>,
    pub skipped: Vec<SiteBackupSkipped>,
}

/// Restores one object (`key`, e.g. `post/12`) or everything (`key` left out) to a backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SiteRestoreInput {
    #[serde(default)]
    pub key: Option<String>,
    /// Why (kept in the report and the audit log); required.
    pub reason: String,
    /// The guard incident this restore answers, when there is one.
    #[serde(default)]
    #[ts(type = "number | null")]
    pub incident_id: Option<i64>,
}

/// Restores an item's page on a website to the version Warta published.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SitePublishedRestoreInput {
    #[ts(type = "number")]
    pub item_id: i64,
    pub reason: String,
    #[serde(default)]
    #[ts(type = "number | null")]
    pub incident_id: Option<i64>,
}

/// What a restore did to one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SiteRestoreAction {
    pub key: String,
    /// `restored`, `recreated` (deleted, made again: see `new_id`), `reuploaded` (a file),
    /// `unchanged`, `removed` (a file not in the backup) or `failed`.
    pub action: String,
    /// The id the object has on the site now, when it changed (a re-created post).
    pub new_id: Option<String>,
    pub detail: Option<String>,
}

/// One finding of the guard's checks on a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SiteFinding {
    /// The guard's kind: `gambling`, `defacement`, `hidden_links`, `foreign_redirect`,
    /// `cloaking`, `unreachable`, …
    pub kind: String,
    pub message: String,
    pub evidence: Vec<String>,
}

/// The guard's checks of one live page at one moment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SitePageCheck {
    pub url: String,
    pub checked_at: DateTime<Utc>,
    /// The HTTP status the page answered with (`null`: it could not be fetched).
    pub status: Option<u16>,
    /// SHA-256 of the page as fetched (evidence).
    pub sha256: Option<String>,
    pub findings: Vec<SiteFinding>,
}

/// A restore and its proof: the guard's checks of the restored pages before and after.
/// `normal` is the measured "website normal" of SOP-C step 4: the restore succeeded and the
/// checks after it found nothing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SiteRestoreReport {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub target_id: i64,
    /// The backup restored from (`null` for a restore to what Warta published).
    #[ts(type = "number | null")]
    pub backup_id: Option<i64>,
    /// The item whose published version was restored.
    #[ts(type = "number | null")]
    pub item_id: Option<i64>,
    /// `all`, `object` or `published`.
    pub scope: String,
    pub object_key: Option<String>,
    pub reason: String,
    pub requested_by: String,
    pub started_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    /// `done`, `partial` (some objects failed) or `failed`.
    pub state: String,
    pub normal: bool,
    pub actions: Vec<SiteRestoreAction>,
    pub before: Vec<SitePageCheck>,
    pub after: Vec<SitePageCheck>,
    pub error: Option<String>,
    /// The guard incident this restore is evidence for.
    #[ts(type = "number | null")]
    pub incident_id: Option<i64>,
}

// ------------------------------------------------------------------ website guard

/// One thing a guard check found on a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GuardFinding {
    /// `gambling`, `defacement`, `hidden_links`, `foreign_links`, `foreign_resources`,
    /// `foreign_redirect`, `cloaking`, `changed`, `tampered`, `unknown_url`, `unreachable`,
    /// `truncated`, `certificate_expiring`.
    pub kind: String,
    /// One English sentence (the UI words it from `kind`).
    pub message: String,
    /// The matched words, domains, addresses, or `+`/`-` lines of a change.
    pub evidence: Vec<String>,
}

/// The guard's settings of one of the office's websites (admins and publishers).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GuardSite {
    /// The website (publishing target) id.
    #[ts(type = "number")]
    pub target_id: i64,
    pub target_name: String,
    pub target_kind: String,
    /// The site's public home page; empty until set (a WordPress site's address and the hub's
    /// own site are filled in by themselves).
    pub public_url: String,
    /// Domains links and resources on the site may point to besides its own host (which is
    /// always allowed). Empty: outbound links are not checked (hidden ones still are).
    pub allowed_domains: Vec<String>,
    /// Also fetch from loopback and private addresses (a site on the office's own network;
    /// admin). The hub's own site is always fetched where the hub runs.
    pub allow_private: bool,
    /// Whether the site is watched.
    pub enabled: bool,
    pub pages: u32,
    pub open_incidents: u32,
}

/// Changes the guard's settings of a website.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GuardSiteInput {
    pub public_url: String,
    #[serde(default)]
    pub allowed_domains: Vec<String>,
    #[serde(default)]
    pub allow_private: bool,
    pub enabled: bool,
}

/// A watched page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GuardPage {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub target_id: i64,
    pub url: String,
    /// `home`, `section` (added by a person), `published` (a page the office published),
    /// `sitemap` (found in the site's sitemap).
    pub source: String,
    /// The published item, for `published` pages.
    #[ts(type = "number | null")]
    pub item_id: Option<i64>,
    pub interval_minutes: u32,
    /// Regular expressions of text ignored when comparing with the baseline.
    pub noise: Vec<String>,
    pub has_baseline: bool,
    pub baseline_at: Option<DateTime<Utc>>,
    pub baseline_by: Option<String>,
    /// Until then a change is expected (the office published on the site): no alarm for a
    /// baseline difference, and the baseline is re-taken once the page passes the injection
    /// checks.
    pub expected_until: Option<DateTime<Utc>>,
    pub next_check_at: DateTime<Utc>,
    pub last_check_at: Option<DateTime<Utc>>,
    pub last_status: Option<u16>,
    /// `new` (not checked yet), `ok`, `alert` (an open incident), `error`.
    pub state: String,
    #[ts(type = "number | null")]
    pub open_incident: Option<i64>,
    pub last_findings: Vec<GuardFinding>,
}

/// Adds a page to watch (a home or section page).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GuardPageInput {
    #[ts(type = "number")]
    pub target_id: i64,
    pub url: String,
    /// `home` or `section`.
    pub source: String,
    /// Default: 5 for a home page, 60 for others.
    pub interval_minutes: Option<u32>,
}

/// Changes a watched page's interval and noise patterns.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GuardPageUpdate {
    pub interval_minutes: u32,
    #[serde(default)]
    pub noise: Vec<String>,
}

/// One check of one page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GuardCheck {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub page_id: i64,
    pub url: String,
    pub at: DateTime<Utc>,
    /// The HTTP status, when the page answered.
    pub status: Option<u16>,
    /// SHA-256 of the body as fetched.
    pub body_hash: Option<String>,
    pub findings: Vec<GuardFinding>,
    /// Findings a change the office expected explained (not alarmed).
    pub expected: bool,
    /// The incident the check opened or was folded into.
    #[ts(type = "number | null")]
    pub incident_id: Option<i64>,
    pub elapsed_ms: u32,
}

/// A guard incident in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GuardIncidentSummary {
    #[ts(type = "number")]
    pub id: i64,
    #[ts(type = "number")]
    pub target_id: i64,
    pub target_name: String,
    #[ts(type = "number")]
    pub page_id: i64,
    pub url: String,
    /// The kinds of findings (see [`GuardFinding::kind`]).
    pub kinds: Vec<String>,
    /// `open` or `resolved`.
    pub state: String,
    pub opened_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    /// How many checks found it (repeats are folded in, not new alerts).
    pub count: u32,
}

/// A guard incident with its evidence. A later SOP-B incident is opened from this record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GuardIncident {
    pub summary: GuardIncidentSummary,
    /// What the latest check found.
    pub findings: Vec<GuardFinding>,
    /// SHA-256 of the last good version of the page (the baseline or the last clean check).
    pub good_hash: Option<String>,
    /// SHA-256 of the version that raised the incident (as a browser got it).
    pub bad_hash: Option<String>,
    /// SHA-256 of the version a search crawler got, when it differed.
    pub crawler_hash: Option<String>,
    /// Text lines removed (`-`) and added (`+`) between the good and the bad version.
    pub diff: Vec<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolution_note: Option<String>,
    /// Restores made for this incident, newest first, each with the guard's checks before and
    /// after (SOP-C step 4's proof).
    pub restores: Vec<SiteRestoreReport>,
}

/// Resolves an incident.
#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GuardResolveRequest {
    #[serde(default)]
    pub note: String,
}

// ---------- incidents (SOP-D, SOP-B) ----------

/// A user as named in an incident's roles and history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct UserRef {
    #[ts(type = "number")]
    pub id: i64,
    pub username: String,
    pub display_name: String,
}

/// The users holding one role of an SOP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SopRoleHolders {
    /// Role id of the SOP's definition (e.g. `examiner`).
    pub role: String,
    /// The role's name in Indonesian.
    pub name: String,
    pub users: Vec<UserRef>,
}

/// Who holds each role of an SOP (`GET /sops/{sop}/roles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SopRoles {
    pub sop: String,
    /// Every role of the SOP, in the definition's order (empty `users` when nobody holds it).
    pub roles: Vec<SopRoleHolders>,
}

/// One role's holders in `PUT /sops/{sop}/roles`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SopRoleAssignment {
    pub role: String,
    #[ts(type = "number[]")]
    pub user_ids: Vec<i64>,
}

/// Sets who holds the SOP's roles: every role of the SOP is set to the users given for it
/// (a role left out is held by nobody).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SopRolesInput {
    pub roles: Vec<SopRoleAssignment>,
}

/// Where an incident stands in its SOP.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IncidentStepState {
    pub step: String,
    pub number: u32,
    /// The SOP role that acts in this step (`None` in a final step).
    pub actor: Option<String>,
    pub is_final: bool,
    pub entered_at: DateTime<Utc>,
    /// In the SOP's calendar; `None` for a final step or a step without a standard time.
    pub due_at: Option<DateTime<Utc>>,
    pub overdue: bool,
}

/// An incident in lists and "my tasks".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IncidentSummary {
    #[ts(type = "number")]
    pub id: i64,
    /// `sop-d` or `sop-b`.
    pub sop: String,
    pub title: String,
    /// `form` (a person's report) or `guard` (opened by the website guard).
    pub source: String,
    /// The guard incident it was opened from (`source` = `guard`).
    #[ts(type = "number | null")]
    pub guard_incident_id: Option<i64>,
    /// `open` or `closed` (in a final step).
    pub state: String,
    pub current: IncidentStepState,
    /// How often the work was sent back to be done again (SOP-D: verify → resolve).
    pub loops: u32,
    /// Who reported it: the user who filed the form, or `website guard`.
    pub reporter: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

/// What an action carries besides the note: the disposition's "to whom" and instruction.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IncidentPayload {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub assignee_id: Option<i64>,
    /// The assignee's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub assignee: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub instruction: Option<String>,
}

/// One visit of a step (a row of the incident's step history).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IncidentStepVisit {
    pub step: String,
    pub number: u32,
    pub entered_at: DateTime<Utc>,
    pub due_at: Option<DateTime<Utc>>,
    /// When the step was left (`None`: the current step).
    pub left_at: Option<DateTime<Utc>>,
    /// Who took the action that left the step.
    pub actor: Option<String>,
    pub action: Option<String>,
    pub note: Option<String>,
    pub payload: IncidentPayload,
    /// Standard time in minutes of the SOP's calendar (`None` when the step has none).
    #[ts(type = "number | null")]
    pub standard_minutes: Option<i64>,
    /// Minutes spent, counted in the SOP's calendar (up to now for the current step).
    #[ts(type = "number")]
    pub actual_minutes: i64,
    /// Whether it was left by its due time (`None`: no due time, or still in time).
    pub met: Option<bool>,
    /// When the hub announced that the step passed its due time (once per visit).
    pub overdue_notified_at: Option<DateTime<Utc>>,
}

/// An action the caller may take now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IncidentAction {
    pub id: String,
    /// Step the incident moves to.
    pub to: String,
    pub requires_note: bool,
    pub requires_instruction: bool,
    /// The SOP role the assignee must hold, when the action names one.
    pub assignee_role: Option<String>,
    /// Who may be named (holders of `assignee_role`).
    pub assignees: Vec<UserRef>,
}

/// A file kept as evidence, named by its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IncidentEvidence {
    #[ts(type = "number")]
    pub id: i64,
    /// `upload` (a file a person attached) or `guard` (a page version the website guard
    /// kept, attached by reference).
    pub source: String,
    pub sha256: String,
    pub filename: String,
    #[ts(type = "number")]
    pub size: i64,
    /// For guard evidence: `good` (the last good version), `bad` (the version that raised
    /// the alarm) or `crawler` (what a search crawler got).
    pub label: String,
    /// Who attached it (`None`: the website guard).
    pub added_by: Option<String>,
    pub added_at: DateTime<Utc>,
}

/// The whole incident's time against the SOP's total (SOP-D: 2–5 working days).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IncidentElapsed {
    /// Minutes from opening to closing (or now), counted in the SOP's calendar.
    #[ts(type = "number")]
    pub working_minutes: i64,
    /// The SOP's total, lower bound, in minutes of its calendar (`None`: the SOP gives none).
    #[ts(type = "number | null")]
    pub total_min_minutes: Option<i64>,
    #[ts(type = "number | null")]
    pub total_max_minutes: Option<i64>,
    /// The total as the SOP writes it (`2-5 d`, `–`).
    pub total: String,
    /// Whether the elapsed time is past the total's upper bound.
    pub over: bool,
}

/// One incident with its history, actions, comments and evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IncidentDetail {
    pub summary: IncidentSummary,
    pub description: String,
    /// The final step it ended in (`None` while open).
    pub final_step: Option<String>,
    /// The user the last disposition named, if any.
    pub assignee: Option<UserRef>,
    /// What the caller may do now.
    pub actions: Vec<IncidentAction>,
    /// Every visit of a step, oldest first.
    pub history: Vec<IncidentStepVisit>,
    pub elapsed: IncidentElapsed,
    pub comments: Vec<Comment>,
    pub evidence: Vec<IncidentEvidence>,
}

/// A person's incident report (the form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct NewIncident {
    /// `sop-d` (network security) or `sop-b` (website security).
    pub sop: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
}

/// Takes an action of the incident's current step.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IncidentActionRequest {
    #[serde(default)]
    #[ts(optional)]
    pub note: Option<String>,
    /// The user who acts next (actions that require one: the disposition).
    #[serde(default)]
    #[ts(optional, type = "number")]
    pub assignee_id: Option<i64>,
    #[serde(default)]
    #[ts(optional)]
    pub instruction: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            let json = serde_json::to_string(&r).unwrap();
            assert_eq!(json, format!("\"{}\"", r.as_str()));
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn error_codes_are_snake_case_on_the_wire() {
        let e = ApiError {
            code: ErrorCode::InvalidTransition,
            message: "x".into(),
            field: None,
            allowed_actions: Some(vec!["submit".into()]),
            current_version: None,
            holder: None,
            retry_after_secs: None,
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["code"], "invalid_transition");
        assert_eq!(v["allowed_actions"][0], "submit");
        assert!(v.get("field").is_none());
    }
}

// ---------- reports and the dashboard ----------

/// `GET /dashboard`: for each SOP, per step, how often its standard time was met in a period
/// (visits that *entered* the step within it), with the median and 90th-percentile working
/// time. Admins, officials and publishers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Dashboard {
    /// First day of the period (YYYY-MM-DD, the office's time zone).
    pub from: String,
    /// Last day of the period, included.
    pub to: String,
    pub sops: Vec<DashboardSop>,
}

/// One SOP on the dashboard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct DashboardSop {
    /// `sop-a` … `sop-d`.
    pub id: String,
    /// The SOP's name in Indonesian and English.
    pub name_id: String,
    pub name_en: String,
    /// Whether the hub runs this SOP's workflow yet (its steps have data to count).
    pub tracked: bool,
    pub steps: Vec<DashboardStep>,
}

/// One step's figures (non-final steps only).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct DashboardStep {
    pub step: String,
    pub number: u32,
    pub activity_id: String,
    pub activity_en: String,
    /// The standard time's maximum in working minutes (`null`: the SOP gives none).
    #[ts(type = "number | null")]
    pub standard_minutes: Option<i64>,
    /// Visits that ended.
    pub count: u32,
    /// Ended visits that ended by their due time.
    pub met: u32,
    /// Visits still in progress.
    pub in_progress: u32,
    /// Share of ended visits that met the standard, 0–1 (`null`: no visits or no standard).
    pub met_rate: Option<f64>,
    /// Nearest-rank median of the working minutes taken.
    #[ts(type = "number | null")]
    pub median_minutes: Option<i64>,
    /// Nearest-rank 90th percentile of the working minutes taken.
    #[ts(type = "number | null")]
    pub p90_minutes: Option<i64>,
}
