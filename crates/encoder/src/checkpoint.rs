//! Checkpoints: everything a stopped pretraining run needs to go on exactly as if it had never
//! stopped.
//!
//! `checkpoints/step-N/` holds `model.bpk` (the weights) and `optimizer.bpk` (AdamW's moments),
//! both burnpack files, and `state.json`: the step, the data position (this epoch's order of the
//! training sequences and how far into it the run is), the state of the generator that draws
//! batches and masks, and the CRC-32C of both weight files, so that a truncated or damaged
//! checkpoint is refused instead of silently loaded. Dropout needs no saved state: its generator
//! is reseeded from the run's seed and the step at every step.
//!
//! A checkpoint is written into `.step-N.tmp/` and renamed when complete, so a folder named
//! `step-N` is never half written; only the newest `keep` are kept.

use std::io::Write;
use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use word2vec::Rng;

use crate::model::{MlmModel, ModelShape};
use crate::pretrain::adamw;

/// Version of the `state.json` layout; a checkpoint of another version is refused.
const FORMAT: u32 = 1;

/// Where a run stands between two steps, besides its weights and optimizer state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// Optimizer steps done.
    pub step: u64,
    /// State of the generator that shuffles the sequences and draws the masks
    /// ([`Rng::state`]).
    pub rng: u64,
    /// This epoch's order of the training sequences.
    pub order: Vec<u32>,
    /// Position in `order` of the next sequence to train on (`order.len()`: reshuffle first).
    pub cursor: usize,
}

impl Progress {
    /// A run that has not started: step 0, the generator of `seed`, and a position at the end
    /// of an epoch so that the first batch shuffles the `sequences` training sequences.
    pub fn start(seed: u64, sequences: usize) -> Self {
        Progress {
            step: 0,
            rng: Rng::new(seed).state(),
            order: (0..sequences as u32).collect(),
            cursor: sequences,
        }
    }
}

/// What a checkpoint holds, borrowed from the training loop.
pub struct Checkpoint<'a> {
    /// The model after `progress.step` steps.
    pub model: &'a MlmModel,
    /// Its optimizer.
    pub optimizer: &'a ModuleOptimizer,
    /// Step, data position and generator state.
    pub progress: &'a Progress,
}

/// A checkpoint read back: the model on the requested device, its optimizer and progress.
pub struct Loaded {
    /// The weights.
    pub model: MlmModel,
    /// AdamW with its moments, and the same no-decay group as a fresh run.
    pub optimizer: ModuleOptimizer,
    /// Step, data position and generator state.
    pub progress: Progress,
}

/// Why a checkpoint could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    /// Reading or writing a file or folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The checkpoint is incomplete, damaged or of another format.
    #[error("{}: {message}", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> CheckpointError + '_ {
    move |source| CheckpointError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn corrupt(path: &Path, message: impl Into<String>) -> CheckpointError {
    CheckpointError::Corrupt {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// The contents of `state.json`.
#[derive(Serialize, Deserialize)]
struct State {
    format: u32,
    model_crc32c: u32,
    optimizer_crc32c: u32,
    progress: Progress,
}

const MODEL: &str = "model.bpk";
const OPTIMIZER: &str = "optimizer.bpk";
const STATE: &str = "state.json";

/// Writes `checkpoint` as `dir/step-N/` (N = its step; an older folder of that name is
/// replaced), then deletes all but the newest `keep` checkpoints in `dir` and any unfinished
/// `.step-*.tmp` folder. Returns the folder.
pub fn save(
    dir: &Path,
    checkpoint: &Checkpoint<'_>,
    keep: usize,
) -> Result<PathBuf, CheckpointError> {
    let step = checkpoint.progress.step;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let temp = dir.join(format!(".step-{step}.tmp"));
    if temp.exists() {
        std::fs::remove_dir_all(&temp).map_err(io(&temp))?;
    }
    std::fs::create_dir(&temp).map_err(io(&temp))?;

    let model_path = temp.join(MODEL);
    checkpoint
        .model
        .save(&model_path)
        .map_err(|e| corrupt(&model_path, format!("cannot write the weights: {e}")))?;
    let optimizer_path = temp.join(OPTIMIZER);
    checkpoint.optimizer.save(&optimizer_path).map_err(|e| {
        corrupt(
            &optimizer_path,
            format!("cannot write the optimizer: {e:?}"),
        )
    })?;
    let state = State {
        format: FORMAT,
        model_crc32c: synced_crc(&model_path)?,
        optimizer_crc32c: synced_crc(&optimizer_path)?,
        progress: checkpoint.progress.clone(),
    };
    let state_path = temp.join(STATE);
    let json = serde_json::to_vec(&state).map_err(|e| corrupt(&state_path, e.to_string()))?;
    let mut file = std::fs::File::create(&state_path).map_err(io(&state_path))?;
    file.write_all(&json)
        .and_then(|()| file.sync_all())
        .map_err(io(&state_path))?;

    let done = dir.join(format!("step-{step}"));
    if done.exists() {
        std::fs::remove_dir_all(&done).map_err(io(&done))?;
    }
    std::fs::rename(&temp, &done).map_err(io(&done))?;
    // Unfinished folders of earlier saves (a run killed while saving) are of no use.
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
        if name.is_some_and(|n| n.starts_with(".step-") && n.ends_with(".tmp")) {
            std::fs::remove_dir_all(&path).map_err(io(&path))?;
        }
    }
    let all = list(dir)?;
    for (_, old) in all.iter().take(all.len().saturating_sub(keep.max(1))) {
        std::fs::remove_dir_all(old).map_err(io(old))?;
    }
    Ok(done)
}

/// The CRC-32C of a file just written, after flushing it to disk.
fn synced_crc(path: &Path) -> Result<u32, CheckpointError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    file.sync_all().map_err(io(path))?;
    crc_of(path)
}

