//! Online backups of an office: the SQLite database (copied through SQLite's backup API from
//! one read transaction, so writers go on while it runs), the blob store and the published site.
//!
//! A backup is a folder `<backup dir>/<UTC time>/` (`20261124T060000Z`, `-2`, `-3`… when two are
//! made within a second) holding `warta.db`, `blobs/`, `site/`, `guard/` (the website guard's
//! evidence), `backup.json` and, on a hub
//! that keeps website secrets in a file, the encrypted `secrets.enc` (never its key, which is
//! not in the data directory; see `warta_secrets::FileStore`): the same
//! layout as a data directory, so restoring is copying the folder ([`restore`]). It is written
//! as `.partial-<name>` and renamed only once complete and verified: the database passes
//! `PRAGMA integrity_check`, its audit chain verifies and still holds the audit head the
//! previous backup recorded (so history cannot be cut short unnoticed between two backups),
//! and every blob an attachment references is there. Blobs are content-addressed and never
//! change, so each is hard-linked from the previous backup when it has it, else hard-linked
//! from the store when the backup folder is on the same file system, else copied (and its
//! digest checked on the way).
//!
//! Times (names, retention by age) come from the hub's [`Clock`](crate::Clock); the schedule
//! itself counts real time.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, NaiveDateTime, Utc};
use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::Office;
use crate::audit::{self, Actor};

/// When and where the hub backs itself up, and how many backups it keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupPolicy {
    /// The folder backups are made in (best on another disk than the data).
    pub dir: PathBuf,
    /// Time between two backups.
    pub every: Duration,
    /// Keep this many most recent backups…
    pub keep: Option<usize>,
    /// …and/or every backup younger than this many days. A backup either rule keeps stays;
    /// the newest always stays.
    pub keep_days: Option<u32>,
}

/// What one backup holds, written as `backup.json` in its folder.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub name: String,
    pub made_at: DateTime<Utc>,
    pub warta_version: String,
    /// Sequence number and hash of the newest audit entry in the copied database.
    pub audit_head_seq: i64,
    pub audit_head_hash: String,
    pub items: i64,
    pub attachments: i64,
    pub blobs: usize,
    /// Blobs hard-linked from the previous backup (no new space used).
    pub blobs_from_previous: usize,
    /// Blobs hard-linked from the live store (same file system).
    pub blobs_linked: usize,
    /// Blobs copied (and their digest checked).
    pub blobs_copied: usize,
    pub blob_bytes: u64,
    pub site_files: usize,
}

/// A finished backup.
#[derive(Debug, Clone)]
pub struct BackupMade {
    pub path: PathBuf,
    pub manifest: Manifest,
}

/// What checking a backup folder found.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupCheck {
    pub audit_entries: i64,
    pub referenced_blobs: usize,
}

/// Makes one backup of `office` in `dir`, verifies it and audits it (`backup.made`, or
/// `backup.failed` with the reason).
pub fn make_backup(office: &Office, dir: &Path) -> anyhow::Result<BackupMade> {
    make_backup_unless(office, dir, &AtomicBool::new(false))
}

/// [`make_backup`] that gives up (removing what it wrote) once `cancel` is set.
pub fn make_backup_unless(
    office: &Office,
    dir: &Path,
    cancel: &AtomicBool,
) -> anyhow::Result<BackupMade> {
    let result = write_backup(office, dir, cancel);
    let now = office.now();
    let (kind, data) = match &result {
        Ok(made) => (
            "backup.made",
            json!({
                "name": made.manifest.name,
                "dir": dir.display().to_string(),
                "audit_head_seq": made.manifest.audit_head_seq,
                "blobs": made.manifest.blobs,
                "blobs_copied": made.manifest.blobs_copied,
                "site_files": made.manifest.site_files,
            }),
        ),
        Err(e) => (
            "backup.failed",
            json!({ "dir": dir.display().to_string(), "error": format!("{e:#}") }),
        ),
    };
    let logged = {
        let mut conn = office.db();
        conn.savepoint().and_then(|tx| {
            audit::append(&tx, now, &Actor::system(), kind, None, data)?;
            tx.commit()
        })
    };
    if let Err(e) = logged {
        tracing::error!("auditing {kind}: {e}");
    }
    result
}

