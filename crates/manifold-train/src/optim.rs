//! Adam over all of a module's parameters at once.
//!
//! Burn's `Adam` updates each parameter tensor separately: about a dozen tensor ops per
//! parameter per step. For small models (the MLP's six tensors, the DNM's ten) those
//! ops, not the arithmetic, dominate the step. [`FusedAdam`] flattens every gradient
//! into one vector and runs the same update once:
//!
//! ```text
//! m ← β₁·m + (1−β₁)·g          v ← β₂·v + (1−β₂)·g²
//! θ ← θ − lr · (m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε)
//! ```
//!
//! The moments persist across minibatches and epochs (and across `--resume`, through
//! [`FusedAdam::to_record`]).

use burn::grad_clipping::GradientClippingConfig;
use burn::module::{AutodiffModule, ModuleMapper, ModuleVisitor, Param};
use burn::optim::adaptor::OptimizerAdaptor;
use burn::optim::{Adam, AdamConfig, GradientsParams};
use burn::record::Record;
use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::Tensor;

/// Adam hyperparameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdamParams {
    /// First-moment decay β₁.
    pub beta1: f32,
    /// Second-moment decay β₂.
    pub beta2: f32,
    /// ε added to the denominator.
    pub epsilon: f32,
}

impl Default for AdamParams {
    fn default() -> Self {
        Self {
            beta1: 0.9,
            beta2: 0.999,
            epsilon: 1e-8,
        }
    }
}

/// Adam whose moments are kept as one flat vector over all float parameters.
pub struct FusedAdam<B: AutodiffBackend> {
    params: AdamParams,
    m: Option<Tensor<B::InnerBackend, 1>>,
    v: Option<Tensor<B::InnerBackend, 1>>,
    t: usize,
}

/// The saved state of a [`FusedAdam`].
#[derive(Record)]
pub struct FusedAdamRecord<B: Backend> {
    /// First moments, flat.
    pub m: Option<Tensor<B, 1>>,
    /// Second moments, flat.
    pub v: Option<Tensor<B, 1>>,
    /// Steps taken.
    pub t: usize,
}

/// Collects every float parameter's gradient, flattened, in visiting order.
struct GradCollector<'a, B: AutodiffBackend> {
    grads: &'a mut GradientsParams,
    flat: Vec<Tensor<B::InnerBackend, 1>>,
}

impl<B: AutodiffBackend> ModuleVisitor<B> for GradCollector<'_, B> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
        let value = param.val();
        let n = value.shape().num_elements();
        let g = match self.grads.remove::<B::InnerBackend, D>(param.id) {
            Some(g) => g.reshape([n]),
            None => Tensor::zeros([n], &value.device()),
        };
        self.flat.push(g);
    }
}

/// Subtracts consecutive slices of a flat update from the parameters, in visiting order.
struct Apply<B: AutodiffBackend> {
    update: Tensor<B::InnerBackend, 1>,
    offset: usize,
}

impl<B: AutodiffBackend> ModuleMapper<B> for Apply<B> {
    fn map_float<const D: usize>(&mut self, param: Param<Tensor<B, D>>) -> Param<Tensor<B, D>> {
        let (id, tensor, mapper) = param.consume();
        let shape = tensor.shape();
        let n = shape.num_elements();
        let step = self
            .update
            .clone()
            .slice(self.offset..self.offset + n)
            .reshape(shape);
        self.offset += n;
        let updated = Tensor::from_inner(tensor.inner() - step).require_grad();
        Param::from_mapped_value(id, updated, mapper)
    }
}

impl<B: AutodiffBackend> FusedAdam<B> {
    /// A fresh optimiser (no moments yet).
    pub fn new(params: AdamParams) -> Self {
        Self {
            params,
            m: None,
            v: None,
            t: 0,
        }
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.t
    }

    /// One Adam update of every float parameter of `module` with step size `lr`.
    pub fn step<M: AutodiffModule<B>>(
        &mut self,
        lr: f64,
        module: M,
        mut grads: GradientsParams,
    ) -> M {
        let mut collector = GradCollector::<B> {
            grads: &mut grads,
            flat: Vec::new(),
        };
        module.visit(&mut collector);
        if collector.flat.is_empty() {
            return module;
        }
        let g = Tensor::cat(collector.flat, 0);
        let AdamParams {
            beta1,
            beta2,
            epsilon,
        } = self.params;
        let m = match self.m.take() {
            Some(m) => m.mul_scalar(beta1) + g.clone().mul_scalar(1.0 - beta1),
            None => g.clone().mul_scalar(1.0 - beta1),
        };
        let v = match self.v.take() {
            Some(v) => v.mul_scalar(beta2) + (g.clone() * g).mul_scalar(1.0 - beta2),
            None => (g.clone() * g).mul_scalar(1.0 - beta2),
        };
        self.t += 1;
        let c1 = 1.0 - (beta1 as f64).powi(self.t as i32);
        let c2 = 1.0 - (beta2 as f64).powi(self.t as i32);
        let update = m.clone().mul_scalar(lr / c1)
            / v.clone().mul_scalar(1.0 / c2).sqrt().add_scalar(epsilon);
        self.m = Some(m);
        self.v = Some(v);
        module.map(&mut Apply::<B> { update, offset: 0 })
    }

