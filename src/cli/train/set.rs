//! `manifold train set`.

use manifold_set::SetConfig;

use super::{AdamEpochFlags, TrainArgs};
use crate::cli::args::finish;
use manifold::backend::DeviceKind;
use manifold::with_backend;

/// `--path`: the compute path of the sparse layers (serialised as [`manifold_set::ComputePath`]).
#[derive(clap::ValueEnum, serde::Serialize, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathArg {
    /// Gather/scatter over the connection list (work ∝ connections).
    Sparse,
    /// Dense matmul with the masked weight matrix.
    Masked,
}

/// The preset when neither `--preset` nor a sweep file names one.
pub const PRESET: &str = "best";

/// SET's own flags.
/// Each `Option` sets the config field of its (serde) name.
#[derive(clap::Args, serde::Serialize, Debug, Clone, Default)]
pub struct Flags {
    /// Preset: best (the README's headline: 784-1000-1000-1000-10, 24 epochs, ≈ 98.1%
    /// at 4.5% density), original (Mocanu et al.'s MNIST settings) or rigl (best with
    /// RigL's regrowth by the dense gradient).
    #[arg(long, default_value = PRESET)]
    #[serde(skip)]
    preset: String,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',')]
    #[serde(rename = "hidden")]
    layers: Option<Vec<usize>>,
    /// Erdős–Rényi ε.
    #[arg(long)]
    epsilon: Option<f64>,
    /// Fixed density of every layer instead of ε.
    #[arg(long)]
    density: Option<f64>,
    /// Fraction of connections recycled after each epoch.
    #[arg(long)]
    zeta: Option<f64>,
    /// L2 penalty coefficient.
    #[arg(long)]
    l2: Option<f64>,
    /// L1 penalty coefficient.
    #[arg(long)]
    l1: Option<f64>,
    /// Compute path.
    #[arg(long, value_enum)]
    path: Option<PathArg>,
    #[command(flatten)]
    #[serde(flatten)]
    training: AdamEpochFlags,
    /// Dropout probability.
    #[arg(long)]
    dropout: Option<f64>,
}

/// `manifold train set`.
pub fn train(args: TrainArgs<Flags>, device: DeviceKind) -> anyhow::Result<()> {
    let config = args.config("set", SetConfig::preset(&args.model.preset)?)?;
    let data = args.run.mnist_for(|d| config.check_data(d))?;
    with_backend!(device, |B, device, name| {
        let mut run = args.run.open("set", &config, name)?;
        let trained = manifold_set::train::<B>(&config, &data, &device, &mut run)?;
        let density = format!(", density {:.2}%", 100.0 * trained.model.density());
        finish(run, &trained.summary, &density).map(|_| ())
    })
}
