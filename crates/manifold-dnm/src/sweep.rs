//! The λ_sparse sweep: the same preset trained at several density weights, one row per
//! run (the accuracy–density curve), written as `sweep.csv` and `sweep.png`.

use std::path::Path;

use manifold_train::{progress_bar, write_atomic, Silent, TrainError};
use manifold_viz::{scatter_chart, Series};

use crate::kernels::DnmAutodiffBackend;
use crate::{train, Data, DnmConfig};

/// One run of a sweep: λ_sparse, true density, test accuracy (MNIST) or MSE (toy), loss.
pub type SweepRow = (f64, f64, Option<f64>, Option<f64>, f64);

/// Trains each config silently and returns a row per run that finished (a diverged λ is
/// reported on stderr and skipped, so one failure does not lose the others).
pub fn run<B: DnmAutodiffBackend>(
    configs: &[DnmConfig],
    data: &Data,
    device: &B::Device,
) -> Result<Vec<SweepRow>, TrainError> {
    let bar = progress_bar(configs.len() as u64, "sweep");
    let mut rows = Vec::new();
    for c in configs {
        match train::<B>(c, data, device, &mut Silent) {
            Ok(t) => {
                let density = t.summary.extra["density"].as_f64().unwrap_or(f64::NAN);
                let e = t.evaluation;
                rows.push((c.lambda_sparse, density, e.accuracy, e.mse, e.loss));
            }
            Err(e) => bar.println(format!("λ_sparse = {}: skipped: {e}", c.lambda_sparse)),
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    if rows.is_empty() {
        return Err(TrainError::config(
            "lambda_sparse",
            "every run of the sweep failed",
        ));
    }
    Ok(rows)
}

/// The rows of an earlier `sweep.csv`.
pub fn read_csv(path: &Path) -> Result<Vec<SweepRow>, TrainError> {
    let text = std::fs::read_to_string(path).map_err(|e| TrainError::io(path, "cannot read", e))?;
    let bad = |line: &str| TrainError::new(path, format!("`{line}` is not a sweep row"));
    let num = |f: &str, line: &str| -> Result<Option<f64>, TrainError> {
        match f {
            "" => Ok(None),
            f => f.parse().map(Some).map_err(|_| bad(line)),
        }
    };
    let mut rows = Vec::new();
    for line in text.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 5 {
            return Err(bad(line));
        }
        let need = |i: usize| num(f[i], line)?.ok_or_else(|| bad(line));
        rows.push((
            need(0)?,
            need(1)?,
            num(f[2], line)?,
            num(f[3], line)?,
            need(4)?,
        ));
    }
    Ok(rows)
}

/// Writes `sweep.csv` and `sweep.png` (one colour per λ) into `out`, and prints a line
/// per row.
pub fn write(out: &Path, rows: &[SweepRow], mnist: bool) -> Result<(), TrainError> {
    std::fs::create_dir_all(out).map_err(|e| TrainError::io(out, "cannot create", e))?;
    let mut text = String::from("lambda_sparse,density,test_accuracy,test_mse,test_loss\n");
    let mut series = Vec::new();
    for &(l, density, acc, mse, loss) in rows {
        let score = acc.map(|a| 100.0 * a).or(mse).unwrap_or(f64::NAN);
        let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
        text += &format!("{l},{density},{},{},{loss}\n", opt(acc), opt(mse));
        series.push(Series::new(
            format!("λ = {l}"),
            vec![(100.0 * density, score)],
        ));
        println!(
            "λ_sparse {l}: density {:.2}%, score {score:.3}",
            100.0 * density
        );
    }
    let csv = out.join("sweep.csv");
    write_atomic(&csv, text.as_bytes())?;
    let y = if mnist {
        "test accuracy (%)"
    } else {
        "test MSE"
    };
    let png = out.join("sweep.png");
    let title = "DNM accuracy against density (λ_sparse sweep)";
    scatter_chart(&png, title, "density (%)", y, &series)?;
    println!("— {} and {}", csv.display(), png.display());
    Ok(())
}
