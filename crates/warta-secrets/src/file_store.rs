//! Secrets encrypted in one file of the data directory, for servers without a keyring.

use std::collections::BTreeMap;
use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
#[cfg(unix)]
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::{Error, MAX_SECRET_BYTES, Secret, SecretId, SecretStore};

/// The secrets file's name in the data directory.
pub const SECRETS_FILE_NAME: &str = "secrets.enc";

/// The `format` of the file; also the start of every entry's associated data.
const FORMAT: &str = "warta-secrets/1";
const CIPHER: &str = "XChaCha20-Poly1305";
const NONCE_LEN: usize = 24;
/// A key file is at most this long (64 hex digits and a line end, with room for spaces).
const MAX_KEY_FILE_BYTES: u64 = 256;

/// Read-modify-write of a secrets file, one at a time in this process (the hub is the one
/// process that writes it).
static FILE_WRITES: Mutex<()> = Mutex::new(());

/// The 32-byte key of a [`FileStore`]. Printed as `[redacted]`, zeroed when dropped.
///
/// A key file holds the key as 64 hexadecimal digits and a line end (what
/// [`SecretsKey::create_file`] writes, easy to copy to a password manager or paper), or as the
/// 32 bytes themselves (e.g. `head -c 32 /dev/urandom`).
pub struct SecretsKey(Zeroizing<[u8; 32]>);

impl SecretsKey {
    /// A new key from the operating system's random generator.
    pub fn generate() -> Self {
        let key = XChaCha20Poly1305::generate_key(&mut OsRng);
        let mut bytes = Zeroizing::new([0u8; 32]);
        bytes.copy_from_slice(&key);
        Self(bytes)
    }

    /// Reads a key file. Refused: a file every user of the machine may read (its mode gives
    /// "others" any access), or one that is not 64 hex digits or 32 bytes.
    pub fn read_file(path: &Path) -> Result<Self, Error> {
        let problem = |problem: String| Error::KeyFile {
            path: path.to_path_buf(),
            problem,
        };
        let mut file = File::open(path).map_err(|e| problem(format!("cannot be read: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| problem(format!("cannot be read: {e}")))?;
        if !meta.is_file() {
            return Err(problem("is not a file".into()));
        }
        #[cfg(unix)]
        {
            let mode = meta.permissions().mode() & 0o777;
            if mode & 0o007 != 0 {
                return Err(problem(format!(
                    "may be read by every user of this machine (mode {mode:o}); make it \
                     private with chmod 600 and try again"
                )));
            }
        }
        if meta.len() > MAX_KEY_FILE_BYTES {
            return Err(problem(
                "is too long to be a key (64 hexadecimal digits, or 32 bytes)".into(),
            ));
        }
        let mut raw = Zeroizing::new(Vec::new());
        file.read_to_end(&mut raw)
            .map_err(|e| problem(format!("cannot be read: {e}")))?;
        let mut bytes = Zeroizing::new([0u8; 32]);
        if raw.len() == 32 {
            bytes.copy_from_slice(&raw);
            return Ok(Self(bytes));
        }
        let text = std::str::from_utf8(&raw).unwrap_or("").trim();
        if text.len() == 64 && hex::decode_to_slice(text, &mut bytes[..]).is_ok() {
            return Ok(Self(bytes));
        }
        Err(problem(
            "does not hold a key: expected 64 hexadecimal digits (as `warta secrets init-key` \
             writes) or 32 bytes"
                .into(),
        ))
    }

    /// Makes a new key and writes it to `path` (64 hex digits and a line end, mode 0600,
    /// flushed to disk). Never replaces an existing file: losing the old key would lose every
    /// secret encrypted with it.
    pub fn create_file(path: &Path) -> Result<Self, Error> {
        let key = Self::generate();
        let problem = |problem: String| Error::KeyFile {
            path: path.to_path_buf(),
            problem,
        };
        let mut file = private_new_file().open(path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                problem(
                    "already exists and is kept: the secrets encrypted with it would be \
                         lost. Remove it yourself if that is really meant, or pick another path"
                        .into(),
                )
            } else {
                problem(format!("cannot be created: {e}"))
            }
        })?;
        let mut text = Zeroizing::new(hex::encode(&key.0[..]));
        text.push('\n');
        let written = file
            .write_all(text.as_bytes())
            .and_then(|()| file.sync_all());
        if let Err(e) = written {
            drop(file);
            let _ = std::fs::remove_file(path);
            return Err(problem(format!("cannot be written: {e}")));
        }
        if let Some(dir) = path.parent() {
            sync_dir(dir);
        }
        Ok(key)
    }

    /// A short public name of the key (16 hex digits of a hash of it), kept in the secrets file
    /// so that a wrong key is told apart from a damaged file. It reveals nothing of the key.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"warta-secrets key id\0");
        h.update(&self.0[..]);
        hex::encode(&h.finalize()[..8])
    }
}

impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretsKey({} [redacted])", self.id())
    }
}

/// What the file holds (JSON).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Contents {
    format: String,
    cipher: String,
    key_id: String,
    entries: BTreeMap<String, Sealed>,
}

/// One encrypted secret: its own random nonce, and the ciphertext with its 16-byte tag.
#[derive(Serialize, Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Sealed {
    nonce: String,
    sealed: String,
}

/// Secrets encrypted in `<data dir>/secrets.enc` with a key kept outside the data directory.
///
/// For an office hub on a server with no keyring (no desktop session, no Secret Service): each
/// secret is sealed with XChaCha20-Poly1305 under its own random 24-byte nonce, with the
/// secret's id bound as associated data, so an entry moved under another id, or any changed
/// byte, fails to open instead of giving a wrong secret. The file records the key's
/// [`SecretsKey::id`], so a wrong key is named as such. Every change rewrites the file
/// atomically (a temporary file in the same folder, flushed, renamed over the old one, the
/// folder flushed) with mode 0600; a change that fails leaves the old file as it was.
///
/// The key comes from a file outside the data directory (the `secrets_key_file` setting, or the
/// systemd credential `warta-secrets-key`), so a copy of the data directory or a backup alone
/// reveals no secret. A file that cannot be opened refuses writes too: nothing is overwritten
/// until an administrator has looked.
pub struct FileStore {
    path: PathBuf,
    cipher: XChaCha20Poly1305,
    key_id: String,
    #[cfg(test)]
    fail_write_after: std::sync::atomic::AtomicUsize,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileStore")
            .field("path", &self.path)
            .field("key_id", &self.key_id)
            .finish_non_exhaustive()
    }
}

impl FileStore {
    /// The store of the office in `data_dir`, with `key`. When the file exists it is read now:
    /// a wrong key or a file that is not a secrets file is refused at once (a hub then refuses
    /// to start rather than fail at the first publish).
    pub fn open(data_dir: &Path, key: &SecretsKey) -> Result<Self, Error> {
        let store = FileStore {
            path: data_dir.join(SECRETS_FILE_NAME),
            cipher: XChaCha20Poly1305::new(key.0.as_slice().into()),
            key_id: key.id(),
            #[cfg(test)]
            fail_write_after: std::sync::atomic::AtomicUsize::new(usize::MAX),
        };
        store.load()?;
        Ok(store)
    }

    /// The file the secrets are kept in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The ids of the stored secrets, after checking that every one opens with this store's
    /// key (`warta secrets check`). The first that does not is the error.
    pub fn check(&self) -> Result<Vec<SecretId>, Error> {
        let entries = self.load()?;
        self.check_all(&entries)?;
        entries
            .keys()
            .map(|id| {
                SecretId::new(id.as_str())
                    .map_err(|_| self.damaged(format!("{id:?} is not a secret id")))
            })
            .collect()
    }

