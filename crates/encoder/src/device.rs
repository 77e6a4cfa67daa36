//! Opening the device a [`DeviceKind`] names, and what it is (for the log and the run folder).
//!
//! Opening is fallible so that a device that is not there is a one-line error before any work.

use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use crate::config::DeviceKind;

/// What a run trains on: written to the run folder and the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// The config's `train.device`.
    pub kind: DeviceKind,
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

impl std::fmt::Display for DeviceInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {}", self.name, self.adapter_type, self.backend)?;
        if !self.driver.is_empty() {
            write!(f, ", driver {}", self.driver)?;
        }
        write!(f, ")")
    }
}

/// Why a device could not be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeviceError {
    /// No GPU adapter: no Vulkan (or other) driver is installed.
    #[error(
        "no GPU adapter found: install a Vulkan driver (for a software one, Mesa's mesa-vulkan-drivers) or set train.device = \"cpu\" ({0})"
    )]
    NoAdapter(String),
    /// The adapter was found but would not start.
    #[error("cannot start the GPU: {0}")]
    Init(String),
}

impl DeviceKind {
    /// Opens the device of this kind (without autodiff; training adds it).
    pub fn open(self) -> Result<(Device, DeviceInfo), DeviceError> {
        let cpu = |name: &str| DeviceInfo {
            kind: self,
            name: name.to_string(),
            adapter_type: "CPU".into(),
            driver: String::new(),
            backend: "burn CPU backend".into(),
        };
        match self {
            DeviceKind::Cpu => Ok((cpu_device(), cpu("flex"))),
            #[cfg(feature = "ndarray")]
            DeviceKind::Ndarray => Ok((ndarray_device(), cpu("ndarray"))),
        }
    }
}

/// The CPU device the encoder trains on: burn's pure-Rust `flex` backend, chosen over the
/// deprecated `ndarray` backend (burn 0.22 deprecates it in favour of flex, and flex trains the
/// benchmark encoder 1.58× faster here; experiments/encoder-vs-pytorch).
pub fn cpu_device() -> Device {
    Device::flex()
}

/// burn's deprecated `ndarray` CPU backend, built only with the `ndarray` feature so that the
/// benchmark can measure it against [`cpu_device`] on the same model.
#[cfg(feature = "ndarray")]
#[allow(deprecated)] // deprecated by burn in favour of flex, which is the point of measuring it
pub fn ndarray_device() -> Device {
    Device::ndarray()
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use crate::config::DeviceKind;

    #[test]
    fn the_cpu_device_runs_a_matmul() {
        let (device, info) = DeviceKind::Cpu.open().unwrap();
        assert_eq!(info.adapter_type, "CPU");
        let a = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device);
        let b = Tensor::<2>::from_floats([[0.5], [-1.0]], &device);
        let c: Vec<f32> = a.matmul(b).into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(c, vec![-1.5, -2.5]);
    }
}
