//! cat and stack.

use super::same_device;
use crate::autograd::record;
use crate::backend;
use crate::error::{Error, Result};
use crate::tensor::{normalize_dim, Tensor};

impl Tensor {
    /// Concatenates along `dim`; all other dims must agree.
    pub fn cat(xs: &[Tensor], dim: isize) -> Result<Tensor> {
        let first = xs.first().ok_or_else(|| Error::Value("cat: expected a non-empty list of tensors".into()))?;
        let refs: Vec<&Tensor> = xs.iter().collect();
        same_device("cat", &refs)?;
        if first.ndim() == 0 {
            return Err(Error::Shape("cat: zero-dimensional tensors cannot be concatenated; use stack".into()));
        }
        let d = normalize_dim("cat", dim, first.ndim())?;
        let mut shape = first.shape().to_vec();
        shape[d] = 0;
        for (i, x) in xs.iter().enumerate() {
            let ok = x.ndim() == first.ndim()
                && x.shape().iter().zip(first.shape()).enumerate().all(|(j, (a, b))| j == d || a == b);
            if !ok {
                return Err(Error::Shape(format!(
                    "cat: tensor {i} has shape {:?}, which does not match {:?} outside dim {d}",
                    x.shape(),
                    first.shape()
                )));
            }
            shape[d] += x.shape()[d];
        }
        let out = backend::cat(xs, d, &shape)?;
        let sizes: Vec<usize> = xs.iter().map(|x| x.shape()[d]).collect();
        Ok(record("CatBackward", &refs, out, move |g| {
            let mut start = 0;
            let mut grads = Vec::with_capacity(sizes.len());
            for &len in &sizes {
                grads.push(Some(g.narrow(d as isize, start as isize, len)?));
                start += len;
            }
            Ok(grads)
        }))
    }

    /// Stacks equal-shaped tensors along a new dim.
    pub fn stack(xs: &[Tensor], dim: isize) -> Result<Tensor> {
        let first = xs.first().ok_or_else(|| Error::Value("stack: expected a non-empty list of tensors".into()))?;
        for (i, x) in xs.iter().enumerate() {
            if x.shape() != first.shape() {
                return Err(Error::Shape(format!(
                    "stack: expects each tensor to be equal size, but got {:?} at entry 0 and {:?} at entry {i}",
                    first.shape(),
                    x.shape()
                )));
            }
        }
        let d = normalize_dim("stack", dim, first.ndim() + 1)? as isize;
        let parts = xs.iter().map(|x| x.unsqueeze(d)).collect::<Result<Vec<_>>>()?;
        Tensor::cat(&parts, d)
    }
}
