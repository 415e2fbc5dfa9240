//! `manifold tune`: grid search over MLP hyperparameters × seeds.

use std::path::PathBuf;

use anyhow::Context;
use manifold_data::Mnist;
use manifold_mlp::MlpConfig;
use manifold_train::tune::{best_per_combination, write_tune_csv, SearchGrid};
use manifold_train::{layered_config, read_toml};

use manifold::backend::DeviceKind;
use manifold::with_backend;

/// Flags of `manifold tune`.
#[derive(clap::Args, Debug)]
pub struct TuneArgs {
    /// TOML grid: `field = [v1, v2, …]` for MlpConfig fields.
    #[arg(long, value_name = "FILE")]
    grid: Option<PathBuf>,
    /// A grid axis given inline: `field=v1,v2,…` (repeatable; adds to --grid).
    #[arg(long = "axis", value_name = "FIELD=V1,V2")]
    axes: Vec<String>,
    /// Seeds per combination (0..N).
    #[arg(long, default_value_t = 3)]
    seeds: u64,
    /// TOML file with the base config the grid varies.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override one base config field: `--set field=value` (repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    set: Vec<String>,
    /// Output CSV.
    #[arg(long, default_value = "runs/tune.csv")]
    csv: PathBuf,
    /// MNIST directory (default: $MNIST_DIR, else the shipped assets/mnist).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

impl TuneArgs {
    fn grid(&self) -> anyhow::Result<SearchGrid> {
        let mut grid = match &self.grid {
            Some(path) => read_toml::<SearchGrid>(path)?,
            None => SearchGrid::default(),
        };
        for a in &self.axes {
            grid.add_axis(a)?;
        }
        grid.validate()?;
        Ok(grid)
    }
}

/// `manifold tune`.
pub fn run(args: TuneArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(args.seeds > 0, "--seeds must be at least 1");
    let grid = args.grid()?;
    let base = layered_config(&MlpConfig::new(), args.config.as_deref(), &args.set)?;
    let combos = grid.combinations();
    let seeds: Vec<u64> = (0..args.seeds).collect();
    let mut configs = Vec::new();
    for combo in &combos {
        let sets: Vec<String> = combo.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let c = layered_config(&base, None, &sets)?;
        c.validate()?;
        configs.extend(seeds.iter().map(|&s| c.clone().with_seed(s)));
    }
    let data = Mnist::load_default(args.data_dir.as_deref())?;
    eprintln!(
        "tune: {} combinations × {} seeds = {} models",
        combos.len(),
        seeds.len(),
        configs.len()
    );
    let outcomes = with_backend!(device, |B, device, _name| {
        Ok(manifold_mlp::tune::<B>(&configs, &data, &device)?)
    })?;
    let rows = best_per_combination(&combos, &seeds, &outcomes);
    if let Some(dir) = args.csv.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("{}: cannot create", dir.display()))?;
    }
    write_tune_csv(&args.csv, &rows)?;
    let best = rows
        .iter()
        .min_by(|a, b| a.cost.total_cmp(&b.cost))
        .context("the grid has no combination")?;
    let desc: Vec<String> = best
        .combination
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    println!(
        "best: {} (seed {}): cost {:.4}, accuracy {:.2}% — {}",
        desc.join(" "),
        best.best_seed,
        best.cost,
        best.accuracy * 100.0,
        args.csv.display()
    );
    Ok(())
}
