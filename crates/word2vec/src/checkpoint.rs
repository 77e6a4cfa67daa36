//! Word2Vec checkpoints: everything a run needs to continue exactly where it stopped — both
//! matrices, the vocabulary, the corpus position, the words done and the workers' generators.
//!
//! The file is `checkpoint.w2v` in the run folder, replaced atomically (temporary name, then
//! rename), so a run killed at any moment leaves the previous complete checkpoint. Its layout,
//! little-endian: the magic `W2VCKPT1`; a `u32` header length and the header as JSON
//! ([`Progress`]); per vocabulary word a `u32` byte length, the UTF-8 bytes and a `u64` count;
//! then the input, negative-sampling and hierarchical-softmax matrices as `f32`s. A reader
//! checks every size against the file's length before it allocates, so a damaged or hostile
//! file is an error naming the file and the byte offset, never a huge allocation.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::corpus::MAX_TOKEN_BYTES;
use crate::error::{Error, Result};
use crate::params::{ModelParams, TrainParams};
use crate::vocab::Vocab;

/// The checkpoint's file name in a run folder.
pub const CHECKPOINT_FILE: &str = "checkpoint.w2v";

/// The first bytes of a checkpoint (the digit is the layout's version).
const MAGIC: &[u8; 8] = b"W2VCKPT1";

/// The largest header a reader accepts (a real one is a few hundred bytes).
const MAX_HEADER_BYTES: u32 = 1 << 20;

/// Where a run stands: the part of a checkpoint that is not weights or vocabulary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    /// The model the weights belong to.
    pub model: ModelParams,
    /// The optimisation settings of the run that wrote it (a resumed run may change `epochs`,
    /// `alpha`, `min_alpha`, `alpha_hold`, `threads`, `device`, `log_every_secs`, `batch_words`
    /// and `checkpoint_every_words`; not `sample` or `seed`).
    pub train: TrainParams,
    /// The epoch in progress, from 1 (`epochs + 1` once the last one has ended).
    pub epoch: usize,
    /// Sentences of `epoch` already trained (the corpus position: a resumed run skips them).
    pub sentences: u64,
    /// Vocabulary words read since the run started (the learning rate's clock).
    pub words_done: u64,
    /// `words_done` when `epoch` started (for its summary).
    pub epoch_words_before: u64,
    /// The epoch's summed loss so far.
    pub epoch_loss: f64,
    /// The epoch's training examples so far.
    pub epoch_examples: u64,
    /// Mid-epoch, where the engine's random streams stand (empty at an epoch's start, when
    /// they follow from the run's seed): the CPU engine's worker generators, one a thread; the
    /// GPU engine's subsampling generator and the number of batches launched.
    pub rngs: Vec<u64>,
    /// The corpus's size in bytes when the run started: a resumed run refuses a corpus that
    /// changed, whose sentences would no longer be the ones the position counts.
    #[serde(default)]
    pub corpus_bytes: u64,
    /// Rows of the negative-sampling output matrix (0 when unused).
    pub negative_rows: usize,
    /// Rows of the hierarchical-softmax matrix (0 when unused).
    pub hs_rows: usize,
    /// Vocabulary words.
    pub vocab_words: usize,
}

impl Progress {
    /// Where a run stands once the epoch it is in has ended: the next epoch, at its start.
    pub(crate) fn next_epoch(self) -> Progress {
        Progress {
            epoch: self.epoch + 1,
            sentences: 0,
            epoch_words_before: self.words_done,
            epoch_loss: 0.0,
            epoch_examples: 0,
            rngs: Vec::new(),
            ..self
        }
    }
}

/// The weights a checkpoint holds, row-major, `dim` floats per row.
#[derive(Debug, Clone, PartialEq)]
pub struct Weights {
    /// The input vectors (the word vectors), one row per vocabulary word.
    pub input: Vec<f32>,
    /// Negative sampling's output vectors, or empty.
    pub negative: Vec<f32>,
    /// Hierarchical softmax's inner-node vectors, or empty.
    pub hs: Vec<f32>,
}

