//! `manifold bench dreamcomp`: epochs of [`manifold_dreamcomp::DreamCompLearner`]'s
//! steps over neuron counts.

use std::path::PathBuf;
use std::time::Instant;

use manifold_data::Mnist;
use manifold_dreamcomp::kernels::DreamCompBackend;
use manifold_dreamcomp::{DreamCompConfig, DreamCompLearner};
use manifold_train::{median, run_epoch, write_json, Learner, Position};
use serde::Serialize;

use super::{threads, Common};
use manifold::backend::{DeviceKind, TrainBackend};
use manifold::with_backend;

/// Flags of `manifold bench dreamcomp`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Neuron counts to time (B = 100 up to 400 neurons, 500 above, as in the presets).
    #[arg(long, value_delimiter = ',', default_values_t = vec![100, 400, 1600, 6400])]
    neurons: Vec<usize>,
    /// Timed epochs per size (the median is reported), after a 20-minibatch warm-up.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// Time only the first N training images (0 = the whole epoch of 60 000).
    #[arg(long, default_value_t = 0)]
    train_limit: usize,
    /// JSON output file.
    #[arg(long, default_value = "bench/dreamcomp.json")]
    json: PathBuf,
    #[command(flatten)]
    common: Common,
}

#[derive(Serialize)]
struct Row {
    device: String,
    neurons: usize,
    batch: usize,
    images_per_epoch: usize,
    epoch_seconds: Vec<f64>,
    median_epoch_seconds: f64,
    minibatches_per_second: f64,
}

#[derive(Serialize)]
struct Report {
    benchmark: &'static str,
    threads: usize,
    rows: Vec<Row>,
}

struct BenchJob<'a> {
    neurons: usize,
    repeats: usize,
    train_limit: usize,
    data: &'a Mnist,
}

impl BenchJob<'_> {
    /// Runs the bench on backend `B`.
    fn run<B: TrainBackend>(self, device: B::Device, name: &'static str) -> anyhow::Result<Row> {
        time_size::<B::InnerBackend>(self, &device, name)
    }
}

fn time_size<B: DreamCompBackend>(
    job: BenchJob<'_>,
    device: &B::Device,
    name: &str,
) -> anyhow::Result<Row> {
    let batch = if job.neurons <= 400 { 100 } else { 500 };
    let config = DreamCompConfig::new()
        .with_neurons(job.neurons)
        .with_batch_size(batch)
        .with_train_limit(job.train_limit)
        .with_seed(0);
    let mut learner = DreamCompLearner::<B>::new(&config, job.data, device);
    for b in 0..20.min(learner.schedule().total()) {
        let at = Position {
            batch: b,
            step: b,
            ..Position::default()
        };
        learner.step(&at).map_err(|e| anyhow::anyhow!(e.message))?;
    }
    B::sync(device)?;
    let mut times = Vec::new();
    for epoch in 0..job.repeats {
        let t = Instant::now();
        run_epoch(&mut learner, epoch)?;
        B::sync(device)?;
        times.push(t.elapsed().as_secs_f64());
    }
    let images = learner.images();
    let med = median(&times);
    eprintln!(
        "dreamcomp bench {name} K={}: median epoch {med:.3} s",
        job.neurons
    );
    Ok(Row {
        device: name.into(),
        neurons: job.neurons,
        batch,
        images_per_epoch: images,
        epoch_seconds: times,
        median_epoch_seconds: med,
        minibatches_per_second: images.div_ceil(batch) as f64 / med,
    })
}

/// `manifold bench dreamcomp`.
pub fn bench(args: BenchArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(args.repeats > 0, "--repeats must be at least 1");
    if let Some(k) = args.neurons.iter().find(|&&k| k == 0) {
        anyhow::bail!("--neurons: {k} is not a neuron count (must be at least 1)");
    }
    let data = args.common.mnist()?;
    let mut rows = Vec::new();
    for d in args.common.devices(device) {
        for &k in &args.neurons {
            let job = BenchJob {
                neurons: k,
                repeats: args.repeats,
                train_limit: args.train_limit,
                data: &data,
            };
            rows.push(with_backend!(d, |B, device, name| {
                job.run::<B>(device, name)
            })?);
        }
    }
    let report = Report {
        benchmark: "dreamcomp one training epoch (scores, winners, update)",
        threads: threads(),
        rows,
    };
    write_json(&args.json, &report)?;
    for r in &report.rows {
        println!(
            "dreamcomp bench {} K={} B={}: median epoch {:.3} s ({:.1} minibatches/s)",
            r.device, r.neurons, r.batch, r.median_epoch_seconds, r.minibatches_per_second
        );
    }
    println!("— {}", args.json.display());
    Ok(())
}
