//! `manifold interactive`: you against a saved MLP, one digit at a time.

use std::path::PathBuf;

use manifold_data::Mnist;
use manifold_mlp::{Mlp, MlpConfig};
use manifold_train::{load_module, read_toml};
use rand::Rng;

use burn::tensor::backend::AutodiffBackend;
use manifold::backend::DeviceKind;
use manifold::with_backend;

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

/// `manifold interactive`.
pub fn run(args: InteractiveArgs, device: DeviceKind) -> anyhow::Result<()> {
    let Some(file) = args.load.clone().or_else(latest_saved_mlp) else {
        anyhow::bail!("no saved MLP found under runs/: make one with `manifold train mlp` (or pass --load FILE)");
    };
    let data = Mnist::load_default(args.data_dir.as_deref())?;
    let seed = args.seed.unwrap_or_else(|| rand::rng().random());
    // A model saved in a run directory has its config beside it; a bare `--save` file
    // is the default 784-16-16-10 network.
    let beside = file.with_file_name("config.toml");
    let config = if beside.is_file() {
        read_toml::<MlpConfig>(&beside)?
    } else {
        MlpConfig::new()
    };
    config.validate()?;
    config.check_data(&data)?;
    with_backend!(device, |B, device, _name| {
        type Inner = <B as AutodiffBackend>::InnerBackend;
        let model = load_module(
            Mlp::<Inner>::new(&config, &device),
            &file.with_extension(""),
            &device,
        )?;
        let stdin = std::io::stdin();
        let mut out = std::io::stdout().lock();
        Ok(manifold_mlp::game::play(
            &model,
            &data.test,
            seed,
            &device,
            stdin.lock(),
            &mut out,
        )?)
    })
}
