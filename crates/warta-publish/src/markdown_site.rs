//! Hugo/Jekyll-style content files with front matter, in a folder or a git repository.
//!
//! Many government sites are built by a static site generator from a repository: the web team
//! (or a CI job) runs `hugo` or `jekyll build` on whatever is committed. This target writes one
//! content file per item, with YAML front matter, copies its media next to it, and in git mode
//! makes one commit per publish, update or unpublish. Pushing and building stay with the site.
//!
//! # Why `.html` content files, not `.md`
//!
//! Published HTML only ever comes from `warta_render` (the Architecture Invariant: one
//! sanitiser for every output), so the body is the *sanitised HTML*, never the reporter's
//! Markdown handed to another renderer with other rules. Putting that HTML in a `.md` file
//! would mean a Markdown renderer reads it again: Hugo's goldmark drops raw HTML unless the
//! site sets `markup.goldmark.renderer.unsafe = true`, and, worse, CommonMark ends an HTML
//! block at the first blank line, so a code block or a list with an empty line inside would
//! be re-read as Markdown and mangled. Both Hugo and Jekyll accept **`.html` content files with
//! front matter** and pass their body through untouched (Hugo's "HTML" content format; Jekyll
//! posts and collection documents with an `.html` extension). That is what this target writes:
//! the page a visitor sees is byte for byte the sanitiser's output, no site setting required.
//!
//! Both generators still run their template language over content: Hugo expands shortcodes
//! (`{{< youtube … >}}` would embed an iframe the sanitiser never saw) and Jekyll runs Liquid
//! (`{{ site.… }}`, `{% include … %}`). So every `{` of the body is written as the character
//! reference `&#123;`, which a browser shows as `{` and neither template language recognises.
//!
//! # Layout
//!
//! | | Hugo ([`MarkdownSiteConfig::hugo`]) | Jekyll ([`MarkdownSiteConfig::jekyll`]) |
//! | --- | --- | --- |
//! | item | `content/berita/<slug>-<item id>.html` | `_posts/<YYYY-MM-DD>-<slug>-<item id>.html` |
//! | media | `static/media/<sha256>.<ext>`, URL `/media/<sha256>.<ext>` | `assets/media/<sha256>.<ext>`, URL `/assets/media/<sha256>.<ext>` |
//!
//! The item's path is fixed by its id (and, for Jekyll, the date of its first publication,
//! which the `_posts` folder requires in the name), so publishing again can only overwrite the
//! same file. Media are named by their SHA-256: the same photo in two items is one file, and
//! a media file is removed (on unpublish, or when a correction drops it) only when no content
//! file refers to it any more. The body ends with the media: photos as `<figure>` with their
//! alternative text and caption, other files as links, so a theme that knows nothing about
//! Warta still shows them; the front matter lists them too (`media`, plus `images` and `image`
//! for the featured photo, which Hugo's and jekyll-seo-tag's templates read).
//!
//! Both generators take the page's URL from `slug` (Hugo: `/berita/<slug>/`). Jekyll's default
//! permalink also puts the categories in the URL; a site usually sets
//! `permalink: /berita/:slug/` in `_config.yml`. Checked by hand and in the tests (when the
//! programs are installed) with Debian's Hugo 0.111 and Jekyll 4.3.
//!
//! # Front matter
//!
//! ```yaml
//! ---
//! title: "Banjir di Samarinda"
//! slug: "banjir-di-samarinda"
//! date: 2026-01-05T01:00:00Z      # the schedule, else the first publication; kept on updates
//! draft: false
//! summary: "Hujan deras &amp; angin"   # HTML-escaped: Hugo's .Summary is HTML
//! description: "Hujan deras & angin"   # plain text, for <meta name="description">
//! categories: ["Berita Daerah"]
//! tags: ["banjir", "samarinda"]
//! author: "Siti Rahma"
//! unit: "Bidang IKP"
//! images: ["/media/<sha256>.jpg"]
//! image: "/media/<sha256>.jpg"
//! media:
//!   - url: "/media/<sha256>.jpg"
//!     filename: "banjir-1.jpg"
//!     mime: "image/jpeg"
//!     sha256: "<sha256>"
//!     alt: "…"
//!     caption: "…"
//! warta:
//!   item_id: 42
//!   version: 3
//!   key: "<idempotency key>"
//! ---
//! ```
//!
//! Every string is a YAML double-quoted scalar with everything outside printable Unicode
//! escaped, so no title can end the front matter or inject a key. A scheduled item is simply
//! dated in the future: Hugo and Jekyll leave future-dated content out of a build (unless
//! `buildFuture`/`future` is set), so it appears with the first build after its time.
//! Templates print `title`, `author` and the like themselves: Hugo escapes them; a Jekyll
//! theme should use `| escape` (minima does).
//!
//! # Exactly once
//!
//! - Folder mode: the item's file is found by its id in the name and `warta.item_id` in the
//!   front matter; a retry computes the same content and rewrites nothing when the file is
//!   already what it would write (same key, same bytes). Files are written to a temporary name
//!   and renamed, so a crash never leaves half a file.
//! - Git mode: every commit carries the trailers `Warta-Item`, `Warta-Version` and
//!   `Warta-Key: <key>`. Before writing anything, a publish asks `git log --grep` for a commit
//!   with its key: if there is one the publish happened and is adopted, with no new commit. A
//!   crash after writing the files and before committing leaves a working tree that the retry
//!   (finding no commit) rewrites identically and commits, once.
//!
//! Commits are made with plumbing (`read-tree`, `update-index`, `write-tree`, `commit-tree`,
//! `update-ref` with the expected old value) in a private index, so they contain only this
//! item's paths even when someone has other changes staged in the same repository, need no
//! `user.name`/`user.email` configured (the identity is passed explicitly), are never signed
//! or held up by hooks, and cannot overwrite a commit made concurrently. `git` is looked for
//! at run time; without it, git mode fails with a message that says so.
//!
//! # `check_live`
//!
//! A folder has no public URL, and the site's build and deployment happen elsewhere and later,
//! so "live" here means "what the site will be built from": the item's file (in git mode as
//! committed at `HEAD`, not the working tree) exists, carries this publication's key, and its
//! body's visible text contains the publication's body text (normalised like the webhook's
//! check: [`crate::webhook::visible_text`]). `http_status` is always `0`; `found_hash` is `None`
//! when the file is missing.

