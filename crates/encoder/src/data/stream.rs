//! The token stream of a corpus and its packing into training sequences.
//!
//! The corpus is tokenized once (in parallel, by `tokenizers`' batch encoder) into a file of
//! little-endian `u32` ids with `[SEP]` between documents (lines), cached under a key made of
//! the corpus (path, size, modification time) and the tokenizer (its JSON), so a second run
//! with the same corpus and tokenizer reads the ids instead of tokenizing again. Sequences are
//! then cut from the stream as `[CLS] t1 … tn [SEP]`, `n = seq_len - 2`, as BERT's pretraining
//! data is packed.

use std::fs::File;
use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use tokenizers::Tokenizer;

use super::tokenizer::SpecialIds;

/// Lines handed to the tokenizer at once: enough for its thread pool, little memory.
const ENCODE_BATCH_LINES: usize = 4096;

/// Text per `encode_batch` call at most (and one piece more): the tokenizer's encodings are
/// many times the size of their text, so a batch of long lines must stay small.
const ENCODE_BATCH_BYTES: usize = 32 << 20;

/// Why the token stream could not be built or read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// Reading the corpus or reading/writing the cache failed.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The file concerned.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The tokenizer failed on the corpus.
    #[error("{}: tokenizing: {message}", path.display())]
    Tokenize {
        /// The corpus.
        path: PathBuf,
        /// The library's message.
        message: String,
    },
    /// `seq_len` leaves no room for a token between `[CLS]` and `[SEP]`.
    #[error(
        "seq_len {0} is too small: [CLS] and [SEP] need 2 positions and at least one token must fit"
    )]
    SeqLenTooSmall(usize),
    /// Holding out `valid_fraction` of the sequences would leave none to train on.
    #[error(
        "{}: {sequences} sequences of {seq_len} tokens leave nothing to train on after holding out data.valid_fraction = {valid_fraction}",
        path.display()
    )]
    NothingLeftToTrain {
        /// The corpus.
        path: PathBuf,
        /// Sequences it gives.
        sequences: usize,
        /// Their length.
        seq_len: usize,
        /// The fraction asked for.
        valid_fraction: f64,
    },
    /// A token cache that is damaged (ids beyond the vocabulary, a torn id).
    #[error("{}: byte {offset}: {message}", path.display())]
    Cache {
        /// The cache file.
        path: PathBuf,
        /// Where the first bad id starts.
        offset: usize,
        /// What is wrong.
        message: String,
    },
    /// The corpus does not fill a single sequence.
    #[error("{}: {tokens} tokens do not fill one sequence of {seq_len}", path.display())]
    TooSmall {
        /// The corpus.
        path: PathBuf,
        /// Tokens in it.
        tokens: usize,
        /// The sequence length asked for.
        seq_len: usize,
    },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> DataError + '_ {
    move |cause| DataError::Io {
        path: path.to_path_buf(),
        cause,
    }
}

/// The ids of `corpus` under `tokenizer` (documents separated by `[SEP]`), from the cache in
/// `cache_dir` when present, else tokenized now and cached.
pub fn token_stream(
    corpus: &Path,
    tokenizer: &Tokenizer,
    special: &SpecialIds,
    cache_dir: &Path,
) -> Result<Vec<u32>, DataError> {
    let cache = cache_dir.join(format!("tokens-{:016x}.u32", cache_key(corpus, tokenizer)?));
    // A cache that is not whole ids all below the vocabulary size is damaged: made again.
    let vocab = tokenizer.get_vocab_size(true);
    if let Ok(bytes) = std::fs::read(&cache)
        && let Ok(ids) = checked_ids(&cache, &bytes, vocab)
    {
        return Ok(ids);
    }
    let ids = tokenize(corpus, tokenizer, special)?;
    std::fs::create_dir_all(cache_dir).map_err(io(cache_dir))?;
    common::write_atomic(&cache, |out| {
        ids.iter()
            .try_for_each(|id| out.write_all(&id.to_le_bytes()))
    })
    .map_err(|cause| DataError::Io { path: cache, cause })?;
    Ok(ids)
}

