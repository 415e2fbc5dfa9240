//! The forward pass: the input senders' sums, then the comps in index order and the
//! outputs, one cube per sample.

use cubecl::prelude::*;

use super::leaky_f;

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
