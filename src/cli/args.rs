//! Flags every training command shares, the config layering (preset or saved config,
//! then `--config FILE`, then `--set field=value`, then the command's own flags), and
//! opening and closing a recorded run.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use manifold_data::Mnist;
use manifold_train::run::DIVERGE_FACTOR;
use manifold_train::{
    layered_config, with_flags, Interrupter, ModelConfig, Run, RunLock, RunOptions, Summary,
};
use serde::Serialize;

/// Flags shared by the `train` commands.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// Run directory (default: runs/<model>-<timestamp>); must be new or empty (see --force).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the run in an existing --out directory (only a run directory, with its
    /// run.json, or an empty one; never the working directory, one above it or $HOME).
    #[arg(long, requires = "out")]
    pub force: bool,
    /// Continue the run in DIR from its last checkpoint (its config.toml is used).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["config", "out"])]
    pub resume: Option<PathBuf>,
    /// TOML file with config fields (overrides the preset).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override one config field: `--set field=value` (TOML syntax for the value; repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Seed of initialisation and data order.
    #[arg(long)]
    pub seed: Option<u64>,
    /// MNIST directory (default: $MNIST_DIR, else the shipped assets/mnist).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Stop (keeping the last healthy checkpoint) when the evaluated loss exceeds F times
    /// its best (default 100; `inf`: never); NaN or infinite losses and parameters always
    /// stop a run.
    #[arg(long, value_name = "F", value_parser = at_least_one)]
    pub diverge_factor: Option<f64>,
    /// The `--resume` directory's lock, taken before its saved config is read and handed
    /// to the run.
    #[arg(skip)]
    held: Arc<Mutex<Option<RunLock>>>,
}

/// `--diverge-factor`: a number ≥ 1 (`inf` switches the growth test off).
fn at_least_one(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f >= 1.0 => Ok(f),
        _ => Err(format!("`{s}` is not a number ≥ 1")),
    }
}

impl RunArgs {
    /// The config: the saved one when resuming, else `preset`; then `--config` and `--set`.
    pub fn base_config<C: ModelConfig>(&self, model: &str, preset: C) -> anyhow::Result<C> {
        let base = match &self.resume {
            Some(dir) => {
                let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
                if held.is_none() {
                    *held = Some(RunLock::acquire_run(dir)?);
                }
                Run::saved_config::<C>(dir, model)?
            }
            None => preset,
        };
        Ok(layered_config(&base, self.config.as_deref(), &self.set)?)
    }

    /// The config of a `train` command: `preset` (or, with `--resume`, the saved config),
    /// then `--config`, `--set`, the command's own `flags` (see [`with_flags`]) and
    /// `--seed`; validated.
    pub fn config<C: ModelConfig>(
        &self,
        model: &str,
        preset: C,
        flags: &impl Serialize,
    ) -> anyhow::Result<C> {
        let mut config = with_flags(&self.base_config(model, preset)?, flags)?;
        if let Some(seed) = self.seed {
            // config.toml stores integers as TOML's signed 64-bit numbers.
            anyhow::ensure!(
                seed <= i64::MAX as u64,
                "--seed: at most {} (config.toml holds signed 64-bit integers)",
                i64::MAX
            );
            config.set_seed(seed);
        }
        config.validate()?;
        Ok(config)
    }

    /// Opens the run directory of `model` on backend `device`: resumed or created.
    pub fn open<C: ModelConfig>(
        &self,
        model: &str,
        config: &C,
        device: &str,
    ) -> anyhow::Result<Run> {
        let options = RunOptions::new(model)
            .out_opt(self.out.as_deref())
            .force(self.force)
            .diverge_factor(self.diverge_factor.unwrap_or(DIVERGE_FACTOR))
            .device(device)
            .interrupter(Interrupter::on_signals())
            .report(manifold::write_report);
        let held = self.held.lock().unwrap_or_else(|e| e.into_inner()).take();
        let options = match held {
            Some(lock) => options.lock(lock),
            None => options,
        };
        Ok(match &self.resume {
            Some(dir) => Run::resume(dir, options, config)?,
            None => Run::create(options, config)?,
        })
    }

    /// MNIST from `--data-dir`, `$MNIST_DIR` or the shipped copy.
    pub fn mnist(&self) -> anyhow::Result<Mnist> {
        Ok(Mnist::load_default(self.data_dir.as_deref())?)
    }

    /// [`RunArgs::mnist`], checked to fit the config (`fits`) before any run directory
    /// is made.
    pub fn mnist_for(
        &self,
        fits: impl FnOnce(&Mnist) -> Result<(), manifold_train::TrainError>,
    ) -> anyhow::Result<Mnist> {
        let data = self.mnist()?;
        fits(&data)?;
        Ok(data)
    }
}

/// Writes `summary.json`; an interrupted run becomes the [`Interrupted`] error (exit
/// code `128 + signal`: 130 for Ctrl-C, 143 for SIGTERM), a finished one prints its line.
pub fn finish(mut run: Run, summary: &Summary, extra: &str) -> anyhow::Result<PathBuf> {
    let device = run.device().to_string();
    run.finish(summary)?;
    let dir = run.path().to_path_buf();
    if summary.interrupted {
        return Err(Interrupted {
            saved: format!("checkpoint saved in {}", dir.display()),
            resume: format!("--resume {}", dir.display()),
            exit_code: run.interrupter().exit_code(),
        }
        .into());
    }
    let score = summary.evaluation().describe();
    let done = match summary.epochs {
        Some(e) => format!("{e} epoch{}", if e == 1 { "" } else { "s" }),
        None => format!("{} steps", summary.steps.unwrap_or(0)),
    };
    println!(
        "{} on {}: {score}{extra}, {done} in {:.1} s — run directory {}, report {}",
        summary.model,
        device,
        summary.wall_seconds,
        dir.display(),
        dir.join(manifold_report::REPORT_FILE).display()
    );
    Ok(dir)
}

/// Returned when a signal (Ctrl-C, SIGTERM, SIGHUP, SIGUSR1) stopped a run after saving
/// its checkpoint, summary and report.
#[derive(Debug, thiserror::Error)]
#[error("interrupted: {saved}; continue with {resume}")]
pub struct Interrupted {
    /// What was saved, and where.
    pub saved: String,
    /// How to continue.
    pub resume: String,
    /// The process's exit code: `128 + signal`.
    pub exit_code: u8,
}
