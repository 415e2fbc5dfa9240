//! Progress bars (indicatif) and Ctrl-C handling shared by every long command.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Once;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar of `len` steps with a message slot; hidden when stderr is not a terminal.
pub fn progress_bar(len: u64, prefix: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {wide_bar} {pos}/{len} {msg} (eta {eta})",
        )
        .expect("static template")
        .progress_chars("=> "),
    );
    bar.set_prefix(prefix.to_string());
    bar
}

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static HANDLER: Once = Once::new();

/// Installs the Ctrl-C handler (once): the first Ctrl-C asks the training loop to stop
/// at the next step boundary, save a checkpoint and a summary; a second one exits at once.
pub fn install_interrupt_handler() {
    HANDLER.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            if INTERRUPTED.swap(true, Ordering::SeqCst) {
                std::process::exit(130);
            }
            eprintln!("\ninterrupt: finishing the current step and saving a checkpoint (Ctrl-C again to quit now)");
        });
    });
}

/// True once Ctrl-C was pressed.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::SeqCst)
}

/// Marks the process as interrupted (what Ctrl-C does; for tests).
pub fn request_interrupt() {
    INTERRUPTED.store(true, Ordering::SeqCst);
}
