//! The hand-computed DreamComp update step, shared by the ndarray and wgpu tests
//! (included with `#[path]`; not a test target of its own).

use burn::tensor::Tensor;
use manifold_dreamcomp::kernels::DreamCompBackend;
use manifold_dreamcomp::rule::{step, synapse_rows};

/// 3 neurons × 4 synapses (last = label, ζ = 2, ξ = 0.2; pixels ξ = 0.1), 3 samples.
/// Neuron 1 wins v₁ (score 2) and v₃ (1.5): Δ = ξ ⊙ ((v₁+v₃)/2 − 1.75·w₁/ζ)
/// = (−0.1, 0, 0, 0.025); neuron 2 wins v₂ (0.5): Δ = ξ ⊙ (v₂ − 0.5·w₂/ζ)
/// = (0, 0.075, 0, −0.01); neuron 3 wins nothing and stays.
pub fn hand_example<Bk: DreamCompBackend>() {
    let dev = Default::default();
    let m = |v: [f32; 12]| Tensor::<Bk, 1>::from_floats(v.as_slice(), &dev).reshape([3, 4]);
    let w = m([1.0, 0.0, 0.0, 1.0, 0.0, 0.5, 0.0, 0.2, 0.0, 0.0, 1.0, 0.5]);
    let v = m([1.0, 0.0, 0.0, 1.0, 0.0, 1.0, 0.0, 0.0, 0.5, 0.0, 0.0, 1.0]);
    let (xi, inv_zeta) = synapse_rows::<Bk>(3, 1, 0.1, 0.2, 2.0, &dev);
    let got = step(w, v, xi, inv_zeta)
        .into_data()
        .convert::<f32>()
        .to_vec::<f32>()
        .unwrap();
    let want = [
        0.9, 0.0, 0.0, 1.025, 0.0, 0.575, 0.0, 0.19, 0.0, 0.0, 1.0, 0.5,
    ];
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        assert!(
            (g - w).abs() < 1e-5,
            "w[{}][{}] = {g}, expected {w}",
            i / 4,
            i % 4
        );
    }
}
