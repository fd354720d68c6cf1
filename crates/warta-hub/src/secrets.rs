//! Secrets of publishing targets, kept in the OS keyring (never in SQLite, logs or errors).

use warta_secrets::{Secret, SecretId};

use crate::error::{HubError, HubResult};
use crate::office::Office;

fn id_of(id: &str) -> HubResult<SecretId> {
    SecretId::new(id).map_err(|e| HubError::Internal(anyhow::anyhow!("{e}")))
}

/// A keyring that is missing or locked is something the admin can fix: said in plain words.
fn keyring_error(e: warta_secrets::Error) -> HubError {
    if e.is_unavailable() {
        HubError::validation("secret", e.to_string())
    } else {
        HubError::Internal(anyhow::anyhow!("{e}"))
    }
}

impl Office {
    pub(crate) fn store_secret(&self, id: &str, secret: &str) -> HubResult<()> {
        self.secrets
            .set(&id_of(id)?, &Secret::new(secret))
            .map_err(keyring_error)
    }

    pub(crate) fn load_secret(&self, id: &str) -> HubResult<Option<Secret>> {
        self.secrets.get(&id_of(id)?).map_err(keyring_error)
    }
}
