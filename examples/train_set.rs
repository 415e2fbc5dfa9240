//! Train a SET-MLP (sparse layers that prune and regrow their connections every epoch)
//! on MNIST through the library, with a run directory.
//!
//! ```sh
//! cargo run --release --example train_set
//! ```

use burn::backend::Autodiff;
use manifold::data::Mnist;
use manifold::set::SetConfig;
use manifold::train::{Interrupter, Run, RunOptions};

type B = Autodiff<burn_ndarray::NdArray<f32>>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = Mnist::load_default(None)?;
    // A small network for a quick run: one hidden layer of 300, ε = 10 (≈ 4% of the
    // dense weights), 5 epochs on 20 000 images. `SetConfig::preset("best")` is the
    // headline configuration (≈ 10 min on 2 CPU cores).
    let config = SetConfig::new()
        .with_hidden(vec![300])
        .with_epsilon(10.0)
        .with_epochs(5)
        .with_train_limit(20_000);

    let options = RunOptions::new("set")
        .out("runs/example-set")
        .force(true)
        .interrupter(Interrupter::on_signals())
        .report(manifold::write_report);
    let mut run = Run::create(options, &config)?;
    let trained = manifold::set::train::<B>(&config, &data, &Default::default(), &mut run)?;
    run.finish(&trained.summary)?;

    println!(
        "{} with {} connections ({:.2}% of the dense weights) — {}",
        trained.evaluation.describe(),
        trained.model.connection_counts().iter().sum::<usize>(),
        100.0 * trained.model.density(),
        run.path().display()
    );
    Ok(())
}
