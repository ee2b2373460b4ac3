//! Matrix products through the `gemm` crate, which reads any strides (so transposed views are
//! multiplied without a copy) and splits the work over rayon's threads.

use gemm::{gemm, Parallelism};
use rayon::prelude::*;

/// A strided matrix operand: `data[offset + i*rs + j*cs]` is element (i, j).
#[derive(Clone, Copy)]
pub struct MatRef<'a> {
    pub data: &'a [f32],
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

/// Products below this many flops run on one thread. With the workers kept awake (see
/// `threads`) 60×784×100 (9.4 MFLOP) takes 38 µs on two threads and 65 on one. Smaller ones
/// gain in isolation (10×128×1024: 20 → 12 µs) but not in a training step, where the other
/// core must first fetch operands the calling core just wrote: logistic regression's
/// 128×784×10 over a freshly gathered batch made the step 124 → 135–166 µs when split.
/// (With sleeping workers the break-even was near 12 MFLOP.)
const PARALLEL_FLOPS: f64 = 4e6;

/// dst (m×n, row-major, contiguous at `dst`) = a (m×k) · b (k×n), multi-threaded when the
/// product is large enough.
pub fn matmul_into(dst: &mut [f32], a: MatRef, b: MatRef, m: usize, k: usize, n: usize) {
    let flops = 2.0 * m as f64 * n as f64 * k as f64;
    matmul_into_par(dst, a, b, m, k, n, flops > PARALLEL_FLOPS, false);
}

/// `matmul_into`, adding into dst when `accumulate`.
pub fn matmul_into_acc(dst: &mut [f32], a: MatRef, b: MatRef, m: usize, k: usize, n: usize, accumulate: bool) {
    let flops = 2.0 * m as f64 * n as f64 * k as f64;
    matmul_into_par(dst, a, b, m, k, n, flops > PARALLEL_FLOPS, accumulate);
}

/// Checks dst's length and the operands' bounds (panics: callers validated the shapes), and
/// settles the empty products: false when gemm has nothing to do (m or n is 0, or k is 0 and
/// dst was set to the empty sum).
fn has_work(dst: &mut [f32], a: &MatRef, b: &MatRef, m: usize, k: usize, n: usize, accumulate: bool) -> bool {
    assert!(dst.len() >= m * n);
    if m == 0 || n == 0 {
        return false;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return false;
    }
    assert!(a.offset + (m - 1) * a.rs + (k - 1) * a.cs < a.data.len(), "matmul operand out of bounds");
    assert!(b.offset + (k - 1) * b.rs + (n - 1) * b.cs < b.data.len(), "matmul operand out of bounds");
    true
}

/// `matmul_into` with the threading chosen by the caller (false inside an already parallel
/// loop), and `accumulate` adding the product into dst instead of overwriting it.
#[allow(clippy::too_many_arguments)]
pub fn matmul_into_par(dst: &mut [f32], a: MatRef, b: MatRef, m: usize, k: usize, n: usize, parallel: bool, accumulate: bool) {
    if !has_work(dst, &a, &b, m, k, n, accumulate) {
        return;
    }
    let threads = rayon::current_num_threads();
    // gemm's own rayon split scales poorly on two cores (about 1.05× one core at 1024³); one
    // single-threaded gemm per thread on its own block of the output scales almost linearly.
    // FG_GEMM_MODE=gemm restores gemm's own threading (for comparisons).
    let parallel = parallel && threads > 1 && super::threads::begin_parallel();
    let col_major = column_major_pays(&a, &b, m, n);
    if parallel && !gemm_own_threads() {
        // Blocks keep the whole product's orientation. A column-major product splits its rows
        // only while each block still fills gemm's 64-row microkernel (128×1024×1024: rows
        // ~1.0 ms, columns 1.25 ms); below that it splits its depth when that is long, else
        // its columns (60×784×100 per thread, single-threaded: 30-row blocks ~38 µs and
        // slower than one thread overall, n/2 37.7 µs, k/2 31.9 µs).
        let by_rows = if col_major { m >= 64 * threads } else { n < m };
        if col_major && !by_rows && k >= MIN_SPLIT_DEPTH * threads {
            split_depth(dst, a, b, m, k, n, threads, accumulate);
        } else if by_rows {
            split_rows(dst, a, b, m, k, n, threads, col_major, accumulate);
        } else {
            split_columns(dst, a, b, m, k, n, threads, col_major, accumulate);
        }
        return;
    }
    let par = if parallel { Parallelism::Rayon(threads) } else { Parallelism::None };
    // SAFETY: all three operands were bounds-checked above for the strides given; dst is
    // exclusively borrowed and does not overlap the inputs (they are shared borrows).
    unsafe { gemm_block(dst.as_mut_ptr(), n, a, 0, b, 0, m, k, n, col_major, accumulate, par) }
}

