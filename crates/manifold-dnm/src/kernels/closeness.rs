//! The DNM's closeness grid as one fused CPU operation: the cutoff matrix `D` and the
//! density surrogate `s` from the seven per-receiver parameters and `κ`, and its backward.
//!
//! The maths is `manifold-dnm`'s `closeness.rs` (rows `r` are receivers `i = n_in + r`,
//! columns are senders `j`, a cell is allowed iff `j < i`):
//!
//! ```text
//! p = j − i + d_r                      G = exp(−(p − μ)²/(2σ'²))
//! W = 0.501 + 0.5·sin(ω·p + φ)         ω = 2π/(P·θ')
//! f = α'·G·(W^β' − γ')                 D = sign(f)·max(|f| − c, 0)/(1 − c)   (allowed)
//! s = Σ_allowed sigmoid(k·(|f| − c)) / max_cells
//! ```
//!
//! and the backward, per cell, with `ḡ_f` the gradient reaching `f`:
//!
//! ```text
//! ∂f/∂α = 2σ(α)(1−σ(α))·G·(W^β' − γ')    ∂f/∂β = α'·G·W^β'·ln W    ∂f/∂γ = −α'·G·σ(γ)(1−σ(γ))
//! ∂f/∂φ = α'·G·β'·W^(β'−1)·½cos(ω·p + φ) =: K      ∂f/∂θ = K·p·∂ω/∂θ
//! ∂f/∂σ = f·(p − μ)²/σ'³·sigmoid(σ)      ∂f/∂μ = f·(p − μ)/σ'²
//! ∂D/∂f = 1/(1 − c)                       ∂D/∂c = sign(f)·(|f| − 1)/(1 − c)²      (kept cells)
//! ∂s/∂f = k·σ_s(1 − σ_s)·sign(f)/M       ∂s/∂c = −k·σ_s(1 − σ_s)/M
//! ```
//!
//! The per-receiver sums of `ḡ_f·∂f/∂·` are the gradients of the seven parameters; `κ`
//! gets `Σ ḡ_c · c(1 − c)`. One pass over the `R × C` grid does what the tensor expression
//! does in some forty autodiff ops (each a full pass over the grid, forward and backward).
//! Everything is computed in f64, rows in parallel with rayon; along a row the sine and the
//! gaussian advance by recurrences (`Phase`, `Gauss`), so a cell costs one `ln` and one
//! `exp` (and one more `exp` for the surrogate's sigmoid, and under the patch window one
//! for an input cell's gaussian). The kept-cell pass ([`super::kept`]) records those
//! values at every visited cell ([`Visit`], 32 bytes) and its backward reads them back,
//! so there a backward cell costs arithmetic only.

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Tensor, TensorData};
use rayon::prelude::*;

use manifold_kernels::floats::{Floats, Real};

use crate::geometry::flow_block;
use crate::{Geometry, Window};

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

/// Column order of the packed parameters (`[R, 7]`).
pub const ALPHA: usize = 0;
/// Column of the raw exponent β.
pub const BETA: usize = 1;
/// Column of the raw shift γ.
pub const GAMMA: usize = 2;
/// Column of the raw period factor θ.
pub const THETA: usize = 3;
/// Column of the phase φ.
pub const PHI: usize = 4;
/// Column of the raw gaussian width σ.
pub const SIGMA: usize = 5;
/// Column of the gaussian centre μ.
pub const MU: usize = 6;

/// The transformed parameters of one receiver and their derivatives.
struct Row {
    offset: f64,
    amp: f64,
    d_amp: f64,
    power: f64,
    shift: f64,
    d_shift: f64,
    freq: f64,
    d_freq: f64,
    phi: f64,
    width: f64,
    d_width: f64,
    mu: f64,
}

impl Row {
    fn new(raw: &[f64], offset: f64, period: f64) -> Self {
        let sa = sigmoid(raw[ALPHA]);
        let sg = sigmoid(raw[GAMMA]);
        let theta = softplus(raw[THETA]) / std::f64::consts::LN_2;
        let freq = std::f64::consts::TAU / (period * theta);
        Self {
            offset,
            amp: 2.0 * sa - 1.0,
            d_amp: 2.0 * sa * (1.0 - sa),
            power: raw[BETA] + 1.0,
            shift: sg,
            d_shift: sg * (1.0 - sg),
            freq,
            d_freq: -freq / theta * sigmoid(raw[THETA]) / std::f64::consts::LN_2,
            phi: raw[PHI],
            width: softplus(raw[SIGMA]),
            d_width: sigmoid(raw[SIGMA]),
            mu: raw[MU],
        }
    }

