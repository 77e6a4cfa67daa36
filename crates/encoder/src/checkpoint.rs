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

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use burn::optim::ModuleOptimizer;
use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::CheckpointError;
use crate::model::{MlmModel, ModelShape};
use crate::train::Snapshot;
use crate::train::position::Position;

/// Version of the `state.json` layout; a checkpoint of another version is refused.
const FORMAT: u32 = 1;

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
    /// Named `progress` since the first checkpoints; renaming it would refuse them.
    progress: Position,
}

const MODEL: &str = "model.bpk";
const OPTIMIZER: &str = "optimizer.bpk";
const STATE: &str = "state.json";

/// Writes `checkpoint` as `dir/step-N/` (N = its step; an older folder of that name is
/// replaced), then deletes all but the newest `keep` checkpoints in `dir` and any unfinished
/// `.step-*.tmp` folder. Returns the folder.
pub fn save(dir: &Path, snapshot: &Snapshot<'_>, keep: usize) -> Result<PathBuf, CheckpointError> {
    let step = snapshot.position.step;
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let temp = dir.join(format!(".step-{step}.tmp"));
    if temp.exists() {
        std::fs::remove_dir_all(&temp).map_err(io(&temp))?;
    }
    std::fs::create_dir(&temp).map_err(io(&temp))?;

    let model_path = temp.join(MODEL);
    snapshot
        .model
        .save(&model_path)
        .map_err(|e| corrupt(&model_path, format!("cannot write the weights: {e}")))?;
    let optimizer_path = temp.join(OPTIMIZER);
    snapshot.optimizer.save(&optimizer_path).map_err(|e| {
        corrupt(
            &optimizer_path,
            format!("cannot write the optimizer: {e:?}"),
        )
    })?;
    let state = State {
        format: FORMAT,
        model_crc32c: synced_crc(&model_path)?,
        optimizer_crc32c: synced_crc(&optimizer_path)?,
        progress: snapshot.position.clone(),
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

/// The CRC-32C of the file at `path`, read in 1 MiB pieces (a weights file can be gigabytes).
fn crc_of(path: &Path) -> Result<u32, CheckpointError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut crc = 0;
    loop {
        let buf = reader.fill_buf().map_err(io(path))?;
        if buf.is_empty() {
            return Ok(crc);
        }
        crc = crc32c::crc32c_append(crc, buf);
        let n = buf.len();
        reader.consume(n);
    }
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
/// format, and both weight files match their checksums. Returns its position.
pub fn verify(path: &Path) -> Result<Position, CheckpointError> {
    Ok(read_state(path)?.progress)
}

fn read_state(path: &Path) -> Result<State, CheckpointError> {
    let state_path = path.join(STATE);
    // `order` takes ~11 bytes a training sequence: 4 GiB is 350 M sequences (45 B tokens of
    // 128), beyond any run this toolkit makes, while /dev/zero still ends in an error.
    let text = common::read_text_bounded(&state_path, 4 << 30).map_err(io(&state_path))?;
    let state: State = serde_json::from_str(&text)
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
    state
        .progress
        .check_order()
        .map_err(|e| corrupt(&state_path, format!("the data position is damaged: {e}")))?;
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
/// go on training): the weights and the position. Files that are missing, of another format or
/// whose checksum does not match are refused.
pub fn load(
    path: &Path,
    shape: &ModelShape,
    device: &Device,
) -> Result<(MlmModel, Position), CheckpointError> {
    let state = read_state(path)?;
    let model = shape
        .load(&path.join(MODEL), device)
        .map_err(|e| corrupt(path, e.to_string()))?;
    Ok((model, state.progress))
}

/// Fills `optimizer` (set up as for a fresh run: its parameter groups and settings) with the
/// moments saved in the checkpoint folder `path`.
pub fn load_optimizer(
    path: &Path,
    optimizer: ModuleOptimizer,
) -> Result<ModuleOptimizer, CheckpointError> {
    let optimizer_path = path.join(OPTIMIZER);
    optimizer
        .load(&optimizer_path)
        .map_err(|e| corrupt(&optimizer_path, format!("cannot load the optimizer: {e:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Positions, Schedule, TrainConfig};
    use crate::data::batch::Masker;
    use crate::data::sequences::Sequences;
    use crate::error::Error;
    use crate::test_support::{Record, masking, specials, tiny_shape, tiny_train};
    use crate::train::eval::EvalReport;
    use crate::train::{Observer, Outcome, Pretraining, Resume, StepReport, optim, pretrain};
    use common::Rng;
    use std::ops::ControlFlow;

    /// Records the run, saves every snapshot it is handed into `dir` (keeping 2) and stops
    /// after `record.stop_after`.
    struct Checkpointing<'a> {
        record: Record,
        dir: &'a Path,
    }

    impl Observer for Checkpointing<'_> {
        fn step(&mut self, r: &StepReport) -> ControlFlow<()> {
            self.record.step(r)
        }
        fn eval(&mut self, r: &EvalReport, model: &MlmModel) {
            self.record.eval(r, model);
        }
        fn checkpoint(&mut self, snapshot: &Snapshot<'_>) -> Result<(), Error> {
            save(self.dir, snapshot, 2)?;
            Ok(())
        }
    }

    #[test]
    fn a_run_resumed_from_a_checkpoint_continues_the_uninterrupted_curve() {
        let mut rng = Rng::new(11);
        let train: Vec<Vec<u32>> = (0..9)
            .map(|_| {
                let mut s = vec![2];
                s.extend((0..10).map(|_| 5 + rng.below(20)));
                s.push(3);
                s
            })
            .collect();
        let sequences = Sequences {
            valid: train[..3].to_vec(),
            train,
        };
        // Two micro-batches a step and 9 sequences in batches of 4: the stop falls inside an
        // epoch, so the data position, the generator and AdamW's moments all matter. Dropout is
        // off here because burn's backend generator is global to the process and other tests
        // draw from it in parallel; the CLI test, one process per run, covers it with dropout.
        let config = TrainConfig {
            lr: 5e-3,
            warmup_steps: 2,
            schedule: Schedule::Cosine,
            seed: 5,
            checkpoint_every: 3,
            ..tiny_train(8, 4, 2, 2)
        };
        let job = Pretraining {
            sequences: &sequences,
            masker: Masker {
                masking: masking(0.3, 25),
                special: specials(),
            },
            config: &config,
        };
        let mut shape = tiny_shape(25, 12, 16);
        shape.model.layers = 2;
        shape.model.positions = Positions::Learned;
        let device = Device::flex().autodiff();
        let init = shape.init(&device);
        let tmp = tempfile::tempdir().unwrap();
        let mut whole = Checkpointing {
            record: Record::default(),
            dir: &tmp.path().join("whole"),
        };
        let Ok(Outcome::Finished { model: done }) = pretrain(init.clone(), None, &job, &mut whole)
        else {
            panic!("the run finishes");
        };
        assert_eq!(whole.record.steps.len(), 8);
        let kept: Vec<u64> = list(whole.dir).unwrap().iter().map(|c| c.0).collect();
        assert_eq!(
            kept,
            [6, 8],
            "every 3 steps and at the end, the newest 2 kept"
        );

        // Stopped after step 5, which saves a checkpoint of step 5 beside the one of step 3.
        let record = Record {
            stop_after: 5,
            ..Record::default()
        };
        let mut cut = Checkpointing {
            record,
            dir: &tmp.path().join("cut"),
        };
        let stopped = pretrain(init, None, &job, &mut cut).unwrap();
        assert!(matches!(stopped, Outcome::Stopped { step: 5 }));
        assert_eq!(cut.record.steps, whole.record.steps[..5]);
        // A folder left by a save that was killed midway is not a checkpoint, and the next
        // save removes it.
        let stale = cut.dir.join(".step-4.tmp");
        std::fs::create_dir(&stale).unwrap();
        let saved = list(cut.dir).unwrap();
        assert_eq!(saved.iter().map(|c| c.0).collect::<Vec<_>>(), [3, 5]);
        // Resuming from step 3 (as after a crash in steps 4 or 5) retakes steps 4 and 5.
        let path = &saved[0].1;
        let (model, position) = load(path, &shape, &device).unwrap();
        assert_eq!(position.step, 3);
        let optimizer = load_optimizer(path, optim::adamw(&model, config.weight_decay)).unwrap();
        let mut rest = Checkpointing {
            record: Record::default(),
            dir: cut.dir,
        };
        let resume = Some(Resume {
            optimizer,
            position,
        });
        let Ok(Outcome::Finished { model: resumed }) = pretrain(model, resume, &job, &mut rest)
        else {
            panic!("the resumed run finishes");
        };
        assert!(!stale.exists());
        assert_eq!(rest.record.steps, whole.record.steps[3..], "steps 4..=8");
        assert_eq!(
            rest.record.evals,
            whole.record.evals[1..],
            "evals at 4, 6, 8"
        );
        let out = |m: &MlmModel| {
            let device = Device::flex();
            let ids = Tensor::<2, Int>::from_ints([[2, 5, 4, 7, 8, 3]], &device);
            m.valid()
                .encode(ids, None)
                .into_data()
                .try_into_vec::<f32>()
                .unwrap()
        };
        assert_eq!(out(&resumed), out(&done), "same final weights");
    }
}
