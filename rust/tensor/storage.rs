//! Where a tensor's elements live. `Storage` is cheap to clone (an `Arc`): views share it.
//!
//! Only the CPU exists today; a GPU variant joins the enum later. Backward rules never look
//! at storage (they are written in tensor ops), so adding a device touches the kernels and
//! this file, not every op.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Device {
    Cpu,
}

impl Device {
    pub fn name(&self) -> &'static str {
        match self {
            Device::Cpu => "cpu",
        }
    }

    pub fn parse(name: &str) -> crate::Result<Device> {
        match name.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(Device::Cpu),
            "wgpu" | "gpu" => Err(crate::Error::Device(
                "device 'wgpu': the GPU backend is not built into this version of ferrograd; use 'cpu'".into(),
            )),
            other => Err(crate::Error::Value(format!("unknown device {other:?}; expected 'cpu'"))),
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
}

impl Storage {
    pub fn cpu(data: Vec<f32>) -> Storage {
        Storage::Cpu(Arc::new(CpuBuffer { data: RwLock::new(data), version: AtomicU64::new(0) }))
    }

    pub fn device(&self) -> Device {
        match self {
            Storage::Cpu(_) => Device::Cpu,
        }
    }

    /// Read access to the CPU elements. A poisoned lock (a panic elsewhere while writing) still
    /// yields the data: kernels never leave a buffer half-written on purpose.
    pub fn read(&self) -> RwLockReadGuard<'_, Vec<f32>> {
        match self {
            Storage::Cpu(b) => b.data.read().unwrap_or_else(|e| e.into_inner()),
        }
    }

    /// Write access; bumps the version counter.
    pub fn write(&self) -> RwLockWriteGuard<'_, Vec<f32>> {
        match self {
            Storage::Cpu(b) => {
                b.version.fetch_add(1, Ordering::Relaxed);
                b.data.write().unwrap_or_else(|e| e.into_inner())
            }
        }
    }

    pub fn version(&self) -> u64 {
        match self {
            Storage::Cpu(b) => b.version.load(Ordering::Relaxed),
        }
    }

    pub fn same_as(&self, other: &Storage) -> bool {
        match (self, other) {
            (Storage::Cpu(a), Storage::Cpu(b)) => Arc::ptr_eq(a, b),
        }
    }

    pub fn len(&self) -> usize {
        self.read().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
