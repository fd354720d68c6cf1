//! Fresh encodings of the renditions. Nothing of the input's metadata is carried over: the
//! encoders are handed bare pixels, so their output holds no EXIF, XMP, IPTC, comment or ICC
//! segment (libjpeg-turbo writes only its JFIF APP0 header; libwebp a simple lossy file).

use std::io;

use turbojpeg::{Compressor, PixelFormat, Subsamp};

use crate::pixels::Rgb;
use crate::{Encoded, OutputFormat, PhotoError};

/// Quality of WebP renditions (libwebp's 0–100 scale).
pub const WEBP_QUALITY: f32 = 80.0;

pub(crate) fn encode(img: &Rgb, format: OutputFormat) -> Result<Encoded, PhotoError> {
    let bytes = match format {
        OutputFormat::Jpeg { quality } => {
            let fail = |e: turbojpeg::Error| {
                PhotoError::Io(io::Error::other(format!("JPEG encoding failed: {e}")))
            };
            let mut c = Compressor::new().map_err(fail)?;
            c.set_quality(i32::from(quality.clamp(1, 100)))
                .map_err(fail)?;
            c.set_subsamp(Subsamp::Sub2x2).map_err(fail)?;
            let image = turbojpeg::Image {
                pixels: &img.data[..],
                width: img.width as usize,
                pitch: img.width as usize * 3,
                height: img.height as usize,
                format: PixelFormat::RGB,
            };
            c.compress_to_vec(image).map_err(fail)?
        }
        OutputFormat::WebP => webp::Encoder::from_rgb(&img.data, img.width, img.height)
            .encode_simple(false, WEBP_QUALITY)
            .map_err(|e| PhotoError::Io(io::Error::other(format!("WebP encoding failed: {e:?}"))))?
            .to_vec(),
    };
    Ok(Encoded {
        bytes,
        width: img.width,
        height: img.height,
        mime: format.mime(),
    })
}
