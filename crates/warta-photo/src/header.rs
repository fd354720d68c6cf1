//! Reading what a photo declares about itself — type, dimensions, EXIF orientation, embedded
//! ICC profile — from its headers only. Nothing here decodes pixels or allocates in
//! proportion to the declared size, so a decompression bomb is refused for the price of a
//! few hundred bytes read.

use std::io::{self, Cursor, Read, Seek, SeekFrom};

use crate::PhotoError;

/// The photo types Warta reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Jpeg,
    Png,
    WebP,
    Tiff,
    Heic,
}

impl Format {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Format::Jpeg => "jpeg",
            Format::Png => "png",
            Format::WebP => "webp",
            Format::Tiff => "tiff",
            Format::Heic => "heic",
        }
    }
}

/// What the headers say.
#[derive(Debug, Clone)]
pub(crate) struct Header {
    pub format: Format,
    pub width: u32,
    pub height: u32,
    /// EXIF orientation 1–8 (1 when absent or out of range).
    pub orientation: u8,
    /// The embedded ICC profile, when it could be read without decompressing anything.
    /// PNG keeps its profile zlib-compressed; that one is read by the decoder instead.
    pub icc: Option<Vec<u8>>,
    /// Metadata blocks found while reading the header (JPEG and WebP), in file order:
    /// `EXIF`, `XMP`, `ICC profile`, `IPTC`, `comment`, `application segment`.
    pub metadata: Vec<&'static str>,
}

/// Tells the type from the first bytes and reads the header of that type.
pub(crate) fn read(bytes: &[u8]) -> Result<Header, PhotoError> {
    match sniff(bytes)? {
        Format::Jpeg => jpeg(bytes),
        Format::Png => png(bytes),
        Format::WebP => webp(bytes),
        Format::Tiff => tiff_file(bytes),
        Format::Heic => heic(bytes),
    }
}

/// Tells the type from the first bytes.
pub(crate) fn sniff(b: &[u8]) -> Result<Format, PhotoError> {
    if b.is_empty() {
        return Err(PhotoError::corrupt("the file is empty (0 bytes)"));
    }
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(Format::Jpeg);
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Ok(Format::Png);
    }
    if b.len() >= 12 && &b[0..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        return Ok(Format::WebP);
    }
    if b.starts_with(b"II*\0") || b.starts_with(b"MM\0*") {
        return Ok(Format::Tiff);
    }
    if b.starts_with(b"II+\0") || b.starts_with(b"MM\0+") {
        return Err(PhotoError::unsupported("a BigTIFF image"));
    }
    if b.len() >= 12 && &b[4..8] == b"ftyp" {
        let size = be32(b, 0).unwrap_or(0) as usize;
        let ftyp = &b[8..size.clamp(12, b.len())];
        let brands: Vec<&[u8]> = ftyp
            .chunks_exact(4)
            .enumerate()
            .filter(|(i, _)| *i != 1)
            .map(|(_, c)| c)
            .collect();
        let has = |names: &[&[u8]]| brands.iter().any(|b| names.contains(b));
        if has(&[
            b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs",
        ]) {
            return Ok(Format::Heic);
        }
        if has(&[b"avif", b"avis"]) {
            return Err(PhotoError::unsupported("an AVIF image"));
        }
        if has(&[b"mif1", b"msf1"]) {
            return Ok(Format::Heic);
        }
        return Err(PhotoError::unsupported("a video or other MP4-family file"));
    }
    Err(PhotoError::unsupported(describe_other(b)))
}

