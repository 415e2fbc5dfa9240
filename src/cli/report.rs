//! `manifold report`: a run's `report.html`, or several runs compared on one page.

use std::path::{Path, PathBuf};

use burn::module::AutodiffModule;
use clap::Args;
use manifold::backend::DeviceKind;
use manifold::with_backend;
use manifold_dnm::{Data, Dnm, DnmConfig, Task};

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
    /// For a finished DNM run on a sequence task: first redraw its state-over-time.png
    /// (the carry state and the cell states at every time step) for test sequence I.
    #[arg(long, value_name = "I", conflicts_with = "compare")]
    sequence: Option<usize>,
    /// MNIST directory for --sequence on row-sequential MNIST (default: $MNIST_DIR, else
    /// the shipped assets/mnist).
    #[arg(long, value_name = "DIR", requires = "sequence")]
    data_dir: Option<PathBuf>,
}

/// The DNM config of a run: its `config.toml` over the defaults, so that a run made
/// before a field existed reads with that field's default.
fn run_config(path: &Path) -> anyhow::Result<DnmConfig> {
    Ok(manifold_train::read_toml_over(path, &DnmConfig::new())?)
}

/// Redraws `state-over-time.png` of the DNM run in `dir` for test sequence `index`.
fn state_picture(
    dir: &Path,
    index: usize,
    data_dir: Option<&Path>,
    device: DeviceKind,
) -> anyhow::Result<PathBuf> {
    let files = manifold_report::RunFiles::read(dir)?;
    if files.model != "dnm" {
        anyhow::bail!(
            "{}: --sequence needs a DNM run (this is a {} run)",
            dir.display(),
            files.model
        );
    }
    let config_path = dir.join("config.toml");
    let config = run_config(&config_path)?;
    let data = match config.task {
        Task::RowMnist => Data::Mnist(manifold_data::Mnist::load_default(data_dir)?),
        Task::Adding => Data::Adding,
        _ => anyhow::bail!(
            "{}: field `task`: --sequence needs a sequence task (task = \"row-mnist\" or \"adding\")",
            config_path.display()
        ),
    };
    if !dir.join("model.mpk").is_file() {
        anyhow::bail!(
            "{}: no model.mpk (the run has not finished); --sequence reads the trained model",
            dir.display()
        );
    }
    with_backend!(device, |B, device, _name| {
        let model = manifold_train::load_module(
            Dnm::<B>::new(&config, &device),
            &dir.join("model"),
            &device,
        )?;
        Ok(manifold_dnm::write_state_picture(
            dir,
            &model.valid(),
            &config,
            &data,
            index,
            &device,
        )?)
    })
}

pub fn run(a: ReportArgs, device: DeviceKind) -> anyhow::Result<()> {
    if !a.compare {
        for dir in &a.dirs {
            // A run another process is writing is its own until it ends: the report is
            // written under the run's lock.
            let _lock = manifold_train::RunLock::acquire_run(dir)?;
            if let Some(index) = a.sequence {
                println!(
                    "{}",
                    state_picture(dir, index, a.data_dir.as_deref(), device)?.display()
                );
            }
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
