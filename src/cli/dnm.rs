//! `manifold train dnm`, `bench dnm`, `sweep dnm`, and the default DNM job.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use burn::module::AutodiffModule;
use burn::optim::Optimizer;
use manifold_data::Mnist;
use manifold_dnm::{
    adam, evaluate, fit, input_outflow, train_step, Data, DensityTerm, Dnm, DnmConfig, Evaluation,
    Evaluator, Grid, StepReport, Task,
};
use manifold_train::{
    install_interrupt_handler, interrupted, load_module, load_record, progress_bar, save_module,
    save_record, RunDir, Summary,
};
use manifold_viz::{
    heatmap, line_chart, save_png, scatter_chart, write_gif, RgbImage, Scale, Series,
};
use serde::{Deserialize, Serialize};

use super::common::{layered_config, set_if, Interrupted, RunArgs};
use crate::backend::{dispatch, DeviceKind, Job, TrainBackend};

/// Evaluation order of the comps (flag form).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvaluatorArg {
    Fast,
    Reference,
}

impl From<EvaluatorArg> for Evaluator {
    fn from(e: EvaluatorArg) -> Self {
        match e {
            EvaluatorArg::Fast => Evaluator::Fast,
            EvaluatorArg::Reference => Evaluator::Reference,
        }
    }
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Preset: seed-toy, seed-mnist (the original's settings), best-toy, best-mnist.
    #[arg(long, default_value = "seed-mnist")]
    pub preset: String,
    /// Training steps.
    #[arg(long)]
    pub steps: Option<usize>,
    /// Minibatch size.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Adam learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Evaluation order of the comps.
    #[arg(long, value_enum)]
    pub evaluator: Option<EvaluatorArg>,
    /// Record D and metrics every K steps.
    #[arg(long, value_name = "K")]
    pub record_every: Option<usize>,
    /// Evaluate on the test set and checkpoint every K steps.
    #[arg(long, value_name = "K")]
    pub eval_every: Option<usize>,
}

impl TrainArgs {
    fn config(&self) -> anyhow::Result<DnmConfig> {
        let base = match &self.run.resume {
            Some(dir) => RunDir::open(dir)?.read_config::<DnmConfig>()?,
            None => DnmConfig::preset(&self.preset)?,
        };
        let mut c = layered_config(&base, self.run.config.as_deref(), &self.run.set)?;
        set_if(&mut c.steps, &self.steps);
        set_if(&mut c.batch_size, &self.batch);
        set_if(&mut c.lr, &self.lr);
        set_if(&mut c.record_every, &self.record_every);
        set_if(&mut c.eval_every, &self.eval_every);
        set_if(&mut c.seed, &self.run.seed);
        if let Some(e) = self.evaluator {
            c.evaluator = e.into();
        }
        c.validate()?;
        Ok(c)
    }
}

/// Where a run stands (saved with every checkpoint).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
struct Progress {
    step: usize,
    wall_seconds: f64,
    last_step_ms: f64,
}

const COLUMNS: [&str; 11] = [
    "step",
    "objective",
    "flow",
    "density",
    "density_surrogate",
    "total",
    "depth",
    "step_ms",
    "lr",
    "test_accuracy",
    "test_mse",
];

fn load_data(config: &DnmConfig, dir: Option<&Path>) -> anyhow::Result<Data> {
    Ok(match config.task {
        Task::Toy => Data::Toy,
        Task::Mnist => Data::Mnist(Mnist::load_default(dir)?),
    })
}

struct TrainJob {
    args: TrainArgs,
    config: DnmConfig,
    data: Data,
}

impl Job for TrainJob {
    type Output = (Summary, PathBuf);
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        name: &'static str,
    ) -> anyhow::Result<(Summary, PathBuf)> {
        run_training::<B>(self, &device, name)
    }
}

