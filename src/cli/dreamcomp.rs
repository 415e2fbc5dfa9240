//! `manifold train dreamcomp` and `manifold bench dreamcomp`.
//!
//! DreamComp learns without backpropagation, so the jobs run on the backend's inner
//! (non-autodiff) backend `B::InnerBackend`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use manifold_data::{ImageSet, Mnist};
use manifold_dreamcomp::pictures::{label_bars, tapestry, tapestry_file, tapestry_gif};
use manifold_dreamcomp::{
    classes_from_labelled, evaluate, evaluate_as, train_epoch, DreamComp, DreamCompConfig,
    Progress, Trainer,
};
use manifold_sparse::SparseBackend;
use manifold_train::{load_module, progress_bar, save_module, RunDir, Summary};
use serde::Serialize;

use super::common::{layered_config, set_if, Interrupted, RunArgs};
use super::mlp::{median, write_report};
use crate::backend::{dispatch, DeviceKind, Job, TrainBackend};

#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrainArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Preset: k100, k400 (custom ξ), k400-plain, k1600, k6400.
    #[arg(long, default_value = "k400")]
    pub preset: String,
    /// Number of neurons K.
    #[arg(long)]
    pub neurons: Option<usize>,
    /// Epochs.
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Minibatch size B.
    #[arg(long)]
    pub batch: Option<usize>,
    /// Reconstruction weight R of the label synapses.
    #[arg(long)]
    pub recon: Option<f64>,
    /// Learning rate of the pixel synapses.
    #[arg(long)]
    pub xi: Option<f64>,
    /// Learning rate of the label synapses.
    #[arg(long)]
    pub c_xi: Option<f64>,
    /// Share of training images that keep their label (semi-supervised below 1).
    #[arg(long)]
    pub label_fraction: Option<f64>,
    /// Semi-supervised: factor on c_xi for samples with a true label.
    #[arg(long)]
    pub label_boost: Option<f64>,
    /// Semi-supervised: factor on c_xi for samples whose label is dreamed.
    #[arg(long)]
    pub dream_scale: Option<f64>,
    /// Train on the first N images only.
    #[arg(long)]
    pub train_limit: Option<usize>,
    /// Skip the per-epoch pictures (tapestry, label bars) and the GIF.
    #[arg(long)]
    pub no_pictures: bool,
}

impl TrainArgs {
    fn config(&self) -> anyhow::Result<DreamCompConfig> {
        let base = match &self.run.resume {
            Some(dir) => RunDir::open(dir)?.read_config::<DreamCompConfig>()?,
            None => DreamCompConfig::preset(&self.preset)?,
        };
        let mut c = layered_config(&base, self.run.config.as_deref(), &self.run.set)?;
        set_if(&mut c.neurons, &self.neurons);
        set_if(&mut c.epochs, &self.epochs);
        set_if(&mut c.batch_size, &self.batch);
        set_if(&mut c.recon, &self.recon);
        set_if(&mut c.xi, &self.xi);
        set_if(&mut c.c_xi, &self.c_xi);
        set_if(&mut c.label_fraction, &self.label_fraction);
        set_if(&mut c.label_boost, &self.label_boost);
        set_if(&mut c.dream_scale, &self.dream_scale);
        set_if(&mut c.train_limit, &self.train_limit);
        set_if(&mut c.seed, &self.run.seed);
        c.validate()?;
        Ok(c)
    }
}

/// Images of the training set scored for the per-epoch train accuracy.
const TRAIN_EVAL_LIMIT: usize = 10_000;

struct TrainJob {
    args: TrainArgs,
    config: DreamCompConfig,
    data: Mnist,
}

impl Job for TrainJob {
    type Output = Summary;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        name: &'static str,
    ) -> anyhow::Result<Summary> {
        run_training::<B::InnerBackend>(self, &device, name)
    }
}

