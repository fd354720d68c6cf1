//! Decoding to RGB at the smallest size that still serves the web rendition.

use std::io::{self, BufRead, Cursor, Seek};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use image::{DynamicImage, ImageDecoder};
use turbojpeg::{Colorspace, Decompressor, PixelFormat, ScalingFactor};

use crate::header::{self, Format, Header};
use crate::pixels::{self, Rgb};
use crate::{PhotoError, rows};

/// A decoded photo: pixels as stored (not yet turned upright) and its ICC profile.
pub(crate) struct Decoded {
    pub rgb: Rgb,
    pub icc: Option<Vec<u8>>,
    /// The EXIF orientation still to apply (1 when the decoder already applied it).
    pub orientation: u8,
}

/// Progressive JPEGs may have any number of scans; libjpeg-turbo advises a cap against
/// files crafted to take minutes.
const JPEG_SCAN_LIMIT: u32 = 500;

/// How long `heif-convert` may take for one photo.
const HEIF_CONVERT_TIMEOUT: Duration = Duration::from_secs(120);

pub(crate) fn decode(
    bytes: &[u8],
    head: &Header,
    long_side_needed: u32,
    max_pixels: u64,
) -> Result<Decoded, PhotoError> {
    let orientation = head.orientation;
    match head.format {
        Format::Jpeg => {
            let rgb = jpeg(bytes, long_side_needed)?;
            Ok(Decoded {
                rgb,
                icc: head.icc.clone(),
                orientation,
            })
        }
        Format::Png | Format::Tiff => {
            decode_reader(Cursor::new(bytes), head, long_side_needed, max_pixels)
        }
        Format::WebP => {
            if let Some(decoded) = rows::webp(bytes, head, long_side_needed)? {
                return Ok(decoded);
            }
            // With alpha, lossless or animated: decoded whole to RGB(A).
            let dec =
                image::codecs::webp::WebPDecoder::new(Cursor::new(bytes)).map_err(image_error)?;
            with_image_crate(dec, head.icc.clone(), orientation)
        }
        Format::Heic => heic(bytes, long_side_needed, max_pixels),
    }
}

/// A PNG or TIFF read from `r`, which may be a file: decoded row by row and shrunk to fit
/// `max` as it comes where the file allows ([`rows`]), so that neither the file nor the
/// full-size picture is ever held; otherwise (interlaced PNG, a TIFF in one huge strip or in
/// planes, unusual samples) decoded whole at full size, as every photo was before.
pub(crate) fn decode_reader<R: BufRead + Seek>(
    mut r: R,
    head: &Header,
    max: u32,
    max_pixels: u64,
) -> Result<Decoded, PhotoError> {
    let limits = limits(head, max_pixels);
    let rowwise = match head.format {
        Format::Png => rows::png(&mut r, head, max, limits.max_alloc.unwrap_or(u64::MAX))?,
        Format::Tiff => rows::tiff(&mut r, head, max)?,
        _ => None,
    };
    if let Some(decoded) = rowwise {
        return Ok(decoded);
    }
    r.rewind()?;
    match head.format {
        Format::Png => {
            let dec =
                image::codecs::png::PngDecoder::with_limits(r, limits).map_err(image_error)?;
            with_image_crate(dec, head.icc.clone(), head.orientation)
        }
        Format::Tiff => {
            let dec = image::codecs::tiff::TiffDecoder::new(r).map_err(image_error)?;
            with_image_crate(dec, head.icc.clone(), head.orientation)
        }
        _ => Err(PhotoError::unsupported(
            "a photo type read only from memory",
        )),
    }
}

/// A libjpeg-turbo decompressor set up for `bytes`, scaled by 1/2, 1/4 or 1/8 inside the
/// inverse DCT when the result still has at least `long_side_needed` pixels on its long side:
/// most of the work of a 12 MP photo is never done. Returns the scaled size.
pub(crate) fn jpeg_decompressor(
    bytes: &[u8],
    long_side_needed: u32,
) -> Result<(Decompressor, turbojpeg::DecompressHeader, usize, usize), PhotoError> {
    let mut d =
        Decompressor::new().map_err(|e| PhotoError::corrupt(format!("JPEG decoder: {e}")))?;
    let h = d
        .read_header(bytes)
        .map_err(|e| jpeg_error(&e.to_string()))?;
    let mut factor = ScalingFactor::ONE;
    if !h.is_lossless {
        for denom in [8, 4, 2] {
            let f = ScalingFactor::new(1, denom);
            if f.scale(h.width).max(f.scale(h.height)) >= long_side_needed as usize {
                factor = f;
                break;
            }
        }
    }
    d.set_scaling_factor(factor)
        .map_err(|e| jpeg_error(&e.to_string()))?;
    d.set_scan_limit(JPEG_SCAN_LIMIT)
        .map_err(|e| jpeg_error(&e.to_string()))?;
    let (w, ht) = (factor.scale(h.width), factor.scale(h.height));
    Ok((d, h, w, ht))
}

