//! The one place where a backend is chosen. Models are generic over
//! `B: AutodiffBackend`; [`with_backend!`](crate::with_backend) runs a block on the
//! backend named by `--device`.

use burn::tensor::backend::AutodiffBackend;
use manifold_dnm::kernels::DnmBackend;
use manifold_dreamcomp::kernels::DreamCompBackend;
use manifold_set::kernels::SetBackend;

/// The bound of every training job: an autodiff backend that, like its inner backend, has
/// the kernel traits of the three models with kernels (the DNM's, SET's, DreamComp's).
pub trait TrainBackend:
    AutodiffBackend<InnerBackend: DnmBackend + SetBackend + DreamCompBackend>
    + DnmBackend
    + SetBackend
    + DreamCompBackend
{
}

impl<B> TrainBackend for B where
    B: AutodiffBackend<InnerBackend: DnmBackend + SetBackend + DreamCompBackend>
        + DnmBackend
        + SetBackend
        + DreamCompBackend
{
}

/// The backends manifold can be built with (Cargo features of the same name).
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum DeviceKind {
    /// burn-ndarray on the CPU (feature `ndarray`, the default).
    #[default]
    Ndarray,
    /// burn-wgpu: Vulkan/Metal/DX12 GPUs, or lavapipe on the CPU (feature `wgpu`).
    Wgpu,
    /// burn-flex, Burn's newer pure-Rust CPU backend (feature `flex`).
    Flex,
}

impl DeviceKind {
    /// The backend's name, as `--device` spells it.
    pub fn name(self) -> &'static str {
        match self {
            DeviceKind::Ndarray => "ndarray",
            DeviceKind::Wgpu => "wgpu",
            DeviceKind::Flex => "flex",
        }
    }

    /// Whether this binary was compiled with the backend.
    pub fn compiled(self) -> bool {
        match self {
            DeviceKind::Ndarray => cfg!(feature = "ndarray"),
            DeviceKind::Wgpu => cfg!(feature = "wgpu"),
            DeviceKind::Flex => cfg!(feature = "flex"),
        }
    }

    /// Every backend compiled into this binary.
    pub fn all_compiled() -> Vec<DeviceKind> {
        [DeviceKind::Ndarray, DeviceKind::Wgpu, DeviceKind::Flex]
            .into_iter()
            .filter(|d| d.compiled())
            .collect()
    }

    /// The default device: ndarray when compiled in, else the first compiled backend.
    pub fn default_compiled() -> DeviceKind {
        Self::all_compiled().first().copied().unwrap_or_default()
    }
}

/// The ndarray training backend (feature `ndarray`).
#[cfg(feature = "ndarray")]
pub type NdarrayTrain = burn::backend::Autodiff<burn_ndarray::NdArray<f32>>;
/// The wgpu training backend (feature `wgpu`).
#[cfg(feature = "wgpu")]
pub type WgpuTrain = burn::backend::Autodiff<burn_wgpu::Wgpu<f32, i32>>;
/// The flex training backend (feature `flex`).
#[cfg(feature = "flex")]
pub type FlexTrain = burn::backend::Autodiff<burn_flex::Flex>;

/// Runs a block once for the backend a [`DeviceKind`] names, with `B` bound to that
/// training backend (a [`TrainBackend`]), `device` to its default device and `name` to
/// its name; the block's value (an `anyhow::Result`) is the macro's. A backend not
/// compiled in is the one-line error of [`not_compiled_message`].
///
/// ```ignore
/// with_backend!(kind, |B, device, name| {
///     let model = Mlp::<B>::new(&config, &device);
///     Ok(())
/// })
/// ```
#[macro_export]
macro_rules! with_backend {
    ($kind:expr, |$b:ident, $device:ident, $name:ident| $body:block) => {{
        use $crate::backend::DeviceKind as Kind;
        match $kind {
            #[cfg(feature = "ndarray")]
            Kind::Ndarray => $crate::with_backend!(@on NdarrayTrain, Ndarray, $b, $device, $name, $body),
            #[cfg(feature = "wgpu")]
            Kind::Wgpu => $crate::with_backend!(@on WgpuTrain, Wgpu, $b, $device, $name, $body),
            #[cfg(feature = "flex")]
            Kind::Flex => $crate::with_backend!(@on FlexTrain, Flex, $b, $device, $name, $body),
            #[allow(unreachable_patterns)]
            other => Err(anyhow::anyhow!($crate::backend::not_compiled_message(
                other,
                &Kind::all_compiled()
            ))),
        }
    }};
    (@on $ty:ident, $kind:ident, $b:ident, $device:ident, $name:ident, $body:block) => {{
        type $b = $crate::backend::$ty;
        let $device = $crate::backend::default_device::<$b>();
        let $name = $crate::backend::DeviceKind::$kind.name();
        $body
    }};
}

/// The default device of backend `B` (for [`with_backend!`](crate::with_backend)).
pub fn default_device<B: burn::tensor::backend::Backend>() -> B::Device {
    Default::default()
}

/// The one-line error for a backend this binary was built without.
pub fn not_compiled_message(kind: DeviceKind, compiled: &[DeviceKind]) -> String {
    let names: Vec<&str> = compiled.iter().map(|d| d.name()).collect();
    format!(
        "device `{}` is not compiled into this binary: rebuild with `--features {}` (compiled in: {})",
        kind.name(),
        kind.name(),
        if names.is_empty() { "none".to_string() } else { names.join(", ") }
    )
}