    /// Seals every secret again under `new` and records its key id, in one atomic rewrite
    /// (`warta secrets rekey`, with the hub stopped: a running hub keeps the old key and would
    /// then refuse the file). Nothing is written unless every secret opens with the old key.
    /// Returns how many secrets were sealed again.
    pub fn rekey(&self, new: &SecretsKey) -> Result<usize, Error> {
        let _one_at_a_time = FILE_WRITES.lock().unwrap_or_else(PoisonError::into_inner);
        let entries = self.load()?;
        let next = FileStore {
            path: self.path.clone(),
            cipher: XChaCha20Poly1305::new(new.0.as_slice().into()),
            key_id: new.id(),
            #[cfg(test)]
            fail_write_after: std::sync::atomic::AtomicUsize::new(usize::MAX),
        };
        let mut sealed = BTreeMap::new();
        for (id, entry) in &entries {
            let secret = self.open_entry(id, entry)?;
            let secret_id = SecretId::new(id.as_str())
                .map_err(|_| self.damaged(format!("{id:?} is not a secret id")))?;
            sealed.insert(id.clone(), next.seal(&secret_id, &secret)?);
        }
        next.save(sealed)?;
        Ok(entries.len())
    }

    fn damaged(&self, problem: impl Into<String>) -> Error {
        Error::Damaged {
            path: self.path.clone(),
            problem: problem.into(),
        }
    }

    /// The file's entries (still sealed), after checking its format and key id.
    fn load(&self) -> Result<BTreeMap<String, Sealed>, Error> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => {
                return Err(Error::FileAccess {
                    action: "read",
                    path: self.path.clone(),
                    detail: e.to_string(),
                });
            }
        };
        let contents: Contents = serde_json::from_slice(&bytes)
            .map_err(|e| self.damaged(format!("it is not a Warta secrets file ({e})")))?;
        if contents.format != FORMAT || contents.cipher != CIPHER {
            return Err(self.damaged(format!(
                "its format is {} with {}, this Warta reads {FORMAT} with {CIPHER}",
                contents.format, contents.cipher
            )));
        }
        if contents.key_id != self.key_id {
            return Err(Error::WrongKey {
                path: self.path.clone(),
                file_key: contents.key_id,
                given_key: self.key_id.clone(),
            });
        }
        Ok(contents.entries)
    }

    fn associated_data(id: &str) -> Vec<u8> {
        let mut ad = Vec::with_capacity(FORMAT.len() + 1 + id.len());
        ad.extend_from_slice(FORMAT.as_bytes());
        ad.push(0);
        ad.extend_from_slice(id.as_bytes());
        ad
    }

    fn seal(&self, id: &SecretId, secret: &Secret) -> Result<Sealed, Error> {
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: &Self::associated_data(id.as_str()),
                },
            )
            .map_err(|_| Error::FileAccess {
                action: "encrypt a secret for",
                path: self.path.clone(),
                detail: "the cipher refused the input".into(),
            })?;
        Ok(Sealed {
            nonce: hex::encode(nonce),
            sealed: hex::encode(sealed),
        })
    }

    fn open_entry(&self, id: &str, entry: &Sealed) -> Result<Secret, Error> {
        let bad = || {
            self.damaged(format!(
                "the entry {id} does not decrypt with this key (changed, or moved from another entry)"
            ))
        };
        let mut nonce = [0u8; NONCE_LEN];
        hex::decode_to_slice(&entry.nonce, &mut nonce).map_err(|_| bad())?;
        let sealed = hex::decode(&entry.sealed).map_err(|_| bad())?;
        let plain = Zeroizing::new(
            self.cipher
                .decrypt(
                    XNonce::from_slice(&nonce),
                    Payload {
                        msg: &sealed,
                        aad: &Self::associated_data(id),
                    },
                )
                .map_err(|_| bad())?,
        );
        let text = std::str::from_utf8(&plain).map_err(|_| bad())?;
        Ok(Secret::new(text))
    }

    /// Writes the entries to a temporary file beside the secrets file and renames it over.
    fn save(&self, entries: BTreeMap<String, Sealed>) -> Result<(), Error> {
        let access = |action: &'static str, e: std::io::Error| Error::FileAccess {
            action,
            path: self.path.clone(),
            detail: e.to_string(),
        };
        let contents = Contents {
            format: FORMAT.into(),
            cipher: CIPHER.into(),
            key_id: self.key_id.clone(),
            entries,
        };
        let mut bytes = serde_json::to_vec_pretty(&contents)
            .map_err(|e| access("write", std::io::Error::other(e)))?;
        bytes.push(b'\n');
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(format!(
            ".{SECRETS_FILE_NAME}.{}.{}.tmp",
            std::process::id(),
            hex::encode(rand_suffix())
        ));
        let mut file = private_new_file()
            .open(&tmp)
            .map_err(|e| access("write", e))?;
        let written = self
            .write_all(&mut file, &bytes)
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::rename(&tmp, &self.path));
        drop(file);
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(access("write", e));
        }
        sync_dir(dir);
        Ok(())
    }

    #[cfg(not(test))]
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
        file.write_all(bytes)
    }

    /// In unit tests the write can be made to fail after some bytes, as a full disk would.
    #[cfg(test)]
    fn write_all(&self, file: &mut File, bytes: &[u8]) -> std::io::Result<()> {
        let limit = self
            .fail_write_after
            .load(std::sync::atomic::Ordering::SeqCst);
        if bytes.len() > limit {
            file.write_all(&bytes[..limit])?;
            return Err(std::io::Error::other("no space left on device (test)"));
        }
        file.write_all(bytes)
    }

    /// Every entry must open before anything is written: a damaged or altered file is kept
    /// as it is for an administrator to look at.
    fn check_all(&self, entries: &BTreeMap<String, Sealed>) -> Result<(), Error> {
        for (id, entry) in entries {
            self.open_entry(id, entry)?;
        }
        Ok(())
    }
}

