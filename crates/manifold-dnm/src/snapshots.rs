//! `snapshots.bin`: the DNM's closeness matrix `D` over a run, stored as its kept cells.
//!
//! A dense frame of `D` at N = 1 000 neurons is 216 × 990 cells; a run keeps ≈ 3% of
//! them. A snapshot therefore stores the kept cells only, each as a varint gap to the
//! previous kept cell (row-major over the receivers × senders grid) and an `i8` value
//! in units of the snapshot's largest |D|, plus the seven shape parameters of every
//! receiving neuron and the cutoff, so that a reader can redraw each neuron's
//! closeness function. All numbers are little-endian.
//!
//! ```text
//! header   "MFDSNAP1"  u32 inputs  u32 comps  u32 outputs  u32 window  f64 period
//! record   u32 length of what follows
//!          u32 step  f32 cutoff c  f32 max|D|
//!          f32 × 7R  α' β' γ' θ' φ σ' μ, R values each (R = comps + outputs)
//!          u32 K  K varint gaps (first: the first cell's index)  K × i8 values
//! ```
//!
//! A stored value is `round(127 · D / max|D|)` (never 0 for a kept cell), so the file
//! shows which cells are kept exactly and their strengths to within 0.4% of the largest.
//! Records are appended as a run goes; a run killed mid-append leaves a torn tail, which
//! [`SnapshotLog::open`] cuts off before appending. A resumed run checks the file first
//! without writing ([`SnapshotLog::check`]), then cuts it back to the records of its
//! checkpoint's step and earlier ([`SnapshotLog::open_through`]); in files written before
//! that cut existed, a step recorded again supersedes the records from that step on (see
//! [`Snapshots::read`]). The fourth header number is the gaussian window's form (0
//! line, 1 patch, 2 patches: [`crate::Window`]): any other value, a header cut short, a size of 0 or
//! a period that is not a positive number make the file "damaged", for resumes and
//! reports alike.

use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use manifold_train::TrainError;

use crate::{Geometry, Window};

const MAGIC: &[u8; 8] = b"MFDSNAP1";
const HEADER_LEN: usize = 32;
/// The largest grid a file may declare: 2²⁸ cells (a dense `D` of 1 GiB in f32; the
/// DNM at N = 10 000 has 1.1 · 10⁸).
const MAX_CELLS: usize = 1 << 28;

/// The header's code of a window form.
fn window_code(window: Window) -> usize {
    match window {
        Window::Line => 0,
        Window::Patch => 1,
        Window::Patches => 2,
    }
}

/// The file's header: the magic, the grid's three sizes, the window's code and the period.
fn header(geometry: &Geometry) -> Vec<u8> {
    let mut h = Vec::with_capacity(HEADER_LEN);
    h.extend_from_slice(MAGIC);
    let window = window_code(geometry.window);
    for v in [geometry.inputs, geometry.comps, geometry.outputs, window] {
        h.extend_from_slice(&(v as u32).to_le_bytes());
    }
    h.extend_from_slice(&geometry.period.to_le_bytes());
    h
}

/// The transformed shape parameters of the receiving neurons, `R` values each, as the
/// DNM's closeness functions use them (`α' = 2σ(α) − 1`, `β' = β + 1`, `γ' = σ(γ)`,
/// `θ' = softplus(θ)/ln 2`, `φ`, `σ' = softplus(σ)`, `μ`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NeuronShapes {
    /// Amplitude α'.
    pub alpha: Vec<f32>,
    /// Exponent β'.
    pub beta: Vec<f32>,
    /// Shift γ'.
    pub gamma: Vec<f32>,
    /// Period factor θ'.
    pub theta: Vec<f32>,
    /// Phase φ.
    pub phi: Vec<f32>,
    /// Gaussian width σ'.
    pub sigma: Vec<f32>,
    /// Gaussian centre μ.
    pub mu: Vec<f32>,
}

