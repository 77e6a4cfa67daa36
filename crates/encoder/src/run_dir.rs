//! An encoder run folder's layout, owned here so that no caller spells a file name:
//!
//! ```text
//! config.toml            the resolved config (written by the caller, named by common::run_dir)
//! tokenizer.json         the tokenizer, loadable by Python's `tokenizers`
//! device.json            the device it trains on (adapter name, type, driver)
//! model.bpk, model.json  the final weights (burnpack) and their shape
//! checkpoints/step-N/    model.bpk, model.json, optimizer.bpk, state.json (see checkpoint)
//! events.out.tfevents.*  TensorBoard (written by the caller)
//! ```

use std::path::{Path, PathBuf};

use crate::checkpoint;
use crate::data::tokenizer::{SpecialIds, load_tokenizer};
use crate::device::DeviceInfo;
use crate::error::{CheckpointError, Error};
use crate::model::MlmModel;
use crate::train::Snapshot;
use burn::prelude::Device;
use tokenizers::Tokenizer;

/// The final weights' file name; their shape is beside them ([`crate::model::shape_path`]).
const WEIGHTS: &str = "model.bpk";
/// The tokenizer's file name.
const TOKENIZER: &str = "tokenizer.json";
/// The folder of the checkpoints.
const CHECKPOINTS: &str = "checkpoints";
/// What the run trained on ([`crate::DeviceInfo`]), as JSON.
const DEVICE: &str = "device.json";

/// A run's newest weights and its tokenizer, loaded and checked to belong together: what
/// `fill-mask` and `export` work from.
#[derive(Debug)]
pub struct TrainedRun {
    /// The weights file loaded ([`RunDir::newest_weights`]).
    pub weights: PathBuf,
    /// The model, with the shape saved beside its weights.
    pub model: MlmModel,
    /// The run's tokenizer.
    pub tokenizer: Tokenizer,
    /// Its special tokens' ids.
    pub special: SpecialIds,
}

/// An encoder run folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    root: PathBuf,
}

impl RunDir {
    /// The run folder at `root` (made by [`common::run_dir::create`], or an existing one).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        RunDir { root: root.into() }
    }

    /// The folder itself.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The resolved config.
    pub fn config(&self) -> PathBuf {
        self.root.join(common::run_dir::CONFIG_FILE)
    }

    /// The run's tokenizer.
    pub fn tokenizer(&self) -> PathBuf {
        self.root.join(TOKENIZER)
    }

    /// The final weights, written when the run finishes.
    pub fn weights(&self) -> PathBuf {
        self.root.join(WEIGHTS)
    }

    /// Writes what the run trains on (rewritten by each resumed session, which may use another
    /// device).
    pub fn write_device(&self, info: &DeviceInfo) -> std::io::Result<()> {
        let json = serde_json::to_vec_pretty(info).map_err(std::io::Error::other)?;
        common::write_atomic(&self.root.join(DEVICE), |w| {
            std::io::Write::write_all(w, &json)
        })
    }

    /// The folder of the checkpoints.
    pub fn checkpoints(&self) -> PathBuf {
        self.root.join(CHECKPOINTS)
    }

    /// Saves `snapshot` as a checkpoint, keeping the newest `keep`; returns its folder.
    pub fn save_checkpoint(
        &self,
        snapshot: &Snapshot<'_>,
        keep: usize,
    ) -> Result<PathBuf, CheckpointError> {
        checkpoint::save(&self.checkpoints(), snapshot, keep)
    }

    /// The newest complete checkpoint (step, folder), checked against its checksums; `None`
    /// when there is none.
    pub fn latest_checkpoint(&self) -> Result<Option<(u64, PathBuf)>, CheckpointError> {
        let Some((step, path)) = checkpoint::latest(&self.checkpoints())? else {
            return Ok(None);
        };
        checkpoint::verify(&path)?;
        Ok(Some((step, path)))
    }

    /// The run's tokenizer and newest weights on `device`; an error if the tokenizer has
    /// another number of tokens than the model has embedding rows.
    pub fn load_trained(&self, device: &Device) -> Result<TrainedRun, Error> {
        let path = self.tokenizer();
        let (tokenizer, special) = load_tokenizer(&path)?;
        let weights = self.newest_weights()?;
        let model = MlmModel::load(&weights, device)?;
        let (tokens, rows) = (tokenizer.get_vocab_size(true), model.shape().vocab_size);
        if tokens != rows {
            return Err(Error::VocabMismatch { path, tokens, rows });
        }
        Ok(TrainedRun {
            weights,
            model,
            tokenizer,
            special,
        })
    }

    /// The newest weights of the run: the final `model.bpk` or the newest checkpoint's,
    /// whichever was written last (a run that was stopped, or is being resumed, has a
    /// checkpoint newer than any final model). What `fill-mask` loads.
    pub fn newest_weights(&self) -> Result<PathBuf, CheckpointError> {
        let last = self.weights();
        let checkpoint = checkpoint::latest(&self.checkpoints())?.map(|(_, dir)| dir.join(WEIGHTS));
        let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
        Ok(match checkpoint {
            Some(c) if modified(&c) > modified(&last) => c,
            _ => last,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_of_the_final_weights_and_the_checkpoints_is_loaded() {
        let tmp = tempfile::tempdir().unwrap();
        let run = RunDir::new(tmp.path());
        assert_eq!(run.newest_weights().unwrap(), tmp.path().join("model.bpk"));
        assert!(run.latest_checkpoint().unwrap().is_none());
        let step = run.checkpoints().join("step-7");
        std::fs::create_dir_all(&step).unwrap();
        std::fs::write(step.join("model.bpk"), "w").unwrap();
        assert_eq!(run.newest_weights().unwrap(), step.join("model.bpk"));
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(run.weights(), "w").unwrap();
        assert_eq!(run.newest_weights().unwrap(), run.weights());
        let e = run.latest_checkpoint().unwrap_err().to_string();
        assert!(
            e.contains("state.json"),
            "an incomplete checkpoint is refused: {e}"
        );
    }
}
