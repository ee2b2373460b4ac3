//! The max-norm constraint of the dropout paper (Srivastava et al., 2014, §5.1): after each
//! update, every unit's incoming weight vector w is projected onto the ball ‖w‖₂ ≤ c.
//!
//! A unit's incoming weights are one slice along dim 0 of the weight: a row of a Linear weight
//! (out, in), a filter `weight[i]` of a conv weight (out, in, kh, kw). Tensors with fewer than
//! two dimensions (biases, scalars) are left alone. The optimizers apply this after their
//! step to each parameter group that has `max_norm` set; `nn.utils.max_norm_` reuses it.

use crate::backend::cpu::{parallel, strided};
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rayon::prelude::*;

fn check_max_norm(max_norm: f64) -> Result<()> {
    if max_norm.is_nan() || max_norm <= 0.0 {
        return Err(Error::Value(format!("max_norm_: max_norm must be > 0, got {max_norm}")));
    }
    Ok(())
}

fn renorm_row(row: &mut [f32], c: f64) {
    // Accumulate in f64: rows can hold thousands of weights.
    let norm = row.iter().map(|&x| (x as f64) * (x as f64)).sum::<f64>().sqrt();
    if norm > c {
        let scale = (c / norm) as f32;
        row.iter_mut().for_each(|x| *x *= scale);
    }
}

/// Rescales each `row_len`-long row of `data` whose L2 norm exceeds `max_norm` to norm
/// `max_norm` (rows within the ball are untouched). After it every row's norm is at most
/// `max_norm` up to float32 rounding (a relative 1e-6).
pub fn renorm_rows(data: &mut [f32], row_len: usize, max_norm: f64) -> Result<()> {
    check_max_norm(max_norm)?;
    if row_len == 0 || data.is_empty() {
        return Ok(());
    }
    if data.len() % row_len != 0 {
        return Err(Error::Shape(format!(
            "max_norm_: {} elements do not split into rows of {row_len}",
            data.len()
        )));
    }
    if parallel(data.len()) && data.len() > row_len {
        data.par_chunks_mut(row_len).for_each(|r| renorm_row(r, max_norm));
    } else {
        data.chunks_mut(row_len).for_each(|r| renorm_row(r, max_norm));
    }
    Ok(())
}

/// Applies the max-norm projection in place to every tensor with two or more dimensions (each
/// slice `t[i]` along dim 0 gets norm ≤ `max_norm`); 0-d and 1-d tensors are skipped.
/// `max_norm` = +inf is allowed and changes nothing.
///
/// Leaves that require grad are fine (this is how parameters are constrained); a tensor that is
/// part of an autograd graph (a non-leaf that requires grad) or a broadcast view is refused.
/// Writes bump the version counter.
pub fn max_norm_(tensors: &[Tensor], max_norm: f64) -> Result<()> {
    check_max_norm(max_norm)?;
    for (i, t) in tensors.iter().enumerate() {
        if t.ndim() < 2 {
            continue;
        }
        if !t.is_leaf() && t.requires_grad_flag() {
            return Err(Error::Runtime(format!(
                "max_norm_: tensor {i} (shape {:?}) is part of an autograd graph; apply the constraint to leaves (parameters)",
                t.shape()
            )));
        }
        let l = t.layout();
        if l.shape.iter().zip(&l.strides).any(|(s, st)| *s > 1 && *st == 0) {
            return Err(Error::Value(format!(
                "max_norm_: tensor {i} (shape {:?}) is a broadcast view; several elements share memory",
                t.shape()
            )));
        }
    }
    for t in tensors {
        if t.ndim() < 2 || t.numel() == 0 {
            continue;
        }
        let row_len = t.numel() / t.shape()[0];
        if t.device() == crate::tensor::Device::Wgpu {
            renorm_rows_gpu(t, max_norm)?;
            continue;
        }
        let mut data = t.storage().write();
        if t.is_contiguous() {
            let (off, n) = (t.layout().offset, t.numel());
            if off + n > data.len() {
                return Err(Error::Runtime(format!("max_norm_: view exceeds its storage ({off}+{n} > {})", data.len())));
            }
            renorm_rows(&mut data[off..off + n], row_len, max_norm)?;
        } else {
            // Strided (e.g. a transposed weight): rows in row-major order, then written back.
            let mut rows = strided::gather(&data, t.layout());
            renorm_rows(&mut rows, row_len, max_norm)?;
            strided::scatter(&mut data, t.layout(), &rows);
        }
    }
    Ok(())
}

