//! Backups of the office's websites' content, restores, and the proof that the site is back
//! (SOP-C steps 3 and 4). Not the hub's own data (that is `backup.rs`).
//!
//! # Backups
//! A WordPress website is read through its REST API with the publishing application password:
//! every post and page in any status (raw content, title, excerpt, slug, dates, terms,
//! featured image, meta), the categories and tags, and every file of the media library with
//! its metadata (files streamed to disk, cut at [`SiteBackupPolicy::max_file_bytes`], only
//! from the site's own host). A folder website (the hub's own site, a Markdown site) is read
//! file by file (`.git` left out, links not followed).
//!
//! Each object is stored once in a content-addressed store (`<data>/site-backups/blobs`, one
//! blob per distinct content named by its SHA-256), so an object that did not change since an
//! earlier backup costs nothing; a file whose metadata record is unchanged is not downloaded
//! again. A backup is one JSON manifest (`<data>/site-backups/manifests/<id>.json`, its
//! SHA-256 kept on its `site_backups` row) listing every object and its hash.
//!
//! Invariant: a backup counts (`verified`) only after it was read back: the manifest hashes to
//! what the row says, parses, lists as many objects as were stored, and every blob it names is
//! present and hashes to its name. Retention ([`SiteBackupPolicy::keep`],
//! [`SiteBackupPolicy::keep_days`]; the newest verified backup always stays) removes manifests,
//! then only the blobs no remaining manifest names.
//!
//! # Restores and proof
//! One object or everything is put back from a verified backup (read back again first):
//! WordPress posts and pages are updated back (out of the trash too) or re-created when deleted
//! for good (the new id is recorded, also on a Warta item published there), files missing from
//! the media library are uploaded again (and their new addresses put into the restored
//! content), missing categories and tags are made again; a folder's files are written back
//! (for "everything", files not in the backup are removed). "To what we published" sends an
//! item's published version again through the publishing target.
//!
//! Before and after, the guard's checks (`warta_guard::check_url`) run on the restored pages'
//! live addresses; both are kept on the `site_restores` row with who, when, what and why.
//! "Website normal" is a measured fact: the restore succeeded and the checks after it found
//! nothing.

use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::Context;
use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};
use warta_api as api;
use warta_api::Role;
use warta_media::BlobStore;
use warta_publish::PublishError;
use warta_publish::wordpress::WordPress;
use warta_publish::wordpress::site::{PostKind, SiteMedia, SitePost, SiteTerm};

use crate::audit::{self, Actor};
use crate::db::Cached as _;
use crate::error::{HubError, HubResult};
use crate::office::{Caller, Office};
use crate::publishing::TargetRow;

/// The manifest format written by this build.
pub const MANIFEST_FORMAT: u32 = 1;
/// Pages checked before and after a restore of everything, at most.
pub const MAX_PROOF_PAGES: usize = 20;

/// When and how much the hub keeps of each website.
#[derive(Debug, Clone)]
pub struct SiteBackupPolicy {
    /// Back up each website this often (`None`: only "back up now").
    pub every: Option<Duration>,
    /// How long after the hub starts the schedule first looks, and then how often.
    pub first_after: Duration,
    pub check_every: Duration,
    /// Keep this many most recent verified backups per website…
    pub keep: usize,
    /// …and every one younger than this many days. The newest verified backup always stays.
    pub keep_days: u32,
    /// A larger file of the media library is listed as skipped, not kept.
    pub max_file_bytes: u64,
}

impl Default for SiteBackupPolicy {
    fn default() -> Self {
        SiteBackupPolicy {
            every: Some(Duration::from_secs(24 * 3600)),
            first_after: Duration::from_secs(10 * 60),
            check_every: Duration::from_secs(15 * 60),
            keep: 14,
            keep_days: 30,
            max_file_bytes: 256 * 1024 * 1024,
        }
    }
}

/// The office's site-backup state: one backup or pruning at a time, and the policy.
pub(crate) struct SiteBackups {
    busy: Mutex<()>,
    policy: RwLock<SiteBackupPolicy>,
    /// Rung when the policy changes, so the schedule looks again at once.
    wake: tokio::sync::Notify,
}

impl SiteBackups {
    /// The state of an office opened with `policy` (`HubConfig::site_backup`).
    pub(crate) fn new(policy: SiteBackupPolicy) -> Self {
        SiteBackups {
            busy: Mutex::new(()),
            policy: RwLock::new(policy),
            wake: tokio::sync::Notify::new(),
        }
    }
}

/// One backup as written in its manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteManifest {
    pub format: u32,
    pub backup_id: i64,
    pub target_id: i64,
    /// `wordpress` or `folder`.
    pub source_kind: String,
    /// The site's address or the folder.
    pub source: String,
    pub made_at: DateTime<Utc>,
    pub objects: Vec<ManifestObject>,
    #[serde(default)]
    pub skipped: Vec<Skipped>,
}

/// One object of a backup: its record (or, for a folder, the file) and, for a media file, its
/// bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestObject {
    pub key: String,
    pub kind: String,
    pub title: String,
    pub sha256: String,
    pub size: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub key: String,
    pub reason: String,
}

impl ManifestObject {
    fn blobs(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.sha256.as_str()).chain(self.file_sha256.as_deref())
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of a file, streamed.
fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut n_total = 0u64;
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        n_total += n as u64;
    }
    Ok((hex::encode(h.finalize()), n_total))
}

/// A relative path inside a folder: no `..`, not absolute.
fn safe_relative(key_path: &str) -> Option<PathBuf> {
    let p = Path::new(key_path);
    let ok = !key_path.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)));
    ok.then(|| p.to_path_buf())
}

fn publish_err(e: PublishError) -> anyhow::Error {
    anyhow::anyhow!(e.to_string())
}

/// Where a website's content comes from.
enum Source {
    WordPress(Box<WordPress>),
    /// A folder, and the public address its files are served under (the hub's own site).
    Folder {
        root: PathBuf,
        public_base: Option<String>,
    },
}

/// Counts what a backup stored.
struct Writer<'a> {
    store: &'a BlobStore,
    new_blobs: u32,
    new_bytes: u64,
}

impl Writer<'_> {
    fn put_bytes(&mut self, bytes: &[u8]) -> anyhow::Result<String> {
        let sha = sha256_hex(bytes);
        if !self.store.exists(&sha) {
            self.store
                .put_bytes(bytes, u64::MAX)
                .map_err(|e| anyhow::anyhow!("storing a backup object: {e}"))?;
            self.new_blobs += 1;
            self.new_bytes += bytes.len() as u64;
        }
        Ok(sha)
    }

    /// Takes a file made in the store's scratch folder.
    fn put_scratch(&mut self, path: &Path) -> anyhow::Result<(String, u64)> {
        let (sha, size) = hash_file(path)?;
        if self.store.exists(&sha) {
            std::fs::remove_file(path)?;
        } else {
            self.store
                .put_file(path)
                .map_err(|e| anyhow::anyhow!("storing a backup file: {e}"))?;
            self.new_blobs += 1;
            self.new_bytes += size;
        }
        Ok((sha, size))
    }

    /// Stores a file of a folder, copying it only when its content is new.
    fn put_copy(&mut self, path: &Path) -> anyhow::Result<(String, u64)> {
        let (sha, size) = hash_file(path)?;
        if !self.store.exists(&sha) {
            let scratch = self.store.scratch_dir()?;
            let tmp = scratch.path().join("f");
            std::fs::copy(path, &tmp)?;
            let (sha2, size2) = self.put_scratch(&tmp)?;
            if sha2 != sha {
                anyhow::bail!(
                    "{} changed while it was copied; back up again",
                    path.display()
                );
            }
            return Ok((sha2, size2));
        }
        Ok((sha, size))
    }
}

