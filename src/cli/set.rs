//! `manifold train set`, `bench set` and `set-topology`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::AutodiffModule;

use manifold_data::Mnist;
use manifold_set::train::end_of_epoch;
use manifold_set::{evaluate, train_epoch, ComputePath, Progress, SetConfig, SetMlp, SparseAdam};
use manifold_train::{load_module, progress_bar, save_module, RunDir, Summary};

use super::common::{layered_config, set_if, Interrupted, RunArgs};
use crate::backend::{dispatch, DeviceKind, Job, TrainBackend};

/// `--path`: the compute path of the sparse layers.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathArg {
    /// Gather/scatter over the connection list (work ∝ connections).
    Sparse,
    /// Dense matmul with the masked weight matrix.
    Masked,
}

impl From<PathArg> for ComputePath {
    fn from(p: PathArg) -> Self {
        match p {
            PathArg::Sparse => ComputePath::Sparse,
            PathArg::Masked => ComputePath::Masked,
        }
    }
}

#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub layers: Option<Vec<usize>>,
    /// Erdős–Rényi ε.
    #[arg(long)]
    pub epsilon: Option<f64>,
    /// Fixed density of every layer instead of ε.
    #[arg(long)]
    pub density: Option<f64>,
    /// Fraction of connections recycled after each epoch.
    #[arg(long)]
    pub zeta: Option<f64>,
    /// L2 penalty coefficient.
    #[arg(long)]
    pub l2: Option<f64>,
    /// L1 penalty coefficient.
    #[arg(long)]
    pub l1: Option<f64>,
    /// Compute path.
    #[arg(long, value_enum)]
    pub path: Option<PathArg>,
    /// Epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Minibatch size.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Adam learning rate.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Dropout probability.
    #[arg(long)]
    pub dropout: Option<f64>,
    /// Train on the first N images only.
    #[arg(long)]
    pub train_limit: Option<usize>,
}

impl TrainArgs {
    fn config(&self) -> anyhow::Result<SetConfig> {
        let base = match &self.run.resume {
            Some(dir) => RunDir::open(dir)?.read_config::<SetConfig>()?,
            None => SetConfig::new(),
        };
        let mut c = layered_config(&base, self.run.config.as_deref(), &self.run.set)?;
        set_if(&mut c.hidden, &self.layers);
        set_if(&mut c.epsilon, &self.epsilon);
        set_if(&mut c.density, &self.density);
        set_if(&mut c.zeta, &self.zeta);
        set_if(&mut c.l2, &self.l2);
        set_if(&mut c.l1, &self.l1);
        set_if(&mut c.epochs, &self.epochs);
        set_if(&mut c.batch_size, &self.batch);
        set_if(&mut c.learning_rate, &self.lr);
        set_if(&mut c.dropout, &self.dropout);
        set_if(&mut c.train_limit, &self.train_limit);
        set_if(&mut c.seed, &self.run.seed);
        if let Some(p) = self.path {
            c.path = p.into();
        }
        c.validate()?;
        Ok(c)
    }
}

