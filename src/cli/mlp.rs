//! `manifold train mlp`, `bench mlp`, `interactive` and `tune`.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use manifold_data::Mnist;
use manifold_mlp::{adam, evaluate, fit, train_epoch, Mlp, MlpConfig, Progress};
use manifold_train::tune::{best_per_combination, write_tune_csv, Grid, Outcome};
use manifold_train::{
    load_module, load_record, progress_bar, save_module, save_record, FusedAdam, RunDir, Summary,
};
use rand::Rng;
use rayon::prelude::*;
use serde::Serialize;

use super::common::{layered_config, set_if, Interrupted, RunArgs};
use crate::backend::{dispatch, DeviceKind, Job, TrainBackend};

#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Minibatch size.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Adam learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Train on the first N images only.
    #[arg(long)]
    pub train_limit: Option<usize>,
    /// Start from this saved model (a `.mpk` written by --save or a run).
    #[arg(long, value_name = "FILE")]
    pub load: Option<PathBuf>,
    /// Also save the trained model here (Burn recorder, `.mpk`).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
}

impl TrainArgs {
    fn config(&self) -> anyhow::Result<MlpConfig> {
        let base = match &self.run.resume {
            Some(dir) => RunDir::open(dir)?.read_config::<MlpConfig>()?,
            None => MlpConfig::new(),
        };
        let mut c = layered_config(&base, self.run.config.as_deref(), &self.run.set)?;
        set_if(&mut c.epochs, &self.epochs);
        set_if(&mut c.batch_size, &self.batch);
        set_if(&mut c.learning_rate, &self.lr);
        set_if(&mut c.train_limit, &self.train_limit);
        set_if(&mut c.seed, &self.run.seed);
        c.validate()?;
        Ok(c)
    }
}

/// Files of a model saved by a run.
const MODEL_FILE: &str = "model";

struct TrainJob {
    args: TrainArgs,
    config: MlpConfig,
    data: Mnist,
}

impl Job for TrainJob {
    type Output = Summary;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        name: &'static str,
    ) -> anyhow::Result<Summary> {
        run_training::<B>(self, &device, name)
    }
}

fn run_training<B: AutodiffBackend>(
    job: TrainJob,
    device: &B::Device,
    device_name: &str,
) -> anyhow::Result<Summary> {
    let TrainJob { args, config, data } = job;
    let resume = args.run.resume.is_some();
    let run = match &args.run.resume {
        Some(dir) => RunDir::open(dir)?,
        None => RunDir::create(args.run.out.as_deref(), "mlp")?,
    };
    run.write_config(&config)?;
    let train_set = if config.train_limit > 0 {
        data.train.take(config.train_limit)
    } else {
        data.train.clone()
    };
    let mut model = Mlp::<B>::new(&config, device);
    let mut optim = adam::<B>(&config);
    let ckpt = run.checkpoint_dir();
    let mut progress = Progress::default();
    if resume {
        progress = run.read_json("checkpoint/progress.json")?;
        model = load_module(model, &ckpt.join("model"), device)?;
        optim = optim.load_record(load_record::<B::InnerBackend, _>(
            &ckpt.join("optim"),
            device,
        )?);
        eprintln!(
            "resuming {} at epoch {}, batch {}",
            run.path().display(),
            progress.epoch + 1,
            progress.batch
        );
    } else if let Some(file) = &args.load {
        model = load_module(model, &file.with_extension(""), device)?;
    }
    let mut metrics = run.metrics(
        &[
            "epoch",
            "step",
            "train_loss",
            "test_loss",
            "test_accuracy",
            "wall_seconds",
        ],
        resume,
    )?;
    let batches = train_set.len().div_ceil(config.batch_size);
    manifold_train::install_interrupt_handler();
    let bar = progress_bar((config.epochs * batches) as u64, "mlp");
    bar.set_position((progress.epoch * batches + progress.batch) as u64);
    let started = Instant::now() - std::time::Duration::from_secs_f64(progress.wall_seconds);
    let mut last_eval = None;
    let mut stopped = false;
    while progress.epoch < config.epochs {
        let result = train_epoch(
            model,
            &mut optim,
            &config,
            &train_set,
            progress,
            device,
            || bar.inc(1),
        );
        model = result.model;
        progress.step += result.next_batch - progress.batch;
        progress.wall_seconds = started.elapsed().as_secs_f64();
        if result.interrupted {
            progress.batch = result.next_batch;
            stopped = true;
            break;
        }
        let eval = evaluate(&model.valid(), &data.test, device);
        bar.set_message(format!("test acc {:.2}%", eval.accuracy * 100.0));
        metrics.log(&[
            (progress.epoch + 1) as f64,
            progress.step as f64,
            result.mean_loss,
            eval.loss,
            eval.accuracy,
            progress.wall_seconds,
        ])?;
        last_eval = Some(eval);
        progress.epoch += 1;
        progress.batch = 0;
        save_checkpoint(&run, &model, &optim, &progress)?;
    }
    bar.finish_and_clear();
    if stopped {
        save_checkpoint(&run, &model, &optim, &progress)?;
    }
    let eval = match last_eval {
        Some(e) => e,
        None => evaluate(&model.valid(), &data.test, device),
    };
    save_module(&model, &run.file(MODEL_FILE))?;
    if let Some(path) = &args.save {
        save_module(&model, &path.with_extension(""))?;
    }
    draw_curves(&run)?;
    let summary = Summary {
        model: "mlp".into(),
        device: device_name.into(),
        epochs: Some(progress.epoch),
        steps: Some(progress.step),
        wall_seconds: progress.wall_seconds,
        test_accuracy: Some(eval.accuracy),
        test_mse: None,
        test_loss: eval.loss,
        command: manifold_train::command_line(),
        interrupted: stopped,
        extra: Default::default(),
    };
    run.write_summary(&summary)?;
    if stopped {
        return Err(Interrupted(run.path().display().to_string()).into());
    }
    println!(
        "mlp on {device_name}: test accuracy {:.2}%, test cost {:.4}, {} epochs in {:.1} s — run directory {}",
        eval.accuracy * 100.0,
        eval.loss,
        progress.epoch,
        progress.wall_seconds,
        run.path().display()
    );
    Ok(summary)
}