fn record<T: Serialize>(w: &mut Writer, value: &T) -> anyhow::Result<(String, u64)> {
    let bytes = serde_json::to_vec(value)?;
    let sha = w.put_bytes(&bytes)?;
    Ok((sha, bytes.len() as u64))
}

fn post_key(p: &SitePost) -> String {
    format!("{}/{}", p.kind, p.id)
}

impl Office {
    fn site_store(&self) -> HubResult<BlobStore> {
        BlobStore::open(self.config.data_dir.join("site-backups").join("blobs"))
            .map_err(|e| HubError::Internal(anyhow::anyhow!("opening the site backup store: {e}")))
    }

    fn manifest_path(&self, id: i64) -> PathBuf {
        self.config
            .data_dir
            .join("site-backups")
            .join("manifests")
            .join(format!("{id}.json"))
    }

    /// The retention and schedule of site backups.
    pub fn set_site_backup_policy(&self, policy: SiteBackupPolicy) {
        *self
            .site_backups
            .policy
            .write()
            .unwrap_or_else(|e| e.into_inner()) = policy;
        self.site_backups.wake.notify_one();
    }

    pub fn site_backup_policy(&self) -> SiteBackupPolicy {
        self.site_backups
            .policy
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn require_webmaster(caller: &Caller, what: &str) -> HubResult<()> {
        if caller.has(Role::Admin) || caller.has(Role::Publisher) {
            Ok(())
        } else {
            Err(HubError::Forbidden(format!(
                "{what} needs the publisher or admin role"
            )))
        }
    }

    /// Builds what a website's content is read from (the keyring is read here, never while
    /// the database is held).
    fn site_source(&self, target: &TargetRow) -> HubResult<Source> {
        let settings = crate::publishing::target_settings(target);
        match target.kind.as_str() {
            "static" => Ok(Source::Folder {
                root: self.site_root(),
                public_base: Some(self.site_url()),
            }),
            "markdown" => Ok(Source::Folder {
                root: PathBuf::from(settings.folder),
                public_base: None,
            }),
            "wordpress" => {
                let secret = match &target.secret_id {
                    Some(id) => self.load_secret(id)?,
                    None => None,
                };
                let wp = crate::targets::wordpress(&settings, secret)
                    .map_err(|e| HubError::validation("website", e.to_string()))?;
                Ok(Source::WordPress(Box::new(wp)))
            }
            _ => Err(HubError::validation(
                "website",
                "a webhook website has no content the hub can read back; back up the system \
                 behind it there",
            )),
        }
    }

    // ------------------------------------------------------------ backing up

    /// "Back up now" (publishers and admins).
    pub fn back_up_site(&self, caller: &Caller, target_id: i64) -> HubResult<api::SiteBackupInfo> {
        let result = (|| {
            Self::require_webmaster(caller, "backing up a website")?;
            let target = Self::load_target(&self.db(), target_id)?;
            self.site_source(&target)?;
            self.run_site_backup(&target, Some(caller), "manual", &AtomicBool::new(false))
        })();
        self.refuse_unless(caller, None, "site_backup.make", result)
    }

    /// Backs up one website or every one that has content to read (the command line, run by
    /// whoever may read the data folder). Refusals of single websites are answered in the list.
    pub fn back_up_sites_now(
        &self,
        only: Option<i64>,
    ) -> HubResult<Vec<(String, HubResult<api::SiteBackupInfo>)>> {
        let targets: Vec<i64> = match only {
            Some(id) => vec![Self::load_target(&self.db(), id)?.id],
            None => crate::db::all(
                &self.db(),
                "SELECT id FROM publish_targets WHERE kind IN ('static', 'wordpress', 'markdown')
                 ORDER BY id",
                [],
                |r| r.get(0),
            )?,
        };
        let mut out = Vec::new();
        for id in targets {
            let target = Self::load_target(&self.db(), id)?;
            let made = self.run_site_backup(&target, None, "cli", &AtomicBool::new(false));
            out.push((target.name.clone(), made));
        }
        Ok(out)
    }

    /// A website's backups for the command line.
    pub fn site_backups_of(&self, target_id: i64) -> HubResult<Vec<api::SiteBackupInfo>> {
        let conn = self.db();
        Self::load_target(&conn, target_id)?;
        Ok(crate::db::all(
            &conn,
            &format!(
                "{BACKUP_SELECT} WHERE b.target_id = ?1 AND b.state != 'pruned'
                 ORDER BY b.id DESC LIMIT 200"
            ),
            [target_id],
            backup_from_row,
        )?)
    }

    /// Makes one backup of `target`, verifies it by reading it back, records and audits it,
    /// then applies the retention. A failure is recorded on the row (state `failed`).
    pub(crate) fn run_site_backup(
        &self,
        target: &TargetRow,
        caller: Option<&Caller>,
        trigger: &str,
        cancel: &AtomicBool,
    ) -> HubResult<api::SiteBackupInfo> {
        let _busy = self
            .site_backups
            .busy
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let source = self.site_source(target)?;
        let store = self.site_store()?;
        let now = self.now();
        let actor = caller.map(Caller::actor).unwrap_or_else(Actor::system);
        let id = {
            let conn = self.db();
            conn.exec(
                "INSERT INTO site_backups (target_id, started_at, state, trigger, requested_by)
                 VALUES (?1, ?2, 'running', ?3, ?4)",
                params![target.id, now, trigger, caller.map(|c| c.id)],
            )?;
            conn.last_insert_rowid()
        };
        let policy = self.site_backup_policy();
        let made = self.write_site_backup(id, target, &source, &store, &policy, now, cancel);
        let finished = self.now();
        let conn = self.db();
        match made {
            Ok((manifest, sha, w)) => {
                let bytes: u64 = manifest
                    .objects
                    .iter()
                    .map(|o| o.size + o.file_size.unwrap_or(0))
                    .sum();
                conn.exec(
                    "UPDATE site_backups SET state = 'verified', finished_at = ?2,
                     manifest_sha256 = ?3, objects = ?4, bytes = ?5, new_blobs = ?6,
                     new_bytes = ?7 WHERE id = ?1",
                    params![
                        id,
                        finished,
                        sha,
                        manifest.objects.len() as i64,
                        bytes as i64,
                        w.0,
                        w.1 as i64
                    ],
                )?;
                audit::append(
                    &conn,
                    finished,
                    &actor,
                    "site_backup.made",
                    None,
                    json!({ "target": target.id, "backup": id, "objects": manifest.objects.len(),
                            "bytes": bytes, "new_blobs": w.0, "new_bytes": w.1,
                            "skipped": manifest.skipped.len(), "manifest_sha256": sha }),
                )?;
            }
            Err(e) => {
                let msg = format!("{e:#}");
                let _ = std::fs::remove_file(self.manifest_path(id));
                conn.exec(
                    "UPDATE site_backups SET state = 'failed', finished_at = ?2, error = ?3
                     WHERE id = ?1",
                    params![id, finished, msg],
                )?;
                audit::append(
                    &conn,
                    finished,
                    &actor,
                    "site_backup.failed",
                    None,
                    json!({ "target": target.id, "backup": id, "error": msg }),
                )?;
            }
        }
        let info = Self::site_backup_row(&conn, id)?;
        drop(conn);
        if info.state == "verified"
            && let Err(e) = self.prune_site_backups_locked(target.id, &policy)
        {
            tracing::warn!("pruning site backups of website {}: {e:#}", target.id);
        }
        Ok(info)
    }

    #[allow(clippy::too_many_arguments)]
    fn write_site_backup(
        &self,
        id: i64,
        target: &TargetRow,
        source: &Source,
        store: &BlobStore,
        policy: &SiteBackupPolicy,
        now: DateTime<Utc>,
        cancel: &AtomicBool,
    ) -> anyhow::Result<(SiteManifest, String, (u32, u64))> {
        let mut w = Writer {
            store,
            new_blobs: 0,
            new_bytes: 0,
        };
        let (source_kind, source_name, objects, skipped) = match source {
            Source::WordPress(wp) => {
                let previous = self.previous_media(target.id);
                let (o, s) = collect_wordpress(wp, &mut w, &previous, policy, cancel)?;
                ("wordpress", wp.site_url().to_string(), o, s)
            }
            Source::Folder { root, public_base } => {
                let o = collect_folder(root, public_base.as_deref(), &mut w, cancel)?;
                ("folder", root.display().to_string(), o, Vec::new())
            }
        };
        let manifest = SiteManifest {
            format: MANIFEST_FORMAT,
            backup_id: id,
            target_id: target.id,
            source_kind: source_kind.into(),
            source: source_name,
            made_at: now,
            objects,
            skipped,
        };
        let bytes = serde_json::to_vec_pretty(&manifest)?;
        let sha = sha256_hex(&bytes);
        let path = self.manifest_path(id);
        let dir = path.parent().expect("manifest folder");
        std::fs::create_dir_all(dir)?;
        let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
        tmp.write_all(&bytes)?;
        tmp.as_file().sync_all()?;
        tmp.persist(&path).map_err(|e| e.error)?;
        // Read back before it counts.
        let read = read_and_verify(store, &path, &sha, Some(manifest.objects.len()))?;
        if read != manifest {
            anyhow::bail!("the manifest read back differs from the one written");
        }
        Ok((manifest, sha, (w.new_blobs, w.new_bytes)))
    }

    /// The media records of the newest verified backup of `target_id` with the blob of their
    /// file, so a file whose record did not change is not downloaded again.
    fn previous_media(&self, target_id: i64) -> HashMap<String, (String, u64)> {
        let newest: Option<(i64, String)> = self
            .db()
            .row(
                "SELECT id, manifest_sha256 FROM site_backups WHERE target_id = ?1
                 AND state = 'verified' ORDER BY id DESC LIMIT 1",
                [target_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .ok()
            .flatten();
        let Some((id, _)) = newest else {
            return HashMap::new();
        };
        let Ok(m) = read_manifest_file(&self.manifest_path(id)) else {
            return HashMap::new();
        };
        m.objects
            .into_iter()
            .filter_map(|o| Some((o.sha256, (o.file_sha256?, o.file_size?))))
            .collect()
    }

    /// Reads backup `id` back: manifest hash, parse, completeness, every blob's hash.
    pub fn verify_site_backup(&self, caller: &Caller, id: i64) -> HubResult<api::SiteBackupInfo> {
        let result = (|| {
            Self::require_webmaster(caller, "checking a website backup")?;
            let info = Self::site_backup_row(&self.db(), id)?;
            let checked = self.load_site_backup(id).map(|_| ());
            let now = self.now();
            let conn = self.db();
            audit::append(
                &conn,
                now,
                &caller.actor(),
                "site_backup.verified",
                None,
                json!({ "target": info.target_id, "backup": id, "ok": checked.is_ok(),
                        "error": checked.as_ref().err().map(|e| e.to_string()) }),
            )?;
            checked?;
            Self::site_backup_row(&conn, id)
        })();
        self.refuse_unless(caller, None, "site_backup.verify", result)
    }

    /// The manifest of a verified backup, read back and checked completely.
    pub(crate) fn load_site_backup(&self, id: i64) -> HubResult<SiteManifest> {
        let row: Option<(String, Option<String>, i64)> = self
            .db()
            .row(
                "SELECT state, manifest_sha256, objects FROM site_backups WHERE id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let (state, sha, objects) = row.ok_or(HubError::NotFound("website backup"))?;
        let Some(sha) = sha.filter(|_| state == "verified") else {
            return Err(HubError::validation(
                "backup",
                format!("backup {id} is {state}, not a verified backup; choose another one"),
            ));
        };
        let store = self.site_store()?;
        read_and_verify(
            &store,
            &self.manifest_path(id),
            &sha,
            Some(objects as usize),
        )
        .map_err(|e| {
            HubError::validation(
                "backup",
                format!("backup {id} failed its check and cannot be used: {e:#}"),
            )
        })
    }

    // ------------------------------------------------------------ listing

    fn site_backup_row(conn: &rusqlite::Connection, id: i64) -> HubResult<api::SiteBackupInfo> {
        conn.row(
            &format!("{BACKUP_SELECT} WHERE b.id = ?1"),
            [id],
            backup_from_row,
        )
        .optional()?
        .ok_or(HubError::NotFound("website backup"))
    }

    /// A website's backups, newest first (publishers and admins).
    pub fn site_backups(
        &self,
        caller: &Caller,
        target_id: i64,
    ) -> HubResult<Vec<api::SiteBackupInfo>> {
        let result = (|| {
            Self::require_webmaster(caller, "seeing website backups")?;
            let conn = self.db();
            Self::load_target(&conn, target_id)?;
            Ok(crate::db::all(
                &conn,
                &format!(
                    "{BACKUP_SELECT} WHERE b.target_id = ?1 AND b.state != 'pruned'
                     ORDER BY b.id DESC LIMIT 200"
                ),
                [target_id],
                backup_from_row,
            )?)
        })();
        self.refuse_unless(caller, None, "site_backup.list", result)
    }

    /// What a backup holds (publishers and admins).
    pub fn site_backup_detail(&self, caller: &Caller, id: i64) -> HubResult<api::SiteBackupDetail> {
        let result = (|| {
            Self::require_webmaster(caller, "seeing a website backup")?;
            let backup = Self::site_backup_row(&self.db(), id)?;
            let manifest = if backup.state == "verified" {
                read_manifest_file(&self.manifest_path(id)).ok()
            } else {
                None
            };
            let (objects, skipped) = manifest.map(|m| (m.objects, m.skipped)).unwrap_or_default();
            Ok(api::SiteBackupDetail {
                backup,
                objects: objects
                    .into_iter()
                    .map(|o| api::SiteBackupObject {
                        key: o.key,
                        kind: o.kind,
                        title: o.title,
                        sha256: o.sha256,
                        size: o.size + o.file_size.unwrap_or(0),
                        url: o.url,
                        status: o.status,
                    })
                    .collect(),
                skipped: skipped
                    .into_iter()
                    .map(|s| api::SiteBackupSkipped {
                        key: s.key,
                        reason: s.reason,
                    })
                    .collect(),
            })
        })();
        self.refuse_unless(caller, None, "site_backup.detail", result)
    }

    // ------------------------------------------------------------ retention

    /// Applies the retention to `target_id`'s backups and removes blobs no kept backup names.
    pub fn prune_site_backups(&self, target_id: i64) -> HubResult<Vec<i64>> {
        let _busy = self
            .site_backups
            .busy
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let policy = self.site_backup_policy();
        self.prune_site_backups_locked(target_id, &policy)
    }

    fn prune_site_backups_locked(
        &self,
        target_id: i64,
        policy: &SiteBackupPolicy,
    ) -> HubResult<Vec<i64>> {
        let now = self.now();
        let rows: Vec<(i64, DateTime<Utc>)> = crate::db::all(
            &self.db(),
            "SELECT id, started_at FROM site_backups WHERE target_id = ?1 AND state = 'verified'
             ORDER BY id DESC",
            [target_id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let mut removed = Vec::new();
        for (rank, (id, at)) in rows.iter().enumerate() {
            let by_count = rank < policy.keep.max(1);
            let by_age = now - *at < chrono::Duration::days(i64::from(policy.keep_days));
            if rank == 0 || by_count || by_age {
                continue;
            }
            removed.push(*id);
        }
        // Failed backups leave no manifest; their rows stay as history.
        if !removed.is_empty() {
            let conn = self.db();
            for id in &removed {
                conn.exec(
                    "UPDATE site_backups SET state = 'pruned' WHERE id = ?1",
                    [id],
                )?;
            }
            audit::append(
                &conn,
                now,
                &Actor::system(),
                "site_backup.pruned",
                None,
                json!({ "target": target_id, "backups": removed }),
            )?;
        }
        for id in &removed {
            let _ = std::fs::remove_file(self.manifest_path(*id));
        }
        self.sweep_site_blobs()?;
        Ok(removed)
    }

    /// Removes every blob that no verified backup's manifest names.
    fn sweep_site_blobs(&self) -> HubResult<usize> {
        let ids: Vec<i64> = crate::db::all(
            &self.db(),
            "SELECT id FROM site_backups WHERE state IN ('verified', 'running')",
            [],
            |r| r.get(0),
        )?;
        let mut keep: BTreeSet<String> = BTreeSet::new();
        for id in ids {
            let path = self.manifest_path(id);
            if !path.exists() {
                continue;
            }
            // A manifest that cannot be read stops the sweep: never delete on a guess.
            let m = read_manifest_file(&path).map_err(|e| {
                HubError::Internal(anyhow::anyhow!(
                    "not removing old backup contents: manifest {id} cannot be read: {e:#}"
                ))
            })?;
            for o in &m.objects {
                keep.extend(o.blobs().map(str::to_string));
            }
        }
        let store = self.site_store()?;
        let mut removed = 0;
        let Ok(dirs) = std::fs::read_dir(store.root()) else {
            return Ok(0);
        };
        for d in dirs.flatten() {
            let prefix = d.file_name().to_string_lossy().to_string();
            if prefix.len() != 2 || !d.path().is_dir() {
                continue;
            }
            for f in std::fs::read_dir(d.path()).into_iter().flatten().flatten() {
                let sha = format!("{prefix}{}", f.file_name().to_string_lossy());
                if sha.len() == 64 && !keep.contains(&sha) && std::fs::remove_file(f.path()).is_ok()
                {
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    // ------------------------------------------------------------ restoring

    /// Restores one object or everything to backup `backup_id`, with the guard's checks of
    /// the restored pages before and after (publishers and admins; a reason is required).
    pub fn restore_site(
        &self,
        caller: &Caller,
        backup_id: i64,
        input: api::SiteRestoreInput,
    ) -> HubResult<api::SiteRestoreReport> {
        let result = (|| {
            Self::require_webmaster(caller, "restoring a website")?;
            let reason = required_reason(&input.reason)?;
            let manifest = self.load_site_backup(backup_id)?;
            let target = Self::load_target(&self.db(), manifest.target_id)?;
            if let Some(incident) = input.incident_id {
                Self::check_restore_incident(&self.db(), incident, target.id)?;
            }
            let key = input
                .key
                .as_deref()
                .map(str::trim)
                .filter(|k| !k.is_empty());
            let chosen: Vec<&ManifestObject> = match key {
                Some(k) => {
                    let o = manifest
                        .objects
                        .iter()
                        .find(|o| o.key == k)
                        .ok_or_else(|| {
                            HubError::validation(
                                "key",
                                format!("backup {backup_id} has no \"{k}\""),
                            )
                        })?;
                    if !matches!(o.kind.as_str(), "post" | "page" | "file" | "media") {
                        return Err(HubError::validation(
                            "key",
                            "only a post, a page, a file or everything can be restored",
                        ));
                    }
                    vec![o]
                }
                None => manifest
                    .objects
                    .iter()
                    .filter(|o| matches!(o.kind.as_str(), "post" | "page" | "file" | "media"))
                    .collect(),
            };
            let source = self.site_source(&target)?;
            let store = self.site_store()?;
            let started = self.now();
            let mut urls: Vec<String> = proof_urls(&chosen, &source);
            let fetch_hosts = site_hosts(&source, &urls);
            let before = self.proof(&fetch_hosts, &urls);
            let outcome = match &source {
                Source::WordPress(wp) => {
                    restore_wordpress(wp, &store, &manifest, &chosen, key.is_none())
                }
                Source::Folder { root, .. } => {
                    restore_folder(root, &store, &manifest, &chosen, key.is_none())
                }
            };
            let (actions, error) = match outcome {
                Ok(a) => (a, None),
                Err(e) => (Vec::new(), Some(format!("{e:#}"))),
            };
            // A re-created post has a new address: check that one.
            for a in &actions {
                if let Some(url) = a.detail.as_deref().and_then(|d| d.strip_prefix("now at "))
                    && !urls.iter().any(|u| u == url)
                {
                    urls.push(url.to_string());
                }
            }
            self.note_recreated(&target, &actions);
            let after = self.proof(&fetch_hosts, &urls);
            self.record_restore(
                caller,
                RestoreRecord {
                    target_id: target.id,
                    backup_id: Some(backup_id),
                    item_id: None,
                    scope: if key.is_some() { "object" } else { "all" },
                    object_key: key.map(str::to_string),
                    reason,
                    started,
                    actions,
                    before,
                    after,
                    error,
                    incident_id: input.incident_id,
                },
            )
        })();
        self.refuse_unless(caller, None, "site.restore", result)
    }

    /// Restores an item's page on a website to the version Warta published, through the
    /// publishing target, with the same proof.
    pub fn restore_published(
        &self,
        caller: &Caller,
        target_id: i64,
        input: api::SitePublishedRestoreInput,
    ) -> HubResult<api::SiteRestoreReport> {
        let result = (|| {
            Self::require_webmaster(caller, "restoring a website")?;
            let reason = required_reason(&input.reason)?;
            let target = Self::load_target(&self.db(), target_id)?;
            if let Some(incident) = input.incident_id {
                Self::check_restore_incident(&self.db(), incident, target.id)?;
            }
            let url: Option<String> = self
                .db()
                .row(
                    "SELECT url FROM item_remotes WHERE item_id = ?1 AND target_id = ?2",
                    params![input.item_id, target_id],
                    |r| r.get(0),
                )
                .optional()?;
            let url = url.ok_or(HubError::NotFound(
                "published version of this item on this website",
            ))?;
            // The hub's own site may have recorded an address relative to the hub.
            let url = if url.starts_with('/') {
                format!("{}{url}", self.site_base.read().expect("site base"))
            } else {
                url
            };
            let started = self.now();
            let mut urls: Vec<String> = vec![url.clone()]
                .into_iter()
                .filter(|u| !u.is_empty())
                .collect();
            let hosts = hosts_of(&urls);
            let before = self.proof(&hosts, &urls);
            let (_, outcome) = self.republish(&target, input.item_id)?;
            let key = format!("item/{}", input.item_id);
            let (actions, error) = match outcome {
                Ok(new) => {
                    let moved = new.url != url;
                    if moved && !new.url.is_empty() {
                        urls.push(new.url.clone());
                    }
                    (
                        vec![api::SiteRestoreAction {
                            key,
                            action: "restored".into(),
                            new_id: Some(new.remote_id.clone()),
                            detail: moved.then(|| format!("now at {}", new.url)),
                        }],
                        None,
                    )
                }
                Err(e) => (
                    vec![api::SiteRestoreAction {
                        key,
                        action: "failed".into(),
                        new_id: None,
                        detail: Some(e.to_string()),
                    }],
                    Some(e.to_string()),
                ),
            };
            let after = self.proof(&hosts_of(&urls), &urls);
            self.record_restore(
                caller,
                RestoreRecord {
                    target_id,
                    backup_id: None,
                    item_id: Some(input.item_id),
                    scope: "published",
                    object_key: None,
                    reason,
                    started,
                    actions,
                    before,
                    after,
                    error,
                    incident_id: input.incident_id,
                },
            )
        })();
        self.refuse_unless(caller, None, "site.restore_published", result)
    }

    /// A Warta item whose post was re-created follows it to its new id and address.
    fn note_recreated(&self, target: &TargetRow, actions: &[api::SiteRestoreAction]) {
        for a in actions.iter().filter(|a| a.action == "recreated") {
            let (Some(old), Some(new)) = (a.key.split('/').nth(1), a.new_id.as_deref()) else {
                continue;
            };
            let url = a
                .detail
                .as_deref()
                .and_then(|d| d.strip_prefix("now at "))
                .unwrap_or_default();
            let _ = self.db().exec(
                "UPDATE item_remotes SET remote = json_set(remote, '$.remote_id', ?3, '$.url', ?4),
                 url = ?4 WHERE target_id = ?1 AND json_extract(remote, '$.remote_id') = ?2",
                params![target.id, old, new, url],
            );
        }
    }

    /// Runs the guard's checks on `urls` (fetching only from `hosts`).
    fn proof(&self, hosts: &[String], urls: &[String]) -> Vec<api::SitePageCheck> {
        if urls.is_empty() {
            return Vec::new();
        }
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return Vec::new();
        };
        // The office configured these sites: their own hosts may be on its network.
        let fetcher =
            warta_guard::Fetcher::allow_private(hosts.to_vec(), warta_guard::Limits::default());
        let vocab = warta_guard::Vocabulary::built_in();
        let policy = warta_guard::Policy::default();
        let now = self.now();
        rt.block_on(async {
            let mut out = Vec::new();
            for u in urls {
                let checked_at = self.now();
                let Ok(url) = url::Url::parse(u) else {
                    continue;
                };
                let report =
                    warta_guard::check_url(&fetcher, &url, &vocab, &policy, None, now).await;
                out.push(api::SitePageCheck {
                    url: u.clone(),
                    checked_at,
                    status: report.browser.as_ref().map(|b| b.status),
                    sha256: report
                        .browser
                        .as_ref()
                        .map(|b| sha256_hex(b.body.as_bytes())),
                    findings: report
                        .findings
                        .iter()
                        .map(|f| api::SiteFinding {
                            kind: serde_json::to_value(f.kind)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_string))
                                .unwrap_or_default(),
                            message: f.message.clone(),
                            evidence: f.evidence.clone(),
                        })
                        .collect(),
                });
            }
            out
        })
    }

    fn record_restore(
        &self,
        caller: &Caller,
        r: RestoreRecord,
    ) -> HubResult<api::SiteRestoreReport> {
        let failed = r.actions.iter().filter(|a| a.action == "failed").count();
        let state = if r.error.is_some() || (failed > 0 && failed == r.actions.len()) {
            "failed"
        } else if failed > 0 {
            "partial"
        } else {
            "done"
        };
        let normal = state == "done" && r.after.iter().all(|c| c.findings.is_empty());
        let finished = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        tx.exec(
            "INSERT INTO site_restores (target_id, backup_id, item_id, scope, object_key, reason,
                 requested_by, started_at, finished_at, state, normal, actions, before, after,
                 error, incident_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            params![
                r.target_id,
                r.backup_id,
                r.item_id,
                r.scope,
                r.object_key,
                r.reason,
                caller.id,
                r.started,
                finished,
                state,
                normal,
                serde_json::to_string(&r.actions).expect("json"),
                serde_json::to_string(&r.before).expect("json"),
                serde_json::to_string(&r.after).expect("json"),
                r.error,
                r.incident_id
            ],
        )?;
        let id = tx.last_insert_rowid();
        let findings = |v: &[api::SitePageCheck]| v.iter().map(|c| c.findings.len()).sum::<usize>();
        audit::append(
            &tx,
            finished,
            &caller.actor(),
            "site.restored",
            r.item_id,
            json!({ "restore": id, "target": r.target_id, "backup": r.backup_id,
                    "scope": r.scope, "key": r.object_key, "reason": r.reason, "state": state,
                    "normal": normal, "actions": r.actions.len(), "failed": failed,
                    "findings_before": findings(&r.before), "findings_after": findings(&r.after),
                    "incident": r.incident_id }),
        )?;
        if let Some(incident) = r.incident_id {
            Self::resolve_by_restore(
                &tx, finished, caller, incident, id, &r.reason, normal, &r.after,
            )?;
        }
        let report = Self::restore_row(&tx, id)?;
        if let Some(incident) = r.incident_id {
            self.restore_into_guard_incident(&tx, incident, &report, &caller.actor(), finished)?;
        }
        tx.commit()?;
        Ok(report)
    }

    fn restore_row(conn: &rusqlite::Connection, id: i64) -> HubResult<api::SiteRestoreReport> {
        conn.row(
            &format!("{RESTORE_SELECT} WHERE r.id = ?1"),
            [id],
            restore_from_row,
        )
        .optional()?
        .ok_or(HubError::NotFound("restore report"))
    }

    /// A website's restore reports, newest first.
    pub fn site_restores(
        &self,
        caller: &Caller,
        target_id: i64,
    ) -> HubResult<Vec<api::SiteRestoreReport>> {
        let result = (|| {
            Self::require_webmaster(caller, "seeing restore reports")?;
            let conn = self.db();
            Self::load_target(&conn, target_id)?;
            Ok(crate::db::all(
                &conn,
                &format!("{RESTORE_SELECT} WHERE r.target_id = ?1 ORDER BY r.id DESC LIMIT 100"),
                [target_id],
                restore_from_row,
            )?)
        })();
        self.refuse_unless(caller, None, "site.restores", result)
    }

    /// One restore report (the evidence an incident links to).
    pub fn site_restore(&self, caller: &Caller, id: i64) -> HubResult<api::SiteRestoreReport> {
        let result = (|| {
            Self::require_webmaster(caller, "seeing restore reports")?;
            Self::restore_row(&self.db(), id)
        })();
        self.refuse_unless(caller, None, "site.restore_report", result)
    }

    // ------------------------------------------------------------ schedule

    /// Backs up every website that is due (enabled, content the hub can read, no verified or
    /// attempted backup within the policy's period). Returns how many were attempted.
    pub fn run_due_site_backups(&self, cancel: &AtomicBool) -> usize {
        let policy = self.site_backup_policy();
        let Some(every) = policy.every else { return 0 };
        let every = chrono::Duration::from_std(every).unwrap_or(chrono::Duration::days(1));
        let now = self.now();
        let due: Vec<i64> = crate::db::all(
            &self.db(),
            "SELECT t.id, (SELECT MAX(b.started_at) FROM site_backups b WHERE b.target_id = t.id
                 AND b.state IN ('verified', 'running')),
                 (SELECT MAX(b.started_at) FROM site_backups b WHERE b.target_id = t.id)
             FROM publish_targets t WHERE t.enabled = 1 AND t.kind IN ('static', 'wordpress', 'markdown')
             ORDER BY t.id",
            [],
            |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, Option<DateTime<Utc>>>(1)?,
                    r.get::<_, Option<DateTime<Utc>>>(2)?,
                ))
            },
        )
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, good, any)| {
            // Due after `every` since the last good one; a failed attempt waits an hour.
            let good_due = good.is_none_or(|g| now - g >= every);
            let retry_due = any.is_none_or(|a| now - a >= every.min(chrono::Duration::hours(1)));
            good_due && retry_due
        })
        .map(|(id, _, _)| id)
        .collect();
        let mut n = 0;
        for id in due {
            if cancel.load(Ordering::SeqCst) {
                break;
            }
            let Ok(target) = Self::load_target(&self.db(), id) else {
                continue;
            };
            n += 1;
            match self.run_site_backup(&target, None, "schedule", cancel) {
                Ok(b) if b.state == "verified" => tracing::info!(
                    website = id,
                    objects = b.objects,
                    new_blobs = b.new_blobs,
                    "website backed up"
                ),
                Ok(b) => tracing::warn!(
                    website = id,
                    "website backup failed: {}",
                    b.error.unwrap_or_default()
                ),
                Err(e) => tracing::warn!(website = id, "website backup failed: {e}"),
            }
        }
        n
    }
}

struct RestoreRecord {
    target_id: i64,
    backup_id: Option<i64>,
    item_id: Option<i64>,
    scope: &'static str,
    object_key: Option<String>,
    reason: String,
    started: DateTime<Utc>,
    actions: Vec<api::SiteRestoreAction>,
    before: Vec<api::SitePageCheck>,
    after: Vec<api::SitePageCheck>,
    error: Option<String>,
    incident_id: Option<i64>,
}

fn required_reason(reason: &str) -> HubResult<String> {
    let r = reason.trim();
    if r.is_empty() || r.chars().count() > 1000 {
        return Err(HubError::validation(
            "reason",
            "say why the website is restored (1 to 1000 characters)",
        ));
    }
    Ok(r.to_string())
}

const BACKUP_SELECT: &str = "SELECT b.id, b.target_id, b.started_at, b.finished_at, b.state,
     b.trigger, u.username, b.objects, b.bytes, b.new_blobs, b.new_bytes, b.error
     FROM site_backups b LEFT JOIN users u ON u.id = b.requested_by";

fn backup_from_row(r: &rusqlite::Row) -> rusqlite::Result<api::SiteBackupInfo> {
    Ok(api::SiteBackupInfo {
        id: r.get(0)?,
        target_id: r.get(1)?,
        started_at: r.get(2)?,
        finished_at: r.get(3)?,
        state: r.get(4)?,
        trigger: r.get(5)?,
        requested_by: r.get(6)?,
        objects: r.get(7)?,
        bytes: r.get::<_, i64>(8)? as u64,
        new_blobs: r.get(9)?,
        new_bytes: r.get::<_, i64>(10)? as u64,
        error: r.get(11)?,
    })
}

const RESTORE_SELECT: &str = "SELECT r.id, r.target_id, r.backup_id, r.item_id, r.scope,
     r.object_key, r.reason, u.username, r.started_at, r.finished_at, r.state, r.normal,
     r.actions, r.before, r.after, r.error, r.incident_id
     FROM site_restores r JOIN users u ON u.id = r.requested_by";

/// The restore reports made for guard incident `id`, newest first.
pub(crate) fn restores_of_incident(
    conn: &rusqlite::Connection,
    id: i64,
) -> HubResult<Vec<api::SiteRestoreReport>> {
    Ok(crate::db::all(
        conn,
        &format!("{RESTORE_SELECT} WHERE r.incident_id = ?1 ORDER BY r.id DESC LIMIT 50"),
        [id],
        restore_from_row,
    )?)
}

fn restore_from_row(r: &rusqlite::Row) -> rusqlite::Result<api::SiteRestoreReport> {
    let json_of = |i: usize| -> rusqlite::Result<String> { r.get(i) };
    Ok(api::SiteRestoreReport {
        id: r.get(0)?,
        target_id: r.get(1)?,
        backup_id: r.get(2)?,
        item_id: r.get(3)?,
        scope: r.get(4)?,
        object_key: r.get(5)?,
        reason: r.get(6)?,
        requested_by: r.get(7)?,
        started_at: r.get(8)?,
        finished_at: r.get(9)?,
        state: r.get(10)?,
        normal: r.get(11)?,
        actions: serde_json::from_str(&json_of(12)?).unwrap_or_default(),
        before: serde_json::from_str(&json_of(13)?).unwrap_or_default(),
        after: serde_json::from_str(&json_of(14)?).unwrap_or_default(),
        error: r.get(15)?,
        incident_id: r.get(16)?,
    })
}

// ---------------------------------------------------------------- manifests

fn read_manifest_file(path: &Path) -> anyhow::Result<SiteManifest> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_slice(&bytes).with_context(|| format!("{} is not a manifest", path.display()))
}

