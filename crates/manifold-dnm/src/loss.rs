//! The DNM's losses.
//!
//! ```text
//! objective = softmax cross-entropy (MNIST) or MSE (toy), batch mean
//! flow      = (Σ_{comp i, input j} |D_ij| − Σ_{output i, comp j} |D_ij|)²
//! density   = ρ (count, zero gradient: the original) or the surrogate s
//! memory    = M̃ = 4 B · s·max_cells · batch · time steps, in MiB (DnmConfig::activation_mib)
//! total     = λ_obj·objective + λ_flow·flow + λ_sparse·density² + λ_time·t_ms·s
//!             + λ_memory·M̃
//! ```

use crate::kernels::DnmBackend;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::closeness::Grid;
use crate::config::{DensityTerm, DnmConfig};
use crate::model::Kept;

/// What the objective compares the logits with.
#[derive(Debug, Clone)]
pub enum Target<B: Backend> {
    /// Class labels (cross-entropy).
    Labels(Tensor<B, 1, Int>),
    /// Regression targets (MSE).
    Values(Tensor<B, 2>),
}

/// Batch-mean objective of the logits.
pub fn objective<B: Backend>(logits: Tensor<B, 2>, target: &Target<B>) -> Tensor<B, 1> {
    match target {
        Target::Labels(labels) => manifold_train::cross_entropy(logits, labels.clone()),
        Target::Values(y) => (logits - y.clone()).square().mean(),
    }
}

/// "What goes in must come out": `(Σ|D_comp,input| − Σ|D_output,comp|)²`, as one
/// masked sum `(Σ |D|·flow_sign)²` (slices of `D` cost a full-size zero tensor each in
/// the backward). Squared as `v·v`: Burn's `square` rounds to f32 on an f64 backend.
pub fn flow<B: Backend>(d: &Tensor<B, 2>, grid: &Grid<B>) -> Tensor<B, 1> {
    let v = (d.clone().abs() * grid.flow_sign()).sum();
    v.clone() * v
}

/// [`flow`] as one fused op with a one-pass backward where the backend has it
/// ([`crate::kernels`]: the CPU backends), else the masked sum.
pub fn flow_fast<B: DnmBackend>(d: &Tensor<B, 2>, grid: &Grid<B>) -> Tensor<B, 1> {
    match B::dnm_flow(d.clone(), grid.inputs, grid.comps) {
        Some((_, value)) => value,
        None => flow(d, grid),
    }
}

/// [`flow`] over the kept cells of `D` ([`DnmBackend::dnm_kept_flow`]).
pub fn flow_kept<B: DnmBackend>(kept: &Kept<B>) -> Tensor<B, 1> {
    B::dnm_kept_flow(kept.values.clone(), &kept.pattern)
        .expect("a backend with the kept-cell closeness has the kept-cell flow")
        .1
}

/// The terms of one step's loss.
#[derive(Debug, Clone)]
pub struct LossTerms<B: Backend> {
    /// The loss to differentiate, `[1]`: the weighted sum of all terms.
    pub total: Tensor<B, 1>,
    /// The batch-mean objective (cross-entropy or MSE), `[1]`, unweighted.
    pub objective: Tensor<B, 1>,
    /// The flow term `(Σ|D_comp,input| − Σ|D_output,comp|)²` (divided by R² with
    /// `flow_per_receiver`), `[1]`, unweighted.
    pub flow: Tensor<B, 1>,
    /// The surrogate density, when the loss needed it.
    pub surrogate: Option<Tensor<B, 1>>,
}

