use std::fmt;
use std::path::PathBuf;

use crate::SecretId;

/// What went wrong, in words a publisher or an administrator can act on.
///
/// No variant holds a secret: the messages carry the secret's id and the keyring's own
/// explanation, and that explanation is checked for the secret's text before it is kept (see
/// [`crate::KeyringStore`]). The keyring crate's error is not kept as a `source`, because its
/// `Debug` can hold the bytes of an unreadable stored value.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// There is no keyring to talk to: no D-Bus session, no Secret Service (GNOME Keyring,
    /// KWallet, KeePassXC) on it, no login session on Windows, no usable keychain on macOS.
    #[error(
        "no keyring is available on this machine ({detail}). Warta keeps publishing passwords \
         and keys only in the system keyring: on Linux, install GNOME Keyring or KWallet and \
         log in to a desktop session that unlocks it; on a server, run the hub in a session that \
         has an unlocked Secret Service"
    )]
    Unavailable { detail: String },

    /// The keyring is there but locked, and unlocking it failed or was dismissed.
    #[error(
        "the keyring is locked ({detail}). Unlock it (log in to the desktop, or accept the \
         keyring's unlock prompt) and try again"
    )]
    Locked { detail: String },

    /// The keyring answered but refused the operation.
    #[error("the keyring refused to {action} the secret {id}: {detail}")]
    Refused {
        action: Action,
        id: SecretId,
        detail: String,
    },

    #[error(
        "{0:?} is not a valid secret id: use 1 to 128 lower-case letters, digits and / - _ ., \
         such as target/3"
    )]
    InvalidId(String),

    #[error(
        "{0:?} is not a valid keyring namespace: use 1 to 64 letters, digits, - _ or ., \
         such as the value of namespace_for_data_dir"
    )]
    InvalidNamespace(String),

    #[error("an empty secret cannot be stored")]
    EmptySecret,

    #[error("the secret is too long to store: {len} bytes, at most {max}")]
    TooLong { len: usize, max: usize },

    /// The key of a [`crate::FileStore`] could not be read or made.
    #[error("the secrets key file {} {problem}", path.display())]
    KeyFile { path: PathBuf, problem: String },

    /// The secrets file was written with another key than the one given.
    #[error(
        "the secrets file {} was written with another key (key id {file_key}) than the one \
         given (key id {given_key}); nothing was read or changed. Start the hub with the key \
         file the office was set up with (the setting secrets_key_file, or the systemd \
         credential warta-secrets-key)",
        path.display()
    )]
    WrongKey {
        path: PathBuf,
        file_key: String,
        given_key: String,
    },

    /// The secrets file does not decrypt or parse: damaged on disk, or altered.
    #[error(
        "the secrets file {} is damaged or was altered: {problem}. Nothing was changed; \
         restore the file from a backup, or move it away and enter the websites' passwords \
         and keys again under Websites",
        path.display()
    )]
    Damaged { path: PathBuf, problem: String },

    /// Reading or writing the secrets file failed (a full disk, a read-only folder).
    #[error("cannot {action} the secrets file {}: {detail}", path.display())]
    FileAccess {
        action: &'static str,
        path: PathBuf,
        detail: String,
    },
}

impl Error {
    /// True when the secrets cannot be used at all — no usable keyring (none, or locked), or a
    /// secrets file that cannot be opened (its key, damage, the disk): the publisher cannot fix
    /// that by entering the secret again; an administrator has to.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Error::Unavailable { .. }
                | Error::Locked { .. }
                | Error::KeyFile { .. }
                | Error::WrongKey { .. }
                | Error::Damaged { .. }
                | Error::FileAccess { .. }
        )
    }
}

/// The operation a [`Error::Refused`] was about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Store,
    Read,
    Delete,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Store => "store",
            Action::Read => "read",
            Action::Delete => "delete",
        })
    }
}
