//! The Markdown-site target on real folders and real git repositories (the `git` CLI).

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use warta_publish::markdown_site::{MarkdownSite, MarkdownSiteConfig};
use warta_publish::{MediaFile, Publication, PublishError, PublishTarget, RemoteRef};

fn fixed_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 1, 2, 3).unwrap()
}

struct Media {
    _dir: tempfile::TempDir,
    photo: MediaFile,
    report: MediaFile,
}

fn media_file(dir: &Path, id: i64, name: &str, mime: &str, bytes: &[u8]) -> MediaFile {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let sha256 = hex::encode(Sha256::digest(bytes));
    MediaFile {
        attachment_id: id,
        filename: name.into(),
        mime: mime.into(),
        path,
        public_url: format!("https://warta.example.go.id/site/media/{sha256}"),
        sha256,
        alt: String::new(),
        caption: String::new(),
    }
}

fn media() -> Media {
    let dir = tempfile::tempdir().unwrap();
    let mut photo = media_file(
        dir.path(),
        8,
        "banjir-1.jpg",
        "image/jpeg",
        b"\xff\xd8\xff\xe0 not really a JPEG, but bytes with a hash",
    );
    photo.alt = "Warga menyeberangi jalan yang tergenang".into();
    photo.caption = "Jalan Pahlawan, Selasa pagi".into();
    let mut report = media_file(
        dir.path(),
        7,
        "laporan.pdf",
        "application/pdf",
        b"%PDF-1.7 laporan",
    );
    report.caption = "Laporan BPBD".into();
    Media {
        _dir: dir,
        photo,
        report,
    }
}

const TRICKY_TITLE: &str = "Banjir: \"Samarinda\" --- #1 & <b>'Kaltim'</b> \u{7} é";

fn publication(version: i64, key: &str, m: &Media) -> Publication {
    Publication {
        item_id: 42,
        version,
        idempotency_key: key.into(),
        slug: "banjir-di-samarinda".into(),
        title: TRICKY_TITLE.into(),
        summary: "Hujan deras & angin: \"waspada\"".into(),
        body_html: warta_render::render_markdown(&format!(
            "Banjir setinggi **1 meter** (versi {version}).\n\n\
             ```\nkode {{{{< youtube abc >}}}} dan {{% include rahasia.txt %}}\n\n\nbaris setelah kosong\n```\n\n\
             - satu\n\n- dua"
        )),
        category: "Berita Daerah".into(),
        tags: vec!["banjir".into(), "samarinda: kota".into()],
        unit: "Bidang IKP".into(),
        author: "Siti Rahma".into(),
        scheduled_at: None,
        featured: Some(0),
        media: vec![m.photo.clone(), m.report.clone()],
    }
}

fn hugo(root: &Path) -> MarkdownSite {
    MarkdownSite::new(MarkdownSiteConfig::hugo(root))
        .unwrap()
        .with_clock(fixed_now)
}

fn hugo_git(root: &Path) -> MarkdownSite {
    MarkdownSite::new(
        MarkdownSiteConfig::hugo(root)
            .with_git("Warta Diskominfo", "warta@diskominfo.example.go.id"),
    )
    .unwrap()
    .with_clock(fixed_now)
}

/// Front matter parsed by a real YAML parser, and the body.
fn read_item(path: &Path) -> (Value, String) {
    let text = std::fs::read_to_string(path).unwrap();
    let rest = text.strip_prefix("---\n").expect("front matter first");
    let end = rest.find("\n---\n").expect("front matter closed");
    let front: Value = serde_norway::from_str(&rest[..end + 1]).unwrap();
    (front, rest[end + 5..].to_string())
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    names.sort();
    names
}

fn git(root: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn commits(root: &Path) -> usize {
    let out = Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["rev-list", "--count", "HEAD"])
        .output()
        .unwrap();
    if !out.status.success() {
        return 0; // no commit yet
    }
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

fn init_repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    git(dir.path(), &["init", "-q", "-b", "main"]);
    dir
}

