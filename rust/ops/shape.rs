//! Shape ops. All are views (no copy) except `reshape` of a layout that cannot be viewed
//! (then it copies, as torch.reshape does) and `contiguous` of a non-contiguous tensor.

use crate::autograd::record;
use crate::backend;
use crate::error::{Error, Result};
use crate::tensor::{normalize_dim, numel, Tensor};

impl Tensor {
    /// A new shape with the same number of elements; one entry may be -1 (inferred).
    pub fn reshape_infer(&self, shape: &[isize]) -> Result<Tensor> {
        let mut infer = None;
        let mut known = 1usize;
        for (i, &s) in shape.iter().enumerate() {
            if s == -1 {
                if infer.is_some() {
                    return Err(Error::Value(format!("reshape: only one dimension can be -1, got {shape:?}")));
                }
                infer = Some(i);
            } else if s < 0 {
                return Err(Error::Value(format!("reshape: invalid shape dimension {s} in {shape:?}")));
            } else {
                known *= s as usize;
            }
        }
        let mut out: Vec<usize> = shape.iter().map(|&s| s.max(0) as usize).collect();
        if let Some(i) = infer {
            if known == 0 || self.numel() % known != 0 {
                return Err(Error::Shape(format!(
                    "reshape: shape {shape:?} is invalid for input of shape {:?} ({} elements)",
                    self.shape(),
                    self.numel()
                )));
            }
            out[i] = self.numel() / known;
        }
        self.reshape(&out)
    }

    pub fn reshape(&self, shape: &[usize]) -> Result<Tensor> {
        if numel(shape) != self.numel() {
            return Err(Error::Shape(format!(
                "reshape: shape {shape:?} is invalid for input of shape {:?} ({} elements)",
                self.shape(),
                self.numel()
            )));
        }
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let src_shape = self.shape().to_vec();
        let out = match self.layout().reshape_view(shape) {
            Some(l) => self.detach().view_with(l, None),
            None => {
                let c = backend::contiguous(self)?;
                let l = c.layout().reshape_view(shape).ok_or_else(|| {
                    Error::Runtime(format!("reshape: internal error viewing a contiguous copy as {shape:?}"))
                })?;
                c.view_with(l, None)
            }
        };
        Ok(record("ReshapeBackward", &[self], out, move |g| Ok(vec![Some(g.reshape(&src_shape)?)])))
    }

    /// torch's `view`: like reshape but never copies (errors when a copy would be needed).
    pub fn view(&self, shape: &[isize]) -> Result<Tensor> {
        let r = self.reshape_infer(shape)?;
        if !r.storage().same_as(self.storage()) {
            return Err(Error::Runtime(format!(
                "view: shape {shape:?} is not compatible with the input's strides; use .reshape(...) instead"
            )));
        }
        Ok(r)
    }

    pub fn permute(&self, dims: &[isize]) -> Result<Tensor> {
        if dims.len() != self.ndim() {
            return Err(Error::Value(format!(
                "permute: expected {} dims for a tensor of shape {:?}, got {dims:?}",
                self.ndim(),
                self.shape()
            )));
        }
        let mut perm = Vec::with_capacity(dims.len());
        for &d in dims {
            let d = normalize_dim("permute", d, self.ndim())?;
            if perm.contains(&d) {
                return Err(Error::Value(format!("permute: dims {dims:?} repeat dim {d}")));
            }
            perm.push(d);
        }
        let out = self.detach().view_with(self.layout().permute(&perm), None);
        let mut inverse = vec![0isize; perm.len()];
        for (i, &p) in perm.iter().enumerate() {
            inverse[p] = i as isize;
        }
        Ok(record("PermuteBackward", &[self], out, move |g| Ok(vec![Some(g.permute(&inverse)?)])))
    }

    pub fn transpose(&self, d0: isize, d1: isize) -> Result<Tensor> {
        let nd = self.ndim();
        if nd < 2 && self.ndim() <= 1 {
            // torch allows transpose(0, 0) etc. on 0-/1-D tensors: identity.
            normalize_dim("transpose", d0, nd)?;
            normalize_dim("transpose", d1, nd)?;
            return Ok(self.clone());
        }
        let (a, b) = (normalize_dim("transpose", d0, nd)?, normalize_dim("transpose", d1, nd)?);
        let mut perm: Vec<isize> = (0..nd as isize).collect();
        perm.swap(a, b);
        self.permute(&perm)
    }

    /// Broadcasts to `shape` without copying (size-1 dims repeat; -1 keeps a dim).
    pub fn expand(&self, shape: &[usize]) -> Result<Tensor> {
        if shape == self.shape() {
            return Ok(self.clone());
        }
        let l = self.layout().broadcast_to("expand", shape)?;
        let src_shape = self.shape().to_vec();
        let out = self.detach().view_with(l, None);
        Ok(record("ExpandBackward", &[self], out, move |g| Ok(vec![Some(super::unbroadcast(g, &src_shape)?)])))
    }

    pub fn unsqueeze(&self, dim: isize) -> Result<Tensor> {
        let d = normalize_dim("unsqueeze", dim, self.ndim() + 1)?;
        let mut shape = self.shape().to_vec();
        shape.insert(d, 1);
        self.reshape(&shape)
    }

    /// Removes `dim` if its size is 1 (otherwise returns the tensor unchanged, as torch does).
    pub fn squeeze_dim(&self, dim: isize) -> Result<Tensor> {
        let d = normalize_dim("squeeze", dim, self.ndim())?;
        if self.ndim() == 0 || self.shape()[d] != 1 {
            return Ok(self.clone());
        }
        let mut shape = self.shape().to_vec();
        shape.remove(d);
        self.reshape(&shape)
    }

    pub fn squeeze(&self) -> Result<Tensor> {
        let shape: Vec<usize> = self.shape().iter().copied().filter(|&s| s != 1).collect();
        self.reshape(&shape)
    }

    /// Merges dims start..=end into one.
    pub fn flatten(&self, start: isize, end: isize) -> Result<Tensor> {
        if self.ndim() == 0 {
            return self.reshape(&[1]);
        }
        let (s, e) = (normalize_dim("flatten", start, self.ndim())?, normalize_dim("flatten", end, self.ndim())?);
        if s > e {
            return Err(Error::Value(format!("flatten: start_dim {start} comes after end_dim {end}")));
        }
        let mut shape: Vec<usize> = self.shape()[..s].to_vec();
        shape.push(self.shape()[s..=e].iter().product());
        shape.extend_from_slice(&self.shape()[e + 1..]);
        self.reshape(&shape)
    }

    /// A row-major copy, or the tensor itself when it already is contiguous.
    pub fn contiguous(&self) -> Result<Tensor> {
        if self.is_contiguous() {
            return Ok(self.clone());
        }
        let out = backend::contiguous(self)?;
        Ok(record("ContiguousBackward", &[self], out, |g| Ok(vec![Some(g.clone())])))
    }
}

impl Tensor {
    /// This tensor on `device`, differentiably (the gradient comes back to this device).
    /// The same tensor when it is already there, as torch's `.to`.
    pub fn to_device(&self, device: crate::tensor::Device) -> Result<Tensor> {
        if self.device() == device {
            return Ok(self.clone());
        }
        let out = self.to_device_raw(device)?;
        let src = self.device();
        Ok(crate::autograd::record("ToCopyBackward", &[self], out, move |g| Ok(vec![Some(g.to_device_raw(src)?)])))
    }
}
