//! The one place where a backend is chosen. Models are generic over
//! `B: AutodiffBackend`; a [`Job`] is run on the backend named by `--device`.

/// The bound of every training job: an autodiff backend whose sparse products (SET) have
/// their own kernels.
pub use manifold_kernels::KernelAutodiffBackend as TrainBackend;

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

/// Work generic over the training backend. `device` names the backend ("ndarray", …).
pub trait Job {
    type Output;
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        name: &'static str,
    ) -> anyhow::Result<Self::Output>;
}

/// Runs `job` on the backend `kind`; a backend not compiled in is a one-line error
/// naming the Cargo feature to enable.
pub fn dispatch<J: Job>(kind: DeviceKind, job: J) -> anyhow::Result<J::Output> {
    match kind {
        #[cfg(feature = "ndarray")]
        DeviceKind::Ndarray => job.run::<burn::backend::Autodiff<burn_ndarray::NdArray<f32>>>(
            Default::default(),
            "ndarray",
        ),
        #[cfg(feature = "wgpu")]
        DeviceKind::Wgpu => job
            .run::<burn::backend::Autodiff<burn_wgpu::Wgpu<f32, i32>>>(Default::default(), "wgpu"),
        #[cfg(feature = "flex")]
        DeviceKind::Flex => {
            job.run::<burn::backend::Autodiff<burn_flex::Flex>>(Default::default(), "flex")
        }
        #[allow(unreachable_patterns)]
        other => anyhow::bail!(not_compiled_message(other, &DeviceKind::all_compiled())),
    }
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
