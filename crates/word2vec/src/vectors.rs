//! Word vectors and the word2vec file formats (`vectors.bin` binary and `vectors.txt` text), as
//! word2vec.c writes them and gensim's `KeyedVectors.load_word2vec_format` reads them.
//!
//! Readers never trust a header: the number of words and dimensions it claims is checked against
//! the size of the file before anything is allocated.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Words longer than this (bytes) are refused when reading: no trained word is this long (the
/// corpus reader cuts tokens at 1000 bytes), so such a file is corrupt.
const MAX_WORD_BYTES: usize = 10_000;

/// Longest number accepted in a text vectors file (an f32 written in full is under 50 bytes).
const MAX_NUMBER_BYTES: usize = 64;

/// Dimensions above this are refused when reading (no real embedding has more; a larger header
/// is corrupt).
const MAX_DIM: usize = 100_000;

/// Words with one vector each, stored row-major in one buffer.
#[derive(Debug, Clone, PartialEq)]
pub struct Embeddings {
    words: Vec<String>,
    dim: usize,
    data: Vec<f32>,
}

/// The two word2vec file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Header line, then per word: the word, a space, `dim` little-endian f32, a newline.
    Binary,
    /// Header line, then per word a line: the word and `dim` decimal numbers.
    Text,
}

impl Embeddings {
    /// Builds embeddings from words and a `words.len() × dim` row-major matrix.
    pub fn new(words: Vec<String>, dim: usize, data: Vec<f32>) -> Result<Self> {
        if dim == 0 || data.len() != words.len() * dim {
            return Err(Error::InvalidParameter(format!(
                "{} words of dimension {dim} need {} numbers, got {}",
                words.len(),
                words.len() * dim,
                data.len()
            )));
        }
        Ok(Embeddings { words, dim, data })
    }

    /// Number of words.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// True when there are no words.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Vector size.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// The words, in file (frequency) order.
    pub fn words(&self) -> &[String] {
        &self.words
    }

    /// The whole matrix, row-major.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    pub(crate) fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// The vector of word number `i`.
    pub fn vector(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// Writes the vectors in `format`.
    pub fn write(&self, out: &mut impl Write, format: Format) -> std::io::Result<()> {
        writeln!(out, "{} {}", self.words.len(), self.dim)?;
        for (i, word) in self.words.iter().enumerate() {
            let v = self.vector(i);
            match format {
                Format::Binary => {
                    out.write_all(word.as_bytes())?;
                    out.write_all(b" ")?;
                    for x in v {
                        out.write_all(&x.to_le_bytes())?;
                    }
                    out.write_all(b"\n")?;
                }
                Format::Text => {
                    out.write_all(word.as_bytes())?;
                    for x in v {
                        write!(out, " {x}")?;
                    }
                    out.write_all(b"\n")?;
                }
            }
        }
        Ok(())
    }

    /// Reads a vectors file, telling the format from the name (`.bin` binary, `.txt` text) or,
    /// failing that, from its content.
    pub fn read(path: &Path) -> Result<Self> {
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        if meta.is_dir() {
            return Err(Error::format(
                path,
                "is a directory, expected a vectors file",
            ));
        }
        let file = File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = BufReader::with_capacity(1 << 20, file);
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some("bin") => Format::Binary,
            Some("txt") => Format::Text,
            _ => sniff(&mut reader).map_err(|e| Error::io(path, e))?,
        };
        Self::read_from(path, &mut reader, meta.len(), format)
    }

    /// Reads vectors in `format` from `reader` holding `size` bytes; `path` names errors.
    pub fn read_from(
        path: &Path,
        reader: &mut impl BufRead,
        size: u64,
        format: Format,
    ) -> Result<Self> {
        let mut header = String::new();
        reader
            .take(1000)
            .read_line(&mut header)
            .map_err(|e| Error::format(path, format!("line 1: {e}")))?;
        let (words, dim) = parse_header(&header).ok_or_else(|| {
            Error::format(
                path,
                format!(
                    "line 1: expected `<words> <dim>`, found {:?}",
                    header.trim_end().chars().take(80).collect::<String>()
                ),
            )
        })?;
        if dim == 0 || dim > MAX_DIM {
            return Err(Error::format(
                path,
                format!("line 1: dimension {dim} is out of range (1..={MAX_DIM})"),
            ));
        }
        // The smallest possible record: binary, a 1-byte word, space, floats, no newline;
        // text, a 1-byte word and `dim` one-digit numbers each after a space.
        let min_record = match format {
            Format::Binary => 2 + 4 * dim as u64,
            Format::Text => 2 + 2 * dim as u64,
        };
        let body = size.saturating_sub(header.len() as u64);
        if (words as u64).saturating_mul(min_record) > body.saturating_add(1)
            || words > u32::MAX as usize
        {
            return Err(Error::format(
                path,
                format!(
                    "header claims {words} words of dimension {dim}, but the file has only {size} bytes"
                ),
            ));
        }
        let mut out_words = Vec::with_capacity(words);
        let mut data = Vec::with_capacity(words * dim);
        match format {
            Format::Binary => {
                read_binary_records(path, reader, words, dim, &mut out_words, &mut data)?
            }
            Format::Text => read_text_records(path, reader, words, dim, &mut out_words, &mut data)?,
        }
        Embeddings::new(out_words, dim, data)
    }
}

