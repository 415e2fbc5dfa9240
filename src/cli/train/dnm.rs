//! `manifold train dnm`, and the bare `manifold` (the `seed-mnist` run).

use std::path::PathBuf;

use manifold_dnm::{Data, DnmConfig, Task};

use super::TrainArgs;
use crate::cli::args::{finish, RunArgs};
use manifold::backend::DeviceKind;
use manifold::with_backend;

/// The preset when neither `--preset` nor a sweep file names one.
pub const PRESET: &str = "seed-mnist";

/// The DNM's own flags.
/// Each `Option` sets the config field of its (serde) name.
#[derive(clap::Args, serde::Serialize, Debug, Clone, Default)]
pub struct Flags {
    /// Preset: seed-toy, seed-mnist (the original's settings), best-toy, best-mnist,
    /// large-mnist (size-aware; scale it with --set neurons=N), layered-mnist (size-aware,
    /// two comp layers, surrogate density, batch 200), patch-mnist (layered-mnist with the
    /// patch window: comps read round patches of the image), patches-mnist (patch-mnist
    /// with 1 400 comps, the second layer reading the first in patches), fast-mnist
    /// (layered-mnist in batches of 1 000 with f32 passes, 20 000 steps),
    /// fast-patches-mnist (patch-mnist under the patches window on fast-mnist's
    /// schedule), seq-mnist (row-sequential MNIST,
    /// 16 carry neurons, 200 LSTM comps), seq-mnist-large (400 LSTM comps, batch 100),
    /// adding-t100 (the adding problem, T = 100, 40 LSTM comps), adding-t100-curriculum
    /// (the same, its training sequences growing from 10 to 100 time steps).
    #[arg(long, default_value = PRESET)]
    #[serde(skip)]
    preset: String,
    /// Training steps.
    #[arg(long)]
    steps: Option<usize>,
    /// Minibatch size.
    #[arg(long)]
    #[serde(rename = "batch_size")]
    batch: Option<usize>,
    /// Adam learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Evaluation order of the comps: fast or reference.
    #[arg(long, value_parser = ["fast", "reference"])]
    evaluator: Option<String>,
    /// Record D and metrics every K steps.
    #[arg(long, value_name = "K")]
    record_every: Option<usize>,
    /// Evaluate on the test set and checkpoint every K steps.
    #[arg(long, value_name = "K")]
    eval_every: Option<usize>,
}

/// The data of a config's task.
pub fn load_data(config: &DnmConfig, run: &RunArgs) -> anyhow::Result<Data> {
    Ok(match config.task {
        Task::Toy => Data::Toy,
        Task::Mnist | Task::RowMnist => Data::Mnist(run.mnist()?),
        Task::Adding => Data::Adding,
    })
}

/// `manifold train dnm`; returns the run directory.
pub fn train(args: TrainArgs<Flags>, device: DeviceKind) -> anyhow::Result<PathBuf> {
    let config = args.config("dnm", DnmConfig::preset(&args.model.preset)?)?;
    let data = load_data(&config, &args.run)?;
    config.check_data(&data)?;
    with_backend!(device, |B, device, name| {
        let mut run = args.run.open("dnm", &config, name)?;
        let trained = manifold_dnm::train::<B>(&config, &data, &device, &mut run)?;
        let density = trained.summary.extra["density"]
            .as_f64()
            .unwrap_or(f64::NAN);
        finish(
            run,
            &trained.summary,
            &format!(", density {:.2}%", 100.0 * density),
        )
    })
}

/// The bare `manifold` (and `cargo run --release`): the full `seed-mnist` run (50 000
/// steps, ≈ 90.6% on the test set at ≈ 3% density); prints where its pictures are.
pub fn default_job(device: DeviceKind) -> anyhow::Result<()> {
    let args = TrainArgs {
        run: RunArgs::default(),
        model: Flags {
            preset: "seed-mnist".into(),
            ..Flags::default()
        },
    };
    let dir = train(args, device)?;
    println!(
        "the manifold explorer is in {0}/report.html; pictures: {0}/closeness.gif (D evolving), {0}/closeness.png, {0}/accuracy.png, {0}/density.png, {0}/density_vs_step_time.png",
        dir.display()
    );
    Ok(())
}
