//! The one integration-test binary of warta-media. Every file is built here from real bytes.

use std::io::{Cursor, Write};
use std::path::Path;

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use warta_media::{BlobStore, Detected, Kind, MediaError, detect, detect_file, validate_filename};
use zip::write::SimpleFileOptions;

// ---------- sample files ----------

/// A valid 1×1 RGB PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00,
    0x00, 0x03, 0x01, 0x01, 0x00, 0xc9, 0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

/// A JPEG's start (SOI + JFIF APP0) and end (EOI) markers.
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";

/// A valid 1×1 GIF.
const GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

const WEBP: &[u8] = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00\x2f\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00";

/// Little-endian TIFF header pointing at an empty IFD.
const TIFF: &[u8] = b"II*\x00\x08\x00\x00\x00\x00\x00\x00\x00\x00\x00";

/// An ISO-BMFF `ftyp` box with the given major brand and compatible brands.
fn ftyp(major: &[u8; 4], compatible: &[&[u8; 4]]) -> Vec<u8> {
    let size = 16 + 4 * compatible.len() as u32;
    let mut b = size.to_be_bytes().to_vec();
    b.extend_from_slice(b"ftyp");
    b.extend_from_slice(major);
    b.extend_from_slice(&[0, 0, 0, 0]);
    for c in compatible {
        b.extend_from_slice(*c);
    }
    // An empty `mdat` box so the file is more than a header.
    b.extend_from_slice(&[0, 0, 0, 8]);
    b.extend_from_slice(b"mdat");
    b
}

/// An EBML header with the given DocType (`webm` or `matroska`).
fn ebml(doctype: &str) -> Vec<u8> {
    let mut body = vec![0x42, 0x82, 0x80 | doctype.len() as u8];
    body.extend_from_slice(doctype.as_bytes());
    let mut b = vec![0x1a, 0x45, 0xdf, 0xa3, 0x80 | body.len() as u8];
    b.extend_from_slice(&body);
    b.extend_from_slice(&[0x18, 0x53, 0x80, 0x67, 0x80]); // empty Segment
    b
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, data) in entries {
        w.start_file(*name, stored).unwrap();
        w.write_all(data).unwrap();
    }
    w.finish().unwrap().into_inner()
}

const CONTENT_TYPES: &[u8] = br#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/></Types>"#;

fn ooxml(part_dir: &str, extra: &[(&str, &[u8])]) -> Vec<u8> {
    let main = format!("{part_dir}/document.xml");
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", b"<Relationships/>"),
        (&main, b"<document/>"),
    ];
    entries.extend_from_slice(extra);
    zip_of(&entries)
}

fn odf(mimetype: &str) -> Vec<u8> {
    zip_of(&[
        ("mimetype", mimetype.as_bytes()),
        ("content.xml", b"<office:document-content/>"),
        ("META-INF/manifest.xml", b"<manifest/>"),
    ])
}

fn elf() -> Vec<u8> {
    let mut b = b"\x7fELF\x02\x01\x01\x00".to_vec();
    b.resize(64, 0);
    b
}

fn mz() -> Vec<u8> {
    let mut b = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff".to_vec();
    b.resize(128, 0);
    b
}

// ---------- detection ----------

fn accept(bytes: &[u8], name: &str, mime: &str, kind: Kind) {
    let expected = Detected {
        mime: mime.to_owned(),
        kind,
    };
    assert_eq!(detect(bytes, name).unwrap(), expected, "detect {name}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blob");
    std::fs::write(&path, bytes).unwrap();
    assert_eq!(
        detect_file(&path, name).unwrap(),
        expected,
        "detect_file {name}"
    );
}

/// Refused by both functions; returns the reason.
fn refuse(bytes: &[u8], name: &str) -> (String, String) {
    let from_bytes = detect(bytes, name).unwrap_err();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blob");
    std::fs::write(&path, bytes).unwrap();
    let from_file = detect_file(&path, name).unwrap_err();
    assert_eq!(from_bytes.to_string(), from_file.to_string());
    match from_file {
        MediaError::RefusedType { detected, reason } => (detected, reason),
        other => panic!("expected RefusedType for {name}, got {other:?}"),
    }
}

