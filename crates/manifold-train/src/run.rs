//! [`Run`]: a run directory and the [`Observer`] that fills it.
//!
//! ```text
//! DIR/run.json         which model made the run, on which backend
//! DIR/config.toml      the config (rewritten on resume only once the checkpoint loaded)
//! DIR/metrics.csv      one row per logged step or epoch
//! DIR/checkpoint/      the model's files and progress.json (replaced as a whole)
//! DIR/*.png, *.gif     the model's pictures
//! DIR/summary.json     what the run reached
//! DIR/report.html      all of it on one page, written at the end by the run's
//!                      [`ReportWriter`] (when it has one: [`RunOptions::report`])
//! ```
//!
//! A checkpoint is written into `checkpoint.new/`, flushed, and swapped in by renames,
//! so a run killed at any instant keeps a whole checkpoint; `progress.json` records how
//! many metrics rows it covers, and a resumed run drops the rows written after it.
//!
//! A directory belongs to one process at a time: [`Run::create`] and [`Run::resume`]
//! take its [`RunLock`] (`run.lock`) before they read or write anything in it, and hold
//! it until the `Run` is dropped. `--force` ([`RunOptions::force`]) replaces only an
//! empty directory or a run directory (one with `run.json`), never the working directory,
//! a directory above it or the home directory.

use std::path::{Path, PathBuf};

use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::config::{resume_changes, Change, ModelConfig};
use crate::files::{read_json, read_toml_over, write_atomic, write_json, MetricsLog};
use crate::lock::{RunLock, LOCK_FILE};
use crate::observer::{Observer, Position, ResumePoint, SaveFiles};
use crate::{progress_bar, Interrupter, Summary, TrainError};

/// Writes a finished (or diverged) run's report into its directory; a [`Run`] calls it
/// last, after `summary.json` (see [`RunOptions::report`]). The `manifold` package's
/// `write_report` writes `report.html` with manifold-report.
pub type ReportWriter = fn(&Path) -> Result<(), TrainError>;

/// How to open a [`Run`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    model: String,
    out: Option<PathBuf>,
    device: String,
    force: bool,
    interrupter: Interrupter,
    progress: bool,
    pictures: bool,
    diverge_factor: f64,
    lock: Option<Arc<RunLock>>,
    report: Option<ReportWriter>,
}

/// The default of [`RunOptions::diverge_factor`]: two orders of magnitude. Healthy runs
/// stay far below it (the MLP's and SET's test losses never exceed 1.05× their best; the
/// DNM toy task's test MSE spikes to 33× its best while the manifold rewires, and
/// recovers).
pub const DIVERGE_FACTOR: f64 = 100.0;

impl RunOptions {
    /// A run of `model` (`mlp`, `dnm`, …) in `runs/<model>-<timestamp>`, with a progress
    /// bar and its own (never set) interrupter.
    pub fn new(model: &str) -> Self {
        Self {
            model: model.to_string(),
            out: None,
            device: String::new(),
            force: false,
            interrupter: Interrupter::new(),
            progress: true,
            pictures: true,
            diverge_factor: DIVERGE_FACTOR,
            lock: None,
            report: None,
        }
    }

    /// Write the run's report with `writer` when it finishes or diverges (after
    /// `summary.json`); without one, a run writes no report.
    pub fn report(mut self, writer: ReportWriter) -> Self {
        self.report = Some(writer);
        self
    }

    /// The run directory's lock, when the caller took it already (to read the saved
    /// config under it before [`Run::resume`]); otherwise `create` and `resume` take it.
    pub fn lock(mut self, lock: RunLock) -> Self {
        self.lock = Some(Arc::new(lock));
        self
    }

    /// Stop the run (keeping the last healthy checkpoint) when the evaluated loss exceeds
    /// `factor` times the best loss so far; non-finite losses or parameters always stop
    /// it. Default [`DIVERGE_FACTOR`]; infinity switches the growth test off.
    pub fn diverge_factor(mut self, factor: f64) -> Self {
        self.diverge_factor = factor;
        self
    }

    /// The run directory; an existing non-empty one is refused unless [`RunOptions::force`].
    pub fn out(mut self, dir: impl Into<PathBuf>) -> Self {
        self.out = Some(dir.into());
        self
    }

    /// [`RunOptions::out`] when `dir` is given.
    pub fn out_opt(self, dir: Option<&Path>) -> Self {
        match dir {
            Some(d) => self.out(d),
            None => self,
        }
    }

