//! The working image (8-bit RGB, rows packed) and what is done to it: resizing, turning
//! upright, colour conversion, the perceptual hash.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

/// An 8-bit RGB image, 3 bytes per pixel, rows packed without padding.
#[derive(Debug, Clone)]
pub(crate) struct Rgb {
    pub width: u32,
    pub height: u32,
    pub data: Vec<u8>,
}

impl Rgb {
    pub(crate) fn blank(width: u32, height: u32) -> Rgb {
        Rgb {
            width,
            height,
            data: vec![0; width as usize * height as usize * 3],
        }
    }
}

/// The size that fits `width`×`height` within `max` on the long side, aspect kept, never larger.
pub(crate) fn fit(width: u32, height: u32, max: u32) -> (u32, u32) {
    let max = max.max(1);
    let long = width.max(height);
    if long <= max {
        return (width, height);
    }
    let scale = |side: u32| {
        ((u64::from(side) * u64::from(max) + u64::from(long) / 2) / u64::from(long)).max(1) as u32
    };
    if width >= height {
        (max, scale(height))
    } else {
        (scale(width), max)
    }
}

/// Resamples to fit within `max` on the long side (Lanczos3, SIMD); a smaller image is
/// returned as it is.
pub(crate) fn shrink(src: Rgb, max: u32) -> Rgb {
    let (w, h) = fit(src.width, src.height, max);
    if (w, h) == (src.width, src.height) {
        return src;
    }
    shrink_ref(&src, max)
}

/// Like [`shrink`], keeping the source.
pub(crate) fn shrink_ref(src: &Rgb, max: u32) -> Rgb {
    let (w, h) = fit(src.width, src.height, max);
    if (w, h) == (src.width, src.height) {
        return src.clone();
    }
    let from = ImageRef::new(src.width, src.height, &src.data, PixelType::U8x3)
        .expect("buffer matches its size");
    let mut to = Image::new(w, h, PixelType::U8x3);
    let opts = ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3));
    Resizer::new()
        .resize(&from, &mut to, &opts)
        .expect("same pixel type on both sides");
    Rgb {
        width: w,
        height: h,
        data: to.into_vec(),
    }
}

/// Turns a stored image upright according to its EXIF orientation (1–8).
pub(crate) fn orient(src: Rgb, orientation: u8) -> Rgb {
    if !(2..=8).contains(&orientation) {
        return src;
    }
    let (width, height, data) = orient_raw::<3>(&src.data, src.width, src.height, orientation);
    Rgb {
        width,
        height,
        data,
    }
}

/// [`orient`] for packed pixels of `N` bytes: returns the new width, height and pixels.
pub(crate) fn orient_raw<const N: usize>(
    src: &[u8],
    width: u32,
    height: u32,
    orientation: u8,
) -> (u32, u32, Vec<u8>) {
    let (w, h) = (width as usize, height as usize);
    let (ow, oh) = if orientation >= 5 { (h, w) } else { (w, h) };
    let mut out = vec![0u8; ow * oh * N];
    // For each output pixel (x, y), the stored pixel it shows.
    match orientation {
        2 => remap::<N>(src, w, &mut out, ow, |x, y| (w - 1 - x, y)),
        3 => remap::<N>(src, w, &mut out, ow, |x, y| (w - 1 - x, h - 1 - y)),
        4 => remap::<N>(src, w, &mut out, ow, |x, y| (x, h - 1 - y)),
        5 => remap::<N>(src, w, &mut out, ow, |x, y| (y, x)),
        6 => remap::<N>(src, w, &mut out, ow, |x, y| (y, h - 1 - x)),
        7 => remap::<N>(src, w, &mut out, ow, |x, y| (w - 1 - y, h - 1 - x)),
        8 => remap::<N>(src, w, &mut out, ow, |x, y| (w - 1 - y, x)),
        _ => out.copy_from_slice(&src[..w * h * N]),
    }
    (ow as u32, oh as u32, out)
}

/// Fills `out` (`ow` pixels a row) from `src` (`sw` a row), taking output pixel (x, y) from
/// `src` at `from(x, y)`.
fn remap<const N: usize>(
    src: &[u8],
    sw: usize,
    out: &mut [u8],
    ow: usize,
    from: impl Fn(usize, usize) -> (usize, usize),
) {
    for (y, row) in out.chunks_exact_mut(ow * N).enumerate() {
        for (x, px) in row.chunks_exact_mut(N).enumerate() {
            let (sx, sy) = from(x, y);
            let at = (sy * sw + sx) * N;
            px.copy_from_slice(&src[at..at + N]);
        }
    }
}

