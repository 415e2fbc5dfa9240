//! `manifold train rnn`: Burn's LSTM or GRU on a sequence task, the baseline a recurrent
//! manifold is compared with.

use manifold_rnn::RnnConfig;

use super::{AdamEpochFlags, TrainArgs};
use crate::cli::args::finish;
use manifold::backend::DeviceKind;
use manifold::with_backend;

/// The preset when neither `--preset` nor a sweep file names one.
pub const PRESET: &str = "seq-mnist";

/// The recurrent baselines' own flags.
/// Each `Option` sets the config field of its name.
#[derive(clap::Args, serde::Serialize, Debug, Clone, Default)]
pub struct Flags {
    /// Preset: seq-mnist (row-sequential MNIST), adding-t100 (the adding problem, T = 100).
    #[arg(long, default_value = PRESET)]
    #[serde(skip)]
    preset: String,
    /// Hidden units.
    #[arg(long)]
    hidden: Option<usize>,
    #[command(flatten)]
    #[serde(flatten)]
    training: AdamEpochFlags,
}

/// `manifold train rnn`.
pub fn train(args: TrainArgs<Flags>, device: DeviceKind) -> anyhow::Result<()> {
    let config = args.config("rnn", RnnConfig::preset(&args.model.preset)?)?;
    let mnist = match config.task {
        manifold_data::SequenceTask::RowMnist => Some(
            args.run
                .mnist_for(|d| manifold_rnn::check_data(&config, Some(d)))?,
        ),
        manifold_data::SequenceTask::Adding { .. } => None,
    };
    with_backend!(device, |B, device, name| {
        let mut run = args.run.open("rnn", &config, name)?;
        let trained = manifold_rnn::train::<B>(&config, mnist.as_ref(), &device, &mut run)?;
        let cell = format!("{:?}", config.cell).to_uppercase();
        let extra = format!(", {cell} of {} units", config.hidden);
        finish(run, &trained.summary, &extra).map(|_| ())
    })
}
