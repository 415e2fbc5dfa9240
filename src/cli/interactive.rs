//! `manifold interactive`: you against a saved MLP, one digit at a time.

use std::path::PathBuf;

use manifold_data::Mnist;
use manifold_mlp::{Mlp, MlpConfig};
use manifold_train::load_module;
use rand::Rng;

use manifold::backend::{dispatch, DeviceKind, Job, TrainBackend};

/// Flags of `manifold interactive`.
#[derive(clap::Args, Debug)]
pub struct InteractiveArgs {
    /// Saved MLP (default: the newest runs/mlp-*/model.mpk).
    #[arg(long, value_name = "FILE")]
    load: Option<PathBuf>,
    /// Seed of the digit draw (default: random).
    #[arg(long)]
    seed: Option<u64>,
    /// MNIST directory (default: $MNIST_DIR, else the shipped assets/mnist).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

/// The newest `runs/mlp-*/model.mpk`.
fn latest_saved_mlp() -> Option<PathBuf> {
    std::fs::read_dir("runs")
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("mlp-"))
        .map(|e| e.path().join("model.mpk"))
        .filter(|p| p.is_file())
        .max_by_key(|p| p.metadata().and_then(|m| m.modified()).ok())
}

struct PlayJob {
    file: PathBuf,
    seed: u64,
    data: Mnist,
}

impl Job for PlayJob {
    type Output = ();
    fn run<B: TrainBackend>(self, device: B::Device, _name: &'static str) -> anyhow::Result<()> {
        let probe = Mlp::<B::InnerBackend>::new(&MlpConfig::new(), &device);
        let model = load_module(probe, &self.file.with_extension(""), &device)?;
        let stdin = std::io::stdin();
        let mut out = std::io::stdout().lock();
        Ok(manifold_mlp::game::play(
            &model,
            &self.data.test,
            self.seed,
            &device,
            stdin.lock(),
            &mut out,
        )?)
    }
}

/// `manifold interactive`.
pub fn run(args: InteractiveArgs, device: DeviceKind) -> anyhow::Result<()> {
    let Some(file) = args.load.clone().or_else(latest_saved_mlp) else {
        anyhow::bail!("no saved MLP found under runs/: make one with `manifold train mlp` (or pass --load FILE)");
    };
    let data = Mnist::load_default(args.data_dir.as_deref())?;
    let seed = args.seed.unwrap_or_else(|| rand::rng().random());
    dispatch(device, PlayJob { file, seed, data })
}
