//! 2-D convolution by im2col + gemm: each sample's receptive fields are unrolled into a
//! (C·kh·kw) × (oh·ow) matrix, and the convolution becomes one matrix product with the
//! (O) × (C·kh·kw) weight. Samples run in parallel; the backward passes reuse the same layout
//! (col2im scatters the input gradient back).

use super::matmul::{matmul_into_par, MatRef};
use rayon::prelude::*;

/// Sizes of one conv2d call (groups = 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvGeom {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub o: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub dh: usize,
    pub dw: usize,
    pub oh: usize,
    pub ow: usize,
}

impl ConvGeom {
    /// Rows of the unrolled matrix.
    pub fn k(&self) -> usize {
        self.c * self.kh * self.kw
    }
    /// Columns of the unrolled matrix (output positions per sample).
    pub fn l(&self) -> usize {
        self.oh * self.ow
    }
}

/// Input coordinate for output index `o` and kernel offset `k`, or None when it falls in padding.
#[inline]
fn src(o: usize, k: usize, stride: usize, pad: usize, dil: usize, size: usize) -> Option<usize> {
    let i = (o * stride + k * dil) as isize - pad as isize;
    if i >= 0 && (i as usize) < size {
        Some(i as usize)
    } else {
        None
    }
}

/// The output columns `oj` whose input column `oj·stride + k·dil − pad` lies inside `0..size`,
/// as a range (outside it the input is padding).
#[inline]
fn valid_range(out: usize, k: usize, stride: usize, pad: usize, dil: usize, size: usize) -> std::ops::Range<usize> {
    // oj·stride ≥ pad − k·dil  and  oj·stride < size + pad − k·dil
    let lo_num = pad as isize - (k * dil) as isize;
    let lo = if lo_num <= 0 { 0 } else { (lo_num as usize).div_ceil(stride) };
    let hi_num = (size + pad) as isize - (k * dil) as isize;
    let hi = if hi_num <= 0 { 0 } else { (hi_num as usize).div_ceil(stride) };
    lo.min(out)..hi.min(out).max(lo.min(out))
}

/// Unrolls one sample (C×H×W) into `cols` (K × L). Each output row segment is a slice copy
/// (stride 1) or a strided read over the columns that fall inside the image, zeros elsewhere.
pub fn im2col(x: &[f32], g: &ConvGeom, cols: &mut [f32]) {
    let l = g.l();
    for c in 0..g.c {
        let plane = &x[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = (c * g.kh + ki) * g.kw + kj;
                let dst = &mut cols[row * l..(row + 1) * l];
                let cols_ok = valid_range(g.ow, kj, g.sw, g.pw, g.dw, g.w);
                for oi in 0..g.oh {
                    let out = &mut dst[oi * g.ow..(oi + 1) * g.ow];
                    let Some(ii) = src(oi, ki, g.sh, g.ph, g.dh, g.h) else {
                        out.fill(0.0);
                        continue;
                    };
                    let line = &plane[ii * g.w..(ii + 1) * g.w];
                    out[..cols_ok.start].fill(0.0);
                    out[cols_ok.end..].fill(0.0);
                    let j0 = cols_ok.start * g.sw + kj * g.dw - g.pw;
                    let seg = &mut out[cols_ok.clone()];
                    if g.sw == 1 {
                        seg.copy_from_slice(&line[j0..j0 + seg.len()]);
                    } else {
                        for (t, v) in seg.iter_mut().enumerate() {
                            *v = line[j0 + t * g.sw];
                        }
                    }
                }
            }
        }
    }
}

/// Adds the unrolled gradient `cols` (K × L) back into one sample's input gradient (C×H×W).
pub fn col2im(cols: &[f32], g: &ConvGeom, dx: &mut [f32]) {
    let l = g.l();
    for c in 0..g.c {
        let plane = &mut dx[c * g.h * g.w..(c + 1) * g.h * g.w];
        for ki in 0..g.kh {
            for kj in 0..g.kw {
                let row = (c * g.kh + ki) * g.kw + kj;
                let s = &cols[row * l..(row + 1) * l];
                let cols_ok = valid_range(g.ow, kj, g.sw, g.pw, g.dw, g.w);
                if cols_ok.is_empty() {
                    continue;
                }
                let j0 = cols_ok.start * g.sw + kj * g.dw - g.pw;
                for oi in 0..g.oh {
                    let Some(ii) = src(oi, ki, g.sh, g.ph, g.dh, g.h) else { continue };
                    let seg = &s[oi * g.ow + cols_ok.start..oi * g.ow + cols_ok.end];
                    let line = &mut plane[ii * g.w..(ii + 1) * g.w];
                    if g.sw == 1 {
                        line[j0..j0 + seg.len()].iter_mut().zip(seg).for_each(|(d, v)| *d += v);
                    } else {
                        for (t, v) in seg.iter().enumerate() {
                            line[j0 + t * g.sw] += v;
                        }
                    }
                }
            }
        }
    }
}

