//! The closeness matrix `D`: the whole receivers × senders grid as one tensor expression.
//!
//! Receivers `i ∈ [n_in, N)` are rows `r = i − n_in` (`R = N − n_in`), senders
//! `j ∈ [0, N − n_out)` are columns (`C = N − n_out`). A cell is allowed iff `j < i`
//! (comps read inputs and earlier comps, outputs read everything).
//!
//! ```text
//! p_rj = (j − i) + d_r,          d = linspace(n_in, n_out, R)
//! α' = 2σ(α) − 1   β' = β + 1   γ' = σ(γ)   θ' = softplus(θ)/ln 2   σ' = softplus(σ)
//! f_rj = α'·exp(−(p − μ)²/(2σ'²)) · ((0.501 + 0.5·sin(2πp/(Pθ') + φ))^β' − γ')
//! c    = sigmoid(κ)
//! D_rj = sign(f)·max(|f| − c, 0)/(1 − c)   on allowed cells, else 0
//! ```

use burn::tensor::activation::{relu, sigmoid, softplus};
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::config::DnmConfig;

/// The fixed geometry of the grid: coordinates `p`, the allowed-cell mask, the sizes.
#[derive(Debug, Clone)]
pub struct Grid<B: Backend> {
    /// `p_rj`, `[R, C]`.
    pub p: Tensor<B, 2>,
    /// 1 on allowed cells, 0 elsewhere, `[R, C]`.
    pub allowed: Tensor<B, 2>,
    pub inputs: usize,
    pub outputs: usize,
    pub comps: usize,
    /// Period P.
    pub period: f64,
}

impl<B: Backend> Grid<B> {
    /// The grid of a network with `neurons` = N, `inputs` = n_in, `outputs` = n_out.
    pub fn new(
        neurons: usize,
        inputs: usize,
        outputs: usize,
        period: f64,
        device: &B::Device,
    ) -> Self {
        let (rows, cols) = (neurons - inputs, neurons - outputs);
        let mut p = Vec::with_capacity(rows * cols);
        let mut allowed = Vec::with_capacity(rows * cols);
        for r in 0..rows {
            let i = inputs + r;
            let d = if rows > 1 {
                inputs as f64 + (outputs as f64 - inputs as f64) * r as f64 / (rows - 1) as f64
            } else {
                inputs as f64
            };
            for j in 0..cols {
                p.push((j as f64 - i as f64 + d) as f32);
                allowed.push(if j < i { 1.0f32 } else { 0.0 });
            }
        }
        Self {
            p: Tensor::from_data(TensorData::new(p, [rows, cols]), device),
            allowed: Tensor::from_data(TensorData::new(allowed, [rows, cols]), device),
            inputs,
            outputs,
            comps: neurons - inputs - outputs,
            period,
        }
    }

    /// The grid of a config.
    pub fn of(config: &DnmConfig, device: &B::Device) -> Self {
        Self::new(
            config.neurons,
            config.inputs,
            config.outputs,
            config.period,
            device,
        )
    }

    /// Receiving neurons R.
    pub fn rows(&self) -> usize {
        self.comps + self.outputs
    }

    /// Sending neurons C.
    pub fn cols(&self) -> usize {
        self.inputs + self.comps
    }

    /// Allowed cells: `(N² − n_in² − n_out² − n_comp)/2`.
    pub fn max_cells(&self) -> usize {
        let n = self.inputs + self.comps + self.outputs;
        (n * n - self.inputs * self.inputs - self.outputs * self.outputs - self.comps) / 2
    }
}

/// The seven raw parameters of every receiving neuron (`[R]` each) and the raw κ (`[1]`).
pub struct RawShape<B: Backend> {
    pub alpha: Tensor<B, 1>,
    pub beta: Tensor<B, 1>,
    pub gamma: Tensor<B, 1>,
    pub theta: Tensor<B, 1>,
    pub phi: Tensor<B, 1>,
    pub sigma: Tensor<B, 1>,
    pub mu: Tensor<B, 1>,
    pub kappa: Tensor<B, 1>,
}

/// `f` (before the cutoff), the cutoff `c` (`[1, 1]`) and `D`.
#[derive(Debug, Clone)]
pub struct Closeness<B: Backend> {
    pub f: Tensor<B, 2>,
    pub c: Tensor<B, 2>,
    pub d: Tensor<B, 2>,
}

fn column<B: Backend>(t: Tensor<B, 1>) -> Tensor<B, 2> {
    t.unsqueeze_dim(1)
}

/// The closeness function `f` over the whole grid (see the module docs).
pub fn closeness_f<B: Backend>(raw: &RawShape<B>, grid: &Grid<B>) -> Tensor<B, 2> {
    let two_pi = 2.0 * std::f64::consts::PI;
    let amp = column(sigmoid(raw.alpha.clone()).mul_scalar(2.0).sub_scalar(1.0));
    let power = column(raw.beta.clone().add_scalar(1.0));
    let shift = column(sigmoid(raw.gamma.clone()));
    let theta = softplus(raw.theta.clone(), 1.0).div_scalar(std::f64::consts::LN_2);
    let freq = column(theta.recip().mul_scalar(two_pi / grid.period));
    let width = softplus(raw.sigma.clone(), 1.0);
    let neg_inv_2s2 = column(width.square().recip().mul_scalar(-0.5));
    let gauss = (grid.p.clone() - column(raw.mu.clone()))
        .square()
        .mul(neg_inv_2s2)
        .exp();
    let wave = (grid.p.clone() * freq + column(raw.phi.clone()))
        .sin()
        .mul_scalar(0.5)
        .add_scalar(0.501);
    let shaped = (wave.log() * power).exp() - shift;
    gauss * shaped * amp
}

/// `f`, `c = sigmoid(κ)` and `D = sign(f)·max(|f| − c, 0)/(1 − c)` on allowed cells.
pub fn closeness<B: Backend>(raw: &RawShape<B>, grid: &Grid<B>) -> Closeness<B> {
    let f = closeness_f(raw, grid);
    let c = sigmoid(raw.kappa.clone()).unsqueeze_dim::<2>(0);
    let scale = (c.clone().neg().add_scalar(1.0)).recip();
    let kept = relu(f.clone().abs() - c.clone());
    let d = kept * (f.clone().sign() * grid.allowed.clone()) * scale;
    Closeness { f, c, d }
}

/// The differentiable density surrogate `Σ_allowed sigmoid(k·(|f| − c)) / max_cells`,
/// which tracks `ρ = #{allowed, D ≠ 0}/max_cells` as `k` grows.
pub fn density_surrogate<B: Backend>(
    cl: &Closeness<B>,
    grid: &Grid<B>,
    sharpness: f64,
) -> Tensor<B, 1> {
    let s = sigmoid((cl.f.clone().abs() - cl.c.clone()).mul_scalar(sharpness));
    (s * grid.allowed.clone())
        .sum()
        .div_scalar(grid.max_cells() as f64)
}
