//! Raster pictures drawn pixel by pixel: heatmaps, image-tile grids, bar-chart grids,
//! and animated GIFs of such frames.

use std::io::Cursor;
use std::path::Path;

use image::codecs::gif::{GifEncoder, Repeat};
use image::{Delay, Frame, Rgb, RgbaImage};

pub use image::RgbImage;

use crate::VizError;

/// How values become colours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Scale {
    /// `-max..max` through blue, white (0) and red; `max` is the largest |value|.
    Diverging {
        /// The largest |value|: `-max` maps to blue, `max` to red; values beyond clamp.
        max: f32,
    },
    /// `lo..hi` through viridis.
    Sequential {
        /// The value at the low (dark purple) end; lower values clamp to it.
        lo: f32,
        /// The value at the high (yellow) end; higher values clamp to it.
        hi: f32,
    },
}

impl Scale {
    /// A diverging scale fitted to the largest |value| (1 when all are 0).
    pub fn diverging_for(values: &[f32]) -> Self {
        let max = values
            .iter()
            .fold(0f32, |m, v| if v.is_finite() { m.max(v.abs()) } else { m });
        Scale::Diverging {
            max: if max > 0.0 { max } else { 1.0 },
        }
    }

    /// A sequential scale fitted to the finite values.
    pub fn sequential_for(values: &[f32]) -> Self {
        let (lo, hi) = values
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            });
        if lo.is_finite() && hi > lo {
            Scale::Sequential { lo, hi }
        } else {
            Scale::Sequential { lo: 0.0, hi: 1.0 }
        }
    }

    /// The values at the two ends of the scale, low first: `(-max, max)` or `(lo, hi)`.
    pub fn range(&self) -> (f32, f32) {
        match *self {
            Scale::Diverging { max } => (-max, max),
            Scale::Sequential { lo, hi } => (lo, hi),
        }
    }

    /// The colour of `v`.
    pub fn colour(&self, v: f32) -> Rgb<u8> {
        if !v.is_finite() {
            return Rgb([0, 0, 0]);
        }
        let c = match *self {
            Scale::Diverging { max } => {
                colorous::RED_BLUE.eval_continuous((0.5 - 0.5 * (v / max).clamp(-1.0, 1.0)) as f64)
            }
            Scale::Sequential { lo, hi } => {
                colorous::VIRIDIS.eval_continuous(((v - lo) / (hi - lo)).clamp(0.0, 1.0) as f64)
            }
        };
        Rgb([c.r, c.g, c.b])
    }
}

/// A `rows × cols` matrix (row-major) as an image, each cell `cell × cell` pixels.
pub fn heatmap(values: &[f32], rows: usize, cols: usize, cell: u32, scale: Scale) -> RgbImage {
    heatmap_cells(values, rows, cols, cell, cell, scale)
}

/// A `rows × cols` matrix (row-major) as an image, each cell `cell_w × cell_h` pixels.
pub fn heatmap_cells(
    values: &[f32],
    rows: usize,
    cols: usize,
    cell_w: u32,
    cell_h: u32,
    scale: Scale,
) -> RgbImage {
    assert_eq!(
        values.len(),
        rows * cols,
        "heatmap: values do not fill rows × cols"
    );
    RgbImage::from_fn(cols as u32 * cell_w, rows as u32 * cell_h, |x, y| {
        scale.colour(values[(y / cell_h) as usize * cols + (x / cell_w) as usize])
    })
}

