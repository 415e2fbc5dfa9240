//! `manifold train MODEL`: flags → config → backend → the model crate's `train`, recorded
//! in a run directory.

pub mod dnm;
pub mod dreamcomp;
pub mod mlp;
pub mod rnn;
pub mod set;

use manifold::backend::DeviceKind;

use super::args::RunArgs;

/// The `train` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum TrainCmd {
    /// The dense 784-16-16-10 MLP.
    Mlp(TrainArgs<mlp::Flags>),
    /// The Dynamic Neural Manifold.
    Dnm(TrainArgs<dnm::Flags>),
    /// Sparse Evolutionary Training.
    Set(TrainArgs<set::Flags>),
    /// DreamComp competitive Hebbian learning.
    Dreamcomp(TrainArgs<dreamcomp::Flags>),
    /// Burn's LSTM or GRU on a sequence task (row-sequential MNIST, the adding problem).
    Rnn(TrainArgs<rnn::Flags>),
}

/// Runs a `train` subcommand.
pub fn run(cmd: TrainCmd, device: DeviceKind) -> anyhow::Result<()> {
    match cmd {
        TrainCmd::Mlp(a) => mlp::train(a, device),
        TrainCmd::Dnm(a) => dnm::train(a, device).map(|_| ()),
        TrainCmd::Set(a) => set::train(a, device),
        TrainCmd::Dreamcomp(a) => dreamcomp::train(a, device),
        TrainCmd::Rnn(a) => rnn::train(a, device),
    }
}

/// The flags of `manifold train MODEL`: the shared ones and the model's own.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrainArgs<F: clap::Args> {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    model: F,
}

impl<F: clap::Args + serde::Serialize> TrainArgs<F> {
    /// The run's config from `preset` and every flag (see [`RunArgs::config`]).
    fn config<C: manifold_train::ModelConfig>(&self, model: &str, preset: C) -> anyhow::Result<C> {
        self.run.config(model, preset, &self.model)
    }
}

/// `--epochs`, `--batch`, `--train-limit`, for the models that count epochs.
#[derive(clap::Args, serde::Serialize, Debug, Clone, Default)]
pub struct EpochFlags {
    /// Epochs.
    #[arg(long)]
    epochs: Option<usize>,
    /// Minibatch size.
    #[arg(long)]
    #[serde(rename = "batch_size")]
    batch: Option<usize>,
    /// Train on the first N images only.
    #[arg(long)]
    train_limit: Option<usize>,
}

/// [`EpochFlags`] and `--lr`, for the models Adam trains over epochs (MLP, SET, RNN).
#[derive(clap::Args, serde::Serialize, Debug, Clone, Default)]
pub struct AdamEpochFlags {
    #[command(flatten)]
    #[serde(flatten)]
    epochs: EpochFlags,
    /// Adam learning rate.
    #[arg(long)]
    #[serde(rename = "learning_rate")]
    lr: Option<f64>,
}