fn parse_header(line: &str) -> Option<(usize, usize)> {
    let mut parts = line.split_ascii_whitespace();
    let words = parts.next()?.parse().ok()?;
    let dim = parts.next()?.parse().ok()?;
    parts.next().is_none().then_some((words, dim))
}

/// Binary files hold raw floats after the header; text files are printable.
fn sniff(reader: &mut BufReader<File>) -> std::io::Result<Format> {
    let buf = reader.fill_buf()?;
    let head = &buf[..buf.len().min(4096)];
    let header_end = head
        .iter()
        .position(|&b| b == b'\n')
        .map_or(head.len(), |p| p + 1);
    let body = &head[header_end..];
    let binary =
        std::str::from_utf8(body).is_err() || body.iter().any(|&b| b < 9 || (b > 13 && b < 32));
    Ok(if binary { Format::Binary } else { Format::Text })
}

fn read_binary_records(
    path: &Path,
    reader: &mut impl BufRead,
    words: usize,
    dim: usize,
    out_words: &mut Vec<String>,
    data: &mut Vec<f32>,
) -> Result<()> {
    let mut word = Vec::new();
    let mut floats = vec![0u8; 4 * dim];
    for i in 0..words {
        let record = i + 1;
        word.clear();
        // word2vec.c separates records with '\n' (and gensim tolerates its absence): skip
        // leading newlines, then read up to the space.
        loop {
            let n = (&mut *reader)
                .take(MAX_WORD_BYTES as u64 + 2)
                .read_until(b' ', &mut word)
                .map_err(|e| Error::io(path, e))?;
            if n == 0 {
                return Err(Error::format(
                    path,
                    format!("truncated: record {record} of {words} has no word"),
                ));
            }
            if word.last() != Some(&b' ') {
                let message = if word.len() > MAX_WORD_BYTES {
                    format!("record {record}: word longer than {MAX_WORD_BYTES} bytes")
                } else {
                    format!("truncated: record {record} of {words} ends inside its word")
                };
                return Err(Error::format(path, message));
            }
            word.pop();
            let newlines = word.iter().take_while(|&&b| b == b'\n').count();
            word.drain(..newlines);
            if !word.is_empty() {
                break;
            }
        }
        reader.read_exact(&mut floats).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => Error::format(
                path,
                format!("truncated: record {record} of {words} has fewer than {dim} numbers"),
            ),
            _ => Error::io(path, e),
        })?;
        out_words.push(String::from_utf8_lossy(&word).into_owned());
        data.extend(
            floats
                .chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])),
        );
    }
    Ok(())
}

