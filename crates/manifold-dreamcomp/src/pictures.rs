//! The original's pictures: the "tapestry" (every neuron's 28 × 28 pixel prototype in a
//! Kx × Ky grid, one colour scale, with a colour bar) and per-neuron bar charts of the
//! 10 label synapses, each titled with its epoch.

use burn::tensor::backend::Backend;
use manifold_viz::{labelled_bar_grid, tile_grid, Figure, Panel, RgbImage, Scale};

use crate::model::{DreamComp, CLASSES, PIXELS};

/// The weights as one row-major `K × 794` buffer.
fn weights<B: Backend>(model: &DreamComp<B>) -> Vec<f32> {
    model
        .w()
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("float weights")
}

/// The tapestry after epoch `epoch`: pixel prototypes as a grid of `grid_cols` columns,
/// one sequential scale, under a title naming the epoch, with a colour bar of the pixel
/// weights.
pub fn tapestry<B: Backend>(model: &DreamComp<B>, grid_cols: usize, epoch: usize) -> RgbImage {
    let w = weights(model);
    let k = model.neurons();
    let tiles: Vec<f32> = w
        .chunks_exact(PIXELS + CLASSES)
        .flat_map(|row| row[..PIXELS].iter().copied())
        .collect();
    let zoom = if k <= 400 { 2 } else { 1 };
    let scale = Scale::sequential_for(&tiles);
    let grid = tile_grid(&tiles, k, 28, 28, grid_cols, zoom, scale);
    Figure::new(
        format!("DreamComp tapestry after epoch {epoch}"),
        vec![Panel::new("", grid)],
    )
    .with_note(format!(
        "one 28 × 28 tile of pixel synapses per neuron, neurons 0–{} row by row, {grid_cols} a row",
        k.saturating_sub(1)
    ))
    .with_colour_bar(scale, "pixel weight")
    .render()
}

/// Bar charts of each neuron's 10 label-synapse weights after epoch `epoch`, one
/// captioned panel per neuron in a grid of `grid_cols` columns.
pub fn label_bars<B: Backend>(model: &DreamComp<B>, grid_cols: usize, epoch: usize) -> RgbImage {
    let w = weights(model);
    let labels: Vec<f32> = w
        .chunks_exact(PIXELS + CLASSES)
        .flat_map(|row| row[PIXELS..].iter().copied())
        .collect();
    labelled_bar_grid(
        &labels,
        model.neurons(),
        CLASSES,
        grid_cols,
        &format!("DreamComp label synapses after epoch {epoch}"),
        "panel: one neuron, its index above; bars: its label-synapse weights, classes 0–9 left to right",
    )
}

/// The file name of epoch `epoch`'s tapestry (1-based).
pub fn tapestry_file(epoch: usize) -> String {
    format!("tapestry-epoch{epoch:03}.png")
}

/// Animated GIF of the tapestries `dir/tapestry-epoch001.png …` of epochs `1..=epochs`
/// (those present), 600 ms a frame; a smaller frame is padded with white to the largest.
pub fn tapestry_gif(
    dir: &std::path::Path,
    epochs: usize,
    out: &std::path::Path,
) -> Result<usize, manifold_viz::VizError> {
    let frames: Vec<RgbImage> = (1..=epochs)
        .filter_map(|e| image::open(dir.join(tapestry_file(e))).ok())
        .map(|img| img.to_rgb8())
        .collect();
    let width = frames.iter().map(|f| f.width()).max().unwrap_or(0);
    let height = frames.iter().map(|f| f.height()).max().unwrap_or(0);
    let frames: Vec<RgbImage> = frames
        .into_iter()
        .map(|f| {
            if f.dimensions() == (width, height) {
                return f;
            }
            let mut canvas = RgbImage::from_pixel(width, height, image::Rgb([255, 255, 255]));
            image::imageops::replace(&mut canvas, &f, 0, 0);
            canvas
        })
        .collect();
    manifold_viz::write_gif(out, &frames, 600)?;
    Ok(frames.len())
}