/// `k` tiles of `h × w` values (tile after tile) in a grid of `grid_cols` columns,
/// one pixel of gap, every tile on the same colour scale, each value `zoom × zoom` pixels.
pub fn tile_grid(
    tiles: &[f32],
    k: usize,
    h: usize,
    w: usize,
    grid_cols: usize,
    zoom: u32,
    scale: Scale,
) -> RgbImage {
    assert_eq!(
        tiles.len(),
        k * h * w,
        "tile_grid: values do not fill k tiles"
    );
    let grid_cols = grid_cols.max(1);
    let grid_rows = k.div_ceil(grid_cols);
    let (tw, th) = (w as u32 * zoom + 1, h as u32 * zoom + 1);
    let mut img = RgbImage::from_pixel(
        grid_cols as u32 * tw + 1,
        grid_rows as u32 * th + 1,
        Rgb([40, 40, 40]),
    );
    for t in 0..k {
        let (gx, gy) = (
            (t % grid_cols) as u32 * tw + 1,
            (t / grid_cols) as u32 * th + 1,
        );
        for y in 0..h as u32 * zoom {
            for x in 0..w as u32 * zoom {
                let v = tiles[t * h * w + (y / zoom) as usize * w + (x / zoom) as usize];
                img.put_pixel(gx + x, gy + y, scale.colour(v));
            }
        }
    }
    img
}

/// Pixel width of one bar (three coloured pixels and a one-pixel gap) in [`bar_charts`].
const BAR_W: u32 = 4;
/// Pixel height of one chart of [`bar_charts`].
const CHART_H: u32 = 40;

/// The vertical range every chart of [`bar_charts`] shares: the finite values and 0.
pub(crate) fn bar_range(values: &[f32]) -> (f32, f32) {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let lo = finite.clone().fold(0f32, f32::min);
    let hi = finite.fold(0f32, f32::max);
    (lo, hi)
}

/// `k` small bar charts of `bars` values each (chart after chart), each `4·bars × 40`
/// pixels on white. Bars share one vertical scale, from min(0, lowest value) to
/// max(0, highest value); the tallest bar of a chart is drawn dark, the others light,
/// with a black baseline at 0.
pub fn bar_charts(values: &[f32], k: usize, bars: usize) -> Vec<RgbImage> {
    assert_eq!(
        values.len(),
        k * bars,
        "bar_charts: values do not fill k charts"
    );
    let (lo, hi) = bar_range(values);
    let span = if hi > lo { hi - lo } else { 1.0 };
    let to_y = |v: f32| ((hi - v) / span * (CHART_H - 1) as f32).round() as u32;
    let zero = to_y(0.0);
    (0..k)
        .map(|c| {
            let vals = &values[c * bars..(c + 1) * bars];
            let mut img = RgbImage::from_pixel(bars as u32 * BAR_W, CHART_H, Rgb([255, 255, 255]));
            let best = vals
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1))
                .map(|(i, _)| i)
                .unwrap_or(0);
            for (b, &v) in vals.iter().enumerate() {
                let colour = if b == best {
                    Rgb([20, 60, 160])
                } else {
                    Rgb([150, 180, 230])
                };
                let (top, bottom) = if v.is_finite() {
                    (to_y(v).min(zero), to_y(v).max(zero))
                } else {
                    (zero, zero)
                };
                for y in top..=bottom {
                    for x in 0..BAR_W - 1 {
                        img.put_pixel(b as u32 * BAR_W + x, y, colour);
                    }
                }
            }
            for x in 0..bars as u32 * BAR_W {
                img.put_pixel(x, zero, Rgb([0, 0, 0]));
            }
            img
        })
        .collect()
}

/// The charts of [`bar_charts`] in a grid of `grid_cols` columns, four white pixels
/// apart, without labels.
pub fn bar_grid(values: &[f32], k: usize, bars: usize, grid_cols: usize) -> RgbImage {
    assert_eq!(
        values.len(),
        k * bars,
        "bar_grid: values do not fill k charts"
    );
    let pad = 4u32;
    let chart_w = bars as u32 * BAR_W + pad;
    let grid_cols = grid_cols.max(1);
    let grid_rows = k.div_ceil(grid_cols) as u32;
    let mut img = RgbImage::from_pixel(
        grid_cols as u32 * chart_w + pad,
        grid_rows * (CHART_H + pad) + pad,
        Rgb([255, 255, 255]),
    );
    for (c, chart) in bar_charts(values, k, bars).iter().enumerate() {
        let ox = (c % grid_cols) as u32 * chart_w + pad;
        let oy = (c / grid_cols) as u32 * (CHART_H + pad) + pad;
        image::imageops::replace(&mut img, chart, ox as i64, oy as i64);
    }
    img
}

