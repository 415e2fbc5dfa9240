//! `manifold train set`.

use manifold_data::Mnist;
use manifold_set::{ComputePath, SetConfig, PRESETS};

use super::{EpochFlags, TrainJob};
use crate::cli::args::{finish, set_if, RunArgs};
use manifold::backend::{dispatch, DeviceKind, Job, TrainBackend};

/// `--path`: the compute path of the sparse layers.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathArg {
    /// Gather/scatter over the connection list (work ∝ connections).
    Sparse,
    /// Dense matmul with the masked weight matrix.
    Masked,
}

/// Flags of `manifold train set`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrainArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    epochs: EpochFlags,
    /// Preset: best (the README's headline: 784-1000-1000-1000-10, 24 epochs, ≈ 98.1%
    /// at 4.5% density) or original (Mocanu et al.'s MNIST settings).
    #[arg(long, default_value = "best")]
    preset: String,
    /// Hidden layer widths, comma-separated.
    #[arg(long, value_delimiter = ',')]
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
    /// Adam learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Dropout probability.
    #[arg(long)]
    dropout: Option<f64>,
}

impl TrainArgs {
    fn config(&self) -> anyhow::Result<SetConfig> {
        let preset = SetConfig::preset(&self.preset)
            .map_err(|e| anyhow::anyhow!("--preset: {} ({})", e.problem, PRESETS.join(", ")))?;
        let mut c = self.run.base_config(preset)?;
        set_if(&mut c.hidden, &self.layers);
        set_if(&mut c.epsilon, &self.epsilon);
        set_if(&mut c.density, &self.density);
        set_if(&mut c.zeta, &self.zeta);
        set_if(&mut c.l2, &self.l2);
        set_if(&mut c.l1, &self.l1);
        self.epochs
            .apply(&mut c.epochs, &mut c.batch_size, &mut c.train_limit);
        set_if(&mut c.learning_rate, &self.lr);
        set_if(&mut c.dropout, &self.dropout);
        set_if(&mut c.seed, &self.run.seed);
        match self.path {
            Some(PathArg::Sparse) => c.path = ComputePath::Sparse,
            Some(PathArg::Masked) => c.path = ComputePath::Masked,
            None => {}
        }
        c.validate()?;
        Ok(c)
    }
}

impl Job for TrainJob<TrainArgs, SetConfig, Mnist> {
    type Output = ();
    fn run<B: TrainBackend>(self, device: B::Device, name: &'static str) -> anyhow::Result<()> {
        let mut run = self.args.run.open("set", &self.config, name)?;
        let trained = manifold_set::train::<B>(&self.config, &self.data, &device, &mut run)?;
        let density = format!(", density {:.2}%", 100.0 * trained.model.density());
        finish(run, &trained.summary, &density).map(|_| ())
    }
}

/// `manifold train set`.
pub fn train(args: TrainArgs, device: DeviceKind) -> anyhow::Result<()> {
    let config = args.config()?;
    let data = args.run.mnist()?;
    dispatch(device, TrainJob { args, config, data })
}
