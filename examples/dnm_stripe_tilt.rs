//! Would a freer stripe direction lift a trained DNM on MNIST? Under the patch windows
//! a receiver's gaussian reads the image plane, but its sine still runs along the raster
//! index `p`: one image row further is a phase step of `ω·P = 2π/θ'`, so the stripes'
//! direction turns with their period. This example gives every receiver one more number,
//! a tilt `ζ`, added to the phase per image row of the folded offset:
//!
//! ```text
//! W = 0.501 + 0.5·sin(ω·p + φ + ζ·z_y)        (z_y: the offset's image row; 0 on line senders)
//! ```
//!
//! so the wave's step along an image row (`ω`) and across image rows (`ω·P + ζ`) are
//! free of each other, and at `ζ = 0` the pattern is the manifold's. Both arms start from
//! a trained manifold and train on over the same cells, by Adam for `EPOCHS` epochs
//! (batch 100, the rate from 3e-3 on a cosine to 0), on the cross-entropy plus the run's
//! density surrogate at its weight relative to the objective (`λ_sparse/λ_obj`, the
//! flow term left out):
//!
//! - **the patterns**: the manifold's seven numbers per receiver, `κ`, `w` and `b`;
//! - **the tilted patterns**: the same and `ζ` per receiver, from 0.
//!
//! The cells either may read are the allowed cells inside the disc where the trained
//! gaussian's bound reaches half the cutoff (`|α'|·G·max|W^β' − γ'| ≥ c/2`), a superset of
//! the trained manifold's kept cells; a cell whose `|f|` falls under the cutoff reads 0
//! and comes back when it rises. The pattern is computed per cell as tensors (the same
//! maths as the library's tensor expression, checked against the kept-cell kernel's
//! values at the start).
//!
//! ```sh
//! cargo run --release -- train dnm --preset fast-patches-mnist --out runs/fp
//! cargo run --release --example dnm_stripe_tilt -- runs/fp [EPOCHS]
//! ```
//!
//! `EPOCHS` defaults to 30.

use std::sync::Arc;

use burn::module::{AutodiffModule, Module, Param};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Int, Tensor, TensorData};
use manifold::dnm::closeness::{reduced_phase, sigmoid, softplus};
use manifold::dnm::kernels::kept::Pattern;
use manifold::dnm::kernels::DnmBackend;
use manifold::dnm::{DensityTerm, Dnm, Geometry, Grid};
use manifold::train::cross_entropy;
use manifold_kernels::floats::Floats;

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
    } = TrainedRun::from_args("dnm_stripe_tilt")?;
    let device = Default::default();
    let model = loaded.valid();
    let geometry = config.geometry();
    let (weight, sharpness) = match config.density_term {
        DensityTerm::Surrogate => (
            config.lambda_sparse / config.lambda_obj,
            Some(config.surrogate_sharpness),
        ),
        DensityTerm::Count => (0.0, None),
    };
    let cells_a = Cells::<A>::within_reach(&model, &geometry, sharpness, &device);
    let cells = cells_a.valid();
    let wiring = Wiring {
        pattern: cells.pattern.clone(),
        head: config.head,
        precision: config.precision,
    };
    let kept = model
        .kept(&Grid::<B>::of(&config, &device), None)
        .ok_or("the ndarray backend has the kept-cell kernels")?;
    let start = Tilted {
        dnm: model.clone(),
        tilt: None,
    }
    .pattern(&cells);
    let gap = cells.gap_to(&start.values, &kept.pattern, kept.values.clone());
    if gap > 1e-3 {
        return Err(format!("the per-cell pattern is {gap:e} off the kernel's D").into());
    }
    println!(
        "the manifold: test {:.2}%, {} kept connections of {} cells within reach, {} trainable numbers (the per-cell pattern within {gap:.1e} of the kernel's D)",
        100.0 * accuracy_of(&mnist.test, |x| logits(&model, &start, &wiring, x)),
        kept.pattern.nnz(),
        cells.pattern.nnz(),
        model.num_params(),
    );
    for tilt in [false, true] {
        let tilt = tilt.then(|| Param::from_tensor(Tensor::zeros([geometry.rows()], &device)));
        let arm = Tilted {
            dnm: loaded.clone(),
            tilt,
        };
        let loss = |arm: &Tilted<A>, x, y| {
            let pattern = arm.pattern(&cells_a);
            let objective = cross_entropy(logits(&arm.dnm, &pattern, &wiring, x), y);
            objective + pattern.surrogate.mul_scalar(weight)
        };
        let arm = trained(arm, loss, &mnist, epochs, config.seed, &device);
        let pattern = arm.pattern(&cells);
        let tilt = match &arm.tilt {
            Some(t) => format!(", mean |ζ| {:.3}", t.val().abs().mean().into_scalar()),
            None => String::new(),
        };
        println!(
            "{} ({epochs} epochs): test {:.2}%, training {:.2}%, {} kept connections, {} trainable numbers{tilt}",
            match arm.tilt {
                Some(_) => "the tilted patterns",
                None => "the patterns",
            },
            100.0 * accuracy_of(&mnist.test, |x| logits(&arm.dnm, &pattern, &wiring, x)),
            100.0 * accuracy_of(&mnist.train, |x| logits(&arm.dnm, &pattern, &wiring, x)),
            pattern.kept(),
            arm.num_params(),
        );
    }
    Ok(())
}

