//! `manifold train mlp`.

use std::path::PathBuf;

use manifold_mlp::{Mlp, MlpConfig};
use manifold_train::{load_module, save_module};

use super::{AdamEpochFlags, TrainArgs};
use crate::cli::args::finish;
use manifold::backend::DeviceKind;
use manifold::with_backend;

/// The MLP's own flags.
/// Each `Option` sets the config field of its (serde) name.
#[derive(clap::Args, serde::Serialize, Debug, Clone, Default)]
pub struct Flags {
    #[command(flatten)]
    #[serde(flatten)]
    training: AdamEpochFlags,
    /// Start from this saved model (a `.mpk` written by --save or a run).
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    load: Option<PathBuf>,
    /// Also save the trained model here (Burn recorder, `.mpk`).
    #[arg(long, value_name = "FILE")]
    #[serde(skip)]
    save: Option<PathBuf>,
}

/// `manifold train mlp`.
pub fn train(args: TrainArgs<Flags>, device: DeviceKind) -> anyhow::Result<()> {
    let config = args.config("mlp", MlpConfig::new())?;
    let f = &args.model;
    if let Some(dir) = f.save.as_deref().and_then(|p| p.parent()) {
        anyhow::ensure!(
            dir.as_os_str().is_empty() || dir.is_dir(),
            "{}: --save directory not found",
            dir.display()
        );
    }
    let data = args.run.mnist_for(|d| config.check_data(d))?;
    with_backend!(device, |B, device, name| {
        let mut model = Mlp::<B>::new(&config, &device);
        if let (Some(file), None) = (&f.load, &args.run.resume) {
            model = load_module(model, &file.with_extension(""), &device)?;
        }
        let mut run = args.run.open("mlp", &config, name)?;
        let trained = manifold_mlp::train_from(model, &config, &data, &device, &mut run)?;
        if let (Some(path), false) = (&f.save, trained.stopped) {
            save_module(&trained.model, &path.with_extension(""))?;
        }
        finish(run, &trained.summary, "").map(|_| ())
    })
}
