//! The DNM's autodiff gradients against finite differences (every parameter family,
//! with cells near the cutoff; one-shot, through time with carry neurons, and through
//! time with carry and LSTM neurons), and the fast evaluator against the reference one.

use burn::backend::Autodiff;
use burn::module::Param;
use burn::tensor::backend::Backend;
use burn::tensor::{Distribution, ElementConversion, Int, Tensor, TensorData};
use manifold_dnm::kernels::DnmBackend;
use manifold_dnm::{
    flow, flow_fast, flow_kept, head, objective, total_loss, Cutoff, Dnm, DnmConfig, Evaluator,
    Grid, Neuron, Precision, Structure, Target, Task, Window,
};

#[path = "common/dnm_fused.rs"]
mod dnm_fused;

type Inner = burn_ndarray::NdArray<f64>;
type B = Autodiff<Inner>;

const N: usize = 12;
const N_IN: usize = 3;
const N_OUT: usize = 2;

/// The shared test network's shape parameters, at N = 12, with every loss term on.
fn small_config() -> DnmConfig {
    dnm_fused::config()
        .with_neurons(N)
        .with_inputs(N_IN)
        .with_outputs(N_OUT)
        .with_lambda_obj(1.0)
        .with_lambda_flow(0.3)
        .with_lambda_sparse(0.7)
        .with_kappa_init(-2.0)
}

fn batch<Bk: Backend>(dev: &Bk::Device, config: &DnmConfig) -> (Tensor<Bk, 2>, Tensor<Bk, 2>) {
    let (n_in, n_out) = (config.inputs, config.outputs);
    let x: Vec<f64> = (0..4 * n_in)
        .map(|k| ((k * 37 % 11) as f64 - 5.0) / 3.0)
        .collect();
    let y: Vec<f64> = (0..4 * n_out)
        .map(|k| ((k * 13 % 7) as f64 - 3.0) / 2.0)
        .collect();
    (
        Tensor::from_data(TensorData::new(x, [4, n_in]), dev),
        Tensor::from_data(TensorData::new(y, [4, n_out]), dev),
    )
}

/// How `D` and `s` are built.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Path {
    /// The tensor expression of `closeness.rs` (Burn's autodiff over ~40 ops).
    Expression,
    /// The fused kernel with its hand-written backward (`manifold_dnm::kernels::closeness`).
    Fused,
    /// `D` as its kept cells and the kept-cell forward pass (`manifold_dnm::kernels::kept`,
    /// and `kernels::lstm` with LSTM neurons), as a training step on the CPU runs them.
    Kept,
}

fn cutoff<Bk: DnmBackend>(m: &Dnm<Bk>, grid: &Grid<Bk>, k: Option<f64>, path: Path) -> Cutoff<Bk> {
    match path {
        Path::Expression => m.cutoff_expression(grid, k),
        Path::Fused | Path::Kept => m.cutoff(grid, k),
    }
}

/// The total loss (objective + flow + surrogate density) of `model` on the one-shot
/// batch of [`batch`].
fn loss<Bk: DnmBackend>(
    model: &Dnm<Bk>,
    config: &DnmConfig,
    ev: Evaluator,
    path: Path,
) -> Tensor<Bk, 1> {
    let dev = model.w.val().device();
    let (x, y) = batch::<Bk>(&dev, config);
    total_loss_of(model, config, ev, path, x, Target::Values(y))
}

