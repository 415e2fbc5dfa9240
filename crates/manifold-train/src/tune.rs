//! Grid search: every combination of a grid of hyperparameters × several seeds; for
//! each combination the lowest-cost seed is kept.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::TrainError;

/// A grid: for each hyperparameter name, the values to try (TOML `name = [v1, v2]`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SearchGrid {
    /// Values to try, per hyperparameter name.
    #[serde(flatten)]
    pub axes: BTreeMap<String, Vec<toml::Value>>,
}

/// One point of a grid: a value for each hyperparameter.
pub type Combination = BTreeMap<String, toml::Value>;

impl SearchGrid {
    /// Every combination, in lexicographic order of the axes.
    pub fn combinations(&self) -> Vec<Combination> {
        let mut out = vec![Combination::new()];
        for (name, values) in &self.axes {
            out = out
                .into_iter()
                .flat_map(|c| {
                    values.iter().map(move |v| {
                        let mut c = c.clone();
                        c.insert(name.clone(), v.clone());
                        c
                    })
                })
                .collect();
        }
        out
    }

    /// Adds an axis written `field=v1,v2,…` (each value in TOML syntax).
    pub fn add_axis(&mut self, spec: &str) -> Result<(), TrainError> {
        let bad = |problem: String| TrainError {
            where_: format!("--axis {spec}"),
            problem,
        };
        let (k, vs) = spec
            .split_once('=')
            .ok_or_else(|| bad("expected FIELD=V1,V2".into()))?;
        let values = vs
            .split(',')
            .map(|v| {
                toml::from_str::<toml::Table>(&format!("v = {}", v.trim()))
                    .ok()
                    .and_then(|mut t| t.remove("v"))
                    .ok_or_else(|| bad(format!("`{v}` is not a value")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        self.axes.insert(k.trim().to_string(), values);
        Ok(())
    }

    /// Checks that no axis is empty.
    pub fn validate(&self) -> Result<(), TrainError> {
        if self.axes.is_empty() {
            return Err(TrainError::config("grid", "no hyperparameter to vary"));
        }
        match self.axes.iter().find(|(_, v)| v.is_empty()) {
            Some((name, _)) => Err(TrainError::config(name, "grid axis has no value")),
            None => Ok(()),
        }
    }
}

/// The outcome of one trained model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outcome {
    /// Mean test loss.
    pub cost: f64,
    /// Test accuracy in `[0, 1]`.
    pub accuracy: f64,
}

/// The best seed of one combination.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneRow {
    /// The hyperparameter values.
    pub combination: Combination,
    /// The seed with the lowest cost.
    pub best_seed: u64,
    /// Its test loss.
    pub cost: f64,
    /// Its test accuracy.
    pub accuracy: f64,
}

/// For each combination, the seed with the lowest cost (NaN costs lose).
pub fn best_per_combination(
    combos: &[Combination],
    seeds: &[u64],
    outcomes: &[Outcome],
) -> Vec<TuneRow> {
    assert_eq!(outcomes.len(), combos.len() * seeds.len());
    combos
        .iter()
        .enumerate()
        .map(|(c, combo)| {
            let (s, o) = seeds
                .iter()
                .zip(&outcomes[c * seeds.len()..(c + 1) * seeds.len()])
                .min_by(|a, b| {
                    let key = |o: &Outcome| {
                        if o.cost.is_nan() {
                            f64::INFINITY
                        } else {
                            o.cost
                        }
                    };
                    key(a.1).total_cmp(&key(b.1))
                })
                .expect("at least one seed");
            TuneRow {
                combination: combo.clone(),
                best_seed: *s,
                cost: o.cost,
                accuracy: o.accuracy,
            }
        })
        .collect()
}

/// Writes the rows as CSV: one column per hyperparameter, then seed, cost, accuracy.
pub fn write_tune_csv(path: &Path, rows: &[TuneRow]) -> Result<(), TrainError> {
    let mut w = csv::Writer::from_path(path).map_err(|e| TrainError::new(path, e))?;
    let names: Vec<String> = rows
        .first()
        .map(|r| r.combination.keys().cloned().collect())
        .unwrap_or_default();
    let mut header = names.clone();
    header.extend(["best_seed", "cost", "accuracy"].map(String::from));
    w.write_record(&header)
        .map_err(|e| TrainError::new(path, e))?;
    for r in rows {
        let mut rec: Vec<String> = names.iter().map(|n| r.combination[n].to_string()).collect();
        rec.extend([
            r.best_seed.to_string(),
            format!("{}", r.cost),
            format!("{}", r.accuracy),
        ]);
        w.write_record(&rec).map_err(|e| TrainError::new(path, e))?;
    }
    w.flush()
        .map_err(|e| TrainError::io(path, "cannot write", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid() -> SearchGrid {
        toml::from_str("lr = [0.001, 0.01]\nbatch = [16, 32, 64]").unwrap()
    }

    #[test]
    fn combinations_are_the_cartesian_product() {
        let combos = grid().combinations();
        assert_eq!(combos.len(), 6);
        assert_eq!(combos[0]["batch"], toml::Value::Integer(16));
        assert_eq!(combos[1]["lr"], toml::Value::Float(0.01));
        assert_eq!(combos[5]["batch"], toml::Value::Integer(64));
    }

    #[test]
    fn best_seed_has_the_lowest_cost_and_nan_loses() {
        let combos = grid().combinations()[..2].to_vec();
        let o = |cost, accuracy| Outcome { cost, accuracy };
        let outcomes = [o(0.5, 0.9), o(0.3, 0.8), o(f64::NAN, 0.0), o(0.9, 0.7)];
        let rows = best_per_combination(&combos, &[7, 8], &outcomes);
        assert_eq!((rows[0].best_seed, rows[0].cost), (8, 0.3));
        assert_eq!((rows[1].best_seed, rows[1].accuracy), (8, 0.7));
    }

    #[test]
    fn empty_axis_is_rejected_by_name() {
        let g: SearchGrid = toml::from_str("lr = []").unwrap();
        assert_eq!(
            g.validate().unwrap_err().to_string(),
            "config field `lr`: grid axis has no value"
        );
    }
}
