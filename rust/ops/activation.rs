//! Nonlinearities: tanh, sigmoid, relu, leaky_relu.

use crate::autograd::{record, Saved};
use crate::backend::{self, UnaryOp};
use crate::error::Result;
use crate::tensor::Tensor;

impl Tensor {
    pub fn tanh(&self) -> Result<Tensor> {
        let out = backend::unary(self, UnaryOp::Tanh)?;
        let o = Saved::new(&out);
        Ok(record("TanhBackward", &[self], out, move |g| {
            // g · (1 − tanh²), one pass
            let o = o.get()?;
            Ok(vec![Some(backend::binary(g, &o, g.shape(), backend::BinaryOp::TanhGradMul)?)])
        }))
    }

    pub fn sigmoid(&self) -> Result<Tensor> {
        let out = backend::unary(self, UnaryOp::Sigmoid)?;
        let o = Saved::new(&out);
        Ok(record("SigmoidBackward", &[self], out, move |g| {
            // g · σ(1 − σ), one pass
            let o = o.get()?;
            Ok(vec![Some(backend::binary(g, &o, g.shape(), backend::BinaryOp::SigmoidGradMul)?)])
        }))
    }

    pub fn relu(&self) -> Result<Tensor> {
        self.leaky_relu_impl(0.0, "ReluBackward")
    }

    /// max(0, x) + slope · min(0, x).
    pub fn leaky_relu(&self, negative_slope: f32) -> Result<Tensor> {
        self.leaky_relu_impl(negative_slope, "LeakyReluBackward")
    }

    fn leaky_relu_impl(&self, slope: f32, name: &'static str) -> Result<Tensor> {
        let op = if slope == 0.0 { UnaryOp::Relu } else { UnaryOp::LeakyRelu(slope) };
        let out = backend::unary(self, op)?;
        let x = Saved::new(self);
        Ok(record(name, &[self], out, move |g| {
            let x = x.get()?;
            Ok(vec![Some(backend::binary(g, &x, g.shape(), backend::BinaryOp::ReluGradMul(slope))?)])
        }))
    }
}
