//! Opening text corpora: plain `.txt`, or gzip (`.gz`, multi-member too) decompressed on the fly.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use flate2::read::MultiGzDecoder;

/// Whether `path` names a gzip file (by its `.gz` extension, any case).
pub fn is_gzip(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
}

/// Opens `path` for buffered reading with a buffer of `buffer_bytes`; a `.gz` file is
/// decompressed on the fly.
pub fn open_text(path: &Path, buffer_bytes: usize) -> io::Result<Box<dyn BufRead + Send>> {
    let file = File::open(path)?;
    Ok(if is_gzip(path) {
        Box::new(BufReader::with_capacity(
            buffer_bytes,
            MultiGzDecoder::new(BufReader::new(file)),
        ))
    } else {
        Box::new(BufReader::with_capacity(buffer_bytes, file))
    })
}

/// Checks that `path` exists and is a file (not a folder), so a run fails before it starts.
pub fn check_file(path: &Path) -> io::Result<()> {
    if std::fs::metadata(path)?.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::IsADirectory,
            "is a directory, expected a .txt or .gz file",
        ));
    }
    Ok(())
}

/// The longest piece of a line handed on at once by [`bounded_lines`]: a longer line (text8 is
/// one 100 MB line) is cut at its last whitespace before this, as the word2vec reader cuts
/// sentences, so memory is bounded by this and not by the file.
pub const MAX_LINE_BYTES: usize = 1 << 20;

/// The lines of `reader` as text (invalid UTF-8 replaced; the line end removed), each at most
/// [`MAX_LINE_BYTES`]: `(text, ends_line)`, where `ends_line` is false for a piece cut from a
/// longer line.
pub fn bounded_lines(
    mut reader: Box<dyn BufRead + Send>,
) -> impl Iterator<Item = io::Result<(String, bool)>> + Send {
    let mut carry: Vec<u8> = Vec::new();
    std::iter::from_fn(move || {
        let mut line = std::mem::take(&mut carry);
        let room = MAX_LINE_BYTES.saturating_sub(line.len()) as u64;
        match (&mut reader).take(room).read_until(b'\n', &mut line) {
            Err(e) => return Some(Err(e)),
            Ok(0) if line.is_empty() => return None,
            Ok(_) => {}
        }
        let ends_line = line.last() == Some(&b'\n') || line.len() < MAX_LINE_BYTES;
        if ends_line {
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            if line.last() == Some(&b'\r') {
                line.pop();
            }
        } else {
            // After the last whitespace; with none, before the last character, so no UTF-8
            // character is split.
            let cut = match line.iter().rposition(u8::is_ascii_whitespace) {
                Some(p) => p + 1,
                None => line
                    .iter()
                    .rposition(|&b| b & 0xC0 != 0x80)
                    .unwrap_or(line.len()),
            };
            carry = line.split_off(cut);
        }
        let text = String::from_utf8(line)
            .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
        Some(Ok((text, ends_line)))
    })
}

/// Reads all of the small text file `path` (a config, an evaluation set, a tokenizer, a
/// checkpoint's JSON), refusing more than `limit` bytes — also from a FIFO or a device, where
/// the file's length says nothing — and naming the line and byte of the first invalid UTF-8.
pub fn read_text_bounded(path: &Path, limit: u64) -> io::Result<String> {
    let mut bytes = Vec::new();
    File::open(path)?
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        let message = format!("larger than {limit} bytes; this is not the file it should be");
        return Err(io::Error::new(io::ErrorKind::InvalidData, message));
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
        let message = format!("line {line} (byte {at}): invalid UTF-8");
        io::Error::new(io::ErrorKind::InvalidData, message)
    })
}

