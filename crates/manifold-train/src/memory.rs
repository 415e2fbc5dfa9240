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
