//! Opening text corpora: plain `.txt`, or gzip (`.gz`, multi-member too) decompressed on the fly.

use std::fs::File;
use std::io::{self, BufRead, BufReader};
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
