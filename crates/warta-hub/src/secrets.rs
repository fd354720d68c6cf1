//! Secrets of publishing targets, kept in the OS keyring or, on a server without one, sealed in
//! `secrets.enc` with a key from outside the data directory (never in SQLite, logs or errors).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::bail;
use warta_secrets::{FileStore, KeyringStore, Secret, SecretId, SecretStore, SecretsKey};

use crate::HubConfig;
use crate::error::{HubError, HubResult};
use crate::office::Office;

/// Where a hub keeps publishing-target secrets ([`HubConfig::secrets`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum SecretsConfig {
    /// The OS keyring, namespaced by the data directory (the desktop; a server with an
    /// unlocked Secret Service).
    #[default]
    Keyring,
    /// Sealed in `<data>/secrets.enc` with the 32-byte key in `key_file`, which must not be
    /// inside the data directory (a server under systemd: its credential `warta-secrets-key`).
    File { key_file: PathBuf },
}

impl SecretsConfig {
    /// `keyring` or `file`, for logs and `warta serve --check`.
    pub fn kind(&self) -> &'static str {
        match self {
            SecretsConfig::Keyring => "keyring",
            SecretsConfig::File { .. } => "file",
        }
    }
}

/// Refuses a key file inside the data directory: a copy of the data directory, or a backup of
/// it, would then hold both the secrets and their key.
pub fn check_key_outside_data(data_dir: &Path, key_file: &Path) -> anyhow::Result<()> {
    let real = |p: &Path| {
        p.canonicalize()
            .or_else(|_| std::path::absolute(p))
            .unwrap_or_else(|_| p.to_path_buf())
    };
    if real(key_file).starts_with(real(data_dir)) {
        bail!(
            "the secrets key file {} lies inside the data folder {}: a copy or backup of the data \
             would then hold the key with the secrets. Keep it elsewhere, e.g. /etc/warta/secrets.key",
            key_file.display(),
            data_dir.display()
        );
    }
    Ok(())
}

/// The store `config` asks for: the keyring (nothing is contacted yet), or the secrets file,
/// whose key is read and checked against the file now.
pub(crate) fn open_store(config: &HubConfig) -> anyhow::Result<Arc<dyn SecretStore>> {
    match &config.secrets {
        SecretsConfig::Keyring => Ok(Arc::new(KeyringStore::for_data_dir(&config.data_dir))),
        SecretsConfig::File { key_file } => {
            check_key_outside_data(&config.data_dir, key_file)?;
            let key = SecretsKey::read_file(key_file)?;
            Ok(Arc::new(FileStore::open(&config.data_dir, &key)?))
        }
    }
}

fn id_of(id: &str) -> HubResult<SecretId> {
    SecretId::new(id).map_err(|e| HubError::Internal(anyhow::anyhow!("{e}")))
}

/// A keyring that is missing or locked, or a secrets file that cannot be opened, is something
/// the admin can fix: said in plain words.
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
