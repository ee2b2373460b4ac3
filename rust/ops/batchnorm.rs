//! Batch normalization (Ioffe & Szegedy) over dim 1 of (N, C), (N, C, L) or (N, C, H, W).
//!
//! Training: batch mean and biased variance per channel; running statistics updated in place
//! with torch's momentum convention (new = (1 − m)·old + m·batch, the variance unbiased).
//! The backward is the paper's closed form:
//! dx = (m·dx̂ − Σdx̂ − x̂·Σ(dx̂·x̂)) / (m·√(σ²+ε)), dx̂ = dy·γ, dγ = Σdy·x̂, dβ = Σdy.
//!
//! On the CPU, forward and backward are each one fused kernel (`backend::batch_norm_*`: a few
//! passes over memory instead of about ten tensor ops). On the GPU the same maths runs as
//! tensor ops (the wgpu backend has no fused kernel yet).

use super::same_device;
use crate::autograd::{record, NoGradGuard, Saved};
use crate::backend;
use crate::error::{Error, Result};
use crate::tensor::{Device, Tensor};

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
        if self.device() == Device::Cpu {
            return self.batch_norm_cpu(a, use_batch, m);
        }
        if !use_batch {
            return self.batch_norm_eval_composed(a);
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

    /// Inference with population statistics in tensor ops: a plain affine map, differentiated
    /// by autograd (the GPU path, and the CPU one when the statistics require grad).
    fn batch_norm_eval_composed(&self, a: &BatchNormArgs) -> Result<Tensor> {
        let mut bshape = vec![1usize; self.ndim()];
        bshape[1] = self.shape()[1];
        let rm = a.running_mean.expect("checked").reshape(&bshape)?;
        let rv = a.running_var.expect("checked").reshape(&bshape)?;
        let mut y = self.sub(&rm)?.div(&rv.add_scalar(a.eps)?.sqrt()?)?;
        if let Some(w) = a.weight {
            y = y.mul(&w.reshape(&bshape)?)?;
        }
        if let Some(b) = a.bias {
            y = y.add(&b.reshape(&bshape)?)?;
        }
        Ok(y)
    }

    /// The CPU path of `batch_norm` (arguments already checked): fused kernels.
    fn batch_norm_cpu(&self, a: &BatchNormArgs, use_batch: bool, m: usize) -> Result<Tensor> {
        let c = self.shape()[1];
        let mut inputs = vec![self];
        inputs.extend(a.weight);
        inputs.extend(a.bias);
        let (has_w, has_b) = (a.weight.is_some(), a.bias.is_some());
        let x = Saved::new(self);
        let w = a.weight.map(Saved::new);
        let weight = |w: &Option<Saved>| w.as_ref().map(|w| w.get()).transpose();
        if !use_batch {
            let (rm, rv) = (a.running_mean.expect("checked"), a.running_var.expect("checked"));
            if rm.requires_grad_flag() || rv.requires_grad_flag() {
                // Gradients for the statistics themselves: the composed ops carry them.
                return self.batch_norm_eval_composed(a);
            }
            let mean = rm.to_vec();
            let (y, invstd) = backend::batch_norm_eval(self, &mean, &rv.to_vec(), a.weight, a.bias, a.eps)?;
            return Ok(record("BatchNormBackward", &inputs, y, move |g| {
                let (dx, dw, db) = backend::batch_norm_eval_backward(g, &x.get()?, &mean, &invstd, weight(&w)?.as_ref())?;
                Ok(grads(dx, dw, db, has_w, has_b))
            }));
        }
        if m <= 1 && a.training {
            return Err(Error::Value(format!(
                "batch_norm: expected more than 1 value per channel when training, got input shape {:?}",
                self.shape()
            )));
        }
        let (y, st) = backend::batch_norm_train(self, a.weight, a.bias, a.eps)?;
        if a.training {
            // torch's convention: new = (1 − momentum)·old + momentum·batch, the variance unbiased
            // (same f32 arithmetic as the composed path).
            let _ng = NoGradGuard::new();
            let mom = a.momentum;
            if let Some(rm) = a.running_mean {
                let new: Vec<f32> = rm.to_vec().iter().zip(&st.mean).map(|(&o, &mu)| o * (1.0 - mom) + (mu as f32) * mom).collect();
                rm.copy_(&Tensor::from_vec(new, &[c])?)?;
            }
            if let Some(rv) = a.running_var {
                let k = m as f32 / (m as f32 - 1.0);
                let new: Vec<f32> = rv.to_vec().iter().zip(&st.var).map(|(&o, &v)| o * (1.0 - mom) + (v as f32 * k) * mom).collect();
                rv.copy_(&Tensor::from_vec(new, &[c])?)?;
            }
        }
        let (mean, invstd) = (st.mean, st.invstd);
        Ok(record("BatchNormBackward", &inputs, y, move |g| {
            let (dx, dw, db) = backend::batch_norm_train_backward(g, &x.get()?, &mean, &invstd, weight(&w)?.as_ref())?;
            Ok(grads(dx, dw, db, has_w, has_b))
        }))
    }
}

/// The gradient list of a batch-norm node: dx, then dw and db for the inputs that were given.
fn grads(dx: Tensor, dw: Tensor, db: Tensor, has_w: bool, has_b: bool) -> Vec<Option<Tensor>> {
    let mut g = vec![Some(dx)];
    if has_w {
        g.push(Some(dw));
    }
    if has_b {
        g.push(Some(db));
    }
    g
}
