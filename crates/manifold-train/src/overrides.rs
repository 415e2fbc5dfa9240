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
    let bad = |problem: &str| TrainError::config("config", problem);
    let mut table = toml::Value::try_from(base).map_err(|e| bad(&e.to_string()))?;
    let root = table
        .as_table_mut()
        .ok_or_else(|| bad("not a table of fields"))?;
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
        let parsed = match (old, parsed) {
            (toml::Value::Float(_), toml::Value::Integer(i)) => toml::Value::Float(i as f64),
            (_, p) => p,
        };
        root.insert(k.to_string(), parsed);
    }
    table.try_into().map_err(|e: toml::de::Error| TrainError {
        where_: "config".into(),
        problem: one_line(&e.to_string()),
    })
}
