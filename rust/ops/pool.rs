//! max_pool2d and avg_pool2d over (N, C, H, W) or (C, H, W).

use super::conv::out_size;
use crate::autograd::record;
use crate::backend::{self, PoolGeom};
use crate::error::{Error, Result};
use crate::tensor::Tensor;

#[derive(Clone, Copy, Debug)]
pub struct Pool2d {
    pub kernel: (usize, usize),
    pub stride: (usize, usize),
    pub padding: (usize, usize),
    pub dilation: (usize, usize),
    pub ceil_mode: bool,
}

fn geom(op: &str, x: &Tensor, p: &Pool2d) -> Result<(PoolGeom, Vec<usize>)> {
    if x.ndim() != 3 && x.ndim() != 4 {
        return Err(Error::Shape(format!("{op}: expected input (N, C, H, W) or (C, H, W), got shape {:?}", x.shape())));
    }
    if p.ceil_mode {
        return Err(Error::Value(format!("{op}: ceil_mode=True is not supported")));
    }
    if 2 * p.padding.0 > p.kernel.0 || 2 * p.padding.1 > p.kernel.1 {
        return Err(Error::Value(format!(
            "{op}: padding {:?} should be at most half of the kernel size {:?}",
            p.padding, p.kernel
        )));
    }
    let nd = x.ndim();
    let (h, w) = (x.shape()[nd - 2], x.shape()[nd - 1]);
    let oh = out_size(op, h, p.kernel.0, p.stride.0, p.padding.0, p.dilation.0)?;
    let ow = out_size(op, w, p.kernel.1, p.stride.1, p.padding.1, p.dilation.1)?;
    let planes: usize = x.shape()[..nd - 2].iter().product();
    let mut out_shape = x.shape()[..nd - 2].to_vec();
    out_shape.extend_from_slice(&[oh, ow]);
    let g = PoolGeom {
        planes, h, w, kh: p.kernel.0, kw: p.kernel.1, sh: p.stride.0, sw: p.stride.1,
        ph: p.padding.0, pw: p.padding.1, dh: p.dilation.0, dw: p.dilation.1, oh, ow,
    };
    Ok((g, out_shape))
}

impl Tensor {
    pub fn max_pool2d(&self, p: &Pool2d) -> Result<Tensor> {
        let (g, out_shape) = geom("max_pool2d", self, p)?;
        let x = self.contiguous()?;
        let (out, idx) = backend::max_pool2d(&x, &g, &out_shape)?;
        let in_shape = self.shape().to_vec();
        Ok(record("MaxPool2dBackward", &[self], out, move |gy| {
            Ok(vec![Some(backend::max_pool2d_backward(&gy.contiguous()?, &idx, &g, &in_shape)?)])
        }))
    }

    /// Average pooling; `count_include_pad` divides by the whole window (torch's default).
    pub fn avg_pool2d(&self, p: &Pool2d, count_include_pad: bool) -> Result<Tensor> {
        if p.dilation != (1, 1) {
            return Err(Error::Value("avg_pool2d: dilation is not supported".into()));
        }
        let (g, out_shape) = geom("avg_pool2d", self, p)?;
        let out = backend::avg_pool2d(&self.contiguous()?, &g, count_include_pad, &out_shape)?;
        let in_shape = self.shape().to_vec();
        Ok(record("AvgPool2dBackward", &[self], out, move |gy| {
            Ok(vec![Some(backend::avg_pool2d_backward(&gy.contiguous()?, &g, count_include_pad, &in_shape)?)])
        }))
    }
}
