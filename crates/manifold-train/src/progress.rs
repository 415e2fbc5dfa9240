//! The progress bar (indicatif) every long command shows.

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
