//! Row gather `t[idx]` and its gradient (kernels/index.wgsl): one dispatch each, whatever the
//! number of indices.

use super::queue::{self, dispatch, grid, Kernel};
use super::{buf, dense, tensor, u};
use crate::error::Result;
use crate::tensor::Tensor;

const SRC: &str = include_str!("kernels/index.wgsl");

fn indices(idx: &[usize]) -> Result<queue::GpuBuffer> {
    let bits: Vec<f32> = idx.iter().map(|&i| f32::from_bits(i as u32)).collect();
    // An empty list still needs a bindable buffer.
    queue::upload(if bits.is_empty() { &[0.0] } else { &bits })
}

pub fn gather_rows(x: &Tensor, idx: &[usize], row_len: usize) -> Result<Tensor> {
    let xd = dense(x)?;
    let mut shape = x.shape().to_vec();
    shape[0] = idx.len();
    let n = idx.len() * row_len;
    let (ib, y) = (indices(idx)?, queue::alloc(n)?);
    let k = Kernel { key: "gather_rows", source: SRC, entry: "gather_rows" };
    dispatch(&k, &[u(n), u(row_len), u(idx.len())], &[(1, buf(&xd)), (2, &ib.buf), (4, &y.buf)], grid(n))?;
    Ok(tensor(y, &shape))
}

pub fn scatter_add_rows(rows: &Tensor, idx: &[usize], shape: &[usize], row_len: usize) -> Result<Tensor> {
    let rd = dense(rows)?;
    let n: usize = shape.iter().product();
    let (ib, y) = (indices(idx)?, queue::alloc(n)?);
    let k = Kernel { key: "scatter_add_rows", source: SRC, entry: "scatter_add_rows" };
    dispatch(&k, &[u(n), u(row_len), u(idx.len())], &[(1, buf(&rd)), (2, &ib.buf), (4, &y.buf)], grid(n))?;
    Ok(tensor(y, shape))
}
