//! Comparisons (results are 0./1. float tensors and carry no gradient) and `where`.

use super::{same_device, unbroadcast};
use crate::autograd::record;
use crate::backend::{self, BinaryOp};
use crate::error::Result;
use crate::tensor::{broadcast_shapes, Tensor};

fn compare(a: &Tensor, b: &Tensor, op: BinaryOp) -> Result<Tensor> {
    same_device(op.name(), &[a, b])?;
    let shape = broadcast_shapes(op.name(), a.shape(), b.shape())?;
    Ok(backend::binary(a, b, &shape, op)?)
}

impl Tensor {
    pub fn eq(&self, other: &Tensor) -> Result<Tensor> {
        compare(self, other, BinaryOp::Eq)
    }
    pub fn ne(&self, other: &Tensor) -> Result<Tensor> {
        compare(self, other, BinaryOp::Ne)
    }
    pub fn lt(&self, other: &Tensor) -> Result<Tensor> {
        compare(self, other, BinaryOp::Lt)
    }
    pub fn le(&self, other: &Tensor) -> Result<Tensor> {
        compare(self, other, BinaryOp::Le)
    }
    pub fn gt(&self, other: &Tensor) -> Result<Tensor> {
        compare(self, other, BinaryOp::Gt)
    }
    pub fn ge(&self, other: &Tensor) -> Result<Tensor> {
        compare(self, other, BinaryOp::Ge)
    }

    /// `cond != 0 ? a : b`, all three broadcast together. Gradients flow to `a` and `b`.
    pub fn where_(cond: &Tensor, a: &Tensor, b: &Tensor) -> Result<Tensor> {
        same_device("where", &[cond, a, b])?;
        let s = broadcast_shapes("where", cond.shape(), a.shape())?;
        let shape = broadcast_shapes("where", &s, b.shape())?;
        let out = backend::where_(cond, a, b, &shape)?;
        let c = cond.detach();
        let (sa, sb) = (a.shape().to_vec(), b.shape().to_vec());
        Ok(record("WhereBackward", &[a, b], out, move |g| {
            let zero = Tensor::scalar(0.0);
            let ga = Tensor::where_(&c, g, &zero)?;
            let gb = Tensor::where_(&c, &zero, g)?;
            Ok(vec![Some(unbroadcast(&ga, &sa)?), Some(unbroadcast(&gb, &sb)?)])
        }))
    }
}