impl NeuronShapes {
    fn families(&self) -> [&Vec<f32>; 7] {
        [
            &self.alpha,
            &self.beta,
            &self.gamma,
            &self.theta,
            &self.phi,
            &self.sigma,
            &self.mu,
        ]
    }
}

/// One recorded state of the manifold.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The training step it was recorded after.
    pub step: u32,
    /// The cutoff `c = sigmoid(κ)`.
    pub cutoff: f32,
    /// Every receiving neuron's shape parameters.
    pub shapes: NeuronShapes,
    /// `D`, `R × C` row-major (zeros where a cell is cut or not allowed).
    pub d: Vec<f32>,
}

/// Appends snapshots to a `snapshots.bin`.
pub struct SnapshotLog {
    path: PathBuf,
    file: File,
    geometry: Geometry,
}

fn io(path: &Path, what: &str, e: std::io::Error) -> TrainError {
    TrainError::new(path, format!("{what}: {e}"))
}

impl SnapshotLog {
    /// Checks `path` without writing anything, and says how many of its bytes a run that
    /// appends to it keeps: 0 when there is no file (it will be created); otherwise the
    /// header and the whole records, without a torn last record and, with
    /// `keep_through_step` (a resumed run: its checkpoint's step), without the records
    /// recorded after that step (up to the end of the last record whose step is at most
    /// it, so that the records in force, see [`Snapshots::read`], are all of that step or
    /// earlier). A file that is not a snapshot file, has a damaged header or holds another
    /// grid than `geometry` is an error naming the file (and the differing field, with
    /// both values) — the same verdict [`Snapshots::read_expecting`] gives a report.
    pub fn check(
        path: &Path,
        geometry: Geometry,
        keep_through_step: Option<usize>,
    ) -> Result<usize, TrainError> {
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(io(path, "cannot read", e)),
        };
        let scan = scan(path, &bytes, Some(geometry))?;
        Ok(match keep_through_step {
            None => scan.whole_len,
            Some(step) => scan
                .records
                .iter()
                .rev()
                .find(|r| r.0 as usize <= step)
                .map_or(HEADER_LEN, |r| r.2),
        })
    }

    /// Opens `path` for appending: creates it with its header, or (a resumed run) checks
    /// that its header matches `geometry` and cuts a torn last record off.
    pub fn open(path: &Path, geometry: Geometry) -> Result<Self, TrainError> {
        Self::open_through(path, geometry, None)
    }

    /// [`SnapshotLog::open`] for a run resumed at step `keep_through_step`: the file is
    /// checked and cut to what [`SnapshotLog::check`] keeps (the records after that step
    /// and a torn tail go), so the resumed run records no step twice.
    pub fn open_through(
        path: &Path,
        geometry: Geometry,
        keep_through_step: Option<usize>,
    ) -> Result<Self, TrainError> {
        let keep = Self::check(path, geometry, keep_through_step)?;
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .write(true)
            .truncate(false)
            .open(path)
            .map_err(|e| io(path, "cannot open", e))?;
        if keep == 0 {
            file.set_len(0)
                .and_then(|()| file.write_all(&header(&geometry)))
                .map_err(|e| io(path, "cannot write", e))?;
        } else {
            file.set_len(keep as u64)
                .map_err(|e| io(path, "cannot cut the records after the resumed step", e))?;
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| io(path, "cannot seek", e))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
            geometry,
        })
    }

    /// Appends one snapshot: `d` is `D` (`R × C`, row-major), `shapes` the neurons'
    /// parameters, `cutoff` the cutoff `c`.
    pub fn append(
        &mut self,
        step: usize,
        cutoff: f32,
        shapes: &NeuronShapes,
        d: &[f32],
    ) -> Result<(), TrainError> {
        let (rows, cols) = (self.geometry.rows(), self.geometry.cols());
        if d.len() != rows * cols {
            return Err(self.wrong_size());
        }
        let cells: Vec<(usize, f32)> = d
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(k, v)| (k, *v))
            .collect();
        self.append_cells(step, cutoff, shapes, &cells)
    }

    fn wrong_size(&self) -> TrainError {
        let (rows, cols) = (self.geometry.rows(), self.geometry.cols());
        TrainError::new(
            &self.path,
            format!("a snapshot of the wrong size (the file holds {rows} × {cols} grids)"),
        )
    }

    /// [`SnapshotLog::append`] from `D`'s non-zero cells only: `(r·C + j, D_rj)` in rising
    /// order, so that recording a large manifold never builds its `R × C` grid.
    pub fn append_cells(
        &mut self,
        step: usize,
        cutoff: f32,
        shapes: &NeuronShapes,
        cells: &[(usize, f32)],
    ) -> Result<(), TrainError> {
        let (rows, cols) = (self.geometry.rows(), self.geometry.cols());
        let rising = cells.windows(2).all(|w| w[0].0 < w[1].0);
        let inside = cells.last().is_none_or(|c| c.0 < rows * cols);
        if !(rising && inside) || shapes.families().iter().any(|f| f.len() != rows) {
            return Err(self.wrong_size());
        }
        let max = cells
            .iter()
            .map(|c| c.1)
            .filter(|v| v.is_finite())
            .fold(0f32, |m, v| m.max(v.abs()));
        let mut gaps = Vec::new();
        let mut values = Vec::new();
        let mut last = 0usize;
        for &(k, v) in cells {
            if v == 0.0 || !v.is_finite() {
                continue;
            }
            push_varint(&mut gaps, (k - last) as u32);
            last = k;
            let q = (127.0 * v / max).round().clamp(-127.0, 127.0) as i8;
            values.push(if q == 0 { v.signum() as i8 } else { q } as u8);
        }
        let mut body = Vec::with_capacity(16 + 28 * rows + gaps.len() + values.len());
        body.extend_from_slice(&(step as u32).to_le_bytes());
        body.extend_from_slice(&cutoff.to_le_bytes());
        body.extend_from_slice(&max.to_le_bytes());
        for family in shapes.families() {
            for v in family {
                body.extend_from_slice(&v.to_le_bytes());
            }
        }
        body.extend_from_slice(&(values.len() as u32).to_le_bytes());
        body.extend_from_slice(&gaps);
        body.extend_from_slice(&values);
        let mut record = (body.len() as u32).to_le_bytes().to_vec();
        record.extend_from_slice(&body);
        self.file
            .write_all(&record)
            .and_then(|()| self.file.flush())
            .map_err(|e| io(&self.path, "cannot write", e))
    }
}

