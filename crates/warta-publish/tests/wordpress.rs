//! The WordPress target against a real WordPress (Debian's package, MariaDB, PHP's built-in
//! server), started per test by `tests/wordpress/harness.sh`. No mocks: every count below is
//! read back from WordPress's REST API.

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, TimeZone, Utc};
use serde_json::Value;
use support::fault_proxy::{Fault, FaultProxy};
use support::wordpress_harness::WordPressHarness;
use warta_publish::wordpress::{WordPress, WordPressSettings, content_region, normalised_text};
use warta_publish::{MediaFile, Publication, PublishError, PublishTarget, RemoteRef};

// ---------------------------------------------------------------------- helpers

/// A small real JPEG, made by PHP's GD (which the harness needs anyway).
fn jpeg(path: &Path, w: u32, h: u32, rgb: (u8, u8, u8)) {
    let code = r#"$i = imagecreatetruecolor((int)$argv[2], (int)$argv[3]);
        imagefill($i, 0, 0, imagecolorallocate($i, (int)$argv[4], (int)$argv[5], (int)$argv[6]));
        imagefilledellipse($i, (int)$argv[2] / 2, (int)$argv[3] / 2, 20, 20, imagecolorallocate($i, 255, 255, 255));
        imagejpeg($i, $argv[1], 85) or exit(1);"#;
    let st = Command::new("php")
        .args(["-r", code, path.to_str().unwrap()])
        .args([w, h, rgb.0 as u32, rgb.1 as u32, rgb.2 as u32].map(|n| n.to_string()))
        .status()
        .expect("php makes a JPEG");
    assert!(st.success(), "making {} failed", path.display());
}

fn sha256_file(path: &Path) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

fn photo(
    dir: &Path,
    attachment_id: i64,
    name: &str,
    rgb: (u8, u8, u8),
    alt: &str,
    caption: &str,
) -> MediaFile {
    let path = dir.join(format!("{attachment_id}-{name}"));
    if !path.exists() {
        jpeg(&path, 96, 64, rgb);
    }
    MediaFile {
        attachment_id,
        filename: name.into(),
        mime: "image/jpeg".into(),
        sha256: sha256_file(&path),
        path,
        public_url: format!("https://hub.example.invalid/site/media/{attachment_id}.jpg"),
        alt: alt.into(),
        caption: caption.into(),
    }
}

fn publication(key: &str, title: &str, markdown: &str, media: Vec<MediaFile>) -> Publication {
    Publication {
        item_id: 7,
        version: 1,
        idempotency_key: key.into(),
        slug: title
            .to_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("-"),
        title: title.into(),
        summary: format!("Ringkasan: {title}"),
        body_html: warta_render::render_markdown(markdown),
        category: "Berita Daerah".into(),
        tags: vec!["banjir".into(), "Samarinda".into()],
        unit: "Bidang IKP".into(),
        author: "Tim Warta".into(),
        scheduled_at: None,
        featured: if media.is_empty() { None } else { Some(0) },
        media,
    }
}

fn target(wp: &WordPressHarness, site_url: &str) -> WordPress {
    WordPress::new(
        WordPressSettings::new(site_url, &wp.user),
        wp.app_password.clone(),
    )
    .unwrap()
}

fn upstream(wp: &WordPressHarness) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], wp.port()))
}

/// Reads WordPress back, authenticated, for the assertions.
struct Rest {
    client: reqwest::blocking::Client,
    api: String,
    user: String,
    password: String,
}

impl Rest {
    fn new(wp: &WordPressHarness) -> Rest {
        Rest {
            client: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .unwrap(),
            api: format!("{}/wp/v2", wp.api_root),
            user: wp.user.clone(),
            password: wp.app_password.clone(),
        }
    }

    fn get_full(&self, path: &str) -> (u16, Value, Option<usize>) {
        let r = self
            .client
            .get(format!("{}/{}", self.api, path))
            .basic_auth(&self.user, Some(&self.password))
            .send()
            .unwrap();
        let status = r.status().as_u16();
        let total = r
            .headers()
            .get("x-wp-total")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        (status, r.json().unwrap_or(Value::Null), total)
    }

    fn get(&self, path: &str) -> Value {
        let (status, v, _) = self.get_full(path);
        assert_eq!(status, 200, "GET {path}: {v}");
        v
    }

    fn status(&self, path: &str) -> u16 {
        self.get_full(path).0
    }

    fn total(&self, path: &str) -> usize {
        let (status, v, total) = self.get_full(path);
        assert_eq!(status, 200, "GET {path}: {v}");
        total.expect("X-WP-Total")
    }

