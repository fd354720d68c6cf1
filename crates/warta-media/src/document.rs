//! Documents: what kind, how many pages, and a picture of the first page.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::time::Duration;

use crate::tool::{self, PDFTOPPM};
use crate::{Detected, Kind, MediaError};

/// A sensible ceiling for one attached document: 200 MB. Offered for the hub's settings,
/// which decide the limit actually enforced; [`document_info`] only uses it to decide how
/// a PDF is read (see there).
pub const DOCUMENT_MAX_BYTES: u64 = 200 * 1024 * 1024;

/// How long `pdftoppm` may take over one first-page preview before it is stopped.
pub const PREVIEW_TIME_LIMIT: Duration = Duration::from_secs(30);

/// The document formats we accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// PDF.
    Pdf,
    /// Word (Office Open XML).
    Docx,
    /// Excel (Office Open XML).
    Xlsx,
    /// PowerPoint (Office Open XML).
    Pptx,
    /// OpenDocument text.
    Odt,
    /// OpenDocument spreadsheet.
    Ods,
    /// OpenDocument presentation.
    Odp,
}

impl DocumentKind {
    /// `pdf`, `docx`, `xlsx`, `pptx`, `odt`, `ods` or `odp`: the usual file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::Pdf => "pdf",
            DocumentKind::Docx => "docx",
            DocumentKind::Xlsx => "xlsx",
            DocumentKind::Pptx => "pptx",
            DocumentKind::Odt => "odt",
            DocumentKind::Ods => "ods",
            DocumentKind::Odp => "odp",
        }
    }

    /// The kind for a MIME type as given by [`crate::detect`], if it is a document.
    pub fn from_mime(mime: &str) -> Option<Self> {
        Some(match mime {
            "application/pdf" => DocumentKind::Pdf,
            crate::detect::DOCX => DocumentKind::Docx,
            crate::detect::XLSX => DocumentKind::Xlsx,
            crate::detect::PPTX => DocumentKind::Pptx,
            crate::detect::ODT => DocumentKind::Odt,
            crate::detect::ODS => DocumentKind::Ods,
            crate::detect::ODP => DocumentKind::Odp,
            _ => return None,
        })
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What [`document_info`] found out about a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocumentInfo {
    /// The format.
    pub kind: DocumentKind,
    /// Number of pages: counted from the page tree for a PDF; for DOCX (pages), PPTX (slides)
    /// and ODT (pages) as recorded by the program that last saved the file. `None` when
    /// unknown (spreadsheets, or a PDF whose page tree cannot be read).
    pub pages: Option<u32>,
    /// Size of the file in bytes.
    pub size: u64,
}

/// Kind, page count and size of a document that [`crate::detect_file`] accepted as
/// `detected`.
///
/// A PDF up to [`DOCUMENT_MAX_BYTES`] is read into memory once and its page tree parsed
/// (only the cross-reference data, catalogue and page tree, not the pages' content). When
/// that fails, for example because the cross-reference table is broken, or when the PDF is
/// larger, the file is scanned in small chunks for the page tree's `/Type /Pages … /Count n`
/// instead. A PDF whose pages cannot be counted either way gets `pages: None`, not an error:
/// readers' PDF programs are often more forgiving than we are.
///
/// Fails with [`MediaError::RefusedType`] when `detected` is not a document, and with
/// [`MediaError::Io`] when the file cannot be read.
pub fn document_info(path: &Path, detected: &Detected) -> Result<DocumentInfo, MediaError> {
    let kind = match (detected.kind, DocumentKind::from_mime(&detected.mime)) {
        (Kind::Document, Some(kind)) => kind,
        _ => {
            return Err(MediaError::RefusedType {
                detected: detected.mime.clone(),
                reason: format!("this is a {}, not a document", detected.kind),
            });
        }
    };
    let size = std::fs::metadata(path)?.len();
    let pages = match kind {
        DocumentKind::Pdf => pdf_pages(path, size)?,
        DocumentKind::Docx => office_stat(path, "docProps/app.xml", "<Pages>"),
        DocumentKind::Pptx => office_stat(path, "docProps/app.xml", "<Slides>"),
        DocumentKind::Odt => office_stat(path, "meta.xml", "meta:page-count=\""),
        DocumentKind::Xlsx | DocumentKind::Ods | DocumentKind::Odp => None,
    };
    Ok(DocumentInfo { kind, pages, size })
}

/// Renders the first page of the PDF at `path` to a PNG at `out_png` whose longer side is
/// `max_px` pixels (at least 16), using `pdftoppm` from poppler-utils.
///
/// Fails with [`MediaError::ToolMissing`] when `pdftoppm` is not installed ("pdftoppm is not
/// installed; install poppler-utils for PDF previews"), and with [`MediaError::ToolFailed`]
/// when it cannot render the file or takes longer than [`PREVIEW_TIME_LIMIT`]. `out_png` is
/// either the finished picture or untouched.
pub fn pdf_preview(path: &Path, out_png: &Path, max_px: u32) -> Result<(), MediaError> {
    let scratch = tool::scratch_beside(out_png)?;
    let prefix = scratch.path().join("page");
    let args = [
        tool::os("-f"),
        tool::os("1"),
        tool::os("-l"),
        tool::os("1"),
        tool::os("-singlefile"),
        tool::os("-png"),
        tool::os("-scale-to"),
        tool::os(max_px.max(16).to_string()),
        tool::path_arg(path),
        tool::path_arg(&prefix),
    ];
    PDFTOPPM.run(&args, PREVIEW_TIME_LIMIT)?;
    tool::finish(PDFTOPPM, &prefix.with_extension("png"), out_png)
}

fn pdf_pages(path: &Path, size: u64) -> Result<Option<u32>, MediaError> {
    if size <= DOCUMENT_MAX_BYTES {
        let bytes = std::fs::read(path)?;
        // A parser fed whatever reporters attach must not take the hub down with it.
        let parsed = std::panic::catch_unwind(|| lopdf::Document::load_metadata_mem(&bytes));
        drop(bytes);
        // lopdf reports 0 when it found no page tree; a real PDF has at least one page.
        if let Ok(Ok(meta)) = parsed
            && meta.page_count > 0
        {
            return Ok(Some(meta.page_count));
        }
    }
    scan_page_count(File::open(path)?)
}

/// The largest `/Count` of a `/Type /Pages` dictionary in the file: the root of the page
/// tree counts every page below it. Reads 1 MiB at a time. Finds nothing when the page tree
/// sits in a compressed object stream, which only a real parse can open.
fn scan_page_count(mut file: impl Read) -> Result<Option<u32>, MediaError> {
    const CHUNK: usize = 1024 * 1024;
    // Kept from the previous chunk so a dictionary split across two reads is still seen.
    const CARRY: usize = 8 * 1024;
    let mut window: Vec<u8> = Vec::with_capacity(CHUNK + CARRY);
    let mut best: Option<u32> = None;
    let mut chunk = vec![0u8; CHUNK];
    loop {
        let n = read_full(&mut file, &mut chunk)?;
        if n == 0 {
            break;
        }
        window.extend_from_slice(&chunk[..n]);
        if let Some(count) = page_counts_in(&window).max() {
            best = Some(best.map_or(count, |b| b.max(count)));
        }
        let keep_from = window.len().saturating_sub(CARRY);
        window.drain(..keep_from);
    }
    Ok(best)
}

fn read_full(file: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// For each `/Type /Pages` in `text`, the nearest `/Count n` within the same object.
fn page_counts_in(text: &[u8]) -> impl Iterator<Item = u32> + '_ {
    const RADIUS: usize = 4 * 1024;
    find_all(text, b"/Type").filter_map(move |at| {
        let rest = skip_ws(&text[at + 5..]);
        let after = rest.strip_prefix(b"/Pages")?;
        if after.first().is_some_and(|b| is_name_char(*b)) {
            return None; // `/PagesFoo`, not the page tree
        }
        let lo = at.saturating_sub(RADIUS);
        let hi = (at + RADIUS).min(text.len());
        find_all(&text[lo..hi], b"/Count")
            .map(|c| lo + c)
            .filter(|&c| {
                let between = if c < at { &text[c..at] } else { &text[at..c] };
                find_all(between, b"endobj").next().is_none()
                    && find_all(between, b" obj").next().is_none()
            })
            .min_by_key(|&c| c.abs_diff(at))
            .and_then(|c| leading_number(skip_ws(&text[c + 6..])))
    })
}

fn find_all<'a>(haystack: &'a [u8], needle: &'a [u8]) -> impl Iterator<Item = usize> + 'a {
    haystack
        .windows(needle.len())
        .enumerate()
        .filter(move |(_, w)| *w == needle)
        .map(|(i, _)| i)
}

fn skip_ws(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace() && *b != 0)
        .unwrap_or(bytes.len());
    &bytes[start..]
}

