#![forbid(unsafe_code)]
//! Attachments: a content-addressed blob store, file types told from the bytes, and checks
//! on the names reporters give their files.
//!
//! Architecture Invariant: a file's type is decided from its content only ([`detect`],
//! [`detect_file`]); its name is never trusted for that. A `.exe` renamed `.pdf` is refused.
//!
//! Architecture Invariant: a video is never read whole: [`probe_video`] reads container
//! headers and seeks over the media data. External programs (`pdftoppm`, `ffmpeg`) are
//! found at run time, run with a time limit, and their absence is an error of its own
//! ([`MediaError::ToolMissing`]), never a crash or a hang.
//!
//! Architecture Invariant: a blob's address is the SHA-256 of its content, computed while it
//! is written; uploads are streamed to disk, never held whole in memory.

mod detect;
pub mod document;
mod error;
mod filename;
mod store;
mod tool;
pub mod video;

pub use detect::{Detected, Kind, SNIFF_LEN, detect, detect_file};
pub use error::MediaError;
pub use filename::{MAX_FILENAME_BYTES, validate_filename};
pub use store::{BlobStore, StoredBlob};

pub use document::{DOCUMENT_MAX_BYTES, DocumentInfo, DocumentKind, document_info, pdf_preview};
pub use video::{
    Container, VideoInfo, ffmpeg_available, poster_frame, probe_video, probe_video_from,
    transcode_web, transcode_web_until,
};
