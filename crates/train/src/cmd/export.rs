//! `train export`: an encoder run as a Hugging Face model folder.

use std::path::Path;

use anyhow::{Context, Result};
use encoder::RunDir;

/// `train export`: writes the newest weights and the tokenizer of the encoder run in `run` as a
/// `BertForMaskedLM` folder `out` that transformers' `from_pretrained` loads.
pub fn run(run: &Path, out: &Path) -> Result<()> {
    let exported = encoder::export_huggingface(&RunDir::new(run), out)
        .with_context(|| format!("exporting {} to {}", run.display(), out.display()))?;
    let tied = if exported.tied {
        "output matrix tied to the input embeddings"
    } else {
        "untied output matrix (the token scale is folded into the input embeddings)"
    };
    eprintln!(
        "exported {} to {}: {} tensors, {} parameters, {tied}\n\
         load it with transformers: AutoModelForMaskedLM.from_pretrained({:?})",
        exported.weights.display(),
        out.display(),
        exported.tensors,
        exported.parameters,
        out.display().to_string(),
    );
    Ok(())
}
