//! [`ModelConfig`]: what a [`Run`](crate::Run) needs of a model's config, and the check
//! that a resumed run keeps the config its checkpoint was made with.

use serde::{de::DeserializeOwned, Serialize};

use crate::overrides::config_table;
use crate::TrainError;

/// A model's configuration as a run records it in `config.toml`.
pub trait ModelConfig: Serialize + DeserializeOwned + Clone {
    /// The fields a resumed run may change (the end point, the learning rate, how often
    /// it evaluates). Every other field fixes shapes, data order or the position in an
    /// epoch, and must stay as the run's `config.toml` has it.
    const RESUMABLE: &'static [&'static str];

    /// Rejects impossible values before any work, naming the field.
    fn validate(&self) -> Result<(), TrainError>;

    /// Sets the seed of initialisation and data order.
    fn set_seed(&mut self, seed: u64);

    /// The config whose values fill the fields a saved `config.toml` lacks (a run made
    /// before a field existed): every field's default, which keeps the behaviour from
    /// before the field was added. See [`crate::read_toml_over`].
    fn defaults() -> Self;
}

/// One field a resumed run changes: its name, the saved value and the new one (as TOML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Change {
    /// The config field.
    pub field: String,
    /// Its value in the run's `config.toml`.
    pub from: String,
    /// Its value from now on.
    pub to: String,
}

/// The fields in which `new` differs from `saved`; an error naming the first field that
/// is not [`ModelConfig::RESUMABLE`].
pub fn resume_changes<C: ModelConfig>(saved: &C, new: &C) -> Result<Vec<Change>, TrainError> {
    let (saved, new) = (config_table(saved)?, config_table(new)?);
    let show = |v: Option<&toml::Value>| v.map_or("(none)".to_string(), |v| v.to_string());
    let mut fields: Vec<&String> = saved.keys().chain(new.keys()).collect();
    fields.sort();
    fields.dedup();
    let mut changes = Vec::new();
    for field in fields {
        let (from, to) = (saved.get(field), new.get(field));
        if from == to {
            continue;
        }
        let change = Change {
            field: field.clone(),
            from: show(from),
            to: show(to),
        };
        if !C::RESUMABLE.contains(&field.as_str()) {
            return Err(TrainError::config(
                field,
                format!(
                    "cannot change on --resume ({} in the run, {} now); a resumed run may change only {}",
                    change.from,
                    change.to,
                    C::RESUMABLE.join(", ")
                ),
            ));
        }
        changes.push(change);
    }
    Ok(changes)
}

/// A config for this crate's tests: `epochs` may change on resume, `hidden` not.
#[cfg(test)]
#[derive(Debug, Serialize, serde::Deserialize, Clone)]
pub(crate) struct Demo {
    pub epochs: usize,
    pub hidden: Vec<usize>,
}

#[cfg(test)]
impl ModelConfig for Demo {
    const RESUMABLE: &'static [&'static str] = &["epochs"];
    fn validate(&self) -> Result<(), TrainError> {
        Ok(())
    }
    fn set_seed(&mut self, _: u64) {}
    fn defaults() -> Self {
        Self {
            epochs: 1,
            hidden: vec![4],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_resumable_fields_may_change() {
        let saved = Demo {
            epochs: 3,
            hidden: vec![16, 16],
        };
        assert_eq!(resume_changes(&saved, &saved.clone()).unwrap(), vec![]);
        let longer = Demo {
            epochs: 5,
            ..saved.clone()
        };
        assert_eq!(
            resume_changes(&saved, &longer).unwrap(),
            vec![Change {
                field: "epochs".into(),
                from: "3".into(),
                to: "5".into()
            }]
        );
        let wider = Demo {
            hidden: vec![32],
            ..saved.clone()
        };
        let err = resume_changes(&saved, &wider).unwrap_err().to_string();
        assert_eq!(
            err,
            "config field `hidden`: cannot change on --resume ([16, 16] in the run, [32] now); a resumed run may change only epochs"
        );
    }
}