fn run_training<B: SparseBackend>(
    job: TrainJob,
    device: &B::Device,
    device_name: &str,
) -> anyhow::Result<Summary> {
    let TrainJob { args, config, data } = job;
    let resume = args.run.resume.is_some();
    let run = match &args.run.resume {
        Some(dir) => RunDir::open(dir)?,
        None => RunDir::create(args.run.out.as_deref(), "dreamcomp")?,
    };
    run.write_config(&config)?;
    let train_set = if config.train_limit > 0 {
        data.train.take(config.train_limit)
    } else {
        data.train.clone()
    };
    B::seed(device, config.seed);
    let mut model = DreamComp::<B>::new(config.neurons, device);
    let trainer = Trainer::<B>::new(&config, train_set.len(), device);
    model = trainer.initial(model);
    let ckpt = run.checkpoint_dir();
    let mut progress = Progress::default();
    if resume {
        progress = run.read_json("checkpoint/progress.json")?;
        model = load_module(model, &ckpt.join("model"), device)?;
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
            "test_accuracy",
            "train_accuracy",
            "epoch_seconds",
            "wall_seconds",
        ],
        resume,
    )?;
    let batches = trainer.batches(train_set.len());
    manifold_train::install_interrupt_handler();
    let bar = progress_bar((config.epochs * batches) as u64, "dreamcomp");
    bar.set_position((progress.epoch * batches + progress.batch) as u64);
    let started = Instant::now() - std::time::Duration::from_secs_f64(progress.wall_seconds);
    let mut epoch_times = Vec::new();
    let mut stopped = false;
    let mut test_accuracy = None;
    while progress.epoch < config.epochs {
        let t = Instant::now();
        let result = train_epoch(model, &trainer, &train_set, progress, || bar.inc(1));
        model = result.model;
        B::sync(device)?;
        let epoch_seconds = t.elapsed().as_secs_f64();
        progress.step += result.next_batch - progress.batch;
        progress.wall_seconds = started.elapsed().as_secs_f64();
        if result.interrupted {
            progress.batch = result.next_batch;
            stopped = true;
            break;
        }
        if progress.batch == 0 {
            epoch_times.push(epoch_seconds);
        }
        let classes = neuron_classes(&model, &trainer, &train_set, device);
        let test = evaluate_as(&model, classes.clone(), &data.test, 0, device);
        let train = evaluate_as(&model, classes, &train_set, TRAIN_EVAL_LIMIT, device);
        bar.set_message(format!("test acc {:.2}%", test * 100.0));
        metrics.log(&[
            (progress.epoch + 1) as f64,
            progress.step as f64,
            test,
            train,
            epoch_seconds,
            progress.wall_seconds,
        ])?;
        test_accuracy = Some(test);
        progress.epoch += 1;
        progress.batch = 0;
        if !args.no_pictures {
            draw_epoch(&run, &model, &config, progress.epoch)?;
        }
        save_checkpoint(&run, &model, &progress)?;
    }
    bar.finish_and_clear();
    if stopped {
        save_checkpoint(&run, &model, &progress)?;
    }
    let classes = neuron_classes(&model, &trainer, &train_set, device);
    let test = test_accuracy
        .unwrap_or_else(|| evaluate_as(&model, classes.clone(), &data.test, 0, device));
    let train = evaluate_as(&model, classes, &train_set, 0, device);
    let synapse_test = evaluate(&model, &data.test, 0, device);
    save_module(&model, &run.file("model"))?;
    if !args.no_pictures && progress.epoch > 0 {
        tapestry_gif(run.path(), progress.epoch, &run.file("tapestry.gif"))?;
        draw_curves(&run)?;
    }
    let mut extra = serde_json::Map::new();
    extra.insert("neurons".into(), config.neurons.into());
    extra.insert("train_accuracy".into(), train.into());
    extra.insert("label_fraction".into(), config.label_fraction.into());
    extra.insert("test_accuracy_synapse_classes".into(), synapse_test.into());
    extra.insert("labelled_images".into(), trainer.labelled_count().into());
    if !epoch_times.is_empty() {
        extra.insert("median_epoch_seconds".into(), median(&epoch_times).into());
    }
    let summary = Summary {
        model: "dreamcomp".into(),
        device: device_name.into(),
        epochs: Some(progress.epoch),
        steps: Some(progress.step),
        wall_seconds: progress.wall_seconds,
        test_accuracy: Some(test),
        test_mse: None,
        test_loss: 1.0 - test,
        command: manifold_train::command_line(),
        interrupted: stopped,
        extra,
    };
    run.write_summary(&summary)?;
    if stopped {
        return Err(Interrupted(run.path().display().to_string()).into());
    }
    println!(
        "dreamcomp K={} on {device_name}: test accuracy {:.2}%, train accuracy {:.2}%, {} epochs in {:.1} s — run directory {}",
        config.neurons,
        test * 100.0,
        train * 100.0,
        progress.epoch,
        progress.wall_seconds,
        run.path().display()
    );
    Ok(summary)
}

