use std::path::Path;
use std::sync::{Mutex, PoisonError};

use crate::error::Action;
use crate::{Error, MAX_SECRET_BYTES, Secret, SecretId, SecretStore, namespace_for_data_dir};

/// One keyring call at a time in this process.
///
/// The keyring crate warns that RPC-based stores (the Secret Service) can fail when one
/// credential is used from several threads at once; publishing touches a secret rarely, so
/// serialising costs nothing that matters.
static KEYRING_CALLS: Mutex<()> = Mutex::new(());

/// Secrets in the operating system's keyring, under the namespace given at construction.
///
/// Each secret is one keyring item with service `warta:<namespace>` and user (account) the
/// secret's id, e.g. service `warta:3f1c0a9be2d47e55`, user `target/3`. On Linux the item goes into
/// the Secret Service's default collection (GNOME Keyring's "Login" keyring) and shows in Seahorse
/// or KWallet Manager under that name.
///
/// Every call is a blocking round trip to the keyring daemon, and on a desktop whose keyring is
/// locked it waits for the user to answer the unlock prompt: call it from a blocking thread
/// (`spawn_blocking`), never while holding a database transaction or a lock others wait on.
#[derive(Debug, Clone)]
pub struct KeyringStore {
    namespace: String,
    service: String,
}

impl KeyringStore {
    /// A store whose items are namespaced by `namespace` (1 to 64 ASCII letters, digits, `-`,
    /// `_`, `.`). Nothing is contacted yet; see [`KeyringStore::probe`].
    pub fn new(namespace: &str) -> Result<Self, Error> {
        crate::id::check_namespace(namespace)?;
        Ok(Self {
            namespace: namespace.to_owned(),
            service: format!("warta:{namespace}"),
        })
    }

    /// A store namespaced by the office's data directory ([`namespace_for_data_dir`]).
    pub fn for_data_dir(data_dir: &Path) -> Self {
        Self::new(&namespace_for_data_dir(data_dir))
            .expect("namespace_for_data_dir makes 16 hex digits, a valid namespace")
    }

    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Asks the keyring whether it can be reached (a lookup of an id that is never stored), so
    /// that a hub can say "no keyring on this machine" when it starts rather than at the first
    /// publish. It does not prompt, so a locked keyring passes: storing may still ask to unlock it.
    pub fn probe(&self) -> Result<(), Error> {
        let id = SecretId::new("warta-probe").expect("a valid id");
        self.get(&id).map(|_| ())
    }

    fn entry(&self, id: &SecretId, action: Action) -> Result<keyring::Entry, Error> {
        keyring::Entry::new(&self.service, id.as_str())
            .map_err(|err| to_error(err, action, id, None))
    }
}

impl SecretStore for KeyringStore {
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
        let _one_at_a_time = KEYRING_CALLS.lock().unwrap_or_else(PoisonError::into_inner);
        self.entry(id, Action::Store)?
            .set_password(secret.expose_secret())
            .map_err(|err| to_error(err, Action::Store, id, Some(secret)))
    }

    fn get(&self, id: &SecretId) -> Result<Option<Secret>, Error> {
        let _one_at_a_time = KEYRING_CALLS.lock().unwrap_or_else(PoisonError::into_inner);
        match self.entry(id, Action::Read)?.get_password() {
            Ok(password) => Ok(Some(Secret::from(password))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(err) => Err(to_error(err, Action::Read, id, None)),
        }
    }

    fn delete(&self, id: &SecretId) -> Result<(), Error> {
        let _one_at_a_time = KEYRING_CALLS.lock().unwrap_or_else(PoisonError::into_inner);
        match self.entry(id, Action::Delete)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(err) => Err(to_error(err, Action::Delete, id, None)),
        }
    }
}

/// Turns the keyring crate's error into ours, keeping only words: never the bytes of a stored
/// value (`BadEncoding`), and never the secret being stored should a platform message echo it.
fn to_error(err: keyring::Error, action: Action, id: &SecretId, secret: Option<&Secret>) -> Error {
    let refused = |detail: String| Error::Refused {
        action,
        id: id.clone(),
        detail,
    };
    let error = match err {
        keyring::Error::PlatformFailure(inner) => platform::classify(&*inner, false, refused),
        keyring::Error::NoStorageAccess(inner) => platform::classify(&*inner, true, refused),
        keyring::Error::NoEntry => refused("there is no such item in the keyring".into()),
        keyring::Error::BadEncoding(_) => {
            refused("the stored value is not text (it was not stored by Warta)".into())
        }
        keyring::Error::TooLong(attribute, limit) => refused(format!(
            "the keyring allows at most {limit} characters in the item's {attribute}"
        )),
        keyring::Error::Invalid(attribute, reason) => {
            refused(format!("the item's {attribute} is invalid: {reason}"))
        }
        keyring::Error::Ambiguous(items) => refused(format!(
            "{} keyring items match this id; delete the extra ones in the keyring's manager \
             (Seahorse, KWallet Manager, Credential Manager, Keychain Access)",
            items.len()
        )),
        other => refused(other.to_string()),
    };
    match secret {
        Some(secret) => scrub(error, secret),
        None => error,
    }
}

