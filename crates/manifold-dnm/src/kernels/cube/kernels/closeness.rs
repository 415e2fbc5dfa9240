//! The closeness kernels: `D` (and the surrogate's row shares) from the rows' shape
//! parameters and the cutoff, and their backward.

use cubecl::prelude::*;

use super::{cube_sum, sigmoid_f, sign_f, softplus_f, BLOCK, BLOCK_LOG2};

/// The transformed parameters of row `r` (see [`super::closeness`]).
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

/// `f` at one cell and what its derivatives need: `(p, z, d2, gauss, wave, ln_wave,
/// pow, cos, f)` as a struct (`d2` the gaussian's squared distance, `z` = `−½·∂d2/∂μ`:
/// `crate::Geometry::distance`).
#[derive(CubeType)]
struct CellValue {
    p: f32,
    z: f32,
    d2: f32,
    gauss: f32,
    wave: f32,
    ln_wave: f32,
    pow: f32,
    cos: f32,
    f: f32,
}

#[cube]
#[allow(clippy::too_many_arguments)]
fn cell_value(
    row: &RowParams,
    j: usize,
    i: usize,
    inputs: usize,
    period: f32,
    plane_end: usize,
    stretch: f32,
    #[comptime] patch: bool,
) -> CellValue {
    let p = f32::cast_from(j) - f32::cast_from(i) + row.offset;
    let mut z = p - row.mu;
    let mut d2 = z * z;
    if patch {
        // A patch folds an input's offset into image rows and columns, and keeps a
        // centre past the last input that far from every input.
        if j < inputs {
            let beyond = f32::max(f32::cast_from(j) - z - f32::cast_from(inputs - 1), 0.0);
            let z_y = f32::floor(z / period + 0.5);
            let z_x = z - period * z_y;
            z = z_x - beyond;
            d2 = z_x * z_x + z_y * z_y + beyond * beyond;
        } else if j < plane_end {
            // The comp map of `Window::Patches`: the offset stretched to pixels, folded,
            // and a centre outside the map kept that far from it.
            let centre = f32::cast_from(j) - z;
            let after = f32::max(centre - f32::cast_from(plane_end - 1), 0.0);
            let before = f32::max(f32::cast_from(inputs) - centre, 0.0);
            let beyond = stretch * (after - before);
            let u = stretch * z;
            let z_y = f32::floor(u / period + 0.5);
            let z_x = u - period * z_y;
            z = stretch * (z_x - beyond);
            d2 = z_x * z_x + z_y * z_y + beyond * beyond;
        }
    }
    let gauss = f32::exp(-d2 / (2.0 * row.width * row.width));
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
        d2,
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
    plane_end: usize,
    stretch: f32,
    #[comptime] surrogate: bool,
    #[comptime] patch: bool,
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
            let x = cell_value(&row, j, i, inputs, period, plane_end, stretch, patch);
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
    plane_end: usize,
    stretch: f32,
    #[comptime] surrogate: bool,
    #[comptime] patch: bool,
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
            let x = cell_value(&row, j, i, inputs, period, plane_end, stretch, patch);
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
            // Where the gaussian underflowed to 0 (a narrow σ' far from the centre) f is 0
            // and so are these two terms; in f32 their factors d²/σ'³ and z/σ'² can
            // overflow there, and 0·∞ would be NaN.
            let far = x.f == 0.0;
            acc[5] += select(
                far,
                0.0f32,
                g_f * x.f * x.d2 / (w2 * row.width) * row.d_width,
            );
            acc[6] += select(far, 0.0f32, g_f * x.f * x.z / w2);
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
