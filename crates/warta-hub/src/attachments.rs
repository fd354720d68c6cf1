//! Attachments: upload (original, or renditions the client already made), renditions and
//! previews, who may see originals, signed URLs, and what publishing copies.

use crate::db::Cached as _;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;
use warta_api as api;
use warta_api::Role;
use warta_media::StoredBlob;

use crate::audit;
use crate::error::{HubError, HubResult};
use crate::media::{self, Derived, Stored};
use crate::office::{Caller, Office};
use crate::publish::SiteAttachment;

/// Which file of an attachment a request wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    /// The web rendition of a photo; the file itself for documents and videos.
    Display,
    /// Thumbnail, PDF first page, or video poster.
    Thumb,
    /// The untouched original (for photos: editors and above only).
    Original,
    /// A video's web-size MP4 copy, once made (see `webcopy.rs`).
    WebCopy,
}

impl Variant {
    pub fn parse(s: &str) -> HubResult<Variant> {
        match s {
            "" | "display" | "web" => Ok(Variant::Display),
            "thumb" => Ok(Variant::Thumb),
            "original" => Ok(Variant::Original),
            "web_copy" => Ok(Variant::WebCopy),
            other => Err(HubError::validation(
                "variant",
                format!("unknown variant \"{other}\" (use display, thumb, original or web_copy)"),
            )),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Variant::Display => "display",
            Variant::Thumb => "thumb",
            Variant::Original => "original",
            Variant::WebCopy => "web_copy",
        }
    }
}

/// One row of `attachments`.
struct Row {
    id: i64,
    item_id: i64,
    filename: String,
    mime: String,
    kind: String,
    size: i64,
    sha256: String,
    uploaded_by: String,
    uploaded_at: DateTime<Utc>,
    web_sha256: Option<String>,
    web_mime: Option<String>,
    thumb_sha256: Option<String>,
    thumb_mime: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
    pages: Option<u32>,
    duration_ms: Option<i64>,
    codecs: Option<String>,
    original_kept: bool,
    note: Option<String>,
    similar_to: Option<i64>,
    similar_distance: Option<u32>,
    alt_text: String,
    caption: String,
    web_copy: Option<String>,
    web_copy_sha256: Option<String>,
    web_copy_size: Option<i64>,
    web_copy_height: Option<u32>,
    web_copy_error: Option<String>,
}

const COLS: &str = "a.id, a.item_id, a.filename, a.mime, a.kind, a.size, a.sha256, u.display_name, a.uploaded_at, \
     a.web_sha256, a.web_mime, a.thumb_sha256, a.thumb_mime, a.width, a.height, a.pages, a.duration_ms, \
     a.codecs, a.original_kept, a.note, a.similar_to, a.similar_distance, a.alt_text, a.caption, \
     a.web_copy, a.web_copy_sha256, a.web_copy_size, a.web_copy_height, a.web_copy_error";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    Ok(Row {
        id: r.get(0)?,
        item_id: r.get(1)?,
        filename: r.get(2)?,
        mime: r.get(3)?,
        kind: r.get(4)?,
        size: r.get(5)?,
        sha256: r.get(6)?,
        uploaded_by: r.get(7)?,
        uploaded_at: r.get(8)?,
        web_sha256: r.get(9)?,
        web_mime: r.get(10)?,
        thumb_sha256: r.get(11)?,
        thumb_mime: r.get(12)?,
        width: r.get(13)?,
        height: r.get(14)?,
        pages: r.get(15)?,
        duration_ms: r.get(16)?,
        codecs: r.get(17)?,
        original_kept: r.get(18)?,
        note: r.get(19)?,
        similar_to: r.get(20)?,
        similar_distance: r.get(21)?,
        alt_text: r.get(22)?,
        caption: r.get(23)?,
        web_copy: r.get(24)?,
        web_copy_sha256: r.get(25)?,
        web_copy_size: r.get(26)?,
        web_copy_height: r.get(27)?,
        web_copy_error: r.get(28)?,
    })
}

fn load(conn: &Connection, id: i64) -> HubResult<Row> {
    conn.row(
        &format!(
            "SELECT {COLS} FROM attachments a JOIN users u ON u.id = a.uploaded_by WHERE a.id = ?1"
        ),
        [id],
        row,
    )
    .optional()?
    .ok_or(HubError::NotFound("attachment"))
}

/// Editors, officials, publishers and admins may see the originals of photos.
fn sees_originals(caller: &Caller) -> bool {
    [Role::Editor, Role::Official, Role::Publisher, Role::Admin]
        .iter()
        .any(|r| caller.has(*r))
}