    /// Every post, whatever its status, the trash included.
    fn posts(&self) -> usize {
        self.total("posts?status=publish,future,draft,pending,private,trash&per_page=1")
    }

    fn media(&self) -> usize {
        self.total("media?per_page=1")
    }

    fn terms(&self, taxonomy: &str) -> usize {
        self.total(&format!("{taxonomy}?per_page=1&hide_empty=false"))
    }

    /// Posts whose slug carries `key` (any status).
    fn posts_with_key(&self, key: &str) -> Vec<Value> {
        let all = self.get(
            "posts?status=publish,future,draft,pending,private,trash&per_page=100&context=edit",
        );
        all.as_array()
            .unwrap()
            .iter()
            .filter(|p| p["slug"].as_str().unwrap_or_default().contains(key))
            .cloned()
            .collect()
    }

    /// Media files whose slug carries `key`.
    fn media_with_key(&self, key: &str) -> Vec<Value> {
        let all = self.get("media?per_page=100&context=edit");
        all.as_array()
            .unwrap()
            .iter()
            .filter(|p| p["slug"].as_str().unwrap_or_default().contains(key))
            .cloned()
            .collect()
    }
}

fn fetch_public(url: &str) -> (u16, String) {
    let r = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
        .get(url)
        .send()
        .unwrap();
    (r.status().as_u16(), r.text().unwrap_or_default())
}

fn assert_no_secret(text: &str, password: &str) {
    let compact: String = password.chars().filter(|c| !c.is_whitespace()).collect();
    assert!(
        !text.contains(password) && !text.contains(&compact),
        "the password leaked into: {text}"
    );
    // Nor any long piece of it.
    for piece in compact.as_bytes().chunks(8).filter(|c| c.len() == 8) {
        let piece = std::str::from_utf8(piece).unwrap();
        assert!(
            !text.contains(piece),
            "a piece of the password leaked into: {text}"
        );
    }
}

/// The one post and the files published under `key`, checked through WordPress.
fn assert_published_once(rest: &Rest, key: &str, remote: &RemoteRef, files: usize) {
    let posts = rest.posts_with_key(key);
    assert_eq!(posts.len(), 1, "posts with key {key}: {posts:#?}");
    assert_eq!(
        posts[0]["id"].as_i64().unwrap().to_string(),
        remote.remote_id
    );
    assert_eq!(posts[0]["status"], "publish");
    let media = rest.media_with_key(key);
    assert_eq!(media.len(), files, "media with key {key}: {media:#?}");
    let post_id: i64 = remote.remote_id.parse().unwrap();
    for m in &media {
        assert_eq!(
            m["post"].as_i64(),
            Some(post_id),
            "file attached to the post: {m}"
        );
    }
    let mut ids: Vec<String> = media
        .iter()
        .map(|m| m["id"].as_i64().unwrap().to_string())
        .collect();
    let mut ours: Vec<String> = remote.media.iter().map(|m| m.remote_id.clone()).collect();
    ids.sort();
    ours.sort();
    assert_eq!(
        ids, ours,
        "the files WordPress has are the ones we recorded"
    );
    if let Some(first) = remote.media.first() {
        assert_eq!(
            posts[0]["featured_media"].as_i64().unwrap().to_string(),
            first.remote_id
        );
    }
}

// ---------------------------------------------------------------------- tests

const BODY: &str = "Banjir melanda \"tiga kecamatan\" di Samarinda -- warga diminta waspada...\n\
    Petugas BPBD menyebut ketinggian air 1x2 meter di beberapa titik.\n\n\
    ## Langkah yang diambil\n\n\
    - Posko di Kantor Camat Sungai Pinang & Balai Kota\n\
    - Teks [gallery] ini bukan galeri\n\n\
    Informasi: hubungi 112 :)";

