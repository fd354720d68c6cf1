//! Deterministic test photos: 12 MP JPEGs that look roughly like photographs (sky and ground
//! gradients, shaded shapes, texture, sensor-like noise) from a seeded generator, each with an
//! EXIF block holding GPS coordinates, camera make/model and an orientation.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use turbojpeg::{PixelFormat, Subsamp};

/// Bumped whenever the pictures drawn change.
pub const VERSION: u32 = 2;
pub const WIDTH: usize = 4000;
pub const HEIGHT: usize = 3000;

/// Orientations cycled through the batch: mostly upright, some turned, one upside down.
const ORIENTATIONS: [u16; 8] = [1, 6, 1, 8, 3, 1, 6, 1];

/// Makes the photos that are missing and returns all their paths, in order.
pub fn ensure(dir: &Path, count: usize) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir)?;
    let paths: Vec<PathBuf> = (0..count)
        .map(|i| dir.join(format!("photo-{i:03}.jpg")))
        .collect();
    let missing: Vec<usize> = (0..count).filter(|&i| !paths[i].exists()).collect();
    if missing.is_empty() {
        return Ok(paths);
    }
    eprintln!(
        "generating {} test photos in {} …",
        missing.len(),
        dir.display()
    );
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| -> Result<()> {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (missing, paths) = (&missing, &paths);
                s.spawn(move || -> Result<()> {
                    for &i in missing.iter().skip(t).step_by(threads) {
                        let bytes = photo(i as u64)?;
                        // Write then rename, so an interrupted run leaves no half photo.
                        let tmp = paths[i].with_extension("part");
                        std::fs::write(&tmp, bytes)?;
                        std::fs::rename(&tmp, &paths[i])?;
                    }
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            h.join().expect("generator thread")?;
        }
        Ok(())
    })?;
    Ok(paths)
}

/// SplitMix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }

    fn colour(&mut self) -> [f32; 3] {
        [
            self.unit() * 255.0,
            self.unit() * 255.0,
            self.unit() * 255.0,
        ]
    }
}

/// Photo number `i` as JPEG bytes with EXIF.
pub fn photo(i: u64) -> Result<Vec<u8>> {
    let mut rng = Rng(0x5741_5254_4100_0000 ^ i.wrapping_mul(0x1000_0001));
    let mut px = vec![0u8; WIDTH * HEIGHT * 3];
    let horizon = HEIGHT as f32 * (0.35 + 0.3 * rng.unit());
    let (sky_top, sky_low) = (
        [
            40.0 + 60.0 * rng.unit(),
            90.0 + 60.0 * rng.unit(),
            200.0 + 50.0 * rng.unit(),
        ],
        rng.colour(),
    );
    let (ground_near, ground_far) = (rng.colour(), rng.colour());
    let (fx, fy, phase) = (
        0.004 + 0.02 * rng.unit(),
        0.003 + 0.02 * rng.unit(),
        rng.unit() * std::f32::consts::TAU,
    );
    for y in 0..HEIGHT {
        let yf = y as f32;
        let base = if yf < horizon {
            mix(sky_top, sky_low, yf / horizon)
        } else {
            mix(
                ground_far,
                ground_near,
                (yf - horizon) / (HEIGHT as f32 - horizon),
            )
        };
        let row = &mut px[y * WIDTH * 3..(y + 1) * WIDTH * 3];
        for (x, p) in row.chunks_exact_mut(3).enumerate() {
            let texture = if yf < horizon {
                0.0
            } else {
                18.0 * ((x as f32 * fx + phase).sin() * (yf * fy).cos())
            };
            for c in 0..3 {
                p[c] = (base[c] + texture).clamp(0.0, 255.0) as u8;
            }
        }
    }
    // Shaded discs (sun, trees, heads) and boxes (buildings, signs).
    for _ in 0..14 {
        let colour = rng.colour();
        let (cx, cy) = (
            rng.below(WIDTH as u64) as i64,
            rng.below(HEIGHT as u64) as i64,
        );
        if rng.below(2) == 0 {
            let r = 60 + rng.below(500) as i64;
            for y in (cy - r).max(0)..(cy + r).min(HEIGHT as i64) {
                for x in (cx - r).max(0)..(cx + r).min(WIDTH as i64) {
                    let d2 = ((x - cx).pow(2) + (y - cy).pow(2)) as f32;
                    if d2 < (r * r) as f32 {
                        let shade = 1.0 - 0.45 * (d2 / (r * r) as f32);
                        put(&mut px, x as usize, y as usize, colour.map(|c| c * shade));
                    }
                }
            }
        } else {
            let (w, h) = (100 + rng.below(900) as i64, 100 + rng.below(1200) as i64);
            for y in cy.max(0)..(cy + h).min(HEIGHT as i64) {
                let shade = 0.7 + 0.3 * ((y - cy) as f32 / h as f32);
                for x in cx.max(0)..(cx + w).min(WIDTH as i64) {
                    // Windows: a regular grid of darker cells.
                    let window = (x - cx) % 60 < 30 && (y - cy) % 80 < 40;
                    let k = if window { shade * 0.55 } else { shade };
                    put(&mut px, x as usize, y as usize, colour.map(|c| c * k));
                }
            }
        }
    }
    // Sensor-like noise, so the files are as large and as costly to decode as camera files.
    let mut state = rng.next() | 1;
    for v in px.iter_mut() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let n = ((state & 0xff) as i32 + ((state >> 8) & 0xff) as i32 - 255) / 14;
        *v = (i32::from(*v) + n).clamp(0, 255) as u8;
    }
    let image = turbojpeg::Image {
        pixels: &px[..],
        width: WIDTH,
        pitch: WIDTH * 3,
        height: HEIGHT,
        format: PixelFormat::RGB,
    };
    let jpeg = turbojpeg::compress(image, 92, Subsamp::Sub2x2).context("encoding a test photo")?;
    let orientation = ORIENTATIONS[i as usize % ORIENTATIONS.len()];
    Ok(with_exif(&jpeg, orientation, i))
}

