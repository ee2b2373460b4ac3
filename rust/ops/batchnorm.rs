//! Batch normalization (Ioffe & Szegedy) over dim 1 of (N, C), (N, C, L) or (N, C, H, W).
//!
//! Training: batch mean and biased variance per channel; running statistics updated in place
//! with torch's momentum convention (new = (1 − m)·old + m·batch, the variance unbiased).
//! The backward is the paper's closed form, written in tensor ops:
//! dx = (m·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)) / (m·√(σ²+ε)), dx̂ = dy·γ, dγ = Σdy·x̂, dβ = Σdy.

use super::same_device;
use crate::autograd::{record, NoGradGuard, Saved};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

pub struct BatchNormArgs<'a> {
    pub running_mean: Option<&'a Tensor>,
    pub running_var: Option<&'a Tensor>,
    pub weight: Option<&'a Tensor>,
    pub bias: Option<&'a Tensor>,
    pub training: bool,
    pub momentum: f32,
    pub eps: f32,
}

impl Tensor {
    pub fn batch_norm(&self, a: &BatchNormArgs) -> Result<Tensor> {
        if self.ndim() < 2 {
            return Err(Error::Shape(format!("batch_norm: expected input (N, C, ...), got shape {:?}", self.shape())));
        }
        let c = self.shape()[1];
        let mut bshape = vec![1usize; self.ndim()];
        bshape[1] = c;
        for (name, t) in [("running_mean", a.running_mean), ("running_var", a.running_var), ("weight", a.weight), ("bias", a.bias)] {
            if let Some(t) = t {
                if t.shape() != [c] {
                    return Err(Error::Shape(format!(
                        "batch_norm: {name} has shape {:?} but the input has {c} channels (shape {:?})",
                        t.shape(),
                        self.shape()
                    )));
                }
                same_device("batch_norm", &[self, t])?;
            }
        }
        if a.eps <= 0.0 {
            return Err(Error::Value(format!("batch_norm: eps must be positive, got {}", a.eps)));
        }
        let dims: Vec<usize> = (0..self.ndim()).filter(|&d| d != 1).collect();
        let m: usize = dims.iter().map(|&d| self.shape()[d]).product();
        let use_batch = a.training || a.running_mean.is_none() || a.running_var.is_none();
        if !use_batch {
            // Inference with population statistics: a plain affine map, differentiated by autograd.
            let rm = a.running_mean.expect("checked").reshape(&bshape)?;
            let rv = a.running_var.expect("checked").reshape(&bshape)?;
            let mut y = self.sub(&rm)?.div(&rv.add_scalar(a.eps)?.sqrt()?)?;
            if let Some(w) = a.weight {
                y = y.mul(&w.reshape(&bshape)?)?;
            }
            if let Some(b) = a.bias {
                y = y.add(&b.reshape(&bshape)?)?;
            }
            return Ok(y);
        }
        if m <= 1 && a.training {
            return Err(Error::Value(format!(
                "batch_norm: expected more than 1 value per channel when training, got input shape {:?}",
                self.shape()
            )));
        }
        let (out, xhat, inv_std) = {
            let _ng = NoGradGuard::new();
            let mean = self.sum_dims(&dims, true)?.mul_scalar(1.0 / m as f32)?;
            let centered = self.sub(&mean)?;
            let var = centered.mul(&centered)?.sum_dims(&dims, true)?.mul_scalar(1.0 / m as f32)?;
            let inv_std = var.add_scalar(a.eps)?.sqrt()?.pow_scalar(-1.0)?;
            let xhat = centered.mul(&inv_std)?;
            let mut y = xhat.clone();
            if let Some(w) = a.weight {
                y = y.mul(&w.reshape(&bshape)?)?;
            }
            if let Some(b) = a.bias {
                y = y.add(&b.reshape(&bshape)?)?;
            }
            if a.training {
                let mom = a.momentum;
                if let Some(rm) = a.running_mean {
                    rm.copy_(&rm.mul_scalar(1.0 - mom)?.add(&mean.reshape(&[c])?.mul_scalar(mom)?)?)?;
                }
                if let Some(rv) = a.running_var {
                    let unbiased = var.reshape(&[c])?.mul_scalar(m as f32 / (m as f32 - 1.0))?;
                    rv.copy_(&rv.mul_scalar(1.0 - mom)?.add(&unbiased.mul_scalar(mom)?)?)?;
                }
            }
            (y, xhat, inv_std)
        };
        let mut inputs = vec![self];
        inputs.extend(a.weight);
        inputs.extend(a.bias);
        let (has_w, has_b) = (a.weight.is_some(), a.bias.is_some());
        let w = a.weight.map(Saved::new);
        Ok(record("BatchNormBackward", &inputs, out, move |g| {
            let dxhat = match &w {
                Some(w) => g.mul(&w.get()?.reshape(&bshape)?)?,
                None => g.clone(),
            };
            let sum_dxhat = dxhat.sum_dims(&dims, true)?;
            let sum_dxhat_xhat = dxhat.mul(&xhat)?.sum_dims(&dims, true)?;
            let dx = dxhat
                .mul_scalar(m as f32)?
                .sub(&sum_dxhat)?
                .sub(&xhat.mul(&sum_dxhat_xhat)?)?
                .mul(&inv_std.mul_scalar(1.0 / m as f32)?)?;
            let mut grads = vec![Some(dx)];
            if has_w {
                grads.push(Some(g.mul(&xhat)?.sum_dims(&dims, false)?));
            }
            if has_b {
                grads.push(Some(g.sum_dims(&dims, false)?));
            }
            Ok(grads)
        }))
    }
}