/// A scratch buffer from the pool that goes back to it when dropped.
struct Scratch(Vec<f32>);

impl Scratch {
    fn new(n: usize) -> Scratch {
        Scratch(crate::tensor::pool::take(n))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        crate::tensor::pool::give(std::mem::take(&mut self.0));
    }
}

fn per_sample_parallel(g: &ConvGeom) -> bool {
    g.n >= rayon::current_num_threads()
}

/// y (N×O×oh×ow) = conv(x (N×C×H×W), w (O×K)) + b.
pub fn forward(x: &[f32], w: &[f32], b: Option<&[f32]>, g: &ConvGeom) -> Vec<f32> {
    let (k, l) = (g.k(), g.l());
    // Every element is written by the GEMM (accumulate = false): a pooled buffer will do.
    let mut y = crate::tensor::pool::take(g.n * g.o * l);
    let par = per_sample_parallel(g);
    // im2col overwrites all of `cols`, so one scratch buffer serves many samples (a fresh
    // multi-hundred-KB allocation per sample cost page faults on every call).
    let body = |cols: &mut Scratch, (n, yn): (usize, &mut [f32])| {
        let cols = &mut cols.0;
        im2col(&x[n * g.c * g.h * g.w..(n + 1) * g.c * g.h * g.w], g, cols);
        let wm = MatRef { data: w, offset: 0, rs: k, cs: 1 };
        let cm = MatRef { data: cols, offset: 0, rs: l, cs: 1 };
        matmul_into_par(yn, wm, cm, g.o, k, l, !par, false);
        if let Some(b) = b {
            for (oc, row) in yn.chunks_mut(l).enumerate() {
                row.iter_mut().for_each(|v| *v += b[oc]);
            }
        }
    };
    let scratch = || Scratch::new(k * l);
    if par {
        y.par_chunks_mut(g.o * l).enumerate().for_each_init(scratch, body);
    } else {
        let mut cols = scratch();
        y.chunks_mut(g.o * l).enumerate().for_each(|item| body(&mut cols, item));
    }
    y
}

/// dx (N×C×H×W) from dy (N×O×L) and w (O×K): col2im(wᵀ · dy[n]).
pub fn backward_input(dy: &[f32], w: &[f32], g: &ConvGeom) -> Vec<f32> {
    let (k, l) = (g.k(), g.l());
    let chw = g.c * g.h * g.w;
    let mut dx = vec![0.0f32; g.n * chw];
    let par = per_sample_parallel(g);
    // The GEMM overwrites `cols` (accumulate = false): scratch is reused across samples.
    let body = |cols: &mut Scratch, (n, dxn): (usize, &mut [f32])| {
        let cols = &mut cols.0;
        let wt = MatRef { data: w, offset: 0, rs: 1, cs: k };
        let dyn_ = MatRef { data: dy, offset: n * g.o * l, rs: l, cs: 1 };
        matmul_into_par(cols, wt, dyn_, k, g.o, l, !par, false);
        col2im(cols, g, dxn);
    };
    let scratch = || Scratch::new(k * l);
    if par {
        dx.par_chunks_mut(chw).enumerate().for_each_init(scratch, body);
    } else {
        let mut cols = scratch();
        dx.chunks_mut(chw).enumerate().for_each(|item| body(&mut cols, item));
    }
    dx
}