/// The total loss of `model` on inputs `x` and `target`, the inputs read as the config's
/// task reads them ([`manifold_dnm::sequence::read`]: one pass, or one per image row).
fn total_loss_of<Bk: DnmBackend>(
    model: &Dnm<Bk>,
    config: &DnmConfig,
    ev: Evaluator,
    path: Path,
    x: Tensor<Bk, 2>,
    target: Target<Bk>,
) -> Tensor<Bk, 1> {
    let dev = model.w.val().device();
    let grid = Grid::<Bk>::of(config, &dev);
    if path == Path::Kept {
        let kept = model
            .kept(&grid, config.surrogate_needed())
            .expect("ndarray has the kept-cell kernels");
        let density = Structure::of_pattern(&kept.pattern).density;
        let out = manifold_dnm::sequence::read(config, x, |x| model.kept_outputs(&kept, x));
        let obj = objective(head(out, config.head), &target);
        let flow = flow_kept(&kept);
        return total_loss(config, 0, flow, kept.surrogate, obj, density, 0.0).total;
    }
    let cut = cutoff(model, &grid, config.surrogate_needed(), path);
    let out = manifold_dnm::sequence::read(config, x, |x| model.outputs(&cut.d, &grid, x, ev));
    let obj = objective(head(out, config.head), &target);
    let density = Structure::of(&cut.d, &grid).density;
    let flow = match path {
        Path::Expression => flow(&cut.d, &grid),
        Path::Fused | Path::Kept => flow_fast(&cut.d, &grid),
    };
    total_loss(config, 0, flow, cut.surrogate, obj, density, 0.0).total
}

use dnm_fused::values;

const FAMILIES: [&str; 10] = [
    "alpha", "beta", "gamma", "theta", "phi", "sigma", "mu", "kappa", "w", "b",
];

/// [`FAMILIES`], and `gates` with LSTM neurons.
fn families<Bk: Backend>(m: &Dnm<Bk>) -> Vec<&'static str> {
    let gates = m.gates.as_ref().map(|_| "gates");
    FAMILIES.into_iter().chain(gates).collect()
}

/// A parameter family as one flat tensor (the LSTM gates `[n_comp, 6]` row by row).
fn param<Bk: Backend>(m: &Dnm<Bk>, name: &str) -> Tensor<Bk, 1> {
    match name {
        "gates" => {
            let g = m.gates.as_ref().expect("LSTM neurons").val();
            let n = g.dims().iter().product::<usize>();
            g.reshape([n])
        }
        "alpha" => m.alpha.val(),
        "beta" => m.beta.val(),
        "gamma" => m.gamma.val(),
        "theta" => m.theta.val(),
        "phi" => m.phi.val(),
        "sigma" => m.sigma.val(),
        "mu" => m.mu.val(),
        "kappa" => m.kappa.val(),
        "w" => m.w.val(),
        "b" => m.b.val(),
        _ => unreachable!(),
    }
}

fn with_param<Bk: Backend>(m: &Dnm<Bk>, name: &str, t: Tensor<Bk, 1>) -> Dnm<Bk> {
    let mut m = m.clone();
    if name == "gates" {
        let n = t.dims()[0];
        m.gates = Some(Param::from_tensor(t.reshape([n / 6, 6])));
        return m;
    }
    let p = Param::from_tensor(t);
    match name {
        "alpha" => m.alpha = p,
        "beta" => m.beta = p,
        "gamma" => m.gamma = p,
        "theta" => m.theta = p,
        "phi" => m.phi = p,
        "sigma" => m.sigma = p,
        "mu" => m.mu = p,
        "kappa" => m.kappa = p,
        "w" => m.w = p,
        "b" => m.b = p,
        _ => unreachable!(),
    }
    m
}

/// A model whose cutoff sits just below one allowed cell's |f| (a cell near the kink).
fn model_near_cutoff(config: &DnmConfig) -> Dnm<Inner> {
    let dev = Default::default();
    <Inner as Backend>::seed(&dev, 7);
    let m = Dnm::<Inner>::new(config, &dev);
    let grid = Grid::<Inner>::of(config, &dev);
    let f = values(m.closeness(&grid).f);
    let allowed = values(grid.allowed());
    let mut mags: Vec<f64> = f
        .iter()
        .zip(&allowed)
        .filter(|(_, a)| **a > 0.0)
        .map(|(v, _)| v.abs())
        .collect();
    mags.sort_by(f64::total_cmp);
    let c = mags[mags.len() / 2] - 1e-3;
    let kappa = (c / (1.0 - c)).ln();
    let m = with_param(
        &m,
        "kappa",
        Tensor::from_data(TensorData::new(vec![kappa], [1]), &dev),
    );
    let d = values(m.closeness(&grid).d);
    let live = d.iter().filter(|v| **v != 0.0).count();
    assert!(
        live > 5 && live < mags.len(),
        "want a partly cut grid, got {live} live cells"
    );
    m
}

