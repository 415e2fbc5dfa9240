//! Stopping a run from outside its loop, as a value handed to the run (like
//! burn-train's `Interrupter`), never a global read inside model code.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex};

/// A shared stop flag: [`Interrupter::stop`] from anywhere, [`Interrupter::should_stop`]
/// in the loop. Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Interrupter(Arc<AtomicI32>);

/// The flag's value once [`Interrupter::stop`] was called without a signal.
const STOPPED: i32 = -1;

/// The signals [`Interrupter::on_signals`] turns into a clean stop: Ctrl-C (`SIGINT`),
/// `SIGTERM` (`kill`, `timeout`, container stops, batch schedulers at their time limit),
/// `SIGHUP` (the terminal closed) and `SIGUSR1` (a batch scheduler's advance warning, as
/// Slurm's `--signal=B:USR1@120` sends it).
pub const STOP_SIGNALS: [i32; 4] = [
    signal_hook::consts::SIGINT,
    signal_hook::consts::SIGTERM,
    signal_hook::consts::SIGHUP,
    signal_hook::consts::SIGUSR1,
];

/// The interrupter the process's signals stop (one per process: the handler is installed
/// once).
static ON_SIGNALS: Mutex<Option<Interrupter>> = Mutex::new(None);

impl Interrupter {
    /// A fresh flag, not set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop at its next step boundary.
    pub fn stop(&self) {
        let _ = self
            .0
            .compare_exchange(0, STOPPED, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// Asks the run to stop because signal `signal` arrived (the first reason is kept).
    pub fn stop_by_signal(&self, signal: i32) {
        let _ = self
            .0
            .compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
    }

    /// True once [`Interrupter::stop`] or [`Interrupter::stop_by_signal`] was called.
    pub fn should_stop(&self) -> bool {
        self.0.load(Ordering::SeqCst) != 0
    }

    /// The signal that stopped the run, when a signal did.
    pub fn signal(&self) -> Option<i32> {
        Some(self.0.load(Ordering::SeqCst)).filter(|&s| s > 0)
    }

    /// The exit code of a process this interrupter stopped: `128 + signal` as shells
    /// report a signal's death (130 for Ctrl-C, 143 for `SIGTERM`, 129 for `SIGHUP`,
    /// 138 for `SIGUSR1`), 130 when it was stopped without a signal.
    pub fn exit_code(&self) -> u8 {
        (128 + self.signal().unwrap_or(signal_hook::consts::SIGINT)) as u8
    }

    /// The process's signal interrupter. The first of [`STOP_SIGNALS`] sets it: the run
    /// finishes its step, saves a checkpoint, its summary and its report, and the
    /// command exits with [`Interrupter::exit_code`]. A second signal more than a second
    /// later exits at once with `128 + signal` (the checkpoint on disk stays whole: it is
    /// swapped in by renames). Where the handler cannot be installed, the signals keep
    /// their default action.
    pub fn on_signals() -> Self {
        let mut slot = ON_SIGNALS.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = slot.as_ref() {
            return i.clone();
        }
        let interrupter = Interrupter::new();
        if let Ok(mut signals) = signal_hook::iterator::Signals::new(STOP_SIGNALS) {
            let flag = interrupter.clone();
            std::thread::spawn(move || {
                let mut first: Option<std::time::Instant> = None;
                for signal in signals.forever() {
                    match first {
                        // Two at once (`timeout -s INT`, some terminals): the run still
                        // finishes its step and saves its checkpoint.
                        Some(at) if at.elapsed() <= std::time::Duration::from_secs(1) => {}
                        Some(_) => std::process::exit(128 + signal),
                        None => {
                            first = Some(std::time::Instant::now());
                            flag.stop_by_signal(signal);
                            eprintln!(
                                "\n{}: finishing the current step and saving a checkpoint (a second signal quits now)",
                                name(signal)
                            );
                        }
                    }
                }
            });
        }
        *slot = Some(interrupter.clone());
        interrupter
    }
}

/// A signal's usual name.
pub fn name(signal: i32) -> String {
    use signal_hook::consts::*;
    match signal {
        SIGINT => "interrupt (SIGINT)".into(),
        SIGTERM => "SIGTERM".into(),
        SIGHUP => "SIGHUP".into(),
        SIGUSR1 => "SIGUSR1".into(),
        s => format!("signal {s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag_and_the_first_reason_is_kept() {
        let a = Interrupter::new();
        let b = a.clone();
        assert!(!b.should_stop());
        assert_eq!(b.signal(), None);
        a.stop_by_signal(signal_hook::consts::SIGTERM);
        a.stop_by_signal(signal_hook::consts::SIGINT);
        assert!(b.should_stop());
        assert_eq!(b.signal(), Some(15));
        assert_eq!(b.exit_code(), 143);
        let c = Interrupter::new();
        c.stop();
        c.stop_by_signal(signal_hook::consts::SIGHUP);
        assert_eq!((c.signal(), c.exit_code()), (None, 130));
        assert!(!Interrupter::new().should_stop());
    }
}
