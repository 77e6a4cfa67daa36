//! Where cubecl keeps the kernels it compiles and the autotune results it measures on a GPU:
//! `$XDG_CACHE_HOME/train/cubecl` (else `~/.cache/train/cubecl`), so a second run on the same
//! GPU starts fast wherever it is started from. cubecl's own default is the `target/` folder of
//! the outermost Cargo project above the working directory, which would scatter the cache into
//! whatever project a user happens to stand in. A `cubecl.toml` (or the `[cubecl]` section of a
//! `burn.toml`) that sets `environment.path` to anything but `"target"` is respected.

use std::path::PathBuf;

use burn::cubecl::config::cache::CacheConfig;
use burn::cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};

/// The kernel and autotune cache folder.
pub fn dir() -> PathBuf {
    common::cache_dir("cubecl")
}

/// Points cubecl's cache at [`dir`], before the GPU is opened; a configuration cubecl has
/// already read is left as it is.
pub(crate) fn configure() {
    let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
    if matches!(config.environment.path, CacheConfig::Target) {
        config.environment.path = CacheConfig::Directory(dir());
    }
    CubeClRuntimeConfig::try_set(config);
}