#[test]
fn autodiff_gradients_match_finite_differences_for_every_parameter_family() {
    gradients_match_finite_differences(Path::Expression);
}

#[test]
fn fused_closeness_gradients_match_finite_differences_for_every_parameter_family() {
    gradients_match_finite_differences(Path::Fused);
}

/// The patch windows ([`Window::Patch`]: an input's offset folded into image rows of
/// `period` pixels; [`Window::Patches`]: the first half of the comps folded the same way,
/// stretched to pixels) on the three paths, the kept-cell one being what a CPU training
/// step runs.
#[test]
fn patch_window_gradients_match_finite_differences_for_every_parameter_family() {
    for window in [Window::Patch, Window::Patches] {
        let config = small_config().with_window(window);
        for path in [Path::Expression, Path::Fused, Path::Kept] {
            check_against_finite_differences(&config, path, loss::<B>, loss::<Inner>);
        }
    }
}

/// Autodiff gradients of the total loss (fast evaluator, `D` and `s` built by `path`)
/// against central differences of the reference evaluator over the tensor expression.
fn gradients_match_finite_differences(path: Path) {
    let config = small_config();
    check_against_finite_differences(&config, path, loss::<B>, loss::<Inner>);
}

/// Back-propagation through time: the total loss of row-sequential MNIST read through
/// two carry neurons (28 passes sharing one `D`, the state fed back through `tanh`), its
/// autodiff gradients (fast evaluator, fused closeness) against central differences of
/// the reference evaluator over the tensor expression, for every parameter family.
#[test]
fn bptt_through_carry_neurons_matches_finite_differences_for_every_parameter_family() {
    let carry = 2;
    let config = small_config()
        .with_task(Task::RowMnist)
        .with_carry(carry)
        .with_inputs(28 + carry)
        .with_outputs(10 + carry)
        .with_neurons(28 + carry + 10 + carry + 8);
    check_against_finite_differences(
        &config,
        Path::Fused,
        sequence_loss::<B>,
        sequence_loss::<Inner>,
    );
}

/// The same through LSTM neurons ([`Neuron::Lstm`]: a cell state per comp across the 28
/// time steps, gates fed by the comp's input sum): the kept-cell kernels' autodiff
/// gradients (`kernels::lstm`'s hand-written backward through time) against central
/// differences of the reference evaluator, the LSTM maths as Burn ops one comp at a time,
/// with the library's gates (`precision = "f64"`) and the approximate ones (`"f32"`), which
/// give another loss in the last bits. The gates start away from their initial constants
/// so that every gate weight matters.
#[test]
fn bptt_through_lstm_neurons_matches_finite_differences_for_every_parameter_family() {
    let carry = 2;
    let config = small_config()
        .with_task(Task::RowMnist)
        .with_carry(carry)
        .with_neuron(Neuron::Lstm)
        .with_inputs(28 + carry)
        .with_outputs(10 + carry)
        .with_neurons(28 + carry + 10 + carry + 8);
    let inner = model_near_cutoff(&config);
    let gates = values(param(&inner, "gates"));
    let moved: Vec<f64> = (0..gates.len())
        .map(|k| gates[k] + ((k * 7 % 11) as f64 - 5.0) / 5.0)
        .collect();
    let n = moved.len();
    let inner = with_param(
        &inner,
        "gates",
        Tensor::from_data(TensorData::new(moved, [n]), &Default::default()),
    );
    let reference = sequence_loss::<Inner>(&inner, &config, Evaluator::Reference, Path::Expression)
        .into_scalar()
        .elem::<f64>();
    let mut losses = Vec::new();
    for precision in [Precision::F64, Precision::F32] {
        let config = config.clone().with_precision(precision);
        // The kernels and the reference evaluator compute the same loss.
        let kept = sequence_loss::<Inner>(&inner, &config, Evaluator::Fast, Path::Kept)
            .into_scalar()
            .elem::<f64>();
        assert!(
            (kept - reference).abs() < 1e-9 * reference.abs().max(1.0),
            "{precision:?}: kept-cell LSTM pass {kept} against the reference {reference}"
        );
        losses.push(kept);
        check_model_against_finite_differences(
            inner.clone(),
            &config,
            Path::Kept,
            sequence_loss::<B>,
            sequence_loss::<Inner>,
        );
    }
    assert_ne!(
        losses[0], losses[1],
        "the f32 passes used the library's gates"
    );
}