fn save_checkpoint<B: Backend>(
    run: &RunDir,
    model: &DreamComp<B>,
    progress: &Progress,
) -> anyhow::Result<()> {
    save_module(model, &run.checkpoint_dir().join("model"))?;
    run.write_json("checkpoint/progress.json", progress)?;
    Ok(())
}

/// `tapestry-epochNNN.png` and `labels-epochNNN.png` after epoch `epoch`.
fn draw_epoch<B: Backend>(
    run: &RunDir,
    model: &DreamComp<B>,
    config: &DreamCompConfig,
    epoch: usize,
) -> anyhow::Result<()> {
    let cols = config.grid_cols();
    manifold_viz::save_png(&tapestry(model, cols), &run.file(&tapestry_file(epoch)))?;
    manifold_viz::save_png(
        &label_bars(model, cols),
        &run.file(&format!("labels-epoch{epoch:03}.png")),
    )?;
    Ok(())
}

/// `accuracy.png` from `metrics.csv`.
fn draw_curves(run: &RunDir) -> anyhow::Result<()> {
    use manifold_viz::{line_chart, Series};
    let m = manifold_train::read_metrics(&run.file("metrics.csv"))?;
    let pts = |y: &str| -> Vec<(f64, f64)> {
        m["epoch"]
            .iter()
            .zip(&m[y])
            .map(|(&x, &y)| (x, 100.0 * y))
            .collect()
    };
    line_chart(
        &run.file("accuracy.png"),
        "DreamComp accuracy",
        "epoch",
        "accuracy (%)",
        &[
            Series::new("test", pts("test_accuracy")),
            Series::new("train (first 10 000)", pts("train_accuracy")),
        ],
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
    /// Neuron counts to time (B = 100 up to 400 neurons, 500 above, as in the presets).
    #[arg(long, value_delimiter = ',', default_values_t = vec![100, 400, 1600, 6400])]
    pub neurons: Vec<usize>,
    /// Timed epochs per size (the median is reported), after a 20-minibatch warm-up.
    #[arg(long, default_value_t = 3)]
    pub repeats: usize,
    /// Time only the first N training images (0 = the whole epoch of 60 000).
    #[arg(long, default_value_t = 0)]
    pub train_limit: usize,
    /// Time only the backend given by --device (default: every compiled backend).
    #[arg(long)]
    pub only_device: bool,
    /// JSON output file.
    #[arg(long, default_value = "bench/dreamcomp.json")]
    pub json: PathBuf,
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

#[derive(Serialize)]
struct BenchRow {
    device: String,
    neurons: usize,
    batch: usize,
    images_per_epoch: usize,
    epoch_seconds: Vec<f64>,
    median_epoch_seconds: f64,
    minibatches_per_second: f64,
}

#[derive(Serialize)]
struct BenchReport {
    benchmark: &'static str,
    threads: usize,
    rows: Vec<BenchRow>,
}

struct BenchJob<'a> {
    neurons: usize,
    repeats: usize,
    set: &'a manifold_data::ImageSet,
}

impl Job for BenchJob<'_> {
    type Output = BenchRow;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        name: &'static str,
    ) -> anyhow::Result<BenchRow> {
        bench_size::<B::InnerBackend>(self, &device, name)
    }
}

