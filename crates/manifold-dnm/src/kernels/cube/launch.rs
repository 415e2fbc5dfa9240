//! The launchers: host code that sizes the cube counts, allocates the outputs and
//! calls the kernels of [`super::kernels`], one function per [`DnmBackend`] operation.

use burn::tensor::Tensor;
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::{BoolElement, CubeRuntime, IntElement};
use cubecl::prelude::{CubeCount, CubeDim};

use super::kernels::*;
use super::Cube;
use crate::kernels::forward::TensorGrads;
#[cfg(doc)]
use crate::kernels::DnmBackend;
use crate::{Geometry, Window};
use manifold_kernels::autodiff::float;

/// The float tensors of a [`Cube`] backend.
type Floats<R, I, BT, const D: usize> = Tensor<Cube<R, I, BT>, D>;

/// The contiguous cube tensor of `t`.
fn handle<R: CubeRuntime, I: IntElement, BT: BoolElement, const D: usize>(
    t: Tensor<Cube<R, I, BT>, D>,
) -> CubeTensor<R> {
    burn_cubecl::kernel::into_contiguous(t.into_primitive().tensor())
}

/// A buffer of zeros.
fn zeros<R: CubeRuntime, I: IntElement, BT: BoolElement, const D: usize>(
    shape: [usize; D],
    device: &burn::tensor::Device<Cube<R, I, BT>>,
) -> CubeTensor<R> {
    handle(Tensor::<Cube<R, I, BT>, D>::zeros(shape, device))
}

/// Threads per cube of the per-sample kernels (`substitution_kernel`,
/// `reverse_sweep_kernel`), which meet at one barrier per comp: two warps of an NVIDIA GPU,
/// one wave of an AMD one. On lavapipe, where a barrier costs tens of µs, 32 and 64
/// threads measured within 3% of each other and 256 about 1.6× slower; not yet tuned on
/// a GPU.
const SAMPLE_THREADS: u32 = 64;

/// A buffer the kernel writes in full.
fn empty<R: CubeRuntime, I: IntElement, BT: BoolElement, const D: usize>(
    shape: [usize; D],
    device: &burn::tensor::Device<Cube<R, I, BT>>,
) -> CubeTensor<R> {
    handle(Tensor::<Cube<R, I, BT>, D>::empty(shape, device))
}

/// Enough cubes of [`BLOCK`] threads for `n` elements, spread over two dimensions where
/// one would pass the 65 535 cubes a dimension allows (the kernels bound-check).
fn cubes<R: CubeRuntime>(client: &cubecl::prelude::ComputeClient<R>, n: usize) -> CubeCount {
    cubecl::calculate_cube_count_elemwise(client, n, CubeDim::new_1d(BLOCK))
}

/// [`DnmBackend::dnm_closeness`]: `closeness_kernel`, and with a sharpness
/// `total_kernel` for `s`.
pub fn closeness<R: CubeRuntime, I: IntElement, BT: BoolElement>(
    shape: Tensor<Cube<R, I, BT>, 2>,
    kappa: Tensor<Cube<R, I, BT>, 1>,
    geometry: Geometry,
    sharpness: Option<f64>,
) -> Tensor<Cube<R, I, BT>, 2> {
    let (rows, cols, device) = (geometry.rows(), geometry.cols(), shape.device());
    let extra = sharpness.is_some() as usize;
    // Every cell of rows 0..R is written; the surrogate's row is [s, 0, …, 0].
    let out = match sharpness {
        Some(_) => zeros::<R, I, BT, 2>([rows + extra, cols], &device),
        None => empty::<R, I, BT, 2>([rows, cols], &device),
    };
    let shares = empty::<R, I, BT, 1>([rows], &device);
    let (shape, kappa) = (handle(shape), handle(kappa));
    let client = out.client.clone();
    closeness_kernel::launch::<R>(
        &client,
        CubeCount::Static(rows as u32, 1, 1),
        CubeDim::new_1d(BLOCK),
        shape.into_array_arg(),
        kappa.clone().into_array_arg(),
        out.clone().into_array_arg(),
        shares.clone().into_array_arg(),
        geometry.inputs,
        geometry.comps,
        geometry.outputs,
        geometry.period as f32,
        sharpness.unwrap_or(1.0) as f32,
        geometry.plane_end(),
        geometry.plane_stretch() as f32,
        sharpness.is_some(),
        geometry.window != Window::Line,
    );
    if sharpness.is_some() {
        total_kernel::launch::<R>(
            &client,
            CubeCount::Static(1, 1, 1),
            CubeDim::new_1d(BLOCK),
            shares.into_array_arg(),
            kappa.into_array_arg(),
            out.clone().into_array_arg(),
            rows * cols,
            geometry.max_cells() as f32,
            false,
        );
    }
    float(out)
}

