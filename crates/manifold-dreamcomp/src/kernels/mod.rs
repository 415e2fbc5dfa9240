//! DreamComp's kernels, as a Burn backend extension: [`DreamCompBackend`].
//!
//! | module | what | backends |
//! |---|---|---|
//! | [`rows`] | `S = V·Wᵀ` walking only the non-zeros of each row of `V` (MNIST: about 19 % of the pixels), `W` transposed one cache-sized block at a time | ndarray |
//! | [`step`] | the whole rule step (scores, winners, the winners' update) in one host pass, without the `B × K` score tensor | ndarray |
//!
//! Every method's default body is the Burn-ops version (the convention of
//! `manifold_kernels`): the dense matmul, and [`crate::rule::step_tensor_ops`]. Callers
//! never branch on the backend. On flex both keep their defaults: flex's own matmul
//! measured faster than the rows product there, and the fused step's scores are that
//! product. Nothing here is differentiated (the rule learns without autodiff);
//! `Autodiff<B>` computes the scores on its inner backend.

use burn::tensor::backend::Backend;
use burn::tensor::Tensor;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::Autodiff;

pub mod rows;
pub mod step;

/// A backend with DreamComp's kernels (each method's default is its Burn-ops version).
pub trait DreamCompBackend: Backend {
    /// `S = V·Wᵀ` (`[n, d]` × `[k, d]` → `[n, k]`) for a `V` whose rows are mostly zero
    /// (DreamComp's scores). Default: the dense matmul. Not differentiated.
    fn sparse_rows_matmul_t(v: Tensor<Self, 2>, w: Tensor<Self, 2>) -> Tensor<Self, 2> {
        v.matmul(w.transpose())
    }

    /// DreamComp's whole rule step: the new `w` (`[K, L']`) from the minibatch `v`
    /// (`[B, L']`) and the per-synapse rows `xi`, `inv_zeta` (`[1, L']`). Default: the
    /// tensor ops of [`crate::rule::step_tensor_ops`]. The tensors are taken by value
    /// (the fused kernel reads a tensor nobody else holds without a copy). Not
    /// differentiated.
    fn dreamcomp_step(
        w: Tensor<Self, 2>,
        v: Tensor<Self, 2>,
        xi: Tensor<Self, 2>,
        inv_zeta: Tensor<Self, 2>,
    ) -> Tensor<Self, 2> {
        crate::rule::step_tensor_ops(w, v, xi, inv_zeta)
    }
}

/// The CPU backends: the host kernels where they measured faster than the backend's
/// own matmul (ndarray, not flex).
// Unused when no CPU backend feature is on: `for_each_host_backend!` then expands to
// nothing.
#[allow(unused_macros)]
macro_rules! host_impl {
    ($backend:ty, $host:expr) => {
        impl DreamCompBackend for $backend {
            fn sparse_rows_matmul_t(v: Tensor<Self, 2>, w: Tensor<Self, 2>) -> Tensor<Self, 2> {
                if $host == manifold_kernels::backends::Host::NdArray {
                    rows::sparse_rows_matmul_t(v, w)
                } else {
                    v.matmul(w.transpose())
                }
            }

            fn dreamcomp_step(
                w: Tensor<Self, 2>,
                v: Tensor<Self, 2>,
                xi: Tensor<Self, 2>,
                inv_zeta: Tensor<Self, 2>,
            ) -> Tensor<Self, 2> {
                // Its scores are the rows product: only where that beat the matmul.
                if $host == manifold_kernels::backends::Host::NdArray {
                    step::step_tensor(w, v, xi, inv_zeta)
                } else {
                    crate::rule::step_tensor_ops(w, v, xi, inv_zeta)
                }
            }
        }
    };
}

manifold_kernels::for_each_host_backend!(host_impl);
manifold_kernels::defaults_on_gpu_backends!(DreamCompBackend);

impl<B: DreamCompBackend, C: CheckpointStrategy> DreamCompBackend for Autodiff<B, C> {
    /// Computed on the inner backend, not differentiated.
    fn sparse_rows_matmul_t(v: Tensor<Self, 2>, w: Tensor<Self, 2>) -> Tensor<Self, 2> {
        Tensor::from_inner(B::sparse_rows_matmul_t(v.inner(), w.inner()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    type Cpu = burn_ndarray::NdArray<f32>;

    /// `V·Wᵀ` with mostly-zero rows of `V` (more rows of `W` than one block): the CPU
    /// kernel against Burn's matmul.
    #[test]
    fn rows_kernel_equals_the_matmul() {
        let (n, k, d) = (7, 300, 50);
        let v: Vec<f32> = (0..n * d)
            .map(|i| {
                let x = ((i * 37) % 23) as f32 / 11.0 - 1.0;
                if x > 0.6 {
                    x
                } else {
                    0.0
                }
            })
            .collect();
        let w: Vec<f32> = (0..k * d)
            .map(|i| ((i * 31) % 17) as f32 / 8.0 - 1.0)
            .collect();
        let dev = Default::default();
        let v = Tensor::<Cpu, 2>::from_data(TensorData::new(v, [n, d]), &dev);
        let w = Tensor::<Cpu, 2>::from_data(TensorData::new(w, [k, d]), &dev);
        let want = v
            .clone()
            .matmul(w.clone().transpose())
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        let got = Cpu::sparse_rows_matmul_t(v, w)
            .into_data()
            .to_vec::<f32>()
            .unwrap();
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-4, "S[{i}] = {g}, expected {w}");
        }
    }
}