fn save_checkpoint<B: AutodiffBackend>(
    run: &RunDir,
    model: &Mlp<B>,
    optim: &FusedAdam<B>,
    progress: &Progress,
) -> anyhow::Result<()> {
    let ckpt = run.checkpoint_dir();
    save_module(model, &ckpt.join("model"))?;
    save_record::<B::InnerBackend, _>(optim.to_record(), &ckpt.join("optim"))?;
    run.write_json("checkpoint/progress.json", progress)?;
    Ok(())
}

/// `loss.png` and `accuracy.png` from `metrics.csv`.
fn draw_curves(run: &RunDir) -> anyhow::Result<()> {
    use manifold_viz::{line_chart, Series};
    let m = manifold_train::read_metrics(&run.file("metrics.csv"))?;
    let pts = |y: &str| -> Vec<(f64, f64)> {
        m["epoch"]
            .iter()
            .copied()
            .zip(m[y].iter().copied())
            .collect()
    };
    line_chart(
        &run.file("loss.png"),
        "MLP cross-entropy",
        "epoch",
        "loss",
        &[
            Series::new("train", pts("train_loss")),
            Series::new("test", pts("test_loss")),
        ],
    )?;
    let acc: Vec<(f64, f64)> = pts("test_accuracy")
        .into_iter()
        .map(|(x, y)| (x, 100.0 * y))
        .collect();
    line_chart(
        &run.file("accuracy.png"),
        "MLP test accuracy",
        "epoch",
        "accuracy (%)",
        &[Series::new("test", acc)],
    )?;
    Ok(())
}

fn load_data(dir: Option<&Path>) -> anyhow::Result<Mnist> {
    Ok(Mnist::load_default(dir)?)
}

pub fn train(args: TrainArgs, device: DeviceKind) -> anyhow::Result<()> {
    let config = args.config()?;
    let data = load_data(args.run.data_dir.as_deref())?;
    dispatch(device, TrainJob { args, config, data }).map(|_| ())
}

// ---------------------------------------------------------------- bench

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Minibatch size.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Timed epochs (the median is reported); one untimed warm-up epoch runs first.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// JSON output file.
    #[arg(long, default_value = "bench/mlp.json")]
    pub json: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Serialize)]
struct BenchReport {
    benchmark: &'static str,
    device: String,
    batch: usize,
    images_per_epoch: usize,
    epoch_seconds: Vec<f64>,
    median_epoch_seconds: f64,
    threads: usize,
}

struct BenchJob {
    args: BenchArgs,
    data: Mnist,
}

