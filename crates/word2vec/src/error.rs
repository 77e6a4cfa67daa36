//! The one error type of the crate: every failure names the file (and where it helps, the line
//! or record) so the binary can print it as a single line.

use std::path::PathBuf;

/// Everything that can go wrong while reading a corpus, training, or reading/writing vectors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O failure on a named file. The I/O error is part of the message, not a separate
    /// `source`, so an error chain prints it once.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file being read or written.
        path: PathBuf,
        /// The underlying error.
        cause: std::io::Error,
    },
    /// The corpus path names a directory, not a file.
    #[error("{}: is a directory, expected a .txt or .gz corpus file", .0.display())]
    IsDirectory(PathBuf),
    /// The corpus holds no tokens at all.
    #[error("{}: the corpus is empty (no tokens)", .0.display())]
    EmptyCorpus(PathBuf),
    /// No word of the corpus survives `min_count`.
    #[error(
        "{}: no word occurs at least {min_count} times ({distinct} distinct words); lower data.min_count",
        path.display()
    )]
    NoVocabulary {
        /// The corpus.
        path: PathBuf,
        /// The threshold that removed every word.
        min_count: u64,
        /// How many distinct words the corpus has.
        distinct: usize,
    },
    /// A vectors or evaluation file that does not follow its format.
    #[error("{}: {message}", path.display())]
    Format {
        /// The offending file.
        path: PathBuf,
        /// What is wrong and where (line or record number).
        message: String,
    },
    /// A query word that the vectors do not contain.
    #[error("word not in vocabulary: {0:?}")]
    UnknownWord(String),
    /// A parameter out of its allowed range, from the params' `validate` (the binary validates
    /// its config first; this protects library users).
    #[error("invalid parameter: {0}")]
    Param(#[from] common::InvalidParam),
    /// Inputs that do not fit together or cannot be served, beyond one parameter's range: a
    /// matrix too large to allocate, an empty vocabulary, data that does not match its shape.
    #[error("invalid parameter: {0}")]
    InvalidParameter(String),
    /// The GPU could not be opened (no adapter, no driver, not built in).
    #[error(transparent)]
    Device(#[from] common::GpuError),
    /// The run stopped because its observer asked it to (a signal); its checkpoint, if it
    /// keeps one, holds everything up to `words_done`.
    #[error("stopped at {words_done} words{}", checkpoint.as_ref().map_or(String::new(), |p| format!("; the checkpoint is {}", p.display())))]
    Stopped {
        /// Vocabulary words read when it stopped.
        words_done: u64,
        /// The checkpoint written as it stopped.
        checkpoint: Option<PathBuf>,
    },
    /// The loss became NaN or infinite (the learning rate is too high for the data, or the
    /// weights were damaged); nothing was written after the fault.
    #[error(
        "the loss became NaN or infinite in epoch {epoch}, before {words_done} words; the last good checkpoint is {last_good}; lower train.alpha and resume from it"
    )]
    NonFinite {
        /// The epoch it happened in.
        epoch: usize,
        /// Vocabulary words read when it was noticed.
        words_done: u64,
        /// The last checkpoint written, and at how many words (or "none").
        last_good: String,
    },
    /// The GPU failed while it trained (device lost, out of memory), or cannot serve the model.
    #[error("GPU: {0}")]
    Gpu(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            cause: source,
        }
    }

    /// A format error in `path`.
    pub(crate) fn format(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Format {
            path: path.into(),
            message: message.into(),
        }
    }
}
