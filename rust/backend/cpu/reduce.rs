//! Reductions over a set of dims. The reduced dims are brought to the end (a copy only when
//! the layout is not already like that), so every reduction becomes one over rows of a matrix.
//! Sums accumulate in f64: float32 sums of thousands of terms would otherwise lose digits
//! that gradient checks and losses can see.

use super::strided::gather;
use super::parallel;
use crate::backend::ReduceOp;
use crate::tensor::Layout;
use multiversion::multiversion;
use rayon::prelude::*;

/// Σ xs in f64 (`math::sum_f64`) in AVX2 / AVX-512 clones chosen at run time. The order of
/// the additions is fixed, so every CPU gives the same bits.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx512bw", "x86_64+avx2+fma"))]
fn sum_row(xs: &[f32]) -> f64 {
    super::math::sum_f64(xs)
}

/// acc[i] += xs[i] in f64 (rows added onto a run of outputs), in the same clones as `sum_row`.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx512bw", "x86_64+avx2+fma"))]
fn add_f64(acc: &mut [f64], xs: &[f32]) {
    for (a, &x) in acc.iter_mut().zip(xs) {
        *a += x as f64;
    }
}

/// Views `l` as an (outer × inner) row-major matrix whose rows run over `dims` (sorted, unique).
/// Returns the matrix data (borrowed when no copy is needed) and its `inner` size.
fn rows_over<'a>(data: &'a [f32], l: &Layout, dims: &[usize]) -> (std::borrow::Cow<'a, [f32]>, usize) {
    let inner: usize = dims.iter().map(|&d| l.shape[d]).product();
    let nd = l.ndim();
    let suffix = dims.iter().enumerate().all(|(i, &d)| d == nd - dims.len() + i);
    if suffix && l.is_contiguous() {
        return (std::borrow::Cow::Borrowed(&data[l.offset..l.offset + l.numel()]), inner);
    }
    let mut perm: Vec<usize> = (0..nd).filter(|d| !dims.contains(d)).collect();
    perm.extend_from_slice(dims);
    (std::borrow::Cow::Owned(gather(data, &l.permute(&perm))), inner)
}

fn max_nan(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if b > a {
        b
    } else {
        a
    }
}

fn min_nan(a: f32, b: f32) -> f32 {
    if a.is_nan() || b.is_nan() {
        f32::NAN
    } else if b < a {
        b
    } else {
        a
    }
}

fn reduce_row(row: &[f32], op: ReduceOp) -> f32 {
    match op {
        ReduceOp::Sum => sum_row(row) as f32,
        ReduceOp::Max => row.iter().copied().fold(f32::NEG_INFINITY, max_nan),
        ReduceOp::Min => row.iter().copied().fold(f32::INFINITY, min_nan),
    }
}

/// Reduces `dims` (sorted, unique, every reduced dim non-empty for Max/Min) of the view.
/// The result holds the kept dims in order (keepdim is a reshape done by the caller).
pub fn reduce(data: &[f32], l: &Layout, dims: &[usize], op: ReduceOp) -> Vec<f32> {
    let nd = l.ndim();
    let prefix = dims.iter().enumerate().all(|(i, &d)| d == i);
    if op == ReduceOp::Sum && prefix && !dims.is_empty() && dims.len() < nd && l.is_contiguous() {
        // Summing leading dims of a contiguous tensor (a bias gradient): accumulate whole rows.
        let outer: usize = dims.iter().map(|&d| l.shape[d]).product();
        let inner = l.numel_kept(dims);
        let src = &data[l.offset..l.offset + l.numel()];
        let mut acc = vec![0.0f64; inner];
        for r in 0..outer {
            add_f64(&mut acc, &src[r * inner..(r + 1) * inner]);
        }
        return acc.into_iter().map(|x| x as f32).collect();
    }
    if op == ReduceOp::Sum && l.is_contiguous() && !dims.is_empty() && !(dims.len() == nd || (dims[0] + dims.len() == nd && dims.windows(2).all(|w| w[1] == w[0] + 1))) {
        // Any other dims of a contiguous tensor (conv's bias gradient sums N, H, W of NCHW):
        // in memory order, no permuted copy.
        return sum_in_memory_order(&data[l.offset..l.offset + l.numel()], &l.shape, dims);
    }
    let (mat, inner) = rows_over(data, l, dims);
    let outer = if inner == 0 { l.numel_kept(dims) } else { mat.len() / inner };
    if inner == 0 {
        return vec![0.0; outer];
    }
    if outer == 1 && parallel(inner) {
        // One long row (a full reduction): split it across threads.
        let parts: Vec<f32> = mat.par_chunks(super::PAR_CHUNK).map(|c| reduce_row(c, op)).collect();
        return vec![reduce_row(&parts, op)];
    }
    if parallel(mat.len()) && outer > 1 {
        mat.par_chunks(inner).map(|r| reduce_row(r, op)).collect()
    } else {
        mat.chunks(inner).map(|r| reduce_row(r, op)).collect()
    }
}