#[test]
fn folder_mode_writes_valid_front_matter_the_sanitised_body_and_the_media() {
    let site = tempfile::tempdir().unwrap();
    let m = media();
    let target = hugo(site.path());
    let mut p = publication(1, "k-0001-aa", &m);
    // A caller that forgot to sanitise still writes nothing unsafe.
    p.body_html
        .push_str("<script>alert(1)</script><p onclick=\"x()\">klik</p>");
    let remote = target.publish(&p, None).unwrap();

    assert_eq!(
        remote.remote_id,
        "content/berita/banjir-di-samarinda-42.html"
    );
    assert_eq!(remote.url, "");
    assert_eq!(remote.status, "publish");
    let photo_name = format!("{}.jpg", m.photo.sha256);
    let report_name = format!("{}.pdf", m.report.sha256);
    assert_eq!(
        remote.media[0].remote_id,
        format!("static/media/{photo_name}")
    );
    assert_eq!(remote.media[0].url, format!("/media/{photo_name}"));
    assert_eq!(remote.media[1].url, format!("/media/{report_name}"));

    assert_eq!(
        files_in(&site.path().join("content/berita")),
        ["banjir-di-samarinda-42.html"]
    );
    let mut media_files = vec![photo_name.clone(), report_name.clone()];
    media_files.sort();
    assert_eq!(files_in(&site.path().join("static/media")), media_files);
    assert_eq!(
        std::fs::read(site.path().join("static/media").join(&photo_name)).unwrap(),
        std::fs::read(&m.photo.path).unwrap()
    );

    let (front, body) = read_item(&site.path().join(&remote.remote_id));
    assert_eq!(front["title"], TRICKY_TITLE);
    assert_eq!(front["slug"], "banjir-di-samarinda");
    assert_eq!(front["date"], "2026-01-05T01:02:03Z");
    assert_eq!(front["draft"], false);
    assert_eq!(
        front["summary"],
        "Hujan deras &amp; angin: &quot;waspada&quot;"
    );
    assert_eq!(front["description"], "Hujan deras & angin: \"waspada\"");
    assert_eq!(front["categories"], json!(["Berita Daerah"]));
    assert_eq!(front["tags"], json!(["banjir", "samarinda: kota"]));
    assert_eq!(front["author"], "Siti Rahma");
    assert_eq!(front["unit"], "Bidang IKP");
    assert_eq!(front["images"], json!([format!("/media/{photo_name}")]));
    assert_eq!(front["image"], format!("/media/{photo_name}"));
    assert_eq!(
        front["media"][0]["alt"],
        "Warga menyeberangi jalan yang tergenang"
    );
    assert_eq!(front["media"][0]["sha256"], m.photo.sha256.as_str());
    assert_eq!(front["media"][1]["mime"], "application/pdf");
    assert_eq!(
        front["warta"],
        json!({"item_id": 42, "version": 1, "key": "k-0001-aa"})
    );

    // The body is the sanitiser's output, with the media after it.
    assert!(body.contains("<strong>1 meter</strong>"), "{body}");
    assert!(
        !body.contains("<script") && !body.contains("onclick"),
        "{body}"
    );
    assert!(body.contains("baris setelah kosong"), "{body}");
    assert!(body.contains(&format!(
        "<figure><img src=\"/media/{photo_name}\" alt=\"Warga menyeberangi jalan yang tergenang\"><figcaption>Jalan Pahlawan, Selasa pagi</figcaption></figure>"
    )), "{body}");
    assert!(
        body.contains(&format!("href=\"/media/{report_name}\"")),
        "{body}"
    );
    // Neither Hugo shortcodes nor Liquid can be read in it, but the reader sees the braces.
    assert!(!body.contains('{'), "{body}");
    assert!(
        body.contains("&#123;&#123;&lt; youtube abc &gt;}}"),
        "{body}"
    );

    let live = target.check_live(&p, &remote).unwrap();
    assert!(live.matches, "{live:?}");
    assert_eq!(live.http_status, 0);
    assert_eq!(
        live.found_hash.as_deref(),
        Some(live.expected_hash.as_str())
    );
}

