//! The `manifold` command line: parses flags, picks the backend, calls the library.

mod cli;

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use manifold::backend::DeviceKind;

use cli::{args::Interrupted, bench, interactive, report, sweep, topology, train};

#[derive(Parser, Debug)]
#[command(
    name = "manifold",
    version,
    about = "Neural networks that learn their own structure (Burn). Without a command: the DNM seed-mnist run."
)]
struct Cli {
    /// Backend: ndarray (default), wgpu or flex; each needs its Cargo feature.
    #[arg(long, global = true, value_enum)]
    device: Option<DeviceKind>,
    #[command(subcommand)]
    command: Option<Command>,
}

// Parsed once per process: the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Train a model and record the run.
    #[command(subcommand)]
    Train(train::TrainCmd),
    /// Time a model's training and write JSON.
    #[command(subcommand)]
    Bench(bench::BenchCmd),
    /// Guess digits against the saved MLP.
    Interactive(interactive::InteractiveArgs),
    /// Sweeps: a file's points run here or on Slurm, and collected.
    #[command(subcommand)]
    Sweep(sweep::SweepCmd),
    /// SET topology experiment: with and without a weight penalty.
    SetTopology(topology::TopologyArgs),
    /// Write a run's report.html, or compare runs on one page (--compare).
    Report(report::ReportArgs),
}

fn run(cli: Cli) -> anyhow::Result<()> {
    let device = cli.device.unwrap_or_else(DeviceKind::default_compiled);
    match cli.command {
        None => train::dnm::default_job(device),
        Some(Command::Train(cmd)) => train::run(cmd, device),
        Some(Command::Bench(cmd)) => bench::run(cmd, device),
        Some(Command::Interactive(a)) => interactive::run(a, device),
        Some(Command::Sweep(cmd)) => sweep::run(cmd, cli.device),
        Some(Command::SetTopology(a)) => topology::run(a, device),
        Some(Command::Report(a)) => report::run(a, device),
    }
}

fn main() -> ExitCode {
    end_quietly_when_stdout_closes();
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.downcast_ref::<Interrupted>().is_some() => {
            eprintln!("{e}");
            ExitCode::from(e.downcast_ref::<Interrupted>().map_or(130, |i| i.exit_code))
        }
        Err(e) => {
            eprintln!("error: {}", manifold_train::one_line(&format!("{e:#}")));
            ExitCode::FAILURE
        }
    }
}

/// Like other Unix tools, ends quietly (killed by SIGPIPE) when the reader of its output
/// goes away (`manifold sweep list FILE | head`), where Rust's default (SIGPIPE ignored)
/// makes `println!` panic. A run stopped so keeps its files: each is written atomically,
/// and the run resumes from its last checkpoint.
#[cfg(unix)]
fn end_quietly_when_stdout_closes() {
    // SAFETY: `signal` with `SIG_DFL` installs no handler; called first in `main`, before
    // any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

#[cfg(not(unix))]
fn end_quietly_when_stdout_closes() {}