/// `λ_obj·objective + λ_flow·flow + λ_sparse·density² (+ λ_time·t_ms·s + λ_memory·M̃)` at
/// training step `step` (λ_sparse as [`DnmConfig::lambda_sparse_at`] gives it). `flow` is the
/// flow term of the cutoff matrix ([`flow`] or [`flow_fast`]); `surrogate` is `s`,
/// present when [`DnmConfig::surrogate_needed`] says so; `density` is the true ρ (used by
/// the `count` term, as a constant).
#[allow(clippy::too_many_arguments)]
pub fn total_loss<B: Backend>(
    config: &DnmConfig,
    step: usize,
    flow: Tensor<B, 1>,
    surrogate: Option<Tensor<B, 1>>,
    objective: Tensor<B, 1>,
    density: f64,
    last_step_ms: f64,
) -> LossTerms<B> {
    let flow = if config.flow_per_receiver {
        let rows = (config.neurons - config.inputs) as f64;
        flow.div_scalar(rows * rows)
    } else {
        flow
    };
    let mut total = objective.clone().mul_scalar(config.lambda_obj)
        + flow.clone().mul_scalar(config.lambda_flow);
    let lambda_sparse = config.lambda_sparse_at(step);
    match (config.density_term, &surrogate) {
        (DensityTerm::Surrogate, Some(s)) if config.lambda_sparse > 0.0 => {
            total = total + s.clone().square().mul_scalar(lambda_sparse);
        }
        _ => total = total.add_scalar(lambda_sparse * density * density),
    }
    if let (Some(s), true) = (&surrogate, config.lambda_time > 0.0) {
        total = total + s.clone().mul_scalar(config.lambda_time * last_step_ms);
    }
    if let (Some(s), true) = (&surrogate, config.lambda_memory > 0.0) {
        let mib_per_density = config.activation_mib(config.geometry().max_cells() as f64);
        total = total + s.clone().mul_scalar(config.lambda_memory * mib_per_density);
    }
    LossTerms {
        total,
        objective,
        flow,
        surrogate,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    // f32 like the crate's other tests: burn-ndarray keeps one float dtype per process.
    type B = burn_ndarray::NdArray<f32>;

    #[test]
    fn flow_is_the_squared_difference_of_the_two_blocks_by_hand() {
        // N = 5: inputs 0, 1; comps 2, 3; output 4. Rows 2, 3, 4; columns 0..4.
        let dev = Default::default();
        let grid = Grid::<B>::new(5, 2, 1, 3.0, &dev);
        #[rustfmt::skip]
        let d: [f32; 12] = [
            0.5, -0.25, 0.0, 0.0,   // comp 2 ← inputs: |0.5| + |−0.25|
            -1.0, 0.0,  0.3, 0.0,   // comp 3 ← input 0 (−1.0) and comp 2 (not in flow)
            0.7, 0.0,  -0.2, 0.1,   // output ← input 0 (not in flow), comps: |−0.2| + |0.1|
        ];
        let d = Tensor::<B, 2>::from_data(TensorData::new(d.to_vec(), [3, 4]), &dev);
        let value = flow(&d, &grid).into_scalar();
        let config = DnmConfig::new()
            .with_neurons(5)
            .with_inputs(2)
            .with_outputs(1)
            .with_lambda_obj(0.0)
            .with_lambda_sparse(0.0)
            .with_lambda_flow(2.0);
        let zero = || Tensor::<B, 1>::zeros([1], &dev);
        let flow_t = || Tensor::<B, 1>::from_floats([value], &dev);
        let total = |c: &DnmConfig| {
            total_loss(c, 0, flow_t(), None, zero(), 0.0, 0.0)
                .total
                .into_scalar()
        };
        assert_eq!(total(&config), 2.0 * value);
        // R = 5 − 2 = 3 receivers: the per-receiver flow is v²/9.
        let per_receiver = config.clone().with_flow_per_receiver(true);
        assert!((total(&per_receiver) - 2.0 * value / 9.0).abs() < 1e-6);
        let want: f32 = (0.5 + 0.25 + 1.0 - (0.2 + 0.1)) * (0.5 + 0.25 + 1.0 - (0.2 + 0.1));
        // Five f32 terms of magnitude ≤ 1, squared: a few ulps of 2.1 (ulp ≈ 2.4e-7).
        assert!((value - want).abs() < 1e-6, "flow {value}, want {want}");
    }

    #[test]
    fn the_density_term_warms_up_linearly_over_sparse_warmup_steps() {
        // λ_sparse 8, warm-up over 4 steps, surrogate s = 0.5: the term is λ(t)·s² with
        // λ(t) = 8·min(t/4, 1), so 0, 1, 2 at steps 0, 2, 4 and 2 after.
        let dev = Default::default();
        let config = DnmConfig::new()
            .with_lambda_obj(0.0)
            .with_lambda_flow(0.0)
            .with_lambda_sparse(8.0)
            .with_density_term(DensityTerm::Surrogate)
            .with_sparse_warmup(4);
        let zero = || Tensor::<B, 1>::zeros([1], &dev);
        let at = |step| {
            let s = Tensor::<B, 1>::from_floats([0.5], &dev);
            let total = total_loss(&config, step, zero(), Some(s), zero(), 0.0, 0.0);
            f64::from(total.total.into_scalar())
        };
        for (step, want) in [(0, 0.0), (1, 0.5), (2, 1.0), (4, 2.0), (40, 2.0)] {
            assert_eq!(at(step), want, "step {step}");
        }
        // Without a warm-up the full weight applies from the first step.
        assert_eq!(config.with_sparse_warmup(0).lambda_sparse_at(0), 8.0);
    }

    #[test]
    fn memory_term_is_lambda_times_the_surrogate_activation_mib_by_hand() {
        // N = 5 (2 inputs, 2 comps, 1 output): 9 allowed cells; batch 3, one time step.
        let dev = Default::default();
        let config = DnmConfig::new()
            .with_neurons(5)
            .with_inputs(2)
            .with_outputs(1)
            .with_batch_size(3)
            .with_lambda_obj(0.0)
            .with_lambda_flow(0.0)
            .with_lambda_sparse(0.0)
            .with_lambda_memory(2.0);
        assert_eq!(config.geometry().max_cells(), 9);
        assert_eq!(config.activation_mib(9.0), 4.0 * 9.0 * 3.0 / 1048576.0);
        let s = Tensor::<B, 1>::from_floats([0.5], &dev);
        let zero = || Tensor::<B, 1>::zeros([1], &dev);
        let total = total_loss(&config, 0, zero(), Some(s), zero(), 0.0, 0.0)
            .total
            .into_scalar();
        let want = 2.0 * 0.5 * 4.0 * 9.0 * 3.0 / 1048576.0;
        assert!(
            (f64::from(total) - want).abs() < 1e-9,
            "{total} against {want}"
        );
        // Row-MNIST holds 28 time steps.
        let rows = config.with_task(crate::config::Task::RowMnist);
        assert_eq!(rows.activation_mib(9.0), 28.0 * 4.0 * 9.0 * 3.0 / 1048576.0);
    }
}
