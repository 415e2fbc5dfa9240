//! The DNM's step as CubeCL kernels for the GPU backends (`CubeBackend`, and through
//! [`crate::dnm_fusion`] the default `Wgpu`, which is `Fusion<CubeBackend<…>>`): the same
//! operations and maths as the CPU kernels of [`crate::dnm_closeness`] and
//! [`crate::dnm_forward`], in f32.
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

use burn::tensor::{DType, ElementConversion, Tensor};
use burn_cubecl::tensor::CubeTensor;
use burn_cubecl::{BoolElement, CubeBackend, CubeRuntime, IntElement};
use cubecl::prelude::{CubeCount, CubeDim};

use crate::autodiff::float;
use crate::dnm_closeness::Geometry;
use crate::dnm_forward::TensorGrads;
use crate::KernelBackend;

/// The kernels (CubeCL generates a module and launch functions for each).
#[allow(missing_docs)]
mod kernels {
    use cubecl::prelude::*;

    /// Threads per cube of the row and element-wise kernels.
    pub(super) const BLOCK: u32 = 256;

    /// `log2(BLOCK)`: the steps of a cube's tree reduction.
    const BLOCK_LOG2: u32 = 8;

    #[cube]
    fn sigmoid_f(x: f32) -> f32 {
        1.0 / (1.0 + f32::exp(-x))
    }

    #[cube]
    fn softplus_f(x: f32) -> f32 {
        f32::max(x, 0.0) + f32::log1p(f32::exp(-f32::abs(x)))
    }

    #[cube]
    fn sign_f(x: f32) -> f32 {
        select(x > 0.0, 1.0f32, select(x < 0.0, -1.0f32, 0.0f32))
    }

    /// Sums `value` over the cube's threads into `shared[0]` (a tree in shared memory);
    /// every thread must call it.
    #[cube]
    fn cube_sum(shared: &mut SharedMemory<f32>, value: f32) {
        let t = UNIT_POS_X as usize;
        shared[t] = value;
        sync_cube();
        for k in 0..BLOCK_LOG2 {
            let stride = (BLOCK >> (k + 1)) as usize;
            if t < stride {
                let other = shared[t + stride];
                shared[t] += other;
            }
            sync_cube();
        }
    }

    /// The transformed parameters of row `r` (see [`crate::dnm_closeness`]).
    #[derive(CubeType)]
    struct RowParams {
        offset: f32,
        amp: f32,
        d_amp: f32,
        power: f32,
        shift: f32,
        d_shift: f32,
        freq: f32,
        d_freq: f32,
        phi: f32,
        width: f32,
        d_width: f32,
        mu: f32,
    }

    #[cube]
    fn row_params(
        shape: &Array<f32>,
        r: usize,
        rows: usize,
        inputs: usize,
        outputs: usize,
        period: f32,
    ) -> RowParams {
        let raw = 7 * r;
        let sa = sigmoid_f(shape[raw]);
        let sg = sigmoid_f(shape[raw + 2]);
        let ln2 = f32::new(core::f32::consts::LN_2);
        let theta = softplus_f(shape[raw + 3]) / ln2;
        let freq = f32::new(core::f32::consts::TAU) / (period * theta);
        let mut offset = f32::cast_from(inputs);
        if rows > 1 {
            offset += (f32::cast_from(outputs) - f32::cast_from(inputs)) * f32::cast_from(r)
                / f32::cast_from(rows - 1);
        }
        RowParams {
            offset,
            amp: 2.0 * sa - 1.0,
            d_amp: 2.0 * sa * (1.0 - sa),
            power: shape[raw + 1] + 1.0,
            shift: sg,
            d_shift: sg * (1.0 - sg),
            freq,
            d_freq: -freq / theta * sigmoid_f(shape[raw + 3]) / ln2,
            phi: shape[raw + 4],
            width: softplus_f(shape[raw + 5]),
            d_width: sigmoid_f(shape[raw + 5]),
            mu: shape[raw + 6],
        }
    }

    /// `f` at one cell and what its derivatives need: `(p, z, gauss, wave, ln_wave, pow,
    /// cos, f)` as a struct.
    #[derive(CubeType)]
    struct CellValue {
        p: f32,
        z: f32,
        gauss: f32,
        wave: f32,
        ln_wave: f32,
        pow: f32,
        cos: f32,
        f: f32,
    }

