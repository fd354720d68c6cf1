//! The one error type of this crate.

/// Why an attachment was not stored or could not be read.
///
/// Each variant maps to one HTTP answer of the hub: `TooLarge` → 413, `RefusedType` → 415,
/// `BadFilename` → 400, `NotFound` → 404, `Io` → 500; `Damaged` means the upload itself is
/// broken (a client error), while `ToolMissing` and `ToolFailed` only cost a preview or a web
/// copy and are best shown as a note next to the attachment. The messages are plain English
/// for logs and operators; the hub gives the user a localised text chosen by variant.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The content is larger than the limit the caller set.
    #[error("the file is larger than the limit of {} ({limit} bytes)", human_size(*limit))]
    TooLarge {
        /// The limit, in bytes.
        limit: u64,
    },
    /// The content is not a photo, office document/PDF or video we accept.
    #[error("this file cannot be attached: {reason} (detected type: {detected})")]
    RefusedType {
        /// What the bytes look like, as a MIME type where known (`unknown` otherwise).
        detected: String,
        /// Why it is refused, in plain English.
        reason: String,
    },
    /// The file name cannot be used.
    #[error("the file name cannot be used: {reason}")]
    BadFilename {
        /// What is wrong with it, in plain English.
        reason: &'static str,
    },
    /// No blob with this digest is stored (or the digest is not a SHA-256 in hex).
    #[error("no stored file has the digest {sha256:?}")]
    NotFound {
        /// The digest asked for.
        sha256: String,
    },
    /// The file claims to be a type we accept but its structure is broken or cut short
    /// (a PDF without a readable page tree is not this: it gets `pages: None`).
    #[error("the file is damaged or incomplete: {reason}")]
    Damaged {
        /// What is wrong, in plain English.
        reason: String,
    },
    /// A program needed for this step (a PDF preview, a video poster or web copy) is not
    /// installed on this computer. Found at run time, so installing it later is enough.
    #[error("{tool} is not installed; install {package} for {purpose}")]
    ToolMissing {
        /// The program looked for on `PATH`, e.g. `pdftoppm`.
        tool: &'static str,
        /// The Debian/Ubuntu package that provides it, e.g. `poppler-utils`.
        package: &'static str,
        /// What it is needed for, e.g. `PDF previews`.
        purpose: &'static str,
    },
    /// A helper program ran but did not produce its output: it failed on this file or was
    /// stopped after its time limit.
    #[error("{tool} could not process the file: {reason}")]
    ToolFailed {
        /// The program, e.g. `ffmpeg`.
        tool: &'static str,
        /// Its own last words, or that it ran out of time.
        reason: String,
    },
    /// A file handed to [`crate::BlobStore::adopt_file`] does not hash to the digest it was
    /// announced with; it was not stored.
    #[error("the file's SHA-256 is {actual}, not the {expected} it was announced with")]
    DigestMismatch {
        /// The digest the sender declared.
        expected: String,
        /// What the bytes hash to.
        actual: String,
    },
    /// The work was stopped from outside before it finished (the hub is shutting down);
    /// nothing was written.
    #[error("the work was stopped before it finished")]
    Stopped,
    /// The disk failed us.
    #[error("the file store could not be read or written: {0}")]
    Io(#[from] std::io::Error),
}

fn human_size(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
}
