//! The DNM's losses.
//!
//! ```text
//! objective = softmax cross-entropy (MNIST) or MSE (toy), batch mean
//! flow      = (Σ_{comp i, input j} |D_ij| − Σ_{output i, comp j} |D_ij|)²
//! density   = ρ (count, zero gradient: the original) or the surrogate s
//! total     = λ_obj·objective + λ_flow·flow + λ_sparse·density² + λ_time·t_ms·s
//! ```

use burn::nn::loss::CrossEntropyLossConfig;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::closeness::Grid;
use crate::config::{DensityTerm, DnmConfig};

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
        Target::Labels(labels) => CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits, labels.clone()),
        Target::Values(y) => (logits - y.clone()).square().mean(),
    }
}

/// "What goes in must come out": `(Σ|D_comp,input| − Σ|D_output,comp|)²`.
pub fn flow<B: Backend>(d: &Tensor<B, 2>, grid: &Grid<B>) -> Tensor<B, 1> {
    let (n_in, n_comp) = (grid.inputs, grid.comps);
    let into = d.clone().slice([0..n_comp, 0..n_in]).abs().sum();
    let out = d
        .clone()
        .slice([n_comp..grid.rows(), n_in..grid.cols()])
        .abs()
        .sum();
    (into - out).square()
}

/// The terms of one step's loss.
#[derive(Debug, Clone)]
pub struct LossTerms<B: Backend> {
    pub total: Tensor<B, 1>,
    pub objective: Tensor<B, 1>,
    pub flow: Tensor<B, 1>,
    /// The surrogate density, when the loss needed it.
    pub surrogate: Option<Tensor<B, 1>>,
}

/// `λ_obj·objective + λ_flow·flow + λ_sparse·density² (+ λ_time·t_ms·s)` of the cutoff
/// matrix `d`. `surrogate` is `s`, present when [`DnmConfig::surrogate_needed`] says so;
/// `density` is the true ρ of `d` (used by the `count` term, as a constant).
pub fn total_loss<B: Backend>(
    config: &DnmConfig,
    d: &Tensor<B, 2>,
    surrogate: Option<Tensor<B, 1>>,
    grid: &Grid<B>,
    objective: Tensor<B, 1>,
    density: f64,
    last_step_ms: f64,
) -> LossTerms<B> {
    let flow = flow(d, grid);
    let mut total = objective.clone().mul_scalar(config.lambda_obj)
        + flow.clone().mul_scalar(config.lambda_flow);
    match (config.density_term, &surrogate) {
        (DensityTerm::Surrogate, Some(s)) if config.lambda_sparse > 0.0 => {
            total = total + s.clone().square().mul_scalar(config.lambda_sparse);
        }
        _ => total = total.add_scalar(config.lambda_sparse * density * density),
    }
    if let (Some(s), true) = (&surrogate, config.lambda_time > 0.0) {
        total = total + s.clone().mul_scalar(config.lambda_time * last_step_ms);
    }
    LossTerms {
        total,
        objective,
        flow,
        surrogate,
    }
}
