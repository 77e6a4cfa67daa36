//! The binary's part of a run folder: the resolved config as TOML. The folder itself is made by
//! [`common::run_dir::create`]; what goes inside is each library's layout.

use std::path::Path;

use anyhow::{Context, Result};
use serde::Serialize;

use common::run_dir::CONFIG_FILE;
use common::write_atomic;

pub use common::run_dir::create;

/// Writes the resolved config as `config.toml` in the run folder (atomically) and returns its
/// text, which is also logged to TensorBoard.
pub fn write_config<T: Serialize>(dir: &Path, config: &T) -> Result<String> {
    let text = toml::to_string_pretty(config).context("serialising the resolved config")?;
    let path = dir.join(CONFIG_FILE);
    write_atomic(&path, |w| std::io::Write::write_all(w, text.as_bytes()))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(text)
}

/// For `--resume`: the run folder `out` (which `--resume` needs) and the config its run
/// started with, read from its `config.toml`, as `T`.
pub fn resumed_config<T: serde::de::DeserializeOwned>(out: Option<&Path>) -> Result<(&Path, T)> {
    let Some(dir) = out else {
        anyhow::bail!("--resume needs --out DIR, the run folder to continue");
    };
    let config_path = dir.join(CONFIG_FILE);
    if !config_path.exists() {
        anyhow::bail!(
            "--resume: {} holds no run ({} is missing)",
            dir.display(),
            config_path.display()
        );
    }
    Ok((dir, crate::config::load(&config_path, &[])?))
}

/// For `--resume`: an error unless `changed` (the config keys that differ from the run's own,
/// in `dir`) is empty; `allowed` are the keys that may change.
pub fn refuse_changes(dir: &Path, changed: &[String], allowed: &[&str]) -> Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "--resume: the config differs from {} in {}; only {} may change when resuming",
        dir.join(CONFIG_FILE).display(),
        changed.join(", "),
        allowed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_resolved_config_is_written_and_returned() {
        let tmp = tempfile::tempdir().unwrap();
        let text = write_config(tmp.path(), &toml::toml! { x = 1 }).unwrap();
        assert_eq!(
            std::fs::read_to_string(tmp.path().join("config.toml")).unwrap(),
            text
        );
        assert!(text.contains("x = 1"));
        let names: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, ["config.toml"], "no temporary file left");
    }
}
