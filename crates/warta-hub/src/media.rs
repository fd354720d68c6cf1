//! What the hub makes of an attached file: renditions of photos, facts and previews of
//! documents and videos, and the office's media settings.

use crate::db::Cached as _;
use std::path::Path;

use rusqlite::{Connection, OptionalExtension, params};
use warta_api::{MediaSettings, SendOriginals};
use warta_media::{BlobStore, Detected, Kind};

use crate::error::{HubError, HubResult};

const SETTINGS_KEY: &str = "media";

/// Renditions and previews are tiny next to the attachment limit.
const RENDITION_MAX_BYTES: u64 = 64 * 1024 * 1024;

pub fn default_settings(max_attachment_bytes: u64) -> MediaSettings {
    MediaSettings {
        keep_originals: true,
        send_originals: SendOriginals::Unmetered,
        web_max: 1600,
        thumb_max: 320,
        photo_format: "jpeg".into(),
        max_pixels: 100_000_000,
        max_attachment_bytes,
        max_document_bytes: warta_api::default_max_document_bytes().min(max_attachment_bytes),
        video_web_copy: false,
        video_web_height: warta_api::default_video_web_height(),
        ffmpeg_available: false,
    }
}

pub fn load_settings(conn: &Connection, max_attachment_bytes: u64) -> HubResult<MediaSettings> {
    let stored: Option<String> = conn
        .row(
            "SELECT value FROM settings WHERE key = ?1",
            [SETTINGS_KEY],
            |r| r.get(0),
        )
        .optional()?;
    Ok(stored
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_else(|| default_settings(max_attachment_bytes)))
}

pub fn validate_settings(s: &MediaSettings) -> HubResult<()> {
    if !(320..=8000).contains(&s.web_max) {
        return Err(HubError::validation(
            "web_max",
            "the web size must be between 320 and 8000 pixels",
        ));
    }
    if !(64..=1024).contains(&s.thumb_max) || s.thumb_max > s.web_max {
        return Err(HubError::validation(
            "thumb_max",
            "the thumbnail size must be between 64 and 1024 pixels and not larger than the web size",
        ));
    }
    if !matches!(s.photo_format.as_str(), "jpeg" | "webp") {
        return Err(HubError::validation("photo_format", "use jpeg or webp"));
    }
    if !(1_000_000..=1_000_000_000).contains(&s.max_pixels) {
        return Err(HubError::validation(
            "max_pixels",
            "the pixel limit must be between 1 and 1000 megapixels",
        ));
    }
    if s.max_document_bytes < 1024 * 1024 {
        return Err(HubError::validation(
            "max_document_bytes",
            "the document limit must be at least 1 MB",
        ));
    }
    if !(144..=2160).contains(&s.video_web_height) {
        return Err(HubError::validation(
            "video_web_height",
            "the height of web copies of videos must be between 144 and 2160 pixels",
        ));
    }
    if s.max_attachment_bytes < 1024 * 1024 {
        return Err(HubError::validation(
            "max_attachment_bytes",
            "the attachment limit must be at least 1 MB",
        ));
    }
    Ok(())
}

pub fn save_settings(conn: &Connection, s: &MediaSettings) -> HubResult<()> {
    conn.exec(
        "INSERT INTO settings (key, value) VALUES (?1, ?2)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        params![SETTINGS_KEY, serde_json::to_string(s).expect("settings")],
    )?;
    Ok(())
}

pub fn photo_config(s: &MediaSettings) -> warta_photo::PhotoConfig {
    warta_photo::PhotoConfig {
        web_max: s.web_max,
        thumb_max: s.thumb_max,
        format: if s.photo_format == "webp" {
            warta_photo::OutputFormat::WebP
        } else {
            warta_photo::OutputFormat::default()
        },
        max_pixels: s.max_pixels,
    }
}

/// A stored rendition or preview.
#[derive(Debug, Clone)]
pub struct Stored {
    pub sha256: String,
    pub mime: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
}

/// Everything the hub derived from one attached file.
#[derive(Debug, Clone, Default)]
pub struct Derived {
    pub web: Option<Stored>,
    pub thumb: Option<Stored>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub pages: Option<u32>,
    pub duration_ms: Option<u64>,
    pub codecs: Option<String>,
    pub phash: Option<String>,
    pub note: Option<String>,
    /// A web copy of the video is to be made in the background.
    pub web_copy_pending: bool,
}

