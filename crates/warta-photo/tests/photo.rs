//! warta-photo's one integration-test binary. Every fixture is made here, deterministically:
//! pixels with the `image` crate, JPEGs with libjpeg-turbo (fast even in debug builds), and
//! EXIF / XMP / IPTC / comment / ICC segments written by hand.

use std::io::Cursor;

use image::{Rgb, RgbImage, imageops};
use warta_photo::{
    NEAR_DUPLICATE_MAX_DISTANCE, OutputFormat, PhotoConfig, PhotoError, hamming, probe, process,
    process_file,
};

// ------------------------------------------------------------------ fixtures

const RED: Rgb<u8> = Rgb([230, 20, 20]);
const GREEN: Rgb<u8> = Rgb([20, 200, 40]);
const BLUE: Rgb<u8> = Rgb([30, 40, 220]);
const WHITE: Rgb<u8> = Rgb([245, 245, 245]);

/// Four quadrants of different colours: red top-left, green top-right, blue bottom-left,
/// white bottom-right. Any rotation or mirror moves red away from the top-left.
fn quadrants(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| match (x < w / 2, y < h / 2) {
        (true, true) => RED,
        (false, true) => GREEN,
        (true, false) => BLUE,
        (false, false) => WHITE,
    })
}

/// A photo-like picture: gradient, shaded discs and boxes, noise; all from `seed`.
fn natural(seed: u64, w: u32, h: u32) -> RgbImage {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let top = [next() % 256, next() % 256, next() % 256];
    let low = [next() % 256, next() % 256, next() % 256];
    let mut img = RgbImage::from_fn(w, h, |_, y| {
        let t = y as f32 / h as f32;
        Rgb(std::array::from_fn(|c| {
            (top[c] as f32 * (1.0 - t) + low[c] as f32 * t) as u8
        }))
    });
    for _ in 0..10 {
        let colour = [next() % 256, next() % 256, next() % 256];
        let (cx, cy) = (
            (next() % u64::from(w)) as i64,
            (next() % u64::from(h)) as i64,
        );
        let r = (u64::from(w) / 20 + next() % (u64::from(w) / 5)) as i64;
        let disc = next() % 2 == 0;
        for y in (cy - r).max(0)..(cy + r).min(i64::from(h)) {
            for x in (cx - r).max(0)..(cx + r).min(i64::from(w)) {
                let d2 = ((x - cx).pow(2) + (y - cy).pow(2)) as f32 / (r * r) as f32;
                if !disc || d2 < 1.0 {
                    let k = if disc { 1.0 - 0.4 * d2 } else { 0.8 };
                    img.put_pixel(
                        x as u32,
                        y as u32,
                        Rgb(colour.map(|c| (c as f32 * k) as u8)),
                    );
                }
            }
        }
    }
    for p in img.pixels_mut() {
        let n = (next() % 17) as i16 - 8;
        p.0 = p.0.map(|c| (i16::from(c) + n).clamp(0, 255) as u8);
    }
    img
}

fn jpeg(img: &RgbImage, quality: i32) -> Vec<u8> {
    let image = turbojpeg::Image {
        pixels: img.as_raw().as_slice(),
        width: img.width() as usize,
        pitch: img.width() as usize * 3,
        height: img.height() as usize,
        format: turbojpeg::PixelFormat::RGB,
    };
    turbojpeg::compress(image, quality, turbojpeg::Subsamp::Sub2x2)
        .unwrap()
        .to_vec()
}

fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

/// The stored pixels that a camera writes for an upright scene with EXIF orientation `o`.
fn stored_for(upright: &RgbImage, o: u8) -> RgbImage {
    match o {
        1 => upright.clone(),
        2 => imageops::flip_horizontal(upright),
        3 => imageops::rotate180(upright),
        4 => imageops::flip_vertical(upright),
        // Transpose.
        5 => imageops::flip_horizontal(&imageops::rotate90(upright)),
        6 => imageops::rotate270(upright),
        // Transverse.
        7 => imageops::flip_vertical(&imageops::rotate90(upright)),
        8 => imageops::rotate90(upright),
        _ => unreachable!(),
    }
}

const SECRET_SERIAL: &str = "SERIAL-7731-RAHASIA";
const SECRET_XMP: &str = "xmp-lokasi-rahasia";
const SECRET_COMMENT: &str = "komentar-rahasia";
const SECRET_IPTC: &str = "iptc-byline-rahasia";

type Field = (u16, u16, u32, Vec<u8>);

fn ascii(tag: u16, s: &str) -> Field {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    (tag, 2, v.len() as u32, v)
}

fn rationals(tag: u16, r: &[(u32, u32)]) -> Field {
    let v: Vec<u8> = r
        .iter()
        .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
        .collect();
    (tag, 5, r.len() as u32, v)
}

