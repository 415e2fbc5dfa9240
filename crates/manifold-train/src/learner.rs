//! The one training loop of the workspace: [`fit`] drives any [`Learner`] through its
//! [`Schedule`], owning everything that is the same for every model.
//!
//! A model crate supplies what only it knows: one training step, an evaluation, a
//! metrics row, the files of a checkpoint and its summary. The loop does the rest, in
//! one order for every model:
//!
//! ```text
//! resume      the checkpoint's files and position, when the observer resumes a run
//! prepare     files the run appends to are checked before anything is written
//! begin       the observer writes config, run.json, the metrics header
//! health      the untrained model's loss: the divergence watch's first reference
//! open        those files are opened (cut back to the checkpoint)
//! loop        step, tick; at a record point a metrics row (after an evaluation where
//!             one is due) and `recorded`; at an evaluation point a checkpoint; on a
//!             stop request a checkpoint of where the run stands, and out
//! finish      the final evaluation (unless the last step just made one), the model's
//!             files and pictures, the summary
//! ```
//!
//! Models that count epochs ([`Schedule::Epochs`]) evaluate, record and checkpoint at
//! the end of each epoch; models that count steps ([`Schedule::Steps`]) record every
//! `record_every` steps and evaluate and checkpoint every `eval_every`. A stop request
//! is honoured at the next step boundary, and the checkpoint it writes holds the
//! position inside the epoch (with the epoch's loss sum), so a resumed run reproduces an
//! uninterrupted one bit for bit.
//!
//! Gradient-free rules (DreamComp) implement [`Learner::step`] without autodiff; the
//! loop never looks at gradients.
//!
//! A learner in a few lines: `w` in `y = w·x` fitted to `y = 2x` by gradient descent on
//! one sample per step ([`Silent`](crate::Silent) records nothing; [`crate::Run`]
//! would record the run in a directory, and resume it).
//!
//! ```
//! use std::path::Path;
//! use manifold_train::{
//!     fit, read_json, write_json, Evaluation, Learner, Observer, Position, Schedule, Silent,
//!     StepError, Summary, TrainError,
//! };
//!
//! struct Line {
//!     w: f64,
//! }
//!
//! impl Learner for Line {
//!     type Model = f64;
//!     fn name(&self) -> &'static str {
//!         "line"
//!     }
//!     fn columns(&self) -> &'static [&'static str] {
//!         &["step", "w", "test_mse"]
//!     }
//!     fn schedule(&self) -> Schedule {
//!         Schedule::Steps { steps: 50, record_every: 10, eval_every: 25 }
//!     }
//!     fn resume(&mut self, dir: &Path, _: &Position) -> Result<(), TrainError> {
//!         self.w = read_json(&dir.join("w.json"))?;
//!         Ok(())
//!     }
//!     fn step(&mut self, at: &Position) -> Result<(), StepError> {
//!         let x = 1.0 + (at.step % 3) as f64;
//!         self.w -= 0.05 * 2.0 * (self.w * x - 2.0 * x) * x;
//!         Ok(())
//!     }
//!     fn evaluate(&mut self) -> Evaluation {
//!         Evaluation::regression((self.w - 2.0).powi(2))
//!     }
//!     fn row(&mut self, at: &Position, eval: Option<&Evaluation>) -> Vec<f64> {
//!         vec![at.step as f64, self.w, eval.map_or(f64::NAN, |e| e.loss)]
//!     }
//!     fn params_finite(&self) -> bool {
//!         self.w.is_finite()
//!     }
//!     fn save(&self, dir: &Path) -> Result<(), TrainError> {
//!         write_json(&dir.join("w.json"), &self.w)
//!     }
//!     fn finish(
//!         self,
//!         _: &dyn Observer,
//!         _: &Position,
//!         summary: Summary,
//!     ) -> Result<(f64, Summary), TrainError> {
//!         Ok((self.w, summary))
//!     }
//! }
//!
//! let trained = fit(Line { w: 0.0 }, &mut Silent)?;
//! assert!((trained.model - 2.0).abs() < 1e-9);
//! assert_eq!(trained.position.step, 50);
//! assert!(trained.evaluation.loss < 1e-18);
//! # Ok::<(), TrainError>(())
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use rand::seq::SliceRandom;
use rand::SeedableRng;

