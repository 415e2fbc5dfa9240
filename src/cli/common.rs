//! Flags every training command shares, and the config-override mechanism:
//! preset or `--config FILE` (TOML) first, then `--set field=value`, then the
//! command's own flags. Unknown fields and bad values name the field.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{de::DeserializeOwned, Serialize};

/// Flags shared by the `train` commands.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct RunArgs {
    /// Run directory (default: runs/<model>-<timestamp>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Continue the run in DIR from its last checkpoint (its config.toml is used).
    #[arg(long, value_name = "DIR", conflicts_with = "config")]
    pub resume: Option<PathBuf>,
    /// TOML file with config fields (overrides the preset).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Override one config field: `--set field=value` (TOML syntax for the value; repeatable).
    #[arg(long = "set", value_name = "FIELD=VALUE")]
    pub set: Vec<String>,
    /// Seed of initialisation and data order.
    #[arg(long)]
    pub seed: Option<u64>,
    /// MNIST directory (default: $MNIST_DIR, else the shipped assets/mnist).
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
}

/// Applies a TOML file and `field=value` overrides on top of `base`, re-validating
/// through serde so that an unknown field or a wrongly typed value is an error naming it.
pub fn layered_config<C: Serialize + DeserializeOwned>(
    base: &C,
    file: Option<&Path>,
    sets: &[String],
) -> anyhow::Result<C> {
    let mut table = toml::Value::try_from(base).context("config cannot be represented as TOML")?;
    let root = table.as_table_mut().expect("configs are structs");
    if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("{}: cannot read", path.display()))?;
        let file_table: toml::Table = toml::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: {}",
                path.display(),
                manifold_train::run::one_line(&e.to_string())
            )
        })?;
        for (k, v) in file_table {
            if !root.contains_key(&k) {
                anyhow::bail!("{}: unknown config field `{k}`", path.display());
            }
            root.insert(k, v);
        }
    }
    for s in sets {
        let (k, v) = s
            .split_once('=')
            .with_context(|| format!("--set {s}: expected FIELD=VALUE"))?;
        let k = k.trim();
        let Some(old) = root.get(k) else {
            anyhow::bail!("--set {s}: unknown config field `{k}`");
        };
        let parsed: toml::Value = toml::from_str::<toml::Table>(&format!("v = {}", v.trim()))
            .map(|mut t| t.remove("v").expect("parsed key"))
            .or_else(|_| Ok::<_, anyhow::Error>(toml::Value::String(v.trim().to_string())))?;
        // An integer given for a float field is still a number.
        let parsed = match (old, parsed) {
            (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(i as f64),
            (_, p) => p,
        };
        root.insert(k.to_string(), parsed);
    }
    table.try_into().map_err(|e: toml::de::Error| {
        anyhow::anyhow!("config: {}", manifold_train::run::one_line(&e.to_string()))
    })
}

/// Applies an optional flag to a config field.
pub fn set_if<T: Clone>(field: &mut T, flag: &Option<T>) {
    if let Some(v) = flag {
        *field = v.clone();
    }
}

/// Returned when Ctrl-C stopped a run after saving its checkpoint (exit code 130).
#[derive(Debug, thiserror::Error)]
#[error("interrupted: checkpoint saved in {0}; continue with --resume {0}")]
pub struct Interrupted(pub String);
