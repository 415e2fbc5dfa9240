//! The DreamComp update rule — the whole learning algorithm, as batched tensor
//! arithmetic (no autodiff).
//!
//! Notation: `K` neurons, `L'` synapses per neuron (784 pixels + 10 label synapses),
//! minibatch `V` (`B × L'`, one input vector `v = [x, onehot(label)]` per row),
//! weights `w` (`K × L'`), reconstruction weights `ζ ∈ R^{L'}` (1 for pixels, `R` for
//! labels) and learning rates `ξ ∈ R^{L'}` (`xi` for pixels, `c_xi` for labels).
//!
//! 1. Scores `S = w · Vᵀ` (`K × B`); the winner of sample `b` is `k_b = argmax_k S[k, b]`.
//! 2. `M` (`K × B`) is 1 at `(k_b, b)`, each row divided by `max(1, n_k)`, `n_k` being
//!    the number of samples neuron `k` won in this batch.
//! 3. `w ← w + ξ ⊙ ( M·V − (Σ_b S ⊙ M)_k · w / ζ )`, the last term row-wise.
//!
//! Only winners move, so step 3 is computed per sample and scattered onto the rows
//! of the winners (a gather/scatter, not a second dense `K × B` matmul):
//!
//! `w[k_b] += ξ_b ⊙ ( v_b − S[k_b, b] · w[k_b] / ζ ) / n_{k_b}`   for every `b`,
//!
//! where the sum over the samples a neuron won reproduces `M·V` and `Σ_b S ⊙ M`, and
//! every gathered `w[k_b]` is the weight *before* the step. `ξ_b` may differ per sample
//! (the semi-supervised mode scales the label rate of dreamed samples).

use crate::kernels::DreamCompBackend;
use burn::tensor::{backend::Backend, IndexingUpdateOp, Int, Tensor};

/// `S = V · wᵀ` (`B × K`: sample-major, so that winners are an argmax along dim 1).
/// `V` is mostly zeros (MNIST pixels, one-hot labels): the CPU backends skip them
/// ([`crate::kernels::rows`]), the others do the dense matmul.
pub fn scores<B: DreamCompBackend>(w: Tensor<B, 2>, v: Tensor<B, 2>) -> Tensor<B, 2> {
    B::sparse_rows_matmul_t(v, w)
}

/// The winner `k_b` of each sample and its score `S[k_b, b]` (`B × 1`).
pub fn winners<B: Backend>(scores: Tensor<B, 2>) -> (Tensor<B, 1, Int>, Tensor<B, 2>) {
    let [b, _] = scores.dims();
    let (best, idx) = scores.max_dim_with_indices(1);
    (idx.reshape([b]), best)
}

/// `n_{k_b}`: how many samples of the batch the winner of sample `b` won (`B × 1`).
pub fn win_counts<B: Backend>(winners: Tensor<B, 1, Int>, neurons: usize) -> Tensor<B, 2> {
    let b = winners.dims()[0];
    let device = winners.device();
    Tensor::<B, 1>::zeros([neurons], &device)
        .select_assign(
            0,
            winners.clone(),
            Tensor::ones([b], &device),
            IndexingUpdateOp::Add,
        )
        .select(0, winners)
        .reshape([b, 1])
}

/// Step 3 given the scores: moves each winner toward the mean of the inputs it won,
/// minus its Oja-style decay `S · w / ζ`.
///
/// `xi` is `1 × L'` (or `B × L'` for per-sample rates), `inv_zeta` is `1 / ζ` as `1 × L'`.
pub fn update<B: Backend>(
    w: Tensor<B, 2>,
    v: Tensor<B, 2>,
    scores: Tensor<B, 2>,
    xi: Tensor<B, 2>,
    inv_zeta: Tensor<B, 2>,
) -> Tensor<B, 2> {
    let neurons = w.dims()[0];
    let (k, s) = winners(scores);
    let n = win_counts(k.clone(), neurons);
    let mine = w.clone().select(0, k.clone());
    let delta = (v - mine * inv_zeta * s) * xi / n;
    w.select_assign(0, k, delta, IndexingUpdateOp::Add)
}

/// One full step of the rule on a minibatch: scores, winners, update. On the CPU
/// backends this is one fused host pass ([`crate::kernels::step`]: the same maths
/// without the `B × K` score tensor), elsewhere the tensor ops above.
pub fn step<B: DreamCompBackend>(
    w: Tensor<B, 2>,
    v: Tensor<B, 2>,
    xi: Tensor<B, 2>,
    inv_zeta: Tensor<B, 2>,
) -> Tensor<B, 2> {
    B::dreamcomp_step(w, v, xi, inv_zeta)
}

