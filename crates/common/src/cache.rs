//! The per-user cache folder of the toolkit (token streams, GPU kernels).

use std::path::PathBuf;

/// `$XDG_CACHE_HOME/train/<what>`, else `~/.cache/train/<what>`, else `runs/.cache/<what>`.
pub fn cache_dir(what: &str) -> PathBuf {
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .map_or_else(|| PathBuf::from("runs/.cache"), |c| c.join("train"))
        .join(what)
}
