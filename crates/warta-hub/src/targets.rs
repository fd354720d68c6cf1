//! Builds the publishing target of a kind from its settings and secret.

use warta_publish::{PublishError, PublishTarget};

use crate::publishing::TargetSettings;

pub(crate) fn build(
    kind: &str,
    _settings: &TargetSettings,
    _secret: Option<warta_secrets::Secret>,
) -> Result<Box<dyn PublishTarget>, PublishError> {
    Err(PublishError::Local(format!(
        "websites of the kind \"{kind}\" cannot be published to by this build"
    )))
}
