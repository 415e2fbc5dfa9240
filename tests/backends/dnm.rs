//! The DNM on wgpu (lavapipe on CPUs) against ndarray: the same parameters give the
//! same closeness matrix, outputs, loss and gradients of every parameter family, at the
//! toy shape, the MNIST shape of the `seed-mnist` preset (784 inputs, 10 outputs; with and
//! without the density surrogate), a scaled `large-mnist` shape, `patch-mnist`'s patch
//! window and a small `layered-mnist` with near-zero widths. ndarray runs the fused
//! CPU kernels, wgpu the CubeCL kernels (`manifold_dnm::kernels::cube`, registered in
//! the fusion stream by `manifold_dnm::kernels::fusion`): this compares the two. Row-MNIST
//! with carry neurons compares back-propagation through 28 passes; with LSTM neurons too,
//! ndarray's kept-cell LSTM kernel against wgpu's Burn ops.
#![cfg(feature = "wgpu")]

use burn::backend::Autodiff;
use burn::module::Param;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use manifold_dnm::sequence::read;
use manifold_dnm::{
    flow_fast, head, objective, total_loss, DensityTerm, Dnm, DnmConfig, Grid, Neuron, Structure,
    Target, Task, Window,
};

type Nd = Autodiff<burn_ndarray::NdArray<f32>>;
type Wg = Autodiff<burn_wgpu::Wgpu<f32, i32>>;

const BATCH: usize = 8;

/// Gradients: largest difference over the family's largest |gradient|. The square head
/// makes the seed network's loss ≈ 1.6·10⁶, a sum with heavy cancellation, so f32
/// rounding (the GPU kernels sum in other orders than the CPU's f64 passes) moves small
/// entries: measured on lavapipe 2e-8 (toy) to 2.6e-4 (φ at 600 comps). A broken kernel
/// or a NaN is far above this.
const GRAD_TOLERANCE: f32 = 2e-3;

/// `seed-mnist` with fewer comps (N = 900: 106 comps) to keep lavapipe quick.
fn config() -> DnmConfig {
    DnmConfig::seed_mnist().with_neurons(900)
}

