//! SET's pictures: the curves of a run (`loss.png`, `accuracy.png` from its
//! `metrics.csv`) and the first layer's connections per input pixel.

use std::path::Path;

use burn::tensor::backend::Backend;
use manifold_train::TrainError;
use manifold_viz::{labelled_heatmap, save_png, HeatmapLabels, Scale};

use crate::model::SetMlp;
use crate::topology::connections_per_input;

/// Draws `loss.png` and `accuracy.png` in `dir` from `dir/metrics.csv`.
pub fn draw_curves(dir: &Path) -> Result<(), TrainError> {
    manifold_train::curves::epoch_curves(dir, "SET-MLP")
}

/// A labelled heatmap of the first layer's connections per input pixel (pixel rows
/// down, pixel columns across, a colour bar of the counts), titled; square inputs only,
/// nothing is drawn otherwise.
pub fn draw_input_connections<B: Backend>(
    path: &Path,
    model: &SetMlp<B>,
) -> Result<(), TrainError> {
    let first = &model.layers[0];
    let side = (first.n_in as f64).sqrt().round() as usize;
    if side * side != first.n_in {
        return Ok(());
    }
    let counts = connections_per_input(&first.connections().rows, first.n_in);
    let img = labelled_heatmap(
        &counts,
        side,
        side,
        12,
        Scale::sequential_for(&counts),
        &HeatmapLabels {
            title: "SET first layer: connections per input pixel",
            x: "pixel column",
            y: "pixel row",
            colour: "connections",
        },
    );
    save_png(&img, path)?;
    Ok(())
}
