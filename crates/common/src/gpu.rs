//! The GPU plumbing both trainers share: what an adapter is (for the log and the run folder), the
//! one-line errors of opening one, and where cubecl caches the kernels it compiles.
//!
//! The types are plain data, always built; the functions that touch cubecl and wgpu come with
//! the `gpu` feature, which both trainers' `wgpu` features turn on.

use serde::{Deserialize, Serialize};

/// A GPU adapter (or a CPU backend standing in for one), as the log and `device.json` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdapterInfo {
    /// The adapter's name (`llvmpipe (LLVM 15.0.6, 256 bits)`, `NVIDIA H100 80GB HBM3`), or the
    /// CPU backend's.
    pub name: String,
    /// Discrete GPU, integrated GPU, CPU (a software driver), …
    pub adapter_type: String,
    /// The driver and its version, when the adapter reports them.
    pub driver: String,
    /// The graphics API (Vulkan, Metal, …), or the CPU backend.
    pub backend: String,
}

impl AdapterInfo {
    /// A CPU backend described the same way as a GPU adapter.
    pub fn cpu(name: &str, backend: &str) -> Self {
        AdapterInfo {
            name: name.to_string(),
            adapter_type: "CPU".into(),
            driver: String::new(),
            backend: backend.to_string(),
        }
    }
}

impl std::fmt::Display for AdapterInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {}", self.name, self.adapter_type, self.backend)?;
        if !self.driver.is_empty() {
            write!(f, ", driver {}", self.driver)?;
        }
        write!(f, ")")
    }
}

/// Why a GPU could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GpuError {
    /// No GPU adapter: no Vulkan (or other) driver is installed.
    #[error(
        "no GPU adapter found: install a Vulkan driver (for a software one, Mesa's mesa-vulkan-drivers) or set train.device = \"cpu\" ({0})"
    )]
    NoAdapter(String),
    /// The adapter was found but would not start.
    #[error("cannot start the GPU: {0}")]
    Init(String),
}

#[cfg(feature = "gpu")]
pub use with_cubecl::{adapter_info, configure_kernel_cache, init_error, kernel_cache_dir};

#[cfg(feature = "gpu")]
mod with_cubecl {
    use std::path::PathBuf;

    use cubecl::config::cache::CacheConfig;
    use cubecl::config::{CubeClRuntimeConfig, RuntimeConfig};
    use cubecl::wgpu::WgpuInitError;
    use cubecl::wgpu::wgpu;

    use super::{AdapterInfo, GpuError};

    /// What `adapter` is, for the log and the run folder.
    pub fn adapter_info(adapter: &wgpu::Adapter) -> AdapterInfo {
        let info = adapter.get_info();
        let driver = [info.driver.as_str(), info.driver_info.as_str()]
            .iter()
            .filter(|s| !s.is_empty())
            .copied()
            .collect::<Vec<_>>()
            .join(" ");
        AdapterInfo {
            name: info.name.clone(),
            adapter_type: format!("{:?}", info.device_type),
            driver,
            backend: format!("{:?}", info.backend),
        }
    }

    /// The one-line error for a failed opening: a missing adapter says what to install.
    pub fn init_error(e: WgpuInitError) -> GpuError {
        match e {
            WgpuInitError::AdapterUnavailable { .. } => {
                GpuError::NoAdapter(crate::one_line(&e.to_string()))
            }
            other => GpuError::Init(crate::one_line(&other.to_string())),
        }
    }

    /// Where cubecl keeps the kernels it compiles and the autotune results it measures on a GPU:
    /// `$XDG_CACHE_HOME/train/cubecl` (else `~/.cache/train/cubecl`), so a second run on the
    /// same GPU starts fast wherever it is started from. cubecl's own default is the `target/`
    /// folder of the outermost Cargo project above the working directory, which would scatter
    /// the cache into whatever project a user happens to stand in.
    pub fn kernel_cache_dir() -> PathBuf {
        crate::cache_dir("cubecl")
    }

    /// Points cubecl's cache at [`kernel_cache_dir`], before a GPU is opened. A `cubecl.toml`
    /// (or the `[cubecl]` section of a `burn.toml`) that sets `environment.path` to anything but
    /// `"target"` is respected, and a configuration cubecl has already read is left as it is.
    pub fn configure_kernel_cache() {
        let mut config = CubeClRuntimeConfig::from_current_dir().override_from_env();
        if matches!(config.environment.path, CacheConfig::Target) {
            config.environment.path = CacheConfig::Directory(kernel_cache_dir());
        }
        CubeClRuntimeConfig::try_set(config);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_adapter_prints_as_one_line_and_leaves_out_an_unknown_driver() {
        let mut a = AdapterInfo {
            name: "llvmpipe".into(),
            adapter_type: "Cpu".into(),
            driver: "Mesa 22.3.6".into(),
            backend: "Vulkan".into(),
        };
        assert_eq!(a.to_string(), "llvmpipe (Cpu, Vulkan, driver Mesa 22.3.6)");
        a.driver.clear();
        assert_eq!(a.to_string(), "llvmpipe (Cpu, Vulkan)");
        assert_eq!(
            AdapterInfo::cpu("flex", "burn").to_string(),
            "flex (CPU, burn)"
        );
    }
}
