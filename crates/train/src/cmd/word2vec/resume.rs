//! `train word2vec --resume`: the checkpoint of the run folder `--out`, after checking that the
//! config changes only what a resumed run may change and that epochs are left to train.

use std::path::Path;

use anyhow::{Context, Result, bail};
use common::run_dir::CONFIG_FILE;
use word2vec::{CHECKPOINT_FILE, Checkpoint};

use crate::config::{WORD2VEC_RESUMABLE_CHANGES as RESUMABLE_CHANGES, Word2VecConfig};

/// With `resume`, the checkpoint of the run folder `out`, checked against `cfg`; else none.
pub fn resume_point(
    cfg: &Word2VecConfig,
    out: Option<&Path>,
    resume: bool,
) -> Result<Option<Checkpoint>> {
    if !resume {
        return Ok(None);
    }
    let (dir, mut old): (_, Word2VecConfig) = crate::run::resumed_config(out)?;
    old.validate()
        .map_err(|e| anyhow::anyhow!("{}: {e}", dir.join(CONFIG_FILE).display()))?;
    crate::run::refuse_changes(dir, &old.unresumable_changes(cfg), &RESUMABLE_CHANGES)?;
    let path = dir.join(CHECKPOINT_FILE);
    if !path.exists() {
        bail!(
            "--resume: {} has no checkpoint yet ({} is missing); remove the folder or choose another --out to start again",
            dir.display(),
            path.display()
        );
    }
    let checkpoint = Checkpoint::read(&path).context("--resume")?;
    let done = checkpoint.progress.epoch.saturating_sub(1);
    if done >= cfg.train.epochs {
        bail!(
            "--resume: {} has finished {done} epochs, and train.epochs = {}; raise train.epochs to train further",
            dir.display(),
            cfg.train.epochs
        );
    }
    Ok(Some(checkpoint))
}