/// A little-endian TIFF structure with IFD0 (pointing to the GPS IFD) and a GPS IFD.
fn exif_tiff(orientation: u16) -> Vec<u8> {
    let mut ifd0 = vec![
        ascii(0x010F, "WartaCam"),
        ascii(0x0110, "Field Reporter 12"),
        (0x0112, 3, 1, orientation.to_le_bytes().to_vec()),
        ascii(0x0131, "CameraFirmware 1.0"),
        ascii(0xA431, SECRET_SERIAL),
    ];
    let gps = vec![
        (0x0000, 1, 4, vec![2, 3, 0, 0]),
        ascii(0x0001, "S"),
        rationals(0x0002, &[(6, 1), (12, 1), (3456, 100)]),
        ascii(0x0003, "E"),
        rationals(0x0004, &[(106, 1), (49, 1), (1234, 100)]),
    ];
    let gps_at = 8 + 2 + (ifd0.len() + 1) * 12 + 4;
    ifd0.push((0x8825, 4, 1, (gps_at as u32).to_le_bytes().to_vec()));
    ifd0.sort_by_key(|f| f.0);
    let data_start = gps_at + 2 + gps.len() * 12 + 4;
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    let mut data = Vec::new();
    for ifd in [&ifd0, &gps] {
        out.extend_from_slice(&(ifd.len() as u16).to_le_bytes());
        for (tag, kind, count, value) in ifd {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            if value.len() <= 4 {
                let mut v = value.clone();
                v.resize(4, 0);
                out.extend_from_slice(&v);
            } else {
                out.extend_from_slice(&((data_start + data.len()) as u32).to_le_bytes());
                data.extend_from_slice(value);
                if data.len() % 2 == 1 {
                    data.push(0);
                }
            }
        }
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out.extend_from_slice(&data);
    out
}

fn segment(marker: u8, body: &[u8]) -> Vec<u8> {
    let mut s = vec![0xFF, marker];
    s.extend_from_slice(&((body.len() + 2) as u16).to_be_bytes());
    s.extend_from_slice(body);
    s
}

/// `jpeg` with, right after SOI: EXIF (orientation, make/model, serial, GPS), XMP, IPTC and a
/// comment, plus `extra` segments.
fn with_metadata_and(jpeg: &[u8], orientation: u16, extra: &[Vec<u8>]) -> Vec<u8> {
    let mut exif = b"Exif\0\0".to_vec();
    exif.extend(exif_tiff(orientation));
    let xmp = format!(
        "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF><rdf:Description \
         exif:GPSLatitude='6,12.5S' note='{SECRET_XMP}'/></rdf:RDF></x:xmpmeta>"
    );
    let mut iptc = b"Photoshop 3.0\08BIM\x04\x04\0\0".to_vec();
    let record = [
        &[0x1C, 0x02, 0x50, 0x00, SECRET_IPTC.len() as u8][..],
        SECRET_IPTC.as_bytes(),
    ]
    .concat();
    iptc.extend_from_slice(&(record.len() as u32).to_be_bytes());
    iptc.extend_from_slice(&record);
    let mut out = jpeg[..2].to_vec();
    out.extend(segment(0xE1, &exif));
    out.extend(segment(0xE1, xmp.as_bytes()));
    out.extend(segment(0xED, &iptc));
    out.extend(segment(0xFE, SECRET_COMMENT.as_bytes()));
    for e in extra {
        out.extend_from_slice(e);
    }
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn with_metadata(jpeg: &[u8], orientation: u16) -> Vec<u8> {
    with_metadata_and(jpeg, orientation, &[])
}

/// An ICC v2 RGB matrix/TRC display profile with the given D50 colorants and a pure gamma.
fn icc_profile(colorants: [[f64; 3]; 3], gamma: f64, name: &str) -> Vec<u8> {
    let s15 = |v: f64| ((v * 65536.0).round() as i32).to_be_bytes();
    let xyz = |v: [f64; 3]| [&b"XYZ \0\0\0\0"[..], &s15(v[0]), &s15(v[1]), &s15(v[2])].concat();
    let curv = [
        &b"curv\0\0\0\0\0\0\0\x01"[..],
        &((gamma * 256.0).round() as u16).to_be_bytes(),
        &[0, 0],
    ]
    .concat();
    let mut desc = b"desc\0\0\0\0".to_vec();
    desc.extend_from_slice(&(name.len() as u32 + 1).to_be_bytes());
    desc.extend_from_slice(name.as_bytes());
    desc.push(0);
    desc.extend_from_slice(&[0; 12 + 67]);
    let tags: Vec<(&[u8; 4], Vec<u8>)> = vec![
        (b"desc", desc),
        (b"wtpt", xyz([0.9642, 1.0, 0.8249])),
        (b"rXYZ", xyz(colorants[0])),
        (b"gXYZ", xyz(colorants[1])),
        (b"bXYZ", xyz(colorants[2])),
        (b"rTRC", curv.clone()),
        (b"gTRC", curv.clone()),
        (b"bTRC", curv),
    ];
    let table_len = 4 + tags.len() * 12;
    let mut offset = 128 + table_len;
    let mut table = (tags.len() as u32).to_be_bytes().to_vec();
    let mut data = Vec::new();
    for (sig, body) in &tags {
        table.extend_from_slice(*sig);
        table.extend_from_slice(&(offset as u32).to_be_bytes());
        table.extend_from_slice(&(body.len() as u32).to_be_bytes());
        data.extend_from_slice(body);
        while data.len() % 4 != 0 {
            data.push(0);
        }
        offset = 128 + table_len + data.len();
    }
    let total = 128 + table.len() + data.len();
    let mut h = vec![0u8; 128];
    h[0..4].copy_from_slice(&(total as u32).to_be_bytes());
    h[8..12].copy_from_slice(&[2, 0x10, 0, 0]);
    h[12..16].copy_from_slice(b"mntr");
    h[16..20].copy_from_slice(b"RGB ");
    h[20..24].copy_from_slice(b"XYZ ");
    h[36..40].copy_from_slice(b"acsp");
    h[68..80].copy_from_slice(&[&s15(0.9642)[..], &s15(1.0), &s15(0.8249)].concat());
    [h, table, data].concat()
}

fn adobe_rgb_profile() -> Vec<u8> {
    icc_profile(
        [
            [0.6097, 0.3111, 0.0195],
            [0.2053, 0.6257, 0.0609],
            [0.1492, 0.0632, 0.7446],
        ],
        563.0 / 256.0,
        "Adobe RGB (1998)",
    )
}

fn icc_segment(profile: &[u8]) -> Vec<u8> {
    segment(0xE2, &[&b"ICC_PROFILE\0\x01\x01"[..], profile].concat())
}

// ------------------------------------------------------------------ checks

fn decode(bytes: &[u8]) -> RgbImage {
    image::load_from_memory(bytes).unwrap().to_rgb8()
}

/// The colour at the centre of each quadrant: top-left, top-right, bottom-left, bottom-right.
fn quadrant_colours(img: &RgbImage) -> [Rgb<u8>; 4] {
    let (w, h) = img.dimensions();
    [
        (w / 4, h / 4),
        (3 * w / 4, h / 4),
        (w / 4, 3 * h / 4),
        (3 * w / 4, 3 * h / 4),
    ]
    .map(|(x, y)| *img.get_pixel(x, y))
}

fn close(a: Rgb<u8>, b: Rgb<u8>) -> bool {
    a.0.iter().zip(b.0).all(|(&x, y)| x.abs_diff(y) <= 40)
}

/// The markers of a JPEG's header segments, up to the start of scan.
fn jpeg_markers(b: &[u8]) -> Vec<(u8, Vec<u8>)> {
    assert_eq!(&b[..2], &[0xFF, 0xD8], "a JPEG");
    let mut i = 2;
    let mut out = Vec::new();
    while i + 4 <= b.len() {
        assert_eq!(b[i], 0xFF, "a marker at {i}");
        let marker = b[i + 1];
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        out.push((marker, b[i + 4..i + 2 + len].to_vec()));
        if marker == 0xDA {
            break;
        }
        i += 2 + len;
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// Proves an output carries no metadata: EXIF readers find nothing, no APPn (other than the
/// JFIF header) or COM segment, no WebP metadata chunk, and none of the input's secrets.
fn assert_clean(bytes: &[u8]) {
    match exif::Reader::new().read_from_container(&mut Cursor::new(bytes)) {
        Err(exif::Error::NotFound(_)) => {}
        Err(e) => panic!("EXIF misread in an output: {e}"),
        Ok(_) => panic!("EXIF found in an output"),
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        for (marker, body) in jpeg_markers(bytes) {
            match marker {
                0xE0 => assert!(body.starts_with(b"JFIF\0"), "APP0 is only the JFIF header"),
                0xE1..=0xEF => panic!("an APP{} segment in an output", marker - 0xE0),
                0xFE => panic!("a comment segment in an output"),
                _ => {}
            }
        }
    } else {
        assert_eq!((&bytes[..4], &bytes[8..12]), (&b"RIFF"[..], &b"WEBP"[..]));
        let mut i = 12;
        while i + 8 <= bytes.len() {
            let kind = &bytes[i..i + 4];
            assert!(
                !matches!(kind, b"EXIF" | b"XMP " | b"ICCP"),
                "a {kind:?} chunk in a WebP output"
            );
            let len = u32::from_le_bytes(bytes[i + 4..i + 8].try_into().unwrap()) as usize;
            i += 8 + len + (len & 1);
        }
    }
    for secret in [
        SECRET_SERIAL,
        SECRET_XMP,
        SECRET_COMMENT,
        SECRET_IPTC,
        "WartaCam",
        "Exif\0",
        "ns.adobe.com",
        "ICC_PROFILE",
        "8BIM",
    ] {
        assert!(
            !contains(bytes, secret.as_bytes()),
            "{secret:?} survived into an output"
        );
    }
}

fn small() -> PhotoConfig {
    PhotoConfig {
        web_max: 400,
        thumb_max: 100,
        ..PhotoConfig::default()
    }
}

// ------------------------------------------------------------------ tests

#[test]
fn orientations_1_to_8_come_out_upright() {
    let upright = quadrants(240, 160);
    for o in 1..=8u8 {
        let input = with_metadata(&jpeg(&stored_for(&upright, o), 95), u16::from(o));
        let info = probe(&input).unwrap();
        assert_eq!(info.orientation, o);
        let stored = if o >= 5 { (160, 240) } else { (240, 160) };
        assert_eq!(
            (info.width, info.height),
            stored,
            "probe reports the stored size"
        );
        let r = process(&input, &small()).unwrap();
        assert_eq!(
            (r.web.width, r.web.height),
            (240, 160),
            "orientation {o}: upright size"
        );
        assert_eq!(
            (r.thumb.width, r.thumb.height),
            (100, 67),
            "orientation {o}: thumbnail"
        );
        for (what, enc) in [("web", &r.web), ("thumb", &r.thumb)] {
            let img = decode(&enc.bytes);
            assert_eq!(img.dimensions(), (enc.width, enc.height));
            let got = quadrant_colours(&img);
            for (g, want) in got.iter().zip([RED, GREEN, BLUE, WHITE]) {
                assert!(
                    close(*g, want),
                    "orientation {o}, {what}: quadrants {got:?}, want red, green, blue, white"
                );
            }
        }
    }
}

#[test]
fn renditions_fit_the_configured_sizes_without_upscaling() {
    let cfg = PhotoConfig::default();
    // (stored size, orientation) → (web, thumb), all upright.
    let cases = [
        ((3400, 2000, 1), (1600, 941), (320, 188)), // decoded at 1/2 in the DCT domain
        ((6600, 1000, 1), (1600, 242), (320, 48)),  // 1/4: a panorama
        ((2000, 3000, 1), (1067, 1600), (213, 320)), // portrait, not scaled in the DCT
        ((3000, 2000, 6), (1067, 1600), (213, 320)), // turned by EXIF
        ((800, 600, 1), (800, 600), (320, 240)),    // smaller than web_max: kept as is
        ((200, 100, 1), (200, 100), (200, 100)),    // smaller than both: never upscaled
    ];
    for ((w, h, o), web, thumb) in cases {
        let input = with_metadata(&jpeg(&natural(7, w, h), 85), o);
        let r = process(&input, &cfg).unwrap();
        assert_eq!((r.web.width, r.web.height), web, "{w}x{h} o{o}: web");
        assert_eq!(
            (r.thumb.width, r.thumb.height),
            thumb,
            "{w}x{h} o{o}: thumb"
        );
        assert_eq!(
            decode(&r.web.bytes).dimensions(),
            web,
            "the web JPEG is the size it says"
        );
        assert_eq!(decode(&r.thumb.bytes).dimensions(), thumb);
        assert_eq!(r.web.mime, "image/jpeg");
    }
    let custom = PhotoConfig {
        web_max: 1024,
        thumb_max: 150,
        ..cfg
    };
    let r = process(&jpeg(&natural(8, 3000, 2000), 85), &custom).unwrap();
    assert_eq!(
        (r.web.width, r.web.height, r.thumb.width, r.thumb.height),
        (1024, 683, 150, 100)
    );
}

#[test]
fn outputs_carry_no_exif_gps_xmp_iptc_comment_or_icc() {
    let input = with_metadata_and(
        &jpeg(&natural(1, 900, 600), 90),
        6,
        &[icc_segment(&adobe_rgb_profile())],
    );
    // The input really has it all, as a reader sees it.
    let exif = exif::Reader::new()
        .read_from_container(&mut Cursor::new(&input))
        .unwrap();
    assert!(
        exif.get_field(exif::Tag::GPSLatitude, exif::In::PRIMARY)
            .is_some()
    );
    assert!(exif.get_field(exif::Tag::Make, exif::In::PRIMARY).is_some());
    for needle in [SECRET_XMP, SECRET_COMMENT, SECRET_IPTC, "ICC_PROFILE"] {
        assert!(contains(&input, needle.as_bytes()));
    }
    for format in [OutputFormat::default(), OutputFormat::WebP] {
        let r = process(&input, &PhotoConfig { format, ..small() }).unwrap();
        assert_clean(&r.web.bytes);
        assert_clean(&r.thumb.bytes);
        assert_eq!(
            decode(&r.web.bytes).dimensions(),
            (r.web.width, r.web.height)
        );
    }
}

#[test]
fn jpeg_output_is_baseline_420() {
    let r = process(&jpeg(&natural(2, 1000, 700), 95), &small()).unwrap();
    let sof = jpeg_markers(&r.web.bytes)
        .into_iter()
        .find(|(m, _)| *m == 0xC0)
        .expect("a baseline frame");
    // Components: Y sampled 2×2, Cb and Cr 1×1.
    assert_eq!(sof.1[5], 3);
    assert_eq!([sof.1[7], sof.1[10], sof.1[13]], [0x22, 0x11, 0x11]);
}

#[test]
fn webp_output_when_configured() {
    let r = process(
        &jpeg(&natural(3, 1000, 700), 90),
        &PhotoConfig {
            format: OutputFormat::WebP,
            ..small()
        },
    )
    .unwrap();
    assert_eq!(r.web.mime, "image/webp");
    assert_eq!(probe(&r.web.bytes).unwrap().format, "webp");
    assert_eq!(decode(&r.web.bytes).dimensions(), (400, 280));
    assert_eq!(decode(&r.thumb.bytes).dimensions(), (100, 70));
}

#[test]
fn png_webp_and_tiff_inputs_are_read() {
    let upright = quadrants(300, 200);
    let mut inputs: Vec<(&str, Vec<u8>)> = vec![("png", png(&upright))];
    let mut webp = Vec::new();
    upright
        .write_to(&mut Cursor::new(&mut webp), image::ImageFormat::WebP)
        .unwrap();
    inputs.push(("webp", webp));
    let mut tiff = Vec::new();
    upright
        .write_to(&mut Cursor::new(&mut tiff), image::ImageFormat::Tiff)
        .unwrap();
    inputs.push(("tiff", tiff));
    // A PNG with transparency: transparent pixels become white, not black.
    let rgba = image::RgbaImage::from_fn(300, 200, |x, y| {
        let Rgb([r, g, b]) = *upright.get_pixel(x, y);
        image::Rgba([r, g, b, if x >= 150 && y >= 100 { 0 } else { 255 }])
    });
    let mut transparent = Vec::new();
    rgba.write_to(&mut Cursor::new(&mut transparent), image::ImageFormat::Png)
        .unwrap();
    inputs.push(("png", transparent));
    for (format, bytes) in inputs {
        assert_eq!(probe(&bytes).unwrap().format, format);
        let r = process(&bytes, &small()).unwrap();
        assert_eq!((r.web.width, r.web.height), (300, 200), "{format}");
        let got = quadrant_colours(&decode(&r.web.bytes));
        for (g, want) in got.iter().zip([RED, GREEN, BLUE, WHITE]) {
            assert!(close(*g, want), "{format}: {got:?}");
        }
        assert_clean(&r.web.bytes);
    }
}

#[test]
fn adobe_rgb_photos_are_converted_to_srgb() {
    // Adobe RGB (100, 200, 100) is, in sRGB, about (0, 200, 92): Adobe's wider green pulls red out.
    let img = RgbImage::from_pixel(64, 64, Rgb([100, 200, 100]));
    let plain = jpeg(&img, 98);
    let tagged = with_metadata_and(&plain, 1, &[icc_segment(&adobe_rgb_profile())]);
    let centre =
        |bytes: &[u8]| *decode(&process(bytes, &small()).unwrap().web.bytes).get_pixel(32, 32);
    let untagged = centre(&plain);
    assert!(
        untagged.0[0].abs_diff(100) <= 4,
        "untagged stays as it is: {untagged:?}"
    );
    let converted = centre(&tagged);
    assert!(converted.0[0] < 40, "red pulled down: {converted:?}");
    assert!(
        converted.0[1].abs_diff(200) <= 12,
        "green kept: {converted:?}"
    );
    assert!(
        converted.0[2].abs_diff(92) <= 16,
        "blue lowered: {converted:?}"
    );
    // A camera's sRGB profile is recognised and leaves the pixels alone.
    let srgb = icc_profile(
        [
            [0.4361, 0.2225, 0.0139],
            [0.3851, 0.7169, 0.0971],
            [0.1431, 0.0606, 0.7141],
        ],
        2.2,
        "sRGB",
    );
    let same = centre(&with_metadata_and(&plain, 1, &[icc_segment(&srgb)]));
    assert_eq!(same, untagged);
}

#[test]
fn a_truncated_jpeg_is_refused() {
    let full = jpeg(&natural(4, 800, 600), 90);
    let cut = &full[..full.len() / 2];
    let err = process(cut, &small()).unwrap_err();
    assert!(matches!(err, PhotoError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("cut short"), "{err}");
    // Cut inside the headers: refused by the header reader already.
    let err = process(&full[..40], &small()).unwrap_err();
    assert!(matches!(err, PhotoError::Corrupt { .. }), "{err:?}");
}

/// A PNG chunk with its CRC (the CRC-32 of type and data).
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut crc = !0u32;
    for &b in kind.iter().chain(data) {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    [
        &(data.len() as u32).to_be_bytes()[..],
        kind,
        data,
        &(!crc).to_be_bytes(),
    ]
    .concat()
}

#[test]
fn a_png_declaring_50000_by_50000_is_refused_before_decoding() {
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&50_000u32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]); // 8-bit RGB
    // A few bytes of deflate that would expand hugely; never inflated.
    let idat = [
        0x78, 0x9C, 0xED, 0xC1, 0x01, 0x0D, 0x00, 0x00, 0x00, 0xC2, 0xA0, 0xF7, 0x4F, 0x6D,
    ];
    let bomb = [
        &b"\x89PNG\r\n\x1a\n"[..],
        &png_chunk(b"IHDR", &ihdr),
        &png_chunk(b"IDAT", &idat),
        &png_chunk(b"IEND", &[]),
    ]
    .concat();
    let info = probe(&bomb).unwrap();
    assert_eq!(
        (info.format, info.width, info.height),
        ("png", 50_000, 50_000)
    );
    let started = std::time::Instant::now();
    let err = process(&bomb, &PhotoConfig::default()).unwrap_err();
    assert!(
        matches!(
            err,
            PhotoError::TooManyPixels {
                width: 50_000,
                height: 50_000,
                limit: 100_000_000
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("50000×50000"), "{err}");
    assert!(
        started.elapsed().as_millis() < 500,
        "refused without decoding"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bom.png");
    std::fs::write(&path, &bomb).unwrap();
    assert!(matches!(
        process_file(&path, &PhotoConfig::default()),
        Err(PhotoError::TooManyPixels { .. })
    ));
    // The same for a JPEG whose frame header declares 30000×30000.
    let mut big = jpeg(&natural(5, 64, 64), 80);
    let sof = big.windows(2).position(|w| w == [0xFF, 0xC0]).unwrap();
    big[sof + 5..sof + 9].copy_from_slice(&[0x75, 0x30, 0x75, 0x30]);
    assert!(matches!(
        process(&big, &PhotoConfig::default()),
        Err(PhotoError::TooManyPixels { .. })
    ));
}

#[test]
fn a_zero_byte_file_is_refused() {
    let err = process(&[], &small()).unwrap_err();
    assert!(matches!(err, PhotoError::Corrupt { .. }), "{err:?}");
    assert!(err.to_string().contains("empty"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kosong.jpg");
    std::fs::write(&path, b"").unwrap();
    assert!(
        process_file(&path, &small())
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
}

#[test]
fn an_executable_renamed_jpg_is_refused() {
    let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x02\0\x3e\0\x01\0\0\0".to_vec();
    elf.resize(4096, 0x90);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("foto-liputan.jpg");
    std::fs::write(&path, &elf).unwrap();
    let err = process_file(&path, &small()).unwrap_err();
    assert!(matches!(err, PhotoError::Unsupported { .. }), "{err:?}");
    assert!(err.to_string().contains("executable"), "{err}");
    for (bytes, what) in [
        (&b"%PDF-1.7\n"[..], "PDF"),
        (b"<!DOCTYPE html><script>", "HTML"),
        (b"GIF89a....", "GIF"),
    ] {
        let err = process(bytes, &small()).unwrap_err();
        assert!(err.to_string().contains(what), "{err}");
    }
}

#[test]
fn a_polyglot_keeps_only_its_picture() {
    // A JPEG with a ZIP (holding an HTML page) appended, and HTML hidden in a comment segment.
    let payload = b"<html><script>alert('pwned')</script></html>";
    let mut zip = b"PK\x03\x04\x14\0\0\0\0\0\0\0\0\0".to_vec();
    zip.extend_from_slice(b"payload.html");
    zip.extend_from_slice(payload);
    zip.extend_from_slice(b"PK\x05\x06\0\0\0\0\x01\0\x01\0");
    let mut polyglot = with_metadata_and(
        &jpeg(&natural(6, 640, 480), 90),
        1,
        &[segment(0xFE, payload)],
    );
    polyglot.extend_from_slice(&zip);
    let r = process(&polyglot, &small()).unwrap();
    for out in [&r.web.bytes, &r.thumb.bytes] {
        assert!(
            !contains(out, b"<script>")
                && !contains(out, b"PK\x03\x04")
                && !contains(out, b"payload.html")
        );
        assert_eq!(
            &out[out.len() - 2..],
            &[0xFF, 0xD9],
            "the output ends at its own end-of-image"
        );
        assert_clean(out);
    }
}

#[test]
fn near_duplicates_are_close_and_different_photos_are_not() {
    let cfg = PhotoConfig::default();
    let a = natural(11, 2400, 1600);
    let original = process(&with_metadata(&jpeg(&a, 92), 1), &cfg)
        .unwrap()
        .phash;
    // The same photo, re-encoded at a low quality and resized.
    let smaller = imageops::resize(&a, 1500, 1000, imageops::FilterType::Triangle);
    let reencoded = process(&jpeg(&smaller, 55), &cfg).unwrap().phash;
    assert!(
        hamming(original, reencoded) <= NEAR_DUPLICATE_MAX_DISTANCE,
        "distance {} to a re-encoded copy",
        hamming(original, reencoded)
    );
    // The same photo stored turned, with EXIF orientation 6: upright again, it hashes alike.
    let turned = process(&with_metadata(&jpeg(&stored_for(&a, 6), 90), 6), &cfg)
        .unwrap()
        .phash;
    assert!(hamming(original, turned) <= NEAR_DUPLICATE_MAX_DISTANCE);
    for seed in [12, 13, 14, 15] {
        let other = process(&jpeg(&natural(seed, 2400, 1600), 92), &cfg)
            .unwrap()
            .phash;
        assert!(
            hamming(original, other) > NEAR_DUPLICATE_MAX_DISTANCE,
            "distance {} to a different photo (seed {seed})",
            hamming(original, other)
        );
    }
    assert_eq!(hamming(0b1011, 0b0010), 2);
}

#[test]
fn probe_reads_headers_only() {
    // Scan data replaced by garbage: the header is still read.
    let mut b = jpeg(&natural(9, 320, 200), 85);
    let sos = b.windows(2).position(|w| w == [0xFF, 0xDA]).unwrap();
    let garbage_from = sos + 20;
    for x in &mut b[garbage_from..] {
        *x = 0x5A;
    }
    let info = probe(&with_metadata(&b, 8)).unwrap();
    assert_eq!(
        (info.format, info.width, info.height, info.orientation),
        ("jpeg", 320, 200, 8)
    );
}

#[test]
fn heic_is_converted_or_explained() {
    let msg = PhotoError::HeicUnavailable.to_string();
    assert!(
        msg.contains("heif-convert") && msg.contains("libheif-examples"),
        "{msg}"
    );
    let dir = tempfile::tempdir().unwrap();
    let png_path = dir.path().join("in.png");
    let heic_path = dir.path().join("in.heic");
    std::fs::write(&png_path, png(&quadrants(320, 240))).unwrap();
    let made = std::process::Command::new("heif-enc")
        .arg("-q")
        .arg("90")
        .arg(&png_path)
        .arg("-o")
        .arg(&heic_path)
        .output()
        .is_ok_and(|o| o.status.success());
    if !made || !warta_photo::heic_supported() {
        eprintln!("note: heif-enc/heif-convert not installed; HEIC decoding not exercised");
        return;
    }
    let bytes = std::fs::read(&heic_path).unwrap();
    let info = probe(&bytes).unwrap();
    assert_eq!((info.format, info.width, info.height), ("heic", 320, 240));
    let r = process(&bytes, &small()).unwrap();
    assert_eq!((r.web.width, r.web.height), (320, 240));
    let got = quadrant_colours(&decode(&r.web.bytes));
    for (g, want) in got.iter().zip([RED, GREEN, BLUE, WHITE]) {
        assert!(close(*g, want), "heic: {got:?}");
    }
    assert_clean(&r.web.bytes);
}

#[test]
fn every_chroma_subsampling_and_odd_sizes_come_out_right() {
    let upright = quadrants(241, 161);
    for subsamp in [
        turbojpeg::Subsamp::None,
        turbojpeg::Subsamp::Sub2x1,
        turbojpeg::Subsamp::Sub2x2,
        turbojpeg::Subsamp::Sub1x2,
        turbojpeg::Subsamp::Gray,
    ] {
        for o in [1u8, 6, 7] {
            let stored = stored_for(&upright, o);
            let image = turbojpeg::Image {
                pixels: stored.as_raw().as_slice(),
                width: stored.width() as usize,
                pitch: stored.width() as usize * 3,
                height: stored.height() as usize,
                format: turbojpeg::PixelFormat::RGB,
            };
            let bytes = with_metadata(
                &turbojpeg::compress(image, 95, subsamp).unwrap(),
                u16::from(o),
            );
            let r = process(
                &bytes,
                &PhotoConfig {
                    web_max: 200,
                    thumb_max: 51,
                    ..PhotoConfig::default()
                },
            )
            .unwrap();
            assert_eq!((r.web.width, r.web.height), (200, 134), "{subsamp:?} o{o}");
            assert_eq!(
                (r.thumb.width, r.thumb.height),
                (51, 34),
                "{subsamp:?} o{o}"
            );
            let img = decode(&r.web.bytes);
            assert_eq!(img.dimensions(), (200, 134));
            let got = quadrant_colours(&img);
            if subsamp == turbojpeg::Subsamp::Gray {
                // Grey: red top-left is darker than white bottom-right.
                assert!(got[0].0[0] + 60 < got[3].0[0], "{subsamp:?} o{o}: {got:?}");
            } else {
                for (g, want) in got.iter().zip([RED, GREEN, BLUE, WHITE]) {
                    assert!(close(*g, want), "{subsamp:?} o{o}: {got:?}");
                }
            }
            assert_clean(&r.web.bytes);
        }
    }
}

#[test]
fn probe_names_the_metadata_blocks_a_photo_carries() {
    let clean = jpeg(&quadrants(64, 48), 90);
    let info = probe(&clean).unwrap();
    assert!(info.metadata.is_empty(), "{:?}", info.metadata);
    let dirty = with_metadata(&clean, 1);
    assert_eq!(
        probe(&dirty).unwrap().metadata,
        ["EXIF", "XMP", "IPTC", "comment"]
    );
    // Renditions come out clean, as the hub checks for photos made on a laptop.
    let r = process(&dirty, &PhotoConfig::default()).unwrap();
    assert!(probe(&r.web.bytes).unwrap().metadata.is_empty());
    assert!(probe(&r.thumb.bytes).unwrap().metadata.is_empty());
}

#[test]
fn large_png_and_tiff_files_read_from_disk_match_the_bytes_in_memory() {
    // Both files are larger than the 256 KiB read first, and what decides their orientation
    // and colours lies after that: an eXIf chunk after the PNG's image data, and a TIFF
    // directory (orientation 6, an Adobe RGB profile) written after the pixels, as libtiff
    // does. `process_file` reads neither file whole; it must find the same.
    let stored = natural(21, 800, 600);
    let mut png_bytes = png(&stored);
    let iend = png_bytes.len() - 12;
    png_bytes.splice(iend..iend, png_chunk(b"eXIf", &exif_tiff(6)));
    let mut tiff_bytes = std::io::Cursor::new(Vec::new());
    let mut enc = tiff::encoder::TiffEncoder::new(&mut tiff_bytes).unwrap();
    let mut img = enc
        .new_image::<tiff::encoder::colortype::RGB8>(800, 600)
        .unwrap();
    img.encoder()
        .write_tag(tiff::tags::Tag::Orientation, 6u16)
        .unwrap();
    let profile = adobe_rgb_profile();
    img.encoder()
        .write_tag(tiff::tags::Tag::IccProfile, &profile[..])
        .unwrap();
    img.write_data(stored.as_raw()).unwrap();
    let tiff_bytes = tiff_bytes.into_inner();
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in [("big.png", &png_bytes), ("big.tif", &tiff_bytes)] {
        assert!(bytes.len() > 256 * 1024, "{name}");
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let from_file = process_file(&path, &small()).unwrap();
        let in_memory = process(bytes, &small()).unwrap();
        assert_eq!(from_file.info, in_memory.info, "{name}");
        assert_eq!(from_file.info.orientation, 6, "{name}");
        assert_eq!(
            (from_file.web.width, from_file.web.height),
            (300, 400),
            "{name}: upright"
        );
        assert!(
            from_file.web.bytes == in_memory.web.bytes,
            "{name}: same web rendition"
        );
        assert!(
            from_file.thumb.bytes == in_memory.thumb.bytes,
            "{name}: same thumbnail"
        );
    }
    // The TIFF's profile was found and applied: without it the colours differ.
    let untagged = process(&png(&stored), &small()).unwrap();
    let tagged = process(&tiff_bytes, &small()).unwrap();
    let centre = |bytes: &[u8]| *decode(bytes).get_pixel(150, 200);
    let (a, b) = (
        centre(&tagged.web.bytes),
        image::imageops::rotate90(&decode(&untagged.web.bytes)),
    );
    assert_ne!(
        a,
        *b.get_pixel(150, 200),
        "the Adobe RGB profile changes the colours"
    );
}

#[test]
fn truncated_png_tiff_and_webp_files_are_refused() {
    let img = natural(22, 800, 600);
    let mut tiff_bytes = Vec::new();
    img.write_to(&mut Cursor::new(&mut tiff_bytes), image::ImageFormat::Tiff)
        .unwrap();
    let webp_bytes = webp::Encoder::from_rgb(img.as_raw(), 800, 600)
        .encode(80.0)
        .to_vec();
    let dir = tempfile::tempdir().unwrap();
    for (name, full) in [
        ("cut.png", png(&img)),
        ("cut.tif", tiff_bytes),
        ("cut.webp", webp_bytes),
    ] {
        let cut = &full[..full.len() * 2 / 3];
        let path = dir.path().join(name);
        std::fs::write(&path, cut).unwrap();
        for err in [
            process(cut, &small()).unwrap_err(),
            process_file(&path, &small()).unwrap_err(),
        ] {
            assert!(matches!(err, PhotoError::Corrupt { .. }), "{name}: {err:?}");
            if name == "cut.png" {
                assert!(err.to_string().contains("cut short"), "{err}");
            }
        }
    }
}