fn bench_size<B: SparseBackend>(
    job: BenchJob<'_>,
    device: &B::Device,
    name: &str,
) -> anyhow::Result<BenchRow> {
    let batch = if job.neurons <= 400 { 100 } else { 500 };
    let config = DreamCompConfig::new()
        .with_neurons(job.neurons)
        .with_batch_size(batch);
    B::seed(device, 0);
    let trainer = Trainer::<B>::new(&config, job.set.len(), device);
    let mut w = DreamComp::<B>::new(job.neurons, device).w();
    let order = trainer.epoch_order(job.set.len(), 0);
    for idx in order.chunks(batch).take(20) {
        w = trainer.step(w, job.set, idx, 0);
    }
    B::sync(device)?;
    let mut model = DreamComp::from_weights(w);
    let mut times = Vec::new();
    for epoch in 0..job.repeats {
        let t = Instant::now();
        let progress = Progress {
            epoch,
            ..Default::default()
        };
        model = train_epoch(model, &trainer, job.set, progress, || {}).model;
        B::sync(device)?;
        times.push(t.elapsed().as_secs_f64());
    }
    let med = median(&times);
    eprintln!(
        "dreamcomp bench {name} K={}: median epoch {med:.3} s",
        job.neurons
    );
    Ok(BenchRow {
        device: name.into(),
        neurons: job.neurons,
        batch,
        images_per_epoch: job.set.len(),
        epoch_seconds: times,
        median_epoch_seconds: med,
        minibatches_per_second: job.set.len().div_ceil(batch) as f64 / med,
    })
}

pub fn bench(args: BenchArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(args.repeats > 0, "--repeats must be at least 1");
    if let Some(k) = args.neurons.iter().find(|&&k| k == 0) {
        anyhow::bail!("--neurons: {k} is not a neuron count (must be at least 1)");
    }
    let data = load_data(args.data_dir.as_deref())?;
    let set = if args.train_limit > 0 {
        data.train.take(args.train_limit)
    } else {
        data.train
    };
    let devices = if args.only_device {
        vec![device]
    } else {
        DeviceKind::all_compiled()
    };
    let mut rows = Vec::new();
    for &d in &devices {
        for &k in &args.neurons {
            let job = BenchJob {
                neurons: k,
                repeats: args.repeats,
                set: &set,
            };
            rows.push(dispatch(d, job)?);
        }
    }
    let report = BenchReport {
        benchmark: "dreamcomp one training epoch (scores matmul + winner gather/scatter update)",
        threads: std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        rows,
    };
    write_report(&args.json, &report)?;
    for r in &report.rows {
        println!(
            "dreamcomp bench {} K={} B={}: median epoch {:.3} s ({:.1} minibatches/s)",
            r.device, r.neurons, r.batch, r.median_epoch_seconds, r.minibatches_per_second
        );
    }
    println!("— {}", args.json.display());
    Ok(())
}

/// The neuron classes evaluation uses: `None` for the label synapses' own, else the
/// votes of the labelled training images (`classes_from = labelled`).
fn neuron_classes<B: Backend>(
    model: &DreamComp<B>,
    trainer: &Trainer<B>,
    train: &ImageSet,
    device: &B::Device,
) -> Option<Tensor<B, 1, Int>> {
    let c = &trainer.config;
    c.classes_from
        .uses_labelled(c.label_fraction)
        .then(|| classes_from_labelled(model, train, &trainer.labelled_indices(), device))
}
