#![forbid(unsafe_code)]
//! Photo renditions for Warta: a reporter's camera photo becomes a web rendition and a
//! thumbnail that are upright, sRGB, small, and carry no metadata at all; plus a perceptual
//! hash to flag near-duplicates.
//!
//! ```no_run
//! let r = warta_photo::process_file("DSC_0001.JPG".as_ref(), &warta_photo::PhotoConfig::default())?;
//! std::fs::write("web.jpg", &r.web.bytes)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Architecture Invariant: the type is told from the bytes, never from a file name, and the
//! declared size is checked against [`PhotoConfig::max_pixels`] from the header alone, before
//! any pixel is decoded (a decompression bomb costs a few hundred bytes read).
//!
//! Architecture Invariant: every output is a fresh encoding of bare pixels. Nothing from the
//! input — EXIF (GPS, serials, maker notes), XMP, IPTC, comments, ICC profiles, or bytes
//! appended after the image (polyglots) — can reach an output.
//!
//! Speed: a JPEG is decoded by libjpeg-turbo scaled by 1/2, 1/4 or 1/8 in the DCT domain (the
//! largest reduction that still leaves `web_max` pixels on the long side), resampled with
//! `fast_image_resize` (Lanczos3, SIMD), turned upright and colour-converted at web size, and
//! the thumbnail is made from the web rendition. For the common case (YCbCr JPEG in, JPEG out,
//! no profile to convert) this all happens on the Y/Cb/Cr planes, never in RGB. One call uses
//! one thread; run one call per worker for parallelism.
//!
//! Memory (peak RSS of a child process, checked by `tests/memory.rs`; the goal is 64 MB per
//! worker). A JPEG is decoded DCT-scaled (≈20 MiB at 12 MP). A PNG or TIFF is read a few
//! rows at a time — from the file itself with [`process_file`], which never reads it
//! whole — and shrunk as the rows come: box-averaged by an integer factor that leaves at
//! least twice the web size (libvips' shrink-on-load), then resampled band by band with the
//! same Lanczos3 as everything else, so no full-size picture ever exists and memory does
//! not grow with the photo: 24 MP ≈16 MiB, 50 MP ≈15 MiB (they took 145 and 278 MiB
//! decoded whole). Without a box (up to four times the web size) the result is pixel for
//! pixel that of decoding whole and resizing once. Still decoded whole at full size:
//! interlaced PNGs, TIFFs in one strip of more than 16 MiB, in planes or with float
//! samples. Two inputs need memory in proportion to their pixels:
//! - Progressive JPEGs: libjpeg-turbo keeps every DCT coefficient until the last scan,
//!   2 bytes per sample however far it scales the output (≈3 bytes a pixel at 4:2:0, 6 at
//!   4:4:4), and has no backing store to spill them to (its memory limit only makes the
//!   decode fail): ≈47 MiB at 12 MP, ≈88 MiB at 24 MP, over the goal from about 17 MP.
//! - Lossy WebP is decoded by `image-webp` as a whole frame of Y, U and V planes (1.5 bytes
//!   a pixel), turned into RGB a row at a time and shrunk as it comes: ≈34 MiB at 12 MP,
//!   ≈54 MiB at 24 MP, ≈100 MiB at 50 MP (they took 62, 115 and 233 MiB). Neither
//!   `image-webp` nor the safe API of libwebp decodes part of a frame or at a reduced size
//!   (libwebp's scaled decoding is reachable only through its unsafe FFI). A WebP with
//!   alpha, lossless or animated is still decoded whole to RGB(A).
//!
//! Colour: an embedded ICC profile that is not sRGB (Adobe RGB, Display P3, ProPhoto, …) is
//! converted to sRGB with `qcms`. Photos without a profile are taken as sRGB (a camera's EXIF
//! "Adobe RGB" flag without an embedded profile is not honoured).

mod decode;
mod encode;
mod error;
mod header;
mod pixels;
mod rows;
mod shrink;
mod yuv;

use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::Path;

pub use encode::WEBP_QUALITY;
pub use error::PhotoError;

