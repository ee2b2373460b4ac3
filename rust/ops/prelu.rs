//! PReLU (He et al. 2015): f(x) = max(0, x) + a·min(0, x) with a learned `a`, one per
//! channel (dim 1) or one shared. ∂E/∂a = Σ_{x≤0} g·x.

use super::{same_device, unbroadcast};
use crate::autograd::{record, Saved};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

impl Tensor {
    pub fn prelu(&self, weight: &Tensor) -> Result<Tensor> {
        same_device("prelu", &[self, weight])?;
        if weight.ndim() != 1 {
            return Err(Error::Shape(format!("prelu: weight must be 1-D, got shape {:?}", weight.shape())));
        }
        let k = weight.shape()[0];
        // The slopes broadcast along dim 1 (channels); one slope broadcasts everywhere.
        let ashape: Vec<usize> = if k == 1 {
            vec![1]
        } else {
            if self.ndim() < 2 || self.shape()[1] != k {
                return Err(Error::Shape(format!(
                    "prelu: {k} slopes need an input with {k} channels in dim 1, got shape {:?}",
                    self.shape()
                )));
            }
            let mut s = vec![1usize; self.ndim()];
            s[1] = k;
            s
        };
        let a = weight.detach().reshape(&ashape)?;
        let pos = self.gt(&Tensor::scalar(0.0))?;
        let neg = pos.neg()?.add_scalar(1.0)?;
        // x·(pos + a·neg), computed without recording: the node below holds the rule.
        let out = {
            let _ng = crate::autograd::NoGradGuard::new();
            self.mul(&pos.add(&a.mul(&neg)?)?)?
        };
        let (x, w) = (Saved::new(self), Saved::new(weight));
        let wshape = weight.shape().to_vec();
        Ok(record("PreluBackward", &[self, weight], out, move |g| {
            let a = w.get()?.reshape(&ashape)?;
            let gx = g.mul(&pos.add(&a.mul(&neg)?)?)?;
            let ga = unbroadcast(&g.mul(&x.get()?)?.mul(&neg)?, &ashape)?.reshape(&wshape)?;
            Ok(vec![Some(gx), Some(ga)])
        }))
    }
}
