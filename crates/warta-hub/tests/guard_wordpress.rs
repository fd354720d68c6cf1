//! The website guard against a real WordPress (Debian's package, started for this test by
//! `tests/wordpress/harness.sh`) with the real OS keyring (run under `scripts/with-keyring`):
//! the office's own publish and update raise nothing; gambling links injected into the
//! published post directly through WordPress, by another WordPress user, are found at the next
//! check.

#[allow(dead_code)]
#[path = "../../warta-publish/tests/support/wordpress_harness.rs"]
mod wordpress_harness;

use std::path::Path;
use std::sync::Arc;

use chrono::{Duration, TimeZone, Utc};
use rusqlite::Connection;
use serde_json::{Value, json};
use warta_api::{ActionRequest, GuardSiteInput, ItemContent, PublishTargetInput};
use warta_hub::{Caller, FixedClock, HubConfig, Office};
use wordpress_harness::WordPressHarness;

fn add_wp_user(wp: &WordPressHarness, login: &str, role: &str) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/wordpress/harness.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .args(["add-user", wp.dir().to_str().unwrap(), login, role])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "add-user: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn gambling_links_injected_into_a_published_wordpress_post_by_another_user_are_found() {
    let wp = WordPressHarness::start();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(FixedClock::new(
        Utc.with_ymd_and_hms(2026, 11, 23, 1, 0, 0).unwrap(),
    ));
    let mut config = HubConfig::solo(dir.path());
    config.demo = true;
    let office = Arc::new(Office::open(config, clock.clone()).unwrap());
    office.set_base_url("http://127.0.0.1:9");
    let c = |u: &str| office.user_caller(u).unwrap();
    let (admin, publisher) = (c("admin"), c("publisher"));
    let target = office
        .add_publish_target(
            &admin,
            PublishTargetInput {
                name: "Situs dinas".into(),
                kind: "wordpress".into(),
                url: Some(wp.url.clone()),
                username: Some(wp.user.clone()),
                folder: None,
                git: false,
                enabled: true,
                secret: Some(wp.app_password.clone()),
            },
        )
        .unwrap()
        .id;
    // Only WordPress is watched (the hub's own site is not served here).
    let off = GuardSiteInput {
        public_url: String::new(),
        allowed_domains: vec![],
        allow_private: true,
        enabled: false,
    };
    office.guard_set_site(&admin, 1, off).unwrap();
    // The WordPress site's address is known from the website; it runs on loopback.
    let site = office
        .guard_sites(&admin)
        .unwrap()
        .into_iter()
        .find(|s| s.target_id == target)
        .unwrap();
    assert_eq!(
        site.public_url,
        format!("{}/", wp.url.trim_end_matches('/'))
    );
    office
        .guard_set_site(
            &admin,
            target,
            GuardSiteInput {
                public_url: site.public_url.clone(),
                allowed_domains: vec![],
                allow_private: true,
                enabled: true,
            },
        )
        .unwrap();
    let round = || rt.block_on(office.guard_run_due());
    let later = |m: i64| {
        clock.advance(Duration::minutes(m));
        round()
    };
    round();
    // A person approves the home page as it is; our publish will change it.
    let home = office.guard_pages(&admin, Some(target)).unwrap()[0].clone();
    assert_eq!(
        (home.source.as_str(), home.last_status),
        ("home", Some(200))
    );
    let home = office.guard_approve_baseline(&publisher, home.id).unwrap();

    // Publish through SOP-A; the office's own publish raises nothing.
    let d = office
        .create_item(
            &c("reporter"),
            ItemContent {
                title: "Posko banjir dibuka di Samarinda".into(),
                summary: "Ringkasan".into(),
                body: "Pemerintah provinsi membuka posko banjir di Samarinda. Warga dapat \
                       melapor melalui [portal resmi](https://kaltimprov.go.id/lapor)."
                    .into(),
                category: "Berita".into(),
                tags: vec![],
                unit: "Bidang IKP".into(),
            },
        )
        .unwrap();
    let go = |who: &Caller, action: &str| {
        office
            .act(who, d.id, action, ActionRequest::default())
            .unwrap();
    };
    go(&c("reporter"), "submit");
    office.claim(&c("editor"), d.id).unwrap();
    go(&c("editor"), "send_to_official");
    go(&c("official"), "approve");
    go(&publisher, "publish");
    let item = office.get_item(&publisher, d.id).unwrap();
    assert_eq!(item.state.step, "published");
    let url = item.published_url.clone().unwrap();
    for _ in 0..3 {
        later(5);
    }
    later(61);
    later(61);
    let open = office.guard_incidents(&admin, Some("open")).unwrap();
    assert!(open.is_empty(), "our own publish raised {open:?}");
    let page = office
        .guard_pages(&admin, Some(target))
        .unwrap()
        .into_iter()
        .find(|p| p.url == url)
        .expect("the published post is watched");
    assert!(page.has_baseline);
    // The home page listed the new post: a change, expected, its baseline re-taken.
    let home_after = office.guard_page(&admin, home.id).unwrap();
    assert_eq!(home_after.state, "ok", "{:?}", home_after.last_findings);
    assert!(
        home_after.baseline_by.is_none() && home_after.baseline_at > home.baseline_at,
        "{home_after:?}"
    );
    assert_eq!(page.state, "ok", "{:?}", page.last_findings);

    // Another WordPress user edits the post and hides gambling links in it.
    let remote: String = Connection::open(dir.path().join("warta.db"))
        .unwrap()
        .query_row(
            "SELECT remote FROM item_remotes WHERE item_id = ?1 AND target_id = ?2",
            [d.id, target],
            |r| r.get(0),
        )
        .unwrap();
    let post_id = serde_json::from_str::<Value>(&remote).unwrap()["remote_id"]
        .as_str()
        .unwrap()
        .to_string();
    let password = add_wp_user(&wp, "penyusup", "editor");
    let http = reqwest::Client::new();
    let api = wp.api_root.clone();
    let status = rt.block_on(async {
        let current: Value = http
            .get(format!("{api}/wp/v2/posts/{post_id}?context=edit"))
            .basic_auth("penyusup", Some(&password))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let content = current["content"]["raw"].as_str().unwrap().to_string();
        let injected = format!(
            "{content}\n<div style=\"display:none\"><a href=\"https://slot-gacor.example/daftar\">slot gacor maxwin</a> <a href=\"https://togel.example/\">bandar togel</a></div>"
        );
        http.post(format!("{api}/wp/v2/posts/{post_id}"))
            .basic_auth("penyusup", Some(&password))
            .json(&json!({ "content": injected }))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert!(status.is_success(), "{status}");

    later(61);
    let open = office.guard_incidents(&admin, Some("open")).unwrap();
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0].url, url);
    for k in ["gambling", "hidden_links"] {
        assert!(
            open[0].kinds.contains(&k.to_string()),
            "{:?}",
            open[0].kinds
        );
    }
    let inc = office.guard_incident(&admin, open[0].id).unwrap();
    let evidence: Vec<&String> = inc.findings.iter().flat_map(|f| &f.evidence).collect();
    assert!(
        evidence.iter().any(|e| *e == "slot-gacor.example"),
        "{evidence:?}"
    );
    assert!(
        office
            .guard_body(&admin, inc.bad_hash.as_deref().unwrap())
            .unwrap()
            .contains("togel.example")
    );
}