    /// The columns of this row (receiver `i`, allowed columns `0..allowed`) where `|f|` can
    /// exceed the cutoff `c`; every other cell is cut whatever the sine does.
    ///
    /// `|f| ≤ |α'|·G·m` with `m = max |W^β' − γ'|` over `W ∈ [0.001, 1.001]` (an end point,
    /// since `W^β'` is monotone), so a cell is cut once `G < c/(|α'|·m)`, i.e. outside the
    /// distance `h = σ'·√(2·ln(|α'|·m/c))` from the centre. Along the sender index that is
    /// `|p − μ| ≤ stretch·h + pad` (`stretch` 1 and `pad` 0 for the line window; `P` and
    /// `P/2` for a patch's band of whole image rows, which lie `P` senders apart). The
    /// bound is widened by a relative 1e-9 and as [`span`] widens it (the recurrences'
    /// rounding); when it is not finite the whole row is visited.
    fn reach(
        &self,
        c: f64,
        i: f64,
        allowed: usize,
        (stretch, pad): (f64, f64),
    ) -> std::ops::Range<usize> {
        let Some(h) = self.half(c) else {
            return 0..0;
        };
        span(self.mu + i - self.offset, stretch * h + pad, allowed)
    }

    /// The distance `h` from the centre beyond which every cell is cut ([`Row::reach`]),
    /// or `None` when every cell is.
    fn half(&self, c: f64) -> Option<f64> {
        let ends = [0.001f64.powf(self.power), 1.001f64.powf(self.power)];
        let m = ends
            .iter()
            .map(|e| (e - self.shift).abs())
            .fold(0.0, f64::max);
        let log_ratio = (self.amp.abs() * m * (1.0 + 1e-9) / c).ln();
        (log_ratio > 0.0).then(|| self.width * (2.0 * log_ratio).sqrt())
    }
}

/// The columns `j` with `|j − centre| ≤ half`, widened by one column before and two
/// after (the recurrences' rounding) and clipped to `0..limit`; all of `0..limit` when
/// the bounds are not finite.
fn span(centre: f64, half: f64, limit: usize) -> std::ops::Range<usize> {
    let (lo, hi) = ((centre - half).floor() - 1.0, (centre + half).ceil() + 2.0);
    if !(lo.is_finite() && hi.is_finite()) {
        return 0..limit;
    }
    let clip = |x: f64| x.clamp(0.0, limit as f64) as usize;
    clip(lo)..clip(hi)
}

/// `f` at one cell and the pieces its derivatives need.
struct Cell {
    p: f64,
    /// `−½·∂δ²/∂μ` ([`Geometry::distance`]; `z` under the line window).
    z: f64,
    /// The gaussian's squared distance.
    d2: f64,
    gauss: f64,
    wave: f64,
    ln_wave: f64,
    pow: f64,
    cos: f64,
    f: f64,
}

/// The transcendental parts of one visited cell (`ln W`, `W^β'` and `G`, and
/// the surrogate's `sigmoid(k·(|f| − c))`, 0 without one). The kept-cell forward pass
/// records them and its backward reads them back instead of computing them again (the
/// same values, so the same gradients bit for bit); what is left per cell there is
/// arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Visit {
    ln_wave: f64,
    pow: f64,
    gauss: f64,
    sigmoid: f64,
}

impl Visit {
    /// The parts at a cell whose wave argument has sine `sin`, with gaussian `gauss` (the
    /// surrogate's sigmoid 0: it needs `f`, see [`cell`]).
    #[inline]
    fn of(row: &Row, sin: f64, gauss: f64) -> Self {
        let ln_wave = (0.501 + 0.5 * sin).ln();
        Visit {
            ln_wave,
            pow: (ln_wave * row.power).exp(),
            gauss,
            sigmoid: 0.0,
        }
    }
}

/// `f` at coordinate `p`, given `sin` and `cos` of `ω·p + φ`, the gaussian's coordinate
/// and squared distance ([`Geometry::distance`]) and the cell's [`Visit`].
#[inline]
fn cell(row: &Row, p: f64, (sin, cos): (f64, f64), (z, d2): (f64, f64), v: Visit) -> Cell {
    Cell {
        p,
        z,
        d2,
        gauss: v.gauss,
        wave: 0.501 + 0.5 * sin,
        ln_wave: v.ln_wave,
        pow: v.pow,
        cos,
        f: row.amp * v.gauss * (v.pow - row.shift),
    }
}

/// Columns between exact evaluations of the phase's sine and cosine, and of the gaussian.
const RESYNC: usize = 32;

/// `sin` and `cos` of `ω·p + φ` along a row, where `p` rises by 1 per column: a rotation
/// by `ω` per column, recomputed exactly every [`RESYNC`] columns (relative error
/// ≈ 1e-15), so a row costs one `sin_cos` per 32 cells instead of one per cell.
struct Phase {
    step: (f64, f64),
    now: (f64, f64),
}

