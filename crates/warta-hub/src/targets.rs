//! Builds the publishing target of a kind from its settings and its secret (read from the
//! keyring just before a request; dropped with the target).

use warta_publish::markdown_site::{MarkdownSite, MarkdownSiteConfig};
use warta_publish::webhook::Webhook;
use warta_publish::wordpress::{WordPress, WordPressSettings};
use warta_publish::{PublishError, PublishTarget};
use warta_secrets::Secret;

use crate::publishing::TargetSettings;

fn secret_of(kind: &str, secret: Option<Secret>) -> Result<Secret, PublishError> {
    secret.ok_or_else(|| {
        PublishError::Unauthorized(format!(
            "no {} is stored in the keyring for this website; enter it again in the website's settings",
            if kind == "wordpress" {
                "application password"
            } else {
                "signing key"
            }
        ))
    })
}

/// The WordPress client of a website, for reading its content back and restoring it.
pub(crate) fn wordpress(
    settings: &TargetSettings,
    secret: Option<Secret>,
) -> Result<WordPress, PublishError> {
    let password = secret_of("wordpress", secret)?;
    WordPress::new(
        WordPressSettings::new(&settings.url, &settings.username),
        password.expose_secret().to_string(),
    )
}

pub(crate) fn build(
    kind: &str,
    settings: &TargetSettings,
    secret: Option<Secret>,
) -> Result<Box<dyn PublishTarget>, PublishError> {
    match kind {
        "wordpress" => {
            let password = secret_of(kind, secret)?;
            let wp = WordPress::new(
                WordPressSettings::new(&settings.url, &settings.username),
                password.expose_secret().to_string(),
            )?;
            Ok(Box::new(wp))
        }
        "webhook" => {
            let key = secret_of(kind, secret)?;
            Ok(Box::new(Webhook::new(&settings.url, key.expose_secret())?))
        }
        "markdown" => {
            let mut config = MarkdownSiteConfig::hugo(&settings.folder);
            if settings.git {
                config = config.with_git("Warta", "warta@localhost");
            }
            Ok(Box::new(MarkdownSite::new(config)?))
        }
        other => Err(PublishError::Local(format!(
            "websites of the kind \"{other}\" cannot be published to by this build"
        ))),
    }
}