#[test]
fn accepts_photos() {
    accept(PNG, "a.png", "image/png", Kind::Photo);
    accept(JPEG, "a.jpg", "image/jpeg", Kind::Photo);
    accept(GIF, "a.gif", "image/gif", Kind::Photo);
    accept(WEBP, "a.webp", "image/webp", Kind::Photo);
    accept(TIFF, "a.tif", "image/tiff", Kind::Photo);
    accept(
        &ftyp(b"heic", &[b"mif1", b"heic"]),
        "a.heic",
        "image/heif",
        Kind::Photo,
    );
    accept(
        &ftyp(b"mif1", &[b"mif1", b"heic"]),
        "a.heif",
        "image/heif",
        Kind::Photo,
    );
}

#[test]
fn accepts_documents() {
    accept(PDF, "a.pdf", "application/pdf", Kind::Document);
    accept(
        &ooxml("word", &[]),
        "a.docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        Kind::Document,
    );
    accept(
        &ooxml("xl", &[]),
        "a.xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Kind::Document,
    );
    accept(
        &ooxml("ppt", &[]),
        "a.pptx",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        Kind::Document,
    );
    for m in [
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/vnd.oasis.opendocument.presentation",
    ] {
        accept(&odf(m), "a.odf", m, Kind::Document);
    }
}

#[test]
fn accepts_videos() {
    accept(
        &ftyp(b"isom", &[b"isom", b"mp42"]),
        "a.mp4",
        "video/mp4",
        Kind::Video,
    );
    accept(
        &ftyp(b"mp42", &[b"mp42"]),
        "a.mp4",
        "video/mp4",
        Kind::Video,
    );
    accept(
        &ftyp(b"qt  ", &[b"qt  "]),
        "a.mov",
        "video/quicktime",
        Kind::Video,
    );
    accept(&ebml("webm"), "a.webm", "video/webm", Kind::Video);
    accept(&ebml("matroska"), "a.mkv", "video/x-matroska", Kind::Video);
}

#[test]
fn refuses_programs_whatever_their_name() {
    let (detected, reason) = refuse(&mz(), "laporan.pdf");
    assert_eq!(detected, "application/vnd.microsoft.portable-executable");
    assert!(reason.contains("program"), "{reason}");
    assert!(reason.contains("laporan.pdf"), "{reason}");
    let (detected, _) = refuse(&elf(), "foto.jpg");
    assert_eq!(detected, "application/x-executable");
    let mut macho = vec![0xcf, 0xfa, 0xed, 0xfe];
    macho.resize(64, 0);
    let (detected, _) = refuse(&macho, "video.mp4");
    assert_eq!(detected, "application/x-mach-binary");
}

