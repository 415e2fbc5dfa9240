//! The DNM grid's sizes, period and window form: [`Geometry`], [`Window`].
//!
//! The model, its kernels, its configuration and the snapshot file `snapshots.bin`
//! ([`crate::snapshots`], whose header records them) share it.

use serde::{Deserialize, Serialize};

/// The form of a receiver's gaussian window over the input senders.
///
/// Row `r` centred at `μ` measures a sender `j` by its offset `z = p − μ = j − j*` from
/// the centre sender `j* = i − d_r + μ`. Under [`Window::Line`] the gaussian reads `z²`:
/// over raster-ordered pixels a window of consecutive inputs is a band of whole image
/// rows. Under [`Window::Patch`] an input sender's offset is folded by the period `P`
/// (the image width) into image rows and columns, and a centre past the last input
/// stays that far from every input:
///
/// ```text
/// z_y = ⌊z/P + ½⌋    z_x = z − P·z_y    e = max(j* − (n_in − 1), 0)
/// G = exp(−(z_x² + z_y² + e²)/(2σ'²))
/// ```
///
/// so a window centred on a pixel is a round patch of radius ~σ' pixels around it (a
/// patch at the image's left or right edge wraps to the other edge one row off, where
/// MNIST's borders are blank), and one centred on a comp reads the pixels as weakly as
/// the line form would. Comp senders keep the line form. `μ` moves the centre along the
/// raster order (`∂z_x/∂μ = −1`, `∂e/∂μ = 1` past the inputs, `z_y` piecewise constant).
///
/// Under [`Window::Patches`] the first of two comp layers is a map on the image plane as
/// well: its `m = ⌈n_comp/2⌉` comps tile the pixels in raster order, comp `c` at raster
/// coordinate `(c + ½)·s` with `s = n_in/m` pixels per comp, and a receiver reads them as
/// it reads the pixels: the offset `z` (in comps) is stretched to `u = s·z` pixels and
/// folded by `P` as above, and a centre before the first or past the last of those comps
/// stays `e = s·(max(j* − j_last, 0) − max(j_first − j*, 0))` pixels from every one of them,
///
/// ```text
/// z_y = ⌊u/P + ½⌋    z_x = u − P·z_y    δ² = z_x² + z_y² + e²    −½·∂δ²/∂μ = s·(z_x − e)
/// ```
///
/// so a second-layer comp centred on the first layer's comp at an image point reads the
/// first-layer comps within a disc of radius ~σ' pixels around that point: a local map
/// of local features, as a convolution's second layer reads its first. The second
/// layer's comps and the outputs read the second layer through the line form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Window {
    /// The gaussian over the sender index (the original).
    #[default]
    Line,
    /// The gaussian over the image plane for input senders (see the type's docs).
    Patch,
    /// The gaussian over the image plane for input senders and for the first comp
    /// layer's senders (see the type's docs; two comp layers).
    Patches,
}

/// The fixed shape of a DNM's grid: receivers `comps + outputs` (rows of `D`), senders
/// `inputs + comps` (columns), the period of the closeness functions' sine and the form
/// of their gaussian window over the inputs. The
/// model's grid ([`crate::Grid`]), its kernels, its configuration
/// ([`crate::DnmConfig::geometry`]) and its snapshot file ([`crate::SnapshotLog`]) share it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Geometry {
    /// Input neurons n_in.
    pub inputs: usize,
    /// Computing (hidden) neurons n_comp.
    pub comps: usize,
    /// Output neurons n_out.
    pub outputs: usize,
    /// Period P of the sine (and the image width a [`Window::Patch`] folds by).
    pub period: f64,
    /// The form of the gaussian window over the input senders.
    pub window: Window,
}

impl Geometry {
    /// Receivers R.
    pub fn rows(&self) -> usize {
        self.comps + self.outputs
    }

    /// Senders C.
    pub fn cols(&self) -> usize {
        self.inputs + self.comps
    }

    /// Allowed cells: `(N² − n_in² − n_out² − n_comp)/2`.
    pub fn max_cells(&self) -> usize {
        let n = self.inputs + self.comps + self.outputs;
        (n * n - self.inputs * self.inputs - self.outputs * self.outputs - self.comps) / 2
    }