fn put(
    blobs: &BlobStore,
    bytes: &[u8],
    mime: &str,
    w: Option<u32>,
    h: Option<u32>,
) -> HubResult<Stored> {
    let b = blobs
        .put_bytes(bytes, RENDITION_MAX_BYTES)
        .map_err(crate::media_error)?;
    Ok(Stored {
        sha256: b.sha256,
        mime: mime.to_string(),
        width: w,
        height: h,
    })
}

fn photo_error(e: warta_photo::PhotoError) -> HubError {
    HubError::RefusedType(e.to_string())
}

/// Makes renditions (photos) or reads facts and previews (documents, videos) of a stored file.
/// A photo that cannot be decoded is refused; a missing preview tool is only noted.
pub fn derive(
    blobs: &BlobStore,
    path: &Path,
    detected: &Detected,
    settings: &MediaSettings,
) -> HubResult<Derived> {
    let mut d = Derived::default();
    match detected.kind {
        Kind::Photo => {
            let r =
                warta_photo::process_file(path, &photo_config(settings)).map_err(photo_error)?;
            d.width = Some(r.web.width);
            d.height = Some(r.web.height);
            d.phash = Some(format!("{:016x}", r.phash));
            d.web = Some(put(
                blobs,
                &r.web.bytes,
                r.web.mime,
                Some(r.web.width),
                Some(r.web.height),
            )?);
            d.thumb = Some(put(
                blobs,
                &r.thumb.bytes,
                r.thumb.mime,
                Some(r.thumb.width),
                Some(r.thumb.height),
            )?);
        }
        Kind::Document => {
            let info = warta_media::document_info(path, detected).map_err(crate::media_error)?;
            d.pages = info.pages;
            if detected.mime == "application/pdf" {
                let dir = tempfile::tempdir().map_err(|e| HubError::Internal(e.into()))?;
                let png = dir.path().join("page.png");
                match warta_media::pdf_preview(path, &png, settings.thumb_max) {
                    Ok(()) => {
                        let bytes =
                            std::fs::read(&png).map_err(|e| HubError::Internal(e.into()))?;
                        d.thumb = Some(put(blobs, &bytes, "image/png", None, None)?);
                    }
                    Err(e) => d.note = Some(e.to_string()),
                }
            }
        }
        Kind::Video => {
            let info = warta_media::probe_video(path).map_err(crate::media_error)?;
            d.width = info.width;
            d.height = info.height;
            d.duration_ms = info.duration_ms;
            let codecs: Vec<String> = [info.video_codec, info.audio_codec]
                .into_iter()
                .flatten()
                .collect();
            d.codecs = (!codecs.is_empty()).then(|| codecs.join(" / "));
            let dir = tempfile::tempdir().map_err(|e| HubError::Internal(e.into()))?;
            let jpg = dir.path().join("poster.jpg");
            match warta_media::poster_frame(path, &jpg, settings.thumb_max) {
                Ok(()) => {
                    let bytes = std::fs::read(&jpg).map_err(|e| HubError::Internal(e.into()))?;
                    d.thumb = Some(put(blobs, &bytes, "image/jpeg", None, None)?);
                }
                Err(e) => d.note = Some(e.to_string()),
            }
        }
    }
    Ok(d)
}

/// Checks a rendition a client made before the hub accepts it: a JPEG or WebP image within the
/// size it claims to be, carrying no metadata at all (EXIF, XMP, IPTC, comments, ICC).
pub fn check_client_rendition(
    bytes: &[u8],
    max_side: u32,
    what: &str,
) -> HubResult<(u32, u32, &'static str)> {
    let refuse = |why: String| HubError::RefusedType(format!("the {what} rendition {why}"));
    let info =
        warta_photo::probe(bytes).map_err(|e| refuse(format!("is not a usable image: {e}")))?;
    let mime = match info.format {
        "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        other => return Err(refuse(format!("is {other}, not JPEG or WebP"))),
    };
    if info.width.max(info.height) > max_side {
        return Err(refuse(format!(
            "is {}x{}, larger than the office's {max_side} px",
            info.width, info.height
        )));
    }
    if let Some(found) = info.metadata.first() {
        return Err(refuse(format!("still carries metadata ({found})")));
    }
    Ok((info.width, info.height, mime))
}
