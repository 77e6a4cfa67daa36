//! The crate's errors: one enum for what [`crate::pretrain`] and the run-folder API can fail
//! with, wrapping each part's own error, so a caller can tell a bad input from a failed
//! checkpoint.

use std::path::PathBuf;

use crate::data::stream::DataError;
use crate::data::tokenizer::TokenizerError;
use crate::model::ModelError;

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

/// Everything the encoder's training can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Tokenizing or packing the text failed.
    #[error(transparent)]
    Data(#[from] DataError),
    /// Training or loading the tokenizer failed.
    #[error(transparent)]
    Tokenizer(#[from] TokenizerError),
    /// Saving or loading weights failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// Writing or reading a checkpoint failed.
    #[error(transparent)]
    Checkpoint(#[from] CheckpointError),
    /// A run's tokenizer and weights disagree on the vocabulary size.
    #[error("{}: {tokens} tokens, but the model has {rows} rows: the two are not from one run", path.display())]
    VocabMismatch {
        /// The tokenizer file.
        path: PathBuf,
        /// Tokens in the tokenizer.
        tokens: usize,
        /// Rows of the model's embedding matrix.
        rows: usize,
    },
    /// There are no training sequences.
    #[error("no training sequences")]
    NoTrainingData,
    /// A step's loss or gradient norm was NaN or infinite, and `train.skip_nonfinite` is off;
    /// the step was not applied.
    #[error(
        "step {step}: the {what} is {value} (not finite); the step was not applied. Resume with a lower train.lr, or with train.skip_nonfinite = true to skip such steps"
    )]
    NonFinite {
        /// The step.
        step: u64,
        /// "loss" or "gradient norm".
        what: &'static str,
        /// Its value.
        value: f64,
    },
    /// The checkpoint's data position is damaged.
    #[error("the checkpoint's data position is damaged: {0}")]
    BadPosition(String),
    /// The checkpoint being resumed was made with another number of training sequences.
    #[error(
        "the checkpoint was made with {checkpoint} training sequences, but the data now gives {now}; the data changed"
    )]
    DataChanged {
        /// Sequences when the checkpoint was made.
        checkpoint: usize,
        /// Sequences now.
        now: usize,
    },
}
