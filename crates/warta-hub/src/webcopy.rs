//! Web copies of videos: a web-size MP4 (H.264/AAC, at most the office's
//! `video_web_height`) made by `ffmpeg` after a video is attached, when the office's media
//! settings ask for it.
//!
//! The copy is never made in the request: attaching marks the attachment `pending` and
//! rings this worker, one thread that makes one copy at a time (a transcode keeps a core
//! busy for about the length of the video). The copy is stored content-addressed like every
//! blob and becomes the attachment's `web_copy` variant, which publishing sends instead of
//! the original. Success and failure are audited (`attachment.web_copy`,
//! `attachment.web_copy_failed`), so the change feed announces them.
//!
//! A pending copy survives a restart: the worker starts with the hub and takes every
//! pending row, oldest first. Each start of a copy is counted on the row
//! (`web_copy_attempts`) before ffmpeg runs; a row started [`MAX_ATTEMPTS`] times without
//! finishing (the hub killed each time, perhaps by the video itself) is marked failed
//! instead of being tried forever. A failure of ffmpeg is final at once: the same video
//! would fail the same way. A shutdown stops ffmpeg and leaves the row pending, its
//! attempt not counted.

use crate::db::Cached as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, Weak};
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde_json::json;

use crate::audit::{self, Actor};
use crate::error::HubResult;
use crate::office::Office;

/// What a web copy is.
pub const WEB_COPY_MIME: &str = "video/mp4";

/// Starts of one copy after which it is given up (each start that did not finish means the
/// hub stopped while making it).
pub const MAX_ATTEMPTS: i64 = 3;

/// How often the worker looks for pending copies without being rung (another process, such
/// as the `warta` CLI, may have attached a video).
const POLL: Duration = Duration::from_secs(30);

/// The worker's bell and stop flag.
#[derive(Default)]
pub(crate) struct WebCopyQueue {
    bell: Mutex<bool>,
    rung: Condvar,
    stop: AtomicBool,
}

impl WebCopyQueue {
    /// Wakes the worker: a copy may be pending.
    pub(crate) fn ring(&self) {
        *self.bell.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.rung.notify_all();
    }

