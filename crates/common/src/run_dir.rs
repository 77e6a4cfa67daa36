//! Run folders: `--out DIR` or `runs/<config name>-<timestamp>`, holding the resolved config
//! (`config.toml`), the outputs and the TensorBoard event files. What goes inside is each
//! library's own layout; this module only makes the folder.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The resolved config every run folder holds; a folder with one already holds a run.
pub const CONFIG_FILE: &str = "config.toml";

/// Why a run folder could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// `--out` names a folder that already holds a run.
    #[error(
        "--out {}: already holds a run (config.toml); choose another folder or remove it",
        .0.display()
    )]
    Taken(PathBuf),
    /// The folder could not be created.
    #[error("creating run folder {}: {source}", path.display())]
    Create {
        /// The folder.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Creates the run folder: `out` if given, else `runs/<config stem>-<UTC timestamp>` (with a
/// numeric suffix if that already exists). A folder that already holds a run (`config.toml`) is
/// refused, so outputs and event files of two runs never mix.
pub fn create(out: Option<&Path>, config_path: &Path) -> Result<PathBuf, RunDirError> {
    let dir = match out {
        Some(dir) if dir.join(CONFIG_FILE).exists() => {
            return Err(RunDirError::Taken(dir.to_path_buf()));
        }
        Some(dir) => dir.to_path_buf(),
        None => default_dir(Path::new("runs"), config_path, SystemTime::now()),
    };
    std::fs::create_dir_all(&dir).map_err(|source| RunDirError::Create {
        path: dir.clone(),
        source,
    })?;
    Ok(dir)
}

/// `<base>/<config stem>-<YYYYMMDD>-<HHMMSS>` for `now` (UTC), with `-2`, `-3`, … appended while
/// that exists.
fn default_dir(base: &Path, config_path: &Path, now: SystemTime) -> PathBuf {
    let stem = config_path
        .file_stem()
        .map_or_else(|| "run".to_string(), |s| s.to_string_lossy().into_owned());
    let stamp: String = humantime::format_rfc3339_seconds(now)
        .to_string()
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let first = base.join(format!("{stem}-{}-{}", &stamp[..8], &stamp[8..14]));
    let mut dir = first.clone();
    let mut n = 2;
    while dir.exists() {
        dir = PathBuf::from(format!("{}-{n}", first.display()));
        n += 1;
    }
    dir
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_folder_is_config_stem_and_utc_time_with_a_suffix_when_taken() {
        let tmp = tempfile::tempdir().unwrap();
        // 2026-11-26T07:08:52Z
        let now = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_676_932);
        let cfg = Path::new("configs/word2vec.toml");
        let first = default_dir(tmp.path(), cfg, now);
        assert_eq!(first, tmp.path().join("word2vec-20261126-070852"));
        std::fs::create_dir_all(&first).unwrap();
        assert_eq!(
            default_dir(tmp.path(), cfg, now),
            tmp.path().join("word2vec-20261126-070852-2")
        );
    }

    #[test]
    fn an_explicit_folder_is_made_and_one_holding_a_run_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = create(Some(&tmp.path().join("a/b")), Path::new("c.toml")).unwrap();
        assert!(dir.is_dir());
        std::fs::write(dir.join(CONFIG_FILE), "x = 1").unwrap();
        let e = create(Some(&dir), Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("already holds a run"), "{e}");
    }
}
