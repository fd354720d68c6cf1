//! PNG and TIFF decoded a few rows at a time and shrunk as they come ([`RowShrinker`]), so
//! a 24 or 50 MP photo never exists at full size in memory, nor does its file (they read
//! from any `BufRead + Seek`, a file included); a lossy WebP's YUV frame turned into RGB a
//! row at a time and shrunk the same way.
//!
//! The pixels are those of the `image` crate's full decode: the same decoders (`png`,
//! `tiff`, `image-webp`) with the same transformations, 16-bit samples rounded to 8 bits,
//! alpha laid over white and YUV turned into RGB the same way. Photos these readers do not take row by row return `None`, and
//! the caller decodes them whole as before: interlaced (Adam7) PNGs, whose last pass fills
//! every other row of the whole picture; TIFFs stored in one huge strip, in planes, or with
//! samples other than 8/16-bit unsigned integers; WebPs with alpha, lossless or animated.

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

/// A lossy WebP without alpha or animation: `image-webp` decodes the VP8 frame whole but as
/// its Y, U and V planes (1.5 bytes a pixel, where its RGB decode adds 3 more and the
/// `image` crate's conversion another 3), and the rows are turned into RGB here one at a
/// time, with `image-webp`'s own "fancy" chroma upsampling and YUV → RGB arithmetic (the
/// pixels are those of its RGB decode), and shrunk as they come. `None` for any other WebP.
pub(crate) fn webp(bytes: &[u8], head: &Header, max: u32) -> Result<Option<Decoded>, PhotoError> {
    let mut container = image_webp::WebPDecoder::new(io::Cursor::new(bytes)).map_err(webp_error)?;
    if container.is_animated() || container.has_alpha() || !container.is_lossy() {
        return Ok(None);
    }
    // The first top-level VP8 chunk: the picture of a still, lossy WebP.
    let mut at = 12usize;
    let range = loop {
        let (Some(kind), Some(len)) = (bytes.get(at..at + 4), bytes.get(at + 4..at + 8)) else {
            return Ok(None);
        };
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        let start = at + 8;
        let end = start.saturating_add(len).min(bytes.len());
        if kind == b"VP8 " {
            break start..end;
        }
        at = end.saturating_add(len & 1);
    };
    let frame = image_webp::vp8::Vp8Decoder::decode_frame(io::Cursor::new(&bytes[range]))
        .map_err(webp_error)?;
    let (w, h) = (usize::from(frame.width), usize::from(frame.height));
    if (w as u32, h as u32) != (head.width, head.height)
        || container.dimensions() != (head.width, head.height)
    {
        return Ok(None);
    }
    let stride = w.next_multiple_of(16);
    let (cw, cstride, ch) = (w.div_ceil(2), stride / 2, h.div_ceil(2));
    let mut shrinker = RowShrinker::new(head.width, head.height, max);
    let mut rgb = vec![0u8; w * 3];
    for y in 0..h {
        let (main, other) = fancy_pair(y, ch);
        let luma = &frame.ybuf[y * stride..y * stride + w];
        let (u1, u2) = (
            &frame.ubuf[main * cstride..][..cw],
            &frame.ubuf[other * cstride..][..cw],
        );
        let (v1, v2) = (
            &frame.vbuf[main * cstride..][..cw],
            &frame.vbuf[other * cstride..][..cw],
        );
        for (x, (px, &luma)) in rgb.chunks_exact_mut(3).zip(luma).enumerate() {
            let (m, o) = fancy_pair(x, cw);
            let fancy = |a: &[u8], b: &[u8]| {
                let v = 9 * u16::from(a[m])
                    + 3 * u16::from(a[o])
                    + 3 * u16::from(b[m])
                    + u16::from(b[o])
                    + 8;
                (v / 16) as u8
            };
            let (u, v) = (fancy(u1, u2), fancy(v1, v2));
            px[0] = webp_clip(webp_mulhi(luma, 19077) + webp_mulhi(v, 26149) - 14234);
            px[1] = webp_clip(
                webp_mulhi(luma, 19077) - webp_mulhi(u, 6419) - webp_mulhi(v, 13320) + 8708,
            );
            px[2] = webp_clip(webp_mulhi(luma, 19077) + webp_mulhi(u, 33050) - 17685);
        }
        shrinker.push(&rgb);
    }
    drop(frame);
    Ok(Some(Decoded {
        rgb: shrinker.finish()?,
        icc: head
            .icc
            .clone()
            .or_else(|| container.icc_profile().ok().flatten()),
        orientation: head.orientation,
    }))
}

