//! Peak memory of making one photo's renditions, measured in a child process: the issue's
//! goal is at most 64 MB per worker. Each test writes a large
//! photo to a temporary folder (row by row, so the test itself stays small), runs this same
//! test binary again as a child that calls [`process_file`] on it and prints its own peak
//! resident memory (`VmHWM` in /proc/self/status), and checks the peak and the renditions.
//! Memory, unlike time, is the same from run to run within a few hundred KiB.
//!
//! To measure any file by hand: `WARTA_PHOTO_PEAK_INPUT=photo.png WARTA_PHOTO_PEAK_OUT=dir
//! cargo test -p warta-photo --test memory -- --exact peak_child --nocapture`.

#![cfg(target_os = "linux")]

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use fast_image_resize::images::{Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use warta_photo::{PhotoConfig, process_file};

const INPUT: &str = "WARTA_PHOTO_PEAK_INPUT";
const OUT: &str = "WARTA_PHOTO_PEAK_OUT";

/// The goal, per worker.
const LIMIT_KIB: u64 = 64 * 1024;

/// The child: makes the renditions of `$WARTA_PHOTO_PEAK_INPUT` with the default
/// configuration, writes them to `$WARTA_PHOTO_PEAK_OUT`, and prints its peak RSS. Does
/// nothing in an ordinary test run.
#[test]
fn peak_child() {
    let Some(input) = std::env::var_os(INPUT) else {
        return;
    };
    let out = PathBuf::from(std::env::var_os(OUT).expect("WARTA_PHOTO_PEAK_OUT"));
    let r = process_file(Path::new(&input), &PhotoConfig::default()).unwrap();
    std::fs::write(out.join("web.jpg"), &r.web.bytes).unwrap();
    std::fs::write(out.join("thumb.jpg"), &r.thumb.bytes).unwrap();
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let hwm = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .expect("VmHWM in /proc/self/status");
    let kib: u64 = hwm.trim().trim_end_matches("kB").trim().parse().unwrap();
    println!("\nWARTA_PHOTO_PEAK_KIB={kib}");
}

/// What the child made of a file.
struct Peak {
    kib: u64,
    web: image::RgbImage,
    thumb: image::RgbImage,
}

/// Runs [`peak_child`] on `input` in a fresh process.
fn peak(input: &Path) -> Peak {
    let out = tempfile::tempdir().unwrap();
    let run = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "peak_child", "--nocapture", "--test-threads=1"])
        .env(INPUT, input)
        .env(OUT, out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "child failed: {stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let kib = stdout
        .split("WARTA_PHOTO_PEAK_KIB=")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .unwrap_or_else(|| panic!("the child reports no peak: {stdout}"))
        .parse()
        .unwrap();
    let read = |name: &str| image::open(out.path().join(name)).unwrap().into_rgb8();
    Peak {
        kib,
        web: read("web.jpg"),
        thumb: read("thumb.jpg"),
    }
}

// ------------------------------------------------------------------ test photos

const RED: [u8; 3] = [230, 20, 20];
const GREEN: [u8; 3] = [20, 200, 40];
const BLUE: [u8; 3] = [30, 40, 220];
const WHITE: [u8; 3] = [245, 245, 245];

