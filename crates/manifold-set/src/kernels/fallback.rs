//! The products from Burn's own ops (any backend): gather, multiply, scatter-add.

use burn::tensor::backend::Backend;
use burn::tensor::{IndexingUpdateOp, Int, Tensor};

/// `y = W·x` as `scatter_add(cols, w ⊙ x[rows])`.
pub fn sparse_matmul<B: Backend>(
    x: Tensor<B, 2>,
    weights: Tensor<B, 1>,
    rows: Tensor<B, 1, Int>,
    cols: Tensor<B, 1, Int>,
    n_out: usize,
) -> Tensor<B, 2> {
    let batch = x.dims()[1];
    let products = x.select(0, rows) * weights.unsqueeze_dim(1);
    Tensor::zeros([n_out, batch], &products.device()).select_assign(
        0,
        cols,
        products,
        IndexingUpdateOp::Add,
    )
}

/// `w̄ = Σ_b x[rows] ⊙ ȳ[cols]`.
pub fn sparse_weight_grad<B: Backend>(
    x: Tensor<B, 2>,
    grad_out: Tensor<B, 2>,
    rows: Tensor<B, 1, Int>,
    cols: Tensor<B, 1, Int>,
) -> Tensor<B, 1> {
    let nnz = rows.dims()[0];
    (x.select(0, rows) * grad_out.select(0, cols))
        .sum_dim(1)
        .reshape([nnz])
}
