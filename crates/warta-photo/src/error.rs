use std::io;

/// Why a photo could not be turned into renditions. The `Display` text is plain English that
/// can be shown to a reporter as it is.
#[derive(Debug, thiserror::Error)]
pub enum PhotoError {
    /// The header declares more pixels than [`crate::PhotoConfig::max_pixels`]; nothing was decoded.
    #[error(
        "the photo declares {width}×{height} pixels, more than the limit of {limit} pixels, so it was not opened"
    )]
    TooManyPixels { width: u32, height: u32, limit: u64 },
    /// The bytes are not a photo type Warta handles (`what` says what they are, if known).
    #[error("this file is {what}, not a photo Warta can use (JPEG, PNG, WebP, TIFF or HEIC)")]
    Unsupported { what: String },
    /// The file looks like a supported photo but is damaged, cut short or inconsistent.
    #[error("the photo is damaged or incomplete: {reason}")]
    Corrupt { reason: String },
    /// A HEIC/HEIF photo, and the `heif-convert` program is not installed.
    #[error(
        "this is a HEIC photo (as iPhones take them); opening it needs the heif-convert program \
         (Debian/Ubuntu package libheif-examples), which is not installed on this computer"
    )]
    HeicUnavailable,
    /// Reading the file (or a temporary file for HEIC) failed, or an encoder failed.
    #[error("could not read the photo: {0}")]
    Io(#[from] io::Error),
}

impl PhotoError {
    pub(crate) fn corrupt(reason: impl Into<String>) -> Self {
        PhotoError::Corrupt {
            reason: reason.into(),
        }
    }

    pub(crate) fn unsupported(what: impl Into<String>) -> Self {
        PhotoError::Unsupported { what: what.into() }
    }
}