/// A pixel of the upright `w`×`h` test picture: red, green, blue and white quadrants (so a
/// wrong turn shows), shaded in steps, with noise so that it compresses like a photograph
/// (about 2 bytes a pixel in PNG) rather than like a drawing.
fn upright_pixel(x: u32, y: u32, w: u32, h: u32) -> [u8; 3] {
    let base = match (x < w / 2, y < h / 2) {
        (true, true) => RED,
        (false, true) => GREEN,
        (true, false) => BLUE,
        (false, false) => WHITE,
    };
    let shade = ((x / 97 + y / 89) % 5) as i32 * 4 - 8;
    let mut s = (u64::from(x) << 32 | u64::from(y)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    s ^= s >> 29;
    s = s.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    s ^= s >> 32;
    let noise = (s % 17) as i32 - 8;
    base.map(|c| (i32::from(c) + shade + noise).clamp(0, 255) as u8)
}

/// The stored pixel (x, y) of a `w`×`h` file whose EXIF orientation is 1 or 6 (turn 90°
/// clockwise to show).
fn stored_pixel(x: u32, y: u32, w: u32, h: u32, orientation: u8) -> [u8; 3] {
    match orientation {
        1 => upright_pixel(x, y, w, h),
        6 => upright_pixel(h - 1 - y, x, h, w),
        _ => unreachable!(),
    }
}

/// An EXIF block (a little-endian TIFF structure) holding only an orientation.
fn exif_orientation(o: u16) -> Vec<u8> {
    let mut t = b"II*\0".to_vec();
    t.extend_from_slice(&8u32.to_le_bytes());
    t.extend_from_slice(&1u16.to_le_bytes());
    t.extend_from_slice(&0x0112u16.to_le_bytes());
    t.extend_from_slice(&3u16.to_le_bytes());
    t.extend_from_slice(&1u32.to_le_bytes());
    t.extend_from_slice(&o.to_le_bytes());
    t.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    t
}

/// Writes a `w`×`h` 8-bit RGB PNG row by row, with an eXIf chunk when `orientation` is not 1.
fn write_png(path: &Path, w: u32, h: u32, orientation: u8) {
    let mut enc = png::Encoder::new(BufWriter::new(File::create(path).unwrap()), w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    enc.set_compression(png::Compression::Fast);
    let mut writer = enc.write_header().unwrap();
    if orientation != 1 {
        writer
            .write_chunk(png::chunk::eXIf, &exif_orientation(orientation.into()))
            .unwrap();
    }
    let mut stream = writer.stream_writer().unwrap();
    let mut row = vec![0u8; w as usize * 3];
    for y in 0..h {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            px.copy_from_slice(&stored_pixel(x as u32, y, w, h, orientation));
        }
        stream.write_all(&row).unwrap();
    }
    stream.finish().unwrap();
}

/// Writes a `w`×`h` 8-bit RGB TIFF, uncompressed (as cameras and scanners write them) in
/// strips of 16 rows, row by row.
fn write_tiff(path: &Path, w: u32, h: u32) {
    let mut enc = tiff::encoder::TiffEncoder::new(BufWriter::new(File::create(path).unwrap()))
        .unwrap()
        .with_compression(tiff::encoder::Compression::Uncompressed);
    let mut img = enc
        .new_image::<tiff::encoder::colortype::RGB8>(w, h)
        .unwrap();
    img.rows_per_strip(16).unwrap();
    let mut strip = Vec::new();
    let mut y = 0;
    while img.next_strip_sample_count() > 0 {
        let rows = img.next_strip_sample_count() as u32 / (w * 3);
        strip.clear();
        for yy in y..y + rows {
            for x in 0..w {
                strip.extend_from_slice(&upright_pixel(x, yy, w, h));
            }
        }
        img.write_strip(&strip).unwrap();
        y += rows;
    }
    img.finish().unwrap();
}

/// The upright `w`×`h` picture, whole.
fn picture(w: u32, h: u32) -> Vec<u8> {
    let mut rgb = Vec::with_capacity(w as usize * h as usize * 3);
    for y in 0..h {
        for x in 0..w {
            rgb.extend_from_slice(&upright_pixel(x, y, w, h));
        }
    }
    rgb
}

/// A progressive JPEG (quality 92, 4:2:0) of the `w`×`h` picture.
fn progressive_jpeg(w: u32, h: u32) -> Vec<u8> {
    let rgb = picture(w, h);
    let mut c = turbojpeg::Compressor::new().unwrap();
    c.set_quality(92).unwrap();
    c.set_subsamp(turbojpeg::Subsamp::Sub2x2).unwrap();
    c.set_progressive(true).unwrap();
    c.compress_to_vec(turbojpeg::Image {
        pixels: rgb.as_slice(),
        width: w as usize,
        pitch: w as usize * 3,
        height: h as usize,
        format: turbojpeg::PixelFormat::RGB,
    })
    .unwrap()
}

// ------------------------------------------------------------------ checks

/// The renditions the full decode made before: the whole picture decoded, resized once
/// (Lanczos3) to the web size, turned upright, encoded as ours are, and decoded again.
fn reference_web(input: &Path, orientation: u8) -> image::RgbImage {
    let full = image::open(input).unwrap().into_rgb8();
    let (w, h) = full.dimensions();
    let long = w.max(h);
    let scale = |s: u32| ((u64::from(s) * 1600 + u64::from(long) / 2) / u64::from(long)) as u32;
    let (ww, wh) = if w >= h {
        (1600, scale(h))
    } else {
        (scale(w), 1600)
    };
    let from = ImageRef::new(w, h, full.as_raw(), PixelType::U8x3).unwrap();
    let mut to = Image::new(ww, wh, PixelType::U8x3);
    Resizer::new()
        .resize(
            &from,
            &mut to,
            &ResizeOptions::new().resize_alg(ResizeAlg::Convolution(FilterType::Lanczos3)),
        )
        .unwrap();
    drop(full);
    let web = image::RgbImage::from_raw(ww, wh, to.into_vec()).unwrap();
    let web = match orientation {
        1 => web,
        6 => image::imageops::rotate90(&web),
        _ => unreachable!(),
    };
    let jpeg = turbojpeg::compress(
        turbojpeg::Image {
            pixels: web.as_raw().as_slice(),
            width: web.width() as usize,
            pitch: web.width() as usize * 3,
            height: web.height() as usize,
            format: turbojpeg::PixelFormat::RGB,
        },
        82,
        turbojpeg::Subsamp::Sub2x2,
    )
    .unwrap();
    image::load_from_memory(&jpeg).unwrap().into_rgb8()
}

/// Peak signal-to-noise ratio of two same-size images, in dB (infinite when equal).
fn psnr(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let se: f64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum();
    let mse = se / a.as_raw().len() as f64;
    10.0 * (255.0f64 * 255.0 / mse).log10()
}

/// Red top-left, green top-right, blue bottom-left, white bottom-right, each averaged over
/// a patch in the middle of its quadrant.
fn assert_upright(img: &image::RgbImage, what: &str) {
    let (w, h) = img.dimensions();
    for (cx, cy, want) in [
        (w / 4, h / 4, RED),
        (3 * w / 4, h / 4, GREEN),
        (w / 4, 3 * h / 4, BLUE),
        (3 * w / 4, 3 * h / 4, WHITE),
    ] {
        let mut sum = [0u64; 3];
        let mut n = 0;
        for y in cy - h / 10..cy + h / 10 {
            for x in cx - w / 10..cx + w / 10 {
                for (s, &c) in sum.iter_mut().zip(&img.get_pixel(x, y).0) {
                    *s += u64::from(c);
                }
                n += 1;
            }
        }
        let mean = sum.map(|s| (s / n) as u8);
        assert!(
            mean.iter().zip(want).all(|(&m, w)| m.abs_diff(w) <= 20),
            "{what}: quadrant at ({cx}, {cy}) is {mean:?}, want {want:?}"
        );
    }
}

fn assert_under_limit(kib: u64, what: &str) {
    eprintln!("{what}: peak RSS {:.1} MiB", kib as f64 / 1024.0);
    assert!(
        kib <= LIMIT_KIB,
        "{what}: peak RSS {:.1} MiB, over the 64 MiB goal",
        kib as f64 / 1024.0
    );
}

// ------------------------------------------------------------------ tests

/// A 24 MP PNG (6000×4000 stored, EXIF orientation 6): under 64 MiB, upright, and the same
/// picture as resizing the full decode.
#[test]
fn a_24_megapixel_png_stays_under_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("24mp.png");
    write_png(&path, 6000, 4000, 6);
    let p = peak(&path);
    assert_under_limit(p.kib, "24 MP PNG");
    assert_eq!(p.web.dimensions(), (1067, 1600), "upright web size");
    assert_eq!(p.thumb.dimensions(), (213, 320), "upright thumbnail size");
    assert_upright(&p.web, "24 MP PNG web");
    assert_upright(&p.thumb, "24 MP PNG thumbnail");
    let db = psnr(&p.web, &reference_web(&path, 6));
    eprintln!("24 MP PNG: PSNR against the full decode {db:.1} dB");
    assert!(
        db >= 40.0,
        "24 MP PNG: PSNR {db:.1} dB against the full decode"
    );
}