/// `G = exp(−z²·h)` along a row (`z = p − μ` rising by 1 per column, `h = 1/(2σ'²)`):
/// `G(z + 1) = G(z)·ρ(z)` with `ρ(z) = exp(−(2z + 1)·h)` and `ρ(z + 1) = ρ(z)·exp(−2h)`, so
/// two products per cell instead of an `exp`, recomputed exactly every [`RESYNC`] columns
/// (relative error below 1e-11). Blocks where `G` underflows or `ρ` overflows are
/// computed exactly.
struct Gauss {
    h: f64,
    q: f64,
    now: f64,
    ratio: f64,
    exact: bool,
}

impl Gauss {
    fn new(row: &Row) -> Self {
        let h = 1.0 / (2.0 * row.width * row.width);
        Self {
            h,
            q: (-2.0 * h).exp(),
            now: 0.0,
            ratio: 0.0,
            exact: true,
        }
    }

    /// `G` at the `j`-th visited column, of `z`, or `None` where the caller must compute
    /// it with [`Gauss::exact`]; call with `j = 0, 1, 2, …` in order.
    #[inline]
    fn at(&mut self, j: usize, z: f64) -> Option<f64> {
        if j.is_multiple_of(RESYNC) {
            self.now = self.exact(z);
            self.ratio = (-(2.0 * z + 1.0) * self.h).exp();
            self.exact = !(self.now > 1e-300 && self.ratio.is_finite());
        } else if self.exact {
            return None;
        }
        let here = self.now;
        self.now *= self.ratio;
        self.ratio *= self.q;
        Some(here)
    }

    #[inline]
    fn exact(&self, z: f64) -> f64 {
        (-z * z * self.h).exp()
    }

    /// `G` at squared distance `d2` (a patch's input cells, where no recurrence runs).
    #[inline]
    fn of_squared(&self, d2: f64) -> f64 {
        (-d2 * self.h).exp()
    }
}

impl Phase {
    fn new(row: &Row) -> Self {
        Self {
            step: row.freq.sin_cos(),
            now: (0.0, 1.0),
        }
    }

    /// The pair at the `j`-th visited column, of coordinate `p`; call with `j = 0, 1, 2, …`
    /// in order.
    #[inline]
    fn at(&mut self, row: &Row, j: usize, p: f64) -> (f64, f64) {
        if j.is_multiple_of(RESYNC) {
            self.now = (row.freq * p + row.phi).sin_cos();
        }
        let here = self.now;
        let ((s, c), (ss, cs)) = (here, self.step);
        self.now = (s * cs + c * ss, c * cs - s * ss);
        here
    }
}

/// How far below the cutoff the surrogate's window reaches, in units of `1/k`. A cell
/// whose `|f|` cannot exceed `c − TAIL/k` (by the gaussian bound of the trimmed pass)
/// adds less than `sigmoid(−TAIL)` ≈ 4.5e-5 to the surrogate's sum and is not visited, so
/// `s_exact − 4.5e-5 ≤ s ≤ s_exact`, and a pass costs the window, not the grid. When
/// `c ≤ TAIL/k` (a soft surrogate, or a low cutoff) every allowed cell is visited and `s`
/// is exact.
pub const SURROGATE_TAIL: f64 = 10.0;

/// The inputs of the fused operation, read to the host.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// `[R, 7]` raw parameters, row-major.
    pub shape: Vec<f64>,
    /// Raw cutoff κ; the cutoff is `c = sigmoid(κ)`.
    pub kappa: f64,
    /// The grid's sizes and period.
    pub geometry: Geometry,
    /// `k` of the surrogate, or `None` when it is not wanted (row R is then 0).
    pub sharpness: Option<f64>,
}

impl Inputs {
    fn row(&self, r: usize) -> Row {
        let g = &self.geometry;
        Row::new(&self.shape[7 * r..7 * r + 7], g.offset(r), g.period)
    }

    fn cutoff(&self) -> f64 {
        sigmoid(self.kappa)
    }

    /// The columns of row `r` a pass visits, as runs in column order (each a recurrence
    /// of its own; a patch's runs over the input columns come first, and there the
    /// gaussian is computed cell by cell): without a surrogate only the reach of the
    /// cutoff ([`Row::reach`]; the rest of `D` stays 0); with one the reach of
    /// `c − TAIL/k` ([`SURROGATE_TAIL`]), which is every allowed cell when that is ≤ 0.
    /// The line window visits one run; a patch one run per image row it reaches
    /// ([`Inputs::patch_runs`]), one over the comp map of [`Window::Patches`] (the band
    /// of its image rows within the reach, empty under [`Window::Patch`]) and one over
    /// the other comps.
    fn visited(&self, row: &Row, r: usize, c: f64) -> Vec<std::ops::Range<usize>> {
        let g = &self.geometry;
        let allowed = g.allowed(r);
        let threshold = match self.sharpness {
            Some(k) => c - SURROGATE_TAIL / k,
            None => c,
        };
        let i = (g.inputs + r) as f64;
        let pixels = allowed.min(g.inputs);
        let plane = allowed.min(g.plane_end());
        match g.window {
            Window::Line => vec![if threshold <= 0.0 {
                0..allowed
            } else {
                row.reach(threshold, i, allowed, (1.0, 0.0))
            }],
            Window::Patch | Window::Patches if threshold <= 0.0 => {
                vec![0..pixels, pixels..plane, plane..allowed]
            }
            Window::Patch | Window::Patches => {
                let senders = row.reach(threshold, i, allowed, (1.0, 0.0));
                let mut runs = self.patch_runs(row, i, pixels, threshold);
                // The comp map's image rows within the reach, as one band of them.
                let rows = g.period / g.plane_stretch();
                let map = row.reach(threshold, i, plane, (rows, rows / 2.0));
                if map.end > pixels {
                    runs.push(map.start.max(pixels)..map.end);
                }
                runs.push(senders.start.max(plane)..senders.end.max(plane));
                runs
            }
        }
    }