/// Whether to compute the product column-major (then transpose it into the row-major dst)
/// rather than have gemm write dst row-major. Given a row-major dst, gemm solves the transposed
/// problem, whose left operand is bᵀ; when b is a weight read through wᵀ (x·wᵀ) that operand is
/// k-contiguous, and gemm repacks the whole weight on every call. Column-major puts x on the
/// left instead (the smaller one for a batch of rows). Measured here, single-threaded:
/// 128×1024×1024 x·wᵀ 2140 → 1510 µs, 32×1024×1024 1140 → 460 µs, 128×3136×1024 6200 → 4680 µs,
/// a conv weight gradient 64×196×800 139 → 113 µs (transpose included); no gain from m ≈ 512,
/// a loss below n ≈ 64 and for any other operand layout.
fn column_major_pays(a: &MatRef, b: &MatRef, m: usize, n: usize) -> bool {
    a.cs == 1 && b.rs == 1 && m <= 384 && n >= 96
}

/// dst (m×n at `dst`, row stride `ld`) = (or += when `accumulate`) a·b, where a starts at
/// column 0 plus `a_off` elements and b plus `b_off` (a thread's block of rows or columns);
/// with `col_major` (see `column_major_pays`, decided for the whole product) through a
/// column-major scratch transposed into dst.
///
/// # Safety
/// The operands must be in bounds for m, k, n and their strides; dst must be valid for rows
/// 0..m of `ld ≥ n` elements and must not overlap a or b.
#[allow(clippy::too_many_arguments)]
unsafe fn gemm_block(dst: *mut f32, ld: usize, a: MatRef, a_off: usize, b: MatRef, b_off: usize, m: usize, k: usize, n: usize, col_major: bool, accumulate: bool, par: Parallelism) {
    let (pa, pb) = (a.data.as_ptr().add(a.offset + a_off), b.data.as_ptr().add(b.offset + b_off));
    let (a_cs, a_rs, b_cs, b_rs) = (a.cs as isize, a.rs as isize, b.cs as isize, b.rs as isize);
    if col_major {
        let mut scratch = crate::tensor::pool::take(m * n);
        gemm(m, n, k, scratch.as_mut_ptr(), m as isize, 1, false, pa, a_cs, a_rs, pb, b_cs, b_rs, 0.0, 1.0, false, false, false, par);
        super::transpose::col_major_into_rows(scratch.as_ptr(), m, n, dst, ld, accumulate);
        crate::tensor::pool::give(scratch);
        return;
    }
    gemm(m, n, k, dst, 1, ld as isize, accumulate, pa, a_cs, a_rs, pb, b_cs, b_rs,
         if accumulate { 1.0 } else { 0.0 }, 1.0, false, false, false, par);
}

/// dst (m×n, column-major: element (i, j) at i + j·m) = a·b (or += when `accumulate`) on this
/// thread. For callers that keep a column-major result themselves (the convolution writes it
/// back transposed, or sums many products before transposing once).
pub fn matmul_col_major(dst: &mut [f32], a: MatRef, b: MatRef, m: usize, k: usize, n: usize, accumulate: bool) {
    if !has_work(dst, &a, &b, m, k, n, accumulate) {
        return;
    }
    // SAFETY: operands bounds-checked above; dst is exclusively borrowed and m·n long.
    unsafe {
        gemm(m, n, k, dst.as_mut_ptr(), m as isize, 1, accumulate, a.data.as_ptr().add(a.offset), a.cs as isize, a.rs as isize,
             b.data.as_ptr().add(b.offset), b.cs as isize, b.rs as isize, if accumulate { 1.0 } else { 0.0 }, 1.0,
             false, false, false, Parallelism::None);
    }
}

fn gemm_own_threads() -> bool {
    static MODE: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *MODE.get_or_init(|| std::env::var_os("FG_GEMM_MODE").is_some_and(|v| v == "gemm"))
}

/// Splits the output's columns into one block per thread and runs single-threaded gemms side by
/// side: each thread then streams its own share of b and writes its own columns of dst.
#[allow(clippy::too_many_arguments)]
fn split_columns(dst: &mut [f32], a: MatRef, b: MatRef, m: usize, k: usize, n: usize, threads: usize, col_major: bool, accumulate: bool) {
    let block = n.div_ceil(threads).div_ceil(8) * 8;
    let dst_ptr = SendPtr(dst.as_mut_ptr());
    (0..n.div_ceil(block)).into_par_iter().for_each(|j| {
        let c0 = j * block;
        let w = block.min(n - c0);
        let p = dst_ptr;
        // SAFETY: blocks cover disjoint column ranges of dst, so no two threads write the same
        // element; the operands were bounds-checked by the caller.
        unsafe { gemm_block(p.0.add(c0), n, a, 0, b, c0 * b.cs, m, k, w, col_major, accumulate, Parallelism::None) }
    });
}