struct TrainJob {
    args: TrainArgs,
    config: SetConfig,
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

fn run_training<B: TrainBackend>(
    job: TrainJob,
    device: &B::Device,
    device_name: &str,
) -> anyhow::Result<Summary> {
    let TrainJob { args, config, data } = job;
    let resume = args.run.resume.is_some();
    let run = match &args.run.resume {
        Some(dir) => RunDir::open(dir)?,
        None => RunDir::create(args.run.out.as_deref(), "set")?,
    };
    run.write_config(&config)?;
    let train_set = if config.train_limit > 0 {
        data.train.take(config.train_limit)
    } else {
        data.train.clone()
    };
    B::seed(device, config.seed);
    let mut model = SetMlp::<B>::new(&config, device);
    let mut state = SparseAdam::<B::InnerBackend>::new(&model, device);
    let ckpt = run.checkpoint_dir();
    let mut progress = Progress::default();
    if resume {
        progress = run.read_json("checkpoint/progress.json")?;
        model = load_module(model, &ckpt.join("model"), device)?;
        state = load_module(state, &ckpt.join("optim"), device)?;
        eprintln!(
            "resuming {} at epoch {}, batch {}",
            run.path().display(),
            progress.epoch + 1,
            progress.batch
        );
    }
    let mut metrics = run.metrics(
        &[
            "epoch",
            "step",
            "lr",
            "train_loss",
            "test_loss",
            "test_accuracy",
            "density",
            "wall_seconds",
        ],
        resume,
    )?;
    let batches = train_set.len().div_ceil(config.batch_size);
    manifold_train::install_interrupt_handler();
    let bar = progress_bar((config.epochs * batches) as u64, "set");
    bar.set_position((progress.epoch * batches + progress.batch) as u64);
    let started = Instant::now() - std::time::Duration::from_secs_f64(progress.wall_seconds);
    let mut last_eval = None;
    let mut stopped = false;
    while progress.epoch < config.epochs {
        let result = train_epoch(
            model,
            &mut state,
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
        // Evaluate before evolving: the regrown connections have not been trained yet.
        let eval = evaluate(&model.valid(), &data.test, config.path, device);
        bar.set_message(format!("test acc {:.2}%", eval.accuracy * 100.0));
        metrics.log(&[
            (progress.epoch + 1) as f64,
            progress.step as f64,
            config.lr_at(progress.epoch),
            result.mean_loss,
            eval.loss,
            eval.accuracy,
            model.density(),
            progress.wall_seconds,
        ])?;
        last_eval = Some(eval);
        model = end_of_epoch(model, &mut state, &config, progress.epoch);
        progress.epoch += 1;
        progress.batch = 0;
        save_checkpoint(&run, &model, &state, &progress)?;
    }
    bar.finish_and_clear();
    if stopped {
        save_checkpoint(&run, &model, &state, &progress)?;
    }
    let eval = match last_eval {
        Some(e) => e,
        None => evaluate(&model.valid(), &data.test, config.path, device),
    };
    save_module(&model, &run.file("model"))?;
    draw_curves(&run)?;
    draw_input_connections(&run.file("input_connections.png"), &model)?;
    let connections: usize = model.connection_counts().iter().sum();
    let mut extra = serde_json::Map::new();
    extra.insert("connections".into(), connections.into());
    extra.insert("density".into(), model.density().into());
    extra.insert(
        "connections_per_layer".into(),
        serde_json::json!(model.connection_counts()),
    );
    extra.insert("path".into(), format!("{:?}", config.path).into());
    let summary = Summary {
        model: "set".into(),
        device: device_name.into(),
        epochs: Some(progress.epoch),
        steps: Some(progress.step),
        wall_seconds: progress.wall_seconds,
        test_accuracy: Some(eval.accuracy),
        test_mse: None,
        test_loss: eval.loss,
        command: manifold_train::command_line(),
        interrupted: stopped,
        extra,
    };
    run.write_summary(&summary)?;
    if stopped {
        return Err(Interrupted(run.path().display().to_string()).into());
    }
    println!(
        "set on {device_name}: test accuracy {:.2}%, {} connections (density {:.2}%), {} epochs in {:.1} s — run directory {}",
        eval.accuracy * 100.0,
        connections,
        model.density() * 100.0,
        progress.epoch,
        progress.wall_seconds,
        run.path().display()
    );
    Ok(summary)
}

fn save_checkpoint<B: TrainBackend>(
    run: &RunDir,
    model: &SetMlp<B>,
    state: &SparseAdam<B::InnerBackend>,
    progress: &Progress,
) -> anyhow::Result<()> {
    let ckpt = run.checkpoint_dir();
    save_module(model, &ckpt.join("model"))?;
    save_module(state, &ckpt.join("optim"))?;
    run.write_json("checkpoint/progress.json", progress)?;
    Ok(())
}

/// `loss.png` and `accuracy.png` from `metrics.csv`.
fn draw_curves(run: &RunDir) -> anyhow::Result<()> {
    use manifold_viz::{line_chart, Series};
    let m = manifold_train::read_metrics(&run.file("metrics.csv"))?;
    let pts = |y: &str, scale: f64| -> Vec<(f64, f64)> {
        m["epoch"]
            .iter()
            .copied()
            .zip(m[y].iter().map(|v| v * scale))
            .collect()
    };
    line_chart(
        &run.file("loss.png"),
        "SET-MLP cross-entropy",
        "epoch",
        "loss",
        &[
            Series::new("train", pts("train_loss", 1.0)),
            Series::new("test", pts("test_loss", 1.0)),
        ],
    )?;
    line_chart(
        &run.file("accuracy.png"),
        "SET-MLP test accuracy",
        "epoch",
        "accuracy (%)",
        &[Series::new("test", pts("test_accuracy", 100.0))],
    )?;
    Ok(())
}

/// Heatmap of the first layer's connections per input pixel (square inputs only).
fn draw_input_connections<B: burn::tensor::backend::Backend>(
    path: &Path,
    model: &SetMlp<B>,
) -> anyhow::Result<()> {
    let first = &model.layers[0];
    let side = (first.n_in as f64).sqrt().round() as usize;
    if side * side != first.n_in {
        return Ok(());
    }
    let counts =
        manifold_set::topology::connections_per_input(&first.connections().rows, first.n_in);
    let img = manifold_viz::heatmap(
        &counts,
        side,
        side,
        12,
        manifold_viz::Scale::sequential_for(&counts),
    );
    manifold_viz::save_png(&img, path)?;
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
    /// Densities to time (fractions).
    #[arg(long, value_delimiter = ',', default_value = "0.01,0.02,0.05,0.1,0.2")]
    pub densities: Vec<f64>,
    /// Hidden widths to time (one hidden layer of each, 784-W-W-10).
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    pub widths: Vec<usize>,
    /// Training images per timed epoch (a subset of MNIST).
    #[arg(long, default_value_t = 2048)]
    pub images: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 128)]
    pub batch: usize,
    /// Timed epochs per setting (the median is reported), after one warm-up.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// JSON output file.
    #[arg(long, default_value = "bench/set.json")]
    pub json: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(serde::Serialize)]