use std::collections::BTreeSet;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;

use chrono::{DateTime, SecondsFormat, Utc};
use sha2::{Digest, Sha256};

use crate::webhook::{text_hash, visible_text};
use crate::{
    LiveCheck, MediaFile, Publication, PublishError, PublishTarget, RemoteMedia, RemoteRef,
};

/// Who commits in git mode (author and committer alike).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitIdentity {
    pub name: String,
    pub email: String,
}

/// Where and how the files are written.
#[derive(Debug, Clone)]
pub struct MarkdownSiteConfig {
    /// The site's folder (in git mode, inside a git work tree).
    pub root: PathBuf,
    /// Folder of the items, relative to `root`, `/`-separated.
    pub content_dir: String,
    /// Folder of the media files, relative to `root`, `/`-separated.
    pub media_dir: String,
    /// URL path under which the site serves `media_dir`, e.g. `/media`.
    pub media_url: String,
    /// Prefix file names with `YYYY-MM-DD-` (Jekyll's `_posts` needs it).
    pub dated_file_names: bool,
    /// Commit every change, as this identity.
    pub git: Option<GitIdentity>,
    /// The git program (looked up on `PATH` when it is a bare name).
    pub git_program: PathBuf,
}

impl MarkdownSiteConfig {
    /// Hugo's layout: `content/berita/`, media in `static/media/` served at `/media/`.
    pub fn hugo(root: impl Into<PathBuf>) -> MarkdownSiteConfig {
        MarkdownSiteConfig {
            root: root.into(),
            content_dir: "content/berita".into(),
            media_dir: "static/media".into(),
            media_url: "/media".into(),
            dated_file_names: false,
            git: None,
            git_program: PathBuf::from("git"),
        }
    }

    /// Jekyll's layout: `_posts/` with dated names, media in `assets/media/`.
    pub fn jekyll(root: impl Into<PathBuf>) -> MarkdownSiteConfig {
        MarkdownSiteConfig {
            root: root.into(),
            content_dir: "_posts".into(),
            media_dir: "assets/media".into(),
            media_url: "/assets/media".into(),
            dated_file_names: true,
            git: None,
            git_program: PathBuf::from("git"),
        }
    }

    /// Commits every publish, update and unpublish as `name <email>`.
    pub fn with_git(mut self, name: &str, email: &str) -> MarkdownSiteConfig {
        self.git = Some(GitIdentity {
            name: name.into(),
            email: email.into(),
        });
        self
    }
}

type Clock = Box<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The Markdown-site target.
pub struct MarkdownSite {
    config: MarkdownSiteConfig,
    clock: Clock,
    /// One publish at a time: they share media files and, in git mode, `HEAD`.
    write: Mutex<()>,
}

impl fmt::Debug for MarkdownSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MarkdownSite")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// A media file as placed in the site.
struct Placed<'a> {
    file: &'a MediaFile,
    /// `<sha256>.<ext>`
    name: String,
    /// Path relative to the root.
    rel: String,
    url: String,
}

/// What an item file on disk says about itself.
struct Existing {
    rel: String,
    key: Option<String>,
    date: Option<DateTime<Utc>>,
    /// File names (`<sha256>.<ext>`) of the media it lists.
    media: Vec<String>,
}

