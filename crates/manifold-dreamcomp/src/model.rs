//! The network: `K` neurons of `784 + 10` synapses. A neuron's class is the argmax of
//! its 10 label synapses; an image's prediction is the class of the neuron whose
//! *pixel* synapses give the largest dot product with the image.

use burn::module::{Module, Param};
use burn::tensor::{backend::Backend, Distribution, Int, Tensor};

/// Pixel synapses per neuron (28 × 28).
pub const PIXELS: usize = 784;
/// Label synapses per neuron.
pub const CLASSES: usize = 10;

/// The weights `w` (`K × (784 + 10)`), initialised U(0, 1).
#[derive(Module, Debug)]
pub struct DreamComp<B: Backend> {
    /// The synapses `w`, `[K, 784 + 10]`: pixel synapses first, then label synapses.
    pub weights: Param<Tensor<B, 2>>,
}

impl<B: Backend> DreamComp<B> {
    /// `neurons` neurons with U(0, 1) weights (seed the backend first for repeatability).
    pub fn new(neurons: usize, device: &B::Device) -> Self {
        Self::from_weights(Tensor::random(
            [neurons, PIXELS + CLASSES],
            Distribution::Uniform(0.0, 1.0),
            device,
        ))
    }

    /// A network with the given weights `w` (`[K, 784 + 10]`).
    pub fn from_weights(w: Tensor<B, 2>) -> Self {
        Self {
            weights: Param::from_tensor(w),
        }
    }

    /// Neurons K.
    pub fn neurons(&self) -> usize {
        self.weights.dims()[0]
    }

    /// The weights as a plain tensor.
    pub fn w(&self) -> Tensor<B, 2> {
        self.weights.val()
    }

    /// Each neuron's class: argmax of its label synapses (`K`).
    pub fn classes(&self) -> Tensor<B, 1, Int> {
        neuron_classes(self.w())
    }

    /// Predicted classes of `x` (`N × 784`, pixels in [0, 1]): the class of the
    /// neuron whose pixel synapses have the largest dot product with the image.
    pub fn predict(&self, x: Tensor<B, 2>) -> Tensor<B, 1, Int> {
        let best = self.best_match(x, Some(unlabelled_penalty(self.w())));
        self.classes().select(0, best)
    }

    /// Predicted classes of `x` when neuron `k` has class `classes[k]` (every neuron).
    pub fn predict_as(&self, x: Tensor<B, 2>, classes: Tensor<B, 1, Int>) -> Tensor<B, 1, Int> {
        let best = self.best_match(x, None);
        classes.select(0, best)
    }

    /// The neuron whose pixel synapses have the largest dot product with each image
    /// (plus `penalty`, `1 × K`, when given).
    fn best_match(&self, x: Tensor<B, 2>, penalty: Option<Tensor<B, 2>>) -> Tensor<B, 1, Int> {
        let [n, _] = x.dims();
        let k = self.neurons();
        let pixels = self.w().slice([0..k, 0..PIXELS]);
        let s = x.matmul(pixels.transpose());
        let s = match penalty {
            Some(p) => s + p,
            None => s,
        };
        s.argmax(1).reshape([n])
    }
}

/// Argmax of the last 10 columns of `w` (`K × (784 + 10)`): each neuron's class.
pub fn neuron_classes<B: Backend>(w: Tensor<B, 2>) -> Tensor<B, 1, Int> {
    let k = w.dims()[0];
    w.slice([0..k, PIXELS..PIXELS + CLASSES])
        .argmax(1)
        .reshape([k])
}

/// `1 × K`: 0 for a neuron that has a class, `-1e30` for one whose label synapses are
/// all 0 (only in the semi-supervised mode, which starts label synapses at 0: a neuron
/// that never saw a label, true or dreamed, has no class and predicts nothing).
pub fn unlabelled_penalty<B: Backend>(w: Tensor<B, 2>) -> Tensor<B, 2> {
    let k = w.dims()[0];
    let total = w.slice([0..k, PIXELS..PIXELS + CLASSES]).sum_dim(1);
    let none = total.lower_equal_elem(0.0);
    Tensor::zeros([k, 1], &none.device())
        .mask_fill(none, -1e30)
        .reshape([1, k])
}
