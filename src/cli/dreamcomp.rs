//! `manifold … dreamcomp` commands (placeholder until the dreamcomp crate lands).

use crate::backend::DeviceKind;

#[derive(clap::Args, Debug)]
pub struct TrainArgs {}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {}

pub fn train(_args: TrainArgs, _device: DeviceKind) -> anyhow::Result<()> {
    anyhow::bail!("dreamcomp is not implemented yet")
}

pub fn bench(_args: BenchArgs, _device: DeviceKind) -> anyhow::Result<()> {
    anyhow::bail!("dreamcomp is not implemented yet")
}
