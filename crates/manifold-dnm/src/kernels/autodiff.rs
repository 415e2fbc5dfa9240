//! `Autodiff<B>`: each of the DNM's fused operations as one graph node whose backward is
//! the inner backend's hand-written backward (the `*_backward` methods of
//! [`DnmBackend`]). Where the inner backend has no kernel the answer is `None` here too.

use std::sync::Arc;

use burn::tensor::ops::FloatTensor;
use burn::tensor::{Tensor, TensorPrimitive};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_autodiff::Autodiff;
use manifold_kernels::autodiff::{float, prim, register};

use super::{DnmBackend, KeptGrads, Pattern};
use crate::{Geometry, Precision};

#[derive(Debug)]
struct ClosenessBackward;

impl<B: DnmBackend> Backward<B, 2> for ClosenessBackward {
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
        let (g_shape, g_kappa) = crate::profile::backward_span::<B, _>(
            crate::profile::Phase::ClosenessBackward,
            &B::float_device(&grad),
            || {
                B::dnm_closeness_backward(
                    float(shape),
                    float(kappa),
                    geometry,
                    sharpness,
                    float(out),
                    float(grad),
                )
                .expect("a backend with a fused closeness forward has its backward")
            },
        );
        let [shape_node, kappa_node] = ops.parents;
        register(grads, shape_node.map(|n| n.id), g_shape);
        register(grads, kappa_node.map(|n| n.id), g_kappa);
    }
}

#[derive(Debug)]
struct FlowBackward;

impl<B: DnmBackend> Backward<B, 1> for FlowBackward {
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

impl<B: DnmBackend> Backward<B, 4> for OutputsBackward {
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
        let (g_x, g_d, g_w, g_b) = crate::profile::backward_span::<B, _>(
            crate::profile::Phase::ForwardBackward,
            &B::float_device(&grad),
            || {
                B::dnm_outputs_backward(
                    float(x),
                    float(d),
                    float(w),
                    float(b),
                    n_in,
                    leak,
                    float(o),
                    float(grad),
                )
                .expect("a backend with a fused DNM forward has its backward")
            },
        );
        let [x_node, d_node, w_node, b_node] = ops.parents;
        register(grads, x_node.map(|n| n.id), g_x);
        register(grads, d_node.map(|n| n.id), g_d);
        register(grads, w_node.map(|n| n.id), g_w);
        register(grads, b_node.map(|n| n.id), g_b);
    }
}

#[derive(Debug)]
struct KeptBackward;

impl<B: DnmBackend> Backward<B, 2> for KeptBackward {
    /// Packed parameters, `κ`, the kept cells, the surrogate's sharpness.
    type State = (FloatTensor<B>, FloatTensor<B>, Arc<Pattern>, Option<f64>);

    fn backward(self, ops: Ops<Self::State, 2>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (shape, kappa, pattern, sharpness) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let (g_shape, g_kappa) = crate::profile::backward_span::<B, _>(
            crate::profile::Phase::ClosenessBackward,
            &B::float_device(&grad),
            || {
                B::dnm_kept_backward(float(shape), float(kappa), &pattern, sharpness, float(grad))
                    .expect("a backend with the kept-cell closeness has its backward")
            },
        );
        let [shape_node, kappa_node] = ops.parents;
        register(grads, shape_node.map(|n| n.id), g_shape);
        register(grads, kappa_node.map(|n| n.id), g_kappa);
    }
}

#[derive(Debug)]
struct KeptFlowBackward;

impl<B: DnmBackend> Backward<B, 1> for KeptFlowBackward {
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

impl<B: DnmBackend> Backward<B, 4> for KeptOutputsBackward {
    /// `x`, the values, `w`, `b`, the kept cells, the leak and precision, the comps'
    /// values `o`.
    type State = (
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        Arc<Pattern>,
        (f64, Precision),
        FloatTensor<B>,
    );

    fn backward(self, ops: Ops<Self::State, 4>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (x, values, w, b, pattern, (leak, precision), o) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let (g_x, g_v, g_w, g_b) = crate::profile::backward_span::<B, _>(
            crate::profile::Phase::ForwardBackward,
            &B::float_device(&grad),
            || {
                B::dnm_kept_outputs_backward(
                    float(x),
                    float(values),
                    &pattern,
                    float(w),
                    float(b),
                    leak,
                    precision,
                    float(o),
                    float(grad),
                )
                .expect("a backend with the kept-cell forward pass has its backward")
            },
        );
        let [x_node, v_node, w_node, b_node] = ops.parents;
        register(grads, x_node.map(|n| n.id), g_x);
        register(grads, v_node.map(|n| n.id), g_v);
        register(grads, w_node.map(|n| n.id), g_w);
        register(grads, b_node.map(|n| n.id), g_b);
    }
}

#[derive(Debug)]
struct LstmOutputsBackward;

impl<B: DnmBackend> Backward<B, 5> for LstmOutputsBackward {
    /// `z`, the values, `w`, `b`, the gates, the kept cells, the leak and precision, the
    /// input sums.
    type State = (
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        FloatTensor<B>,
        Arc<Pattern>,
        (f64, Precision),
        FloatTensor<B>,
    );

