//! `manifold bench mlp`: epochs of [`manifold_mlp::MlpLearner`]'s steps, timed by
//! [`manifold_train::time_epochs`].

use manifold_data::Mnist;
use manifold_mlp::{Mlp, MlpConfig, MlpLearner};
use manifold_train::{median, time_epochs, write_json};
use serde::Serialize;
use std::path::PathBuf;

use super::{threads, Common};
use manifold::backend::{DeviceKind, TrainBackend};
use manifold::with_backend;

/// Flags of `manifold bench mlp`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Minibatch size.
    #[arg(long, default_value_t = 32)]
    batch: usize,
    /// Timed epochs (the median is reported); one untimed warm-up epoch runs first.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// JSON output file.
    #[arg(long, default_value = "bench/mlp.json")]
    json: PathBuf,
    #[command(flatten)]
    common: Common,
}

#[derive(Serialize)]
struct Report {
    benchmark: &'static str,
    device: String,
    batch: usize,
    images_per_epoch: usize,
    epoch_seconds: Vec<f64>,
    median_epoch_seconds: f64,
    threads: usize,
}

struct BenchJob {
    batch: usize,
    repeats: usize,
    data: Mnist,
}

impl BenchJob {
    /// Runs the bench on backend `B`.
    fn run<B: TrainBackend>(self, device: B::Device, name: &'static str) -> anyhow::Result<Report> {
        let config = MlpConfig::new().with_batch_size(self.batch);
        let model = Mlp::<B>::new(&config, &device);
        let mut learner = MlpLearner::new(model, &config, &self.data, &device);
        let times = time_epochs(&mut learner, self.repeats, || {
            B::sync(&device)
                .map_err(|e| manifold_train::TrainError::config("device", format!("{e:?}")))
        })?;
        Ok(Report {
            benchmark: "mlp one epoch (60 000 images, forward + backward + Adam)",
            device: name.into(),
            batch: self.batch,
            images_per_epoch: self.data.train.len(),
            median_epoch_seconds: median(&times),
            epoch_seconds: times,
            threads: threads(),
        })
    }
}

/// `manifold bench mlp`.
pub fn bench(args: BenchArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.batch > 0 && args.repeats > 0,
        "--batch and --repeats must be at least 1"
    );
    let data = args.common.mnist()?;
    let job = BenchJob {
        batch: args.batch,
        repeats: args.repeats,
        data,
    };
    let report = with_backend!(device, |B, device, name| { job.run::<B>(device, name) })?;
    write_json(&args.json, &report)?;
    println!(
        "mlp bench on {}: median epoch {:.3} s at batch {} ({} runs) — {}",
        report.device,
        report.median_epoch_seconds,
        report.batch,
        report.epoch_seconds.len(),
        args.json.display()
    );
    Ok(())
}
