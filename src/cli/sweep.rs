//! `manifold sweep dnm`: the DNM trained at several λ_sparse (the accuracy–density
//! curve), or earlier sweeps joined.

use std::path::PathBuf;

use manifold_dnm::sweep;
use manifold_dnm::{Data, DensityTerm, DnmConfig};
use manifold_train::layered_config;

use manifold::backend::DeviceKind;
use manifold::with_backend;

/// The `sweep` subcommands.
#[derive(clap::Subcommand, Debug)]
pub enum SweepCmd {
    /// Sweep the DNM's λ_sparse (accuracy–density curve).
    Dnm(SweepArgs),
}

/// Flags of `manifold sweep dnm`.
#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// Base preset. Its density term is set to `surrogate`, the one whose λ_sparse acts.
    #[arg(long, default_value = "best-mnist")]
    preset: String,
    /// λ_sparse values.
    #[arg(long, value_delimiter = ',', default_value = "0,0.1,1,10,100")]
    lambdas: Vec<f64>,
    /// Steps per run.
    #[arg(long, default_value_t = 3000)]
    steps: usize,
    /// Override one config field of the base (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Output directory (CSV + PNG).
    #[arg(long, default_value = "runs/dnm-sweep")]
    out: PathBuf,
    /// MNIST directory (default: $MNIST_DIR, else the shipped assets/mnist).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Instead of training: join the rows of earlier `sweep.csv` files (comma-separated)
    /// into one CSV and one picture in `--out`.
    #[arg(long, value_delimiter = ',', value_name = "CSV")]
    merge: Vec<PathBuf>,
}

/// `manifold sweep dnm`.
pub fn run(cmd: SweepCmd, device: DeviceKind) -> anyhow::Result<()> {
    let SweepCmd::Dnm(args) = cmd;
    if !args.merge.is_empty() {
        let mut rows = Vec::new();
        for path in &args.merge {
            rows.extend(sweep::read_csv(path)?);
        }
        rows.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mnist = rows.iter().any(|r| r.2.is_some());
        return Ok(sweep::write(&args.out, &rows, mnist)?);
    }
    anyhow::ensure!(
        !args.lambdas.is_empty(),
        "--lambdas: give at least one value"
    );
    let base = layered_config(&DnmConfig::preset(&args.preset)?, None, &args.set)?
        .with_steps(args.steps)
        .with_density_term(DensityTerm::Surrogate);
    let configs: Vec<DnmConfig> = args
        .lambdas
        .iter()
        .map(|&l| base.clone().with_lambda_sparse(l))
        .collect();
    for c in &configs {
        c.validate()?;
    }
    let data = match base.task {
        manifold_dnm::Task::Toy => Data::Toy,
        manifold_dnm::Task::Mnist => Data::Mnist(manifold_data::Mnist::load_default(
            args.data_dir.as_deref(),
        )?),
    };
    let rows = with_backend!(device, |B, device, _name| {
        Ok(sweep::run::<B>(&configs, &data, &device)?)
    })?;
    Ok(sweep::write(
        &args.out,
        &rows,
        base.task == manifold_dnm::Task::Mnist,
    )?)
}
