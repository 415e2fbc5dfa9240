//! manifold: neural networks that learn their own structure, on Burn.
//!
//! A thin facade over the workspace crates:
//! - [`data`]: MNIST-format IDX files, the DNM toy task, the sequence tasks;
//! - [`dnm`]: the Dynamic Neural Manifold;
//! - [`set`]: Sparse Evolutionary Training;
//! - [`dreamcomp`]: competitive Hebbian learning with reconstruction weights;
//! - [`mlp`]: the small dense MLP;
//! - [`rnn`]: Burn's LSTM and GRU on the sequence tasks, the recurrent baselines;
//! - [`train`]: run directories, checkpoints, progress;
//! - [`sweep`]: sweep files run here or on Slurm, and collected;
//! - [`viz`]: charts, heatmaps, tile grids, GIFs;
//! - [`report`]: a run's self-contained `report.html`, the DNM explorer, run comparisons;
//! - [`backend`]: the one place a backend is chosen (`--device`).
//!
//! [`write_report`] is the report writer every run of the CLI and of the examples is
//! given ([`train::RunOptions::report`]): `report.html` at the end of the run.

pub mod backend;

pub use manifold_data as data;
pub use manifold_dnm as dnm;
pub use manifold_dreamcomp as dreamcomp;
pub use manifold_mlp as mlp;
pub use manifold_report as report;
pub use manifold_rnn as rnn;
pub use manifold_set as set;
pub use manifold_sweep as sweep;
pub use manifold_train as train;
pub use manifold_viz as viz;

use std::path::Path;

use manifold_train::TrainError;

/// Writes the run directory `dir`'s `report.html` ([`report::write_run_report`]); an
/// error keeps its path and problem. Give it to [`train::RunOptions::report`].
pub fn write_report(dir: &Path) -> Result<(), TrainError> {
    manifold_report::write_run_report(dir)
        .map(|_| ())
        .map_err(|e| TrainError::new(&e.path, e.problem))
}