/// Reads a manifest back and checks it: its hash, its form, its count of objects, and every
/// blob it names (present, hashing to its name).
fn read_and_verify(
    store: &BlobStore,
    path: &Path,
    sha: &str,
    expected_objects: Option<usize>,
) -> anyhow::Result<SiteManifest> {
    let bytes = std::fs::read(path)
        .with_context(|| format!("the manifest {} cannot be read", path.display()))?;
    let found = sha256_hex(&bytes);
    if found != sha {
        anyhow::bail!("the manifest was changed: it hashes to {found}, not {sha}");
    }
    let m: SiteManifest = serde_json::from_slice(&bytes).context("the manifest does not parse")?;
    if m.format != MANIFEST_FORMAT {
        anyhow::bail!(
            "the manifest has format {}, this build reads {MANIFEST_FORMAT}",
            m.format
        );
    }
    if let Some(n) = expected_objects
        && m.objects.len() != n
    {
        anyhow::bail!(
            "the manifest lists {} objects where {n} were stored",
            m.objects.len()
        );
    }
    let mut seen = BTreeSet::new();
    for o in &m.objects {
        for blob in o.blobs() {
            if !seen.insert(blob.to_string()) {
                continue;
            }
            let p = store
                .path_of(blob)
                .ok_or_else(|| anyhow::anyhow!("{} names an invalid blob \"{blob}\"", o.key))?;
            let (got, _) = hash_file(&p).map_err(|e| {
                anyhow::anyhow!("the content of {} ({blob}) is missing: {e}", o.key)
            })?;
            if got != blob {
                anyhow::bail!(
                    "the content of {} is damaged: blob {blob} now hashes to {got}",
                    o.key
                );
            }
        }
    }
    Ok(m)
}

