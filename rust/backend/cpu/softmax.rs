//! Row-wise softmax / log-softmax and the fused cross-entropy, computed with the row maximum
//! subtracted so that exp never overflows.

use super::parallel;
use rayon::prelude::*;

fn for_rows(out: &mut [f32], src: &[f32], cols: usize, f: impl Fn(&mut [f32], &[f32]) + Sync + Send) {
    if cols == 0 {
        return;
    }
    if parallel(src.len()) {
        out.par_chunks_mut(cols).zip(src.par_chunks(cols)).for_each(|(o, s)| f(o, s));
    } else {
        out.chunks_mut(cols).zip(src.chunks(cols)).for_each(|(o, s)| f(o, s));
    }
}

fn row_max(s: &[f32]) -> f32 {
    s.iter().copied().fold(f32::NEG_INFINITY, f32::max)
}

/// log Σ exp(s), stable; -inf for an all -inf row.
pub fn logsumexp(s: &[f32]) -> f32 {
    let m = row_max(s);
    if m == f32::NEG_INFINITY {
        return m;
    }
    let sum: f32 = s.iter().map(|&x| super::math::exp(x - m)).sum();
    m + sum.ln()
}

/// Softmax over each row of a contiguous (rows × cols) matrix.
pub fn softmax_rows(src: &[f32], cols: usize) -> Vec<f32> {
    let mut out = crate::tensor::pool::take(src.len());
    for_rows(&mut out, src, cols, |o, s| {
        let m = row_max(s);
        // The vectorisable exp (≤ 2 ulp): libm's expf is a scalar call per element.
        for (o, &x) in o.iter_mut().zip(s) {
            *o = super::math::exp(x - m);
        }
        let sum: f32 = o.iter().sum();
        let inv = 1.0 / sum;
        o.iter_mut().for_each(|o| *o *= inv);
    });
    out
}

/// Log-softmax over each row of a contiguous (rows × cols) matrix.
pub fn log_softmax_rows(src: &[f32], cols: usize) -> Vec<f32> {
    let mut out = crate::tensor::pool::take(src.len());
    for_rows(&mut out, src, cols, |o, s| {
        let lse = logsumexp(s);
        for (o, &x) in o.iter_mut().zip(s) {
            *o = x - lse;
        }
    });
    out
}

/// Per-row cross-entropy of logits (rows × cols) against class indices, with label smoothing
/// ε: loss_i = (1-ε)·(−log p[i, y_i]) + ε·mean_c(−log p[i, c]). Rows whose target is `None`
/// (ignore_index) get 0. Also returns the softmax probabilities, which the backward needs.
pub fn cross_entropy_rows(logits: &[f32], cols: usize, targets: &[Option<usize>], eps: f32) -> (Vec<f32>, Vec<f32>) {
    let probs = softmax_rows(logits, cols);
    let losses = logits
        .chunks(cols)
        .zip(targets)
        .map(|(row, t)| match t {
            None => 0.0,
            Some(t) => {
                let lse = logsumexp(row);
                let nll = lse - row[*t];
                if eps == 0.0 {
                    nll
                } else {
                    let mean_nll = lse - row.iter().sum::<f32>() / cols as f32;
                    (1.0 - eps) * nll + eps * mean_nll
                }
            }
        })
        .collect();
    (losses, probs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_is_stable_and_normalised() {
        let p = softmax_rows(&[1000.0, 1000.0, 0.0, 0.0], 2);
        assert_eq!(p, vec![0.5, 0.5, 0.5, 0.5]);
        let l = log_softmax_rows(&[0.0, 0.0], 2);
        assert!((l[0] + std::f32::consts::LN_2).abs() < 1e-6);
        let (loss, _) = cross_entropy_rows(&[0.0, 0.0, 5.0, 5.0], 2, &[Some(0), None], 0.0);
        assert!((loss[0] - std::f32::consts::LN_2).abs() < 1e-6 && loss[1] == 0.0);
    }
}
