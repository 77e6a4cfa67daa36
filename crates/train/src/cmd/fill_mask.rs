//! `train fill-mask`: the most likely tokens for each `[MASK]` of a text, from an encoder run.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use encoder::MlmModel;

use crate::cmd::encoder::shape_of;
use crate::config::EncoderConfig;

/// The newest weights of the run folder `run`: its final `model.bpk` or its newest checkpoint's,
/// whichever was written last (a run that was stopped, or is being resumed, has a checkpoint
/// newer than any final model).
fn newest_weights(run: &Path) -> Result<PathBuf> {
    let last = run.join("model.bpk");
    let checkpoint = encoder::checkpoint::latest(&run.join("checkpoints"))
        .context("looking for the run's checkpoints")?
        .map(|(_, dir)| dir.join("model.bpk"));
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    Ok(match checkpoint {
        Some(c) if modified(&c) > modified(&last) => c,
        _ => last,
    })
}

/// `train fill-mask`: the `top` most likely tokens for each `[MASK]` of `text`, with the
/// tokenizer, config and newest weights of the encoder run in `run`.
pub fn run(run: &Path, text: &str, top: usize, json: bool) -> Result<()> {
    if top == 0 {
        bail!("--top 0: allowed is N >= 1");
    }
    let config_path = run.join("config.toml");
    let cfg: EncoderConfig = crate::config::load(&config_path, &[])?;
    cfg.validate()
        .map_err(|e| anyhow!("{}: {e}", config_path.display()))?;
    let (tokenizer, special) = encoder::load_tokenizer(&run.join("tokenizer.json"))
        .context("loading the run's tokenizer")?;
    let model = MlmModel::load(
        &shape_of(&cfg, tokenizer.get_vocab_size(true)),
        &newest_weights(run)?,
        &encoder::cpu_device(),
    )
    .map_err(|e| anyhow!("loading the model: {e}"))?;
    let encoding = tokenizer
        .encode(text, true)
        .map_err(|e| anyhow!("tokenizing the text: {e}"))?;
    let ids = encoding.get_ids();
    if !ids.contains(&special.mask) {
        bail!("the text has no [MASK] token: {text:?}");
    }
    if ids.len() > cfg.data.seq_len && cfg.model.positions == "learned" {
        bail!(
            "the text is {} tokens with [CLS] and [SEP], longer than the model's data.seq_len = {}",
            ids.len(),
            cfg.data.seq_len
        );
    }
    let found = model.fill_mask(ids, special.mask, top);
    let token = |id: u32| {
        tokenizer
            .id_to_token(id)
            .unwrap_or_else(|| format!("#{id}"))
    };
    let mut out = String::new();
    if json {
        let masks: Vec<serde_json::Value> = found
            .iter()
            .map(|m| {
                serde_json::Value::Array(
                    m.iter()
                        .map(|&(id, score)| serde_json::json!({"token": token(id), "score": score}))
                        .collect(),
                )
            })
            .collect();
        out.push_str(&serde_json::Value::Array(masks).to_string());
        out.push('\n');
    } else {
        for (k, m) in found.iter().enumerate() {
            for &(id, score) in m {
                out.push_str(&format!("[MASK] {}\t{}\t{score:.4}\n", k + 1, token(id)));
            }
        }
    }
    crate::cmd::queries::emit(&out)
}
