//! How much of a trained DNM's MNIST error is its readout's? The DNM's outputs read the
//! comps through one 7-parameter closeness pattern each (a windowed sine over the comp
//! index), not through free weights. This example freezes a trained manifold, takes the
//! values its outputs read (the pre-activations `u_j = w_j·o_j + b_j` of every sender an
//! output keeps a cell to) on the whole training and test sets, and fits a dense softmax
//! readout on them (Adam, 20 epochs): the simplest control for the readout's share. A
//! second readout over every comp's value asks the same of all the features.
//!
//! ```sh
//! cargo run --release -- train dnm --preset patch-mnist --out runs/patch
//! cargo run --release --example dnm_readout -- runs/patch
//! ```
//!
//! Without an argument it trains `patch-mnist` for 2 000 steps first (about a minute).

use std::path::PathBuf;

use burn::backend::Autodiff;
use burn::module::AutodiffModule;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams, Optimizer};
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use manifold::data::{ImageSet, Mnist};
use manifold::dnm::kernels::forward::outputs_tensor;
use manifold::dnm::{head, Data, Dnm, DnmConfig, Grid, PixelOrder, LEAK};
use manifold::train::{
    accuracy, argmax_rows, cross_entropy, labels_tensor, load_module, read_toml_over, Silent,
};

type B = burn_ndarray::NdArray<f32>;
type A = Autodiff<B>;

/// Images per forward pass of the frozen manifold.
const CHUNK: usize = 1000;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let device = Default::default();
    let mnist = Mnist::load_default(None)?;
    let (config, model) = match std::env::args().nth(1).map(PathBuf::from) {
        Some(run) => {
            let config = read_toml_over(&run.join("config.toml"), &DnmConfig::new())?;
            let model = load_module(Dnm::<B>::new(&config, &device), &run.join("model"), &device)?;
            (config, model)
        }
        None => {
            let config = DnmConfig::preset("patch-mnist")?
                .with_steps(2000)
                .with_eval_every(2000);
            let data = Data::Mnist(mnist.clone());
            let trained = manifold::dnm::train::<A>(&config, &data, &device, &mut Silent)?;
            (config, trained.model.valid())
        }
    };
    if config.pixel_order != PixelOrder::Raster || config.carry > 0 {
        return Err("this example reads raster-ordered, one-shot MNIST runs only".into());
    }

    // The cutoff matrix D, and the senders the outputs keep a cell to.
    let grid = Grid::<B>::of(&config, &device);
    let d = model.cutoff(&grid, None).d;
    let (n_in, n_comp) = (config.inputs, config.comps());
    let cols = n_in + n_comp;
    let d_host = host(d.clone());
    let read: Vec<usize> = (0..cols)
        .filter(|&j| (n_comp..n_comp + config.outputs).any(|r| d_host[r * cols + j] != 0.0))
        .collect();
    let every_comp: Vec<usize> = (n_in..cols).collect();
    let (w, b) = (host(model.w.val()), host(model.b.val()));

    // The frozen manifold's predictions and every sender's pre-activation, chunk by chunk.
    let values = |set: &ImageSet| {
        let (mut predicted, mut u) = (Vec::new(), Vec::new());
        for start in (0..set.len()).step_by(CHUNK) {
            let idx: Vec<usize> = (start..(start + CHUNK).min(set.len())).collect();
            let (x, _) = set.gather(&idx);
            let pixels =
                Tensor::<B, 2>::from_data(TensorData::new(x.clone(), [idx.len(), n_in]), &device);
            let (y, o) =
                outputs_tensor(pixels, d.clone(), model.w.val(), model.b.val(), n_in, LEAK);
            predicted.extend(argmax_rows(head(y, config.head)));
            let o = host(o);
            for t in 0..idx.len() {
                u.extend((0..cols).map(|j| match j < n_in {
                    true => w[j] * x[t * n_in + j] + b[j],
                    false => w[j] * o[t * n_comp + j - n_in] + b[j],
                }));
            }
        }
        Senders { u, cols, predicted }
    };
    let (train, test) = (values(&mnist.train), values(&mnist.test));
    println!(
        "the manifold's own readout ({} output rows of 7 numbers): test {:.2}%, training {:.2}%",
        config.outputs,
        100.0 * accuracy(&test.predicted, mnist.test.labels()),
        100.0 * accuracy(&train.predicted, mnist.train.labels()),
    );
    for (what, senders) in [("the outputs' senders", &read), ("every comp", &every_comp)] {
        let (test_acc, train_acc) = dense_readout(&train, &test, senders, &mnist, &device);
        println!(
            "a dense readout of {what} ({} values, {} weights): test {:.2}%, training {:.2}%",
            senders.len(),
            10 * senders.len() + 10,
            100.0 * test_acc,
            100.0 * train_acc,
        );
    }
    Ok(())
}