    /// `d_r = n_in + (n_out − n_in)·r/(R − 1)`, the offset of row `r`'s coordinates.
    pub fn offset(&self, r: usize) -> f64 {
        let rows = self.rows();
        if rows > 1 {
            self.inputs as f64
                + (self.outputs as f64 - self.inputs as f64) * r as f64 / (rows - 1) as f64
        } else {
            self.inputs as f64
        }
    }

    /// The flow loss's block of row `r` and its sign: comps' input columns `0..n_in`
    /// (+1), outputs' comp columns `n_in..C` (−1); `flow = (Σ_r sign·Σ_block |D|)²`.
    pub fn flow_block(&self, r: usize) -> (std::ops::Range<usize>, f64) {
        flow_block(r, self.cols(), self.inputs, self.comps)
    }

    /// The gaussian's squared distance `δ²` at sender `j` whose offset from the row's
    /// centre is `z = p − μ`, and `−½·∂δ²/∂μ`: `(z, z²)`, or under [`Window::Patch`] for an
    /// input sender `(z_x − e, z_x² + z_y² + e²)`, and under [`Window::Patches`] for a
    /// sender of the first comp layer `(s·(z_x − e), z_x² + z_y² + e²)` ([`Window`]).
    #[inline]
    pub fn distance(&self, j: usize, z: f64) -> (f64, f64) {
        if self.window == Window::Line {
            return (z, z * z);
        }
        let centre = j as f64 - z;
        if j < self.inputs {
            self.fold(z, self.beyond_inputs(centre))
        } else if j < self.plane_end() {
            let s = self.plane_stretch();
            let (first, last) = (self.inputs as f64, (self.plane_end() - 1) as f64);
            let beyond = s * ((centre - last).max(0.0) - (first - centre).max(0.0));
            let (z_x, d2) = self.fold(s * z, beyond);
            (s * z_x, d2)
        } else {
            (z, z * z)
        }
    }

    /// A raster offset `u` (pixels) folded by the period into image rows and columns,
    /// with a centre `beyond` pixels outside the map: `(z_x − e, z_x² + z_y² + e²)`.
    #[inline]
    fn fold(&self, u: f64, beyond: f64) -> (f64, f64) {
        let z_y = (u / self.period + 0.5).floor();
        let z_x = u - self.period * z_y;
        (z_x - beyond, z_x * z_x + z_y * z_y + beyond * beyond)
    }

    /// How far row `r`'s centre sender `j*` lies past the last input under
    /// [`Window::Patch`] and [`Window::Patches`] (`e` of [`Window`]; 0 on the inputs and
    /// under the line form).
    pub fn beyond_inputs(&self, centre: f64) -> f64 {
        match self.window {
            Window::Line => 0.0,
            Window::Patch | Window::Patches => (centre - (self.inputs - 1) as f64).max(0.0),
        }
    }

    /// The comps on the image plane: the first of two comp layers, `⌈n_comp/2⌉`, under
    /// [`Window::Patches`]; none otherwise.
    pub fn plane(&self) -> usize {
        match self.window {
            Window::Patches => self.comps.div_ceil(2),
            _ => 0,
        }
    }

    /// One past the last sender on the image plane's comp map: `n_in + plane`.
    pub fn plane_end(&self) -> usize {
        self.inputs + self.plane()
    }

    /// Pixels per comp of the map, `s = n_in/plane` (1 without a map).
    pub fn plane_stretch(&self) -> f64 {
        match self.plane() {
            0 => 1.0,
            m => self.inputs as f64 / m as f64,
        }
    }

    /// Columns of row `r` that are allowed (`j < i`): `0..allowed(r)`.
    pub fn allowed(&self, r: usize) -> usize {
        (self.inputs + r).min(self.cols())
    }
}

/// [`Geometry::flow_block`] of a grid with `cols` senders, `n_in` inputs, `n_comp` comps.
pub(crate) fn flow_block(
    r: usize,
    cols: usize,
    n_in: usize,
    n_comp: usize,
) -> (std::ops::Range<usize>, f64) {
    if r < n_comp {
        (0..n_in, 1.0)
    } else {
        (n_in..cols, -1.0)
    }
}