fn run_training<B: TrainBackend>(
    job: TrainJob,
    device: &B::Device,
    device_name: &str,
) -> anyhow::Result<(Summary, PathBuf)> {
    let TrainJob { args, config, data } = job;
    let resume = args.run.resume.is_some();
    let run = match &args.run.resume {
        Some(dir) => RunDir::open(dir)?,
        None => RunDir::create(args.run.out.as_deref(), "dnm")?,
    };
    run.write_config(&config)?;
    B::seed(device, config.seed);
    let grid = Grid::<B>::of(&config, device);
    let mut model = Dnm::<B>::new(&config, device);
    let mut optim = adam::<B>();
    let mut progress = Progress::default();
    if resume {
        let ckpt = run.checkpoint_dir();
        model = load_module(model, &ckpt.join("model"), device)?;
        optim = optim.load_record(load_record::<B, _>(&ckpt.join("optim"), device)?);
        progress = run.read_json("checkpoint/progress.json")?;
    }
    let frames_dir = run.file("frames");
    std::fs::create_dir_all(&frames_dir)
        .with_context(|| format!("{}: cannot create", frames_dir.display()))?;
    let mut metrics = run.metrics(&COLUMNS, resume)?;
    install_interrupt_handler();
    let bar = progress_bar(config.steps as u64, "dnm");
    bar.set_position(progress.step as u64);
    let mut frames = Vec::new();
    let mut last_eval: Option<Evaluation> = None;
    let mut stopped = false;
    let mut last = StepReport::default();
    while progress.step < config.steps {
        let step = progress.step;
        let (m, report) = match train_step(
            model,
            &mut optim,
            &config,
            &grid,
            &data,
            step,
            progress.last_step_ms,
            device,
        ) {
            Ok(ok) => ok,
            Err((_, failure)) => {
                bar.finish_and_clear();
                let ckpt = run.checkpoint_dir();
                let kept = if ckpt.join("progress.json").is_file() {
                    format!("last good checkpoint kept in {}", ckpt.display())
                } else {
                    "no checkpoint was saved yet".to_string()
                };
                anyhow::bail!("dnm: {failure}; {kept}");
            }
        };
        model = m;
        last = report;
        progress.step += 1;
        progress.wall_seconds += report.seconds;
        progress.last_step_ms = report.seconds * 1e3;
        bar.inc(1);
        let done = progress.step;
        let eval_now = done % config.eval_every == 0 || done == config.steps;
        let record_now = done % config.record_every == 0 || eval_now || done == 1;
        if eval_now {
            last_eval = Some(evaluate(&model.valid(), &config, &data, device));
        }
        if record_now {
            let e = last_eval.filter(|_| eval_now);
            metrics.log(&[
                done as f64,
                report.objective,
                report.flow,
                report.density,
                report.surrogate,
                report.total,
                report.depth as f64,
                report.seconds * 1e3,
                config.lr_at(step),
                e.and_then(|e| e.accuracy).unwrap_or(f64::NAN),
                e.and_then(|e| e.mse).unwrap_or(f64::NAN),
            ])?;
            let frame = d_frame(&model, &config, device);
            save_png(&frame, &frames_dir.join(format!("d_{done:07}.png")))?;
            frames.push(frame);
            bar.set_message(format!(
                "obj {:.4} density {:.2}% depth {}",
                report.objective,
                100.0 * report.density,
                report.depth
            ));
        }
        if eval_now {
            save_checkpoint(&run, &model, &optim, &progress)?;
        }
        if interrupted() && progress.step < config.steps {
            stopped = true;
            save_checkpoint(&run, &model, &optim, &progress)?;
            break;
        }
    }
    bar.finish_and_clear();
    let eval = match last_eval {
        Some(e) => e,
        None => evaluate(&model.valid(), &config, &data, device),
    };
    save_module(&model, &run.file("model"))?;
    let frame = d_frame(&model, &config, device);
    save_png(&frame, &run.file("closeness.png"))?;
    write_gif_of(&run.file("closeness.gif"), &frames)?;
    draw_curves(&run)?;
    let summary = summarise(
        &config,
        &model,
        &eval,
        &last,
        &progress,
        device,
        device_name,
        stopped,
    );
    run.write_summary(&summary)?;
    if stopped {
        return Err(Interrupted(run.path().display().to_string()).into());
    }
    let score = match (eval.accuracy, eval.mse) {
        (Some(a), _) => format!("test accuracy {:.2}%", 100.0 * a),
        (_, Some(m)) => format!("test MSE {m:.4}"),
        _ => String::new(),
    };
    println!(
        "dnm on {device_name}: {score}, density {:.2}%, {} steps in {:.1} s ({:.1} ms/step) — run directory {}",
        100.0 * last.density,
        progress.step,
        progress.wall_seconds,
        1e3 * progress.wall_seconds / progress.step.max(1) as f64,
        run.path().display()
    );
    Ok((summary, run.path().to_path_buf()))
}