/// Options creating a new file that only its owner may read and write (mode 0600 on Unix).
fn private_new_file() -> OpenOptions {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    options.mode(0o600);
    options
}

fn rand_suffix() -> [u8; 8] {
    let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
    let mut out = [0u8; 8];
    out.copy_from_slice(&nonce[..8]);
    out
}

/// Flushes a folder's entries (a rename or a new file in it) to disk; best effort.
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

impl SecretStore for FileStore {
    fn set(&self, id: &SecretId, secret: &Secret) -> Result<(), Error> {
        if secret.is_empty() {
            return Err(Error::EmptySecret);
        }
        if secret.len() > MAX_SECRET_BYTES {
            return Err(Error::TooLong {
                len: secret.len(),
                max: MAX_SECRET_BYTES,
            });
        }
        let _one_at_a_time = FILE_WRITES.lock().unwrap_or_else(PoisonError::into_inner);
        let mut entries = self.load()?;
        self.check_all(&entries)?;
        entries.insert(id.as_str().to_owned(), self.seal(id, secret)?);
        self.save(entries)
    }

    fn get(&self, id: &SecretId) -> Result<Option<Secret>, Error> {
        let entries = self.load()?;
        match entries.get(id.as_str()) {
            Some(entry) => self.open_entry(id.as_str(), entry).map(Some),
            None => Ok(None),
        }
    }

    fn delete(&self, id: &SecretId) -> Result<(), Error> {
        let _one_at_a_time = FILE_WRITES.lock().unwrap_or_else(PoisonError::into_inner);
        let mut entries = self.load()?;
        if !entries.contains_key(id.as_str()) {
            return Ok(());
        }
        self.check_all(&entries)?;
        entries.remove(id.as_str());
        self.save(entries)
    }
}

#[cfg(all(test, unix))]
mod tests {
    use std::sync::atomic::Ordering;

    use super::*;

    fn store(dir: &Path, key: &SecretsKey) -> FileStore {
        FileStore::open(dir, key).unwrap()
    }