use crate::{Evaluation, Observer, Position, Summary, TrainError, Trained};

/// When a learner evaluates, records a metrics row and saves a checkpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schedule {
    /// `epochs` epochs of `batches` minibatches; after each epoch an evaluation, a
    /// metrics row and a checkpoint.
    Epochs {
        /// Epochs in the run.
        epochs: usize,
        /// Minibatches per epoch.
        batches: usize,
    },
    /// `steps` steps; a metrics row after step 1, every `record_every` steps and at
    /// every evaluation; an evaluation and a checkpoint every `eval_every` steps and
    /// after the last.
    Steps {
        /// Steps in the run.
        steps: usize,
        /// Steps between metrics rows.
        record_every: usize,
        /// Steps between evaluations (and checkpoints).
        eval_every: usize,
    },
}

impl Schedule {
    /// Steps (minibatches) in the whole run.
    pub fn total(&self) -> usize {
        match *self {
            Schedule::Epochs { epochs, batches } => epochs * batches,
            Schedule::Steps { steps, .. } => steps,
        }
    }

    /// Whether the run is over at `at`.
    pub fn finished(&self, at: &Position) -> bool {
        match *self {
            Schedule::Epochs { epochs, .. } => at.epoch >= epochs,
            Schedule::Steps { steps, .. } => at.step >= steps,
        }
    }

    /// After a step ending at `at`: `(evaluate, record)`.
    pub fn due(&self, at: &Position) -> (bool, bool) {
        match *self {
            Schedule::Epochs { batches, .. } => {
                let end = at.batch >= batches;
                (end, end)
            }
            Schedule::Steps {
                steps,
                record_every,
                eval_every,
            } => {
                let done = at.step;
                let eval = done.is_multiple_of(eval_every) || done == steps;
                (eval, eval || done.is_multiple_of(record_every) || done == 1)
            }
        }
    }
}

/// A step that could not be taken: the run stops with `message` (the last checkpoint
/// is kept). `loss`, when the step measured one, goes to the health check first, so a
/// diverging run is reported as such.
#[derive(Debug, Clone, PartialEq)]
pub struct StepError {
    /// What went wrong, naming the step.
    pub message: String,
    /// The loss the step measured, when it measured one.
    pub loss: Option<f64>,
}

/// A model being trained: its parameters, its optimiser state and whatever its steps
/// need (data, schedules, open files). [`fit`] drives it.
pub trait Learner {
    /// What training returns.
    type Model;

    /// The model's name in run files and summaries (`mlp`, `dnm`, …).
    fn name(&self) -> &'static str;

    /// The columns of `metrics.csv`.
    fn columns(&self) -> &'static [&'static str];

    /// When to evaluate, record and checkpoint.
    fn schedule(&self) -> Schedule;

    /// Loads the checkpoint saved by [`Learner::save`] into `dir`; the run continues
    /// from `at`.
    fn resume(&mut self, dir: &Path, at: &Position) -> Result<(), TrainError>;

    /// Checks the files a resumed run appends to (besides the metrics) before the
    /// observer writes anything; `resumed` is the checkpoint's position.
    fn prepare(
        &mut self,
        _observer: &dyn Observer,
        _resumed: Option<&Position>,
    ) -> Result<(), TrainError> {
        Ok(())
    }

    /// Opens those files once the run has begun.
    fn open(
        &mut self,
        _observer: &dyn Observer,
        _resumed: Option<&Position>,
    ) -> Result<(), TrainError> {
        Ok(())
    }

    /// One training step: minibatch `at.batch` of epoch `at.epoch`, step `at.step`.
    fn step(&mut self, at: &Position) -> Result<(), StepError>;

    /// The current epoch's summed training loss (carried in the checkpoint of a run
    /// stopped inside an epoch; see [`Position::epoch_loss_sum`]).
    fn epoch_loss_sum(&mut self) -> f64 {
        0.0
    }

    /// The model on the test set.
    fn evaluate(&mut self) -> Evaluation;

    /// The metrics row after the step ending at `at`, in the order of
    /// [`Learner::columns`]; `eval` when an evaluation was just made.
    fn row(&mut self, at: &Position, eval: Option<&Evaluation>) -> Vec<f64>;

    /// The status line beside the progress bar after a row.
    fn status(&self, eval: Option<&Evaluation>) -> Option<String> {
        eval.map(Evaluation::describe)
    }

    /// After the row at `at`: the model's per-record work (pictures, snapshots, a
    /// topology change) into the observer's directory.
    fn recorded(&mut self, _observer: &dyn Observer, _at: &Position) -> Result<(), TrainError> {
        Ok(())
    }

    /// Whether every parameter is finite (the health check before a checkpoint).
    fn params_finite(&self) -> bool;

    /// Writes a checkpoint (model and optimiser state) into `dir`.
    fn save(&self, dir: &Path) -> Result<(), TrainError>;

    /// The end of the run: the final model's files and pictures into the observer's
    /// directory, and the model with its summary (`summary` has the common fields).
    fn finish(
        self,
        observer: &dyn Observer,
        at: &Position,
        summary: Summary,
    ) -> Result<(Self::Model, Summary), TrainError>;
}