impl Job for BenchJob {
    type Output = BenchReport;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        name: &'static str,
    ) -> anyhow::Result<BenchReport> {
        let config = MlpConfig::new().with_batch_size(self.args.batch);
        let mut model = Mlp::<B>::new(&config, &device);
        let mut optim = adam::<B>(&config);
        let mut times = Vec::new();
        for epoch in 0..=self.args.repeats {
            let t = Instant::now();
            let progress = Progress {
                epoch,
                ..Default::default()
            };
            model = train_epoch(
                model,
                &mut optim,
                &config,
                &self.data.train,
                progress,
                &device,
                || {},
            )
            .model;
            B::sync(&device)?;
            if epoch > 0 {
                times.push(t.elapsed().as_secs_f64());
            }
        }
        Ok(BenchReport {
            benchmark: "mlp one epoch (60 000 images, forward + backward + Adam)",
            device: name.into(),
            batch: self.args.batch,
            images_per_epoch: self.data.train.len(),
            median_epoch_seconds: median(&times),
            epoch_seconds: times,
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        })
    }
}

/// The median of a non-empty list.
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => 0.5 * (s[n / 2 - 1] + s[n / 2]),
    }
}

/// Writes a benchmark report as pretty JSON, creating the directory.
pub fn write_report<T: Serialize>(path: &Path, report: &T) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(report)?;
    std::fs::write(path, text + "\n").with_context(|| format!("{}: cannot write", path.display()))
}

pub fn bench(args: BenchArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.batch > 0 && args.repeats > 0,
        "--batch and --repeats must be at least 1"
    );
    let data = load_data(args.data_dir.as_deref())?;
    let json = args.json.clone();
    let report = dispatch(device, BenchJob { args, data })?;
    write_report(&json, &report)?;
    println!(
        "mlp bench on {}: median epoch {:.3} s at batch {} ({} runs) — {}",
        report.device,
        report.median_epoch_seconds,
        report.batch,
        report.epoch_seconds.len(),
        json.display()
    );
    Ok(())
}

// ---------------------------------------------------------------- interactive