/// A 50 MP PNG (8660×5774; the limit is 100 MP), which is box-reduced by 2 while it is read.
#[test]
fn a_50_megapixel_png_stays_under_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("50mp.png");
    write_png(&path, 8660, 5774, 1);
    let p = peak(&path);
    assert_under_limit(p.kib, "50 MP PNG");
    assert_eq!(p.web.dimensions(), (1600, 1067));
    assert_eq!(p.thumb.dimensions(), (320, 213));
    assert_upright(&p.web, "50 MP PNG web");
    let db = psnr(&p.web, &reference_web(&path, 1));
    eprintln!("50 MP PNG: PSNR against the full decode {db:.1} dB");
    assert!(
        db >= 40.0,
        "50 MP PNG: PSNR {db:.1} dB against the full decode"
    );
}

/// A 24 MP TIFF in LZW strips.
#[test]
fn a_24_megapixel_tiff_stays_under_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("24mp.tif");
    write_tiff(&path, 6000, 4000);
    let p = peak(&path);
    assert_under_limit(p.kib, "24 MP TIFF");
    assert_eq!(p.web.dimensions(), (1600, 1067));
    assert_upright(&p.web, "24 MP TIFF web");
    let db = psnr(&p.web, &reference_web(&path, 1));
    eprintln!("24 MP TIFF: PSNR against the full decode {db:.1} dB");
    assert!(
        db >= 40.0,
        "24 MP TIFF: PSNR {db:.1} dB against the full decode"
    );
}