/// As `split_columns`, over blocks of rows (each thread reads its own rows of a, all of b).
#[allow(clippy::too_many_arguments)]
fn split_rows(dst: &mut [f32], a: MatRef, b: MatRef, m: usize, k: usize, n: usize, threads: usize, col_major: bool, accumulate: bool) {
    let block = m.div_ceil(threads).div_ceil(8) * 8;
    let dst_ptr = SendPtr(dst.as_mut_ptr());
    (0..m.div_ceil(block)).into_par_iter().for_each(|j| {
        let r0 = j * block;
        let h = block.min(m - r0);
        let p = dst_ptr;
        // SAFETY: blocks cover disjoint row ranges of dst; operands bounds-checked by the caller.
        unsafe { gemm_block(p.0.add(r0 * n), n, a, r0 * a.rs, b, 0, h, k, n, col_major, accumulate, Parallelism::None) }
    });
}

/// Depth below which a thread's share of a depth split stops paying (gemm's packing is
/// amortised over the depth).
const MIN_SPLIT_DEPTH: usize = 256;

/// For column-major products too short to split by rows: each thread computes the whole m×n
/// product over its own range of the depth k into a column-major scratch, and the partial
/// products are then added into dst in thread order (the same bits whichever thread finished
/// first). Only for `column_major_pays` operands: a and b are both k-contiguous, so a depth
/// range is an offset into each.
#[allow(clippy::too_many_arguments)]
fn split_depth(dst: &mut [f32], a: MatRef, b: MatRef, m: usize, k: usize, n: usize, threads: usize, accumulate: bool) {
    debug_assert!(a.cs == 1 && b.rs == 1);
    let block = k.div_ceil(threads);
    let partial: Vec<Vec<f32>> = (0..k.div_ceil(block))
        .into_par_iter()
        .map(|t| {
            let (k0, kb) = (t * block, block.min(k - t * block));
            let mut scratch = crate::tensor::pool::take(m * n);
            // SAFETY: rows 0..m and depth k0..k0+kb of a, depth k0..k0+kb and columns 0..n of b
            // lie inside the operands the caller bounds-checked for depth k; scratch is m·n.
            unsafe {
                gemm(m, n, kb, scratch.as_mut_ptr(), m as isize, 1, false, a.data.as_ptr().add(a.offset + k0), 1, a.rs as isize,
                     b.data.as_ptr().add(b.offset + k0), b.cs as isize, 1, 0.0, 1.0, false, false, false, Parallelism::None);
            }
            scratch
        })
        .collect();
    for (t, p) in partial.into_iter().enumerate() {
        // SAFETY: p is m×n column-major; dst holds m rows of n (has_work checked its length).
        unsafe { super::transpose::col_major_into_rows(p.as_ptr(), m, n, dst.as_mut_ptr(), n, accumulate || t > 0) };
        crate::tensor::pool::give(p);
    }
}

#[derive(Clone, Copy)]
struct SendPtr(*mut f32);
// SAFETY: used only to hand disjoint column blocks of one buffer to rayon workers.
unsafe impl Send for SendPtr {}
unsafe impl Sync for SendPtr {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_product_and_transposed_operand() {
        // a = [[1,2],[3,4]], b = [[5,6],[7,8]]
        let a = [1.0f32, 2.0, 3.0, 4.0];
        let b = [5.0f32, 6.0, 7.0, 8.0];
        let mut c = [0.0f32; 4];
        let ar = MatRef { data: &a, offset: 0, rs: 2, cs: 1 };
        matmul_into(&mut c, ar, MatRef { data: &b, offset: 0, rs: 2, cs: 1 }, 2, 2, 2);
        assert_eq!(c, [19.0, 22.0, 43.0, 50.0]);
        // b transposed through its strides: b^T = [[5,7],[6,8]]
        matmul_into(&mut c, ar, MatRef { data: &b, offset: 0, rs: 1, cs: 2 }, 2, 2, 2);
        assert_eq!(c, [17.0, 23.0, 39.0, 53.0]);
    }

    /// c ≈ scale·want, elementwise, relative to the magnitude.
    fn assert_close(c: &[f32], want: &[f32], scale: f32, what: &str) {
        for (x, y) in c.iter().zip(want) {
            assert!((x - scale * y).abs() < 1e-3 * scale * (1.0 + y.abs()), "{what}: {x} vs {scale}·{y}");
        }
    }

