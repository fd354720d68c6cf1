//! A hub with `SecretsConfig::File` (no keyring involved): a website's key is sealed in
//! `secrets.enc`, never in the database; when that file is altered, publishing keeps the item
//! pending with the reason in words, no request is sent with a wrong key, a new website's key
//! is refused with a 400 and the altered file is left as it was.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use serde_json::Value;
use warta_api::{ActionRequest, ItemContent, PublishTargetInput};
use warta_hub::{Caller, FixedClock, HubConfig, HubError, Office, SecretsConfig};

const KEY: &str = "kunci-webhook-uji-berkas-42";

fn webhook(secret: &str) -> PublishTargetInput {
    PublishTargetInput {
        name: "CMS Dinas".into(),
        kind: "webhook".into(),
        // Nothing listens on port 9: a request that went out would fail as "unavailable".
        url: Some("http://127.0.0.1:9/hook".into()),
        username: None,
        folder: None,
        git: false,
        enabled: true,
        secret: Some(secret.into()),
    }
}

#[test]
fn an_altered_secrets_file_keeps_the_item_pending_in_words_and_is_never_written_over() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key_file = dir.path().join("secrets.key");
    warta_secrets::SecretsKey::create_file(&key_file).unwrap();
    let config = HubConfig {
        demo: true,
        secrets: SecretsConfig::File {
            key_file: key_file.clone(),
        },
        ..HubConfig::solo(&data)
    };
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 3, 10, 1, 0, 0).unwrap(),
    ));
    let office = Office::open(config.clone(), clock.clone()).unwrap();
    office.set_base_url("http://127.0.0.1:9");
    let c = |u: &str| -> Caller { office.user_caller(u).unwrap() };
    let target = office
        .add_publish_target(&c("admin"), webhook(KEY))
        .unwrap();
    assert!(target.has_secret);
    let secrets = data.join(warta_secrets::SECRETS_FILE_NAME);
    let sealed = std::fs::read(&secrets).unwrap();
    for file in [&secrets, &data.join("warta.db")] {
        let bytes = std::fs::read(file).unwrap();
        assert!(
            !bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes()),
            "{} holds the key in plain text",
            file.display()
        );
    }

    // Someone changes one byte of the sealed key.
    let mut v: Value = serde_json::from_slice(&sealed).unwrap();
    let entries = v["entries"].as_object_mut().unwrap();
    assert_eq!(entries.len(), 1);
    let entry = entries.values_mut().next().unwrap();
    let mut bytes = hex::decode(entry["sealed"].as_str().unwrap()).unwrap();
    bytes[3] ^= 0x40;
    entry["sealed"] = hex::encode(bytes).into();
    let altered = serde_json::to_vec_pretty(&v).unwrap();
    std::fs::write(&secrets, &altered).unwrap();

    let d = office
        .create_item(
            &c("reporter"),
            ItemContent {
                title: "Pasar murah di Samarinda".into(),
                summary: "Ringkasan".into(),
                body: "Pasar murah dibuka **Rabu**.".into(),
                category: "Berita".into(),
                tags: vec![],
                unit: "Bidang IKP".into(),
            },
        )
        .unwrap();
    let go = |who: &str, action: &str| {
        office
            .act(&c(who), d.id, action, ActionRequest::default())
            .unwrap()
    };
    go("reporter", "submit");
    office.claim(&c("editor"), d.id).unwrap();
    go("editor", "send_to_official");
    go("official", "approve");
    let d = go("publisher", "publish");
    assert_eq!(
        d.state.step, "publish",
        "not published while a website lacks it"
    );
    let p = d.publishing.expect("publishing pending");
    assert_eq!(p.pending, 1);
    assert_eq!(p.last_error_kind.as_deref(), Some("local"), "{p:?}");
    let error = p.last_error.unwrap_or_default();
    assert!(error.contains("damaged or was altered"), "{error}");
    assert!(!error.contains(KEY));

    // A new website's key is refused in words, and the altered file is kept as it is.
    let err = office
        .add_publish_target(&c("admin"), webhook("kunci-lain"))
        .unwrap_err();
    assert!(matches!(err, HubError::Validation { .. }), "{err:?}");
    assert!(err.to_string().contains("damaged or was altered"), "{err}");
    assert_eq!(std::fs::read(&secrets).unwrap(), altered);
    drop(office);

    // The file put back, the same office opens with its key and the item is still waiting.
    std::fs::write(&secrets, &sealed).unwrap();
    let office = Office::open(config, clock).unwrap();
    let d = office
        .get_item(&office.user_caller("publisher").unwrap(), d.id)
        .unwrap();
    assert_eq!(d.state.step, "publish");
    assert_eq!(d.publishing.map(|p| p.pending), Some(1));
}

#[test]
fn a_key_file_inside_the_data_folder_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let key_file = dir.path().join("data/secrets.key");
    warta_secrets::SecretsKey::create_file(&key_file).unwrap();
    let config = HubConfig {
        secrets: SecretsConfig::File { key_file },
        ..HubConfig::solo(dir.path().join("data"))
    };
    let err = Office::open(
        config,
        Arc::new(FixedClock::new(
            Utc.with_ymd_and_hms(2026, 3, 10, 1, 0, 0).unwrap(),
        )),
    )
    .err()
    .expect("refused");
    assert!(err.to_string().contains("inside the data folder"), "{err}");
}
