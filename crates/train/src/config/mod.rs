//! TOML configs: typed, unknown keys rejected, every value range-checked, `--set` overrides
//! merged in by dotted path. Every error is one line naming the file, the key, the bad value and
//! what is allowed.

use std::path::Path;

use anyhow::{Context, Result, anyhow, bail};
use serde::de::DeserializeOwned;

mod word2vec;
pub use word2vec::{RESUMABLE_CHANGES as WORD2VEC_RESUMABLE_CHANGES, Word2VecConfig};

/// Reads `path`, applies the `--set KEY=VALUE` overrides and deserialises into `T`.
pub fn load<T: DeserializeOwned>(path: &Path, overrides: &[String]) -> Result<T> {
    let text = common::read_text_bounded(path, MAX_CONFIG_BYTES)
        .with_context(|| format!("reading config {}", path.display()))?;
    parse(&text, path, overrides)
}

/// Parses the config `text` (from `path`, for errors), applies the `--set KEY=VALUE`
/// overrides and deserialises into `T`.
pub fn parse<T: DeserializeOwned>(text: &str, path: &Path, overrides: &[String]) -> Result<T> {
    let mut table: toml::Table = toml::from_str(text).map_err(|e| {
        let (line, col) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        anyhow!(
            "{}: invalid TOML at line {line}, column {col}: {}",
            path.display(),
            crate::one_line(e.message())
        )
    })?;
    for o in overrides {
        apply_override(&mut table, o).with_context(|| format!("--set {o}"))?;
    }
    serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
        let key = e.path().to_string();
        anyhow!(
            "{}: key `{key}`: {}",
            path.display(),
            crate::one_line(&e.into_inner().to_string())
        )
    })
}

/// The largest config read: a real one is a few KB.
const MAX_CONFIG_BYTES: u64 = 1 << 20;

/// The line and column (in bytes, from 1) of byte `offset` of `text`, wherever it falls.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text.as_bytes()[..offset.min(text.len())];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.len()
        - before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1)
        + 1;
    (line, col)
}

/// Sets `a.b.c = value` in `table`; the value is parsed as TOML, and a bare word that is not
/// valid TOML is taken as a string (`--set model.arch=cbow`).
pub fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<()> {
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| anyhow!("expected KEY=VALUE, e.g. model.dim=300"))?;
    let key = key.trim();
    let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t
            .remove("v")
            .unwrap_or(toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.trim().to_string()),
    };
    let parts: Vec<&str> = key.split('.').collect();
    if parts.iter().any(|p| p.is_empty()) {
        bail!("`{key}` is not a dotted key like model.dim");
    }
    let (last, parents) = parts.split_last().ok_or_else(|| anyhow!("empty key"))?;
    let mut current = table;
    for (i, part) in parents.iter().enumerate() {
        let entry = current
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        current = entry
            .as_table_mut()
            .ok_or_else(|| anyhow!("`{}` is not a table", parts[..=i].join(".")))?;
    }
    current.insert(last.to_string(), value);
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Writes `text` to a config file and loads it with the `--set` overrides `sets`.
    pub(crate) fn load_str<T: DeserializeOwned>(text: &str, sets: &[&str]) -> Result<T> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("cfg.toml");
        std::fs::write(&path, text)?;
        let sets: Vec<String> = sets.iter().map(|s| s.to_string()).collect();
        load(&path, &sets)
    }
}
