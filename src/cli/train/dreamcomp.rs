//! `manifold train dreamcomp`. DreamComp learns without backpropagation, so the job
//! runs on the backend's inner (non-autodiff) backend.

use burn::tensor::backend::AutodiffBackend;
use manifold_dreamcomp::DreamCompConfig;

use super::{EpochFlags, TrainArgs};
use crate::cli::args::finish;
use manifold::backend::DeviceKind;
use manifold::with_backend;

/// The preset when neither `--preset` nor a sweep file names one.
pub const PRESET: &str = "k400";

/// DreamComp's own flags.
/// Each `Option` sets the config field of its name.
#[derive(clap::Args, serde::Serialize, Debug, Clone, Default)]
pub struct Flags {
    /// Preset: k100, k400 (custom ξ), k400-plain, k1600, k6400.
    #[arg(long, default_value = PRESET)]
    #[serde(skip)]
    preset: String,
    /// Number of neurons K.
    #[arg(long)]
    neurons: Option<usize>,
    #[command(flatten)]
    #[serde(flatten)]
    epochs: EpochFlags,
    /// Reconstruction weight R of the label synapses.
    #[arg(long)]
    recon: Option<f64>,
    /// Learning rate of the pixel synapses.
    #[arg(long)]
    xi: Option<f64>,
    /// Learning rate of the label synapses.
    #[arg(long)]
    c_xi: Option<f64>,
    /// Share of training images that keep their label (semi-supervised below 1).
    #[arg(long)]
    label_fraction: Option<f64>,
    /// Semi-supervised: factor on c_xi for samples with a true label.
    #[arg(long)]
    label_boost: Option<f64>,
    /// Semi-supervised: factor on c_xi for samples whose label is dreamed.
    #[arg(long)]
    dream_scale: Option<f64>,
    /// Skip the per-epoch pictures (tapestry, label bars) and the GIF.
    #[arg(long)]
    #[serde(skip)]
    no_pictures: bool,
}

/// `manifold train dreamcomp`.
pub fn train(args: TrainArgs<Flags>, device: DeviceKind) -> anyhow::Result<()> {
    let config = args.config("dreamcomp", DreamCompConfig::preset(&args.model.preset)?)?;
    let data = args.run.mnist_for(|d| config.check_data(d))?;
    with_backend!(device, |B, device, name| {
        let mut run = args.run.open("dreamcomp", &config, name)?;
        run.set_pictures(!args.model.no_pictures);
        let trained = manifold_dreamcomp::train::<<B as AutodiffBackend>::InnerBackend>(
            &config, &data, &device, &mut run,
        )?;
        let train = trained.summary.extra["train_accuracy"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let extra = format!(
            ", train accuracy {:.2}%, K = {}",
            100.0 * train,
            config.neurons
        );
        finish(run, &trained.summary, &extra).map(|_| ())
    })
}
