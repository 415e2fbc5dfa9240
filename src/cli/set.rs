//! `manifold train set`, `bench set` and `set-topology`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::module::AutodiffModule;
use burn::tensor::backend::AutodiffBackend;
use manifold_data::Mnist;
use manifold_set::train::end_of_epoch;
use manifold_set::{evaluate, train_epoch, ComputePath, Progress, SetConfig, SetMlp, SparseAdam};
use manifold_train::{load_module, progress_bar, save_module, RunDir, Summary};

use super::common::{layered_config, set_if, Interrupted, RunArgs};
use crate::backend::{dispatch, DeviceKind, Job};

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
    fn run<B: AutodiffBackend>(self, device: B::Device, name: &'static str) -> anyhow::Result<Summary> {
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
        &["epoch", "step", "lr", "train_loss", "test_loss", "test_accuracy", "density", "wall_seconds"],
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
        let result = train_epoch(model, &mut state, &config, &train_set, progress, device, || bar.inc(1));
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
    extra.insert("connections_per_layer".into(), serde_json::json!(model.connection_counts()));
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

fn save_checkpoint<B: AutodiffBackend>(
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
        m["epoch"].iter().copied().zip(m[y].iter().map(|v| v * scale)).collect()
    };
    line_chart(
        &run.file("loss.png"),
        "SET-MLP cross-entropy",
        "epoch",
        "loss",
        &[Series::new("train", pts("train_loss", 1.0)), Series::new("test", pts("test_loss", 1.0))],
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
    let counts = manifold_set::topology::connections_per_input(&first.connections().rows, first.n_in);
    let img = manifold_viz::heatmap(&counts, side, side, 12, manifold_viz::Scale::sequential_for(&counts));
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
    /// JSON output file.
    #[arg(long, default_value = "bench/set.json")]
    pub json: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

pub fn bench(_args: BenchArgs, _device: DeviceKind) -> anyhow::Result<()> {
    anyhow::bail!("bench set is not implemented yet")
}

// ---------------------------------------------------------------- topology

#[derive(clap::Args, Debug)]
pub struct TopologyArgs {}

pub fn topology(_args: TopologyArgs, _device: DeviceKind) -> anyhow::Result<()> {
    anyhow::bail!("set-topology is not implemented yet")
}