// ---------------------------------------------------------------- collecting

fn collect_wordpress(
    wp: &WordPress,
    w: &mut Writer,
    previous_media: &HashMap<String, (String, u64)>,
    policy: &SiteBackupPolicy,
    cancel: &AtomicBool,
) -> anyhow::Result<(Vec<ManifestObject>, Vec<Skipped>)> {
    let mut objects = Vec::new();
    let mut skipped = Vec::new();
    let stop = || -> anyhow::Result<()> {
        if cancel.load(Ordering::SeqCst) {
            anyhow::bail!("the backup was stopped (the hub is shutting down)");
        }
        Ok(())
    };
    for kind in [PostKind::Post, PostKind::Page] {
        for p in wp.list_posts(kind).map_err(publish_err)? {
            let (sha, size) = record(w, &p)?;
            objects.push(ManifestObject {
                key: post_key(&p),
                kind: p.kind.clone(),
                title: p.title.clone(),
                sha256: sha,
                size,
                file_sha256: None,
                file_size: None,
                url: (!p.link.is_empty()).then(|| p.link.clone()),
                status: Some(p.status.clone()),
            });
        }
        stop()?;
    }
    for (endpoint, kind) in [("categories", "category"), ("tags", "tag")] {
        for t in wp.list_terms(endpoint).map_err(publish_err)? {
            let (sha, size) = record(w, &t)?;
            objects.push(ManifestObject {
                key: format!("{kind}/{}", t.id),
                kind: kind.into(),
                title: t.name.clone(),
                sha256: sha,
                size,
                file_sha256: None,
                file_size: None,
                url: None,
                status: None,
            });
        }
    }
    let scratch = w.store.scratch_dir()?;
    for m in wp.list_media().map_err(publish_err)? {
        stop()?;
        let key = format!("media/{}", m.id);
        let (sha, size) = record(w, &m)?;
        let file = match previous_media.get(&sha) {
            Some((fsha, fsize)) if w.store.exists(fsha) => Some((fsha.clone(), *fsize)),
            _ => {
                let tmp = scratch.path().join(format!("media-{}", m.id));
                let mut f = std::fs::File::create(&tmp)?;
                match wp.download_media(&m, &mut f, policy.max_file_bytes) {
                    Ok(_) => {
                        f.sync_all()?;
                        drop(f);
                        Some(w.put_scratch(&tmp)?)
                    }
                    Err(e @ PublishError::Rejected(_)) => {
                        drop(f);
                        let _ = std::fs::remove_file(&tmp);
                        skipped.push(Skipped {
                            key: key.clone(),
                            reason: e.to_string(),
                        });
                        None
                    }
                    Err(e) => return Err(publish_err(e)),
                }
            }
        };
        objects.push(ManifestObject {
            key,
            kind: "media".into(),
            title: m.title.clone(),
            sha256: sha,
            size,
            file_sha256: file.as_ref().map(|f| f.0.clone()),
            file_size: file.map(|f| f.1),
            url: Some(m.source_url.clone()),
            status: None,
        });
    }
    Ok((objects, skipped))
}

