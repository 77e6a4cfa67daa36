//! The BERT-style Transformer encoder and its masked-language-model pretraining, on burn.
//!
//! A newcomer reads, in order: [`config`] (every setting, typed), [`data`] (tokenizer → cached
//! token stream → packed sequences → masked batches), [`model`] (embeddings, attention,
//! encoder layers, the tied MLM head), [`train`] (the loop: schedule, sharded gradients,
//! AdamW with global clipping, evaluation), [`checkpoint`] and [`run_dir`] (what a run leaves
//! on disk), [`export`] (a run as a Hugging Face `BertForMaskedLM` folder).
//!
//! The library knows nothing of TOML, the command line or TensorBoard: the binary reads the
//! config into [`Config`], builds the pieces below and reports through a [`train::Observer`].

pub mod checkpoint;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod export;
pub mod model;
pub mod run_dir;
pub mod train;

/// The burn device type, re-exported so that callers need not depend on burn.
pub use burn::prelude::Device;
pub use config::{
    Config, DataConfig, DeviceKind, Init, ModelConfig, NormPlacement, Positions, Schedule,
    TokenizerConfig, TokenizerKind, TrainConfig,
};
pub use data::batch::Masker;
pub use data::masking::MaskingConfig;
pub use data::sequences::Sequences;
pub use data::tokenizer::{SPECIAL_TOKENS, SpecialIds, load_tokenizer, train_tokenizer};
#[cfg(feature = "ndarray")]
pub use device::ndarray_device;
pub use device::{DeviceError, DeviceInfo, cpu_device};
pub use error::{CheckpointError, Error};
pub use export::{ExportError, Exported, export_huggingface};
pub use model::{MlmModel, ModelShape};
pub use run_dir::{RunDir, TrainedRun};
/// The tokenizer type, re-exported so that callers need not depend on `tokenizers`.
pub use tokenizers::Tokenizer;
pub use train::eval::EvalReport;
pub use train::position::Position;
pub use train::{Observer, Outcome, Pretraining, Resume, Snapshot, StepReport, pretrain};
#[cfg(test)]
mod test_support;