/// How renditions are made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoConfig {
    /// Longest side of the web rendition, in pixels (never upscaled). Default 1600.
    pub web_max: u32,
    /// Longest side of the thumbnail, in pixels (never upscaled). Default 320.
    pub thumb_max: u32,
    /// Encoding of both renditions.
    pub format: OutputFormat,
    /// Photos declaring more pixels than this are refused before decoding. Default 100 MP.
    pub max_pixels: u64,
}

impl Default for PhotoConfig {
    fn default() -> Self {
        PhotoConfig {
            web_max: 1600,
            thumb_max: 320,
            format: OutputFormat::default(),
            max_pixels: 100_000_000,
        }
    }
}

/// Encoding of the renditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Baseline JPEG with 4:2:0 chroma subsampling; `quality` 1–100 (libjpeg scale).
    Jpeg { quality: u8 },
    /// Lossy WebP at [`WEBP_QUALITY`].
    WebP,
}

impl Default for OutputFormat {
    fn default() -> Self {
        OutputFormat::Jpeg { quality: 82 }
    }
}

impl OutputFormat {
    /// The MIME type of what this format produces.
    pub fn mime(self) -> &'static str {
        match self {
            OutputFormat::Jpeg { .. } => "image/jpeg",
            OutputFormat::WebP => "image/webp",
        }
    }
}

/// What a photo's headers declare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhotoInfo {
    /// `jpeg`, `png`, `webp`, `tiff` or `heic`, told from the bytes.
    pub format: &'static str,
    /// Width as stored, before the orientation is applied.
    pub width: u32,
    /// Height as stored, before the orientation is applied.
    pub height: u32,
    /// EXIF orientation 1–8 (1 = upright; 5–8 swap width and height when shown). For HEIC, the
    /// orientation its `irot`/`imir` boxes amount to.
    pub orientation: u8,
    /// Metadata blocks in a JPEG's or WebP's header, in file order (`EXIF`, `XMP`,
    /// `ICC profile`, `IPTC`, `comment`, `application segment`); empty for a clean file.
    /// Not read for PNG, TIFF or HEIC.
    pub metadata: Vec<&'static str>,
}

/// One encoded rendition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub bytes: Vec<u8>,
    /// Width as shown (upright).
    pub width: u32,
    /// Height as shown (upright).
    pub height: u32,
    /// `image/jpeg` or `image/webp`.
    pub mime: &'static str,
}

/// The renditions of one photo.
#[derive(Debug, Clone)]
pub struct Renditions {
    /// What the original declared.
    pub info: PhotoInfo,
    /// Longest side ≤ [`PhotoConfig::web_max`].
    pub web: Encoded,
    /// Longest side ≤ [`PhotoConfig::thumb_max`], made from the web rendition.
    pub thumb: Encoded,
    /// 64-bit difference hash of the upright photo; compare with [`hamming`].
    pub phash: u64,
}

/// Two photos whose hashes differ in at most this many bits look the same (re-encoded,
/// resized, lightly edited). Unrelated photos differ in about 32.
pub const NEAR_DUPLICATE_MAX_DISTANCE: u32 = 10;