/// [`loss`] with two 28 × 28 images read row by row ([`manifold_dnm::sequence::read`])
/// and their labels.
fn sequence_loss<Bk: DnmBackend>(
    model: &Dnm<Bk>,
    config: &DnmConfig,
    ev: Evaluator,
    path: Path,
) -> Tensor<Bk, 1> {
    let dev = model.w.val().device();
    let x: Vec<f64> = (0..2 * 784)
        .map(|k| ((k * 37 % 23) as f64) / 23.0)
        .collect();
    let x = Tensor::from_data(TensorData::new(x, [2, 784]), &dev);
    let labels = Tensor::<Bk, 1, Int>::from_data(TensorData::new(vec![3i64, 8], [2]), &dev);
    total_loss_of(model, config, ev, path, x, Target::Labels(labels))
}

/// `autodiff_loss`'s gradients at the model near the cutoff against central differences
/// of `reference_loss` (the same loss on the inner backend, reference evaluator, tensor
/// expression), parameter by parameter.
fn check_against_finite_differences(
    config: &DnmConfig,
    path: Path,
    autodiff_loss: fn(&Dnm<B>, &DnmConfig, Evaluator, Path) -> Tensor<B, 1>,
    reference_loss: fn(&Dnm<Inner>, &DnmConfig, Evaluator, Path) -> Tensor<Inner, 1>,
) {
    check_model_against_finite_differences(
        model_near_cutoff(config),
        config,
        path,
        autodiff_loss,
        reference_loss,
    );
}

/// [`check_against_finite_differences`] at the model `inner`.
fn check_model_against_finite_differences(
    inner: Dnm<Inner>,
    config: &DnmConfig,
    path: Path,
    autodiff_loss: fn(&Dnm<B>, &DnmConfig, Evaluator, Path) -> Tensor<B, 1>,
    reference_loss: fn(&Dnm<Inner>, &DnmConfig, Evaluator, Path) -> Tensor<Inner, 1>,
) {
    let dev = Default::default();
    let model: Dnm<B> = inner.clone().into_autodiff();
    let grads = autodiff_loss(&model, config, Evaluator::Fast, path).backward();
    let h = 1e-6;
    let mut bad = Vec::new();
    for name in families(&model) {
        let g = match (name, &model.gates) {
            ("gates", Some(gates)) => gates.val().grad(&grads).map(|g| {
                let n = g.dims().iter().product::<usize>();
                values(g.reshape([n]))
            }),
            _ => param(&model, name).grad(&grads).map(values),
        }
        .unwrap_or_default();
        let base = values(param(&inner, name));
        assert_eq!(g.len(), base.len(), "{name}: no gradient");
        let mut max_abs = 0f64;
        for k in 0..base.len() {
            let at = |delta: f64| {
                let mut v = base.clone();
                v[k] += delta;
                let t = Tensor::from_data(TensorData::new(v, [base.len()]), &dev);
                let m = with_param(&inner, name, t);
                reference_loss(&m, config, Evaluator::Reference, Path::Expression)
                    .into_scalar()
                    .elem::<f64>()
            };
            let fd = (at(h) - at(-h)) / (2.0 * h);
            max_abs = max_abs.max(fd.abs());
            // f64 central differences with h = 1e-6: truncation h²·|L‴|/6 ≈ 1e-12 and
            // rounding ≈ ε·|L|/h ≈ 2e-10·|L| (|L| ≤ 10³ here, so ≤ 2e-7); the bound
            // leaves a 50× margin over that and is far below a wrong derivative.
            let tol = 1e-5 + 1e-4 * fd.abs().max(g[k].abs());
            if (fd - g[k]).abs() >= tol {
                bad.push(format!(
                    "{name}[{k}]: autodiff {} vs finite difference {fd}",
                    g[k]
                ));
            }
        }
        assert!(max_abs > 1e-8, "{name}: every finite difference is zero");
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad.join("\n")
    );
}

