//! The curves of a classifier trained in epochs, drawn from its run's `metrics.csv`
//! (columns `epoch`, `train_loss`, `test_loss`, `test_accuracy`).

use std::path::Path;

use manifold_viz::{line_chart, Series};

use crate::{read_metrics, TrainError};

/// Draws `loss.png` (train and test cross-entropy) and `accuracy.png` (test accuracy in
/// percent) per epoch in `dir`, titled with the model's `name`.
pub fn epoch_curves(dir: &Path, name: &str) -> Result<(), TrainError> {
    let m = read_metrics(&dir.join("metrics.csv"))?;
    let column = |c: &str| -> Result<&Vec<f64>, TrainError> {
        m.get(c)
            .ok_or_else(|| TrainError::new(&dir.join("metrics.csv"), format!("no column `{c}`")))
    };
    let epochs = column("epoch")?;
    let pts = |y: &str, scale: f64| -> Result<Vec<(f64, f64)>, TrainError> {
        let values = column(y)?;
        Ok(epochs
            .iter()
            .copied()
            .zip(values.iter().map(|v| v * scale))
            .collect())
    };
    line_chart(
        &dir.join("loss.png"),
        &format!("{name} cross-entropy"),
        "epoch",
        "loss",
        &[
            Series::new("train", pts("train_loss", 1.0)?),
            Series::new("test", pts("test_loss", 1.0)?),
        ],
    )?;
    line_chart(
        &dir.join("accuracy.png"),
        &format!("{name} test accuracy"),
        "epoch",
        "accuracy (%)",
        &[Series::new("test", pts("test_accuracy", 100.0)?)],
    )?;
    Ok(())
}
