//! Sparse products over a connection list, as a Burn backend extension.
//!
//! A sparse matrix `W` (`n_out × n_in`) is a list of slots `k` with an input `rows_k`, an
//! output `cols_k` and a weight `w_k`. Activations are feature-major (`[features, batch]`).
//!
//! ```text
//! forward            y[j, :] = Σ_{k : cols_k = j} w_k · x[rows_k, :]        (y = W·x)
//! input gradient     x̄[i, :] = Σ_{k : rows_k = i} w_k · ȳ[cols_k, :]        (x̄ = Wᵀ·ȳ: the same
//!                                                     product with rows and cols swapped)
//! weight gradient    w̄_k     = Σ_b x[rows_k, b] · ȳ[cols_k, b]
//! ```
//!
//! Every operation costs `O(nnz · batch)` work and never builds an `n_out × n_in` matrix.
//! [`SparseBackend`] has a default implementation of each from Burn's own ops (gather with
//! `select`, scatter-add with `select_assign`: it runs on every backend, but materialises the
//! `[nnz, batch]` products). The CPU backends (`ndarray`, `flex` features) override them with
//! the kernels of [`host`], which walk the connection list grouped by output (or input) and
//! add whole batch rows, with rayon. For `Autodiff<B>` the forward is one node whose backward
//! is the two products above ([`autodiff`]), so autodiff records one op per layer instead of
//! the three gather/multiply/scatter ops and their broadcasts.
//!
//! [`rows`] is the other sparse product of the workspace: `S = V·Wᵀ` for a `V` whose rows
//! are mostly zero (DreamComp's scores of MNIST images), walking only the non-zeros.

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor};

pub mod autodiff;
pub mod generic;
pub mod host;
pub mod rows;

/// A backend that can compute the sparse products of this crate.
pub trait SparseBackend: Backend {
    /// `y = W·x`: `x` is `[n_in, batch]`, the result `[n_out, batch]`.
    fn sparse_matmul(
        x: Tensor<Self, 2>,
        weights: Tensor<Self, 1>,
        rows: Tensor<Self, 1, Int>,
        cols: Tensor<Self, 1, Int>,
        n_out: usize,
    ) -> Tensor<Self, 2> {
        generic::sparse_matmul(x, weights, rows, cols, n_out)
    }

    /// `w̄_k = Σ_b x[rows_k, b] · ȳ[cols_k, b]` (`[nnz]`).
    fn sparse_weight_grad(
        x: Tensor<Self, 2>,
        grad_out: Tensor<Self, 2>,
        rows: Tensor<Self, 1, Int>,
        cols: Tensor<Self, 1, Int>,
    ) -> Tensor<Self, 1> {
        generic::sparse_weight_grad(x, grad_out, rows, cols)
    }

    /// Bytes of the largest intermediate one product allocates besides its input and
    /// output, for `nnz` connections and `batch` columns: here the gathered `[nnz, batch]`
    /// products.
    fn sparse_scratch_bytes(nnz: usize, batch: usize) -> usize {
        4 * nnz * batch
    }

    /// `S = V·Wᵀ` (`[n, d]` × `[k, d]` → `[n, k]`) for a `V` whose rows are mostly zero
    /// (DreamComp's scores). Default: the dense matmul. Not differentiated.
    fn sparse_rows_matmul_t(v: Tensor<Self, 2>, w: Tensor<Self, 2>) -> Tensor<Self, 2> {
        v.matmul(w.transpose())
    }
}

/// A training backend whose inner (no-autodiff) backend is sparse-capable too.
pub trait SparseAutodiffBackend:
    AutodiffBackend<InnerBackend: SparseBackend> + SparseBackend
{
}

impl<B> SparseAutodiffBackend for B where
    B: AutodiffBackend<InnerBackend: SparseBackend> + SparseBackend
{
}

/// The CPU backends use the host kernels (`rows`: also for `V·Wᵀ`, where it measured
/// faster than the backend's own matmul: on ndarray, not on flex).
macro_rules! host_backend {
    ($backend:ty, rows: $rows:literal) => {
        impl SparseBackend for $backend {
            fn sparse_matmul(
                x: Tensor<Self, 2>,
                weights: Tensor<Self, 1>,
                rows: Tensor<Self, 1, Int>,
                cols: Tensor<Self, 1, Int>,
                n_out: usize,
            ) -> Tensor<Self, 2> {
                host::sparse_matmul(x, weights, rows, cols, n_out)
            }

            fn sparse_weight_grad(
                x: Tensor<Self, 2>,
                grad_out: Tensor<Self, 2>,
                rows: Tensor<Self, 1, Int>,
                cols: Tensor<Self, 1, Int>,
            ) -> Tensor<Self, 1> {
                host::sparse_weight_grad(x, grad_out, rows, cols)
            }

            fn sparse_scratch_bytes(nnz: usize, _batch: usize) -> usize {
                host::scratch_bytes(nnz)
            }

            fn sparse_rows_matmul_t(v: Tensor<Self, 2>, w: Tensor<Self, 2>) -> Tensor<Self, 2> {
                if $rows {
                    rows::sparse_rows_matmul_t(v, w)
                } else {
                    v.matmul(w.transpose())
                }
            }
        }
    };
}

#[cfg(feature = "ndarray")]
host_backend!(burn_ndarray::NdArray<f32>, rows: true);
#[cfg(feature = "ndarray")]
host_backend!(burn_ndarray::NdArray<f64>, rows: true);
#[cfg(feature = "flex")]
host_backend!(burn_flex::Flex, rows: false);

/// GPUs keep the gather/scatter default (a host round trip would cost more than it saves).
#[cfg(feature = "wgpu")]
impl SparseBackend for burn_wgpu::Wgpu<f32, i32> {}
