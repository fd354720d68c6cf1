//! Shrinking a photo while it is being decoded, so that a large PNG or TIFF never exists at
//! full size in memory.
//!
//! Rows arrive top to bottom as 8-bit RGB. When the photo is at least four times the target
//! size, they are first averaged in boxes of an integer number of pixels across and down,
//! chosen so that the result stays at least twice the target on each axis (what libvips
//! calls shrink-on-load: a box average this far above the target loses nothing a Lanczos
//! filter would keep; a partial box at the right or bottom edge averages what there is). The
//! reduced rows are gathered in a band only as tall as the next few output rows need, and
//! `fast_image_resize` (Lanczos3, SIMD) resamples each band to its output rows. The filter's
//! window reaches past the band's own rows into the margin kept around it, so the result
//! is that of resampling the whole picture at once — without a box pre-reduction, the same
//! pixels as the full decode followed by one resize. Memory: the output, and a band of
//! roughly `BAND_ROWS` reduced rows.

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};

use crate::PhotoError;
use crate::pixels::{Rgb, fit};

/// Lanczos3 reaches this many source pixels (scaled by the reduction) either side of a centre.
const LANCZOS3_SUPPORT: f64 = 3.0;

/// About this many reduced rows are gathered for one band of output rows.
const BAND_ROWS: f64 = 128.0;

/// The integer box factors (across, down) applied before resampling a `width`×`height`
/// photo to fit `max`: on each axis the largest that leaves at least twice the output's
/// pixels (1: no box on that axis). An axis whose output is only a few pixels (a strip of a
/// panorama) is not boxed: a partial box at its edge would weigh too much there.
pub(crate) fn box_factors(width: u32, height: u32, max: u32) -> (u32, u32) {
    let (ow, oh) = fit(width, height, max);
    let factor = |from: u32, to: u32| {
        if to < 16 {
            1
        } else {
            (from / to.saturating_mul(2)).max(1)
        }
    };
    (factor(width, ow), factor(height, oh))
}

/// Takes a photo's rows (8-bit RGB, top to bottom) and makes it fit `max` on its long side.
pub(crate) struct RowShrinker {
    width: u32,
    height: u32,
    /// Rows received so far.
    rows_in: u32,
    /// The output: the photo fitted to `max`.
    out: Rgb,
    /// False when the photo already fits: rows are copied to `out` as they come.
    resize: bool,
    /// Box factors across and down (1: no box).
    factor: (u32, u32),
    /// Per-box sums of the rows received since the last reduced row.
    sums: Vec<u32>,
    sum_rows: u32,
    /// Size of the reduced picture; the last column and row of boxes may be partial.
    reduced: (u32, u32),
    /// The picture's extent in reduced pixels (fractional where a box is partial).
    used: (f64, f64),
    /// Reduced rows `first..first + kept` (rows of `reduced.0` RGB pixels).
    band: Vec<u8>,
    first: u32,
    /// Output rows made so far.
    done: u32,
    /// Output rows made per band.
    per_band: u32,
    /// Reduced rows per output row, and the filter's reach in reduced rows.
    scale: f64,
    radius: f64,
    resizer: Resizer,
}

impl RowShrinker {
    pub(crate) fn new(width: u32, height: u32, max: u32) -> RowShrinker {
        let (ow, oh) = fit(width, height, max);
        let resize = (ow, oh) != (width, height);
        let factor = if resize {
            box_factors(width, height, max)
        } else {
            (1, 1)
        };
        let reduced = (width.div_ceil(factor.0), height.div_ceil(factor.1));
        let used = (
            f64::from(width) / f64::from(factor.0),
            f64::from(height) / f64::from(factor.1),
        );
        let scale = used.1 / f64::from(oh);
        RowShrinker {
            width,
            height,
            rows_in: 0,
            out: Rgb::blank(ow, oh),
            resize,
            factor,
            sums: if factor != (1, 1) {
                vec![0; reduced.0 as usize * 3]
            } else {
                Vec::new()
            },
            sum_rows: 0,
            reduced,
            used,
            band: Vec::new(),
            first: 0,
            done: 0,
            per_band: (BAND_ROWS / scale).ceil().max(1.0) as u32,
            scale,
            radius: LANCZOS3_SUPPORT * scale.max(1.0),
            resizer: Resizer::new(),
        }
    }

