//! Saving and loading models and optimiser states with Burn's recorder
//! (named MessagePack, full precision: `.mpk` files).

use std::path::{Path, PathBuf};

use burn::module::{Module, ModuleVisitor, Param};
use burn::record::{
    FullPrecisionSettings, NamedMpkBytesRecorder, NamedMpkFileRecorder, Record, Recorder,
};
use burn::tensor::backend::Backend;
use burn::tensor::{ElementConversion, Tensor};

use crate::files::one_line;
use crate::TrainError;

/// The recorder every manifold file uses.
pub type FileRec = NamedMpkFileRecorder<FullPrecisionSettings>;

/// `path` with the recorder's extension (`.mpk`), as Burn writes it.
pub fn record_path(path: &Path) -> PathBuf {
    path.with_extension("mpk")
}

/// Saves a module (the extension `.mpk` is added), atomically (see [`save_record`]).
pub fn save_module<B: Backend, M: Module<B>>(module: &M, path: &Path) -> Result<(), TrainError> {
    save_record::<B, _>(module.clone().into_record(), path)
}

/// Loads a module saved by [`save_module`] into `module`, which fixes the shapes: a
/// record with other parameter shapes (a model saved with another config) is an error
/// naming the first parameter that differs, not a panic later.
pub fn load_module<B: Backend, M: Module<B>>(
    module: M,
    path: &Path,
    device: &B::Device,
) -> Result<M, TrainError> {
    let file = record_path(path);
    if !file.is_file() {
        return Err(TrainError::new(&file, "model file not found"));
    }
    let expected = shapes(&module);
    let loaded = without_panics(&file, || module.load_file(path, &FileRec::new(), device))?
        .map_err(|e| TrainError::new(&file, unreadable(&e.to_string())))?;
    let got = shapes(&loaded);
    if got != expected {
        let first = expected
            .iter()
            .zip(&got)
            .position(|(a, b)| a != b)
            .unwrap_or(expected.len().min(got.len()));
        let show = |s: Option<&Vec<usize>>| s.map_or("none".to_string(), |s| format!("{s:?}"));
        return Err(TrainError::new(
            &file,
            format!(
                "made for another config: parameter {first} has shape {} in the file, {} in the model ({} parameters against {})",
                show(got.get(first)),
                show(expected.get(first)),
                got.len(),
                expected.len()
            ),
        ));
    }
    Ok(loaded)
}

/// What a damaged or truncated record file is called in errors.
const DAMAGED: &str = "truncated or damaged (not a whole model record)";

thread_local! {
    static QUIET: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs a record load, turning a panic inside the recorder (Burn panics on some damaged
/// records, for instance on a parameter id that does not decode) into an error naming
/// `file`. While it runs, this thread's panic message is not printed.
fn without_panics<T>(file: &Path, load: impl FnOnce() -> T) -> Result<T, TrainError> {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(|q| q.get()) {
                previous(info);
            }
        }));
    });
    QUIET.with(|q| q.set(true));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(load));
    QUIET.with(|q| q.set(false));
    result.map_err(|_| TrainError::new(file, DAMAGED))
}

/// What a recorder's load error means for the user: Burn reports a truncated or damaged
/// file as a format change between versions.
fn unreadable(error: &str) -> String {
    if error.contains("format has changed") || error.contains("unexpected end") {
        DAMAGED.to_string()
    } else {
        format!("not a compatible model record ({})", one_line(error))
    }
}

/// The shape of every float parameter of `module`, in visiting order.
pub fn shapes<B: Backend, M: Module<B>>(module: &M) -> Vec<Vec<usize>> {
    struct Shapes(Vec<Vec<usize>>);
    impl<B: Backend> ModuleVisitor<B> for Shapes {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            self.0.push(param.val().dims().to_vec());
        }
    }
    let mut visitor = Shapes(Vec::new());
    module.visit(&mut visitor);
    visitor.0
}

/// Whether every float parameter of `module` is finite (no NaN, no infinity): one sum
/// per parameter, non-finite as soon as one element is.
pub fn all_finite<B: Backend, M: Module<B>>(module: &M) -> bool {
    struct Finite(bool);
    impl<B: Backend> ModuleVisitor<B> for Finite {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<B, D>>) {
            if self.0 {
                let sum: f64 = param.val().abs().sum().into_scalar().elem();
                self.0 = sum.is_finite();
            }
        }
    }
    let mut visitor = Finite(true);
    module.visit(&mut visitor);
    visitor.0
}

/// Saves any Burn record (a module's, an optimiser's state) as [`FileRec`] writes it:
/// encoded in memory, then written with [`crate::write_atomic`], so a full disk or a
/// signal never leaves half a record, and an I/O failure is said in words.
pub fn save_record<B: Backend, R: Record<B>>(record: R, path: &Path) -> Result<(), TrainError> {
    let file = record_path(path);
    let bytes = Recorder::<B>::record(
        &NamedMpkBytesRecorder::<FullPrecisionSettings>::new(),
        record,
        (),
    )
    .map_err(|e| TrainError::new(&file, one_line(&e.to_string())))?;
    crate::write_atomic(&file, &bytes)
}

/// Loads a record saved by [`save_record`].
pub fn load_record<B: Backend, R: Record<B>>(
    path: &Path,
    device: &B::Device,
) -> Result<R, TrainError> {
    let file = record_path(path);
    if !file.is_file() {
        return Err(TrainError::new(&file, "record file not found"));
    }
    without_panics(&file, || {
        Recorder::<B>::load(&FileRec::new(), path.to_path_buf(), device)
    })?
    .map_err(|e| TrainError::new(&file, unreadable(&e.to_string())))
}