/// The same projection on the GPU, in tensor ops (norms accumulate in f32 there).
fn renorm_rows_gpu(t: &Tensor, max_norm: f64) -> Result<()> {
    let _ng = crate::autograd::NoGradGuard::new();
    let dims: Vec<usize> = (1..t.ndim()).collect();
    let norm = t.mul(t)?.sum_dims(&dims, true)?.sqrt()?;
    let c = max_norm as f32;
    // scale = c / norm where norm > c, else 1 (c / max(norm, c) is exactly that).
    let scale = norm.maximum(&Tensor::scalar(c))?.pow_scalar(-1.0)?.mul_scalar(c)?;
    t.copy_(&t.mul(&scale)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row_norms(v: &[f32], row_len: usize) -> Vec<f64> {
        v.chunks(row_len).map(|r| r.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt()).collect()
    }

    #[test]
    fn long_rows_shrink_to_c_and_short_rows_stay() {
        let mut w = vec![3.0f32, 4.0, 0.3, 0.4, 0.0, 0.0];
        renorm_rows(&mut w, 2, 1.0).unwrap();
        assert!((row_norms(&w, 2)[0] - 1.0).abs() < 1e-6);
        assert_eq!(&w[0..2], &[0.6, 0.8]); // direction kept
        assert_eq!(&w[2..], &[0.3, 0.4, 0.0, 0.0]);
    }

    #[test]
    fn tensors_rows_filters_biases_and_transposed_views() {
        let lin = Tensor::from_vec((0..12).map(|x| x as f32).collect(), &[3, 4]).unwrap().requires_grad(true);
        let bias = Tensor::from_vec(vec![10.0, 20.0, 30.0], &[3]).unwrap();
        let conv = Tensor::from_vec(vec![1.0; 2 * 3 * 2 * 2], &[2, 3, 2, 2]).unwrap();
        max_norm_(&[lin.clone(), bias.clone(), conv.clone()], 2.0).unwrap();
        for n in row_norms(&lin.to_vec(), 4) {
            assert!(n <= 2.0 * (1.0 + 1e-6), "{n}");
        }
        assert_eq!(bias.to_vec(), vec![10.0, 20.0, 30.0]);
        for n in row_norms(&conv.to_vec(), 12) {
            assert!((n - 2.0).abs() < 1e-5, "{n}"); // √12 > 2 → exactly 2
        }
        // A transposed view: its rows are the storage's columns.
        let base = Tensor::from_vec(vec![3.0, 0.0, 4.0, 0.0], &[2, 2]).unwrap();
        let t = base.transpose(0, 1).unwrap();
        max_norm_(std::slice::from_ref(&t), 1.0).unwrap();
        assert_eq!(t.to_vec(), vec![0.6, 0.8, 0.0, 0.0]);
    }

    #[test]
    fn bad_max_norm_is_an_error() {
        assert!(renorm_rows(&mut [1.0], 1, 0.0).is_err());
        assert!(renorm_rows(&mut [1.0], 1, f64::NAN).is_err());
        assert!(renorm_rows(&mut [1.0, 2.0, 3.0], 2, 1.0).is_err());
        let mut v = vec![5.0f32];
        renorm_rows(&mut v, 1, f64::INFINITY).unwrap();
        assert_eq!(v, vec![5.0]);
    }
}
