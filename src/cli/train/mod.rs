//! `manifold train MODEL`: flags → config → backend → the model crate's `train`, recorded
//! in a run directory.

pub mod dnm;
pub mod dreamcomp;
pub mod mlp;
pub mod set;

use manifold::backend::DeviceKind;

use super::args::set_if;

/// The `train` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TrainCmd {
    /// The dense 784-16-16-10 MLP.
    Mlp(mlp::TrainArgs),
    /// The Dynamic Neural Manifold.
    Dnm(dnm::TrainArgs),
    /// Sparse Evolutionary Training.
    Set(set::TrainArgs),
    /// DreamComp competitive Hebbian learning.
    Dreamcomp(dreamcomp::TrainArgs),
}

/// Runs a `train` subcommand.
pub fn run(cmd: TrainCmd, device: DeviceKind) -> anyhow::Result<()> {
    match cmd {
        TrainCmd::Mlp(a) => mlp::train(a, device),
        TrainCmd::Dnm(a) => dnm::train(a, device).map(|_| ()),
        TrainCmd::Set(a) => set::train(a, device),
        TrainCmd::Dreamcomp(a) => dreamcomp::train(a, device),
    }
}

/// One model's training, for [`manifold::backend::dispatch`]: its flags, config and data.
pub struct TrainJob<A, C, D> {
    args: A,
    config: C,
    data: D,
}

/// `--epochs`, `--batch` and `--train-limit`, for the models that count epochs.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct EpochFlags {
    /// Epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Minibatch size.
    #[arg(long)]
    batch: Option<usize>,
    /// Train on the first N images only.
    #[arg(long)]
    train_limit: Option<usize>,
}

impl EpochFlags {
    /// Sets the config fields of the flags given.
    pub fn apply(&self, epochs: &mut usize, batch_size: &mut usize, train_limit: &mut usize) {
        set_if(epochs, &self.epochs);
        set_if(batch_size, &self.batch);
        set_if(train_limit, &self.train_limit);
    }
}
