//! The fused DNM closeness kernel against the tensor expression in f32 (burn-ndarray):
//! a process of its own, since burn-ndarray keeps one float dtype per device per process.

use burn::backend::Autodiff;

#[path = "common/dnm_fused.rs"]
mod dnm_fused;

#[test]
fn fused_closeness_matches_the_tensor_expression_in_f32() {
    // The gradients of θ and φ are sums of oscillating terms over a row: the f32 tensor
    // expression loses digits to cancellation (measured up to 5e-4 of the largest), the
    // kernel sums in f64.
    dnm_fused::fused_matches_expression_everywhere::<Autodiff<burn_ndarray::NdArray<f32>>>(2e-3);
}