#[allow(clippy::too_many_arguments)]
fn summarise<B: TrainBackend>(
    config: &DnmConfig,
    model: &Dnm<B>,
    eval: &Evaluation,
    last: &StepReport,
    progress: &Progress,
    device: &B::Device,
    device_name: &str,
    stopped: bool,
) -> Summary {
    let mut extra = serde_json::Map::new();
    extra.insert("density".into(), last.density.into());
    extra.insert("depth".into(), last.depth.into());
    extra.insert(
        "ms_per_step".into(),
        (1e3 * progress.wall_seconds / progress.step.max(1) as f64).into(),
    );
    extra.insert(
        "evaluator".into(),
        format!("{:?}", config.evaluator).to_lowercase().into(),
    );
    if config.task == Task::Toy {
        let out = input_outflow(&model.valid(), config, device);
        let others = out[1..].iter().sum::<f64>() / (out.len() - 1) as f64;
        extra.insert("input_outflow".into(), serde_json::json!(out));
        extra.insert("unused_input_ratio".into(), (out[0] / others).into());
    }
    Summary {
        model: "dnm".into(),
        device: device_name.into(),
        epochs: None,
        steps: Some(progress.step),
        wall_seconds: progress.wall_seconds,
        test_accuracy: eval.accuracy,
        test_mse: eval.mse,
        test_loss: eval.loss,
        command: manifold_train::command_line(),
        interrupted: stopped,
        extra,
    }
}

/// `D` as a heatmap: rows receivers, columns senders, blue < 0 < red.
fn d_frame<B: TrainBackend>(model: &Dnm<B>, config: &DnmConfig, device: &B::Device) -> RgbImage {
    let inner = model.valid();
    let grid = Grid::<B::InnerBackend>::of(config, device);
    let d = inner.cutoff(&grid, None).d;
    let values = d
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .expect("float D");
    let cell = if grid.cols() < 100 { 8 } else { 1 };
    heatmap(
        &values,
        grid.rows(),
        grid.cols(),
        cell,
        Scale::diverging_for(&values),
    )
}

/// At most 60 evenly spaced frames into an animated GIF.
fn write_gif_of(path: &Path, frames: &[RgbImage]) -> anyhow::Result<()> {
    if frames.is_empty() {
        return Ok(());
    }
    let stride = frames.len().div_ceil(60);
    let picked: Vec<RgbImage> = frames.iter().step_by(stride).cloned().collect();
    write_gif(path, &picked, 150)?;
    Ok(())
}

fn save_checkpoint<B: TrainBackend, O: Optimizer<Dnm<B>, B>>(
    run: &RunDir,
    model: &Dnm<B>,
    optim: &O,
    progress: &Progress,
) -> anyhow::Result<()> {
    let ckpt = run.checkpoint_dir();
    save_module(model, &ckpt.join("model"))?;
    save_record::<B, _>(optim.to_record(), &ckpt.join("optim"))?;
    run.write_json("checkpoint/progress.json", progress)?;
    Ok(())
}

