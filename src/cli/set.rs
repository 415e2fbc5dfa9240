//! `manifold … set` commands (placeholder until the set crate lands).

use crate::backend::DeviceKind;

#[derive(clap::Args, Debug)]
pub struct TrainArgs {}

#[derive(clap::Args, Debug)]
pub struct BenchArgs {}

pub fn train(_args: TrainArgs, _device: DeviceKind) -> anyhow::Result<()> {
    anyhow::bail!("set is not implemented yet")
}

pub fn bench(_args: BenchArgs, _device: DeviceKind) -> anyhow::Result<()> {
    anyhow::bail!("set is not implemented yet")
}

#[derive(clap::Args, Debug)]
pub struct TopologyArgs {}

pub fn topology(_args: TopologyArgs, _device: DeviceKind) -> anyhow::Result<()> {
    anyhow::bail!("set is not implemented yet")
}