fn push_varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A reader over a byte slice that names the file in its errors.
struct Cursor<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Cursor<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len())?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Some(s)
    }

    fn u32(&mut self) -> Option<u32> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn f32(&mut self) -> Option<f32> {
        self.u32().map(f32::from_bits)
    }

    fn varint(&mut self) -> Option<u32> {
        let mut v = 0u32;
        for shift in (0..35).step_by(7) {
            let b = *self.take(1)?.first()?;
            v |= ((b & 0x7f) as u32).checked_shl(shift)?;
            if b & 0x80 == 0 {
                return Some(v);
            }
        }
        None
    }
}

/// Where the whole records of a file lie.
struct Scan {
    geometry: Geometry,
    /// `(step, start, end)` of each whole record, in file order.
    records: Vec<(u32, usize, usize)>,
    whole_len: usize,
}

/// The error of a file whose header (`got`) is not this run's grid (`want`): every
/// field that differs, with both values.
fn mismatch(path: &Path, got: &Geometry, want: &Geometry) -> TrainError {
    let mut differ: Vec<String> = [
        ("inputs", got.inputs, want.inputs),
        ("comps", got.comps, want.comps),
        ("outputs", got.outputs, want.outputs),
    ]
    .iter()
    .filter(|(_, g, w)| g != w)
    .map(|(name, g, w)| format!("{name} = {g} in the file, {w} in this run"))
    .collect();
    if got.period != want.period {
        differ.push(format!(
            "period = {} in the file, {} in this run",
            got.period, want.period
        ));
    }
    if got.window != want.window {
        differ.push(format!(
            "window = {:?} in the file, {:?} in this run",
            got.window, want.window
        ));
    }
    TrainError::new(
        path,
        format!(
            "holds snapshots of a {}-{}-{} grid of period {}, not of this run's {}-{}-{} grid \
             of period {} ({})",
            got.inputs,
            got.comps,
            got.outputs,
            got.period,
            want.inputs,
            want.comps,
            want.outputs,
            want.period,
            differ.join("; ")
        ),
    )
}

