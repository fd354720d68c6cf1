//! Documents: page counts, previews, macro-enabled Office files under other names.

use std::path::{Path, PathBuf};

use warta_media::{
    DocumentInfo, DocumentKind, MediaError, detect_file, document_info, pdf_preview,
};

use super::{ooxml, refuse, zip_of};

/// A well-formed PDF with `pages` pages of 200×100 pt, with a correct cross-reference table.
fn pdf(pages: usize) -> Vec<u8> {
    let mut objects: Vec<String> = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".into(),
        format!(
            "<< /Type /Pages /Kids [{}] /Count {pages} >>",
            (0..pages)
                .map(|i| format!("{} 0 R", i + 3))
                .collect::<Vec<_>>()
                .join(" ")
        ),
    ];
    for _ in 0..pages {
        objects.push("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>".into());
    }
    let mut out = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn info(path: &Path) -> DocumentInfo {
    let detected = detect_file(path, "x").unwrap();
    document_info(path, &detected).unwrap()
}

#[test]
fn counts_pdf_pages() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = pdf(3);
    let path = write(dir.path(), "a.pdf", &bytes);
    assert_eq!(
        info(&path),
        DocumentInfo {
            kind: DocumentKind::Pdf,
            pages: Some(3),
            size: bytes.len() as u64
        }
    );
    assert_eq!(DocumentKind::Pdf.to_string(), "pdf");
}

#[test]
fn broken_cross_references_still_give_the_page_count() {
    let dir = tempfile::tempdir().unwrap();
    let good = String::from_utf8_lossy(&pdf(5)).into_owned();
    // Point startxref into the middle of nowhere and spoil the table itself.
    let at = good.find("startxref\n").unwrap() + "startxref\n".len();
    let broken = format!("{}999999\n%%EOF\n", &good[..at]).replace("xref\n0 ", "xref\nzz ");
    let path = write(dir.path(), "broken.pdf", broken.as_bytes());
    assert_eq!(info(&path).pages, Some(5));
}

#[test]
fn corrupt_pdfs_give_no_page_count_and_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let whole = pdf(2);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("header only", b"%PDF-1.7\n".to_vec()),
        ("garbage", [b"%PDF-1.5\n".as_slice(), &[0xff; 5000]].concat()),
        ("truncated", whole[..whole.len() / 3].to_vec()),
        (
            "count is not a number",
            b"%PDF-1.4\n1 0 obj << /Type /Pages /Count many >> endobj\n%%EOF".to_vec(),
        ),
        (
            "self-referencing page tree",
            b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 1 0 R /Kids [1 0 R] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"
                .to_vec(),
        ),
    ];
    for (what, bytes) in cases {
        let path = write(dir.path(), "bad.pdf", &bytes);
        let detected = detect_file(&path, "bad.pdf").unwrap();
        let got = document_info(&path, &detected).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(got.kind, DocumentKind::Pdf, "{what}");
        assert_eq!(got.size, bytes.len() as u64, "{what}");
        // Unknown, or what a scan can still see (a cycle may count as one page); never more.
        assert!(got.pages.is_none_or(|p| p <= 2), "{what}: {:?}", got.pages);
    }
}

#[test]
fn office_documents_report_their_recorded_page_count() {
    let dir = tempfile::tempdir().unwrap();
    let app = b"<Properties><Pages>4</Pages><Slides>9</Slides></Properties>".as_slice();
    let docx = write(
        dir.path(),
        "a.docx",
        &ooxml("word", &[("docProps/app.xml", app)]),
    );
    assert_eq!(
        info(&docx),
        DocumentInfo {
            kind: DocumentKind::Docx,
            pages: Some(4),
            size: std::fs::metadata(&docx).unwrap().len()
        }
    );
    let pptx = write(
        dir.path(),
        "a.pptx",
        &ooxml("ppt", &[("docProps/app.xml", app)]),
    );
    assert_eq!(info(&pptx).pages, Some(9));
    let xlsx = write(
        dir.path(),
        "a.xlsx",
        &ooxml("xl", &[("docProps/app.xml", app)]),
    );
    assert_eq!(
        (info(&xlsx).kind, info(&xlsx).pages),
        (DocumentKind::Xlsx, None)
    );
    let bare = write(dir.path(), "b.docx", &ooxml("word", &[]));
    assert_eq!(info(&bare).pages, None);
    let odt = zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b"<c/>"),
        (
            "meta.xml",
            b"<office:meta><meta:document-statistic meta:page-count=\"12\" meta:word-count=\"900\"/></office:meta>",
        ),
    ]);
    let odt = write(dir.path(), "a.odt", &odt);
    assert_eq!(
        (info(&odt).kind, info(&odt).pages),
        (DocumentKind::Odt, Some(12))
    );
}

