//! CPU kernels: the connection list grouped by output (forward) or by input (input
//! gradient) with a counting sort, then whole batch rows added with rayon. Tensors are
//! read to the host and written back, which on a CPU backend is a copy.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor, TensorData};
use rayon::prelude::*;

use manifold_kernels::floats::{dot, host_floats};

/// The slots of a connection list grouped by one of its two index vectors: the slots of
/// group `g` are `slot[ptr[g]..ptr[g + 1]]`, `other[e]` the other index of `slot[e]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Grouped {
    /// Group offsets, `[groups + 1]`: group `g` is `ptr[g]..ptr[g + 1]` of `slot` and `other`.
    pub ptr: Vec<usize>,
    /// Slot indices ordered by group, `[nnz]`.
    pub slot: Vec<usize>,
    /// `other[e]`: the other index (not the grouping key) of `slot[e]`, `[nnz]`.
    pub other: Vec<usize>,
}

impl Grouped {
    /// Groups slot `k` under `key[k]` (`< groups`), keeping slot order inside a group.
    ///
    /// # Panics
    /// If a key is `≥ groups` (the layer's connection list is corrupt).
    pub fn new(key: &[usize], other: &[usize], groups: usize) -> Self {
        let mut ptr = vec![0usize; groups + 1];
        for &g in key {
            assert!(g < groups, "connection index {g} out of range 0..{groups}");
            ptr[g + 1] += 1;
        }
        for g in 0..groups {
            ptr[g + 1] += ptr[g];
        }
        let mut next = ptr.clone();
        let mut slot = vec![0usize; key.len()];
        let mut oth = vec![0usize; key.len()];
        for (k, (&g, &o)) in key.iter().zip(other).enumerate() {
            slot[next[g]] = k;
            oth[next[g]] = o;
            next[g] += 1;
        }
        Self {
            ptr,
            slot,
            other: oth,
        }
    }
}

/// Host scratch of one product: the grouped slot list (`ptr`, `slot`, `other`) and the
/// host copies of the weights and indices, all `O(nnz)`.
pub fn scratch_bytes(nnz: usize) -> usize {
    let word = std::mem::size_of::<usize>();
    2 * word * nnz + 2 * word * nnz + 4 * nnz
}

fn host_indices<B: Backend>(t: Tensor<B, 1, Int>) -> Vec<usize> {
    t.add_scalar(0)
        .into_data()
        .convert::<i64>()
        .into_vec::<i64>()
        .expect("int tensor")
        .into_iter()
        .map(|i| i as usize)
        .collect()
}

/// `y[g, :] = Σ_{e ∈ group g} w[slot_e] · x[other_e, :]` for every group, rows of `batch`.
pub fn grouped_product(x: &[f32], w: &[f32], groups: &Grouped, batch: usize) -> Vec<f32> {
    let n = groups.ptr.len() - 1;
    let mut y = vec![0f32; n * batch];
    if batch == 0 {
        return y;
    }
    y.par_chunks_mut(batch).enumerate().for_each(|(g, out)| {
        for e in groups.ptr[g]..groups.ptr[g + 1] {
            let wk = w[groups.slot[e]];
            let src = &x[groups.other[e] * batch..(groups.other[e] + 1) * batch];
            for (o, s) in out.iter_mut().zip(src) {
                *o += wk * s;
            }
        }
    });
    y
}

/// `y = W·x` (see the crate docs) on the host.
pub fn sparse_matmul<B: Backend>(
    x: Tensor<B, 2>,
    weights: Tensor<B, 1>,
    rows: Tensor<B, 1, Int>,
    cols: Tensor<B, 1, Int>,
    n_out: usize,
) -> Tensor<B, 2> {
    let device = x.device();
    let [n_in, batch] = x.dims();
    let (rows, cols) = (host_indices(rows), host_indices(cols));
    if let Some(&r) = rows.iter().find(|&&r| r >= n_in) {
        panic!("connection input {r} out of range 0..{n_in}");
    }
    let groups = Grouped::new(&cols, &rows, n_out);
    let y = grouped_product(&host_floats(x), &host_floats(weights), &groups, batch);
    Tensor::from_data(TensorData::new(y, [n_out, batch]), &device)
}

/// `w̄_k = Σ_b x[rows_k, b] · ȳ[cols_k, b]` on the host.
pub fn sparse_weight_grad<B: Backend>(
    x: Tensor<B, 2>,
    grad_out: Tensor<B, 2>,
    rows: Tensor<B, 1, Int>,
    cols: Tensor<B, 1, Int>,
) -> Tensor<B, 1> {
    let device = x.device();
    let [n_in, batch] = x.dims();
    let n_out = grad_out.dims()[0];
    let (rows, cols) = (host_indices(rows), host_indices(cols));
    let (x, gy) = (host_floats(x), host_floats(grad_out));
    let nnz = rows.len();
    let mut gw = vec![0f32; nnz];
    gw.par_chunks_mut(1024).enumerate().for_each(|(c, out)| {
        for (i, g) in out.iter_mut().enumerate() {
            let k = c * 1024 + i;
            let (r, j) = (rows[k], cols[k]);
            assert!(r < n_in && j < n_out, "connection {k} out of range");
            *g = dot(
                &x[r * batch..(r + 1) * batch],
                &gy[j * batch..(j + 1) * batch],
            );
        }
    });
    Tensor::from_data(TensorData::new(gw, [nnz]), &device)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_keeps_every_slot_once_under_its_key() {
        let g = Grouped::new(&[2, 0, 2, 1], &[5, 6, 7, 8], 4);
        assert_eq!(g.ptr, vec![0, 1, 2, 4, 4]);
        assert_eq!(g.slot, vec![1, 3, 0, 2]);
        assert_eq!(g.other, vec![6, 8, 5, 7]);
    }

    /// W = [[1, 0], [2, 3]] as slots (row, col, w) = (0,0,1), (0,1,2), (1,1,3);
    /// x = [[1, 2], [10, 20]] (2 features × batch 2) → y = [[1, 2], [32, 64]].
    #[test]
    fn grouped_product_matches_a_hand_computed_matrix_product() {
        let groups = Grouped::new(&[0, 1, 1], &[0, 0, 1], 2);
        let y = grouped_product(&[1.0, 2.0, 10.0, 20.0], &[1.0, 2.0, 3.0], &groups, 2);
        assert_eq!(y, vec![1.0, 2.0, 32.0, 64.0]);
    }

    #[test]
    fn dot_handles_a_tail() {
        let a: Vec<f32> = (0..11).map(|i| i as f32).collect();
        assert_eq!(dot(&a, &a), (0..11).map(|i| (i * i) as f32).sum::<f32>());
    }
}