fn read_text_records(
    path: &Path,
    reader: &mut impl BufRead,
    words: usize,
    dim: usize,
    out_words: &mut Vec<String>,
    data: &mut Vec<f32>,
) -> Result<()> {
    // A line holds a word and `dim` numbers: anything longer is not a vectors file, and is
    // refused before it is buffered whole.
    let max_line = (MAX_WORD_BYTES + dim * MAX_NUMBER_BYTES + 2) as u64;
    let mut line = Vec::new();
    for i in 0..words {
        let line_no = i + 2;
        line.clear();
        let n = (&mut *reader)
            .take(max_line + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?;
        if n as u64 > max_line {
            return Err(Error::format(
                path,
                format!("line {line_no}: longer than {max_line} bytes"),
            ));
        }
        if n == 0 {
            return Err(Error::format(
                path,
                format!("truncated: line {line_no}: expected {words} words, found {i}"),
            ));
        }
        let text = String::from_utf8_lossy(&line);
        let mut parts = text.split_ascii_whitespace();
        let Some(word) = parts.next() else {
            return Err(Error::format(path, format!("line {line_no}: empty line")));
        };
        let before = data.len();
        for part in parts {
            if data.len() - before == dim {
                return Err(Error::format(
                    path,
                    format!("line {line_no}: more than {dim} numbers after {word:?}"),
                ));
            }
            let x: f32 = part.parse().map_err(|_| {
                Error::format(path, format!("line {line_no}: {part:?} is not a number"))
            })?;
            data.push(x);
        }
        let found = data.len() - before;
        if found != dim {
            return Err(Error::format(
                path,
                format!("line {line_no}: expected {dim} numbers after {word:?}, found {found}"),
            ));
        }
        out_words.push(word.to_string());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Embeddings {
        Embeddings::new(
            vec!["king".into(), "queen".into(), "é".into()],
            2,
            vec![1.0, 0.5, -0.25, 2.0, 1e-3, -7.5],
        )
        .unwrap()
    }

    fn roundtrip(e: &Embeddings, format: Format, name: &str) -> Embeddings {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let mut buf = Vec::new();
        e.write(&mut buf, format).unwrap();
        std::fs::write(&path, &buf).unwrap();
        Embeddings::read(&path).unwrap()
    }

    #[test]
    fn binary_and_text_round_trip_and_convert() {
        let e = sample();
        assert_eq!(roundtrip(&e, Format::Binary, "v.bin"), e);
        assert_eq!(roundtrip(&e, Format::Text, "v.txt"), e);
        // Unknown extension: the content tells.
        assert_eq!(roundtrip(&e, Format::Binary, "v.vec"), e);
        assert_eq!(roundtrip(&e, Format::Text, "v.vec"), e);
        // bin -> txt -> bin keeps every bit.
        let via_text = roundtrip(
            &roundtrip(&e, Format::Binary, "a.bin"),
            Format::Text,
            "b.txt",
        );
        assert_eq!(roundtrip(&via_text, Format::Binary, "c.bin"), e);
    }

    fn read_bytes(bytes: &[u8], format: Format) -> Result<Embeddings> {
        Embeddings::read_from(Path::new("v"), &mut &bytes[..], bytes.len() as u64, format)
    }

    #[test]
    fn rejects_lying_headers_and_truncation_without_allocating() {
        let e = read_bytes(b"1000000000 1000000\nx ", Format::Binary).unwrap_err();
        assert!(
            e.to_string().contains("line 1: dimension 1000000 is out"),
            "{e}"
        );
        // 10^12 words is an error, not an allocation; so is a dimension that overflows sizes.
        let e = read_bytes(b"1000000000000 10\nx ", Format::Binary).unwrap_err();
        assert!(
            e.to_string().contains("header claims 1000000000000 words"),
            "{e}"
        );
        let e = read_bytes(b"1 4611686018427387904\n", Format::Text).unwrap_err();
        assert!(
            e.to_string().contains("dimension 4611686018427387904"),
            "{e}"
        );
        let e = read_bytes(b"1 2\na 1 2 3\n", Format::Text).unwrap_err();
        assert!(e.to_string().contains("line 2: more than 2 numbers"), "{e}");
        let mut long = b"1 2\na ".to_vec();
        long.extend(std::iter::repeat_n(b'1', 1 << 20));
        let e = read_bytes(&long, Format::Text).unwrap_err();
        assert!(e.to_string().contains("line 2: longer than"), "{e}");
        let e = read_bytes(b"\xff\xfe 2\n", Format::Text).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        let e = read_bytes(b"99999999999999999999 5\n", Format::Text).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
        let e = read_bytes(b"2 3\na 1 2 3\nbbbbb 1 2\n", Format::Text).unwrap_err();
        assert!(
            e.to_string()
                .contains("line 3: expected 3 numbers after \"bbbbb\", found 2"),
            "{e}"
        );
        let e = read_bytes(b"3 1\na 1\nbbbbbbbbbb 2\n", Format::Text).unwrap_err();
        assert!(e.to_string().contains("truncated: line 4"), "{e}");
        let mut bin = Vec::new();
        sample().write(&mut bin, Format::Binary).unwrap();
        let e = read_bytes(&bin[..bin.len() - 3], Format::Binary).unwrap_err();
        assert!(e.to_string().contains("truncated: record 3"), "{e}");
        let e = read_bytes(b"1 2\na 1 x\n", Format::Text).unwrap_err();
        assert!(e.to_string().contains("\"x\" is not a number"), "{e}");
        let e = read_bytes(b"", Format::Text).unwrap_err();
        assert!(e.to_string().contains("line 1"), "{e}");
    }
}
