//! Opening the device a [`DeviceKind`] names, and what it is (for the log and the run folder).
//!
//! The GPU is opened with burn's fallible `Device::wgpu_options().init()`: the lazy
//! `Device::wgpu(..)` would panic in a worker thread at the first operation when there is no
//! adapter. A process opens it once; later calls get the same device.

use burn::prelude::Device;
use common::AdapterInfo;
use serde::{Deserialize, Serialize};

use crate::config::DeviceKind;

/// What a run trains on: written to the run folder and the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// The config's `train.device`.
    pub kind: DeviceKind,
    /// The adapter (or CPU backend) it opened.
    #[serde(flatten)]
    pub adapter: AdapterInfo,
}

impl std::fmt::Display for DeviceInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.adapter.fmt(f)
    }
}

/// Why a device could not be opened (shared with Word2Vec's GPU engine).
pub use common::GpuError as DeviceError;

impl DeviceKind {
    /// Whether this is a GPU: its first steps compile kernels and autotune, and a micro-batch
    /// runs as one shard (shards are how a CPU keeps every core busy).
    pub fn is_gpu(self) -> bool {
        match self {
            DeviceKind::Cpu => false,
            #[cfg(feature = "ndarray")]
            DeviceKind::Ndarray => false,
            #[cfg(feature = "wgpu")]
            DeviceKind::Wgpu => true,
        }
    }

    /// The shards a micro-batch is split into on this device: `configured` on a CPU, one on a
    /// GPU.
    pub fn shards(self, configured: usize) -> usize {
        if self.is_gpu() { 1 } else { configured }
    }

    /// Opens the device of this kind (without autodiff; training adds it).
    pub fn open(self) -> Result<(Device, DeviceInfo), DeviceError> {
        let cpu = |name: &str| DeviceInfo {
            kind: self,
            adapter: AdapterInfo::cpu(name, "burn CPU backend"),
        };
        match self {
            DeviceKind::Cpu => Ok((cpu_device(), cpu("flex"))),
            #[cfg(feature = "ndarray")]
            DeviceKind::Ndarray => Ok((ndarray_device(), cpu("ndarray"))),
            #[cfg(feature = "wgpu")]
            DeviceKind::Wgpu => wgpu::open(),
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

#[cfg(feature = "wgpu")]
mod wgpu {
    use std::sync::OnceLock;

    use burn::prelude::Device;

    use super::{DeviceError, DeviceInfo};
    use crate::config::DeviceKind;

    /// The process's GPU, opened once: burn refuses to initialise a runtime twice.
    static OPENED: OnceLock<Result<(Device, DeviceInfo), DeviceError>> = OnceLock::new();

    /// The default wgpu adapter (a GPU if there is one, else a software one such as lavapipe).
    pub fn open() -> Result<(Device, DeviceInfo), DeviceError> {
        OPENED.get_or_init(init).clone()
    }

    fn init() -> Result<(Device, DeviceInfo), DeviceError> {
        common::gpu::configure_kernel_cache();
        let (device, setup) = Device::wgpu_options()
            .init_with_setup()
            .map_err(common::gpu::init_error)?;
        let adapter = common::gpu::adapter_info(&setup.adapter);
        let info = DeviceInfo {
            kind: DeviceKind::Wgpu,
            adapter,
        };
        Ok((device, info))
    }
}

#[cfg(test)]
mod tests {
    use burn::prelude::*;

    use crate::config::DeviceKind;

    #[test]
    fn the_cpu_device_runs_a_matmul() {
        let (device, info) = DeviceKind::Cpu.open().unwrap();
        assert_eq!(info.adapter.adapter_type, "CPU");
        let a = Tensor::<2>::from_floats([[1.0, 2.0], [3.0, 4.0]], &device);
        let b = Tensor::<2>::from_floats([[0.5], [-1.0]], &device);
        let c: Vec<f32> = a.matmul(b).into_data().try_into_vec::<f32>().unwrap();
        assert_eq!(c, vec![-1.5, -2.5]);
    }
}
