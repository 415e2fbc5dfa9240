//! The DNM's step as CubeCL kernels for the GPU backends (`CubeBackend`, and through
//! [`super::fusion`] the default `Wgpu`, which is `Fusion<CubeBackend<…>>`): the same
//! operations and maths as the CPU kernels of [`super::closeness`] and
//! [`super::forward`], in f32.
//!
//! | kernel | launch | what it does |
//! |---|---|---|
//! | `closeness_kernel` | one cube per row of `D` | `D` and the row's share of the surrogate's sum |
//! | `closeness_backward_kernel` | one cube per row | the row's seven parameter gradients and its share of `κ̄` |
//! | `total_kernel` | one cube | `s` (or `κ̄`) from the rows' shares |
//! | `input_block_kernel` | one thread per sample and receiver | each receiver's sum over the input senders |
//! | `substitution_kernel` | one cube per sample | the comps in index order, then the outputs |
//! | `reverse_sweep_kernel` | one cube per sample | `ū` of every sender, comps in reverse order |
//! | `cell_grad_kernel` | one thread per cell | `D̄` on the support of `D` (batch sums) |
//! | `flow_kernel`, `flow_backward_kernel` | one cube per row; one thread per cell | the flow sum `v`'s row shares; `D̄` of `v²` |
//! | `sender_grad_kernel` | one thread per sender | `w̄`, `b̄`, `x̄` |
//!
//! The closeness kernels evaluate every allowed cell directly (`sin`, `exp`, `ln` per
//! cell, no recurrences; the sine's argument reduced to `[0, 2π)` first), so the surrogate
//! `s` is exact, where the CPU pass windows it (`s` differs by less than `sigmoid(−10)` ≈
//! 4.5e-5). The forward pass is two launches: the input senders' sums, one thread per
//! sample and receiver, then one cube per sample whose threads own the receivers (rows of
//! `D`): after comp `j`'s value is known it is published in shared memory (one barrier
//! per comp) and every later receiver adds `D_rj`·(its activation, or its pre-activation
//! for the outputs). The reverse sweep mirrors it with the senders as owners; its
//! backward is three launches, the closeness one (two with the surrogate) each way. No
//! kernel calls Burn's matmul or reductions, whose autotuning would compile dozens of
//! candidate kernels per new shape. Only f32 tensors take these kernels (`None`
//! otherwise: the caller evaluates the tensor expressions).
//!
//! The kernels are in `kernels` (the shared helpers and the reduction `total_kernel`,
//! then one file per group: closeness, forward pass, its backward, flow); `launch`
//! holds their host-side launchers, which size the cube counts, allocate the outputs
//! and call the kernels.

use burn::tensor::{DType, ElementConversion, Tensor};
use burn_cubecl::{BoolElement, CubeBackend, CubeRuntime, IntElement};

use crate::kernels::forward::TensorGrads;
use crate::kernels::DnmBackend;
use crate::Geometry;

/// The kernels (CubeCL generates a module and launch functions for each).
#[allow(missing_docs)]
mod kernels;
mod launch;

pub use launch::{
    closeness, closeness_backward, flow_backward, flow_sum, outputs, outputs_backward,
};

/// A cube backend with f32 floats.
type Cube<R, I, BT> = CubeBackend<R, f32, I, BT>;

/// Whether every tensor is f32 (the kernels' only float type).
pub(crate) fn all_f32<B: burn::tensor::backend::Backend, const D: usize>(
    ts: &[&Tensor<B, D>],
) -> bool {
    ts.iter().all(|t| t.dtype() == DType::F32)
}

impl<R: CubeRuntime, I: IntElement, BT: BoolElement> DnmBackend for Cube<R, I, BT> {
    fn dnm_closeness(
        shape: Tensor<Self, 2>,
        kappa: Tensor<Self, 1>,
        geometry: Geometry,
        sharpness: Option<f64>,
    ) -> Option<Tensor<Self, 2>> {
        all_f32(&[&shape]).then(|| closeness(shape, kappa, geometry, sharpness))
    }

    fn dnm_closeness_backward(
        shape: Tensor<Self, 2>,
        kappa: Tensor<Self, 1>,
        geometry: Geometry,
        sharpness: Option<f64>,
        out: Tensor<Self, 2>,
        grad: Tensor<Self, 2>,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
        all_f32(&[&shape, &out, &grad])
            .then(|| closeness_backward(shape, kappa, geometry, sharpness, out, grad))
    }

    /// Reads `v` back to the host (one synchronisation).
    fn dnm_flow(d: Tensor<Self, 2>, n_in: usize, n_comp: usize) -> Option<(f64, Tensor<Self, 1>)> {
        all_f32(&[&d]).then(|| {
            let v = flow_sum(d, n_in, n_comp);
            (v.clone().into_scalar().elem::<f64>(), v.clone() * v)
        })
    }

    fn dnm_flow_backward(
        d: Tensor<Self, 2>,
        n_in: usize,
        n_comp: usize,
        v: f64,
        grad: Tensor<Self, 1>,
    ) -> Option<Tensor<Self, 2>> {
        all_f32(&[&d]).then(|| flow_backward(d, n_in, n_comp, v, grad))
    }

    fn dnm_outputs(
        x: Tensor<Self, 2>,
        d: Tensor<Self, 2>,
        w: Tensor<Self, 1>,
        b: Tensor<Self, 1>,
        n_in: usize,
        leak: f64,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
        all_f32(&[&x, &d]).then(|| outputs(x, d, w, b, n_in, leak))
    }

    fn dnm_outputs_backward(
        x: Tensor<Self, 2>,
        d: Tensor<Self, 2>,
        w: Tensor<Self, 1>,
        b: Tensor<Self, 1>,
        n_in: usize,
        leak: f64,
        o: Tensor<Self, 2>,
        grad: Tensor<Self, 2>,
    ) -> Option<TensorGrads<Self>> {
        all_f32(&[&x, &d, &o, &grad]).then(|| outputs_backward(x, d, w, b, n_in, leak, o, grad))
    }
}
