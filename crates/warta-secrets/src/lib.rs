//! Publishing-target secrets (WordPress application passwords, webhook signing keys) in the
//! operating system's keyring, or, on a server without one, encrypted in a file ([`FileStore`]).
//!
//! A secret lives in the keyring (or sealed in the secrets file) and nowhere else Warta writes:
//! not in SQLite, not in a config file, not in a log line, not in an error message. The hub keeps only the secret's id
//! (`target/<n>`) next to the target's settings, and asks a [`SecretStore`] for the value when it
//! is about to send it. [`Secret`] prints as `[redacted]` and is zeroed when dropped; [`Error`]s
//! carry the id and the keyring's explanation, never the value.
//!
//! # Namespaces
//!
//! A [`KeyringStore`] is built with a namespace, which goes into every item's service name
//! (`warta:<namespace>`): two offices on one machine, or two test runs, never see each other's
//! secrets. [`namespace_for_data_dir`] derives one from the office's data directory.
//!
//! # Backends, and why
//!
//! Through the [`keyring`] crate (v3):
//! - **Linux: the Secret Service** (`sync-secret-service`, with `crypto-rust` so that secrets
//!   cross D-Bus encrypted). GNOME Keyring, KWallet (5.97 and later) and KeePassXC implement it;
//!   the first two keep secrets on disk encrypted with the user's login password, unlock them at
//!   login, and persist across reboots; the user can see and remove Warta's items in Seahorse or
//!   KWallet Manager. libdbus is linked
//!   from the system (`libdbus-1-dev` to build), not `vendored`: a Secret Service needs the D-Bus
//!   daemon, which itself depends on `libdbus-1-3`, and the system copy of a library that parses
//!   bus messages gets the distribution's security fixes. The price: every binary that contains
//!   the hub (`warta`, the desktop app) needs `libdbus-1-3` installed to start at all.
//!
//!   Not the kernel's keyutils (`linux-native`): it is memory only, gone at reboot, and its
//!   per-user persistent keyring expires after a few days unused (three by default), so a
//!   publishing queue would lose its WordPress password some night without anyone noticing. Not
//!   the combined `linux-native-sync-persistent` either: it answers reads from the keyutils copy
//!   first, so a password changed or removed in Seahorse would keep being used from the stale copy.
//! - **Windows: the Credential Manager** (`windows-native`); **macOS: the login Keychain**
//!   (`apple-native`). Both persist and are unlocked at login. They are compiled for those
//!   targets but not yet exercised by tests, which run on Linux.
//!
//! # A server without a desktop (`warta serve`): [`FileStore`]
//!
//! A server running the hub under systemd normally has no Secret Service, so there
//! [`KeyringStore`] answers every call with [`Error::Unavailable`]. Such a hub keeps its secrets
//! in a [`FileStore`] instead: one file in the data directory (`secrets.enc`), each secret sealed
//! with XChaCha20-Poly1305 under its own random nonce and its id as associated data, with a
//! 32-byte key read from a file *outside* the data directory ([`SecretsKey`]; the systemd
//! credential `warta-secrets-key`, or the `secrets_key_file` setting). The file alone, in a copy
//! of the data directory or a backup, reveals no secret; the key alone is no secret either. So
//! secrets are never on disk in plain text. A wrong key, or a damaged or altered file, is an
//! error that says so ([`Error::WrongKey`], [`Error::Damaged`]), never a wrong secret, and no
//! write goes through until an administrator has looked. Which store a hub uses is chosen by
//! its settings (`secrets = "keyring" | "file"`); the desktop app always uses the keyring. There
//! is no silent fallback from one to the other.
//!
//! # Blocking
//!
//! Every call is a blocking D-Bus (or OS) round trip, and on a desktop whose keyring is locked it
//! waits for the user to answer the unlock prompt. Call it from a blocking thread.
//!
//! # Tests
//!
//! The tests of this crate talk to the real keyring and fail, saying why, when there is none: run
//! them under `scripts/with-keyring` (CI does). Crates that only need *a* store for their unit
//! tests can enable the `test-support` feature and use `MemoryStoreForTests`.

mod error;
mod file_store;
mod id;
mod keyring_store;
#[cfg(any(test, feature = "test-support"))]
mod memory_for_tests;
mod secret;

pub use error::{Action, Error};
pub use file_store::{FileStore, SECRETS_FILE_NAME, SecretsKey};
pub use id::{SecretId, namespace_for_data_dir};
pub use keyring_store::KeyringStore;
#[cfg(any(test, feature = "test-support"))]
pub use memory_for_tests::{FailureForTests, MemoryStoreForTests};
pub use secret::{MAX_SECRET_BYTES, Secret};

/// Where the hub keeps secrets. Implemented by [`KeyringStore`], [`FileStore`] (and, for other
/// crates' unit tests only, `MemoryStoreForTests`).
pub trait SecretStore: Send + Sync {
    /// Stores `secret` under `id`, replacing what was there. An empty secret, or one longer than
    /// [`MAX_SECRET_BYTES`], is refused before the keyring is asked.
    fn set(&self, id: &SecretId, secret: &Secret) -> Result<(), Error>;

    /// The secret stored under `id`, or `None` when there is none.
    fn get(&self, id: &SecretId) -> Result<Option<Secret>, Error>;

    /// Removes the secret under `id`; removing one that is not there is not an error.
    fn delete(&self, id: &SecretId) -> Result<(), Error>;
}
