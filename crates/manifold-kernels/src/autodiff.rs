//! `Autodiff<B>`: the sparse product as one graph node with a hand-written backward,
//! `x̄ = Wᵀ·ȳ` (the inner backend's product with rows and cols swapped) and
//! `w̄_k = Σ_b x[rows_k, b]·ȳ[cols_k, b]`.

use burn::tensor::backend::Backend;
use burn::tensor::ops::{FloatTensor, IntTensor};
use burn::tensor::{Int, Tensor, TensorPrimitive};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{binary, Backward, Ops, OpsKind};
use burn_autodiff::{Autodiff, NodeId};

use std::sync::Arc;

use crate::{Geometry, KeptGrads, KernelBackend, Pattern};

/// A float primitive as a tensor.
pub(crate) fn float<B: Backend, const D: usize>(p: FloatTensor<B>) -> Tensor<B, D> {
    Tensor::from_primitive(TensorPrimitive::Float(p))
}

/// A float tensor's primitive.
pub(crate) fn prim<B: Backend, const D: usize>(t: Tensor<B, D>) -> FloatTensor<B> {
    t.into_primitive().tensor()
}

/// Adds `g` to the gradient of the parent `node`, when that parent is tracked.
fn register<B: KernelBackend, const D: usize>(
    grads: &mut Gradients,
    node: Option<NodeId>,
    g: Tensor<B, D>,
) {
    if let Some(id) = node {
        grads.register::<B>(id, prim(g));
    }
}

fn int<B: KernelBackend>(p: IntTensor<B>) -> Tensor<B, 1, Int> {
    Tensor::from_primitive(p)
}

#[derive(Debug)]
struct SparseMatmulBackward;

impl<B: KernelBackend> Backward<B, 2> for SparseMatmulBackward {
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

#[derive(Debug)]
struct ClosenessBackward;

impl<B: KernelBackend> Backward<B, 2> for ClosenessBackward {
    /// Packed parameters, `κ`, the geometry, the surrogate's sharpness, the output.
    type State = (
        FloatTensor<B>,
        FloatTensor<B>,
        Geometry,
        Option<f64>,
        FloatTensor<B>,
    );

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (shape, kappa, geometry, sharpness, out) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let (g_shape, g_kappa) = B::dnm_closeness_backward(
            float(shape),
            float(kappa),
            geometry,
            sharpness,
            float(out),
            float(grad),
        )
        .expect("a backend with a fused closeness forward has its backward");
        let [shape_node, kappa_node] = ops.parents;
        register(grads, shape_node.map(|n| n.id), g_shape);
        register(grads, kappa_node.map(|n| n.id), g_kappa);
    }
}

#[derive(Debug)]
struct FlowBackward;

impl<B: KernelBackend> Backward<B, 1> for FlowBackward {
    /// `d`, `n_in`, `n_comp`, `v`.
    type State = (FloatTensor<B>, usize, usize, f64);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (d, n_in, n_comp, v) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let g_d = B::dnm_flow_backward(float(d), n_in, n_comp, v, float(grad))
            .expect("a backend with a fused flow has its backward");
        let [d_node] = ops.parents;
        register(grads, d_node.map(|n| n.id), g_d);
    }
}

#[derive(Debug)]
struct OutputsBackward;

impl<B: KernelBackend> Backward<B, 4> for OutputsBackward {
    /// `x`, `d`, `w`, `b`, `n_in`, the leak, the comps' values `o`.
    type State = (
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        usize,
        f64,
        FloatTensor<B>,
    );

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, d, w, b, n_in, leak, o) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let (g_x, g_d, g_w, g_b) = B::dnm_outputs_backward(
            float(x),
            float(d),
            float(w),
            float(b),
            n_in,
            leak,
            float(o),
            float(grad),
        )
        .expect("a backend with a fused DNM forward has its backward");
        let [x_node, d_node, w_node, b_node] = ops.parents;
        register(grads, x_node.map(|n| n.id), g_x);
        register(grads, d_node.map(|n| n.id), g_d);
        register(grads, w_node.map(|n| n.id), g_w);
        register(grads, b_node.map(|n| n.id), g_b);
    }
}