    /// The input columns `0..pixels` of a patch row (receiver `i`) where `|f|` can reach
    /// `threshold`: with `h` the gaussian's reach ([`Row::half`]) and the row's centre
    /// sender `j*`, the cells within `h` of the centre on the image plane. A cell in
    /// image row `z_y` and column `z_x` from the centre has `δ² ≥ z_x² + z_y²`, so only
    /// the image rows `|z_y| ≤ h` are visited, each over `z_x² ≤ h² − z_y²`: a disc of
    /// radius `h` where the band of [`Row::reach`] over whole image rows is `P` wide.
    /// Each run is widened as [`span`] widens it (the phase recurrence's rounding). When
    /// the runs of neighbouring image rows would touch (`2h + 6 ≥ P`), or `h` is not
    /// finite, it is the whole band, one run; none when every input lies beyond the
    /// reach (a centre `e` past the last input).
    fn patch_runs(
        &self,
        row: &Row,
        i: f64,
        pixels: usize,
        threshold: f64,
    ) -> Vec<std::ops::Range<usize>> {
        let g = &self.geometry;
        let centre = row.mu + i - row.offset;
        let beyond = g.beyond_inputs(centre);
        let Some(h) = row.half(threshold) else {
            return Vec::new();
        };
        if !h.is_nan() && h * (1.0 + 1e-9) + 1e-9 < beyond {
            return Vec::new();
        }
        if !(h.is_finite() && centre.is_finite()) || 2.0 * h + 6.0 >= g.period {
            return vec![row.reach(threshold, i, pixels, (g.period, g.period / 2.0))];
        }
        let reach = h * (1.0 + 1e-9) + 1e-9;
        let rows = reach.floor();
        let mut runs = Vec::with_capacity(2 * rows as usize + 2);
        let mut start = 0;
        for m in -(rows as i64)..=rows as i64 {
            let at = centre + m as f64 * g.period;
            let half = (reach * reach - (m * m) as f64).max(0.0).sqrt();
            let run = span(at, half, pixels);
            let run = run.start.max(start)..run.end;
            if !run.is_empty() {
                start = run.end;
                runs.push(run);
            }
        }
        runs
    }

    /// Calls `each(k, j, folded)` for the `k`-th column `j` of each run of `runs` (a row's
    /// [`Inputs::visited`]), `folded` where the cell's gaussian is a patch's.
    #[inline]
    fn visit(&self, runs: Vec<std::ops::Range<usize>>, mut each: impl FnMut(usize, usize, bool)) {
        let g = &self.geometry;
        for run in runs {
            let folded = g.window != Window::Line && run.start < g.plane_end();
            for (k, j) in run.enumerate() {
                each(k, j, folded);
            }
        }
    }
}

/// Forward: `[R, C]` row-major holding `D`, and with a surrogate one more row
/// `[s, 0, …, 0]`; written in the precision `T` of the tensor it becomes.
pub fn forward<T: Real>(inp: &Inputs) -> Vec<T> {
    let g = inp.geometry;
    let (rows, cols) = (g.rows(), g.cols());
    let extra = inp.sharpness.is_some() as usize;
    let mut out = vec![T::of(0.0); (rows + extra) * cols];
    let surrogate = out[..rows * cols]
        .par_chunks_mut(cols)
        .enumerate()
        .map(|(r, d_row)| inp.forward_row(r, |j, d| d_row[j] = T::of(d), None))
        .collect::<Vec<f64>>();
    if inp.sharpness.is_some() {
        out[rows * cols] = T::of(inp.surrogate(&surrogate));
    }
    out
}

