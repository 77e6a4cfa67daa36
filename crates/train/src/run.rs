//! Run folders: `--out DIR` or `runs/<config name>-<timestamp>`, holding the resolved config,
//! the outputs and the TensorBoard event files.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde::Serialize;

use crate::tensorboard::write_atomic;

/// Creates the run folder: `out` if given, else `runs/<config stem>-<UTC timestamp>` (with a
/// numeric suffix if that already exists).
pub fn create(out: Option<&Path>, config_path: &Path) -> Result<PathBuf> {
    let dir = match out {
        Some(dir) => dir.to_path_buf(),
        None => {
            let stem = config_path
                .file_stem()
                .map_or_else(|| "run".to_string(), |s| s.to_string_lossy().into_owned());
            let stamp: String = humantime::format_rfc3339_seconds(std::time::SystemTime::now())
                .to_string()
                .chars()
                .filter(char::is_ascii_digit)
                .collect();
            let base =
                PathBuf::from("runs").join(format!("{stem}-{}-{}", &stamp[..8], &stamp[8..]));
            let mut dir = base.clone();
            let mut n = 2;
            while dir.exists() {
                dir = PathBuf::from(format!("{}-{n}", base.display()));
                n += 1;
            }
            dir
        }
    };
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("creating run folder {}", dir.display()))?;
    Ok(dir)
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
