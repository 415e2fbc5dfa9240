//! The MLP's pictures, drawn from a run's `metrics.csv`: `loss.png` (train and test
//! cross-entropy per epoch) and `accuracy.png` (test accuracy per epoch).

use std::path::Path;

use manifold_train::{read_metrics, TrainError};
use manifold_viz::{line_chart, Series};

/// Draws `loss.png` and `accuracy.png` in `dir` from `dir/metrics.csv`.
pub fn draw_curves(dir: &Path) -> Result<(), TrainError> {
    let m = read_metrics(&dir.join("metrics.csv"))?;
    let pts = |y: &str, scale: f64| -> Vec<(f64, f64)> {
        m["epoch"]
            .iter()
            .copied()
            .zip(m[y].iter().map(|v| v * scale))
            .collect()
    };
    line_chart(
        &dir.join("loss.png"),
        "MLP cross-entropy",
        "epoch",
        "loss",
        &[
            Series::new("train", pts("train_loss", 1.0)),
            Series::new("test", pts("test_loss", 1.0)),
        ],
    )?;
    line_chart(
        &dir.join("accuracy.png"),
        "MLP test accuracy",
        "epoch",
        "accuracy (%)",
        &[Series::new("test", pts("test_accuracy", 100.0))],
    )?;
    Ok(())
}