fn collect_folder(
    root: &Path,
    public_base: Option<&str>,
    w: &mut Writer,
    cancel: &AtomicBool,
) -> anyhow::Result<Vec<ManifestObject>> {
    if !root.is_dir() {
        anyhow::bail!("the website's folder {} does not exist", root.display());
    }
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).with_context(|| format!("reading {}", dir.display()))? {
            let e = e?;
            let ft = e.file_type()?;
            let name = e.file_name().to_string_lossy().to_string();
            if name == ".git" || ft.is_symlink() {
                continue;
            }
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .expect("inside root")
                    .to_string_lossy()
                    .replace('\\', "/");
                files.push((rel, e.path()));
            }
        }
    }
    files.sort();
    let mut objects = Vec::new();
    for (rel, path) in files {
        if cancel.load(Ordering::SeqCst) {
            anyhow::bail!("the backup was stopped (the hub is shutting down)");
        }
        let (sha, size) = w.put_copy(&path)?;
        let url = public_base
            .filter(|_| rel.ends_with(".html"))
            .map(|b| format!("{}/{rel}", b.trim_end_matches('/')));
        objects.push(ManifestObject {
            key: format!("file/{rel}"),
            kind: "file".into(),
            title: rel,
            sha256: sha,
            size,
            file_sha256: None,
            file_size: None,
            url,
            status: None,
        });
    }
    Ok(objects)
}