    /// The state to save with a checkpoint.
    pub fn to_record(&self) -> FusedAdamRecord<B::InnerBackend> {
        FusedAdamRecord {
            m: self.m.clone(),
            v: self.v.clone(),
            t: self.t,
        }
    }

    /// Restores a saved state.
    pub fn load_record(mut self, record: FusedAdamRecord<B::InnerBackend>) -> Self {
        self.m = record.m;
        self.v = record.v;
        self.t = record.t;
        self
    }
}

/// Burn's Adam (per parameter tensor, its default hyperparameters) with each tensor's
/// gradient clipped to L2 norm `clip_norm` before the update; no clipping when
/// `clip_norm` is 0. The models whose configs have a `clip_norm` field train with it.
pub fn clipped_adam<B: AutodiffBackend, M: AutodiffModule<B>>(
    clip_norm: f64,
) -> OptimizerAdaptor<Adam, M, B> {
    let clipping = (clip_norm > 0.0).then_some(GradientClippingConfig::Norm(clip_norm as f32));
    AdamConfig::new()
        .with_grad_clipping(clipping)
        .init::<B, M>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Module;
    use burn::nn::{Linear, LinearConfig};
    use burn::optim::{AdamConfig, Optimizer};
    use burn::tensor::Distribution;

    type B = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;

    #[derive(Module, Debug)]
    struct Net<B: Backend> {
        a: Linear<B>,
        b: Linear<B>,
    }

    fn loss(net: &Net<B>, x: Tensor<B, 2>) -> Tensor<B, 1> {
        net.b.forward(net.a.forward(x).tanh()).powi_scalar(2).mean()
    }

    /// Every float parameter of `net`, flat, in visiting order.
    fn flat(net: &Net<B>) -> Vec<f32> {
        [&net.a, &net.b]
            .iter()
            .flat_map(|l| {
                let mut v: Vec<f32> = l.weight.val().into_data().to_vec().unwrap();
                v.extend(
                    l.bias
                        .as_ref()
                        .unwrap()
                        .val()
                        .into_data()
                        .to_vec::<f32>()
                        .unwrap(),
                );
                v
            })
            .collect()
    }

    /// Same trajectory as Burn's own Adam (same β, ε), to float precision, over 50 steps
    /// and every parameter.
    #[test]
    fn matches_burns_adam_over_many_steps() {
        let dev = Default::default();
        let net = Net::<B> {
            a: LinearConfig::new(4, 3).init(&dev),
            b: LinearConfig::new(3, 2).init(&dev),
        };
        // Burn initialises a parameter lazily, on its first read, and a clone of a
        // parameter never read draws values of its own: read them all once, so that both
        // copies start from the same network.
        let start = flat(&net);
        let x = Tensor::<B, 2>::random([5, 4], Distribution::Normal(0.0, 1.0), &dev);
        let (mut ours, mut theirs) = (net.clone(), net);
        assert_eq!(flat(&ours), start);
        assert_eq!(flat(&theirs), start);
        let mut fused = FusedAdam::<B>::new(AdamParams::default());
        let mut adam = AdamConfig::new().with_epsilon(1e-8).init::<B, Net<B>>();
        for _ in 0..50 {
            let g = GradientsParams::from_grads(loss(&ours, x.clone()).backward(), &ours);
            ours = fused.step(0.05, ours, g);
            let g = GradientsParams::from_grads(loss(&theirs, x.clone()).backward(), &theirs);
            theirs = adam.step(0.05, theirs, g);
        }
        let (a, b) = (flat(&ours), flat(&theirs));
        let moved = a
            .iter()
            .zip(&start)
            .map(|(x, s)| (x - s).abs())
            .fold(0f32, f32::max);
        assert!(moved > 0.1, "the parameters moved (by at most {moved})");
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{x} vs {y}");
        }
        assert_eq!(fused.steps(), 50);
    }

    /// First step by hand: m = 0.1 g, v = 0.001 g², update = lr · g / (|g| + ε), which is
    /// lr·sign(g) but for a gradient small enough for ε to show (the network's random
    /// initialisation gives one of |g| ≈ 4e-5 now and then: ε/|g| = 2.5e-4 of lr).
    #[test]
    fn first_step_moves_each_weight_by_lr_against_its_gradient() {
        let dev = Default::default();
        let net = Net::<B> {
            a: LinearConfig::new(2, 2).init(&dev),
            b: LinearConfig::new(2, 1).init(&dev),
        };
        let x = Tensor::<B, 2>::from_floats([[1.0, -2.0], [0.5, 3.0]], &dev);
        let grads = loss(&net, x.clone()).backward();
        let g: Vec<f32> = net
            .a
            .weight
            .grad(&grads)
            .unwrap()
            .into_data()
            .to_vec()
            .unwrap();
        let before: Vec<f32> = net.a.weight.val().into_data().to_vec().unwrap();
        let mut fused = FusedAdam::<B>::new(AdamParams::default());
        let stepped = fused.step(0.01, net.clone(), GradientsParams::from_grads(grads, &net));
        let after: Vec<f32> = stepped.a.weight.val().into_data().to_vec().unwrap();
        for ((b, a), g) in before.iter().zip(&after).zip(&g) {
            assert!(
                (b - a - 0.01 * g / (g.abs() + 1e-8)).abs() < 1e-6,
                "{b} → {a} with grad {g}"
            );
        }
    }
}
