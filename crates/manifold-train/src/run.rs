//! [`Run`]: a run directory and the [`Observer`] that fills it.
//!
//! ```text
//! DIR/run.json         which model made the run, on which backend
//! DIR/config.toml      the config (rewritten on resume only once the checkpoint loaded)
//! DIR/metrics.csv      one row per logged step or epoch
//! DIR/checkpoint/      the model's files and progress.json (replaced as a whole)
//! DIR/*.png, *.gif     the model's pictures
//! DIR/summary.json     what the run reached
//! ```
//!
//! A checkpoint is written into `checkpoint.new/`, flushed, and swapped in by renames,
//! so a run killed at any instant keeps a whole checkpoint; `progress.json` records how
//! many metrics rows it covers, and a resumed run drops the rows written after it.

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::ProgressBar;
use serde::{de::DeserializeOwned, Deserialize, Serialize};

use crate::files::{read_json, read_toml, write_atomic, write_json, MetricsLog};
use crate::observer::{Observer, Position, ResumePoint, SaveFiles};
use crate::{progress_bar, Interrupter, Summary, TrainError};

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
}

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
        }
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

    /// Replace an existing non-empty run directory.
    pub fn force(mut self, force: bool) -> Self {
        self.force = force;
        self
    }

    /// The interrupter that stops the run (for example [`Interrupter::on_ctrl_c`]).
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

/// `run.json`: which model made a run directory.
#[derive(Debug, Serialize, Deserialize)]
struct RunInfo {
    model: String,
    device: String,
}

/// `checkpoint/progress.json`: the position and the metrics rows it covers.
#[derive(Debug, Serialize, Deserialize)]
struct CheckpointInfo {
    #[serde(flatten)]
    position: Position,
    #[serde(default)]
    metrics_rows: Option<usize>,
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
    metrics: Option<MetricsLog>,
    bar: Option<ProgressBar>,
    opened: Instant,
}

const CHECKPOINT: &str = "checkpoint";
const CHECKPOINT_NEW: &str = "checkpoint.new";
const CHECKPOINT_OLD: &str = "checkpoint.old";

impl Run {
    /// Creates a run directory for a fresh run and writes `run.json` and `config.toml`.
    /// Without [`RunOptions::out`] the directory is `runs/<model>-<timestamp>`, with a
    /// suffix when that name is taken.
    pub fn create<C: Serialize>(options: RunOptions, config: &C) -> Result<Self, TrainError> {
        let dir = match &options.out {
            Some(dir) => claim_given(dir, options.force)?,
            None => claim_fresh(&options.model)?,
        };
        let run = Self::new(dir, options, config, None)?;
        write_json(
            &run.file("run.json"),
            &RunInfo {
                model: run.model.clone(),
                device: run.device.clone(),
            },
        )?;
        run.write_config()?;
        Ok(run)
    }

    /// Opens `dir` to continue it from its checkpoint with `config` (the saved one, as
    /// [`Run::saved_config`] reads it, with any changes). Nothing in `dir` changes until
    /// the model's `train` has loaded the checkpoint.
    pub fn resume<C: Serialize>(
        dir: &Path,
        options: RunOptions,
        config: &C,
    ) -> Result<Self, TrainError> {
        check_model(dir, &options.model)?;
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
        Self::new(
            dir.to_path_buf(),
            options,
            config,
            Some((point, saved.metrics_rows)),
        )
    }

    /// The config saved in run directory `dir` (what `--resume DIR` starts from).
    pub fn saved_config<C: DeserializeOwned>(dir: &Path) -> Result<C, TrainError> {
        if !dir.join("config.toml").is_file() {
            return Err(TrainError::new(dir, "not a run directory (no config.toml)"));
        }
        read_toml(&dir.join("config.toml"))
    }

    fn new<C: Serialize>(
        dir: PathBuf,
        options: RunOptions,
        config: &C,
        resume: Option<(ResumePoint, Option<usize>)>,
    ) -> Result<Self, TrainError> {
        let text = toml::to_string_pretty(config)
            .map_err(|e| TrainError::new(&dir.join("config.toml"), e))?;
        Ok(Self {
            dir,
            model: options.model,
            device: options.device,
            interrupter: options.interrupter,
            show_progress: options.progress,
            draw_pictures: options.pictures,
            pending_config: Some(text),
            resume,
            metrics: None,
            bar: None,
            opened: Instant::now(),
        })
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

    /// Seconds since the run was opened.
    pub fn elapsed(&self) -> f64 {
        self.opened.elapsed().as_secs_f64()
    }

    /// Writes `summary.json` (with this run's device and the process's command line).
    pub fn finish(&mut self, summary: &Summary) -> Result<(), TrainError> {
        self.end();
        let mut summary = summary.clone();
        summary.device = self.device.clone();
        summary.command = std::env::args().collect::<Vec<_>>().join(" ");
        write_json(&self.file("summary.json"), &summary)
    }
}

/// An explicitly named run directory: new, empty, or (with `force`) emptied.
fn claim_given(dir: &Path, force: bool) -> Result<PathBuf, TrainError> {
    let non_empty = match std::fs::read_dir(dir) {
        Ok(mut entries) => entries.next().is_some(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) if e.kind() == std::io::ErrorKind::NotADirectory => {
            return Err(TrainError::new(dir, "exists and is not a directory"))
        }
        Err(e) => return Err(TrainError::io(dir, "cannot read", e)),
    };
    if non_empty {
        if !force {
            return Err(TrainError::new(
                dir,
                "exists and is not empty: continue it with --resume, or replace it with --force",
            ));
        }
        std::fs::remove_dir_all(dir).map_err(|e| TrainError::io(dir, "cannot empty", e))?;
    }
    std::fs::create_dir_all(dir).map_err(|e| TrainError::io(dir, "cannot create", e))?;
    Ok(dir.to_path_buf())
}

/// `runs/<model>-<timestamp>`, or `…-2`, `…-3` when taken: the directory is claimed with
/// an exclusive create, so two runs started in the same second never share it.
fn claim_fresh(model: &str) -> Result<PathBuf, TrainError> {
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
            Ok(()) => return Ok(dir),
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
        self.write_config()?;
        let path = self.file("metrics.csv");
        self.metrics = Some(match &self.resume {
            Some((_, rows)) => MetricsLog::resume(&path, columns, *rows)?,
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
        let info = CheckpointInfo {
            position: *at,
            metrics_rows: self.metrics.as_ref().map(MetricsLog::rows),
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

    #[derive(Serialize)]
    struct Config {
        epochs: usize,
    }

    #[test]
    fn an_existing_run_is_refused_untouched_and_resumed_only_by_its_model() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("r");
        let mut run = Run::create(RunOptions::new("mlp").out(&dir), &Config { epochs: 3 }).unwrap();
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

        let err = Run::create(RunOptions::new("mlp").out(&dir), &Config { epochs: 3 })
            .err()
            .unwrap();
        assert!(err.to_string().contains("exists and is not empty"), "{err}");
        let err = Run::resume(&dir, RunOptions::new("set"), &Config { epochs: 3 })
            .err()
            .unwrap();
        assert!(
            err.to_string().contains("a mlp run, not a set run"),
            "{err}"
        );
        assert_eq!(std::fs::read(dir.join("metrics.csv")).unwrap(), before);

        let mut again = Run::resume(&dir, RunOptions::new("mlp"), &Config { epochs: 5 }).unwrap();
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
    }
}