fn write_backup(office: &Office, dir: &Path, cancel: &AtomicBool) -> anyhow::Result<BackupMade> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the backup folder {}", dir.display()))?;
    remove_stale_partials(dir);
    let made_at = office.now();
    let name = free_name(dir, made_at);
    let partial = dir.join(format!(".partial-{name}"));
    std::fs::create_dir(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    let outcome = fill(office, dir, &partial, &name, made_at, cancel);
    match outcome {
        Ok(manifest) => {
            let path = dir.join(&name);
            std::fs::rename(&partial, &path).with_context(|| {
                format!("cannot rename {} to {}", partial.display(), path.display())
            })?;
            sync_dir(dir);
            Ok(BackupMade { path, manifest })
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&partial);
            Err(e)
        }
    }
}

fn fill(
    office: &Office,
    dir: &Path,
    partial: &Path,
    name: &str,
    made_at: DateTime<Utc>,
    cancel: &AtomicBool,
) -> anyhow::Result<Manifest> {
    let data_dir = &office.config().data_dir;
    copy_database(&data_dir.join("warta.db"), &partial.join("warta.db"))?;
    let previous = list_backups(dir)?.pop();
    let blobs = copy_blobs(
        office.blobs().root(),
        &partial.join("blobs"),
        previous.as_ref().map(|b| b.path.join("blobs")),
        cancel,
    )?;
    let site_files = copy_tree(&office.site_root(), &partial.join("site"), cancel)?;
    // The website guard's evidence (page versions its incidents name).
    copy_tree(&data_dir.join("guard"), &partial.join("guard"), cancel)?;
    copy_secrets_file(data_dir, partial)?;
    let check = verify_backup(partial)?;
    let db = open_read_only(&partial.join("warta.db"))?;
    let (audit_head_seq, audit_head_hash) = audit_head(&db)?;
    if let Some(prev) = &previous
        && let Ok(m) = read_manifest(&prev.path)
    {
        check_history_kept(&db, &m)?;
    }
    let count = |table: &str| -> anyhow::Result<i64> {
        Ok(db.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
    };
    let manifest = Manifest {
        name: name.to_string(),
        made_at,
        warta_version: env!("CARGO_PKG_VERSION").to_string(),
        audit_head_seq,
        audit_head_hash,
        items: count("items")?,
        attachments: count("attachments")?,
        blobs: blobs.total,
        blobs_from_previous: blobs.from_previous,
        blobs_linked: blobs.linked,
        blobs_copied: blobs.copied,
        blob_bytes: blobs.bytes,
        site_files,
    };
    debug_assert!(check.referenced_blobs <= manifest.blobs);
    let mut f = std::fs::File::create(partial.join("backup.json"))?;
    f.write_all(&serde_json::to_vec_pretty(&manifest)?)?;
    f.sync_all()?;
    Ok(manifest)
}

/// Copies the live database from one read transaction: `step(-1)` copies every page at once,
/// so the copy is one consistent snapshot, and in WAL mode writers are never blocked by it.
fn copy_database(src: &Path, dest: &Path) -> anyhow::Result<()> {
    let source = open_read_only(src)?;
    let mut target =
        Connection::open(dest).with_context(|| format!("cannot create {}", dest.display()))?;
    {
        let backup = rusqlite::backup::Backup::new(&source, &mut target)
            .context("starting the database backup")?;
        match backup.step(-1).context("copying the database")? {
            rusqlite::backup::StepResult::Done => {}
            other => bail!("copying the database stopped early ({other:?}); try again"),
        }
    }
    // One self-contained file: no -wal beside it. A hub opening it switches back to WAL.
    target
        .pragma_update_and_check(None, "journal_mode", "DELETE", |_| Ok(()))
        .context("finishing the database copy")?;
    target.close().map_err(|(_, e)| e)?;
    std::fs::File::open(dest)?.sync_all()?;
    Ok(())
}

fn open_read_only(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .with_context(|| format!("cannot open the database {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    Ok(conn)
}

#[derive(Default)]
struct BlobCopy {
    total: usize,
    from_previous: usize,
    linked: usize,
    copied: usize,
    bytes: u64,
}

fn is_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Every stored blob (`ab/cdef…`), skipping the store's `tmp/` and anything else.
fn stored_blobs(root: &Path) -> anyhow::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for fan in std::fs::read_dir(root).with_context(|| format!("reading {}", root.display()))? {
        let fan = fan?;
        let prefix = fan.file_name().to_string_lossy().into_owned();
        if prefix.len() != 2 || !is_hex(&prefix) || !fan.file_type()?.is_dir() {
            continue;
        }
        for blob in std::fs::read_dir(fan.path())? {
            let blob = blob?;
            let rest = blob.file_name().to_string_lossy().into_owned();
            if rest.len() == 62 && is_hex(&rest) && blob.file_type()?.is_file() {
                out.push((format!("{prefix}{rest}"), blob.path()));
            }
        }
    }
    out.sort();
    Ok(out)
}

fn copy_blobs(
    store: &Path,
    dest: &Path,
    previous: Option<PathBuf>,
    cancel: &AtomicBool,
) -> anyhow::Result<BlobCopy> {
    let mut n = BlobCopy::default();
    std::fs::create_dir_all(dest)?;
    for (sha, src) in stored_blobs(store)? {
        if cancel.load(Ordering::SeqCst) {
            bail!("the hub stopped during the backup");
        }
        let rel = Path::new(&sha[..2]).join(&sha[2..]);
        let target = dest.join(&rel);
        std::fs::create_dir_all(target.parent().expect("blob path has a parent"))?;
        n.total += 1;
        let size = match std::fs::metadata(&src) {
            Ok(m) => m.len(),
            // Removed since listed (an unused upload forgotten): nothing to keep.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                n.total -= 1;
                continue;
            }
            Err(e) => return Err(e).with_context(|| format!("reading {}", src.display())),
        };
        n.bytes += size;
        if let Some(prev) = &previous {
            let old = prev.join(&rel);
            if std::fs::metadata(&old).is_ok_and(|m| m.len() == size)
                && std::fs::hard_link(&old, &target).is_ok()
            {
                n.from_previous += 1;
                continue;
            }
        }
        if std::fs::hard_link(&src, &target).is_ok() {
            n.linked += 1;
            continue;
        }
        match copy_checked(&src, &target, &sha) {
            Ok(()) => n.copied += 1,
            Err(e) if src.exists() => return Err(e),
            Err(_) => n.total -= 1,
        }
    }
    Ok(n)
}

/// Copies a blob, hashing as it goes; refuses one whose content does not match its name.
fn copy_checked(src: &Path, dest: &Path, sha: &str) -> anyhow::Result<()> {
    let mut input =
        std::fs::File::open(src).with_context(|| format!("reading {}", src.display()))?;
    let mut out =
        std::fs::File::create(dest).with_context(|| format!("writing {}", dest.display()))?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        let n = input.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        out.write_all(&buf[..n])?;
    }
    out.sync_all()?;
    if hex::encode(hasher.finalize()) != sha {
        bail!(
            "the stored file {} is damaged: its content no longer matches its name",
            src.display()
        );
    }
    Ok(())
}