impl Row {
    /// (sha256, mime) of the file a variant names, if there is one.
    fn file(&self, v: Variant) -> Option<(&str, &str)> {
        match v {
            Variant::Display => match (&self.web_sha256, &self.web_mime) {
                (Some(s), Some(m)) => Some((s, m)),
                _ if self.original_kept => Some((&self.sha256, &self.mime)),
                _ => None,
            },
            Variant::Thumb => match (&self.thumb_sha256, &self.thumb_mime) {
                (Some(s), Some(m)) => Some((s, m)),
                _ => None,
            },
            Variant::Original => self.original_kept.then_some((&self.sha256, &self.mime)),
            Variant::WebCopy => match (self.web_copy.as_deref(), &self.web_copy_sha256) {
                (Some("ready"), Some(s)) => Some((s, crate::webcopy::WEB_COPY_MIME)),
                _ => None,
            },
        }
    }

    fn web_copy_state(&self) -> api::WebCopyState {
        match self.web_copy.as_deref() {
            Some("pending") => api::WebCopyState::Pending,
            Some("ready") => api::WebCopyState::Ready,
            Some("failed") => api::WebCopyState::Failed,
            _ => api::WebCopyState::None,
        }
    }

    /// Whether `caller` (who may already view the item) may fetch this variant.
    fn allows(&self, caller: Option<&Caller>, v: Variant) -> bool {
        match v {
            Variant::Original if self.kind == "photo" => caller.is_some_and(sees_originals),
            _ => true,
        }
    }
}

