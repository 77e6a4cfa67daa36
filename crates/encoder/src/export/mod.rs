//! Export of a trained encoder to a Hugging Face model folder, so that transformers'
//! `AutoModelForMaskedLM.from_pretrained(folder)` and `AutoTokenizer.from_pretrained(folder)`
//! load it and its `fill-mask` pipeline answers as `train fill-mask` does:
//!
//! ```text
//! config.json               BertForMaskedLM's config (hf_config::model_config)
//! model.safetensors         the weights under BERT's names (tensors::hf_tensors)
//! tokenizer.json            the run's tokenizer, byte for byte
//! tokenizer_config.json     the special tokens and maximum length, for AutoTokenizer
//! special_tokens_map.json   the special tokens again, as older transformers read them
//! ```
//!
//! Only post-LN models map onto BERT; a pre-LN model is refused. The folder is written under a
//! temporary name beside `out` and renamed when complete, so a failed export leaves nothing.

mod hf_config;
mod tensors;

pub use tensors::{HfTensor, HfTensors, hf_tensors};

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::config::NormPlacement;
use crate::device::cpu_device;
use crate::error::Error;
use crate::model::ModelError;
use crate::run_dir::RunDir;
use burn::module::Module;

/// The weights file's name, as transformers looks for it.
const WEIGHTS: &str = "model.safetensors";

/// Why a run could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The run's weights are pre-LN, which BERT's layers cannot express.
    #[error(
        "{}: the model is pre-LN (model.norm = \"pre\"); BERT's layers put the LayerNorm after each residual, so only post-LN models can be exported",
        path.display()
    )]
    PreNorm {
        /// The weights file.
        path: PathBuf,
    },
    /// `out` exists and is not an empty folder: nothing is overwritten.
    #[error("{}: {what}; choose another --out or remove it", path.display())]
    OutExists {
        /// The output path.
        path: PathBuf,
        /// "is a file" or "exists and is not empty".
        what: &'static str,
    },
    /// Loading the run's tokenizer and weights failed, or they do not belong together.
    #[error(transparent)]
    Run(#[from] Error),
    /// The weights have a parameter BERT has not.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Writing the folder failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// What [`export_huggingface`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exported {
    /// The weights file of the run that was exported (its newest).
    pub weights: PathBuf,
    /// Tensors in `model.safetensors`.
    pub tensors: usize,
    /// Parameters of the model exported (ours: an untied decoder, the zero token types and a
    /// sinusoidal table make the file hold more numbers).
    pub parameters: usize,
    /// Whether the output matrix is tied to the input embeddings.
    pub tied: bool,
}

/// Exports the newest weights of the encoder run `run` (the final model or the newest
/// checkpoint, as `train fill-mask` loads) and its tokenizer into the new folder `out`
/// (its parent folders are created if needed).
pub fn export_huggingface(run: &RunDir, out: &Path) -> Result<Exported, ExportError> {
    refuse_existing(out)?;
    let trained = run.load_trained(&cpu_device())?;
    let shape = trained.model.shape();
    if shape.model.norm == NormPlacement::Pre {
        return Err(ExportError::PreNorm {
            path: trained.weights,
        });
    }
    let tensors = hf_tensors(&trained.model).map_err(|message| ModelError::Format {
        path: trained.weights.clone(),
        message,
    })?;
    let files = [
        (
            "config.json",
            hf_config::model_config(shape, &tensors, &trained.special),
        ),
        (
            "tokenizer_config.json",
            hf_config::tokenizer_config(&tensors),
        ),
        ("special_tokens_map.json", hf_config::special_tokens_map()),
    ];
    write_folder(out, &files, &run.tokenizer(), &tensors.tensors)?;
    Ok(Exported {
        weights: trained.weights.clone(),
        tensors: tensors.tensors.len(),
        parameters: trained.model.num_params(),
        tied: tensors.tied,
    })
}

/// The error of writing or reading `path`.
fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ExportError {
    let path = path.to_path_buf();
    move |source| ExportError::Io { path, source }
}

/// Writes the JSON `files`, a copy of `tokenizer` and the `tensors` into a temporary folder
/// beside `out`, then renames it to `out`.
fn write_folder(
    out: &Path,
    files: &[(&str, serde_json::Value)],
    tokenizer: &Path,
    tensors: &[HfTensor],
) -> Result<(), ExportError> {
    let parent = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let temp = tempfile::Builder::new()
        .prefix(".export-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    for (name, json) in files {
        let path = temp.path().join(name);
        let text = serde_json::to_string_pretty(json).map_err(std::io::Error::other);
        text.and_then(|t| std::fs::write(&path, t + "\n"))
            .map_err(io(&path))?;
    }
    let bytes = std::fs::read(tokenizer).map_err(io(tokenizer))?;
    let copy = temp.path().join("tokenizer.json");
    std::fs::write(&copy, bytes).map_err(io(&copy))?;
    write_safetensors(&temp.path().join(WEIGHTS), tensors)?;
    if out.is_dir() {
        std::fs::remove_dir(out).map_err(io(out))?;
    }
    std::fs::rename(temp.path(), out).map_err(io(out))?;
    // The folder now lives under its final name; there is nothing left to clean up.
    let _ = temp.keep();
    Ok(())
}

