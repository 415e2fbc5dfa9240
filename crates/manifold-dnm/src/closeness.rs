//! The closeness matrix `D`: the whole receivers × senders grid as one tensor expression.
//!
//! Receivers `i ∈ [n_in, N)` are rows `r = i − n_in` (`R = N − n_in`), senders
//! `j ∈ [0, N − n_out)` are columns (`C = N − n_out`). A cell is allowed iff `j < i`
//! (comps read inputs and earlier comps, outputs read everything).
//!
//! ```text
//! p_rj = (j − i) + d_r,          d = linspace(n_in, n_out, R)
//! α' = 2σ(α) − 1   β' = β + 1   γ' = σ(γ)   θ' = softplus(θ)/ln 2   σ' = softplus(σ)
//! f_rj = α'·exp(−δ²/(2σ'²)) · ((0.501 + 0.5·sin(2πp/(Pθ') + φ))^β' − γ')
//! c    = sigmoid(κ)
//! D_rj = sign(f)·max(|f| − c, 0)/(1 − c)   on allowed cells, else 0
//! ```
//!
//! where the gaussian's squared distance `δ²` is `(p − μ)²`, or under the patch window
//! ([`Window::Patch`]) on input columns `z_x² + z_y² + e²` with `z = p − μ` folded by `P`
//! into image rows `z_y = ⌊z/P + ½⌋` and columns `z_x = z − P·z_y`, and `e` how far the
//! row's centre sender `j* = j − z` lies past the last input; under [`Window::Patches`]
//! the first comp layer's columns are folded the same way after stretching `z` to pixels
//! (module docs of [`crate::Geometry`]'s [`Window`]).

use crate::{Geometry, Window};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::config::{DnmConfig, Precision};

/// The fixed geometry of the grid: the sizes, and (built on first use) the coordinates
/// `p`, the allowed-cell mask and the flow signs as `[R, C]` tensors. The fused kernels
/// never ask for the tensors, so a network trained through them never holds anything of
/// the grid's size.
#[derive(Debug, Clone)]
pub struct Grid<B: Backend> {
    /// Input neurons n_in.
    pub inputs: usize,
    /// Output neurons n_out.
    pub outputs: usize,
    /// Computing (hidden) neurons n_comp = N − n_in − n_out.
    pub comps: usize,
    /// Period P.
    pub period: f64,
    /// The form of the gaussian window over the inputs.
    pub window: Window,
    /// The float the CPU passes over the kept cells compute in.
    pub precision: Precision,
    device: B::Device,
    dense: std::cell::OnceCell<DenseGrid<B>>,
}

/// The grid's `[R, C]` tensors.
#[derive(Debug, Clone)]
struct DenseGrid<B: Backend> {
    p: Tensor<B, 2>,
    allowed: Tensor<B, 2>,
    flow_sign: Tensor<B, 2>,
    /// The senders' indices `j`, `[1, C]`.
    columns: Tensor<B, 2>,
    /// 1 on input columns, 0 elsewhere, `[1, C]`.
    pixels: Tensor<B, 2>,
    /// 1 on the columns of [`Window::Patches`]' comp map, 0 elsewhere, `[1, C]`.
    plane: Tensor<B, 2>,
    /// Pixels per column: the map's stretch `s` on its columns, 1 elsewhere, `[1, C]`.
    stretch: Tensor<B, 2>,
}

impl<B: Backend> Grid<B> {
    /// The grid of a network with `neurons` = N, `inputs` = n_in, `outputs` = n_out, with
    /// the line window (the original; [`Grid::with_window`] sets another).
    pub fn new(
        neurons: usize,
        inputs: usize,
        outputs: usize,
        period: f64,
        device: &B::Device,
    ) -> Self {
        Self {
            inputs,
            outputs,
            comps: neurons - inputs - outputs,
            period,
            window: Window::Line,
            precision: Precision::F64,
            device: device.clone(),
            dense: std::cell::OnceCell::new(),
        }
    }

    /// The same grid with the gaussian window `window` over the inputs.
    pub fn with_window(self, window: Window) -> Self {
        Self { window, ..self }
    }

