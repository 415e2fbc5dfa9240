//! `manifold bench mlp`: one epoch of [`manifold_mlp::train_epoch`].

use std::path::PathBuf;
use std::time::Instant;

use manifold_data::Mnist;
use manifold_mlp::{adam, train_epoch, Mlp, MlpConfig};
use manifold_train::{median, write_json, Position, Silent};
use serde::Serialize;

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
        let mut model = Mlp::<B>::new(&config, &device);
        let mut optim = adam::<B>(&config);
        let mut times = Vec::new();
        for epoch in 0..=self.repeats {
            let t = Instant::now();
            let at = Position::at_epoch(epoch);
            let set = &self.data.train;
            model = train_epoch(model, &mut optim, &config, set, at, &device, &mut Silent).model;
            B::sync(&device)?;
            if epoch > 0 {
                times.push(t.elapsed().as_secs_f64());
            }
        }
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
