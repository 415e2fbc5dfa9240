//! `Autodiff<B>`: the sparse product as one graph node with a hand-written backward,
//! `x̄ = Wᵀ·ȳ` (the inner backend's product with rows and cols swapped) and
//! `w̄_k = Σ_b x[rows_k, b]·ȳ[cols_k, b]`.

use burn::tensor::ops::{FloatTensor, IntTensor};
use burn::tensor::{Int, Tensor, TensorPrimitive};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{binary, Backward, Ops, OpsKind};
use burn_autodiff::Autodiff;
use manifold_kernels::autodiff::{float, int, prim};

use super::SetBackend;

#[derive(Debug)]
struct SparseMatmulBackward;

impl<B: SetBackend> Backward<B, 2> for SparseMatmulBackward {
    /// `x`, `w`, `rows`, `cols`, `n_in`.
    type State = (
        FloatTensor<B>,
        FloatTensor<B>,
        IntTensor<B>,
        IntTensor<B>,
        usize,
    );

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, w, rows, cols, n_in) = ops.state;
        let (rows_x, cols_x) = (rows.clone(), cols.clone());
        binary::<B, _, _>(
            ops.parents,
            ops.node,
            grads,
            |gy| {
                prim(B::sparse_matmul(
                    float(gy),
                    float(w),
                    int::<B>(cols_x),
                    int::<B>(rows_x),
                    n_in,
                ))
            },
            |gy| {
                prim(B::sparse_weight_grad(
                    float(x),
                    float(gy),
                    int::<B>(rows),
                    int::<B>(cols),
                ))
            },
        );
    }
}

impl<B: SetBackend, C: CheckpointStrategy> SetBackend for Autodiff<B, C> {
    /// One node whose backward is the inner backend's product and weight gradient.
    fn sparse_matmul(
        x: Tensor<Self, 2>,
        weights: Tensor<Self, 1>,
        rows: Tensor<Self, 1, Int>,
        cols: Tensor<Self, 1, Int>,
        n_out: usize,
    ) -> Tensor<Self, 2> {
        let n_in = x.dims()[0];
        let x = prim(x);
        let w = prim(weights);
        let (rows, cols): (IntTensor<B>, IntTensor<B>) =
            (rows.into_primitive(), cols.into_primitive());
        let y = B::sparse_matmul(
            float(x.primitive.clone()),
            float(w.primitive.clone()),
            int::<B>(rows.clone()),
            int::<B>(cols.clone()),
            n_out,
        );
        let out = match SparseMatmulBackward
            .prepare::<C>([x.node.clone(), w.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                prep.finish((x.primitive, w.primitive, rows, cols, n_in), prim(y))
            }
            OpsKind::UnTracked(prep) => prep.finish(prim(y)),
        };
        Tensor::from_primitive(TensorPrimitive::Float(out))
    }

    fn sparse_scratch_bytes(nnz: usize, batch: usize) -> usize {
        B::sparse_scratch_bytes(nnz, batch)
    }

    /// Not differentiated again (no second derivatives): computed on the inner backend.
    fn sparse_weight_grad(
        x: Tensor<Self, 2>,
        grad_out: Tensor<Self, 2>,
        rows: Tensor<Self, 1, Int>,
        cols: Tensor<Self, 1, Int>,
    ) -> Tensor<Self, 1> {
        Tensor::from_inner(B::sparse_weight_grad(
            x.inner(),
            grad_out.inner(),
            int::<B>(rows.into_primitive()),
            int::<B>(cols.into_primitive()),
        ))
    }
}
