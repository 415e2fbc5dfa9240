//! The DNM's pictures: the closeness matrix `D` recorded every `record_every` steps as
//! kept cells in `snapshots.bin` (its format: [`crate::snapshots`]; the report's explorer
//! reads it), the final `D` as a
//! labelled heatmap (`closeness.png`, rows receivers, columns senders, blue < 0 < red),
//! `D` evolving (`closeness.gif`, from the snapshots), and one curve per metric.

use std::path::Path;

use crate::kernels::{DnmAutodiffBackend, DnmBackend};
use burn::tensor::backend::Backend;
use manifold_train::{read_metrics, Observer, TrainError};
use manifold_viz::{
    heatmap, line_chart, save_png, scatter_chart, write_gif, Figure, Panel, RgbImage, Scale, Series,
};

use crate::closeness::{sigmoid, softplus};
use crate::snapshots::{NeuronShapes, SnapshotLog, Snapshots};
use crate::{Dnm, DnmConfig, Geometry, Grid};

/// The snapshot file of a run directory.
pub const SNAPSHOTS_FILE: &str = "snapshots.bin";

fn host<B: Backend>(t: burn::tensor::Tensor<B, 1>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("float parameters")
}

/// The receiving neurons' shape parameters as the closeness functions use them, and
/// the cutoff `c = sigmoid(κ)`: the transforms of [`mod@crate::closeness`], with its
/// `sigmoid` and `softplus`.
pub fn neuron_shapes<B: Backend>(model: &Dnm<B>) -> (NeuronShapes, f32) {
    let raw = model.raw();
    let shapes = NeuronShapes {
        alpha: host(sigmoid(raw.alpha).mul_scalar(2.0).sub_scalar(1.0)),
        beta: host(raw.beta.add_scalar(1.0)),
        gamma: host(sigmoid(raw.gamma)),
        theta: host(softplus(raw.theta).div_scalar(std::f64::consts::LN_2)),
        phi: host(raw.phi),
        sigma: host(softplus(raw.sigma)),
        mu: host(raw.mu),
    };
    let cutoff = host(sigmoid(raw.kappa))[0];
    (shapes, cutoff)
}

/// `D` of `model`, `R × C` row-major.
fn d_values<B: DnmBackend>(model: &Dnm<B>, grid: &Grid<B>) -> Vec<f32> {
    model
        .cutoff(grid, None)
        .d
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("float D")
}

/// Largest side, in cells, of a heatmap of `D`; a larger `D` is shown in blocks.
pub const MAX_SIDE: usize = 1200;

/// `D` (`rows × cols`) in `b × b` blocks, each the block's cell of largest `|D|` (so a
/// lone kept cell stays visible, with its sign): `(values, rows', cols')`.
fn pooled(values: &[f32], rows: usize, cols: usize, b: usize) -> (Vec<f32>, usize, usize) {
    let (pr, pc) = (rows.div_ceil(b), cols.div_ceil(b));
    let mut out = vec![0f32; pr * pc];
    for r in 0..rows {
        for (j, &v) in values[r * cols..(r + 1) * cols].iter().enumerate() {
            let o = &mut out[(r / b) * pc + j / b];
            if v.abs() > o.abs() {
                *o = v;
            }
        }
    }
    (out, pr, pc)
}

/// `D` (`rows × cols`) as a labelled heatmap, 8 pixels a cell below 100 senders, else 1;
/// beyond [`MAX_SIDE`] cells a side, one pixel per block of cells (the block's largest
/// `|D|`), with the axes still in neuron indices.
fn d_picture(values: &[f32], rows: usize, cols: usize, title: &str) -> RgbImage {
    let cell = if cols < 100 { 8 } else { 1 };
    let block = rows.max(cols).div_ceil(MAX_SIDE).max(1);
    let scale = Scale::diverging_for(values);
    let panel = if block > 1 {
        let (shown, pr, pc) = pooled(values, rows, cols, block);
        Panel::new("", heatmap(&shown, pr, pc, cell, scale))
    } else {
        Panel::new("", heatmap(values, rows, cols, cell, scale))
    };
    let mut figure = Figure::new(title, vec![panel]);
    if block > 1 {
        figure = figure.with_note(format!(
            "one pixel per {block} × {block} block of cells: its largest |D|"
        ));
    }
    figure
        .with_axes(
            "sending neuron j",
            "receiving neuron (row r = i − inputs)",
            rows,
            cols,
        )
        .with_colour_bar(scale, "closeness D")
        .render()
}

/// `D` of `model` on `grid` as a labelled heatmap.
pub fn d_heatmap<B: DnmBackend>(model: &Dnm<B>, grid: &Grid<B>) -> RgbImage {
    d_picture(
        &d_values(model, grid),
        grid.rows(),
        grid.cols(),
        "DNM closeness matrix D",
    )
}

/// The snapshots of `D` a run records into `snapshots.bin`.
pub struct SnapshotRecorder {
    log: Option<SnapshotLog>,
    path: Option<std::path::PathBuf>,
    geometry: Geometry,
}

/// The grid and period of `config`, as `snapshots.bin` records them.
pub fn snapshot_geometry(config: &DnmConfig) -> Geometry {
    config.geometry()
}

impl SnapshotRecorder {
    /// The snapshot file of the observer's output directory and the config's grid (none
    /// when the observer draws no pictures).
    fn target(
        observer: &dyn Observer,
        config: &DnmConfig,
    ) -> Option<(std::path::PathBuf, Geometry)> {
        let dir = observer
            .output_dir()
            .filter(|_| observer.draws_pictures())?;
        Some((dir.join(SNAPSHOTS_FILE), snapshot_geometry(config)))
    }

