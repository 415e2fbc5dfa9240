//! `S = V·Wᵀ` for a `V` whose rows are mostly zero (MNIST images: about 19 % of the
//! pixels are non-zero) and a dense `W`: DreamComp's scores. A dense matmul does
//! `n·k·d` multiply-adds; walking only the non-zeros of each row does `nnz(V)·k`.
//!
//! The host kernel transposes `W` one block of `BLOCK` rows at a time (`[d, BLOCK]`, which
//! stays in cache), then for every row `b` of `V` adds `v_bp · Wᵀ[p, block]` over the
//! non-zero `p`: whole cache-resident rows, vectorised. Blocks run in parallel (rayon).

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

use manifold_kernels::floats::host_floats;
use manifold_kernels::rows::{transpose, SparseRows};
use manifold_kernels::widest;

/// Rows of `W` per block of the host kernel.
pub const BLOCK: usize = 256;

/// Compresses the rows of `v` (`[n, d]`). Counts the non-zeros first, so the lists are
/// allocated at their size (about a fifth of `n·d` for MNIST, which stays in cache),
/// then fills them branch-free: every element is written at the end of the lists, which
/// advance only past a non-zero (MNIST's 19 % of non-zeros make a branch per pixel
/// mispredict often).
pub fn compress_rows(v: &[f32], n: usize, d: usize) -> SparseRows {
    let v = &v[..n * d];
    let nnz = v.iter().filter(|&&x| x != 0.0).count();
    // One slot of slack: the write after the last non-zero of the buffer.
    let (mut idx, mut val) = (vec![0u32; nnz + 1], vec![0f32; nnz + 1]);
    let mut ptr = Vec::with_capacity(n + 1);
    ptr.push(0);
    let mut len = 0;
    for row in v.chunks_exact(d.max(1)) {
        for (p, &x) in row.iter().enumerate() {
            idx[len] = p as u32;
            val[len] = x;
            len += (x != 0.0) as usize;
        }
        ptr.push(len);
    }
    ptr.resize(n + 1, len);
    idx.truncate(len);
    val.truncate(len);
    SparseRows::from_parts(ptr, idx, val)
}

/// `acc[..] += a · row[..]`.
#[inline(always)]
fn axpy(acc: &mut [f32], a: f32, row: &[f32]) {
    for (o, x) in acc.iter_mut().zip(row) {
        *o += a * x;
    }
}

/// Columns of a block kept in registers at once (8 AVX registers of 8 floats).
const LANES: usize = 64;

widest! {
/// One block: `out[b, j] = Σ_{p ∈ nz(b)} v_bp · wt[p, j]` for `j < width`, `LANES`
/// columns at a time so that the partial sums stay in registers over all non-zeros, on
/// the CPU's widest vectors.
fn block_product(rows: &SparseRows, wt: &[f32], width: usize, out: &mut [f32]) {
    for (b, dst) in out.chunks_exact_mut(width).enumerate() {
        let (nz, vals) = rows.row(b);
        let mut j0 = 0;
        while j0 + LANES <= width {
            let mut acc = [0f32; LANES];
            for (&p, &a) in nz.iter().zip(vals) {
                let p = p as usize;
                let row: &[f32; LANES] = wt[p * width + j0..p * width + j0 + LANES]
                    .try_into()
                    .expect("LANES columns");
                for l in 0..LANES {
                    acc[l] += a * row[l];
                }
            }
            dst[j0..j0 + LANES].copy_from_slice(&acc);
            j0 += LANES;
        }
        for (&p, &a) in nz.iter().zip(vals) {
            let p = p as usize;
            axpy(&mut dst[j0..], a, &wt[p * width + j0..(p + 1) * width]);
        }
    }
}
}

/// The scores of block `blk` of `w` (`[k, d]`, neurons `k0..k1` with `k0 = blk·BLOCK`)
/// against the compressed rows of `V` (`n` of them): `(k0, S[:, k0..k1])`, `[n, k1 − k0]`.
pub(crate) fn block_scores(
    rows: &SparseRows,
    w: &[f32],
    blk: usize,
    k: usize,
    d: usize,
) -> (usize, Vec<f32>) {
    let n = rows.len();
    let (k0, k1) = (blk * BLOCK, ((blk + 1) * BLOCK).min(k));
    let width = k1 - k0;
    let wt = transpose(&w[k0 * d..k1 * d], width, d);
    let mut out = vec![0f32; n * width];
    block_product(rows, &wt, width, &mut out);
    (k0, out)
}

/// `S = V·Wᵀ` on host buffers: `v` is `[n, d]`, `w` is `[k, d]`, the result `[n, k]`.
pub fn rows_matmul_t(v: &[f32], w: &[f32], n: usize, k: usize, d: usize) -> Vec<f32> {
    let rows = compress_rows(v, n, d);
    let blocks: Vec<(usize, Vec<f32>)> = (0..k.div_ceil(BLOCK))
        .into_par_iter()
        .map(|blk| block_scores(&rows, w, blk, k, d))
        .collect();
    let mut s = vec![0f32; n * k];
    for (k0, out) in blocks {
        let width = out.len() / n.max(1);
        for (b, part) in out.chunks_exact(width.max(1)).enumerate().take(n) {
            s[b * k + k0..b * k + k0 + width].copy_from_slice(part);
        }
    }
    s
}

/// [`rows_matmul_t`] on tensors.
pub fn sparse_rows_matmul_t<B: Backend>(v: Tensor<B, 2>, w: Tensor<B, 2>) -> Tensor<B, 2> {
    let device = v.device();
    let [n, d] = v.dims();
    let [k, dw] = w.dims();
    assert_eq!(d, dw, "V is [n, {d}] but W is [k, {dw}]");
    let s = rows_matmul_t(&host_floats(v), &host_floats(w), n, k, d);
    Tensor::from_data(TensorData::new(s, [n, k]), &device)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the plain triple loop, with more rows of W than one block and a ragged
    /// last block, and rows of V that are empty, dense and sparse.
    #[test]
    fn equals_the_dense_product() {
        let (n, k, d) = (5, 2 * BLOCK + 7, 13);
        let v: Vec<f32> = (0..n * d)
            .map(|i| {
                if (i * 7) % 3 == 0 && i / d != 1 {
                    (i % 5) as f32 - 1.5
                } else {
                    0.0
                }
            })
            .collect();
        let w: Vec<f32> = (0..k * d)
            .map(|i| ((i * 31) % 17) as f32 * 0.25 - 2.0)
            .collect();
        let s = rows_matmul_t(&v, &w, n, k, d);
        for b in 0..n {
            for j in 0..k {
                let want: f32 = (0..d).map(|p| v[b * d + p] * w[j * d + p]).sum();
                let got = s[b * k + j];
                assert!(
                    (got - want).abs() < 1e-4,
                    "S[{b}][{j}] = {got}, expected {want}"
                );
            }
        }
        assert!(
            s[k..2 * k].iter().all(|&x| x == 0.0),
            "an all-zero row gives zeros"
        );
    }
}