/// Backward: from the forward's output `out` and the gradient of it, the gradient of the
/// packed parameters (`[R, 7]`) and of `κ`. Without a surrogate only kept cells
/// (`D ≠ 0`) have a gradient, and the others are skipped.
pub fn backward<T: Real>(inp: &Inputs, out: &[T], grad: &[T]) -> (Vec<f64>, f64) {
    let g = inp.geometry;
    let (rows, cols) = (g.rows(), g.cols());
    let g_s = match inp.sharpness {
        Some(_) => grad[rows * cols].into(),
        None => 0.0,
    };
    let mut g_shape = vec![0.0; rows * 7];
    let g_c = g_shape
        .par_chunks_mut(7)
        .zip(grad[..rows * cols].par_chunks(cols))
        .zip(out[..rows * cols].par_chunks(cols))
        .enumerate()
        .map(|(r, ((g_row, g_d), d_row))| {
            let cell_grad = |j: usize| (d_row[j].into() != 0.0).then(|| g_d[j].into());
            inp.backward_row(r, g_s, cell_grad, g_row, None)
        })
        .collect::<Vec<f64>>();
    (g_shape, inp.kappa_grad(&g_c))
}

impl Inputs {
    /// Row `r` of the forward pass: calls `kept(j, D_rj)` for every kept cell in column
    /// order and returns the row's share of the surrogate's sum (0 without one). With
    /// `visits`, pushes each visited cell's [`Visit`] there, in visit order, for
    /// [`Inputs::backward_row`].
    pub(crate) fn forward_row(
        &self,
        r: usize,
        mut kept: impl FnMut(usize, f64),
        mut visits: Option<&mut Vec<Visit>>,
    ) -> f64 {
        let g = self.geometry;
        let c = self.cutoff();
        // 1 − c as σ(−κ): no cancellation when c rounds to 1 (κ ≳ 37).
        let scale = 1.0 / sigmoid(-self.kappa);
        let row = self.row(r);
        let i = (g.inputs + r) as f64;
        let mut s = 0.0;
        let runs = self.visited(&row, r, c);
        if let Some(visits) = visits.as_deref_mut() {
            visits.reserve(runs.iter().map(|run| run.len()).sum());
        }
        let (mut phase, mut gaussian) = (Phase::new(&row), Gauss::new(&row));
        self.visit(runs, |k, j, folded| {
            let p = j as f64 - i + row.offset;
            let (sin_cos, z) = (phase.at(&row, k, p), p - row.mu);
            let distance = g.distance(j, z);
            let gauss = match folded {
                true => gaussian.of_squared(distance.1),
                false => gaussian.at(k, z).unwrap_or_else(|| gaussian.exact(z)),
            };
            let mut v = Visit::of(&row, sin_cos.0, gauss);
            let f = cell(&row, p, sin_cos, distance, v).f;
            let over = f.abs() - c;
            if over > 0.0 {
                kept(j, f.signum() * over * scale);
            }
            v.sigmoid = self.sharpness.map_or(0.0, |k| sigmoid(k * over));
            s += v.sigmoid;
            if let Some(visits) = visits.as_deref_mut() {
                visits.push(v);
            }
        });
        s
    }

    /// The surrogate `s` from the rows' shares.
    pub(crate) fn surrogate(&self, shares: &[f64]) -> f64 {
        sum_in_order(shares) / self.geometry.max_cells() as f64
    }

