//! Max and average pooling, forward and backward (kernels/pool.wgsl).

use super::queue::{self, dispatch, grid, Kernel};
use super::{buf, dense, tensor, u};
use crate::backend::PoolGeom;
use crate::error::Result;
use crate::tensor::Tensor;

const SRC: &str = include_str!("kernels/pool.wgsl");

fn geom(g: &PoolGeom, include_pad: bool, avg: bool) -> Vec<u32> {
    let mut p: Vec<u32> = [g.planes, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow].iter().map(|&v| u(v)).collect();
    p.extend([include_pad as u32, avg as u32]);
    p
}

fn kernel(entry: &'static str) -> Kernel<'static> {
    Kernel { key: entry, source: SRC, entry }
}

fn forward(x: &Tensor, g: &PoolGeom, include_pad: bool, avg: bool, out_shape: &[usize]) -> Result<(Tensor, Tensor)> {
    let xd = dense(x)?;
    let n = g.planes * g.oh * g.ow;
    let y = queue::alloc(n)?;
    // Winner indices for max pooling; a one-element scratch the kernel never writes for average.
    let idx = queue::alloc(if avg { 1 } else { n })?;
    dispatch(&kernel("pool_forward"), &geom(g, include_pad, avg), &[(1, buf(&xd)), (3, &idx.buf), (4, &y.buf)], grid(n))?;
    let idx_shape: &[usize] = if avg { &[1] } else { out_shape };
    Ok((tensor(y, out_shape), tensor(idx, idx_shape)))
}

fn backward(dy: &Tensor, idx: Option<&Tensor>, g: &PoolGeom, include_pad: bool, in_shape: &[usize]) -> Result<Tensor> {
    let dyd = dense(dy)?;
    let n = g.planes * g.h * g.w;
    let dx = queue::alloc(n)?;
    // Average pooling reads no indices: dy (read-only) fills the binding.
    let idx_buf = idx.map(buf).unwrap_or(buf(&dyd));
    let p = geom(g, include_pad, idx.is_none());
    dispatch(&kernel("pool_backward"), &p, &[(1, buf(&dyd)), (2, idx_buf), (4, &dx.buf)], grid(n))?;
    Ok(tensor(dx, in_shape))
}

/// The pooled tensor and the winners' in-plane indices (u32 bits in an f32 tensor).
pub fn max_forward(x: &Tensor, g: &PoolGeom, out_shape: &[usize]) -> Result<(Tensor, Tensor)> {
    forward(x, g, false, false, out_shape)
}

pub fn max_backward(dy: &Tensor, idx: &Tensor, g: &PoolGeom, in_shape: &[usize]) -> Result<Tensor> {
    backward(dy, Some(idx), g, false, in_shape)
}

pub fn avg_forward(x: &Tensor, g: &PoolGeom, include_pad: bool, out_shape: &[usize]) -> Result<Tensor> {
    Ok(forward(x, g, include_pad, true, out_shape)?.0)
}

pub fn avg_backward(dy: &Tensor, g: &PoolGeom, include_pad: bool, in_shape: &[usize]) -> Result<Tensor> {
    backward(dy, None, g, include_pad, in_shape)
}
