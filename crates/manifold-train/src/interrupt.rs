//! Stopping a run from outside its loop, as a value handed to the run (like
//! burn-train's `Interrupter`), never a global read inside model code.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A shared stop flag: [`Interrupter::stop`] from anywhere, [`Interrupter::should_stop`]
/// in the loop. Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Interrupter(Arc<AtomicBool>);

/// The interrupter Ctrl-C stops (one per process: the OS handler is installed once).
static CTRL_C: Mutex<Option<Interrupter>> = Mutex::new(None);

impl Interrupter {
    /// A fresh flag, not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop at its next step boundary.
    pub fn stop(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// True once [`Interrupter::stop`] was called.
    pub fn should_stop(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// The process's Ctrl-C interrupter: the first Ctrl-C sets it (the run finishes its
    /// step, saves a checkpoint and a summary); a second one exits at once with code 130.
    pub fn on_ctrl_c() -> Self {
        let mut slot = CTRL_C.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = slot.as_ref() {
            return i.clone();
        }
        let interrupter = Interrupter::new();
        let flag = interrupter.clone();
        let first = std::sync::OnceLock::<std::time::Instant>::new();
        let _ = ctrlc::set_handler(move || {
            // A second interrupt quits at once, unless it comes with the first (as
            // `timeout -s INT` and some terminals deliver two): then the run still
            // finishes its step and saves its checkpoint.
            if let Some(at) = first.get() {
                if at.elapsed() > std::time::Duration::from_secs(1) {
                    std::process::exit(130);
                }
                return;
            }
            let _ = first.set(std::time::Instant::now());
            flag.stop();
            eprintln!(
                "\ninterrupt: finishing the current step and saving a checkpoint (Ctrl-C again to quit now)"
            );
        });
        *slot = Some(interrupter.clone());
        interrupter
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let a = Interrupter::new();
        let b = a.clone();
        assert!(!b.should_stop());
        a.stop();
        assert!(b.should_stop());
        assert!(!Interrupter::new().should_stop());
    }
}