impl Office {
    /// Signature that lets one variant of an attachment be fetched without a bearer token,
    /// for as long as this hub process runs (the key is random per start).
    pub fn attachment_sig(&self, attachment_id: i64, variant: Variant) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(self.url_key);
        h.update(attachment_id.to_be_bytes());
        h.update(variant.as_str().as_bytes());
        hex::encode(h.finalize())
    }

    fn attachment_url(&self, attachment_id: i64, variant: Variant) -> String {
        format!(
            "{}/api/v1/attachments/{attachment_id}/signed/{}/{}",
            self.site_base.read().expect("site base"),
            variant.as_str(),
            self.attachment_sig(attachment_id, variant)
        )
    }

    pub(crate) fn blob_path(&self, sha: &str) -> HubResult<PathBuf> {
        self.blobs.path_of(sha).ok_or_else(|| {
            HubError::Internal(anyhow::anyhow!("stored digest {sha:?} is not a SHA-256"))
        })
    }

    fn to_dto(
        &self,
        conn: &Connection,
        r: &Row,
        caller: Option<&Caller>,
    ) -> HubResult<api::Attachment> {
        let similar_to = match (r.similar_to, r.similar_distance) {
            (Some(other), Some(distance)) => conn
                .row(
                    "SELECT a.id, a.item_id, i.title, a.filename FROM attachments a
                     JOIN items i ON i.id = a.item_id WHERE a.id = ?1",
                    [other],
                    |x| {
                        Ok(api::SimilarPhoto {
                            attachment_id: x.get(0)?,
                            item_id: x.get(1)?,
                            item_title: x.get(2)?,
                            filename: x.get(3)?,
                            distance,
                        })
                    },
                )
                .optional()?,
            _ => None,
        };
        let url_of = |v: Variant| {
            (r.file(v).is_some() && r.allows(caller, v)).then(|| self.attachment_url(r.id, v))
        };
        Ok(api::Attachment {
            id: r.id,
            filename: r.filename.clone(),
            mime: r.mime.clone(),
            kind: r.kind.clone(),
            size: r.size,
            sha256: r.sha256.clone(),
            uploaded_by: r.uploaded_by.clone(),
            uploaded_at: r.uploaded_at,
            url: url_of(Variant::Display).unwrap_or_default(),
            thumb_url: url_of(Variant::Thumb),
            original_url: url_of(Variant::Original),
            width: r.width,
            height: r.height,
            pages: r.pages,
            duration_ms: r.duration_ms.map(|d| d as u64),
            codecs: r.codecs.clone(),
            similar_to,
            note: r.note.clone(),
            alt_text: r.alt_text.clone(),
            caption: r.caption.clone(),
            web_copy: r.web_copy_state(),
            web_copy_url: url_of(Variant::WebCopy),
            web_copy_height: r
                .web_copy_height
                .filter(|_| r.file(Variant::WebCopy).is_some()),
            web_copy_size: r
                .web_copy_size
                .filter(|_| r.file(Variant::WebCopy).is_some())
                .map(|s| s as u64),
            web_copy_error: r.web_copy_error.clone(),
        })
    }

    pub(crate) fn attachments(
        &self,
        conn: &Connection,
        item_id: i64,
        caller: Option<&Caller>,
    ) -> HubResult<Vec<api::Attachment>> {
        let rows = crate::db::all(
            conn,
            &format!(
                "SELECT {COLS} FROM attachments a JOIN users u ON u.id = a.uploaded_by
             WHERE a.item_id = ?1 ORDER BY a.id"
            ),
            [item_id],
            row,
        )?;
        rows.iter().map(|r| self.to_dto(conn, r, caller)).collect()
    }

    /// What a page shows and publishing copies: web renditions of photos, web copies of videos
    /// (when made; the video itself otherwise), other files as they are.
    pub(crate) fn site_attachments(
        &self,
        conn: &Connection,
        item_id: i64,
        preview: bool,
    ) -> HubResult<Vec<SiteAttachment>> {
        let rows = crate::db::all(
            conn,
            &format!(
                "SELECT {COLS} FROM attachments a JOIN users u ON u.id = a.uploaded_by
             WHERE a.item_id = ?1 ORDER BY a.id"
            ),
            [item_id],
            row,
        )?;
        let mut out = Vec::new();
        for r in &rows {
            let variant = if r.file(Variant::WebCopy).is_some() {
                Variant::WebCopy
            } else {
                Variant::Display
            };
            let Some((sha, mime)) = r.file(variant) else {
                continue;
            };
            let filename = match variant {
                Variant::WebCopy => crate::webcopy::web_copy_filename(&r.filename),
                _ => r.filename.clone(),
            };
            out.push(SiteAttachment {
                path: self.blob_path(sha)?,
                sha256: sha.to_string(),
                mime: mime.to_string(),
                filename,
                preview_href: preview.then(|| self.attachment_url(r.id, variant)),
                meta: self.to_dto(conn, r, None)?,
            });
        }
        Ok(out)
    }

    // ------------------------------------------------------------ settings

    /// The office's media settings as stored (defaults until an admin changes them);
    /// `ffmpeg_available` is not looked up (see [`Self::media_settings_view`]).
    pub fn media_settings(&self) -> HubResult<api::MediaSettings> {
        if let Some(s) = self.media_memo.get() {
            return Ok(s);
        }
        self.media_memo.get_or_load(&self.db(), |conn| {
            media::load_settings(conn, self.config.max_attachment_bytes)
        })
    }

    /// The office's media settings as the admin sees them: with whether `ffmpeg` is
    /// installed now, and web copies of videos off while it is not.
    pub fn media_settings_view(&self) -> HubResult<api::MediaSettings> {
        let mut s = self.media_settings()?;
        s.ffmpeg_available = ffmpeg_available_lately();
        s.video_web_copy &= s.ffmpeg_available;
        Ok(s)
    }

    pub fn set_media_settings(
        &self,
        caller: &Caller,
        s: api::MediaSettings,
    ) -> HubResult<api::MediaSettings> {
        self.refuse_unless(
            caller,
            None,
            "settings.media",
            caller.require(Role::Admin, "changing media settings"),
        )?;
        let mut s = s;
        media::validate_settings(&s)?;
        let ffmpeg = ffmpeg_available_now();
        if s.video_web_copy && !ffmpeg {
            return Err(HubError::validation(
                "video_web_copy",
                "web copies of videos need ffmpeg, which is not installed on the hub's \
                 computer; install ffmpeg there, then turn this on",
            ));
        }
        // Looked up on every read, never stored.
        s.ffmpeg_available = false;
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        media::save_settings(&tx, &s)?;
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "settings.media",
            None,
            serde_json::to_value(&s).expect("json"),
        )?;
        tx.commit()?;
        if s.video_web_copy {
            self.web_copies.ring();
        }
        Ok(api::MediaSettings {
            ffmpeg_available: ffmpeg,
            ..s
        })
    }

    /// Sets a photo's alternative text and caption; whoever may edit the item may do it.
    pub fn set_attachment_text(
        &self,
        caller: &Caller,
        item_id: i64,
        attachment_id: i64,
        text: api::AttachmentText,
    ) -> HubResult<api::Attachment> {
        let result = (|| {
            let alt = text.alt_text.trim().to_string();
            let caption = text.caption.trim().to_string();
            if alt.chars().count() > 300 {
                return Err(HubError::validation(
                    "alt_text",
                    "alternative text is limited to 300 characters",
                ));
            }
            if caption.chars().count() > 1000 {
                return Err(HubError::validation(
                    "caption",
                    "a caption is limited to 1000 characters",
                ));
            }
            let now = self.now();
            let mut conn = self.db();
            let tx = conn.savepoint()?;
            let item = Self::viewable(&tx, caller, item_id)?;
            Self::check_edit(&tx, caller, &item)?;
            let r = load(&tx, attachment_id)?;
            if r.item_id != item_id {
                return Err(HubError::NotFound("attachment"));
            }
            tx.exec(
                "UPDATE attachments SET alt_text = ?2, caption = ?3 WHERE id = ?1",
                params![attachment_id, alt, caption],
            )?;
            audit::append(
                &tx,
                now,
                &caller.actor(),
                "attachment.text",
                Some(item_id),
                serde_json::json!({ "attachment": attachment_id, "alt_text": alt, "caption": caption }),
            )?;
            let r = load(&tx, attachment_id)?;
            let dto = self.to_dto(&tx, &r, Some(caller))?;
            tx.commit()?;
            Ok(dto)
        })();
        self.refuse_unless(caller, Some(item_id), "attachment.text", result)
    }

    // ------------------------------------------------------------ uploads

    /// Checked before an upload's bytes are read.
    pub fn check_can_attach(&self, caller: &Caller, id: i64) -> HubResult<()> {
        let result = (|| {
            let conn = self.db();
            let item = Self::load_item(&conn, id)?;
            Self::check_view(caller, &item)?;
            Self::check_edit(&conn, caller, &item)
        })();
        self.refuse_unless(caller, Some(id), "item.attach", result)
    }

    fn refuse_file(
        &self,
        caller: &Caller,
        id: i64,
        filename: &str,
        shas: &[&str],
        e: HubError,
    ) -> HubError {
        for sha in shas {
            self.forget_blob_if_unused(sha);
        }
        let now = self.now();
        let conn = self.db();
        let _ = audit::append(
            &conn,
            now,
            &caller.actor(),
            "refused",
            Some(id),
            json!({ "request": "item.attach", "filename": filename, "reason": e.to_string() }),
        );
        e
    }

    /// Records an uploaded original: detects its type from the bytes, makes renditions or
    /// previews, and refuses (leaving nothing behind) what cannot be used.
    pub fn record_attachment(
        &self,
        caller: &Caller,
        id: i64,
        filename: &str,
        blob: &StoredBlob,
    ) -> HubResult<api::Attachment> {
        let settings = self.media_settings()?;
        let path = self.blob_path(&blob.sha256)?;
        let detected = match warta_media::detect_file(&path, filename) {
            Ok(d) => d,
            Err(e) => {
                return Err(self.refuse_file(
                    caller,
                    id,
                    filename,
                    &[&blob.sha256],
                    crate::media_error(e),
                ));
            }
        };
        if detected.kind == warta_media::Kind::Document && blob.size > settings.max_document_bytes {
            let e = HubError::TooLarge {
                limit: settings.max_document_bytes,
            };
            return Err(self.refuse_file(caller, id, filename, &[&blob.sha256], e));
        }
        let derived = match media::derive(&self.blobs, &path, &detected, &settings) {
            Ok(d) => d,
            Err(e) => return Err(self.refuse_file(caller, id, filename, &[&blob.sha256], e)),
        };
        let keep_original = settings.keep_originals || detected.kind != warta_media::Kind::Photo;
        let mut derived = derived;
        // The copy is made in the background (webcopy.rs), never in this request.
        derived.web_copy_pending = detected.kind == warta_media::Kind::Video
            && settings.video_web_copy
            && warta_media::ffmpeg_available();
        let att = self.insert_attachment(
            caller,
            id,
            filename,
            &detected.mime,
            detected.kind.as_str(),
            blob.size,
            &blob.sha256,
            keep_original,
            &derived,
        )?;
        if !keep_original {
            self.forget_blob_if_unused(&blob.sha256);
        }
        if derived.web_copy_pending {
            self.web_copies.ring();
        }
        Ok(att)
    }

    #[allow(clippy::too_many_arguments)]
    fn insert_attachment(
        &self,
        caller: &Caller,
        id: i64,
        filename: &str,
        mime: &str,
        kind: &str,
        size: u64,
        sha256: &str,
        original_kept: bool,
        d: &Derived,
    ) -> HubResult<api::Attachment> {
        let now = self.now();
        let mut conn = self.db();
        let tx = conn.savepoint()?;
        let item = Self::load_item(&tx, id)?;
        Self::check_edit(&tx, caller, &item)?;
        let similar = match &d.phash {
            Some(p) => self.prints.find_similar(&tx, p)?,
            None => None,
        };
        let (web_sha, web_mime) = split(&d.web);
        let (thumb_sha, thumb_mime) = split(&d.thumb);
        tx.exec(
            "INSERT INTO attachments (item_id, filename, mime, kind, size, sha256, uploaded_by, uploaded_at,
                 web_sha256, web_mime, thumb_sha256, thumb_mime, width, height, pages, duration_ms, codecs,
                 phash, original_kept, note, similar_to, similar_distance, web_copy)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)",
            params![
                id,
                filename,
                mime,
                kind,
                size as i64,
                sha256,
                caller.id,
                now,
                web_sha,
                web_mime,
                thumb_sha,
                thumb_mime,
                d.width,
                d.height,
                d.pages,
                d.duration_ms.map(|x| x as i64),
                d.codecs,
                d.phash,
                original_kept,
                d.note,
                similar.map(|s| s.0),
                similar.map(|s| s.1),
                d.web_copy_pending.then_some("pending"),
            ],
        )?;
        let aid = tx.last_insert_rowid();
        // The uploader holds the file and what was made from it.
        for sha in [Some(sha256), web_sha, thumb_sha].into_iter().flatten() {
            grant_blob(&tx, sha, caller.id, now)?;
        }
        tx.exec(
            "UPDATE items SET updated_at = ?2 WHERE id = ?1",
            params![id, now],
        )?;
        audit::append(
            &tx,
            now,
            &caller.actor(),
            "item.attached",
            Some(id),
            json!({ "attachment_id": aid, "filename": filename, "sha256": sha256, "mime": mime,
                    "size": size, "web_sha256": web_sha, "thumb_sha256": thumb_sha,
                    "original_kept": original_kept, "similar_to": similar.map(|s| s.0),
                    "web_copy": d.web_copy_pending.then_some("pending") }),
        )?;
        let r = load(&tx, aid)?;
        let dto = self.to_dto(&tx, &r, Some(caller))?;
        tx.commit()?;
        if let Some(p) = &d.phash {
            self.prints.add(aid, p);
        }
        Ok(dto)
    }

    /// Who may upload blobs at all (before any bytes are read).
    pub fn check_can_upload_blob(&self, caller: &Caller) -> HubResult<()> {
        let result = if caller.has(Role::Reporter) || caller.has(Role::Editor) {
            Ok(())
        } else {
            Err(HubError::Forbidden(
                "uploading files needs the reporter or editor role".into(),
            ))
        };
        self.refuse_unless(caller, None, "blob.upload", result)
    }

    /// Accepts a blob uploaded under the digest the client claimed, if its bytes hash to it;
    /// the caller has then shown they hold those bytes (a grant).
    pub fn accept_blob(
        &self,
        caller: &Caller,
        claimed: &str,
        stored: &StoredBlob,
    ) -> HubResult<()> {
        if stored.sha256 != claimed {
            self.forget_blob_if_unused(&stored.sha256);
            return Err(HubError::validation(
                "sha256",
                format!(
                    "the uploaded bytes hash to {}, not to {claimed}; the upload was discarded",
                    stored.sha256
                ),
            ));
        }
        let now = self.now();
        let conn = self.db();
        grant_blob(&conn, &stored.sha256, caller.id, now)?;
        Ok(())
    }

    /// Whether the hub has the blob *for this caller*: stored, and the caller has shown they
    /// hold its bytes. Someone else's blob answers "no", so the client uploads it (proving it
    /// has the bytes) instead of attaching a file it only knows the digest of.
    pub fn blob_exists(&self, caller: &Caller, sha: &str) -> HubResult<bool> {
        self.check_can_upload_blob(caller)?;
        Ok(self.blobs.exists(sha) && self.holds_blob(caller, sha)?)
    }

    /// Whether the caller has shown they hold blob `sha` (uploaded it, or attached its file).
    pub fn holds_blob(&self, caller: &Caller, sha: &str) -> HubResult<bool> {
        Ok(self.db().row(
            "SELECT count(*) > 0 FROM blob_grants WHERE sha256 = ?1 AND user_id = ?2",
            params![sha, caller.id],
            |r| r.get(0),
        )?)
    }

    /// Records a photo whose renditions the client made; checks each rendition first.
    pub fn record_prepared_photo(
        &self,
        caller: &Caller,
        id: i64,
        p: api::PreparedPhoto,
    ) -> HubResult<api::Attachment> {
        self.check_can_attach(caller, id)?;
        let filename = warta_media::validate_filename(&p.filename).map_err(crate::media_error)?;
        let settings = self.media_settings()?;
        let mut digests = vec![p.web_sha256.as_str(), p.thumb_sha256.as_str()];
        if p.original_sent {
            digests.push(&p.original_sha256);
        }
        for sha in digests {
            if !self.holds_blob(caller, sha)? {
                return Err(HubError::MissingBlob(format!(
                    "{sha} was not uploaded by you; upload it with PUT /blobs/{sha} first"
                )));
            }
        }
        let read = |sha: &str, what: &str| -> HubResult<Vec<u8>> {
            let path = self
                .blobs
                .path_of(sha)
                .filter(|p| p.is_file())
                .ok_or_else(|| {
                    HubError::MissingBlob(format!("the {what} ({sha}) was not uploaded"))
                })?;
            std::fs::read(path).map_err(|e| HubError::Internal(e.into()))
        };
        let check = || -> HubResult<(Derived, String)> {
            let web = read(&p.web_sha256, "web rendition")?;
            let thumb = read(&p.thumb_sha256, "thumbnail")?;
            let (w, h, web_mime) = media::check_client_rendition(&web, settings.web_max, "web")?;
            let (tw, th, thumb_mime) =
                media::check_client_rendition(&thumb, settings.thumb_max, "thumbnail")?;
            if p.phash.len() != 16 || u64::from_str_radix(&p.phash, 16).is_err() {
                return Err(HubError::validation(
                    "phash",
                    "the perceptual hash must be 16 hex digits",
                ));
            }
            let mut mime = web_mime.to_string();
            if p.original_sent {
                let path = self
                    .blobs
                    .path_of(&p.original_sha256)
                    .filter(|p| p.is_file())
                    .ok_or_else(|| {
                        HubError::MissingBlob(format!(
                            "the original ({}) was not uploaded",
                            p.original_sha256
                        ))
                    })?;
                let detected =
                    warta_media::detect_file(&path, &filename).map_err(crate::media_error)?;
                if detected.kind != warta_media::Kind::Photo {
                    return Err(HubError::RefusedType(format!(
                        "\"{filename}\" is {}, not a photo",
                        detected.mime
                    )));
                }
                mime = detected.mime;
            }
            Ok((
                Derived {
                    web: Some(Stored {
                        sha256: p.web_sha256.clone(),
                        mime: web_mime.into(),
                        width: Some(w),
                        height: Some(h),
                    }),
                    thumb: Some(Stored {
                        sha256: p.thumb_sha256.clone(),
                        mime: thumb_mime.into(),
                        width: Some(tw),
                        height: Some(th),
                    }),
                    width: Some(w),
                    height: Some(h),
                    phash: Some(p.phash.to_ascii_lowercase()),
                    ..Derived::default()
                },
                mime,
            ))
        };
        let (derived, mime) = match check() {
            Ok(x) => x,
            Err(e @ HubError::MissingBlob(_)) => return Err(e),
            Err(e) => {
                let mut shas = vec![p.web_sha256.as_str(), p.thumb_sha256.as_str()];
                if p.original_sent {
                    shas.push(&p.original_sha256);
                }
                return Err(self.refuse_file(caller, id, &filename, &shas, e));
            }
        };
        let keep = p.original_sent && settings.keep_originals;
        let att = self.insert_attachment(
            caller,
            id,
            &filename,
            &mime,
            "photo",
            p.original_size,
            &p.original_sha256,
            keep,
            &derived,
        )?;
        if p.original_sent && !keep {
            self.forget_blob_if_unused(&p.original_sha256);
        }
        Ok(att)
    }

    pub(crate) fn forget_blob_if_unused(&self, sha: &str) {
        let used: bool = self
            .db()
            .row(
                "SELECT count(*) > 0 FROM attachments WHERE (sha256 = ?1 AND original_kept)
                     OR web_sha256 = ?1 OR thumb_sha256 = ?1 OR web_copy_sha256 = ?1",
                [sha],
                |r| r.get(0),
            )
            .unwrap_or(true);
        if !used && let Some(p) = self.blobs.path_of(sha) {
            let _ = std::fs::remove_file(p);
        }
    }

    // ------------------------------------------------------------ downloads

    /// A variant's file for a signed-in caller: (path, mime, filename).
    pub fn attachment_file(
        &self,
        caller: &Caller,
        attachment_id: i64,
        variant: Variant,
    ) -> HubResult<(PathBuf, String, String)> {
        let mut item_id = None;
        let result = (|| {
            let conn = self.db();
            let r = load(&conn, attachment_id)?;
            let item = Self::load_item(&conn, r.item_id)?;
            Self::check_view(caller, &item)?;
            item_id = Some(item.id);
            if !r.allows(Some(caller), variant) {
                return Err(HubError::Forbidden(
                    "originals of photos are for editors and above".into(),
                ));
            }
            let (sha, mime) = r.file(variant).ok_or(HubError::NotFound("file"))?;
            Ok((self.blob_path(sha)?, mime.to_string(), r.filename.clone()))
        })();
        // A refused original is audited like every other refusal (the lock is released first).
        self.refuse_unless(caller, item_id, "attachment.download", result)
    }

    /// A variant's file reached through its signed URL.
    pub fn signed_attachment_file(
        &self,
        attachment_id: i64,
        variant: Variant,
        sig: &str,
    ) -> HubResult<(PathBuf, String, String)> {
        if sig.len() != 64 || sig != self.attachment_sig(attachment_id, variant) {
            return Err(HubError::NotFound("attachment"));
        }
        let conn = self.db();
        let r = load(&conn, attachment_id)?;
        let (sha, mime) = r.file(variant).ok_or(HubError::NotFound("file"))?;
        Ok((self.blob_path(sha)?, mime.to_string(), r.filename.clone()))
    }
}