fn crc_of(path: &Path) -> Result<u32, CheckpointError> {
    Ok(crc32c::crc32c(&std::fs::read(path).map_err(io(path))?))
}

/// The complete checkpoints in `dir` (folders named `step-N`), oldest first; none when `dir`
/// does not exist. Unfinished `.step-N.tmp` folders are not listed.
pub fn list(dir: &Path) -> Result<Vec<(u64, PathBuf)>, CheckpointError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(dir)(e)),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io(dir))?;
        let name = entry.file_name();
        let step = name
            .to_str()
            .and_then(|n| n.strip_prefix("step-"))
            .and_then(|n| n.parse::<u64>().ok());
        if let Some(step) = step
            && entry.path().is_dir()
        {
            found.push((step, entry.path()));
        }
    }
    found.sort();
    Ok(found)
}

/// The newest complete checkpoint in `dir`, if any.
pub fn latest(dir: &Path) -> Result<Option<(u64, PathBuf)>, CheckpointError> {
    Ok(list(dir)?.pop())
}

/// Checks the checkpoint folder `path` without loading it: `state.json` parses and is of this
/// format, and both weight files match their checksums. Returns its progress.
pub fn verify(path: &Path) -> Result<Progress, CheckpointError> {
    Ok(read_state(path)?.progress)
}

fn read_state(path: &Path) -> Result<State, CheckpointError> {
    let state_path = path.join(STATE);
    let bytes = std::fs::read(&state_path).map_err(io(&state_path))?;
    let state: State = serde_json::from_slice(&bytes)
        .map_err(|e| corrupt(&state_path, format!("not a checkpoint state: {e}")))?;
    if state.format != FORMAT {
        return Err(corrupt(
            &state_path,
            format!(
                "checkpoint format {} (this build reads {FORMAT})",
                state.format
            ),
        ));
    }
    for (file, expected) in [
        (path.join(MODEL), state.model_crc32c),
        (path.join(OPTIMIZER), state.optimizer_crc32c),
    ] {
        if crc_of(&file)? != expected {
            return Err(corrupt(
                &file,
                "checksum mismatch: the file is damaged or truncated",
            ));
        }
    }
    Ok(state)
}

/// Reads the checkpoint folder `path` for a model of `shape` on `device` (an autodiff device to
/// go on training), with AdamW set up as [`adamw`] sets it up for `weight_decay`. Files that
/// are missing, of another format or whose checksum does not match are refused.
pub fn load(
    path: &Path,
    shape: &ModelShape,
    weight_decay: f64,
    device: &Device,
) -> Result<Loaded, CheckpointError> {
    let state = read_state(path)?;
    let model_path = path.join(MODEL);
    let optimizer_path = path.join(OPTIMIZER);
    // MlmModel::load's message names the file already.
    let model = MlmModel::load(shape, &model_path, device)
        .map_err(|e| corrupt(path, format!("cannot load the weights: {e}")))?;
    let optimizer = adamw(&model, weight_decay)
        .load(&optimizer_path)
        .map_err(|e| corrupt(&optimizer_path, format!("cannot load the optimizer: {e:?}")))?;
    Ok(Loaded {
        model,
        optimizer,
        progress: state.progress,
    })
}
