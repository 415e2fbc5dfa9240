//! `manifold bench dnm`: steps of [`manifold_dnm::train_step`] at the toy and MNIST
//! sizes with both evaluators, or (`--comps`) at MNIST with more computing neurons.

use std::path::PathBuf;

use manifold_data::Mnist;
use manifold_dnm::{time_steps, Data, DnmConfig, Evaluator, StepTiming, Task};
use manifold_train::{layered_config, write_json};
use serde::Serialize;

use super::{threads, Common};
use manifold::backend::{DeviceKind, TrainBackend};
use manifold::with_backend;

/// Flags of `manifold bench dnm`.
#[derive(clap::Args, Debug)]
pub struct BenchArgs {
    /// Timed steps per case (the median is reported), after 3 untimed warm-up steps.
    #[arg(long, default_value_t = 20)]
    steps: usize,
    /// Minibatch size.
    #[arg(long, default_value_t = 50)]
    batch: usize,
    /// Instead of the seed presets: --preset with these numbers of computing neurons
    /// (fast evaluator), e.g. 206,1000,4000,10000.
    #[arg(long, value_delimiter = ',', value_name = "N,N,…")]
    comps: Vec<usize>,
    /// The DNM preset --comps scales (large-mnist: size-aware; seed-mnist: the original's).
    #[arg(long, requires = "comps", default_value = "large-mnist")]
    preset: String,
    /// Override one field of --preset: `--set field=value` (TOML syntax for the value;
    /// repeatable), e.g. `--set precision='"f32"'`.
    #[arg(long = "set", value_name = "FIELD=VALUE", requires = "comps")]
    set: Vec<String>,
    /// Also split each step into its phases (closeness, structure, forward, loss,
    /// backward, optimiser; the device waited for after each) and report their medians.
    #[arg(long)]
    phases: bool,
    /// JSON output file.
    #[arg(long, default_value = "bench/dnm.json")]
    json: PathBuf,
    #[command(flatten)]
    common: Common,
}

/// One case: its timings, or why it could not run (a size that does not train).
#[derive(Debug, Clone, Serialize)]
struct Case {
    device: String,
    size: String,
    #[serde(flatten)]
    timing: Option<StepTiming>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

#[derive(Serialize)]
struct Report {
    benchmark: &'static str,
    threads: usize,
    /// The `--set` overrides of the preset, as given.
    set: Vec<String>,
    cases: Vec<Case>,
    /// Median fast/reference speed-up per device at the MNIST size.
    mnist_speedup: Vec<(String, f64)>,
}

/// The cases of one backend: (size name, config) pairs.
fn run<B: TrainBackend>(
    cases: &[(String, DnmConfig)],
    steps: usize,
    phases: bool,
    mnist: &Mnist,
    device: B::Device,
    name: &str,
) -> anyhow::Result<Vec<Case>> {
    let mut out = Vec::new();
    for (size, config) in cases {
        let data = match config.task {
            Task::Toy => Data::Toy,
            Task::Mnist | Task::RowMnist => Data::Mnist(mnist.clone()),
            Task::Adding => Data::Adding,
        };
        let (timing, error) = match time_steps::<B>(config, &data, steps, 3, phases, &device) {
            Ok(t) => {
                let visited = t
                    .visited
                    .map_or(String::new(), |v| format!(", closeness visits {v}"));
                eprintln!(
                    "  {name} {size} {}: {:.2} ms/step (depth {}, {} kept of {} grid cells{visited})",
                    t.evaluator, t.median_step_ms, t.depth, t.kept, t.grid_cells
                );
                (Some(t), None)
            }
            // A --comps size that does not train is a result too; the others still run.
            Err(e) if size.starts_with("comps") => {
                eprintln!("  {name} {size}: {e}");
                (None, Some(e.to_string()))
            }
            Err(e) => return Err(e.into()),
        };
        out.push(Case {
            device: name.into(),
            size: size.clone(),
            timing,
            error,
        });
    }
    Ok(out)
}

/// `manifold bench dnm`.
pub fn bench(args: BenchArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(args.steps > 0, "--steps must be at least 1");
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    anyhow::ensure!(
        !args.comps.contains(&0),
        "--comps: every size must be at least 1"
    );
    let mnist = args.common.mnist()?;
    let mut configs: Vec<(String, DnmConfig)> = Vec::new();
    if args.comps.is_empty() {
        for (size, base) in [
            ("toy", DnmConfig::seed_toy()),
            ("mnist", DnmConfig::seed_mnist()),
        ] {
            for evaluator in [Evaluator::Fast, Evaluator::Reference] {
                configs.push((size.into(), base.clone().with_evaluator(evaluator)));
            }
        }
    } else {
        let base = layered_config(&DnmConfig::preset(&args.preset)?, None, &args.set)?;
        configs.extend(
            args.comps
                .iter()
                .map(|&c| (format!("comps{c}"), base.clone().with_comps(c))),
        );
    }
    for (_, c) in &mut configs {
        c.batch_size = args.batch;
    }
    let mut cases = Vec::new();
    for d in args.common.devices(device) {
        cases.extend(with_backend!(d, |B, device, name| {
            run::<B>(&configs, args.steps, args.phases, &mnist, device, name)
        })?);
    }
    let timed = || {
        cases
            .iter()
            .filter_map(|c| c.timing.as_ref().map(|t| (c, t)))
    };
    let find = |device: &str, evaluator: &str| {
        timed().find(|(c, t)| c.size == "mnist" && c.device == device && t.evaluator == evaluator)
    };
    let mnist_speedup = timed()
        .filter(|(c, t)| c.size == "mnist" && t.evaluator == "fast")
        .filter_map(|(c, f)| {
            find(&c.device, "reference")
                .map(|(_, r)| (c.device.clone(), r.median_step_ms / f.median_step_ms))
        })
        .collect();
    let report = Report {
        benchmark:
            "dnm training step (closeness, forward, backward, Adam), median ms; peak host memory",
        threads: threads(),
        set: args.set.clone(),
        cases,
        mnist_speedup,
    };
    write_json(&args.json, &report)?;
    for c in &report.cases {
        match (&c.timing, &c.error) {
            (Some(t), _) => {
                println!(
                    "dnm bench {} {} (N = {}, batch {}) {}: {:.2} ms/step, peak {}",
                    c.device,
                    c.size,
                    t.neurons,
                    t.batch,
                    t.evaluator,
                    t.median_step_ms,
                    t.peak_rss_bytes
                        .map_or("–".into(), |b| format!("{:.0} MB", b as f64 / 1e6))
                );
                if let Some(split) = &t.phase_ms {
                    let parts: Vec<String> = split
                        .iter()
                        .map(|(p, ms)| format!("{} {ms:.2}", p.name()))
                        .collect();
                    println!("  phases (median ms): {}", parts.join(", "));
                }
            }
            (None, e) => println!(
                "dnm bench {} {}: {}",
                c.device,
                c.size,
                e.as_deref().unwrap_or("")
            ),
        }
    }
    println!("— {}", args.json.display());
    Ok(())
}