struct BenchRow {
    width: usize,
    density: f64,
    connections: usize,
    sparse_median_s: f64,
    masked_median_s: f64,
    sparse_seconds: Vec<f64>,
    masked_seconds: Vec<f64>,
    /// Bytes of the largest per-layer intermediate of a step: sparse, what this
    /// backend's product allocates (CPU kernels: `O(nnz)` grouped indices; gather/scatter:
    /// the `nnz·batch` products), masked `n_in·n_out` floats (the dense matrix) plus its
    /// `n_in·n_out` gradient.
    sparse_step_bytes: usize,
    masked_step_bytes: usize,
    /// Measured peak resident memory of the process over the path's epochs, after
    /// resetting the high-water mark (Linux only; it includes the loaded dataset).
    sparse_peak_rss_bytes: Option<u64>,
    masked_peak_rss_bytes: Option<u64>,
}

#[derive(serde::Serialize)]
struct BenchReport {
    benchmark: String,
    device: String,
    threads: usize,
    rows: Vec<BenchRow>,
    /// Lowest density at which the sparse path was slower than the masked one (per width).
    crossover_density: Vec<(usize, Option<f64>)>,
}

struct BenchJob {
    args: BenchArgs,
    data: Mnist,
}

/// Resets the process's peak resident memory (Linux: `5` into `/proc/self/clear_refs`).
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak resident memory since the last reset (`VmHWM`), where the OS says.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

fn time_epochs<B: TrainBackend>(
    config: &SetConfig,
    set: &manifold_data::ImageSet,
    repeats: usize,
    device: &B::Device,
) -> anyhow::Result<Vec<f64>> {
    B::seed(device, 0);
    let mut model = SetMlp::<B>::new(config, device);
    let mut state = SparseAdam::<B::InnerBackend>::new(&model, device);
    let mut times = Vec::new();
    for epoch in 0..=repeats {
        let t = Instant::now();
        let progress = Progress {
            epoch,
            ..Default::default()
        };
        model = train_epoch(model, &mut state, config, set, progress, device, || {}).model;
        B::sync(device)?;
        if epoch > 0 {
            times.push(t.elapsed().as_secs_f64());
        }
    }
    Ok(times)
}