/// A few words on what a non-photo is, for the error message.
fn describe_other(b: &[u8]) -> &'static str {
    let starts = |m: &[u8]| b.starts_with(m);
    if starts(b"\x7fELF") {
        "an executable program (ELF)"
    } else if starts(b"MZ") {
        "a Windows executable program"
    } else if starts(&[0xCA, 0xFE, 0xBA, 0xBE]) || starts(&[0xCF, 0xFA, 0xED, 0xFE]) {
        "an executable program (Mach-O)"
    } else if starts(b"#!") {
        "a script"
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        "a GIF image"
    } else if starts(b"BM") {
        "a BMP image"
    } else if starts(b"%PDF") {
        "a PDF document"
    } else if starts(b"PK\x03\x04") {
        "a ZIP archive (or an Office document)"
    } else if starts(&[0xFF, 0xD8]) {
        "a damaged JPEG"
    } else {
        let head = &b[..b.len().min(512)];
        let text = head.iter().all(|&c| {
            c == b'\n' || c == b'\r' || c == b'\t' || (0x20..0x7f).contains(&c) || c >= 0x80
        });
        let lower = String::from_utf8_lossy(head).to_ascii_lowercase();
        if lower.contains("<html")
            || lower.contains("<!doctype")
            || lower.contains("<script")
            || lower.contains("<svg")
        {
            "an HTML, SVG or other markup file"
        } else if text {
            "a text file"
        } else {
            "of an unknown type"
        }
    }
}

// ---------------------------------------------------------------- JPEG

fn jpeg(b: &[u8]) -> Result<Header, PhotoError> {
    let mut metadata = Vec::new();
    let mut i = 2;
    let mut size = None;
    let mut orientation = 1;
    let mut icc_chunks: Vec<(u8, &[u8])> = Vec::new();
    loop {
        // Markers may be preceded by any number of 0xFF fill bytes.
        while b.get(i) == Some(&0xFF) && b.get(i + 1) == Some(&0xFF) {
            i += 1;
        }
        let (Some(&0xFF), Some(&marker)) = (b.get(i), b.get(i + 1)) else {
            return Err(PhotoError::corrupt(
                "the JPEG headers end before the image data starts",
            ));
        };
        i += 2;
        match marker {
            0xD8 | 0x01 | 0xD0..=0xD7 => continue,
            0xD9 => return Err(PhotoError::corrupt("the JPEG ends before any image data")),
            _ => {}
        }
        let len = be16(b, i)
            .ok_or_else(|| PhotoError::corrupt("the JPEG is cut short inside its headers"))?
            as usize;
        if len < 2 || i + len > b.len() {
            return Err(PhotoError::corrupt(
                "the JPEG is cut short inside its headers",
            ));
        }
        let body = &b[i + 2..i + len];
        if let Some(kind) = jpeg_metadata_kind(marker, body) {
            metadata.push(kind);
        }
        match marker {
            0xDA => break,
            // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
            0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC) => {
                if body.len() < 6 {
                    return Err(PhotoError::corrupt("the JPEG frame header is too short"));
                }
                let h = u32::from(u16::from_be_bytes([body[1], body[2]]));
                let w = u32::from(u16::from_be_bytes([body[3], body[4]]));
                size = Some((w, h));
            }
            0xE1 if body.starts_with(b"Exif\0\0") => {
                if let Ok(t) = Tiff::new(&body[6..])
                    && let Ok(o) = t.orientation()
                {
                    orientation = o;
                }
            }
            0xE2 if body.starts_with(b"ICC_PROFILE\0") && body.len() >= 14 => {
                icc_chunks.push((body[12], &body[14..]));
            }
            _ => {}
        }
        i += len;
    }
    let (width, height) =
        size.ok_or_else(|| PhotoError::corrupt("the JPEG has no frame header (no size)"))?;
    if width == 0 || height == 0 {
        return Err(PhotoError::corrupt(
            "the JPEG declares a width or height of 0",
        ));
    }
    icc_chunks.sort_by_key(|(seq, _)| *seq);
    let icc = (!icc_chunks.is_empty()).then(|| {
        icc_chunks
            .iter()
            .flat_map(|(_, c)| c.iter().copied())
            .collect()
    });
    Ok(Header {
        format: Format::Jpeg,
        width,
        height,
        orientation,
        icc,
        metadata,
    })
}

// ---------------------------------------------------------------- PNG

fn png(b: &[u8]) -> Result<Header, PhotoError> {
    if b.len() < 33 || &b[12..16] != b"IHDR" {
        return Err(PhotoError::corrupt("the PNG has no image header"));
    }
    let width = be32(b, 16).unwrap_or(0);
    let height = be32(b, 20).unwrap_or(0);
    if width == 0 || height == 0 {
        return Err(PhotoError::corrupt(
            "the PNG declares a width or height of 0",
        ));
    }
    let orientation = png_orientation(&mut Cursor::new(b)).unwrap_or(1);
    Ok(Header {
        format: Format::Png,
        width,
        height,
        orientation,
        icc: None,
        metadata: Vec::new(),
    })
}

