//! What every manifold model shares: run recording ([`Run`], the [`Observer`] a model's
//! training loop reports to, [`Silent`] for runs that record nothing), interruption as a
//! value ([`Interrupter`]), Burn-recorder checkpoints, the fused Adam optimiser,
//! evaluation helpers.
//!
//! A run recorded in a directory (here a hand-written loop; a model crate's `train`
//! reports to the same [`Observer`]). The run's report is written at the end by the
//! function given to [`RunOptions::report`] (the `manifold` package's `write_report`
//! writes `report.html` with manifold-report, and its CLI and examples set it); this run
//! has none:
//!
//! ```
//! use manifold_train::{Evaluation, Observer, Position, Run, RunOptions, Summary};
//!
//! # fn main() -> Result<(), manifold_train::TrainError> {
//! #[derive(serde::Serialize)]
//! struct Config {
//!     steps: usize,
//! }
//! let config = Config { steps: 3 };
//! # let tmp = tempfile::tempdir().unwrap();
//! # let dir = tmp.path().join("demo");
//! let mut run = Run::create(RunOptions::new("demo").out(&dir).progress_bar(false), &config)?;
//! let mut at = Position::default();
//! run.begin("demo", &["step", "loss"], config.steps, &at)?;
//! while at.step < config.steps && !run.should_stop() {
//!     at.step += 1;
//!     run.log(&[at.step as f64, 1.0 / at.step as f64])?;
//!     run.tick(&at);
//! }
//! let evaluation = Evaluation::regression(0.25);
//! run.finish(&Summary::of("demo", &evaluation, &at, false))?;
//! assert!(dir.join("summary.json").is_file() && dir.join("metrics.csv").is_file());
//! assert!(!dir.join("report.html").exists(), "no report writer, no report");
//! # Ok(())
//! # }
//! ```

pub mod checkpoint;
pub mod config;
pub mod curves;
pub mod epoch;
mod error;
pub mod eval;
pub mod files;
pub mod interrupt;
pub mod learner;
pub mod lock;
pub mod loss;
pub mod memory;
pub mod observer;
pub mod optim;
pub mod outcome;
pub mod overrides;
pub mod progress;
pub mod run;

pub use checkpoint::{all_finite, load_module, load_record, save_module, save_record};
pub use config::{resume_changes, Change, ModelConfig};
pub use error::TrainError;
pub use eval::{accuracy, argmax_rows, batch_tensor, check_images, labels_tensor};
pub use files::{
    median, one_line, read_json, read_metrics, read_toml, read_toml_over, write_atomic, write_json,
    Metrics,
};
pub use interrupt::Interrupter;
pub use learner::{
    epoch_order, fit, run_epoch, shuffled, time_epochs, Learner, Schedule, StepError,
};
pub use lock::RunLock;
pub use loss::cross_entropy;
pub use observer::{Observer, Position, ResumePoint, SaveFiles, Silent};
pub use optim::{AdamParams, FusedAdam, FusedAdamRecord};
pub use outcome::{Evaluation, Summary, Trained};
pub use overrides::{layered_config, with_flags};
pub use progress::progress_bar;
pub use run::{ReportWriter, Run, RunOptions};
