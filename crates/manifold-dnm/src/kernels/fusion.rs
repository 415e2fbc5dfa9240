//! The DNM's GPU kernels ([`super::cube`]) on `Fusion<CubeBackend<…>>`, burn-wgpu's
//! default `Wgpu` type. Each operation is registered in the fusion stream as one custom
//! operation (Burn's `CustomOpIr`) whose execution runs the cube backend's kernels on
//! the resolved tensors; the operations around it fuse as usual.

use std::sync::Arc;

use burn::tensor::ops::FloatTensor;
use burn::tensor::{ElementConversion, Shape, Tensor};
use burn_cubecl::{BoolElement, CubeBackend, CubeRuntime, IntElement};
use burn_fusion::stream::{Operation, OperationStreams};
use burn_fusion::{Fusion, FusionBackend, FusionRuntime, FusionTensor};
use burn_ir::{CustomOpIr, HandleContainer, OperationIr, TensorIr};

use crate::kernels::cube::{self as dnm_cube, all_f32};
use crate::kernels::forward::TensorGrads;
use crate::kernels::DnmBackend;
use crate::Geometry;
use manifold_kernels::autodiff::{float, prim};

type Inner<R, I, BT> = CubeBackend<R, f32, I, BT>;
type Fused<R, I, BT> = Fusion<Inner<R, I, BT>>;
type Runtime<R, I, BT> = <Inner<R, I, BT> as FusionBackend>::FusionRuntime;
type Handle<R, I, BT> = <Runtime<R, I, BT> as FusionRuntime>::FusionHandle;

/// What a custom operation runs on the inner backend's tensors.
type Run<R, I, BT, const N: usize, const M: usize> = Arc<
    dyn Fn([FloatTensor<Inner<R, I, BT>>; N]) -> [FloatTensor<Inner<R, I, BT>>; M] + Send + Sync,
>;

struct Custom<R: CubeRuntime, I: IntElement, BT: BoolElement, const N: usize, const M: usize> {
    desc: CustomOpIr,
    run: Run<R, I, BT, N, M>,
}

impl<R: CubeRuntime, I: IntElement, BT: BoolElement, const N: usize, const M: usize> std::fmt::Debug
    for Custom<R, I, BT, N, M>
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Custom").field("desc", &self.desc).finish()
    }
}

impl<R: CubeRuntime, I: IntElement, BT: BoolElement, const N: usize, const M: usize>
    Operation<Runtime<R, I, BT>> for Custom<R, I, BT, N, M>
{
    fn execute(&self, handles: &mut HandleContainer<Handle<R, I, BT>>) {
        let (inputs, outputs) = self.desc.as_fixed::<N, M>();
        let inputs = inputs
            .each_ref()
            .map(|t| handles.get_float_tensor::<Inner<R, I, BT>>(t));
        for (out, value) in outputs.iter().zip((self.run)(inputs)) {
            handles.register_float_tensor::<Inner<R, I, BT>>(&out.id, value);
        }
    }
}

/// Registers `run` as one custom operation of `inputs` with outputs of the given shapes
/// (the inputs' float type).
fn custom<R: CubeRuntime, I: IntElement, BT: BoolElement, const N: usize, const M: usize>(
    name: &'static str,
    inputs: [FusionTensor<Runtime<R, I, BT>>; N],
    shapes: [Shape; M],
    run: Run<R, I, BT, N, M>,
) -> [FusionTensor<Runtime<R, I, BT>>; M] {
    let client = inputs[0].client.clone();
    let dtype = inputs[0].dtype;
    let streams = OperationStreams::with_inputs(inputs.iter());
    let outputs = shapes.map(|shape| TensorIr::uninit(client.create_empty_handle(), shape, dtype));
    let desc = CustomOpIr::new(name, &inputs.map(|t| t.into_ir()), &outputs);
    let op = Custom::<R, I, BT, N, M> {
        desc: desc.clone(),
        run,
    };
    client
        .register(streams, OperationIr::Custom(desc), op)
        .try_into()
        .unwrap_or_else(|_| unreachable!("the operation was registered with {M} outputs"))
}

fn fused<R: CubeRuntime, I: IntElement, BT: BoolElement, const D: usize>(
    t: Tensor<Fused<R, I, BT>, D>,
) -> FusionTensor<Runtime<R, I, BT>> {
    t.into_primitive().tensor()
}

impl<R: CubeRuntime, I: IntElement, BT: BoolElement> DnmBackend for Fused<R, I, BT> {
    fn dnm_closeness(
        shape: Tensor<Self, 2>,
        kappa: Tensor<Self, 1>,
        geometry: Geometry,
        sharpness: Option<f64>,
    ) -> Option<Tensor<Self, 2>> {
        if !all_f32(&[&shape]) {
            return None;
        }
        let rows = geometry.rows() + sharpness.is_some() as usize;
        let [out] = custom::<R, I, BT, 2, 1>(
            "dnm_closeness",
            [fused(shape), fused(kappa)],
            [Shape::new([rows, geometry.cols()])],
            Arc::new(move |[shape, kappa]| {
                [prim(dnm_cube::closeness::<R, I, BT>(
                    float(shape),
                    float(kappa),
                    geometry,
                    sharpness,
                ))]
            }),
        );
        Some(float(out))
    }

