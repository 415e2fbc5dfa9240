//! Rows of a matrix stored as their non-zeros (CSR style), and a cache-friendly
//! transpose: the host layout shared by DreamComp's rows product and the DNM's forward
//! pass over the kept cells of `D`.

use crate::floats::Real;

/// The non-zeros of the rows of a row-major `[n, d]` buffer, CSR style: row `b` holds
/// `idx[ptr[b]..ptr[b + 1]]` (column) and `val[..]` (value). Built by `compress_rows`
/// for DreamComp's minibatches and by [`SparseRows::kept`] for the DNM's cutoff matrix.
pub struct SparseRows<V = f32> {
    ptr: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<V>,
}

impl<V: Copy> SparseRows<V> {
    /// Rows of the buffer.
    pub fn len(&self) -> usize {
        self.ptr.len() - 1
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Non-zeros in all rows.
    pub fn nnz(&self) -> usize {
        self.idx.len()
    }

    /// Where row `b`'s non-zeros start in the row-by-row order.
    pub fn start(&self, b: usize) -> usize {
        self.ptr[b]
    }

    /// From row starts (`rows + 1`), columns and values.
    pub fn from_parts(ptr: Vec<usize>, idx: Vec<u32>, val: Vec<V>) -> Self {
        assert_eq!(
            ptr.last().copied(),
            Some(idx.len()),
            "row starts end at the non-zeros"
        );
        assert_eq!(idx.len(), val.len(), "one value per column index");
        Self { ptr, idx, val }
    }

    /// `(columns, values)` of row `b`'s non-zeros.
    pub fn row(&self, b: usize) -> (&[u32], &[V]) {
        let r = self.ptr[b]..self.ptr[b + 1];
        (&self.idx[r.clone()], &self.val[r])
    }

    /// `(column, value)` of row `b`'s non-zeros.
    pub fn entries(&self, b: usize) -> impl Iterator<Item = (usize, V)> + '_ {
        let (idx, val) = self.row(b);
        idx.iter().map(|&j| j as usize).zip(val.iter().copied())
    }
}

impl SparseRows<f64> {
    /// The non-zeros of `d` (`[rows, cols]`, either precision) as f64. One branch per
    /// cell: for a matrix only a few percent dense (the DNM's cutoff matrix) it predicts
    /// well, and only the kept cells are written.
    pub fn kept<T: Real>(d: &[T], cols: usize) -> Self {
        let mut rows = Self {
            ptr: vec![0],
            idx: Vec::new(),
            val: Vec::new(),
        };
        for row in d.chunks(cols.max(1)) {
            for (j, v) in row.iter().enumerate() {
                let v: f64 = (*v).into();
                if v != 0.0 {
                    rows.idx.push(j as u32);
                    rows.val.push(v);
                }
            }
            rows.ptr.push(rows.idx.len());
        }
        rows
    }
}

impl<V: Copy> SparseRows<V> {
    /// The same rows with every value mapped by `f` (another precision).
    pub fn map<W>(&self, f: impl Fn(V) -> W) -> SparseRows<W> {
        SparseRows {
            ptr: self.ptr.clone(),
            idx: self.idx.clone(),
            val: self.val.iter().map(|&v| f(v)).collect(),
        }
    }
}

/// `[r, c]` → `[c, r]`, row-major, in 8 × 8 tiles (a row-by-row transpose misses the
/// cache on every write); full tiles have constant bounds, so the compiler unrolls them.
pub fn transpose<T: Copy + Default>(a: &[T], r: usize, c: usize) -> Vec<T> {
    transpose_as(a, r, c, |v| v)
}

/// [`transpose`] with every value converted by `f` on the way (another precision).
#[inline]
pub fn transpose_as<T: Copy, U: Copy + Default>(
    a: &[T],
    r: usize,
    c: usize,
    f: impl Fn(T) -> U,
) -> Vec<U> {
    const TILE: usize = 8;
    let mut t = vec![U::default(); r * c];
    let (full_r, full_c) = (r - r % TILE, c - c % TILE);
    for i0 in (0..full_r).step_by(TILE) {
        for j0 in (0..full_c).step_by(TILE) {
            for j in 0..TILE {
                let dst = &mut t[(j0 + j) * r + i0..(j0 + j) * r + i0 + TILE];
                for (i, out) in dst.iter_mut().enumerate() {
                    *out = f(a[(i0 + i) * c + j0 + j]);
                }
            }
        }
    }
    // The ragged right and bottom edges.
    for i in 0..r {
        let from = if i < full_r { full_c } else { 0 };
        for j in from..c {
            t[j * r + i] = f(a[i * c + j]);
        }
    }
    t
}