/// Per family: values, gradient; then D, the outputs and the loss, all on the host.
struct Numbers {
    d: Vec<f32>,
    outputs: Vec<f32>,
    loss: f32,
    grads: Vec<(&'static str, Vec<f32>)>,
}

fn host<Bk: Backend, const D: usize>(t: Tensor<Bk, D>) -> Vec<f32> {
    t.into_data().convert::<f32>().to_vec::<f32>().unwrap()
}

fn moved<B1: Backend, B2: Backend>(
    p: &Param<Tensor<B1, 1>>,
    dev: &B2::Device,
) -> Param<Tensor<B2, 1>> {
    Param::from_tensor(Tensor::from_data(p.val().into_data().convert::<f32>(), dev))
}

fn numbers<Bk: manifold_dnm::kernels::DnmAutodiffBackend>(
    m0: &Dnm<Nd>,
    config: &DnmConfig,
    dev: &Bk::Device,
) -> Numbers {
    let model = Dnm::<Bk> {
        alpha: moved(&m0.alpha, dev),
        beta: moved(&m0.beta, dev),
        gamma: moved(&m0.gamma, dev),
        theta: moved(&m0.theta, dev),
        phi: moved(&m0.phi, dev),
        sigma: moved(&m0.sigma, dev),
        mu: moved(&m0.mu, dev),
        kappa: moved(&m0.kappa, dev),
        w: moved(&m0.w, dev),
        b: moved(&m0.b, dev),
        gates: m0.gates.as_ref().map(|g| {
            Param::from_tensor(Tensor::from_data(g.val().into_data().convert::<f32>(), dev))
        }),
    };
    let grid = Grid::<Bk>::of(config, dev);
    let cut = model.cutoff(&grid, config.surrogate_needed());
    let structure = Structure::of(&cut.d, &grid);
    let width = config
        .sequence()
        .map_or(config.inputs, |(steps, width)| steps * width);
    let x: Vec<f32> = (0..BATCH * width)
        .map(|k| ((k * 37) % 101) as f32 / 100.0)
        .collect();
    let x = Tensor::<Bk, 2>::from_data(TensorData::new(x, [BATCH, width]), dev);
    let target = match config.task {
        Task::Mnist | Task::RowMnist => {
            let labels: Vec<u8> = (0..BATCH as u8).map(|k| k % 10).collect();
            Target::Labels(manifold_train::labels_tensor::<Bk>(&labels, dev))
        }
        Task::Toy | Task::Adding => {
            let y: Vec<f32> = (0..BATCH * config.classes())
                .map(|k| ((k * 13) % 7) as f32 / 7.0)
                .collect();
            Target::Values(Tensor::from_data(
                TensorData::new(y, [BATCH, config.classes()]),
                dev,
            ))
        }
    };
    // Read as the task reads an input (28 passes with carry neurons for row-MNIST); with
    // LSTM neurons ndarray runs its kept-cell kernel, wgpu Burn ops.
    let outputs = match model.kept(&grid, None).filter(|_| model.gates.is_some()) {
        Some(kept) => read(config, x, |x| model.kept_outputs(&kept, x)),
        None => read(config, x, |x| {
            model.outputs_fast(&cut.d, &grid, x, || structure.depth)
        }),
    };
    let obj = objective(head(outputs.clone(), config.head), &target);
    let flow = flow_fast(&cut.d, &grid);
    let terms = total_loss(config, 0, flow, cut.surrogate, obj, structure.density, 0.0);
    let grads = terms.total.backward();
    let g = |name, p: &Param<Tensor<Bk, 1>>| (name, p.grad(&grads).map(host).unwrap_or_default());
    Numbers {
        d: host(cut.d),
        outputs: host(outputs),
        loss: host(terms.total)[0],
        grads: vec![
            g("alpha", &model.alpha),
            g("beta", &model.beta),
            g("gamma", &model.gamma),
            g("theta", &model.theta),
            g("phi", &model.phi),
            g("sigma", &model.sigma),
            g("mu", &model.mu),
            g("kappa", &model.kappa),
            g("w", &model.w),
            g("b", &model.b),
            (
                "gates",
                model
                    .gates
                    .as_ref()
                    .and_then(|p| p.grad(&grads))
                    .map(host)
                    .unwrap_or_default(),
            ),
        ],
    }
}

/// Largest |a − b| / (1 + max|a|): 0 when equal, NaN-aware (a NaN counts as infinite).
fn worst(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    let scale = 1.0 + a.iter().fold(0f32, |m, v| m.max(v.abs()));
    a.iter()
        .zip(b)
        .map(|(x, y)| {
            let e = (x - y).abs() / scale;
            if e.is_nan() {
                f32::INFINITY
            } else {
                e
            }
        })
        .fold(0f32, f32::max)
}

/// Runs both backends on `config`'s seed network and compares everything; `label`
/// names the case in the failure report.
fn compare(label: &str, config: &DnmConfig) {
    let nd_dev = Default::default();
    <Nd as Backend>::seed(&nd_dev, 0);
    let m0 = Dnm::<Nd>::new(config, &nd_dev);
    let a = numbers::<Nd>(&m0, config, &nd_dev);
    let b = numbers::<Wg>(&m0, config, &Default::default());
    let mut report = vec![
        format!("{label}: D: {:e}", worst(&a.d, &b.d)),
        format!("outputs: {:e}", worst(&a.outputs, &b.outputs)),
        format!("loss: {} vs {}", a.loss, b.loss),
    ];
    let loss_gap = (a.loss - b.loss).abs() / (1.0 + a.loss.abs());
    // D and the outputs: f32 on two devices, sums over ≤ 1 400 senders in other orders
    // (≤ 10³·ε ≈ 1.2e-4 of the scale); 1e-3 leaves a margin and catches a wrong kernel.
    let mut bad = worst(&a.d, &b.d) >= 1e-3
        || worst(&a.outputs, &b.outputs) >= 1e-3
        || loss_gap.is_nan()
        || loss_gap > 1e-3;
    for ((name, ga), (_, gb)) in a.grads.iter().zip(&b.grads) {
        let e = worst(ga, gb);
        let nan = gb.iter().filter(|v| !v.is_finite()).count();
        report.push(format!("grad {name}: {e:e} ({nan} non-finite on wgpu)"));
        let absent = *name == "gates" && config.neuron == Neuron::Plain;
        bad |= (ga.is_empty() && !absent) || e.is_nan() || e >= GRAD_TOLERANCE;
    }
    eprintln!("{}", report.join("; "));
    assert!(a.loss.is_finite(), "{label}: ndarray loss {}", a.loss);
    assert!(a.d.iter().any(|v| *v != 0.0), "{label}: D has no kept cell");
    assert!(!bad, "wgpu and ndarray disagree:\n{}", report.join("\n"));
}

#[test]
fn wgpu_matches_ndarray_on_the_mnist_shaped_seed_network() {
    compare("seed-mnist, 106 comps", &config());
}

/// The density surrogate's kernels (forward sum and backward), at a sharpness where the
/// CPU pass visits every allowed cell too (c ≤ 10/k), so both compute the exact `s`;
/// λ_sparse makes `λ·s²` as large as the seed network's objective (≈ 10⁶), so that the
/// surrogate's share of every gradient is compared, not drowned.
#[test]
fn wgpu_matches_ndarray_with_the_density_surrogate() {
    let config = config()
        .with_density_term(DensityTerm::Surrogate)
        .with_lambda_sparse(1e9)
        .with_surrogate_sharpness(10.0);
    assert_eq!(config.surrogate_needed(), Some(10.0));
    compare("seed-mnist + surrogate", &config);
}

/// `layered-mnist` at 50 comps: layer 2's σ' (raw around 2.5, std 9.8) puts rows at raw
/// −18 … −25, σ' ≈ 1e-8 … 1e-11, whose far cells' gaussian underflows in f32 while the
/// surrogate asks for every allowed cell's gradient. Their σ and μ terms are 0 there
/// (f = 0), not 0·∞ = NaN as an unguarded d²/σ'³ gives.
#[test]
fn wgpu_matches_ndarray_on_a_small_layered_network_with_narrow_rows() {
    let config = DnmConfig::layered_mnist().with_comps(50);
    assert!(config.surrogate_needed().is_some());
    compare("layered-mnist, 50 comps", &config);
}

/// The toy task (MSE, identity head, soft surrogate): every comp a few cells wide.
#[test]
fn wgpu_matches_ndarray_on_the_toy_network() {
    let config = DnmConfig::best_toy();
    assert!(config.surrogate_needed().is_some());
    compare("best-toy", &config);
}

/// A manifold three times the seed's comps with the size-aware placement: more comps
/// than one cube has threads, so every thread owns several receivers and senders.
#[test]
fn wgpu_matches_ndarray_on_a_scaled_network() {
    let config = DnmConfig::large_mnist().with_comps(600);
    compare("large-mnist, 600 comps", &config);
}

/// The patch windows (`patch-mnist` at 300 comps, with its density surrogate, and the
/// same with the first comp layer on the image plane): the CubeCL closeness kernels fold
/// the inputs' and the comp map's offsets into image rows as the CPU kernels do.
#[test]
fn wgpu_matches_ndarray_under_the_patch_windows() {
    let config = DnmConfig::patch_mnist().with_comps(300);
    assert_eq!(config.window, Window::Patch);
    compare("patch-mnist, 300 comps", &config);
    let config = config.with_window(Window::Patches);
    compare("patch-mnist under patches, 300 comps", &config);
}

/// Row-sequential MNIST through carry neurons: 28 passes of the CubeCL forward pass and
/// their backwards through time against ndarray's fused kernels.
#[test]
fn wgpu_matches_ndarray_through_time_with_carry_neurons() {
    let carry = 2;
    let config = DnmConfig::best_mnist()
        .with_task(Task::RowMnist)
        .with_carry(carry)
        .with_inputs(28 + carry)
        .with_outputs(10 + carry)
        .with_neurons(28 + carry + 10 + carry + 24);
    compare("row-mnist, 2 carry, 24 comps", &config);
}

/// The same with LSTM neurons: ndarray's kept-cell LSTM kernel and its backward through
/// time against the LSTM maths as Burn ops on wgpu.
#[test]
fn wgpu_matches_ndarray_through_time_with_lstm_neurons() {
    let carry = 2;
    let config = DnmConfig::best_mnist()
        .with_task(Task::RowMnist)
        .with_carry(carry)
        .with_neuron(Neuron::Lstm)
        .with_inputs(28 + carry)
        .with_outputs(10 + carry)
        .with_neurons(28 + carry + 10 + carry + 24);
    compare("row-mnist, 2 carry, LSTM, 24 comps", &config);
}
