//! Which limits a trained DNM on MNIST: its wiring, or the 7-number patterns that
//! generate its weights? This example freezes a trained manifold's kept cells (which
//! sender each neuron reads) and trains on, against the manifold itself:
//!
//! - **the manifold's patterns on its wiring frozen**: the manifold's own parameters
//!   (closeness, `κ`, `w`, `b`) trained on, each step reading only the frozen cells (one
//!   whose pattern falls under the cutoff reads 0): the patterns at their best on this
//!   wiring, without the density pressure or cells coming and going;
//!
//! and the same forward pass with every kept cell's value a free weight instead, four
//! ways:
//!
//! - **the learned wiring, starting from `D`**: the kept cells' values start at the
//!   manifold's `D` and the senders' `w`, `b` at its own, then all are trained;
//! - **the learned wiring, fresh weights**: the same cells, values drawn from
//!   `N(0, 1/fan-in)`, `w = 1`, `b = 0`;
//! - **the learned wiring moved**: every receiver's senders of each depth level moved
//!   together by one random offset along that level (over the pixels: the same patch at
//!   a random place), fresh weights as above: the learned patches without their places;
//! - **random wiring of the same shape**: every receiver keeps as many cells from each
//!   depth level of senders as the manifold's does (so the same connections, levels and
//!   depth), its senders drawn at random among the allowed ones of that level, fresh
//!   weights as above: a sparse network of the same size whose wiring nobody learned.
//!
//! Each is trained by Adam on the 60 000 training images (batch 100, the rate from 3e-3
//! on a cosine to 0) and evaluated on the 10 000 test images. With free weights the
//! trainable numbers are the kept cells plus two per sender, against the manifold's 7 per
//! receiver, one `κ` and two per sender.
//!
//! ```sh
//! cargo run --release -- train dnm --preset fast-patches-mnist --out runs/fp
//! cargo run --release --example dnm_free_weights -- runs/fp [EPOCHS]
//! ```
//!
//! `EPOCHS` defaults to 30.

use std::sync::Arc;

use burn::module::{AutodiffModule, Module, Param};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use manifold::data::{ImageSet, Mnist};
use manifold::dnm::kernels::kept::Pattern;
use manifold::dnm::kernels::DnmBackend;
use manifold::dnm::{Dnm, Grid};
use manifold::train::cross_entropy;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Normal};

#[allow(dead_code)]
#[path = "common/frozen.rs"]
mod frozen;
use frozen::{accuracy_of, logits_over, trained, TrainedRun, Wiring, A, B};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let TrainedRun {
        epochs,
        mnist,
        config,
        model: loaded,
    } = TrainedRun::from_args("dnm_free_weights")?;
    let device = Default::default();
    let model = loaded.valid();
    let grid = Grid::<B>::of(&config, &device);
    let kept = model
        .kept(&grid, None)
        .ok_or("the ndarray backend has the kept-cell kernels")?;
    let wiring = |pattern: Arc<Pattern>| Wiring {
        pattern,
        head: config.head,
        precision: kept.precision,
    };
    let learned = wiring(kept.pattern.clone());
    let (nnz, senders) = (learned.pattern.nnz(), learned.pattern.geometry.cols());
    let seed = config.seed;

    let own = Net::<B> {
        values: Param::from_tensor(kept.values.clone()),
        w: model.w.clone(),
        b: model.b.clone(),
    };
    let manifold_numbers = model.num_params();
    println!(
        "the manifold: test {:.2}%, training {:.2}%, {nnz} kept connections, {manifold_numbers} trainable numbers",
        100.0 * own.accuracy(&learned, &mnist.test),
        100.0 * own.accuracy(&learned, &mnist.train),
    );
    let random = wiring(Arc::new(rewired(&learned.pattern, Draw::Anywhere, seed)));
    let moved = wiring(Arc::new(rewired(&learned.pattern, Draw::Moved, seed)));
    let learned_levels = levels(&learned.pattern);
    for other in [&random, &moved] {
        if other.pattern.nnz() != nnz || levels(&other.pattern) != learned_levels {
            return Err("a rewired pattern lost the learned wiring's connections or levels".into());
        }
    }
    let grid_a = Grid::<A>::of(&config, &device);
    let frozen_a =
        |model: &Dnm<A>, x, y| cross_entropy(frozen_logits(model, &grid_a, &learned, x), y);
    let patterns = trained(loaded, frozen_a, &mnist, epochs, seed, &device);
    let frozen = |x| frozen_logits(&patterns, &grid, &learned, x);
    let still = patterns
        .kept(&grid, None)
        .ok_or("the ndarray backend has the kept-cell kernels")?;
    let still: f32 = inside(&still.pattern, &learned.pattern).iter().sum();
    println!(
        "the manifold's patterns on its wiring frozen, trained on ({epochs} epochs): test {:.2}%, training {:.2}%, {still} connections, {manifold_numbers} trainable numbers",
        100.0 * accuracy_of(&mnist.test, frozen),
        100.0 * accuracy_of(&mnist.train, frozen),
    );
    let cases = [
        ("the learned wiring, starting from D", own.clone(), &learned),
        (
            "the learned wiring, fresh weights",
            fresh(&learned.pattern, seed, &device),
            &learned,
        ),
        (
            "the learned wiring moved, fresh weights",
            fresh(&moved.pattern, seed, &device),
            &moved,
        ),
        (
            "random wiring of the same shape",
            fresh(&random.pattern, seed, &device),
            &random,
        ),
    ];
    for (what, start, wiring) in cases {
        let net = train(start, wiring, &mnist, epochs, seed, &device);
        println!(
            "{what}, free weights ({epochs} epochs): test {:.2}%, training {:.2}%, {nnz} connections, {} trainable numbers",
            100.0 * net.accuracy(wiring, &mnist.test),
            100.0 * net.accuracy(wiring, &mnist.train),
            nnz + 2 * senders,
        );
    }
    Ok(())
}