#[test]
fn folder_mode_retry_adopts_and_update_rewrites_and_unpublish_removes() {
    let site = tempfile::tempdir().unwrap();
    let m = media();
    let v1 = publication(1, "k-0002-v1", &m);
    let remote = hugo(site.path()).publish(&v1, None).unwrap();
    let path = site.path().join(&remote.remote_id);
    let first = std::fs::read(&path).unwrap();

    // A retry later (another clock) finds the file by its key and writes nothing new.
    let later = MarkdownSite::new(MarkdownSiteConfig::hugo(site.path()))
        .unwrap()
        .with_clock(|| Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap());
    let again = later.publish(&v1, None).unwrap();
    assert_eq!(again, remote);
    assert_eq!(std::fs::read(&path).unwrap(), first);
    assert_eq!(files_in(&site.path().join("content/berita")).len(), 1);

    // A correction without the PDF: same file, new key and body, the PDF gone, date kept.
    let mut v2 = publication(2, "k-0002-v2", &m);
    v2.body_html = warta_render::render_markdown("Banjir setinggi **2 meter**, diralat.");
    v2.media.truncate(1);
    let updated = later.publish(&v2, Some(&remote)).unwrap();
    assert_eq!(updated.remote_id, remote.remote_id);
    let (front, body) = read_item(&path);
    assert_eq!(front["warta"]["key"], "k-0002-v2");
    assert_eq!(front["warta"]["version"], 2);
    assert_eq!(front["date"], "2026-01-05T01:02:03Z");
    assert!(
        body.contains("2 meter") && !body.contains("1 meter"),
        "{body}"
    );
    assert_eq!(
        files_in(&site.path().join("static/media")),
        [format!("{}.jpg", m.photo.sha256)]
    );
    assert!(later.check_live(&v2, &updated).unwrap().matches);
    let stale = later.check_live(&v1, &updated).unwrap();
    assert!(!stale.matches);
    assert!(
        stale.found_hash.is_some()
            && stale.found_hash.as_deref() != Some(stale.expected_hash.as_str())
    );

    // A new slug moves the file; the old name does not linger.
    let mut v3 = publication(3, "k-0002-v3", &m);
    v3.slug = "banjir-besar-di-samarinda".into();
    let moved = later.publish(&v3, Some(&updated)).unwrap();
    assert_eq!(
        moved.remote_id,
        "content/berita/banjir-besar-di-samarinda-42.html"
    );
    assert_eq!(
        files_in(&site.path().join("content/berita")),
        ["banjir-besar-di-samarinda-42.html"]
    );

    later.unpublish(42, &moved).unwrap();
    assert!(files_in(&site.path().join("content/berita")).is_empty());
    assert!(files_in(&site.path().join("static/media")).is_empty());
    let gone = later.check_live(&v3, &moved).unwrap();
    assert!(!gone.matches);
    assert_eq!(gone.found_hash, None);
    // Unpublishing what is gone succeeds.
    later.unpublish(42, &moved).unwrap();
}

#[test]
fn media_shared_by_two_items_stays_until_the_last_one_goes() {
    let site = tempfile::tempdir().unwrap();
    let m = media();
    let target = hugo(site.path());
    let a = publication(1, "k-0003-a", &m);
    let mut b = publication(1, "k-0003-b", &m);
    b.item_id = 43;
    b.media = vec![m.photo.clone()];
    let ra = target.publish(&a, None).unwrap();
    let rb = target.publish(&b, None).unwrap();
    assert_eq!(files_in(&site.path().join("static/media")).len(), 2);

    target.unpublish(42, &ra).unwrap();
    assert_eq!(
        files_in(&site.path().join("static/media")),
        [format!("{}.jpg", m.photo.sha256)]
    );
    target.unpublish(43, &rb).unwrap();
    assert!(files_in(&site.path().join("static/media")).is_empty());
}

#[test]
fn jekyll_layout_uses_dated_posts_and_assets() {
    let site = tempfile::tempdir().unwrap();
    let m = media();
    let target = MarkdownSite::new(MarkdownSiteConfig::jekyll(site.path()))
        .unwrap()
        .with_clock(fixed_now);
    let mut p = publication(1, "k-0004-jekyll", &m);
    p.scheduled_at = Some(Utc.with_ymd_and_hms(2099, 8, 17, 3, 0, 0).unwrap());
    let remote = target.publish(&p, None).unwrap();
    assert_eq!(
        remote.remote_id,
        "_posts/2099-08-17-banjir-di-samarinda-42.html"
    );
    assert_eq!(remote.status, "future");
    assert_eq!(
        remote.media[0].url,
        format!("/assets/media/{}.jpg", m.photo.sha256)
    );
    assert!(
        site.path()
            .join("assets/media")
            .join(format!("{}.jpg", m.photo.sha256))
            .is_file()
    );
    let (front, _) = read_item(&site.path().join(&remote.remote_id));
    assert_eq!(front["date"], "2099-08-17T03:00:00Z");
}

