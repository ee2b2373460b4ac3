//! Reductions: sum, mean, max/min (values and indices), amax/amin, var, argmax/argmin.

use super::normalize_dims;
use crate::autograd::{record, Saved};
use crate::backend::{self, ReduceOp};
use crate::error::{Error, Result};
use crate::tensor::{normalize_dim, Tensor};

/// The shape after reducing `dims` with keepdim.
fn keep_shape(shape: &[usize], dims: &[usize]) -> Vec<usize> {
    shape.iter().enumerate().map(|(i, &s)| if dims.contains(&i) { 1 } else { s }).collect()
}

impl Tensor {
    /// Sum of every element (a 0-d tensor).
    pub fn sum_all(&self) -> Result<Tensor> {
        let dims: Vec<usize> = (0..self.ndim()).collect();
        self.sum_dims(&dims, false)
    }

    /// Sum over `dims` (sorted, unique, in range; see `sum` for user-facing dims).
    pub fn sum_dims(&self, dims: &[usize], keepdim: bool) -> Result<Tensor> {
        let out = backend::reduce(self, dims, ReduceOp::Sum)?;
        let kshape = keep_shape(self.shape(), dims);
        let out = if keepdim { out.reshape(&kshape)? } else { out };
        let in_shape = self.shape().to_vec();
        Ok(record("SumBackward", &[self], out, move |g| Ok(vec![Some(g.reshape(&kshape)?.expand(&in_shape)?.contiguous()?)])))
    }

    /// Sum over user dims (negative allowed; None = all).
    pub fn sum(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let dims = self.reduce_dims("sum", dims)?;
        self.sum_dims(&dims, keepdim)
    }

    pub fn mean(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        let dims = self.reduce_dims("mean", dims)?;
        let count: usize = dims.iter().map(|&d| self.shape()[d]).product();
        // An empty mean is NaN, as in torch (0/0).
        self.sum_dims(&dims, keepdim)?.mul_scalar(1.0 / count as f32)
    }

    /// Variance over dims with Bessel's `correction` (1 = unbiased, torch's default).
    pub fn var(&self, dims: Option<&[isize]>, correction: f32, keepdim: bool) -> Result<Tensor> {
        let d = self.reduce_dims("var", dims)?;
        let count: usize = d.iter().map(|&i| self.shape()[i]).product();
        let mean = self.sum_dims(&d, true)?.mul_scalar(1.0 / count as f32)?;
        let centered = self.sub(&mean)?;
        let ss = centered.mul(&centered)?.sum_dims(&d, keepdim)?;
        ss.mul_scalar(1.0 / (count as f32 - correction).max(0.0))
    }

    /// Largest value over `dims` (torch.amax); the gradient is split evenly among ties.
    pub fn amax(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        self.extreme_dims("amax", dims, keepdim, ReduceOp::Max)
    }

    pub fn amin(&self, dims: Option<&[isize]>, keepdim: bool) -> Result<Tensor> {
        self.extreme_dims("amin", dims, keepdim, ReduceOp::Min)
    }

    /// torch.max(dim=): (values, indices) along one dim; indices are float32 holding integers.
    pub fn max_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let values = self.extreme_dims("max", Some(&[dim]), keepdim, ReduceOp::Max)?;
        let idx = self.argmax(Some(dim), keepdim)?;
        Ok((values, idx))
    }

    pub fn min_dim(&self, dim: isize, keepdim: bool) -> Result<(Tensor, Tensor)> {
        let values = self.extreme_dims("min", Some(&[dim]), keepdim, ReduceOp::Min)?;
        let idx = self.argmin(Some(dim), keepdim)?;
        Ok((values, idx))
    }

    /// Index of the largest element along `dim` (None: of the flattened tensor).
    pub fn argmax(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme("argmax", dim, keepdim, true)
    }

    pub fn argmin(&self, dim: Option<isize>, keepdim: bool) -> Result<Tensor> {
        self.arg_extreme("argmin", dim, keepdim, false)
    }

    fn arg_extreme(&self, op: &str, dim: Option<isize>, keepdim: bool, largest: bool) -> Result<Tensor> {
        if self.numel() == 0 {
            return Err(Error::Value(format!("{op}: expected a non-empty tensor, got shape {:?}", self.shape())));
        }
        match dim {
            None => {
                let flat = self.reshape(&[self.numel()])?;
                let r = backend::arg_extreme(&flat, 0, largest)?;
                if keepdim {
                    r.reshape(&vec![1; self.ndim()])
                } else {
                    Ok(r)
                }
            }
            Some(d) => {
                if self.ndim() == 0 {
                    normalize_dim(op, d, 0)?;
                    return Ok(Tensor::scalar(0.0));
                }
                let d = normalize_dim(op, d, self.ndim())?;
                let r = backend::arg_extreme(self, d, largest)?;
                if keepdim {
                    r.reshape(&keep_shape(self.shape(), &[d]))
                } else {
                    Ok(r)
                }
            }
        }
    }

    fn extreme_dims(&self, op: &str, dims: Option<&[isize]>, keepdim: bool, rop: ReduceOp) -> Result<Tensor> {
        let d = self.reduce_dims(op, dims)?;
        if d.iter().any(|&i| self.shape()[i] == 0) || self.numel() == 0 {
            return Err(Error::Value(format!(
                "{op}: cannot reduce an empty dimension (shape {:?}); the result would have no identity",
                self.shape()
            )));
        }
        let out = backend::reduce(self, &d, rop)?;
        let kshape = keep_shape(self.shape(), &d);
        let out = if keepdim { out.reshape(&kshape)? } else { out };
        let (x, o) = (Saved::new(self), Saved::new(&out));
        Ok(record("MaxBackward", &[self], out, move |g| {
            let (x, o) = (x.get()?, o.get()?.reshape(&kshape)?);
            let mask = x.eq(&o)?;
            let count = mask.sum_dims(&d, true)?;
            let share = g.reshape(&kshape)?.div(&count)?;
            Ok(vec![Some(mask.mul(&share)?)])
        }))
    }

    /// User dims → sorted unique dims; None or empty means every dim.
    fn reduce_dims(&self, op: &str, dims: Option<&[isize]>) -> Result<Vec<usize>> {
        match dims {
            None => Ok((0..self.ndim()).collect()),
            Some(ds) if ds.is_empty() => Ok((0..self.ndim()).collect()),
            Some(ds) => {
                if self.ndim() == 0 {
                    for &d in ds {
                        normalize_dim(op, d, 0)?;
                    }
                    return Ok(vec![]);
                }
                normalize_dims(op, ds, self.ndim())
            }
        }
    }
}