/// Number of differing bits between two perceptual hashes.
pub fn hamming(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

/// Reads type, dimensions and orientation from the headers only; no pixel is decoded.
pub fn probe(bytes: &[u8]) -> Result<PhotoInfo, PhotoError> {
    header::read(bytes).map(|h| info(&h))
}

/// True when HEIC photos can be read here (the `heif-convert` program is installed).
pub fn heic_supported() -> bool {
    decode::heif_convert_available()
}

fn info(h: &header::Header) -> PhotoInfo {
    PhotoInfo {
        format: h.format.name(),
        width: h.width,
        height: h.height,
        orientation: h.orientation,
        metadata: h.metadata.clone(),
    }
}

/// Makes the web rendition, thumbnail and perceptual hash of a photo held in memory.
pub fn process(bytes: &[u8], cfg: &PhotoConfig) -> Result<Renditions, PhotoError> {
    let head = header::read(bytes)?;
    check_size(&head, cfg)?;
    if head.format == header::Format::Jpeg
        && let OutputFormat::Jpeg { quality } = cfg.format
        && head.icc.as_deref().is_none_or(pixels::is_srgb)
        && let Some((web, thumb, phash)) = yuv::renditions(
            bytes,
            head.orientation,
            cfg.web_max.max(1),
            cfg.thumb_max.max(1),
            quality,
        )?
    {
        return Ok(Renditions {
            info: info(&head),
            web,
            thumb,
            phash,
        });
    }
    let decoded = decode::decode(bytes, &head, cfg.web_max.max(1), cfg.max_pixels)?;
    finish(head, decoded, cfg)
}

/// The renditions of a decoded photo (already fitted to `web_max`, or larger).
fn finish(
    head: header::Header,
    decoded: decode::Decoded,
    cfg: &PhotoConfig,
) -> Result<Renditions, PhotoError> {
    let mut web = pixels::shrink(decoded.rgb, cfg.web_max);
    if let Some(icc) = &decoded.icc {
        pixels::to_srgb(&mut web, icc);
    }
    let web = pixels::orient(web, decoded.orientation);
    let thumb = pixels::shrink_ref(&web, cfg.thumb_max);
    let phash = pixels::dhash(
        &pixels::luma(&thumb),
        thumb.width as usize,
        thumb.height as usize,
        thumb.width as usize,
    );
    Ok(Renditions {
        info: info(&head),
        web: encode::encode(&web, cfg.format)?,
        thumb: encode::encode(&thumb, cfg.format)?,
        phash,
    })
}

/// How much of a file is read first, to refuse an oversized photo before reading the rest.
const HEAD_BYTES: u64 = 256 * 1024;

/// Like [`process`], reading the file. An oversized photo is refused after reading only its
/// first 256 KiB. A PNG or TIFF is not read into memory: it is decoded from the file a few
/// rows at a time (see Memory in the crate documentation); other types are read whole (a
/// JPEG or WebP file is small next to its pixels).
pub fn process_file(path: &Path, cfg: &PhotoConfig) -> Result<Renditions, PhotoError> {
    let mut file = std::fs::File::open(path)?;
    // One allocation of the right size: no regrowing (and re-faulting) of a 5 MB buffer. (For
    // a PNG or TIFF only the first 256 KiB of it is ever written, so only that is resident.)
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    (&mut file).take(HEAD_BYTES).read_to_end(&mut bytes)?;
    let read_all = bytes.len() < HEAD_BYTES as usize;
    let head = match header::read(&bytes) {
        Ok(mut head) => {
            check_size(&head, cfg)?;
            if head.format == header::Format::Png && !read_all {
                // An eXIf chunk may come after the image data.
                head.orientation = header::png_orientation(&mut file)?;
            }
            Some(head)
        }
        // libtiff writes the first directory after the pixels.
        Err(_) if !read_all && header::sniff(&bytes).ok() == Some(header::Format::Tiff) => {
            let head = header::tiff_reader(&mut file)?;
            check_size(&head, cfg)?;
            Some(head)
        }
        Err(_) => None,
    };
    if let Some(head) = head
        && matches!(head.format, header::Format::Png | header::Format::Tiff)
    {
        drop(bytes);
        file.seek(SeekFrom::Start(0))?;
        let decoded = decode::decode_reader(
            BufReader::new(file),
            &head,
            cfg.web_max.max(1),
            cfg.max_pixels,
        )?;
        return finish(head, decoded, cfg);
    }
    file.read_to_end(&mut bytes)?;
    process(&bytes, cfg)
}

fn check_size(head: &header::Header, cfg: &PhotoConfig) -> Result<(), PhotoError> {
    if u64::from(head.width) * u64::from(head.height) > cfg.max_pixels {
        return Err(PhotoError::TooManyPixels {
            width: head.width,
            height: head.height,
            limit: cfg.max_pixels,
        });
    }
    Ok(())
}