#[derive(Debug)]
struct KeptBackward;

impl<B: KernelBackend> Backward<B, 2> for KeptBackward {
    /// Packed parameters, `κ`, the kept cells, the surrogate's sharpness.
    type State = (FloatTensor<B>, FloatTensor<B>, Arc<Pattern>, Option<f64>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (shape, kappa, pattern, sharpness) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let (g_shape, g_kappa) =
            B::dnm_kept_backward(float(shape), float(kappa), &pattern, sharpness, float(grad))
                .expect("a backend with the kept-cell closeness has its backward");
        let [shape_node, kappa_node] = ops.parents;
        register(grads, shape_node.map(|n| n.id), g_shape);
        register(grads, kappa_node.map(|n| n.id), g_kappa);
    }
}

#[derive(Debug)]
struct KeptFlowBackward;

impl<B: KernelBackend> Backward<B, 1> for KeptFlowBackward {
    /// The values, the kept cells, `v`.
    type State = (FloatTensor<B>, Arc<Pattern>, f64);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (values, pattern, v) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let g = B::dnm_kept_flow_backward(float(values), &pattern, v, float(grad))
            .expect("a backend with the kept-cell flow has its backward");
        let [node] = ops.parents;
        register(grads, node.map(|n| n.id), g);
    }
}

#[derive(Debug)]
struct KeptOutputsBackward;

impl<B: KernelBackend> Backward<B, 4> for KeptOutputsBackward {
    /// `x`, the values, `w`, `b`, the kept cells, the leak, the comps' values `o`.
    type State = (
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        Arc<Pattern>,
        f64,
        FloatTensor<B>,
    );

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, values, w, b, pattern, leak, o) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let (g_x, g_v, g_w, g_b) = B::dnm_kept_outputs_backward(
            float(x),
            float(values),
            &pattern,
            float(w),
            float(b),
            leak,
            float(o),
            float(grad),
        )
        .expect("a backend with the kept-cell forward pass has its backward");
        let [x_node, v_node, w_node, b_node] = ops.parents;
        register(grads, x_node.map(|n| n.id), g_x);
        register(grads, v_node.map(|n| n.id), g_v);
        register(grads, w_node.map(|n| n.id), g_w);
        register(grads, b_node.map(|n| n.id), g_b);
    }
}

