//! `manifold bench dnm`: steps of [`manifold_dnm::train_step`] at the toy and MNIST
//! sizes, with both evaluators.

use std::path::PathBuf;
use std::time::Instant;

use manifold_data::Mnist;
use manifold_dnm::{adam, train_step, Data, Dnm, DnmConfig, Evaluator, Grid, StepReport, Task};
use manifold_train::{median, write_json};
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
    /// JSON output file.
    #[arg(long, default_value = "bench/dnm.json")]
    json: PathBuf,
    #[command(flatten)]
    common: Common,
}

#[derive(Debug, Clone, Serialize)]
struct Case {
    device: String,
    size: String,
    neurons: usize,
    evaluator: String,
    batch: usize,
    depth: usize,
    density: f64,
    step_ms: Vec<f64>,
    median_step_ms: f64,
    steps_per_second: f64,
}

#[derive(Serialize)]
struct Report {
    benchmark: &'static str,
    threads: usize,
    cases: Vec<Case>,
    /// Median fast/reference speed-up per device at the MNIST size.
    mnist_speedup: Vec<(String, f64)>,
}

struct BenchJob<'a> {
    steps: usize,
    batch: usize,
    mnist: &'a Mnist,
}

impl BenchJob<'_> {
    /// The median step time of one preset and evaluator.
    fn case<B: TrainBackend>(
        &self,
        config: &DnmConfig,
        size: &str,
        device: &B::Device,
        name: &str,
    ) -> anyhow::Result<Case> {
        let data = match config.task {
            Task::Toy => Data::Toy,
            Task::Mnist => Data::Mnist(self.mnist.clone()),
        };
        B::seed(device, 0);
        let grid = Grid::<B>::of(config, device);
        let mut model = Dnm::<B>::new(config, device);
        let mut optim = adam::<B>();
        let mut times = Vec::new();
        let mut last = StepReport::default();
        for step in 0..self.steps + 3 {
            let t = Instant::now();
            let (m, r) = train_step(model, &mut optim, config, &grid, &data, step, 0.0, device)
                .map_err(|(_, e)| anyhow::anyhow!("bench: {e}"))?;
            B::sync(device)?;
            model = m;
            last = r;
            if step >= 3 {
                times.push(t.elapsed().as_secs_f64() * 1e3);
            }
        }
        let med = median(&times);
        let evaluator = format!("{:?}", config.evaluator).to_lowercase();
        eprintln!(
            "  {name} {size} {evaluator}: {med:.2} ms/step (depth {})",
            last.depth
        );
        Ok(Case {
            device: name.into(),
            size: size.into(),
            neurons: config.neurons,
            evaluator,
            batch: config.batch_size,
            depth: last.depth,
            density: last.density,
            step_ms: times,
            median_step_ms: med,
            steps_per_second: 1e3 / med,
        })
    }
}

impl BenchJob<'_> {
    /// Runs the bench on backend `B`.
    fn run<B: TrainBackend>(
        self,
        device: B::Device,
        name: &'static str,
    ) -> anyhow::Result<Vec<Case>> {
        let mut cases = Vec::new();
        for (size, base) in [
            ("toy", DnmConfig::seed_toy()),
            ("mnist", DnmConfig::seed_mnist()),
        ] {
            for evaluator in [Evaluator::Fast, Evaluator::Reference] {
                let config = base
                    .clone()
                    .with_evaluator(evaluator)
                    .with_batch_size(self.batch);
                cases.push(self.case::<B>(&config, size, &device, name)?);
            }
        }
        Ok(cases)
    }
}

/// `manifold bench dnm`.
pub fn bench(args: BenchArgs, device: DeviceKind) -> anyhow::Result<()> {
    anyhow::ensure!(args.steps > 0, "--steps must be at least 1");
    anyhow::ensure!(args.batch > 0, "--batch must be at least 1");
    let mnist = args.common.mnist()?;
    let mut cases = Vec::new();
    for d in args.common.devices(device) {
        let job = BenchJob {
            steps: args.steps,
            batch: args.batch,
            mnist: &mnist,
        };
        cases.extend(with_backend!(d, |B, device, name| {
            job.run::<B>(device, name)
        })?);
    }
    let find = |device: &str, evaluator: &str| {
        cases
            .iter()
            .find(|c| c.size == "mnist" && c.device == device && c.evaluator == evaluator)
    };
    let mnist_speedup = cases
        .iter()
        .filter(|c| c.size == "mnist" && c.evaluator == "fast")
        .filter_map(|f| {
            find(&f.device, "reference")
                .map(|r| (f.device.clone(), r.median_step_ms / f.median_step_ms))
        })
        .collect();
    let report = Report {
        benchmark:
            "dnm training step (closeness, forward, backward, Adam), seed presets, median ms",
        threads: threads(),
        cases,
        mnist_speedup,
    };
    write_json(&args.json, &report)?;
    for c in &report.cases {
        println!(
            "dnm bench {} {} (N = {}) {}: {:.2} ms/step, {:.1} steps/s",
            c.device, c.size, c.neurons, c.evaluator, c.median_step_ms, c.steps_per_second
        );
    }
    println!("— {}", args.json.display());
    Ok(())
}
