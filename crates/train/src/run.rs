//! Run folders: `--out DIR` or `runs/<config name>-<timestamp>`, holding the resolved config,
//! the outputs and the TensorBoard event files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::Serialize;

use crate::atomic::write_atomic;

/// Creates the run folder: `out` if given, else `runs/<config stem>-<UTC timestamp>` (with a
/// numeric suffix if that already exists). A folder that already holds a run (`config.toml`) is
/// refused, so outputs and event files of two runs never mix.
pub fn create(out: Option<&Path>, config_path: &Path) -> Result<PathBuf> {
    let dir = match out {
        Some(dir) => {
            if dir.join("config.toml").exists() {
                bail!(
                    "--out {}: already holds a run (config.toml); choose another folder or remove it",
                    dir.display()
                );
            }
            dir.to_path_buf()
        }
        None => default_dir(Path::new("runs"), config_path, std::time::SystemTime::now()),
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating run folder {}", dir.display()))?;
    Ok(dir)
}

/// `<base>/<config stem>-<YYYYMMDD>-<HHMMSS>` for `now` (UTC), with `-2`, `-3`, … appended while
/// that exists.
fn default_dir(base: &Path, config_path: &Path, now: std::time::SystemTime) -> PathBuf {
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

/// Writes the resolved config as `config.toml` in the run folder (atomically) and returns its
/// text, which is also logged to TensorBoard.
pub fn write_config<T: Serialize>(dir: &Path, config: &T) -> Result<String> {
    let text = toml::to_string_pretty(config).context("serialising the resolved config")?;
    let path = dir.join("config.toml");
    write_atomic(&path, |w| std::io::Write::write_all(w, text.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(text)
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
    fn a_folder_holding_a_run_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = create(Some(&tmp.path().join("r")), Path::new("c.toml")).unwrap();
        write_config(&dir, &toml::toml! { x = 1 }).unwrap();
        let e = create(Some(&dir), Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("already holds a run"), "{e}");
    }

    #[test]
    fn default_folder_is_named_after_the_config_and_never_reused() {
        let tmp = tempfile::tempdir().unwrap();
        let old = std::env::current_dir().unwrap();
        // Run-folder names are relative to the working directory.
        let cfg = Path::new("configs/word2vec.toml");
        let explicit = create(Some(&tmp.path().join("a/b")), cfg).unwrap();
        assert!(explicit.is_dir());
        assert_eq!(old, std::env::current_dir().unwrap());
        let text = write_config(&explicit, &toml::toml! { x = 1 }).unwrap();
        assert_eq!(
            std::fs::read_to_string(explicit.join("config.toml")).unwrap(),
            text
        );
        assert!(text.contains("x = 1"));
        let leftovers: Vec<_> = std::fs::read_dir(&explicit)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(leftovers, ["config.toml"]);
    }
}
