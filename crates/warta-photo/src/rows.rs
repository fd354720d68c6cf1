//! PNG and TIFF decoded a few rows at a time and shrunk as they come ([`RowShrinker`]), so
//! a 24 or 50 MP photo never exists at full size in memory, nor does its file (they read
//! from any `BufRead + Seek`, a file included).
//!
//! The pixels are those of the `image` crate's full decode: the same decoders (`png`,
//! `tiff`) with the same transformations, 16-bit samples rounded to 8 bits and alpha laid
//! over white the same way. Photos these readers do not take row by row return `None`, and
//! the caller decodes them whole as before: interlaced (Adam7) PNGs, whose last pass fills
//! every other row of the whole picture; TIFFs stored in one huge strip, in planes, or with
//! samples other than 8/16-bit unsigned integers.

use std::io::{self, BufRead, Seek};

use crate::PhotoError;
use crate::decode::Decoded;
use crate::header::Header;
use crate::shrink::{RowShrinker, Samples, row_to_rgb, row16_to_rgb};

/// A TIFF strip or tile row is read whole: at most this many bytes of samples (most
/// programs write strips of 8 KiB to 1 MiB).
const TIFF_CHUNK_BUDGET: u64 = 16 << 20;

/// A PNG, shrunk to fit `max` while it is decoded; `None` for an interlaced PNG.
pub(crate) fn png<R: BufRead + Seek>(
    r: R,
    head: &Header,
    max: u32,
    max_alloc: u64,
) -> Result<Option<Decoded>, PhotoError> {
    let mut decoder = ::png::Decoder::new_with_limits(
        r,
        ::png::Limits {
            bytes: usize::try_from(max_alloc).unwrap_or(usize::MAX),
        },
    );
    // Text chunks are metadata that never reaches an output; skipping them saves memory.
    decoder.set_ignore_text_chunk(true);
    let info = decoder.read_header_info().map_err(png_error)?;
    if info.interlaced {
        return Ok(None);
    }
    if (info.width, info.height) != (head.width, head.height) {
        return Err(PhotoError::corrupt(
            "the PNG's image header changed while it was read",
        ));
    }
    // As the image crate decodes PNGs: palettes to RGB(A), transparency to alpha, grey of
    // fewer than 8 bits to 8 bits; 16-bit samples are kept and rounded below.
    decoder.set_transformations(::png::Transformations::EXPAND);
    let mut reader = decoder.read_info().map_err(png_error)?;
    let icc = reader.info().icc_profile.as_ref().map(|p| p.to_vec());
    let (colour, depth) = reader.output_color_type();
    let samples = match colour {
        ::png::ColorType::Grayscale => Samples::Grey,
        ::png::ColorType::GrayscaleAlpha => Samples::GreyAlpha,
        ::png::ColorType::Rgb => Samples::Rgb,
        ::png::ColorType::Rgba => Samples::Rgba,
        ::png::ColorType::Indexed => return Ok(None),
    };
    let sixteen = match depth {
        ::png::BitDepth::Eight => false,
        ::png::BitDepth::Sixteen => true,
        _ => return Ok(None),
    };
    let mut shrinker = RowShrinker::new(head.width, head.height, max);
    let mut rgb = vec![0u8; head.width as usize * 3];
    let (mut wide, mut scratch) = (Vec::new(), Vec::new());
    while let Some(row) = reader.next_row().map_err(png_error)? {
        let data = row.data();
        if sixteen {
            wide.clear();
            wide.extend(
                data.chunks_exact(2)
                    .map(|b| u16::from_be_bytes([b[0], b[1]])),
            );
            row16_to_rgb(samples, &wide, &mut scratch, &mut rgb);
        } else {
            row_to_rgb(samples, data, &mut rgb);
        }
        shrinker.push(&rgb);
    }
    Ok(Some(Decoded {
        rgb: shrinker.finish()?,
        icc,
        orientation: head.orientation,
    }))
}

fn png_error(e: ::png::DecodingError) -> PhotoError {
    match e {
        ::png::DecodingError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            PhotoError::corrupt("the file is cut short (truncated)")
        }
        ::png::DecodingError::LimitsExceeded => {
            PhotoError::corrupt("the image needs more memory than it declares")
        }
        ::png::DecodingError::IoError(e) => PhotoError::corrupt(e.to_string()),
        ::png::DecodingError::Format(e) => PhotoError::corrupt(format!("the PNG is damaged ({e})")),
        ::png::DecodingError::Parameter(e) => {
            PhotoError::corrupt(format!("the PNG could not be read ({e})"))
        }
    }
}

