//! The `#[cube]` functions: the constants and device helpers every group shares and
//! the one-cube reduction `total_kernel` here; the closeness kernels, the forward pass,
//! its backward and the flow kernels in their own files.

use cubecl::prelude::*;

mod backward;
mod closeness;
mod flow;
mod forward;

pub use backward::{cell_grad_kernel, reverse_sweep_kernel, sender_grad_kernel};
pub use closeness::{closeness_backward_kernel, closeness_kernel};
pub use flow::{flow_backward_kernel, flow_kernel};
pub use forward::{input_block_kernel, substitution_kernel};

/// Threads per cube of the row and element-wise kernels.
pub(super) const BLOCK: u32 = 256;

/// `log2(BLOCK)`: the steps of a cube's tree reduction.
const BLOCK_LOG2: u32 = 8;

/// The logistic function `1/(1 + e^(−x))`.
#[cube]
fn sigmoid_f(x: f32) -> f32 {
    1.0 / (1.0 + f32::exp(-x))
}

/// `ln(1 + e^x)`, written so that it neither overflows nor loses small values.
#[cube]
fn softplus_f(x: f32) -> f32 {
    f32::max(x, 0.0) + f32::log1p(f32::exp(-f32::abs(x)))
}

/// The sign of `x`: 1, −1 or 0.
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

/// The leaky ReLU: `u` where positive, `u·leak` otherwise.
#[cube]
fn leaky_f(u: f32, leak: f32) -> f32 {
    select(u > 0.0, u, u * leak)
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
