//! Arithmetic: + − × ÷ pow maximum minimum (broadcasting), and the unary maths functions.

use super::{same_device, unbroadcast};
use crate::autograd::{record, Saved};
use crate::backend::{self, BinaryOp, UnaryOp};
use crate::error::{Error, Result};
use crate::tensor::{broadcast_shapes, Tensor};

fn forward_binary(a: &Tensor, b: &Tensor, op: BinaryOp) -> Result<(Tensor, Vec<usize>)> {
    same_device(op.name(), &[a, b])?;
    let shape = broadcast_shapes(op.name(), a.shape(), b.shape())?;
    Ok((backend::binary(a, b, &shape, op)?, shape))
}

impl Tensor {
    pub fn add(&self, other: &Tensor) -> Result<Tensor> {
        let (out, _) = forward_binary(self, other, BinaryOp::Add)?;
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        Ok(record("AddBackward", &[self, other], out, move |g| {
            Ok(vec![Some(unbroadcast(g, &sa)?), Some(unbroadcast(g, &sb)?)])
        }))
    }

    pub fn sub(&self, other: &Tensor) -> Result<Tensor> {
        let (out, _) = forward_binary(self, other, BinaryOp::Sub)?;
        let (sa, sb) = (self.shape().to_vec(), other.shape().to_vec());
        Ok(record("SubBackward", &[self, other], out, move |g| {
            Ok(vec![Some(unbroadcast(g, &sa)?), Some(unbroadcast(&g.neg()?, &sb)?)])
        }))
    }

    pub fn mul(&self, other: &Tensor) -> Result<Tensor> {
        let (out, _) = forward_binary(self, other, BinaryOp::Mul)?;
        let (a, b) = (Saved::new(self), Saved::new(other));
        let (ra, rb) = (self.requires_grad_flag(), other.requires_grad_flag());
        Ok(record("MulBackward", &[self, other], out, move |g| {
            let (a, b) = (a.get()?, b.get()?);
            let ga = if ra { Some(unbroadcast(&g.mul(&b)?, a.shape())?) } else { None };
            let gb = if rb { Some(unbroadcast(&g.mul(&a)?, b.shape())?) } else { None };
            Ok(vec![ga, gb])
        }))
    }

    pub fn div(&self, other: &Tensor) -> Result<Tensor> {
        let (out, _) = forward_binary(self, other, BinaryOp::Div)?;
        let (a, b) = (Saved::new(self), Saved::new(other));
        let (ra, rb) = (self.requires_grad_flag(), other.requires_grad_flag());
        Ok(record("DivBackward", &[self, other], out, move |g| {
            let (a, b) = (a.get()?, b.get()?);
            let ga = if ra { Some(unbroadcast(&g.div(&b)?, a.shape())?) } else { None };
            // d(a/b)/db = -a / b²
            let gb = if rb { Some(unbroadcast(&g.mul(&a)?.div(&b.mul(&b)?)?.neg()?, b.shape())?) } else { None };
            Ok(vec![ga, gb])
        }))
    }

    /// Elementwise power with a tensor exponent (broadcasting).
    pub fn pow(&self, exponent: &Tensor) -> Result<Tensor> {
        let (out, _) = forward_binary(self, exponent, BinaryOp::Pow)?;
        let (a, e, o) = (Saved::new(self), Saved::new(exponent), Saved::new(&out));
        let (ra, re) = (self.requires_grad_flag(), exponent.requires_grad_flag());
        Ok(record("PowBackward", &[self, exponent], out, move |g| {
            let (a, e) = (a.get()?, e.get()?);
            let ga = if ra {
                // e · a^(e−1)
                let d = e.mul(&a.pow(&e.add_scalar(-1.0)?)?)?;
                Some(unbroadcast(&g.mul(&d)?, a.shape())?)
            } else {
                None
            };
            let ge = if re {
                // a^e · ln a, taken as 0 where a == 0 (as torch does)
                let o = o.get()?;
                let zero = a.eq(&Tensor::scalar(0.0))?;
                let d = Tensor::where_(&zero, &Tensor::scalar(0.0), &o.mul(&a.log()?)?)?;
                Some(unbroadcast(&g.mul(&d)?, e.shape())?)
            } else {
                None
            };
            Ok(vec![ga, ge])
        }))
    }

    /// Elementwise maximum; on ties the gradient is split evenly, as in torch.
    pub fn maximum(&self, other: &Tensor) -> Result<Tensor> {
        self.extreme(other, BinaryOp::Maximum)
    }

