//! `manifold sweep`: a sweep file's points run here (`run`), on a Slurm cluster
//! (`submit`, whose tasks are `task`), listed (`list`) and merged (`collect`).

use std::path::{Path, PathBuf};

use anyhow::Context;
use manifold_dnm::DnmConfig;
use manifold_dreamcomp::DreamCompConfig;
use manifold_mlp::MlpConfig;
use manifold_rnn::RnnConfig;
use manifold_set::SetConfig;
use manifold_sweep::collect::{collect, Options};
use manifold_sweep::local::{describe, is_sweep_dir, states, threads_per_run, SWEEP_FILE};
use manifold_sweep::slurm::{submit, task, Resources, Task};
use manifold_sweep::{Launcher, Point, State, Sweep};
use manifold_train::{layered_config, ModelConfig};

use super::args::Interrupted;
use super::train;
use manifold::backend::DeviceKind;

/// The `sweep` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum SweepCmd {
    /// Run the sweep's points on this machine, N at a time; again to resume or retry.
    Run(RunArgs),
    /// Submit the points still to run as one Slurm job array.
    Submit(SubmitArgs),
    /// Run one point (what each array task of `submit` does).
    Task(TaskArgs),
    /// List the points, their numbers and their states.
    List(FileArgs),
    /// Merge the finished points: sweep.csv, summary.csv, compare.html, pictures.
    Collect(CollectArgs),
}

/// The sweep file and where its points go.
#[derive(clap::Args, Debug)]
pub struct FileArgs {
    /// The sweep file (TOML).
    file: PathBuf,
    /// The sweep's directory (default: the file's `out`, else runs/sweeps/<file stem>).
    #[arg(long)]
    out: Option<PathBuf>,
    /// MNIST directory for every point (default: $MNIST_DIR, else the shipped assets/mnist).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// Flags of `sweep run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    #[command(flatten)]
    file: FileArgs,
    /// Points run at once, each a process with cores / N compute threads.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    jobs: u64,
    /// Compute threads of each run (default: cores / jobs, at least 1).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=1024))]
    threads: Option<u64>,
    /// Run only this group's points (repeatable; default: every group).
    #[arg(long = "group", value_name = "NAME")]
    groups: Vec<String>,
}

/// Flags of `sweep submit`.
#[derive(clap::Args, Debug)]
pub struct SubmitArgs {
    #[command(flatten)]
    file: FileArgs,
    /// Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// Time limit per task (Slurm's format: MM, HH:MM:SS, D-HH …).
    #[arg(long)]
    time: Option<String>,
    /// CPUs per task: also each run's compute threads.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=1024))]
    cpus_per_task: u64,
    /// Memory per task (e.g. 4G).
    #[arg(long)]
    mem: Option<String>,
    /// GPUs per task (e.g. 1; with --device wgpu).
    #[arg(long)]
    gpus: Option<String>,
    /// At most this many tasks at once (`--array=…%M`).
    #[arg(long, value_name = "M")]
    max_parallel: Option<usize>,
    /// Seconds before the time limit at which a run saves a checkpoint and stops.
    #[arg(long, default_value_t = 120)]
    warn_seconds: u32,
    /// A further sbatch option, e.g. --sbatch=--account=abc (repeatable).
    #[arg(long = "sbatch", value_name = "OPTION", allow_hyphen_values = true)]
    sbatch: Vec<String>,
    /// Write the batch script and print it; submit nothing.
    #[arg(long)]
    dry_run: bool,
    /// Submit only this group's points (repeatable; default: every group).
    #[arg(long = "group", value_name = "NAME")]
    groups: Vec<String>,
}

/// Flags of `sweep task`.
#[derive(clap::Args, Debug)]
pub struct TaskArgs {
    #[command(flatten)]
    file: FileArgs,
    /// The point's number (`sweep list` shows them; Slurm passes $SLURM_ARRAY_TASK_ID).
    #[arg(long)]
    index: usize,
}

/// Flags of `sweep collect`.
#[derive(clap::Args, Debug)]
pub struct CollectArgs {
    /// The sweep's directory.
    dir: PathBuf,
    /// Also write best.csv: per setting, the seed with the lowest value of this number of
    /// summary.json (the tuner's "best of seeds"; e.g. test_loss).
    #[arg(long, value_name = "NUMBER")]
    best_of: Option<String>,
    /// A sweep.csv of an earlier collect (another machine's, or one whose runs are gone):
    /// each point with no run directory here takes its row from it. Runs here win.
    #[arg(long, value_name = "FILE")]
    rows_from: Option<PathBuf>,
}

