//! Max and average pooling, forward and backward (kernels/pool.wgsl).

use super::queue::{self, dispatch, grid, Kernel};
use super::{buf, dense, tensor, u};
use crate::backend::PoolGeom;
use crate::error::Result;
use crate::tensor::Tensor;

const SRC: &str = include_str!("kernels/pool.wgsl");

fn geom(g: &PoolGeom, include_pad: bool) -> Vec<u32> {
    let mut p: Vec<u32> = [g.planes, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow].iter().map(|&v| u(v)).collect();
    p.push(include_pad as u32);
    p
}

fn kernel(entry: &'static str) -> Kernel<'static> {
    Kernel { key: entry, source: SRC, entry }
}

/// The pooled tensor and the winners' in-plane indices (u32 bits in an f32 tensor).
pub fn max_forward(x: &Tensor, g: &PoolGeom, out_shape: &[usize]) -> Result<(Tensor, Tensor)> {
    let xd = dense(x)?;
    let n = g.planes * g.oh * g.ow;
    let (y, idx) = (queue::alloc(n)?, queue::alloc(n)?);
    dispatch(&kernel("max_forward"), &geom(g, false), &[(1, buf(&xd)), (3, &idx.buf), (4, &y.buf)], grid(n))?;
    Ok((tensor(y, out_shape), tensor(idx, out_shape)))
}

pub fn max_backward(dy: &Tensor, idx: &Tensor, g: &PoolGeom, in_shape: &[usize]) -> Result<Tensor> {
    let dyd = dense(dy)?;
    let n = g.planes * g.h * g.w;
    let dx = queue::alloc(n)?;
    dispatch(&kernel("max_backward"), &geom(g, false), &[(1, buf(&dyd)), (2, buf(idx)), (4, &dx.buf)], grid(n))?;
    Ok(tensor(dx, in_shape))
}

pub fn avg_forward(x: &Tensor, g: &PoolGeom, include_pad: bool, out_shape: &[usize]) -> Result<Tensor> {
    let xd = dense(x)?;
    let n = g.planes * g.oh * g.ow;
    let y = queue::alloc(n)?;
    dispatch(&kernel("avg_forward"), &geom(g, include_pad), &[(1, buf(&xd)), (4, &y.buf)], grid(n))?;
    Ok(tensor(y, out_shape))
}

pub fn avg_backward(dy: &Tensor, g: &PoolGeom, include_pad: bool, in_shape: &[usize]) -> Result<Tensor> {
    let dyd = dense(dy)?;
    let n = g.planes * g.h * g.w;
    let dx = queue::alloc(n)?;
    dispatch(&kernel("avg_backward"), &geom(g, include_pad), &[(1, buf(&dyd)), (4, &dx.buf)], grid(n))?;
    Ok(tensor(dx, in_shape))
}