/// Sums `dims` of a contiguous tensor by walking it in memory order: the innermost run of dims
/// that are all reduced (or all kept) is one slice, summed into one output (or added onto a
/// run of outputs); an odometer over the outer dims tracks where the output goes.
///
/// When the innermost run is reduced (conv's bias gradient sums N, H, W of NCHW), the slices
/// are summed in fixed blocks of about `SUM_BLOCK` elements, each into its own accumulator,
/// and the blocks' sums are then added in block order: the same bits on one thread or many,
/// and the blocks run in parallel on large tensors. Measured (128×32×28×28 over N, H, W, two
/// threads): 1 668 → 378 µs; numpy takes 634.
fn sum_in_memory_order(src: &[f32], shape: &[usize], dims: &[usize]) -> Vec<f32> {
    let nd = shape.len();
    let reduced: Vec<bool> = (0..nd).map(|d| dims.contains(&d)).collect();
    let mut out_stride = vec![0usize; nd];
    let mut out_len = 1usize;
    for d in (0..nd).rev().filter(|&d| !reduced[d]) {
        out_stride[d] = out_len;
        out_len *= shape[d];
    }
    let inner_reduced = reduced[nd - 1];
    let mut start = nd - 1;
    while start > 0 && reduced[start - 1] == inner_reduced {
        start -= 1;
    }
    let run: usize = shape[start..].iter().product();
    if run == 0 || src.is_empty() {
        return vec![0.0; out_len];
    }
    let outer = &shape[..start];
    // Sums slices first..last into a fresh accumulator, starting the odometer at `first`.
    let sum_slices = |first: usize, last: usize| -> Vec<f64> {
        let mut acc = vec![0.0f64; out_len];
        let mut idx = vec![0usize; start];
        let mut rest = first;
        for d in (0..start).rev() {
            idx[d] = rest % outer[d];
            rest /= outer[d];
        }
        let mut at: usize = idx.iter().zip(&out_stride).map(|(i, s)| i * s).sum();
        for slice in src[first * run..last * run].chunks_exact(run) {
            if inner_reduced {
                acc[at] += sum_row(slice);
            } else {
                add_f64(&mut acc[at..at + run], slice);
            }
            super::strided::advance(&mut idx, outer, &out_stride, &mut at);
        }
        acc
    };
    let slices = src.len() / run;
    if !inner_reduced || out_len > MAX_BLOCKED_OUTPUTS {
        // One accumulator, in order: per-block copies of a large output would cost more than
        // the sums (and, for many outputs, more memory than the input).
        return sum_slices(0, slices).into_iter().map(|x| x as f32).collect();
    }
    let per_block = (SUM_BLOCK / run).max(1);
    let blocks = slices.div_ceil(per_block);
    let block = |b: usize| sum_slices(b * per_block, ((b + 1) * per_block).min(slices));
    let partial: Vec<Vec<f64>> = if parallel(src.len()) {
        (0..blocks).into_par_iter().map(block).collect()
    } else {
        (0..blocks).map(block).collect()
    };
    let mut total = vec![0.0f64; out_len];
    for p in &partial {
        for (t, x) in total.iter_mut().zip(p) {
            *t += x;
        }
    }
    total.into_iter().map(|x| x as f32).collect()
}

/// Elements per block of `sum_in_memory_order` (fixed, so results do not depend on threads).
const SUM_BLOCK: usize = 1 << 16;
/// Outputs up to which `sum_in_memory_order` sums in blocks (each block holds this many f64).
const MAX_BLOCKED_OUTPUTS: usize = 4096;

/// Index of the largest (or smallest) element along `dim` (first on ties; NaN counts as
/// the extreme, as in torch). Indices are returned as f32, exact below 2^24.
pub fn arg_extreme(data: &[f32], l: &Layout, dim: usize, largest: bool) -> Vec<f32> {
    let (mat, inner) = rows_over(data, l, &[dim]);
    mat.chunks(inner)
        .map(|row| {
            let mut best = 0usize;
            for (i, &x) in row.iter().enumerate() {
                let b = row[best];
                if b.is_nan() {
                    break;
                }
                if x.is_nan() || (largest && x > b) || (!largest && x < b) {
                    best = i;
                }
            }
            best as f32
        })
        .collect()
}