/// One PNG per metric, and the density-vs-step-time scatter.
fn draw_curves(run: &RunDir) -> anyhow::Result<()> {
    let m = manifold_train::read_metrics(&run.file("metrics.csv"))?;
    let pts = |y: &str, scale: f64| -> Vec<(f64, f64)> {
        m["step"]
            .iter()
            .copied()
            .zip(m[y].iter().map(|v| v * scale))
            .filter(|(_, v)| v.is_finite())
            .collect()
    };
    let charts = [
        ("objective", "objective", 1.0, "objective.png"),
        ("flow", "flow", 1.0, "flow.png"),
        ("density", "density (%)", 100.0, "density.png"),
        ("step_ms", "step time (ms)", 1.0, "step_time.png"),
        ("depth", "comp graph depth (sweeps)", 1.0, "depth.png"),
        ("test_accuracy", "test accuracy (%)", 100.0, "accuracy.png"),
        ("test_mse", "test MSE", 1.0, "test_mse.png"),
    ];
    for (col, label, scale, file) in charts {
        let p = pts(col, scale);
        if p.is_empty() {
            continue;
        }
        line_chart(
            &run.file(file),
            &format!("DNM {label}"),
            "step",
            label,
            &[Series::new(col, p)],
        )?;
    }
    let scatter: Vec<(f64, f64)> = m["density"]
        .iter()
        .zip(&m["step_ms"])
        .map(|(d, t)| (100.0 * d, *t))
        .filter(|(d, t)| d.is_finite() && t.is_finite())
        .collect();
    scatter_chart(
        &run.file("density_vs_step_time.png"),
        "DNM density against step time",
        "density (%)",
        "step time (ms)",
        &[Series::new("steps", scatter)],
    )?;
    Ok(())
}

pub fn train(args: TrainArgs, device: DeviceKind) -> anyhow::Result<()> {
    let config = args.config()?;
    let data = load_data(&config, args.run.data_dir.as_deref())?;
    dispatch(device, TrainJob { args, config, data }).map(|_| ())
}

/// The bare `manifold` (and `cargo run --release`): the full `seed-mnist` run (50 000
/// steps, ≈ 3–4 min on 2 CPU cores with ndarray, ≈ 91% on the test set at ≈ 3%
/// density); prints where its pictures are.
pub fn default_job(device: DeviceKind) -> anyhow::Result<()> {
    let args = TrainArgs {
        preset: "seed-mnist".into(),
        ..Default::default()
    };
    let config = args.config()?;
    let data = load_data(&config, None)?;
    let (_, dir) = dispatch(device, TrainJob { args, config, data })?;
    println!(
        "pictures: {0}/closeness.gif (D evolving), {0}/closeness.png, {0}/accuracy.png, {0}/density.png, {0}/density_vs_step_time.png, frames in {0}/frames/",
        dir.display()
    );
    Ok(())
}

// ---------------------------------------------------------------- bench

#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Timed steps per case (the median is reported), after 3 untimed warm-up steps.
    #[arg(long, default_value_t = 20)]
    pub steps: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 50)]
    pub batch: usize,
    /// JSON output file.
    #[arg(long, default_value = "bench/dnm.json")]
    pub json: PathBuf,
    /// Only the backend given by --device (default: every compiled backend).
    #[arg(long)]
    pub only_device: bool,
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
struct BenchCase {
    device: String,
    size: String,
    neurons: usize,
    evaluator: String,
    batch: usize,
    depth: usize,
    density: f64,
    step_ms: Vec<f64>,
    median_step_ms: f64,
    steps_per_second: f64,
}

#[derive(Serialize)]
struct BenchReport {
    benchmark: &'static str,
    threads: usize,
    cases: Vec<BenchCase>,
    /// Median fast/reference speed-up per device at the MNIST size.
    mnist_speedup: Vec<(String, f64)>,
}

struct BenchJob<'a> {
    args: &'a BenchArgs,
    mnist: &'a Mnist,
}