#[test]
fn document_info_refuses_what_is_not_a_document() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.png", super::PNG);
    let detected = detect_file(&path, "a.png").unwrap();
    match document_info(&path, &detected) {
        Err(MediaError::RefusedType { reason, .. }) => {
            assert_eq!(reason, "this is a photo, not a document")
        }
        other => panic!("{other:?}"),
    }
}

/// Word and Excel files with macros, as Office writes them, renamed to the macro-free
/// extension: the name must not matter.
#[test]
fn macro_enabled_office_files_renamed_are_refused_with_the_reason() {
    let docm = zip_of(&[
        (
            "[Content_Types].xml",
            br#"<Types><Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject"/><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>"#,
        ),
        ("_rels/.rels", b"<Relationships/>"),
        ("word/document.xml", b"<w:document/>"),
        ("word/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
    ]);
    let xlsm = zip_of(&[
        (
            "[Content_Types].xml",
            br#"<Types><Override PartName="/xl/workbook.xml" ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>"#,
        ),
        ("_rels/.rels", b"<Relationships/>"),
        ("xl/workbook.xml", b"<workbook/>"),
        ("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"),
    ]);
    for (bytes, name) in [
        (&docm, "laporan.docx"),
        (&xlsm, "anggaran.docx"),
        (&xlsm, "anggaran.xlsx"),
    ] {
        let (detected, reason) = refuse(bytes, name);
        assert!(
            detected.starts_with("application/vnd.openxmlformats"),
            "{detected}"
        );
        assert!(reason.contains(name), "{reason}");
        assert!(
            reason.contains("contains macros, which can run code on readers' computers"),
            "{reason}"
        );
    }
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    let be = |b: &[u8]| u32::from_be_bytes(b.try_into().unwrap());
    (be(&bytes[16..20]), be(&bytes[20..24]))
}

fn pdftoppm_installed() -> bool {
    std::process::Command::new("pdftoppm")
        .arg("-v")
        .output()
        .is_ok()
}

#[test]
fn pdf_preview_renders_the_first_page_or_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "a.pdf", &pdf(2));
    let out = dir.path().join("preview.png");
    let result = pdf_preview(&path, &out, 64);
    if !pdftoppm_installed() {
        println!("note: pdftoppm is not installed; only the missing-tool error is checked");
        let err = result.unwrap_err();
        assert!(matches!(err, MediaError::ToolMissing { .. }), "{err:?}");
        assert_eq!(
            err.to_string(),
            "pdftoppm is not installed; install poppler-utils for PDF previews"
        );
        assert!(!out.exists());
        return;
    }
    result.unwrap();
    // 200×100 pt scaled so the longer side is 64 px.
    assert_eq!(png_size(&std::fs::read(&out).unwrap()), (64, 32));

    // A file pdftoppm cannot read: a clear failure, no output, no scratch left behind.
    let junk = write(dir.path(), "junk.pdf", b"%PDF-1.4\nnothing here");
    let out2 = dir.path().join("junk.png");
    match pdf_preview(&junk, &out2, 64) {
        Err(MediaError::ToolFailed { tool, reason }) => {
            assert_eq!(tool, "pdftoppm");
            assert!(!reason.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(!out2.exists());
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".warta-media-"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// Nesting deep enough to overflow a recursive parser's stack, which would abort the whole
/// hub rather than fail one upload.
#[test]
fn deeply_nested_pdf_objects_do_not_crash() {
    let dir = tempfile::tempdir().unwrap();
    let good = String::from_utf8_lossy(&pdf(1)).into_owned();
    let deep = format!("/Count 1 /X {}{}", "[".repeat(500_000), "]".repeat(500_000));
    // Same length before the xref is not kept, so the parser must recover the table too.
    let bytes = good.replacen("/Count 1", &deep, 1);
    let path = write(dir.path(), "deep.pdf", bytes.as_bytes());
    let got = info(&path);
    assert!(got.pages.is_none_or(|p| p == 1), "{:?}", got.pages);
}