impl Job for BenchJob {
    type Output = BenchReport;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        name: &'static str,
    ) -> anyhow::Result<BenchReport> {
        let set = self.data.train.take(self.args.images);
        let mut rows = Vec::new();
        let bar = progress_bar(
            (self.args.widths.len() * self.args.densities.len()) as u64,
            "bench set",
        );
        for &w in &self.args.widths {
            for &d in &self.args.densities {
                let base = SetConfig::new()
                    .with_hidden(vec![w, w])
                    .with_density(d)
                    .with_batch_size(self.args.batch)
                    .with_dropout(0.0);
                reset_peak_rss();
                let sparse = time_epochs::<B>(
                    &base.clone().with_path(ComputePath::Sparse),
                    &set,
                    self.args.repeats,
                    &device,
                )?;
                let sparse_rss = peak_rss();
                reset_peak_rss();
                let masked = time_epochs::<B>(
                    &base.clone().with_path(ComputePath::Masked),
                    &set,
                    self.args.repeats,
                    &device,
                )?;
                let masked_rss = peak_rss();
                let m = SetMlp::<B>::new(&base, &device);
                let nnz_max = m.layers.iter().map(|l| l.nnz()).max().unwrap_or(0);
                let dense_max = m.layers.iter().map(|l| l.n_in * l.n_out).max().unwrap_or(0);
                rows.push(BenchRow {
                    width: w,
                    density: d,
                    connections: m.connection_counts().iter().sum(),
                    sparse_median_s: super::mlp::median(&sparse),
                    masked_median_s: super::mlp::median(&masked),
                    sparse_seconds: sparse,
                    masked_seconds: masked,
                    sparse_step_bytes: B::sparse_scratch_bytes(nnz_max, self.args.batch),
                    masked_step_bytes: 4 * 2 * dense_max,
                    sparse_peak_rss_bytes: sparse_rss,
                    masked_peak_rss_bytes: masked_rss,
                });
                bar.inc(1);
            }
        }
        bar.finish_and_clear();
        let crossover_density = self
            .args
            .widths
            .iter()
            .map(|&w| {
                let first = rows
                    .iter()
                    .filter(|r| r.width == w && r.sparse_median_s > r.masked_median_s)
                    .map(|r| r.density)
                    .fold(None, |a: Option<f64>, d| Some(a.map_or(d, |a| a.min(d))));
                (w, first)
            })
            .collect();
        Ok(BenchReport {
            benchmark: format!(
                "set one epoch over {} MNIST images (784-W-W-10, forward + backward + Adam), sparse vs masked path",
                set.len()
            ),
            device: name.into(),
            threads: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
            rows,
            crossover_density,
        })
    }
}

pub fn bench(args: BenchArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.batch > 0 && args.repeats > 0 && args.images > 0,
        "--batch, --repeats and --images must be at least 1"
    );
    if let Some(d) = args.densities.iter().find(|d| !(**d > 0.0 && **d <= 1.0)) {
        anyhow::bail!("--densities: {d} is not in (0, 1]");
    }
    anyhow::ensure!(args.widths.iter().all(|w| *w > 0), "--widths: a width is 0");
    let data = load_data(args.data_dir.as_deref())?;
    let json = args.json.clone();
    let report = dispatch(device, BenchJob { args, data })?;
    super::mlp::write_report(&json, &report)?;
    for r in &report.rows {
        let mb = |b: Option<u64>| b.map_or("?".into(), |b| format!("{:.0} MB", b as f64 / 1e6));
        println!(
            "width {} density {:.0}%: sparse {:.3} s, masked {:.3} s per epoch; peak memory sparse {}, masked {}",
            r.width,
            r.density * 100.0,
            r.sparse_median_s,
            r.masked_median_s,
            mb(r.sparse_peak_rss_bytes),
            mb(r.masked_peak_rss_bytes),
        );
    }
    println!("bench set on {} — {}", report.device, json.display());
    Ok(())
}

