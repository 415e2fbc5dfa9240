//! Host buffers of float tensors in their own precision, so that the fused kernels read
//! and write `f32` tensors without a conversion pass over every element.

use burn::tensor::backend::Backend;
use burn::tensor::{DType, Element, Tensor};

/// A float element the kernels read and write (they compute in f64 unless a kernel
/// takes a [`Compute`] type).
pub trait Real: Element + Copy + Send + Sync + Into<f64> {
    /// `v` rounded to this precision.
    fn of(v: f64) -> Self;
}

/// A float a kernel computes in: f64, or f32 (twice the lanes a vector and half the
/// bytes a pass moves, with a relative rounding of about 6e-8 instead of 1e-16). With
/// f64 every expression is the f64 code's, bit for bit ([`Real::of`] is the identity).
pub trait Compute:
    Real
    + Default
    + PartialOrd
    + std::ops::Add<Output = Self>
    + std::ops::Mul<Output = Self>
    + std::iter::Sum
{
}

impl<T> Compute for T where
    T: Real
        + Default
        + PartialOrd
        + std::ops::Add<Output = T>
        + std::ops::Mul<Output = T>
        + std::iter::Sum
{
}

impl Real for f32 {
    #[inline]
    fn of(v: f64) -> Self {
        v as f32
    }
}

impl Real for f64 {
    #[inline]
    fn of(v: f64) -> Self {
        v
    }
}

/// A float tensor's values on the host.
pub enum Floats {
    /// Values of an f32 tensor.
    F32(Vec<f32>),
    /// Values of an f64 tensor (or of another float type, converted).
    F64(Vec<f64>),
}

impl Floats {
    /// The values of `t`, in its precision when that is f32 or f64 (else as f64).
    pub fn of<B: Backend, const D: usize>(t: Tensor<B, D>) -> Self {
        // A fresh tensor is handed over without burn-ndarray's slow copy of shared tensors.
        let data = t.mul_scalar(1.0).into_data();
        match data.dtype {
            DType::F32 => Floats::F32(data.into_vec().expect("f32 data")),
            DType::F64 => Floats::F64(data.into_vec().expect("f64 data")),
            _ => Floats::F64(data.convert::<f64>().into_vec().expect("float data")),
        }
    }

    /// The values of `t` as f64, whatever its precision.
    pub fn f64_of<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f64> {
        Self::of(t).into_f64()
    }

    /// As f64 values.
    pub fn into_f64(self) -> Vec<f64> {
        match self {
            Floats::F32(v) => v.into_iter().map(f64::from).collect(),
            Floats::F64(v) => v,
        }
    }
}

/// `a·b` in eight independent partial sums: one running sum is a chain of dependent adds
/// that the compiler may not reorder (several times slower); eight let it vectorise.
#[inline]
pub fn dot<T>(a: &[T], b: &[T]) -> T
where
    T: Copy + Default + std::ops::Add<Output = T> + std::ops::Mul<Output = T> + std::iter::Sum,
{
    let mut lanes = [T::default(); 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: T = ca
        .remainder()
        .iter()
        .zip(cb.remainder())
        .map(|(&x, &y)| x * y)
        .sum();
    for (x, y) in ca.zip(cb) {
        for l in 0..8 {
            lanes[l] = lanes[l] + x[l] * y[l];
        }
    }
    lanes.iter().copied().sum::<T>() + tail
}

// Reading a tensor that is shared (kept by autodiff, or a parameter) makes burn-ndarray
// copy it element by element through a dynamic-rank iterator (≈ 40 ns per element); a
// fresh result of one elementwise op is uniquely owned and is handed over without a copy.

/// The values of a tensor that may be shared: a fresh copy is handed over (burn-ndarray
/// copies a shared tensor element by element in `into_data`).
pub fn host_floats<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    owned_floats(t.mul_scalar(1.0))
}

/// The values of a tensor handed over whole: without a copy on burn-ndarray when nobody
/// else holds it.
pub fn owned_floats<B: Backend, const D: usize>(t: Tensor<B, D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .into_vec::<f32>()
        .expect("float tensor")
}
