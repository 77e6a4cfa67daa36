//! Embedding Projector files: `projector_config.pbtxt` and the TSV files it points to.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

use common::write_atomic;

/// Writes an embedding for TensorBoard's Embedding Projector: `<logdir>/<name>/tensors.tsv` (one
/// row of `dim` tab-separated values per label, from the row-major `vectors`),
/// `<logdir>/<name>/metadata.tsv` (one label per line, no header as there is one column) and
/// `<logdir>/projector_config.pbtxt`. The config lists every embedding written into `logdir` so
/// far (each subfolder with a `tensors.tsv`), so input and output embeddings of one run can
/// both be shown. Every file is written with [`write_atomic`].
///
/// Labels are escaped for the projector: tab, newline and carriage return become `\t`, `\n`,
/// `\r`, and a blank label (which the projector would skip, shifting every later row) is
/// written quoted, e.g. `""`. `name` must be a plain folder name (ASCII letters, digits, `-`,
/// `_`, `.`, not starting with `.`).
pub fn write_projector(
    logdir: &Path,
    name: &str,
    labels: &[&str],
    vectors: &[f32],
    dim: usize,
) -> io::Result<()> {
    let invalid = |message: String| io::Error::new(io::ErrorKind::InvalidInput, message);
    if !is_embedding_name(name) {
        return Err(invalid(format!(
            "embedding name {name:?} must be ASCII letters, digits, '-', '_' or '.', \
             not starting with '.'"
        )));
    }
    if dim == 0 || labels.is_empty() {
        return Err(invalid(format!(
            "embedding {name:?} needs at least one label and dim > 0 (got {} labels, dim {dim})",
            labels.len()
        )));
    }
    if labels.len().checked_mul(dim) != Some(vectors.len()) {
        return Err(invalid(format!(
            "embedding {name:?}: {} values are not {} labels x dim {dim}",
            vectors.len(),
            labels.len()
        )));
    }
    let dir = logdir.join(name);
    fs::create_dir_all(&dir)?;
    write_tsv(&dir, labels, vectors, dim)?;
    write_config(logdir)
}

/// The embedding's vectors (one row a line, tab-separated) and labels, in `dir`.
fn write_tsv(dir: &Path, labels: &[&str], vectors: &[f32], dim: usize) -> io::Result<()> {
    write_atomic(&dir.join(TENSORS_FILE), |out| {
        for row in vectors.chunks_exact(dim) {
            for (i, v) in row.iter().enumerate() {
                if i > 0 {
                    out.write_all(b"\t")?;
                }
                write!(out, "{v}")?;
            }
            out.write_all(b"\n")?;
        }
        Ok(())
    })?;
    write_atomic(&dir.join(METADATA_FILE), |out| {
        for label in labels {
            writeln!(out, "{}", metadata_label(label))?;
        }
        Ok(())
    })
}

/// `projector_config.pbtxt` listing every embedding folder of `logdir`, so embeddings written
/// by earlier calls stay listed.
fn write_config(logdir: &Path) -> io::Result<()> {
    let mut names = Vec::new();
    for entry in fs::read_dir(logdir)? {
        let entry = entry?;
        let entry_name = entry.file_name();
        if let Some(entry_name) = entry_name.to_str()
            && is_embedding_name(entry_name)
            && entry.path().join(TENSORS_FILE).is_file()
        {
            let has_metadata = entry.path().join(METADATA_FILE).is_file();
            names.push((entry_name.to_owned(), has_metadata));
        }
    }
    names.sort();
    write_atomic(&logdir.join(PROJECTOR_CONFIG_FILE), |out| {
        for (name, has_metadata) in &names {
            writeln!(out, "embeddings {{")?;
            writeln!(out, "  tensor_name: \"{name}\"")?;
            writeln!(out, "  tensor_path: \"{name}/{TENSORS_FILE}\"")?;
            if *has_metadata {
                writeln!(out, "  metadata_path: \"{name}/{METADATA_FILE}\"")?;
            }
            writeln!(out, "}}")?;
        }
        Ok(())
    })
}

/// The projector's vectors file inside an embedding folder.
const TENSORS_FILE: &str = "tensors.tsv";
/// The projector's labels file inside an embedding folder.
const METADATA_FILE: &str = "metadata.tsv";
/// The projector's config file, which it looks for in each run folder.
const PROJECTOR_CONFIG_FILE: &str = "projector_config.pbtxt";

/// Whether `name` is safe as an embedding folder and inside a pbtxt string without escaping.
fn is_embedding_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// A label as one `metadata.tsv` line: see [`write_projector`] for the escaping.
fn metadata_label(label: &str) -> String {
    // JavaScript's trim() also removes the byte-order mark, which Rust does not count as space.
    if label.chars().all(|c| c.is_whitespace() || c == '\u{feff}') {
        return format!("{label:?}");
    }
    let mut line = String::with_capacity(label.len());
    for c in label.chars() {
        match c {
            '\t' => line.push_str("\\t"),
            '\n' => line.push_str("\\n"),
            '\r' => line.push_str("\\r"),
            c => line.push(c),
        }
    }
    line
}