/// The manifold's forward pass over fixed kept cells whose values are free weights.
#[derive(Module, Debug)]
struct Net<B: Backend> {
    /// One value per kept cell, in the pattern's order.
    values: Param<Tensor<B, 1>>,
    /// Per-sender weight.
    w: Param<Tensor<B, 1>>,
    /// Per-sender bias.
    b: Param<Tensor<B, 1>>,
}

impl<B: DnmBackend> Net<B> {
    /// The logits of `x` (`[batch, inputs]`) under `config`'s head.
    fn logits(&self, wiring: &Wiring, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let (w, b) = (self.w.val(), self.b.val());
        logits_over(&wiring.pattern, self.values.val(), w, b, wiring, x)
    }

    /// Accuracy on `set`.
    fn accuracy(&self, wiring: &Wiring, set: &ImageSet) -> f64 {
        accuracy_of(set, |x| self.logits(wiring, x))
    }
}

/// The logits of `x` under the manifold `model` with its kept cells restricted to
/// `wiring`'s: its patterns, on its wiring frozen (a cell of `wiring` whose pattern falls
/// under the cutoff reads 0, and no other cell is read).
fn frozen_logits<B: DnmBackend>(
    model: &Dnm<B>,
    grid: &Grid<B>,
    wiring: &Wiring,
    x: Tensor<B, 2>,
) -> Tensor<B, 2> {
    let kept = model
        .kept(grid, None)
        .expect("the ndarray backend has the kept-cell kernels");
    let inside = inside(&kept.pattern, &wiring.pattern);
    let inside = Tensor::from_data(TensorData::new(inside, [kept.pattern.nnz()]), &x.device());
    let (w, b) = (model.w.val(), model.b.val());
    logits_over(&kept.pattern, kept.values * inside, w, b, wiring, x)
}

/// Per cell of `kept`, 1 where `frozen` has it too, else 0.
fn inside(kept: &Pattern, frozen: &Pattern) -> Vec<f32> {
    (0..kept.geometry.rows())
        .flat_map(|r| {
            let frozen = frozen.row(r).1;
            kept.row(r)
                .1
                .iter()
                .map(move |j| match frozen.binary_search(j) {
                    Ok(_) => 1.0,
                    Err(_) => 0.0,
                })
        })
        .collect()
}