    /// Checks, writing nothing, the snapshot file a run resumed at step `resumed_at`
    /// would append to: a damaged file, or one of another grid or period, is an error
    /// naming the file (and the field). A resume calls it before the run directory
    /// changes at all.
    pub fn check(
        observer: &dyn Observer,
        config: &DnmConfig,
        resumed_at: Option<usize>,
    ) -> Result<(), TrainError> {
        if let Some((path, geometry)) = Self::target(observer, config) {
            SnapshotLog::check(&path, geometry, resumed_at)?;
        }
        Ok(())
    }

    /// Snapshots into the observer's output directory (none when it draws no pictures);
    /// a run resumed at step `resumed_at` appends to the file it has, cut back to the
    /// records of that step and earlier (see [`SnapshotLog::open_through`]).
    pub fn new(
        observer: &dyn Observer,
        config: &DnmConfig,
        resumed_at: Option<usize>,
    ) -> Result<Self, TrainError> {
        let Some((path, geometry)) = Self::target(observer, config) else {
            return Ok(Self {
                log: None,
                path: None,
                geometry: snapshot_geometry(config),
            });
        };
        let log = SnapshotLog::open_through(&path, geometry, resumed_at)?;
        Ok(Self {
            log: Some(log),
            path: Some(path),
            geometry,
        })
    }

    /// Appends the snapshot of step `step`; `grid` is the training grid.
    pub fn record<B: DnmAutodiffBackend>(
        &mut self,
        model: &Dnm<B>,
        grid: &Grid<B>,
        step: usize,
    ) -> Result<(), TrainError> {
        let Some(log) = &mut self.log else {
            return Ok(());
        };
        let (shapes, cutoff) = neuron_shapes(model);
        let Some(kept) = model.kept(grid, None) else {
            return log.append(step, cutoff, &shapes, &d_values(model, grid));
        };
        // The kept cells only: nothing of the grid's size is built.
        let values = host(kept.values);
        let cells: Vec<(usize, f32)> = kept.pattern.cells(&values).collect();
        log.append_cells(step, cutoff, &shapes, &cells)
    }

    /// `closeness.png` (the final `D`), `closeness.gif` (at most 60 evenly spaced
    /// snapshots of the whole run) and the curves; `grid` is the training grid.
    pub fn finish<B: DnmAutodiffBackend>(
        self,
        model: &Dnm<B>,
        grid: &Grid<B>,
    ) -> Result<(), TrainError> {
        let Some(path) = self.path else {
            return Ok(());
        };
        drop(self.log);
        let dir = path.parent().unwrap_or(Path::new("."));
        save_png(&d_heatmap(model, grid), &dir.join("closeness.png"))?;
        let snapshots = Snapshots::read_expecting(&path, self.geometry)?;
        if !snapshots.is_empty() {
            let g = snapshots.geometry();
            let stride = snapshots.len().div_ceil(60);
            let steps = snapshots.steps();
            let mut frames = Vec::new();
            for k in (0..snapshots.len()).step_by(stride) {
                let s = snapshots.get(k)?;
                let title = format!("DNM closeness matrix D, step {}", steps[k]);
                frames.push(d_picture(&s.d, g.rows(), g.cols(), &title));
            }
            write_gif(&dir.join("closeness.gif"), &frames, 150)?;
        }
        draw_curves(dir)
    }
}

/// One PNG per metric in `dir` from `dir/metrics.csv`, and the density-vs-step-time scatter.
pub fn draw_curves(dir: &Path) -> Result<(), TrainError> {
    let m = read_metrics(&dir.join("metrics.csv"))?;
    let pts = |y: &str, scale: f64| -> Vec<(f64, f64)> {
        m["step"]
            .iter()
            .copied()
            .zip(m[y].iter().map(|v| v * scale))
            .filter(|(_, v)| v.is_finite())
            .collect()
    };
    let charts = [
        ("objective", "objective", 1.0, "objective.png"),
        ("flow", "flow", 1.0, "flow.png"),
        ("density", "density (%)", 100.0, "density.png"),
        ("step_ms", "step time (ms)", 1.0, "step_time.png"),
        ("depth", "comp graph depth (sweeps)", 1.0, "depth.png"),
        ("test_accuracy", "test accuracy (%)", 100.0, "accuracy.png"),
        ("test_mse", "test MSE", 1.0, "test_mse.png"),
    ];
    for (col, label, scale, file) in charts {
        let p = pts(col, scale);
        if p.is_empty() {
            continue;
        }
        line_chart(
            &dir.join(file),
            &format!("DNM {label}"),
            "step",
            label,
            &[Series::new(col, p)],
        )?;
    }
    let scatter: Vec<(f64, f64)> = m["density"]
        .iter()
        .zip(&m["step_ms"])
        .map(|(d, t)| (100.0 * d, *t))
        .filter(|(d, t)| d.is_finite() && t.is_finite())
        .collect();
    scatter_chart(
        &dir.join("density_vs_step_time.png"),
        "DNM density against step time",
        "density (%)",
        "step time (ms)",
        &[Series::new("steps", scatter)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_keeps_each_blocks_largest_magnitude_with_its_sign() {
        #[rustfmt::skip]
        let d = [
            0.1, -0.5, 0.0,  0.2, 0.0,
            0.3,  0.0, 0.0, -0.9, 0.4,
            0.0,  0.0, 0.7,  0.0, 0.0,
        ];
        let (p, rows, cols) = pooled(&d, 3, 5, 2);
        assert_eq!((rows, cols), (2, 3));
        assert_eq!(p, [-0.5, -0.9, 0.4, 0.0, 0.7, 0.0]);
    }
}