    #[cube]
    fn cell_value(row: &RowParams, j: usize, i: usize) -> CellValue {
        let p = f32::cast_from(j) - f32::cast_from(i) + row.offset;
        let z = p - row.mu;
        let gauss = f32::exp(-z * z / (2.0 * row.width * row.width));
        // Reduced to [0, 2π) first: GPU sines lose accuracy at the hundreds of radians
        // that large manifolds reach (the floor does not change any derivative).
        let tau = f32::new(core::f32::consts::TAU);
        let turns = f32::floor((row.freq * p + row.phi) / tau);
        let arg = row.freq * p + row.phi - turns * tau;
        let wave = 0.501 + 0.5 * f32::sin(arg);
        let ln_wave = f32::ln(wave);
        let pow = f32::exp(ln_wave * row.power);
        CellValue {
            p,
            z,
            gauss,
            wave,
            ln_wave,
            pow,
            cos: f32::cos(arg),
            f: row.amp * gauss * (pow - row.shift),
        }
    }

    /// Row `r`'s parameters with the cutoff `c = sigmoid(κ)` and `D`'s scale `1/(1 − c)`.
    #[derive(CubeType)]
    struct RowCut {
        row: RowParams,
        c: f32,
        scale: f32,
    }

    #[cube]
    #[allow(clippy::too_many_arguments)]
    fn row_cut(
        shape: &Array<f32>,
        kappa: &Array<f32>,
        r: usize,
        inputs: usize,
        outputs: usize,
        period: f32,
        rows: usize,
    ) -> RowCut {
        RowCut {
            row: row_params(shape, r, rows, inputs, outputs, period),
            c: sigmoid_f(kappa[0]),
            // 1/(1 − c) as 1/σ(−κ): no cancellation when c rounds to 1.
            scale: 1.0 / sigmoid_f(-kappa[0]),
        }
    }

