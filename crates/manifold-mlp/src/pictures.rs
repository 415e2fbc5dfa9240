//! The MLP's pictures, drawn from a run's `metrics.csv`: `loss.png` (train and test
//! cross-entropy per epoch) and `accuracy.png` (test accuracy per epoch).

use std::path::Path;

use manifold_train::TrainError;

/// Draws `loss.png` and `accuracy.png` in `dir` from `dir/metrics.csv`.
pub fn draw_curves(dir: &Path) -> Result<(), TrainError> {
    manifold_train::curves::epoch_curves(dir, "MLP")
}