/// Every value and gradient of the fused closeness against the tensor expression, in
/// f64 (f32: `tests/dnm_fused_f32.rs`, its own process: burn-ndarray keeps one float
/// dtype per device for the whole process, so f32 and f64 tests cannot share one).
#[test]
fn fused_closeness_matches_the_tensor_expression_in_values_and_gradients() {
    // Values agree to 1e-9; gradients differ by up to ≈ 1e-8 (θ), the expression's
    // autodiff taking some derivatives in f32 (as Burn's sigmoid).
    dnm_fused::fused_matches_expression_everywhere::<B>(1e-7);
}

trait IntoAutodiff {
    fn into_autodiff(self) -> Dnm<B>;
}

impl IntoAutodiff for Dnm<Inner> {
    fn into_autodiff(self) -> Dnm<B> {
        let dev = Default::default();
        let t = |p: Param<Tensor<Inner, 1>>| {
            Param::from_tensor(Tensor::<B, 1>::from_data(p.val().into_data(), &dev))
        };
        Dnm {
            alpha: t(self.alpha),
            beta: t(self.beta),
            gamma: t(self.gamma),
            theta: t(self.theta),
            phi: t(self.phi),
            sigma: t(self.sigma),
            mu: t(self.mu),
            kappa: t(self.kappa),
            w: t(self.w),
            b: t(self.b),
            gates: self
                .gates
                .map(|g| Param::from_tensor(Tensor::<B, 2>::from_data(g.val().into_data(), &dev))),
        }
    }
}

/// Equal to f64 rounding: the same sums in other orders (≤ 10³ terms: 10³·ε ≈ 2e-13 of
/// the scale), with a wide margin.
fn assert_close(a: &[f64], b: &[f64], what: &str) {
    assert_eq!(a.len(), b.len(), "{what}: lengths");
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-9 * (1.0 + x.abs().max(y.abs())),
            "{what}[{k}]: {x} vs {y}"
        );
    }
}

fn evaluators_agree(config: &DnmConfig, kappa: f64, seed: u64) -> Structure {
    let dev = Default::default();
    <B as Backend>::seed(&dev, seed);
    let model = Dnm::<B>::new(config, &dev);
    let model = Dnm {
        kappa: Param::from_tensor(Tensor::from_data(TensorData::new(vec![kappa], [1]), &dev)),
        ..model
    };
    let grid = Grid::<B>::of(config, &dev);
    let d = model.closeness(&grid).d;
    let structure = Structure::of(&d, &grid);
    let (x, _) = batch::<B>(&dev, config);
    let weights = Tensor::<B, 2>::random([4, config.outputs], Distribution::Default, &dev);
    // Three orders: the reference, the fast one (fused substitution on this backend) and
    // the level sweeps of backends without the fused kernel.
    let depth = structure.depth;
    let run = |order: usize, d: &Tensor<B, 2>, x: Tensor<B, 2>| match order {
        0 => model.outputs(d, &grid, x, Evaluator::Reference),
        1 => model.outputs(d, &grid, x, Evaluator::Fast),
        _ => model.outputs_sweeps(d, &grid, x, depth),
    };
    let grads_of = |order: usize| {
        let d = model.closeness(&grid).d;
        let out = run(order, &d, x.clone());
        let grads = (out * weights.clone()).sum().backward();
        FAMILIES
            .iter()
            .map(|n| {
                param(&model, n)
                    .grad(&grads)
                    .map(values)
                    .unwrap_or_default()
            })
            .collect::<Vec<_>>()
    };
    let reference = values(run(0, &d, x.clone()));
    let gr = grads_of(0);
    for (order, what) in [(1, "fast"), (2, "sweeps")] {
        assert_close(&reference, &values(run(order, &d, x.clone())), what);
        let g = grads_of(order);
        for (k, name) in FAMILIES.iter().enumerate() {
            assert_close(&gr[k], &g[k], &format!("{what}: {name}"));
        }
    }
    structure
}