fn split(s: &Option<Stored>) -> (Option<&str>, Option<&str>) {
    match s {
        Some(s) => (Some(s.sha256.as_str()), Some(s.mime.as_str())),
        None => (None, None),
    }
}

/// How long a look for `ffmpeg` is trusted when reading the media settings.
const FFMPEG_LOOK_FOR: std::time::Duration = std::time::Duration::from_secs(30);

static FFMPEG_SEEN: std::sync::Mutex<Option<(std::time::Instant, bool)>> =
    std::sync::Mutex::new(None);

/// Looks for `ffmpeg` on a thread of its own, so that the first reads of the media settings
/// (every laptop's import starts with one) find the answer instead of all waiting for it.
pub(crate) fn look_for_ffmpeg_soon() {
    let _ = std::thread::Builder::new()
        .name("warta-ffmpeg-look".into())
        .spawn(ffmpeg_available_lately);
}

/// Whether `ffmpeg` can be started, looked up now (starting `ffmpeg -version`).
fn ffmpeg_available_now() -> bool {
    let found = warta_media::ffmpeg_available();
    *FFMPEG_SEEN.lock().unwrap_or_else(|e| e.into_inner()) =
        Some((std::time::Instant::now(), found));
    found
}

/// [`ffmpeg_available_now`], looked up at most every [`FFMPEG_LOOK_FOR`]: every laptop's
/// import reads the media settings, and starting a program per read cost the hub more than
/// the rest of the request (1.5 s at the median under the load bench). An admin who installs
/// ffmpeg sees it within half a minute; turning web copies on always looks now. One request
/// looks at a time: the others take the last answer (or, before the first, wait for it).
fn ffmpeg_available_lately() -> bool {
    static LOOKING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let seen = || *FFMPEG_SEEN.lock().unwrap_or_else(|e| e.into_inner());
    match seen() {
        Some((at, found)) if at.elapsed() < FFMPEG_LOOK_FOR => found,
        Some((_, found)) => match LOOKING.try_lock() {
            Ok(_looking) => ffmpeg_available_now(),
            Err(_) => found,
        },
        None => {
            let _looking = LOOKING.lock().unwrap_or_else(|e| e.into_inner());
            match seen() {
                Some((_, found)) => found,
                None => ffmpeg_available_now(),
            }
        }
    }
}