/// [`step`] as tensor ops on every backend.
pub fn step_tensor_ops<B: DreamCompBackend>(
    w: Tensor<B, 2>,
    v: Tensor<B, 2>,
    xi: Tensor<B, 2>,
    inv_zeta: Tensor<B, 2>,
) -> Tensor<B, 2> {
    let s = scores(w.clone(), v.clone());
    update(w, v, s, xi, inv_zeta)
}

/// The per-synapse rows `ξ` (`xi` for the first `pixels` synapses, `c_xi` for the
/// rest) and `1/ζ` (1 for pixels, `1/R` for labels), each `1 × (pixels + labels)`.
pub fn synapse_rows<B: Backend>(
    pixels: usize,
    labels: usize,
    xi: f64,
    c_xi: f64,
    recon: f64,
    device: &B::Device,
) -> (Tensor<B, 2>, Tensor<B, 2>) {
    let row = |a: f64, b: f64| {
        let v: Vec<f32> = (0..pixels + labels)
            .map(|i| if i < pixels { a as f32 } else { b as f32 })
            .collect();
        Tensor::<B, 1>::from_floats(v.as_slice(), device).reshape([1, pixels + labels])
    };
    (row(xi, c_xi), row(1.0, 1.0 / recon))
}

#[cfg(test)]
mod tests {
    use super::*;
    type B = burn_ndarray::NdArray<f32>;

    fn t(rows: &[[f32; 4]]) -> Tensor<B, 2> {
        let flat: Vec<f32> = rows.iter().flatten().copied().collect();
        Tensor::<B, 1>::from_floats(flat.as_slice(), &Default::default()).reshape([rows.len(), 4])
    }

    /// 3 neurons, 4 synapses (the last one a "label" with ζ = 2), 3 samples.
    /// Scores: v₁ → (2, 0.2, 0.5), v₂ → (0, 0.5, 0), v₃ → (1.5, 0.2, 0.5): neuron 1
    /// wins v₁ and v₃ (n = 2), neuron 2 wins v₂, neuron 3 wins nothing.
    /// Neuron 1: M·V = (v₁ + v₃)/2 = (0.75, 0, 0, 1), ΣS⊙M = (2 + 1.5)/2 = 1.75,
    ///   w/ζ = (1, 0, 0, 0.5) → Δ = ξ ⊙ (−1, 0, 0, 0.125) = (−0.1, 0, 0, 0.025).
    /// Neuron 2: M·V = v₂, ΣS⊙M = 0.5, w/ζ = (0, 0.5, 0, 0.1)
    ///   → Δ = ξ ⊙ (0, 0.75, 0, −0.05) = (0, 0.075, 0, −0.01).
    /// The hand-computed example through the fused host step (`step` on ndarray, and
    /// `crate::kernels::step::step` on plain buffers) and through the tensor ops.
    #[test]
    fn one_step_matches_hand_computation() {
        let dev = Default::default();
        let w = [
            [1.0, 0.0, 0.0, 1.0],
            [0.0, 0.5, 0.0, 0.2],
            [0.0, 0.0, 1.0, 0.5],
        ];
        let v = [
            [1.0, 0.0, 0.0, 1.0],
            [0.0, 1.0, 0.0, 0.0],
            [0.5, 0.0, 0.0, 1.0],
        ];
        let want = [
            0.9, 0.0, 0.0, 1.025, //
            0.0, 0.575, 0.0, 0.19, //
            0.0, 0.0, 1.0, 0.5,
        ];
        let (xi, inv_zeta) = synapse_rows::<B>(3, 1, 0.1, 0.2, 2.0, &dev);
        let check = |got: Vec<f32>, path: &str| {
            for (i, (g, w)) in got.iter().zip(want).enumerate() {
                assert!(
                    (g - w).abs() < 1e-6,
                    "{path}: w[{}][{}] = {g}, expected {w}",
                    i / 4,
                    i % 4
                );
            }
        };
        let tensors = |f: fn(_, _, _, _) -> Tensor<B, 2>| {
            f(t(&w), t(&v), xi.clone(), inv_zeta.clone())
                .into_data()
                .to_vec::<f32>()
                .unwrap()
        };
        check(tensors(step), "step");
        check(tensors(step_tensor_ops), "tensor ops");
        let mut host: Vec<f32> = w.iter().flatten().copied().collect();
        let flat_v: Vec<f32> = v.iter().flatten().copied().collect();
        crate::kernels::step::step(
            &mut host,
            &flat_v,
            &[0.1, 0.1, 0.1, 0.2],
            &[1.0, 1.0, 1.0, 0.5],
            3,
            4,
        );
        check(host, "host kernel");
    }

    #[test]
    fn win_counts_count_each_winner() {
        let dev = Default::default();
        let k = Tensor::<B, 1, Int>::from_ints([2, 0, 2, 2], &dev);
        let n = win_counts(k, 4).into_data().to_vec::<f32>().unwrap();
        assert_eq!(n, vec![3.0, 1.0, 3.0, 3.0]);
    }
}
