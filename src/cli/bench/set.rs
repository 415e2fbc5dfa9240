//! `manifold bench set`: epochs of [`manifold_set::SetLearner`]'s steps on the sparse and the
//! masked path, over densities and hidden widths, with the measured peak memory.

use std::path::PathBuf;

use manifold_data::Mnist;
use manifold_set::{ComputePath, SetConfig, SetLearner, SetMlp};
use manifold_train::memory::{peak_rss, reset_peak_rss};
use manifold_train::{median, write_json};
use serde::Serialize;

use super::{threads, Common};
use manifold::backend::{DeviceKind, TrainBackend};
use manifold::with_backend;

/// Flags of `manifold bench set`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Densities to time (fractions).
    #[arg(long, value_delimiter = ',', default_value = "0.01,0.02,0.05,0.1,0.2")]
    densities: Vec<f64>,
    /// Hidden widths to time (784-W-W-10).
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    widths: Vec<usize>,
    /// Training images per timed epoch (a subset of MNIST).
    #[arg(long, default_value_t = 2048)]
    images: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 128)]
    batch: usize,
    /// Timed epochs per setting (the median is reported), after one warm-up.
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// JSON output file.
    #[arg(long, default_value = "bench/set.json")]
    json: PathBuf,
    #[command(flatten)]
    common: Common,
}

/// One width and density: seconds per epoch and memory of both paths.
#[derive(Serialize)]
struct Row {
    width: usize,
    density: f64,
    connections: usize,
    sparse_median_s: f64,
    masked_median_s: f64,
    sparse_seconds: Vec<f64>,
    masked_seconds: Vec<f64>,
    /// Bytes of the largest per-layer intermediate of a step: sparse, what this
    /// backend's product allocates; masked, the dense `n_in·n_out` matrix and its gradient.
    sparse_step_bytes: usize,
    masked_step_bytes: usize,
    /// Peak resident memory of the process over the path's epochs (Linux; it includes
    /// the loaded dataset).
    sparse_peak_rss_bytes: Option<u64>,
    masked_peak_rss_bytes: Option<u64>,
}

#[derive(Serialize)]
struct Report {
    benchmark: String,
    device: String,
    threads: usize,
    rows: Vec<Row>,
}

struct BenchJob {
    args: BenchArgs,
    data: Mnist,
}

/// Seconds of each of `repeats` epochs after a warm-up, and the peak memory.
fn time_epochs<B: TrainBackend>(
    config: &SetConfig,
    data: &Mnist,
    repeats: usize,
    device: &B::Device,
) -> anyhow::Result<(Vec<f64>, Option<u64>)> {
    reset_peak_rss();
    B::seed(device, 0);
    let model = SetMlp::<B>::new(config, device);
    let mut learner = SetLearner::new(model, config, data, device);
    let times = manifold_train::time_epochs(&mut learner, repeats, || {
        B::sync(device).map_err(|e| manifold_train::TrainError::config("device", format!("{e:?}")))
    })?;
    Ok((times, peak_rss()))
}

impl BenchJob {
    /// Runs the bench on backend `B`.
    fn run<B: TrainBackend>(self, device: B::Device, name: &'static str) -> anyhow::Result<Report> {
        let a = &self.args;
        let mut rows = Vec::new();
        for &w in &a.widths {
            for &d in &a.densities {
                let base = SetConfig::new()
                    .with_hidden(vec![w, w])
                    .with_density(d)
                    .with_batch_size(a.batch)
                    .with_dropout(0.0);
                let sparse = base.clone().with_path(ComputePath::Sparse);
                let (sparse_seconds, sparse_rss) =
                    time_epochs::<B>(&sparse, &self.data, a.repeats, &device)?;
                let masked = base.clone().with_path(ComputePath::Masked);
                let (masked_seconds, masked_rss) =
                    time_epochs::<B>(&masked, &self.data, a.repeats, &device)?;
                let m = SetMlp::<B>::new(&base, &device);
                let nnz_max = m.layers.iter().map(|l| l.nnz()).max().unwrap_or(0);
                let dense_max = m.layers.iter().map(|l| l.n_in * l.n_out).max().unwrap_or(0);
                eprintln!(
                    "width {w} density {:.0}%: sparse {:.3} s, masked {:.3} s per epoch",
                    100.0 * d,
                    median(&sparse_seconds),
                    median(&masked_seconds)
                );
                rows.push(Row {
                    width: w,
                    density: d,
                    connections: m.connection_counts().iter().sum(),
                    sparse_median_s: median(&sparse_seconds),
                    masked_median_s: median(&masked_seconds),
                    sparse_seconds,
                    masked_seconds,
                    sparse_step_bytes: B::sparse_scratch_bytes(nnz_max, a.batch),
                    masked_step_bytes: 4 * 2 * dense_max,
                    sparse_peak_rss_bytes: sparse_rss,
                    masked_peak_rss_bytes: masked_rss,
                });
            }
        }
        Ok(Report {
            benchmark: format!(
                "set one epoch over {} MNIST images (784-W-W-10, forward + backward + Adam), sparse vs masked path",
                self.data.train.len()
            ),
            device: name.into(),
            threads: threads(),
            rows,
        })
    }
}

/// `manifold bench set`.
pub fn bench(args: BenchArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.batch > 0 && args.repeats > 0 && args.images > 0,
        "--batch, --repeats and --images must be at least 1"
    );
    if let Some(d) = args.densities.iter().find(|d| !(**d > 0.0 && **d <= 1.0)) {
        anyhow::bail!("--densities: {d} is not in (0, 1]");
    }
    anyhow::ensure!(args.widths.iter().all(|w| *w > 0), "--widths: a width is 0");
    let mut data = args.common.mnist()?;
    data.train = data.train.take(args.images);
    let json = args.json.clone();
    let report = with_backend!(device, |B, device, name| {
        BenchJob { args, data }.run::<B>(device, name)
    })?;
    write_json(&json, &report)?;
    println!("bench set on {} — {}", report.device, json.display());
    Ok(())
}