/// Maps a failed decompression to an error, except for harmless warnings (libjpeg-turbo still
/// decoded every row), which are common in camera files.
pub(crate) fn jpeg_result(r: Result<(), turbojpeg::Error>) -> Result<(), PhotoError> {
    match r {
        Ok(()) => Ok(()),
        Err(e) => {
            let msg = e.to_string();
            if msg.contains("extraneous bytes before marker")
                || msg.contains("unknown JFIF revision")
            {
                Ok(())
            } else {
                Err(jpeg_error(&msg))
            }
        }
    }
}

/// Decodes a JPEG to RGB at the reduced size [`jpeg_decompressor`] chooses.
fn jpeg(bytes: &[u8], long_side_needed: u32) -> Result<Rgb, PhotoError> {
    let (mut d, h, w, ht) = jpeg_decompressor(bytes, long_side_needed)?;
    if matches!(h.colorspace, Colorspace::CMYK | Colorspace::YCCK) {
        // libjpeg-turbo does not convert CMYK to RGB; the pure-Rust decoder does (full size).
        let dec = image::codecs::jpeg::JpegDecoder::new(Cursor::new(bytes)).map_err(image_error)?;
        return with_image_crate(dec, None, 1).map(|d| d.rgb);
    }
    let mut rgb = Rgb::blank(w as u32, ht as u32);
    let out = turbojpeg::Image {
        pixels: &mut rgb.data[..],
        width: w,
        pitch: w * 3,
        height: ht,
        format: PixelFormat::RGB,
    };
    jpeg_result(d.decompress(bytes, out))?;
    Ok(rgb)
}

fn jpeg_error(msg: &str) -> PhotoError {
    let msg = msg.trim_start_matches("TurboJPEG error: ");
    if msg.contains("Premature end") || msg.contains("premature end") {
        PhotoError::corrupt("the JPEG file is cut short (truncated)")
    } else {
        PhotoError::corrupt(format!("the JPEG data is damaged ({msg})"))
    }
}

/// The image crate's limits, a second fence behind the header check.
fn limits(head: &Header, max_pixels: u64) -> image::Limits {
    let mut l = image::Limits::default();
    l.max_image_width = Some(head.width);
    l.max_image_height = Some(head.height);
    l.max_alloc = Some(max_pixels.saturating_mul(8).max(1 << 26));
    l
}

pub(crate) fn with_image_crate(
    dec: impl ImageDecoder,
    icc: Option<Vec<u8>>,
    orientation: u8,
) -> Result<Decoded, PhotoError> {
    let mut dec = dec;
    let icc = icc.or_else(|| dec.icc_profile().ok().flatten());
    let img = DynamicImage::from_decoder(dec).map_err(image_error)?;
    let (w, h) = (img.width(), img.height());
    let rgb = if img.color().has_alpha() {
        pixels::flatten_on_white(img.into_rgba8().as_raw(), w, h)
    } else {
        Rgb {
            width: w,
            height: h,
            data: img.into_rgb8().into_raw(),
        }
    };
    Ok(Decoded {
        rgb,
        icc,
        orientation,
    })
}

fn image_error(e: image::ImageError) -> PhotoError {
    match e {
        image::ImageError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            PhotoError::corrupt("the file is cut short (truncated)")
        }
        image::ImageError::Unsupported(u) => {
            PhotoError::unsupported(format!("a variant this program cannot read ({u})"))
        }
        image::ImageError::Limits(_) => {
            PhotoError::corrupt("the image needs more memory than it declares")
        }
        other => PhotoError::corrupt(other.to_string()),
    }
}

/// HEIC through libheif's `heif-convert`, which applies the HEIF rotation and mirroring
/// itself; its JPEG output then goes through the ordinary path.
fn heic(bytes: &[u8], long_side_needed: u32, max_pixels: u64) -> Result<Decoded, PhotoError> {
    let dir = tempfile::tempdir()?;
    let input = dir.path().join("in.heic");
    let output = dir.path().join("out.jpg");
    std::fs::write(&input, bytes)?;
    run_heif_convert(&input, &output)?;
    let jpeg = std::fs::read(&output)?;
    let head = header::read(&jpeg)?;
    if u64::from(head.width) * u64::from(head.height) > max_pixels {
        return Err(PhotoError::TooManyPixels {
            width: head.width,
            height: head.height,
            limit: max_pixels,
        });
    }
    let rgb = self::jpeg(&jpeg, long_side_needed)?;
    Ok(Decoded {
        rgb,
        icc: head.icc,
        orientation: 1,
    })
}

fn run_heif_convert(input: &Path, output: &Path) -> Result<(), PhotoError> {
    let mut child = match Command::new("heif-convert")
        .arg("-q")
        .arg("95")
        .arg(input)
        .arg(output)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
    {
        Ok(c) => c,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(PhotoError::HeicUnavailable),
        Err(e) => return Err(e.into()),
    };
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait()? {
            if status.success() && output.exists() {
                return Ok(());
            }
            return Err(PhotoError::corrupt(
                "heif-convert could not read this HEIC photo",
            ));
        }
        if started.elapsed() > HEIF_CONVERT_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(PhotoError::corrupt(
                "heif-convert took too long on this HEIC photo",
            ));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// True when `heif-convert` can be started here.
pub(crate) fn heif_convert_available() -> bool {
    Command::new("heif-convert")
        .arg("--help")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}
