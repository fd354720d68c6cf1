use std::fmt;

use zeroize::Zeroizing;

/// The longest secret accepted, in bytes of UTF-8.
///
/// WordPress application passwords are 24 characters (29 with their spaces) and webhook keys a
/// few dozen; the limit is there so that every platform behaves the same: the Windows Credential
/// Manager holds at most 2,560 bytes, which the keyring crate fills with UTF-16.
pub const MAX_SECRET_BYTES: usize = 1024;

/// A secret value: an application password, a webhook signing key.
///
/// It cannot be printed by accident: `Debug` and `Display` both show `[redacted]`, and it is
/// neither `Serialize` nor comparable. The one way to the text is [`Secret::expose_secret`], to be
/// called where the value goes on the wire (an `Authorization` header, an HMAC key) and nowhere
/// else. The buffer is overwritten with zeros when the value is dropped; copies that the keyring
/// crate, libdbus or the keyring daemon make on the way are out of this type's reach.
#[derive(Clone)]
pub struct Secret(Zeroizing<String>);

impl Secret {
    /// Wraps a value. Passing a `String` moves its buffer in without a copy.
    pub fn new(value: impl Into<String>) -> Self {
        Self(Zeroizing::new(value.into()))
    }

    /// The secret's text. Use it only to hand the value to the code that sends it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }

    /// The length in bytes (UTF-8).
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the value is empty (an empty secret cannot be stored).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_are_redacted() {
        let secret = Secret::new("abcd EFGH 1234 ijkl");
        assert_eq!(format!("{secret}"), "[redacted]");
        assert_eq!(format!("{secret:?}"), "Secret([redacted])");
        assert_eq!(format!("{secret:#?}"), "Secret([redacted])");
        assert_eq!(format!("{:?}", Some(&secret)), "Some(Secret([redacted]))");
        assert_eq!(secret.expose_secret(), "abcd EFGH 1234 ijkl");
        assert_eq!(secret.len(), 19);
    }
}