#[test]
fn publish_with_photos_check_live_correct_and_unpublish() {
    let wp = WordPressHarness::start();
    eprintln!("WordPress harness started in {:.1?}", wp.started_in);
    let files = tempfile::tempdir().unwrap();
    let rest = Rest::new(&wp);
    let target = target(&wp, &wp.url);
    let posts_before = rest.posts();

    let a = photo(
        files.path(),
        101,
        "banjir-1.jpg",
        (30, 90, 160),
        "Air menggenangi jalan",
        "Jalan Pahlawan, Senin pagi",
    );
    let b = photo(
        files.path(),
        102,
        "banjir-2.jpg",
        (160, 90, 30),
        "Warga mengungsi",
        "Posko di Kantor Camat",
    );
    let p1 = publication(
        "w7-v1-t1-a1b2c3d4e5f6",
        "Banjir di Samarinda",
        BODY,
        vec![a.clone(), b.clone()],
    );

    let r1 = target.publish(&p1, None).expect("publish");
    assert_eq!(r1.status, "publish");
    assert_eq!(r1.media.len(), 2);
    assert_published_once(&rest, &p1.idempotency_key, &r1, 2);
    assert_eq!(rest.posts(), posts_before + 1);

    // What WordPress holds: post fields, terms, author, files with alt text and caption.
    let post = rest.get(&format!("posts/{}?context=edit", r1.remote_id));
    assert_eq!(post["title"]["raw"], "Banjir di Samarinda");
    assert_eq!(
        post["slug"],
        format!("banjir-di-samarinda-{}", p1.idempotency_key)
    );
    assert!(
        post["excerpt"]["raw"]
            .as_str()
            .unwrap()
            .contains("Ringkasan")
    );
    assert_eq!(post["link"], r1.url.as_str());
    let me = rest.get("users/me");
    assert_eq!(post["author"], me["id"], "author found by display name");
    let cats = post["categories"].as_array().unwrap();
    assert_eq!(cats.len(), 1);
    assert_eq!(
        rest.get(&format!("categories/{}", cats[0]))["name"],
        "Berita Daerah"
    );
    let mut tag_names: Vec<String> = post["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            rest.get(&format!("tags/{t}"))["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    tag_names.sort();
    assert_eq!(tag_names, ["Samarinda", "banjir"]);
    for (file, remote) in [(&a, &r1.media[0]), (&b, &r1.media[1])] {
        assert_eq!(remote.attachment_id, file.attachment_id);
        let m = rest.get(&format!("media/{}?context=edit", remote.remote_id));
        assert_eq!(m["alt_text"], file.alt.as_str());
        assert_eq!(m["caption"]["raw"], file.caption.as_str());
        assert_eq!(m["mime_type"], "image/jpeg");
        assert_eq!(m["source_url"], remote.url.as_str());
        // The very bytes we sent.
        let (status, _) = fetch_public(&remote.url);
        assert_eq!(status, 200);
        let bytes = reqwest::blocking::get(&remote.url)
            .unwrap()
            .bytes()
            .unwrap();
        assert_eq!(
            bytes.len() as u64,
            std::fs::metadata(&file.path).unwrap().len()
        );
    }
    assert_eq!(
        post["featured_media"].as_i64().unwrap().to_string(),
        r1.media[0].remote_id
    );

    // The public page: the featured image, the second photo with its caption, the body with
    // WordPress's typography, and no shortcode run.
    let (status, page) = fetch_public(&r1.url);
    assert_eq!(status, 200);
    assert!(page.contains("wp-post-image"), "featured image shown");
    assert!(
        page.contains(
            &r1.media[0]
                .url
                .rsplit('/')
                .next()
                .unwrap()
                .replace(".jpg", "")
        )
    );
    assert!(
        page.contains(&r1.media[1].url),
        "second photo in the content"
    );
    assert!(page.contains("Posko di Kantor Camat"));
    assert!(
        page.contains("&#8220;tiga kecamatan&#8221;"),
        "WordPress curled the quotes"
    );
    assert!(page.contains("[gallery]") || page.contains("&#91;gallery&#93;"));
    assert!(
        !page.contains("class=\"gallery"),
        "no gallery shortcode ran"
    );

    let live = target.check_live(&p1, &r1).expect("check live");
    assert!(
        live.matches,
        "{live:?}\nsent:  {}\nshown: {}",
        normalised_text(&WordPress::content_html(&p1, &r1.media)),
        normalised_text(content_region(&page).unwrap_or("(no content element)"))
    );
    assert_eq!(live.http_status, 200);
    assert!(live.found_hash.is_some());
    let expected = normalised_text(&WordPress::content_html(&p1, &r1.media));
    assert!(expected.contains("\"tiga kecamatan\""), "{expected}");
    use sha2::Digest;
    assert_eq!(
        live.expected_hash,
        hex::encode(sha2::Sha256::digest(expected.as_bytes()))
    );
    // A body that differs by one word does not match the page.
    let mut changed = p1.clone();
    changed.body_html = changed.body_html.replace("waspada", "tenang");
    let live = target.check_live(&changed, &r1).unwrap();
    assert!(!live.matches, "{live:?}");

    // Publishing the same version again changes nothing.
    let again = target.publish(&p1, None).expect("publish again");
    assert_eq!(again, r1);
    assert_eq!(rest.posts(), posts_before + 1);

    // A correction: new version and key, body changed, first photo kept with a new caption,
    // second photo replaced by a third.
    let mut a2 = a.clone();
    a2.caption = "Jalan Pahlawan, Senin pagi (diperbarui)".into();
    let c = photo(
        files.path(),
        103,
        "banjir-3.jpg",
        (40, 160, 60),
        "Perahu karet",
        "Evakuasi warga",
    );
    let mut p2 = publication(
        "w7-v2-t1-0f0e0d0c0b0a",
        "Banjir di Samarinda",
        &BODY.replace("waspada", "tetap waspada dan mengungsi"),
        vec![a2.clone(), c.clone()],
    );
    p2.version = 2;
    let media_before = rest.media();
    let r2 = target.publish(&p2, Some(&r1)).expect("correction");
    assert_eq!(r2.remote_id, r1.remote_id, "the same post is updated");
    assert_eq!(r2.url, r1.url, "its address does not change");
    assert_eq!(
        r2.media[0].remote_id, r1.media[0].remote_id,
        "the unchanged photo is reused"
    );
    assert_ne!(r2.media[1].remote_id, r1.media[1].remote_id);
    assert_eq!(
        rest.status(&format!("media/{}", r1.media[1].remote_id)),
        404,
        "the replaced photo is gone"
    );
    assert_eq!(rest.media(), media_before, "one file in, one out");
    assert_eq!(rest.posts(), posts_before + 1, "no new post");
    let m = rest.get(&format!("media/{}?context=edit", r2.media[0].remote_id));
    assert_eq!(m["caption"]["raw"], a2.caption.as_str());
    let m = rest.get(&format!("media/{}?context=edit", r2.media[1].remote_id));
    assert_eq!(m["alt_text"], "Perahu karet");
    assert_eq!(m["post"].as_i64().unwrap().to_string(), r2.remote_id);
    assert!(target.check_live(&p2, &r2).unwrap().matches);
    assert!(
        !target.check_live(&p1, &r2).unwrap().matches,
        "the old text is no longer what the page shows"
    );
    // The correction retried: still the same.
    assert_eq!(target.publish(&p2, Some(&r1)).unwrap(), r2);

    // Unpublish: the post in the trash, its files deleted, the page gone.
    target.unpublish(p2.item_id, &r2).expect("unpublish");
    let post = rest.get(&format!("posts/{}?context=edit", r2.remote_id));
    assert_eq!(post["status"], "trash");
    for m in &r2.media {
        assert_eq!(rest.status(&format!("media/{}", m.remote_id)), 404);
    }
    assert_eq!(fetch_public(&r2.url).0, 404);
    let live = target.check_live(&p2, &r2).unwrap();
    assert!(!live.matches);
    assert_eq!(live.http_status, 404);
    assert_eq!(live.found_hash, None);
    target
        .unpublish(p2.item_id, &r2)
        .expect("unpublishing twice is fine");
}

#[test]
fn scheduled_publish_is_future_until_published_now() {
    let wp = WordPressHarness::start();
    let files = tempfile::tempdir().unwrap();
    let rest = Rest::new(&wp);
    let target = target(&wp, &wp.url);
    let at: DateTime<Utc> = Utc.with_ymd_and_hms(2031, 5, 6, 7, 8, 9).unwrap();
    let a = photo(
        files.path(),
        201,
        "upacara.jpg",
        (200, 30, 30),
        "Upacara bendera",
        "Halaman kantor gubernur",
    );
    let mut p = publication(
        "w8-v1-t1-5c5c5c5c5c5c",
        "Upacara Hari Jadi",
        "Upacara digelar pukul 08.00 WITA.",
        vec![a],
    );
    p.scheduled_at = Some(at);

    let r = target.publish(&p, None).expect("scheduled publish");
    assert_eq!(r.status, "future");
    let post = rest.get(&format!("posts/{}?context=edit", r.remote_id));
    assert_eq!(post["status"], "future");
    assert_eq!(post["date_gmt"], "2031-05-06T07:08:09");
    // WordPress shows dates in the site's zone (WITA, UTC+8).
    assert_eq!(post["date"], "2031-05-06T15:08:09");
    // The address it will have, not the `?p=` preview link.
    assert_eq!(
        r.url,
        format!(
            "{}/2031/05/upacara-hari-jadi-{}/",
            wp.url, p.idempotency_key
        )
    );
    assert_eq!(fetch_public(&r.url).0, 404, "not public before its time");
    let live = target.check_live(&p, &r).unwrap();
    assert!(!live.matches);
    // Retried: the same scheduled post.
    assert_eq!(target.publish(&p, None).unwrap(), r);
    assert_eq!(rest.posts_with_key(&p.idempotency_key).len(), 1);

    // The official now publishes it at once (a new version, no schedule).
    let mut now = p.clone();
    now.version = 2;
    now.idempotency_key = "w8-v2-t1-6d6d6d6d6d6d".into();
    now.scheduled_at = None;
    let r2 = target.publish(&now, Some(&r)).expect("publish now");
    assert_eq!(r2.remote_id, r.remote_id);
    assert_eq!(r2.status, "publish");
    let post = rest.get(&format!("posts/{}?context=edit", r2.remote_id));
    let date: DateTime<Utc> = format!("{}Z", post["date_gmt"].as_str().unwrap())
        .parse()
        .unwrap();
    assert!(
        date.year() < 2031 && (Utc::now() - date).num_minutes().abs() < 10,
        "dated now: {date}"
    );
    assert_eq!(fetch_public(&r2.url).0, 200);
    assert!(target.check_live(&now, &r2).unwrap().matches);
}

/// The core of exactly once: the connection is cut at every request of a whole publish,
/// after WordPress did the work (and, separately, before it saw the request); a retry through
/// a healthy connection must end with exactly one post, each file once, each term once.
#[test]
fn interrupted_at_every_request_publishes_exactly_once() {
    let wp = WordPressHarness::start();
    let files = tempfile::tempdir().unwrap();
    let rest = Rest::new(&wp);
    let direct = target(&wp, &wp.url);
    let t0 = Instant::now();

    let make = |n: &str| {
        let a = photo(
            files.path(),
            301,
            "kebakaran-1.jpg",
            (90, 30, 30),
            "Api di pasar",
            "Pasar Segiri, malam",
        );
        let b = photo(
            files.path(),
            302,
            "kebakaran-2.jpg",
            (30, 30, 90),
            "Petugas pemadam",
            "Damkar tiba 10 menit kemudian",
        );
        let mut p = publication(
            &format!("w9-v1-t1-{n}"),
            "Kebakaran Pasar Segiri",
            "Kebakaran terjadi pukul 21.00 -- tidak ada korban jiwa.",
            vec![a, b],
        );
        // New terms every time, so creating them is interrupted too.
        p.category = format!("Bencana {n}");
        p.tags = vec![format!("kebakaran {n}"), format!("pasar {n}")];
        p
    };

    // A clean publish through the proxy tells how many requests one publish makes.
    let proxy = FaultProxy::start(upstream(&wp), Fault::None);
    let p = make("calibrate");
    let r = target(&wp, &proxy.url())
        .publish(&p, None)
        .expect("clean publish through the proxy");
    let requests = proxy.seen();
    let steps = proxy.log();
    drop(proxy);
    assert_published_once(&rest, &p.idempotency_key, &r, 2);
    assert!(
        requests >= 10,
        "a publish with two new files and three new terms: {steps:#?}"
    );

    for (mode, fault) in [
        ("after", Fault::DropAfterForward as fn(usize) -> Fault),
        ("before", Fault::DropBeforeForward),
    ] {
        for n in 1..=requests {
            let p = make(&format!("{mode}{n:02}"));
            let (posts, media, cats, tags) = (
                rest.posts(),
                rest.media(),
                rest.terms("categories"),
                rest.terms("tags"),
            );

            let proxy = FaultProxy::start(upstream(&wp), fault(n));
            let failed = target(&wp, &proxy.url()).publish(&p, None);
            assert!(
                proxy.tripped(),
                "fault {mode} request {n} did not happen: {:?}",
                proxy.log()
            );
            let step = proxy.log()[n - 1].clone();
            drop(proxy);
            match &failed {
                Err(e @ PublishError::Unavailable(_)) => assert!(e.is_transient()),
                other => {
                    panic!("cut {mode} request {n} ({step}): expected Unavailable, got {other:?}")
                }
            }

            let r = direct
                .publish(&p, None)
                .unwrap_or_else(|e| panic!("retry after a cut {mode} request {n} ({step}): {e}"));
            assert_published_once(&rest, &p.idempotency_key, &r, 2);
            assert_eq!(
                rest.posts(),
                posts + 1,
                "cut {mode} request {n} ({step}): one new post"
            );
            assert_eq!(
                rest.media(),
                media + 2,
                "cut {mode} request {n} ({step}): two new files"
            );
            assert_eq!(
                rest.terms("categories"),
                cats + 1,
                "cut {mode} request {n} ({step})"
            );
            assert_eq!(
                rest.terms("tags"),
                tags + 2,
                "cut {mode} request {n} ({step})"
            );
            // And once more, as a queue that retries a success it did not record would.
            assert_eq!(direct.publish(&p, None).unwrap(), r);
            assert_eq!(rest.posts(), posts + 1);
            assert_eq!(rest.media(), media + 2);
        }
    }
    eprintln!(
        "{} interruptions of {requests} requests each in {:.1?}: {steps:?}",
        2 * requests,
        t0.elapsed()
    );

    // Corrections, cut at every request too: each version keeps the first photo (with a new
    // caption) and replaces the second by a new one, updating the same post.
    let t1 = Instant::now();
    let version = |n: usize| {
        let mut p = make("base");
        p.version = n as i64 + 1;
        p.idempotency_key = format!("w9-v{}-t1-fix{n:02}", n + 1);
        p.body_html =
            warta_render::render_markdown(&format!("Koreksi ke-{n}: tidak ada korban jiwa."));
        p.media[0].caption = format!("Pasar Segiri, koreksi {n}");
        p.media[1] = photo(
            files.path(),
            900 + n as i64,
            &format!("koreksi-{n}.jpg"),
            (n as u8 * 9, 60, 60),
            &format!("Foto koreksi {n}"),
            "Setelah api padam",
        );
        p
    };
    let base = make("base");
    let mut current = direct
        .publish(&base, None)
        .expect("the version corrected below");
    let proxy = FaultProxy::start(upstream(&wp), Fault::None);
    let p = version(0);
    current = target(&wp, &proxy.url())
        .publish(&p, Some(&current))
        .expect("a clean correction");
    let fix_requests = proxy.seen();
    let fix_steps = proxy.log();
    drop(proxy);
    let post_id = current.remote_id.clone();
    for n in 1..=fix_requests {
        let p = version(n);
        let (posts, media) = (rest.posts(), rest.media());
        let proxy = FaultProxy::start(upstream(&wp), Fault::DropAfterForward(n));
        let failed = target(&wp, &proxy.url()).publish(&p, Some(&current));
        assert!(
            proxy.tripped(),
            "correction fault at request {n} did not happen: {:?}",
            proxy.log()
        );
        let step = proxy.log()[n - 1].clone();
        drop(proxy);
        assert!(
            matches!(failed, Err(PublishError::Unavailable(_))),
            "correction cut after request {n} ({step}): {failed:?}"
        );
        // The queue retries with what it had recorded: the previous version's reference.
        let r = direct.publish(&p, Some(&current)).unwrap_or_else(|e| {
            panic!("retrying the correction cut after request {n} ({step}): {e}")
        });
        assert_eq!(
            r.remote_id, post_id,
            "correction cut after request {n} ({step}): the same post"
        );
        assert_eq!(
            r.media[0].remote_id, current.media[0].remote_id,
            "the kept photo is reused"
        );
        assert_eq!(
            rest.posts(),
            posts,
            "correction cut after request {n} ({step}): no new post"
        );
        assert_eq!(
            rest.media(),
            media,
            "correction cut after request {n} ({step}): one file in, one out"
        );
        assert_eq!(
            rest.media_with_key(&p.idempotency_key).len(),
            1,
            "the new photo once"
        );
        let attached = rest.get(&format!("media?parent={post_id}&per_page=100"));
        assert_eq!(
            attached.as_array().unwrap().len(),
            2,
            "the post has exactly its two photos"
        );
        let m = rest.get(&format!("media/{}?context=edit", r.media[0].remote_id));
        assert_eq!(m["caption"]["raw"], p.media[0].caption.as_str());
        assert!(direct.check_live(&p, &r).unwrap().matches);
        current = r;
    }
    eprintln!(
        "{fix_requests} interrupted corrections in {:.1?}: {fix_steps:?}",
        t1.elapsed()
    );
}

#[test]
fn wordpress_down_mid_queue_then_back_publishes_everything_once() {
    let wp = WordPressHarness::start();
    let files = tempfile::tempdir().unwrap();
    let rest = Rest::new(&wp);
    let target = target(&wp, &wp.url);
    let posts = rest.posts();
    let queue: Vec<Publication> = (1..=3)
        .map(|i| {
            let a = photo(
                files.path(),
                400 + i,
                &format!("rapat-{i}.jpg"),
                (20, 20 * i as u8, 90),
                "Rapat koordinasi",
                "Ruang rapat",
            );
            publication(
                &format!("w4{i}-v1-t1-00000000000{i}"),
                &format!("Rapat koordinasi {i}"),
                "Rapat membahas anggaran.",
                vec![a],
            )
        })
        .collect();

    let first = target.publish(&queue[0], None).expect("first goes out");
    wp.stop_web();
    for p in &queue[1..] {
        match target.publish(p, None) {
            Err(e @ PublishError::Unavailable(_)) => {
                assert!(e.is_transient());
                assert!(e.to_string().contains("could not connect"), "{e}");
                assert_no_secret(&e.to_string(), &wp.app_password);
            }
            other => panic!("WordPress is down: expected Unavailable, got {other:?}"),
        }
    }
    assert!(matches!(
        target.check_live(&queue[0], &first),
        Err(PublishError::Unavailable(_))
    ));
    wp.start_web();
    let mut done = vec![
        target
            .publish(&queue[0], None)
            .expect("retried after restart"),
    ];
    assert_eq!(done[0], first);
    for p in &queue[1..] {
        done.push(target.publish(p, None).expect("goes out after restart"));
    }
    for (p, r) in queue.iter().zip(&done) {
        assert_published_once(&rest, &p.idempotency_key, r, 1);
        assert!(target.check_live(p, r).unwrap().matches);
    }
    assert_eq!(rest.posts(), posts + 3);

    // A WordPress that accepts the connection and never answers: a timeout, Unavailable.
    let proxy = FaultProxy::start(upstream(&wp), Fault::Stall(3));
    let mut settings = WordPressSettings::new(proxy.url(), &wp.user);
    settings.request_timeout = Duration::from_secs(2);
    let slow = WordPress::new(settings, wp.app_password.clone()).unwrap();
    let a = photo(files.path(), 499, "lambat.jpg", (1, 2, 3), "x", "y");
    let p = publication("w49-v1-t1-aaaaaaaaaaaa", "Koneksi lambat", "Isi.", vec![a]);
    let t = Instant::now();
    match slow.publish(&p, None) {
        Err(PublishError::Unavailable(msg)) => {
            assert!(msg.contains("did not answer in time"), "{msg}")
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert!(t.elapsed() < Duration::from_secs(30));
    drop(proxy);
    let r = target.publish(&p, None).expect("after the timeout");
    assert_published_once(&rest, &p.idempotency_key, &r, 1);
}

#[test]
fn revoked_application_password_is_unauthorized_and_never_shown() {
    let mut wp = WordPressHarness::start();
    let files = tempfile::tempdir().unwrap();
    let old_password = wp.app_password.clone();
    let target = target(&wp, &wp.url);
    let a = photo(
        files.path(),
        501,
        "pelantikan.jpg",
        (10, 120, 10),
        "Pelantikan",
        "Aula",
    );
    let p1 = publication(
        "w51-v1-t1-111111111111",
        "Pelantikan pejabat",
        "Lima pejabat dilantik.",
        vec![a.clone()],
    );
    let r1 = target
        .publish(&p1, None)
        .expect("publish before the revocation");
    assert!(
        !format!("{target:?}").contains(&old_password),
        "Debug shows no password"
    );

    wp.revoke();
    let p2 = publication(
        "w52-v1-t1-222222222222",
        "Rapat evaluasi",
        "Rapat evaluasi triwulan.",
        vec![a],
    );
    let e = target.publish(&p2, None).expect_err("revoked");
    match &e {
        PublishError::Unauthorized(msg) => {
            assert!(msg.contains("application password"), "{msg}");
            assert!(msg.contains(&wp.user), "names the user: {msg}");
        }
        other => panic!("expected Unauthorized, got {other:?}"),
    }
    assert!(!e.is_transient());
    assert_no_secret(&e.to_string(), &old_password);
    assert_no_secret(&format!("{e:?}"), &old_password);
    let e = target.unpublish(p1.item_id, &r1).expect_err("revoked");
    assert!(matches!(e, PublishError::Unauthorized(_)), "{e:?}");
    assert_no_secret(&e.to_string(), &old_password);

    // A new password in the settings: the item that waited goes out, once; the first one is
    // still published.
    let new_password = wp.new_password();
    assert_ne!(new_password, old_password);
    let rest = Rest::new(&wp);
    assert!(
        rest.posts_with_key(&p2.idempotency_key).is_empty(),
        "nothing was created while refused"
    );
    let fixed = WordPress::new(WordPressSettings::new(&wp.url, &wp.user), new_password).unwrap();
    let r2 = fixed.publish(&p2, None).expect("with the new password");
    assert_published_once(&rest, &p2.idempotency_key, &r2, 1);
    assert_published_once(&rest, &p1.idempotency_key, &r1, 1);
}

#[test]
fn refusals_carry_wordpress_own_words() {
    let wp = WordPressHarness::start();
    let files = tempfile::tempdir().unwrap();
    let rest = Rest::new(&wp);
    let target = target(&wp, &wp.url);

    // A file type WordPress does not take.
    let exe = files.path().join("alat.exe");
    std::fs::write(&exe, b"MZ\x90\x00 not really a program").unwrap();
    let file = MediaFile {
        attachment_id: 601,
        filename: "alat.exe".into(),
        mime: "application/x-msdownload".into(),
        sha256: sha256_file(&exe),
        path: exe,
        public_url: String::new(),
        alt: String::new(),
        caption: "Alat".into(),
    };
    let mut p = publication("w61-v1-t1-666666666666", "Unduhan", "Isi.", vec![file]);
    p.featured = None;
    match target.publish(&p, None) {
        Err(PublishError::Rejected(msg)) => {
            assert!(msg.contains("alat.exe"), "{msg}");
            assert!(
                msg.contains("not allowed to upload this file type"),
                "WordPress's words: {msg}"
            );
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    // What the refused attempt left (a draft under the key) is adopted by the next one.
    let drafts = rest.posts_with_key(&p.idempotency_key);
    assert_eq!(drafts.len(), 1);
    assert_eq!(drafts[0]["status"], "draft");
    p.media.clear();
    let r = target.publish(&p, None).expect("without the file");
    assert_published_once(&rest, &p.idempotency_key, &r, 0);

    // Given up for good instead: `discard` removes the draft and the files of that key, and
    // nothing else.
    let photo_ok = photo(
        files.path(),
        602,
        "sebelum.jpg",
        (5, 5, 5),
        "Sebelum",
        "Foto",
    );
    let exe = files.path().join("alat2.exe");
    std::fs::write(&exe, b"MZ not a program").unwrap();
    let mut q = publication(
        "w64-v1-t1-999999999999",
        "Ditinggalkan",
        "Isi.",
        vec![photo_ok],
    );
    q.media.push(MediaFile {
        attachment_id: 603,
        filename: "alat2.exe".into(),
        mime: "application/x-msdownload".into(),
        sha256: sha256_file(&exe),
        path: exe,
        public_url: String::new(),
        alt: String::new(),
        caption: String::new(),
    });
    let (posts, media) = (rest.posts(), rest.media());
    assert!(matches!(
        target.publish(&q, None),
        Err(PublishError::Rejected(_))
    ));
    assert_eq!(rest.posts(), posts + 1, "the draft");
    assert_eq!(rest.media(), media + 1, "the photo before the refused file");
    assert!(target.discard(&q).unwrap());
    assert_eq!(rest.posts(), posts);
    assert_eq!(rest.media(), media);
    assert!(!target.discard(&q).unwrap(), "nothing left the second time");
    // A published post is never discarded.
    assert!(!target.discard(&p).unwrap());
    assert_published_once(&rest, &p.idempotency_key, &r, 0);

    // Sites with plain permalinks: the API root as `?rest_route=`.
    let mut settings = WordPressSettings::new(&wp.url, &wp.user);
    settings.api_root = Some(format!("{}/?rest_route=", wp.url));
    let plain = WordPress::new(settings, wp.app_password.clone()).unwrap();
    let photo_plain = photo(
        files.path(),
        604,
        "polos.jpg",
        (9, 9, 9),
        "Polos",
        "Tanpa permalink",
    );
    let pp = publication(
        "w65-v1-t1-abababababab",
        "Permalink polos",
        "Isi.",
        vec![photo_plain],
    );
    let rp = plain.publish(&pp, None).expect("through ?rest_route=");
    assert_eq!(plain.publish(&pp, None).unwrap(), rp);
    assert_published_once(&rest, &pp.idempotency_key, &rp, 1);

    // An address that is not WordPress's API.
    let wrong = WordPress::new(
        WordPressSettings::new(format!("{}/bukan-wordpress", wp.url), &wp.user),
        wp.app_password.clone(),
    )
    .unwrap();
    match wrong.publish(
        &publication("w62-v1-t1-777777777777", "X", "Y", vec![]),
        None,
    ) {
        Err(PublishError::Rejected(msg)) => {
            assert!(msg.contains("not as WordPress's REST API"), "{msg}")
        }
        other => panic!("expected Rejected, got {other:?}"),
    }

    // Nothing listening at all.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let nowhere = WordPress::new(
        WordPressSettings::new(format!("http://127.0.0.1:{port}"), &wp.user),
        wp.app_password.clone(),
    )
    .unwrap();
    let e = nowhere
        .publish(
            &publication("w63-v1-t1-888888888888", "X", "Y", vec![]),
            None,
        )
        .unwrap_err();
    assert!(matches!(e, PublishError::Unavailable(_)), "{e:?}");
}
