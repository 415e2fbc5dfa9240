//! How a model's training loop reports: the [`Observer`] trait, the [`Position`] of a
//! run, and [`Silent`], the observer that records nothing.
//!
//! Every model crate's `train` function drives its own loop and calls the observer at
//! fixed points:
//!
//! ```text
//! resume_point()  once, before anything: a checkpoint to continue from, or none
//! begin(…)        once the model (and a resumed checkpoint) is loaded
//! tick(…)         after every step or minibatch; should_stop() right after it
//! log(…)          a row of metrics (columns named in begin)
//! check_health(…) before each checkpoint: an error stops the run (divergence)
//! checkpoint(…)   the model's files, written where the observer says
//! ```
//!
//! [`crate::Run`] records all of it in a run directory; [`Silent`] ignores it, for tests,
//! sweeps and the tuner.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::TrainError;

/// Where a run stands. Models counting in epochs use `epoch` (epochs completed) and
/// `batch` (minibatches of the current epoch done); models counting in steps use `step`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Position {
    /// Epochs completed.
    pub epoch: usize,
    /// Minibatches of the current epoch already done.
    pub batch: usize,
    /// Steps (minibatches) done in all.
    pub step: usize,
    /// Training time so far (steps, evaluations, checkpoints), in seconds.
    pub wall_seconds: f64,
    /// The part of `wall_seconds` spent in training steps.
    pub step_seconds: f64,
    /// Duration of the last step in milliseconds (the DNM's time penalty reads it).
    pub last_step_ms: f64,
    /// The sum of the training losses of the current epoch's minibatches done (as the
    /// epoch's f32 accumulator holds it), so that an epoch resumed in its middle reports
    /// the same mean training loss as one run through.
    pub epoch_loss_sum: f64,
}

/// A saved checkpoint to continue from: its directory (the model's files) and position.
#[derive(Debug, Clone, PartialEq)]
pub struct ResumePoint {
    /// The directory the model's files were saved into.
    pub dir: PathBuf,
    /// Where the run stood when they were saved.
    pub position: Position,
}

/// Writes a model's checkpoint files into the directory it is given.
pub type SaveFiles<'a> = dyn FnMut(&Path) -> Result<(), TrainError> + 'a;

/// What a training loop reports to. Every method but [`Observer::should_stop`] has a
/// do-nothing default, so an observer implements only what it records. Observers are
/// `Send`: the loop runs on a thread of rayon's pool (see [`crate::fit`]).
pub trait Observer: Send {
    /// The checkpoint to continue from, when the run is being resumed.
    fn resume_point(&self) -> Option<ResumePoint> {
        None
    }

    /// Training starts: `label` names the model, `columns` the metrics that
    /// [`Observer::log`] rows hold, `total` the steps (or minibatches) of the whole run
    /// and `at` where it starts.
    fn begin(
        &mut self,
        _label: &str,
        _columns: &[&str],
        _total: usize,
        _at: &Position,
    ) -> Result<(), TrainError> {
        Ok(())
    }

    /// One step (or minibatch) is done.
    fn tick(&mut self, _at: &Position) {}

    /// A short status line (shown beside the progress bar).
    fn status(&mut self, _message: &str) {}

    /// One row of metrics, in the order of `begin`'s columns (NaN: no value).
    fn log(&mut self, _row: &[f64]) -> Result<(), TrainError> {
        Ok(())
    }

    /// Called before each checkpoint with whether every parameter is finite and the loss
    /// just evaluated (the test loss; `None` when none was). An error stops the run
    /// before the checkpoint is written, so the last healthy one is kept. The default
    /// accepts everything ([`Silent`] never stops a run); [`crate::Run`] watches for
    /// divergence.
    fn check_health(
        &mut self,
        _at: &Position,
        _params_finite: bool,
        _loss: Option<f64>,
    ) -> Result<(), TrainError> {
        Ok(())
    }

    /// Whether [`Observer::check_health`] can stop the run: a model evaluates its
    /// untrained loss (the divergence watch's first reference) only for such observers.
    fn watches_health(&self) -> bool {
        false
    }

    /// Saves a checkpoint at `at`: `save` writes the model's files into the directory
    /// it is handed.
    fn checkpoint(&mut self, _at: &Position, _save: &mut SaveFiles<'_>) -> Result<(), TrainError> {
        Ok(())
    }

    /// Where the run's files go (the final model, pictures); `None` writes none.
    fn output_dir(&self) -> Option<&Path> {
        None
    }

    /// Whether the model draws its pictures into [`Observer::output_dir`] (the final
    /// model is saved there either way).
    fn draws_pictures(&self) -> bool {
        self.output_dir().is_some()
    }

    /// True when the loop should stop at the next step boundary (Ctrl-C, say).
    fn should_stop(&self) -> bool;

    /// Training is over (the progress bar goes away).
    fn end(&mut self) {}
}

/// The observer that records nothing and never stops a run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Observer for Silent {
    fn should_stop(&self) -> bool {
        false
    }
}