/// In libwebp's (and `image-webp`'s) "fancy" upsampling, the chroma sample that luma
/// position `i` (a row or column) sits on and the neighbour it is blended with, 3:1; `n`
/// chroma samples. Blending both ways gives the 9:3:3:1 weights.
fn fancy_pair(i: usize, n: usize) -> (usize, usize) {
    let (main, other) = match i {
        0 => (0, 0),
        i if i % 2 == 1 => (i / 2, i / 2 + 1),
        i => (i / 2, i / 2 - 1),
    };
    (main, if other < n { other } else { main })
}

/// libwebp's (and `image-webp`'s) fixed-point YUV → RGB.
fn webp_mulhi(v: u8, coeff: u16) -> i32 {
    ((u32::from(v) * u32::from(coeff)) >> 8) as i32
}

fn webp_clip(v: i32) -> u8 {
    (v >> 6).clamp(0, 255) as u8
}

fn webp_error(e: image_webp::DecodingError) -> PhotoError {
    match e {
        image_webp::DecodingError::IoError(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            PhotoError::corrupt("the file is cut short (truncated)")
        }
        other => PhotoError::corrupt(format!("the WebP is damaged ({other})")),
    }
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

#[cfg(test)]
mod tests {
    //! The row-wise decoders against the full decode they replace: the `image` crate's
    //! decoder, then one Lanczos3 resize of the whole picture.

    use std::io::Cursor;

    use super::*;
    use crate::decode::{self, with_image_crate};
    use crate::header;
    use crate::pixels::{self, Rgb};
    use crate::shrink::box_factors;

    /// A photo-like pattern: smooth shading, hard edges and noise, in every channel.
    fn sample(x: u32, y: u32, c: u32, w: u32, h: u32) -> u16 {
        let mut s = (u64::from(x) << 40 | u64::from(y) << 8 | u64::from(c))
            .wrapping_mul(0x9E37_79B9_7F4A_7C15);
        s ^= s >> 31;
        let noise = (s % 4096) as i64 - 2048;
        let shade = (i64::from(x) * 40_000 / i64::from(w) + i64::from(y) * 20_000 / i64::from(h))
            * i64::from(c + 1)
            % 60_000;
        let edge = if (x / 37 + y / 23 + c) % 3 == 0 {
            3_000
        } else {
            0
        };
        (shade + edge + noise).clamp(0, 65_535) as u16
    }

    /// An alpha sample: opaque, transparent and in between, in patches.
    fn alpha(x: u32, y: u32) -> u16 {
        [65_535, 0, 30_000, 65_535][((x / 50 + y / 30) % 4) as usize]
    }

    fn png_bytes(w: u32, h: u32, colour: ::png::ColorType, depth: ::png::BitDepth) -> Vec<u8> {
        let mut out = Vec::new();
        let mut enc = ::png::Encoder::new(&mut out, w, h);
        enc.set_color(colour);
        enc.set_depth(depth);
        enc.set_compression(::png::Compression::Fastest);
        let channels = match colour {
            ::png::ColorType::Grayscale | ::png::ColorType::Indexed => 1,
            ::png::ColorType::GrayscaleAlpha => 2,
            ::png::ColorType::Rgb => 3,
            ::png::ColorType::Rgba => 4,
        };
        if colour == ::png::ColorType::Indexed {
            let palette: Vec<u8> = (0..=255u32)
                .flat_map(|i| [i as u8, (i * 7 % 256) as u8, (255 - i) as u8])
                .collect();
            enc.set_palette(palette);
            enc.set_trns(
                (0..=255u32)
                    .map(|i| (i * 3 % 256) as u8)
                    .collect::<Vec<_>>(),
            );
        }
        let mut data = Vec::new();
        for y in 0..h {
            let mut bits = Vec::new();
            for x in 0..w {
                for c in 0..channels {
                    let v = if (colour == ::png::ColorType::Rgba && c == 3)
                        || (colour == ::png::ColorType::GrayscaleAlpha && c == 1)
                    {
                        alpha(x, y)
                    } else {
                        sample(x, y, c, w, h)
                    };
                    match depth {
                        ::png::BitDepth::Sixteen => data.extend_from_slice(&v.to_be_bytes()),
                        ::png::BitDepth::Eight => data.push((v >> 8) as u8),
                        d => bits.push((v >> (16 - d as u8)) as u8),
                    }
                }
            }
            if !bits.is_empty() {
                let per = 8 / depth as usize;
                for chunk in bits.chunks(per) {
                    let mut byte = 0u8;
                    for (i, &b) in chunk.iter().enumerate() {
                        byte |= b << (8 - depth as usize * (i + 1));
                    }
                    data.push(byte);
                }
            }
        }
        let mut writer = enc.write_header().unwrap();
        writer.write_image_data(&data).unwrap();
        writer.finish().unwrap();
        out
    }

    /// What the full decode made: the whole picture, resized once to fit `max`.
    fn whole(bytes: &[u8], max: u32) -> Rgb {
        let head = header::read(bytes).unwrap();
        let decoded = match head.format {
            header::Format::Png => with_image_crate(
                image::codecs::png::PngDecoder::new(Cursor::new(bytes)).unwrap(),
                None,
                1,
            ),
            header::Format::WebP => with_image_crate(
                image::codecs::webp::WebPDecoder::new(Cursor::new(bytes)).unwrap(),
                None,
                1,
            ),
            _ => with_image_crate(
                image::codecs::tiff::TiffDecoder::new(Cursor::new(bytes)).unwrap(),
                None,
                1,
            ),
        }
        .unwrap();
        pixels::shrink(decoded.rgb, max)
    }

    fn rowwise(bytes: &[u8], max: u32) -> Option<Rgb> {
        let head = header::read(bytes).unwrap();
        let decoded = match head.format {
            header::Format::Png => png(Cursor::new(bytes), &head, max, u64::MAX),
            header::Format::WebP => webp(bytes, &head, max),
            _ => tiff(Cursor::new(bytes), &head, max),
        };
        decoded.unwrap().map(|d| d.rgb)
    }

    fn psnr(a: &Rgb, b: &Rgb) -> f64 {
        assert_eq!((a.width, a.height), (b.width, b.height));
        let se: f64 = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
            .sum();
        10.0 * (255.0f64.powi(2) * a.data.len() as f64 / se).log10()
    }

    /// Without a box pre-reduction the result is the full decode's, pixel for pixel; with
    /// one, within what a box average that far above the target changes.
    fn assert_same(bytes: &[u8], max: u32, what: &str) {
        let head = header::read(bytes).unwrap();
        let (want, got) = (whole(bytes, max), rowwise(bytes, max).expect(what));
        assert_eq!((got.width, got.height), (want.width, want.height), "{what}");
        if box_factors(head.width, head.height, max) == (1, 1) {
            assert!(
                got.data == want.data,
                "{what}: differs from the full decode"
            );
        } else {
            let db = psnr(&got, &want);
            assert!(db > 40.0, "{what}: PSNR {db:.1} dB against the full decode");
        }
    }

    #[test]
    fn every_png_colour_type_and_depth_is_the_full_decode() {
        use ::png::{BitDepth as D, ColorType as C};
        for (colour, depth) in [
            (C::Rgb, D::Eight),
            (C::Rgb, D::Sixteen),
            (C::Rgba, D::Eight),
            (C::Rgba, D::Sixteen),
            (C::Grayscale, D::Eight),
            (C::Grayscale, D::Sixteen),
            (C::Grayscale, D::One),
            (C::Grayscale, D::Four),
            (C::GrayscaleAlpha, D::Eight),
            (C::GrayscaleAlpha, D::Sixteen),
            (C::Indexed, D::Eight),
        ] {
            let bytes = png_bytes(900, 700, colour, depth);
            for max in [400, 300, 200, 1000] {
                assert_same(&bytes, max, &format!("{colour:?} {depth:?}, max {max}"));
            }
        }
    }

    #[test]
    fn sizes_bands_and_box_factors() {
        // (width, height, max): no resize; box factor 1 with many bands; odd sizes with box
        // factors 2 and 3 leaving partial boxes; a panorama and a tall strip.
        for (w, h, max) in [
            (640, 480, 640),
            (300, 200, 400),
            (2000, 3000, 1600),
            (2001, 1333, 400),
            (2999, 1999, 500),
            (5000, 7, 400),
            (5000, 301, 400),
            (90, 4001, 300),
            (1601, 3, 1600),
        ] {
            let bytes = png_bytes(w, h, ::png::ColorType::Rgb, ::png::BitDepth::Eight);
            assert_same(&bytes, max, &format!("{w}x{h} to {max}"));
        }
    }

    /// An 8-bit RGB PNG with Adam7 interlacing, written by hand (the `png` crate does not
    /// interlace): each pass's rows unfiltered, in stored deflate blocks.
    fn interlaced_png(w: u32, h: u32) -> Vec<u8> {
        let crc32 = |bytes: &[u8]| {
            let mut crc = !0u32;
            for &b in bytes {
                crc ^= u32::from(b);
                for _ in 0..8 {
                    crc = if crc & 1 == 1 {
                        (crc >> 1) ^ 0xEDB8_8320
                    } else {
                        crc >> 1
                    };
                }
            }
            !crc
        };
        let chunk = |kind: &[u8; 4], data: &[u8]| {
            let body = [&kind[..], data].concat();
            [
                &(data.len() as u32).to_be_bytes()[..],
                &body,
                &crc32(&body).to_be_bytes(),
            ]
            .concat()
        };
        let mut raw = Vec::new();
        for (x0, y0, dx, dy) in [
            (0, 0, 8, 8),
            (4, 0, 8, 8),
            (0, 4, 4, 8),
            (2, 0, 4, 4),
            (0, 2, 2, 4),
            (1, 0, 2, 2),
            (0, 1, 1, 2),
        ] {
            if x0 >= w {
                continue;
            }
            for y in (y0..h).step_by(dy) {
                raw.push(0);
                for x in (x0..w).step_by(dx) {
                    raw.extend((0..3).map(|c| (sample(x, y, c, w, h) >> 8) as u8));
                }
            }
        }
        let mut zlib = vec![0x78, 0x01];
        let blocks: Vec<&[u8]> = raw.chunks(65_535).collect();
        for (i, block) in blocks.iter().enumerate() {
            zlib.push(u8::from(i + 1 == blocks.len()));
            let len = block.len() as u16;
            zlib.extend_from_slice(&len.to_le_bytes());
            zlib.extend_from_slice(&(!len).to_le_bytes());
            zlib.extend_from_slice(block);
        }
        let (mut a, mut b) = (1u32, 0u32);
        for &byte in &raw {
            a = (a + u32::from(byte)) % 65_521;
            b = (b + a) % 65_521;
        }
        zlib.extend_from_slice(&(b << 16 | a).to_be_bytes());
        let mut ihdr = w.to_be_bytes().to_vec();
        ihdr.extend_from_slice(&h.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 1]);
        [
            &b"\x89PNG\r\n\x1a\n"[..],
            &chunk(b"IHDR", &ihdr),
            &chunk(b"IDAT", &zlib),
            &chunk(b"IEND", &[]),
        ]
        .concat()
    }

    #[test]
    fn an_interlaced_png_is_decoded_whole() {
        let bytes = interlaced_png(500, 300);
        assert!(rowwise(&bytes, 200).is_none());
        let head = header::read(&bytes).unwrap();
        let d = decode::decode(&bytes, &head, 200, 100_000_000).unwrap();
        let full = pixels::shrink(d.rgb, 200);
        assert!(full.data == whole(&bytes, 200).data);
    }

    fn tiff_bytes<C: ::tiff::encoder::colortype::ColorType>(
        w: u32,
        h: u32,
        rows_per_strip: u32,
        sample: impl Fn(u32, u32, u32) -> C::Inner,
    ) -> Vec<u8>
    where
        [C::Inner]: ::tiff::encoder::TiffValue,
    {
        let mut out = Cursor::new(Vec::new());
        let mut enc = ::tiff::encoder::TiffEncoder::new(&mut out).unwrap();
        let mut img = enc.new_image::<C>(w, h).unwrap();
        img.rows_per_strip(rows_per_strip).unwrap();
        let spp = C::BITS_PER_SAMPLE.len() as u32;
        let mut y = 0;
        while img.next_strip_sample_count() > 0 {
            let rows = img.next_strip_sample_count() as u32 / (w * spp);
            let strip: Vec<C::Inner> = (y..y + rows)
                .flat_map(|yy| (0..w).flat_map(move |x| (0..spp).map(move |c| (x, yy, c))))
                .map(|(x, yy, c)| sample(x, yy, c))
                .collect();
            img.write_strip(&strip).unwrap();
            y += rows;
        }
        img.finish().unwrap();
        out.into_inner()
    }

    #[test]
    fn tiff_strips_of_every_colour_type_are_the_full_decode() {
        use ::tiff::encoder::colortype as t;
        let (w, h) = (900, 700);
        let s8 = |x, y, c| (sample(x, y, c, w, h) >> 8) as u8;
        let s16 = |x, y, c| sample(x, y, c, w, h);
        let a8 = |x, y, c| {
            if c == 3 {
                (alpha(x, y) >> 8) as u8
            } else {
                s8(x, y, c)
            }
        };
        let inputs = [
            ("RGB8", tiff_bytes::<t::RGB8>(w, h, 16, s8)),
            ("RGB16", tiff_bytes::<t::RGB16>(w, h, 7, s16)),
            ("RGBA8", tiff_bytes::<t::RGBA8>(w, h, 1, a8)),
            ("Gray8", tiff_bytes::<t::Gray8>(w, h, 64, s8)),
            ("Gray16", tiff_bytes::<t::Gray16>(w, h, 3, s16)),
            ("CMYK8", tiff_bytes::<t::CMYK8>(w, h, 16, s8)),
        ];
        for (what, bytes) in inputs {
            for max in [400, 200, 1000] {
                assert_same(&bytes, max, &format!("TIFF {what}, max {max}"));
            }
        }
    }

    #[test]
    fn a_tiff_in_one_huge_strip_is_decoded_whole() {
        use ::tiff::encoder::colortype as t;
        let (w, h) = (2600, 2200);
        let bytes = tiff_bytes::<t::RGB8>(w, h, h, |x, y, c| (sample(x, y, c, w, h) >> 8) as u8);
        assert!(rowwise(&bytes, 400).is_none(), "17 MB in one strip");
        let head = header::read(&bytes).unwrap();
        let d = decode::decode(&bytes, &head, 400, 100_000_000).unwrap();
        assert!(pixels::shrink(d.rgb, 400).data == whole(&bytes, 400).data);
    }

    /// An uncompressed, tiled, 8-bit RGB TIFF, written by hand (the `tiff` crate writes strips
    /// only); tiles at the right and bottom edges are padded, as the format wants.
    fn tiled_tiff(w: u32, h: u32, tile: u32) -> Vec<u8> {
        let across = w.div_ceil(tile);
        let down = h.div_ceil(tile);
        let tile_bytes = tile * tile * 3;
        let mut out = b"II*\0".to_vec();
        out.extend_from_slice(&0u32.to_le_bytes());
        let mut offsets = Vec::new();
        for ty in 0..down {
            for tx in 0..across {
                offsets.push(out.len() as u32);
                for y in ty * tile..(ty + 1) * tile {
                    for x in tx * tile..(tx + 1) * tile {
                        for c in 0..3 {
                            let v = if x < w && y < h {
                                (sample(x, y, c, w, h) >> 8) as u8
                            } else {
                                0xAA
                            };
                            out.push(v);
                        }
                    }
                }
            }
        }
        let n = offsets.len() as u32;
        let put = |out: &mut Vec<u8>, v: &[u32]| -> u32 {
            let at = out.len() as u32;
            for x in v {
                out.extend_from_slice(&x.to_le_bytes());
            }
            at
        };
        let offsets_at = put(&mut out, &offsets);
        let counts_at = put(&mut out, &vec![tile_bytes; n as usize]);
        let bits_at = out.len() as u32;
        for _ in 0..3 {
            out.extend_from_slice(&8u16.to_le_bytes());
        }
        let ifd = out.len() as u32;
        out[4..8].copy_from_slice(&ifd.to_le_bytes());
        let entries: [(u16, u16, u32, u32); 10] = [
            (256, 4, 1, w),
            (257, 4, 1, h),
            (258, 3, 3, bits_at),
            (259, 3, 1, 1),
            (262, 3, 1, 2),
            (277, 3, 1, 3),
            (322, 4, 1, tile),
            (323, 4, 1, tile),
            (324, 4, n, offsets_at),
            (325, 4, n, counts_at),
        ];
        out.extend_from_slice(&(entries.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in entries {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            if kind == 3 && count == 1 {
                out.extend_from_slice(&(value as u16).to_le_bytes());
                out.extend_from_slice(&[0, 0]);
            } else {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        out.extend_from_slice(&0u32.to_le_bytes());
        out
    }

    #[test]
    fn a_tiled_tiff_is_the_full_decode() {
        let bytes = tiled_tiff(1000, 700, 256);
        for max in [400, 200, 1000] {
            assert_same(&bytes, max, &format!("tiled TIFF, max {max}"));
        }
    }

    fn rgb_picture(w: u32, h: u32) -> Vec<u8> {
        (0..h)
            .flat_map(|y| (0..w).flat_map(move |x| (0..3).map(move |c| (x, y, c))))
            .map(|(x, y, c)| (sample(x, y, c, w, h) >> 8) as u8)
            .collect()
    }

    #[test]
    fn a_lossy_webp_is_the_full_decode() {
        // Even and odd widths and heights: the chroma planes' last column and row are shared
        // or not.
        for (w, h) in [(900, 700), (901, 701), (900, 701), (33, 1200)] {
            let bytes = webp::Encoder::from_rgb(&rgb_picture(w, h), w, h)
                .encode(80.0)
                .to_vec();
            for max in [400, 200, 1000] {
                assert_same(&bytes, max, &format!("lossy WebP {w}x{h}, max {max}"));
            }
        }
    }

    #[test]
    fn a_webp_with_alpha_or_lossless_is_decoded_whole() {
        let (w, h) = (300, 200);
        let rgba: Vec<u8> = rgb_picture(w, h)
            .chunks_exact(3)
            .enumerate()
            .flat_map(|(i, p)| {
                [
                    p[0],
                    p[1],
                    p[2],
                    (alpha(i as u32 % w, i as u32 / w) >> 8) as u8,
                ]
            })
            .collect();
        let with_alpha = webp::Encoder::from_rgba(&rgba, w, h).encode(80.0).to_vec();
        let lossless = webp::Encoder::from_rgb(&rgb_picture(w, h), w, h)
            .encode_lossless()
            .to_vec();
        for bytes in [with_alpha, lossless] {
            assert!(rowwise(&bytes, 100).is_none());
            let head = header::read(&bytes).unwrap();
            let d = decode::decode(&bytes, &head, 100, 100_000_000).unwrap();
            assert!(pixels::shrink(d.rgb, 100).data == whole(&bytes, 100).data);
        }
    }
}
