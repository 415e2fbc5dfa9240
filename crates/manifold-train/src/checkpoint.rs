//! Saving and loading models and optimiser states with Burn's recorder
//! (named MessagePack, full precision: `.mpk` files).

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::record::{FullPrecisionSettings, NamedMpkFileRecorder, Record, Recorder};
use burn::tensor::backend::Backend;

use crate::files::one_line;
use crate::TrainError;

/// The recorder every manifold file uses.
pub type FileRec = NamedMpkFileRecorder<FullPrecisionSettings>;

/// `path` with the recorder's extension (`.mpk`), as Burn writes it.
pub fn record_path(path: &Path) -> PathBuf {
    path.with_extension("mpk")
}

/// Saves a module (the extension `.mpk` is added).
pub fn save_module<B: Backend, M: Module<B>>(module: &M, path: &Path) -> Result<(), TrainError> {
    module
        .clone()
        .save_file(path, &FileRec::new())
        .map_err(|e| TrainError::new(&record_path(path), one_line(&e.to_string())))
}

/// Loads a module saved by [`save_module`] into `module` (which fixes its shapes).
pub fn load_module<B: Backend, M: Module<B>>(
    module: M,
    path: &Path,
    device: &B::Device,
) -> Result<M, TrainError> {
    let file = record_path(path);
    if !file.is_file() {
        return Err(TrainError::new(&file, "model file not found"));
    }
    module
        .load_file(path, &FileRec::new(), device)
        .map_err(|e| {
            TrainError::new(
                &file,
                format!(
                    "not a compatible model record ({})",
                    one_line(&e.to_string())
                ),
            )
        })
}

/// Saves any Burn record (an optimiser's state, for instance).
pub fn save_record<B: Backend, R: Record<B>>(record: R, path: &Path) -> Result<(), TrainError> {
    Recorder::<B>::record(&FileRec::new(), record, path.to_path_buf())
        .map(|_| ())
        .map_err(|e| TrainError::new(&record_path(path), one_line(&e.to_string())))
}

/// Loads a record saved by [`save_record`].
pub fn load_record<B: Backend, R: Record<B>>(
    path: &Path,
    device: &B::Device,
) -> Result<R, TrainError> {
    Recorder::<B>::load(&FileRec::new(), path.to_path_buf(), device)
        .map_err(|e| TrainError::new(&record_path(path), one_line(&e.to_string())))
}
