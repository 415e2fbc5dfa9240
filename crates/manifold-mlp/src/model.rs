//! The dense MLP: `h₀ = x`, `hₖ = relu(hₖ₋₁ Wₖ + bₖ)` for the hidden layers,
//! logits `z = h_L W + b`, `p = softmax(z)`, loss `−mean log p[label]`.
//! He initialisation: `W ~ N(0, 2 / fan_in)`, `b = 0`.

use burn::module::{Module, Param};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

use crate::config::MlpConfig;

#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    layers: Vec<Linear<B>>,
}

impl<B: Backend> Mlp<B> {
    /// A freshly initialised network (He-normal weights, zero biases).
    pub fn new(config: &MlpConfig, device: &B::Device) -> Self {
        let widths = config.widths();
        let layers = widths
            .windows(2)
            .map(|w| {
                let mut layer = LinearConfig::new(w[0], w[1])
                    .with_initializer(Initializer::KaimingNormal {
                        gain: std::f64::consts::SQRT_2,
                        fan_out_only: false,
                    })
                    .init(device);
                layer.bias = Some(Param::from_tensor(Tensor::zeros([w[1]], device)));
                layer
            })
            .collect();
        Self { layers }
    }

    /// Logits `[batch, classes]` of a batch of flattened images `[batch, inputs]`.
    pub fn forward(&self, x: Tensor<B, 2>) -> Tensor<B, 2> {
        let last = self.layers.len() - 1;
        self.layers.iter().enumerate().fold(x, |h, (i, layer)| {
            let z = layer.forward(h);
            if i == last {
                z
            } else {
                relu(z)
            }
        })
    }

    /// Mean softmax cross-entropy of the logits against the labels.
    pub fn loss(&self, x: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> Tensor<B, 1> {
        let logits = self.forward(x);
        CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits, labels)
    }

    /// Layer widths from input to output.
    pub fn widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.layers.iter().map(|l| l.weight.dims()[0]).collect();
        w.extend(self.layers.last().map(|l| l.weight.dims()[1]));
        w
    }
}