/// A manifold whose receivers may tilt their stripes: `ζ` per receiver (`[R]`), or none.
#[derive(Module, Debug)]
struct Tilted<B: Backend> {
    dnm: Dnm<B>,
    tilt: Option<Param<Tensor<B, 1>>>,
}

/// `D` over [`Cells`], the density surrogate, and how many cells it keeps.
struct CellPattern<B: Backend> {
    /// `D` at each cell, in the cells' order.
    values: Tensor<B, 1>,
    /// `Σ sigmoid(k·(|f| − c))/max_cells` over the cells (`[1]`; 0 without a sharpness).
    surrogate: Tensor<B, 1>,
    /// `|f| − c` at each cell.
    margin: Tensor<B, 1>,
}

impl<B: Backend> CellPattern<B> {
    /// Cells with `|f|` over the cutoff.
    fn kept(&self) -> usize {
        self.margin
            .clone()
            .greater_elem(0.0)
            .int()
            .sum()
            .into_scalar()
            .elem::<i64>() as usize
    }
}

impl<B: Backend> Tilted<B> {
    /// `f` at every cell of `cells` (the library's closeness function, with `ζ·z_y` added
    /// to the sine's phase when tilted), cut at `c`: `D = sign(f)·max(|f| − c, 0)/(1 − c)`.
    fn pattern(&self, cells: &Cells<B>) -> CellPattern<B> {
        let (m, g) = (&self.dnm, &cells.pattern.geometry);
        let period = g.period;
        let per_cell = |t: Tensor<B, 1>| t.select(0, cells.rows.clone());
        let amp = per_cell(sigmoid(m.alpha.val()).mul_scalar(2.0).sub_scalar(1.0));
        let power = per_cell(m.beta.val().add_scalar(1.0));
        let shift = per_cell(sigmoid(m.gamma.val()));
        let freq = exact(
            m.theta.val(),
            |t| std::f64::consts::TAU * std::f64::consts::LN_2 / (period * softplus_f64(t)),
            |t| {
                let theta = softplus(t).div_scalar(std::f64::consts::LN_2);
                theta.recip().mul_scalar(std::f64::consts::TAU / period)
            },
        );
        let freq = per_cell(freq);
        let width = per_cell(softplus(m.sigma.val()));
        let mu = per_cell(m.mu.val());
        let z = cells.p.clone() - mu.clone();
        let u = z.clone() * cells.stretch.clone();
        let folded = cells.pixels.clone() + cells.plane.clone();
        let rows = u
            .clone()
            .div_scalar(period)
            .add_scalar(0.5)
            .floor()
            .detach()
            * folded.clone();
        let z_x = u - rows.clone().mul_scalar(period);
        let centre = cells.base.clone() + mu;
        let beyond = relu(centre.clone().sub_scalar((g.inputs - 1) as f64)) * cells.pixels.clone()
            + (relu(centre.clone().sub_scalar((g.plane_end() - 1) as f64))
                - relu(centre.neg().add_scalar(g.inputs as f64)))
                * cells.plane.clone()
                * cells.stretch.clone();
        let d2 = (z_x.square() + rows.clone().square() + beyond.square()) * folded.clone()
            + z.square() * folded.neg().add_scalar(1.0);
        let gauss = (d2 * width.square().recip().mul_scalar(-0.5)).exp();
        let mut phase = cells.p.clone() * freq + per_cell(m.phi.val());
        if let Some(tilt) = &self.tilt {
            phase = phase + per_cell(tilt.val()) * rows;
        }
        let wave = reduced_phase(phase).sin().mul_scalar(0.5).add_scalar(0.501);
        let f = gauss * ((wave.log() * power).exp() - shift) * amp;
        let c = sigmoid(m.kappa.val());
        let margin = f.clone().abs() - c.clone();
        let scale = sigmoid(m.kappa.val().neg()).recip();
        let values = relu(margin.clone()) * f.sign() * scale;
        let surrogate = match cells.sharpness {
            Some(k) => sigmoid(margin.clone().mul_scalar(k))
                .sum()
                .div_scalar(g.max_cells() as f64),
            None => Tensor::zeros([1], &values.device()),
        };
        CellPattern {
            values,
            surrogate,
            margin,
        }
    }
}