impl Job for BenchJob<'_> {
    type Output = Vec<BenchCase>;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        name: &'static str,
    ) -> anyhow::Result<Vec<BenchCase>> {
        let mut cases = Vec::new();
        for (size, base) in [
            ("toy", DnmConfig::seed_toy()),
            ("mnist", DnmConfig::seed_mnist()),
        ] {
            let data = match base.task {
                Task::Toy => Data::Toy,
                Task::Mnist => Data::Mnist(self.mnist.clone()),
            };
            for evaluator in [Evaluator::Fast, Evaluator::Reference] {
                let config = base
                    .clone()
                    .with_evaluator(evaluator)
                    .with_batch_size(self.args.batch);
                B::seed(&device, 0);
                let grid = Grid::<B>::of(&config, &device);
                let mut model = Dnm::<B>::new(&config, &device);
                let mut optim = adam::<B>();
                let mut times = Vec::new();
                let mut last = StepReport::default();
                for step in 0..self.args.steps + 3 {
                    let t = Instant::now();
                    let (m, r) =
                        train_step(model, &mut optim, &config, &grid, &data, step, 0.0, &device)
                            .map_err(|(_, e)| anyhow::anyhow!("bench: {e}"))?;
                    B::sync(&device)?;
                    model = m;
                    last = r;
                    if step >= 3 {
                        times.push(t.elapsed().as_secs_f64() * 1e3);
                    }
                }
                let med = median(&times);
                eprintln!(
                    "  {name} {size} {:?}: {med:.2} ms/step (depth {})",
                    evaluator, last.depth
                );
                cases.push(BenchCase {
                    device: name.into(),
                    size: size.into(),
                    neurons: config.neurons,
                    evaluator: format!("{evaluator:?}").to_lowercase(),
                    batch: config.batch_size,
                    depth: last.depth,
                    density: last.density,
                    step_ms: times,
                    median_step_ms: med,
                    steps_per_second: 1e3 / med,
                });
            }
        }
        Ok(cases)
    }
}

/// The median of a list (NaN when empty).
fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => 0.5 * (s[n / 2 - 1] + s[n / 2]),
    }
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n").with_context(|| format!("{}: cannot write", path.display()))
}

pub fn bench(args: BenchArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(args.steps > 0, "--steps must be at least 1");
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    let mnist = Mnist::load_default(args.data_dir.as_deref())?;
    let devices = if args.only_device {
        vec![device]
    } else {
        DeviceKind::all_compiled()
    };
    let mut cases = Vec::new();
    for d in devices {
        cases.extend(dispatch(
            d,
            BenchJob {
                args: &args,
                mnist: &mnist,
            },
        )?);
    }
    let mut speedups = Vec::new();
    for d in cases
        .iter()
        .filter(|c| c.size == "mnist" && c.evaluator == "fast")
    {
        if let Some(r) = cases
            .iter()
            .find(|c| c.size == "mnist" && c.evaluator == "reference" && c.device == d.device)
        {
            speedups.push((d.device.clone(), r.median_step_ms / d.median_step_ms));
        }
    }
    let report = BenchReport {
        benchmark:
            "dnm training step (closeness, forward, backward, Adam), seed presets, median ms",
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        cases,
        mnist_speedup: speedups,
    };
    write_json(&args.json, &report)?;
    for c in &report.cases {
        println!(
            "dnm bench {} {} (N = {}) {}: {:.2} ms/step, {:.1} steps/s",
            c.device, c.size, c.neurons, c.evaluator, c.median_step_ms, c.steps_per_second
        );
    }
    println!("— {}", args.json.display());
    Ok(())
}

// ---------------------------------------------------------------- sweep

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Base preset. Its density term is set to `surrogate`, the one whose λ_sparse acts
    /// (the original's count has no gradient).
    #[arg(long, default_value = "best-mnist")]
    pub preset: String,
    /// λ_sparse values.
    #[arg(long, value_delimiter = ',', default_value = "0,0.1,1,10,100")]
    pub lambdas: Vec<f64>,
    /// Steps per run.
    #[arg(long, default_value_t = 3000)]
    pub steps: usize,
    /// Override one config field of the base (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Output directory (CSV + PNG).
    #[arg(long, default_value = "runs/dnm-sweep")]
    pub out: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Instead of training: join the rows of earlier `sweep.csv` files (comma-separated)
    /// into one CSV and one picture in `--out`.
    #[arg(long, value_delimiter = ',', value_name = "CSV")]
    pub merge: Vec<PathBuf>,
}

/// One row of a sweep: λ_sparse, true density, test accuracy (MNIST) or MSE (toy), loss.
type SweepRow = (f64, f64, Option<f64>, Option<f64>, f64);

