//! The flow sum `v` of `D` (its rows' shares) and the gradient of `v²`.

use cubecl::prelude::*;

use super::{cube_sum, sign_f, BLOCK};

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