/// The longest vocabulary word: the corpus reader cuts a token at `MAX_TOKEN_BYTES` raw bytes,
/// and replacing invalid UTF-8 (3 bytes a byte) or lowercasing can make it longer.
const MAX_WORD_BYTES: usize = 4 * MAX_TOKEN_BYTES;

/// A checkpoint as read from a file: what [`crate::train_checkpointed`] continues from.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    /// Where the run stands.
    pub progress: Progress,
    /// The vocabulary the run trains (a resumed run does not count the corpus again).
    pub vocab: Vocab,
    /// The matrices.
    pub weights: Weights,
}

/// Writes a checkpoint of `weights` (input, negative sampling, hierarchical softmax) to `path`
/// atomically and durably: a temporary file, synced to the disk, then renamed over the
/// previous checkpoint, which stays whole until the new one is (also across a power cut).
pub(crate) fn write(
    path: &Path,
    progress: &Progress,
    vocab: &Vocab,
    weights: [&[f32]; 3],
) -> Result<()> {
    common::replace_with(path, |temp| -> std::io::Result<()> {
        let mut out = BufWriter::new(File::create(temp)?);
        let header = serde_json::to_vec(progress).map_err(std::io::Error::other)?;
        out.write_all(MAGIC)?;
        out.write_all(&(header.len() as u32).to_le_bytes())?;
        out.write_all(&header)?;
        for (word, &count) in vocab.words().iter().zip(vocab.counts()) {
            out.write_all(&(word.len() as u32).to_le_bytes())?;
            out.write_all(word.as_bytes())?;
            out.write_all(&count.to_le_bytes())?;
        }
        for matrix in weights {
            write_floats(&mut out, matrix)?;
        }
        out.into_inner().map_err(|e| e.into_error())?.sync_all()
    })
    .map_err(|e| Error::io(path, e))
}

/// Writes `values` as little-endian `f32`s.
fn write_floats(out: &mut BufWriter<File>, values: &[f32]) -> std::io::Result<()> {
    let mut bytes = Vec::with_capacity(4096 * 4);
    for chunk in values.chunks(4096) {
        bytes.clear();
        bytes.extend(chunk.iter().flat_map(|v| v.to_le_bytes()));
        out.write_all(&bytes)?;
    }
    Ok(())
}

impl Weights {
    /// The three matrices as slices, in the order a checkpoint stores them.
    pub fn as_slices(&self) -> [&[f32]; 3] {
        [&self.input, &self.negative, &self.hs]
    }
}

impl Checkpoint {
    /// Reads the checkpoint at `path`, checking its sizes against the file's length first.
    pub fn read(path: &Path) -> Result<Self> {
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        Self::read_from(path, BufReader::new(file), len)
    }

    /// Reads a checkpoint of `len` bytes from `reader`; `path` names errors.
    pub fn read_from(path: &Path, reader: impl Read, len: u64) -> Result<Self> {
        let mut r = Reader {
            path: path.to_path_buf(),
            inner: reader,
            offset: 0,
            len,
        };
        let mut magic = [0u8; 8];
        r.bytes(&mut magic)?;
        if &magic != MAGIC {
            return Err(r.error("not a Word2Vec checkpoint (bad magic)"));
        }
        let header_len = r.u32()?;
        if header_len > MAX_HEADER_BYTES || u64::from(header_len) > r.left() {
            return Err(r.error(format!("header length {header_len} is impossible")));
        }
        let mut header = vec![0u8; header_len as usize];
        r.bytes(&mut header)?;
        let progress: Progress = serde_json::from_slice(&header)
            .map_err(|e| r.error(format!("bad header before this offset: {e}")))?;
        progress
            .model
            .validate()
            .map_err(|e| r.error(format!("the header's model: {e}")))?;
        if progress.epoch == 0 || progress.epoch_words_before > progress.words_done {
            return Err(r.error("the header's position is impossible"));
        }
        // Each word takes at least 13 bytes (length, one byte, count).
        let matrix_bytes = matrix_bytes(&progress);
        let needed = matrix_bytes.and_then(|m| {
            (progress.vocab_words as u64)
                .checked_mul(13)
                .and_then(|v| v.checked_add(m))
        });
        let (Some(matrix_bytes), Some(needed)) = (matrix_bytes, needed) else {
            return Err(r.error("the header's sizes are impossible"));
        };
        if needed > r.left() {
            return Err(r.error(format!(
                "the header claims {} words and {matrix_bytes} bytes of weights, more than the file holds",
                progress.vocab_words
            )));
        }
        let vocab = r.vocab(progress.vocab_words, r.left() - matrix_bytes)?;
        let dim = progress.model.dim;
        let weights = Weights {
            input: r.floats(progress.vocab_words * dim)?,
            negative: r.floats(progress.negative_rows * dim)?,
            hs: r.floats(progress.hs_rows * dim)?,
        };
        if r.left() != 0 {
            return Err(r.error(format!("{} unexpected bytes after the weights", r.left())));
        }
        Ok(Checkpoint {
            progress,
            vocab,
            weights,
        })
    }
}