/// dw (O×K) = Σₙ dy[n] · im2col(x[n])ᵀ. Threads each sum a share of the samples, then the
/// partial sums are added.
pub fn backward_weight(dy: &[f32], x: &[f32], g: &ConvGeom) -> Vec<f32> {
    let (k, l) = (g.k(), g.l());
    let chw = g.c * g.h * g.w;
    let par = per_sample_parallel(g);
    let accumulate = |acc: &mut Vec<f32>, cols: &mut Vec<f32>, n: usize| {
        im2col(&x[n * chw..(n + 1) * chw], g, cols);
        let dyn_ = MatRef { data: dy, offset: n * g.o * l, rs: l, cs: 1 };
        let ct = MatRef { data: cols, offset: 0, rs: 1, cs: l };
        matmul_into_par(acc, dyn_, ct, g.o, l, k, !par, true);
    };
    if par {
        let threads = rayon::current_num_threads().max(1);
        let per = g.n.div_ceil(threads);
        let partials: Vec<Vec<f32>> = (0..threads)
            .into_par_iter()
            .map(|t| {
                let mut acc = vec![0.0f32; g.o * k];
                let mut cols = Scratch::new(k * l);
                for n in (t * per)..((t + 1) * per).min(g.n) {
                    accumulate(&mut acc, &mut cols.0, n);
                }
                acc
            })
            .collect();
        let mut out = vec![0.0f32; g.o * k];
        for p in partials {
            out.iter_mut().zip(p).for_each(|(o, v)| *o += v);
        }
        out
    } else {
        let mut acc = vec![0.0f32; g.o * k];
        let mut cols = Scratch::new(k * l);
        for n in 0..g.n {
            accumulate(&mut acc, &mut cols.0, n);
        }
        acc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn geom(h: usize, w: usize, kh: usize, kw: usize, s: usize, p: usize, d: usize) -> ConvGeom {
        let oh = (h + 2 * p - d * (kh - 1) - 1) / s + 1;
        let ow = (w + 2 * p - d * (kw - 1) - 1) / s + 1;
        ConvGeom { n: 1, c: 1, h, w, o: 1, kh, kw, sh: s, sw: s, ph: p, pw: p, dh: d, dw: d, oh, ow }
    }

    #[test]
    fn direct_convolution_matches() {
        // 3×3 input, 2×2 kernel of ones, padding 1: sums of each 2×2 window of the padded input.
        let g = geom(3, 3, 2, 2, 1, 1, 1);
        let x: Vec<f32> = (1..=9).map(|v| v as f32).collect();
        let y = forward(&x, &[1.0; 4], None, &g);
        assert_eq!((g.oh, g.ow), (4, 4));
        assert_eq!(&y[..4], &[1.0, 3.0, 5.0, 3.0]);
        assert_eq!(y[5], 1.0 + 2.0 + 4.0 + 5.0);
    }

    #[test]
    fn im2col_matches_the_definition_for_strides_padding_and_dilation() {
        for &(h, w, k, st, p, d) in &[(5, 4, 3, 2, 1, 1), (6, 7, 2, 1, 2, 2), (4, 4, 5, 1, 2, 1), (3, 9, 1, 3, 0, 1), (2, 2, 3, 1, 3, 1)] {
            let g = geom(h, w, k, k, st, p, d);
            let x: Vec<f32> = (0..h * w).map(|v| v as f32 + 1.0).collect();
            let mut cols = vec![f32::NAN; g.k() * g.l()];
            im2col(&x, &g, &mut cols);
            for ki in 0..k {
                for kj in 0..k {
                    for oi in 0..g.oh {
                        for oj in 0..g.ow {
                            let want = match (src(oi, ki, st, p, d, h), src(oj, kj, st, p, d, w)) {
                                (Some(i), Some(j)) => x[i * w + j],
                                _ => 0.0,
                            };
                            assert_eq!(cols[(ki * k + kj) * g.l() + oi * g.ow + oj], want, "{h}x{w} k{k} s{st} p{p} d{d}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn col2im_is_adjoint_of_im2col() {
        // <im2col(x), c> == <x, col2im(c)> for any x, c.
        for g in [geom(5, 4, 3, 2, 2, 1, 1), geom(6, 7, 2, 2, 1, 2, 2), geom(3, 9, 1, 1, 3, 0, 1), geom(4, 4, 5, 5, 1, 2, 1)] {
            let n = g.h * g.w;
            let x: Vec<f32> = (0..n).map(|v| (v as f32 * 0.37).sin()).collect();
            let c: Vec<f32> = (0..g.k() * g.l()).map(|v| (v as f32 * 0.11).cos()).collect();
            let mut cols = vec![0.0; g.k() * g.l()];
            im2col(&x, &g, &mut cols);
            let mut back = vec![0.0; n];
            col2im(&c, &g, &mut back);
            let lhs: f32 = cols.iter().zip(&c).map(|(a, b)| a * b).sum();
            let rhs: f32 = x.iter().zip(&back).map(|(a, b)| a * b).sum();
            assert!((lhs - rhs).abs() < 1e-4, "{lhs} vs {rhs}");
        }
    }
}