/// [`DnmBackend::dnm_closeness_backward`]: `closeness_backward_kernel`, then
/// `total_kernel` for `κ̄`.
pub fn closeness_backward<R: CubeRuntime, I: IntElement, BT: BoolElement>(
    shape: Tensor<Cube<R, I, BT>, 2>,
    kappa: Tensor<Cube<R, I, BT>, 1>,
    geometry: Geometry,
    sharpness: Option<f64>,
    out: Tensor<Cube<R, I, BT>, 2>,
    grad: Tensor<Cube<R, I, BT>, 2>,
) -> (Floats<R, I, BT, 2>, Floats<R, I, BT, 1>) {
    let (rows, device) = (geometry.rows(), shape.device());
    let g_shape = empty::<R, I, BT, 2>([rows, 7], &device);
    let g_c = empty::<R, I, BT, 1>([rows], &device);
    let g_kappa = empty::<R, I, BT, 1>([1], &device);
    let (shape, kappa, out, grad) = (handle(shape), handle(kappa), handle(out), handle(grad));
    let client = g_shape.client.clone();
    closeness_backward_kernel::launch::<R>(
        &client,
        CubeCount::Static(rows as u32, 1, 1),
        CubeDim::new_1d(BLOCK),
        shape.into_array_arg(),
        kappa.clone().into_array_arg(),
        out.into_array_arg(),
        grad.into_array_arg(),
        g_shape.clone().into_array_arg(),
        g_c.clone().into_array_arg(),
        geometry.inputs,
        geometry.comps,
        geometry.outputs,
        geometry.period as f32,
        sharpness.unwrap_or(1.0) as f32,
        geometry.max_cells() as f32,
        geometry.plane_end(),
        geometry.plane_stretch() as f32,
        sharpness.is_some(),
        geometry.window != Window::Line,
    );
    total_kernel::launch::<R>(
        &client,
        CubeCount::Static(1, 1, 1),
        CubeDim::new_1d(BLOCK),
        g_c.into_array_arg(),
        kappa.into_array_arg(),
        g_kappa.clone().into_array_arg(),
        0,
        1.0,
        true,
    );
    (float(g_shape), float(g_kappa))
}

/// [`DnmBackend::dnm_outputs`] in one launch of `substitution_kernel`.
pub fn outputs<R: CubeRuntime, I: IntElement, BT: BoolElement>(
    x: Tensor<Cube<R, I, BT>, 2>,
    d: Tensor<Cube<R, I, BT>, 2>,
    w: Tensor<Cube<R, I, BT>, 1>,
    b: Tensor<Cube<R, I, BT>, 1>,
    n_in: usize,
    leak: f64,
) -> (Floats<R, I, BT, 2>, Floats<R, I, BT, 2>) {
    let ([rows, cols], [batch, _], device) = (d.dims(), x.dims(), x.device());
    let n_comp = cols - n_in;
    let n_out = rows - n_comp;
    let acc0 = empty::<R, I, BT, 2>([batch, rows], &device);
    let o = empty::<R, I, BT, 2>([batch, n_comp], &device);
    let y = empty::<R, I, BT, 2>([batch, n_out], &device);
    let (d, w, b) = (handle(d), handle(w), handle(b));
    let client = o.client.clone();
    input_block_kernel::launch::<R>(
        &client,
        cubes(&client, batch * rows),
        CubeDim::new_1d(BLOCK),
        handle(x).into_array_arg(),
        d.clone().into_array_arg(),
        w.clone().into_array_arg(),
        b.clone().into_array_arg(),
        acc0.clone().into_array_arg(),
        batch,
        n_in,
        n_comp,
        n_out,
        leak as f32,
    );
    substitution_kernel::launch::<R>(
        &client,
        CubeCount::Static(batch as u32, 1, 1),
        CubeDim::new_1d(SAMPLE_THREADS),
        acc0.into_array_arg(),
        d.into_array_arg(),
        w.into_array_arg(),
        b.into_array_arg(),
        o.clone().into_array_arg(),
        y.clone().into_array_arg(),
        n_in,
        n_comp,
        n_out,
        leak as f32,
    );
    (float(y), float(o))
}