/// Trains `learner` to the end of its schedule, or until `observer` asks it to stop,
/// reporting everything to `observer` (see the module's documentation for the order).
///
/// The loop runs on a thread of rayon's pool (the caller waits for it): the CPU
/// backends split their operations over that pool, and an operation started from
/// outside it hands its work to the pool and waits to be woken (≈ 40 µs each time on
/// this workspace's 2-core reference machine: most of a small model's step). Started
/// from inside, the thread runs its share itself. The numbers do not change.
pub fn fit<L: Learner + Send>(
    learner: L,
    observer: &mut dyn Observer,
) -> Result<Trained<L::Model>, TrainError>
where
    L::Model: Send,
{
    rayon::scope(|_| fit_here(learner, observer))
}

/// [`fit`] on the calling thread.
fn fit_here<L: Learner>(
    mut learner: L,
    observer: &mut dyn Observer,
) -> Result<Trained<L::Model>, TrainError> {
    let schedule = learner.schedule();
    let mut at = Position::default();
    let resumed = observer.resume_point();
    if let Some(point) = &resumed {
        learner.resume(&point.dir, &point.position)?;
        at = point.position;
    }
    let resumed = resumed.map(|p| p.position);
    learner.prepare(observer, resumed.as_ref())?;
    observer.begin(learner.name(), learner.columns(), schedule.total(), &at)?;
    if at.step == 0 && observer.watches_health() {
        let initial = learner.evaluate();
        observer.check_health(&at, true, Some(initial.loss))?;
    }
    learner.open(observer, resumed.as_ref())?;
    let started = Instant::now() - Duration::from_secs_f64(at.wall_seconds);
    let mut saved_at = resumed.map(|p| p.step);
    // The last evaluation and the step it was made at.
    let mut last_eval: Option<(Evaluation, usize)> = None;
    let mut stopped = false;
    while !schedule.finished(&at) {
        let step_started = Instant::now();
        if let Err(e) = learner.step(&at) {
            if let Some(loss) = e.loss {
                observer.check_health(&at, true, Some(loss))?;
            }
            observer.end();
            let kept = if saved_at.is_some() {
                "the last checkpoint is kept"
            } else {
                "no checkpoint was saved yet"
            };
            return Err(TrainError {
                where_: learner.name().into(),
                problem: format!("{}; {kept}", e.message),
            });
        }
        at.last_step_ms = step_started.elapsed().as_secs_f64() * 1e3;
        at.step_seconds += at.last_step_ms / 1e3;
        at.step += 1;
        if let Schedule::Epochs { .. } = schedule {
            at.batch += 1;
        }
        at.wall_seconds = started.elapsed().as_secs_f64();
        observer.tick(&at);
        let (evaluate, record) = schedule.due(&at);
        let eval = evaluate.then(|| learner.evaluate());
        if let Some(e) = eval {
            last_eval = Some((e, at.step));
        }
        if record {
            let row = learner.row(&at, eval.as_ref());
            observer.log(&row)?;
            if let Some(status) = learner.status(eval.as_ref()) {
                observer.status(&status);
            }
            learner.recorded(observer, &at)?;
        }
        if matches!(schedule, Schedule::Epochs { batches, .. } if at.batch >= batches) {
            at.epoch += 1;
            at.batch = 0;
            at.epoch_loss_sum = 0.0;
        }
        if let Some(eval) = eval {
            checkpoint(&learner, observer, &at, Some(eval.loss))?;
            saved_at = Some(at.step);
        }
        if observer.should_stop() && !schedule.finished(&at) {
            stopped = true;
            if saved_at != Some(at.step) {
                at.epoch_loss_sum = learner.epoch_loss_sum();
                checkpoint(&learner, observer, &at, None)?;
            }
            break;
        }
    }
    observer.end();
    // The last evaluation when the model has not changed since, else a new one.
    let evaluation = match last_eval {
        Some((e, step)) if step == at.step => e,
        _ => learner.evaluate(),
    };
    let summary = Summary::of(learner.name(), &evaluation, &at, stopped);
    let (model, summary) = learner.finish(observer, &at, summary)?;
    Ok(Trained {
        model,
        evaluation,
        position: at,
        stopped,
        summary,
    })
}