/// Copies a folder's regular files (the published site); returns how many.
fn copy_tree(src: &Path, dest: &Path, cancel: &AtomicBool) -> anyhow::Result<usize> {
    std::fs::create_dir_all(dest)?;
    let entries = match std::fs::read_dir(src) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e).with_context(|| format!("reading {}", src.display())),
    };
    let mut n = 0;
    for entry in entries {
        if cancel.load(Ordering::SeqCst) {
            bail!("the hub stopped during the backup");
        }
        let entry = entry?;
        let kind = entry.file_type()?;
        let to = dest.join(entry.file_name());
        if kind.is_dir() {
            n += copy_tree(&entry.path(), &to, cancel)?;
        } else if kind.is_file() {
            match std::fs::copy(entry.path(), &to) {
                Ok(_) => n += 1,
                // Replaced or removed by a publication since listed.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("copying {}", entry.path().display()));
                }
            }
        }
    }
    Ok(n)
}

/// Checks a backup folder (or a data directory): the database's integrity, its audit chain,
/// and that every blob an attachment references is there.
pub fn verify_backup(path: &Path) -> anyhow::Result<BackupCheck> {
    let db_path = path.join("warta.db");
    if !db_path.is_file() {
        bail!("{} holds no warta.db", path.display());
    }
    let db = open_read_only(&db_path)?;
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .context("checking the database's integrity")?;
    if integrity != "ok" {
        bail!("the database in {} is damaged: {integrity}", path.display());
    }
    let report = audit::verify(&db).context("verifying the audit log")?;
    if !report.intact {
        bail!(
            "the audit log in {} is broken at entry {}: {}",
            path.display(),
            report.first_bad.unwrap_or_default(),
            report.problem.unwrap_or_default()
        );
    }
    let shas: Vec<String> = crate::db::all(
        &db,
        "SELECT sha256 FROM attachments WHERE original_kept
         UNION SELECT web_sha256 FROM attachments WHERE web_sha256 IS NOT NULL
         UNION SELECT thumb_sha256 FROM attachments WHERE thumb_sha256 IS NOT NULL
         UNION SELECT web_copy_sha256 FROM attachments
               WHERE web_copy = 'ready' AND web_copy_sha256 IS NOT NULL",
        [],
        |r| r.get(0),
    )?;
    let blobs = path.join("blobs");
    for sha in &shas {
        let ok = sha.len() == 64 && is_hex(sha) && blobs.join(&sha[..2]).join(&sha[2..]).is_file();
        if !ok {
            bail!(
                "the file {sha} an attachment needs is missing from {}",
                blobs.display()
            );
        }
    }
    Ok(BackupCheck {
        audit_entries: report.entries,
        referenced_blobs: shas.len(),
    })
}

