//! `manifold train dreamcomp`. DreamComp learns without backpropagation, so the job
//! runs on the backend's inner (non-autodiff) backend.

use manifold_data::Mnist;
use manifold_dreamcomp::DreamCompConfig;

use super::{EpochFlags, TrainJob};
use crate::cli::args::{finish, set_if, RunArgs};
use manifold::backend::{dispatch, DeviceKind, Job, TrainBackend};

/// Flags of `manifold train dreamcomp`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct TrainArgs {
    #[command(flatten)]
    run: RunArgs,
    #[command(flatten)]
    epochs: EpochFlags,
    /// Preset: k100, k400 (custom ξ), k400-plain, k1600, k6400.
    #[arg(long, default_value = "k400")]
    preset: String,
    /// Number of neurons K.
    #[arg(long)]
    neurons: Option<usize>,
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
    no_pictures: bool,
}

impl TrainArgs {
    fn config(&self) -> anyhow::Result<DreamCompConfig> {
        let mut c = self
            .run
            .base_config(DreamCompConfig::preset(&self.preset)?)?;
        set_if(&mut c.neurons, &self.neurons);
        self.epochs
            .apply(&mut c.epochs, &mut c.batch_size, &mut c.train_limit);
        set_if(&mut c.recon, &self.recon);
        set_if(&mut c.xi, &self.xi);
        set_if(&mut c.c_xi, &self.c_xi);
        set_if(&mut c.label_fraction, &self.label_fraction);
        set_if(&mut c.label_boost, &self.label_boost);
        set_if(&mut c.dream_scale, &self.dream_scale);
        set_if(&mut c.seed, &self.run.seed);
        c.validate()?;
        Ok(c)
    }
}

impl Job for TrainJob<TrainArgs, DreamCompConfig, Mnist> {
    type Output = ();
    fn run<B: TrainBackend>(self, device: B::Device, name: &'static str) -> anyhow::Result<()> {
        let mut run = self.args.run.open("dreamcomp", &self.config, name)?;
        run.set_pictures(!self.args.no_pictures);
        let trained = manifold_dreamcomp::train::<B::InnerBackend>(
            &self.config,
            &self.data,
            &device,
            &mut run,
        )?;
        let train = trained.summary.extra["train_accuracy"]
            .as_f64()
            .unwrap_or(f64::NAN);
        let extra = format!(
            ", train accuracy {:.2}%, K = {}",
            100.0 * train,
            self.config.neurons
        );
        finish(run, &trained.summary, &extra).map(|_| ())
    }
}

/// `manifold train dreamcomp`.
pub fn train(args: TrainArgs, device: DeviceKind) -> anyhow::Result<()> {
    let config = args.config()?;
    let data = args.run.mnist()?;
    dispatch(device, TrainJob { args, config, data })
}
