//! `manifold … dnm` commands (placeholder until the dnm crate lands).

use crate::backend::DeviceKind;

#[derive(clap::Args, Debug)]
pub struct TrainArgs {}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {}

pub fn train(_args: TrainArgs, _device: DeviceKind) -> anyhow::Result<()> {
    anyhow::bail!("dnm is not implemented yet")
}

pub fn bench(_args: BenchArgs, _device: DeviceKind) -> anyhow::Result<()> {
    anyhow::bail!("dnm is not implemented yet")
}

#[derive(clap::Args, Debug)]
pub struct SweepArgs {}

pub fn sweep(_args: SweepArgs, _device: DeviceKind) -> anyhow::Result<()> {
    anyhow::bail!("dnm is not implemented yet")
}
