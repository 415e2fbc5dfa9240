//! The fused DNM closeness kernel on f32 tensors (burn-ndarray) against the same
//! kernel's f64 host functions: a process of its own, since burn-ndarray keeps one float
//! dtype per device per process. (The f64 kernel is checked against the f64 tensor
//! expression, cell by cell and gradient by gradient, in `tests/dnm_gradients.rs`.)
//!
//! Where the tolerance comes from: on f32 tensors the kernel reads the f32 parameters
//! (exact in f64), computes every cell and every sum in f64, and rounds each result to
//! f32 once. So each value differs from the f64 reference by at most one rounding,
//! `u·|value|` with `u = 2⁻²⁴`; the backward also reads the forward's output `D`
//! rounded to f32, which moves each cell's term by at most `u·|term|`, so a gradient
//! moves by at most `u·Σ|terms|` more. The test allows `2u·|value| + 2u·Σ|terms|`
//! (twice the bound), with `Σ|terms|` measured on the reference ([`terms_magnitude`]).
//! Nothing here depends on the CPU's vector width: the reference is computed in f64 on
//! the host, in a fixed order.

use burn::backend::Autodiff;
use burn::module::Param;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, Tensor, TensorData};
use manifold_dnm::kernels::closeness::{backward, forward, Inputs};
use manifold_dnm::{Dnm, Grid};

#[path = "common/dnm_fused.rs"]
#[allow(dead_code)]
mod dnm_fused;
use dnm_fused::{config, values};

type B = Autodiff<burn_ndarray::NdArray<f32>>;

/// The unit roundoff of f32.
const U: f64 = 1.0 / (1u64 << 24) as f64;

#[test]
fn fused_closeness_on_f32_tensors_is_the_f64_kernel_rounded_once() {
    for seed in 0..3 {
        for kappa in [-12.0, -1.0, 0.0, 30.0] {
            for k in [Some(config().surrogate_sharpness), None] {
                check(seed, kappa, k);
            }
        }
    }
}

fn check(seed: u64, kappa: f64, k: Option<f64>) {
    let config = config();
    let dev = Default::default();
    <B as Backend>::seed(&dev, seed);
    let model = Dnm::<B>::new(&config, &dev);
    let model = Dnm {
        kappa: Param::from_tensor(Tensor::from_data(TensorData::new(vec![kappa], [1]), &dev)),
        ..model
    };
    let grid = Grid::<B>::of(&config, &dev);
    let (rows, cols) = (grid.rows(), grid.cols());
    let weights = Tensor::<B, 2>::random([rows, cols], Distribution::Default, &dev);

    // The kernel on f32 tensors, through autodiff: D, s and the parameters' gradients
    // of the loss Σ D·W + 3s.
    let cut = model.cutoff(&grid, k);
    let s = cut
        .surrogate
        .clone()
        .unwrap_or_else(|| Tensor::zeros([1], &dev));
    let d32 = values(cut.d.clone());
    let s32 = values(s.clone())[0];
    let grads = ((cut.d * weights.clone()).sum() + s.mul_scalar(3.0)).backward();
    let params = [
        &model.alpha,
        &model.beta,
        &model.gamma,
        &model.theta,
        &model.phi,
        &model.sigma,
        &model.mu,
    ];
    let g32: Vec<Vec<f64>> = params
        .iter()
        .map(|p| {
            p.grad(&grads)
                .map(values)
                .unwrap_or_else(|| vec![0.0; rows])
        })
        .collect();
    let gk32 = model.kappa.grad(&grads).map(values).unwrap_or(vec![0.0])[0];

    // The f64 reference from the same f32 parameters.
    let raw: Vec<Vec<f64>> = params.iter().map(|p| values(p.val())).collect();
    let inputs = Inputs {
        shape: (0..rows)
            .flat_map(|r| raw.iter().map(move |p| p[r]))
            .collect(),
        kappa: values(model.kappa.val())[0],
        geometry: grid.geometry(),
        sharpness: k,
    };
    let out = forward::<f64>(&inputs);
    let mut grad = vec![0.0; out.len()];
    grad[..rows * cols].copy_from_slice(&values(weights));
    if k.is_some() {
        grad[rows * cols] = 3.0;
    }
    let (g64, gk64) = backward::<f64>(&inputs, &out, &grad);
    let (gabs, gkabs) = terms_magnitude(&inputs, &out, &grad);

    let at = format!("seed {seed}, κ {kappa}, k {k:?}");
    for (i, (a, b)) in d32.iter().zip(&out[..rows * cols]).enumerate() {
        assert!(
            (a - b).abs() <= 2.0 * U * b.abs(),
            "D[{i}] ({at}): f32 {a}, f64 {b}"
        );
    }
    if k.is_some() {
        let s64 = out[rows * cols];
        assert!(
            (s32 - s64).abs() <= 2.0 * U * s64.abs(),
            "s ({at}): {s32} vs {s64}"
        );
    }
    for (p, name) in ["alpha", "beta", "gamma", "theta", "phi", "sigma", "mu"]
        .iter()
        .enumerate()
    {
        for r in 0..rows {
            let (a, b, m) = (g32[p][r], g64[r * 7 + p], gabs[r * 7 + p]);
            let tol = 2.0 * U * (b.abs() + m);
            assert!(
                (a - b).abs() <= tol,
                "{name}[{r}] ({at}): f32 {a}, f64 {b}, tol {tol:e}"
            );
        }
    }
    let tol = 2.0 * U * (gk64.abs() + gkabs);
    assert!(
        (gk32 - gk64).abs() <= tol,
        "κ ({at}): f32 {gk32}, f64 {gk64}, tol {tol:e}"
    );
}