impl<B: KernelBackend, C: CheckpointStrategy> KernelBackend for Autodiff<B, C> {
    /// One node whose backward is the inner backend's.
    fn dnm_kept(
        shape: Tensor<Self, 2>,
        kappa: Tensor<Self, 1>,
        geometry: Geometry,
        sharpness: Option<f64>,
    ) -> Option<(Tensor<Self, 1>, Arc<Pattern>)> {
        let (shape, kappa) = (prim(shape), prim(kappa));
        let (values, pattern) = B::dnm_kept(
            float(shape.primitive.clone()),
            float(kappa.primitive.clone()),
            geometry,
            sharpness,
        )?;
        let values = match KeptBackward
            .prepare::<C>([shape.node.clone(), kappa.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(
                (shape.primitive, kappa.primitive, pattern.clone(), sharpness),
                prim(values),
            ),
            OpsKind::UnTracked(prep) => prep.finish(prim(values)),
        };
        Some((
            Tensor::from_primitive(TensorPrimitive::Float(values)),
            pattern,
        ))
    }

    /// Not differentiated again: computed on the inner backend.
    fn dnm_kept_backward(
        shape: Tensor<Self, 2>,
        kappa: Tensor<Self, 1>,
        pattern: &Pattern,
        sharpness: Option<f64>,
        grad: Tensor<Self, 1>,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
        let (g_shape, g_kappa) = B::dnm_kept_backward(
            shape.inner(),
            kappa.inner(),
            pattern,
            sharpness,
            grad.inner(),
        )?;
        Some((Tensor::from_inner(g_shape), Tensor::from_inner(g_kappa)))
    }

    /// One node whose backward is the inner backend's.
    fn dnm_kept_flow(
        values: Tensor<Self, 1>,
        pattern: &Arc<Pattern>,
    ) -> Option<(f64, Tensor<Self, 1>)> {
        let values = prim(values);
        let (v, value) = B::dnm_kept_flow(float(values.primitive.clone()), pattern)?;
        let value = match KeptFlowBackward
            .prepare::<C>([values.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                prep.finish((values.primitive, pattern.clone(), v), prim(value))
            }
            OpsKind::UnTracked(prep) => prep.finish(prim(value)),
        };
        Some((v, Tensor::from_primitive(TensorPrimitive::Float(value))))
    }

    /// Not differentiated again: computed on the inner backend.
    fn dnm_kept_flow_backward(
        values: Tensor<Self, 1>,
        pattern: &Pattern,
        v: f64,
        grad: Tensor<Self, 1>,
    ) -> Option<Tensor<Self, 1>> {
        B::dnm_kept_flow_backward(values.inner(), pattern, v, grad.inner()).map(Tensor::from_inner)
    }

    /// One node whose backward is the inner backend's.
    fn dnm_kept_outputs(
        x: Tensor<Self, 2>,
        values: Tensor<Self, 1>,
        pattern: &Arc<Pattern>,
        w: Tensor<Self, 1>,
        b: Tensor<Self, 1>,
        leak: f64,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
        let (x, values, w, b) = (prim(x), prim(values), prim(w), prim(b));
        let (y, o) = B::dnm_kept_outputs(
            float(x.primitive.clone()),
            float(values.primitive.clone()),
            pattern,
            float(w.primitive.clone()),
            float(b.primitive.clone()),
            leak,
        )?;
        let o = prim(o);
        let y = match KeptOutputsBackward
            .prepare::<C>([
                x.node.clone(),
                values.node.clone(),
                w.node.clone(),
                b.node.clone(),
            ])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(
                (
                    x.primitive,
                    values.primitive,
                    w.primitive,
                    b.primitive,
                    pattern.clone(),
                    leak,
                    o.clone(),
                ),
                prim(y),
            ),
            OpsKind::UnTracked(prep) => prep.finish(prim(y)),
        };
        Some((
            Tensor::from_primitive(TensorPrimitive::Float(y)),
            Tensor::from_inner(float(o)),
        ))
    }

    /// Not differentiated again: computed on the inner backend.
    fn dnm_kept_outputs_backward(
        x: Tensor<Self, 2>,
        values: Tensor<Self, 1>,
        pattern: &Pattern,
        w: Tensor<Self, 1>,
        b: Tensor<Self, 1>,
        leak: f64,
        o: Tensor<Self, 2>,
        grad: Tensor<Self, 2>,
    ) -> Option<KeptGrads<Self>> {
        let (g_x, g_v, g_w, g_b) = B::dnm_kept_outputs_backward(
            x.inner(),
            values.inner(),
            pattern,
            w.inner(),
            b.inner(),
            leak,
            o.inner(),
            grad.inner(),
        )?;
        Some((
            Tensor::from_inner(g_x),
            Tensor::from_inner(g_v),
            Tensor::from_inner(g_w),
            Tensor::from_inner(g_b),
        ))
    }