impl MarkdownSite {
    /// Checks the configuration; in git mode also that `git` runs and `root` is in a work tree.
    pub fn new(config: MarkdownSiteConfig) -> Result<MarkdownSite, PublishError> {
        for (what, dir) in [
            ("content", &config.content_dir),
            ("media", &config.media_dir),
        ] {
            if !is_relative_path(dir) {
                return Err(PublishError::Local(format!(
                    "the {what} folder must be a relative path inside the site without `..`: {dir:?}"
                )));
            }
        }
        let url_ok = !config.media_url.is_empty()
            && (config.media_url.starts_with('/')
                || config.media_url.starts_with("https://")
                || config.media_url.starts_with("http://"))
            && config
                .media_url
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "/:._-~".contains(c));
        if !url_ok {
            return Err(PublishError::Local(format!(
                "the media URL must be a path like /media or an http(s) URL: {:?}",
                config.media_url
            )));
        }
        let site = MarkdownSite {
            config,
            clock: Box::new(Utc::now),
            write: Mutex::new(()),
        };
        if site.config.git.is_some() {
            site.ensure_repository()?;
        } else {
            std::fs::create_dir_all(&site.config.root).map_err(|e| {
                local(
                    format!("could not create {}", site.config.root.display()),
                    e,
                )
            })?;
        }
        Ok(site)
    }

    /// Replaces the clock that dates unscheduled items (tests use a fixed one).
    pub fn with_clock(
        mut self,
        clock: impl Fn() -> DateTime<Utc> + Send + Sync + 'static,
    ) -> MarkdownSite {
        self.clock = Box::new(clock);
        self
    }

    fn abs(&self, rel: &str) -> PathBuf {
        rel.split('/')
            .fold(self.config.root.clone(), |path, part| path.join(part))
    }

    fn media_placement<'a>(&self, file: &'a MediaFile) -> Result<Placed<'a>, PublishError> {
        let sha = file.sha256.to_ascii_lowercase();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(PublishError::Local(format!(
                "attachment {} has no valid SHA-256",
                file.attachment_id
            )));
        }
        let name = format!("{sha}.{}", extension(&file.mime, &file.filename));
        Ok(Placed {
            file,
            rel: format!("{}/{name}", self.config.media_dir),
            url: format!("{}/{name}", self.config.media_url.trim_end_matches('/')),
            name,
        })
    }

    /// Copies a media file into the media folder unless it is there already, checking that
    /// the bytes are the ones the hub hashed.
    fn copy_media(&self, placed: &Placed<'_>) -> Result<(), PublishError> {
        let dest = self.abs(&placed.rel);
        if dest.is_file() {
            return Ok(());
        }
        let dir = self.abs(&self.config.media_dir);
        std::fs::create_dir_all(&dir)
            .map_err(|e| local(format!("could not create {}", dir.display()), e))?;
        let mut source = std::fs::File::open(&placed.file.path).map_err(|e| {
            local(
                format!(
                    "could not read attachment {} ({})",
                    placed.file.attachment_id, placed.file.filename
                ),
                e,
            )
        })?;
        let temp = dir.join(format!(".{}.warta-tmp", placed.name));
        let mut out = std::fs::File::create(&temp)
            .map_err(|e| local(format!("could not write {}", temp.display()), e))?;
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = source.read(&mut buf).map_err(|e| {
                local(
                    format!("could not read attachment {}", placed.file.attachment_id),
                    e,
                )
            })?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| local(format!("could not write {}", temp.display()), e))?;
        }
        out.sync_all()
            .map_err(|e| local(format!("could not write {}", temp.display()), e))?;
        drop(out);
        let actual = hex::encode(hasher.finalize());
        if !actual.eq_ignore_ascii_case(&placed.file.sha256) {
            let _ = std::fs::remove_file(&temp);
            return Err(PublishError::Local(format!(
                "attachment {} ({}) changed on disk: its bytes no longer match its SHA-256",
                placed.file.attachment_id, placed.file.filename
            )));
        }
        std::fs::rename(&temp, &dest)
            .map_err(|e| local(format!("could not write {}", dest.display()), e))
    }

    /// The item's files: those in the content folder named `…-<id>.html` whose front matter
    /// says `warta.item_id: <id>`, and `previous` if it points at one elsewhere.
    fn item_files(
        &self,
        item_id: i64,
        previous: Option<&RemoteRef>,
    ) -> Result<Vec<Existing>, PublishError> {
        let mut candidates = BTreeSet::new();
        let dir = self.abs(&self.config.content_dir);
        let suffix = format!("-{item_id}.html");
        match std::fs::read_dir(&dir) {
            Ok(entries) => {
                for entry in entries.flatten() {
                    let name = entry.file_name().to_string_lossy().into_owned();
                    if name.ends_with(&suffix) && !name.starts_with('.') {
                        candidates.insert(format!("{}/{name}", self.config.content_dir));
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(local(format!("could not list {}", dir.display()), e)),
        }
        if let Some(prev) = previous.filter(|r| self.is_content_path(&r.remote_id)) {
            candidates.insert(prev.remote_id.clone());
        }
        let mut found = Vec::new();
        for rel in candidates {
            let Ok(text) = std::fs::read_to_string(self.abs(&rel)) else {
                continue;
            };
            let Some((front, _)) = split_front_matter(&text) else {
                continue;
            };
            let info = read_front_matter(front);
            if info.item_id == Some(item_id) {
                found.push(Existing {
                    rel,
                    key: info.key,
                    date: info.date,
                    media: info.media,
                });
            }
        }
        Ok(found)
    }

    /// A path this target could have written as an item: in the content folder, `.html`.
    fn is_content_path(&self, rel: &str) -> bool {
        is_relative_path(rel)
            && rel.ends_with(".html")
            && rel
                .strip_prefix(&self.config.content_dir)
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|name| !name.is_empty() && !name.contains('/'))
    }

    fn is_media_path(&self, rel: &str) -> bool {
        is_relative_path(rel)
            && rel
                .strip_prefix(&self.config.media_dir)
                .and_then(|r| r.strip_prefix('/'))
                .is_some_and(|name| !name.is_empty() && !name.contains('/'))
    }

    fn item_path(&self, p: &Publication, date: DateTime<Utc>) -> String {
        let slug = file_slug(&p.slug);
        if self.config.dated_file_names {
            format!(
                "{}/{}-{slug}-{}.html",
                self.config.content_dir,
                date.format("%Y-%m-%d"),
                p.item_id
            )
        } else {
            format!("{}/{slug}-{}.html", self.config.content_dir, p.item_id)
        }
    }

    /// Of the media file names given, those that no content file (other than `excluded`)
    /// mentions any more.
    fn unreferenced(
        &self,
        names: &BTreeSet<String>,
        excluded: &[String],
    ) -> Result<BTreeSet<String>, PublishError> {
        let mut left = names.clone();
        if left.is_empty() {
            return Ok(left);
        }
        let excluded: Vec<PathBuf> = excluded.iter().map(|r| self.abs(r)).collect();
        let mut stack = vec![self.abs(&self.config.content_dir)];
        while let Some(dir) = stack.pop() {
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(local(format!("could not list {}", dir.display()), e)),
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let Ok(kind) = entry.file_type() else {
                    continue;
                };
                if kind.is_dir() {
                    stack.push(path);
                } else if kind.is_file() && !excluded.contains(&path) {
                    let Ok(bytes) = std::fs::read(&path) else {
                        continue;
                    };
                    let text = String::from_utf8_lossy(&bytes);
                    left.retain(|name| !text.contains(name.as_str()));
                    if left.is_empty() {
                        return Ok(left);
                    }
                }
            }
        }
        Ok(left)
    }

    /// Removes media files nobody refers to any more; returns their paths.
    fn remove_orphans(
        &self,
        candidates: BTreeSet<String>,
        excluded: &[String],
    ) -> Result<Vec<String>, PublishError> {
        let mut removed = Vec::new();
        for name in self.unreferenced(&candidates, excluded)? {
            let rel = format!("{}/{name}", self.config.media_dir);
            if !self.is_media_path(&rel) {
                continue;
            }
            match std::fs::remove_file(self.abs(&rel)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(local(format!("could not remove {rel}"), e)),
            }
            removed.push(rel);
        }
        Ok(removed)
    }

    fn remote_ref(&self, p: &Publication, rel: String, placed: &[Placed<'_>]) -> RemoteRef {
        RemoteRef {
            remote_id: rel,
            url: String::new(),
            media: placed
                .iter()
                .map(|m| RemoteMedia {
                    attachment_id: m.file.attachment_id,
                    remote_id: m.rel.clone(),
                    url: m.url.clone(),
                })
                .collect(),
            status: if p.scheduled_at.is_some_and(|t| t > (self.clock)()) {
                "future".into()
            } else {
                "publish".into()
            },
        }
    }

    // ----- git -----

    fn git_command(&self, args: &[&str], index: Option<&Path>) -> Command {
        let mut command = Command::new(&self.config.git_program);
        command
            .current_dir(&self.config.root)
            .args(["-c", "core.quotepath=off"])
            .args(args)
            .env_remove("GIT_DIR")
            .env_remove("GIT_WORK_TREE")
            .env_remove("GIT_INDEX_FILE")
            .env_remove("GIT_OBJECT_DIRECTORY")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("LC_ALL", "C")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(identity) = &self.config.git {
            command
                .env("GIT_AUTHOR_NAME", &identity.name)
                .env("GIT_AUTHOR_EMAIL", &identity.email)
                .env("GIT_COMMITTER_NAME", &identity.name)
                .env("GIT_COMMITTER_EMAIL", &identity.email);
        }
        if let Some(index) = index {
            command.env("GIT_INDEX_FILE", index);
        }
        command
    }

    /// Runs git; a missing program is a clear error, a failed command is returned as is.
    fn git_output(
        &self,
        args: &[&str],
        index: Option<&Path>,
        stdin: Option<&[u8]>,
    ) -> Result<Output, PublishError> {
        let mut command = self.git_command(args, index);
        if stdin.is_some() {
            command.stdin(Stdio::piped());
        }
        let mut child = command.spawn().map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                PublishError::Local(format!(
                    "publishing to a git repository needs the `git` program, which was not \
                     found ({}): install git, or publish to a plain folder",
                    self.config.git_program.display()
                ))
            } else {
                local("could not run git".into(), e)
            }
        })?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(input)
                .map_err(|e| local("could not talk to git".into(), e))?;
        }
        child
            .wait_with_output()
            .map_err(|e| local("could not run git".into(), e))
    }

    /// Runs git and returns its trimmed standard output, or the error it reported.
    fn git(
        &self,
        args: &[&str],
        index: Option<&Path>,
        stdin: Option<&[u8]>,
    ) -> Result<String, PublishError> {
        let output = self.git_output(args, index, stdin)?;
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).trim().to_string());
        }
        let stderr = String::from_utf8_lossy(&output.stderr);
        let message = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
        let what = args.first().copied().unwrap_or("");
        if message.contains(".lock") {
            // Another git command holds the index or the branch: try again later.
            Err(PublishError::Unavailable(format!(
                "the site's repository is busy (git {what}: {message}); if no git command is \
                 running there, remove the stale lock file"
            )))
        } else {
            Err(PublishError::Local(format!("git {what} failed: {message}")))
        }
    }

    fn ensure_repository(&self) -> Result<(), PublishError> {
        let output = self.git_output(&["rev-parse", "--is-inside-work-tree"], None, None)?;
        if output.status.success() && String::from_utf8_lossy(&output.stdout).trim() == "true" {
            Ok(())
        } else {
            Err(PublishError::Local(format!(
                "{} is not inside a git work tree: clone the site's repository there (or run \
                 `git init`), or publish to a plain folder",
                self.config.root.display()
            )))
        }
    }

    fn head(&self) -> Result<Option<String>, PublishError> {
        let output = self.git_output(
            &["rev-parse", "-q", "--verify", "HEAD^{commit}"],
            None,
            None,
        )?;
        Ok(output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string()))
    }

    /// The commit whose message has the trailer `Warta-Key: <key>`, if any.
    fn commit_with_key(&self, key: &str) -> Result<Option<String>, PublishError> {
        if self.head()?.is_none() {
            return Ok(None);
        }
        let grep = format!("--grep=^Warta-Key: {key}$");
        let found = self.git(
            &["log", "-n", "1", "--format=%H", "-E", &grep, "HEAD"],
            None,
            None,
        )?;
        Ok((!found.is_empty()).then_some(found))
    }

    /// Commits exactly `paths` (as they are in the working tree; missing ones as deleted) on
    /// top of `HEAD`, leaving anything else staged alone. Returns `None` when there was
    /// nothing to commit and `allow_empty` is false.
    fn commit(
        &self,
        paths: &[String],
        message: &str,
        allow_empty: bool,
    ) -> Result<Option<String>, PublishError> {
        let head = self.head()?;
        let index_path = self.git(
            &["rev-parse", "--git-path", "warta-publish.index"],
            None,
            None,
        )?;
        let index = self.config.root.join(index_path);
        let _ = std::fs::remove_file(&index);
        let result = self.commit_with_index(&index, head.as_deref(), paths, message, allow_empty);
        let _ = std::fs::remove_file(&index);
        let commit = result?;
        if commit.is_some() {
            // Bring the shared index in line for these paths, so `git status` shows them as
            // committed. Best effort: the commit is made whatever happens here.
            let _ = self.stage(None, paths);
        }
        Ok(commit)
    }

    fn commit_with_index(
        &self,
        index: &Path,
        head: Option<&str>,
        paths: &[String],
        message: &str,
        allow_empty: bool,
    ) -> Result<Option<String>, PublishError> {
        match head {
            Some(head) => self.git(&["read-tree", head], Some(index), None)?,
            None => self.git(&["read-tree", "--empty"], Some(index), None)?,
        };
        self.stage(Some(index), paths)?;
        let tree = self.git(&["write-tree"], Some(index), None)?;
        if let Some(head) = head {
            let head_tree = self.git(&["rev-parse", &format!("{head}^{{tree}}")], None, None)?;
            if head_tree == tree && !allow_empty {
                return Ok(None);
            }
        }
        let mut args = vec!["commit-tree", "--no-gpg-sign", tree.as_str()];
        if let Some(head) = head {
            args.extend(["-p", head]);
        }
        args.extend(["-F", "-"]);
        let commit = self.git(&args, None, Some(message.as_bytes()))?;
        // Moves the branch only if nobody moved it meanwhile.
        self.git(
            &[
                "update-ref",
                "-m",
                "warta: publish",
                "HEAD",
                &commit,
                head.unwrap_or(""),
            ],
            None,
            None,
        )?;
        Ok(Some(commit))
    }

    /// Records `paths` in an index as they are on disk (missing ones removed).
    fn stage(&self, index: Option<&Path>, paths: &[String]) -> Result<(), PublishError> {
        let (present, missing): (Vec<&String>, Vec<&String>) =
            paths.iter().partition(|rel| self.abs(rel).is_file());
        if !present.is_empty() {
            let mut args = vec!["update-index", "--add", "--"];
            args.extend(present.iter().map(|s| s.as_str()));
            self.git(&args, index, None)?;
        }
        if !missing.is_empty() {
            let mut args = vec!["update-index", "--force-remove", "--"];
            args.extend(missing.iter().map(|s| s.as_str()));
            self.git(&args, index, None)?;
        }
        Ok(())
    }

    /// The paths a commit changed, relative to the root.
    fn files_of_commit(&self, commit: &str) -> Result<Vec<String>, PublishError> {
        let names = self.git(
            &[
                "diff-tree",
                "--no-commit-id",
                "--name-only",
                "--relative",
                "-r",
                "--root",
                commit,
            ],
            None,
            None,
        )?;
        Ok(names.lines().map(str::to_string).collect())
    }

    fn read_committed(&self, rel: &str) -> Result<Option<String>, PublishError> {
        if self.head()?.is_none() {
            return Ok(None);
        }
        let output = self.git_output(&["show", &format!("HEAD:./{rel}")], None, None)?;
        Ok(output
            .status
            .success()
            .then(|| String::from_utf8_lossy(&output.stdout).into_owned()))
    }
}

