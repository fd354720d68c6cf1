//! `warta import` against a real hub: one line per file, killed midway (SIGKILL) and run again,
//! it resumes without attaching any file twice.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;

use warta_api::{ItemContent, NewUser, Role};
use warta_client::HubClient;
use warta_hub::{HubConfig, SystemClock};

const PASSWORD: &str = "kata-sandi-uji-123";

fn photo(seed: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(640, 480, |x, y| {
        let band = (x / (40 + seed * 7) + y / (30 + seed * 5)) % 2;
        image::Rgb([
            ((x * (seed + 1)) % 256) as u8,
            ((y * 3 + seed * 40) % 256) as u8,
            if band == 0 { 30 } else { 220 },
        ])
    });
    let mut jpeg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 85)
        .encode_image(&img)
        .unwrap();
    jpeg
}

fn import(args: &[&str], pause_ms: u32) -> std::process::Child {
    let mut child = Command::new(env!("CARGO_BIN_EXE_warta"))
        .arg("import")
        .args(args)
        .env("WARTA_IMPORT_PAUSE_MS", pause_ms.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    writeln!(child.stdin.take().unwrap(), "{PASSWORD}").unwrap();
    child
}

#[test]
fn a_killed_import_resumes_and_attaches_each_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hub = rt
        .block_on(warta_hub::start(
            HubConfig::solo(dir.path().join("hub")),
            Arc::new(SystemClock),
        ))
        .unwrap();
    hub.office()
        .add_user(
            None,
            NewUser {
                username: "rina".into(),
                display_name: "Rina".into(),
                password: PASSWORD.into(),
                roles: vec![Role::Reporter],
                unit: "Diskominfo".into(),
            },
        )
        .unwrap();
    let url = hub.base_url();
    let client = rt.block_on(async {
        let client = HubClient::new(&url);
        let token = client.login("rina", PASSWORD).await.unwrap().token;
        client.with_token(token)
    });
    let item = rt
        .block_on(client.create_item(&ItemContent {
            title: "Panen raya".into(),
            summary: String::new(),
            body: String::new(),
            category: "berita".into(),
            tags: vec![],
            unit: "Diskominfo".into(),
        }))
        .unwrap();

    let card = dir.path().join("card");
    std::fs::create_dir_all(card.join("DCIM/100MEDIA")).unwrap();
    for i in 0..8 {
        std::fs::write(
            card.join(format!("DCIM/100MEDIA/foto{}.jpg", i + 1)),
            photo(i),
        )
        .unwrap();
    }
    std::fs::write(card.join("catatan.txt"), "bukan lampiran\n").unwrap();
    let queue = dir.path().join("import.db");
    let item_id = item.id.to_string();
    let args = [
        "--hub",
        url.as_str(),
        "--user",
        "rina",
        "--password-stdin",
        "--item",
        item_id.as_str(),
        "--queue",
        queue.to_str().unwrap(),
        card.to_str().unwrap(),
    ];

    let mut first = import(&args, 400);
    let mut before = Vec::new();
    for line in BufReader::new(first.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if line.starts_with("done ") {
            assert!(line.contains("→ attachment "), "{line}");
            assert!(line.contains("web "), "{line}");
            before.push(line);
            if before.len() == 3 {
                break;
            }
        }
    }
    let _ = first.kill();
    first.wait().unwrap();
    assert_eq!(before.len(), 3);

    let second = import(&args, 0).wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&second.stdout);
    assert!(
        second.status.success(),
        "{out}{}",
        String::from_utf8_lossy(&second.stderr)
    );
    assert!(out.starts_with("resuming import 1"), "{out}");
    for line in &before {
        let path = line.split(' ').nth(1).unwrap();
        assert!(
            !out.contains(&format!("done {path} ")),
            "{path} redone:\n{out}"
        );
    }
    assert!(out.contains("skipped catatan.txt: "), "{out}");
    assert!(out.contains("0 failed of 9 files"), "{out}");

    let detail = rt.block_on(client.item(item.id)).unwrap();
    let mut per_sha: HashMap<&str, u32> = HashMap::new();
    for a in &detail.attachments {
        *per_sha.entry(&a.sha256).or_default() += 1;
    }
    assert_eq!(per_sha.len(), 8);
    assert!(per_sha.values().all(|&n| n == 1), "{per_sha:?}");

    // Nothing left to do: a new job skips every file and exits 0.
    let third = import(&args, 0).wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&third.stdout);
    assert!(third.status.success(), "{out}");
    assert!(out.contains("0 attached, 9 skipped, 0 failed"), "{out}");
    rt.block_on(hub.shutdown());
}
