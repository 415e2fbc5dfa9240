//! The classifiers' loss: mean softmax cross-entropy with its gradient formed in the
//! forward pass.
//!
//! For logits `z` (`n × c`) and labels `y`: `s = z − max_j z`, `p = exp(s) / Σ_j exp(s)`,
//! `L = (1/n) Σ_i (log Σ_j exp(s_ij) − s_i,y_i)` and `∂L/∂z = (p − onehot(y)) / n`.
//! Burn's cross-entropy reaches that gradient through the backward of `log`, which
//! multiplies by `B::float_recip`; burn-ndarray 0.21 computes the reciprocal with the
//! CPU's approximate instruction (`rcp`, 12 bits on AVX2, 14 on AVX-512) wherever a
//! buffer is vector-aligned and exactly elsewhere, so its gradients depend on the CPU and
//! on where the allocator put the buffer, and runs with the same seed differ. Here the
//! gradient is computed once, exactly (one division), and attached to the loss through
//! `(z · g).sum()`, whose backward is a multiplication.

use burn::tensor::backend::Backend;
use burn::tensor::{Int, Tensor};

/// Mean softmax cross-entropy of `logits` `[n, classes]` against `labels` `[n]` (values
/// in `0..classes`), as a one-element tensor whose gradient with respect to `logits` is
/// `(softmax(logits) − onehot(labels)) / n`. On a backend without autodiff it is just
/// the value.
///
/// ```
/// use burn::tensor::{Int, Tensor, TensorData};
/// type B = burn_ndarray::NdArray<f32>;
/// let device = Default::default();
/// let logits = Tensor::<B, 2>::from_data(TensorData::new(vec![0.0f32, 0.0], [1, 2]), &device);
/// let labels = Tensor::<B, 1, Int>::from_data(TensorData::new(vec![1i64], [1]), &device);
/// let loss: f32 = manifold_train::cross_entropy(logits, labels).into_scalar();
/// assert!((loss - std::f32::consts::LN_2).abs() < 1e-6);
/// ```
pub fn cross_entropy<B: Backend>(logits: Tensor<B, 2>, labels: Tensor<B, 1, Int>) -> Tensor<B, 1> {
    let (value, grad) = cross_entropy_and_gradient(logits.clone().detach(), labels);
    let attached = (logits * grad).sum();
    // `attached − attached.detach()` is exactly zero and carries the gradient.
    value + (attached.clone() - attached.detach())
}

/// The value of [`cross_entropy`] and its gradient `(softmax(logits) − onehot(labels)) / n`
/// with respect to the logits, as plain tensors: for steps that compute their gradients
/// by hand (the MLP's).
pub fn cross_entropy_and_gradient<B: Backend>(
    logits: Tensor<B, 2>,
    labels: Tensor<B, 1, Int>,
) -> (Tensor<B, 1>, Tensor<B, 2>) {
    let [n, classes] = logits.dims();
    let shifted = logits.clone() - logits.max_dim(1);
    let exp = shifted.clone().exp();
    let total = exp.clone().sum_dim(1);
    let onehot = labels.one_hot::<2>(classes).float();
    let value = ((total.clone().log() - shifted) * onehot.clone())
        .sum()
        .div_scalar(n as f64);
    let grad = (exp / total - onehot).div_scalar(n as f64);
    (value, grad)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::backend::Autodiff;
    use burn::tensor::TensorData;

    type B = Autodiff<burn_ndarray::NdArray<f32>>;

    #[test]
    fn value_and_gradient_match_the_formulas() {
        let device = Default::default();
        let z = vec![1.0f32, 2.0, 0.5, -1.0, 0.0, 3.0];
        let logits =
            Tensor::<B, 2>::from_data(TensorData::new(z.clone(), [2, 3]), &device).require_grad();
        let labels = Tensor::<B, 1, Int>::from_data(TensorData::new(vec![1i64, 0], [2]), &device);
        let loss = cross_entropy(logits.clone(), labels);
        let value: f32 = loss.clone().into_scalar();
        let grads = loss.backward();
        let g: Vec<f32> = logits.grad(&grads).unwrap().into_data().to_vec().unwrap();
        // By hand, in f64.
        let (mut want_value, mut want_grad) = (0.0f64, vec![0.0f64; 6]);
        for (row, label) in [(0usize, 1usize), (1, 0)] {
            let r: Vec<f64> = z[row * 3..row * 3 + 3].iter().map(|&v| v as f64).collect();
            let lse = r.iter().map(|v| v.exp()).sum::<f64>().ln();
            want_value += (lse - r[label]) / 2.0;
            for j in 0..3 {
                let p = (r[j] - lse).exp();
                want_grad[row * 3 + j] = (p - f64::from(u8::from(j == label))) / 2.0;
            }
        }
        // The value (≈ 1.2) in f32 against f64: a few ulps (ulp 1.2e-7).
        assert!(
            (value as f64 - want_value).abs() < 1e-6,
            "{value} vs {want_value}"
        );
        for (got, want) in g.iter().zip(&want_grad) {
            // f32 against f64: each entry, |p − y|/2 ≤ 0.5, within 2 ulps of 0.5.
            assert!((*got as f64 - want).abs() < 1.2e-7, "{got} vs {want}");
        }
    }
}
