//! `manifold train mlp`.

use std::path::PathBuf;

use manifold_data::Mnist;
use manifold_mlp::{Mlp, MlpConfig};
use manifold_train::{load_module, save_module};

use super::{EpochFlags, TrainJob};
use crate::cli::args::{finish, set_if, RunArgs};
use manifold::backend::{dispatch, DeviceKind, Job, TrainBackend};

/// Flags of `manifold train mlp`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrainArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    epochs: EpochFlags,
    /// Adam learning rate.
    #[arg(long)]
    lr: Option<f64>,
    /// Start from this saved model (a `.mpk` written by --save or a run).
    #[arg(long, value_name = "FILE")]
    load: Option<PathBuf>,
    /// Also save the trained model here (Burn recorder, `.mpk`).
    #[arg(long, value_name = "FILE")]
    save: Option<PathBuf>,
}

impl TrainArgs {
    fn config(&self) -> anyhow::Result<MlpConfig> {
        let mut c = self.run.base_config(MlpConfig::new())?;
        self.epochs
            .apply(&mut c.epochs, &mut c.batch_size, &mut c.train_limit);
        set_if(&mut c.learning_rate, &self.lr);
        set_if(&mut c.seed, &self.run.seed);
        c.validate()?;
        Ok(c)
    }
}

impl Job for TrainJob<TrainArgs, MlpConfig, Mnist> {
    type Output = ();
    fn run<B: TrainBackend>(self, device: B::Device, name: &'static str) -> anyhow::Result<()> {
        let TrainJob { args, config, data } = self;
        let mut model = Mlp::<B>::new(&config, &device);
        if let (Some(file), None) = (&args.load, &args.run.resume) {
            model = load_module(model, &file.with_extension(""), &device)?;
        }
        let mut run = args.run.open("mlp", &config, name)?;
        let trained = manifold_mlp::train_from(model, &config, &data, &device, &mut run)?;
        if let (Some(path), false) = (&args.save, trained.stopped) {
            save_module(&trained.model, &path.with_extension(""))?;
        }
        finish(run, &trained.summary, "").map(|_| ())
    }
}

/// `manifold train mlp`.
pub fn train(args: TrainArgs, device: DeviceKind) -> anyhow::Result<()> {
    let config = args.config()?;
    if let Some(dir) = args.save.as_deref().and_then(|p| p.parent()) {
        anyhow::ensure!(
            dir.as_os_str().is_empty() || dir.is_dir(),
            "{}: --save directory not found",
            dir.display()
        );
    }
    let data = args.run.mnist()?;
    dispatch(device, TrainJob { args, config, data })
}