/// An eXIf chunk is read up to this size (the orientation sits in its first directory).
const PNG_EXIF_MAX: u64 = 1 << 20;

/// The EXIF orientation of a PNG (1 without an eXIf chunk), from walking its chunk list:
/// only chunk lengths are read and the data skipped (nothing is inflated), but for an eXIf
/// chunk's. Works on a file as well as on bytes in memory, for PNGs too large to hold.
pub(crate) fn png_orientation<R: Read + Seek>(r: &mut R) -> io::Result<u8> {
    let size = r.seek(SeekFrom::End(0))?;
    let mut orientation = 1;
    let mut at = 8u64;
    loop {
        r.seek(SeekFrom::Start(at))?;
        let mut head = [0u8; 8];
        if r.read_exact(&mut head).is_err() {
            break;
        }
        let len = u64::from(u32::from_be_bytes([head[0], head[1], head[2], head[3]]));
        let start = at + 8;
        let Some(end) = start.checked_add(len).filter(|&e| e <= size) else {
            break;
        };
        match &head[4..] {
            b"eXIf" => {
                let mut data = vec![0u8; len.min(PNG_EXIF_MAX) as usize];
                r.read_exact(&mut data)?;
                if let Ok(t) = Tiff::new(&data)
                    && let Ok(o) = t.orientation()
                {
                    orientation = o;
                }
            }
            b"IEND" => break,
            _ => {}
        }
        at = end + 4;
    }
    Ok(orientation)
}

/// Which kind of metadata a JPEG header segment carries, if any (JFIF's APP0 is not metadata).
fn jpeg_metadata_kind(marker: u8, body: &[u8]) -> Option<&'static str> {
    match marker {
        0xE1 if body.starts_with(b"Exif\0") => Some("EXIF"),
        0xE1 => Some("XMP"),
        0xE2 => Some("ICC profile"),
        0xED => Some("IPTC"),
        0xFE => Some("comment"),
        0xE3..=0xEF => Some("application segment"),
        _ => None,
    }
}

// ---------------------------------------------------------------- WebP