fn is_name_char(b: u8) -> bool {
    !(b.is_ascii_whitespace() || b"()<>[]{}/%".contains(&b) || b == 0)
}

/// The decimal number `bytes` start with, if it fits a `u32`.
fn leading_number(bytes: &[u8]) -> Option<u32> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    std::str::from_utf8(&bytes[..digits]).ok()?.parse().ok()
}

/// A number that an office program recorded in the document's statistics, e.g. the text
/// after `<Pages>` in `docProps/app.xml`. Any trouble means "unknown".
fn office_stat(path: &Path, entry: &str, marker: &str) -> Option<u32> {
    let mut archive = zip::ZipArchive::new(File::open(path).ok()?).ok()?;
    let file = archive.by_name(entry).ok()?;
    let mut text = String::new();
    file.take(1024 * 1024).read_to_string(&mut text).ok()?;
    let at = text.find(marker)? + marker.len();
    leading_number(text[at..].trim_start().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_the_root_count_not_outlines_or_leaves() {
        let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n\
            2 0 obj << /Kids [3 0 R 4 0 R] /Count 7 /Type /Pages >> endobj\n\
            3 0 obj << /Type /Pages /Parent 2 0 R /Kids [] /Count 3 >> endobj\n\
            4 0 obj << /Type /Page /Parent 2 0 R >> endobj\n\
            5 0 obj << /Type /Outlines /Count 40 >> endobj\n";
        assert_eq!(scan_page_count(&pdf[..]).unwrap(), Some(7));
        assert_eq!(scan_page_count(&b"%PDF-1.4 garbage"[..]).unwrap(), None);
    }

    #[test]
    fn scan_sees_a_dictionary_split_between_chunks() {
        let mut pdf = vec![b' '; 1024 * 1024 - 10];
        pdf.extend_from_slice(b"2 0 obj << /Type /Pages /Count 12 >> endobj");
        assert_eq!(scan_page_count(&pdf[..]).unwrap(), Some(12));
    }
}