    pub fn minimum(&self, other: &Tensor) -> Result<Tensor> {
        self.extreme(other, BinaryOp::Minimum)
    }

    fn extreme(&self, other: &Tensor, op: BinaryOp) -> Result<Tensor> {
        let (out, _) = forward_binary(self, other, op)?;
        let (a, b) = (Saved::new(self), Saved::new(other));
        let name = if op == BinaryOp::Maximum { "MaximumBackward" } else { "MinimumBackward" };
        Ok(record(name, &[self, other], out, move |g| {
            let (a, b) = (a.get()?, b.get()?);
            let wins = if op == BinaryOp::Maximum { a.gt(&b)? } else { a.lt(&b)? };
            let ties = a.eq(&b)?.mul_scalar(0.5)?;
            let wa = wins.add(&ties)?;
            let wb = wa.neg()?.add_scalar(1.0)?;
            Ok(vec![Some(unbroadcast(&g.mul(&wa)?, a.shape())?), Some(unbroadcast(&g.mul(&wb)?, b.shape())?)])
        }))
    }

    pub fn neg(&self) -> Result<Tensor> {
        let out = backend::unary(self, UnaryOp::Neg)?;
        Ok(record("NegBackward", &[self], out, |g| Ok(vec![Some(g.neg()?)])))
    }

    pub fn add_scalar(&self, c: f32) -> Result<Tensor> {
        let out = backend::unary(self, UnaryOp::AddScalar(c))?;
        Ok(record("AddBackward", &[self], out, |g| Ok(vec![Some(g.clone())])))
    }

    pub fn mul_scalar(&self, c: f32) -> Result<Tensor> {
        let out = backend::unary(self, UnaryOp::MulScalar(c))?;
        Ok(record("MulBackward", &[self], out, move |g| Ok(vec![Some(g.mul_scalar(c)?)])))
    }

    pub fn pow_scalar(&self, e: f32) -> Result<Tensor> {
        let out = backend::unary(self, UnaryOp::PowScalar(e))?;
        let x = Saved::new(self);
        Ok(record("PowBackward", &[self], out, move |g| {
            if e == 0.0 {
                return Ok(vec![Some(g.mul_scalar(0.0)?)]);
            }
            let d = x.get()?.pow_scalar(e - 1.0)?.mul_scalar(e)?;
            Ok(vec![Some(g.mul(&d)?)])
        }))
    }

    pub fn exp(&self) -> Result<Tensor> {
        let out = backend::unary(self, UnaryOp::Exp)?;
        let o = Saved::new(&out);
        Ok(record("ExpBackward", &[self], out, move |g| Ok(vec![Some(g.mul(&o.get()?)?)])))
    }

    pub fn log(&self) -> Result<Tensor> {
        let out = backend::unary(self, UnaryOp::Log)?;
        let x = Saved::new(self);
        Ok(record("LogBackward", &[self], out, move |g| Ok(vec![Some(g.div(&x.get()?)?)])))
    }

    pub fn sqrt(&self) -> Result<Tensor> {
        let out = backend::unary(self, UnaryOp::Sqrt)?;
        let o = Saved::new(&out);
        Ok(record("SqrtBackward", &[self], out, move |g| Ok(vec![Some(g.div(&o.get()?.mul_scalar(2.0)?)?)])))
    }

    pub fn abs(&self) -> Result<Tensor> {
        let out = backend::unary(self, UnaryOp::Abs)?;
        let x = Saved::new(self);
        Ok(record("AbsBackward", &[self], out, move |g| {
            Ok(vec![Some(g.mul(&backend::unary(&x.get()?, UnaryOp::Sign)?)?)])
        }))
    }

    /// Clamps into [min, max]; either bound may be absent (but not both).
    pub fn clamp(&self, min: Option<f32>, max: Option<f32>) -> Result<Tensor> {
        if min.is_none() && max.is_none() {
            return Err(Error::Value("clamp: at least one of min and max must be given".into()));
        }
        let (lo, hi) = (min.unwrap_or(f32::NEG_INFINITY), max.unwrap_or(f32::INFINITY));
        let out = backend::unary(self, UnaryOp::Clamp(lo, hi))?;
        let x = Saved::new(self);
        Ok(record("ClampBackward", &[self], out, move |g| {
            Ok(vec![Some(g.mul(&backend::unary(&x.get()?, UnaryOp::ClampMask(lo, hi))?)?)])
        }))
    }
}
