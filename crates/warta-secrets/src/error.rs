use std::fmt;

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
}

impl Error {
    /// True when the machine has no usable keyring (none at all, or locked): the publisher cannot
    /// fix that by entering the secret again.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable { .. } | Error::Locked { .. })
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