/// A TIFF, shrunk to fit `max` while its strips or tiles are decoded one (row of tiles) at a
/// time; `None` for a TIFF this does not take so (see the module documentation).
pub(crate) fn tiff<R: BufRead + Seek>(
    r: R,
    head: &Header,
    max: u32,
) -> Result<Option<Decoded>, PhotoError> {
    use ::tiff::decoder::{ChunkType, Decoder, DecodingResult};
    use ::tiff::tags::Tag;

    let mut dec = Decoder::new(r).map_err(tiff_error)?;
    let (width, height) = dec.dimensions().map_err(tiff_error)?;
    if (width, height) != (head.width, head.height) {
        return Err(PhotoError::corrupt(
            "the TIFF's size differs between its headers",
        ));
    }
    let (samples, bits) = match dec.colortype().map_err(tiff_error)? {
        ::tiff::ColorType::Gray(b) => (Samples::Grey, b),
        ::tiff::ColorType::GrayA(b) => (Samples::GreyAlpha, b),
        ::tiff::ColorType::RGB(b) => (Samples::Rgb, b),
        ::tiff::ColorType::RGBA(b) => (Samples::Rgba, b),
        ::tiff::ColorType::CMYK(b) => (Samples::Cmyk, b),
        _ => return Ok(None),
    };
    if bits != 8 && bits != 16 {
        return Ok(None);
    }
    let unsigned = dec
        .find_tag_unsigned_vec::<u16>(Tag::SampleFormat)
        .map_err(tiff_error)?
        .is_none_or(|f| f.iter().all(|&f| f == 1));
    let chunky = dec
        .find_tag_unsigned::<u16>(Tag::PlanarConfiguration)
        .map_err(tiff_error)?
        .is_none_or(|p| p == 1);
    if !unsigned || !chunky {
        return Ok(None);
    }
    let icc = head
        .icc
        .clone()
        .or_else(|| dec.get_tag_u8_vec(Tag::IccProfile).ok());
    let channels = samples.channels();
    let bytes = u64::from(bits / 8);
    let (cw, ch) = dec.chunk_dimensions();
    let tiled = dec.get_chunk_type() == ChunkType::Tile;
    // One strip, or one row of tiles and its RGB copy, in memory at a time.
    let chunk_bytes = if tiled {
        u64::from(width.div_ceil(cw.max(1)) * cw) * u64::from(ch) * (channels as u64 * bytes + 3)
    } else {
        u64::from(width) * u64::from(ch) * channels as u64 * bytes
    };
    if cw == 0 || ch == 0 || chunk_bytes > TIFF_CHUNK_BUDGET {
        return Ok(None);
    }

    let mut shrinker = RowShrinker::new(width, height, max);
    let mut scratch = Vec::new();
    // Converts `rows` rows of `w` pixels of decoded samples into RGB rows `w` wide, written
    // `stride` RGB bytes apart into `out` from byte `x` on.
    let mut convert = |result: &DecodingResult,
                       w: usize,
                       rows: usize,
                       out: &mut [u8],
                       x: usize,
                       stride: usize|
     -> Result<(), PhotoError> {
        let n = w * channels;
        for r in 0..rows {
            let dst = &mut out[r * stride + x..r * stride + x + w * 3];
            match result {
                DecodingResult::U8(v) => {
                    let src = v.get(r * n..(r + 1) * n).ok_or_else(short_chunk)?;
                    row_to_rgb(samples, src, dst);
                }
                DecodingResult::U16(v) => {
                    let src = v.get(r * n..(r + 1) * n).ok_or_else(short_chunk)?;
                    row16_to_rgb(samples, src, &mut scratch, dst);
                }
                _ => return Err(PhotoError::unsupported("a TIFF with unusual samples")),
            }
        }
        Ok(())
    };
    if tiled {
        let across = width.div_ceil(cw);
        let down = height.div_ceil(ch);
        let stride = width as usize * 3;
        let mut band = vec![0u8; stride * ch as usize];
        for ty in 0..down {
            let mut rows = 0;
            for tx in 0..across {
                let index = ty * across + tx;
                let (dw, dh) = dec.chunk_data_dimensions(index);
                let result = dec.read_chunk(index).map_err(tiff_error)?;
                rows = dh as usize;
                convert(
                    &result,
                    dw as usize,
                    rows,
                    &mut band,
                    (tx * cw) as usize * 3,
                    stride,
                )?;
            }
            for row in band.chunks_exact(stride).take(rows) {
                shrinker.push(row);
            }
        }
    } else {
        let strips = dec.strip_count().map_err(tiff_error)?;
        let mut rgb = vec![0u8; width as usize * 3 * ch as usize];
        for index in 0..strips {
            let (dw, dh) = dec.chunk_data_dimensions(index);
            let result = dec.read_chunk(index).map_err(tiff_error)?;
            let stride = dw as usize * 3;
            convert(&result, dw as usize, dh as usize, &mut rgb, 0, stride)?;
            for row in rgb.chunks_exact(stride).take(dh as usize) {
                shrinker.push(row);
            }
        }
    }
    Ok(Some(Decoded {
        rgb: shrinker.finish()?,
        icc,
        orientation: head.orientation,
    }))
}

fn short_chunk() -> PhotoError {
    PhotoError::corrupt("a TIFF strip or tile holds fewer pixels than it declares")
}

fn tiff_error(e: ::tiff::TiffError) -> PhotoError {
    match e {
        ::tiff::TiffError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            PhotoError::corrupt("the file is cut short (truncated)")
        }
        ::tiff::TiffError::UnsupportedError(u) => {
            PhotoError::unsupported(format!("a variant this program cannot read ({u})"))
        }
        ::tiff::TiffError::LimitsExceeded => {
            PhotoError::corrupt("the image needs more memory than it declares")
        }
        other => PhotoError::corrupt(other.to_string()),
    }
}
