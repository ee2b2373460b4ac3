//! The one GPU device this process uses: found on first use, never at import.
//!
//! `import ferrograd` and all CPU work never touch Vulkan: the instance, adapter and device are
//! made the first time a tensor is sent to "wgpu" (or `devices()` is called). A machine with no
//! loader or driver gets a clear `Error::Device` naming what to install, not a crash.

use crate::error::{Error, Result};
use std::sync::{Mutex, OnceLock};

pub struct Gpu {
    pub device: wgpu::Device,
    pub queue: wgpu::Queue,
    pub info: wgpu::AdapterInfo,
    pub limits: wgpu::Limits,
    /// Recorded work, the buffer pool and the compiled kernels (see `queue.rs`).
    pub(super) state: Mutex<super::queue::State>,
    /// The first validation or out-of-memory error the device reported, surfaced at the next
    /// flush or read-back as an `Error::Runtime` (wgpu's default handler would panic).
    pub(super) error: std::sync::Arc<Mutex<Option<String>>>,
}

static GPU: OnceLock<std::result::Result<Gpu, String>> = OnceLock::new();

const INSTALL_HINT: &str = "install a Vulkan driver and loader (Debian/Ubuntu: `apt-get install libvulkan1 mesa-vulkan-drivers` \
for a software device, or your GPU vendor's driver), or use device 'cpu'";

fn instance() -> wgpu::Instance {
    // WGPU_BACKEND (e.g. "vulkan", "metal", "dx12") narrows the search, as in wgpu's examples.
    let backends = wgpu::Backends::from_env().unwrap_or(wgpu::Backends::PRIMARY);
    wgpu::Instance::new(wgpu::InstanceDescriptor { backends, ..wgpu::InstanceDescriptor::new_without_display_handle() })
}

fn open() -> std::result::Result<Gpu, String> {
    let inst = instance();
    let adapter = pollster::block_on(inst.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))
    .map_err(|e| format!("device 'wgpu': no GPU adapter found ({e}); {INSTALL_HINT}"))?;
    // Ask for everything the adapter offers: the default storage-binding limit (128 MiB) is far
    // below what real GPUs allow, and it caps the largest tensor.
    let limits = adapter.limits();
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("ferrograd"),
        required_limits: limits.clone(),
        ..Default::default()
    }))
    .map_err(|e| format!("device 'wgpu': the adapter refused to open a device: {e}"))?;
    let error = std::sync::Arc::new(Mutex::new(None::<String>));
    let sink = error.clone();
    device.on_uncaptured_error(std::sync::Arc::new(move |e: wgpu::Error| {
        let mut slot = sink.lock().unwrap_or_else(|p| p.into_inner());
        if slot.is_none() {
            *slot = Some(e.to_string());
        }
    }));
    let state = Mutex::new(super::queue::State::new(&device));
    Ok(Gpu { info: adapter.get_info(), device, queue, limits, state, error })
}

/// The process's GPU, opened on first call.
pub fn gpu() -> Result<&'static Gpu> {
    GPU.get_or_init(open).as_ref().map_err(|m| Error::Device(m.clone()))
}

/// What `ferrograd.devices()` lists for one adapter.
#[derive(Clone, Debug)]
pub struct AdapterSummary {
    pub name: String,
    pub backend: String,
    pub device_type: String,
    pub driver: String,
    /// A CPU rasteriser such as Mesa's lavapipe: correct, but slow.
    pub software: bool,
}

/// Every adapter wgpu can see (empty when there is no driver), without opening a device.
pub fn adapters() -> Vec<AdapterSummary> {
    let inst = instance();
    let list = pollster::block_on(inst.enumerate_adapters(wgpu::Backends::all()));
    list.iter()
        .map(|a| {
            let i = a.get_info();
            AdapterSummary {
                name: i.name.clone(),
                backend: format!("{:?}", i.backend).to_lowercase(),
                device_type: format!("{:?}", i.device_type),
                driver: format!("{} {}", i.driver, i.driver_info).trim().to_string(),
                software: i.device_type == wgpu::DeviceType::Cpu,
            }
        })
        .collect()
}

impl Gpu {
    /// The largest tensor (in elements) one kernel binding can hold on this device.
    pub fn max_binding_elems(&self) -> usize {
        let bytes = self.limits.max_storage_buffer_binding_size.min(self.limits.max_buffer_size);
        (bytes / 4) as usize
    }

    /// Takes the first error the device reported since the last check.
    pub(super) fn take_error(&self) -> Result<()> {
        match self.error.lock().unwrap_or_else(|p| p.into_inner()).take() {
            Some(m) => Err(Error::Runtime(format!("wgpu device error: {m}"))),
            None => Ok(()),
        }
    }
}
