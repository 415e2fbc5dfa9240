//! The DNM grid's four numbers: [`Geometry`].
//!
//! The model, its kernels, its configuration and the snapshot file `snapshots.bin`
//! ([`crate::snapshots`], whose header records these four numbers) share it.

/// The fixed shape of a DNM's grid: receivers `comps + outputs` (rows of `D`), senders
/// `inputs + comps` (columns), and the period of the closeness functions' sine. The
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
    /// Period P of the sine.
    pub period: f64,
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
