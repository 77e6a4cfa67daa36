//! The encoder's tokenizer, on Hugging Face's `tokenizers` crate: WordPiece (BERT's) or BPE,
//! trained on the corpus with the special tokens `[PAD] [UNK] [CLS] [SEP] [MASK]` (ids 0 to 4),
//! or loaded from an existing `tokenizer.json`. Saved as `tokenizer.json`, which the Python
//! `tokenizers` library loads as it is.

use crate::config::{TokenizerConfig, TokenizerKind};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use tokenizers::decoders::bpe::BPEDecoder;
use tokenizers::decoders::wordpiece::WordPiece as WordPieceDecoder;
use tokenizers::models::TrainerWrapper;
use tokenizers::models::bpe::{BPE, BpeTrainerBuilder};
use tokenizers::models::wordpiece::{WordPiece, WordPieceTrainerBuilder};
use tokenizers::normalizers::bert::BertNormalizer;
use tokenizers::pre_tokenizers::bert::BertPreTokenizer;
use tokenizers::processors::template::TemplateProcessing;
use tokenizers::{AddedToken, Tokenizer};

/// The special tokens, in id order: they are the first entries of every trained vocabulary.
pub const SPECIAL_TOKENS: [&str; 5] = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

/// BPE marks the end of a word so that decoding can put the spaces back.
const END_OF_WORD: &str = "</w>";

/// WordPiece marks a piece that continues a word (tokenizers' default prefix).
const CONTINUATION: &str = "##";

/// Why a tokenizer could not be trained or loaded.
#[derive(Debug, thiserror::Error)]
pub enum TokenizerError {
    /// Reading the corpus failed.
    #[error("{}: {cause}", path.display())]
    Io {
        /// The corpus.
        path: PathBuf,
        /// The I/O error.
        cause: std::io::Error,
    },
    /// The `tokenizers` library refused (a file that does not parse, a failed training).
    #[error("{}: {message}", path.display())]
    Library {
        /// The tokenizer file or corpus concerned.
        path: PathBuf,
        /// The library's message.
        message: String,
    },
    /// A loaded tokenizer's ids are not `0..size`.
    #[error(
        "{}: token {token:?} has id {id}, but the vocabulary has {size} tokens (ids must be 0..{size})",
        path.display()
    )]
    SparseIds {
        /// The tokenizer file.
        path: PathBuf,
        /// The token with the id out of range.
        token: String,
        /// Its id.
        id: u32,
        /// Tokens in the vocabulary.
        size: usize,
    },
    /// A loaded tokenizer lacks one of [`SPECIAL_TOKENS`].
    #[error("{}: the tokenizer has no {token} token", path.display())]
    MissingSpecial {
        /// The tokenizer file.
        path: PathBuf,
        /// The missing token.
        token: &'static str,
    },
}

/// The ids of the special tokens of a tokenizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpecialIds {
    /// `[PAD]`.
    pub pad: u32,
    /// `[UNK]`.
    pub unk: u32,
    /// `[CLS]`.
    pub cls: u32,
    /// `[SEP]`.
    pub sep: u32,
    /// `[MASK]`.
    pub mask: u32,
}

impl SpecialIds {
    /// The first id that is not a special token: special tokens come first in the vocabularies
    /// [`train_tokenizer`] makes, so random MLM replacements are drawn from here on.
    pub fn first_regular(&self) -> u32 {
        SPECIAL_TOKENS.len() as u32
    }

    /// Whether `id` is `[CLS]`, `[SEP]` or `[PAD]`: positions never masked.
    pub fn is_structural(&self, id: u32) -> bool {
        id == self.cls || id == self.sep || id == self.pad
    }
}

/// The whole word a vocabulary entry stands for, if it is one: not a special token, not a
/// WordPiece continuation (`##ing`), and with BPE's end-of-word marker dropped (`cat</w>` is
/// `cat`). What `model.init_embeddings` looks up in a word2vec vectors file.
pub fn whole_word(token: &str) -> Option<&str> {
    if token.starts_with(CONTINUATION) || SPECIAL_TOKENS.contains(&token) {
        return None;
    }
    Some(token.strip_suffix(END_OF_WORD).unwrap_or(token))
}

