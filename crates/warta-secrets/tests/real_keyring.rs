//! Against the real OS keyring: on Linux the Secret Service of the session bus. Run under
//! `scripts/with-keyring` (CI does); without a keyring these tests fail and say so.

use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use warta_secrets::{Error, KeyringStore, Secret, SecretId, SecretStore};

/// A store in a namespace no other test, and no other run, uses.
fn fresh_store() -> KeyringStore {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let namespace = format!(
        "test-{}-{nanos}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    );
    let store = KeyringStore::new(&namespace).unwrap();
    if let Err(err) = store.probe() {
        panic!(
            "\n\nwarta-secrets tests need the real OS keyring, and it cannot be used here:\n  \
             {err}\n\nRun them under a throwaway keyring: scripts/with-keyring cargo test -p \
             warta-secrets\n(CI runs `cargo test --workspace` that way.)\n"
        );
    }
    store
}

#[test]
fn set_get_delete_round_trip() {
    let store = fresh_store();
    let id = SecretId::target(1);
    store
        .set(&id, &Secret::new("abcd EFGH ijkl MNOP qrst UVWX"))
        .unwrap();
    let got = store.get(&id).unwrap().expect("the secret just stored");
    assert_eq!(got.expose_secret(), "abcd EFGH ijkl MNOP qrst UVWX");
    store.delete(&id).unwrap();
    assert!(store.get(&id).unwrap().is_none());
}

#[test]
fn set_overwrites() {
    let store = fresh_store();
    let id = SecretId::target(2);
    store.set(&id, &Secret::new("first")).unwrap();
    store.set(&id, &Secret::new("second")).unwrap();
    assert_eq!(store.get(&id).unwrap().unwrap().expose_secret(), "second");
    // Still one item: deleting it once leaves nothing behind.
    store.delete(&id).unwrap();
    assert!(store.get(&id).unwrap().is_none());
}

#[test]
fn missing_id_is_none_and_deleting_it_is_fine() {
    let store = fresh_store();
    let id = SecretId::new("target/404/webhook").unwrap();
    assert!(store.get(&id).unwrap().is_none());
    store.delete(&id).unwrap();
}

#[test]
fn namespaces_do_not_collide() {
    let office_a = fresh_store();
    let office_b = fresh_store();
    assert_ne!(office_a.namespace(), office_b.namespace());
    let id = SecretId::target(1);
    office_a
        .set(&id, &Secret::new("password of office A"))
        .unwrap();
    assert!(office_b.get(&id).unwrap().is_none());
    office_b
        .set(&id, &Secret::new("password of office B"))
        .unwrap();
    assert_eq!(
        office_a.get(&id).unwrap().unwrap().expose_secret(),
        "password of office A"
    );
    office_b.delete(&id).unwrap();
    assert_eq!(
        office_a.get(&id).unwrap().unwrap().expose_secret(),
        "password of office A"
    );
    office_a.delete(&id).unwrap();
    assert!(office_a.get(&id).unwrap().is_none());
}

#[test]
fn data_dirs_give_separate_namespaces() {
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let a = KeyringStore::for_data_dir(dir_a.path());
    let b = KeyringStore::for_data_dir(dir_b.path());
    assert_ne!(a.namespace(), b.namespace());
    let id = SecretId::target(7);
    a.set(&id, &Secret::new("only for A")).unwrap();
    assert!(b.get(&id).unwrap().is_none());
    // The same directory, opened again (as after a restart), finds it.
    let a_again = KeyringStore::for_data_dir(dir_a.path());
    assert_eq!(
        a_again.get(&id).unwrap().unwrap().expose_secret(),
        "only for A"
    );
    a.delete(&id).unwrap();
}

#[test]
fn unicode_secret_of_200_characters() {
    let store = fresh_store();
    let id = SecretId::new("target/3/webhook").unwrap();
    let pattern = "Kata sandi: rahasia-ñ-é-ß-€-日本語-🔑🇮🇩 \"'\\`$ ";
    let value: String = pattern.chars().cycle().take(200).collect();
    assert_eq!(value.chars().count(), 200);
    store.set(&id, &Secret::new(value.clone())).unwrap();
    assert_eq!(store.get(&id).unwrap().unwrap().expose_secret(), value);
    store.delete(&id).unwrap();
}

#[test]
fn secret_is_redacted_in_debug_and_display() {
    let store = fresh_store();
    let id = SecretId::target(5);
    store
        .set(&id, &Secret::new("s3cret-wp-app-password"))
        .unwrap();
    let got = store.get(&id).unwrap();
    for printed in [
        format!("{got:?}"),
        format!("{got:#?}"),
        format!("{}", got.as_ref().unwrap()),
        format!("{store:?}"),
    ] {
        assert!(!printed.contains("s3cret"), "printed {printed}");
    }
    assert_eq!(format!("{got:?}"), "Some(Secret([redacted]))");
    store.delete(&id).unwrap();
}

#[test]
fn refused_before_the_keyring_without_echoing_the_secret() {
    let store = fresh_store();
    let id = SecretId::target(6);
    let long = "geheim".repeat(200);
    let err = store.set(&id, &Secret::new(long.clone())).unwrap_err();
    assert!(matches!(
        err,
        Error::TooLong {
            len: 1200,
            max: 1024
        }
    ));
    assert!(!format!("{err} {err:?}").contains("geheim"));
    assert!(matches!(
        store.set(&id, &Secret::new("")),
        Err(Error::EmptySecret)
    ));
    assert!(store.get(&id).unwrap().is_none());
}

/// With no session bus at all the error is "no keyring on this machine", with advice, and never
/// the secret. Run in a child process, because the bus address is process-wide.
#[test]
fn without_a_keyring_the_error_says_so_and_hides_the_secret() {
    const CHILD: &str = "WARTA_SECRETS_TEST_CHILD";
    const SECRET: &str = "do-not-print-me-42";
    if std::env::var_os(CHILD).is_some() {
        let store = KeyringStore::new("test-no-bus").unwrap();
        let id = SecretId::target(1);
        let errors = [
            store.set(&id, &Secret::new(SECRET)).unwrap_err(),
            store.get(&id).unwrap_err(),
            store.delete(&id).unwrap_err(),
            store.probe().unwrap_err(),
        ];
        for err in errors {
            let text = format!("{err} | {err:?}");
            println!("child saw: {text}");
            assert!(
                err.is_unavailable(),
                "not classified as unavailable: {text}"
            );
            assert!(matches!(err, Error::Unavailable { .. }), "{text}");
            assert!(text.contains("no keyring is available"), "{text}");
            assert!(text.contains("GNOME Keyring or KWallet"), "{text}");
            assert!(!text.contains(SECRET), "the secret leaked: {text}");
        }
        return;
    }
    let missing = tempfile::tempdir().unwrap();
    let bus = format!("unix:path={}/no-bus-here", missing.path().display());
    let output = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "without_a_keyring_the_error_says_so_and_hides_the_secret",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env("DBUS_SESSION_BUS_ADDRESS", bus)
        .env_remove("DISPLAY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("child saw:"),
        "the child ran no check:\n{stdout}"
    );
}

/// A keyring that is there but locked, whose unlock prompt cannot be shown (no display), gives
/// [`Error::Locked`] at once rather than hanging. Locking is session-wide, so the child runs in a
/// keyring of its own: a second `scripts/with-keyring` inside this one.
#[test]
fn locked_keyring_is_reported_as_locked_without_hanging() {
    const CHILD: &str = "WARTA_SECRETS_TEST_LOCKED_CHILD";
    const SECRET: &str = "stored-before-locking";
    if std::env::var_os(CHILD).is_some() {
        let store = fresh_store();
        let id = SecretId::target(1);
        store.set(&id, &Secret::new(SECRET)).unwrap();
        let lock = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.secrets",
                "/org/freedesktop/secrets",
                "org.freedesktop.Secret.Service.Lock",
                "array:objpath:/org/freedesktop/secrets/aliases/default",
            ])
            .output()
            .unwrap();
        assert!(lock.status.success(), "{lock:?}");
        let started = std::time::Instant::now();
        let errors = [
            store.get(&id).unwrap_err(),
            store.set(&id, &Secret::new("new value")).unwrap_err(),
            store
                .set(&SecretId::target(2), &Secret::new(SECRET))
                .unwrap_err(),
        ];
        for err in errors {
            let text = format!("{err} | {err:?}");
            println!("child saw: {text}");
            assert!(matches!(err, Error::Locked { .. }), "{text}");
            assert!(err.is_unavailable(), "{text}");
            assert!(text.contains("the keyring is locked"), "{text}");
            assert!(!text.contains(SECRET), "the secret leaked: {text}");
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/with-keyring");
    let output = Command::new(script)
        .arg(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "locked_keyring_is_reported_as_locked_without_hanging",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "child failed:\n{stdout}\n{stderr}");
    assert_eq!(stdout.matches("child saw:").count(), 3, "{stdout}");
}
