//! Streaming corpus reader: `.txt` or `.gz`, any size, never loaded whole.
//!
//! Tokens are runs of bytes between ASCII whitespace; a newline ends a sentence, and so does the
//! [`MAX_SENTENCE_TOKENS`]-th token of a line (text8 is a single 100 MB line, which must not be
//! buffered whole). Invalid UTF-8 inside a token is replaced with U+FFFD and counted, not fatal.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::ops::Range;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Longest sentence handed to the trainer; longer lines are cut (word2vec.c's MAX_SENTENCE_LENGTH
/// is 1000; gensim's is 10,000, which keeps more context across the cut).
pub const MAX_SENTENCE_TOKENS: usize = 10_000;

/// Longest token kept, in bytes; longer runs of non-space bytes (a file with no whitespace, a
/// base64 blob) are cut here, at a character boundary, so memory stays bounded. word2vec.c cuts
/// at 100 bytes; real words are far shorter than either.
pub const MAX_TOKEN_BYTES: usize = 1000;

/// Read buffer: large enough that the per-call overhead of `fill_buf` disappears.
const READ_BUFFER_BYTES: usize = 1 << 20;

/// A batch of tokens from one or more sentences, stored in one string to avoid an allocation per
/// token.
#[derive(Debug, Default, Clone)]
pub struct TokenBatch {
    text: String,
    token_ends: Vec<usize>,
    sentence_ends: Vec<usize>,
}

impl TokenBatch {
    /// Empties the batch, keeping its capacity.
    pub fn clear(&mut self) {
        self.text.clear();
        self.token_ends.clear();
        self.sentence_ends.clear();
    }

    /// Number of tokens in the batch.
    pub fn len(&self) -> usize {
        self.token_ends.len()
    }

    /// True when the batch has no tokens.
    pub fn is_empty(&self) -> bool {
        self.token_ends.is_empty()
    }

    /// The `i`-th token.
    pub fn token(&self, i: usize) -> &str {
        let start = if i == 0 { 0 } else { self.token_ends[i - 1] };
        &self.text[start..self.token_ends[i]]
    }

    /// The sentences of the batch, each as a range of token indices.
    pub fn sentences(&self) -> impl Iterator<Item = std::ops::Range<usize>> + '_ {
        let mut start = 0;
        self.sentence_ends.iter().map(move |&end| {
            let range = start..end;
            start = end;
            range
        })
    }

    fn push_token(&mut self, token: &str) {
        self.text.push_str(token);
        self.token_ends.push(self.text.len());
    }

    fn tokens_in_open_sentence(&self) -> usize {
        self.token_ends.len() - self.sentence_ends.last().copied().unwrap_or(0)
    }

    fn close_sentence(&mut self) {
        if self.tokens_in_open_sentence() > 0 {
            self.sentence_ends.push(self.token_ends.len());
        }
    }
}

/// Reads tokens and sentences from a corpus file, plain or gzip-compressed.
pub struct CorpusReader {
    path: PathBuf,
    inner: Box<dyn BufRead + Send>,
    lowercase: bool,
    token: Vec<u8>,
    invalid_utf8_tokens: u64,
    at_eof: bool,
}

impl std::fmt::Debug for CorpusReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorpusReader")
            .field("path", &self.path)
            .field("lowercase", &self.lowercase)
            .finish_non_exhaustive()
    }
}

impl CorpusReader {
    /// Opens `path` with [`common::open_text`]: a name ending in `.gz` is decompressed on the
    /// fly (multi-member gzip too).
    pub fn open(path: &Path, lowercase: bool) -> Result<Self> {
        check_corpus_path(path)?;
        let inner = common::open_text(path, READ_BUFFER_BYTES).map_err(|e| Error::io(path, e))?;
        Ok(Self::from_reader(path, inner, lowercase))
    }

    /// Opens the bytes `range` of the plain-text file `path`, one of its [`line_parts`].
    pub fn open_part(path: &Path, lowercase: bool, range: Range<u64>) -> Result<Self> {
        let mut file = File::open(path).map_err(|e| Error::io(path, e))?;
        file.seek(SeekFrom::Start(range.start))
            .map_err(|e| Error::io(path, e))?;
        let part = file.take(range.end.saturating_sub(range.start));
        let inner = Box::new(BufReader::with_capacity(READ_BUFFER_BYTES, part));
        Ok(Self::from_reader(path, inner, lowercase))
    }

