//! SET's kernels, as a Burn backend extension: [`SetBackend`] (and
//! [`SetAutodiffBackend`] for training), the sparse product over a connection list.
//!
//! A sparse matrix `W` (`n_out × n_in`) is a list of slots `k` with an input `rows_k`,
//! an output `cols_k` and a weight `w_k`. Activations are feature-major
//! (`[features, batch]`).
//!
//! ```text
//! forward            y[j, :] = Σ_{k : cols_k = j} w_k · x[rows_k, :]        (y = W·x)
//! input gradient     x̄[i, :] = Σ_{k : rows_k = i} w_k · ȳ[cols_k, :]        (x̄ = Wᵀ·ȳ)
//! weight gradient    w̄_k     = Σ_b x[rows_k, b] · ȳ[cols_k, b]
//! ```
//!
//! Every one costs `O(nnz · batch)` work and never builds an `n_out × n_in` matrix.
//!
//! | module | what | backends |
//! |---|---|---|
//! | [`fallback`] | gathers with `select`, scatter-adds with `select_assign` (materialises the `[nnz, batch]` products): the trait's default | every backend (the GPU ones) |
//! | [`host`] | walks the list grouped by output (or input) and adds whole batch rows | ndarray, flex |
//! | [`autodiff`] | `Autodiff<B>`: the product as one graph node with a hand-written backward | training |
//!
//! Every method's default body is the Burn-ops version (the convention of
//! `manifold_kernels`): callers never branch on the backend.

use burn::tensor::backend::{AutodiffBackend, Backend};
use burn::tensor::{Int, Tensor};

pub mod autodiff;
pub mod fallback;
pub mod host;

/// A backend with SET's sparse product (each method's default is [`fallback`]).
pub trait SetBackend: Backend {
    /// `y = W·x`: `x` is `[n_in, batch]`, the result `[n_out, batch]`.
    fn sparse_matmul(
        x: Tensor<Self, 2>,
        weights: Tensor<Self, 1>,
        rows: Tensor<Self, 1, Int>,
        cols: Tensor<Self, 1, Int>,
        n_out: usize,
    ) -> Tensor<Self, 2> {
        fallback::sparse_matmul(x, weights, rows, cols, n_out)
    }

    /// `w̄_k = Σ_b x[rows_k, b] · ȳ[cols_k, b]` (`[nnz]`).
    fn sparse_weight_grad(
        x: Tensor<Self, 2>,
        grad_out: Tensor<Self, 2>,
        rows: Tensor<Self, 1, Int>,
        cols: Tensor<Self, 1, Int>,
    ) -> Tensor<Self, 1> {
        fallback::sparse_weight_grad(x, grad_out, rows, cols)
    }

    /// Bytes of the largest intermediate one product allocates besides its input and
    /// output, for `nnz` connections and `batch` columns: here the gathered `[nnz, batch]`
    /// products.
    fn sparse_scratch_bytes(nnz: usize, batch: usize) -> usize {
        4 * nnz * batch
    }
}

/// A training backend whose inner (no-autodiff) backend has SET's product too.
pub trait SetAutodiffBackend: AutodiffBackend<InnerBackend: SetBackend> + SetBackend {}

impl<B> SetAutodiffBackend for B where B: AutodiffBackend<InnerBackend: SetBackend> + SetBackend {}

/// The CPU backends: the host kernels of [`host`].
// Unused when no CPU backend feature is on: `for_each_host_backend!` then expands to
// nothing.
#[allow(unused_macros)]
macro_rules! host_impl {
    ($backend:ty, $host:expr) => {
        impl SetBackend for $backend {
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
        }
    };
}

manifold_kernels::for_each_host_backend!(host_impl);
manifold_kernels::defaults_on_gpu_backends!(SetBackend);