/// `Σ|terms|` of each parameter's gradient sum: the backward run with every incoming
/// gradient replaced by its magnitude bounds it from above only when the per-cell
/// factors share a sign, so instead each term's magnitude is taken through the linear
/// map `grad ↦ backward(grad)` one cell at a time — affordable at this 40-neuron size.
fn terms_magnitude(inputs: &Inputs, out: &[f64], grad: &[f64]) -> (Vec<f64>, f64) {
    let (mut shape, mut kappa) = (vec![0.0; inputs.shape.len()], 0.0);
    let mut one = vec![0.0; grad.len()];
    for (i, &g) in grad.iter().enumerate().filter(|(_, g)| **g != 0.0) {
        one[i] = g;
        let (gs, gk) = backward::<f64>(inputs, out, &one);
        one[i] = 0.0;
        for (acc, v) in shape.iter_mut().zip(gs) {
            *acc += v.abs();
        }
        kappa += gk.abs();
    }
    (shape, kappa)
}

/// The step through `D`'s kept cells (`Dnm::kept`: memory ∝ kept connections, its
/// backward reading the exponentials its forward recorded) gives the dense step's loss
/// and every parameter's gradient bit for bit (the dense backward computes them again),
/// with and without the surrogate, on the small test network and on an MNIST-like shape
/// (200 inputs, 90 comps, 10 outputs; and 196 inputs as 14 × 14 under the patch windows)
/// at a cutoff that keeps some cells and cuts most.
#[test]
fn kept_cell_step_is_the_dense_step_bit_for_bit() {
    use manifold_dnm::loss::{flow_fast, flow_kept};
    use manifold_dnm::Structure;
    let mnist_like = config()
        .with_neurons(300)
        .with_inputs(200)
        .with_outputs(10)
        .with_period(14.0)
        .with_sigma_init((30.0, 5.0))
        .with_mu_init((0.0, 10.0));
    let patch_like = mnist_like
        .clone()
        .with_inputs(196)
        .with_window(manifold_dnm::Window::Patch)
        .with_sigma_init((2.0, 0.3))
        .with_mu_init((0.0, 1.0));
    let patches_like = patch_like
        .clone()
        .with_window(manifold_dnm::Window::Patches);
    for (config, kappa) in [
        (config(), -3.0),
        (mnist_like.clone(), -3.0),
        (mnist_like, -1.5),
        (patch_like.clone(), -3.0),
        (patch_like, -1.5),
        (patches_like.clone(), -3.0),
        (patches_like, -1.5),
    ] {
        for k in [None, Some(config.surrogate_sharpness)] {
            let dev = Default::default();
            <B as Backend>::seed(&dev, 3);
            let model = Dnm::<B>::new(&config, &dev);
            let model = Dnm {
                kappa: Param::from_tensor(Tensor::from_data(
                    TensorData::new(vec![kappa], [1]),
                    &dev,
                )),
                ..model
            };
            let grid = Grid::<B>::of(&config, &dev);
            let x = Tensor::<B, 2>::random([7, config.inputs], Distribution::Default, &dev);
            let target = Tensor::<B, 2>::random([7, config.outputs], Distribution::Default, &dev);
            let loss = |y: Tensor<B, 2>, flow: Tensor<B, 1>, s: Option<Tensor<B, 1>>| {
                let total = (y - target.clone()).square().mean() + flow.mul_scalar(1e-3);
                match s {
                    Some(s) => total + s.mul_scalar(3.0),
                    None => total,
                }
            };
            let kept = model
                .kept(&grid, k)
                .expect("ndarray has the kept-cell kernels");
            let kept_structure = Structure::of_pattern(&kept.pattern);
            let kept_loss = loss(
                model.kept_outputs(&kept, x.clone()),
                flow_kept(&kept),
                kept.surrogate.clone(),
            );
            let cut = model.cutoff(&grid, k);
            let structure = Structure::of(&cut.d, &grid);
            let dense_loss = loss(
                model.outputs_fast(&cut.d, &grid, x, || structure.depth),
                flow_fast(&cut.d, &grid),
                cut.surrogate.clone(),
            );
            assert_eq!(kept_structure, structure, "structure of D");
            assert!(
                structure.density > 0.0 && structure.density < 0.5,
                "κ {kappa}: {structure:?}"
            );
            let dense_d = values(cut.d.clone());
            let kept_d = kept.pattern.dense(&values(kept.values.clone()));
            assert_eq!(kept_d, dense_d, "D");
            let (a, b) = (values(kept_loss.clone()), values(dense_loss.clone()));
            assert_eq!(a, b, "loss, sharpness {k:?}");
            let (ga, gb) = (kept_loss.backward(), dense_loss.backward());
            let params = [
                ("alpha", &model.alpha),
                ("beta", &model.beta),
                ("gamma", &model.gamma),
                ("theta", &model.theta),
                ("phi", &model.phi),
                ("sigma", &model.sigma),
                ("mu", &model.mu),
                ("kappa", &model.kappa),
                ("w", &model.w),
                ("b", &model.b),
            ];
            for (name, p) in params {
                let (a, b) = (p.grad(&ga).map(values), p.grad(&gb).map(values));
                assert!(a.is_some(), "{name} has a gradient");
                assert_eq!(a, b, "gradient of {name}, sharpness {k:?}, κ {kappa}");
            }
        }
    }
}
