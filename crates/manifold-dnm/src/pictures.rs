//! The DNM's pictures: the closeness matrix `D` recorded every `record_every` steps as
//! kept cells in `snapshots.bin` (the report's explorer reads it), the final `D` as a
//! labelled heatmap (`closeness.png`, rows receivers, columns senders, blue < 0 < red),
//! `D` evolving (`closeness.gif`, from the snapshots), and one curve per metric.

use std::path::Path;

use burn::module::AutodiffModule;
use burn::tensor::backend::Backend;
use manifold_kernels::{KernelAutodiffBackend, KernelBackend};
use manifold_report::{NeuronShapes, SnapshotGeometry, SnapshotLog, Snapshots};
use manifold_train::{read_metrics, Observer, TrainError};
use manifold_viz::{
    labelled_heatmap, line_chart, save_png, scatter_chart, write_gif, HeatmapLabels, RgbImage,
    Scale, Series,
};

use crate::{Dnm, DnmConfig, Grid};

/// The snapshot file of a run directory.
pub const SNAPSHOTS_FILE: &str = "snapshots.bin";

fn host<B: Backend>(t: burn::tensor::Tensor<B, 1>) -> Vec<f64> {
    t.into_data()
        .convert::<f64>()
        .to_vec::<f64>()
        .expect("float parameters")
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The receiving neurons' shape parameters as the closeness functions use them, and
/// the cutoff `c = sigmoid(κ)` (see [`mod@crate::closeness`]).
pub fn neuron_shapes<B: Backend>(model: &Dnm<B>) -> (NeuronShapes, f32) {
    let raw = model.raw();
    let map = |t, f: fn(f64) -> f64| host::<B>(t).into_iter().map(|v| f(v) as f32).collect();
    let shapes = NeuronShapes {
        alpha: map(raw.alpha, |a| 2.0 * sigmoid(a) - 1.0),
        beta: map(raw.beta, |b| b + 1.0),
        gamma: map(raw.gamma, sigmoid),
        theta: map(raw.theta, |t| softplus(t) / std::f64::consts::LN_2),
        phi: map(raw.phi, |p| p),
        sigma: map(raw.sigma, softplus),
        mu: map(raw.mu, |m| m),
    };
    let cutoff = sigmoid(host::<B>(raw.kappa)[0]) as f32;
    (shapes, cutoff)
}

/// `D` of `model`, `R × C` row-major.
fn d_values<B: KernelBackend>(model: &Dnm<B>, grid: &Grid<B>) -> Vec<f32> {
    model
        .cutoff(grid, None)
        .d
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("float D")
}

/// `D` (`rows × cols`) as a labelled heatmap, 8 pixels a cell below 100 senders, else 1.
fn d_picture(values: &[f32], rows: usize, cols: usize, title: &str) -> RgbImage {
    let cell = if cols < 100 { 8 } else { 1 };
    labelled_heatmap(
        values,
        rows,
        cols,
        cell,
        Scale::diverging_for(values),
        &HeatmapLabels {
            title,
            x: "sending neuron j",
            y: "receiving neuron (row r = i − inputs)",
            colour: "closeness D",
        },
    )
}

/// `D` of `model` as a labelled heatmap.
pub fn d_heatmap<B: KernelBackend>(
    model: &Dnm<B>,
    config: &DnmConfig,
    device: &B::Device,
) -> RgbImage {
    let grid = Grid::<B>::of(config, device);
    let values = d_values(model, &grid);
    d_picture(&values, grid.rows(), grid.cols(), "DNM closeness matrix D")
}

/// The snapshots of `D` a run records into `snapshots.bin`.
pub struct SnapshotRecorder {
    log: Option<SnapshotLog>,
    path: Option<std::path::PathBuf>,
}

impl SnapshotRecorder {
    /// Snapshots into the observer's output directory (none when it draws no pictures);
    /// a resumed run appends to the file it has.
    pub fn new(observer: &dyn Observer, config: &DnmConfig) -> Result<Self, TrainError> {
        let Some(dir) = observer.output_dir().filter(|_| observer.draws_pictures()) else {
            return Ok(Self {
                log: None,
                path: None,
            });
        };
        let path = dir.join(SNAPSHOTS_FILE);
        let geometry = SnapshotGeometry {
            inputs: config.inputs,
            comps: config.comps(),
            outputs: config.outputs,
            period: config.period,
        };
        let log = SnapshotLog::open(&path, geometry)?;
        Ok(Self {
            log: Some(log),
            path: Some(path),
        })
    }

    /// Appends the snapshot of step `step`.
    pub fn record<B: KernelAutodiffBackend>(
        &mut self,
        model: &Dnm<B>,
        config: &DnmConfig,
        step: usize,
        device: &B::Device,
    ) -> Result<(), TrainError> {
        let Some(log) = &mut self.log else {
            return Ok(());
        };
        let valid = model.valid();
        let grid = Grid::<B::InnerBackend>::of(config, device);
        let (shapes, cutoff) = neuron_shapes(&valid);
        Ok(log.append(step, cutoff, &shapes, &d_values(&valid, &grid))?)
    }

    /// `closeness.png` (the final `D`), `closeness.gif` (at most 60 evenly spaced
    /// snapshots of the whole run) and the curves.
    pub fn finish<B: KernelAutodiffBackend>(
        self,
        model: &Dnm<B>,
        config: &DnmConfig,
        device: &B::Device,
    ) -> Result<(), TrainError> {
        let Some(path) = self.path else {
            return Ok(());
        };
        drop(self.log);
        let dir = path.parent().unwrap_or(Path::new("."));
        save_png(
            &d_heatmap(&model.valid(), config, device),
            &dir.join("closeness.png"),
        )?;
        let snapshots = Snapshots::read(&path)?;
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
