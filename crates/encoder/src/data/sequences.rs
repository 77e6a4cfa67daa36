//! The training and held-out sequences of a run: the corpus's token stream packed into
//! sequences, and `data.valid` packed the same way, or else the last `data.valid_fraction` of
//! the corpus's sequences held out.

use std::path::Path;

use tokenizers::Tokenizer;

use super::stream::{DataError, pack, token_stream};
use super::tokenizer::SpecialIds;
use crate::config::DataConfig;

/// Packed sequences of `data.seq_len` ids each, `[CLS] … [SEP]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sequences {
    /// What the model trains on.
    pub train: Vec<Vec<u32>>,
    /// What it is evaluated on.
    pub valid: Vec<Vec<u32>>,
}

impl Sequences {
    /// Tokenizes (or reads from the cache in `cache_dir`) the corpus and the held-out text of
    /// `data`, and packs them.
    pub fn prepare(
        data: &DataConfig,
        tokenizer: &Tokenizer,
        special: &SpecialIds,
        cache_dir: &Path,
    ) -> Result<Self, DataError> {
        let packed = |path: &Path| {
            let stream = token_stream(path, tokenizer, special, cache_dir)?;
            pack(&stream, data.seq_len, special, path)
        };
        let mut train = packed(&data.corpus)?;
        let valid = match &data.valid {
            Some(path) => packed(path)?,
            None => {
                let n = ((train.len() as f64 * data.valid_fraction).ceil() as usize).max(1);
                if train.len() <= n {
                    return Err(DataError::NothingLeftToTrain {
                        path: data.corpus.clone(),
                        sequences: train.len(),
                        seq_len: data.seq_len,
                        valid_fraction: data.valid_fraction,
                    });
                }
                train.split_off(train.len() - n)
            }
        };
        Ok(Sequences { train, valid })
    }
}
