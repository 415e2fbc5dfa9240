//! Train DreamComp (winner-take-all Hebbian learning, no backpropagation) on MNIST
//! through the library, with a run directory holding the tapestry of prototypes.
//!
//! ```sh
//! cargo run --release --example train_dreamcomp
//! ```

use manifold::data::Mnist;
use manifold::dreamcomp::DreamCompConfig;
use manifold::train::{Interrupter, Run, RunOptions};

/// No autodiff: the rule updates the weights directly.
type B = burn_ndarray::NdArray<f32>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = Mnist::load_default(None)?;
    // The original's K = 100 setting for two epochs (about 93% after ten).
    let config = DreamCompConfig::preset("k100")?.with_epochs(2);

    let options = RunOptions::new("dreamcomp")
        .out("runs/example-dreamcomp")
        .force(true)
        .interrupter(Interrupter::on_signals())
        .report(manifold::write_report);
    let mut run = Run::create(options, &config)?;
    let trained = manifold::dreamcomp::train::<B>(&config, &data, &Default::default(), &mut run)?;
    run.finish(&trained.summary)?;

    println!(
        "{} with {} neurons — prototypes in {}/tapestry.gif",
        trained.evaluation.describe(),
        trained.model.neurons(),
        run.path().display()
    );
    Ok(())
}