#[test]
fn fast_and_reference_evaluators_agree_on_dense_sparse_and_cut_networks() {
    let mut config = small_config()
        .with_neurons(40)
        .with_inputs(6)
        .with_outputs(3);
    config.sigma_init = (20.0, 1.0);
    let mut deep = 0;
    for seed in 0..4 {
        let dense = evaluators_agree(&config, -12.0, seed);
        assert!(
            dense.density > 0.9,
            "dense case has density {}",
            dense.density
        );
        deep = deep.max(dense.depth);
        let sparse = evaluators_agree(&config, 0.0, seed);
        assert!(
            sparse.density > 0.0 && sparse.density < 0.7,
            "sparse case has density {}",
            sparse.density
        );
        let cut = evaluators_agree(&config, 30.0, seed);
        assert_eq!(cut.density, 0.0);
        assert!(!cut.connected);
    }
    assert!(
        deep > 10,
        "the dense comp graph should be deep, depth {deep}"
    );
}

#[test]
fn too_few_sweeps_give_a_different_answer() {
    // A hand-made chain: input 0 → comp 0 → comp 1 → … → comp 6 → both outputs, so the
    // deepest path has 6 comp-to-comp edges and needs 6 sweeps.
    let config = small_config();
    let dev = Default::default();
    let grid = Grid::<B>::of(&config, &dev);
    let (n_in, n_comp, rows, cols) = (grid.inputs, grid.comps, grid.rows(), grid.cols());
    let mut cells = vec![0.0; rows * cols];
    cells[0] = 0.9;
    for k in 1..n_comp {
        cells[k * cols + n_in + k - 1] = 0.9;
    }
    for r in n_comp..rows {
        cells[r * cols + n_in + n_comp - 1] = 0.9;
    }
    <B as Backend>::seed(&dev, 3);
    let model = Dnm::<B>::new(&config, &dev);
    let d = Tensor::<B, 2>::from_data(TensorData::new(cells, [rows, cols]), &dev);
    let structure = Structure::of(&d, &grid);
    assert_eq!(structure.depth, n_comp - 1);
    assert!(structure.connected);
    let (x, _) = batch::<B>(&dev, &config);
    let exact = values(model.outputs_reference(&d, &grid, x.clone()));
    let full = values(model.outputs_sweeps(&d, &grid, x.clone(), structure.depth));
    let short = values(model.outputs_sweeps(&d, &grid, x, structure.depth - 1));
    assert_close(&exact, &full, "depth sweeps");
    // A gap of 1e-6 is ten orders above the f64 rounding of these few-term sums: only
    // the missing path makes it.
    assert!(
        exact
            .iter()
            .zip(&short)
            .any(|(a, b)| (a - b).abs() > 1e-6 * (1.0 + a.abs())),
        "depth − 1 sweeps should miss the deepest path: {exact:?} vs {short:?}"
    );
}

#[test]
fn structure_counts_density_depth_and_paths_by_hand() {
    // N = 5: inputs 0,1; comps 2,3; output 4. R = 3 rows (2,3,4), C = 4 cols (0..4).
    #[rustfmt::skip]
    let d = [
        0.5, 0.0, 0.0, 0.0,   // comp 2 ← input 0
        0.0, 0.0, 0.3, 0.0,   // comp 3 ← comp 2
        0.0, 0.0, 0.0, 0.2,   // output 4 ← comp 3
    ];
    let s = Structure::of_values(&d, 2, 2, 1);
    // max_cells = (25 − 4 − 1 − 2)/2 = 9 allowed cells, 3 live.
    assert_eq!(s.depth, 1);
    // A ratio of small counts: exact up to one f64 rounding.
    assert!((s.density - 3.0 / 9.0).abs() < 1e-12);
    assert!(s.connected);
    let mut cut = d;
    cut[0] = 0.0; // comp 2 no longer hears any input
    let s = Structure::of_values(&cut, 2, 2, 1);
    assert!(!s.connected);
    assert_eq!(
        Grid::<Inner>::new(5, 2, 1, 1.0, &Default::default()).max_cells(),
        9
    );
}