    /// The same grid with the CPU passes over the kept cells computed in `precision`.
    pub fn with_precision(self, precision: Precision) -> Self {
        Self { precision, ..self }
    }

    fn dense(&self) -> &DenseGrid<B> {
        self.dense.get_or_init(|| {
            let g = self.geometry();
            let (rows, cols) = (g.rows(), g.cols());
            let mut p = Vec::with_capacity(rows * cols);
            let mut allowed = Vec::with_capacity(rows * cols);
            let mut flow_sign = Vec::with_capacity(rows * cols);
            for r in 0..rows {
                let i = self.inputs + r;
                let (d, (block, sign)) = (g.offset(r), g.flow_block(r));
                for j in 0..cols {
                    p.push(j as f64 - i as f64 + d);
                    allowed.push(if j < i { 1.0f32 } else { 0.0 });
                    flow_sign.push(if block.contains(&j) { sign as f32 } else { 0.0 });
                }
            }
            let tensor = |data: TensorData| Tensor::from_data(data, &self.device);
            let on_plane = |j: usize| (self.inputs..g.plane_end()).contains(&j);
            DenseGrid {
                p: tensor(TensorData::new(p, [rows, cols])),
                allowed: tensor(TensorData::new(allowed, [rows, cols])),
                flow_sign: tensor(TensorData::new(flow_sign, [rows, cols])),
                columns: tensor(TensorData::new(
                    (0..cols).map(|j| j as f32).collect(),
                    [1, cols],
                )),
                pixels: tensor(TensorData::new(
                    (0..cols).map(|j| (j < self.inputs) as u8 as f32).collect(),
                    [1, cols],
                )),
                plane: tensor(TensorData::new(
                    (0..cols).map(|j| on_plane(j) as u8 as f32).collect(),
                    [1, cols],
                )),
                stretch: tensor(TensorData::new(
                    (0..cols)
                        .map(|j| match on_plane(j) {
                            true => g.plane_stretch() as f32,
                            false => 1.0,
                        })
                        .collect(),
                    [1, cols],
                )),
            }
        })
    }

    /// `p_rj`, `[R, C]`.
    pub fn p(&self) -> Tensor<B, 2> {
        self.dense().p.clone()
    }

    /// 1 on allowed cells, 0 elsewhere, `[R, C]`.
    pub fn allowed(&self) -> Tensor<B, 2> {
        self.dense().allowed.clone()
    }

    /// The flow loss's signs, `[R, C]`: +1 on comp ← input cells, −1 on output ← comp
    /// cells, 0 elsewhere, so that `flow = (Σ |D|·flow_sign)²` needs no slice.
    pub fn flow_sign(&self) -> Tensor<B, 2> {
        self.dense().flow_sign.clone()
    }