fn webp(b: &[u8]) -> Result<Header, PhotoError> {
    let mut metadata = Vec::new();
    let mut size = None;
    let mut orientation = 1;
    let mut icc = None;
    let mut i = 12;
    while let (Some(kind), Some(len)) = (b.get(i..i + 4), le32(b, i + 4)) {
        let start = i + 8;
        let end = start.saturating_add(len as usize).min(b.len());
        let d = &b[start..end];
        match kind {
            b"VP8X" if d.len() >= 10 => {
                size = Some((le24(d, 4) + 1, le24(d, 7) + 1));
            }
            b"VP8 " if size.is_none() && d.len() >= 10 => {
                if d[3..6] != [0x9d, 0x01, 0x2a] {
                    return Err(PhotoError::corrupt(
                        "the WebP image data has a bad signature",
                    ));
                }
                let w = u32::from(u16::from_le_bytes([d[6], d[7]]) & 0x3fff);
                let h = u32::from(u16::from_le_bytes([d[8], d[9]]) & 0x3fff);
                size = Some((w, h));
            }
            b"VP8L" if size.is_none() && d.len() >= 5 => {
                if d[0] != 0x2f {
                    return Err(PhotoError::corrupt(
                        "the WebP image data has a bad signature",
                    ));
                }
                let bits = u32::from_le_bytes([d[1], d[2], d[3], d[4]]);
                size = Some(((bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1));
            }
            b"ICCP" => {
                metadata.push("ICC profile");
                icc = Some(d.to_vec());
            }
            b"XMP " => metadata.push("XMP"),
            b"EXIF" => {
                metadata.push("EXIF");
                let tiff = d.strip_prefix(b"Exif\0\0").unwrap_or(d);
                if let Ok(t) = Tiff::new(tiff)
                    && let Ok(o) = t.orientation()
                {
                    orientation = o;
                }
            }
            _ => {}
        }
        i = start
            .saturating_add(len as usize)
            .saturating_add(len as usize & 1);
    }
    let (width, height) =
        size.ok_or_else(|| PhotoError::corrupt("the WebP file has no image data"))?;
    if width == 0 || height == 0 {
        return Err(PhotoError::corrupt(
            "the WebP declares a width or height of 0",
        ));
    }
    Ok(Header {
        format: Format::WebP,
        width,
        height,
        orientation,
        icc,
        metadata,
    })
}

// ---------------------------------------------------------------- TIFF (files and EXIF blocks)

fn tiff_file(b: &[u8]) -> Result<Header, PhotoError> {
    let t = Tiff::new(b)?;
    let entries = t.ifd0()?;
    let icc = entries
        .iter()
        .find(|e| e.tag == 34675)
        .and_then(|e| t.bytes(e))
        .map(<[u8]>::to_vec);
    tiff_header(&t, &entries, icc)
}

/// An embedded ICC profile larger than this is not read from a TIFF file.
const TIFF_ICC_MAX: u32 = 16 << 20;

/// [`read`] for a TIFF file whose first directory lies beyond the bytes read first (libtiff
/// writes it after the pixels): the directory, and the ICC profile if there is one, are read
/// from `r`; nothing else.
pub(crate) fn tiff_reader<R: Read + Seek>(r: &mut R) -> Result<Header, PhotoError> {
    let short = |_| PhotoError::corrupt("the TIFF/EXIF directory is cut short");
    let mut start = [0u8; 8];
    r.seek(SeekFrom::Start(0))?;
    r.read_exact(&mut start).map_err(short)?;
    let head = Tiff::new(&start)?;
    let at = head.u32(4).unwrap_or(0);
    r.seek(SeekFrom::Start(u64::from(at)))?;
    let mut count = [0u8; 2];
    r.read_exact(&mut count).map_err(short)?;
    let n = usize::from(if head.little {
        u16::from_le_bytes(count)
    } else {
        u16::from_be_bytes(count)
    });
    // The directory copied behind a header that points right at it; values held in the
    // entries themselves (width, height, orientation) read as in a whole file.
    let mut dir = start[..4].to_vec();
    dir.extend_from_slice(&if head.little {
        8u32.to_le_bytes()
    } else {
        8u32.to_be_bytes()
    });
    dir.extend_from_slice(&count);
    dir.resize(10 + n * 12, 0);
    r.read_exact(&mut dir[10..]).map_err(short)?;
    dir.extend_from_slice(&[0; 4]);
    let t = Tiff::new(&dir)?;
    let entries = t.ifd0()?;
    let icc = match entries.iter().find(|e| e.tag == 34675) {
        Some(e) if matches!(e.kind, 1 | 7) && e.count > 4 && e.count <= TIFF_ICC_MAX => {
            let mut icc = vec![0u8; e.count as usize];
            let offset = t.u32(e.field).unwrap_or(0);
            r.seek(SeekFrom::Start(u64::from(offset)))?;
            r.read_exact(&mut icc).ok().map(|()| icc)
        }
        Some(e) => t.bytes(e).map(<[u8]>::to_vec),
        None => None,
    };
    tiff_header(&t, &entries, icc)
}

fn tiff_header(t: &Tiff, entries: &[Entry], icc: Option<Vec<u8>>) -> Result<Header, PhotoError> {
    let get = |tag| {
        entries
            .iter()
            .find(|e| e.tag == tag)
            .and_then(|e| t.number(e))
    };
    let (Some(width), Some(height)) = (get(256), get(257)) else {
        return Err(PhotoError::corrupt(
            "the TIFF does not say its width and height",
        ));
    };
    if width == 0 || height == 0 {
        return Err(PhotoError::corrupt(
            "the TIFF declares a width or height of 0",
        ));
    }
    let orientation = get(274).filter(|o| (1..=8).contains(o)).unwrap_or(1) as u8;
    Ok(Header {
        format: Format::Tiff,
        width,
        height,
        orientation,
        icc,
        metadata: Vec::new(),
    })
}

/// A classic (32-bit offset) TIFF structure: a TIFF file, or the body of an EXIF block.
pub(crate) struct Tiff<'a> {
    data: &'a [u8],
    little: bool,
}

struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    /// Offset of the 4-byte value/offset field within `data`.
    field: usize,
}

impl<'a> Tiff<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Result<Self, PhotoError> {
        let little = match data.get(0..4) {
            Some(b"II*\0") => true,
            Some(b"MM\0*") => false,
            _ => return Err(PhotoError::corrupt("bad TIFF/EXIF header")),
        };
        Ok(Tiff { data, little })
    }

    fn u16(&self, at: usize) -> Option<u16> {
        let b = self.data.get(at..at + 2)?;
        Some(if self.little {
            u16::from_le_bytes([b[0], b[1]])
        } else {
            u16::from_be_bytes([b[0], b[1]])
        })
    }

    fn u32(&self, at: usize) -> Option<u32> {
        let b = self.data.get(at..at + 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if self.little {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }

    fn ifd0(&self) -> Result<Vec<Entry>, PhotoError> {
        let bad = || PhotoError::corrupt("the TIFF/EXIF directory is cut short");
        let at = self.u32(4).ok_or_else(bad)? as usize;
        let n = self.u16(at).ok_or_else(bad)? as usize;
        if at + 2 + n * 12 > self.data.len() {
            return Err(bad());
        }
        Ok((0..n)
            .map(|k| {
                let e = at + 2 + k * 12;
                Entry {
                    tag: self.u16(e).unwrap_or(0),
                    kind: self.u16(e + 2).unwrap_or(0),
                    count: self.u32(e + 4).unwrap_or(0),
                    field: e + 8,
                }
            })
            .collect())
    }

    /// A SHORT or LONG value.
    fn number(&self, e: &Entry) -> Option<u32> {
        match e.kind {
            3 => self.u16(e.field).map(u32::from),
            4 => self.u32(e.field),
            _ => None,
        }
    }

    /// The bytes of a BYTE/UNDEFINED entry.
    fn bytes(&self, e: &Entry) -> Option<&'a [u8]> {
        if !matches!(e.kind, 1 | 7) {
            return None;
        }
        let n = e.count as usize;
        let start = if n <= 4 {
            e.field
        } else {
            self.u32(e.field)? as usize
        };
        self.data.get(start..start.checked_add(n)?)
    }

    /// The orientation tag of IFD0, 1 when absent or outside 1–8.
    pub(crate) fn orientation(&self) -> Result<u8, PhotoError> {
        let entries = self.ifd0()?;
        Ok(entries
            .iter()
            .find(|e| e.tag == 274)
            .and_then(|e| self.number(e))
            .filter(|o| (1..=8).contains(o))
            .unwrap_or(1) as u8)
    }
}

// ---------------------------------------------------------------- HEIC (ISO BMFF)

