//! Secrets of publishing targets, kept in the OS keyring (never in SQLite or logs).

use crate::error::{HubError, HubResult};
use crate::office::Office;

impl Office {
    pub(crate) fn store_secret(&self, _id: &str, _secret: &str) -> HubResult<()> {
        Err(HubError::Internal(anyhow::anyhow!(
            "no keyring in this build"
        )))
    }

    pub(crate) fn load_secret(&self, _id: &str) -> HubResult<Option<String>> {
        Ok(None)
    }
}
