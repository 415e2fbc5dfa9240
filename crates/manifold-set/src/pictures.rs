//! SET's pictures: the curves of a run (`loss.png`, `accuracy.png` from its
//! `metrics.csv`), the first layer's connections per input pixel, and after every epoch
//! every layer's connections per input unit (`connectivity-epochNNN.png`) with the
//! first layer's centre/margin ratio (`connectivity.csv`, `centre_margin.png`).

use std::path::Path;

use burn::tensor::backend::Backend;
use manifold_train::files::{Kept, MetricsLog};
use manifold_train::{read_metrics, TrainError};
use manifold_viz::{
    heatmap, labelled_heatmap, line_chart, save_png, Figure, HeatmapLabels, Panel, Scale, Series,
};

use crate::model::SetMlp;
use crate::stats::centre_margin_ratio;
use crate::topology::connections_per_input;

/// The columns of `connectivity.csv`, one row per epoch.
pub const CONNECTIVITY: [&str; 3] = ["epoch", "connections", "first_layer_centre_margin"];

/// Checks, reading only, that `connectivity.csv` in `dir` holds the rows of the `epochs`
/// epochs a resumed checkpoint covers (see [`MetricsLog::check`]).
pub fn check_connectivity(dir: &Path, epochs: usize) -> Result<Kept, TrainError> {
    MetricsLog::check(&dir.join("connectivity.csv"), &CONNECTIVITY, Some(epochs))
}

/// `connectivity.csv` in `dir`, keeping what [`check_connectivity`] accepted.
pub fn connectivity_log(dir: &Path, kept: Kept) -> Result<MetricsLog, TrainError> {
    MetricsLog::resume(&dir.join("connectivity.csv"), &CONNECTIVITY, kept)
}

/// The side of a square image of `n` pixels, when `n` is a square.
fn image_side(n: usize) -> Option<usize> {
    let side = (n as f64).sqrt().round() as usize;
    (side * side == n).then_some(side)
}

/// `rows × cols` with `rows` the largest divisor of `n` not above √n: 784 → 28 × 28,
/// 1 000 → 25 × 40.
fn grid_of(n: usize) -> (usize, usize) {
    let rows = (1..=(n as f64).sqrt() as usize)
        .rev()
        .find(|&r| n.is_multiple_of(r))
        .unwrap_or(1);
    (rows, n / rows)
}

/// `connectivity-epochNNN.png` in `dir`: one panel per layer, the connections leaving
/// each of its input units laid out as a grid (the first layer as the image), one
/// colour scale; and a `connectivity.csv` row. Returns the first layer's centre/margin
/// ratio (NaN when its inputs are not a square image).
pub fn draw_connectivity<B: Backend>(
    dir: &Path,
    model: &SetMlp<B>,
    epoch: usize,
    log: &mut MetricsLog,
) -> Result<f64, TrainError> {
    let counts: Vec<Vec<f32>> = model
        .layers
        .iter()
        .map(|l| connections_per_input(&l.connections().rows, l.n_in))
        .collect();
    let all: Vec<f32> = counts.iter().flatten().copied().collect();
    let hi = all.iter().copied().fold(1f32, f32::max);
    let scale = Scale::Sequential { lo: 0.0, hi };
    let ratio = image_side(model.layers[0].n_in)
        .map_or(f64::NAN, |side| centre_margin_ratio(&counts[0], side));
    let panels = model
        .layers
        .iter()
        .zip(&counts)
        .enumerate()
        .map(|(k, (layer, c))| {
            let (rows, cols) = grid_of(layer.n_in);
            let zoom = (168 / rows.max(cols)).clamp(1, 6) as u32;
            let kept: f32 = c.iter().sum();
            Panel::new(
                format!(
                    "layer {}: {} → {}, {} kept",
                    k + 1,
                    layer.n_in,
                    layer.n_out,
                    kept as usize
                ),
                heatmap(c, rows, cols, zoom, scale),
            )
        })
        .collect();
    let note = format!(
        "each cell: one input unit of the layer (layer 1: a pixel), laid out row by row\n\
         first layer centre/margin ratio {ratio:.2} (central 14 × 14 pixels over the rest)"
    );
    Figure::new(
        format!("SET connections per input unit, epoch {epoch}"),
        panels,
    )
    .with_columns(model.layers.len())
    .with_note(note)
    .with_colour_bar(scale, "connections leaving the unit")
    .save(&dir.join(format!("connectivity-epoch{epoch:03}.png")))?;
    log.log(&[epoch as f64, all.iter().sum::<f32>() as f64, ratio])?;
    Ok(ratio)
}

/// `centre_margin.png` in `dir` from `dir/connectivity.csv` (when it has rows).
pub fn draw_centre_margin(dir: &Path) -> Result<(), TrainError> {
    let path = dir.join("connectivity.csv");
    if !path.is_file() {
        return Ok(());
    }
    let m = read_metrics(&path)?;
    let points: Vec<(f64, f64)> = m["epoch"]
        .iter()
        .zip(&m["first_layer_centre_margin"])
        .map(|(&e, &r)| (e, r))
        .filter(|(_, r)| r.is_finite())
        .collect();
    if points.is_empty() {
        return Ok(());
    }
    line_chart(
        &dir.join("centre_margin.png"),
        "SET first layer: centre/margin connection ratio",
        "epoch",
        "mean connections, central 14×14 / rest",
        &[Series::new("centre/margin", points)],
    )?;
    Ok(())
}

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
    let Some(side) = image_side(first.n_in) else {
        return Ok(());
    };
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_grids_are_as_square_as_the_count_allows() {
        assert_eq!(grid_of(784), (28, 28));
        assert_eq!(grid_of(1000), (25, 40));
        assert_eq!(grid_of(100), (10, 10));
        assert_eq!(grid_of(7), (1, 7), "a prime count is one row");
        assert_eq!((image_side(784), image_side(1000)), (Some(28), None));
    }
}