    /// One node whose backward is the inner backend's one-pass backward.
    fn dnm_flow(d: Tensor<Self, 2>, n_in: usize, n_comp: usize) -> Option<(f64, Tensor<Self, 1>)> {
        let d = prim(d);
        let (v, value) = B::dnm_flow(float(d.primitive.clone()), n_in, n_comp)?;
        let value = match FlowBackward
            .prepare::<C>([d.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((d.primitive, n_in, n_comp, v), prim(value)),
            OpsKind::UnTracked(prep) => prep.finish(prim(value)),
        };
        Some((v, Tensor::from_primitive(TensorPrimitive::Float(value))))
    }

    /// Not differentiated again: computed on the inner backend.
    fn dnm_flow_backward(
        d: Tensor<Self, 2>,
        n_in: usize,
        n_comp: usize,
        v: f64,
        grad: Tensor<Self, 1>,
    ) -> Option<Tensor<Self, 2>> {
        B::dnm_flow_backward(d.inner(), n_in, n_comp, v, grad.inner()).map(Tensor::from_inner)
    }

    /// One node whose backward is the inner backend's fused backward.
    fn dnm_outputs(
        x: Tensor<Self, 2>,
        d: Tensor<Self, 2>,
        w: Tensor<Self, 1>,
        b: Tensor<Self, 1>,
        n_in: usize,
        leak: f64,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
        let (x, d, w, b) = (prim(x), prim(d), prim(w), prim(b));
        let (y, o) = B::dnm_outputs(
            float(x.primitive.clone()),
            float(d.primitive.clone()),
            float(w.primitive.clone()),
            float(b.primitive.clone()),
            n_in,
            leak,
        )?;
        let o = prim(o);
        let y = match OutputsBackward
            .prepare::<C>([
                x.node.clone(),
                d.node.clone(),
                w.node.clone(),
                b.node.clone(),
            ])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(
                (
                    x.primitive,
                    d.primitive,
                    w.primitive,
                    b.primitive,
                    n_in,
                    leak,
                    o.clone(),
                ),
                prim(y),
            ),
            OpsKind::UnTracked(prep) => prep.finish(prim(y)),
        };
        Some((
            Tensor::from_primitive(TensorPrimitive::Float(y)),
            Tensor::from_inner(float(o)),
        ))
    }

    /// Not differentiated again: computed on the inner backend.
    fn dnm_outputs_backward(
        x: Tensor<Self, 2>,
        d: Tensor<Self, 2>,
        w: Tensor<Self, 1>,
        b: Tensor<Self, 1>,
        n_in: usize,
        leak: f64,
        o: Tensor<Self, 2>,
        grad: Tensor<Self, 2>,
    ) -> Option<crate::dnm_forward::TensorGrads<Self>> {
        let (g_x, g_d, g_w, g_b) = B::dnm_outputs_backward(
            x.inner(),
            d.inner(),
            w.inner(),
            b.inner(),
            n_in,
            leak,
            o.inner(),
            grad.inner(),
        )?;
        Some((
            Tensor::from_inner(g_x),
            Tensor::from_inner(g_d),
            Tensor::from_inner(g_w),
            Tensor::from_inner(g_b),
        ))
    }

    /// One node whose backward is the inner backend's fused backward.
    fn dnm_closeness(
        shape: Tensor<Self, 2>,
        kappa: Tensor<Self, 1>,
        geometry: Geometry,
        sharpness: Option<f64>,
    ) -> Option<Tensor<Self, 2>> {
        let (shape, kappa) = (prim(shape), prim(kappa));
        let out = B::dnm_closeness(
            float(shape.primitive.clone()),
            float(kappa.primitive.clone()),
            geometry,
            sharpness,
        )?;
        let out = match ClosenessBackward
            .prepare::<C>([shape.node.clone(), kappa.node.clone()])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let out = prim(out);
                prep.finish(
                    (
                        shape.primitive,
                        kappa.primitive,
                        geometry,
                        sharpness,
                        out.clone(),
                    ),
                    out,
                )
            }
            OpsKind::UnTracked(prep) => prep.finish(prim(out)),
        };
        Some(Tensor::from_primitive(TensorPrimitive::Float(out)))
    }

    /// Not differentiated again: computed on the inner backend.
    fn dnm_closeness_backward(
        shape: Tensor<Self, 2>,
        kappa: Tensor<Self, 1>,
        geometry: Geometry,
        sharpness: Option<f64>,
        out: Tensor<Self, 2>,
        grad: Tensor<Self, 2>,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
        let (g_shape, g_kappa) = B::dnm_closeness_backward(
            shape.inner(),
            kappa.inner(),
            geometry,
            sharpness,
            out.inner(),
            grad.inner(),
        )?;
        Some((Tensor::from_inner(g_shape), Tensor::from_inner(g_kappa)))
    }

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

    /// Computed on the inner backend, not differentiated.
    fn sparse_rows_matmul_t(v: Tensor<Self, 2>, w: Tensor<Self, 2>) -> Tensor<Self, 2> {
        Tensor::from_inner(B::sparse_rows_matmul_t(v.inner(), w.inner()))
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