    fn naive(a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut c = vec![0.0f32; m * n];
        for i in 0..m {
            for j in 0..n {
                c[i * n + j] = (0..k).map(|p| a[i * k + p] as f64 * b[p * n + j] as f64).sum::<f64>() as f32;
            }
        }
        c
    }

    #[test]
    fn column_major_path_matches_naive() {
        // x·wᵀ shapes that take the column-major path (a k-contiguous, b read through wᵀ),
        // serial and split, overwrite and accumulate, with ragged edges.
        // (60, 784, 100) and (5, 1001, 130) are deep enough to split their depth.
        for &(m, k, n) in &[(50usize, 70usize, 130usize), (7, 33, 301), (200, 19, 97), (60, 784, 100), (5, 1001, 130)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 7.0).collect();
            let w: Vec<f32> = (0..n * k).map(|i| ((i * 5 % 11) as f32 - 5.0) / 5.0).collect();
            let wt: Vec<f32> = (0..k * n).map(|i| w[(i % n) * k + i / n]).collect(); // wᵀ, row-major
            let want = naive(&a, &wt, m, k, n);
            let ar = MatRef { data: &a, offset: 0, rs: k, cs: 1 };
            let br = MatRef { data: &w, offset: 0, rs: 1, cs: k };
            assert!(column_major_pays(&ar, &br, m, n));
            for parallel in [false, true] {
                let mut c = vec![f32::NAN; m * n];
                matmul_into_par(&mut c, ar, br, m, k, n, parallel, false);
                assert_close(&c, &want, 1.0, &format!("{m}x{k}x{n}"));
                matmul_into_par(&mut c, ar, br, m, k, n, parallel, true);
                assert_close(&c, &want, 2.0, &format!("{m}x{k}x{n} accumulate"));
            }
        }
    }

    #[test]
    fn threaded_splits_match_naive() {
        // Tall (row split), wide (column split), odd sizes, overwrite and accumulate.
        for &(m, k, n) in &[(301usize, 67usize, 45usize), (37, 91, 333), (130, 200, 130)] {
            let a: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 7.0).collect();
            let b: Vec<f32> = (0..k * n).map(|i| ((i * 5 % 11) as f32 - 5.0) / 5.0).collect();
            let want = naive(&a, &b, m, k, n);
            let (ar, br) = (MatRef { data: &a, offset: 0, rs: k, cs: 1 }, MatRef { data: &b, offset: 0, rs: n, cs: 1 });
            let mut c = vec![f32::NAN; m * n];
            matmul_into_par(&mut c, ar, br, m, k, n, true, false);
            assert_close(&c, &want, 1.0, &format!("{m}x{k}x{n}"));
            matmul_into_par(&mut c, ar, br, m, k, n, true, true);
            assert_close(&c, &want, 2.0, &format!("{m}x{k}x{n} accumulate"));
        }
    }

    #[test]
    fn depth_split_reads_views_with_offsets_and_strides() {
        // a: rows of k inside rows of k + 4, starting 3 in; b = wᵀ with w's rows k + 3 apart,
        // starting 2 in: the depth ranges must be offsets into both.
        let (m, k, n) = (9usize, 700usize, 110usize);
        let a: Vec<f32> = (0..3 + m * (k + 4)).map(|i| ((i * 7 % 13) as f32 - 6.0) / 7.0).collect();
        let w: Vec<f32> = (0..2 + n * (k + 3)).map(|i| ((i * 5 % 11) as f32 - 5.0) / 5.0).collect();
        let ad: Vec<f32> = (0..m * k).map(|i| a[3 + (i / k) * (k + 4) + i % k]).collect();
        let wt: Vec<f32> = (0..k * n).map(|i| w[2 + (i % n) * (k + 3) + i / n]).collect();
        let want = naive(&ad, &wt, m, k, n);
        let ar = MatRef { data: &a, offset: 3, rs: k + 4, cs: 1 };
        let br = MatRef { data: &w, offset: 2, rs: 1, cs: k + 3 };
        assert!(column_major_pays(&ar, &br, m, n));
        for accumulate in [false, true] {
            let mut c = vec![if accumulate { 1.0 } else { f32::NAN }; m * n];
            split_depth(&mut c, ar, br, m, k, n, 3, accumulate);
            let shifted: Vec<f32> = c.iter().map(|x| if accumulate { x - 1.0 } else { *x }).collect();
            assert_close(&shifted, &want, 1.0, &format!("accumulate {accumulate}"));
        }
    }
}
