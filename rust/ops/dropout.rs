//! Inverted dropout: in training each element is zeroed with probability `p` (the DROP
//! probability, as torch; the dropout paper's p is the keep probability 1 − p) and survivors
//! are scaled by 1/(1 − p), so nothing changes at test time.

use crate::backend;
use crate::error::{Error, Result};
use crate::tensor::Tensor;

impl Tensor {
    pub fn dropout(&self, p: f32, training: bool) -> Result<Tensor> {
        if !(0.0..=1.0).contains(&p) {
            return Err(Error::Value(format!("dropout: probability must be in [0, 1], got {p}")));
        }
        if !training || p == 0.0 {
            return Ok(self.clone());
        }
        if p == 1.0 {
            return self.mul_scalar(0.0);
        }
        // The mask is a constant of the graph: the gradient is g · mask, through `mul`.
        let mask = backend::dropout_mask(self.shape(), p, self.device())?;
        self.mul(&mask)
    }
}