    fn get(store: &FileStore, n: i64) -> Result<Option<String>, Error> {
        store
            .get(&SecretId::target(n))
            .map(|s| s.map(|s| s.expose_secret().to_owned()))
    }

    fn read_json(path: &Path) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
    }

    #[test]
    fn round_trip_survives_a_new_store_and_never_shows_the_secret() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretsKey::generate();
        let s = store(dir.path(), &key);
        assert_eq!(get(&s, 1).unwrap(), None);
        s.set(&SecretId::target(1), &Secret::new("abcd EFGH 1234 ijkl"))
            .unwrap();
        s.set(&SecretId::target(2), &Secret::new("kunci-webhook-rahasia"))
            .unwrap();
        s.set(&SecretId::target(1), &Secret::new("ganti-kata-sandi"))
            .unwrap();
        let again = store(dir.path(), &key);
        assert_eq!(get(&again, 1).unwrap().as_deref(), Some("ganti-kata-sandi"));
        assert_eq!(
            get(&again, 2).unwrap().as_deref(),
            Some("kunci-webhook-rahasia")
        );
        again.delete(&SecretId::target(1)).unwrap();
        again.delete(&SecretId::target(1)).unwrap();
        assert_eq!(get(&s, 1).unwrap(), None);
        assert!(get(&s, 2).unwrap().is_some());

        let bytes = std::fs::read(s.path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for plain in ["kunci-webhook", "ganti-kata", "abcd EFGH"] {
            assert!(!text.contains(plain), "{plain} in the file:\n{text}");
        }
        // Each write gets its own nonce: the same secret stored twice looks different.
        let before = read_json(s.path())["entries"]["target/2"].clone();
        s.set(&SecretId::target(2), &Secret::new("kunci-webhook-rahasia"))
            .unwrap();
        let after = read_json(s.path())["entries"]["target/2"].clone();
        assert_ne!(before["nonce"], after["nonce"]);
        assert_ne!(before["sealed"], after["sealed"]);
        assert!(
            std::fs::read_dir(dir.path()).unwrap().all(|e| !e
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")),
            "a temporary file was left behind"
        );
        assert!(matches!(
            s.set(&SecretId::target(3), &Secret::new("")),
            Err(Error::EmptySecret)
        ));
    }

    #[test]
    fn the_file_is_private_even_when_the_umask_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), &SecretsKey::generate());
        s.set(&SecretId::target(1), &Secret::new("rahasia"))
            .unwrap();
        let mode = std::fs::metadata(s.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // Someone loosened it: the next write makes it private again.
        std::fs::set_permissions(s.path(), std::fs::Permissions::from_mode(0o644)).unwrap();
        s.set(&SecretId::target(2), &Secret::new("rahasia-2"))
            .unwrap();
        let mode = std::fs::metadata(s.path()).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }

    #[test]
    fn a_wrong_key_is_named_and_nothing_is_read_or_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretsKey::generate();
        let s = store(dir.path(), &key);
        s.set(&SecretId::target(1), &Secret::new("rahasia"))
            .unwrap();
        let before = std::fs::read(s.path()).unwrap();

        let other = SecretsKey::generate();
        let err = FileStore::open(dir.path(), &other).unwrap_err();
        assert!(matches!(err, Error::WrongKey { .. }), "{err}");
        let text = err.to_string();
        assert!(text.contains("written with another key"), "{text}");
        assert!(
            text.contains(&key.id()) && text.contains(&other.id()),
            "{text}"
        );
        assert!(err.is_unavailable());

        // A store opened before the file was replaced under it refuses too.
        let dir2 = tempfile::tempdir().unwrap();
        let s2 = store(dir2.path(), &other);
        std::fs::copy(s.path(), s2.path()).unwrap();
        assert!(matches!(get(&s2, 1), Err(Error::WrongKey { .. })));
        assert!(matches!(
            s2.set(&SecretId::target(2), &Secret::new("x")),
            Err(Error::WrongKey { .. })
        ));
        assert!(matches!(
            s2.delete(&SecretId::target(1)),
            Err(Error::WrongKey { .. })
        ));
        assert_eq!(std::fs::read(s2.path()).unwrap(), before);
    }

    #[test]
    fn a_wrong_key_id_in_the_file_does_not_let_a_wrong_key_decrypt() {
        // Editing the recorded key id to match another key still gives no secret.
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), &SecretsKey::generate());
        s.set(&SecretId::target(1), &Secret::new("rahasia"))
            .unwrap();
        let other = SecretsKey::generate();
        let mut v = read_json(s.path());
        v["key_id"] = other.id().into();
        std::fs::write(s.path(), serde_json::to_vec(&v).unwrap()).unwrap();
        let s2 = store(dir.path(), &other);
        let err = get(&s2, 1).unwrap_err();
        assert!(matches!(err, Error::Damaged { .. }), "{err}");
        assert!(err.to_string().contains("entry target/1"), "{err}");
    }

    #[test]
    fn tampered_ciphertext_is_refused_and_writes_wait_for_an_administrator() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretsKey::generate();
        let s = store(dir.path(), &key);
        s.set(&SecretId::target(1), &Secret::new("rahasia-satu"))
            .unwrap();
        s.set(&SecretId::target(2), &Secret::new("rahasia-dua"))
            .unwrap();
        let mut v = read_json(s.path());
        let sealed = v["entries"]["target/1"]["sealed"].as_str().unwrap();
        let mut bytes = hex::decode(sealed).unwrap();
        bytes[0] ^= 1;
        v["entries"]["target/1"]["sealed"] = hex::encode(bytes).into();
        std::fs::write(s.path(), serde_json::to_vec(&v).unwrap()).unwrap();
        let tampered = std::fs::read(s.path()).unwrap();

        let err = get(&s, 1).unwrap_err();
        assert!(matches!(err, Error::Damaged { .. }), "{err}");
        assert!(err.to_string().contains("damaged or was altered"), "{err}");
        assert!(err.is_unavailable());
        // The untouched entry still opens; no write goes through while one entry is bad.
        assert_eq!(get(&s, 2).unwrap().as_deref(), Some("rahasia-dua"));
        assert!(matches!(
            s.set(&SecretId::target(3), &Secret::new("baru")),
            Err(Error::Damaged { .. })
        ));
        assert!(matches!(
            s.delete(&SecretId::target(2)),
            Err(Error::Damaged { .. })
        ));
        assert_eq!(std::fs::read(s.path()).unwrap(), tampered);

        // A truncated or garbled file is named as such.
        std::fs::write(s.path(), &tampered[..tampered.len() / 2]).unwrap();
        let err = FileStore::open(dir.path(), &key).unwrap_err();
        assert!(
            err.to_string().contains("not a Warta secrets file"),
            "{err}"
        );
    }

    #[test]
    fn swapped_entries_do_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let s = store(dir.path(), &SecretsKey::generate());
        s.set(&SecretId::target(1), &Secret::new("kata-sandi-wordpress"))
            .unwrap();
        s.set(&SecretId::target(2), &Secret::new("kunci-webhook"))
            .unwrap();
        let mut v = read_json(s.path());
        let one = v["entries"]["target/1"].clone();
        v["entries"]["target/1"] = v["entries"]["target/2"].clone();
        v["entries"]["target/2"] = one;
        std::fs::write(s.path(), serde_json::to_vec(&v).unwrap()).unwrap();
        for n in [1, 2] {
            let err = get(&s, n).unwrap_err();
            assert!(matches!(err, Error::Damaged { .. }), "{err}");
            assert!(
                err.to_string().contains(&format!("entry target/{n}")),
                "{err}"
            );
        }
    }

    #[test]
    fn a_write_failing_midway_leaves_the_old_file_intact_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let key = SecretsKey::generate();
        let s = store(dir.path(), &key);
        s.set(&SecretId::target(1), &Secret::new("lama")).unwrap();
        let before = std::fs::read(s.path()).unwrap();

        s.fail_write_after.store(40, Ordering::SeqCst);
        let err = s
            .set(&SecretId::target(2), &Secret::new("baru"))
            .unwrap_err();
        assert!(matches!(err, Error::FileAccess { .. }), "{err}");
        assert!(
            err.to_string().contains("cannot write the secrets file"),
            "{err}"
        );
        assert!(err.to_string().contains("no space left"), "{err}");
        assert_eq!(std::fs::read(s.path()).unwrap(), before);
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, vec![SECRETS_FILE_NAME.to_string()]);
        let again = store(dir.path(), &key);
        assert_eq!(get(&again, 1).unwrap().as_deref(), Some("lama"));
        assert_eq!(get(&again, 2).unwrap(), None);
    }

    #[test]
    fn check_lists_what_opens_and_rekey_moves_every_secret_to_the_new_key() {
        let dir = tempfile::tempdir().unwrap();
        let old = SecretsKey::generate();
        let s = store(dir.path(), &old);
        s.set(&SecretId::target(1), &Secret::new("satu")).unwrap();
        s.set(&SecretId::target(2), &Secret::new("dua")).unwrap();
        let ids: Vec<String> = s.check().unwrap().iter().map(|i| i.to_string()).collect();
        assert_eq!(ids, ["target/1", "target/2"]);

        let new = SecretsKey::generate();
        assert_eq!(s.rekey(&new).unwrap(), 2);
        assert!(matches!(
            FileStore::open(dir.path(), &old),
            Err(Error::WrongKey { .. })
        ));
        let moved = store(dir.path(), &new);
        assert_eq!(get(&moved, 1).unwrap().as_deref(), Some("satu"));
        assert_eq!(get(&moved, 2).unwrap().as_deref(), Some("dua"));
        assert_eq!(mode_of(moved.path()), 0o600);

        // A damaged entry stops both, and rekey writes nothing.
        let mut v = read_json(moved.path());
        v["entries"]["target/2"]["sealed"] = "00".into();
        std::fs::write(moved.path(), serde_json::to_vec(&v).unwrap()).unwrap();
        let before = std::fs::read(moved.path()).unwrap();
        let err = moved.check().unwrap_err();
        assert!(err.to_string().contains("entry target/2"), "{err}");
        assert!(matches!(
            moved.rekey(&SecretsKey::generate()),
            Err(Error::Damaged { .. })
        ));
        assert_eq!(std::fs::read(moved.path()).unwrap(), before);
    }

    fn mode_of(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn key_files_are_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secrets.key");
        let key = SecretsKey::create_file(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.len(), 65);
        assert!(text.ends_with('\n'));
        assert_eq!(SecretsKey::read_file(&path).unwrap().id(), key.id());
        assert!(!format!("{key:?}").contains(text.trim()));

        // Never overwritten.
        let err = SecretsKey::create_file(&path).unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text);

        // 32 raw bytes are a key too.
        let raw = dir.path().join("raw.key");
        std::fs::write(&raw, [7u8; 32]).unwrap();
        std::fs::set_permissions(&raw, std::fs::Permissions::from_mode(0o400)).unwrap();
        SecretsKey::read_file(&raw).unwrap();

        // Readable by everyone, not a key, missing: refused with words.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = SecretsKey::read_file(&path).unwrap_err();
        assert!(err.to_string().contains("chmod 600"), "{err}");
        let junk = dir.path().join("junk.key");
        std::fs::write(&junk, "not a key\n").unwrap();
        std::fs::set_permissions(&junk, std::fs::Permissions::from_mode(0o600)).unwrap();
        let err = SecretsKey::read_file(&junk).unwrap_err();
        assert!(err.to_string().contains("does not hold a key"), "{err}");
        let err = SecretsKey::read_file(&dir.path().join("missing")).unwrap_err();
        assert!(err.to_string().contains("cannot be read"), "{err}");
    }
}