    fn wait(&self, timeout: Duration) {
        let mut rung = self.bell.lock().unwrap_or_else(|e| e.into_inner());
        if !*rung {
            rung = self
                .rung
                .wait_timeout(rung, timeout)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        *rung = false;
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// The published name of a video's web copy: the attachment's name with `.mp4`.
pub fn web_copy_filename(filename: &str) -> String {
    let stem = match filename.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => filename,
    };
    format!("{stem}.mp4")
}

/// One pending copy, as the worker takes it.
struct Pending {
    id: i64,
    item_id: i64,
    sha256: String,
    attempts: i64,
}

/// How one attempt ended.
enum Outcome {
    Ready {
        sha256: String,
        size: u64,
        width: Option<u32>,
        height: Option<u32>,
    },
    Failed(String),
    /// The hub is shutting down: the row stays pending.
    Stopped,
}

impl Office {
    /// Starts the web-copy worker; it holds only a weak reference and ends with the hub.
    /// Copies left pending by a previous run are made first.
    pub fn start_web_copies(self: &Arc<Self>) -> std::thread::JoinHandle<()> {
        let weak: Weak<Office> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("warta-webcopy".into())
            .spawn(move || {
                loop {
                    let Some(office) = weak.upgrade() else { return };
                    if office.web_copies.stopped() {
                        return;
                    }
                    let worked = match office.make_next_web_copy() {
                        Ok(worked) => worked,
                        Err(e) => {
                            tracing::error!("web copies of videos: {e}");
                            false
                        }
                    };
                    let queue = Arc::clone(&office.web_copies);
                    drop(office);
                    if !worked {
                        queue.wait(POLL);
                    }
                }
            })
            .expect("spawning the web-copy thread")
    }

    /// Stops the web-copy worker, and ffmpeg if it is making a copy (the copy stays pending).
    pub fn stop_web_copies(&self) {
        self.web_copies.stop.store(true, Ordering::SeqCst);
        self.web_copies.ring();
    }

    /// Makes the oldest pending web copy, if any; returns whether there was one. Used by the
    /// worker; tests may call it directly.
    pub fn make_next_web_copy(&self) -> HubResult<bool> {
        let Some(p) = self.next_pending_web_copy()? else {
            return Ok(false);
        };
        let outcome = if p.attempts >= MAX_ATTEMPTS {
            Outcome::Failed(format!(
                "making the web copy was started {} times and never finished (the hub stopped \
                 each time), so it is not tried again",
                p.attempts
            ))
        } else {
            self.count_web_copy_attempt(p.id)?;
            self.transcode(&p)
        };
        self.record_web_copy(&p, outcome)?;
        Ok(true)
    }

    fn next_pending_web_copy(&self) -> HubResult<Option<Pending>> {
        Ok(self
            .db()
            .row(
                "SELECT id, item_id, sha256, web_copy_attempts FROM attachments
                 WHERE web_copy = 'pending' ORDER BY id LIMIT 1",
                [],
                |r| {
                    Ok(Pending {
                        id: r.get(0)?,
                        item_id: r.get(1)?,
                        sha256: r.get(2)?,
                        attempts: r.get(3)?,
                    })
                },
            )
            .optional()?)
    }

    /// Counted before ffmpeg starts, so a hub killed while making the copy has counted it.
    /// Bookkeeping of the worker, not a change anyone sees: not audited.
    fn count_web_copy_attempt(&self, id: i64) -> HubResult<()> {
        self.db().exec(
            "UPDATE attachments SET web_copy_attempts = web_copy_attempts + 1 WHERE id = ?1",
            [id],
        )?;
        Ok(())
    }

    /// Runs ffmpeg over the stored video and takes the result into the blob store.
    fn transcode(&self, p: &Pending) -> Outcome {
        let result = (|| -> Result<Outcome, warta_media::MediaError> {
            let height = self
                .media_settings()
                .map_or(warta_api::default_video_web_height(), |s| {
                    s.video_web_height
                });
            let Some(source) = self.blobs.path_of(&p.sha256).filter(|p| p.is_file()) else {
                return Ok(Outcome::Failed(
                    "the original video is missing from the file store".into(),
                ));
            };
            let scratch = self.blobs.scratch_dir()?;
            let out = scratch.path().join("web.mp4");
            warta_media::transcode_web_until(&source, &out, height, &self.web_copies.stop)?;
            // The copy is checked like any video: ffmpeg saying it succeeded is not enough.
            let info = warta_media::probe_video(&out)?;
            if info.container != warta_media::Container::Mp4 || info.video_codec.is_none() {
                return Ok(Outcome::Failed(
                    "ffmpeg did not write a playable MP4 video".into(),
                ));
            }
            let blob = self.blobs.put_file(&out)?;
            Ok(Outcome::Ready {
                sha256: blob.sha256,
                size: blob.size,
                width: info.width,
                height: info.height,
            })
        })();
        match result {
            Ok(o) => o,
            Err(warta_media::MediaError::Stopped) => Outcome::Stopped,
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }

    /// Writes how the attempt ended, with its audit entry, in one transaction.
    fn record_web_copy(&self, p: &Pending, outcome: Outcome) -> HubResult<()> {
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        match &outcome {
            Outcome::Stopped => {
                tx.exec(
                    "UPDATE attachments SET web_copy_attempts = max(web_copy_attempts - 1, 0)
                     WHERE id = ?1",
                    [p.id],
                )?;
            }
            Outcome::Ready {
                sha256,
                size,
                width,
                height,
            } => {
                let changed = tx.exec(
                    "UPDATE attachments SET web_copy = 'ready', web_copy_sha256 = ?2,
                         web_copy_size = ?3, web_copy_height = ?4, web_copy_error = NULL
                     WHERE id = ?1 AND web_copy = 'pending'",
                    params![p.id, sha256, *size as i64, height],
                )?;
                if changed == 1 {
                    audit::append(
                        &tx,
                        now,
                        &Actor::system(),
                        "attachment.web_copy",
                        Some(p.item_id),
                        json!({ "attachment": p.id, "sha256": sha256, "size": size,
                                "width": width, "height": height }),
                    )?;
                }
            }
            Outcome::Failed(reason) => {
                let changed = tx.exec(
                    "UPDATE attachments SET web_copy = 'failed', web_copy_error = ?2
                     WHERE id = ?1 AND web_copy = 'pending'",
                    params![p.id, reason],
                )?;
                if changed == 1 {
                    audit::append(
                        &tx,
                        now,
                        &Actor::system(),
                        "attachment.web_copy_failed",
                        Some(p.item_id),
                        json!({ "attachment": p.id, "reason": reason }),
                    )?;
                }
                tracing::warn!(attachment = p.id, "web copy of a video failed: {reason}");
            }
        }
        tx.commit()?;
        drop(conn);
        if let Outcome::Ready { sha256, .. } = &outcome {
            tracing::info!(attachment = p.id, "web copy of a video made");
            // Had the row stopped being pending meanwhile, the copy would be no one's.
            self.forget_blob_if_unused(sha256);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_copies_are_named_mp4() {
        assert_eq!(web_copy_filename("banjir.MOV"), "banjir.mp4");
        assert_eq!(web_copy_filename("rapat.final.mkv"), "rapat.final.mp4");
        assert_eq!(web_copy_filename("video"), "video.mp4");
        assert_eq!(web_copy_filename(".hidden"), ".hidden.mp4");
    }
}