/// An error unless `out` is absent or an empty folder.
fn refuse_existing(out: &Path) -> Result<(), ExportError> {
    let exists = |what| ExportError::OutExists {
        path: out.to_path_buf(),
        what,
    };
    match std::fs::read_dir(out) {
        Ok(mut entries) => match entries.next() {
            None => Ok(()),
            Some(_) => Err(exists("exists and is not empty")),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(_) if out.is_file() => Err(exists("is a file")),
        Err(source) => Err(ExportError::Io {
            path: out.to_path_buf(),
            source,
        }),
    }
}

/// Writes `tensors` as 32-bit floats in the safetensors format, with the `format: pt` metadata
/// transformers expects of PyTorch weights.
fn write_safetensors(path: &Path, tensors: &[HfTensor]) -> Result<(), ExportError> {
    let failed = |e: safetensors::SafeTensorError| io(path)(std::io::Error::other(e.to_string()));
    let bytes: Vec<Vec<u8>> = tensors
        .iter()
        .map(|t| t.values.iter().flat_map(|v| v.to_le_bytes()).collect())
        .collect();
    let views = tensors
        .iter()
        .zip(&bytes)
        .map(|(t, b)| {
            let view =
                safetensors::tensor::TensorView::new(safetensors::Dtype::F32, t.dims.clone(), b);
            view.map(|v| (t.name.clone(), v))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(failed)?;
    let metadata = HashMap::from([("format".to_string(), "pt".to_string())]);
    safetensors::serialize_to_file(views, Some(metadata), path).map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Init, TokenizerConfig};
    use crate::data::tokenizer::train_tokenizer;
    use crate::model::MlmModel;
    use crate::test_support::tiny_shape;
    use burn::prelude::Device;

    /// A run folder with a tokenizer trained on a few lines and a fresh model of `norm`
    /// saved as its final weights.
    fn run_with(dir: &Path, norm: NormPlacement, vocab_rows: Option<usize>) -> RunDir {
        let run = RunDir::new(dir.join("run"));
        std::fs::create_dir_all(run.root()).unwrap();
        let corpus = dir.join("c.txt");
        std::fs::write(
            &corpus,
            "the cat sat on the mat\nthe dog ran to the barn\n".repeat(20),
        )
        .unwrap();
        let spec = TokenizerConfig {
            vocab_size: 60,
            ..TokenizerConfig::default()
        };
        let (tokenizer, _) = train_tokenizer(&corpus, &spec, &run.tokenizer()).unwrap();
        let rows = vocab_rows.unwrap_or(tokenizer.get_vocab_size(true));
        let mut shape = tiny_shape(rows, 8, 16);
        shape.model.norm = norm;
        shape.model.init = Init::Scaled;
        shape.init(&Device::flex()).save(&run.weights()).unwrap();
        run
    }

    #[test]
    fn a_post_ln_run_exports_berts_files_and_weights() {
        let tmp = tempfile::tempdir().unwrap();
        let run = run_with(tmp.path(), NormPlacement::Post, None);
        // Parent folders are made as needed.
        let out = tmp.path().join("models/hf");
        let exported = export_huggingface(&run, &out).unwrap();
        assert_eq!(exported.weights, run.weights());
        assert!(!exported.tied);
        // The weights read back with the safetensors crate are the mapped tensors.
        let bytes = std::fs::read(out.join(WEIGHTS)).unwrap();
        let file = safetensors::SafeTensors::deserialize(&bytes).unwrap();
        let model = MlmModel::load(&run.weights(), &Device::flex()).unwrap();
        let expected = hf_tensors(&model).unwrap();
        assert_eq!(file.len(), expected.tensors.len());
        assert_eq!(exported.tensors, expected.tensors.len());
        assert_eq!(exported.parameters, model.num_params());
        for t in &expected.tensors {
            let view = file.tensor(&t.name).unwrap();
            assert_eq!(view.shape(), t.dims.as_slice(), "{}", t.name);
            let values: Vec<f32> = view
                .data()
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            assert_eq!(values, t.values, "{}", t.name);
        }
        let config: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap())
                .unwrap();
        assert_eq!(config["architectures"][0], "BertForMaskedLM");
        assert_eq!(config["vocab_size"], model.shape().vocab_size);
        assert_eq!(config["max_position_embeddings"], 512);
        assert_eq!(config["tie_word_embeddings"], false);
        assert_eq!(config["layer_norm_eps"], 1e-5);
        assert_eq!(
            std::fs::read(out.join("tokenizer.json")).unwrap(),
            std::fs::read(run.tokenizer()).unwrap()
        );
        let tokenizer_config = std::fs::read_to_string(out.join("tokenizer_config.json")).unwrap();
        assert!(tokenizer_config.contains("\"mask_token\": \"[MASK]\""));
        assert!(out.join("special_tokens_map.json").is_file());
        // A second export into the same folder is refused and changes nothing; nothing is left
        // beside it.
        let e = export_huggingface(&run, &out).unwrap_err().to_string();
        assert!(e.contains("hf") && e.contains("not empty"), "{e}");
        assert_eq!(std::fs::read(out.join(WEIGHTS)).unwrap(), bytes);
        let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("models"))
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().starts_with(".export-"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn pre_ln_models_and_mismatched_tokenizers_are_refused_without_output() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("hf");
        let run = run_with(tmp.path(), NormPlacement::Pre, None);
        let e = export_huggingface(&run, &out).unwrap_err().to_string();
        assert!(
            e.contains("model.bpk") && e.contains("pre-LN") && !e.contains('\n'),
            "{e}"
        );
        assert!(!out.exists());
        let other = tempfile::tempdir().unwrap();
        let run = run_with(other.path(), NormPlacement::Post, Some(7));
        let e = export_huggingface(&run, &out).unwrap_err().to_string();
        assert!(e.contains("tokenizer.json") && e.contains("7 rows"), "{e}");
        assert!(!out.exists());
        std::fs::write(&out, "x").unwrap();
        let run = run_with(tmp.path(), NormPlacement::Post, None);
        let e = export_huggingface(&run, &out).unwrap_err().to_string();
        assert!(e.contains("hf: is a file"), "{e}");
    }
}
