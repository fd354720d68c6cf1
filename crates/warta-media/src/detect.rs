//! What a file is, told from its bytes.

use std::fmt;
use std::fs::File;
use std::io::{Cursor, Read, Seek};
use std::path::Path;

use crate::MediaError;

/// How many leading bytes are enough to recognise every accepted type except the zip-based
/// office formats, which need the whole file (see [`detect_file`]).
pub const SNIFF_LEN: usize = 8 * 1024;

/// The three kinds of attachment a news item can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// JPEG, PNG, WebP, TIFF, HEIC/HEIF, GIF.
    Photo,
    /// PDF, DOCX, XLSX, PPTX, ODT, ODS, ODP.
    Document,
    /// MP4, MOV, MKV, WebM.
    Video,
}

impl Kind {
    /// `photo`, `document` or `video`: the spelling used on the wire and by `warta-render`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Photo => "photo",
            Kind::Document => "document",
            Kind::Video => "video",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An accepted file: its MIME type (as served back) and its kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detected {
    /// e.g. `image/jpeg`, `application/pdf`, `video/mp4`.
    pub mime: String,
    /// Photo, document or video.
    pub kind: Kind,
}

pub(crate) const DOCX: &str =
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
pub(crate) const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";
pub(crate) const PPTX: &str =
    "application/vnd.openxmlformats-officedocument.presentationml.presentation";
pub(crate) const ODT: &str = "application/vnd.oasis.opendocument.text";
pub(crate) const ODS: &str = "application/vnd.oasis.opendocument.spreadsheet";
pub(crate) const ODP: &str = "application/vnd.oasis.opendocument.presentation";

/// Tells what `bytes` are and whether they may be attached. `filename` only appears in
/// refusal messages; it never influences the decision.
///
/// Pass the whole file when you have it. Given only a head (such as
/// [`crate::StoredBlob::head`]), photos, PDFs and videos are recognised, but a zip-based
/// office document is refused as incomplete because its entries cannot be checked for
/// macros: use [`detect_file`] on the stored blob for those.
pub fn detect(bytes: &[u8], filename: &str) -> Result<Detected, MediaError> {
    match sniff(bytes, filename)? {
        Sniffed::Known(detected) => Ok(detected),
        Sniffed::Zip => inspect_zip(Cursor::new(bytes), filename),
    }
}

/// Like [`detect`], reading the file at `path`: only its head, plus the zip directory for
/// office documents (DOCX/XLSX/PPTX and ODT/ODS/ODP are zips; other zips are refused).
pub fn detect_file(path: &Path, filename: &str) -> Result<Detected, MediaError> {
    let mut file = File::open(path)?;
    let mut head = Vec::with_capacity(SNIFF_LEN);
    (&mut file).take(SNIFF_LEN as u64).read_to_end(&mut head)?;
    match sniff(&head, filename)? {
        Sniffed::Known(detected) => Ok(detected),
        Sniffed::Zip => {
            file.rewind()?;
            inspect_zip(file, filename)
        }
    }
}

enum Sniffed {
    Known(Detected),
    /// A zip container: an office document or an archive, to be told apart by its entries.
    Zip,
}

fn refused(detected: &str, reason: String) -> MediaError {
    MediaError::RefusedType {
        detected: detected.to_owned(),
        reason,
    }
}

fn accepted(mime: &str, kind: Kind) -> Result<Sniffed, MediaError> {
    Ok(Sniffed::Known(Detected {
        mime: mime.to_owned(),
        kind,
    }))
}

fn sniff(head: &[u8], filename: &str) -> Result<Sniffed, MediaError> {
    let name = filename;
    if head.is_empty() {
        return Err(refused("empty", format!("\"{name}\" is empty")));
    }
    // Our own checks first for what must never pass, whatever `infer` makes of the rest.
    if head.starts_with(b"#!") {
        return Err(refused(
            "text/x-shellscript",
            format!(
                "\"{name}\" is a script (it starts with \"#!\"); programs and scripts are not accepted"
            ),
        ));
    }
    if let Some(what) = executable(head) {
        return Err(refused(
            what,
            format!("\"{name}\" is a program, whatever its name says; programs are not accepted"),
        ));
    }
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Ok(Sniffed::Zip);
    }

    let Some(found) = infer::get(head) else {
        if let Some(what) = markup(head) {
            return Err(refused(what, markup_reason(name)));
        }
        return Err(refused(
            "unknown",
            format!(
                "\"{name}\" is an unrecognised file type; attach photos, PDF or office documents, or videos"
            ),
        ));
    };
    let mime = found.mime_type();
    match mime {
        "image/jpeg" | "image/png" | "image/webp" | "image/tiff" | "image/heif" | "image/gif" => {
            accepted(mime, Kind::Photo)
        }
        "application/pdf" => accepted(mime, Kind::Document),
        "video/webm" if matroska(head) => accepted("video/x-matroska", Kind::Video),
        "video/mp4" | "video/quicktime" | "video/x-matroska" | "video/webm" => {
            accepted(mime, Kind::Video)
        }
        "application/zip" | DOCX | XLSX | PPTX | ODT | ODS | ODP => Ok(Sniffed::Zip),
        "application/msword"
        | "application/vnd.ms-excel"
        | "application/vnd.ms-powerpoint"
        | "application/x-ole-storage" => Err(refused(
            mime,
            format!(
                "\"{name}\" is an old-style Office file (.doc/.xls/.ppt), which can hide macros; \
                 save it as .docx/.xlsx/.pptx or PDF and attach that"
            ),
        )),
        "text/html" | "text/xml" | "image/svg+xml" => Err(refused(mime, markup_reason(name))),
        "text/x-shellscript" => Err(refused(
            mime,
            format!("\"{name}\" is a script; programs and scripts are not accepted"),
        )),
        _ => match found.matcher_type() {
            infer::MatcherType::App => Err(refused(
                mime,
                format!(
                    "\"{name}\" is a program, whatever its name says; programs are not accepted"
                ),
            )),
            infer::MatcherType::Archive => Err(refused(
                mime,
                format!("\"{name}\" is an archive; attach the files inside it instead"),
            )),
            _ => Err(refused(
                mime,
                format!(
                    "\"{name}\" is a {mime} file, which is not accepted; attach photos \
                     (JPEG, PNG, WebP, TIFF, HEIC, GIF), PDF or office documents, or videos \
                     (MP4, MOV, MKV, WebM)"
                ),
            )),
        },
    }
}

