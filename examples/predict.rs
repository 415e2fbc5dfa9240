//! Load a saved MLP and classify images of the MNIST test set.
//!
//! ```sh
//! cargo run --release -- train mlp --out runs/mlp      # writes runs/mlp/model.mpk
//! cargo run --release --example predict -- runs/mlp/model.mpk
//! ```
//!
//! Without an argument the example trains a one-epoch MLP first and saves it, so it
//! runs on its own.

use std::path::PathBuf;

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn_ndarray::NdArray;
use manifold::data::Mnist;
use manifold::mlp::{Mlp, MlpConfig};
use manifold::train::{argmax_rows, batch_tensor, load_module, save_module, Silent};

type B = NdArray<f32>;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let data = Mnist::load_default(None)?;
    let device = Default::default();
    let file = match std::env::args().nth(1) {
        Some(path) => PathBuf::from(path),
        None => {
            let config = MlpConfig::new().with_epochs(1).with_train_limit(10_000);
            let trained =
                manifold::mlp::train::<Autodiff<B>>(&config, &data, &device, &mut Silent)?;
            let path = std::env::temp_dir().join("manifold-example-mlp.mpk");
            save_module(&trained.model.valid(), &path.with_extension(""))?;
            path
        }
    };

    // A model with the saved shapes (the default 784-16-16-10), then its weights.
    let model = load_module(
        Mlp::<B>::new(&MlpConfig::new(), &device),
        &file.with_extension(""),
        &device,
    )?;

    // Classify the first 20 test images in one batch.
    let n = 20;
    let x = batch_tensor::<B>(
        &data.test.pixels()[..n * data.test.dim()],
        n,
        data.test.dim(),
        &device,
    );
    let predicted = argmax_rows(model.forward(x));
    let truth = &data.test.labels()[..n];
    let hits = predicted
        .iter()
        .zip(truth)
        .filter(|(p, t)| **p == **t as usize)
        .count();
    println!("predicted {predicted:?}\ntruth     {truth:?}\n{hits}/{n} correct");
    Ok(())
}