fn scan(path: &Path, bytes: &[u8], expect: Option<Geometry>) -> Result<Scan, TrainError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(TrainError::new(
            path,
            "not a DNM snapshot file (no MFDSNAP1 header)",
        ));
    }
    let damaged = |what: String| TrainError::new(path, format!("damaged snapshot file: {what}"));
    if bytes.len() < HEADER_LEN {
        return Err(damaged(format!(
            "its header is cut short ({} of {HEADER_LEN} bytes)",
            bytes.len()
        )));
    }
    let mut c = Cursor { bytes, at: 8 };
    let mut size = || c.u32().expect("a whole header") as usize;
    let (inputs, comps, outputs, code) = (size(), size(), size(), size());
    let period = f64::from_le_bytes(bytes[24..32].try_into().expect("8 header bytes"));
    let Some(window) = [Window::Line, Window::Patch, Window::Patches]
        .into_iter()
        .find(|&w| window_code(w) == code)
    else {
        return Err(damaged(format!(
            "its header's window field is {code}, not 0 (line), 1 (patch) or 2 (patches)"
        )));
    };
    if inputs == 0 || comps == 0 || outputs == 0 {
        return Err(damaged(format!(
            "its header declares {inputs} inputs, {comps} comps and {outputs} outputs \
             (each must be at least 1)"
        )));
    }
    if !(period.is_finite() && period > 0.0) {
        return Err(damaged(format!(
            "its header's period is {period}, not a positive number"
        )));
    }
    let geometry = Geometry {
        inputs,
        comps,
        outputs,
        period,
        window,
    };
    let cells = geometry.rows().checked_mul(geometry.cols());
    if cells.is_none_or(|c| c > MAX_CELLS) {
        return Err(damaged(format!(
            "its header declares a {inputs}-{comps}-{outputs} grid, more than 2^28 cells"
        )));
    }
    if let Some(want) = expect {
        if want != geometry {
            return Err(mismatch(path, &geometry, &want));
        }
    }
    let mut c = Cursor {
        bytes,
        at: HEADER_LEN,
    };
    let mut records = Vec::new();
    let mut whole_len = HEADER_LEN;
    while let Some(len) = c.u32() {
        let start = c.at;
        let Some(body) = c.take(len as usize).filter(|b| b.len() >= 4) else {
            break;
        };
        let step = u32::from_le_bytes([body[0], body[1], body[2], body[3]]);
        records.push((step, start - 4, c.at));
        whole_len = c.at;
    }
    Ok(Scan {
        geometry,
        records,
        whole_len,
    })
}

/// The snapshots of a file, each record decoded only on demand.
pub struct Snapshots {
    path: PathBuf,
    bytes: Vec<u8>,
    geometry: Geometry,
    /// `(step, start, end)` of the records in force, by step.
    records: Vec<(u32, usize, usize)>,
}

impl Snapshots {
    /// Reads `path`. A torn last record is ignored; when a step was recorded again (a
    /// resumed run), the later record and everything after it supersede the earlier
    /// records from that step on.
    pub fn read(path: &Path) -> Result<Self, TrainError> {
        Self::read_with(path, None)
    }

    /// [`Snapshots::read`], refusing a file whose header is not `geometry` (the run's
    /// grid and period) with the error [`SnapshotLog::check`] gives a resumed run.
    pub fn read_expecting(path: &Path, geometry: Geometry) -> Result<Self, TrainError> {
        Self::read_with(path, Some(geometry))
    }