/// Trains a tokenizer on the lines of `corpus` (`.txt`, or `.gz` decompressed on the fly), and
/// saves it as `out` (written to a temporary name, then renamed).
pub fn train_tokenizer(
    corpus: &Path,
    spec: &TokenizerConfig,
    out: &Path,
) -> Result<(Tokenizer, SpecialIds), TokenizerError> {
    let (mut tokenizer, mut trainer) = untrained(spec).map_err(|e| library(out, e))?;
    let error = Arc::new(Mutex::new(None));
    let lines = corpus_lines(corpus, Arc::clone(&error))?;
    tokenizer
        .train(&mut trainer, lines)
        .map_err(|e| library(corpus, e))?;
    if let Some(cause) = error.lock().unwrap_or_else(|p| p.into_inner()).take() {
        return Err(TokenizerError::Io {
            path: corpus.to_path_buf(),
            cause,
        });
    }
    let ids = special_ids(&tokenizer, out)?;
    let template = TemplateProcessing::builder()
        .try_single("[CLS] $A [SEP]")
        .and_then(|b| b.try_pair("[CLS] $A [SEP] $B:1 [SEP]:1"))
        .map_err(|e| library(out, e.into()))?
        .special_tokens(vec![("[CLS]", ids.cls), ("[SEP]", ids.sep)])
        .build()
        .map_err(|e| library(out, e.into()))?;
    tokenizer.with_post_processor(Some(template));
    common::replace_with(out, |temp| {
        tokenizer
            .save(temp, true)
            .map_err(|e| std::io::Error::other(e.to_string()))
    })
    .map_err(|cause| TokenizerError::Io {
        path: out.to_path_buf(),
        cause,
    })?;
    Ok((tokenizer, ids))
}