/// `s` on one line: every run of whitespace (newlines included) becomes one space, so a
/// library's multi-line message fits the one-line error contract.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn plain_and_gzip_files_read_the_same_text() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("c.txt");
        std::fs::write(&plain, "one two\nthree\n").unwrap();
        let gz = dir.path().join("c.TXT.GZ");
        let mut enc = flate2::write::GzEncoder::new(File::create(&gz).unwrap(), Default::default());
        enc.write_all(b"one two\nthree\n").unwrap();
        enc.finish().unwrap();
        for path in [&plain, &gz] {
            let mut text = String::new();
            open_text(path, 64)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            assert_eq!(text, "one two\nthree\n", "{}", path.display());
        }
        assert!(is_gzip(&gz) && !is_gzip(&plain));
    }

    #[test]
    fn bounded_reads_refuse_large_files_and_name_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.txt");
        std::fs::write(&path, [b'a', b'\n', b'b', 0xff]).unwrap();
        let e = read_text_bounded(&path, 100).unwrap_err();
        assert_eq!(e.to_string(), "line 2 (byte 3): invalid UTF-8");
        std::fs::write(&path, "0123456789").unwrap();
        assert_eq!(read_text_bounded(&path, 10).unwrap(), "0123456789");
        let e = read_text_bounded(&path, 9).unwrap_err();
        assert!(e.to_string().starts_with("larger than 9 bytes"), "{e}");
        // A device has no length: the bound is what stops it.
        let e = read_text_bounded(Path::new("/dev/zero"), 1000).unwrap_err();
        assert!(e.to_string().starts_with("larger than 1000 bytes"), "{e}");
    }

    #[test]
    fn long_lines_come_in_pieces_cut_at_whitespace() {
        let mut text = "ab cd\n".to_string();
        text.push_str(&"word ".repeat(MAX_LINE_BYTES / 5 + 10));
        text.push_str("\nend");
        let reader: Box<dyn BufRead + Send> = Box::new(io::Cursor::new(text.clone().into_bytes()));
        let pieces: Vec<(String, bool)> = bounded_lines(reader).map(Result::unwrap).collect();
        assert_eq!(pieces[0], ("ab cd".to_string(), true));
        assert!(pieces.iter().all(|(p, _)| p.len() <= MAX_LINE_BYTES));
        assert!(
            !pieces[1].1 && pieces[1].0.ends_with("word "),
            "cut after a space"
        );
        assert_eq!(pieces.last().unwrap(), &("end".to_string(), true));
        let joined: String = pieces
            .iter()
            .map(|(p, ends)| if *ends { format!("{p}\n") } else { p.clone() })
            .collect();
        assert_eq!(joined, format!("{text}\n"), "nothing lost");
        // No whitespace at all: cut at the limit, before the character the limit would split.
        let blob: Box<dyn BufRead + Send> =
            Box::new(io::Cursor::new(vec![b'x'; 3 * MAX_LINE_BYTES]));
        let sizes: Vec<usize> = bounded_lines(blob).map(|p| p.unwrap().0.len()).collect();
        assert_eq!(sizes.iter().sum::<usize>(), 3 * MAX_LINE_BYTES);
        assert!(sizes.iter().all(|&n| n <= MAX_LINE_BYTES), "{sizes:?}");
        let wide: Box<dyn BufRead + Send> =
            Box::new(io::Cursor::new("é".repeat(MAX_LINE_BYTES).into_bytes()));
        let pieces: Vec<String> = bounded_lines(wide).map(|p| p.unwrap().0).collect();
        assert!(
            pieces.iter().all(|p| !p.contains('\u{fffd}')),
            "a character was split"
        );
        assert_eq!(pieces.concat(), "é".repeat(MAX_LINE_BYTES));
    }

    #[test]
    fn one_line_joins_lines_and_collapses_spaces() {
        assert_eq!(one_line("a\n  b\tc \n"), "a b c");
    }

    #[test]
    fn a_folder_or_a_missing_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let e = check_file(dir.path()).unwrap_err();
        assert!(e.to_string().contains("is a directory"), "{e}");
        let e = check_file(&dir.path().join("nope.txt")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
    }
}
