//! The SET-MLP: sparse layers with ReLU between them (dropout on hidden activations
//! while training), softmax + cross-entropy on the last layer's outputs.

use crate::kernels::SetBackend;
use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};
use rand::SeedableRng;

use crate::config::{ComputePath, SetConfig};
use crate::layer::{Connections, SparseLinear};
use crate::topology::{erdos_renyi, init_std, normal_weights};

/// A multilayer perceptron whose every layer is a [`SparseLinear`].
#[derive(Module, Debug)]
pub struct SetMlp<B: Backend> {
    /// The sparse layers, input to output.
    pub layers: Vec<SparseLinear<B>>,
    /// Dropout on hidden activations (active only while training).
    pub dropout: Dropout,
}

/// The RNG of layer `l`'s initial topology and weights.
fn layer_rng(seed: u64, layer: usize) -> rand::rngs::StdRng {
    rand::rngs::StdRng::seed_from_u64(seed.wrapping_mul(0x2545_F491_4F6C_DD1D) ^ (layer as u64 + 1))
}

impl<B: Backend> SetMlp<B> {
    /// Erdős–Rényi topologies of the config's density, weights `N(0, 2/(density·n_in))`.
    pub fn new(config: &SetConfig, device: &B::Device) -> Self {
        let widths = config.widths();
        let layers = widths
            .windows(2)
            .enumerate()
            .map(|(l, w)| {
                let (n_in, n_out) = (w[0], w[1]);
                let density = config.layer_density(n_in, n_out);
                let mut rng = layer_rng(config.seed, l);
                let (rows, cols) = erdos_renyi(n_in, n_out, density, &mut rng);
                let weights = normal_weights(rows.len(), init_std(n_in, density), &mut rng);
                SparseLinear::new(
                    n_in,
                    n_out,
                    &Connections {
                        rows,
                        cols,
                        weights,
                    },
                    device,
                )
            })
            .collect();
        Self {
            layers,
            dropout: DropoutConfig::new(config.dropout).init(),
        }
    }

    /// Connections of every layer.
    pub fn connection_counts(&self) -> Vec<usize> {
        self.layers.iter().map(|l| l.nnz()).collect()
    }

    /// Total connections over the dense weight count `Σ n_in·n_out`.
    pub fn density(&self) -> f64 {
        let dense: usize = self.layers.iter().map(|l| l.n_in * l.n_out).sum();
        self.connection_counts().iter().sum::<usize>() as f64 / dense as f64
    }
}

impl<B: SetBackend> SetMlp<B> {
    /// Logits `[batch, classes]` of images `[batch, inputs]`.
    pub fn forward(&self, x: Tensor<B, 2>, path: ComputePath) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        let mut h = x.transpose();
        for (l, layer) in self.layers.iter().enumerate() {
            h = layer.forward(h, path);
            if l < last {
                h = self.dropout.forward(relu(h));
            }
        }
        h.transpose()
    }

    /// Mean cross-entropy of a batch.
    pub fn loss(
        &self,
        x: Tensor<B, 2>,
        labels: Tensor<B, 1, Int>,
        path: ComputePath,
    ) -> Tensor<B, 1> {
        manifold_train::cross_entropy(self.forward(x, path), labels)
    }
}