    fn dnm_closeness_backward(
        shape: Tensor<Self, 2>,
        kappa: Tensor<Self, 1>,
        geometry: Geometry,
        sharpness: Option<f64>,
        out: Tensor<Self, 2>,
        grad: Tensor<Self, 2>,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 1>)> {
        if !all_f32(&[&shape, &out, &grad]) {
            return None;
        }
        let [g_shape, g_kappa] = custom::<R, I, BT, 4, 2>(
            "dnm_closeness_backward",
            [fused(shape), fused(kappa), fused(out), fused(grad)],
            [Shape::new([geometry.rows(), 7]), Shape::new([1])],
            Arc::new(move |[shape, kappa, out, grad]| {
                let (g_shape, g_kappa) = dnm_cube::closeness_backward::<R, I, BT>(
                    float(shape),
                    float(kappa),
                    geometry,
                    sharpness,
                    float(out),
                    float(grad),
                );
                [prim(g_shape), prim(g_kappa)]
            }),
        );
        Some((float(g_shape), float(g_kappa)))
    }

    /// Reads `v` back to the host (one synchronisation).
    fn dnm_flow(d: Tensor<Self, 2>, n_in: usize, n_comp: usize) -> Option<(f64, Tensor<Self, 1>)> {
        if !all_f32(&[&d]) {
            return None;
        }
        let [v] = custom::<R, I, BT, 1, 1>(
            "dnm_flow",
            [fused(d)],
            [Shape::new([1])],
            Arc::new(move |[d]| [prim(dnm_cube::flow_sum::<R, I, BT>(float(d), n_in, n_comp))]),
        );
        let v: Tensor<Self, 1> = float(v);
        Some((v.clone().into_scalar().elem::<f64>(), v.clone() * v))
    }

    fn dnm_flow_backward(
        d: Tensor<Self, 2>,
        n_in: usize,
        n_comp: usize,
        v: f64,
        grad: Tensor<Self, 1>,
    ) -> Option<Tensor<Self, 2>> {
        if !all_f32(&[&d]) {
            return None;
        }
        let shape = Shape::new(d.dims());
        let [g_d] = custom::<R, I, BT, 2, 1>(
            "dnm_flow_backward",
            [fused(d), fused(grad)],
            [shape],
            Arc::new(move |[d, grad]| {
                [prim(dnm_cube::flow_backward::<R, I, BT>(
                    float(d),
                    n_in,
                    n_comp,
                    v,
                    float(grad),
                ))]
            }),
        );
        Some(float(g_d))
    }

    fn dnm_outputs(
        x: Tensor<Self, 2>,
        d: Tensor<Self, 2>,
        w: Tensor<Self, 1>,
        b: Tensor<Self, 1>,
        n_in: usize,
        leak: f64,
    ) -> Option<(Tensor<Self, 2>, Tensor<Self, 2>)> {
        if !all_f32(&[&x, &d]) {
            return None;
        }
        let ([rows, cols], [batch, _]) = (d.dims(), x.dims());
        let n_comp = cols - n_in;
        let [y, o] = custom::<R, I, BT, 4, 2>(
            "dnm_outputs",
            [fused(x), fused(d), fused(w), fused(b)],
            [
                Shape::new([batch, rows - n_comp]),
                Shape::new([batch, n_comp]),
            ],
            Arc::new(move |[x, d, w, b]| {
                let (y, o) = dnm_cube::outputs::<R, I, BT>(
                    float(x),
                    float(d),
                    float(w),
                    float(b),
                    n_in,
                    leak,
                );
                [prim(y), prim(o)]
            }),
        );
        Some((float(y), float(o)))
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
        if !all_f32(&[&x, &d, &o, &grad]) {
            return None;
        }
        let ([rows, cols], [batch, _]) = (d.dims(), x.dims());
        let [g_x, g_d, g_w, g_b] = custom::<R, I, BT, 6, 4>(
            "dnm_outputs_backward",
            [
                fused(x),
                fused(d),
                fused(w),
                fused(b),
                fused(o),
                fused(grad),
            ],
            [
                Shape::new([batch, n_in]),
                Shape::new([rows, cols]),
                Shape::new([cols]),
                Shape::new([cols]),
            ],
            Arc::new(move |[x, d, w, b, o, grad]| {
                let (g_x, g_d, g_w, g_b) = dnm_cube::outputs_backward::<R, I, BT>(
                    float(x),
                    float(d),
                    float(w),
                    float(b),
                    n_in,
                    leak,
                    float(o),
                    float(grad),
                );
                [prim(g_x), prim(g_d), prim(g_w), prim(g_b)]
            }),
        );
        Some((float(g_x), float(g_d), float(g_w), float(g_b)))
    }
}
