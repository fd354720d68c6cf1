//! Visual equivalence of two tools' web renditions: SSIM (8×8 windows, stride 4) and PSNR on
//! luma.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

pub struct Quality {
    pub count: usize,
    pub mean_ssim: f64,
    pub min_ssim: f64,
    pub mean_psnr: f64,
}

pub fn compare_dirs(a: &Path, b: &Path, photos: &[PathBuf]) -> Result<Quality> {
    let (mut sum_ssim, mut min_ssim, mut sum_psnr, mut count) = (0.0, f64::MAX, 0.0, 0);
    for p in photos {
        let name = format!(
            "{}.web.jpg",
            p.file_stem().unwrap_or_default().to_string_lossy()
        );
        let x = luma(&a.join(&name))?;
        let y = luma(&b.join(&name))?;
        if x.dimensions() != y.dimensions() {
            bail!("{name}: {:?} against {:?}", x.dimensions(), y.dimensions());
        }
        let s = ssim(&x, &y);
        sum_ssim += s;
        min_ssim = min_ssim.min(s);
        sum_psnr += psnr(&x, &y);
        count += 1;
    }
    let n = count.max(1) as f64;
    Ok(Quality {
        count,
        mean_ssim: sum_ssim / n,
        min_ssim,
        mean_psnr: sum_psnr / n,
    })
}

fn luma(path: &Path) -> Result<image::GrayImage> {
    Ok(image::open(path)
        .with_context(|| format!("reading {}", path.display()))?
        .to_luma8())
}

fn ssim(x: &image::GrayImage, y: &image::GrayImage) -> f64 {
    const WIN: u32 = 8;
    const STEP: u32 = 4;
    let (c1, c2) = ((0.01f64 * 255.0).powi(2), (0.03f64 * 255.0).powi(2));
    let (w, h) = x.dimensions();
    let (mut total, mut windows) = (0.0, 0u64);
    for wy in (0..=h.saturating_sub(WIN)).step_by(STEP as usize) {
        for wx in (0..=w.saturating_sub(WIN)).step_by(STEP as usize) {
            let (mut sx, mut sy, mut sxx, mut syy, mut sxy) = (0.0, 0.0, 0.0, 0.0, 0.0);
            for j in wy..wy + WIN {
                for i in wx..wx + WIN {
                    let a = f64::from(x.get_pixel(i, j)[0]);
                    let b = f64::from(y.get_pixel(i, j)[0]);
                    sx += a;
                    sy += b;
                    sxx += a * a;
                    syy += b * b;
                    sxy += a * b;
                }
            }
            let n = f64::from(WIN * WIN);
            let (mx, my) = (sx / n, sy / n);
            let (vx, vy, cov) = (sxx / n - mx * mx, syy / n - my * my, sxy / n - mx * my);
            total += ((2.0 * mx * my + c1) * (2.0 * cov + c2))
                / ((mx * mx + my * my + c1) * (vx + vy + c2));
            windows += 1;
        }
    }
    total / windows.max(1) as f64
}

fn psnr(x: &image::GrayImage, y: &image::GrayImage) -> f64 {
    let n = x.as_raw().len() as f64;
    let mse = x
        .as_raw()
        .iter()
        .zip(y.as_raw())
        .map(|(&a, &b)| (f64::from(a) - f64::from(b)).powi(2))
        .sum::<f64>()
        / n;
    if mse == 0.0 {
        99.0
    } else {
        10.0 * (255.0f64 * 255.0 / mse).log10()
    }
}
