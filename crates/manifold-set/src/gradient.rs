//! The dense gradient RigL regrows by: for every layer, `∂L/∂W` of the full
//! `[n_out, n_in]` weight matrix, kept connections and empty positions alike, at the
//! current sparse weights (Evci et al. 2020, "Rigging the Lottery").
//!
//! Each layer's product gets a zero dense matrix `Zₗ` beside its sparse weights,
//! `hₗ = relu(Wₗ hₗ₋₁ + bₗ + Zₗ hₗ₋₁)`; at `Zₗ = 0` the network is unchanged and
//! `∂L/∂Zₗ = δₗ hₗ₋₁ᵀ` is the gradient a dense weight would get at every position.
//! Dropout is off (the gradient of the network as it predicts).

use burn::tensor::activation::relu;
use burn::tensor::{Int, Tensor};

use crate::config::ComputePath;
use crate::kernels::SetAutodiffBackend;
use crate::model::SetMlp;

/// `∂L/∂W` of every layer, row-major `[n_out, n_in]` (`g[col·n_in + row]`), of the mean
/// cross-entropy of images `x` (`[batch, inputs]`) with `labels`.
pub fn dense_gradients<B: SetAutodiffBackend>(
    model: &SetMlp<B>,
    x: Tensor<B, 2>,
    labels: Tensor<B, 1, Int>,
    path: ComputePath,
) -> Vec<Vec<f32>> {
    let device = x.device();
    let probes: Vec<Tensor<B, 2>> = model
        .layers
        .iter()
        .map(|l| Tensor::<B, 2>::zeros([l.n_out, l.n_in], &device).require_grad())
        .collect();
    let last = model.layers.len() - 1;
    let mut h = x.transpose();
    for (l, layer) in model.layers.iter().enumerate() {
        h = layer.forward(h.clone(), path) + probes[l].clone().matmul(h);
        if l < last {
            h = relu(h);
        }
    }
    let loss = manifold_train::cross_entropy(h.transpose(), labels);
    let grads = loss.backward();
    probes
        .iter()
        .map(|p| {
            p.grad(&grads)
                .map(|g| g.into_data().convert::<f32>().to_vec().unwrap_or_default())
                .unwrap_or_default()
        })
        .collect()
}