    /// Takes the next row: `width` RGB pixels. Rows past the photo's height are ignored.
    pub(crate) fn push(&mut self, row: &[u8]) {
        debug_assert_eq!(row.len(), self.width as usize * 3);
        if self.rows_in >= self.height {
            return;
        }
        self.rows_in += 1;
        if !self.resize {
            let len = row.len();
            let at = (self.rows_in as usize - 1) * len;
            self.out.data[at..at + len].copy_from_slice(row);
            return;
        }
        if self.factor == (1, 1) {
            self.band.extend_from_slice(row);
        } else {
            let f = self.factor.0 as usize;
            for (sum, block) in self.sums.chunks_exact_mut(3).zip(row.chunks(3 * f)) {
                for px in block.chunks_exact(3) {
                    sum[0] += u32::from(px[0]);
                    sum[1] += u32::from(px[1]);
                    sum[2] += u32::from(px[2]);
                }
            }
            self.sum_rows += 1;
            if self.sum_rows == self.factor.1 || self.rows_in == self.height {
                self.reduce_row();
            }
        }
        self.resample();
    }

    /// Appends the average of the summed rows to the band.
    fn reduce_row(&mut self) {
        let (f, w) = (self.factor.0 as usize, self.width as usize);
        let rows = self.sum_rows as usize;
        for (i, sum) in self.sums.chunks_exact_mut(3).enumerate() {
            let n = (f.min(w - i * f) * rows) as u32;
            for s in sum.iter_mut() {
                self.band.push(((*s + n / 2) / n) as u8);
                *s = 0;
            }
        }
        self.sum_rows = 0;
    }

    fn kept(&self) -> u32 {
        (self.band.len() / (self.reduced.0 as usize * 3)) as u32
    }

    /// The reduced rows the filter reads for output rows `j0..j1`, with a row to spare either
    /// side against rounding.
    fn rows_needed(&self, j0: u32, j1: u32) -> (u32, u32) {
        let top = (f64::from(j0) + 0.5) * self.scale - self.radius;
        let bottom = (f64::from(j1) - 0.5) * self.scale + self.radius;
        let lo = (top.floor() - 1.0).max(0.0) as u32;
        let hi = (bottom.ceil() + 1.0).min(f64::from(self.reduced.1)) as u32;
        (lo.min(self.reduced.1), hi)
    }

    /// Makes every band of output rows whose reduced rows are all there, and lets go of the
    /// reduced rows no later band reads.
    fn resample(&mut self) {
        let (ow, oh) = (self.out.width, self.out.height);
        while self.done < oh {
            let (j0, j1) = (self.done, (self.done + self.per_band).min(oh));
            let (lo, hi) = self.rows_needed(j0, j1);
            let kept = self.kept();
            if self.first + kept < hi {
                return;
            }
            debug_assert!(self.first <= lo);
            let src = ImageRef::new(self.reduced.0, kept, &self.band, PixelType::U8x3)
                .expect("the band holds whole rows");
            let row = ow as usize * 3;
            let mut dst = Image::from_slice_u8(
                ow,
                j1 - j0,
                &mut self.out.data[j0 as usize * row..j1 as usize * row],
                PixelType::U8x3,
            )
            .expect("output rows match their size");
            let top = f64::from(j0) * self.scale - f64::from(self.first);
            // (Rounding must not take the last band's bottom past the picture's.)
            let height = (f64::from(j1 - j0) * self.scale).min(f64::from(kept) - top);
            let opts = ResizeOptions::new()
                .resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3))
                .crop(0.0, top, self.used.0, height);
            self.resizer
                .resize(&src, &mut dst, &opts)
                .expect("same pixel type on both sides");
            self.done = j1;
            if self.done < oh {
                let (next_lo, _) = self.rows_needed(self.done, (self.done + 1).min(oh));
                if next_lo > self.first {
                    let drop = (next_lo - self.first).min(kept);
                    self.band
                        .drain(..drop as usize * self.reduced.0 as usize * 3);
                    self.first += drop;
                }
            } else {
                self.band = Vec::new();
            }
        }
    }

    /// The photo fitted to `max`, once every row has been pushed.
    pub(crate) fn finish(self) -> Result<Rgb, PhotoError> {
        if self.rows_in < self.height || self.done < self.out.height && self.resize {
            return Err(PhotoError::corrupt("the image data ends early"));
        }
        Ok(self.out)
    }
}