#[test]
fn bad_media_is_a_local_error_and_writes_no_item() {
    let site = tempfile::tempdir().unwrap();
    let m = media();
    let target = hugo(site.path());
    let mut p = publication(1, "k-0005-bad", &m);
    p.media[1].sha256 = "0".repeat(64);
    let err = target.publish(&p, None).unwrap_err();
    assert!(
        matches!(&err, PublishError::Local(msg) if msg.contains("laporan.pdf")),
        "{err:?}"
    );
    p.media[1].sha256 = "../../etc/passwd".into();
    assert!(matches!(
        target.publish(&p, None),
        Err(PublishError::Local(_))
    ));
    assert!(files_in(&site.path().join("content/berita")).is_empty());
}

#[test]
fn git_mode_commits_once_per_publish_and_adopts_after_the_commit() {
    let repo = init_repo();
    let root = repo.path();
    // Someone's unrelated staged work must not end up in Warta's commits.
    std::fs::write(root.join("README.md"), "situs pemda\n").unwrap();
    git(root, &["add", "README.md"]);

    let m = media();
    let target = hugo_git(root);
    let v1 = publication(1, "k-0006-v1", &m);
    let remote = target.publish(&v1, None).unwrap();
    assert_eq!(commits(root), 1);
    let message = git(root, &["log", "-1", "--format=%B"]);
    assert!(message.starts_with("Publish: Banjir"), "{message}");
    assert!(
        message.lines().any(|l| l == "Warta-Key: k-0006-v1"),
        "{message}"
    );
    assert_eq!(
        git(root, &["log", "-1", "--format=%an <%ae>|%cn <%ce>"]),
        "Warta Diskominfo <warta@diskominfo.example.go.id>|Warta Diskominfo <warta@diskominfo.example.go.id>"
    );
    let committed = git(root, &["show", "--name-only", "--format=", "HEAD"]);
    let mut expected = vec![
        remote.remote_id.clone(),
        remote.media[0].remote_id.clone(),
        remote.media[1].remote_id.clone(),
    ];
    expected.sort();
    assert_eq!(committed.lines().collect::<Vec<_>>(), expected);
    // The item is committed and clean; README.md is still staged, as its owner left it.
    assert_eq!(git(root, &["status", "--porcelain"]), "A  README.md");

    // The answer was lost after the commit: the retry finds the commit and makes none.
    let again = target.publish(&v1, None).unwrap();
    assert_eq!(again, remote);
    assert_eq!(commits(root), 1);
    assert!(target.check_live(&v1, &remote).unwrap().matches);

    // A correction is one more commit; unpublishing one more; unpublishing again none.
    let mut v2 = publication(2, "k-0006-v2", &m);
    v2.body_html = warta_render::render_markdown("Diralat: **2 meter**.");
    let updated = target.publish(&v2, Some(&remote)).unwrap();
    assert_eq!(commits(root), 2);
    assert!(git(root, &["log", "-1", "--format=%s"]).starts_with("Update: "));
    assert!(target.check_live(&v2, &updated).unwrap().matches);

    target.unpublish(42, &updated).unwrap();
    assert_eq!(commits(root), 3);
    assert_eq!(git(root, &["ls-tree", "-r", "--name-only", "HEAD"]), "");
    target.unpublish(42, &updated).unwrap();
    assert_eq!(commits(root), 3);
    assert_eq!(git(root, &["status", "--porcelain"]), "A  README.md");
    assert_eq!(target.check_live(&v2, &updated).unwrap().found_hash, None);
}