    /// The backend's name, recorded in `run.json` and `summary.json`.
    pub fn device(mut self, name: &str) -> Self {
        self.device = name.to_string();
        self
    }

    /// Replace an existing run directory (one with `run.json`) or use an empty one; any
    /// other non-empty directory, the working directory, a directory above it and the
    /// home directory are refused.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// The interrupter that stops the run (for example [`Interrupter::on_signals`]).
    pub fn interrupter(mut self, interrupter: Interrupter) -> Self {
        self.interrupter = interrupter;
        self
    }

    /// Let the model draw its pictures into the run directory; on by default.
    pub fn pictures(mut self, draw: bool) -> Self {
        self.pictures = draw;
        self
    }

    /// Show a progress bar on stderr (when it is a terminal); on by default.
    pub fn progress_bar(mut self, show: bool) -> Self {
        self.progress = show;
        self
    }
}

/// `run.json`: which model made a run directory, and what each resume changed.
#[derive(Debug, Serialize, Deserialize)]
struct RunInfo {
    model: String,
    device: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    resumes: Vec<Resumed>,
}

/// One `--resume` in `run.json`: where it continued, on which backend, what changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Resumed {
    step: usize,
    epoch: usize,
    device: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    changes: Vec<Change>,
}

/// `checkpoint/progress.json`: the position and the metrics rows it covers.
#[derive(Debug, Serialize, Deserialize)]
struct CheckpointInfo {
    #[serde(flatten)]
    position: Position,
    #[serde(default)]
    metrics_rows: Option<usize>,
    /// The best evaluated loss up to this checkpoint (for the divergence watch).
    #[serde(default)]
    best_loss: Option<f64>,
}

/// A run directory being written: the [`Observer`] a model's `train` reports to.
pub struct Run {
    dir: PathBuf,
    model: String,
    device: String,
    interrupter: Interrupter,
    show_progress: bool,
    draw_pictures: bool,
    /// `config.toml`'s text, written at `begin` (on resume: once the checkpoint loaded).
    pending_config: Option<String>,
    resume: Option<(ResumePoint, Option<usize>)>,
    /// The config fields this resume changes, recorded in `run.json` at `begin`.
    changes: Vec<Change>,
    metrics: Option<MetricsLog>,
    bar: Option<ProgressBar>,
    diverge_factor: f64,
    best_loss: Option<f64>,
    /// Where the last healthy checkpoint stands (none saved yet: `None`).
    healthy: Option<Position>,
    /// Writes the report at the end ([`RunOptions::report`]).
    report: Option<ReportWriter>,
    /// Held from before the first read to the end: the directory is this process's.
    _lock: Arc<RunLock>,
}

const CHECKPOINT: &str = "checkpoint";
const CHECKPOINT_NEW: &str = "checkpoint.new";
const CHECKPOINT_OLD: &str = "checkpoint.old";

impl Run {
    /// Creates a run directory for a fresh run and writes `run.json` and `config.toml`.
    /// Without [`RunOptions::out`] the directory is `runs/<model>-<timestamp>`, with a
    /// suffix when that name is taken.
    pub fn create<C: Serialize>(options: RunOptions, config: &C) -> Result<Self, TrainError> {
        // A config TOML cannot hold fails before any directory is made.
        let text = config_text(config)?;
        let (dir, lock) = match &options.out {
            Some(dir) => claim_given(dir, options.force, options.lock.clone())?,
            None => claim_fresh(&options.model)?,
        };
        let run = Self::new(dir, options, text, None, lock);
        write_json(
            &run.file("run.json"),
            &RunInfo {
                model: run.model.clone(),
                device: run.device.clone(),
                resumes: Vec::new(),
            },
        )?;
        run.write_config()?;
        Ok(run)
    }

