//! Ops: one file per family, each op's forward and its backward rule side by side. Backward
//! rules are written in tensor ops (never in kernels), so they run on every backend; the
//! gradient of any broadcasting op goes through `unbroadcast`.

mod activation;
mod batchnorm;
mod compare;
mod conv;
mod dropout;
mod elementwise;
mod index;
mod join;
mod linear;
mod loss;
mod matmul;
mod pool;
mod prelu;
mod reduce;
mod shape;
mod softmax;

pub use batchnorm::BatchNormArgs;
pub use loss::{Reduction, Targets};
pub use pool::Pool2d;

use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Errors unless every tensor is on the same device. A 0-d CPU tensor mixes with any device
/// (as a CPU scalar tensor does in torch): it is a constant the kernel uploads.
pub(crate) fn same_device(op: &str, ts: &[&Tensor]) -> Result<()> {
    let on_device: Vec<&&Tensor> = ts.iter().filter(|t| !(t.ndim() == 0 && t.device() == crate::tensor::Device::Cpu)).collect();
    if let Some(first) = on_device.first() {
        for t in &on_device[1..] {
            if t.device() != first.device() {
                return Err(Error::Device(format!(
                    "{op}: expected all tensors on the same device, found {} and {}; move them with .to(device)",
                    first.device().name(),
                    t.device().name()
                )));
            }
        }
    }
    Ok(())
}

/// Sums `g` down to `shape`: over the leading dims broadcasting added, and over dims where
/// `shape` has 1 and `g` does not. Every broadcasting op's backward ends with this.
pub fn unbroadcast(g: &Tensor, shape: &[usize]) -> Result<Tensor> {
    if g.shape() == shape {
        return Ok(g.clone());
    }
    let lead = g.ndim() - shape.len();
    let mut dims: Vec<usize> = (0..lead).collect();
    for (i, &s) in shape.iter().enumerate() {
        if s == 1 && g.shape()[lead + i] != 1 {
            dims.push(lead + i);
        }
    }
    let summed = if dims.is_empty() { g.clone() } else { g.sum_dims(&dims, false)? };
    summed.reshape(shape)
}

/// Sorted, unique, non-negative dims from user dims (negative counts from the end).
pub(crate) fn normalize_dims(op: &str, dims: &[isize], ndim: usize) -> Result<Vec<usize>> {
    let mut out = Vec::with_capacity(dims.len());
    for &d in dims {
        let d = crate::tensor::normalize_dim(op, d, ndim)?;
        if out.contains(&d) {
            return Err(Error::Value(format!("{op}: dim {d} appears more than once in the list of dims")));
        }
        out.push(d);
    }
    out.sort_unstable();
    Ok(out)
}