#[derive(clap::Args, Debug)]
pub struct InteractiveArgs {
    /// Saved MLP (default: the newest runs/mlp-*/model.mpk).
    #[arg(long, value_name = "FILE")]
    pub load: Option<PathBuf>,
    /// Seed of the digit draw (default: random).
    #[arg(long)]
    pub seed: Option<u64>,
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// The newest `runs/*/model.mpk` of an MLP run.
fn latest_saved_mlp() -> Option<PathBuf> {
    let entries = std::fs::read_dir("runs").ok()?;
    entries
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("mlp-"))
        .map(|e| e.path().join("model.mpk"))
        .filter(|p| p.is_file())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

struct InteractiveJob {
    file: PathBuf,
    seed: u64,
    data: Mnist,
}

impl Job for InteractiveJob {
    type Output = ();
    fn run<B: TrainBackend>(self, device: B::Device, _name: &'static str) -> anyhow::Result<()> {
        let probe = Mlp::<B::InnerBackend>::new(&MlpConfig::new(), &device);
        let model = load_module(probe, &self.file.with_extension(""), &device)?;
        play(&model, &self.data.test, self.seed, &device)
    }
}

fn play<B: burn::tensor::backend::Backend>(
    model: &Mlp<B>,
    test: &manifold_data::ImageSet,
    seed: u64,
    device: &B::Device,
) -> anyhow::Result<()> {
    use rand::SeedableRng;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    let mut out = std::io::stdout().lock();
    let (mut person, mut machine, mut rounds) = (0usize, 0usize, 0usize);
    writeln!(out, "Guess the digit (0-9); q quits.")?;
    loop {
        let i = rng.random_range(0..test.len());
        let truth = test.labels()[i] as usize;
        write!(
            out,
            "\n{}Your guess: ",
            manifold_viz::terminal_image(test.image(i), test.cols())
        )?;
        out.flush()?;
        let guess = loop {
            let Some(line) = lines.next() else {
                return finish(&mut out, person, machine, rounds);
            };
            let line = line?;
            let t = line.trim();
            if t.eq_ignore_ascii_case("q") {
                return finish(&mut out, person, machine, rounds);
            }
            match t.parse::<usize>() {
                Ok(g) if g < 10 => break g,
                _ => {
                    write!(out, "Type a digit 0-9, or q: ")?;
                    out.flush()?;
                }
            }
        };
        let x = manifold_train::batch_tensor::<B>(test.image(i), 1, test.dim(), device);
        let predicted = manifold_train::argmax_rows(model.forward(x))[0];
        rounds += 1;
        person += usize::from(guess == truth);
        machine += usize::from(predicted == truth);
        writeln!(
            out,
            "You: {guess}  Machine: {predicted}  Truth: {truth}   Score — you {person}/{rounds}, machine {machine}/{rounds}"
        )?;
    }
}

fn finish(
    out: &mut impl Write,
    person: usize,
    machine: usize,
    rounds: usize,
) -> anyhow::Result<()> {
    writeln!(
        out,
        "\nFinal score after {rounds} digits — you {person}, machine {machine}."
    )?;
    Ok(())
}

pub fn interactive(args: InteractiveArgs, device: DeviceKind) -> anyhow::Result<()> {
    let file = match args.load.clone().or_else(latest_saved_mlp) {
        Some(f) => f,
        None => anyhow::bail!("no saved MLP found under runs/: make one with `manifold train mlp` (or pass --load FILE)"),
    };
    let data = load_data(args.data_dir.as_deref())?;
    let seed = args.seed.unwrap_or_else(|| rand::rng().random());
    dispatch(device, InteractiveJob { file, seed, data })
}

// ---------------------------------------------------------------- tune

#[derive(clap::Args, Debug)]
pub struct TuneArgs {
    /// TOML grid: `field = [v1, v2, …]` for MlpConfig fields.
    #[arg(long, value_name = "FILE")]
    pub grid: Option<PathBuf>,
    /// A grid axis given inline: `field=v1,v2,…` (repeatable; adds to --grid).
    #[arg(long = "axis", value_name = "FIELD=V1,V2")]
    pub axes: Vec<String>,
    /// Seeds per combination (0..N).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// TOML file with the base config the grid varies.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override one base config field: `--set field=value` (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Output CSV.
    #[arg(long, default_value = "runs/tune.csv")]
    pub csv: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

impl TuneArgs {
    fn grid(&self) -> anyhow::Result<Grid> {
        let mut grid = match &self.grid {
            Some(path) => manifold_train::read_toml::<Grid>(path)?,
            None => Grid::default(),
        };
        for a in &self.axes {
            let (k, vs) = a
                .split_once('=')
                .with_context(|| format!("--axis {a}: expected FIELD=V1,V2"))?;
            let values = vs
                .split(',')
                .map(|v| {
                    toml::from_str::<toml::Table>(&format!("v = {}", v.trim()))
                        .map(|mut t| t.remove("v").expect("parsed key"))
                        .map_err(|_| anyhow::anyhow!("--axis {a}: `{v}` is not a value"))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            grid.axes.insert(k.trim().to_string(), values);
        }
        grid.validate()?;
        Ok(grid)
    }
}

struct TuneJob {
    configs: Vec<MlpConfig>,
    data: Mnist,
}

impl Job for TuneJob {
    type Output = Vec<Outcome>;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        _name: &'static str,
    ) -> anyhow::Result<Vec<Outcome>> {
        let bar = progress_bar(self.configs.len() as u64, "tune");
        let outcomes = self
            .configs
            .par_iter()
            .map(|c| {
                let (_, eval) = fit::<B>(c, &self.data.train, &self.data.test, &device, None);
                bar.inc(1);
                Outcome {
                    cost: eval.loss,
                    accuracy: eval.accuracy,
                }
            })
            .collect();
        bar.finish_and_clear();
        Ok(outcomes)
    }
}

pub fn tune(args: TuneArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(args.seeds > 0, "--seeds must be at least 1");
    let grid = args.grid()?;
    let base = layered_config(&MlpConfig::new(), args.config.as_deref(), &args.set)?;
    let combos = grid.combinations();
    let seeds: Vec<u64> = (0..args.seeds).collect();
    let mut configs = Vec::new();
    for combo in &combos {
        let sets: Vec<String> = combo.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let c = layered_config(&base, None, &sets)?;
        c.validate()?;
        for &s in &seeds {
            configs.push(c.clone().with_seed(s));
        }
    }
    let data = load_data(args.data_dir.as_deref())?;
    eprintln!(
        "tune: {} combinations × {} seeds = {} models",
        combos.len(),
        seeds.len(),
        configs.len()
    );
    let outcomes = dispatch(device, TuneJob { configs, data })?;
    let rows = best_per_combination(&combos, &seeds, &outcomes);
    if let Some(dir) = args.csv.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    write_tune_csv(&args.csv, &rows)?;
    let best = rows
        .iter()
        .min_by(|a, b| a.cost.total_cmp(&b.cost))
        .expect("grid has combinations");
    let desc: Vec<String> = best
        .combination
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!(
        "best: {} (seed {}): cost {:.4}, accuracy {:.2}% — {}",
        desc.join(" "),
        best.best_seed,
        best.cost,
        best.accuracy * 100.0,
        args.csv.display()
    );
    Ok(())
}
