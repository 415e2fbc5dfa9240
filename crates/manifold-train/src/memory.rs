//! The process's peak resident memory, for benchmarks (Linux's `/proc`; `None` elsewhere).

/// Resets the peak resident memory (Linux: `5` into `/proc/self/clear_refs`).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident memory in bytes since the last reset (`VmHWM`), where the OS says.
pub fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Memory the OS can still give this process (`MemAvailable`), where it says.
pub fn available_bytes() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Refuses a config whose estimated memory (`bytes`, from the sizes in `field`) exceeds
/// what the machine has available, instead of an abort partway through allocating it.
/// Where the OS does not say, everything passes.
pub fn check_fits(field: &str, bytes: f64) -> Result<(), crate::TrainError> {
    match available_bytes() {
        Some(free) if bytes > free as f64 => Err(crate::TrainError::config(
            field,
            format!(
                "needs about {:.1} GB of memory, the machine has {:.1} GB available",
                bytes / 1e9,
                free as f64 / 1e9
            ),
        )),
        _ => Ok(()),
    }
}

/// [`check_fits`] for an estimate in parts: the model's own memory (`model` bytes, sized
/// by the config field `model_field`) plus the larger of a training step's batch (`step`)
/// and an evaluation batch (`evaluation`), which are not held at once. A refusal names
/// `batch_size` where the step's batch is the larger term, and `model_field` otherwise
/// (the evaluation's batches do not depend on `batch_size`).
pub fn check_model_and_batch_fit(
    model_field: &str,
    model: f64,
    step: f64,
    evaluation: f64,
) -> Result<(), crate::TrainError> {
    let batch = step.max(evaluation);
    let field = if batch > model && step >= evaluation {
        "batch_size"
    } else {
        model_field
    };
    check_fits(field, model + batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Far beyond any machine: the refusal names the field of the largest term (where the
    /// OS says what is available, as Linux does).
    #[test]
    fn a_refusal_names_the_field_of_the_largest_term() {
        if available_bytes().is_none() {
            return;
        }
        let refusal = |model, step, evaluation| {
            check_model_and_batch_fit("hidden", model, step, evaluation)
                .unwrap_err()
                .to_string()
        };
        let names = |message: String, field: &str| {
            message.starts_with(&format!("config field `{field}`: needs about"))
        };
        assert!(names(refusal(1e30, 1e3, 1e3), "hidden"));
        assert!(names(refusal(1e3, 1e30, 1e3), "batch_size"));
        assert!(names(refusal(1e3, 1e3, 1e30), "hidden"));
        assert!(check_model_and_batch_fit("hidden", 1e3, 1e3, 1e3).is_ok());
    }
}