    /// The squared distance `δ²` of the gaussian from `z = p − μ`, `[R, C]`: `z²`, or under
    /// [`Window::Patch`] on input columns `z` folded by the period, plus how far the
    /// centre lies past the inputs, and under [`Window::Patches`] on the comp map's
    /// columns `z` stretched to pixels and folded, plus how far the centre lies outside
    /// the map (module docs).
    pub fn distance2(&self, z: Tensor<B, 2>) -> Tensor<B, 2> {
        match self.window {
            Window::Line => z.square(),
            Window::Patch | Window::Patches => {
                let DenseGrid {
                    columns,
                    pixels,
                    plane,
                    stretch,
                    ..
                } = self.dense();
                let g = self.geometry();
                let centre = columns.clone() - z.clone();
                let u = z * stretch.clone();
                let folded = pixels.clone() + plane.clone();
                let rows = u.clone().div_scalar(self.period).add_scalar(0.5).floor();
                let rows = rows.detach() * folded;
                let last_input = (self.inputs - 1) as f64;
                let (first_comp, last_comp) = (self.inputs as f64, (g.plane_end() - 1) as f64);
                let outside =
                    relu(centre.clone().sub_scalar(last_comp)) + relu(-centre.clone() + first_comp);
                let beyond = relu(centre.sub_scalar(last_input)) * pixels.clone()
                    + outside * plane.clone().mul_scalar(g.plane_stretch());
                let z_x = u - rows.clone().mul_scalar(self.period);
                z_x.square() + rows.square() + beyond.square()
            }
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
        .with_window(config.window)
        .with_precision(config.precision)
    }

    /// Receiving neurons R.
    pub fn rows(&self) -> usize {
        self.geometry().rows()
    }

    /// Sending neurons C.
    pub fn cols(&self) -> usize {
        self.geometry().cols()
    }

    /// Allowed cells: `(N² − n_in² − n_out² − n_comp)/2`.
    pub fn max_cells(&self) -> usize {
        self.geometry().max_cells()
    }

    /// The sizes and period, as the fused kernels of [`crate::kernels`] take them.
    pub fn geometry(&self) -> Geometry {
        Geometry {
            inputs: self.inputs,
            comps: self.comps,
            outputs: self.outputs,
            period: self.period,
            window: self.window,
        }
    }
}

/// The seven raw parameters of every receiving neuron (`[R]` each) and the raw κ (`[1]`).
pub struct RawShape<B: Backend> {
    /// Raw amplitude α, `[R]`; the amplitude is `α' = 2σ(α) − 1 ∈ (−1, 1)`.
    pub alpha: Tensor<B, 1>,
    /// Raw exponent β, `[R]`; the wave is raised to `β' = β + 1`.
    pub beta: Tensor<B, 1>,
    /// Raw shift γ, `[R]`; `γ' = σ(γ) ∈ (0, 1)` is subtracted from the raised wave.
    pub gamma: Tensor<B, 1>,
    /// Raw period factor θ, `[R]`; the sine's period is `P·θ'` with `θ' = softplus(θ)/ln 2`.
    pub theta: Tensor<B, 1>,
    /// Phase φ of the sine, `[R]`, in radians.
    pub phi: Tensor<B, 1>,
    /// Raw gaussian width σ, `[R]`; the width is `σ' = softplus(σ)`.
    pub sigma: Tensor<B, 1>,
    /// Centre μ of the gaussian, `[R]`, in grid coordinates `p`.
    pub mu: Tensor<B, 1>,
    /// Raw cutoff κ, `[1]`; the cutoff is `c = sigmoid(κ)`.
    pub kappa: Tensor<B, 1>,
}

/// `f` (before the cutoff), the cutoff `c` (`[1, 1]`) and `D`.
#[derive(Debug, Clone)]
pub struct Closeness<B: Backend> {
    /// The closeness function `f` before the cutoff, `[R, C]` (every cell, allowed or not).
    pub f: Tensor<B, 2>,
    /// The cutoff `c = sigmoid(κ)`, `[1, 1]`.
    pub c: Tensor<B, 2>,
    /// The cutoff matrix `D`, `[R, C]`: `sign(f)·max(|f| − c, 0)/(1 − c)` on allowed cells, else 0.
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
    let theta = softplus(raw.theta.clone()).div_scalar(std::f64::consts::LN_2);
    let freq = column(theta.recip().mul_scalar(two_pi / grid.period));
    let width = softplus(raw.sigma.clone());
    let neg_inv_2s2 = column(width.square().recip().mul_scalar(-0.5));
    let gauss = grid
        .distance2(grid.p() - column(raw.mu.clone()))
        .mul(neg_inv_2s2)
        .exp();
    let wave = reduced_phase(grid.p() * freq + column(raw.phi.clone()))
        .sin()
        .mul_scalar(0.5)
        .add_scalar(0.501);
    let shaped = (wave.log() * power).exp() - shift;
    gauss * shaped * amp
}

/// `softplus(x) = ln(1 + eˣ)`, computed as `ln(1 + e^min(x, 30)) + max(x − 30, 0)` so
/// that it never overflows (`eˣ` is `inf` in f32 from x ≈ 88, and the `seed-mnist`
/// preset starts σ near 148) and keeps its gradient `sigmoid(x)` (exact to f32 beyond 30).
pub fn softplus<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    const BEND: f64 = 30.0;
    x.clone().clamp_max(BEND).exp().log1p() + relu(x.sub_scalar(BEND))
}

