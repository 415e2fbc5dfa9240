//! A DNM trained by a hand-written loop over the crate's parts — the batch, the step,
//! the evaluation — instead of `manifold::dnm::train`: what to start from when the loop
//! itself is what you want to change (here: a learning rate that halves when the loss
//! stalls).
//!
//! ```sh
//! cargo run --release --example dnm_custom_loop
//! ```

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::tensor::backend::Backend;
use manifold::dnm::{adam, evaluate, train_step, Data, Dnm, DnmConfig, Grid};

type B = Autodiff<burn_ndarray::NdArray<f32>>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Default::default();
    let mut config = DnmConfig::preset("seed-toy")?;
    B::seed(&device, config.seed);

    // The model, its fixed geometry (which cells may connect) and Adam.
    let grid = Grid::<B>::of(&config, &device);
    let mut model = Dnm::<B>::new(&config, &device);
    let mut optim = adam::<B>(&config);

    let (mut best, mut since_best, mut last_ms) = (f64::INFINITY, 0, 0.0);
    for step in 0..1_500 {
        // One step: closeness → D, forward pass, losses, backward, Adam. It fails on a
        // non-finite loss or a network with no input→output path.
        let (next, report) = train_step(
            model,
            &mut optim,
            &config,
            &grid,
            &Data::Toy,
            step,
            last_ms,
            &device,
        )
        .map_err(|(_, failure)| failure)?;
        model = next;
        last_ms = report.seconds * 1e3;

        // Our own schedule: halve the rate after 200 steps without a new best objective.
        if report.objective < best {
            (best, since_best) = (report.objective, 0);
        } else {
            since_best += 1;
        }
        if since_best == 200 {
            config.lr /= 2.0;
            since_best = 0;
            println!("step {step}: lr → {:.2e}", config.lr);
        }
        if step % 500 == 0 {
            let eval = evaluate(&model.valid(), &config, &Data::Toy, &device);
            println!(
                "step {step}: objective {:.4}, density {:.1}%, {}",
                report.objective,
                100.0 * report.density,
                eval.describe()
            );
        }
    }
    let eval = evaluate(&model.valid(), &config, &Data::Toy, &device);
    println!("final: {}", eval.describe());
    Ok(())
}