impl PublishTarget for MarkdownSite {
    fn kind(&self) -> &'static str {
        "markdown"
    }

    fn publish(
        &self,
        publication: &Publication,
        previous: Option<&RemoteRef>,
    ) -> Result<RemoteRef, PublishError> {
        let p = publication;
        check_key(&p.idempotency_key)?;
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        let placed = p
            .media
            .iter()
            .map(|m| self.media_placement(m))
            .collect::<Result<Vec<_>, _>>()?;

        if self.config.git.is_some() {
            self.ensure_repository()?;
            if let Some(commit) = self.commit_with_key(&p.idempotency_key)? {
                // Published and committed before (the answer was lost): adopt, commit nothing.
                if self.head()?.as_deref() == Some(commit.as_str()) {
                    // The crash may have come between moving the branch and updating the
                    // shared index; left stale, a person's next `git commit` would revert
                    // the publish. Best effort, as after a commit.
                    let paths = self.files_of_commit(&commit)?;
                    let _ = self.stage(None, &paths);
                }
                let by_key = self
                    .item_files(p.item_id, previous)?
                    .into_iter()
                    .find(|e| e.key.as_deref() == Some(&p.idempotency_key))
                    .map(|e| e.rel);
                let rel = match by_key {
                    Some(rel) => rel,
                    None => match self
                        .files_of_commit(&commit)?
                        .into_iter()
                        .find(|rel| self.is_content_path(rel))
                    {
                        Some(rel) => rel,
                        None => self.item_path(p, p.scheduled_at.unwrap_or_else(&self.clock)),
                    },
                };
                return Ok(self.remote_ref(p, rel, &placed));
            }
        }

        let existing = self.item_files(p.item_id, previous)?;
        let date = p
            .scheduled_at
            .or_else(|| existing.iter().find_map(|e| e.date))
            .unwrap_or_else(&self.clock);
        let date = DateTime::from_timestamp(date.timestamp(), 0).unwrap_or(date);
        let rel = self.item_path(p, date);

        for m in &placed {
            self.copy_media(m)?;
        }
        let content = render_file(p, date, &placed);
        let path = self.abs(&rel);
        let unchanged = std::fs::read(&path).is_ok_and(|old| old == content.as_bytes());
        if !unchanged {
            write_atomically(&path, content.as_bytes())?;
        }

        // An earlier file of the item under another name (a new slug or date) goes.
        let mut changed = vec![rel.clone()];
        for old in existing.iter().filter(|e| e.rel != rel) {
            match std::fs::remove_file(self.abs(&old.rel)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(local(format!("could not remove {}", old.rel), e)),
            }
            changed.push(old.rel.clone());
        }
        // Media the previous version had and this one has not, unless used elsewhere.
        let kept: BTreeSet<&str> = placed.iter().map(|m| m.name.as_str()).collect();
        let mut dropped: BTreeSet<String> = existing
            .iter()
            .flat_map(|e| e.media.iter().cloned())
            .collect();
        if let Some(prev) = previous {
            for m in &prev.media {
                if self.is_media_path(&m.remote_id)
                    && let Some(name) = m.remote_id.rsplit('/').next()
                {
                    dropped.insert(name.to_string());
                }
            }
        }
        dropped.retain(|name| !kept.contains(name.as_str()));
        changed.extend(self.remove_orphans(dropped, &[])?);
        changed.extend(placed.iter().map(|m| m.rel.clone()));

        if self.config.git.is_some() {
            let verb = if existing.is_empty() {
                "Publish"
            } else {
                "Update"
            };
            let message = format!(
                "{verb}: {}\n\nWarta item {}, version {}.\n\nWarta-Item: {}\nWarta-Version: {}\nWarta-Key: {}\n",
                one_line(&p.title, 72),
                p.item_id,
                p.version,
                p.item_id,
                p.version,
                p.idempotency_key
            );
            changed.sort();
            changed.dedup();
            self.commit(&changed, &message, true)?;
        }
        Ok(self.remote_ref(p, rel, &placed))
    }

    fn unpublish(&self, item_id: i64, remote: &RemoteRef) -> Result<(), PublishError> {
        let _guard = self.write.lock().unwrap_or_else(|e| e.into_inner());
        if self.config.git.is_some() {
            self.ensure_repository()?;
        }
        let files = self.item_files(item_id, Some(remote))?;
        let mut changed: Vec<String> = files.iter().map(|e| e.rel.clone()).collect();
        // Also the path recorded at publish time: after a crash between deleting it and
        // committing, it is gone from disk but still in `HEAD`.
        if self.is_content_path(&remote.remote_id) {
            changed.push(remote.remote_id.clone());
        }
        let mut media: BTreeSet<String> =
            files.iter().flat_map(|e| e.media.iter().cloned()).collect();
        for m in &remote.media {
            if self.is_media_path(&m.remote_id)
                && let Some(name) = m.remote_id.rsplit('/').next()
            {
                media.insert(name.to_string());
            }
        }
        for file in &files {
            match std::fs::remove_file(self.abs(&file.rel)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(local(format!("could not remove {}", file.rel), e)),
            }
        }
        changed.extend(self.remove_orphans(media, &[])?);
        if self.config.git.is_some() {
            changed.sort();
            changed.dedup();
            let message = format!(
                "Unpublish: {}\n\nWarta item {item_id} taken off the site.\n\nWarta-Item: {item_id}\n",
                remote.remote_id
            );
            // Nothing to commit means it was already gone: that is success too.
            self.commit(&changed, &message, false)?;
        }
        Ok(())
    }

    fn check_live(
        &self,
        publication: &Publication,
        remote: &RemoteRef,
    ) -> Result<LiveCheck, PublishError> {
        let expected_text = visible_text(&warta_render::sanitise_html(&publication.body_html));
        let expected_hash = text_hash(&expected_text);
        if !self.is_content_path(&remote.remote_id) {
            return Err(PublishError::Local(format!(
                "{:?} is not an item file of this site",
                remote.remote_id
            )));
        }
        let text = if self.config.git.is_some() {
            self.read_committed(&remote.remote_id)?
        } else {
            std::fs::read(self.abs(&remote.remote_id))
                .ok()
                .map(|b| String::from_utf8_lossy(&b).into_owned())
        };
        let Some((front, body)) = text.as_deref().and_then(split_front_matter) else {
            return Ok(LiveCheck {
                matches: false,
                expected_hash,
                found_hash: None,
                http_status: 0,
            });
        };
        let same_key =
            read_front_matter(front).key.as_deref() == Some(publication.idempotency_key.as_str());
        let found_text = visible_text(body);
        let matches = same_key && found_text.contains(&expected_text);
        Ok(LiveCheck {
            matches,
            found_hash: Some(if matches {
                expected_hash.clone()
            } else {
                text_hash(&found_text)
            }),
            expected_hash,
            http_status: 0,
        })
    }
}

