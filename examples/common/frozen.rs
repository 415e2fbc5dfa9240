//! What `dnm_free_weights` and `dnm_stripe_tilt` share: a trained manifold's forward
//! pass over fixed cells, its accuracy, and one Adam loop over the MNIST training set.

use std::path::PathBuf;
use std::sync::Arc;

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use manifold::data::{ImageSet, Mnist};
use manifold::dnm::kernels::kept::Pattern;
use manifold::dnm::kernels::DnmBackend;
use manifold::dnm::{head, Dnm, DnmConfig, Head, Precision, LEAK};
use manifold::train::{accuracy, argmax_rows, labels_tensor, load_module, read_toml_over};
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// The CPU backend the examples train on.
pub type B = burn_ndarray::NdArray<f32>;
/// [`B`] with autodiff.
pub type A = Autodiff<B>;

/// Training images per step.
pub const BATCH: usize = 100;
/// The first learning rate of the cosine schedule.
pub const LR: f64 = 3e-3;

/// A trained one-shot MNIST run named on the command line (`RUN_DIR [EPOCHS]`), and
/// how many epochs to train on from it (30 unless given).
pub struct TrainedRun {
    /// Epochs to train on.
    pub epochs: usize,
    /// The MNIST training and test sets.
    pub mnist: Mnist,
    /// The run's configuration (its `config.toml` over the defaults).
    pub config: DnmConfig,
    /// The run's trained manifold.
    pub model: Dnm<A>,
}

impl TrainedRun {
    /// Reads the run named by the command line of the example `name`.
    pub fn from_args(name: &str) -> Result<Self, Box<dyn std::error::Error>> {
        let mut args = std::env::args().skip(1);
        let run = PathBuf::from(
            args.next()
                .ok_or(format!("usage: {name} RUN_DIR [EPOCHS]"))?,
        );
        let epochs = match args.next() {
            Some(e) => e
                .parse()
                .map_err(|_| format!("EPOCHS: not a whole number: {e}"))?,
            None => 30,
        };
        let device = Default::default();
        let mnist = Mnist::load_default(None)?;
        let config = read_toml_over(&run.join("config.toml"), &DnmConfig::new())?;
        if config.carry > 0 || config.inputs != mnist.train.dim() {
            return Err(format!("{}: not a one-shot MNIST run", run.display()).into());
        }
        let model = load_module(Dnm::<A>::new(&config, &device), &run.join("model"), &device)?;
        Ok(Self {
            epochs,
            mnist,
            config,
            model,
        })
    }
}

/// Fixed cells of `D`, and how the manifold's pass reads them.
pub struct Wiring {
    /// Which cells are read.
    pub pattern: Arc<Pattern>,
    /// The run's head.
    pub head: Head,
    /// The float the pass computes in (the run's).
    pub precision: Precision,
}

/// The logits of `x` (`[batch, inputs]`) by the manifold's forward pass over `pattern`'s
/// cells holding `values`, senders' `w` and `b`, in `wiring`'s float and head.
pub fn logits_over<B: DnmBackend>(
    pattern: &Arc<Pattern>,
    values: Tensor<B, 1>,
    w: Tensor<B, 1>,
    b: Tensor<B, 1>,
    wiring: &Wiring,
    x: Tensor<B, 2>,
) -> Tensor<B, 2> {
    let (y, _) = B::dnm_kept_outputs(x, values, pattern, w, b, LEAK, wiring.precision)
        .expect("the ndarray backend has the kept-cell forward pass");
    head(y, wiring.head)
}

/// The accuracy of `logits` on `set`, 1 000 images at a time.
pub fn accuracy_of<B: Backend>(
    set: &ImageSet,
    logits: impl Fn(Tensor<B, 2>) -> Tensor<B, 2>,
) -> f64 {
    let device = Default::default();
    let mut predicted = Vec::with_capacity(set.len());
    for start in (0..set.len()).step_by(1000) {
        let idx: Vec<usize> = (start..(start + 1000).min(set.len())).collect();
        let (x, _) = set.gather(&idx);
        let x = Tensor::from_data(TensorData::new(x, [idx.len(), set.dim()]), &device);
        predicted.extend(argmax_rows(logits(x)));
    }
    accuracy(&predicted, set.labels())
}

/// Calls `step(x, labels, lr)` for every minibatch of [`BATCH`] images of `epochs`
/// passes over the training set (one order of the images per epoch from `seed`), the
/// rate on a cosine from [`LR`] to 0.
fn each_batch(
    mnist: &Mnist,
    epochs: usize,
    seed: u64,
    device: &burn_ndarray::NdArrayDevice,
    mut step: impl FnMut(Tensor<A, 2>, Tensor<A, 1, Int>, f64),
) {
    let n = mnist.train.len();
    let steps = epochs * (n / BATCH);
    let mut done = 0;
    for epoch in 0..epochs {
        let mut order: Vec<usize> = (0..n).collect();
        order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(
            seed * 1000 + epoch as u64,
        ));
        for idx in order.chunks_exact(BATCH) {
            let (x, y) = mnist.train.gather(idx);
            let x =
                Tensor::<A, 2>::from_data(TensorData::new(x, [BATCH, mnist.train.dim()]), device);
            let lr = LR * 0.5 * (1.0 + (std::f64::consts::PI * done as f64 / steps as f64).cos());
            step(x, labels_tensor(&y, device), lr);
            done += 1;
        }
    }
}

/// `module` trained by Adam over `epochs` passes of minibatches of [`BATCH`] training
/// images (one order per epoch from `seed`, the rate on a cosine from [`LR`] to 0) on
/// `loss(module, images, labels)`.
pub fn trained<M: AutodiffModule<A>>(
    mut module: M,
    loss: impl Fn(&M, Tensor<A, 2>, Tensor<A, 1, Int>) -> Tensor<A, 1>,
    mnist: &Mnist,
    epochs: usize,
    seed: u64,
    device: &burn_ndarray::NdArrayDevice,
) -> M::InnerModule {
    let mut optim = AdamConfig::new().init::<A, M>();
    each_batch(mnist, epochs, seed, device, |x, y, lr| {
        let loss = loss(&module, x, y);
        let grads = GradientsParams::from_grads(loss.backward(), &module);
        module = optim.step(lr, module.clone(), grads);
    });
    module.valid()
}