/// The rows of an earlier `sweep.csv`.
fn read_sweep_csv(path: &Path) -> anyhow::Result<Vec<SweepRow>> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("{}: cannot read", path.display()))?;
    let num = |f: &str| -> anyhow::Result<Option<f64>> {
        Ok(if f.is_empty() { None } else { Some(f.parse()?) })
    };
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            anyhow::ensure!(
                f.len() == 5,
                "{}: `{line}` is not a sweep row",
                path.display()
            );
            let need =
                |i: usize| num(f[i])?.with_context(|| format!("{}: `{line}`", path.display()));
            Ok((need(0)?, need(1)?, num(f[2])?, num(f[3])?, need(4)?))
        })
        .collect()
}

/// Writes `sweep.csv` and `sweep.png` (one colour per λ) for `rows`.
fn write_sweep(out: &Path, rows: &[SweepRow], mnist: bool) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("{}: cannot create", out.display()))?;
    let csv_path = out.join("sweep.csv");
    let mut text = String::from("lambda_sparse,density,test_accuracy,test_mse,test_loss\n");
    let mut series = Vec::new();
    for &(l, density, acc, mse, loss) in rows {
        let score = acc.map(|a| 100.0 * a).or(mse).unwrap_or(f64::NAN);
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        text += &format!("{l},{density},{},{},{loss}\n", opt(acc), opt(mse));
        series.push(Series::new(
            format!("λ = {l}"),
            vec![(100.0 * density, score)],
        ));
        println!(
            "λ_sparse {l}: density {:.2}%, score {score:.3}",
            100.0 * density
        );
    }
    std::fs::write(&csv_path, text)
        .with_context(|| format!("{}: cannot write", csv_path.display()))?;
    let y = if mnist {
        "test accuracy (%)"
    } else {
        "test MSE"
    };
    let png = out.join("sweep.png");
    scatter_chart(
        &png,
        "DNM accuracy against density (λ_sparse sweep)",
        "density (%)",
        y,
        &series,
    )?;
    println!("— {} and {}", csv_path.display(), png.display());
    Ok(())
}

struct SweepJob {
    configs: Vec<DnmConfig>,
    data: Data,
}

impl Job for SweepJob {
    type Output = Vec<(f64, Evaluation, StepReport)>;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        _name: &'static str,
    ) -> anyhow::Result<Self::Output> {
        let bar = progress_bar(self.configs.len() as u64, "sweep");
        let mut rows = Vec::new();
        let mut failed = Vec::new();
        for c in &self.configs {
            // One diverged λ (NaN, lost every path) must not throw away the others.
            match fit::<B>(c, &self.data, &device) {
                Ok((_, eval, last)) => rows.push((c.lambda_sparse, eval, last)),
                Err(e) => {
                    bar.println(format!("λ_sparse = {}: skipped: {e}", c.lambda_sparse));
                    failed.push(c.lambda_sparse);
                }
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        anyhow::ensure!(
            !rows.is_empty(),
            "sweep: every λ_sparse failed ({failed:?})"
        );
        Ok(rows)
    }
}

pub fn sweep(args: SweepArgs, device: DeviceKind) -> anyhow::Result<()> {
    if !args.merge.is_empty() {
        let mut rows = Vec::new();
        for path in &args.merge {
            rows.extend(read_sweep_csv(path)?);
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mnist = rows.iter().any(|r| r.2.is_some());
        return write_sweep(&args.out, &rows, mnist);
    }
    anyhow::ensure!(
        !args.lambdas.is_empty(),
        "--lambdas: give at least one value"
    );
    let base = layered_config(&DnmConfig::preset(&args.preset)?, None, &args.set)?
        .with_steps(args.steps)
        .with_density_term(DensityTerm::Surrogate);
    let configs: Vec<DnmConfig> = args
        .lambdas
        .iter()
        .map(|&l| base.clone().with_lambda_sparse(l))
        .collect();
    for c in &configs {
        c.validate()?;
    }
    let data = load_data(&base, args.data_dir.as_deref())?;
    let rows = dispatch(device, SweepJob { configs, data })?;
    let rows: Vec<SweepRow> = rows
        .iter()
        .map(|(l, e, r)| (*l, r.density, e.accuracy, e.mse, e.loss))
        .collect();
    write_sweep(&args.out, &rows, base.task == Task::Mnist)
}