fn markup_reason(name: &str) -> String {
    format!(
        "\"{name}\" is a web page or SVG image, which can carry scripts; attach a PDF or a photo instead"
    )
}

/// ELF, Windows PE (anything starting `MZ`), Mach-O: refused even when `infer` is unsure.
fn executable(head: &[u8]) -> Option<&'static str> {
    if head.starts_with(b"\x7fELF") {
        Some("application/x-executable")
    } else if head.starts_with(b"MZ") {
        Some("application/vnd.microsoft.portable-executable")
    } else if matches!(
        head.get(..4),
        Some([0xfe, 0xed, 0xfa, 0xce | 0xcf] | [0xce | 0xcf, 0xfa, 0xed, 0xfe])
    ) {
        Some("application/x-mach-binary")
    } else {
        None
    }
}

/// HTML, SVG or other XML, judged by the first tag after an optional BOM and whitespace.
fn markup(head: &[u8]) -> Option<&'static str> {
    let text = head.strip_prefix(b"\xef\xbb\xbf").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    let text = &text[start..text.len().min(start + 512)];
    let lower = text.to_ascii_lowercase();
    if !lower.starts_with(b"<") {
        return None;
    }
    let html_starts: [&[u8]; 7] = [
        b"<!doctype html",
        b"<html",
        b"<head",
        b"<body",
        b"<script",
        b"<iframe",
        b"<!--",
    ];
    if lower.starts_with(b"<svg") || contains(&lower, b"<svg") {
        Some("image/svg+xml")
    } else if html_starts.iter().any(|s| lower.starts_with(s)) {
        Some("text/html")
    } else if lower.starts_with(b"<?xml") {
        Some("text/xml")
    } else {
        None
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// An EBML file whose DocType is `matroska` (WebM's is `webm`).
fn matroska(head: &[u8]) -> bool {
    contains(&head[..head.len().min(64)], b"matroska")
}

/// Tells an office document from any other zip by its entries.
fn inspect_zip<R: Read + Seek>(reader: R, filename: &str) -> Result<Detected, MediaError> {
    let name = filename;
    let mut archive = zip::ZipArchive::new(reader).map_err(|_| {
        refused(
            "application/zip",
            format!("\"{name}\" looks like a zip file but is damaged or incomplete"),
        )
    })?;
    let mut content_types = false;
    let (mut word, mut excel, mut powerpoint) = (false, false, false);
    let mut odf_mimetype = false;
    let mut macros = false;
    for entry in archive.file_names() {
        let entry = entry.map_err(|_| {
            refused(
                "application/zip",
                format!("\"{name}\" is a zip file with unreadable entry names"),
            )
        })?;
        let lower = entry.to_ascii_lowercase();
        content_types |= entry == "[Content_Types].xml";
        word |= entry.starts_with("word/");
        excel |= entry.starts_with("xl/");
        powerpoint |= entry.starts_with("ppt/");
        odf_mimetype |= entry == "mimetype";
        // OOXML keeps VBA in vbaProject.bin; ODF keeps macros under Basic/ or Scripts/.
        macros |= lower.ends_with("vbaproject.bin")
            || lower.starts_with("basic/")
            || lower.starts_with("scripts/");
    }

    let detected = if content_types && word {
        Some(DOCX)
    } else if content_types && excel {
        Some(XLSX)
    } else if content_types && powerpoint {
        Some(PPTX)
    } else if odf_mimetype {
        let declared = read_small(&mut archive, "mimetype", 128).unwrap_or_default();
        [ODT, ODS, ODP].into_iter().find(|m| declared.trim() == *m)
    } else {
        None
    };
    let Some(mime) = detected else {
        return Err(refused(
            "application/zip",
            format!(
                "\"{name}\" is an archive, not an office document; attach the files inside it instead"
            ),
        ));
    };
    if !macros && content_types {
        // The declared content types also name macro-enabled parts, even if renamed.
        let declared = read_small(&mut archive, "[Content_Types].xml", 1024 * 1024)
            .unwrap_or_default()
            .to_ascii_lowercase();
        macros = declared.contains("macroenabled") || declared.contains("vbaproject");
    }
    if macros {
        return Err(refused(
            mime,
            format!(
                "\"{name}\" contains macros, which can run code on readers' computers; \
                 save it without macros (as .docx/.xlsx/.pptx or PDF) and attach that"
            ),
        ));
    }
    Ok(Detected {
        mime: mime.to_owned(),
        kind: Kind::Document,
    })
}

/// An entry's text, if it decompresses to at most `limit` bytes of UTF-8.
fn read_small<R: Read + Seek>(
    archive: &mut zip::ZipArchive<R>,
    entry: &str,
    limit: u64,
) -> Option<String> {
    let file = archive.by_name(entry).ok()?;
    let mut text = String::new();
    file.take(limit).read_to_string(&mut text).ok()?;
    Some(text)
}
