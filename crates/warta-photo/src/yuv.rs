//! The fast path for the common case — a YCbCr JPEG in, JPEG out, no colour conversion
//! needed: the photo never becomes RGB. libjpeg-turbo decodes (DCT-scaled) straight to its
//! Y, Cb and Cr planes, skipping chroma upsampling and colour conversion; each plane is
//! resampled on its own to the 4:2:0 layout of the output, turned upright, and handed back to
//! libjpeg-turbo's planar encoder, which skips the conversion the other way. Half the bytes
//! are touched of what RGB would need, at every step.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use turbojpeg::{Colorspace, Compressor, Subsamp, YuvImage, YuvPlanesImage};

use crate::decode::{jpeg_decompressor, jpeg_result};
use crate::pixels::{self, fit};
use crate::{Encoded, PhotoError};

/// One 8-bit plane: `width`×`height` pixels used, rows `stride` bytes apart.
struct Plane {
    width: u32,
    height: u32,
    stride: u32,
    data: Vec<u8>,
    /// The part of the plane that holds the picture, in plane pixels (fractional where the
    /// picture ends inside a subsampled chroma sample).
    used: (f64, f64),
}

/// A picture as three planes, luma first.
struct Planes {
    width: u32,
    height: u32,
    planes: [Plane; 3],
}

/// Web and thumbnail JPEGs and the hash, or `None` when this JPEG is not for the fast path
/// (greyscale, CMYK, RGB-coded, or an unusual subsampling).
pub(crate) fn renditions(
    bytes: &[u8],
    orientation: u8,
    web_max: u32,
    thumb_max: u32,
    quality: u8,
) -> Result<Option<(Encoded, Encoded, u64)>, PhotoError> {
    let Some(decoded) = decode(bytes, web_max)? else {
        return Ok(None);
    };
    let (w, h) = fit(decoded.width, decoded.height, web_max);
    let web = orient(resize(&decoded, w, h), orientation);
    drop(decoded);
    let (tw, th) = fit(web.width, web.height, thumb_max);
    let thumb = resize(&web, tw, th);
    let y = &thumb.planes[0];
    let hash = pixels::dhash(
        &y.data,
        y.width as usize,
        y.height as usize,
        y.stride as usize,
    );
    Ok(Some((
        encode(&web, quality)?,
        encode(&thumb, quality)?,
        hash,
    )))
}

fn decode(bytes: &[u8], long_side_needed: u32) -> Result<Option<Planes>, PhotoError> {
    let (mut d, h, w, ht) = jpeg_decompressor(bytes, long_side_needed)?;
    let (sw, sh) = match h.subsamp {
        Subsamp::None => (1, 1),
        Subsamp::Sub2x1 => (2, 1),
        Subsamp::Sub2x2 => (2, 2),
        Subsamp::Sub1x2 => (1, 2),
        Subsamp::Sub4x1 => (4, 1),
        _ => return Ok(None),
    };
    if h.colorspace != Colorspace::YCbCr {
        return Ok(None);
    }
    let layout = YuvImage {
        pixels: (),
        width: w,
        align: 1,
        height: ht,
        subsamp: h.subsamp,
    };
    let (yw, yh) = layout.y_size();
    let (cw, ch) = layout.uv_size();
    let len = turbojpeg::yuv_pixels_len(w, 1, ht, h.subsamp)
        .map_err(|e| PhotoError::corrupt(e.to_string()))?;
    let mut buf = vec![0u8; len];
    let out = YuvImage {
        pixels: &mut buf[..],
        width: w,
        align: 1,
        height: ht,
        subsamp: h.subsamp,
    };
    jpeg_result(d.decompress_to_yuv(bytes, out))?;
    let chroma_used = (w as f64 / sw as f64, ht as f64 / sh as f64);
    let v = buf.split_off(yw * yh + cw * ch);
    let u = buf.split_off(yw * yh);
    let plane = |data: Vec<u8>, pw: usize, ph: usize, used: (f64, f64)| Plane {
        width: pw as u32,
        height: ph as u32,
        stride: pw as u32,
        data,
        used,
    };
    Ok(Some(Planes {
        width: w as u32,
        height: ht as u32,
        planes: [
            plane(buf, yw, yh, (w as f64, ht as f64)),
            plane(u, cw, ch, chroma_used),
            plane(v, cw, ch, chroma_used),
        ],
    }))
}