/// `manifold sweep`.
pub fn run(cmd: SweepCmd, device: Option<DeviceKind>) -> anyhow::Result<()> {
    match cmd {
        SweepCmd::Run(a) => run_here(a, device),
        SweepCmd::Submit(a) => submit_to_slurm(a, device),
        SweepCmd::Task(a) => run_task(a, device),
        SweepCmd::List(a) => list(a),
        SweepCmd::Collect(a) => collect_dir(a),
    }
}

impl FileArgs {
    /// The sweep, every point's config checked as `manifold train` would build it.
    fn sweep(&self) -> anyhow::Result<Sweep> {
        let sweep = Sweep::read(&self.file, self.out.as_deref())?;
        for p in &sweep.points {
            check_point(p).with_context(|| format!("{}: point {}", self.file.display(), p.id()))?;
        }
        Ok(sweep)
    }

    fn launcher(&self, sweep: &Sweep, device: Option<DeviceKind>) -> anyhow::Result<Launcher> {
        let device = match device {
            Some(d) => Some(device_name(d)?),
            None => sweep.device.clone(),
        };
        Ok(Launcher {
            exe: std::env::current_exe().context("cannot find the manifold executable")?,
            device,
            data_dir: self.data_dir.clone(),
        })
    }
}

/// The `--device` value of a backend.
fn device_name(d: DeviceKind) -> anyhow::Result<String> {
    use clap::ValueEnum;
    Ok(d.to_possible_value()
        .context("an unnamed backend")?
        .get_name()
        .to_string())
}

/// Builds and validates the config of `point` as `manifold train` would.
fn check_point(p: &Point) -> anyhow::Result<()> {
    fn check<C: ModelConfig>(base: C, p: &Point) -> anyhow::Result<()> {
        let sets: Vec<String> = p.sets.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let mut c = layered_config(&base, p.config.as_deref(), &sets)?;
        c.set_seed(p.seed);
        c.validate()?;
        Ok(())
    }
    let preset = |default: &'static str| p.preset.clone().unwrap_or_else(|| default.into());
    match p.model.as_str() {
        "mlp" => check(MlpConfig::new(), p),
        "dnm" => check(DnmConfig::preset(&preset(train::dnm::PRESET))?, p),
        "set" => check(SetConfig::preset(&preset(train::set::PRESET))?, p),
        "dreamcomp" => check(
            DreamCompConfig::preset(&preset(train::dreamcomp::PRESET))?,
            p,
        ),
        "rnn" => check(RnnConfig::preset(&preset(train::rnn::PRESET))?, p),
        other => anyhow::bail!("model `{other}`: not a manifold model"),
    }
}

fn run_here(a: RunArgs, device: Option<DeviceKind>) -> anyhow::Result<()> {
    let sweep = a.file.sweep()?.only_groups(&a.groups)?;
    let launcher = a.file.launcher(&sweep, device)?;
    let jobs = a.jobs as usize;
    let threads = a
        .threads
        .map_or_else(|| threads_per_run(jobs), |t| t as usize);
    eprintln!(
        "sweep {}: {} point{} ({}); {jobs} at a time, {threads} thread{} each",
        sweep.out.display(),
        sweep.points.len(),
        if sweep.points.len() == 1 { "" } else { "s" },
        describe(&states(&sweep)),
        if threads == 1 { "" } else { "s" }
    );
    let o = manifold_sweep::local::run(&sweep, &launcher, jobs, threads)?;
    if let Some(signal) = o.signal {
        return Err(Interrupted {
            saved: format!(
                "the running points of {} saved their checkpoints",
                sweep.out.display()
            ),
            resume: "the same command".into(),
            exit_code: (128 + signal) as u8,
        }
        .into());
    }
    println!(
        "sweep {}: {} finished now, {} before{}{}; collect with: manifold sweep collect {}",
        sweep.out.display(),
        o.finished,
        o.skipped,
        if o.diverged > 0 {
            format!(", {} diverged", o.diverged)
        } else {
            String::new()
        },
        if o.busy > 0 {
            format!(", {} run by another process", o.busy)
        } else {
            String::new()
        },
        sweep.out.display()
    );
    if !o.failed.is_empty() {
        let (id, why) = &o.failed[0];
        anyhow::bail!(
            "{}: {} of {} points failed ({id}: {why}); their logs are in {}; run the same command again to retry",
            sweep.file.display(),
            o.failed.len(),
            sweep.points.len(),
            sweep.out.join("logs").display()
        );
    }
    Ok(())
}