/// `sigmoid(x) = e^−softplus(−x)`, in the backend's own precision. Burn's `sigmoid`
/// computes in f32 even on an f64 backend, which made finite-difference checks of
/// α, γ and κ wrong by percents; this form never overflows either.
pub fn sigmoid<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    softplus(x.neg()).neg().exp()
}

/// `x − 2π·⌊x/2π⌋`: the same sine, but an argument in `[0, 2π)`. GPU sines lose
/// accuracy on large arguments (|p·freq| reaches hundreds of radians at N = 1000);
/// the floor is piecewise constant, so the gradient is unchanged.
pub fn reduced_phase<B: Backend, const D: usize>(x: Tensor<B, D>) -> Tensor<B, D> {
    let two_pi = 2.0 * std::f64::consts::PI;
    let turns = x.clone().div_scalar(two_pi).floor().detach();
    x - turns.mul_scalar(two_pi)
}

/// `f`, `c = sigmoid(κ)` and `D = sign(f)·max(|f| − c, 0)/(1 − c)` on allowed cells.
pub fn closeness<B: Backend>(raw: &RawShape<B>, grid: &Grid<B>) -> Closeness<B> {
    let f = closeness_f(raw, grid);
    let c = sigmoid(raw.kappa.clone()).unsqueeze_dim::<2>(0);
    // 1/(1 − c) as 1/σ(−κ): `1 − c` cancels to 0 in f32 from κ ≈ 17 (then 0·∞ = NaN).
    let scale = sigmoid(raw.kappa.clone().neg())
        .unsqueeze_dim::<2>(0)
        .recip();
    let kept = relu(f.clone().abs() - c.clone());
    let d = kept * (f.clone().sign() * grid.allowed()) * scale;
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
    (s * grid.allowed())
        .sum()
        .div_scalar(grid.max_cells() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use burn::tensor::TensorData;

    type B = Autodiff<burn_ndarray::NdArray<f32>>;

    fn host<const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
        t.into_data().convert::<f32>().to_vec().unwrap()
    }

    /// `y = f(x)` at the points `xs`, and the gradient of `Σ outer(y)` with respect to x.
    fn value_and_grad(
        xs: &[f32],
        f: impl Fn(Tensor<B, 1>) -> Tensor<B, 1>,
        outer: impl Fn(Tensor<B, 1>) -> Tensor<B, 1>,
    ) -> (Vec<f32>, Vec<f32>) {
        let x = Tensor::<B, 1>::from_data(
            TensorData::new(xs.to_vec(), [xs.len()]),
            &Default::default(),
        )
        .require_grad();
        let y = f(x.clone());
        let grads = outer(y.clone()).sum().backward();
        let g = x.grad(&grads).unwrap().into_data().convert::<f32>();
        (host(y), g.to_vec::<f32>().unwrap())
    }

    #[test]
    fn softplus_is_exact_and_finite_far_out_with_sigmoid_gradient() {
        let xs = [-200.0f32, -1.0, 0.0, 2.0, 148.0, 200.0];
        let (y, g) = value_and_grad(&xs, softplus, |y| y);
        for ((x, y), g) in xs.iter().zip(y).zip(g) {
            let want = (*x as f64).exp().ln_1p();
            let want = if want.is_finite() { want } else { *x as f64 };
            assert!(
                (y as f64 - want).abs() < 1e-5 * (1.0 + want),
                "softplus({x}) = {y}"
            );
            let s = 1.0 / (1.0 + (-*x as f64).exp());
            assert!(
                (g as f64 - s).abs() < 1e-6,
                "softplus'({x}) = {g}, want {s}"
            );
        }
    }

    #[test]
    fn reduced_phase_keeps_the_sine_and_the_gradient() {
        let xs = [-700.3f32, -1.0, 0.5, 7.0, 951.25];
        let (r, g) = value_and_grad(&xs, reduced_phase, |r| r.sin());
        for ((x, r), g) in xs.iter().zip(r).zip(g) {
            assert!(
                (0.0..std::f32::consts::TAU + 1e-4).contains(&r),
                "reduced {x} to {r}"
            );
            assert!((r.sin() - x.sin()).abs() < 2e-4, "sin {x}");
            assert!((g - x.cos()).abs() < 2e-4, "d sin/dx at {x}: {g}");
        }
    }
}