    /// Reads from any buffered reader; `path` is only used in error messages.
    pub fn from_reader(path: &Path, inner: Box<dyn BufRead + Send>, lowercase: bool) -> Self {
        CorpusReader {
            path: path.to_path_buf(),
            inner,
            lowercase,
            token: Vec::with_capacity(64),
            invalid_utf8_tokens: 0,
            at_eof: false,
        }
    }

    /// How many tokens so far held invalid UTF-8 (replaced with U+FFFD).
    pub fn invalid_utf8_tokens(&self) -> u64 {
        self.invalid_utf8_tokens
    }

    /// Appends whole sentences to `batch` until it holds at least `min_tokens` tokens or the
    /// corpus ends. Returns false when nothing more could be read.
    pub fn read_batch(&mut self, batch: &mut TokenBatch, min_tokens: usize) -> Result<bool> {
        let before = batch.len();
        while batch.len() < min_tokens && self.read_sentence(batch)? {}
        Ok(batch.len() > before)
    }

    /// Skips the next `n` sentences (as [`CorpusReader::read_sentence`] splits them): where a
    /// resumed run's epoch continues. Fewer left is not an error; the epoch then just ends.
    pub fn skip_sentences(&mut self, n: u64) -> Result<()> {
        let mut scratch = TokenBatch::default();
        for _ in 0..n {
            scratch.clear();
            if !self.read_sentence(&mut scratch)? {
                break;
            }
        }
        Ok(())
    }

    /// Appends the next sentence to `batch`. Returns false at the end of the corpus.
    pub fn read_sentence(&mut self, batch: &mut TokenBatch) -> Result<bool> {
        debug_assert_eq!(batch.tokens_in_open_sentence(), 0);
        loop {
            if self.at_eof {
                self.finish_token(batch);
                let more = batch.tokens_in_open_sentence() > 0;
                batch.close_sentence();
                return Ok(more);
            }
            let buf = match self.inner.fill_buf() {
                Ok(buf) => buf,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(&self.path, e)),
            };
            if buf.is_empty() {
                self.at_eof = true;
                continue;
            }
            let mut consumed = buf.len();
            let mut sentence_done = false;
            for (i, &byte) in buf.iter().enumerate() {
                if is_separator(byte) {
                    if !self.token.is_empty() {
                        finish_token_into(
                            &mut self.token,
                            self.lowercase,
                            &mut self.invalid_utf8_tokens,
                            batch,
                        );
                        if batch.tokens_in_open_sentence() >= MAX_SENTENCE_TOKENS {
                            sentence_done = true;
                        }
                    }
                    if byte == b'\n' && batch.tokens_in_open_sentence() > 0 {
                        sentence_done = true;
                    }
                    if sentence_done {
                        consumed = i + 1;
                        break;
                    }
                } else if self.token.len() < MAX_TOKEN_BYTES {
                    self.token.push(byte);
                }
            }
            self.inner.consume(consumed);
            if sentence_done {
                batch.close_sentence();
                return Ok(true);
            }
        }
    }

    fn finish_token(&mut self, batch: &mut TokenBatch) {
        if !self.token.is_empty() {
            finish_token_into(
                &mut self.token,
                self.lowercase,
                &mut self.invalid_utf8_tokens,
                batch,
            );
        }
    }
}

/// Cuts the corpus at `path` into at most `parts` byte ranges of about equal size, each
/// starting a line, so that reading them one after another ([`CorpusReader::open_part`]) gives
/// the sentences of the whole file, and threads can read them at once. A `.gz` file stays whole,
/// and so does a stretch with no newline within [`MAX_LINE_SEARCH`] bytes of a cut (text8 is one
/// line).
pub fn line_parts(path: &Path, parts: usize) -> Result<Vec<Range<u64>>> {
    let len = std::fs::metadata(path)
        .map_err(|e| Error::io(path, e))?
        .len();
    if parts <= 1 || common::text::is_gzip(path) {
        return Ok(std::iter::once(0..len).collect());
    }
    let mut file = BufReader::new(File::open(path).map_err(|e| Error::io(path, e))?);
    let mut starts = vec![0];
    for k in 1..parts as u64 {
        let nominal = len / parts as u64 * k;
        let last = *starts.last().unwrap_or(&0);
        if nominal <= last {
            continue;
        }
        if let Some(start) = next_line(&mut file, nominal).map_err(|e| Error::io(path, e))?
            && start < len
        {
            starts.push(start);
        }
    }
    starts.dedup();
    let ends = starts.iter().skip(1).copied().chain([len]);
    Ok(starts.iter().zip(ends).map(|(&s, e)| s..e).collect())
}

/// How far [`line_parts`] looks for a newline after a cut.
pub const MAX_LINE_SEARCH: u64 = 1 << 24;