fn local(what: String, e: std::io::Error) -> PublishError {
    PublishError::Local(format!("{what}: {e}"))
}

fn check_key(key: &str) -> Result<(), PublishError> {
    let ok = !key.is_empty()
        && key.len() <= 128
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if ok {
        Ok(())
    } else {
        Err(PublishError::Local(
            "the idempotency key must be letters, digits and dashes".into(),
        ))
    }
}

/// `a/b/c` with no empty, `.` or `..` part, no backslash or colon, not absolute.
fn is_relative_path(rel: &str) -> bool {
    !rel.is_empty()
        && rel.split('/').all(|part| {
            !part.is_empty() && part != "." && part != ".." && !part.contains(['\\', ':', '\0'])
        })
}

/// Lowercase ASCII letters, digits and single dashes; `item` when nothing is left.
fn file_slug(slug: &str) -> String {
    let mut out = String::new();
    for c in slug.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
        if out.len() >= 80 {
            break;
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "item".into()
    } else {
        out.to_string()
    }
}

fn extension(mime: &str, filename: &str) -> String {
    let known = match mime {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/webp" => "webp",
        "image/gif" => "gif",
        "image/avif" => "avif",
        "application/pdf" => "pdf",
        "video/mp4" => "mp4",
        "video/webm" => "webm",
        "audio/mpeg" => "mp3",
        _ => "",
    };
    if !known.is_empty() {
        return known.into();
    }
    match filename.rsplit_once('.') {
        Some((_, ext))
            if !ext.is_empty()
                && ext.len() <= 5
                && ext.chars().all(|c| c.is_ascii_alphanumeric()) =>
        {
            ext.to_ascii_lowercase()
        }
        _ => "bin".into(),
    }
}