// ---------------------------------------------------------------- restoring

fn blob_json<T: for<'de> Deserialize<'de>>(store: &BlobStore, sha: &str) -> anyhow::Result<T> {
    let p = store
        .path_of(sha)
        .ok_or_else(|| anyhow::anyhow!("invalid blob name"))?;
    Ok(serde_json::from_slice(&std::fs::read(p)?)?)
}

fn action(
    key: &str,
    what: &str,
    new_id: Option<String>,
    detail: Option<String>,
) -> api::SiteRestoreAction {
    api::SiteRestoreAction {
        key: key.to_string(),
        action: what.to_string(),
        new_id,
        detail,
    }
}

fn restore_wordpress(
    wp: &WordPress,
    store: &BlobStore,
    manifest: &SiteManifest,
    chosen: &[&ManifestObject],
    everything: bool,
) -> anyhow::Result<Vec<api::SiteRestoreAction>> {
    let mut actions = Vec::new();
    let by_key: HashMap<&str, &ManifestObject> = manifest
        .objects
        .iter()
        .map(|o| (o.key.as_str(), o))
        .collect();
    let media: Vec<(SiteMedia, Option<&str>)> = manifest
        .objects
        .iter()
        .filter(|o| o.kind == "media")
        .filter_map(|o| {
            Some((
                blob_json::<SiteMedia>(store, &o.sha256).ok()?,
                o.file_sha256.as_deref(),
            ))
        })
        .collect();
    let posts: Vec<(&ManifestObject, SitePost)> = chosen
        .iter()
        .filter(|o| o.kind == "post" || o.kind == "page")
        .map(|o| Ok((*o, blob_json::<SitePost>(store, &o.sha256)?)))
        .collect::<anyhow::Result<_>>()?;

    // Files the restored content needs (featured, or named in the content), or every file for
    // "everything", that are no longer in the media library: upload them again.
    let mut media_ids: HashMap<i64, i64> = HashMap::new();
    let mut media_urls: Vec<(String, String)> = Vec::new();
    let wanted_media: Vec<&(SiteMedia, Option<&str>)> = media
        .iter()
        .filter(|(m, _)| {
            everything
                || chosen.iter().any(|o| o.key == format!("media/{}", m.id))
                || posts.iter().any(|(_, p)| {
                    p.featured_media == m.id
                        || (!m.source_url.is_empty() && p.content.contains(&m.source_url))
                })
        })
        .collect();
    for (m, file) in wanted_media {
        let key = format!("media/{}", m.id);
        match wp.read_media(m.id) {
            Ok(Some(_)) => {}
            Ok(None) => {
                let Some(path) = file.and_then(|f| store.path_of(f)) else {
                    actions.push(action(
                        &key,
                        "failed",
                        None,
                        Some("the backup has no copy of this file".into()),
                    ));
                    continue;
                };
                match wp.upload_media_file(&path, m, None) {
                    Ok(new) => {
                        media_ids.insert(m.id, new.id);
                        media_urls.push((m.source_url.clone(), new.source_url.clone()));
                        actions.push(action(
                            &key,
                            "reuploaded",
                            Some(new.id.to_string()),
                            Some(format!("now at {}", new.source_url)),
                        ));
                    }
                    Err(e) => actions.push(action(&key, "failed", None, Some(e.to_string()))),
                }
            }
            Err(e) => actions.push(action(&key, "failed", None, Some(e.to_string()))),
        }
    }

    // Categories and tags the posts need, made again when they were deleted.
    let mut term_ids: HashMap<(String, i64), i64> = HashMap::new();
    let mut term_of = |taxonomy: &str, id: i64| -> Result<i64, PublishError> {
        if let Some(n) = term_ids.get(&(taxonomy.to_string(), id)) {
            return Ok(*n);
        }
        let kind = if taxonomy == "category" {
            "category"
        } else {
            "tag"
        };
        let Some(o) = by_key.get(format!("{kind}/{id}").as_str()) else {
            return Ok(id);
        };
        let term: SiteTerm = blob_json(store, &o.sha256)
            .map_err(|e| PublishError::Local(format!("reading the backup: {e}")))?;
        let n = wp.ensure_term(&term)?;
        term_ids.insert((taxonomy.to_string(), id), n);
        Ok(n)
    };

    for (o, mut post) in posts {
        let kind = PostKind::parse(&post.kind).unwrap_or(PostKind::Post);
        let mapped = (|| -> Result<(), PublishError> {
            post.categories = post
                .categories
                .iter()
                .map(|c| term_of("category", *c))
                .collect::<Result<_, _>>()?;
            post.tags = post
                .tags
                .iter()
                .map(|t| term_of("post_tag", *t))
                .collect::<Result<_, _>>()?;
            Ok(())
        })();
        if let Err(e) = mapped {
            actions.push(action(&o.key, "failed", None, Some(e.to_string())));
            continue;
        }
        if let Some(n) = media_ids.get(&post.featured_media) {
            post.featured_media = *n;
        }
        for (old, new) in &media_urls {
            post.content = post.content.replace(old.as_str(), new);
        }
        let current = match wp.read_post(kind, post.id) {
            Ok(c) => c,
            Err(e) => {
                actions.push(action(&o.key, "failed", None, Some(e.to_string())));
                continue;
            }
        };
        match current {
            Some(c) if c.same_content(&post) => {
                actions.push(action(&o.key, "unchanged", None, None));
            }
            Some(_) => match wp.write_post(&post, true) {
                Ok(_) => actions.push(action(&o.key, "restored", None, None)),
                Err(e) => actions.push(action(&o.key, "failed", None, Some(e.to_string()))),
            },
            None => match wp.write_post(&post, false) {
                Ok(new) => actions.push(action(
                    &o.key,
                    "recreated",
                    Some(new.id.to_string()),
                    (!new.link.is_empty()).then(|| format!("now at {}", new.link)),
                )),
                Err(e) => actions.push(action(&o.key, "failed", None, Some(e.to_string()))),
            },
        }
    }
    Ok(actions)
}