/// The PNG encoding of an image.
pub(crate) fn png_bytes(img: &RgbImage, path: &Path) -> Result<Vec<u8>, VizError> {
    let mut bytes = Cursor::new(Vec::new());
    img.write_to(&mut bytes, image::ImageFormat::Png)
        .map_err(|e| VizError::new(path, format!("cannot encode as PNG ({e})")))?;
    Ok(bytes.into_inner())
}

/// Writes an image as PNG, atomically ([`manifold_io::write_atomic`]): on failure the
/// file keeps its old bytes (or stays absent) and no temporary file is left.
pub fn save_png(img: &RgbImage, path: &Path) -> Result<(), VizError> {
    manifold_io::write_atomic(path, &png_bytes(img, path)?)?;
    Ok(())
}

/// Writes `frames` as a looping animated GIF, `delay_ms` per frame, atomically like
/// [`save_png`]. Frames of different sizes are placed on a canvas of the first frame's
/// size.
pub fn write_gif(path: &Path, frames: &[RgbImage], delay_ms: u32) -> Result<(), VizError> {
    let encoding =
        |e: image::ImageError| VizError::new(path, format!("cannot encode as GIF ({e})"));
    let mut bytes = Vec::new();
    {
        let mut enc = GifEncoder::new_with_speed(&mut bytes, 10);
        enc.set_repeat(Repeat::Infinite).map_err(encoding)?;
        let delay = Delay::from_numer_denom_ms(delay_ms, 1);
        for f in frames {
            let rgba: RgbaImage = image::DynamicImage::ImageRgb8(f.clone()).to_rgba8();
            enc.encode_frame(Frame::from_parts(rgba, 0, 0, delay))
                .map_err(encoding)?;
        }
    }
    manifold_io::write_atomic(path, &bytes)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diverging_scale_is_white_at_zero_and_saturates() {
        let s = Scale::Diverging { max: 2.0 };
        let mid = s.colour(0.0);
        assert!(
            mid.0.iter().all(|&c| c > 230),
            "zero should be near white, got {mid:?}"
        );
        let (lo, hi) = (s.colour(-5.0), s.colour(5.0));
        assert!(
            hi.0[0] > hi.0[2] && lo.0[2] > lo.0[0],
            "red for +, blue for -: {hi:?} {lo:?}"
        );
        assert_eq!(s.colour(2.0), s.colour(9.0));
    }

    #[test]
    fn heatmap_and_tiles_have_the_right_geometry() {
        let img = heatmap(
            &[0.0, 1.0, -1.0, 0.5, 0.2, 0.1],
            2,
            3,
            4,
            Scale::Diverging { max: 1.0 },
        );
        assert_eq!(img.dimensions(), (12, 8));
        assert_eq!(
            img.get_pixel(5, 1),
            &Scale::Diverging { max: 1.0 }.colour(1.0)
        );
        let tiles = tile_grid(
            &[0.5; 5 * 2 * 3],
            5,
            2,
            3,
            2,
            2,
            Scale::Sequential { lo: 0.0, hi: 1.0 },
        );
        assert_eq!(tiles.dimensions(), (2 * 7 + 1, 3 * 5 + 1));
    }

    #[test]
    fn bar_grid_marks_the_tallest_bar() {
        let img = bar_grid(&[0.1, 0.9, 0.2, 0.3], 2, 2, 2);
        // Chart 0's tallest bar is bar 1; its column holds the dark colour near the top.
        let dark = Rgb([20, 60, 160]);
        assert!((0..40).any(|y| img.get_pixel(4 + 4, 4 + y) == &dark));
        assert!(!(0..40).any(|y| img.get_pixel(4, 4 + y) == &dark));
    }

    #[test]
    fn gif_and_png_are_written() {
        let dir = tempfile::tempdir().unwrap();
        let frame = heatmap(
            &[0.0, 1.0, -1.0, 0.5],
            2,
            2,
            3,
            Scale::Diverging { max: 1.0 },
        );
        write_gif(
            &dir.path().join("a.gif"),
            &[frame.clone(), frame.clone()],
            100,
        )
        .unwrap();
        save_png(&frame, &dir.path().join("a.png")).unwrap();
        let bytes = std::fs::read(dir.path().join("a.gif")).unwrap();
        assert_eq!(&bytes[..6], b"GIF89a");
        assert!(save_png(&frame, &dir.path().join("missing/a.png")).is_err());
    }

    /// The names in `dir`, sorted.
    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_failed_png_save_leaves_no_file_and_no_temporary_file() {
        let dir = tempfile::tempdir().unwrap();
        let old = heatmap(&[0.0, 1.0], 1, 2, 2, Scale::Diverging { max: 1.0 });
        let path = dir.path().join("a.png");
        save_png(&old, &path).unwrap();
        let old_bytes = std::fs::read(&path).unwrap();
        let new = heatmap(&[1.0, 0.0], 1, 2, 5, Scale::Diverging { max: 1.0 });

        // Into a directory that does not exist: an error naming the file and the cause.
        let missing = dir.path().join("missing/a.png");
        let err = save_png(&new, &missing).unwrap_err();
        assert_eq!(err.path, missing);
        assert!(
            err.to_string()
                .ends_with("missing/a.png: cannot write (no such file or directory)"),
            "{err}"
        );
        // Under a path whose parent is a file (the old picture).
        let err = save_png(&new, &path.join("b.png")).unwrap_err();
        assert!(
            err.to_string().contains("a.png/b.png: cannot write"),
            "{err}"
        );
        // Over a directory: the rename fails after the temporary file was written.
        std::fs::create_dir(dir.path().join("d.png")).unwrap();
        std::fs::write(dir.path().join("d.png/keep"), b"x").unwrap();
        assert!(save_png(&new, &dir.path().join("d.png")).is_err());
        assert_eq!(names(&dir.path().join("d.png")), ["keep"]);
        // A GIF fails the same way.
        assert!(write_gif(
            &missing.with_extension("gif"),
            std::slice::from_ref(&new),
            100
        )
        .is_err());

        assert_eq!(
            names(dir.path()),
            ["a.png", "d.png"],
            "no temporary file is left"
        );
        assert_eq!(std::fs::read(&path).unwrap(), old_bytes);
    }

    #[cfg(unix)]
    #[test]
    fn an_existing_picture_keeps_its_old_bytes_when_a_save_fails() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let pictures = dir.path().join("pictures");
        std::fs::create_dir(&pictures).unwrap();
        let path = pictures.join("accuracy.png");
        let old = heatmap(&[0.0, 1.0], 1, 2, 2, Scale::Diverging { max: 1.0 });
        save_png(&old, &path).unwrap();
        let old_bytes = std::fs::read(&path).unwrap();
        let new = heatmap(&[1.0, 0.0, 0.5], 1, 3, 7, Scale::Diverging { max: 1.0 });

        // A picture PNG cannot hold (no pixels): the file is not even opened.
        let err = save_png(&RgbImage::new(0, 0), &path).unwrap_err();
        assert!(
            err.to_string()
                .contains("accuracy.png: cannot encode as PNG"),
            "{err}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), old_bytes);

        // A directory nobody may write into: the temporary file cannot be made.
        std::fs::set_permissions(&pictures, std::fs::Permissions::from_mode(0o555)).unwrap();
        let writable = std::fs::write(pictures.join("probe"), b"").is_ok(); // as root
        let png = save_png(&new, &path);
        let gif = write_gif(&path, std::slice::from_ref(&new), 100);
        std::fs::set_permissions(&pictures, std::fs::Permissions::from_mode(0o755)).unwrap();
        if writable {
            return; // permissions do not bind this user; the other test covers failures
        }
        let err = png.unwrap_err();
        assert!(
            err.to_string()
                .ends_with("accuracy.png: cannot write (permission denied)"),
            "{err}"
        );
        assert!(gif.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), old_bytes);
        assert_eq!(
            names(&pictures),
            ["accuracy.png"],
            "no temporary file is left"
        );
    }
}