fn audit_head(db: &Connection) -> anyhow::Result<(i64, String)> {
    Ok(db
        .query_row(
            "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .unwrap_or((0, audit::GENESIS.to_string())))
}

fn check_history_kept(db: &Connection, previous: &Manifest) -> anyhow::Result<()> {
    if previous.audit_head_seq == 0 {
        return Ok(());
    }
    let hash: Option<String> = db
        .query_row(
            "SELECT hash FROM audit WHERE seq = ?1",
            [previous.audit_head_seq],
            |r| r.get(0),
        )
        .optional()?;
    if hash.as_deref() != Some(previous.audit_head_hash.as_str()) {
        bail!(
            "the audit log no longer holds entry {} as the backup {} recorded it: \
             history was cut short or rewritten since then",
            previous.audit_head_seq,
            previous.name
        );
    }
    Ok(())
}

/// Reads a backup's `backup.json`.
pub fn read_manifest(path: &Path) -> anyhow::Result<Manifest> {
    let bytes = std::fs::read(path.join("backup.json"))
        .with_context(|| format!("{} has no backup.json", path.display()))?;
    Ok(serde_json::from_slice(&bytes)?)
}

/// A complete backup in a backup folder.
#[derive(Debug, Clone, PartialEq)]
pub struct BackupEntry {
    pub name: String,
    pub path: PathBuf,
    pub made_at: DateTime<Utc>,
    seq: u32,
}

const STAMP: &str = "%Y%m%dT%H%M%SZ";

fn parse_name(name: &str) -> Option<(DateTime<Utc>, u32)> {
    let (stamp, seq) = match name.split_once('-') {
        Some((s, n)) => (s, n.parse().ok().filter(|n| *n >= 2)?),
        None => (name, 1),
    };
    let t = NaiveDateTime::parse_from_str(stamp, STAMP).ok()?;
    Some((t.and_utc(), seq))
}

fn free_name(dir: &Path, at: DateTime<Utc>) -> String {
    let stamp = at.format(STAMP).to_string();
    let taken = |n: &str| dir.join(n).exists() || dir.join(format!(".partial-{n}")).exists();
    if !taken(&stamp) {
        return stamp;
    }
    (2u32..)
        .map(|i| format!("{stamp}-{i}"))
        .find(|n| !taken(n))
        .expect("some suffix is free")
}

/// The complete backups in `dir`, oldest first.
pub fn list_backups(dir: &Path) -> anyhow::Result<Vec<BackupEntry>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some((made_at, seq)) = parse_name(&name)
            && entry.file_type()?.is_dir()
        {
            out.push(BackupEntry {
                name,
                path: entry.path(),
                made_at,
                seq,
            });
        }
    }
    out.sort_by_key(|b| (b.made_at, b.seq));
    Ok(out)
}

