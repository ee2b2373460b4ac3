//! linear: y = x·Wᵀ + b as one op (one GEMM whose output starts as the bias rows, one autograd
//! node), instead of matmul + transpose view + broadcast add (three nodes, an extra pass).

use super::same_device;
use crate::autograd::{record, NoGradGuard, Saved};
use crate::backend;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

impl Tensor {
    /// y = x·weightᵀ + bias for x (…, in), weight (out, in), bias (out,); y is (…, out).
    pub fn linear(&self, weight: &Tensor, bias: Option<&Tensor>) -> Result<Tensor> {
        if weight.ndim() != 2 || self.ndim() == 0 || self.shape()[self.ndim() - 1] != weight.shape()[1] {
            return Err(Error::Shape(format!(
                "linear: input of shape {:?} does not fit weight of shape {:?} (expected input (..., {}))",
                self.shape(),
                weight.shape(),
                if weight.ndim() == 2 { weight.shape()[1].to_string() } else { "?".into() }
            )));
        }
        let (out_f, in_f) = (weight.shape()[0], weight.shape()[1]);
        if let Some(b) = bias {
            if b.shape() != [out_f] {
                return Err(Error::Shape(format!(
                    "linear: bias of shape {:?} does not fit weight of shape {:?} (expected ({out_f},))",
                    b.shape(),
                    weight.shape()
                )));
            }
            same_device("linear", &[self, weight, b])?;
        } else {
            same_device("linear", &[self, weight])?;
        }
        let x_shape = self.shape().to_vec();
        let rows: usize = x_shape[..x_shape.len() - 1].iter().product();
        let x2 = {
            let _ng = NoGradGuard::new();
            self.reshape(&[rows, in_f])?
        };
        let mut out_shape = x_shape[..x_shape.len() - 1].to_vec();
        out_shape.push(out_f);
        let out = backend::linear(&x2, weight, bias, &out_shape)?;
        let (sx, sw) = (Saved::new(&x2), Saved::new(weight));
        let (rx, rw, rb) =
            (self.requires_grad_flag(), weight.requires_grad_flag(), bias.is_some_and(|b| b.requires_grad_flag()));
        let has_b = bias.is_some();
        let mut inputs = vec![self, weight];
        inputs.extend(bias);
        Ok(record("LinearBackward", &inputs, out, move |g| {
            let g2 = g.reshape(&[rows, out_f])?;
            // dx = g·W, dW = gᵀ·x, db = Σ_rows g.
            let gx = if rx { Some(g2.matmul(&sw.get()?)?.reshape(&x_shape)?) } else { None };
            let gw = if rw { Some(g2.transpose(0, 1)?.matmul(&sx.get()?)?) } else { None };
            let mut grads = vec![gx, gw];
            if has_b {
                grads.push(if rb { Some(g2.sum_dims(&[0], false)?) } else { None });
            }
            Ok(grads)
        }))
    }
}
