//! `manifold train MODEL`: flags → config → backend → the model crate's `train`, recorded
//! in a run directory.

pub mod dnm;
pub mod dreamcomp;
pub mod mlp;
pub mod set;

use manifold::backend::DeviceKind;

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