impl Layout {
    /// Number of elements over the dims not in `dims`.
    pub(crate) fn numel_kept(&self, dims: &[usize]) -> usize {
        (0..self.ndim()).filter(|d| !dims.contains(d)).map(|d| self.shape[d]).product()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_order_sums_match_the_permuted_path() {
        let shape = [3usize, 4, 5, 2];
        let l = Layout::contiguous(&shape);
        let d: Vec<f32> = (0..120).map(|x| ((x * 37 % 11) as f32) - 5.0).collect();
        for dims in [vec![0, 2, 3], vec![1], vec![0, 2], vec![1, 3], vec![0, 1, 3], vec![2]] {
            let (mat, inner) = rows_over(&d, &l, &dims);
            let want: Vec<f32> = mat.chunks(inner).map(|r| reduce_row(r, ReduceOp::Sum)).collect();
            assert_eq!(sum_in_memory_order(&d, &shape, &dims), want, "dims {dims:?}");
            assert_eq!(reduce(&d, &l, &dims, ReduceOp::Sum), want, "dims {dims:?}");
        }
    }

    #[test]
    fn sums_and_extremes() {
        let d: Vec<f32> = (0..6).map(|x| x as f32).collect();
        let l = Layout::contiguous(&[2, 3]);
        assert_eq!(reduce(&d, &l, &[0], ReduceOp::Sum), vec![3., 5., 7.]);
        assert_eq!(reduce(&d, &l, &[1], ReduceOp::Sum), vec![3., 12.]);
        assert_eq!(reduce(&d, &l, &[0, 1], ReduceOp::Max), vec![5.]);
        assert_eq!(reduce(&d, &l.permute(&[1, 0]), &[1], ReduceOp::Min), vec![0., 1., 2.]);
        assert_eq!(arg_extreme(&d, &l, 1, true), vec![2., 2.]);
        assert_eq!(arg_extreme(&[1., 5., 5.], &Layout::contiguous(&[3]), 0, true), vec![1.]);
        assert_eq!(reduce(&[], &Layout::contiguous(&[2, 0]), &[1], ReduceOp::Sum), vec![0., 0.]);
        assert_eq!(reduce(&[], &Layout::contiguous(&[0, 3]), &[0], ReduceOp::Sum), vec![0., 0., 0.]);
    }

    /// Σ over `dims` in f64, element by element: the definition.
    fn naive_sum(d: &[f32], shape: &[usize], dims: &[usize]) -> Vec<f64> {
        let kept: Vec<usize> = (0..shape.len()).filter(|k| !dims.contains(k)).collect();
        let out_len: usize = kept.iter().map(|&k| shape[k]).product();
        let mut out = vec![0.0f64; out_len];
        let mut idx = vec![0usize; shape.len()];
        for &x in d {
            let o = kept.iter().fold(0, |o, &k| o * shape[k] + idx[k]);
            out[o] += x as f64;
            for k in (0..shape.len()).rev() {
                idx[k] += 1;
                if idx[k] < shape[k] {
                    break;
                }
                idx[k] = 0;
            }
        }
        out
    }

    #[test]
    fn blocked_memory_order_sums_match_the_definition() {
        // Large enough for several blocks (and the parallel path), with ragged slice counts;
        // a case with more outputs than the blocked path takes; odd lengths for sum_row's tail.
        for (shape, dims) in [
            (vec![37usize, 6, 29, 31], vec![0usize, 2, 3]),
            (vec![129, 5, 7, 13], vec![0, 2, 3]),
            (vec![3, 5000, 2, 7], vec![0, 3]),
            (vec![2, 3, 100_003], vec![0, 2]),
        ] {
            let n: usize = shape.iter().product();
            let d: Vec<f32> = (0..n).map(|i| ((i * 7919 % 1009) as f32 - 504.0) / 97.0).collect();
            let got = sum_in_memory_order(&d, &shape, &dims);
            let want = naive_sum(&d, &shape, &dims);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(&want) {
                assert!((*g as f64 - w).abs() <= 1e-6 * (1.0 + w.abs()), "{shape:?} {dims:?}: {g} vs {w}");
            }
            // The same bits every time, whichever thread summed which block.
            assert_eq!(sum_in_memory_order(&d, &shape, &dims), got);
        }
    }

    #[test]
    fn vector_sums_match_sequential_sums() {
        for n in [0usize, 1, 7, 8, 9, 1000, 4097] {
            let xs: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
            let want: f64 = xs.iter().map(|&x| x as f64).sum();
            assert!((sum_row(&xs) - want).abs() < 1e-9 * (1.0 + want.abs()), "n = {n}");
            let mut acc = vec![1.0f64; n];
            add_f64(&mut acc, &xs);
            assert!(acc.iter().zip(&xs).all(|(a, &x)| *a == 1.0 + x as f64));
        }
    }
}
