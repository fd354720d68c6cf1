use std::fmt;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::Error;

const MAX_ID_LEN: usize = 128;
const MAX_NAMESPACE_LEN: usize = 64;

/// The name of one secret inside an office, e.g. `target/3` for publishing target 3's
/// application password or webhook key.
///
/// Ids are not secret (they show in the keyring's item list and in error messages), so they are
/// restricted to lower-case ASCII letters, digits and `/ - _ .`, at most 128 bytes, with no empty
/// segment between slashes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SecretId(String);

impl SecretId {
    /// Checks and wraps an id such as `target/3` or `target/3/webhook`.
    pub fn new(id: impl Into<String>) -> Result<Self, Error> {
        let id = id.into();
        let valid_chars = id.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'/' | b'-' | b'_' | b'.')
        });
        if id.is_empty()
            || id.len() > MAX_ID_LEN
            || !valid_chars
            || id.split('/').any(|segment| segment.is_empty())
        {
            return Err(Error::InvalidId(id));
        }
        Ok(Self(id))
    }

    /// The id of publishing target `n`'s secret: `target/<n>`.
    pub fn target(n: i64) -> Self {
        Self(format!("target/{n}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for SecretId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretId({})", self.0)
    }
}

/// Checks a namespace given to a store: 1 to 64 ASCII letters, digits, `-`, `_` or `.`.
pub(crate) fn check_namespace(namespace: &str) -> Result<(), Error> {
    let ok = !namespace.is_empty()
        && namespace.len() <= MAX_NAMESPACE_LEN
        && namespace
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidNamespace(namespace.to_owned()))
    }
}

/// A namespace derived from an office's data directory: the first 16 hex digits of the SHA-256
/// of its canonical path (the path as given when it cannot be canonicalised, e.g. before it
/// exists).
///
/// Two offices, or two test runs in two temporary directories, get different namespaces and so
/// never see each other's secrets. Moving the directory changes the namespace: the secrets stay in
/// the keyring under the old one and the publisher has to enter them again. A hub that keeps a
/// stable office id of its own can pass that to [`crate::KeyringStore::new`] instead.
pub fn namespace_for_data_dir(data_dir: &Path) -> String {
    let path = data_dir
        .canonicalize()
        .unwrap_or_else(|_| data_dir.to_path_buf());
    let digest = Sha256::digest(path.as_os_str().as_encoded_bytes());
    hex::encode(&digest[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids() {
        assert_eq!(SecretId::target(3).as_str(), "target/3");
        assert_eq!(
            SecretId::new("target/3/webhook").unwrap().as_str(),
            "target/3/webhook"
        );
        for bad in [
            "",
            "/target",
            "target/",
            "target//3",
            "Target/3",
            "target 3",
            "ziel/ü",
            &"a".repeat(129),
        ] {
            assert!(
                matches!(SecretId::new(bad), Err(Error::InvalidId(_))),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn namespaces() {
        assert!(check_namespace("office-1.test_A").is_ok());
        for bad in ["", "a b", "a/b", "a:b", &"a".repeat(65)] {
            assert!(check_namespace(bad).is_err(), "{bad:?} was accepted");
        }
        let a = namespace_for_data_dir(Path::new("/srv/warta/office-a"));
        let b = namespace_for_data_dir(Path::new("/srv/warta/office-b"));
        assert_eq!(a.len(), 16);
        assert_ne!(a, b);
        assert_eq!(a, namespace_for_data_dir(Path::new("/srv/warta/office-a")));
        assert!(check_namespace(&a).is_ok());
    }
}
