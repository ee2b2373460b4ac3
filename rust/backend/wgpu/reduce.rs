//! Reductions (kernels/reduce.wgsl): the reduced dims are moved last (a strided copy when the
//! view is not already laid out that way), then each row is folded by one workgroup.

use super::queue::{self, dispatch, Kernel};
use super::{buf, rows_grid, tensor, u};
use crate::backend::ReduceOp;
use crate::error::Result;
use crate::tensor::{Layout, Tensor};

const SRC: &str = include_str!("kernels/reduce.wgsl");

/// `x` as a dense (rows, cols) matrix whose columns run over `dims`.
fn rows_over(x: &Tensor, dims: &[usize]) -> Result<(Tensor, usize, usize)> {
    let l = x.layout();
    let kept: Vec<usize> = (0..l.ndim()).filter(|d| !dims.contains(d)).collect();
    let order: Vec<usize> = kept.iter().chain(dims.iter()).copied().collect();
    let rows: usize = kept.iter().map(|&d| l.shape[d]).product();
    let cols: usize = dims.iter().map(|&d| l.shape[d]).product();
    let permuted = Layout {
        shape: order.iter().map(|&d| l.shape[d]).collect(),
        strides: order.iter().map(|&d| l.strides[d]).collect(),
        offset: l.offset,
    };
    let view = x.view_with(permuted, None);
    Ok((super::dense(&view)?, rows, cols))
}

pub fn reduce(x: &Tensor, dims: &[usize], op: ReduceOp) -> Result<Tensor> {
    let kept: Vec<usize> = (0..x.ndim()).filter(|d| !dims.contains(d)).map(|d| x.shape()[d]).collect();
    let (m, rows, cols) = rows_over(x, dims)?;
    let y = queue::alloc(rows)?;
    let code = match op {
        ReduceOp::Sum => 0,
        ReduceOp::Max => 1,
        ReduceOp::Min => 2,
    };
    let k = Kernel { key: "reduce_rows", source: SRC, entry: "reduce_rows" };
    dispatch(&k, &[u(rows), u(cols), code], &[(1, buf(&m)), (4, &y.buf)], rows_grid(rows))?;
    Ok(tensor(y, &kept))
}

pub fn arg_extreme(x: &Tensor, dim: usize, largest: bool) -> Result<Tensor> {
    let mut kept = x.shape().to_vec();
    kept.remove(dim);
    let (m, rows, cols) = rows_over(x, &[dim])?;
    let y = queue::alloc(rows)?;
    let k = Kernel { key: "argext_rows", source: SRC, entry: "argext_rows" };
    dispatch(&k, &[u(rows), u(cols), largest as u32], &[(1, buf(&m)), (4, &y.buf)], rows_grid(rows))?;
    Ok(tensor(y, &kept))
}

