//! softmax and log_softmax over one dim (the kernels run over the last dim; another dim is
//! moved there and back).

use crate::autograd::{record, Saved};
use crate::backend;
use crate::error::Result;
use crate::tensor::{normalize_dim, Tensor};

impl Tensor {
    pub fn softmax(&self, dim: isize) -> Result<Tensor> {
        self.softmax_impl(dim, false)
    }

    pub fn log_softmax(&self, dim: isize) -> Result<Tensor> {
        self.softmax_impl(dim, true)
    }

    fn softmax_impl(&self, dim: isize, log: bool) -> Result<Tensor> {
        let op = if log { "log_softmax" } else { "softmax" };
        if self.ndim() == 0 {
            normalize_dim(op, dim, 0)?;
            let out = if log { Tensor::scalar(0.0) } else { Tensor::scalar(1.0) };
            return Ok(record("SoftmaxBackward", &[self], out, |g| Ok(vec![Some(g.mul_scalar(0.0)?)])));
        }
        let d = normalize_dim(op, dim, self.ndim())?;
        let last = self.ndim() - 1;
        if d != last {
            return self.transpose(d as isize, last as isize)?.softmax_impl(-1, log)?.transpose(d as isize, last as isize);
        }
        let out = backend::softmax_last(self, log)?;
        let o = Saved::new(&out);
        Ok(record(if log { "LogSoftmaxBackward" } else { "SoftmaxBackward" }, &[self], out, move |g| {
            let y = o.get()?;
            let gx = if log {
                // g − softmax · Σg
                g.sub(&y.exp()?.mul(&g.sum_dims(&[last], true)?)?)?
            } else {
                // y · (g − Σ g·y)
                y.mul(&g.sub(&g.mul(&y)?.sum_dims(&[last], true)?)?)?
            };
            Ok(vec![Some(gx)])
        }))
    }
}