// ---------------------------------------------------------------- topology

#[derive(clap::Args, Debug)]
pub struct TopologyArgs {
    /// Hidden layer widths.
    #[arg(long, value_delimiter = ',', default_value = "100")]
    pub layers: Vec<usize>,
    /// Erdős–Rényi ε.
    #[arg(long, default_value_t = 10.0)]
    pub epsilon: f64,
    /// ζ.
    #[arg(long, default_value_t = 0.3)]
    pub zeta: f64,
    /// The weight penalty of the penalised run (L2 coefficient).
    #[arg(long, default_value_t = 1e-2)]
    pub l2: f64,
    /// L1 coefficient of the penalised run.
    #[arg(long, default_value_t = 0.0)]
    pub l1: f64,
    /// Epochs.
    #[arg(long, default_value_t = 10)]
    pub epochs: usize,
    /// Training images (a subset of MNIST).
    #[arg(long, default_value_t = 10000)]
    pub train_limit: usize,
    /// Seeds 0..N (each run with and without the penalty).
    #[arg(long, default_value_t = 3)]
    pub seeds: u64,
    /// Epochs (1-based) whose heatmaps go into `heatmaps.png`.
    #[arg(long, value_delimiter = ',', default_value = "1,5,10")]
    pub snapshots: Vec<usize>,
    /// Output directory.
    #[arg(long, default_value = "runs/set-topology")]
    pub out: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(serde::Serialize)]
struct TopologyReport {
    config_without: SetConfig,
    config_with: SetConfig,
    seeds: Vec<u64>,
    ratio_without: Vec<f64>,
    ratio_with: Vec<f64>,
    mean_ratio_without: f64,
    mean_ratio_with: f64,
    test_accuracy_without: Vec<f64>,
    test_accuracy_with: Vec<f64>,
    trend_without: Vec<(f64, f64)>,
    trend_with: Vec<(f64, f64)>,
}

struct TopologyJob {
    configs: Vec<SetConfig>,
    data: Mnist,
}

/// Per run: the input-connection counts after every epoch and the final test accuracy.
type RunTrace = (Vec<Vec<f32>>, f64);

impl Job for TopologyJob {
    type Output = Vec<RunTrace>;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        _name: &'static str,
    ) -> anyhow::Result<Vec<RunTrace>> {
        let bar = progress_bar(
            self.configs.iter().map(|c| c.epochs as u64).sum(),
            "set-topology",
        );
        let mut out = Vec::new();
        for c in &self.configs {
            let mut counts = Vec::new();
            let model = manifold_set::fit::<B>(c, &self.data.train, &device, |_, m| {
                let first = &m.layers[0];
                counts.push(manifold_set::topology::connections_per_input(
                    &first.connections().rows,
                    first.n_in,
                ));
                bar.inc(1);
            });
            let eval = evaluate(&model.valid(), &self.data.test, c.path, &device);
            out.push((counts, eval.accuracy));
        }
        bar.finish_and_clear();
        Ok(out)
    }
}