#[test]
fn refuses_scripts_markup_and_archives() {
    let (_, reason) = refuse(b"#!/bin/sh\nrm -rf ~\n", "catatan.txt");
    assert!(reason.contains("script"), "{reason}");
    for page in [
        &b"<!DOCTYPE html><html><script>alert(1)</script></html>"[..],
        b"\xef\xbb\xbf  <html><body>x</body></html>",
        b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>",
        b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"/>",
    ] {
        let (_, reason) = refuse(page, "foto.jpg");
        assert!(reason.contains("web page or SVG"), "{reason}");
    }
    let (detected, reason) = refuse(&zip_of(&[("a.txt", b"hi")]), "dokumen.docx");
    assert_eq!(detected, "application/zip");
    assert!(reason.contains("archive"), "{reason}");
    // An OOXML-looking zip without [Content_Types].xml is just an archive.
    let (_, reason) = refuse(&zip_of(&[("word/document.xml", b"<d/>")]), "a.docx");
    assert!(reason.contains("archive"), "{reason}");
    let (detected, _) = refuse(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", "a.pdf");
    assert_eq!(detected, "application/gzip");
}

#[test]
fn refuses_macros() {
    let docm = ooxml("word", &[("word/vbaProject.bin", b"\xd0\xcf\x11\xe0")]);
    let (_, reason) = refuse(&docm, "a.docx");
    assert!(reason.contains("contains macros"), "{reason}");
    // Declared macro-enabled even though the VBA part was renamed.
    let sneaky = zip_of(&[
        (
            "[Content_Types].xml",
            b"<Types><Override PartName=\"/word/document.xml\" ContentType=\"application/vnd.ms-word.document.macroEnabled.main+xml\"/></Types>",
        ),
        ("word/document.xml", b"<d/>"),
        ("word/hidden.bin", b"x"),
    ]);
    let (_, reason) = refuse(&sneaky, "a.docx");
    assert!(reason.contains("contains macros"), "{reason}");
    let odt_macro = zip_of(&[
        ("mimetype", b"application/vnd.oasis.opendocument.text"),
        ("content.xml", b"<c/>"),
        ("Basic/Standard/Module1.xml", b"<m/>"),
    ]);
    let (_, reason) = refuse(&odt_macro, "a.odt");
    assert!(reason.contains("contains macros"), "{reason}");
}

#[test]
fn refuses_old_office_unknown_and_empty() {
    let mut ole = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1".to_vec();
    ole.resize(1024, 0);
    let (_, reason) = refuse(&ole, "a.doc");
    assert!(reason.contains("old-style Office"), "{reason}");
    let (detected, reason) = refuse(b"just some plain words", "a.pdf");
    assert_eq!(detected, "unknown");
    assert!(reason.contains("unrecognised file type"), "{reason}");
    let (detected, _) = refuse(b"", "a.pdf");
    assert_eq!(detected, "empty");
    // Formats we recognise but do not accept.
    let (detected, reason) = refuse(
        b"BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00",
        "a.bmp",
    );
    assert_eq!(detected, "image/bmp");
    assert!(reason.contains("not accepted"), "{reason}");
}

#[test]
fn a_head_is_not_enough_for_office_documents() {
    let docx = ooxml("word", &[]);
    let head = &docx[..64];
    let err = detect(head, "a.docx").unwrap_err();
    assert!(err.to_string().contains("damaged or incomplete"), "{err}");
}

// ---------- the store ----------

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[tokio::test]
async fn streams_hashes_and_deduplicates() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let content: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    // Arrives in uneven pieces, as a request body would.
    let reader = (&content[..1000])
        .chain(&content[1000..70_001])
        .chain(&content[70_001..]);
    let blob = store.put_stream(reader, 1_000_000).await.unwrap();
    assert_eq!(blob.sha256, sha256_hex(&content));
    assert_eq!(blob.size, content.len() as u64);
    assert_eq!(blob.head, &content[..8192]);

    let path = store.path_of(&blob.sha256).unwrap();
    assert_eq!(
        path,
        dir.path().join(&blob.sha256[..2]).join(&blob.sha256[2..])
    );
    assert_eq!(std::fs::read(&path).unwrap(), content);
    assert!(store.exists(&blob.sha256));

    let again = store.put_stream(&content[..], 1_000_000).await.unwrap();
    assert_eq!(again, blob);
    let via_bytes = store.put_bytes(&content, 1_000_000).unwrap();
    assert_eq!(via_bytes, blob);
    assert_eq!(
        files_under(dir.path()),
        vec![path],
        "stored once, no temp files left"
    );

    let mut read_back = Vec::new();
    store
        .open_blob(&blob.sha256)
        .await
        .unwrap()
        .read_to_end(&mut read_back)
        .await
        .unwrap();
    assert_eq!(read_back, content);
}

#[tokio::test]
async fn exactly_at_the_limit_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let blob = store.put_stream(&b"12345"[..], 5).await.unwrap();
    assert_eq!(blob.size, 5);
    assert_eq!(blob.head, b"12345");
    let empty = store.put_bytes(b"", 5).unwrap();
    assert_eq!(empty.sha256, sha256_hex(b""));
}

#[tokio::test]
async fn over_the_limit_stops_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    // An endless body: only stopping as soon as the limit is passed lets this finish.
    let err = store
        .put_stream(tokio::io::repeat(7), 1024 * 1024)
        .await
        .unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { limit } if limit == 1024 * 1024));
    assert_eq!(
        err.to_string(),
        "the file is larger than the limit of 1 MiB (1048576 bytes)"
    );
    assert!(files_under(dir.path()).is_empty());

    let err = store.put_bytes(&[1; 11], 10).unwrap_err();
    assert!(matches!(err, MediaError::TooLarge { limit: 10 }));
    assert!(files_under(dir.path()).is_empty());
}

