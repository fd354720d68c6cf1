//! A store in memory, for the unit tests of other crates only.
//!
//! It keeps nothing after the process ends and protects nothing, so it exists only with the
//! `test-support` feature, which crates enable in their `[dev-dependencies]`. The hub's own
//! keyring behaviour is tested against the real keyring in this crate.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::error::Action;
use crate::{Error, MAX_SECRET_BYTES, Secret, SecretId, SecretStore};

/// How a [`MemoryStoreForTests`] fails, when told to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureForTests {
    /// Every call returns [`Error::Unavailable`], as on a machine with no keyring.
    Unavailable,
    /// Every call returns [`Error::Locked`].
    Locked,
    /// Every call returns [`Error::Refused`].
    Refused,
}

/// Secrets in a `HashMap`: for tests of code that takes a `dyn SecretStore`, never for a hub.
#[derive(Debug, Default)]
pub struct MemoryStoreForTests {
    secrets: Mutex<HashMap<SecretId, Secret>>,
    failure: Mutex<Option<FailureForTests>>,
}

impl MemoryStoreForTests {
    pub fn new() -> Self {
        Self::default()
    }

    /// From now on every call fails this way (`None`: works again).
    pub fn fail_with(&self, failure: Option<FailureForTests>) {
        *self.failure.lock().unwrap_or_else(PoisonError::into_inner) = failure;
    }

    /// The ids stored, sorted.
    pub fn ids(&self) -> Vec<SecretId> {
        let secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        let mut ids: Vec<SecretId> = secrets.keys().cloned().collect();
        ids.sort();
        ids
    }

    fn check(&self, action: Action, id: &SecretId) -> Result<(), Error> {
        let failure = *self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        match failure {
            None => Ok(()),
            Some(FailureForTests::Unavailable) => Err(Error::Unavailable {
                detail: "MemoryStoreForTests told to fail".into(),
            }),
            Some(FailureForTests::Locked) => Err(Error::Locked {
                detail: "MemoryStoreForTests told to fail".into(),
            }),
            Some(FailureForTests::Refused) => Err(Error::Refused {
                action,
                id: id.clone(),
                detail: "MemoryStoreForTests told to fail".into(),
            }),
        }
    }
}

impl SecretStore for MemoryStoreForTests {
    fn set(&self, id: &SecretId, secret: &Secret) -> Result<(), Error> {
        self.check(Action::Store, id)?;
        if secret.is_empty() {
            return Err(Error::EmptySecret);
        }
        if secret.len() > MAX_SECRET_BYTES {
            return Err(Error::TooLong {
                len: secret.len(),
                max: MAX_SECRET_BYTES,
            });
        }
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        secrets.insert(id.clone(), secret.clone());
        Ok(())
    }

    fn get(&self, id: &SecretId) -> Result<Option<Secret>, Error> {
        self.check(Action::Read, id)?;
        let secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        Ok(secrets.get(id).cloned())
    }

    fn delete(&self, id: &SecretId) -> Result<(), Error> {
        self.check(Action::Delete, id)?;
        let mut secrets = self.secrets.lock().unwrap_or_else(PoisonError::into_inner);
        secrets.remove(id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn behaves_like_a_store_and_fails_on_demand() {
        let store = MemoryStoreForTests::new();
        let id = SecretId::target(1);
        assert!(store.get(&id).unwrap().is_none());
        store.set(&id, &Secret::new("a")).unwrap();
        store.set(&id, &Secret::new("b")).unwrap();
        assert_eq!(store.get(&id).unwrap().unwrap().expose_secret(), "b");
        assert_eq!(store.ids(), vec![id.clone()]);
        store.fail_with(Some(FailureForTests::Unavailable));
        assert!(store.get(&id).unwrap_err().is_unavailable());
        store.fail_with(None);
        store.delete(&id).unwrap();
        store.delete(&id).unwrap();
        assert!(store.get(&id).unwrap().is_none());
        assert!(matches!(
            store.set(&id, &Secret::new("")),
            Err(Error::EmptySecret)
        ));
    }
}
