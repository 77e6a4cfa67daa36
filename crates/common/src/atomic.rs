//! Atomic file writes: an output is written under a temporary name and renamed into place, so an
//! interrupted or failed run never leaves a half-written output.

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};

/// The temporary name `path` is written under before the rename: `.<file name>.tmp-<pid>` in the
/// same folder (so the rename cannot cross file systems, and a leftover is hidden).
fn temp_name(path: &Path) -> io::Result<PathBuf> {
    let file_name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} has no file name", path.display()),
        )
    })?;
    let mut temp_name = OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".tmp-{}", std::process::id()));
    Ok(path.with_file_name(temp_name))
}

/// Writes `path` atomically: `f` writes into a temporary file in the same directory, which is
/// then renamed over `path`. An interrupted run or a failing `f` therefore never leaves a
/// half-written `path`: readers see the old file or the complete new one. On error the
/// temporary file is removed. (No fsync: this guards against interruption, not power loss.
/// Two threads of one process must not write the same path at once.)
pub fn write_atomic(
    path: &Path,
    f: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    replace_with(path, |temp| {
        let mut out = BufWriter::new(File::create(temp)?);
        f(&mut out)?;
        out.into_inner().map_err(io::IntoInnerError::into_error)?;
        Ok(())
    })
    .map_err(|e: io::Error| {
        io::Error::new(e.kind(), format!("cannot write {}: {e}", path.display()))
    })
}

/// Like [`write_atomic`], for writers that take a path rather than a stream (burn's weights
/// files, a tokenizer's JSON): `f` writes the file at the temporary path it is given, which is
/// then renamed over `path`; on error the temporary file is removed and `f`'s error returned.
pub fn replace_with<E: From<io::Error>>(
    path: &Path,
    f: impl FnOnce(&Path) -> Result<(), E>,
) -> Result<(), E> {
    let temp = temp_name(path)?;
    let result = f(&temp).and_then(|()| fs::rename(&temp, path).map_err(E::from));
    if result.is_err() {
        // The temporary file may not exist (creation failed); nothing more to do then.
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn write_atomic_leaves_no_file_when_the_closure_fails() {
        let dir = tempfile::tempdir().unwrap();
        let new = dir.path().join("new.tsv");
        let err = write_atomic(&new, |out| {
            out.write_all(&[b'x'; 100_000])?;
            Err(io::Error::other("interrupted"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("interrupted"), "{err}");
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no file, no temp"
        );

        let old = dir.path().join("old.tsv");
        fs::write(&old, "old content").unwrap();
        write_atomic(&old, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("interrupted"))
        })
        .unwrap_err();
        assert_eq!(fs::read_to_string(&old).unwrap(), "old content");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn write_atomic_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        fs::write(&path, "old").unwrap();
        write_atomic(&path, |out| out.write_all(b"new content")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new content");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
        let err = write_atomic(Path::new("/"), |_| Ok(())).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn replace_with_renames_what_the_writer_wrote_and_removes_it_on_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("model.bpk");
        replace_with(&path, |temp| fs::write(temp, "weights")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "weights");
        let err = replace_with(&path, |temp| {
            fs::write(temp, "half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), "weights");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