    fn backward(self, ops: Ops<Self::State, 5>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (z, values, w, b, gates, pattern, (leak, precision), s) = ops.state;
        let grad = grads.consume::<B>(&ops.node);
        let (g_z, g_v, g_w, g_b, g_gates) = crate::profile::backward_span::<B, _>(
            crate::profile::Phase::ForwardBackward,
            &B::float_device(&grad),
            || {
                B::dnm_lstm_outputs_backward(
                    float(z),
                    float(values),
                    &pattern,
                    float(w),
                    float(b),
                    float(gates),
                    leak,
                    precision,
                    float(s),
                    float(grad),
                )
                .expect("a backend with the LSTM-neuron pass has its backward")
            },
        );
        let [z_node, v_node, w_node, b_node, gates_node] = ops.parents;
        register(grads, z_node.map(|n| n.id), g_z);
        register(grads, v_node.map(|n| n.id), g_v);
        register(grads, w_node.map(|n| n.id), g_w);
        register(grads, b_node.map(|n| n.id), g_b);
        register(grads, gates_node.map(|n| n.id), g_gates);
    }
}

impl<B: DnmBackend, C: CheckpointStrategy> DnmBackend for Autodiff<B, C> {
    /// One node whose backward is the inner backend's.
    fn dnm_lstm_outputs(
        z: Tensor<Self, 2>,
        values: Tensor<Self, 1>,
        pattern: &Arc<Pattern>,
        w: Tensor<Self, 1>,
        b: Tensor<Self, 1>,
        gates: Tensor<Self, 2>,
        leak: f64,
        precision: Precision,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
        let (z, values, w, b, gates) = (prim(z), prim(values), prim(w), prim(b), prim(gates));
        let (out, s) = B::dnm_lstm_outputs(
            float(z.primitive.clone()),
            float(values.primitive.clone()),
            pattern,
            float(w.primitive.clone()),
            float(b.primitive.clone()),
            float(gates.primitive.clone()),
            leak,
            precision,
        )?;
        let s = prim(s);
        let out = match LstmOutputsBackward
            .prepare::<C>([
                z.node.clone(),
                values.node.clone(),
                w.node.clone(),
                b.node.clone(),
                gates.node.clone(),
            ])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish(
                (
                    z.primitive,
                    values.primitive,
                    w.primitive,
                    b.primitive,
                    gates.primitive,
                    pattern.clone(),
                    (leak, precision),
                    s.clone(),
                ),
                prim(out),
            ),
            OpsKind::UnTracked(prep) => prep.finish(prim(out)),
        };
        Some((
            Tensor::from_primitive(TensorPrimitive::Float(out)),
            Tensor::from_inner(float(s)),
        ))
    }

    /// Not differentiated again: computed on the inner backend.
    fn dnm_lstm_outputs_backward(
        z: Tensor<Self, 2>,
        values: Tensor<Self, 1>,
        pattern: &Pattern,
        w: Tensor<Self, 1>,
        b: Tensor<Self, 1>,
        gates: Tensor<Self, 2>,
        leak: f64,
        precision: Precision,
        s: Tensor<Self, 2>,
        grad: Tensor<Self, 2>,
    ) -> Option<super::lstm::LstmGrads<Self>> {
        let (g_z, g_v, g_w, g_b, g_gates) = B::dnm_lstm_outputs_backward(
            z.inner(),
            values.inner(),
            pattern,
            w.inner(),
            b.inner(),
            gates.inner(),
            leak,
            precision,
            s.inner(),
            grad.inner(),
        )?;
        Some((
            Tensor::from_inner(g_z),
            Tensor::from_inner(g_v),
            Tensor::from_inner(g_w),
            Tensor::from_inner(g_b),
            Tensor::from_inner(g_gates),
        ))
    }

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
        precision: Precision,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
        let (x, values, w, b) = (prim(x), prim(values), prim(w), prim(b));
        let (y, o) = B::dnm_kept_outputs(
            float(x.primitive.clone()),
            float(values.primitive.clone()),
            pattern,
            float(w.primitive.clone()),
            float(b.primitive.clone()),
            leak,
            precision,
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
                    (leak, precision),
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
        precision: Precision,
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
            precision,
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
    ) -> Option<super::forward::TensorGrads<Self>> {
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
}