/// `tapestry-epochNNN.png` and `labels-epochNNN.png` in `dir`, after epoch `epoch`.
pub fn draw_epoch<B: Backend>(
    dir: &std::path::Path,
    model: &DreamComp<B>,
    config: &crate::DreamCompConfig,
    epoch: usize,
) -> Result<(), manifold_train::TrainError> {
    let cols = config.grid_cols();
    manifold_viz::save_png(
        &tapestry(model, cols, epoch),
        &dir.join(tapestry_file(epoch)),
    )?;
    manifold_viz::save_png(
        &label_bars(model, cols, epoch),
        &dir.join(format!("labels-epoch{epoch:03}.png")),
    )?;
    Ok(())
}

/// `accuracy.png` in `dir` from `dir/metrics.csv`: test and train accuracy per epoch.
pub fn draw_curves(dir: &std::path::Path) -> Result<(), manifold_train::TrainError> {
    use manifold_viz::{line_chart, Series};
    let m = manifold_train::read_metrics(&dir.join("metrics.csv"))?;
    let pts = |y: &str| -> Vec<(f64, f64)> {
        m["epoch"]
            .iter()
            .zip(&m[y])
            .map(|(&x, &y)| (x, 100.0 * y))
            .collect()
    };
    line_chart(
        &dir.join("accuracy.png"),
        "DreamComp accuracy",
        "epoch",
        "accuracy (%)",
        &[
            Series::new("test", pts("test_accuracy")),
            Series::new("train (first 10 000)", pts("train_accuracy")),
        ],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Tensor, TensorData};

    type B = burn_ndarray::NdArray<f32>;

    /// `k` neurons whose pixel synapses are a bright square that grows with the neuron
    /// index, times `gain`, and whose label synapses favour class `k mod 10`.
    fn model(k: usize, gain: f32) -> DreamComp<B> {
        let mut w = vec![0.0f32; k * (PIXELS + CLASSES)];
        for n in 0..k {
            let row = &mut w[n * (PIXELS + CLASSES)..(n + 1) * (PIXELS + CLASSES)];
            let half = 2 + n % 12;
            for y in 14 - half..14 + half {
                for x in 14 - half..14 + half {
                    row[y * 28 + x] = gain * (1.0 + n as f32 / k as f32);
                }
            }
            for c in 0..CLASSES {
                row[PIXELS + c] = if c == n % CLASSES {
                    0.9
                } else {
                    0.1 * c as f32 - 0.3
                };
            }
        }
        let device = Default::default();
        DreamComp::from_weights(Tensor::from_data(
            TensorData::new(w, [k, PIXELS + CLASSES]),
            &device,
        ))
    }

    #[test]
    fn epoch_pictures_keep_their_size_and_make_a_gif() {
        let dir = tempfile::tempdir().unwrap();
        let config = crate::DreamCompConfig::new().with_neurons(16);
        draw_epoch(dir.path(), &model(16, 0.01), &config, 1).unwrap();
        draw_epoch(dir.path(), &model(16, 30.0), &config, 12).unwrap();
        let open = |name: &str| image::open(dir.path().join(name)).unwrap().to_rgb8();
        let (t1, t12) = (open(&tapestry_file(1)), open(&tapestry_file(12)));
        assert_eq!(t1.dimensions(), t12.dimensions());
        // Four 57-pixel tiles a row plus a colour bar and margins.
        assert!(t1.width() > 4 * 57 + 60 && t1.height() > 4 * 57 + 40);
        let (l1, l12) = (open("labels-epoch001.png"), open("labels-epoch012.png"));
        assert_eq!(l1.dimensions(), l12.dimensions());
        assert!(l1.width() >= 4 * 40 + 3 * 16);
        let frames = tapestry_gif(dir.path(), 12, &dir.path().join("t.gif")).unwrap();
        assert_eq!(frames, 2);
    }
}
