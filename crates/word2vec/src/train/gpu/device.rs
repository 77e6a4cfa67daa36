//! Opening the GPU for the Word2Vec engine: cubecl's wgpu runtime on the default adapter,
//! opened once per process with the fallible `try_init_setup` (a missing adapter is a one-line
//! error, not a panic in a worker thread), with its kernel cache in the per-user place the
//! encoder uses too ([`common::gpu`]).

use std::sync::OnceLock;

use common::{AdapterInfo, GpuError};
use cubecl::client::Client;
use cubecl::features::Plane;
use cubecl::wgpu::{AutoGraphicsApi, RuntimeOptions, WgpuDevice, WgpuRuntime};
use cubecl_runtime::runtime::Runtime;

/// An opened GPU: the client kernels are launched on, and what the kernel may assume of it.
#[derive(Clone)]
pub(super) struct Gpu {
    /// Launches kernels and moves buffers.
    pub(super) client: Client,
    /// What the adapter is.
    pub(super) info: AdapterInfo,
    /// The kernel's cube width: lanes per plane where the plane width is fixed.
    pub(super) width: u32,
    /// Whether dot products use plane operations (else shared memory and barriers).
    pub(super) plane_ops: bool,
    /// Shared memory a cube may use, in bytes.
    pub(super) shared_bytes: usize,
    /// Loop iterations an invocation may run in all, where the driver cuts them off silently:
    /// software adapters (lavapipe).
    pub(super) loop_limit: Option<usize>,
}

/// The process's GPU, opened once: cubecl refuses to initialise a runtime twice.
static OPENED: OnceLock<Result<Gpu, GpuError>> = OnceLock::new();

/// The default wgpu adapter (a GPU if there is one, else a software one such as lavapipe).
pub(super) fn open() -> Result<Gpu, GpuError> {
    OPENED.get_or_init(init).clone()
}

fn init() -> Result<Gpu, GpuError> {
    common::gpu::configure_kernel_cache();
    let device = WgpuDevice::default();
    let options = RuntimeOptions::try_default().map_err(common::gpu::init_error)?;
    let setup = cubecl::wgpu::try_init_setup::<AutoGraphicsApi>(&device, options)
        .map_err(common::gpu::init_error)?;
    let info = common::gpu::adapter_info(&setup.adapter);
    let client = <WgpuRuntime as Runtime>::client(&device);
    let hardware = &client.properties().hardware;
    let (min, max) = (hardware.plane_size_min, hardware.plane_size_max);
    // Plane sums need every lane of a cube row in one plane: a fixed plane width.
    let plane_ops = client.features().plane.contains(Plane::Ops) && min == max && min > 0;
    // Without plane operations, a cube's lanes add through shared memory between barriers:
    // 8 lanes measured fastest on lavapipe (17k words/s, against 9k with 4 and 12k with 32).
    let width = if plane_ops { min } else { max.clamp(8, 32) };
    let shared_bytes = hardware.max_shared_memory_size;
    // llvmpipe's loop limiter (Mesa's gallivm: LP_MAX_TGSI_LOOP_ITERATIONS, 65,535), less a
    // margin for the iterations the layout's estimate leaves out.
    let loop_limit = (info.adapter_type == "Cpu").then_some(60_000);
    Ok(Gpu {
        loop_limit,
        client,
        info,
        width,
        plane_ops,
        shared_bytes,
    })
}