/// The offset just after the first newline at or after `from`, if one is within
/// [`MAX_LINE_SEARCH`] bytes.
fn next_line(file: &mut BufReader<File>, from: u64) -> std::io::Result<Option<u64>> {
    file.seek(SeekFrom::Start(from))?;
    let mut pos = from;
    while pos - from < MAX_LINE_SEARCH {
        let buf = file.fill_buf()?;
        if buf.is_empty() {
            return Ok(None);
        }
        if let Some(i) = buf.iter().position(|&b| b == b'\n') {
            return Ok(Some(pos + i as u64 + 1));
        }
        let n = buf.len();
        pos += n as u64;
        file.consume(n);
    }
    Ok(None)
}

/// Every ASCII whitespace byte (word2vec.c splits on space, tab and newline), and NUL:
/// word2vec.c's C strings end a word there, and a run of NULs (a damaged or binary file) must
/// not become a vocabulary word.
#[inline]
fn is_separator(byte: u8) -> bool {
    matches!(
        byte,
        b' ' | b'\n' | b'\t' | b'\r' | b'\x0b' | b'\x0c' | b'\0'
    )
}

fn finish_token_into(
    token: &mut Vec<u8>,
    lowercase: bool,
    invalid: &mut u64,
    batch: &mut TokenBatch,
) {
    if token.len() >= MAX_TOKEN_BYTES {
        // Cut, possibly inside a character: drop the incomplete tail rather than count it as
        // invalid UTF-8.
        if let Err(e) = std::str::from_utf8(token)
            && e.error_len().is_none()
        {
            token.truncate(e.valid_up_to());
        }
    }
    if lowercase && token.is_ascii() {
        token.make_ascii_lowercase();
    }
    match std::str::from_utf8(token) {
        Ok(s) if lowercase && !s.is_ascii() => batch.push_token(&s.to_lowercase()),
        Ok(s) => batch.push_token(s),
        Err(_) => {
            *invalid += 1;
            let s = String::from_utf8_lossy(token);
            if lowercase {
                batch.push_token(&s.to_lowercase());
            } else {
                batch.push_token(&s);
            }
        }
    }
    token.clear();
}

