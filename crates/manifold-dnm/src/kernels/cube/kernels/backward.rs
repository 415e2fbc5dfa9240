//! The forward pass's backward: `ū` by a reverse sweep, then `D̄` per cell and `w̄`,
//! `b̄`, `x̄` per sender.

use cubecl::prelude::*;

use super::leaky_f;

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
            let g = closed_gradient(x, o, g_y, d, w, b, g_a, s, c, inputs, comps, outputs, leak);
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
