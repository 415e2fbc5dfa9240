//! The original's pictures: the "tapestry" (every neuron's 28 × 28 pixel prototype in a
//! Kx × Ky grid, one colour scale) and per-neuron bar charts of the 10 label synapses.

use burn::tensor::backend::Backend;
use manifold_viz::{bar_grid, tile_grid, RgbImage, Scale};

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

/// The tapestry: pixel prototypes as a grid of `grid_cols` columns, one sequential scale.
pub fn tapestry<B: Backend>(model: &DreamComp<B>, grid_cols: usize) -> RgbImage {
    let w = weights(model);
    let k = model.neurons();
    let tiles: Vec<f32> = w
        .chunks_exact(PIXELS + CLASSES)
        .flat_map(|row| row[..PIXELS].iter().copied())
        .collect();
    let zoom = if k <= 400 { 2 } else { 1 };
    tile_grid(
        &tiles,
        k,
        28,
        28,
        grid_cols,
        zoom,
        Scale::sequential_for(&tiles),
    )
}

/// Bar charts of each neuron's 10 label-synapse weights.
pub fn label_bars<B: Backend>(model: &DreamComp<B>, grid_cols: usize) -> RgbImage {
    let w = weights(model);
    let labels: Vec<f32> = w
        .chunks_exact(PIXELS + CLASSES)
        .flat_map(|row| row[PIXELS..].iter().copied())
        .collect();
    bar_grid(&labels, model.neurons(), CLASSES, grid_cols)
}

/// The file name of epoch `epoch`'s tapestry (1-based).
pub fn tapestry_file(epoch: usize) -> String {
    format!("tapestry-epoch{epoch:03}.png")
}

/// Animated GIF of the tapestries `dir/tapestry-epoch001.png …` of epochs `1..=epochs`
/// (those present), 600 ms a frame.
pub fn tapestry_gif(
    dir: &std::path::Path,
    epochs: usize,
    out: &std::path::Path,
) -> Result<usize, manifold_viz::VizError> {
    let frames: Vec<RgbImage> = (1..=epochs)
        .filter_map(|e| image::open(dir.join(tapestry_file(e))).ok())
        .map(|img| img.to_rgb8())
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
    manifold_viz::save_png(&tapestry(model, cols), &dir.join(tapestry_file(epoch)))?;
    manifold_viz::save_png(
        &label_bars(model, cols),
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