    fn read_with(path: &Path, expect: Option<Geometry>) -> Result<Self, TrainError> {
        let bytes = std::fs::read(path).map_err(|e| io(path, "cannot read", e))?;
        let scan = scan(path, &bytes, expect)?;
        let mut records: Vec<(u32, usize, usize)> = Vec::new();
        for r in scan.records {
            while records.last().is_some_and(|last| last.0 >= r.0) {
                records.pop();
            }
            records.push(r);
        }
        Ok(Self {
            path: path.to_path_buf(),
            bytes,
            geometry: scan.geometry,
            records,
        })
    }

    /// The grid's sizes.
    pub fn geometry(&self) -> Geometry {
        self.geometry
    }

    /// The recorded steps, increasing.
    pub fn steps(&self) -> Vec<u32> {
        self.records.iter().map(|r| r.0).collect()
    }

    /// Number of snapshots.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the file holds no snapshot.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The `k`-th snapshot, decoded.
    pub fn get(&self, k: usize) -> Result<Snapshot, TrainError> {
        let (rows, cols) = (self.geometry.rows(), self.geometry.cols());
        let bad = || {
            TrainError::new(
                &self.path,
                format!("snapshot {k} is damaged (its cells do not fit the grid)"),
            )
        };
        let &(_, start, end) = self.records.get(k).ok_or_else(bad)?;
        // Step, cutoff, max, 7R parameters and the count must fit before anything is allocated.
        if end - start < 4 + 16 + 28 * rows {
            return Err(bad());
        }
        let mut c = Cursor {
            bytes: &self.bytes[start + 4..end],
            at: 0,
        };
        let step = c.u32().ok_or_else(bad)?;
        let cutoff = c.f32().ok_or_else(bad)?;
        let max = c.f32().ok_or_else(bad)?;
        let mut family = || -> Result<Vec<f32>, TrainError> {
            (0..rows).map(|_| c.f32().ok_or_else(bad)).collect()
        };
        let shapes = NeuronShapes {
            alpha: family()?,
            beta: family()?,
            gamma: family()?,
            theta: family()?,
            phi: family()?,
            sigma: family()?,
            mu: family()?,
        };
        let kept = c.u32().ok_or_else(bad)? as usize;
        let mut index = Vec::with_capacity(kept.min(rows * cols));
        let mut at = 0usize;
        for n in 0..kept {
            let gap = c.varint().ok_or_else(bad)? as usize;
            at = if n == 0 { gap } else { at + gap };
            if at >= rows * cols {
                return Err(bad());
            }
            index.push(at);
        }
        let values = c.take(kept).ok_or_else(bad)?;
        let mut d = vec![0f32; rows * cols];
        for (&i, &q) in index.iter().zip(values) {
            d[i] = q as i8 as f32 / 127.0 * max;
        }
        Ok(Snapshot {
            step,
            cutoff,
            shapes,
            d,
        })
    }