fn submit_to_slurm(a: SubmitArgs, device: Option<DeviceKind>) -> anyhow::Result<()> {
    let sweep = a.file.sweep()?.only_groups(&a.groups)?;
    let launcher = a.file.launcher(&sweep, device)?;
    let resources = Resources {
        partition: a.partition,
        time: a.time,
        cpus_per_task: Some(a.cpus_per_task as usize),
        mem: a.mem,
        gpus: a.gpus,
        max_parallel: a.max_parallel,
        warn_seconds: a.warn_seconds,
        extra: a.sbatch,
    };
    let s = submit(&sweep, &launcher, &resources, a.dry_run)?;
    if s.indices.is_empty() {
        println!(
            "sweep {}: nothing to submit ({}{})",
            sweep.out.display(),
            describe(&states(&sweep)),
            if s.queued.is_empty() {
                String::new()
            } else {
                format!("; {} still queued or running in Slurm", s.queued.len())
            }
        );
        return Ok(());
    }
    match &s.job {
        None => {
            print!(
                "{}",
                std::fs::read_to_string(&s.script)
                    .with_context(|| format!("{}: cannot read", s.script.display()))?
            );
            eprintln!(
                "dry run: {} points; the script is {} (submit it with sbatch)",
                s.indices.len(),
                s.script.display()
            );
        }
        Some(job) => println!(
            "submitted {} points as Slurm job {job} ({}); logs in {}; when it ends: manifold sweep collect {}",
            s.indices.len(),
            s.script.display(),
            sweep.out.join("logs").display(),
            sweep.out.display()
        ),
    }
    Ok(())
}

fn run_task(a: TaskArgs, device: Option<DeviceKind>) -> anyhow::Result<()> {
    let sweep = a.file.sweep()?;
    let launcher = a.file.launcher(&sweep, device)?;
    let threads = std::env::var("SLURM_CPUS_PER_TASK")
        .ok()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&n| n > 0)
        .unwrap_or_else(|| threads_per_run(1));
    match task(&sweep, &launcher, a.index, threads)? {
        Task::Finished(state) => {
            let point = sweep.point(a.index)?;
            println!("{}: already {}", point.id(), state.word());
            Ok(())
        }
        Task::Run(mut cmd) => {
            // Replaced by the run itself: the scheduler's signals reach it directly.
            use std::os::unix::process::CommandExt;
            let e = cmd.exec();
            Err(anyhow::anyhow!(
                "{}: cannot start: {e}",
                launcher.exe.display()
            ))
        }
    }
}

fn list(a: FileArgs) -> anyhow::Result<()> {
    let sweep = a.sweep()?;
    for p in &sweep.points {
        let state = State::of(&p.dir(&sweep.out));
        let detail = match &state {
            State::Diverged(why) | State::Foreign(why) => format!(" ({why})"),
            _ => String::new(),
        };
        println!("{:>4}  {:<9}  {}{detail}", p.index, state.word(), p.id());
    }
    eprintln!(
        "{}: {} points in {} ({})",
        sweep.file.display(),
        sweep.points.len(),
        sweep.out.display(),
        describe(&states(&sweep))
    );
    Ok(())
}

fn collect_dir(a: CollectArgs) -> anyhow::Result<()> {
    let dir: &Path = &a.dir;
    anyhow::ensure!(
        is_sweep_dir(dir),
        "{}: not a sweep directory (no {SWEEP_FILE}; `sweep run` or `sweep submit` makes one)",
        dir.display()
    );
    let sweep = Sweep::read(&dir.join(SWEEP_FILE), Some(dir))?;
    let options = Options {
        best_of: a.best_of,
        rows_from: a.rows_from,
    };
    let c = collect(&sweep, &options)?;
    let finished = c.rows.iter().filter(|r| r.state.is_final()).count();
    let unfinished = c.unfinished();
    let from_file = options.rows_from.as_ref().map_or(String::new(), |file| {
        let n = c.rows.iter().filter(|r| r.from_file).count();
        format!(" ({n} from {})", file.display())
    });
    println!(
        "collected {finished} of {} points of {}{from_file}{}",
        c.rows.len(),
        dir.display(),
        if unfinished.is_empty() {
            String::new()
        } else {
            let first: Vec<String> = unfinished
                .iter()
                .take(3)
                .map(|(id, why)| format!("{id}: {why}"))
                .collect();
            format!(
                "; {} not finished ({}{})",
                unfinished.len(),
                first.join("; "),
                if unfinished.len() > 3 { "; …" } else { "" }
            )
        }
    );
    for r in c
        .rows
        .iter()
        .filter(|r| matches!(r.state, State::Diverged(_)))
    {
        println!("{}: diverged: {}", r.point.id(), r.reason);
    }
    for f in &c.files {
        println!("  {}", f.display());
    }
    Ok(())
}
