//! `manifold train dnm`, and the bare `manifold` (the `seed-mnist` run).

use std::path::PathBuf;

use manifold_dnm::{Data, DnmConfig, Evaluator, Task};

use super::TrainJob;
use crate::cli::args::{finish, set_if, RunArgs};
use manifold::backend::{dispatch, DeviceKind, Job, TrainBackend};

/// Flags of `manifold train dnm`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrainArgs {
    #[command(flatten)]
    run: RunArgs,
    /// Preset: seed-toy, seed-mnist (the original's settings), best-toy, best-mnist.
    #[arg(long, default_value = "seed-mnist")]
    preset: String,
    /// Training steps.
    #[arg(long)]
    steps: Option<usize>,
    /// Minibatch size.
    #[arg(long)]
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

impl TrainArgs {
    fn config(&self) -> anyhow::Result<DnmConfig> {
        let mut c = self.run.base_config(DnmConfig::preset(&self.preset)?)?;
        set_if(&mut c.steps, &self.steps);
        set_if(&mut c.batch_size, &self.batch);
        set_if(&mut c.lr, &self.lr);
        set_if(&mut c.record_every, &self.record_every);
        set_if(&mut c.eval_every, &self.eval_every);
        set_if(&mut c.seed, &self.run.seed);
        match self.evaluator.as_deref() {
            Some("fast") => c.evaluator = Evaluator::Fast,
            Some("reference") => c.evaluator = Evaluator::Reference,
            _ => {}
        }
        c.validate()?;
        Ok(c)
    }
}

/// The data of a config's task.
pub fn load_data(config: &DnmConfig, run: &RunArgs) -> anyhow::Result<Data> {
    Ok(match config.task {
        Task::Toy => Data::Toy,
        Task::Mnist => Data::Mnist(run.mnist()?),
    })
}

impl Job for TrainJob<TrainArgs, DnmConfig, Data> {
    type Output = PathBuf;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        name: &'static str,
    ) -> anyhow::Result<PathBuf> {
        let mut run = self.args.run.open("dnm", &self.config, name)?;
        let trained = manifold_dnm::train::<B>(&self.config, &self.data, &device, &mut run)?;
        let density = trained.summary.extra["density"]
            .as_f64()
            .unwrap_or(f64::NAN);
        finish(
            run,
            &trained.summary,
            &format!(", density {:.2}%", 100.0 * density),
        )
    }
}

/// `manifold train dnm`; returns the run directory.
pub fn train(args: TrainArgs, device: DeviceKind) -> anyhow::Result<PathBuf> {
    let config = args.config()?;
    let data = load_data(&config, &args.run)?;
    dispatch(device, TrainJob { args, config, data })
}

/// The bare `manifold` (and `cargo run --release`): the full `seed-mnist` run (50 000
/// steps, ≈ 91% on the test set at ≈ 3% density); prints where its pictures are.
pub fn default_job(device: DeviceKind) -> anyhow::Result<()> {
    let args = TrainArgs {
        preset: "seed-mnist".into(),
        ..TrainArgs::default()
    };
    let dir = train(args, device)?;
    println!(
        "pictures: {0}/closeness.gif (D evolving), {0}/closeness.png, {0}/accuracy.png, {0}/density.png, {0}/density_vs_step_time.png, frames in {0}/frames/",
        dir.display()
    );
    Ok(())
}