/// Free weights on `pattern`: values from `N(0, 1/fan-in)` (fan-in: the receiver's kept
/// cells), `w = 1`, `b = 0`.
fn fresh(pattern: &Pattern, seed: u64, device: &burn_ndarray::NdArrayDevice) -> Net<B> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x5eed);
    let mut values = Vec::with_capacity(pattern.nnz());
    for r in 0..pattern.geometry.rows() {
        let (span, _) = pattern.row(r);
        let normal = Normal::new(0.0, (1.0 / span.len().max(1) as f64).sqrt()).expect("sd > 0");
        values.extend((0..span.len()).map(|_| normal.sample(&mut rng) as f32));
    }
    let senders = pattern.geometry.cols();
    let tensor =
        |v: Vec<f32>| Param::from_tensor(Tensor::from_data(TensorData::new(v, [senders]), device));
    Net {
        values: Param::from_tensor(Tensor::from_data(
            TensorData::new(values, [pattern.nnz()]),
            device,
        )),
        w: tensor(vec![1.0; senders]),
        b: tensor(vec![0.0; senders]),
    }
}

/// Each sender's depth level in `pattern`: 0 for the inputs, for comp `i` one more than
/// the deepest sender it keeps a cell to (1 with none).
fn levels(pattern: &Pattern) -> Vec<usize> {
    let (n_in, n_comp) = (pattern.geometry.inputs, pattern.geometry.comps);
    let mut level = vec![0; n_in + n_comp];
    for i in 0..n_comp {
        let (_, cols) = pattern.row(i);
        level[n_in + i] = 1 + cols.iter().map(|&j| level[j as usize]).max().unwrap_or(0);
    }
    level
}

/// How [`rewired`] draws a receiver's senders of one level from the `pool` it may read
/// (rising sender indices), given `kept`, the positions in `pool` of the senders the
/// learned wiring reads there (rising).
#[derive(Clone, Copy)]
enum Draw {
    /// As many senders, anywhere in the pool.
    Anywhere,
    /// The same senders moved together by one random offset along the pool: the same
    /// spacing (over the pixels, the same patch) at a random place.
    Moved,
}

/// A pattern with `pattern`'s shape: receiver `r` keeps as many cells from each level of
/// senders ([`levels`]) as `pattern`'s row `r` does, drawn by `draw` among the senders of
/// that level it may read (`j < n_in + r` for a comp, every sender for an output). The
/// levels, and so the depth, stay those of `pattern`.
fn rewired(pattern: &Pattern, draw: Draw, seed: u64) -> Pattern {
    let geometry = pattern.geometry;
    let level = levels(pattern);
    let deepest = level.iter().copied().max().unwrap_or(0);
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed ^ 0x3a1d);
    let (mut ptr, mut cols) = (vec![0], Vec::with_capacity(pattern.nnz()));
    for r in 0..geometry.rows() {
        let reach = (geometry.inputs + r).min(geometry.cols()) as u32;
        let (_, kept) = pattern.row(r);
        let mut row = Vec::with_capacity(kept.len());
        for l in 0..=deepest {
            let mut pool: Vec<u32> = (0..reach).filter(|&j| level[j as usize] == l).collect();
            let at: Vec<usize> = kept
                .iter()
                .filter(|&&j| level[j as usize] == l)
                .map(|j| {
                    pool.binary_search(j)
                        .expect("a kept sender lies in its pool")
                })
                .collect();
            let (Some(&first), Some(&last)) = (at.first(), at.last()) else {
                continue;
            };
            match draw {
                Draw::Anywhere => {
                    pool.shuffle(&mut rng);
                    row.extend_from_slice(&pool[..at.len()]);
                }
                Draw::Moved => {
                    let start = rng.random_range(0..pool.len() - (last - first));
                    row.extend(at.iter().map(|&k| pool[start + k - first]));
                }
            }
        }
        row.sort_unstable();
        cols.extend(row);
        ptr.push(cols.len());
    }
    Pattern {
        geometry,
        ptr,
        cols,
        visits: vec![Vec::new(); geometry.rows()],
    }
}

/// The free weights `start` on `wiring`, trained ([`trained`]).
fn train(
    start: Net<B>,
    wiring: &Wiring,
    mnist: &Mnist,
    epochs: usize,
    seed: u64,
    device: &burn_ndarray::NdArrayDevice,
) -> Net<B> {
    let param = |t: Tensor<B, 1>| Param::from_tensor(Tensor::<A, 1>::from_inner(t));
    let net = Net::<A> {
        values: param(start.values.val()),
        w: param(start.w.val()),
        b: param(start.b.val()),
    };
    let loss = |net: &Net<A>, x, y| cross_entropy(net.logits(wiring, x), y);
    trained(net, loss, mnist, epochs, seed, device)
}