/// Every sender's pre-activation `u` (`[n, cols]`) over an image set, and the manifold's
/// own predictions.
struct Senders {
    u: Vec<f32>,
    cols: usize,
    predicted: Vec<usize>,
}

impl Senders {
    /// Columns `senders` of `u`, standardised by `by`'s mean and std (constant ones kept).
    fn standardised(&self, senders: &[usize], by: &(Vec<f32>, Vec<f32>)) -> Vec<f32> {
        let mut z = Vec::with_capacity(self.u.len() / self.cols * senders.len());
        for row in self.u.chunks(self.cols) {
            z.extend(
                senders
                    .iter()
                    .enumerate()
                    .map(|(k, &j)| (row[j] - by.0[k]) * by.1[k]),
            );
        }
        z
    }

    /// Per-column mean and 1/std (1 where a column is constant) of columns `senders`.
    fn moments(&self, senders: &[usize]) -> (Vec<f32>, Vec<f32>) {
        let n = (self.u.len() / self.cols) as f64;
        let (mut sum, mut sq) = (vec![0.0f64; senders.len()], vec![0.0f64; senders.len()]);
        for row in self.u.chunks(self.cols) {
            for (k, &j) in senders.iter().enumerate() {
                sum[k] += row[j] as f64;
                sq[k] += (row[j] as f64).powi(2);
            }
        }
        let mean = sum.iter().map(|s| (s / n) as f32).collect();
        let scale = sum
            .iter()
            .zip(&sq)
            .map(|(s, q)| match q / n - (s / n).powi(2) {
                var if var > 1e-12 => (1.0 / var.sqrt()) as f32,
                _ => 1.0,
            })
            .collect();
        (mean, scale)
    }
}

/// A dense softmax readout of columns `senders`, standardised by the training set's
/// moments, trained by Adam for 20 epochs (batch 500, cosine from 1e-2): its test and
/// training accuracy.
fn dense_readout(
    train: &Senders,
    test: &Senders,
    senders: &[usize],
    mnist: &Mnist,
    device: &burn_ndarray::NdArrayDevice,
) -> (f64, f64) {
    let (f, n) = (senders.len(), mnist.train.len());
    let by = train.moments(senders);
    let tensor = |s: &Senders| {
        let z = s.standardised(senders, &by);
        let rows = z.len() / f;
        Tensor::<A, 2>::from_data(TensorData::new(z, [rows, f]), device)
    };
    let (z_train, z_test) = (tensor(train), tensor(test));
    let labels = labels_tensor::<A>(mnist.train.labels(), device);
    A::seed(device, 0);
    let mut readout: Linear<A> = LinearConfig::new(f, 10).init(device);
    let mut optim = AdamConfig::new().init::<A, Linear<A>>();
    for epoch in 0..EPOCHS {
        let lr = 1e-2 * 0.5 * (1.0 + (std::f64::consts::PI * epoch as f64 / EPOCHS as f64).cos());
        let order =
            Tensor::<A, 1, Int>::from_data(TensorData::new(shuffled(n, epoch as u64), [n]), device);
        for batch in order.chunk(n / 500, 0) {
            let x = z_train.clone().select(0, batch.clone());
            let y = labels.clone().select(0, batch);
            let loss = cross_entropy(readout.forward(x), y);
            let grads = GradientsParams::from_grads(loss.backward(), &readout);
            readout = optim.step(lr, readout, grads);
        }
    }
    let readout = readout.valid();
    let predict = |z: Tensor<A, 2>| argmax_rows(readout.forward(z.inner()));
    (
        accuracy(&predict(z_test), mnist.test.labels()),
        accuracy(&predict(z_train), mnist.train.labels()),
    )
}

/// Epochs of the dense readout.
const EPOCHS: usize = 20;

/// A tensor's values on the host as f32.
fn host<const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .to_vec()
        .expect("f32 after convert")
}

/// `0..n` in a fixed pseudo-random order for `epoch`.
fn shuffled(n: usize, epoch: u64) -> Vec<i64> {
    use rand::seq::SliceRandom;
    use rand::SeedableRng;
    let mut order: Vec<i64> = (0..n as i64).collect();
    order.shuffle(&mut rand::rngs::StdRng::seed_from_u64(epoch));
    order
}