fn restore_folder(
    root: &Path,
    store: &BlobStore,
    manifest: &SiteManifest,
    chosen: &[&ManifestObject],
    everything: bool,
) -> anyhow::Result<Vec<api::SiteRestoreAction>> {
    let mut actions = Vec::new();
    std::fs::create_dir_all(root)?;
    for o in chosen.iter().filter(|o| o.kind == "file") {
        let rel = o.key.strip_prefix("file/").unwrap_or_default();
        let Some(rel_path) = safe_relative(rel) else {
            actions.push(action(
                &o.key,
                "failed",
                None,
                Some("not a path inside the folder".into()),
            ));
            continue;
        };
        let dest = root.join(&rel_path);
        if dest.is_file() && hash_file(&dest).map(|h| h.0 == o.sha256).unwrap_or(false) {
            actions.push(action(&o.key, "unchanged", None, None));
            continue;
        }
        let written = (|| -> anyhow::Result<()> {
            let src = store
                .path_of(&o.sha256)
                .ok_or_else(|| anyhow::anyhow!("invalid blob name"))?;
            let dir = dest.parent().expect("a file has a folder");
            std::fs::create_dir_all(dir)?;
            let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
            std::io::copy(&mut std::fs::File::open(src)?, &mut tmp)?;
            tmp.as_file().sync_all()?;
            tmp.persist(&dest).map_err(|e| e.error)?;
            Ok(())
        })();
        match written {
            Ok(()) => actions.push(action(&o.key, "restored", None, None)),
            Err(e) => actions.push(action(&o.key, "failed", None, Some(format!("{e:#}")))),
        }
    }
    if everything {
        // Files that are not in the backup (a dropped page, a planted script) go.
        let kept: BTreeSet<&str> = manifest
            .objects
            .iter()
            .filter_map(|o| o.key.strip_prefix("file/"))
            .collect();
        let mut stack = vec![root.to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir)?.flatten() {
                let ft = e.file_type()?;
                if e.file_name() == ".git" || ft.is_symlink() {
                    continue;
                }
                if ft.is_dir() {
                    stack.push(e.path());
                    continue;
                }
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .expect("inside root")
                    .to_string_lossy()
                    .replace('\\', "/");
                if !kept.contains(rel.as_str()) {
                    let key = format!("file/{rel}");
                    match std::fs::remove_file(e.path()) {
                        Ok(()) => actions.push(action(&key, "removed", None, None)),
                        Err(err) => {
                            actions.push(action(&key, "failed", None, Some(err.to_string())))
                        }
                    }
                }
            }
        }
    }
    Ok(actions)
}

