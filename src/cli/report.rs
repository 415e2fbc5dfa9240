//! `manifold report`: a run's `report.html`, or several runs compared on one page.

use std::path::PathBuf;

use clap::Args;

#[derive(Args, Debug)]
pub struct ReportArgs {
    /// Run directories: each gets its report.html (re)written (refused while another
    /// process holds the run); with --compare, one page for all (reading only).
    #[arg(required = true, value_name = "RUN_DIR")]
    dirs: Vec<PathBuf>,
    /// Put the runs side by side on one page: accuracy against connections and wall time.
    #[arg(long)]
    compare: bool,
    /// The comparison page's file; its table (`.csv`) and accuracy chart (`.png`) go
    /// beside it under the same name.
    #[arg(long, requires = "compare", default_value = "compare.html")]
    out: PathBuf,
    /// Replace an existing --out file.
    #[arg(long, requires = "compare")]
    force: bool,
}

pub fn run(a: ReportArgs) -> anyhow::Result<()> {
    if !a.compare {
        for dir in &a.dirs {
            // A run another process is writing is its own until it ends: the report is
            // written under the run's lock.
            let _lock = manifold_train::RunLock::acquire_run(dir)?;
            println!("{}", manifold_report::write_run_report(dir)?.display());
        }
        return Ok(());
    }
    for file in manifold_report::comparison_files(&a.out) {
        if file.exists() && !a.force {
            anyhow::bail!(
                "{}: exists; choose another --out, or replace it with --force",
                file.display()
            );
        }
    }
    let page = manifold_report::write_comparison(&a.dirs, &a.out)?;
    println!("{} runs compared: {}", a.dirs.len(), page.display());
    Ok(())
}