/// The health check (finite parameters, `loss` when one was evaluated), then the
/// learner's files, through the observer.
fn checkpoint<L: Learner>(
    learner: &L,
    observer: &mut dyn Observer,
    at: &Position,
    loss: Option<f64>,
) -> Result<(), TrainError> {
    observer.check_health(at, learner.params_finite(), loss)?;
    observer.checkpoint(at, &mut |dir: &Path| learner.save(dir))
}

/// The order in which epoch `epoch` visits `n` samples: a permutation fixed by the seed
/// and the epoch, so a resumed run sees exactly what an uninterrupted one would. The
/// MLP, SET and the DNM use it.
pub fn epoch_order(seed: u64, epoch: usize, n: usize) -> Vec<usize> {
    shuffled(n, seed ^ (epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// `0..n` shuffled by a generator seeded with `rng_seed`: the workspace's one shuffle
/// ([`epoch_order`], and DreamComp's epochs and labelled subset, whose published numbers
/// derive the seed their own way).
pub fn shuffled(n: usize, rng_seed: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    idx.shuffle(&mut rand::rngs::StdRng::seed_from_u64(rng_seed));
    idx
}

/// Runs every step of epoch `epoch` of an epoch-counting learner (no evaluation, no
/// files): the loop of benchmarks and of experiments that look at the model between
/// epochs. Like [`fit`], on a thread of rayon's pool.
pub fn run_epoch<L: Learner + Send>(learner: &mut L, epoch: usize) -> Result<(), TrainError> {
    rayon::scope(|_| run_epoch_here(learner, epoch))
}

/// [`run_epoch`] on the calling thread.
fn run_epoch_here<L: Learner>(learner: &mut L, epoch: usize) -> Result<(), TrainError> {
    let batches = match learner.schedule() {
        Schedule::Epochs { batches, .. } => batches,
        Schedule::Steps { eval_every, .. } => eval_every,
    };
    for batch in 0..batches {
        let at = Position {
            epoch,
            batch,
            step: epoch * batches + batch,
            ..Position::default()
        };
        learner.step(&at).map_err(|e| TrainError {
            where_: learner.name().into(),
            problem: e.message,
        })?;
    }
    Ok(())
}

/// Times `epochs` epochs of [`run_epoch`] after one untimed warm-up epoch, calling
/// `sync` (wait for the device) before each clock reading. Returns the seconds of each
/// timed epoch.
pub fn time_epochs<L: Learner + Send>(
    learner: &mut L,
    epochs: usize,
    mut sync: impl FnMut() -> Result<(), TrainError>,
) -> Result<Vec<f64>, TrainError> {
    let mut times = Vec::with_capacity(epochs);
    for epoch in 0..=epochs {
        sync()?;
        let started = Instant::now();
        rayon::scope(|_| run_epoch_here(learner, epoch))?;
        sync()?;
        if epoch > 0 {
            times.push(started.elapsed().as_secs_f64());
        }
    }
    Ok(times)
}