#[tokio::test]
async fn digests_are_checked_before_they_become_paths() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    for bad in [
        "",
        "../../etc/passwd",
        &"A".repeat(64),
        &"a".repeat(63),
        &format!("{}/", "a".repeat(63)),
    ] {
        assert_eq!(store.path_of(bad), None, "{bad}");
        assert!(!store.exists(bad));
        assert!(matches!(
            store.open_blob(bad).await,
            Err(MediaError::NotFound { .. })
        ));
    }
    let missing = sha256_hex(b"never stored");
    assert!(store.path_of(&missing).is_some());
    assert!(!store.exists(&missing));
    assert!(matches!(
        store.open_blob(&missing).await,
        Err(MediaError::NotFound { .. })
    ));
}

#[test]
fn stored_blob_head_detects_like_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let docx = ooxml("word", &[]);
    let blob = store.put_bytes(&docx, 1 << 20).unwrap();
    let path = store.path_of(&blob.sha256).unwrap();
    assert_eq!(detect_file(&path, "a.docx").unwrap().kind, Kind::Document);
    let png = store.put_bytes(PNG, 1 << 20).unwrap();
    assert_eq!(detect(&png.head, "a.png").unwrap().kind, Kind::Photo);
}

#[test]
fn a_file_made_in_the_store_is_taken_in_under_its_hash() {
    let dir = tempfile::tempdir().unwrap();
    let store = BlobStore::open(dir.path()).unwrap();
    let scratch = store.scratch_dir().unwrap();
    let made = scratch.path().join("web.mp4");
    std::fs::write(&made, b"a web copy").unwrap();
    let blob = store.put_file(&made).unwrap();
    assert_eq!(blob.sha256, sha256_hex(b"a web copy"));
    assert_eq!(blob.size, 10);
    assert!(!made.exists(), "moved, not copied");
    assert_eq!(
        std::fs::read(store.path_of(&blob.sha256).unwrap()).unwrap(),
        b"a web copy"
    );
    // The same content again: the stored copy stays, the new file goes.
    std::fs::write(&made, b"a web copy").unwrap();
    assert_eq!(store.put_file(&made).unwrap().sha256, blob.sha256);
    assert!(!made.exists());
    let scratch_path = scratch.path().to_path_buf();
    drop(scratch);
    assert!(
        !scratch_path.exists(),
        "the scratch folder goes when dropped"
    );
}

// ---------- file names ----------

#[test]
fn file_names() {
    assert_eq!(
        validate_filename("  Laporan Banjir 2026.pdf \t").unwrap(),
        "Laporan Banjir 2026.pdf"
    );
    assert_eq!(
        validate_filename("foto posko (1).jpg").unwrap(),
        "foto posko (1).jpg"
    );
    assert_eq!(
        validate_filename("Rapat_Bupati—ringkasan.docx").unwrap(),
        "Rapat_Bupati—ringkasan.docx"
    );
    assert_eq!(validate_filename(".hidden").unwrap(), ".hidden");
    assert_eq!(validate_filename(&"a".repeat(255)).unwrap().len(), 255);

    let refused = |name: &str| match validate_filename(name) {
        Err(MediaError::BadFilename { reason }) => reason,
        other => panic!("{name:?} was not refused: {other:?}"),
    };
    assert_eq!(refused(""), "the name is empty");
    assert_eq!(refused("   "), "the name is empty");
    assert!(refused(".").contains("not file names"));
    assert!(refused(" .. ").contains("not file names"));
    assert!(refused("../etc/passwd").contains('/'));
    assert!(refused("a/b.pdf").contains('/'));
    assert!(refused("a\\b.pdf").contains('\\'));
    assert!(refused("a\0b.pdf").contains("control"));
    assert!(refused("a\nb.pdf").contains("control"));
    assert!(refused("a\u{7f}.pdf").contains("control"));
    assert!(refused("foto\u{202e}gpj.exe").contains("direction"));
    assert!(refused(&"a".repeat(256)).contains("255"));
    // 128 two-byte letters: 256 bytes.
    assert!(refused(&"é".repeat(128)).contains("255"));
}

// ---------- documents and videos (their own files, still this one binary) ----------

#[path = "media/documents.rs"]
mod documents;
#[path = "media/videos.rs"]
mod videos;
