//! matmul with torch.matmul's rules: 1-D operands are promoted (and the added dim removed
//! after), batch dims broadcast.

use super::{same_device, unbroadcast};
use crate::autograd::{record, Saved};
use crate::backend;
use crate::error::{Error, Result};
use crate::tensor::{broadcast_shapes, Tensor};

impl Tensor {
    pub fn matmul(&self, other: &Tensor) -> Result<Tensor> {
        same_device("matmul", &[self, other])?;
        let (da, db) = (self.ndim(), other.ndim());
        if da == 0 || db == 0 {
            return Err(Error::Shape(format!(
                "matmul: both arguments need at least 1 dimension, got shapes {:?} and {:?}",
                self.shape(),
                other.shape()
            )));
        }
        // Promote 1-D operands the way torch does, run the ≥2-D product, then drop the added dims.
        let a = if da == 1 { self.unsqueeze(0)? } else { self.clone() };
        let b = if db == 1 { other.unsqueeze(1)? } else { other.clone() };
        let out = matmul_nd(&a, &b, self.shape(), other.shape())?;
        match (da, db) {
            (1, 1) => out.reshape(&[]),
            (1, _) => out.squeeze_dim(-2),
            (_, 1) => out.squeeze_dim(-1),
            _ => Ok(out),
        }
    }
}

/// a (…, m, k) @ b (…, k, n) with broadcast batch dims; both at least 2-D.
fn matmul_nd(a: &Tensor, b: &Tensor, orig_a: &[usize], orig_b: &[usize]) -> Result<Tensor> {
    let (sa, sb) = (a.shape(), b.shape());
    let (m, k) = (sa[sa.len() - 2], sa[sa.len() - 1]);
    let (k2, n) = (sb[sb.len() - 2], sb[sb.len() - 1]);
    if k != k2 {
        return Err(Error::Shape(format!(
            "matmul: shapes {orig_a:?} and {orig_b:?} cannot be multiplied (inner dimensions {k} and {k2} differ)"
        )));
    }
    let batch = broadcast_shapes("matmul", &sa[..sa.len() - 2], &sb[..sb.len() - 2])?;
    let mut full_a = batch.clone();
    full_a.extend_from_slice(&[m, k]);
    let mut full_b = batch.clone();
    full_b.extend_from_slice(&[k, n]);
    let la = a.layout().broadcast_to("matmul", &full_a)?;
    let lb = b.layout().broadcast_to("matmul", &full_b)?;
    let out = backend::matmul(&a.view_with(la, None), &b.view_with(lb, None), &batch, m, k, n)?;
    let (sa_, sb_) = (Saved::new(a), Saved::new(b));
    let (ra, rb) = (a.requires_grad_flag(), b.requires_grad_flag());
    Ok(record("MatmulBackward", &[a, b], out, move |g| {
        let (a, b) = (sa_.get()?, sb_.get()?);
        // dA = dC · Bᵀ, dB = Aᵀ · dC; transposes are views, the products read them strided.
        let ga = if ra { Some(unbroadcast(&g.matmul(&b.transpose(-1, -2)?)?, a.shape())?) } else { None };
        let gb = if rb { Some(unbroadcast(&a.transpose(-1, -2)?.matmul(g)?, b.shape())?) } else { None };
        Ok(vec![ga, gb])
    }))
}