    /// Opens `dir` to continue it from its checkpoint with `config`: the saved one, as
    /// [`Run::saved_config`] reads it, where only [`ModelConfig::RESUMABLE`] fields may
    /// differ (any other change is an error naming the field). Nothing in `dir` changes
    /// until the model's `train` has loaded the checkpoint; then `config.toml` holds the
    /// config in use and `run.json` lists the changes. The directory's lock is taken
    /// first (or the one in `options` is used): a directory another process holds is
    /// refused, naming the holder.
    pub fn resume<C: ModelConfig>(
        dir: &Path,
        options: RunOptions,
        config: &C,
    ) -> Result<Self, TrainError> {
        let lock = match &options.lock {
            Some(lock) => lock.clone(),
            None => Arc::new(RunLock::acquire_run(dir)?),
        };
        config.validate()?;
        let changes = resume_changes(&Self::saved_config::<C>(dir, &options.model)?, config)?;
        let info = [CHECKPOINT, CHECKPOINT_OLD]
            .iter()
            .map(|c| dir.join(c))
            .find(|c| c.join("progress.json").is_file())
            .ok_or_else(|| TrainError::new(dir, "no checkpoint to resume from"))?;
        let saved: CheckpointInfo = read_json(&info.join("progress.json"))?;
        if !saved.position.wall_seconds.is_finite() || saved.position.wall_seconds < 0.0 {
            return Err(TrainError::new(
                &info.join("progress.json"),
                "wall_seconds is not a time",
            ));
        }
        let point = ResumePoint {
            dir: info,
            position: saved.position,
        };
        let best_loss = saved.best_loss;
        let text = config_text(config)?;
        let mut run = Self::new(
            dir.to_path_buf(),
            options,
            text,
            Some((point, saved.metrics_rows)),
            lock,
        );
        run.changes = changes;
        run.best_loss = best_loss;
        run.healthy = Some(saved.position);
        Ok(run)
    }

    /// The config saved in run directory `dir` (what `--resume DIR` starts from): the
    /// one its checkpoint was made with, else `config.toml`, read over
    /// [`ModelConfig::defaults`] (a field added after the run was made takes its
    /// default); a directory made by another model than `model` is refused.
    pub fn saved_config<C: ModelConfig>(dir: &Path, model: &str) -> Result<C, TrainError> {
        check_model(dir, model)?;
        let with_checkpoint = dir.join(CHECKPOINT).join("config.toml");
        let path = if with_checkpoint.is_file() {
            with_checkpoint
        } else {
            dir.join("config.toml")
        };
        read_toml_over(&path, &C::defaults())
    }

    fn new(
        dir: PathBuf,
        options: RunOptions,
        text: String,
        resume: Option<(ResumePoint, Option<usize>)>,
        lock: Arc<RunLock>,
    ) -> Self {
        Self {
            dir,
            model: options.model,
            device: options.device,
            interrupter: options.interrupter,
            show_progress: options.progress,
            draw_pictures: options.pictures,
            pending_config: Some(text),
            resume,
            changes: Vec::new(),
            metrics: None,
            bar: None,
            diverge_factor: options.diverge_factor,
            best_loss: None,
            healthy: None,
            report: options.report,
            _lock: lock,
        }
    }

    fn write_config(&self) -> Result<(), TrainError> {
        match &self.pending_config {
            Some(text) => write_atomic(&self.file("config.toml"), text.as_bytes()),
            None => Ok(()),
        }
    }

    /// The run directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// A file inside the run directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The backend's name, as given to [`RunOptions::device`].
    pub fn device(&self) -> &str {
        &self.device
    }

    /// The interrupter that stops this run.
    pub fn interrupter(&self) -> &Interrupter {
        &self.interrupter
    }

    /// Whether the model draws its pictures into the run directory.
    pub fn set_pictures(&mut self, draw: bool) {
        self.draw_pictures = draw;
    }

    /// Appends this resume (position, backend, changed fields) to `run.json` and tells
    /// the user what changed.
    fn record_resume(&self, at: &Position) -> Result<(), TrainError> {
        let path = self.file("run.json");
        let mut info = if path.is_file() {
            read_json::<RunInfo>(&path)?
        } else {
            RunInfo {
                model: self.model.clone(),
                device: self.device.clone(),
                resumes: Vec::new(),
            }
        };
        for c in &self.changes {
            eprintln!("resume: {} {} → {}", c.field, c.from, c.to);
        }
        info.resumes.push(Resumed {
            step: at.step,
            epoch: at.epoch,
            device: self.device.clone(),
            changes: self.changes.clone(),
        });
        write_json(&path, &info)
    }

    /// Writes `summary.json` (with this run's device and the process's command line),
    /// then the report ([`RunOptions::report`]), when the run has a writer.
    pub fn finish(&mut self, summary: &Summary) -> Result<(), TrainError> {
        self.end();
        let mut summary = summary.clone();
        summary.device = self.device.clone();
        summary.command = std::env::args().collect::<Vec<_>>().join(" ");
        write_json(&self.file("summary.json"), &summary)?;
        self.write_report()
    }