/// Resamples to `w`×`h` with 4:2:0 chroma (Lanczos3, SIMD).
fn resize(src: &Planes, w: u32, h: u32) -> Planes {
    let (cw, ch) = (w.div_ceil(2), h.div_ceil(2));
    let mut resizer = Resizer::new();
    let mut one = |p: &Plane, dw: u32, dh: u32, used: (f64, f64)| {
        let from = ImageRef::new(p.stride, p.height, &p.data, PixelType::U8)
            .expect("plane matches its size");
        let mut to = Image::new(dw, dh, PixelType::U8);
        let opts = ResizeOptions::new()
            .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
            .crop(0.0, 0.0, p.used.0, p.used.1);
        resizer
            .resize(&from, &mut to, &opts)
            .expect("same pixel type on both sides");
        Plane {
            width: dw,
            height: dh,
            stride: dw,
            data: to.into_vec(),
            used,
        }
    };
    let y = one(&src.planes[0], w, h, (f64::from(w), f64::from(h)));
    let chroma_used = (f64::from(w) / 2.0, f64::from(h) / 2.0);
    let u = one(&src.planes[1], cw, ch, chroma_used);
    let v = one(&src.planes[2], cw, ch, chroma_used);
    Planes {
        width: w,
        height: h,
        planes: [y, u, v],
    }
}

fn orient(p: Planes, orientation: u8) -> Planes {
    if !(2..=8).contains(&orientation) {
        return p;
    }
    let (width, height) = if orientation >= 5 {
        (p.height, p.width)
    } else {
        (p.width, p.height)
    };
    let planes = p.planes.map(|pl| {
        debug_assert_eq!(pl.stride, pl.width);
        let (w, h, data) = pixels::orient_raw::<1>(&pl.data, pl.width, pl.height, orientation);
        let used = if orientation >= 5 {
            (pl.used.1, pl.used.0)
        } else {
            pl.used
        };
        Plane {
            width: w,
            height: h,
            stride: w,
            data,
            used,
        }
    });
    Planes {
        width,
        height,
        planes,
    }
}

fn encode(p: &Planes, quality: u8) -> Result<Encoded, PhotoError> {
    let fail = |e: turbojpeg::Error| {
        PhotoError::Io(std::io::Error::other(format!("JPEG encoding failed: {e}")))
    };
    // libjpeg-turbo reads whole 2×2 blocks of luma: pad an odd width or height by repeating
    // the last column or row.
    let y = &p.planes[0];
    let (pw, ph) = (
        y.width.next_multiple_of(2) as usize,
        y.height.next_multiple_of(2) as usize,
    );
    let padded;
    let luma: &[u8] = if (pw, ph) == (y.width as usize, y.height as usize) {
        &y.data
    } else {
        let (w, h) = (y.width as usize, y.height as usize);
        let mut out = vec![0u8; pw * ph];
        for row in 0..ph {
            let src = &y.data[row.min(h - 1) * w..][..w];
            out[row * pw..row * pw + w].copy_from_slice(src);
            if pw > w {
                out[row * pw + w] = src[w - 1];
            }
        }
        padded = out;
        &padded
    };
    let image = YuvPlanesImage {
        y_plane: luma,
        u_plane: &p.planes[1].data[..],
        v_plane: &p.planes[2].data[..],
        width: p.width as usize,
        height: p.height as usize,
        y_stride: pw,
        u_stride: p.planes[1].stride as usize,
        v_stride: p.planes[2].stride as usize,
        subsamp: Subsamp::Sub2x2,
    };
    let mut c = Compressor::new().map_err(fail)?;
    c.set_quality(i32::from(quality.clamp(1, 100)))
        .map_err(fail)?;
    let bytes = c.compress_yuv_planes_to_vec(&image).map_err(fail)?;
    Ok(Encoded {
        bytes,
        width: p.width,
        height: p.height,
        mime: "image/jpeg",
    })
}