    /// One cube per row `r` of `D`: `d[r, :]` (0 on cut and disallowed cells) and, with
    /// `surrogate`, `shares[r] = Σ_allowed sigmoid(k·(|f| − c))`.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn closeness_kernel(
        shape: &Array<f32>,
        kappa: &Array<f32>,
        d: &mut Array<f32>,
        shares: &mut Array<f32>,
        inputs: usize,
        comps: usize,
        outputs: usize,
        period: f32,
        sharpness: f32,
        #[comptime] surrogate: bool,
    ) {
        let r = CUBE_POS_X as usize;
        let t = UNIT_POS_X as usize;
        let rows = comps + outputs;
        let cols = inputs + comps;
        let i = inputs + r;
        let allowed = usize::min(i, cols);
        let cut = row_cut(shape, kappa, r, inputs, outputs, period, rows);
        let row = cut.row;
        let c = cut.c;
        let scale = cut.scale;
        let mut s = 0.0f32;
        let mut j = t;
        while j < cols {
            let mut value = 0.0f32;
            if j < allowed {
                let x = cell_value(&row, j, i);
                let over = f32::abs(x.f) - c;
                if over > 0.0 {
                    value = sign_f(x.f) * over * scale;
                }
                if surrogate {
                    s += sigmoid_f(sharpness * over);
                }
            }
            d[r * cols + j] = value;
            j += BLOCK as usize;
        }
        if surrogate {
            let mut shared = SharedMemory::<f32>::new(BLOCK as usize);
            cube_sum(&mut shared, s);
            if t == 0 {
                shares[r] = shared[0];
            }
        }
    }

    /// One cube per row `r`: `g_shape[7r..7r + 7]` and `g_c[r]`, the row's share of the
    /// cutoff's gradient, from the forward's `out` (kept cells: `out ≠ 0`) and its gradient
    /// `grad` (with `surrogate`, `grad[R·C]` is `s̄`).
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn closeness_backward_kernel(
        shape: &Array<f32>,
        kappa: &Array<f32>,
        out: &Array<f32>,
        grad: &Array<f32>,
        g_shape: &mut Array<f32>,
        g_c: &mut Array<f32>,
        inputs: usize,
        comps: usize,
        outputs: usize,
        period: f32,
        sharpness: f32,
        max_cells: f32,
        #[comptime] surrogate: bool,
    ) {
        let r = CUBE_POS_X as usize;
        let t = UNIT_POS_X as usize;
        let rows = comps + outputs;
        let cols = inputs + comps;
        let i = inputs + r;
        let allowed = usize::min(i, cols);
        let cut = row_cut(shape, kappa, r, inputs, outputs, period, rows);
        let row = cut.row;
        let c = cut.c;
        let scale = cut.scale;
        let mut g_s = 0.0f32;
        if surrogate {
            g_s = grad[rows * cols] / max_cells;
        }
        let mut acc = Array::<f32>::new(8usize);
        for k in 0..8usize {
            acc[k] = 0.0;
        }
        let w2 = row.width * row.width;
        let mut j = t;
        while j < allowed {
            let kept = out[r * cols + j] != 0.0;
            if kept || surrogate {
                let x = cell_value(&row, j, i);
                let sign = sign_f(x.f);
                let mut g_f = 0.0f32;
                if kept {
                    let g = grad[r * cols + j];
                    g_f += g * scale;
                    acc[7] += g * sign * (f32::abs(x.f) - 1.0) * scale * scale;
                }
                if surrogate {
                    let sg = sigmoid_f(sharpness * (f32::abs(x.f) - c));
                    let q = g_s * sharpness * sg * (1.0 - sg);
                    g_f += q * sign;
                    acc[7] -= q;
                }
                let shaped = x.pow - row.shift;
                let amp_gauss = row.amp * x.gauss;
                let k_phi = amp_gauss * row.power * x.pow / x.wave * 0.5 * x.cos;
                acc[0] += g_f * row.d_amp * x.gauss * shaped;
                acc[1] += g_f * amp_gauss * x.pow * x.ln_wave;
                acc[2] -= g_f * amp_gauss * row.d_shift;
                acc[3] += g_f * k_phi * x.p * row.d_freq;
                acc[4] += g_f * k_phi;
                acc[5] += g_f * x.f * x.z * x.z / (w2 * row.width) * row.d_width;
                acc[6] += g_f * x.f * x.z / w2;
            }
            j += BLOCK as usize;
        }
        let mut shared = SharedMemory::<f32>::new(8 * BLOCK as usize);
        for k in 0..8usize {
            shared[k * BLOCK as usize + t] = acc[k];
        }
        sync_cube();
        for level in 0..BLOCK_LOG2 {
            let stride = (BLOCK >> (level + 1)) as usize;
            if t < stride {
                for k in 0..8usize {
                    let other = shared[k * BLOCK as usize + t + stride];
                    shared[k * BLOCK as usize + t] += other;
                }
            }
            sync_cube();
        }
        if t == 0 {
            for k in 0..7usize {
                g_shape[7 * r + k] = shared[k * BLOCK as usize];
            }
            g_c[r] = shared[7 * BLOCK as usize];
        }
    }

    #[cube]
    fn leaky_f(u: f32, leak: f32) -> f32 {
        select(u > 0.0, u, u * leak)
    }

    /// `u` of sender `j` at sample `s`: `w_j·x[s, j] + b_j` for an input, `w_j·o[s, j − n_in]
    /// + b_j` for a comp.
    #[cube]
    #[allow(clippy::too_many_arguments)]
    fn pre_activation(
        x: &Array<f32>,
        o: &Array<f32>,
        w: &Array<f32>,
        b: &Array<f32>,
        s: usize,
        j: usize,
        inputs: usize,
        comps: usize,
    ) -> f32 {
        let z = if j < inputs {
            x[s * inputs + j]
        } else {
            o[s * comps + j - inputs]
        };
        w[j] * z + b[j]
    }

    /// One thread per (sample `s`, receiver `r`): `acc0[s, r]`, the receiver's sum over the
    /// input senders (`D_rj·a_j` for a comp, `D_rj·u_j` for an output).
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn input_block_kernel(
        x: &Array<f32>,
        d: &Array<f32>,
        w: &Array<f32>,
        b: &Array<f32>,
        acc0: &mut Array<f32>,
        batch: usize,
        inputs: usize,
        comps: usize,
        outputs: usize,
        leak: f32,
    ) {
        let rows = comps + outputs;
        let cols = inputs + comps;
        let cell = ABSOLUTE_POS;
        if cell >= batch * rows {
            terminate!();
        }
        let s = cell / rows;
        let r = cell % rows;
        let mut acc = 0.0f32;
        for j in 0..inputs {
            let v = d[r * cols + j];
            if v != 0.0 {
                let u = w[j] * x[s * inputs + j] + b[j];
                if r < comps {
                    acc += v * leaky_f(u, leak);
                } else {
                    acc += v * u;
                }
            }
        }
        acc0[cell] = acc;
    }

    /// One cube per sample `s`: the comps `o[s, :]` in index order and the outputs `y[s, :]`
    /// from `acc0[s, :]` (their sums over the input senders). Thread `t` owns receivers
    /// `t, t + CUBE_DIM, …`: after each comp `j` is known (its activation and pre-activation
    /// published in shared memory, two slots alternating, one barrier per comp) it adds
    /// `D_rj`·`a_j` (comps) or `D_rj`·`u_j` (outputs) to each later one.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn substitution_kernel(
        acc0: &Array<f32>,
        d: &Array<f32>,
        w: &Array<f32>,
        b: &Array<f32>,
        o: &mut Array<f32>,
        y: &mut Array<f32>,
        inputs: usize,
        comps: usize,
        outputs: usize,
        leak: f32,
    ) {
        let s = CUBE_POS_X as usize;
        let t = UNIT_POS_X as usize;
        let block = CUBE_DIM_X as usize;
        let rows = comps + outputs;
        let cols = inputs + comps;
        let mut r = t;
        while r < rows {
            if r < comps {
                o[s * comps + r] = acc0[s * rows + r];
            } else {
                y[s * outputs + r - comps] = acc0[s * rows + r];
            }
            r += block;
        }
        let mut shared = SharedMemory::<f32>::new(4usize);
        for j in 0..comps {
            let c = inputs + j;
            let slot = (j % 2) * 2;
            if j % block == t {
                let u = w[c] * o[s * comps + j] + b[c];
                shared[slot] = leaky_f(u, leak);
                shared[slot + 1] = u;
            }
            sync_cube();
            let a = shared[slot];
            let u = shared[slot + 1];
            let mut r = t;
            while r < rows {
                if r > j {
                    let v = d[r * cols + c];
                    if v != 0.0 {
                        if r < comps {
                            o[s * comps + r] += v * a;
                        } else {
                            y[s * outputs + r - comps] += v * u;
                        }
                    }
                }
                r += block;
            }
        }
    }

    /// `ū_j` of sender `j` at sample `s` once every receiver has given it its share: the
    /// outputs' `Σ_q ȳ[s, q]·D_qj` plus `ā_j·leaky'(u_j)`.
    #[cube]
    #[allow(clippy::too_many_arguments)]
    fn closed_gradient(
        x: &Array<f32>,
        o: &Array<f32>,
        g_y: &Array<f32>,
        d: &Array<f32>,
        w: &Array<f32>,
        b: &Array<f32>,
        g_a: f32,
        s: usize,
        j: usize,
        inputs: usize,
        comps: usize,
        outputs: usize,
        leak: f32,
    ) -> f32 {
        let cols = inputs + comps;
        let mut g_out = 0.0f32;
        for q in 0..outputs {
            g_out += g_y[s * outputs + q] * d[(comps + q) * cols + j];
        }
        let u = pre_activation(x, o, w, b, s, j, inputs, comps);
        g_out + g_a * select(u > 0.0, 1.0f32, leak)
    }

    /// One cube per sample `s`: `g_u[s, :]`, the gradient of every sender's pre-activation.
    /// Thread `t` owns senders `t, t + BLOCK, …`: it starts each from the outputs' share
    /// `Σ_q ȳ[s, q]·D_qj` and accumulates `ā` in `g_u` until the sender is closed; the
    /// comps close in reverse order, `ō_i = w_c·ū_c` published in shared memory, one
    /// barrier per comp.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn reverse_sweep_kernel(
        x: &Array<f32>,
        o: &Array<f32>,
        g_y: &Array<f32>,
        d: &Array<f32>,
        w: &Array<f32>,
        b: &Array<f32>,
        g_u: &mut Array<f32>,
        inputs: usize,
        comps: usize,
        outputs: usize,
        leak: f32,
    ) {
        let s = CUBE_POS_X as usize;
        let t = UNIT_POS_X as usize;
        let block = CUBE_DIM_X as usize;
        let cols = inputs + comps;
        let base = s * cols;
        let mut j = t;
        while j < cols {
            g_u[base + j] = 0.0;
            j += block;
        }
        let mut shared = SharedMemory::<f32>::new(2usize);
        for step in 0..comps {
            let i = comps - 1 - step;
            let c = inputs + i;
            let slot = step % 2;
            if c % block == t {
                let g_a = g_u[base + c];
                let g =
                    closed_gradient(x, o, g_y, d, w, b, g_a, s, c, inputs, comps, outputs, leak);
                g_u[base + c] = g;
                shared[slot] = w[c] * g;
            }
            sync_cube();
            let g_o = shared[slot];
            let mut j = t;
            while j < c {
                let v = d[i * cols + j];
                if v != 0.0 {
                    g_u[base + j] += v * g_o;
                }
                j += block;
            }
        }
        let mut j = t;
        while j < inputs {
            let g_a = g_u[base + j];
            g_u[base + j] =
                closed_gradient(x, o, g_y, d, w, b, g_a, s, j, inputs, comps, outputs, leak);
            j += block;
        }
    }

    /// One thread per cell `(r, j)` of `D`: `D̄_rj = Σ_s ō[s, r]·a[s, j]` for a comp row
    /// (`ō = w_c·ū_c`), `Σ_s ȳ[s, q]·u[s, j]` for an output row `q`; 0 where `D_rj = 0`.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn cell_grad_kernel(
        x: &Array<f32>,
        o: &Array<f32>,
        g_y: &Array<f32>,
        g_u: &Array<f32>,
        d: &Array<f32>,
        w: &Array<f32>,
        b: &Array<f32>,
        g_d: &mut Array<f32>,
        batch: usize,
        inputs: usize,
        comps: usize,
        outputs: usize,
        leak: f32,
    ) {
        let cols = inputs + comps;
        let cell = ABSOLUTE_POS;
        if cell >= (comps + outputs) * cols {
            terminate!();
        }
        let r = cell / cols;
        let j = cell % cols;
        let mut g = 0.0f32;
        if d[cell] != 0.0 {
            for s in 0..batch {
                let u = pre_activation(x, o, w, b, s, j, inputs, comps);
                if r < comps {
                    let c = inputs + r;
                    g += w[c] * g_u[s * cols + c] * leaky_f(u, leak);
                } else {
                    g += g_y[s * outputs + r - comps] * u;
                }
            }
        }
        g_d[cell] = g;
    }

    /// One thread per sender `j`: `w̄_j = Σ_s ū[s, j]·z[s, j]`, `b̄_j = Σ_s ū[s, j]`, and for
    /// an input `x̄[s, j] = w_j·ū[s, j]`.
    #[cube(launch)]
    #[allow(clippy::too_many_arguments)]
    pub fn sender_grad_kernel(
        x: &Array<f32>,
        o: &Array<f32>,
        g_u: &Array<f32>,
        w: &Array<f32>,
        g_x: &mut Array<f32>,
        g_w: &mut Array<f32>,
        g_b: &mut Array<f32>,
        batch: usize,
        inputs: usize,
        comps: usize,
    ) {
        let cols = inputs + comps;
        let j = ABSOLUTE_POS;
        if j >= cols {
            terminate!();
        }
        let mut sw = 0.0f32;
        let mut sb = 0.0f32;
        for s in 0..batch {
            let g = g_u[s * cols + j];
            let z = if j < inputs {
                g_x[s * inputs + j] = w[j] * g;
                x[s * inputs + j]
            } else {
                o[s * comps + j - inputs]
            };
            sw += g * z;
            sb += g;
        }
        g_w[j] = sw;
        g_b[j] = sb;
    }

    /// One cube per row `r`: `shares[r] = sign_r·Σ_{j ∈ block(r)} |D_rj|`, the row's share
    /// of the flow sum `v` (comps: input columns, +1; outputs: comp columns, −1).
    #[cube(launch)]
    pub fn flow_kernel(d: &Array<f32>, shares: &mut Array<f32>, inputs: usize, comps: usize) {
        let r = CUBE_POS_X as usize;
        let t = UNIT_POS_X as usize;
        let cols = inputs + comps;
        let comp_row = r < comps;
        let lo = select(comp_row, 0usize, inputs);
        let hi = select(comp_row, inputs, cols);
        let sign = select(comp_row, 1.0f32, -1.0f32);
        let mut acc = 0.0f32;
        let mut j = lo + t;
        while j < hi {
            acc += f32::abs(d[r * cols + j]);
            j += BLOCK as usize;
        }
        let mut shared = SharedMemory::<f32>::new(BLOCK as usize);
        cube_sum(&mut shared, acc);
        if t == 0 {
            shares[r] = sign * shared[0];
        }
    }

    /// One thread per cell: `D̄_rj = sign_r·2v·ḡ·sign(D_rj)` inside row `r`'s flow block, 0
    /// elsewhere.
    #[cube(launch)]
    pub fn flow_backward_kernel(
        d: &Array<f32>,
        grad: &Array<f32>,
        g_d: &mut Array<f32>,
        inputs: usize,
        comps: usize,
        outputs: usize,
        v: f32,
    ) {
        let cols = inputs + comps;
        let cell = ABSOLUTE_POS;
        if cell >= (comps + outputs) * cols {
            terminate!();
        }
        let r = cell / cols;
        let j = cell % cols;
        let mut g = 0.0f32;
        if r < comps && j < inputs {
            g = 2.0 * v * grad[0] * sign_f(d[cell]);
        }
        if r >= comps && j >= inputs {
            g = -2.0 * v * grad[0] * sign_f(d[cell]);
        }
        g_d[cell] = g;
    }

    /// One cube: `out[at] = Σ values / divisor`, times `c·(1 − c)` (`c = sigmoid(κ)`) with
    /// `cut_slope`.
    #[cube(launch)]
    pub fn total_kernel(
        values: &Array<f32>,
        kappa: &Array<f32>,
        out: &mut Array<f32>,
        at: usize,
        divisor: f32,
        #[comptime] cut_slope: bool,
    ) {
        let t = UNIT_POS_X as usize;
        let mut acc = 0.0f32;
        let mut k = t;
        while k < values.len() {
            acc += values[k];
            k += BLOCK as usize;
        }
        let mut shared = SharedMemory::<f32>::new(BLOCK as usize);
        cube_sum(&mut shared, acc);
        if t == 0 {
            let mut total = shared[0] / divisor;
            if cut_slope {
                let c = sigmoid_f(kappa[0]);
                total *= c * (1.0 - c);
            }
            out[at] = total;
        }
    }
}

