//! The DNM's pictures: `D` as a heatmap (rows receivers, columns senders, blue < 0 < red)
//! every recorded step (`frames/d_NNNNNNN.png`) and at the end (`closeness.png`), the
//! frames as `closeness.gif`, and one curve per metric from `metrics.csv`.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use manifold_kernels::{KernelAutodiffBackend, KernelBackend};
use manifold_train::{read_metrics, Observer, TrainError};
use manifold_viz::{
    heatmap, line_chart, save_png, scatter_chart, write_gif, RgbImage, Scale, Series,
};

use crate::{Dnm, DnmConfig, Grid};

/// `D` of `model` as a heatmap (8 pixels a cell below 100 senders, else 1).
pub fn d_heatmap<B: KernelBackend>(
    model: &Dnm<B>,
    config: &DnmConfig,
    device: &B::Device,
) -> RgbImage {
    let grid = Grid::<B>::of(config, device);
    let d = model.cutoff(&grid, None).d;
    let values = d
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("float D");
    let cell = if grid.cols() < 100 { 8 } else { 1 };
    heatmap(
        &values,
        grid.rows(),
        grid.cols(),
        cell,
        Scale::diverging_for(&values),
    )
}

/// The frames of `D` a run records, kept for the GIF.
pub struct Frames {
    dir: Option<PathBuf>,
    frames: Vec<RgbImage>,
}

impl Frames {
    /// Frames into the observer's output directory (none when it draws no pictures).
    pub fn new(observer: &dyn Observer) -> Result<Self, TrainError> {
        let dir = observer
            .output_dir()
            .filter(|_| observer.draws_pictures())
            .map(Path::to_path_buf);
        if let Some(d) = &dir {
            let frames = d.join("frames");
            std::fs::create_dir_all(&frames)
                .map_err(|e| TrainError::io(&frames, "cannot create", e))?;
        }
        Ok(Self {
            dir,
            frames: Vec::new(),
        })
    }

    /// Saves `frames/d_{step}.png`.
    pub fn record<B: KernelAutodiffBackend>(
        &mut self,
        model: &Dnm<B>,
        config: &DnmConfig,
        step: usize,
        device: &B::Device,
    ) -> Result<(), TrainError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        let frame = d_heatmap(&model.valid(), config, device);
        save_png(&frame, &dir.join("frames").join(format!("d_{step:07}.png")))?;
        self.frames.push(frame);
        Ok(())
    }

    /// `closeness.png` (the final `D`), `closeness.gif` (at most 60 evenly spaced
    /// frames) and the curves.
    pub fn finish<B: KernelAutodiffBackend>(
        self,
        model: &Dnm<B>,
        config: &DnmConfig,
        device: &B::Device,
    ) -> Result<(), TrainError> {
        let Some(dir) = &self.dir else {
            return Ok(());
        };
        save_png(
            &d_heatmap(&model.valid(), config, device),
            &dir.join("closeness.png"),
        )?;
        if !self.frames.is_empty() {
            let stride = self.frames.len().div_ceil(60);
            let picked: Vec<RgbImage> = self.frames.iter().step_by(stride).cloned().collect();
            write_gif(&dir.join("closeness.gif"), &picked, 150)?;
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
