//! `manifold bench MODEL`: times the step and epoch functions training uses and writes
//! JSON (medians of repeated measurements, after warm-up).

mod dnm;
mod dreamcomp;
mod mlp;
mod set;

use std::path::PathBuf;

use manifold::backend::DeviceKind;

/// The `bench` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum BenchCmd {
    /// One MLP epoch on MNIST.
    Mlp(mlp::BenchArgs),
    /// DNM training steps at the toy and MNIST sizes, fast and reference evaluators.
    Dnm(dnm::BenchArgs),
    /// SET epochs, sparse against masked path, over densities and widths.
    Set(set::BenchArgs),
    /// DreamComp epochs over neuron counts.
    Dreamcomp(dreamcomp::BenchArgs),
}

/// Runs a `bench` subcommand.
pub fn run(cmd: BenchCmd, device: DeviceKind) -> anyhow::Result<()> {
    match cmd {
        BenchCmd::Mlp(a) => mlp::bench(a, device),
        BenchCmd::Dnm(a) => dnm::bench(a, device),
        BenchCmd::Set(a) => set::bench(a, device),
        BenchCmd::Dreamcomp(a) => dreamcomp::bench(a, device),
    }
}

/// Flags every bench shares.
#[derive(clap::Args, Debug, Clone)]
pub struct Common {
    /// Only the backend given by --device (default: every compiled backend; mlp and
    /// set time --device only).
    #[arg(long)]
    only_device: bool,
    /// MNIST directory (default: $MNIST_DIR, else the shipped assets/mnist).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl Common {
    fn devices(&self, device: DeviceKind) -> Vec<DeviceKind> {
        if self.only_device {
            vec![device]
        } else {
            DeviceKind::all_compiled()
        }
    }

    fn mnist(&self) -> anyhow::Result<manifold_data::Mnist> {
        Ok(manifold_data::Mnist::load_default(
            self.data_dir.as_deref(),
        )?)
    }
}

/// The threads of the rayon pool the CPU backends and kernels run on: `RAYON_NUM_THREADS`
/// where set, else one per core.
fn threads() -> usize {
    rayon::current_num_threads()
}