/// Identifies a corpus file and a tokenizer: any change to either gives another cache file.
fn cache_key(corpus: &Path, tokenizer: &Tokenizer) -> Result<u64, DataError> {
    let meta = std::fs::metadata(corpus).map_err(io(corpus))?;
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::canonicalize(corpus)
        .map_err(io(corpus))?
        .hash(&mut h);
    meta.len().hash(&mut h);
    meta.modified().ok().hash(&mut h);
    tokenizer
        .to_string(false)
        .map_err(|e| DataError::Tokenize {
            path: corpus.to_path_buf(),
            message: e.to_string(),
        })?
        .hash(&mut h);
    Ok(h.finish())
}

fn tokenize(
    corpus: &Path,
    tokenizer: &Tokenizer,
    special: &SpecialIds,
) -> Result<Vec<u32>, DataError> {
    let reader = common::open_text(corpus, 1 << 16).map_err(io(corpus))?;
    let mut ids = Vec::new();
    // Pieces of lines (a long line comes in pieces, so memory does not grow with it), and
    // whether each ends its line (a document: `[SEP]` follows).
    let mut batch: Vec<(String, bool)> = Vec::with_capacity(ENCODE_BATCH_LINES);
    let mut lines = common::bounded_lines(reader);
    // Whether a document's first pieces were kept and its end not yet seen: a blank last
    // piece must still end it.
    let mut open = false;
    loop {
        batch.clear();
        let mut bytes = 0;
        while batch.len() < ENCODE_BATCH_LINES && bytes < ENCODE_BATCH_BYTES {
            let Some(piece) = lines.next() else { break };
            let (text, ends_line) = piece.map_err(io(corpus))?;
            if !text.trim().is_empty() || (open && ends_line) {
                open = !ends_line;
                bytes += text.len();
                batch.push((text, ends_line));
            }
        }
        if batch.is_empty() {
            break;
        }
        let texts: Vec<&str> = batch.iter().map(|(t, _)| t.as_str()).collect();
        let encodings = tokenizer
            .encode_batch(texts, false)
            .map_err(|e| DataError::Tokenize {
                path: corpus.to_path_buf(),
                message: e.to_string(),
            })?;
        for (e, (_, ends_line)) in encodings.iter().zip(&batch) {
            ids.extend_from_slice(e.get_ids());
            if *ends_line {
                ids.push(special.sep);
            }
        }
    }
    Ok(ids)
}

/// Cuts `stream` into sequences `[CLS] … [SEP]` of exactly `seq_len` ids (the tail that does not
/// fill one is dropped).
pub fn pack(
    stream: &[u32],
    seq_len: usize,
    special: &SpecialIds,
    corpus: &Path,
) -> Result<Vec<Vec<u32>>, DataError> {
    if seq_len < 3 {
        return Err(DataError::SeqLenTooSmall(seq_len));
    }
    let body = seq_len - 2;
    if stream.len() < body {
        return Err(DataError::TooSmall {
            path: corpus.to_path_buf(),
            tokens: stream.len(),
            seq_len,
        });
    }
    Ok(stream
        .chunks_exact(body)
        .map(|chunk| {
            let mut s = Vec::with_capacity(seq_len);
            s.push(special.cls);
            s.extend_from_slice(chunk);
            s.push(special.sep);
            s
        })
        .collect())
}

/// Reads a whole cache file (for tests and tools), checking its ids against `vocab`.
pub fn read_ids(path: &Path, vocab: usize) -> Result<Vec<u32>, DataError> {
    let mut bytes = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(io(path))?;
    checked_ids(path, &bytes, vocab)
}

/// `bytes` as little-endian ids, each below `vocab`; else an error at the first bad byte.
fn checked_ids(path: &Path, bytes: &[u8], vocab: usize) -> Result<Vec<u32>, DataError> {
    let bad = |offset: usize, message: String| DataError::Cache {
        path: path.to_path_buf(),
        offset,
        message,
    };
    if !bytes.len().is_multiple_of(4) {
        let message = format!("{} bytes is not a whole number of ids", bytes.len());
        return Err(bad(bytes.len() / 4 * 4, message));
    }
    let ids = ids_from_bytes(bytes);
    match ids.iter().position(|&id| id as usize >= vocab) {
        Some(i) => Err(bad(4 * i, format!("id {} is not below {vocab}", ids[i]))),
        None => Ok(ids),
    }
}

