//! The GPU backend: WGSL compute kernels run through wgpu (Vulkan, Metal or DX12).
//!
//! Tensors on "wgpu" keep their elements in a pooled `GpuBuffer`; every kernel records a
//! dispatch (see `queue.rs`) and nothing is read back until `.numpy()` / `.item()` /
//! `.tolist()`. The files mirror `backend/cpu`: one per kernel family, each with its WGSL in
//! `kernels/`. Ops never call this module directly: `backend/mod.rs` dispatches on the device.

pub mod context;
pub mod conv;
pub mod elementwise;
pub mod index;
pub mod matmul;
pub mod optim;
pub mod pool;
pub mod queue;
pub mod random;
pub mod reduce;
pub mod softmax;

pub use context::{adapters, gpu, AdapterSummary};
pub use queue::{empty_cache, flush, GpuBuffer};

use crate::error::Result;
use crate::tensor::{Layout, Storage, Tensor};
use std::sync::Arc;

/// A new contiguous GPU tensor of `shape` over `buf`.
pub(crate) fn tensor(buf: GpuBuffer, shape: &[usize]) -> Tensor {
    Tensor::from_parts(Storage::Gpu(Arc::new(buf)), Layout::contiguous(shape), None)
}

/// The GPU buffer under a tensor (callers have checked the device).
pub(crate) fn buf(t: &Tensor) -> &wgpu::Buffer {
    match t.storage() {
        Storage::Gpu(b) => &b.buf,
        Storage::Cpu(_) => unreachable!("backend dispatch sends only GPU tensors here"),
    }
}

/// `t` on the GPU: GPU tensors as they are, CPU tensors (the 0-d constants ops build, and
/// nothing else reaches here) uploaded.
pub(crate) fn on_gpu(t: &Tensor) -> Result<Tensor> {
    match t.storage() {
        Storage::Gpu(_) => Ok(t.clone()),
        Storage::Cpu(_) => upload(t),
    }
}

/// Copies a CPU tensor to the GPU (contiguous).
pub fn upload(t: &Tensor) -> Result<Tensor> {
    Ok(tensor(queue::upload(&t.to_vec())?, t.shape()))
}

/// The elements of a GPU tensor, row-major, read back to the host.
pub fn download(t: &Tensor) -> Result<Vec<f32>> {
    let l = t.layout();
    if l.is_contiguous() {
        return queue::read(buf(t), l.offset, l.numel());
    }
    let c = elementwise::contiguous(t)?;
    queue::read(buf(&c), 0, c.numel())
}

/// A contiguous GPU tensor starting at offset 0 (a copy only when needed): for kernels that
/// index their input as a plain array.
pub(crate) fn dense(t: &Tensor) -> Result<Tensor> {
    let t = on_gpu(t)?;
    if t.is_contiguous() && t.layout().offset == 0 {
        Ok(t)
    } else {
        elementwise::contiguous(&t)
    }
}

/// Per-row workgroups folded into y past the x limit (kernels compute
/// `row = wid.x + wid.y * nwg.x`).
pub(crate) fn rows_grid(rows: usize) -> [u32; 3] {
    let x = rows.clamp(1, 65535);
    [x as u32, rows.div_ceil(x) as u32, 1]
}

pub(crate) fn f(v: f32) -> u32 {
    v.to_bits()
}

pub(crate) fn u(v: usize) -> u32 {
    v as u32
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::Device;

    /// The GPU, or None (skip) on a machine without one; CI sets FERROGRAD_REQUIRE_GPU=1.
    fn have_gpu() -> bool {
        match gpu() {
            Ok(_) => true,
            Err(e) if std::env::var("FERROGRAD_REQUIRE_GPU").as_deref() == Ok("1") => panic!("{e}"),
            Err(_) => false,
        }
    }

    fn data(n: usize, seed: u32) -> Vec<f32> {
        (0..n).map(|i| (((i as u32).wrapping_mul(2654435761).wrapping_add(seed) >> 8) % 1000) as f32 / 500.0 - 1.0).collect()
    }

    fn close(a: &[f32], b: &[f32], tol: f32) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!((x - y).abs() <= tol * (1.0 + y.abs()), "element {i}: {x} vs {y}");
        }
    }

    #[test]
    fn matmul_matches_cpu_on_ragged_and_transposed_shapes() {
        if !have_gpu() {
            return;
        }
        // Shapes that pick each tile (32, 64 and 128 wide) with ragged edges.
        for &(m, k, n) in &[(1, 1, 1), (7, 13, 5), (65, 70, 129), (600, 31, 520), (650, 37, 645), (1300, 21, 1297)] {
            let a = Tensor::from_vec(data(m * k, 1), &[m, k]).unwrap();
            let b = Tensor::from_vec(data(k * n, 2), &[k, n]).unwrap();
            let want = a.matmul(&b).unwrap().to_vec();
            let (ga, gb) = (a.to_device_raw(Device::Wgpu).unwrap(), b.to_device_raw(Device::Wgpu).unwrap());
            close(&ga.matmul(&gb).unwrap().to_vec(), &want, 1e-4);
            // Through transposed views (strides, no copies).
            let at = Tensor::from_vec(data(m * k, 1), &[m, k]).unwrap().transpose(0, 1).unwrap().contiguous().unwrap();
            let gat = at.to_device_raw(Device::Wgpu).unwrap().transpose(0, 1).unwrap();
            close(&gat.matmul(&gb).unwrap().to_vec(), &want, 1e-4);
        }
    }

    #[test]
    fn work_recorded_across_many_flushes_stays_ordered() {
        if !have_gpu() {
            return;
        }
        // Far more dispatches than one batch holds, each reading the previous result.
        let mut t = Tensor::zeros(&[1000]).to_device_raw(Device::Wgpu).unwrap();
        for _ in 0..3000 {
            t = t.add_scalar(1.0).unwrap();
        }
        assert!(t.to_vec().iter().all(|&v| v == 3000.0));
    }
}