    /// Row `r` of the backward pass: writes the gradient of the row's seven parameters to
    /// `g_row` and returns the row's share of the cutoff's gradient. `g_s` is the
    /// gradient of `s`; `cell_grad(j)` is the gradient of `D_rj` where the forward stored
    /// a non-zero, `None` elsewhere (each visited column asked once, in order). `visits`
    /// is the row's [`Visit`]s from [`Inputs::forward_row`] of the same inputs, or `None`
    /// to compute them again.
    pub(crate) fn backward_row(
        &self,
        r: usize,
        g_s: f64,
        mut cell_grad: impl FnMut(usize) -> Option<f64>,
        g_row: &mut [f64],
        visits: Option<&[Visit]>,
    ) -> f64 {
        let g = self.geometry;
        let c = self.cutoff();
        let scale = 1.0 / sigmoid(-self.kappa);
        let g_s = g_s / g.max_cells() as f64;
        let row = self.row(r);
        let i = (g.inputs + r) as f64;
        let mut g_c = 0.0;
        let mut acc = [0.0f64; 7];
        let (mut phase, mut gaussian) = (Phase::new(&row), Gauss::new(&row));
        let mut visited = 0;
        self.visit(self.visited(&row, r, c), |k, j, folded| {
            let p = j as f64 - i + row.offset;
            let (sin_cos, z) = (phase.at(&row, k, p), p - row.mu);
            let recorded = visits.map(|v| v[visited]);
            visited += 1;
            let gauss = match (folded, recorded) {
                (false, None) => gaussian.at(k, z),
                _ => None,
            };
            let g_dij = match cell_grad(j) {
                Some(g) => g,
                None if self.sharpness.is_none() => return,
                None => 0.0,
            };
            let distance = g.distance(j, z);
            let v = recorded.unwrap_or_else(|| {
                let gauss = match folded {
                    true => gaussian.of_squared(distance.1),
                    false => gauss.unwrap_or_else(|| gaussian.exact(z)),
                };
                Visit::of(&row, sin_cos.0, gauss)
            });
            let x = cell(&row, p, sin_cos, distance, v);
            let (sign, kept) = (x.f.signum() * (x.f != 0.0) as u8 as f64, x.f.abs() - c);
            let mut g_f = 0.0;
            if kept > 0.0 {
                g_f += g_dij * scale;
                g_c += g_dij * sign * (x.f.abs() - 1.0) * scale * scale;
            }
            if let Some(k) = self.sharpness {
                let sg = recorded.map_or_else(|| sigmoid(k * kept), |v| v.sigmoid);
                let t = g_s * k * sg * (1.0 - sg);
                g_f += t * sign;
                g_c -= t;
            }
            if g_f == 0.0 {
                return;
            }
            let shaped = x.pow - row.shift;
            let amp_gauss = row.amp * x.gauss;
            let k_phi = amp_gauss * row.power * x.pow / x.wave * 0.5 * x.cos;
            let w2 = row.width * row.width;
            acc[ALPHA] += g_f * row.d_amp * x.gauss * shaped;
            acc[BETA] += g_f * amp_gauss * x.pow * x.ln_wave;
            acc[GAMMA] -= g_f * amp_gauss * row.d_shift;
            acc[THETA] += g_f * k_phi * x.p * row.d_freq;
            acc[PHI] += g_f * k_phi;
            acc[SIGMA] += g_f * x.f * x.d2 / (w2 * row.width) * row.d_width;
            acc[MU] += g_f * x.f * x.z / w2;
        });
        debug_assert!(visits.is_none_or(|v| v.len() == visited));
        g_row.copy_from_slice(&acc);
        g_c
    }

    /// The gradient of `κ` from the rows' shares of the cutoff's gradient.
    pub(crate) fn kappa_grad(&self, shares: &[f64]) -> f64 {
        sum_in_order(shares) * self.cutoff() * sigmoid(-self.kappa)
    }
}

pub(crate) fn inputs<B: Backend>(
    shape: Tensor<B, 2>,
    kappa: Tensor<B, 1>,
    geometry: Geometry,
    sharpness: Option<f64>,
) -> Inputs {
    assert_eq!(
        shape.dims(),
        [geometry.rows(), 7],
        "packed closeness parameters"
    );
    Inputs {
        shape: Floats::f64_of(shape),
        kappa: Floats::f64_of(kappa)[0],
        geometry,
        sharpness,
    }
}

/// [`forward`] on tensors of a CPU backend.
pub fn forward_tensor<B: Backend>(
    shape: Tensor<B, 2>,
    kappa: Tensor<B, 1>,
    geometry: Geometry,
    sharpness: Option<f64>,
) -> Tensor<B, 2> {
    let (device, dtype) = (shape.device(), shape.dtype());
    let inp = inputs(shape, kappa, geometry, sharpness);
    let dims = [
        geometry.rows() + sharpness.is_some() as usize,
        geometry.cols(),
    ];
    let data = match dtype {
        DType::F32 => TensorData::new(forward::<f32>(&inp), dims),
        _ => TensorData::new(forward::<f64>(&inp), dims),
    };
    Tensor::from_data(data, &device)
}

/// [`backward`] on tensors of a CPU backend (`out`: the forward's output).
pub fn backward_tensor<B: Backend>(
    shape: Tensor<B, 2>,
    kappa: Tensor<B, 1>,
    geometry: Geometry,
    sharpness: Option<f64>,
    out: Tensor<B, 2>,
    grad: Tensor<B, 2>,
) -> (Tensor<B, 2>, Tensor<B, 1>) {
    let device = shape.device();
    let inp = inputs(shape, kappa, geometry, sharpness);
    let (g_shape, g_kappa) = match (Floats::of(out), Floats::of(grad)) {
        (Floats::F32(out), Floats::F32(grad)) => backward(&inp, &out, &grad),
        (out, grad) => backward(&inp, &out.into_f64(), &grad.into_f64()),
    };
    (
        Tensor::from_data(TensorData::new(g_shape, [geometry.rows(), 7]), &device),
        Tensor::from_data(TensorData::new(vec![g_kappa], [1]), &device),
    )
}

/// The DNM's flow loss `(Σ_A |D| − Σ_B |D|)²` in one host pass, where `A` is the comp ←
/// input block (rows `0..n_comp`, columns `0..n_in`) and `B` the output ← comp block
/// (rows `n_comp..`, columns `n_in..`): returns `v = Σ_A |D| − Σ_B |D|`.
pub fn flow_sum<T: Real>(d: &[T], cols: usize, n_in: usize, n_comp: usize) -> f64 {
    let rows = d
        .par_chunks(cols)
        .enumerate()
        .map(|(r, row)| {
            let (block, sign) = flow_block(r, cols, n_in, n_comp);
            sign * row[block].iter().map(|v| (*v).into().abs()).sum::<f64>()
        })
        .collect::<Vec<f64>>();
    sum_in_order(&rows)
}

