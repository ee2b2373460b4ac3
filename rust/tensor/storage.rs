//! Where a tensor's elements live. `Storage` is cheap to clone (an `Arc`): views share it.
//!
//! Two devices: the CPU (a `Vec<f32>` behind a lock) and the GPU (a wgpu buffer, see
//! `backend/wgpu`). Backward rules never look at storage (they are written in tensor ops), so
//! the GPU touched the kernels and this file, not every op.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Device {
    Cpu,
    /// The GPU backend (WGSL kernels through wgpu).
    Wgpu,
}

impl Device {
    pub fn name(&self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
            Device::Wgpu => "wgpu",
        }
    }

    pub fn parse(name: &str) -> crate::Result<Device> {
        match name.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Device::Cpu),
            "wgpu" | "gpu" => Ok(Device::Wgpu),
            other => Err(crate::Error::Value(format!("unknown device {other:?}; expected 'cpu' or 'wgpu'"))),
        }
    }
}

/// A CPU buffer plus a version counter that in-place writes bump, so autograd can tell when a
/// tensor it saved for backward was overwritten (as torch's version counter does).
pub struct CpuBuffer {
    data: RwLock<Vec<f32>>,
    version: AtomicU64,
}

impl Drop for CpuBuffer {
    fn drop(&mut self) {
        let data = std::mem::take(self.data.get_mut().unwrap_or_else(|e| e.into_inner()));
        super::pool::give(data);
    }
}

#[derive(Clone)]
pub enum Storage {
    Cpu(Arc<CpuBuffer>),
    Gpu(Arc<crate::backend::wgpu::GpuBuffer>),
}

const GPU_HOST_ACCESS: &str = "internal error: host access to a GPU tensor's storage (a CPU kernel was handed a 'wgpu' tensor); please report this";

impl Storage {
    pub fn cpu(data: Vec<f32>) -> Storage {
        Storage::Cpu(Arc::new(CpuBuffer { data: RwLock::new(data), version: AtomicU64::new(0) }))
    }

    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(_) => Device::Cpu,
            Storage::Gpu(_) => Device::Wgpu,
        }
    }

    /// Read access to the CPU elements. A poisoned lock (a panic elsewhere while writing) still
    /// yields the data: kernels never leave a buffer half-written on purpose. CPU kernels only:
    /// GPU storage is reached through `backend::wgpu` (a panic here is caught at the binding).
    pub fn read(&self) -> RwLockReadGuard<'_, Vec<f32>> {
        match self {
            Storage::Cpu(b) => b.data.read().unwrap_or_else(|e| e.into_inner()),
            Storage::Gpu(_) => panic!("{GPU_HOST_ACCESS}"),
        }
    }

    /// Write access; bumps the version counter.
    pub fn write(&self) -> RwLockWriteGuard<'_, Vec<f32>> {
        match self {
            Storage::Cpu(b) => {
                b.version.fetch_add(1, Ordering::Relaxed);
                b.data.write().unwrap_or_else(|e| e.into_inner())
            }
            Storage::Gpu(_) => panic!("{GPU_HOST_ACCESS}"),
        }
    }

    pub fn version(&self) -> u64 {
        match self {
            Storage::Cpu(b) => b.version.load(Ordering::Relaxed),
            Storage::Gpu(b) => b.version(),
        }
    }

    /// Records an in-place write made by a kernel (GPU kernels write without a host lock).
    pub fn bump_version(&self) {
        match self {
            Storage::Cpu(b) => {
                b.version.fetch_add(1, Ordering::Relaxed);
            }
            Storage::Gpu(b) => b.bump_version(),
        }
    }

    pub fn same_as(&self, other: &Storage) -> bool {
        match (self, other) {
            (Storage::Cpu(a), Storage::Cpu(b)) => Arc::ptr_eq(a, b),
            (Storage::Gpu(a), Storage::Gpu(b)) => Arc::ptr_eq(a, b),
            _ => false,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Storage::Cpu(_) => self.read().len(),
            Storage::Gpu(b) => b.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
