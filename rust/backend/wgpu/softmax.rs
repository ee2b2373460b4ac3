//! Softmax, log-softmax and cross-entropy over the last dim (kernels/softmax.wgsl).

use super::queue::{self, dispatch, Kernel};
use super::{buf, dense, f, rows_grid, tensor, u};
use crate::error::Result;
use crate::tensor::Tensor;

const SRC: &str = include_str!("kernels/softmax.wgsl");

pub fn softmax_last(x: &Tensor, log: bool) -> Result<Tensor> {
    let cols = *x.shape().last().unwrap_or(&1);
    let rows = x.numel() / cols.max(1);
    let xd = dense(x)?;
    let y = queue::alloc(x.numel())?;
    let k = Kernel { key: "softmax_rows", source: SRC, entry: "softmax_rows" };
    dispatch(&k, &[u(rows), u(cols), log as u32], &[(1, buf(&xd)), (4, &y.buf)], rows_grid(rows))?;
    Ok(tensor(y, x.shape()))
}

/// Per-row losses (N) and probabilities (N, C); `None` targets are ignored rows (loss 0).
pub fn cross_entropy(logits: &Tensor, targets: &[Option<usize>], eps: f32) -> Result<(Tensor, Tensor)> {
    let (rows, cols) = (logits.shape()[0], logits.shape()[1]);
    let xd = dense(logits)?;
    // Class indices travel as i32 bit patterns in an f32 buffer (-1 marks an ignored row).
    let t: Vec<f32> = targets.iter().map(|t| f32::from_bits(t.map_or(-1i32, |c| c as i32) as u32)).collect();
    let tb = queue::upload(&t)?;
    let losses = queue::alloc(rows)?;
    let probs = queue::alloc(rows * cols)?;
    let k = Kernel { key: "cross_entropy_rows", source: SRC, entry: "cross_entropy_rows" };
    dispatch(&k, &[u(rows), u(cols), f(eps)], &[(1, buf(&xd)), (2, &tb.buf), (3, &losses.buf), (4, &probs.buf)], rows_grid(rows))?;
    Ok((tensor(losses, &[rows]), tensor(probs, logits.shape())))
}
