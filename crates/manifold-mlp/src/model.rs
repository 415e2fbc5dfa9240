//! The dense MLP: `h₀ = x`, `hₖ = relu(hₖ₋₁ Wₖ + bₖ)` for the hidden layers,
//! logits `z = h_L W + b`, `p = softmax(z)`, loss `−mean log p[label]`.
//! He initialisation: `W ~ N(0, 2 / fan_in)`, `b = 0`.

use burn::module::{Module, Param};
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::optim::GradientsParams;
use burn::tensor::activation::relu;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::module::linear;
use burn::tensor::ops::{ActivationOps, FloatTensor, ModuleOps};
use burn::tensor::{Int, Tensor, TensorData, TensorPrimitive};
use rand::rngs::StdRng;
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

use crate::config::MlpConfig;

/// A dense multilayer perceptron: linear layers with ReLU between them, logits out.
#[derive(Module, Debug)]
pub struct Mlp<B: Backend> {
    layers: Vec<Linear<B>>,
}

impl<B: Backend> Mlp<B> {
    /// A freshly initialised network: He-normal weights `N(0, 2 / fan_in)` and zero
    /// biases, drawn from a generator seeded with `config.seed` — the same numbers on
    /// every backend, whatever else uses the backend's own generator.
    pub fn new(config: &MlpConfig, device: &B::Device) -> Self {
        let mut rng = StdRng::seed_from_u64(config.seed);
        let layers = config
            .widths()
            .windows(2)
            .map(|w| {
                let (fan_in, fan_out) = (w[0], w[1]);
                let he = Normal::new(0.0, (2.0 / fan_in as f64).sqrt()).expect("positive std");
                let values: Vec<f32> = (0..fan_in * fan_out)
                    .map(|_| he.sample(&mut rng) as f32)
                    .collect();
                let mut layer = LinearConfig::new(fan_in, fan_out)
                    .with_initializer(Initializer::Zeros)
                    .init(device);
                layer.weight = Param::from_tensor(Tensor::from_data(
                    TensorData::new(values, [fan_in, fan_out]),
                    device,
                ));
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
        manifold_train::cross_entropy(self.forward(x), labels)
    }

    /// Layer widths from input to output.
    pub fn widths(&self) -> Vec<usize> {
        let mut w: Vec<usize> = self.layers.iter().map(|l| l.weight.dims()[0]).collect();
        w.extend(self.layers.last().map(|l| l.weight.dims()[1]));
        w
    }
}

impl<B: AutodiffBackend> Mlp<B> {
    /// The mean cross-entropy of a batch and the gradient of every parameter, computed
    /// on the inner backend without building an autodiff graph: the operations Burn's
    /// autodiff runs for [`Mlp::loss`], in its order, so the numbers are the same to the
    /// bit (a test checks it).
    ///
    /// ```text
    /// forward    h₀ = x,  zₖ = hₖ₋₁ Wₖ + bₖ,  hₖ = relu(zₖ) (k < L),  z = z_L
    /// loss       ∂L/∂z = (softmax(z) − onehot(y)) / n        (manifold_train::loss)
    /// backward   ∂Wₖ = hₖ₋₁ᵀ ∂zₖ,  ∂bₖ = Σ_rows ∂zₖ,  ∂zₖ₋₁ = (∂zₖ Wₖᵀ) ⊙ [hₖ₋₁ > 0]
    /// ```
    pub fn loss_and_gradients(
        &self,
        x: Tensor<B::InnerBackend, 2>,
        labels: Tensor<B::InnerBackend, 1, Int>,
    ) -> (Tensor<B::InnerBackend, 1>, GradientsParams) {
        let params: Vec<_> = self
            .layers
            .iter()
            .map(|l| {
                (
                    l.weight.val().inner(),
                    l.bias.as_ref().map(|b| b.val().inner()),
                )
            })
            .collect();
        let last = params.len() - 1;
        // The input of each layer (for k > 0, the ReLU output the backward needs).
        let mut inputs = Vec::with_capacity(params.len());
        let mut h = x;
        for (k, (w, b)) in params.iter().enumerate() {
            let z = linear_in_blocks(h.clone(), w.clone(), b.clone());
            inputs.push(h);
            h = if k == last { z } else { relu(z) };
        }
        let (loss, mut grad) = manifold_train::loss::cross_entropy_and_gradient(h, labels);
        let mut grads = GradientsParams::new();
        for (k, layer) in self.layers.iter().enumerate().rev() {
            let input = inputs.pop().expect("one input per layer");
            let g = grad.clone().into_primitive().tensor();
            if k > 0 {
                let w = params[k].0.clone().into_primitive().tensor();
                let dh = B::InnerBackend::linear_x_backward(w, g.clone());
                let out = input.clone().into_primitive().tensor();
                grad = float(B::InnerBackend::relu_backward(out, dh));
            }
            let x = input.into_primitive().tensor();
            if let Some(bias) = &layer.bias {
                grads.register(
                    bias.id,
                    float::<B::InnerBackend, 1>(B::InnerBackend::linear_bias_backward(g.clone())),
                );
            }
            grads.register(
                layer.weight.id,
                float::<B::InnerBackend, 2>(B::InnerBackend::linear_weight_backward(x, g)),
            );
        }
        (loss, grads)
    }
}

/// `x·W + b` with the rows of `x` taken in blocks of `x·W`'s size at most 2¹⁵ − k·n
/// inputs: the same numbers (each output is the same dot product), but burn-ndarray's
/// matrix product (matrixmultiply) hands a product of m·k + k·n ≥ 2¹⁵ inputs to a
/// second thread and waits for it, which for the MLP's first layer (32 × 784 · 784 ×
/// 16) costs more than the product. One block where `k·n` alone reaches that size.
fn linear_in_blocks<B: Backend>(
    x: Tensor<B, 2>,
    w: Tensor<B, 2>,
    b: Option<Tensor<B, 1>>,
) -> Tensor<B, 2> {
    const ONE_THREAD: usize = 1 << 15;
    let ([m, k], [_, n]) = (x.dims(), w.dims());
    let rows = ONE_THREAD.saturating_sub(k * n + 1) / k.max(1);
    if rows == 0 || m * k + k * n < ONE_THREAD {
        return linear(x, w, b);
    }
    let blocks: Vec<_> = (0..m)
        .step_by(rows)
        .map(|r| linear(x.clone().slice(r..(r + rows).min(m)), w.clone(), b.clone()))
        .collect();
    Tensor::cat(blocks, 0)
}

/// A float primitive as a tensor.
fn float<B: Backend, const D: usize>(p: FloatTensor<B>) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(p))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    type B = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;