/// The per-row partial sums added in row order, so that runs repeat bit for bit (rayon's
/// own `sum` associates in whichever order work was stolen).
fn sum_in_order(parts: &[f64]) -> f64 {
    parts.iter().sum()
}

/// The gradient of the flow loss: `D̄ = ḡ·2v·sign(D)` on `A`, `−ḡ·2v·sign(D)` on `B`, 0
/// elsewhere.
pub fn flow_grad<T: Real>(d: &[T], cols: usize, n_in: usize, n_comp: usize, scale: f64) -> Vec<T> {
    let mut g = vec![T::of(0.0); d.len()];
    g.par_chunks_mut(cols)
        .zip(d.par_chunks(cols))
        .enumerate()
        .for_each(|(r, (g_row, d_row))| {
            let (block, sign) = flow_block(r, cols, n_in, n_comp);
            for j in block {
                let v: f64 = d_row[j].into();
                if v != 0.0 {
                    g_row[j] = T::of(sign * scale * v.signum());
                }
            }
        });
    g
}

/// [`flow_sum`] on a tensor: `(v, v²)` with `v²` as a `[1]` tensor.
pub fn flow_tensor<B: Backend>(d: Tensor<B, 2>, n_in: usize, n_comp: usize) -> (f64, Tensor<B, 1>) {
    let ([_, cols], device) = (d.dims(), d.device());
    let v = match Floats::of(d) {
        Floats::F32(d) => flow_sum(&d, cols, n_in, n_comp),
        Floats::F64(d) => flow_sum(&d, cols, n_in, n_comp),
    };
    (
        v,
        Tensor::from_data(TensorData::new(vec![v * v], [1]), &device),
    )
}

