//! conv2d (groups = 1) and its gradients.

use super::same_device;
use crate::autograd::{record, Saved};
use crate::backend::{self, ConvGeom};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

/// Output size of a convolution or pooling window along one dim, or an error naming `op`.
pub(crate) fn out_size(op: &str, size: usize, k: usize, stride: usize, pad: usize, dil: usize) -> Result<usize> {
    if k == 0 || stride == 0 || dil == 0 {
        return Err(Error::Value(format!("{op}: kernel size, stride and dilation must be positive")));
    }
    let span = dil * (k - 1) + 1;
    if size + 2 * pad < span {
        return Err(Error::Shape(format!(
            "{op}: input size {size} (padded {}) is smaller than the kernel's extent {span}",
            size + 2 * pad
        )));
    }
    Ok((size + 2 * pad - span) / stride + 1)
}

impl Tensor {
    /// 2-D convolution of x (N, C, H, W) with weight (O, C, kh, kw) and optional bias (O,).
    pub fn conv2d(&self, weight: &Tensor, bias: Option<&Tensor>, stride: (usize, usize), padding: (usize, usize), dilation: (usize, usize)) -> Result<Tensor> {
        let mut all = vec![self, weight];
        if let Some(b) = bias {
            all.push(b);
        }
        same_device("conv2d", &all)?;
        if self.ndim() != 4 || weight.ndim() != 4 {
            return Err(Error::Shape(format!(
                "conv2d: expected input (N, C, H, W) and weight (O, C, kh, kw), got shapes {:?} and {:?}",
                self.shape(),
                weight.shape()
            )));
        }
        let (xs, ws) = (self.shape(), weight.shape());
        if xs[1] != ws[1] {
            return Err(Error::Shape(format!(
                "conv2d: input has {} channels but weight {:?} expects {}",
                xs[1], ws, ws[1]
            )));
        }
        if let Some(b) = bias {
            if b.shape() != [ws[0]] {
                return Err(Error::Shape(format!("conv2d: bias shape {:?} should be [{}]", b.shape(), ws[0])));
            }
        }
        let oh = out_size("conv2d", xs[2], ws[2], stride.0, padding.0, dilation.0)?;
        let ow = out_size("conv2d", xs[3], ws[3], stride.1, padding.1, dilation.1)?;
        let g = ConvGeom {
            n: xs[0], c: xs[1], h: xs[2], w: xs[3], o: ws[0], kh: ws[2], kw: ws[3],
            sh: stride.0, sw: stride.1, ph: padding.0, pw: padding.1, dh: dilation.0, dw: dilation.1, oh, ow,
        };
        let out = backend::conv2d(self, weight, bias, &g)?;
        let (x, w) = (Saved::new(self), Saved::new(weight));
        let (rx, rw) = (self.requires_grad_flag(), weight.requires_grad_flag());
        let has_bias = bias.is_some();
        Ok(record("Conv2dBackward", &all, out, move |gy| {
            let gy = gy.contiguous()?;
            let gx = if rx { Some(backend::conv2d_backward_input(&gy, &w.get()?, &g)?) } else { None };
            let gw = if rw { Some(backend::conv2d_backward_weight(&gy, &x.get()?, &g)?) } else { None };
            let mut grads = vec![gx, gw];
            if has_bias {
                grads.push(Some(gy.sum_dims(&[0, 2, 3], false)?));
            }
            Ok(grads)
        }))
    }
}