    fn tiny() -> MlpConfig {
        MlpConfig::new()
            .with_inputs(5)
            .with_hidden(vec![4, 3])
            .with_classes(3)
    }

    #[test]
    fn he_init_has_the_right_spread_and_zero_biases() {
        let dev = Default::default();
        let m = Mlp::<B>::new(&MlpConfig::new().with_seed(1), &dev);
        assert_eq!(m.widths(), vec![784, 16, 16, 10]);
        let w: Vec<f32> = m.layers[0].weight.val().into_data().to_vec().unwrap();
        let std = (w.iter().map(|v| v * v).sum::<f32>() / w.len() as f32).sqrt();
        let he = (2.0f32 / 784.0).sqrt();
        // The sample std of n = 12 544 normal draws has relative sd 1/√(2n) ≈ 0.0063:
        // 0.05 is eight of those.
        assert!((std / he - 1.0).abs() < 0.05, "std {std} vs He {he}");
        for l in &m.layers {
            let b: Vec<f32> = l.bias.as_ref().unwrap().val().into_data().to_vec().unwrap();
            assert!(b.iter().all(|&v| v == 0.0));
        }
    }

    #[test]
    fn loss_is_softmax_cross_entropy_by_hand() {
        let dev = Default::default();
        let m = Mlp::<B>::new(&tiny(), &dev);
        let x = Tensor::<B, 2>::random([4, 5], Distribution::Normal(0.0, 1.0), &dev);
        let labels =
            Tensor::<B, 1, Int>::from_data(TensorData::new(vec![0i64, 2, 1, 2], [4]), &dev);
        let logits: Vec<f32> = m.forward(x.clone()).into_data().to_vec().unwrap();
        let by_hand: f32 = logits
            .chunks(3)
            .zip([0usize, 2, 1, 2])
            .map(|(z, y)| {
                let lse = z.iter().map(|v| v.exp()).sum::<f32>().ln();
                lse - z[y]
            })
            .sum::<f32>()
            / 4.0;
        let loss = m.loss(x, labels).into_scalar();
        // Both in f32 from the same logits (|z| ≲ 5): log-sum-exp and the mean differ by a
        // few ulps of values ≈ 1–5 (ulp ≤ 4.8e-7).
        assert!((loss - by_hand).abs() < 1e-5, "{loss} vs {by_hand}");
    }