    /// The header and the records in force (at most `budget` bytes of records: when
    /// more, evenly spaced ones, the first and the last always among them), as one byte
    /// string for the report's explorer, and how many snapshots it holds.
    pub fn compact(&self, budget: usize) -> (Vec<u8>, usize) {
        let sizes: usize = self.records.iter().map(|r| r.2 - r.1).sum();
        let n = self.records.len();
        let keep = if sizes <= budget || n <= 2 {
            n
        } else {
            ((n as f64 * budget as f64 / sizes as f64).floor() as usize).clamp(2, n)
        };
        let mut out = header(&self.geometry);
        let mut kept = 0;
        let mut last = usize::MAX;
        for t in 0..keep {
            let k = if keep == 1 {
                n - 1
            } else {
                ((t as f64) * (n - 1) as f64 / (keep - 1) as f64).round() as usize
            };
            if k == last {
                continue;
            }
            last = k;
            let (_, s, e) = self.records[k];
            out.extend_from_slice(&self.bytes[s..e]);
            kept += 1;
        }
        (out, kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geometry() -> Geometry {
        Geometry {
            inputs: 3,
            comps: 2,
            outputs: 2,
            period: 5.0,
            window: Window::Line,
        }
    }

    fn shapes(seed: f32) -> NeuronShapes {
        let v = |k: f32| vec![seed + k, seed - k, 0.5, 1.0, 0.1, 2.0, -1.0 + k][..4].to_vec();
        NeuronShapes {
            alpha: v(0.1),
            beta: v(0.2),
            gamma: v(0.3),
            theta: v(0.4),
            phi: v(0.5),
            sigma: v(0.6),
            mu: v(0.7),
        }
    }

    /// A 4 × 5 D with kept cells of very different sizes (one far below max/127).
    fn d(scale: f32) -> Vec<f32> {
        let mut d = vec![0f32; 20];
        d[0] = 0.5 * scale;
        d[3] = -0.25 * scale;
        d[7] = 0.001 * scale;
        d[19] = -scale;
        d
    }

    #[test]
    fn snapshots_round_trip_kept_cells_and_parameters() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots.bin");
        let mut log = SnapshotLog::open(&path, geometry()).unwrap();
        log.append(1, 0.2, &shapes(1.0), &d(1.0)).unwrap();
        log.append(500, 0.3, &shapes(2.0), &d(0.5)).unwrap();
        drop(log);
        let s = Snapshots::read(&path).unwrap();
        assert_eq!(s.steps(), vec![1, 500]);
        let second = s.get(1).unwrap();
        assert_eq!(second.shapes, shapes(2.0));
        assert_eq!(second.cutoff, 0.3);
        let kept: Vec<usize> = (0..20).filter(|&k| second.d[k] != 0.0).collect();
        assert_eq!(kept, vec![0, 3, 7, 19], "every kept cell, and only those");
        // Values are stored in 1/127 steps of the largest |D| (0.5 here): within half a
        // step, except a kept cell smaller than half a step, which stores one step.
        let step = 0.5 / 127.0;
        for (k, want) in d(0.5).iter().enumerate() {
            let got = second.d[k];
            if want.abs() < step / 2.0 && *want != 0.0 {
                assert_eq!(got, step * want.signum(), "cell {k}");
            } else {
                assert!(
                    (got - want).abs() <= step / 2.0 + 1e-7,
                    "cell {k}: {got} vs {want}"
                );
            }
        }
        assert_eq!(second.d[19], -0.5, "the largest |D| is exact");
    }

    #[test]
    fn a_torn_record_is_cut_and_a_resumed_step_supersedes_later_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots.bin");
        let mut log = SnapshotLog::open(&path, geometry()).unwrap();
        for step in [1, 50, 100, 150] {
            log.append(step, 0.2, &shapes(step as f32), &d(1.0))
                .unwrap();
        }
        drop(log);
        let full = std::fs::metadata(&path).unwrap().len();
        // Killed in the middle of a fifth record.
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[200, 0, 0, 0, 9, 9]).unwrap();
        drop(f);
        assert_eq!(
            Snapshots::read(&path).unwrap().steps(),
            vec![1, 50, 100, 150]
        );
        // Resumed from the checkpoint at step 100: it records 100 again, then 150.
        let mut log = SnapshotLog::open(&path, geometry()).unwrap();
        assert_eq!(
            std::fs::metadata(&path).unwrap().len(),
            full,
            "torn tail cut"
        );
        log.append(100, 0.4, &shapes(7.0), &d(1.0)).unwrap();
        log.append(150, 0.5, &shapes(8.0), &d(1.0)).unwrap();
        drop(log);
        let s = Snapshots::read(&path).unwrap();
        assert_eq!(s.steps(), vec![1, 50, 100, 150]);
        assert_eq!(s.get(2).unwrap().cutoff, 0.4, "the resumed run's record");
        // A different grid is refused, naming the file.
        let other = Geometry {
            comps: 5,
            ..geometry()
        };
        let err = SnapshotLog::open(&path, other).err().unwrap().to_string();
        assert!(
            err.contains("snapshots.bin") && err.contains("3-2-2"),
            "{err}"
        );
    }

    /// A log of `steps` at `path`, each recorded with the same parameters.
    fn write_steps(path: &Path, steps: &[usize]) {
        let mut log = SnapshotLog::open(path, geometry()).unwrap();
        for &step in steps {
            log.append(step, 0.2, &shapes(step as f32), &d(1.0))
                .unwrap();
        }
    }

    #[test]
    fn a_damaged_or_foreign_header_is_refused_naming_the_field_and_nothing_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots.bin");
        write_steps(&path, &[1, 2]);
        let good = std::fs::read(&path).unwrap();
        let with_header = |at: usize, bytes: &[u8]| {
            let mut b = good.clone();
            b[at..at + bytes.len()].copy_from_slice(bytes);
            std::fs::write(&path, &b).unwrap();
            b
        };
        // Another period: named, with both values, by the resume check and the report's read.
        let written = with_header(24, &6.0f64.to_le_bytes());
        let err = SnapshotLog::check(&path, geometry(), Some(2))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("snapshots.bin") && err.contains("period = 6 in the file, 5 in this run"),
            "{err}"
        );
        assert!(!err.contains("inputs ="), "only the differing field: {err}");
        let read = Snapshots::read_expecting(&path, geometry()).err().unwrap();
        assert_eq!(read.to_string(), err, "resume and report agree");
        assert!(SnapshotLog::open_through(&path, geometry(), Some(2)).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), written, "nothing written");
        // The file alone is readable: its own grid.
        assert_eq!(Snapshots::read(&path).unwrap().geometry().period, 6.0);
        // A window code other than 0 or 1, a period that is no number, a size of 0: damaged.
        for (at, bytes, named) in [
            (20, 7u32.to_le_bytes().to_vec(), "window field is 7"),
            (24, f64::NAN.to_le_bytes().to_vec(), "period is NaN"),
            (12, 0u32.to_le_bytes().to_vec(), "0 comps"),
        ] {
            let written = with_header(at, &bytes);
            for err in [
                SnapshotLog::check(&path, geometry(), None).unwrap_err(),
                Snapshots::read(&path).err().unwrap(),
            ] {
                let err = err.to_string();
                assert!(
                    err.contains("damaged snapshot file") && err.contains(named),
                    "{err}"
                );
            }
            assert_eq!(std::fs::read(&path).unwrap(), written);
        }
        // A header cut short.
        std::fs::write(&path, &good[..20]).unwrap();
        let err = Snapshots::read(&path).err().unwrap().to_string();
        assert!(
            err.contains("damaged") && err.contains("20 of 32 bytes"),
            "{err}"
        );
        // No file: nothing to keep, nothing created.
        let missing = dir.path().join("none.bin");
        assert_eq!(
            SnapshotLog::check(&missing, geometry(), Some(5)).unwrap(),
            0
        );
        assert!(!missing.exists());
    }

    #[test]
    fn a_resume_cuts_the_records_after_its_step_and_a_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots.bin");
        let kept = dir.path().join("kept.bin");
        write_steps(&path, &[1, 50, 100, 150, 200]);
        write_steps(&kept, &[1, 50, 100]);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[200, 0, 0, 0, 9, 9]).unwrap();
        drop(f);
        let before = std::fs::read(&path).unwrap();
        let want = std::fs::read(&kept).unwrap();
        // The check only measures: the records of steps ≤ 120 end where `kept.bin` does.
        let keep = SnapshotLog::check(&path, geometry(), Some(120)).unwrap();
        assert_eq!(keep, want.len());
        assert_eq!(&before[..keep], &want[..], "the same bytes");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            before,
            "check writes nothing"
        );
        assert_eq!(
            SnapshotLog::check(&path, geometry(), Some(100)).unwrap(),
            want.len(),
            "a step recorded at the checkpoint is kept"
        );
        assert_eq!(
            SnapshotLog::check(&path, geometry(), Some(0)).unwrap(),
            HEADER_LEN
        );
        assert_eq!(
            SnapshotLog::check(&path, geometry(), None).unwrap(),
            before.len() - 6,
            "without a step, only the torn tail goes"
        );
        // Opening for the resume cuts exactly there; the resumed run records 150 once.
        let mut log = SnapshotLog::open_through(&path, geometry(), Some(120)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), want);
        log.append(150, 0.9, &shapes(9.0), &d(1.0)).unwrap();
        drop(log);
        let s = Snapshots::read(&path).unwrap();
        assert_eq!(s.steps(), vec![1, 50, 100, 150]);
        assert_eq!(s.get(3).unwrap().cutoff, 0.9);
        let bytes = std::fs::read(&path).unwrap();
        let records = scan(&path, &bytes, None).unwrap().records;
        assert_eq!(records.len(), 4, "no step twice in the file");
    }

    #[test]
    fn compact_keeps_the_first_and_last_within_the_budget() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots.bin");
        let mut log = SnapshotLog::open(&path, geometry()).unwrap();
        for step in 0..10 {
            log.append(step, 0.2, &shapes(1.0), &d(1.0)).unwrap();
        }
        drop(log);
        let s = Snapshots::read(&path).unwrap();
        let one = std::fs::metadata(&path).unwrap().len() as usize - HEADER_LEN;
        let (all, n) = s.compact(usize::MAX);
        assert_eq!((all.len(), n), (HEADER_LEN + one, 10));
        let (some, n) = s.compact(one * 4 / 10);
        assert_eq!(n, 4);
        let back = dir.path().join("compact.bin");
        std::fs::write(&back, some).unwrap();
        assert_eq!(Snapshots::read(&back).unwrap().steps(), vec![0, 3, 6, 9]);
    }

    #[test]
    fn mutated_files_are_errors_or_snapshots_never_panics() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots.bin");
        let mut log = SnapshotLog::open(&path, geometry()).unwrap();
        for step in [1, 2, 3] {
            log.append(step, 0.2, &shapes(1.0), &d(1.0)).unwrap();
        }
        drop(log);
        let good = std::fs::read(&path).unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for round in 0..2000 {
            let mut bytes = good.clone();
            match round % 3 {
                0 => bytes.truncate(next() as usize % bytes.len()),
                1 => {
                    for _ in 0..1 + next() % 4 {
                        let at = next() as usize % bytes.len();
                        bytes[at] ^= 1 << (next() % 8);
                    }
                }
                _ => {
                    let at = (next() as usize % (bytes.len() / 4)) * 4;
                    bytes[at..at + 4].copy_from_slice(&(next() as u32).to_le_bytes());
                }
            }
            let mutated = dir.path().join("m.bin");
            std::fs::write(&mutated, &bytes).unwrap();
            if let Ok(s) = Snapshots::read(&mutated) {
                for k in 0..s.len() {
                    let _ = s.get(k);
                }
                let _ = s.compact(1 << 20);
            }
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("snapshots.bin");
        std::fs::write(&path, b"hello").unwrap();
        let err = Snapshots::read(&path).err().unwrap().to_string();
        assert!(err.contains("not a DNM snapshot file"), "{err}");
        // A header followed by a record whose cells point outside the grid.
        let mut bytes = header(&geometry());
        let mut body = Vec::new();
        body.extend_from_slice(&1u32.to_le_bytes());
        body.extend_from_slice(&0.1f32.to_le_bytes());
        body.extend_from_slice(&1f32.to_le_bytes());
        body.extend(std::iter::repeat_n(0u8, 4 * 7 * 4));
        body.extend_from_slice(&1u32.to_le_bytes());
        push_varint(&mut body, 1000);
        body.push(5);
        bytes.extend_from_slice(&(body.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&body);
        std::fs::write(&path, bytes).unwrap();
        let s = Snapshots::read(&path).unwrap();
        let err = s.get(0).err().unwrap().to_string();
        assert!(err.contains("damaged"), "{err}");
    }
}
