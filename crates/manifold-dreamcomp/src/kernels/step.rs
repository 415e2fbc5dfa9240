//! DreamComp's whole update step as one host pass (the rule is [`crate::rule`]; `K` neurons, `L'` synapses, a minibatch `V` of `B` rows):
//!
//! ```text
//! S[b, k] = v_b · w_k              over the non-zeros of v_b, BLOCK neurons at a time
//! k_b     = argmax_k S[b, k]       (the first index on ties), kept per block, never all of S
//! w_k    += ξ ⊙ (mean_{b: k_b = k} v_b − (mean_{b: k_b = k} S[b, k]) · w_k / ζ)   winners only
//! ```
//!
//! which is `w += ξ ⊙ (M·V − (Σ S⊙M)·w/ζ)` with `M` the win matrix normalised per neuron:
//! each winner's row moves once, from its weights before the step. The scores reuse the
//! blocked product of [`super::rows`] (a block of `w` transposed in cache, whole vectorised
//! rows per non-zero), blocks in parallel; the tensor version is a matmul, an argmax, a
//! gather and a scatter, a dozen ops and a `B × K` score matrix per step.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};
use rayon::prelude::*;

use super::rows::{block_scores, compress_rows, BLOCK};
use manifold_kernels::floats::{host_floats, owned_floats};

/// `(score, neuron)` of each sample's winner: `w` is `[k, d]`, `v` is `[n, d]`.
pub fn winners(v: &[f32], w: &[f32], n: usize, k: usize, d: usize) -> Vec<(f32, usize)> {
    let rows = compress_rows(v, n, d);
    let better = |a: (f32, usize), b: (f32, usize)| {
        if b.0 > a.0 || (b.0 == a.0 && b.1 < a.1) {
            b
        } else {
            a
        }
    };
    (0..k.div_ceil(BLOCK))
        .into_par_iter()
        .map(|blk| {
            let (k0, s) = block_scores(&rows, w, blk, k, d);
            s.chunks_exact(BLOCK.min(k - k0))
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .fold((row[0], k0), |best, (j, &x)| better(best, (x, k0 + j)))
                })
                .collect::<Vec<_>>()
        })
        .reduce(
            || vec![(f32::NEG_INFINITY, 0); n],
            |a, b| a.into_iter().zip(b).map(|(x, y)| better(x, y)).collect(),
        )
}

/// One step of the rule in place on `w` (`[k, d]`) for the minibatch `v` (`[n, d]`) with
/// per-synapse rates `xi` and `inv_zeta = 1/ζ` (each `[d]`).
pub fn step(w: &mut [f32], v: &[f32], xi: &[f32], inv_zeta: &[f32], n: usize, d: usize) {
    let k = w.len() / d.max(1);
    let won = winners(v, w, n, k, d);
    // Per distinct winner: the sum of the inputs it won, of their scores, and the count.
    let mut slot = vec![usize::MAX; k];
    let mut neurons = Vec::new();
    let mut sum_v = Vec::new();
    let mut sum_s: Vec<f32> = Vec::new();
    let mut count: Vec<f32> = Vec::new();
    for (b, &(score, kb)) in won.iter().enumerate() {
        if slot[kb] == usize::MAX {
            slot[kb] = neurons.len();
            neurons.push(kb);
            sum_v.extend(std::iter::repeat_n(0f32, d));
            sum_s.push(0.0);
            count.push(0.0);
        }
        let i = slot[kb];
        sum_v[i * d..(i + 1) * d]
            .iter_mut()
            .zip(&v[b * d..(b + 1) * d])
            .for_each(|(acc, x)| *acc += x);
        sum_s[i] += score;
        count[i] += 1.0;
    }
    for (i, &kb) in neurons.iter().enumerate() {
        let (mean_s, inv_n) = (sum_s[i] / count[i], 1.0 / count[i]);
        let row = &mut w[kb * d..(kb + 1) * d];
        for p in 0..d {
            let mean_v = sum_v[i * d + p] * inv_n;
            row[p] += xi[p] * (mean_v - mean_s * row[p] * inv_zeta[p]);
        }
    }
}

/// [`step`] on tensors: `w` `[K, L']`, `v` `[B, L']`, `xi` and `inv_zeta` `[1, L']`.
pub fn step_tensor<B: Backend>(
    w: Tensor<B, 2>,
    v: Tensor<B, 2>,
    xi: Tensor<B, 2>,
    inv_zeta: Tensor<B, 2>,
) -> Tensor<B, 2> {
    let ([k, d], [n, dv], device) = (w.dims(), v.dims(), w.device());
    assert_eq!(d, dv, "V is [n, {dv}] but w is [k, {d}]");
    let mut host = owned_floats(w);
    step(
        &mut host,
        &owned_floats(v),
        &host_floats(xi),
        &host_floats(inv_zeta),
        n,
        d,
    );
    Tensor::from_data(TensorData::new(host, [k, d]), &device)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against a plain argmax of the dense scores, with neurons over several blocks (a
    /// ragged last one), sparse and empty inputs, and exact ties between duplicate rows
    /// of `w` in different blocks (the first index wins, as Burn's argmax).
    #[test]
    fn winners_are_the_dense_argmax() {
        let (n, k, d) = (7, 2 * BLOCK + 9, 11);
        let mut w: Vec<f32> = (0..k * d)
            .map(|i| ((i * 37 + 11) % 23) as f32 * 0.125 - 1.0)
            .collect();
        // Neuron 5 (all 2, above every other weight) wins every non-empty input, and
        // neuron 2·BLOCK + 3 in the last block is its duplicate: a tie on each of them.
        for j in [5, 2 * BLOCK + 3] {
            w[j * d..(j + 1) * d].fill(2.0);
        }
        let v: Vec<f32> = (0..n * d)
            .map(|i| {
                if i / d != 2 && (i * 5) % 3 == 0 {
                    (i % 4) as f32 * 0.5
                } else {
                    0.0
                }
            })
            .collect();
        let got = winners(&v, &w, n, k, d);
        for b in 0..n {
            let score = |j: usize| (0..d).map(|p| v[b * d + p] * w[j * d + p]).sum::<f32>();
            let best = (0..k).fold(0, |m, j| if score(j) > score(m) { j } else { m });
            assert_eq!(got[b].1, best, "sample {b}: winner");
            // The kernel and this loop add the same d f32 products in other orders: at most
            // d·ε·Σ|v·w|, far below the 1e-4 allowed for these small inputs.
            assert!((got[b].0 - score(best)).abs() < 1e-4, "sample {b}: score");
        }
        for b in (0..n).filter(|&b| b != 2) {
            assert_eq!(got[b].1, 5, "sample {b}: the first of the tied neurons");
        }
        assert_eq!(
            got[2],
            (0.0, 0),
            "an all-zero input ties everywhere: neuron 0"
        );
    }
}