use kernels::*;

/// A cube backend with f32 floats.
type Cube<R, I, BT> = CubeBackend<R, f32, I, BT>;

/// Its float tensors.
type Floats<R, I, BT, const D: usize> = Tensor<Cube<R, I, BT>, D>;

fn handle<R: CubeRuntime, I: IntElement, BT: BoolElement, const D: usize>(
    t: Tensor<Cube<R, I, BT>, D>,
) -> CubeTensor<R> {
    burn_cubecl::kernel::into_contiguous(t.into_primitive().tensor())
}

/// Whether every tensor is f32 (the kernels' only float type).
pub(crate) fn all_f32<B: burn::tensor::backend::Backend, const D: usize>(
    ts: &[&Tensor<B, D>],
) -> bool {
    ts.iter().all(|t| t.dtype() == DType::F32)
}

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

/// [`KernelBackend::dnm_closeness`]: `closeness_kernel`, and with a sharpness
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
        sharpness.is_some(),
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

/// [`KernelBackend::dnm_closeness_backward`]: `closeness_backward_kernel`, then
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
        sharpness.is_some(),
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

/// [`KernelBackend::dnm_outputs`] in one launch of `substitution_kernel`.
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

/// [`KernelBackend::dnm_outputs_backward`]: `ū` by `reverse_sweep_kernel`, then `D̄` (on
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

/// [`KernelBackend::dnm_flow_backward`] by `flow_backward_kernel`.
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

impl<R: CubeRuntime, I: IntElement, BT: BoolElement> KernelBackend for Cube<R, I, BT> {
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
