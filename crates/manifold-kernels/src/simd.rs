//! Host kernels on the CPU's widest vector instructions, chosen when the program runs.
//!
//! The workspace is compiled for the baseline of its target (x86-64: SSE2, two f64 lanes
//! a vector), so that one binary runs on every machine. A function written inside
//! [`widest!`](crate::widest) is compiled twice, once more with AVX2 enabled (four f64
//! lanes, eight f32), and runs the AVX2 copy when the CPU has it. Results do not depend
//! on the copy: Rust never fuses a multiply and an add that the source writes apart (and
//! `fma` is not enabled), and the compiler does not reorder floating-point sums, so each
//! lane computes exactly what the scalar code does; only loops whose elements are
//! independent (an `axpy`, the eight partial sums of [`crate::floats::dot`]) widen.

use std::sync::atomic::{AtomicBool, Ordering};

static WIDE: AtomicBool = AtomicBool::new(true);

/// Lets [`widest!`](crate::widest) functions run their AVX2 copy (`true`, the default) or
/// keeps every call on the baseline copy (`false`), process-wide: for the tests that
/// compare the two copies bit for bit.
pub fn set_wide(enabled: bool) {
    WIDE.store(enabled, Ordering::Relaxed);
}

/// Whether [`widest!`](crate::widest) functions run their AVX2 copy: the CPU runs AVX2
/// (detected once, then cached by the standard library) and [`set_wide`] allows it.
#[inline]
pub fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        WIDE.load(Ordering::Relaxed) && std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// Defines a function whose body is compiled twice, for the baseline and with AVX2, and
/// runs the AVX2 copy where [`simd::avx2`](crate::simd::avx2) says the CPU has it
/// (same results, see the [module docs](crate::simd)). Helpers the body calls widen only
/// where they are inlined into it: mark them `#[inline]`. The signature's parameters are
/// plain names, its generics `T: Bound` pairs.
///
/// ```
/// manifold_kernels::widest! {
///     /// `acc += v·src`.
///     fn axpy(acc: &mut [f64], v: f64, src: &[f64]) {
///         acc.iter_mut().zip(src).for_each(|(y, x)| *y += v * x);
///     }
/// }
/// let mut acc = vec![1.0; 9];
/// axpy(&mut acc, 2.0, &[0.5; 9]);
/// assert_eq!(acc, vec![2.0; 9]);
/// ```
#[macro_export]
macro_rules! widest {
    (
        $(#[$meta:meta])*
        $vis:vis fn $name:ident $(<$($g:ident : $bound:path),+>)?
            ($($arg:ident : $ty:ty),* $(,)?) $(-> $ret:ty)? $body:block
    ) => {
        $(#[$meta])*
        $vis fn $name $(<$($g: $bound),+>)? ($($arg: $ty),*) $(-> $ret)? {
            // The copies repeat the signature, which the outer function answers for.
            #[allow(clippy::too_many_arguments)]
            #[inline(always)]
            fn body $(<$($g: $bound),+>)? ($($arg: $ty),*) $(-> $ret)? $body
            #[cfg(target_arch = "x86_64")]
            #[target_feature(enable = "avx2")]
            #[allow(clippy::too_many_arguments)]
            unsafe fn avx2 $(<$($g: $bound),+>)? ($($arg: $ty),*) $(-> $ret)? {
                body $(::<$($g),+>)? ($($arg),*)
            }
            #[cfg(target_arch = "x86_64")]
            if $crate::simd::avx2() {
                // SAFETY: the CPU has the feature `avx2` is compiled for.
                return unsafe { avx2 $(::<$($g),+>)? ($($arg),*) };
            }
            body $(::<$($g),+>)? ($($arg),*)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `set_wide(false)` keeps every call on the baseline copy, and `set_wide(true)` lets
    /// the AVX2 copy run exactly where the CPU has it: the tests that compare the two
    /// copies bit for bit do run both on an AVX2 machine.
    #[test]
    fn set_wide_chooses_the_copy() {
        set_wide(false);
        assert!(!avx2());
        set_wide(true);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(avx2(), std::arch::is_x86_feature_detected!("avx2"));
        #[cfg(not(target_arch = "x86_64"))]
        assert!(!avx2());
    }
}
