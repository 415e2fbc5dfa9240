//! Adam over the SET-MLP's own parameter vectors, with per-entry step counts so that a
//! recycled connection restarts exactly like a new one.
//!
//! For every weight (and bias) entry i with gradient gᵢ:
//! - penalties (weights only): gᵢ ← gᵢ + λ₂·wᵢ + λ₁·sign(wᵢ) (λ₂ term omitted when decoupled);
//! - tᵢ ← tᵢ + 1, mᵢ ← β₁mᵢ + (1−β₁)gᵢ, vᵢ ← β₂vᵢ + (1−β₂)gᵢ²;
//! - wᵢ ← wᵢ − η·(mᵢ/(1−β₁^tᵢ)) / (√(vᵢ/(1−β₂^tᵢ)) + 10⁻⁸)  [− η·λ₂·wᵢ when decoupled].
//!
//! Resetting entry i sets mᵢ = vᵢ = tᵢ = 0.

use burn::module::{Module, Param, ParamId};
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;

use crate::config::SetConfig;
use crate::layer::{host_f32, vector, SparseLinear};
use crate::model::SetMlp;

const EPS: f64 = 1e-8;

/// Adam state of one parameter vector: moments and per-entry step counts.
#[derive(Module, Debug)]
pub struct Moments<B: Backend> {
    /// First moments `mᵢ`, one per entry.
    pub m: Param<Tensor<B, 1>>,
    /// Second moments `vᵢ`, one per entry.
    pub v: Param<Tensor<B, 1>>,
    /// Step counts `tᵢ`, one per entry (as floats).
    pub t: Param<Tensor<B, 1>>,
}

impl<B: Backend> Moments<B> {
    fn zeros(n: usize, device: &B::Device) -> Self {
        let z = || Param::initialized(ParamId::new(), Tensor::zeros([n], device));
        Self {
            m: z(),
            v: z(),
            t: z(),
        }
    }

    /// Zeroes m, v and t at `slots`.
    pub fn reset(&mut self, slots: &[usize]) {
        for p in [&mut self.m, &mut self.v, &mut self.t] {
            let device = p.device();
            let mut host = host_f32(p.val());
            for &k in slots {
                host[k] = 0.0;
            }
            *p = Param::initialized(p.id, vector(host, &device));
        }
    }

    /// One Adam step of `w` with gradient `g`; returns the new `w`.
    fn step(
        &mut self,
        w: Tensor<B, 1>,
        g: Tensor<B, 1>,
        lr: f64,
        b1: f64,
        b2: f64,
    ) -> Tensor<B, 1> {
        let t = self.t.val() + 1.0;
        let m = self.m.val() * b1 + g.clone() * (1.0 - b1);
        let v = self.v.val() * b2 + g.powi_scalar(2) * (1.0 - b2);
        let c1 = -(t.clone() * b1.ln()).exp() + 1.0;
        let c2 = -(t.clone() * b2.ln()).exp() + 1.0;
        let update = (m.clone() / c1) / ((v.clone() / c2).sqrt() + EPS);
        self.m = Param::initialized(self.m.id, m);
        self.v = Param::initialized(self.v.id, v);
        self.t = Param::initialized(self.t.id, t);
        w - update * lr
    }
}

/// The optimiser state of a whole SET-MLP: one [`Moments`] per weight and bias vector.
#[derive(Module, Debug)]
pub struct SparseAdam<B: Backend> {
    /// State of each layer's weight vector, one per slot.
    pub weights: Vec<Moments<B>>,
    /// State of each layer's bias vector, one per output.
    pub biases: Vec<Moments<B>>,
}

impl<B: Backend> SparseAdam<B> {
    /// Zero state for `model`.
    pub fn new<M: Backend>(model: &SetMlp<M>, device: &B::Device) -> Self {
        Self {
            weights: model
                .layers
                .iter()
                .map(|l| Moments::zeros(l.nnz(), device))
                .collect(),
            biases: model
                .layers
                .iter()
                .map(|l| Moments::zeros(l.n_out, device))
                .collect(),
        }
    }
}

/// One optimiser step for every layer of `model` from the gradients of `loss`.
pub fn adam_step<B: AutodiffBackend>(
    model: SetMlp<B>,
    state: &mut SparseAdam<B::InnerBackend>,
    grads: &B::Gradients,
    lr: f64,
    config: &SetConfig,
) -> SetMlp<B> {
    let SetMlp { layers, dropout } = model;
    let layers = layers
        .into_iter()
        .enumerate()
        .map(|(l, layer)| {
            let (ws, bs) = (&mut state.weights[l], &mut state.biases[l]);
            step_layer(layer, ws, bs, grads, lr, config)
        })
        .collect();
    SetMlp { layers, dropout }
}

fn step_layer<B: AutodiffBackend>(
    layer: SparseLinear<B>,
    ws: &mut Moments<B::InnerBackend>,
    bs: &mut Moments<B::InnerBackend>,
    grads: &B::Gradients,
    lr: f64,
    c: &SetConfig,
) -> SparseLinear<B> {
    let (b1, b2) = (c.beta1, c.beta2);
    let w = layer.weights.val().inner();
    let mut w_new = w.clone();
    if let Some(mut g) = layer.weights.grad(grads) {
        if c.l2 > 0.0 && !c.decoupled {
            g = g + w.clone() * c.l2;
        }
        if c.l1 > 0.0 {
            g = g + w.clone().sign() * c.l1;
        }
        w_new = ws.step(w.clone(), g, lr, b1, b2);
        if c.l2 > 0.0 && c.decoupled {
            w_new = w_new - w * (lr * c.l2);
        }
    }
    let b = layer.bias.val().inner();
    let b_new = match layer.bias.grad(grads) {
        Some(g) => bs.step(b.clone(), g, lr, b1, b2),
        None => b,
    };
    let (wid, bid) = (layer.weights.id, layer.bias.id);
    SparseLinear {
        weights: Param::initialized(wid, Tensor::from_inner(w_new).require_grad()),
        bias: Param::initialized(bid, Tensor::from_inner(b_new).require_grad()),
        ..layer
    }
}