/// The perceptual hashes of the office's photos, in memory, for near-duplicate search. Looking
/// among them was a scan of every photo's row, on every photo attached, while holding the
/// connection every other request waits for; it grew with the office's archive.
///
/// Used only while holding the hub's connection, where attachments are inserted: loaded from
/// the database on first use, a print added when its attachment is inserted. A candidate is
/// checked against its row before it is named, so a print whose insert was rolled back (or
/// whose id SQLite gave to another row since) is dropped, never reported.
#[derive(Default)]
pub(crate) struct Prints(std::sync::Mutex<Option<Vec<(i64, u64)>>>);

impl Prints {
    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Vec<(i64, u64)>>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The closest earlier photo whose perceptual hash is within the near-duplicate distance
    /// (the earliest of equally close ones).
    fn find_similar(&self, conn: &Connection, phash: &str) -> HubResult<Option<(i64, u32)>> {
        let Ok(mine) = u64::from_str_radix(phash, 16) else {
            return Ok(None);
        };
        let mut guard = self.lock();
        let prints = match &mut *guard {
            Some(p) => p,
            none => none.insert(
                crate::db::all(
                    conn,
                    "SELECT id, phash FROM attachments WHERE phash IS NOT NULL ORDER BY id",
                    [],
                    |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)),
                )?
                .into_iter()
                .filter_map(|(id, p)| Some((id, u64::from_str_radix(&p, 16).ok()?)))
                .collect(),
            ),
        };
        loop {
            let best = prints
                .iter()
                .map(|&(id, p)| (warta_photo::hamming(mine, p), id, p))
                .filter(|&(d, _, _)| d <= warta_photo::NEAR_DUPLICATE_MAX_DISTANCE)
                .min();
            let Some((d, id, p)) = best else {
                return Ok(None);
            };
            let stored: Option<Option<String>> = conn
                .row("SELECT phash FROM attachments WHERE id = ?1", [id], |r| {
                    r.get(0)
                })
                .optional()?;
            if stored
                .flatten()
                .and_then(|s| u64::from_str_radix(&s, 16).ok())
                == Some(p)
            {
                return Ok(Some((id, d)));
            }
            prints.retain(|&x| x != (id, p));
        }
    }

    /// A photo inserted (call while still holding the connection).
    fn add(&self, id: i64, phash: &str) {
        if let (Some(prints), Ok(p)) = (&mut *self.lock(), u64::from_str_radix(phash, 16)) {
            prints.push((id, p));
        }
    }
}

