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