    /// The report, by the writer of [`RunOptions::report`] (none: nothing).
    fn write_report(&self) -> Result<(), TrainError> {
        match self.report {
            Some(writer) => writer(&self.dir),
            None => Ok(()),
        }
    }
}

/// `config.toml`'s text.
fn config_text<C: Serialize>(config: &C) -> Result<String, TrainError> {
    toml::to_string_pretty(config).map_err(|e| TrainError::config("config", e))
}

/// A loss for messages: four significant digits, in scientific notation when large.
fn short(v: f64) -> String {
    if v.abs() >= 1e4 || (v != 0.0 && v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// A position for messages: the step, and the epoch when the model counts epochs.
fn describe(at: &Position) -> String {
    if at.epoch > 0 || at.batch > 0 {
        format!("epoch {}, step {}", at.epoch, at.step)
    } else {
        format!("step {}", at.step)
    }
}

/// What an existing `--out` directory holds (the lock file aside).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Found {
    Missing,
    Empty,
    /// A manifold run: it has `run.json`.
    Run,
    /// Anything else: files that are not a run's.
    Other,
}

fn found(dir: &Path) -> Result<Found, TrainError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Found::Missing),
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(TrainError::new(dir, "exists and is not a directory"))
        }
        Err(e) => return Err(TrainError::io(dir, "cannot read", e)),
    };
    let mut empty = true;
    for entry in entries {
        let entry = entry.map_err(|e| TrainError::io(dir, "cannot read", e))?;
        if entry.file_name() != LOCK_FILE {
            empty = false;
            break;
        }
    }
    Ok(if empty {
        Found::Empty
    } else if dir.join("run.json").is_file() {
        Found::Run
    } else {
        Found::Other
    })
}

/// Refuses what `--out dir` (with or without `force`) may not take, before anything is
/// touched.
fn may_claim(dir: &Path, force: bool, found: Found) -> Result<(), TrainError> {
    if force && found != Found::Missing {
        protected(dir)?;
    }
    match found {
        Found::Missing | Found::Empty => Ok(()),
        Found::Run if force => Ok(()),
        Found::Run => Err(TrainError::new(
            dir,
            "holds a run: continue it with --resume, or replace it with --force",
        )),
        Found::Other => Err(TrainError::new(
            dir,
            "exists, is not empty and is not a manifold run (no run.json): choose another --out (--force replaces only run directories)",
        )),
    }
}

/// Refuses the directories `--force` must never empty: the working directory, any
/// directory above it (`/` included) and the home directory.
fn protected(dir: &Path) -> Result<(), TrainError> {
    let real = dir
        .canonicalize()
        .map_err(|e| TrainError::io(dir, "cannot resolve", e))?;
    let cwd = std::env::current_dir().and_then(|d| d.canonicalize());
    if cwd.as_ref().is_ok_and(|cwd| cwd.starts_with(&real)) {
        return Err(TrainError::new(
            dir,
            "is the working directory or a directory above it: --force never empties it",
        ));
    }
    let home = std::env::var_os("HOME").and_then(|h| Path::new(&h).canonicalize().ok());
    if home.is_some_and(|home| home == real) {
        return Err(TrainError::new(
            dir,
            "is the home directory: --force never empties it",
        ));
    }
    Ok(())
}

/// Removes everything in `dir` but its lock file (a link is removed, never followed).
fn empty_run_dir(dir: &Path) -> Result<(), TrainError> {
    let entries = std::fs::read_dir(dir).map_err(|e| TrainError::io(dir, "cannot read", e))?;
    for entry in entries {
        let entry = entry.map_err(|e| TrainError::io(dir, "cannot read", e))?;
        if entry.file_name() == LOCK_FILE {
            continue;
        }
        let path = entry.path();
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        let removed = if is_dir {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        removed.map_err(|e| TrainError::io(&path, "cannot remove", e))?;
    }
    Ok(())
}

/// An explicitly named run directory: new, empty, or (with `force`) a run replaced. It
/// is checked before anything is touched, locked, and checked again under the lock
/// (another process may have filled it in between).
fn claim_given(
    dir: &Path,
    force: bool,
    held: Option<Arc<RunLock>>,
) -> Result<(PathBuf, Arc<RunLock>), TrainError> {
    let before = found(dir)?;
    may_claim(dir, force, before)?;
    if before == Found::Missing {
        std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, "cannot create", e))?;
    }
    let lock = match held {
        Some(lock) => lock,
        None => Arc::new(RunLock::acquire(dir)?),
    };
    let now = found(dir)?;
    may_claim(dir, force, now)?;
    if now == Found::Run {
        empty_run_dir(dir)?;
    }
    Ok((dir.to_path_buf(), lock))
}

