//! `manifold set-topology`: SET with and without a weight penalty, and how the input
//! layer's connections spread over the image.

use std::path::PathBuf;

use manifold_data::Mnist;
use manifold_set::experiment::{base_config, report, traces, write, Trace};
use manifold_set::SetConfig;

use manifold::backend::DeviceKind;
use manifold::with_backend;

/// Flags of `manifold set-topology`.
#[derive(clap::Args, Debug)]
pub struct TopologyArgs {
    /// Hidden layer widths.
    #[arg(long, value_delimiter = ',', default_value = "100")]
    layers: Vec<usize>,
    /// Erdős–Rényi ε.
    #[arg(long, default_value_t = 10.0)]
    epsilon: f64,
    /// ζ.
    #[arg(long, default_value_t = 0.3)]
    zeta: f64,
    /// The weight penalty of the penalised run (L2 coefficient).
    #[arg(long, default_value_t = 1e-2)]
    l2: f64,
    /// L1 coefficient of the penalised run.
    #[arg(long, default_value_t = 0.0)]
    l1: f64,
    /// Epochs.
    #[arg(long, default_value_t = 10)]
    epochs: usize,
    /// Training images (a subset of MNIST).
    #[arg(long, default_value_t = 10000)]
    train_limit: usize,
    /// Seeds 0..N (each run with and without the penalty).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// Epochs (1-based) whose heatmaps go into `heatmaps.png`.
    #[arg(long, value_delimiter = ',', default_value = "1,5,10")]
    snapshots: Vec<usize>,
    /// Output directory.
    #[arg(long, default_value = "runs/set-topology")]
    out: PathBuf,
    /// MNIST directory (default: $MNIST_DIR, else the shipped assets/mnist).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// `manifold set-topology`.
pub fn run(args: TopologyArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(args.seeds > 0, "--seeds must be at least 1");
    if let Some(s) = args.snapshots.iter().find(|&&s| s == 0 || s > args.epochs) {
        anyhow::bail!("--snapshots: epoch {s} is not in 1..={}", args.epochs);
    }
    let without = base_config(args.layers.clone(), args.epsilon, args.zeta, args.epochs)
        .with_train_limit(args.train_limit);
    let with = without.clone().with_l2(args.l2).with_l1(args.l1);
    without.validate()?;
    with.validate()?;
    let seeds: Vec<u64> = (0..args.seeds).collect();
    let configs: Vec<SetConfig> = seeds
        .iter()
        .flat_map(|&s| [without.clone().with_seed(s), with.clone().with_seed(s)])
        .collect();
    let data = Mnist::load_default(args.data_dir.as_deref())?;
    anyhow::ensure!(
        data.train.dim() == 784,
        "the topology experiment needs 28×28 images"
    );
    let traces: Vec<Trace> = with_backend!(device, |B, device, _name| {
        Ok(traces::<B>(&configs, &data, &device))
    })?;
    let report = report(without, with, &seeds, &traces, 28);
    let penalty = format!("l2={} l1={}", args.l2, args.l1);
    write(&args.out, &report, &traces, &args.snapshots, &penalty)?;
    println!(
        "set-topology: centre/margin ratio without penalty {:.3} {:?}, with {penalty}: {:.3} {:?} — {}",
        report.mean_ratio_without,
        report.ratio_without,
        report.mean_ratio_with,
        report.ratio_with,
        args.out.display()
    );
    Ok(())
}