    /// Autodiff gradients of every weight and bias against central finite differences.
    #[test]
    fn gradients_match_finite_differences() {
        let dev = Default::default();
        // The biases and inputs below come from the backend's generator, which unseeded
        // draws from OS entropy: a run could then put a ReLU input within `h` of its kink,
        // where a central difference is not the derivative (seen once in CI).
        B::seed(&dev, 5);
        let m = Mlp::<B>::new(&tiny().with_seed(3), &dev);
        // Non-zero biases so that their gradients are exercised too.
        let mut m = m;
        for l in &mut m.layers {
            let n = l.weight.dims()[1];
            l.bias = Some(Param::from_tensor(Tensor::random(
                [n],
                Distribution::Normal(0.0, 0.3),
                &dev,
            )));
        }
        let x = Tensor::<B, 2>::random([6, 5], Distribution::Normal(0.0, 1.0), &dev);
        let labels =
            Tensor::<B, 1, Int>::from_data(TensorData::new(vec![0i64, 1, 2, 2, 1, 0], [6]), &dev);
        let grads = m.loss(x.clone(), labels.clone()).backward();
        let eval = |m: &Mlp<B>| m.loss(x.clone(), labels.clone()).into_scalar() as f64;
        let h = 1e-3f32;
        for (k, layer) in m.layers.iter().enumerate() {
            let g: Vec<f32> = layer
                .weight
                .grad(&grads)
                .unwrap()
                .into_data()
                .to_vec()
                .unwrap();
            let w: Vec<f32> = layer.weight.val().into_data().to_vec().unwrap();
            let shape = layer.weight.dims();
            for i in 0..w.len() {
                let shifted = |d: f32| {
                    let mut v = w.clone();
                    v[i] += d;
                    let mut mm = m.clone();
                    mm.layers[k].weight =
                        Param::from_tensor(Tensor::from_data(TensorData::new(v, shape), &dev));
                    eval(&mm)
                };
                let fd = (shifted(h) - shifted(-h)) / (2.0 * h as f64);
                // f32 central differences with h = 1e-3: rounding ε·|L|/h ≈ 1.2e-4·|L|
                // (|L| ≈ 1) dominates; the seeded inputs keep every ReLU input away
                // from its kink by more than h.
                assert!(
                    (fd - g[i] as f64).abs() < 1e-3 + 1e-2 * fd.abs(),
                    "layer {k} weight {i}: fd {fd} vs autodiff {}",
                    g[i]
                );
            }
            let gb: Vec<f32> = layer
                .bias
                .as_ref()
                .unwrap()
                .grad(&grads)
                .unwrap()
                .into_data()
                .to_vec()
                .unwrap();
            let b: Vec<f32> = layer
                .bias
                .as_ref()
                .unwrap()
                .val()
                .into_data()
                .to_vec()
                .unwrap();
            for i in 0..b.len() {
                let shifted = |d: f32| {
                    let mut v = b.clone();
                    v[i] += d;
                    let mut mm = m.clone();
                    mm.layers[k].bias = Some(Param::from_tensor(Tensor::from_data(
                        TensorData::new(v, [b.len()]),
                        &dev,
                    )));
                    eval(&mm)
                };
                let fd = (shifted(h) - shifted(-h)) / (2.0 * h as f64);
                assert!(
                    (fd - gb[i] as f64).abs() < 1e-3 + 1e-2 * fd.abs(),
                    "layer {k} bias {i}: fd {fd} vs {}",
                    gb[i]
                );
            }
        }
    }

    /// The hand-written step's loss and gradients are autodiff's, bit for bit, on a
    /// minibatch of the default network.
    #[test]
    fn hand_gradients_equal_autodiffs_to_the_bit() {
        let dev = Default::default();
        B::seed(&dev, 7);
        let m = Mlp::<B>::new(&MlpConfig::new().with_seed(2), &dev);
        let x = Tensor::<B, 2>::random([32, 784], Distribution::Uniform(0.0, 1.0), &dev);
        let y: Vec<i64> = (0..32).map(|i| (i * 7 % 10) as i64).collect();
        let labels = Tensor::<B, 1, Int>::from_data(TensorData::new(y, [32]), &dev);
        let loss = m.loss(x.clone(), labels.clone());
        let grads = loss.clone().backward();
        let (value, hand) = m.loss_and_gradients(x.inner(), labels.inner());
        let bits = |t: Vec<f32>| t.into_iter().map(f32::to_bits).collect::<Vec<_>>();
        let v = |t: Tensor<burn_ndarray::NdArray<f32>, 1>| bits(t.into_data().to_vec().unwrap());
        assert_eq!(v(value), v(loss.inner()));
        for layer in &m.layers {
            let auto = layer.weight.grad(&grads).unwrap();
            let mine = hand
                .get::<burn_ndarray::NdArray<f32>, 2>(layer.weight.id)
                .unwrap();
            assert_eq!(
                bits(auto.into_data().to_vec().unwrap()),
                bits(mine.into_data().to_vec().unwrap())
            );
            let bias = layer.bias.as_ref().unwrap();
            let auto = bias.grad(&grads).unwrap();
            let mine = hand.get::<burn_ndarray::NdArray<f32>, 1>(bias.id).unwrap();
            assert_eq!(v(auto), v(mine));
        }
    }
}