/// The `tokenizers` library's error about `path`, on one line.
fn library(path: &Path, e: tokenizers::Error) -> TokenizerError {
    TokenizerError::Library {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// A tokenizer of `spec`'s kind with BERT's normalizer and pre-tokenizer, and its trainer,
/// before training.
fn untrained(spec: &TokenizerConfig) -> tokenizers::Result<(Tokenizer, TrainerWrapper)> {
    let specials: Vec<AddedToken> = SPECIAL_TOKENS
        .iter()
        .map(|t| AddedToken::from(t.to_string(), true))
        .collect();
    let (mut tokenizer, trainer): (Tokenizer, TrainerWrapper) = match spec.kind {
        TokenizerKind::WordPiece => {
            let model = WordPiece::builder().unk_token("[UNK]".into()).build()?;
            let mut t = Tokenizer::new(model);
            t.with_decoder(Some(WordPieceDecoder::default()));
            let trainer = WordPieceTrainerBuilder::new()
                .vocab_size(spec.vocab_size)
                .min_frequency(2)
                .show_progress(false)
                .special_tokens(specials)
                .build();
            (t, trainer.into())
        }
        TokenizerKind::Bpe => {
            let model = BPE::builder()
                .unk_token("[UNK]".into())
                .end_of_word_suffix(END_OF_WORD.into())
                .build()?;
            let mut t = Tokenizer::new(model);
            t.with_decoder(Some(BPEDecoder::new(END_OF_WORD.into())));
            let trainer = BpeTrainerBuilder::new()
                .vocab_size(spec.vocab_size)
                .min_frequency(2)
                .show_progress(false)
                .special_tokens(specials)
                .end_of_word_suffix(END_OF_WORD.into())
                .build();
            (t, trainer.into())
        }
    };
    let lowercase = spec.lowercase;
    let normalizer = BertNormalizer::new(true, true, Some(lowercase), lowercase);
    tokenizer.with_normalizer(Some(normalizer))?;
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    Ok((tokenizer, trainer))
}

/// The largest tokenizer.json read (HF's largest tokenizers are about 30 MB).
const MAX_TOKENIZER_BYTES: u64 = 256 << 20;

/// Loads a `tokenizer.json` and checks it has the special tokens and ids `0..vocab size` (the
/// model has one embedding row per id: an id beyond them would index past the table).
pub fn load_tokenizer(path: &Path) -> Result<(Tokenizer, SpecialIds), TokenizerError> {
    let io = |cause| TokenizerError::Io {
        path: path.to_path_buf(),
        cause,
    };
    let text = common::read_text_bounded(path, MAX_TOKENIZER_BYTES).map_err(io)?;
    let tokenizer =
        Tokenizer::from_bytes(text.as_bytes()).map_err(|e| TokenizerError::Library {
            path: path.to_path_buf(),
            message: common::one_line(&e.to_string()),
        })?;
    let size = tokenizer.get_vocab_size(true);
    let vocab = tokenizer.get_vocab(true);
    if let Some((token, &id)) = vocab.iter().find(|(_, id)| **id as usize >= size) {
        return Err(TokenizerError::SparseIds {
            path: path.to_path_buf(),
            token: token.clone(),
            id,
            size,
        });
    }
    let ids = special_ids(&tokenizer, path)?;
    Ok((tokenizer, ids))
}

fn special_ids(tokenizer: &Tokenizer, path: &Path) -> Result<SpecialIds, TokenizerError> {
    let id = |token: &'static str| {
        tokenizer
            .token_to_id(token)
            .ok_or_else(|| TokenizerError::MissingSpecial {
                path: path.to_path_buf(),
                token,
            })
    };
    Ok(SpecialIds {
        pad: id("[PAD]")?,
        unk: id("[UNK]")?,
        cls: id("[CLS]")?,
        sep: id("[SEP]")?,
        mask: id("[MASK]")?,
    })
}

/// The lines of a `.txt` or `.gz` file; a read error ends the iteration and is left in `error`
/// (the training API takes a plain iterator).
fn corpus_lines(
    path: &Path,
    error: Arc<Mutex<Option<std::io::Error>>>,
) -> Result<impl Iterator<Item = String> + Send, TokenizerError> {
    common::check_file(path).map_err(|cause| TokenizerError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    let reader = common::open_text(path, 1 << 16).map_err(|cause| TokenizerError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    Ok(
        common::bounded_lines(reader).map_while(move |line| match line {
            Ok((text, _)) => Some(text),
            Err(e) => {
                *error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
                None
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(dir: &Path) -> PathBuf {
        let words = [
            "the", "cat", "sat", "on", "mat", "dogs", "running", "quickly", "jumped",
        ];
        let mut text = String::new();
        for i in 0..3000 {
            let line: Vec<&str> = (0..8)
                .map(|k| words[(i * 7 + k * 3) % words.len()])
                .collect();
            text.push_str(&format!("{}.\n", line.join(" ")));
        }
        let path = dir.join("c.txt");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn wordpiece_and_bpe_train_encode_decode_save_and_reload() {
        let dir = tempfile::tempdir().unwrap();
        let c = corpus(dir.path());
        for kind in [TokenizerKind::WordPiece, TokenizerKind::Bpe] {
            let out = dir.path().join(format!("{kind:?}.json"));
            let spec = TokenizerConfig {
                kind,
                vocab_size: 100,
                lowercase: true,
                path: None,
            };
            let (tok, ids) = train_tokenizer(&c, &spec, &out).unwrap();
            assert_eq!(ids, crate::test_support::specials());
            assert!(tok.get_vocab_size(true) <= 100);
            let enc = tok.encode("The cat SAT", true).unwrap();
            let got = enc.get_ids();
            assert_eq!(
                (got[0], got[got.len() - 1]),
                (ids.cls, ids.sep),
                "{kind:?}: {got:?}"
            );
            assert_eq!(tok.decode(got, true).unwrap(), "the cat sat", "{kind:?}");
            let (again, again_ids) = load_tokenizer(&out).unwrap();
            assert_eq!(again_ids, ids);
            assert_eq!(again.encode("The cat SAT", true).unwrap().get_ids(), got);
            assert!(!out.with_extension("json.tmp").exists());
            // TOKENIZER_SAMPLE_DIR=DIR keeps the files, to check them with Python's
            // `tokenizers.Tokenizer.from_file` (0.23.3 loads both and gives the same ids).
            if let Some(dir) = std::env::var_os("TOKENIZER_SAMPLE_DIR") {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::copy(&out, Path::new(&dir).join(format!("{kind:?}.json"))).unwrap();
            }
        }
    }

    #[test]
    fn gzip_corpus_and_bad_files_give_clear_errors() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let gz = dir.path().join("c.txt.gz");
        let mut w = flate2::write::GzEncoder::new(
            std::fs::File::create(&gz).unwrap(),
            flate2::Compression::fast(),
        );
        w.write_all(&std::fs::read(corpus(dir.path())).unwrap())
            .unwrap();
        w.finish().unwrap();
        let spec = TokenizerConfig {
            kind: TokenizerKind::WordPiece,
            vocab_size: 60,
            lowercase: true,
            path: None,
        };
        let out = dir.path().join("t.json");
        train_tokenizer(&gz, &spec, &out).unwrap();
        let bad = dir.path().join("bad.json");
        std::fs::write(&bad, "{ not json").unwrap();
        let e = load_tokenizer(&bad).unwrap_err().to_string();
        assert!(e.contains("bad.json") && !e.contains('\n'), "{e}");
        let e = train_tokenizer(&dir.path().join("none.txt"), &spec, &out)
            .unwrap_err()
            .to_string();
        assert!(e.contains("none.txt"), "{e}");
    }
}