/// A 12 MP progressive JPEG. libjpeg-turbo keeps every DCT coefficient of a progressive file
/// until its last scan (2 bytes each: 12 MP × 1.5 samples × 2 bytes ≈ 36 MB for 4:2:0),
/// however much it scales the output down, so this is the heaviest JPEG of that size; still
/// under the goal.
#[test]
fn a_12_megapixel_progressive_jpeg_stays_under_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("12mp-progressive.jpg");
    std::fs::write(&path, progressive_jpeg(4000, 3000)).unwrap();
    let p = peak(&path);
    assert_under_limit(p.kib, "12 MP progressive JPEG");
    assert_eq!(p.web.dimensions(), (1600, 1200));
    assert_upright(&p.web, "12 MP progressive JPEG web");
}

/// A 24 MP lossy WebP: decoded as Y, U and V planes (1.5 bytes a pixel, about 36 MB here),
/// turned into RGB a row at a time.
#[test]
fn a_24_megapixel_lossy_webp_stays_under_64_mib() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("24mp.webp");
    let webp = webp::Encoder::from_rgb(&picture(6000, 4000), 6000, 4000).encode(85.0);
    std::fs::write(&path, &*webp).unwrap();
    let p = peak(&path);
    assert_under_limit(p.kib, "24 MP lossy WebP");
    assert_eq!(p.web.dimensions(), (1600, 1067));
    assert_upright(&p.web, "24 MP lossy WebP web");
    let db = psnr(&p.web, &reference_web(&path, 1));
    eprintln!("24 MP lossy WebP: PSNR against the full decode {db:.1} dB");
    assert!(
        db >= 40.0,
        "24 MP lossy WebP: PSNR {db:.1} dB against the full decode"
    );
}

/// Writes the photos the figures in the crate documentation were measured on into
/// `$WARTA_PHOTO_SAMPLES` (then measure each with `peak_child`, see the top of this file).
#[test]
#[ignore = "writes about 400 MB of sample photos; run by hand"]
fn write_sample_photos() {
    let dir = PathBuf::from(std::env::var_os("WARTA_PHOTO_SAMPLES").expect("WARTA_PHOTO_SAMPLES"));
    write_png(&dir.join("png-24mp.png"), 6000, 4000, 1);
    write_png(&dir.join("png-50mp.png"), 8660, 5774, 1);
    write_tiff(&dir.join("tiff-24mp.tif"), 6000, 4000);
    write_tiff(&dir.join("tiff-50mp.tif"), 8660, 5774);
    for (name, w, h) in [("12mp", 4000, 3000), ("24mp", 6000, 4000)] {
        std::fs::write(
            dir.join(format!("progressive-{name}.jpg")),
            progressive_jpeg(w, h),
        )
        .unwrap();
    }
    for (name, w, h) in [
        ("12mp", 4000, 3000),
        ("24mp", 6000, 4000),
        ("50mp", 8660, 5774),
    ] {
        let rgb = picture(w, h);
        let webp = webp::Encoder::from_rgb(&rgb, w, h).encode(85.0);
        std::fs::write(dir.join(format!("webp-{name}.webp")), &*webp).unwrap();
    }
}