#[test]
fn git_mode_commits_a_crashed_publish_exactly_once() {
    let repo = init_repo();
    let root = repo.path();
    std::fs::write(root.join("hugo.toml"), "title = 'Pemda'\n").unwrap();
    git(root, &["add", "hugo.toml"]);
    git(
        root,
        &[
            "-c",
            "user.name=Web",
            "-c",
            "user.email=web@example.go.id",
            "commit",
            "-q",
            "-m",
            "Situs",
        ],
    );
    let m = media();
    let p = publication(1, "k-0007-crash", &m);

    // The crash: the files are written (by the same writer, without the commit step) and
    // the process dies before committing.
    let remote_written = hugo(root).publish(&p, None).unwrap();
    assert_eq!(commits(root), 1);
    let target = hugo_git(root);
    // Nothing committed yet: what the site is built from does not show the item.
    let before = target.check_live(&p, &remote_written).unwrap();
    assert!(!before.matches);
    assert_eq!(before.found_hash, None);

    let remote = target.publish(&p, None).unwrap();
    assert_eq!(remote, remote_written);
    assert_eq!(commits(root), 2);
    assert!(target.publish(&p, None).is_ok());
    assert!(target.publish(&p, None).is_ok());
    assert_eq!(
        commits(root),
        2,
        "the retries after the commit commit nothing"
    );
    assert_eq!(git(root, &["status", "--porcelain"]), "");
    assert!(target.check_live(&p, &remote).unwrap().matches);

    // A crash between moving the branch and updating the shared index leaves the index as
    // it was before the commit; the retry brings it in line, so nobody's next commit undoes it.
    git(root, &["read-tree", "HEAD~1"]);
    assert_ne!(git(root, &["status", "--porcelain"]), "");
    target.publish(&p, None).unwrap();
    assert_eq!(commits(root), 2);
    assert_eq!(git(root, &["status", "--porcelain"]), "");

    // The same for unpublishing: files removed, crash, then the retry commits the removal.
    hugo(root).unpublish(42, &remote).unwrap();
    assert_eq!(commits(root), 2);
    target.unpublish(42, &remote).unwrap();
    assert_eq!(commits(root), 3);
    target.unpublish(42, &remote).unwrap();
    assert_eq!(commits(root), 3);
    assert_eq!(
        git(root, &["ls-tree", "-r", "--name-only", "HEAD"]),
        "hugo.toml"
    );
}

#[test]
fn git_mode_says_clearly_when_git_or_the_repository_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = MarkdownSiteConfig::hugo(dir.path()).with_git("Warta", "warta@example.go.id");
    config.git_program = PathBuf::from("/nonexistent/bin/git");
    let err = MarkdownSite::new(config).unwrap_err();
    assert!(
        matches!(&err, PublishError::Local(m) if m.contains("needs the `git` program") && m.contains("install git")),
        "{err:?}"
    );

    let err = MarkdownSite::new(
        MarkdownSiteConfig::hugo(dir.path()).with_git("Warta", "warta@example.go.id"),
    )
    .unwrap_err();
    assert!(
        matches!(&err, PublishError::Local(m) if m.contains("not inside a git work tree")),
        "{err:?}"
    );
}

#[test]
fn remote_paths_outside_the_site_are_refused() {
    let site = tempfile::tempdir().unwrap();
    let m = media();
    let target = hugo(site.path());
    let p = publication(1, "k-0008-paths", &m);
    let outside = RemoteRef {
        remote_id: "../../etc/passwd".into(),
        url: String::new(),
        media: Vec::new(),
        status: "publish".into(),
    };
    assert!(matches!(
        target.check_live(&p, &outside),
        Err(PublishError::Local(_))
    ));
    // Unpublishing with such a reference touches nothing outside (and finds nothing inside).
    target.unpublish(42, &outside).unwrap();
}

#[test]
fn git_mode_does_not_mistake_a_longer_key_for_its_own() {
    let repo = init_repo();
    let root = repo.path();
    let m = media();
    let target = hugo_git(root);
    let mut other = publication(1, "k-0009-a-b", &m);
    other.item_id = 43;
    target.publish(&other, None).unwrap();
    assert_eq!(commits(root), 1);
    // `k-0009-a` is a prefix of the key already committed: it is still a new publish.
    let remote = target
        .publish(&publication(1, "k-0009-a", &m), None)
        .unwrap();
    assert_eq!(commits(root), 2);
    assert_eq!(
        remote.remote_id,
        "content/berita/banjir-di-samarinda-42.html"
    );
    assert!(root.join(&remote.remote_id).is_file());
}