fn remove_stale_partials(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(".partial-") {
            tracing::warn!(
                "removing {}, left by a backup that did not finish",
                entry.path().display()
            );
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

fn sync_dir(dir: &Path) {
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
}

/// Removes the backups neither rule keeps: beyond the `keep` most recent, and older than
/// `keep_days` (a backup either rule keeps stays; with no rule, everything stays). The newest
/// backup is never removed. Returns the names removed, oldest first.
pub fn prune(
    dir: &Path,
    keep: Option<usize>,
    keep_days: Option<u32>,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<String>> {
    if keep.is_none() && keep_days.is_none() {
        return Ok(Vec::new());
    }
    let all = list_backups(dir)?;
    let n = all.len();
    let mut removed = Vec::new();
    for (i, b) in all.into_iter().enumerate() {
        let newest_rank = n - 1 - i; // 0 for the newest
        let kept_by_count = keep.is_some_and(|k| newest_rank < k.max(1));
        let kept_by_age =
            keep_days.is_some_and(|d| now - b.made_at < chrono::Duration::days(i64::from(d)));
        if newest_rank == 0 || kept_by_count || kept_by_age {
            continue;
        }
        std::fs::remove_dir_all(&b.path)
            .with_context(|| format!("removing the old backup {}", b.path.display()))?;
        removed.push(b.name);
    }
    Ok(removed)
}

/// Makes a backup and then applies the policy's retention, auditing what it removed.
pub fn run_policy(
    office: &Office,
    policy: &BackupPolicy,
    cancel: &AtomicBool,
) -> anyhow::Result<BackupMade> {
    let made = make_backup_unless(office, &policy.dir, cancel)?;
    let removed = prune(&policy.dir, policy.keep, policy.keep_days, office.now())?;
    if !removed.is_empty() {
        let mut conn = office.db();
        let tx = conn.savepoint()?;
        audit::append(
            &tx,
            office.now(),
            &Actor::system(),
            "backup.pruned",
            None,
            json!({ "dir": policy.dir.display().to_string(), "removed": removed }),
        )?;
        tx.commit()?;
    }
    Ok(made)
}

/// Copies a backup into a new data directory, after checking it. Refuses a `data` folder
/// that exists and is not empty, so a restore can never overwrite an office.
pub fn restore(from: &Path, data: &Path) -> anyhow::Result<BackupCheck> {
    let check = verify_backup(from)
        .with_context(|| format!("{} is not a usable backup", from.display()))?;
    if let Ok(mut entries) = std::fs::read_dir(data)
        && entries.next().is_some()
    {
        bail!(
            "{} is not empty; restore into a new or empty folder (stop the hub and move the old data away first)",
            data.display()
        );
    }
    // Into an existing empty folder (one the service user owns, with its permissions), the
    // files are staged inside it and moved into place; otherwise a sibling folder is staged
    // and renamed. Either way a restore that fails half-way leaves no office-shaped folder.
    let in_place = data.is_dir();
    let stage_in = if in_place {
        data.to_path_buf()
    } else {
        let parent = data
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf();
        std::fs::create_dir_all(&parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
        parent
    };
    let staging = tempfile::Builder::new()
        .prefix(".warta-restore-")
        .tempdir_in(&stage_in)
        .with_context(|| format!("cannot write in {}", stage_in.display()))?;
    stage_restore(from, staging.path())?;
    if in_place {
        for part in [
            "warta.db",
            "blobs",
            "site",
            "guard",
            warta_secrets::SECRETS_FILE_NAME,
        ] {
            if part == warta_secrets::SECRETS_FILE_NAME && !staging.path().join(part).exists() {
                continue;
            }
            std::fs::rename(staging.path().join(part), data.join(part)).with_context(|| {
                format!("cannot move the restored {part} into {}", data.display())
            })?;
        }
    } else {
        let staged = staging.keep();
        std::fs::rename(&staged, data).map_err(|e| {
            let _ = std::fs::remove_dir_all(&staged);
            anyhow!("cannot move the restored data to {}: {e}", data.display())
        })?;
    }
    sync_dir(data);
    Ok(check)
}

/// The encrypted secrets file (a hub with `secrets = "file"`), when there is one; copying keeps
/// its mode (0600). Its key is outside the data directory and never copied.
fn copy_secrets_file(from: &Path, to: &Path) -> anyhow::Result<()> {
    let src = from.join(warta_secrets::SECRETS_FILE_NAME);
    if !src.is_file() {
        return Ok(());
    }
    let dest = to.join(warta_secrets::SECRETS_FILE_NAME);
    std::fs::copy(&src, &dest).with_context(|| format!("copying {}", src.display()))?;
    std::fs::File::open(&dest)?.sync_all()?;
    Ok(())
}

fn stage_restore(from: &Path, staging: &Path) -> anyhow::Result<()> {
    std::fs::copy(from.join("warta.db"), staging.join("warta.db"))?;
    std::fs::File::open(staging.join("warta.db"))?.sync_all()?;
    copy_secrets_file(from, staging)?;
    let blobs = staging.join("blobs");
    std::fs::create_dir_all(blobs.join("tmp"))?;
    let from_blobs = from.join("blobs");
    let listed = if from_blobs.is_dir() {
        stored_blobs(&from_blobs)?
    } else {
        Vec::new()
    };
    for (sha, src) in listed {
        let target = blobs.join(&sha[..2]).join(&sha[2..]);
        std::fs::create_dir_all(target.parent().expect("blob path has a parent"))?;
        if std::fs::hard_link(&src, &target).is_err() {
            copy_checked(&src, &target, &sha)?;
        }
    }
    copy_tree(
        &from.join("site"),
        &staging.join("site"),
        &AtomicBool::new(false),
    )?;
    copy_tree(
        &from.join("guard"),
        &staging.join("guard"),
        &AtomicBool::new(false),
    )?;
    Ok(())
}

/// How long after a failed backup the next attempt is made (or `every`, when shorter).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(15 * 60);

/// Time until the first backup of a hub that just started.
fn first_wait(policy: &BackupPolicy, now: DateTime<Utc>) -> Duration {
    let newest = list_backups(&policy.dir).ok().and_then(|mut b| b.pop());
    match newest {
        None => Duration::ZERO,
        Some(b) => {
            let due = b.made_at + chrono::Duration::from_std(policy.every).unwrap_or_default();
            (due - now)
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(policy.every)
        }
    }
}

fn policy_every<T, E>(done: &Result<anyhow::Result<T>, E>, every: Duration) -> Duration {
    match done {
        Ok(Ok(_)) => every,
        _ => every.min(RETRY_AFTER_FAILURE),
    }
}

/// The backup schedule of a running hub.
pub(crate) struct Scheduler {
    cancel: Arc<AtomicBool>,
    stop: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Scheduler {
    pub(crate) fn start(office: Arc<Office>, policy: BackupPolicy) -> Scheduler {
        let cancel = Arc::new(AtomicBool::new(false));
        let (stop, mut stopped) = tokio::sync::watch::channel(false);
        let flag = cancel.clone();
        let policy_copy_every = policy.every;
        let task = tokio::spawn(async move {
            tracing::info!(
                dir = %policy.dir.display(),
                every = ?policy.every,
                "backups scheduled"
            );
            // A restart does not reset the schedule: the next backup is due `every` after the
            // newest one in the folder (at once when there is none, so a folder the hub cannot
            // write is reported at start, not hours later).
            let mut wait = first_wait(&policy, office.now());
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = stopped.changed() => return,
                }
                let (office, policy, flag) = (office.clone(), policy.clone(), flag.clone());
                let done =
                    tokio::task::spawn_blocking(move || run_policy(&office, &policy, &flag)).await;
                wait = policy_every(&done, policy_copy_every);
                match done {
                    Ok(Ok(made)) => tracing::info!(
                        path = %made.path.display(),
                        blobs = made.manifest.blobs,
                        copied = made.manifest.blobs_copied,
                        "backup made"
                    ),
                    Ok(Err(e)) => tracing::error!(
                        retry_in = ?wait,
                        "backup failed: {e:#}"
                    ),
                    Err(e) => tracing::error!("backup failed: {e}"),
                }
            }
        });
        Scheduler { cancel, stop, task }
    }

    /// Abandons a backup in progress and stops scheduling more.
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
    fn names_sort_by_time_then_suffix() {
        let dir = tempfile::tempdir().unwrap();
        for n in [
            "20261124T060000Z-10",
            "20261124T060000Z",
            "20261124T060000Z-2",
            "20261123T235959Z",
            "not-a-backup",
            "20261124T060000Z-1",
        ] {
            std::fs::create_dir(dir.path().join(n)).unwrap();
        }
        let names: Vec<String> = list_backups(dir.path())
            .unwrap()
            .into_iter()
            .map(|b| b.name)
            .collect();
        assert_eq!(
            names,
            [
                "20261123T235959Z",
                "20261124T060000Z",
                "20261124T060000Z-2",
                "20261124T060000Z-10"
            ]
        );
        let at = parse_name("20261124T060000Z").unwrap().0;
        assert_eq!(free_name(dir.path(), at), "20261124T060000Z-3");
    }
}
