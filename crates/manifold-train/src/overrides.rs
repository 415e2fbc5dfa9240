//! Config layering for commands and programs: a base config, then a TOML file's
//! fields, then `field=value` overrides, re-validated through serde so that an unknown
//! field or a wrongly typed value is an error naming it.

use std::path::Path;

use serde::{de::DeserializeOwned, Serialize};

use crate::{one_line, TrainError};

/// Applies a TOML file and `field=value` overrides on top of `base`, re-validating
/// through serde so that an unknown field or a wrongly typed value is an error naming it.
pub fn layered_config<C: Serialize + DeserializeOwned>(
    base: &C,
    file: Option<&Path>,
    sets: &[String],
) -> Result<C, TrainError> {
    let mut root = config_table(base)?;
    if let Some(path) = file {
        let file_table: toml::Table = crate::read_toml(path)?;
        for (k, v) in file_table {
            if !root.contains_key(&k) {
                return Err(TrainError::new(path, format!("unknown config field `{k}`")));
            }
            root.insert(k, v);
        }
    }
    for s in sets {
        let flag = |problem: String| TrainError {
            where_: format!("--set {s}"),
            problem,
        };
        let (k, v) = s
            .split_once('=')
            .ok_or_else(|| flag("expected FIELD=VALUE".into()))?;
        let k = k.trim();
        let Some(old) = root.get(k) else {
            return Err(flag(format!("unknown config field `{k}`")));
        };
        let parsed = toml::from_str::<toml::Table>(&format!("v = {}", v.trim()))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(v.trim().to_string()));
        // An integer given for a float field is still a number.
        root.insert(k.to_string(), as_field(old, parsed));
    }
    from_table(root)
}

/// `base` with the fields that `flags` sets: `flags` serialises to TOML (a field that is
/// `None` is left out) and each field it has replaces the config field of the same name.
/// A command's own flags (`--lr`, `--epochs`, …) are a struct of `Option`s named (or
/// renamed) after the config fields they set.
pub fn with_flags<C: Serialize + DeserializeOwned, F: Serialize>(
    base: &C,
    flags: &F,
) -> Result<C, TrainError> {
    let mut root = config_table(base)?;
    for (k, v) in config_table(flags)? {
        let Some(old) = root.get(&k) else {
            return Err(TrainError::config(
                "config",
                format!("a flag sets the unknown field `{k}`"),
            ));
        };
        root.insert(k.clone(), as_field(old, v));
    }
    from_table(root)
}

/// A new value for a field holding `old`: an integer given for a float is still a number.
fn as_field(old: &toml::Value, new: toml::Value) -> toml::Value {
    match (old, new) {
        (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(i as f64),
        (_, new) => new,
    }
}

/// The fields of a config (or of a command's flags) as a TOML table.
pub(crate) fn config_table<C: Serialize>(config: &C) -> Result<toml::Table, TrainError> {
    match toml::Value::try_from(config) {
        Ok(toml::Value::Table(t)) => Ok(t),
        Ok(_) => Err(TrainError::config("config", "not a table of fields")),
        Err(e) => Err(TrainError::config("config", e)),
    }
}

fn from_table<C: DeserializeOwned>(table: toml::Table) -> Result<C, TrainError> {
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| TrainError {
            where_: "config".into(),
            problem: one_line(&e.to_string()),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    struct Config {
        epochs: usize,
        batch_size: usize,
        learning_rate: f64,
    }

    #[derive(Serialize)]
    struct Epochs {
        epochs: Option<usize>,
        #[serde(rename = "batch_size")]
        batch: Option<usize>,
    }

    #[derive(Serialize)]
    struct Flags {
        #[serde(flatten)]
        epochs: Epochs,
        #[serde(rename = "learning_rate")]
        lr: Option<f64>,
        #[serde(skip)]
        _preset: String,
    }

    #[test]
    fn flags_set_only_the_fields_given() {
        let base = Config {
            epochs: 3,
            batch_size: 32,
            learning_rate: 0.1,
        };
        let flags = Flags {
            epochs: Epochs {
                epochs: None,
                batch: Some(64),
            },
            lr: None,
            _preset: "x".into(),
        };
        let got = with_flags(&base, &flags).unwrap();
        assert_eq!(
            got,
            Config {
                batch_size: 64,
                ..base
            }
        );
        let rate = Flags {
            epochs: Epochs {
                epochs: Some(5),
                batch: None,
            },
            lr: Some(0.5),
            _preset: String::new(),
        };
        let got = with_flags(&got, &rate).unwrap();
        assert_eq!(
            (got.epochs, got.batch_size, got.learning_rate),
            (5, 64, 0.5)
        );
    }
}