fn mix(a: [f32; 3], b: [f32; 3], t: f32) -> [f32; 3] {
    [
        a[0] + (b[0] - a[0]) * t,
        a[1] + (b[1] - a[1]) * t,
        a[2] + (b[2] - a[2]) * t,
    ]
}

fn put(px: &mut [u8], x: usize, y: usize, c: [f32; 3]) {
    let at = (y * WIDTH + x) * 3;
    for k in 0..3 {
        px[at + k] = c[k].clamp(0.0, 255.0) as u8;
    }
}

/// Inserts an EXIF APP1 segment right after SOI: make, model, orientation, a GPS position
/// (somewhere around Jakarta) and a serial number.
fn with_exif(jpeg: &[u8], orientation: u16, i: u64) -> Vec<u8> {
    let ascii = |s: &str| {
        let mut v = s.as_bytes().to_vec();
        v.push(0);
        (2u16, v.len() as u32, v)
    };
    let rationals = |r: &[(u32, u32)]| {
        let v: Vec<u8> = r
            .iter()
            .flat_map(|(n, d)| n.to_le_bytes().into_iter().chain(d.to_le_bytes()))
            .collect();
        (5u16, r.len() as u32, v)
    };
    let ifd0 = vec![
        (0x010F, ascii("WartaCam")),
        (0x0110, ascii("Field Reporter 12")),
        (0x0112, (3, 1, orientation.to_le_bytes().to_vec())),
        (0xA431, ascii(&format!("SN-{i:08}"))),
    ];
    let gps = vec![
        (0x0000, (1, 4, vec![2, 3, 0, 0])),
        (0x0001, ascii("S")),
        (
            0x0002,
            rationals(&[(6, 1), (12, 1), (3456 + i as u32, 100)]),
        ),
        (0x0003, ascii("E")),
        (0x0004, rationals(&[(106, 1), (49, 1), (1234, 100)])),
    ];
    let tiff = tiff_le(ifd0, gps);
    let mut out = Vec::with_capacity(jpeg.len() + tiff.len() + 10);
    out.extend_from_slice(&jpeg[..2]);
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((tiff.len() + 8) as u16).to_be_bytes());
    out.extend_from_slice(b"Exif\0\0");
    out.extend_from_slice(&tiff);
    out.extend_from_slice(&jpeg[2..]);
    out
}

type Field = (u16, (u16, u32, Vec<u8>));

/// A little-endian TIFF structure: IFD0 (with a pointer to the GPS IFD) and the GPS IFD.
fn tiff_le(mut ifd0: Vec<Field>, gps: Vec<Field>) -> Vec<u8> {
    let gps_at = 8 + 2 + (ifd0.len() + 1) * 12 + 4;
    ifd0.push((0x8825, (4, 1, (gps_at as u32).to_le_bytes().to_vec())));
    ifd0.sort_by_key(|f| f.0);
    let mut data_at = gps_at + 2 + gps.len() * 12 + 4;
    let mut out = b"II*\0".to_vec();
    out.extend_from_slice(&8u32.to_le_bytes());
    let mut data = Vec::new();
    for ifd in [&ifd0, &gps] {
        out.extend_from_slice(&(ifd.len() as u16).to_le_bytes());
        for (tag, (kind, count, value)) in ifd {
            out.extend_from_slice(&tag.to_le_bytes());
            out.extend_from_slice(&kind.to_le_bytes());
            out.extend_from_slice(&count.to_le_bytes());
            if value.len() <= 4 {
                let mut v = value.clone();
                v.resize(4, 0);
                out.extend_from_slice(&v);
            } else {
                out.extend_from_slice(&(data_at as u32).to_le_bytes());
                data.extend_from_slice(value);
                if value.len() % 2 == 1 {
                    data.push(0);
                }
                data_at = gps_at + 2 + gps.len() * 12 + 4 + data.len();
            }
        }
        out.extend_from_slice(&0u32.to_le_bytes());
    }
    out.extend_from_slice(&data);
    out
}
