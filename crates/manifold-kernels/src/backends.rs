//! The backends the model crates implement their kernel traits for, and the macros that
//! write those implementations once for every backend compiled in.
//!
//! A model crate writes its CPU implementation once, as a local `macro_rules!` taking the
//! backend type and its [`Host`], and hands it to [`for_each_host_backend!`](crate::for_each_host_backend); a trait
//! whose GPU backends keep every default gets them from
//! [`defaults_on_gpu_backends!`](crate::defaults_on_gpu_backends).
//! Which backends exist is decided here, by this crate's features (`ndarray`, `flex`,
//! `wgpu`), which each model crate's features of the same names forward.

#[cfg(feature = "ndarray")]
pub use burn_ndarray::NdArray;

#[cfg(feature = "flex")]
pub use burn_flex::Flex;

#[cfg(feature = "wgpu")]
pub use burn_cubecl::{BoolElement, CubeBackend, CubeRuntime, IntElement};
#[cfg(feature = "wgpu")]
pub use burn_fusion::Fusion;

/// Which CPU backend an implementation is for, where a kernel is only worth it on one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Host {
    /// burn-ndarray (`NdArray<f32>` and `NdArray<f64>`).
    NdArray,
    /// burn-flex (`Flex`).
    Flex,
}

#[cfg(feature = "ndarray")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_ndarray {
    ($($t:tt)*) => { $($t)* };
}

#[cfg(not(feature = "ndarray"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_ndarray {
    ($($t:tt)*) => {};
}

#[cfg(feature = "flex")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_flex {
    ($($t:tt)*) => { $($t)* };
}

#[cfg(not(feature = "flex"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_flex {
    ($($t:tt)*) => {};
}

#[cfg(feature = "wgpu")]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_wgpu {
    ($($t:tt)*) => { $($t)* };
}

#[cfg(not(feature = "wgpu"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __with_wgpu {
    ($($t:tt)*) => {};
}

/// Invokes `$m!(Backend, host)` once per CPU backend compiled in (`host` a [`Host`]):
/// `NdArray<f32>`, `NdArray<f64>` (feature `ndarray`) and `Flex` (feature `flex`).
///
/// ```ignore
/// macro_rules! host_impl {
///     ($backend:ty, $host:expr) => {
///         impl MyBackend for $backend { /* the host kernels */ }
///     };
/// }
/// manifold_kernels::for_each_host_backend!(host_impl);
/// ```
#[macro_export]
macro_rules! for_each_host_backend {
    ($m:ident) => {
        $crate::__with_ndarray! {
            $m!($crate::backends::NdArray<f32>, $crate::backends::Host::NdArray);
            $m!($crate::backends::NdArray<f64>, $crate::backends::Host::NdArray);
        }
        $crate::__with_flex! {
            $m!($crate::backends::Flex, $crate::backends::Host::Flex);
        }
    };
}

/// `impl $trait for …{}` for the GPU backends compiled in (feature `wgpu`):
/// `CubeBackend<R, f32, I, BT>` and `Fusion` of it (burn-wgpu's `Wgpu`), every method
/// keeping its default.
#[macro_export]
macro_rules! defaults_on_gpu_backends {
    ($t:path) => {
        $crate::__with_wgpu! {
            impl<
                    R: $crate::backends::CubeRuntime,
                    I: $crate::backends::IntElement,
                    BT: $crate::backends::BoolElement,
                > $t for $crate::backends::CubeBackend<R, f32, I, BT>
            {
            }
            impl<
                    R: $crate::backends::CubeRuntime,
                    I: $crate::backends::IntElement,
                    BT: $crate::backends::BoolElement,
                > $t for $crate::backends::Fusion<$crate::backends::CubeBackend<R, f32, I, BT>>
            {
            }
        }
    };
}