/// `tensor(x)` with the value of `value(x)` computed in f64 on the host and the gradient
/// of `tensor`: the sine's frequency multiplies coordinates of hundreds, where the
/// backend's f32 `exp` and `log1p` (relative error ≈ 3e-5) would move the phase by a
/// hundredth of a radian.
fn exact<B: Backend>(
    x: Tensor<B, 1>,
    value: impl Fn(f64) -> f64,
    tensor: impl Fn(Tensor<B, 1>) -> Tensor<B, 1>,
) -> Tensor<B, 1> {
    let host = Floats::f64_of(x.clone());
    let n = host.len();
    let exact = TensorData::new(host.into_iter().map(|v| value(v) as f32).collect(), [n]);
    let y = tensor(x);
    let exact = Tensor::from_data(exact, &y.device());
    exact + y.clone() - y.detach()
}

/// `ln(1 + eˣ)` in f64.
fn softplus_f64(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// The logits of `x` under `dnm`'s senders' `w` and `b` and `pattern`'s `D` on `wiring`.
fn logits<B: DnmBackend>(
    dnm: &Dnm<B>,
    pattern: &CellPattern<B>,
    wiring: &Wiring,
    x: Tensor<B, 2>,
) -> Tensor<B, 2> {
    let values = pattern.values.clone();
    logits_over(&wiring.pattern, values, dnm.w.val(), dnm.b.val(), wiring, x)
}

/// The cells a pattern may read, and each one's fixed coordinates (`[cells]` each).
struct Cells<B: Backend> {
    /// Which cells.
    pattern: Arc<Pattern>,
    /// Each cell's receiver row.
    rows: Tensor<B, 1, Int>,
    /// `p = j − i + d_r`.
    p: Tensor<B, 1>,
    /// `i − d_r`: the row's centre sender is `base + μ`.
    base: Tensor<B, 1>,
    /// 1 on input senders.
    pixels: Tensor<B, 1>,
    /// 1 on the senders of the patches window's comp map.
    plane: Tensor<B, 1>,
    /// Pixels per sender: the map's stretch on its senders, 1 elsewhere.
    stretch: Tensor<B, 1>,
    /// The density surrogate's sharpness `k`, or `None` without one.
    sharpness: Option<f64>,
}

impl Cells<A> {
    /// The same cells on the backend without autodiff, for evaluation.
    fn valid(&self) -> Cells<B> {
        Cells {
            pattern: self.pattern.clone(),
            rows: self.rows.clone().inner(),
            p: self.p.clone().inner(),
            base: self.base.clone().inner(),
            pixels: self.pixels.clone().inner(),
            plane: self.plane.clone().inner(),
            stretch: self.stretch.clone().inner(),
            sharpness: self.sharpness,
        }
    }
}

impl<B: Backend> Cells<B> {
    /// The allowed cells where `model`'s gaussian bound reaches half its cutoff:
    /// `|α'|·G·max(|0.001^β' − γ'|, |1.001^β' − γ'|) ≥ c/2`.
    fn within_reach<M: Backend>(
        model: &Dnm<M>,
        g: &Geometry,
        sharpness: Option<f64>,
        device: &B::Device,
    ) -> Self {
        let host = Floats::f64_of::<M, 1>;
        let (alpha, beta, gamma) = (
            host(model.alpha.val()),
            host(model.beta.val()),
            host(model.gamma.val()),
        );
        let (sigma, mu) = (host(model.sigma.val()), host(model.mu.val()));
        let c = 1.0 / (1.0 + (-host(model.kappa.val())[0]).exp());
        let (mut ptr, mut cols) = (vec![0], Vec::new());
        let (mut rows, mut p, mut base) = (Vec::new(), Vec::new(), Vec::new());
        let (mut pixels, mut plane, mut stretch) = (Vec::new(), Vec::new(), Vec::new());
        for r in 0..g.rows() {
            let i = (g.inputs + r) as f64;
            let amp = (2.0 / (1.0 + (-alpha[r]).exp()) - 1.0).abs();
            let (power, shift) = (beta[r] + 1.0, 1.0 / (1.0 + (-gamma[r]).exp()));
            let most = [0.001f64, 1.001]
                .iter()
                .map(|e| (e.powf(power) - shift).abs())
                .fold(0.0, f64::max);
            let width = softplus_f64(sigma[r]);
            for j in 0..g.allowed(r) {
                let pj = j as f64 - i + g.offset(r);
                let (_, d2) = g.distance(j, pj - mu[r]);
                if amp * most * (-d2 / (2.0 * width * width)).exp() < c / 2.0 {
                    continue;
                }
                let on_plane = (g.inputs..g.plane_end()).contains(&j);
                cols.push(j as u32);
                rows.push(r as i64);
                p.push(pj as f32);
                base.push((i - g.offset(r)) as f32);
                pixels.push((j < g.inputs) as u8 as f32);
                plane.push(on_plane as u8 as f32);
                stretch.push(if on_plane {
                    g.plane_stretch() as f32
                } else {
                    1.0
                });
            }
            ptr.push(cols.len());
        }
        let n = cols.len();
        let floats = |v: Vec<f32>| Tensor::from_data(TensorData::new(v, [n]), device);
        Self {
            pattern: Arc::new(Pattern {
                geometry: *g,
                ptr,
                cols,
                visits: vec![Vec::new(); g.rows()],
            }),
            rows: Tensor::from_data(TensorData::new(rows, [n]), device),
            p: floats(p),
            base: floats(base),
            pixels: floats(pixels),
            plane: floats(plane),
            stretch: floats(stretch),
            sharpness,
        }
    }

    /// The largest difference between `values` (over these cells) and the kernel's
    /// `kernel` values over `kept` (every kept cell is one of these; the others read 0).
    fn gap_to(&self, values: &Tensor<B, 1>, kept: &Pattern, kernel: Tensor<B, 1>) -> f64 {
        let (ours, theirs) = (Floats::f64_of(values.clone()), Floats::f64_of(kernel));
        let mut gap = 0.0f64;
        for r in 0..kept.geometry.rows() {
            let (span, js) = self.pattern.row(r);
            let (kspan, kjs) = kept.row(r);
            let mut k = 0;
            for (pos, j) in span.zip(js) {
                let kernel = match kjs.get(k) {
                    Some(kj) if kj == j => {
                        k += 1;
                        theirs[kspan.start + k - 1]
                    }
                    _ => 0.0,
                };
                gap = gap.max((ours[pos] - kernel).abs());
            }
            if k != kjs.len() {
                return f64::INFINITY;
            }
        }
        gap
    }
}
