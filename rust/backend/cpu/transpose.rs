//! Writes a column-major block into a row-major one (optionally adding), for the GEMM path
//! that computes a product column-major and hands it back row-major (see `matmul.rs`).

/// dst[i·ld + j] = src[i + j·m] (or += when `accumulate`) for i < m, j < n.
///
/// # Safety
/// `src` must be valid for reading m·n floats, `dst` for reading and writing rows 0..m of
/// `ld ≥ n` floats (the first n of each), and the two must not overlap.
pub unsafe fn col_major_into_rows(src: *const f32, m: usize, n: usize, dst: *mut f32, ld: usize, accumulate: bool) {
    let (m4, n4) = tiles_4x4(src, m, n, dst, ld, accumulate);
    // The ragged right columns of the tiled rows, then the ragged bottom rows.
    for i in 0..m {
        let j0 = if i < m4 { n4 } else { 0 };
        for j in j0..n {
            let v = *src.add(i + j * m);
            let d = dst.add(i * ld + j);
            *d = if accumulate { *d + v } else { v };
        }
    }
}

/// The 4×4 tiles (SSE shuffles: SSE is part of every x86-64 CPU). Rows are taken 16 at a time
/// so each source column's cache line serves four tiles before it is evicted. Returns the
/// tiled extent (m rounded down to 4, n rounded down to 4).
#[cfg(target_arch = "x86_64")]
unsafe fn tiles_4x4(src: *const f32, m: usize, n: usize, dst: *mut f32, ld: usize, accumulate: bool) -> (usize, usize) {
    use std::arch::x86_64::*;
    let (m4, n4) = (m / 4 * 4, n / 4 * 4);
    for i0 in (0..m4).step_by(16) {
        let i1 = (i0 + 16).min(m4);
        for j in (0..n4).step_by(4) {
            for i in (i0..i1).step_by(4) {
                let s = src.add(i + j * m);
                let (mut r0, mut r1) = (_mm_loadu_ps(s), _mm_loadu_ps(s.add(m)));
                let (mut r2, mut r3) = (_mm_loadu_ps(s.add(2 * m)), _mm_loadu_ps(s.add(3 * m)));
                _MM_TRANSPOSE4_PS(&mut r0, &mut r1, &mut r2, &mut r3);
                let d = dst.add(i * ld + j);
                for (t, r) in [r0, r1, r2, r3].into_iter().enumerate() {
                    let p = d.add(t * ld);
                    _mm_storeu_ps(p, if accumulate { _mm_add_ps(r, _mm_loadu_ps(p)) } else { r });
                }
            }
        }
    }
    (m4, n4)
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn tiles_4x4(_src: *const f32, _m: usize, _n: usize, _dst: *mut f32, _ld: usize, _accumulate: bool) -> (usize, usize) {
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_the_definition_on_ragged_shapes() {
        for &(m, n, ld) in &[(1usize, 1usize, 1usize), (4, 4, 4), (5, 7, 9), (16, 12, 12), (37, 23, 30), (64, 100, 100)] {
            let src: Vec<f32> = (0..m * n).map(|v| v as f32 * 0.5 - 3.0).collect();
            for accumulate in [false, true] {
                let mut dst: Vec<f32> = (0..m * ld).map(|v| v as f32).collect();
                let before = dst.clone();
                unsafe { col_major_into_rows(src.as_ptr(), m, n, dst.as_mut_ptr(), ld, accumulate) };
                for i in 0..m {
                    for j in 0..ld {
                        let want = if j >= n {
                            before[i * ld + j] // untouched beyond n
                        } else if accumulate {
                            before[i * ld + j] + src[i + j * m]
                        } else {
                            src[i + j * m]
                        };
                        assert_eq!(dst[i * ld + j], want, "{m}x{n} ld {ld} acc {accumulate} at ({i},{j})");
                    }
                }
            }
        }
    }
}