/// One line of at most `max` characters.
fn one_line(s: &str, max: usize) -> String {
    let line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() > max {
        format!("{}…", line.chars().take(max - 1).collect::<String>())
    } else {
        line
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), PublishError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)
        .map_err(|e| local(format!("could not create {}", dir.display()), e))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{name}.warta-tmp"));
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&temp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&temp);
        local(format!("could not write {}", path.display()), e)
    })
}

/// A YAML double-quoted scalar: only printable characters appear as themselves.
fn yaml_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            ' '..='~' => out.push(c),
            // Printable non-ASCII, minus YAML 1.1's line breaks (NEL, LS, PS) and the BOM.
            '\u{a0}'..='\u{d7ff}' | '\u{e000}'..='\u{fffd}' | '\u{10000}'..='\u{10ffff}'
                if !matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}') =>
            {
                out.push(c)
            }
            c if (c as u32) <= 0xffff => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push_str(&format!("\\U{:08X}", c as u32)),
        }
    }
    out.push('"');
    out
}

fn yaml_list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    let items: Vec<String> = items.into_iter().map(yaml_str).collect();
    format!("[{}]", items.join(", "))
}

/// The whole file: front matter, then the sanitised body with the media after it.
fn render_file(p: &Publication, date: DateTime<Utc>, media: &[Placed<'_>]) -> String {
    let mut y = String::from("---\n");
    let mut field = |name: &str, value: String| {
        y.push_str(name);
        y.push_str(": ");
        y.push_str(&value);
        y.push('\n');
    };
    field("title", yaml_str(&p.title));
    field("slug", yaml_str(&p.slug));
    field("date", date.to_rfc3339_opts(SecondsFormat::Secs, true));
    field("draft", "false".into());
    field("summary", yaml_str(&warta_render::escape_html(&p.summary)));
    field("description", yaml_str(&p.summary));
    field(
        "categories",
        yaml_list(std::iter::once(p.category.as_str()).filter(|c| !c.trim().is_empty())),
    );
    field("tags", yaml_list(p.tags.iter().map(String::as_str)));
    field("author", yaml_str(&p.author));
    field("unit", yaml_str(&p.unit));
    let featured = p
        .featured
        .and_then(|i| media.get(i))
        .filter(|m| m.file.mime.starts_with("image/"));
    if let Some(f) = featured {
        field("images", yaml_list([f.url.as_str()]));
        field("image", yaml_str(&f.url));
    }
    if media.is_empty() {
        y.push_str("media: []\n");
    } else {
        y.push_str("media:\n");
        for m in media {
            y.push_str(&format!("  - url: {}\n", yaml_str(&m.url)));
            y.push_str(&format!("    filename: {}\n", yaml_str(&m.file.filename)));
            y.push_str(&format!("    mime: {}\n", yaml_str(&m.file.mime)));
            y.push_str(&format!(
                "    sha256: {}\n",
                yaml_str(&m.file.sha256.to_ascii_lowercase())
            ));
            y.push_str(&format!("    alt: {}\n", yaml_str(&m.file.alt)));
            y.push_str(&format!("    caption: {}\n", yaml_str(&m.file.caption)));
        }
    }
    y.push_str("warta:\n");
    y.push_str(&format!("  item_id: {}\n", p.item_id));
    y.push_str(&format!("  version: {}\n", p.version));
    y.push_str(&format!("  key: {}\n", yaml_str(&p.idempotency_key)));
    y.push_str("---\n");

    let e = warta_render::escape_html;
    let mut html = p.body_html.clone();
    for m in media {
        if m.file.mime.starts_with("image/") {
            html.push_str(&format!(
                "\n<figure><img src=\"{}\" alt=\"{}\">",
                e(&m.url),
                e(&m.file.alt)
            ));
            if !m.file.caption.trim().is_empty() {
                html.push_str(&format!("<figcaption>{}</figcaption>", e(&m.file.caption)));
            }
            html.push_str("</figure>");
        } else {
            let label = if m.file.caption.trim().is_empty() {
                &m.file.filename
            } else {
                &m.file.caption
            };
            html.push_str(&format!(
                "\n<p><a href=\"{}\">{}</a></p>",
                e(&m.url),
                e(label)
            ));
        }
    }
    // The one sanitiser, over the body and the media markup alike; then no `{` is left for
    // Hugo's shortcodes or Jekyll's Liquid to read.
    let body = warta_render::sanitise_html(&html).replace('{', "&#123;");
    y.push_str(&body);
    if !body.ends_with('\n') {
        y.push('\n');
    }
    y
}

/// The front matter (without its `---` lines) and the body, when `text` starts with one.
fn split_front_matter(text: &str) -> Option<(&str, &str)> {
    let rest = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))?;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "---" {
            return Some((&rest[..offset], &rest[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

#[derive(Default)]
struct FrontMatter {
    item_id: Option<i64>,
    key: Option<String>,
    date: Option<DateTime<Utc>>,
    media: Vec<String>,
}

/// Reads back the few fields this target needs from front matter it wrote (values it reads
/// are numbers, keys, dates and its own media URLs, none of which need unescaping).
fn read_front_matter(front: &str) -> FrontMatter {
    let mut info = FrontMatter::default();
    let mut section = "";
    for line in front.lines() {
        let line = line.trim_end();
        let indented = line.starts_with(' ');
        let entry = line.trim_start().trim_start_matches("- ");
        let Some((name, value)) = entry.split_once(':') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        if !indented {
            section = match name {
                "warta" => "warta",
                "media" => "media",
                _ => "",
            };
            if name == "date" {
                info.date = DateTime::parse_from_rfc3339(value)
                    .ok()
                    .map(|d| d.with_timezone(&Utc));
            }
            continue;
        }
        match (section, name) {
            ("warta", "item_id") => info.item_id = value.parse().ok(),
            ("warta", "key") => info.key = Some(value.to_string()),
            ("media", "url") => {
                if let Some(file) = value.rsplit('/').next().filter(|f| !f.is_empty()) {
                    info.media.push(file.to_string());
                }
            }
            _ => {}
        }
    }
    info
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_strings_escape_what_yaml_would_read_otherwise() {
        assert_eq!(yaml_str("a \"b\" \\ c"), r#""a \"b\" \\ c""#);
        assert_eq!(
            yaml_str("x\ny\u{0}\u{85}\u{2028}é"),
            "\"x\\ny\\u0000\\u0085\\u2028é\""
        );
    }

    #[test]
    fn front_matter_is_split_and_read() {
        let text = "---\ntitle: \"a: b\"\ndate: 2026-01-05T01:00:00Z\nmedia:\n  - url: \"/media/ab.jpg\"\n    alt: \"x\"\nwarta:\n  item_id: 42\n  version: 1\n  key: \"k-1\"\n---\n<p>x</p>\n";
        let (front, body) = split_front_matter(text).unwrap();
        assert_eq!(body, "<p>x</p>\n");
        let info = read_front_matter(front);
        assert_eq!(info.item_id, Some(42));
        assert_eq!(info.key.as_deref(), Some("k-1"));
        assert_eq!(info.media, vec!["ab.jpg".to_string()]);
        assert_eq!(info.date.unwrap().to_rfc3339(), "2026-01-05T01:00:00+00:00");
    }

    #[test]
    fn relative_paths_stay_inside() {
        assert!(is_relative_path("content/berita"));
        for bad in ["", "/etc", "a/../b", "a//b", "./a", "a\\b", "c:/x"] {
            assert!(!is_relative_path(bad), "{bad}");
        }
        assert_eq!(file_slug("Banjir di Samarinda!"), "banjir-di-samarinda");
        assert_eq!(file_slug("../.."), "item");
    }
}