/// Lays pixels with an alpha channel over white, since JPEG has no transparency.
pub(crate) fn flatten_on_white(rgba: &[u8], width: u32, height: u32) -> Rgb {
    let mut data = Vec::with_capacity(width as usize * height as usize * 3);
    for p in rgba.chunks_exact(4) {
        let a = u32::from(p[3]);
        for &c in &p[..3] {
            data.push(((u32::from(c) * a + 255 * (255 - a) + 127) / 255) as u8);
        }
    }
    Rgb {
        width,
        height,
        data,
    }
}

/// Rec. 601 luma of an RGB image — the Y of JPEG's YCbCr, so both pipelines hash alike.
pub(crate) fn luma(img: &Rgb) -> Vec<u8> {
    img.data
        .chunks_exact(3)
        .map(|p| {
            ((u32::from(p[0]) * 299 + u32::from(p[1]) * 587 + u32::from(p[2]) * 114 + 500) / 1000)
                as u8
        })
        .collect()
}

/// A 64-bit difference hash of a grey image (`w`×`h`, rows of `stride` bytes): the image
/// averaged down to 9×8 cells, one bit per pair of horizontal neighbours (is the left one
/// brighter?). Robust to re-encoding and resizing.
pub(crate) fn dhash(grey: &[u8], w: usize, h: usize, stride: usize) -> u64 {
    let mut cells = [[0f32; 9]; 8];
    for (cy, row) in cells.iter_mut().enumerate() {
        let (y0, y1) = span(cy, 8, h);
        for (cx, cell) in row.iter_mut().enumerate() {
            let (x0, x1) = span(cx, 9, w);
            let mut sum = 0u64;
            for y in y0..y1 {
                sum += grey[y * stride + x0..y * stride + x1]
                    .iter()
                    .map(|&v| u64::from(v))
                    .sum::<u64>();
            }
            *cell = sum as f32 / ((y1 - y0) * (x1 - x0)) as f32;
        }
    }
    let mut hash = 0u64;
    for row in &cells {
        for x in 0..8 {
            hash = hash << 1 | u64::from(row[x] > row[x + 1]);
        }
    }
    hash
}

/// The pixel range of cell `i` of `n` across `len` pixels (at least one pixel).
fn span(i: usize, n: usize, len: usize) -> (usize, usize) {
    let a = i * len / n;
    let b = ((i + 1) * len / n).max(a + 1).min(len);
    (a.min(len - 1), b)
}

/// Converts pixels described by an embedded ICC profile to sRGB. Profiles that already are
/// sRGB (by their primaries), that cannot be read, or that are not RGB are left alone.
pub(crate) fn to_srgb(img: &mut Rgb, icc: &[u8]) {
    if is_srgb(icc) {
        return;
    }
    let Some(input) = qcms::Profile::new_from_slice(icc, false) else {
        return;
    };
    let output = qcms::Profile::new_sRGB();
    if let Some(t) = qcms::Transform::new(
        &input,
        &output,
        qcms::DataType::RGB8,
        qcms::Intent::Perceptual,
    ) {
        t.apply(&mut img.data);
    }
}

/// True when an RGB profile's colorants are those of sRGB (D50-adapted, as ICC stores them).
/// qcms only marks its own built-in sRGB profile as sRGB, so cameras' and editors' sRGB
/// profiles are recognised here to skip a needless transform.
pub(crate) fn is_srgb(icc: &[u8]) -> bool {
    const SRGB: [(&[u8; 4], [f64; 3]); 3] = [
        (b"rXYZ", [0.4361, 0.2225, 0.0139]),
        (b"gXYZ", [0.3851, 0.7169, 0.0971]),
        (b"bXYZ", [0.1431, 0.0606, 0.7141]),
    ];
    let be32 = |at: usize| {
        icc.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    if icc.get(16..20) != Some(b"RGB ") {
        return false;
    }
    let Some(count) = be32(128) else { return false };
    let tag = |sig: &[u8; 4]| {
        (0..count.min(200) as usize).find_map(|k| {
            let e = 132 + k * 12;
            (icc.get(e..e + 4) == Some(sig))
                .then(|| be32(e + 4))
                .flatten()
        })
    };
    SRGB.iter().all(|(sig, want)| {
        let Some(at) = tag(sig) else { return false };
        (0..3).all(|k| {
            be32(at as usize + 8 + k * 4)
                .is_some_and(|v| ((f64::from(v as i32) / 65536.0) - want[k]).abs() < 0.003)
        })
    })
}