fn on_path(program: &str, version_arg: &str) -> bool {
    Command::new(program)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Builds the site the target wrote with a real Hugo, when one is installed (Debian: `hugo`).
#[test]
fn hugo_shows_the_body_as_written_and_expands_nothing_in_it() {
    if !on_path("hugo", "version") {
        eprintln!("SKIPPED: hugo is not installed");
        return;
    }
    let site = tempfile::tempdir().unwrap();
    let root = site.path();
    let m = media();
    let mut p = publication(1, "k-0010-hugo", &m);
    p.body_html.push_str(&warta_render::render_markdown(
        "Judul situs: {{% param title %}}",
    ));
    let remote = hugo(root).publish(&p, None).unwrap();
    std::fs::write(
        root.join("hugo.toml"),
        "baseURL = 'http://example.org/'\ntitle = 'Situs Pemda'\n\
         disableKinds = ['taxonomy', 'term', 'RSS', 'sitemap']\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("layouts/_default")).unwrap();
    std::fs::write(
        root.join("layouts/_default/single.html"),
        "<html><body><h1>{{ .Title }}</h1><div>{{ .Summary }}</div>{{ .Content }}</body></html>",
    )
    .unwrap();
    std::fs::write(root.join("layouts/_default/list.html"), "<html></html>").unwrap();
    let out = Command::new("hugo")
        .args(["--quiet", "--source"])
        .arg(root)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let page =
        std::fs::read_to_string(root.join("public/berita/banjir-di-samarinda/index.html")).unwrap();
    let (_, body) = read_item(&root.join(&remote.remote_id));
    assert!(
        page.contains(body.trim_end()),
        "the body is passed through untouched:\n{page}"
    );
    // Unescaped, Hugo would have replaced the shortcode with the page's title.
    assert!(
        page.contains("Judul situs: &#123;&#123;% param title %}}"),
        "no shortcode ran: {page}"
    );
    assert!(page.contains("Hujan deras &amp; angin"), "{page}");
    assert!(
        root.join("public")
            .join(remote.media[0].url.trim_start_matches('/'))
            .is_file()
    );
}

/// Builds the site the target wrote with a real Jekyll, when one is installed (Debian: `jekyll`).
#[test]
fn jekyll_shows_the_body_as_written_and_runs_no_liquid_in_it() {
    if !on_path("jekyll", "--version") {
        eprintln!("SKIPPED: jekyll is not installed");
        return;
    }
    let site = tempfile::tempdir().unwrap();
    let root = site.path();
    let m = media();
    let mut p = publication(1, "k-0011-jekyll", &m);
    p.body_html.push_str(&warta_render::render_markdown(
        "Judul situs: {{ site.title }}",
    ));
    let target = MarkdownSite::new(MarkdownSiteConfig::jekyll(root))
        .unwrap()
        .with_clock(fixed_now);
    let remote = target.publish(&p, None).unwrap();
    std::fs::write(
        root.join("_config.yml"),
        "title: RAHASIA-KONFIG\npermalink: /berita/:slug/\n\
         defaults:\n  - scope: {path: \"\"}\n    values: {layout: default}\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("_layouts")).unwrap();
    std::fs::write(
        root.join("_layouts/default.html"),
        "<html><body><h1>{{ page.title | escape }}</h1>{{ content }}</body></html>",
    )
    .unwrap();
    let out = Command::new("jekyll")
        .args(["build", "--quiet", "--source"])
        .arg(root)
        .arg("--destination")
        .arg(root.join("_site"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let page =
        std::fs::read_to_string(root.join("_site/berita/banjir-di-samarinda/index.html")).unwrap();
    let (_, body) = read_item(&root.join(&remote.remote_id));
    assert!(
        page.contains(body.trim_end()),
        "the body is passed through untouched:\n{page}"
    );
    assert!(!page.contains("RAHASIA-KONFIG"), "no Liquid ran: {page}");
    assert!(
        root.join("_site")
            .join(remote.media[0].url.trim_start_matches('/'))
            .is_file()
    );
}
