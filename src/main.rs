//! The `manifold` command line.

mod cli;

use manifold::backend;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use backend::DeviceKind;
use cli::{dnm, dreamcomp, mlp, set};

#[derive(Parser, Debug)]
#[command(
    name = "manifold",
    version,
    about = "Neural networks that learn their own structure (Burn)."
)]
struct Cli {
    /// Backend: ndarray (default), wgpu or flex; each needs its Cargo feature.
    #[arg(long, global = true, value_enum)]
    device: Option<DeviceKind>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model and record the run.
    #[command(subcommand)]
    Train(TrainCmd),
    /// Time a model's training and write JSON.
    #[command(subcommand)]
    Bench(BenchCmd),
    /// Guess digits against the saved MLP.
    Interactive(mlp::InteractiveArgs),
    /// Grid search over MLP hyperparameters × seeds.
    Tune(mlp::TuneArgs),
    /// Sweep a DNM hyperparameter (accuracy–density curve).
    #[command(subcommand)]
    Sweep(SweepCmd),
    /// SET topology experiment: with and without a weight penalty.
    SetTopology(set::TopologyArgs),
}

#[derive(Subcommand, Debug)]
enum TrainCmd {
    /// The dense 784-16-16-10 MLP.
    Mlp(mlp::TrainArgs),
    /// The Dynamic Neural Manifold.
    Dnm(dnm::TrainArgs),
    /// Sparse Evolutionary Training.
    Set(set::TrainArgs),
    /// DreamComp competitive Hebbian learning.
    Dreamcomp(dreamcomp::TrainArgs),
}

#[derive(Subcommand, Debug)]
enum BenchCmd {
    Mlp(mlp::BenchArgs),
    Dnm(dnm::BenchArgs),
    Set(set::BenchArgs),
    Dreamcomp(dreamcomp::BenchArgs),
}

#[derive(Subcommand, Debug)]
enum SweepCmd {
    Dnm(dnm::SweepArgs),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let device = cli.device.unwrap_or_else(DeviceKind::default_compiled);
    match cli.command {
        None => cli::dnm::default_job(device),
        Some(Command::Train(t)) => match t {
            TrainCmd::Mlp(a) => mlp::train(a, device),
            TrainCmd::Dnm(a) => dnm::train(a, device),
            TrainCmd::Set(a) => set::train(a, device),
            TrainCmd::Dreamcomp(a) => dreamcomp::train(a, device),
        },
        Some(Command::Bench(b)) => match b {
            BenchCmd::Mlp(a) => mlp::bench(a, device),
            BenchCmd::Dnm(a) => dnm::bench(a, device),
            BenchCmd::Set(a) => set::bench(a, device),
            BenchCmd::Dreamcomp(a) => dreamcomp::bench(a, device),
        },
        Some(Command::Interactive(a)) => mlp::interactive(a, device),
        Some(Command::Tune(a)) => mlp::tune(a, device),
        Some(Command::Sweep(SweepCmd::Dnm(a))) => dnm::sweep(a, device),
        Some(Command::SetTopology(a)) => set::topology(a, device),
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<cli::common::Interrupted>().is_some() => {
            eprintln!("{e}");
            ExitCode::from(130)
        }
        Err(e) => {
            eprintln!(
                "error: {}",
                manifold_train::run::one_line(&format!("{e:#}"))
            );
            ExitCode::FAILURE
        }
    }
}
