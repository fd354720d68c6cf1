//! Reading written documents back with the tools an office has: `pdftotext` (poppler-utils)
//! and LibreOffice for DOCX.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// The text of a PDF in content-stream order (`pdftotext -raw`), whitespace collapsed.
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    pdf_file_text(&path)
}

pub fn pdf_file_text(path: &Path) -> String {
    let out = Command::new("pdftotext")
        .arg("-raw")
        .arg("-enc")
        .arg("UTF-8")
        .arg(path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) runs");
    assert!(
        out.status.success(),
        "pdftotext failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    collapse(&String::from_utf8(out.stdout).unwrap())
}

/// `pdfinfo`'s "Pages" and "Page size" lines.
pub fn pdf_info(pdf: &[u8]) -> (usize, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = Command::new("pdfinfo")
        .arg(&path)
        .output()
        .expect("pdfinfo runs");
    assert!(out.status.success(), "pdfinfo failed");
    let text = String::from_utf8(out.stdout).unwrap();
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    (field("Pages:").parse().unwrap(), field("Page size:"))
}

/// A DOCX converted to PDF by LibreOffice (a throwaway profile), then its text.
pub fn docx_text(docx: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("doc.docx");
    std::fs::write(&input, docx).unwrap();
    let profile = dir.path().join("profile");
    let out = Command::new("libreoffice")
        .arg(format!(
            "-env:UserInstallation=file://{}",
            profile.display()
        ))
        .args(["--headless", "--convert-to", "pdf", "--outdir"])
        .arg(dir.path())
        .arg(&input)
        .output()
        .expect("libreoffice runs");
    let pdf = dir.path().join("doc.pdf");
    assert!(
        pdf.exists(),
        "LibreOffice did not convert the DOCX: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    pdf_file_text(&pdf)
}

/// Whitespace runs as one space, trimmed; a space after a hyphen dropped (word processors
/// break lines after a hyphen: "data-data" comes back as "data- data").
pub fn collapse(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .replace("- ", "-")
}

/// Asserts `needle` (whitespace collapsed) occurs in `hay`.
#[track_caller]
pub fn assert_has(hay: &str, needle: &str, what: &str) {
    let needle = collapse(needle);
    assert!(
        hay.contains(&needle),
        "{what}: {needle:?} is missing from the document's text:\n{hay}"
    );
}