/// `runs/<model>-<timestamp>`, or `…-2`, `…-3` when taken: the directory is claimed with
/// an exclusive create, so two runs started in the same second never share it.
fn claim_fresh(model: &str) -> Result<(PathBuf, Arc<RunLock>), TrainError> {
    let runs = Path::new("runs");
    std::fs::create_dir_all(runs).map_err(|e| TrainError::io(runs, "cannot create", e))?;
    let stem = format!("{model}-{}", chrono::Local::now().format("%Y%m%d-%H%M%S"));
    for n in 1.. {
        let name = if n == 1 {
            stem.clone()
        } else {
            format!("{stem}-{n}")
        };
        let dir = runs.join(name);
        match std::fs::create_dir(&dir) {
            Ok(()) => {
                let lock = Arc::new(RunLock::acquire(&dir)?);
                return Ok((dir, lock));
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(TrainError::io(&dir, "cannot create", e)),
        }
    }
    unreachable!("an unbounded counter ends only by returning")
}

/// Refuses a run directory made by another model (read from `run.json`, or from
/// `summary.json` for runs without one).
fn check_model(dir: &Path, model: &str) -> Result<(), TrainError> {
    if !dir.join("config.toml").is_file() {
        return Err(TrainError::new(dir, "not a run directory (no config.toml)"));
    }
    let made_by = if dir.join("run.json").is_file() {
        Some(read_json::<RunInfo>(&dir.join("run.json"))?.model)
    } else if dir.join("summary.json").is_file() {
        read_json::<serde_json::Value>(&dir.join("summary.json"))?
            .get("model")
            .and_then(|m| m.as_str())
            .map(str::to_string)
    } else {
        None
    };
    match made_by {
        Some(m) if m != model => Err(TrainError::new(
            dir,
            format!("a {m} run, not a {model} run: nothing was changed"),
        )),
        _ => Ok(()),
    }
}

impl Observer for Run {
    fn resume_point(&self) -> Option<ResumePoint> {
        self.resume.as_ref().map(|(p, _)| p.clone())
    }

    fn begin(
        &mut self,
        label: &str,
        columns: &[&str],
        total: usize,
        at: &Position,
    ) -> Result<(), TrainError> {
        let path = self.file("metrics.csv");
        // A resume checks the file it appends to before it writes anything.
        let kept = match &self.resume {
            Some((_, rows)) => Some(MetricsLog::check(&path, columns, *rows)?),
            None => None,
        };
        self.write_config()?;
        if let Some((point, _)) = &self.resume {
            self.record_resume(&point.position)?;
        }
        self.metrics = Some(match kept {
            Some(kept) => MetricsLog::resume(&path, columns, kept)?,
            None => MetricsLog::create(&path, columns)?,
        });
        if self.show_progress {
            let bar = progress_bar(total as u64, label);
            bar.set_position(at.step as u64);
            self.bar = Some(bar);
        }
        if let Some((p, _)) = &self.resume {
            eprintln!(
                "resuming {} at step {} (epoch {}, minibatch {})",
                self.dir.display(),
                p.position.step,
                p.position.epoch + 1,
                p.position.batch
            );
        }
        Ok(())
    }

    fn tick(&mut self, _at: &Position) {
        if let Some(bar) = &self.bar {
            bar.inc(1);
        }
    }

    fn status(&mut self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }

    fn log(&mut self, row: &[f64]) -> Result<(), TrainError> {
        match &mut self.metrics {
            Some(m) => m.log(row),
            None => Err(TrainError::new(
                &self.file("metrics.csv"),
                "a metrics row before the run began",
            )),
        }
    }

    fn watches_health(&self) -> bool {
        true
    }

    fn check_health(
        &mut self,
        at: &Position,
        params_finite: bool,
        loss: Option<f64>,
    ) -> Result<(), TrainError> {
        let problem = match loss {
            _ if !params_finite => Some("a parameter is NaN or infinite".to_string()),
            Some(l) if !l.is_finite() => Some(format!("the loss is {l}")),
            Some(l) => match self.best_loss {
                Some(best) if l > self.diverge_factor * best => Some(format!(
                    "the evaluated loss {} is more than {}× its best, {}",
                    short(l),
                    self.diverge_factor,
                    short(best)
                )),
                _ => {
                    self.best_loss = Some(self.best_loss.map_or(l, |b| b.min(l)));
                    None
                }
            },
            None => None,
        };
        let Some(problem) = problem else {
            return Ok(());
        };
        self.end();
        // The run directory's config goes back to the one of its healthy checkpoint.
        let healthy_config = self.file(CHECKPOINT).join("config.toml");
        if healthy_config.is_file() {
            let text = std::fs::read(&healthy_config)
                .map_err(|e| TrainError::io(&healthy_config, "cannot read", e))?;
            write_atomic(&self.file("config.toml"), &text)?;
        }
        let kept = match &self.healthy {
            Some(p) => format!(
                "the last healthy checkpoint ({}) is kept in {}; resume it with a smaller learning rate",
                describe(p),
                self.file(CHECKPOINT).display()
            ),
            None => "no healthy checkpoint was saved; start again with a smaller learning rate"
                .to_string(),
        };
        let summary = serde_json::json!({
            "model": self.model,
            "device": self.device,
            "command": std::env::args().collect::<Vec<_>>().join(" "),
            "diverged": problem,
            "at": describe(at),
            "healthy_checkpoint": self.healthy.map(|p| serde_json::json!({
                "dir": CHECKPOINT,
                "step": p.step,
                "epoch": p.epoch,
            })),
        });
        write_json(&self.file("summary.json"), &summary)?;
        self.write_report()?;
        Err(TrainError::new(
            &self.dir,
            format!("diverged at {}: {problem}; {kept}", describe(at)),
        ))
    }

    fn checkpoint(&mut self, at: &Position, save: &mut SaveFiles<'_>) -> Result<(), TrainError> {
        let (new, cur, old) = (
            self.file(CHECKPOINT_NEW),
            self.file(CHECKPOINT),
            self.file(CHECKPOINT_OLD),
        );
        if new.exists() {
            std::fs::remove_dir_all(&new).map_err(|e| TrainError::io(&new, "cannot clear", e))?;
        }
        std::fs::create_dir_all(&new).map_err(|e| TrainError::io(&new, "cannot create", e))?;
        save(&new)?;
        if let Some(text) = &self.pending_config {
            write_atomic(&new.join("config.toml"), text.as_bytes())?;
        }
        let info = CheckpointInfo {
            position: *at,
            metrics_rows: self.metrics.as_ref().map(MetricsLog::rows),
            best_loss: self.best_loss,
        };
        write_json(&new.join("progress.json"), &info)?;
        if cur.exists() {
            if old.exists() {
                std::fs::remove_dir_all(&old)
                    .map_err(|e| TrainError::io(&old, "cannot clear", e))?;
            }
            std::fs::rename(&cur, &old).map_err(|e| TrainError::io(&cur, "cannot move", e))?;
        }
        std::fs::rename(&new, &cur).map_err(|e| TrainError::io(&cur, "cannot write", e))?;
        let _ = std::fs::remove_dir_all(&old);
        self.healthy = Some(*at);
        Ok(())
    }

    fn output_dir(&self) -> Option<&Path> {
        Some(&self.dir)
    }

    fn draws_pictures(&self) -> bool {
        self.draw_pictures
    }

    fn should_stop(&self) -> bool {
        self.interrupter.should_stop()
    }

    fn end(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::config::Demo;

    fn config(epochs: usize) -> Demo {
        Demo {
            epochs,
            hidden: vec![4],
        }
    }

    /// A report writer of a test: a file naming what the run directory held.
    fn marker(dir: &Path) -> Result<(), TrainError> {
        let summary = dir.join("summary.json").is_file();
        write_atomic(
            &dir.join("report.txt"),
            format!("summary {summary}").as_bytes(),
        )
    }

    #[test]
    fn the_report_writer_runs_last_and_only_when_set() {
        let tmp = tempfile::tempdir().unwrap();
        for (name, writer) in [("with", Some(marker as ReportWriter)), ("without", None)] {
            let dir = tmp.path().join(name);
            let options = RunOptions::new("mlp").out(&dir).progress_bar(false);
            let options = match writer {
                Some(w) => options.report(w),
                None => options,
            };
            let mut run = Run::create(options, &config(1)).unwrap();
            let at = Position::default();
            run.begin("mlp", &["epoch"], 1, &at).unwrap();
            let evaluation = crate::Evaluation::regression(0.5);
            run.finish(&Summary::of("mlp", &evaluation, &at, false))
                .unwrap();
            let report = std::fs::read_to_string(dir.join("report.txt")).ok();
            let want = writer.map(|_| "summary true".to_string());
            assert_eq!(report, want, "{name}");
        }
    }

    #[test]
    fn an_existing_run_is_refused_untouched_and_resumed_only_by_its_model() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("r");
        let mut run = Run::create(RunOptions::new("mlp").out(&dir), &config(3)).unwrap();
        run.begin("mlp", &["epoch"], 3, &Position::default())
            .unwrap();
        run.log(&[1.0]).unwrap();
        let at = Position {
            epoch: 1,
            step: 10,
            ..Position::default()
        };
        run.checkpoint(&at, &mut |d: &Path| {
            std::fs::write(d.join("model.mpk"), b"m").map_err(|e| TrainError::io(d, "w", e))
        })
        .unwrap();
        run.log(&[2.0]).unwrap();
        let before = std::fs::read(dir.join("metrics.csv")).unwrap();

        let err = Run::create(RunOptions::new("mlp").out(&dir), &config(3))
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("holds a run: continue it"),
            "{err}"
        );
        let err = Run::resume(&dir, RunOptions::new("mlp"), &config(5))
            .err()
            .unwrap();
        assert!(
            err.to_string()
                .contains(&format!("in use by process {}", std::process::id())),
            "{err}"
        );
        drop(run);
        let err = Run::resume(&dir, RunOptions::new("set"), &config(3))
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("a mlp run, not a set run"),
            "{err}"
        );
        assert_eq!(std::fs::read(dir.join("metrics.csv")).unwrap(), before);

        let mut again = Run::resume(&dir, RunOptions::new("mlp"), &config(5)).unwrap();
        let point = again.resume_point().unwrap();
        assert_eq!(point.position, at);
        assert!(point.dir.join("model.mpk").is_file());
        again.begin("mlp", &["epoch"], 5, &point.position).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.join("metrics.csv")).unwrap(),
            "epoch\n1\n",
            "the row logged after the checkpoint is dropped"
        );
        assert!(std::fs::read_to_string(dir.join("config.toml"))
            .unwrap()
            .contains('5'));
        let info: RunInfo = read_json(&dir.join("run.json")).unwrap();
        assert_eq!(info.resumes.len(), 1);
        assert_eq!(info.resumes[0].step, 10);
        assert_eq!(
            info.resumes[0].changes,
            vec![Change {
                field: "epochs".into(),
                from: "3".into(),
                to: "5".into()
            }]
        );
    }

    #[test]
    fn a_run_saved_before_a_field_existed_resumes_with_that_fields_default() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("r");
        let mut run = Run::create(RunOptions::new("mlp").out(&dir), &config(3)).unwrap();
        run.begin("mlp", &["epoch"], 3, &Position::default())
            .unwrap();
        run.checkpoint(&Position::default(), &mut |_: &Path| Ok(()))
            .unwrap();
        drop(run);
        // The run's config files as an older version wrote them: no `hidden` field.
        for file in [
            dir.join("config.toml"),
            dir.join(CHECKPOINT).join("config.toml"),
        ] {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(text.contains("hidden"), "{text}");
            let older: String = text
                .lines()
                .filter(|l| !l.starts_with("hidden"))
                .map(|l| format!("{l}\n"))
                .collect();
            std::fs::write(&file, older).unwrap();
        }
        let saved: Demo = Run::saved_config(&dir, "mlp").unwrap();
        assert_eq!(saved.hidden, Demo::defaults().hidden);
        assert_eq!(saved.epochs, 3);

        let wider = Demo {
            hidden: vec![8],
            ..config(5)
        };
        let err = Run::resume(&dir, RunOptions::new("mlp"), &wider)
            .err()
            .unwrap();
        assert!(err.to_string().contains("hidden"), "{err}");
        let again = Run::resume(&dir, RunOptions::new("mlp"), &config(5)).unwrap();
        assert_eq!(
            again.changes,
            vec![Change {
                field: "epochs".into(),
                from: "3".into(),
                to: "5".into()
            }]
        );
    }
}
