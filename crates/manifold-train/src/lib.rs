//! What every manifold model shares: the run directory (`config.toml`, `metrics.csv`,
//! checkpoints, pictures, `summary.json`), Burn-recorder checkpoints, progress bars,
//! Ctrl-C handling, evaluation helpers and the grid-search tuner.

pub mod checkpoint;
mod error;
pub mod eval;
pub mod optim;
pub mod progress;
pub mod run;
pub mod tune;

pub use checkpoint::{load_module, load_record, save_module, save_record};
pub use error::TrainError;
pub use eval::{accuracy, argmax_rows, batch_tensor, labels_tensor};
pub use optim::{AdamParams, FusedAdam, FusedAdamRecord};
pub use progress::{install_interrupt_handler, interrupted, progress_bar};
pub use run::{command_line, read_metrics, read_toml, RunDir, Summary};