/// How a decoder's samples are laid out, per pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Samples {
    Grey,
    GreyAlpha,
    Rgb,
    Rgba,
    /// Converted the way the `image` crate converts CMYK TIFFs.
    Cmyk,
}

impl Samples {
    pub(crate) fn channels(self) -> usize {
        match self {
            Samples::Grey => 1,
            Samples::GreyAlpha => 2,
            Samples::Rgb => 3,
            Samples::Rgba | Samples::Cmyk => 4,
        }
    }
}

/// One row of 8-bit samples to RGB. Alpha is laid over white exactly as
/// [`crate::pixels::flatten_on_white`] does, and grey is repeated in R, G and B — the same
/// pixels as the `image` crate's conversions followed by the flattening.
pub(crate) fn row_to_rgb(samples: Samples, src: &[u8], dst: &mut [u8]) {
    let over_white = |c: u8, a: u8| {
        ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a)) + 127) / 255) as u8
    };
    match samples {
        Samples::Rgb => dst.copy_from_slice(src),
        Samples::Grey => {
            for (px, &l) in dst.chunks_exact_mut(3).zip(src) {
                px.fill(l);
            }
        }
        Samples::GreyAlpha => {
            for (px, la) in dst.chunks_exact_mut(3).zip(src.chunks_exact(2)) {
                px.fill(over_white(la[0], la[1]));
            }
        }
        Samples::Rgba => {
            for (px, p) in dst.chunks_exact_mut(3).zip(src.chunks_exact(4)) {
                px[0] = over_white(p[0], p[3]);
                px[1] = over_white(p[1], p[3]);
                px[2] = over_white(p[2], p[3]);
            }
        }
        Samples::Cmyk => {
            for (px, p) in dst.chunks_exact_mut(3).zip(src.chunks_exact(4)) {
                let kf = 1. - f32::from(p[3]) / 255.;
                for (o, &c) in px.iter_mut().zip(&p[..3]) {
                    *o = ((255. - f32::from(c)) * kf) as u8;
                }
            }
        }
    }
}

/// A 16-bit sample to 8 bits, rounded as the `image` crate does.
pub(crate) fn to_8bit(v: u16) -> u8 {
    ((u32::from(v) + 128) / 257) as u8
}

/// [`row_to_rgb`] for 16-bit samples (`scratch` is reused between rows).
pub(crate) fn row16_to_rgb(samples: Samples, src: &[u16], scratch: &mut Vec<u8>, dst: &mut [u8]) {
    if samples == Samples::Cmyk {
        // The image crate converts 16-bit CMYK to 16-bit RGB, then rounds to 8 bits.
        for (px, p) in dst.chunks_exact_mut(3).zip(src.chunks_exact(4)) {
            let kf = 1. - f32::from(p[3]) / 65535.;
            for (o, &c) in px.iter_mut().zip(&p[..3]) {
                *o = to_8bit(((65535. - f32::from(c)) * kf) as u16);
            }
        }
        return;
    }
    scratch.clear();
    scratch.extend(src.iter().map(|&v| to_8bit(v)));
    row_to_rgb(samples, scratch, dst);
}
