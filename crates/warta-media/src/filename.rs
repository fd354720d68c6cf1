//! Names reporters give their files.

use crate::MediaError;

/// The longest file name accepted, in UTF-8 bytes (the limit of common file systems).
pub const MAX_FILENAME_BYTES: usize = 255;

/// Checks a file name given by a reporter and returns it cleaned of surrounding whitespace.
///
/// Refused: an empty name, `.` and `..`, path separators (`/`, `\`), control characters
/// (NUL, newline, DEL …), the invisible characters that change text direction (used to make
/// `fotoexe.jpg` display as something else), and names over [`MAX_FILENAME_BYTES`] bytes.
///
/// The name is only shown and offered on download: blobs are stored under their digest, so
/// nothing here is used as a path.
pub fn validate_filename(name: &str) -> Result<String, MediaError> {
    let bad = |reason| Err(MediaError::BadFilename { reason });
    let name = name.trim();
    if name.is_empty() {
        return bad("the name is empty");
    }
    if name == "." || name == ".." {
        return bad("\".\" and \"..\" are not file names");
    }
    if name.contains(['/', '\\']) {
        return bad("the name must not contain \"/\" or \"\\\"");
    }
    if name.chars().any(char::is_control) {
        return bad("the name must not contain control characters such as line breaks");
    }
    if name.chars().any(is_bidi_control) {
        return bad("the name must not contain invisible text-direction characters");
    }
    if name.len() > MAX_FILENAME_BYTES {
        return bad("the name is longer than 255 bytes");
    }
    Ok(name.to_owned())
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{061C}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