/// Reads the primary image's size (`ispe`) and rotation/mirror (`irot`/`imir`) from the `meta`
/// box. The orientation is reported as the EXIF number it amounts to; libheif applies it when
/// converting, so the pipeline does not apply it again.
fn heic(b: &[u8]) -> Result<Header, PhotoError> {
    let meta = boxes(b).find(|(t, _)| t == b"meta").map(|(_, d)| d);
    let meta = meta
        .and_then(|d| d.get(4..))
        .ok_or_else(|| PhotoError::corrupt("the HEIC file has no metadata box"))?;
    let mut primary = None;
    let mut props: Vec<([u8; 4], &[u8])> = Vec::new();
    let mut assoc: Vec<(u32, Vec<usize>)> = Vec::new();
    for (t, d) in boxes(meta) {
        match &t {
            b"pitm" => {
                primary = if d.first() == Some(&0) {
                    be16(d, 4).map(u32::from)
                } else {
                    be32(d, 4)
                };
            }
            b"iprp" => {
                for (t, d) in boxes(d) {
                    match &t {
                        b"ipco" => props = boxes(d).collect(),
                        b"ipma" => assoc.extend(ipma(d)),
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    let mine: Vec<&([u8; 4], &[u8])> =
        match primary.and_then(|p| assoc.iter().find(|(id, _)| *id == p)) {
            Some((_, idx)) => idx
                .iter()
                .filter_map(|&k| k.checked_sub(1).and_then(|k| props.get(k)))
                .collect(),
            None => props.iter().collect(),
        };
    let (width, height) = mine
        .iter()
        .filter(|(t, _)| t == b"ispe")
        .filter_map(|(_, d)| Some((be32(d, 4)?, be32(d, 8)?)))
        .max_by_key(|(w, h)| u64::from(*w) * u64::from(*h))
        .ok_or_else(|| PhotoError::corrupt("the HEIC file does not say its size"))?;
    if width == 0 || height == 0 {
        return Err(PhotoError::corrupt(
            "the HEIC declares a width or height of 0",
        ));
    }
    let rot = mine
        .iter()
        .find(|(t, _)| t == b"irot")
        .and_then(|(_, d)| d.first())
        .map_or(0, |a| a & 3);
    let mirror = mine
        .iter()
        .find(|(t, _)| t == b"imir")
        .and_then(|(_, d)| d.first())
        .map(|a| a & 1);
    // irot is counter-clockwise quarter turns; imir 0 = vertical axis (left-right flip).
    let orientation = match (rot, mirror) {
        (0, None) => 1,
        (1, None) => 8,
        (2, None) => 3,
        (3, None) => 6,
        (0, Some(0)) => 2,
        (0, Some(_)) => 4,
        (1, Some(0)) => 7,
        (1, Some(_)) => 5,
        (2, Some(0)) => 4,
        (2, Some(_)) => 2,
        (3, Some(0)) => 5,
        (_, Some(_)) => 7,
        _ => 1,
    };
    // The dimensions in `ispe` are before rotation; report them as stored, like EXIF does.
    Ok(Header {
        format: Format::Heic,
        width,
        height,
        orientation,
        icc: None,
        metadata: Vec::new(),
    })
}

/// The item → property associations of an `ipma` box.
fn ipma(d: &[u8]) -> Vec<(u32, Vec<usize>)> {
    let (version, flags) = (
        d.first().copied().unwrap_or(0),
        d.get(3).copied().unwrap_or(0),
    );
    let mut out = Vec::new();
    let Some(count) = be32(d, 4) else { return out };
    let mut i = 8;
    for _ in 0..count.min(10_000) {
        let id = if version < 1 {
            let v = be16(d, i).map(u32::from);
            i += 2;
            v
        } else {
            let v = be32(d, i);
            i += 4;
            v
        };
        let (Some(id), Some(&n)) = (id, d.get(i)) else {
            break;
        };
        i += 1;
        let mut idx = Vec::new();
        for _ in 0..n {
            if flags & 1 == 1 {
                let Some(v) = be16(d, i) else { break };
                idx.push(usize::from(v & 0x7fff));
                i += 2;
            } else {
                let Some(&v) = d.get(i) else { break };
                idx.push(usize::from(v & 0x7f));
                i += 1;
            }
        }
        out.push((id, idx));
    }
    out
}

/// The boxes directly inside `d`, as (type, body).
fn boxes(d: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut i = 0usize;
    std::iter::from_fn(move || {
        let size = be32(d, i)? as usize;
        let t: [u8; 4] = d.get(i + 4..i + 8)?.try_into().ok()?;
        let (start, end) = match size {
            0 => (i + 8, d.len()),
            1 => {
                let big = d.get(i + 8..i + 16)?;
                let big = u64::from_be_bytes(big.try_into().ok()?);
                (i + 16, i.checked_add(usize::try_from(big).ok()?)?)
            }
            s if s < 8 => return None,
            s => (i + 8, i.checked_add(s)?),
        };
        let body = d.get(start..end.min(d.len()))?;
        i = end;
        Some((t, body))
    })
}

// ---------------------------------------------------------------- bytes

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn le24(b: &[u8], at: usize) -> u32 {
    u32::from(b[at]) | u32::from(b[at + 1]) << 8 | u32::from(b[at + 2]) << 16
}