/// Fails with a clear error when `path` is missing or a directory, before any work starts
/// ([`common::check_file`], with the corpus's own wording for a directory).
pub fn check_corpus_path(path: &Path) -> Result<()> {
    common::check_file(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::IsADirectory => Error::IsDirectory(path.to_path_buf()),
        _ => Error::io(path, e),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn reader(text: &[u8], lowercase: bool) -> CorpusReader {
        CorpusReader::from_reader(
            Path::new("mem"),
            Box::new(Cursor::new(text.to_vec())),
            lowercase,
        )
    }

    fn sentences(r: &mut CorpusReader) -> Vec<Vec<String>> {
        let mut out = Vec::new();
        let mut batch = TokenBatch::default();
        while r.read_sentence(&mut batch).unwrap() {}
        for s in batch.sentences() {
            out.push(s.map(|i| batch.token(i).to_string()).collect());
        }
        out
    }

    #[test]
    fn splits_lines_into_sentences_and_skips_blank_lines() {
        let mut r = reader(b"the cat\tsat\n\n  \non the  mat\r\nend", false);
        assert_eq!(
            sentences(&mut r),
            vec![
                vec!["the", "cat", "sat"],
                vec!["on", "the", "mat"],
                vec!["end"]
            ]
        );
    }

    #[test]
    fn cuts_long_lines_without_losing_tokens() {
        let line: String = (0..MAX_SENTENCE_TOKENS * 2 + 5)
            .map(|i| format!("w{i} "))
            .collect();
        let mut r = reader(line.as_bytes(), false);
        let s = sentences(&mut r);
        assert_eq!(
            s.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![MAX_SENTENCE_TOKENS, MAX_SENTENCE_TOKENS, 5]
        );
        assert_eq!(s[1][0], format!("w{MAX_SENTENCE_TOKENS}"));
    }

    #[test]
    fn overlong_tokens_are_cut_at_a_character_boundary() {
        let mut text = "é".repeat(MAX_TOKEN_BYTES); // 2 bytes each
        text.push_str(" next\n");
        let mut r = reader(text.as_bytes(), false);
        let s = sentences(&mut r);
        assert_eq!(s[0][0], "é".repeat(MAX_TOKEN_BYTES / 2));
        assert_eq!(s[0][1], "next");
        assert_eq!(r.invalid_utf8_tokens(), 0);
        let mut odd = vec![b'a'];
        odd.extend("é".repeat(MAX_TOKEN_BYTES).bytes());
        let mut r = reader(&odd, false);
        let s = sentences(&mut r);
        assert_eq!(s[0][0].len(), MAX_TOKEN_BYTES - 1);
        assert_eq!(r.invalid_utf8_tokens(), 0);
    }

    #[test]
    fn nul_bytes_separate_words_and_a_long_line_is_cut() {
        let mut r = reader(b"a\0b \0\0\0 c\n\0\n", false);
        assert_eq!(sentences(&mut r), vec![vec!["a", "b", "c"]]);
        // 64 MB on one line with no whitespace at all: one token of MAX_TOKEN_BYTES, memory
        // bounded by the token and sentence limits, not by the line.
        let line = vec![b'x'; 64 << 20];
        let mut r = reader(&line, false);
        let s = sentences(&mut r);
        assert_eq!(
            (s.len(), s[0].len(), s[0][0].len()),
            (1, 1, MAX_TOKEN_BYTES)
        );
    }

    #[test]
    fn replaces_and_counts_invalid_utf8_and_lowercases() {
        let mut r = reader(b"Caf\xc3\xa9 B\xffAD \xc3\x89T\xc3\x89\n", true);
        let s = sentences(&mut r);
        assert_eq!(s, vec![vec!["café", "b\u{fffd}ad", "été"]]);
        assert_eq!(r.invalid_utf8_tokens(), 1);
    }

    #[test]
    fn reads_gzip_and_rejects_directories_and_missing_files() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt.gz");
        let mut gz = flate2::write::GzEncoder::new(
            std::fs::File::create(&path).unwrap(),
            flate2::Compression::default(),
        );
        gz.write_all(b"a b\nc\n").unwrap();
        gz.finish().unwrap();
        let mut r = CorpusReader::open(&path, false).unwrap();
        assert_eq!(sentences(&mut r), vec![vec!["a", "b"], vec!["c"]]);
        assert!(matches!(
            CorpusReader::open(dir.path(), false),
            Err(Error::IsDirectory(_))
        ));
        let missing = CorpusReader::open(&dir.path().join("none.txt"), false).unwrap_err();
        assert!(missing.to_string().contains("none.txt"), "{missing}");
    }

    #[test]
    fn read_batch_collects_whole_sentences() {
        let mut r = reader(b"a b c\nd e\nf\n", false);
        let mut batch = TokenBatch::default();
        assert!(r.read_batch(&mut batch, 4).unwrap());
        assert_eq!(batch.len(), 5);
        assert_eq!(batch.sentences().count(), 2);
        batch.clear();
        assert!(r.read_batch(&mut batch, 4).unwrap());
        assert_eq!(batch.len(), 1);
        batch.clear();
        assert!(!r.read_batch(&mut batch, 4).unwrap());
    }

    #[test]
    fn line_parts_read_one_after_another_give_the_whole_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.txt");
        // Lines of different lengths, a blank one, and no newline at the end.
        let text: String = (0..40)
            .map(|i| {
                format!(
                    "w{i} {}\n{}",
                    "x ".repeat(i % 7),
                    if i == 9 { "\n" } else { "" }
                )
            })
            .collect::<String>()
            + "last line";
        std::fs::write(&path, &text).unwrap();
        let whole = sentences(&mut CorpusReader::open(&path, false).unwrap());
        for parts in [2, 3, 7] {
            let ranges = line_parts(&path, parts).unwrap();
            assert_eq!(ranges.len(), parts, "{ranges:?}");
            assert_eq!(ranges[0].start, 0);
            assert_eq!(ranges[parts - 1].end, text.len() as u64);
            let mut read = Vec::new();
            for (i, range) in ranges.iter().enumerate() {
                assert!(i == 0 || text.as_bytes()[range.start as usize - 1] == b'\n');
                let mut r = CorpusReader::open_part(&path, false, range.clone()).unwrap();
                read.extend(sentences(&mut r));
            }
            assert_eq!(read, whole);
        }
        // One line, or a .gz file: one part.
        std::fs::write(&path, "a b c d e f g h\n").unwrap();
        assert_eq!(
            line_parts(&path, 4).unwrap(),
            std::iter::once(0..16).collect::<Vec<_>>()
        );
        let gz = dir.path().join("c.txt.gz");
        std::fs::write(&gz, "not read").unwrap();
        assert_eq!(
            line_parts(&gz, 4).unwrap(),
            std::iter::once(0..8).collect::<Vec<_>>()
        );
    }
}
