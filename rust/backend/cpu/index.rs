//! Row gathers and scatters along the first dim (`t[idx]` and its gradient), and picking one
//! element per row (`nll_loss`).

/// Elements from which a row gather splits across threads. A gather from a large array is
/// bound by memory bandwidth, and two threads double it (take_rows of 1 000 MNIST rows: 312 →
/// 149 µs; 128 rows 44 → 26 µs, in isolation). In a training step, though, the next op reads
/// the batch on the calling thread and must first fetch the other thread's half from its core:
/// split from 25k elements, the 784-32-10 step lost 5 µs (89 → 94) and logistic regression's
/// 3; 100k was even for the 784-1024-1024-10 step. Large batches, whose next ops split too,
/// gain.
const GATHER_PAR_THRESHOLD: usize = 1 << 18;

/// out[i] = rows[idx[i]] for contiguous `rows` of `row_len` elements.
pub fn gather_rows(src: &[f32], row_len: usize, idx: &[usize]) -> Vec<f32> {
    let mut out = crate::tensor::pool::take(idx.len() * row_len);
    gather_rows_into(&mut out, src, row_len, idx);
    out
}

/// `gather_rows` into `out` (idx.len() · row_len elements, all overwritten).
pub fn gather_rows_into(out: &mut [f32], src: &[f32], row_len: usize, idx: &[usize]) {
    assert_eq!(out.len(), idx.len() * row_len, "gather_rows_into: output length");
    if row_len == 0 {
        return;
    }
    let copy = |(dst, &i): (&mut [f32], &usize)| dst.copy_from_slice(&src[i * row_len..(i + 1) * row_len]);
    if out.len() >= GATHER_PAR_THRESHOLD && super::threads::begin_parallel() {
        use rayon::prelude::*;
        let rows_per_task = (super::PAR_CHUNK / row_len).max(1);
        out.par_chunks_mut(row_len * rows_per_task).zip(idx.par_chunks(rows_per_task)).for_each(|(o, ix)| {
            o.chunks_exact_mut(row_len).zip(ix).for_each(copy);
        });
    } else {
        out.chunks_exact_mut(row_len).zip(idx).for_each(copy);
    }
}

/// dst[idx[i]] += rows[i]; repeated indices accumulate (the gradient of `gather_rows`).
pub fn scatter_add_rows(dst: &mut [f32], row_len: usize, idx: &[usize], rows: &[f32]) {
    for (r, &i) in idx.iter().enumerate() {
        for (d, s) in dst[i * row_len..(i + 1) * row_len].iter_mut().zip(&rows[r * row_len..(r + 1) * row_len]) {
            *d += *s;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_gather_matches_the_serial_copy() {
        // Large enough to split, with a row count that leaves a ragged last task.
        let (rows, row_len) = (10_000usize, 37usize);
        let src: Vec<f32> = (0..rows * row_len).map(|i| i as f32).collect();
        let idx: Vec<usize> = (0..7777).map(|i| (i * 7919) % rows).collect();
        let got = gather_rows(&src, row_len, &idx);
        let want: Vec<f32> = idx.iter().flat_map(|&i| src[i * row_len..(i + 1) * row_len].to_vec()).collect();
        assert!(got.len() >= GATHER_PAR_THRESHOLD);
        assert_eq!(got, want);
    }

    #[test]
    fn gather_then_scatter_accumulates_repeats() {
        let src = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(gather_rows(&src, 2, &[2, 0, 2]), vec![4., 5., 0., 1., 4., 5.]);
        assert_eq!(gather_rows(&src, 0, &[2, 0]), Vec::<f32>::new());
        let mut dst = [0.0f32; 6];
        scatter_add_rows(&mut dst, 2, &[2, 0, 2], &[1., 1., 1., 1., 1., 1.]);
        assert_eq!(dst, [1., 1., 0., 0., 2., 2.]);
    }
}
