//! Helpers for the `Autodiff<B>` glue of the model crates' kernels: a fused operation is
//! recorded as one graph node (`burn_autodiff::ops::Backward`) whose backward calls the
//! inner backend's hand-written backward, and these convert between tensors and the
//! primitives the node stores, and hand the parents their gradients.

use burn::tensor::backend::Backend;
use burn::tensor::ops::{FloatTensor, IntTensor};
use burn::tensor::{Int, Tensor, TensorPrimitive};
use burn_autodiff::grads::Gradients;
use burn_autodiff::NodeId;

/// A float primitive as a tensor.
pub fn float<B: Backend, const D: usize>(p: FloatTensor<B>) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(p))
}

/// A float tensor's primitive.
pub fn prim<B: Backend, const D: usize>(t: Tensor<B, D>) -> FloatTensor<B> {
    t.into_primitive().tensor()
}

/// An int primitive as a one-dimensional tensor.
pub fn int<B: Backend>(p: IntTensor<B>) -> Tensor<B, 1, Int> {
    Tensor::from_primitive(p)
}

/// Adds `g` to the gradient of the parent `node`, when that parent is tracked.
pub fn register<B: Backend, const D: usize>(
    grads: &mut Gradients,
    node: Option<NodeId>,
    g: Tensor<B, D>,
) {
    if let Some(id) = node {
        grads.register::<B>(id, prim(g));
    }
}