/// [`DnmBackend::dnm_outputs_backward`]: `ū` by `reverse_sweep_kernel`, then `D̄` (on
/// the support of `D`) by `cell_grad_kernel` and `w̄`, `b̄`, `x̄` by `sender_grad_kernel`.
#[allow(clippy::too_many_arguments)]
pub fn outputs_backward<R: CubeRuntime, I: IntElement, BT: BoolElement>(
    x: Tensor<Cube<R, I, BT>, 2>,
    d: Tensor<Cube<R, I, BT>, 2>,
    w: Tensor<Cube<R, I, BT>, 1>,
    b: Tensor<Cube<R, I, BT>, 1>,
    n_in: usize,
    leak: f64,
    o: Tensor<Cube<R, I, BT>, 2>,
    grad: Tensor<Cube<R, I, BT>, 2>,
) -> TensorGrads<Cube<R, I, BT>> {
    let ([rows, cols], [batch, _], device) = (d.dims(), x.dims(), x.device());
    let n_comp = cols - n_in;
    let n_out = rows - n_comp;
    let (x, d, w, b, o, g_y) = (
        handle(x),
        handle(d),
        handle(w),
        handle(b),
        handle(o),
        handle(grad),
    );
    let g_u = empty::<R, I, BT, 2>([batch, cols], &device);
    let g_d = empty::<R, I, BT, 2>([rows, cols], &device);
    let g_x = empty::<R, I, BT, 2>([batch, n_in], &device);
    let g_w = empty::<R, I, BT, 1>([cols], &device);
    let g_b = empty::<R, I, BT, 1>([cols], &device);
    let client = g_u.client.clone();
    reverse_sweep_kernel::launch::<R>(
        &client,
        CubeCount::Static(batch as u32, 1, 1),
        CubeDim::new_1d(SAMPLE_THREADS),
        x.clone().into_array_arg(),
        o.clone().into_array_arg(),
        g_y.clone().into_array_arg(),
        d.clone().into_array_arg(),
        w.clone().into_array_arg(),
        b.clone().into_array_arg(),
        g_u.clone().into_array_arg(),
        n_in,
        n_comp,
        n_out,
        leak as f32,
    );
    cell_grad_kernel::launch::<R>(
        &client,
        cubes(&client, rows * cols),
        CubeDim::new_1d(BLOCK),
        x.clone().into_array_arg(),
        o.clone().into_array_arg(),
        g_y.into_array_arg(),
        g_u.clone().into_array_arg(),
        d.into_array_arg(),
        w.clone().into_array_arg(),
        b.into_array_arg(),
        g_d.clone().into_array_arg(),
        batch,
        n_in,
        n_comp,
        n_out,
        leak as f32,
    );
    sender_grad_kernel::launch::<R>(
        &client,
        cubes(&client, cols),
        CubeDim::new_1d(BLOCK),
        x.into_array_arg(),
        o.into_array_arg(),
        g_u.into_array_arg(),
        w.into_array_arg(),
        g_x.clone().into_array_arg(),
        g_w.clone().into_array_arg(),
        g_b.clone().into_array_arg(),
        batch,
        n_in,
        n_comp,
    );
    (float(g_x), float(g_d), float(g_w), float(g_b))
}

/// The flow sum `v` (`[1]`) of `D`: `flow_kernel`, then `total_kernel`.
pub fn flow_sum<R: CubeRuntime, I: IntElement, BT: BoolElement>(
    d: Tensor<Cube<R, I, BT>, 2>,
    n_in: usize,
    n_comp: usize,
) -> Tensor<Cube<R, I, BT>, 1> {
    let ([rows, _], device) = (d.dims(), d.device());
    let shares = empty::<R, I, BT, 1>([rows], &device);
    let v = empty::<R, I, BT, 1>([1], &device);
    let d = handle(d);
    let client = d.client.clone();
    flow_kernel::launch::<R>(
        &client,
        CubeCount::Static(rows as u32, 1, 1),
        CubeDim::new_1d(BLOCK),
        d.into_array_arg(),
        shares.clone().into_array_arg(),
        n_in,
        n_comp,
    );
    total_kernel::launch::<R>(
        &client,
        CubeCount::Static(1, 1, 1),
        CubeDim::new_1d(BLOCK),
        shares.clone().into_array_arg(),
        shares.into_array_arg(),
        v.clone().into_array_arg(),
        0,
        1.0,
        false,
    );
    float(v)
}

/// [`DnmBackend::dnm_flow_backward`] by `flow_backward_kernel`.
pub fn flow_backward<R: CubeRuntime, I: IntElement, BT: BoolElement>(
    d: Tensor<Cube<R, I, BT>, 2>,
    n_in: usize,
    n_comp: usize,
    v: f64,
    grad: Tensor<Cube<R, I, BT>, 1>,
) -> Tensor<Cube<R, I, BT>, 2> {
    let ([rows, cols], device) = (d.dims(), d.device());
    let g_d = empty::<R, I, BT, 2>([rows, cols], &device);
    let (d, grad) = (handle(d), handle(grad));
    let client = d.client.clone();
    flow_backward_kernel::launch::<R>(
        &client,
        cubes(&client, rows * cols),
        CubeDim::new_1d(BLOCK),
        d.into_array_arg(),
        grad.into_array_arg(),
        g_d.clone().into_array_arg(),
        n_in,
        n_comp,
        rows - n_comp,
        v as f32,
    );
    float(g_d)
}
