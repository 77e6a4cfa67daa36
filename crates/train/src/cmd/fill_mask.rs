//! `train fill-mask`: the most likely tokens for each `[MASK]` of a text, from an encoder run.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use encoder::{DeviceKind, Positions, RunDir, TrainedRun};

/// `train fill-mask`: the `top` most likely tokens for each `[MASK]` of `text`, with the
/// tokenizer and newest weights (which carry their shape) of the encoder run in `run`.
pub fn run(run: &Path, text: &str, top: usize, device: &str, json: bool) -> Result<()> {
    if top == 0 {
        bail!("--top 0: allowed is N >= 1");
    }
    let kind: DeviceKind = serde_json::from_value(serde_json::Value::String(device.into()))
        .map_err(|e| anyhow!("--device {device}: {e}"))?;
    let (device, info) = kind.open().context("--device")?;
    if kind.is_gpu() {
        eprintln!("device: {info}");
    }
    let TrainedRun {
        model,
        tokenizer,
        special,
        ..
    } = RunDir::new(run)
        .load_trained(&device)
        .context("loading the run's tokenizer and model")?;
    let encoding = tokenizer
        .encode(text, true)
        .map_err(|e| anyhow!("tokenizing the text: {e}"))?;
    let ids = encoding.get_ids();
    if !ids.contains(&special.mask) {
        bail!("the text has no [MASK] token: {text:?}");
    }
    let shape = model.shape();
    if ids.len() > shape.max_len && shape.model.positions == Positions::Learned {
        bail!(
            "the text is {} tokens with [CLS] and [SEP], longer than the model's data.seq_len = {}",
            ids.len(),
            shape.max_len
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