/// The gradient of [`flow_tensor`]'s `v²` from `ḡ` (`[1]`): `D̄`, `[R, C]`.
pub fn flow_backward_tensor<B: Backend>(
    d: Tensor<B, 2>,
    n_in: usize,
    n_comp: usize,
    v: f64,
    grad: Tensor<B, 1>,
) -> Tensor<B, 2> {
    let (dims, device) = (d.dims(), d.device());
    let scale = 2.0 * v * Floats::of(grad).into_f64()[0];
    let data = match Floats::of(d) {
        Floats::F32(d) => TensorData::new(flow_grad(&d, dims[1], n_in, n_comp, scale), dims),
        Floats::F64(d) => TensorData::new(flow_grad(&d, dims[1], n_in, n_comp, scale), dims),
    };
    Tensor::from_data(data, &device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    /// With a sharp surrogate (k = 50 at c = 0.5: the window reaches down to |f| = 0.3)
    /// the pass visits fewer cells than allowed, and `s` is within sigmoid(−10) of the
    /// sum over every allowed cell, computed here cell by cell with exact sines and
    /// gaussians; with a soft one (k = 4) it visits them all.
    #[test]
    fn a_sharp_surrogate_is_windowed_within_its_tail() {
        for (window, width) in [
            (Window::Line, 20.0),
            (Window::Patch, 3.0),
            (Window::Patch, 1.0),
            (Window::Patches, 3.0),
            (Window::Patches, 1.0),
        ] {
            surrogate_windowed_within_its_tail(window, width);
        }
    }

    /// The surrogate's windowed sum against the cell-by-cell sum, for rows of gaussian
    /// width ≈ `width` (raw σ; a patch's is in image rows).
    fn surrogate_windowed_within_its_tail(window: Window, width: f64) {
        let geometry = Geometry {
            inputs: 300,
            comps: 200,
            outputs: 10,
            period: 14.0,
            window,
        };
        let rows = geometry.rows();
        let mut rng = StdRng::seed_from_u64(3);
        let shape: Vec<f64> = (0..rows * 7)
            .map(|k| {
                let x: f64 = rng.random_range(-1.0..1.0);
                match k % 7 {
                    ALPHA => 4.0 + x,
                    SIGMA => width * (1.0 + 0.25 * x),
                    MU => 30.0 * x,
                    _ => 0.3 * x,
                }
            })
            .collect();
        for (k, windowed) in [(50.0, true), (4.0, false)] {
            let inp = Inputs {
                shape: shape.clone(),
                kappa: 0.0,
                geometry,
                sharpness: Some(k),
            };
            let c = inp.cutoff();
            let (mut exact, mut visited, mut allowed) = (0.0, 0, 0);
            for r in 0..rows {
                let row = inp.row(r);
                visited += cells(&inp.visited(&row, r, c));
                allowed += geometry.allowed(r);
                for j in 0..geometry.allowed(r) {
                    let p = j as f64 - (geometry.inputs + r) as f64 + row.offset;
                    let distance = geometry.distance(j, p - row.mu);
                    let gauss = (-distance.1 / (2.0 * row.width * row.width)).exp();
                    let sin_cos = (row.freq * p + row.phi).sin_cos();
                    let f = cell(
                        &row,
                        p,
                        sin_cos,
                        distance,
                        Visit::of(&row, sin_cos.0, gauss),
                    )
                    .f;
                    exact += sigmoid(k * (f.abs() - c));
                }
            }
            let exact = exact / geometry.max_cells() as f64;
            let s = forward::<f64>(&inp)[rows * geometry.cols()];
            assert_eq!(
                visited < allowed,
                windowed,
                "{window:?}, k {k}: {visited} of {allowed}"
            );
            let tail = sigmoid(-SURROGATE_TAIL);
            assert!(
                s <= exact + 1e-9 && s >= exact - tail,
                "{window:?}, k {k}: windowed s {s}, exact {exact}"
            );
        }
    }

    /// The pass trimmed to [`Row::reach`] (no surrogate) writes the same `D` as the pass
    /// over every allowed cell (with a surrogate), on an MNIST-shaped grid whose rows have
    /// narrow and wide gaussians, powers of both signs and κ from keep-most to cut-most;
    /// and the trimming does skip cells. (The two passes resync their recurrences at
    /// different columns, so values agree to rounding, not bit for bit.)
    #[test]
    fn reach_holds_every_kept_cell() {
        reach_holds_every_kept_cell_of(Window::Line, 7.0);
        reach_holds_every_kept_cell_of(Window::Patch, 7.0);
        reach_holds_every_kept_cell_of(Window::Patch, 20.0);
        reach_holds_every_kept_cell_of(Window::Patches, 7.0);
        reach_holds_every_kept_cell_of(Window::Patches, 20.0);
    }

    /// [`reach_holds_every_kept_cell`] at period `period`: at 20 the patch's narrow rows
    /// visit discs of the image ([`Inputs::patch_runs`]), and the test checks some do.
    /// Under [`Window::Patches`] the comp map's cells are trimmed to a band of its image
    /// rows, and the same `D` says the band holds every kept cell.
    fn reach_holds_every_kept_cell_of(window: Window, period: f64) {
        let geometry = Geometry {
            inputs: 60,
            comps: 30,
            outputs: 5,
            period,
            window,
        };
        let mut discs = 0;
        let rows = geometry.rows();
        let mut rng = StdRng::seed_from_u64(7);
        for kappa in [-6.0, -2.0, 0.0, 1.5] {
            let shape: Vec<f64> = (0..rows * 7)
                .map(|k| {
                    let x: f64 = rng.random_range(-1.0..1.0);
                    match k % 7 {
                        ALPHA => 3.0 * x,
                        BETA => 2.0 * x,
                        SIGMA => 2.5 * x,
                        MU => 20.0 * x,
                        _ => x,
                    }
                })
                .collect();
            let mut inp = Inputs {
                shape,
                kappa,
                geometry,
                sharpness: Some(4.0),
            };
            let full: Vec<f64> = forward(&inp);
            inp.sharpness = None;
            let trimmed: Vec<f64> = forward(&inp);
            let cols = geometry.cols();
            let (mut kept, mut visited, mut allowed) = (0, 0, 0);
            for r in 0..rows {
                let row = inp.row(r);
                let runs = inp.visited(&row, r, inp.cutoff());
                visited += cells(&runs);
                let pixel_runs = runs.iter().filter(|run| run.end <= geometry.inputs);
                discs += (pixel_runs.filter(|run| !run.is_empty()).count() > 1) as usize;
                allowed += geometry.allowed(r);
                for j in 0..cols {
                    let (a, b) = (full[r * cols + j], trimmed[r * cols + j]);
                    kept += (a != 0.0) as usize;
                    assert!(
                        (a - b).abs() <= 1e-9 && (a == 0.0) == (b == 0.0),
                        "{window:?}, κ {kappa}, D[{r}][{j}]: full pass {a}, trimmed pass {b}"
                    );
                }
            }
            assert!(kept > 0, "{window:?}, κ {kappa}: nothing kept");
            assert!(
                visited < allowed,
                "{window:?}, κ {kappa}: the trimmed pass visited all {allowed} cells"
            );
        }
        assert_eq!(
            discs > 0,
            window != Window::Line && period > 10.0,
            "{window:?} at period {period}: {discs} rows visited discs"
        );
    }

    /// Cells in a row's runs.
    fn cells(runs: &[std::ops::Range<usize>]) -> usize {
        runs.iter().map(|run| run.len()).sum()
    }
}