fn ids_from_bytes(bytes: &[u8]) -> Vec<u32> {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{TokenizerConfig, TokenizerKind};
    use crate::data::tokenizer::train_tokenizer;

    fn setup(dir: &Path) -> (PathBuf, Tokenizer, SpecialIds) {
        let words = [
            "the", "cat", "sat", "on", "mat", "dogs", "running", "quickly",
        ];
        let text: String = (0..500)
            .map(|i| {
                format!(
                    "{} {} {}\n",
                    words[i % 8],
                    words[(i * 3) % 8],
                    words[(i * 5) % 8]
                )
            })
            .collect();
        let corpus = dir.join("c.txt");
        std::fs::write(&corpus, text).unwrap();
        let spec = TokenizerConfig {
            kind: TokenizerKind::WordPiece,
            vocab_size: 60,
            lowercase: true,
            path: None,
        };
        let (tok, ids) = train_tokenizer(&corpus, &spec, &dir.join("tokenizer.json")).unwrap();
        (corpus, tok, ids)
    }

    #[test]
    fn stream_separates_documents_and_is_cached() {
        let dir = tempfile::tempdir().unwrap();
        let (corpus, tok, sp) = setup(dir.path());
        let cache = dir.path().join("cache");
        let ids = token_stream(&corpus, &tok, &sp, &cache).unwrap();
        // 500 lines: 500 documents, each ended by [SEP], decoding back to its line.
        assert_eq!(ids.iter().filter(|&&i| i == sp.sep).count(), 500);
        assert_eq!(ids.last(), Some(&sp.sep));
        let first = ids.iter().position(|&i| i == sp.sep).unwrap();
        assert_eq!(tok.decode(&ids[..first], true).unwrap(), "the the the");
        let files: Vec<_> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(files.len(), 1);
        assert_eq!(read_ids(&files[0], 60).unwrap(), ids);
        // A second call reads the cache: prove it by planting different content there.
        std::fs::write(&files[0], 7u32.to_le_bytes()).unwrap();
        assert_eq!(token_stream(&corpus, &tok, &sp, &cache).unwrap(), vec![7]);
        // A damaged cache (an id beyond the vocabulary, a torn id) is made again.
        for damaged in [&u32::MAX.to_le_bytes()[..], &[1, 0, 0, 0, 9][..]] {
            std::fs::write(&files[0], damaged).unwrap();
            assert_eq!(token_stream(&corpus, &tok, &sp, &cache).unwrap(), ids);
        }
        std::fs::write(&files[0], [5, 0, 0, 0, 99, 0, 0, 0]).unwrap();
        let e = read_ids(&files[0], 60).unwrap_err().to_string();
        assert!(e.ends_with("byte 4: id 99 is not below 60"), "{e}");
    }

    #[test]
    fn a_long_line_is_tokenized_in_pieces_with_one_sep() {
        let dir = tempfile::tempdir().unwrap();
        let (corpus, tok, sp) = setup(dir.path());
        // 3 MB on one line: three pieces, one document.
        let line = "the cat sat ".repeat(3 << 18);
        std::fs::write(&corpus, format!("{line}\nthe\n")).unwrap();
        let ids = tokenize(&corpus, &tok, &sp).unwrap();
        assert_eq!(ids.iter().filter(|&&i| i == sp.sep).count(), 2);
        assert_eq!(ids.len(), 3 * (3 << 18) + 3, "every word, once");
    }

    #[test]
    fn packing_wraps_cls_and_sep_and_rejects_small_inputs() {
        let sp = crate::test_support::specials();
        let stream: Vec<u32> = (10..20).collect();
        let seqs = pack(&stream, 6, &sp, Path::new("c")).unwrap();
        assert_eq!(
            seqs,
            vec![vec![2, 10, 11, 12, 13, 3], vec![2, 14, 15, 16, 17, 3]]
        );
        assert!(matches!(
            pack(&stream, 2, &sp, Path::new("c")),
            Err(DataError::SeqLenTooSmall(2))
        ));
        let e = pack(&stream, 20, &sp, Path::new("c.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("c.txt") && e.contains("10 tokens"), "{e}");
    }
}
