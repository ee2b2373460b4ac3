//! Row gathers and scatters along the first dim (`t[idx]` and its gradient), and picking one
//! element per row (`nll_loss`).

/// out[i] = rows[idx[i]] for contiguous `rows` of `row_len` elements.
pub fn gather_rows(src: &[f32], row_len: usize, idx: &[usize]) -> Vec<f32> {
    let mut out = Vec::with_capacity(idx.len() * row_len);
    for &i in idx {
        out.extend_from_slice(&src[i * row_len..(i + 1) * row_len]);
    }
    out
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
    fn gather_then_scatter_accumulates_repeats() {
        let src = [0.0f32, 1.0, 2.0, 3.0, 4.0, 5.0];
        assert_eq!(gather_rows(&src, 2, &[2, 0, 2]), vec![4., 5., 0., 1., 4., 5.]);
        let mut dst = [0.0f32; 6];
        scatter_add_rows(&mut dst, 2, &[2, 0, 2], &[1., 1., 1., 1., 1., 1.]);
        assert_eq!(dst, [1., 1., 0., 0., 2., 2.]);
    }
}