/// The live pages to check before and after: the restored objects' addresses (posts and
/// pages that are public, a folder's HTML files), at most [`MAX_PROOF_PAGES`].
fn proof_urls(chosen: &[&ManifestObject], source: &Source) -> Vec<String> {
    let mut urls: Vec<String> = Vec::new();
    for o in chosen {
        let public = match o.kind.as_str() {
            "post" | "page" => o.status.as_deref() == Some("publish"),
            "file" => true,
            _ => false,
        };
        if let Some(u) = o.url.as_ref().filter(|_| public)
            && !urls.contains(u)
        {
            urls.push(u.clone());
        }
        if urls.len() >= MAX_PROOF_PAGES {
            break;
        }
    }
    if urls.is_empty()
        && let Source::WordPress(wp) = source
    {
        urls.push(format!("{}/", wp.site_url()));
    }
    urls
}

fn hosts_of(urls: &[String]) -> Vec<String> {
    let mut hosts: Vec<String> = urls
        .iter()
        .filter_map(|u| url::Url::parse(u).ok()?.host_str().map(str::to_string))
        .collect();
    hosts.sort();
    hosts.dedup();
    hosts
}

fn site_hosts(source: &Source, urls: &[String]) -> Vec<String> {
    let mut hosts = hosts_of(urls);
    if let Source::WordPress(wp) = source {
        hosts.extend(hosts_of(&[wp.site_url().to_string()]));
    }
    hosts.sort();
    hosts.dedup();
    hosts
}

// ---------------------------------------------------------------- schedule

/// The site-backup schedule of a running hub.
pub(crate) struct Scheduler {
    cancel: Arc<AtomicBool>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Scheduler {
    pub(crate) fn start(office: Arc<Office>) -> Scheduler {
        let cancel = Arc::new(AtomicBool::new(false));
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let flag = cancel.clone();
        let task = tokio::spawn(async move {
            let mut wait = office.site_backup_policy().first_after;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = office.site_backups.wake.notified() => {}
                    _ = stopped.changed() => return,
                }
                let (o, f) = (office.clone(), flag.clone());
                let _ = tokio::task::spawn_blocking(move || o.run_due_site_backups(&f)).await;
                wait = office.site_backup_policy().check_every;
            }
        });
        Scheduler { cancel, stop, task }
    }

    /// Abandons a backup in progress (it is recorded as failed) and stops the schedule.
    pub(crate) fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
        let _ = self.stop.send(true);
    }

    pub(crate) async fn join(self) {
        self.cancel();
        let _ = self.task.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_written() {
        assert!(safe_relative("a/b.html").is_some());
        assert!(safe_relative("../etc/passwd").is_none());
        assert!(safe_relative("/etc/passwd").is_none());
        assert!(safe_relative("a/../../b").is_none());
        assert!(safe_relative("").is_none());
    }
}
