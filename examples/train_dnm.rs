//! Train a Dynamic Neural Manifold through the library, recording the run like
//! `manifold train dnm` does: `config.toml`, `metrics.csv`, checkpoints, pictures of
//! `D` and `summary.json` in a run directory.
//!
//! ```sh
//! cargo run --release --example train_dnm              # the toy task, a few seconds
//! cargo run --release --example train_dnm -- mnist     # MNIST, the original's settings
//! ```

use burn::backend::Autodiff;
use manifold::data::Mnist;
use manifold::dnm::{Data, DnmConfig};
use manifold::train::{Interrupter, Run, RunOptions};

/// Any backend with the kernels works; the CPU one is the quickest to set up.
type B = Autodiff<burn_ndarray::NdArray<f32>>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mnist = std::env::args().nth(1).as_deref() == Some("mnist");
    // A preset, changed like any Burn config.
    let (config, data) = if mnist {
        let config = DnmConfig::preset("seed-mnist")?.with_steps(5_000);
        (config, Data::Mnist(Mnist::load_default(None)?))
    } else {
        (DnmConfig::preset("seed-toy")?.with_steps(1_000), Data::Toy)
    };

    // The run directory; Ctrl-C stops at the next step and saves a checkpoint that
    // `Run::resume` (or `manifold train dnm --resume DIR`) continues.
    let options = RunOptions::new("dnm")
        .out("runs/example-dnm")
        .force(true)
        .interrupter(Interrupter::on_signals())
        .report(manifold::write_report);
    let mut run = Run::create(options, &config)?;

    // The library owns the loop: steps, evaluation, metrics, checkpoints, pictures.
    let trained = manifold::dnm::train::<B>(&config, &data, &Default::default(), &mut run)?;
    run.finish(&trained.summary)?;

    println!(
        "{} at density {:.2}% after {} steps — see {}/closeness.gif",
        trained.evaluation.describe(),
        100.0
            * trained.summary.extra["density"]
                .as_f64()
                .unwrap_or(f64::NAN),
        trained.position.step,
        run.path().display()
    );
    Ok(())
}