/// Replaces the secret's text in an error's details, should a platform ever echo it.
fn scrub(error: Error, secret: &Secret) -> Error {
    let clean = |detail: String| {
        if detail.contains(secret.expose_secret()) {
            detail.replace(secret.expose_secret(), "[redacted]")
        } else {
            detail
        }
    };
    match error {
        Error::Unavailable { detail } => Error::Unavailable {
            detail: clean(detail),
        },
        Error::Locked { detail } => Error::Locked {
            detail: clean(detail),
        },
        Error::Refused { action, id, detail } => Error::Refused {
            action,
            id,
            detail: clean(detail),
        },
        other => other,
    }
}

#[cfg(target_os = "linux")]
mod platform {
    use dbus_secret_service::Error as SsError;

    use crate::Error;

    /// D-Bus errors that mean nobody is there to answer: no session bus, no Secret Service on it.
    const NOBODY_THERE: &[&str] = &[
        "org.freedesktop.DBus.Error.ServiceUnknown",
        "org.freedesktop.DBus.Error.NameHasNoOwner",
        "org.freedesktop.DBus.Error.NoServer",
        "org.freedesktop.DBus.Error.NoNetwork",
        "org.freedesktop.DBus.Error.NotSupported",
        "org.freedesktop.DBus.Error.FileNotFound",
        "org.freedesktop.DBus.Error.BadAddress",
        "org.freedesktop.DBus.Error.Disconnected",
        "org.freedesktop.DBus.Error.NoReply",
        "org.freedesktop.DBus.Error.Timeout",
        "org.freedesktop.DBus.Error.TimedOut",
        "org.freedesktop.DBus.Error.Spawn.ChildExited",
        "org.freedesktop.DBus.Error.Spawn.ExecFailed",
        "org.freedesktop.DBus.Error.Spawn.Failed",
        "org.freedesktop.DBus.Error.Spawn.ServiceNotFound",
    ];

    pub(super) fn classify(
        inner: &(dyn std::error::Error + Send + Sync + 'static),
        _no_storage_access: bool,
        refused: impl FnOnce(String) -> Error,
    ) -> Error {
        let Some(ss) = inner.downcast_ref::<SsError>() else {
            return refused(inner.to_string());
        };
        match ss {
            SsError::Unavailable => Error::Unavailable {
                detail: "no D-Bus session bus, or no Secret Service on it".into(),
            },
            SsError::Locked => Error::Locked {
                detail: "the Secret Service reports the item or collection locked".into(),
            },
            SsError::Prompt => Error::Locked {
                detail: "the unlock prompt was dismissed or could not be shown".into(),
            },
            SsError::NoResult => Error::Unavailable {
                detail: "the Secret Service has no default keyring (collection) to store into; \
                         log in to the desktop once, or create a \"Login\" keyring in Seahorse"
                    .into(),
            },
            SsError::Dbus(dbus) => {
                let name = dbus.name().unwrap_or("");
                let message = dbus.message().unwrap_or("no message");
                if NOBODY_THERE.contains(&name) {
                    Error::Unavailable {
                        detail: format!("D-Bus said {name}: {message}"),
                    }
                } else if name == "org.freedesktop.Secret.Error.IsLocked" {
                    Error::Locked {
                        detail: format!("D-Bus said {name}: {message}"),
                    }
                } else {
                    refused(format!("D-Bus said {name}: {message}"))
                }
            }
            other => refused(other.to_string()),
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod platform {
    use crate::Error;

    /// Windows reports a missing logon session, macOS an unavailable or read-only keychain as "no
    /// storage access"; every other platform failure is the keyring refusing. (Only Linux is
    /// exercised by the tests so far.)
    pub(super) fn classify(
        inner: &(dyn std::error::Error + Send + Sync + 'static),
        no_storage_access: bool,
        refused: impl FnOnce(String) -> Error,
    ) -> Error {
        if no_storage_access {
            Error::Unavailable {
                detail: inner.to_string(),
            }
        } else {
            refused(inner.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An item under our service name whose value is not UTF-8 (Warta never writes one; another
    /// program could) is refused with words, and the bytes are not in the error.
    #[test]
    fn unreadable_stored_value_is_refused_without_its_bytes() {
        let namespace = format!("test-bytes-{}", std::process::id());
        let store = KeyringStore::new(&namespace).unwrap();
        if let Err(err) = store.probe() {
            panic!("needs the real keyring (run under scripts/with-keyring): {err}");
        }
        let id = SecretId::target(9);
        let bytes = b"\xffsecret-bytes\xfe";
        keyring::Entry::new(&store.service, id.as_str())
            .unwrap()
            .set_secret(bytes)
            .unwrap();
        let err = store.get(&id).unwrap_err();
        let text = format!("{err} | {err:?}");
        assert!(
            matches!(
                err,
                Error::Refused {
                    action: Action::Read,
                    ..
                }
            ),
            "{text}"
        );
        assert!(text.contains("not text"), "{text}");
        assert!(!text.contains("secret-bytes"), "{text}");
        assert!(!text.contains("255"), "{text}");
        store.delete(&id).unwrap();
        assert!(store.get(&id).unwrap().is_none());
    }

    #[test]
    fn scrub_removes_the_secret_from_details() {
        let secret = Secret::new("hunter2");
        let err = scrub(
            Error::Refused {
                action: Action::Store,
                id: SecretId::target(1),
                detail: "the daemon said hunter2 is wrong".into(),
            },
            &secret,
        );
        assert_eq!(
            err.to_string(),
            "the keyring refused to store the secret target/1: the daemon said [redacted] is wrong"
        );
    }
}
