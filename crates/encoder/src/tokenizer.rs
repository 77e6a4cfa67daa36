//! The encoder's tokenizer, on Hugging Face's `tokenizers` crate: WordPiece (BERT's) or BPE,
//! trained on the corpus with the special tokens `[PAD] [UNK] [CLS] [SEP] [MASK]` (ids 0 to 4),
//! or loaded from an existing `tokenizer.json`. Saved as `tokenizer.json`, which the Python
//! `tokenizers` library loads as it is.

use std::io::BufRead;
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
    /// A loaded tokenizer lacks one of [`SPECIAL_TOKENS`].
    #[error("{}: the tokenizer has no {token} token", path.display())]
    MissingSpecial {
        /// The tokenizer file.
        path: PathBuf,
        /// The missing token.
        token: &'static str,
    },
}

/// Which subword model to train.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenizerKind {
    /// BERT's WordPiece: continuation pieces start with `##`.
    WordPiece,
    /// Byte-pair encoding with an end-of-word marker.
    Bpe,
}

/// What to train.
#[derive(Debug, Clone, PartialEq)]
pub struct TokenizerSpec {
    /// WordPiece or BPE.
    pub kind: TokenizerKind,
    /// Vocabulary size, special tokens included.
    pub vocab_size: usize,
    /// Lowercase (and strip accents) before splitting, as uncased BERT does.
    pub lowercase: bool,
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

/// Trains a tokenizer on the lines of `corpus` (`.txt`, or `.gz` decompressed on the fly), and
/// saves it as `out` (written to a temporary name, then renamed).
pub fn train_tokenizer(
    corpus: &Path,
    spec: &TokenizerSpec,
    out: &Path,
) -> Result<(Tokenizer, SpecialIds), TokenizerError> {
    let lib = |path: &Path, e: tokenizers::Error| TokenizerError::Library {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let specials: Vec<AddedToken> = SPECIAL_TOKENS
        .iter()
        .map(|t| AddedToken::from(t.to_string(), true))
        .collect();
    let (mut tokenizer, mut trainer): (Tokenizer, TrainerWrapper) = match spec.kind {
        TokenizerKind::WordPiece => {
            let model = WordPiece::builder()
                .unk_token("[UNK]".into())
                .build()
                .map_err(|e| lib(out, e))?;
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
                .build()
                .map_err(|e| lib(out, e))?;
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
    tokenizer
        .with_normalizer(Some(BertNormalizer::new(
            true,
            true,
            Some(spec.lowercase),
            spec.lowercase,
        )))
        .map_err(|e| lib(out, e))?;
    tokenizer.with_pre_tokenizer(Some(BertPreTokenizer));
    let error = Arc::new(Mutex::new(None));
    let lines = corpus_lines(corpus, Arc::clone(&error))?;
    tokenizer
        .train(&mut trainer, lines)
        .map_err(|e| lib(corpus, e))?;
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
        .map_err(|e| lib(out, e.into()))?
        .special_tokens(vec![("[CLS]", ids.cls), ("[SEP]", ids.sep)])
        .build()
        .map_err(|e| lib(out, e.into()))?;
    tokenizer.with_post_processor(Some(template));
    let temp = out.with_extension("json.tmp");
    tokenizer.save(&temp, true).map_err(|e| lib(out, e))?;
    std::fs::rename(&temp, out).map_err(|cause| TokenizerError::Io {
        path: out.to_path_buf(),
        cause,
    })?;
    Ok((tokenizer, ids))
}

/// Loads a `tokenizer.json` and checks it has the special tokens.
pub fn load_tokenizer(path: &Path) -> Result<(Tokenizer, SpecialIds), TokenizerError> {
    let tokenizer = Tokenizer::from_file(path).map_err(|e| TokenizerError::Library {
        path: path.to_path_buf(),
        message: e
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    })?;
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
    word2vec::check_corpus_path(path).map_err(|e| TokenizerError::Library {
        path: path.to_path_buf(),
        message: e.to_string(),
    })?;
    let reader = crate::data::open_text(path).map_err(|cause| TokenizerError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    Ok(reader.split(b'\n').map_while(move |line| match line {
        Ok(bytes) => Some(String::from_utf8_lossy(&bytes).into_owned()),
        Err(e) => {
            *error.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
            None
        }
    }))
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
            let spec = TokenizerSpec {
                kind,
                vocab_size: 100,
                lowercase: true,
            };
            let (tok, ids) = train_tokenizer(&c, &spec, &out).unwrap();
            assert_eq!(
                ids,
                SpecialIds {
                    pad: 0,
                    unk: 1,
                    cls: 2,
                    sep: 3,
                    mask: 4
                }
            );
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
        let spec = TokenizerSpec {
            kind: TokenizerKind::WordPiece,
            vocab_size: 60,
            lowercase: true,
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
