#![forbid(unsafe_code)]
//! Attachments: a content-addressed blob store, file types told from the bytes, and checks
//! on the names reporters give their files.
//!
//! Architecture Invariant: a file's type is decided from its content only ([`detect`],
//! [`detect_file`]); its name is never trusted for that. A `.exe` renamed `.pdf` is refused.
//!
//! Architecture Invariant: a blob's address is the SHA-256 of its content, computed while it
//! is written; uploads are streamed to disk, never held whole in memory.

mod detect;
mod error;
mod filename;
mod store;

pub use detect::{Detected, Kind, SNIFF_LEN, detect, detect_file};
pub use error::MediaError;
pub use filename::{MAX_FILENAME_BYTES, validate_filename};
pub use store::{BlobStore, StoredBlob};