pub fn topology(args: TopologyArgs, device: DeviceKind) -> anyhow::Result<()> {
    use manifold_set::stats::{centre_margin_ratio, square_trend};
    anyhow::ensure!(args.seeds > 0, "--seeds must be at least 1");
    if let Some(s) = args.snapshots.iter().find(|&&s| s == 0 || s > args.epochs) {
        anyhow::bail!("--snapshots: epoch {s} is not in 1..={}", args.epochs);
    }
    let base = SetConfig::new()
        .with_hidden(args.layers.clone())
        .with_epsilon(args.epsilon)
        .with_zeta(args.zeta)
        .with_epochs(args.epochs)
        .with_train_limit(args.train_limit)
        .with_lr_step(0)
        .with_dropout(0.0)
        .with_path(ComputePath::Masked);
    let without = base.clone();
    let with = base.clone().with_l2(args.l2).with_l1(args.l1);
    without.validate()?;
    with.validate()?;
    anyhow::ensure!(
        without.inputs == 784,
        "the topology experiment needs 28×28 inputs"
    );
    let seeds: Vec<u64> = (0..args.seeds).collect();
    let configs: Vec<SetConfig> = seeds
        .iter()
        .flat_map(|&s| [without.clone().with_seed(s), with.clone().with_seed(s)])
        .collect();
    let data = load_data(args.data_dir.as_deref())?;
    let traces = dispatch(device, TopologyJob { configs, data })?;
    std::fs::create_dir_all(&args.out)
        .map_err(|e| anyhow::anyhow!("{}: cannot create ({e})", args.out.display()))?;
    let last = |i: usize| traces[i].0.last().expect("at least one epoch").clone();
    let ratios = |off: usize| -> Vec<f64> {
        (0..seeds.len())
            .map(|s| centre_margin_ratio(&last(2 * s + off), 28))
            .collect()
    };
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let mean_counts = |off: usize| -> Vec<f32> {
        let mut m = vec![0.0f32; 784];
        for s in 0..seeds.len() {
            for (a, b) in m.iter_mut().zip(last(2 * s + off)) {
                *a += b / seeds.len() as f32;
            }
        }
        m
    };
    let (ratio_without, ratio_with) = (ratios(0), ratios(1));
    let report = TopologyReport {
        config_without: without,
        config_with: with,
        seeds: seeds.clone(),
        mean_ratio_without: mean(&ratio_without),
        mean_ratio_with: mean(&ratio_with),
        ratio_without,
        ratio_with,
        test_accuracy_without: (0..seeds.len()).map(|s| traces[2 * s].1).collect(),
        test_accuracy_with: (0..seeds.len()).map(|s| traces[2 * s + 1].1).collect(),
        trend_without: square_trend(&mean_counts(0), 28),
        trend_with: square_trend(&mean_counts(1), 28),
    };
    draw_topology(&args, &traces, &report)?;
    super::mlp::write_report(&args.out.join("topology.json"), &report)?;
    println!(
        "set-topology: centre/margin ratio without penalty {:.3} {:?}, with l2={} l1={}: {:.3} {:?} — {}",
        report.mean_ratio_without,
        report.ratio_without,
        args.l2,
        args.l1,
        report.mean_ratio_with,
        report.ratio_with,
        args.out.display()
    );
    Ok(())
}

/// `heatmaps.png` (rows: snapshot epochs; left: no penalty, right: penalty; seed 0),
/// `evolution.gif` (every epoch, side by side) and `trend.png` (square means, seed mean).
fn draw_topology(
    args: &TopologyArgs,
    traces: &[RunTrace],
    report: &TopologyReport,
) -> anyhow::Result<()> {
    use manifold_viz::{line_chart, save_png, tile_grid, write_gif, Scale, Series};
    let (a, b) = (&traces[0].0, &traces[1].0);
    let all: Vec<f32> = a.iter().chain(b).flatten().copied().collect();
    let scale = || Scale::sequential_for(&all);
    let mut tiles = Vec::new();
    for &e in &args.snapshots {
        tiles.extend_from_slice(&a[e - 1]);
        tiles.extend_from_slice(&b[e - 1]);
    }
    let img = tile_grid(&tiles, 2 * args.snapshots.len(), 28, 28, 2, 8, scale());
    save_png(&img, &args.out.join("heatmaps.png"))?;
    let frames: Vec<_> = a
        .iter()
        .zip(b)
        .map(|(x, y)| {
            tile_grid(
                &[x.as_slice(), y.as_slice()].concat(),
                2,
                28,
                28,
                2,
                8,
                scale(),
            )
        })
        .collect();
    write_gif(&args.out.join("evolution.gif"), &frames, 400)?;
    line_chart(
        &args.out.join("trend.png"),
        "mean connections per pixel in centred squares",
        "square side",
        "connections",
        &[
            Series::new("no penalty", report.trend_without.clone()),
            Series::new(
                format!("l2={} l1={}", args.l2, args.l1),
                report.trend_with.clone(),
            ),
        ],
    )?;
    Ok(())
}