/// Records that `user_id` has shown they hold the bytes of blob `sha`.
pub(crate) fn grant_blob(
    conn: &rusqlite::Connection,
    sha: &str,
    user_id: i64,
    now: chrono::DateTime<chrono::Utc>,
) -> HubResult<()> {
    conn.exec(
        "INSERT OR IGNORE INTO blob_grants (sha256, user_id, granted_at) VALUES (?1, ?2, ?3)",
        params![sha, user_id, now],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE attachments (id INTEGER PRIMARY KEY, phash TEXT)")
            .unwrap();
        conn
    }

    fn insert(conn: &Connection, id: i64, phash: u64) {
        conn.execute(
            "INSERT INTO attachments (id, phash) VALUES (?1, ?2)",
            params![id, format!("{phash:016x}")],
        )
        .unwrap();
    }

    const A: u64 = 0xf0f0_f0f0_f0f0_f0f0;

    #[test]
    fn the_closest_earlier_photo_is_found_from_memory() {
        let conn = db();
        insert(&conn, 1, A ^ 0b111); // distance 3 from A
        insert(&conn, 2, !A); // far
        let prints = Prints::default();
        let hex = |p: u64| format!("{p:016x}");
        assert_eq!(prints.find_similar(&conn, &hex(A)).unwrap(), Some((1, 3)));
        // Added after loading: found without reading the table again.
        insert(&conn, 3, A ^ 0b1);
        prints.add(3, &hex(A ^ 0b1));
        assert_eq!(prints.find_similar(&conn, &hex(A)).unwrap(), Some((3, 1)));
        // Equally close: the earliest.
        insert(&conn, 4, A ^ 0b10);
        prints.add(4, &hex(A ^ 0b10));
        assert_eq!(prints.find_similar(&conn, &hex(A)).unwrap(), Some((3, 1)));
        assert_eq!(
            prints.find_similar(&conn, &hex(A ^ 0xffff_0000)).unwrap(),
            None
        );
    }

    #[test]
    fn a_print_whose_row_is_not_there_is_never_named() {
        let conn = db();
        insert(&conn, 1, A ^ 0b111);
        let prints = Prints::default();
        let hex = |p: u64| format!("{p:016x}");
        prints.find_similar(&conn, &hex(A)).unwrap();
        // Its insert was rolled back: closer than row 1, but not in the database.
        prints.add(2, &hex(A));
        assert_eq!(prints.find_similar(&conn, &hex(A)).unwrap(), Some((1, 3)));
        // SQLite gave id 2 to another photo since: only its real print counts.
        insert(&conn, 2, !A);
        prints.add(2, &hex(!A));
        assert_eq!(prints.find_similar(&conn, &hex(A)).unwrap(), Some((1, 3)));
        assert_eq!(prints.find_similar(&conn, &hex(!A)).unwrap(), Some((2, 0)));
    }
}