/// The bytes of the three matrices `progress` describes, if that fits in a `u64` and the
/// negative-sampling matrix has no rows or one per word.
fn matrix_bytes(p: &Progress) -> Option<u64> {
    if p.negative_rows != 0 && p.negative_rows != p.vocab_words {
        return None;
    }
    let rows = (p.vocab_words as u64)
        .checked_add(p.negative_rows as u64)?
        .checked_add(p.hs_rows as u64)?;
    rows.checked_mul(p.model.dim as u64)?.checked_mul(4)
}

/// A checkpoint being read: the byte offset for errors and the bytes left for bounds.
struct Reader<R> {
    path: PathBuf,
    inner: R,
    offset: u64,
    len: u64,
}

impl<R: Read> Reader<R> {
    /// An error at the current offset.
    fn error(&self, message: impl std::fmt::Display) -> Error {
        Error::format(&self.path, format!("byte {}: {message}", self.offset))
    }

    /// Bytes not read yet.
    fn left(&self) -> u64 {
        self.len.saturating_sub(self.offset)
    }

    /// Fills `buf`; a short file is an error.
    fn bytes(&mut self, buf: &mut [u8]) -> Result<()> {
        self.inner.read_exact(buf).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => self.error("the file ends early (truncated?)"),
            _ => Error::io(&self.path, e),
        })?;
        self.offset += buf.len() as u64;
        Ok(())
    }

    fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        self.bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        self.bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    /// `words` vocabulary entries in at most `budget` bytes, in count order, each word once.
    fn vocab(&mut self, words: usize, budget: u64) -> Result<Vocab> {
        let end = self.offset + budget;
        let mut entries = Vec::with_capacity(words);
        let mut total = 0u64;
        for _ in 0..words {
            let len = self.u32()? as usize;
            if len == 0 || len > MAX_WORD_BYTES || (self.offset + len as u64 + 8) > end {
                return Err(self.error(format!("word length {len} is impossible")));
            }
            let mut bytes = vec![0u8; len];
            self.bytes(&mut bytes)?;
            let word = String::from_utf8(bytes).map_err(|_| self.error("a word is not UTF-8"))?;
            let count = self.u64()?;
            // The corpus's word count: found by fuzzing, counts whose sum overflows.
            total = total
                .checked_add(count)
                .ok_or_else(|| self.error("the word counts add up to more than 2^64"))?;
            entries.push((word, count));
        }
        let vocab = Vocab::from_counts(entries.iter().cloned(), 1, 0);
        if vocab.len() != words || !vocab.words().iter().eq(entries.iter().map(|(w, _)| w)) {
            return Err(self.error("the vocabulary is not in count order or repeats a word"));
        }
        Ok(vocab)
    }

    /// `n` little-endian floats (the caller has checked that the file holds them).
    fn floats(&mut self, n: usize) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(n);
        let mut buf = vec![0u8; 4 * 4096];
        while out.len() < n {
            let take = (n - out.len()).min(4096);
            self.bytes(&mut buf[..take * 4])?;
            let chunk = buf[..take * 4].chunks_exact(4);
            out.extend(chunk.map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> (Progress, Vocab, Weights) {
        let vocab = Vocab::from_counts([("b".to_string(), 2), ("a".to_string(), 5)], 1, 0);
        let model = ModelParams {
            dim: 2,
            ..ModelParams::default()
        };
        let progress = Progress {
            model,
            train: TrainParams::default(),
            epoch: 2,
            sentences: 7,
            words_done: 40,
            epoch_words_before: 30,
            epoch_loss: 1.5,
            epoch_examples: 3,
            rngs: vec![1, u64::MAX],
            corpus_bytes: 1234,
            negative_rows: 2,
            hs_rows: 0,
            vocab_words: 2,
        };
        let weights = Weights {
            input: vec![0.5, -1.0, f32::MIN_POSITIVE, 3.0],
            negative: vec![0.0, 1.0, 2.0, -0.25],
            hs: Vec::new(),
        };
        (progress, vocab, weights)
    }

    #[test]
    fn a_checkpoint_reads_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CHECKPOINT_FILE);
        let (progress, vocab, weights) = sample();
        write(&path, &progress, &vocab, weights.as_slices()).unwrap();
        let back = Checkpoint::read(&path).unwrap();
        assert_eq!(back.progress, progress);
        assert_eq!(back.vocab.words(), vocab.words());
        assert_eq!(back.vocab.counts(), vocab.counts());
        assert_eq!(back.weights, weights);
    }

    #[test]
    fn a_word_that_decoding_made_long_reads_back() {
        // 1000 invalid bytes become 1000 U+FFFD: 3000 bytes, a word the corpus reader can make.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CHECKPOINT_FILE);
        let (progress, _, weights) = sample();
        let long = "\u{fffd}".repeat(MAX_TOKEN_BYTES);
        let vocab = Vocab::from_counts([(long.clone(), 5), ("b".to_string(), 2)], 1, 0);
        write(&path, &progress, &vocab, weights.as_slices()).unwrap();
        assert_eq!(Checkpoint::read(&path).unwrap().vocab.words()[0], long);
    }

    #[test]
    fn damaged_files_are_errors_with_the_offset() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(CHECKPOINT_FILE);
        let (mut progress, vocab, weights) = sample();
        write(&path, &progress, &vocab, weights.as_slices()).unwrap();
        let good = std::fs::read(&path).unwrap();
        let read_err = |bytes: &[u8]| {
            std::fs::write(&path, bytes).unwrap();
            Checkpoint::read(&path).unwrap_err().to_string()
        };
        let e = read_err(&good[..good.len() - 3]);
        assert!(
            e.contains("byte ") && e.contains("more than the file holds"),
            "{e}"
        );
        let e = read_err(&good[..20]);
        assert!(e.contains("byte 12: header length 4"), "{e}");
        let e = read_err(b"W2VCKPT0rest");
        assert!(e.contains("bad magic"), "{e}");
        let mut huge_header = good.clone();
        huge_header[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(read_err(&huge_header).contains("header length"));
        // A header that claims 10^12 words is an error before any allocation.
        progress.vocab_words = 1_000_000_000_000;
        progress.negative_rows = 1_000_000_000_000;
        write(&path, &progress, &vocab, weights.as_slices()).unwrap();
        let e = Checkpoint::read(&path).unwrap_err().to_string();
        assert!(e.contains("more than the file holds"), "{e}");
        // Counts whose sum overflows (found by fuzzing): an error, not a panic.
        let mut counts = good.clone();
        let first_count = 12 + u32::from_le_bytes(good[8..12].try_into().unwrap()) as usize + 5;
        for at in [first_count, first_count + 13] {
            counts[at..at + 8].copy_from_slice(&(u64::MAX / 2 + 1).to_le_bytes());
        }
        let e = read_err(&counts);
        assert!(e.contains("add up to more than 2^64"), "{e}");
        let mut extra = good.clone();
        extra.push(0);
        assert!(read_err(&extra).contains("unexpected bytes"));
        assert!(e.starts_with(&path.display().to_string()), "{e}");
    }
}
