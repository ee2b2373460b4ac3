//! Moving elements between strided views and contiguous buffers.

use crate::tensor::Layout;
use ndarray::{ArrayViewD, ArrayViewMutD, IxDyn, ShapeBuilder};

/// An ndarray view of `layout` over `data`. Layouts are built by this crate and always lie
/// inside their storage; the bound is still checked because unsafe code trusts it.
pub fn view<'a>(data: &'a [f32], layout: &Layout) -> ArrayViewD<'a, f32> {
    assert!(layout.span_end() <= data.len(), "layout exceeds its storage");
    // SAFETY: every index of the view maps inside `data` (checked above); strides are
    // non-negative; aliasing (stride 0) is fine for a read-only view.
    unsafe {
        ArrayViewD::from_shape_ptr(
            IxDyn(&layout.shape).strides(IxDyn(&layout.strides)),
            data.as_ptr().add(layout.offset.min(data.len())),
        )
    }
}

/// A mutable ndarray view; the layout must not alias (no zero strides over dims > 1).
pub fn view_mut<'a>(data: &'a mut [f32], layout: &Layout) -> ArrayViewMutD<'a, f32> {
    assert!(layout.span_end() <= data.len(), "layout exceeds its storage");
    assert!(
        layout.shape.iter().zip(&layout.strides).all(|(s, t)| *s <= 1 || *t != 0),
        "cannot write through a broadcast view"
    );
    // SAFETY: in bounds (checked above) and no two indices alias (checked above).
    unsafe {
        ArrayViewMutD::from_shape_ptr(
            IxDyn(&layout.shape).strides(IxDyn(&layout.strides)),
            data.as_mut_ptr().add(layout.offset.min(data.len())),
        )
    }
}

/// The elements of the view, row-major, in a new buffer.
pub fn gather(data: &[f32], layout: &Layout) -> Vec<f32> {
    let n = layout.numel();
    if layout.is_contiguous() {
        let mut out = crate::tensor::pool::take(n);
        out.copy_from_slice(&data[layout.offset..layout.offset + n]);
        return out;
    }
    let (shape, strides) = coalesced(layout);
    if shape.len() == 2 && strides[1] != 1 && strides[1] != 0 {
        // A transposed matrix: a blocked transpose keeps both sides in cache.
        let l = Layout { shape, strides, offset: layout.offset };
        return gather_2d(data, &l);
    }
    assert!(layout.span_end() <= data.len(), "layout exceeds its storage");
    let mut out = crate::tensor::pool::take(n);
    if n == 0 {
        return out;
    }
    for_rows(&shape, &strides, layout.offset, |o, src_at, len, stride| {
        let dst = &mut out[o..o + len];
        match stride {
            1 => dst.copy_from_slice(&data[src_at..src_at + len]),
            0 => dst.fill(data[src_at]),
            s => dst.iter_mut().enumerate().for_each(|(j, d)| *d = data[src_at + j * s]),
        }
    });
    out
}

/// Shape and strides with neighbouring dims merged wherever one stride walks both (a
/// broadcast scalar becomes one run of stride 0, a contiguous tail one run of stride 1),
/// and size-1 dims dropped; at least one dim remains.
fn coalesced(l: &Layout) -> (Vec<usize>, Vec<usize>) {
    let (mut shape, mut strides): (Vec<usize>, Vec<usize>) = (Vec::new(), Vec::new());
    for (&n, &st) in l.shape.iter().zip(&l.strides) {
        if n == 1 {
            continue;
        }
        match (shape.last_mut(), strides.last_mut()) {
            (Some(pn), Some(ps)) if *ps == st * n => {
                *pn *= n;
                *ps = st;
            }
            _ => {
                shape.push(n);
                strides.push(st);
            }
        }
    }
    if shape.is_empty() {
        shape.push(1);
        strides.push(1);
    }
    (shape, strides)
}

/// One odometer step over `idx` (row-major, last dim fastest) with `at` tracking the offset
/// that `strides` give the index: how strided loops walk their outer dims.
pub(crate) fn advance(idx: &mut [usize], shape: &[usize], strides: &[usize], at: &mut usize) {
    for d in (0..idx.len()).rev() {
        idx[d] += 1;
        *at += strides[d];
        if idx[d] < shape[d] {
            return;
        }
        *at -= strides[d] * shape[d];
        idx[d] = 0;
    }
}

/// Calls `f(out_offset, src_offset, len, stride)` for every innermost row of the view, in
/// row-major order (an odometer over the outer dims).
fn for_rows(shape: &[usize], strides: &[usize], offset: usize, mut f: impl FnMut(usize, usize, usize, usize)) {
    let nd = shape.len();
    let (len, stride) = (shape[nd - 1], strides[nd - 1]);
    let rows: usize = shape[..nd - 1].iter().product();
    let mut idx = vec![0usize; nd - 1];
    let mut at = offset;
    for r in 0..rows {
        f(r * len, at, len, stride);
        advance(&mut idx, shape, strides, &mut at);
    }
}

fn gather_2d(data: &[f32], l: &Layout) -> Vec<f32> {
    let (rows, cols) = (l.shape[0], l.shape[1]);
    let (rs, cs) = (l.strides[0], l.strides[1]);
    let mut out = crate::tensor::pool::take(rows * cols);
    const B: usize = 32;
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                let base = l.offset + r * rs;
                let orow = &mut out[r * cols..(r + 1) * cols];
                for c in c0..(c0 + B).min(cols) {
                    orow[c] = data[base + c * cs];
                }
            }
        }
    }
    out
}

/// Writes row-major `values` into the view `layout` of `data`.
pub fn scatter(data: &mut [f32], layout: &Layout, values: &[f32]) {
    debug_assert_eq!(values.len(), layout.numel());
    if layout.is_contiguous() {
        data[layout.offset..layout.offset + values.len()].copy_from_slice(values);
        return;
    }
    assert!(layout.span_end() <= data.len(), "layout exceeds its storage");
    assert!(
        layout.shape.iter().zip(&layout.strides).all(|(s, t)| *s <= 1 || *t != 0),
        "cannot write through a broadcast view"
    );
    if values.is_empty() {
        return;
    }
    let (shape, strides) = coalesced(layout);
    for_rows(&shape, &strides, layout.offset, |o, dst_at, len, stride| {
        let src = &values[o..o + len];
        if stride == 1 {
            data[dst_at..dst_at + len].copy_from_slice(src);
        } else {
            src.iter().enumerate().for_each(|(j, v)| data[dst_at + j * stride] = *v);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gather_and_scatter_match_ndarray_on_odd_views() {
        let data: Vec<f32> = (0..240).map(|x| x as f32).collect();
        let base = Layout::contiguous(&[4, 5, 3, 4]);
        let views = [
            base.permute(&[2, 0, 3, 1]),
            base.narrow(1, 1, 2, 2).narrow(3, 1, 2, 1),
            Layout::contiguous(&[5, 1]).broadcast_to("x", &[2, 5, 7]).unwrap(),
            base.select(2, 1).permute(&[2, 1, 0]),
            Layout::contiguous(&[1, 1]),
        ];
        for l in &views {
            let want: Vec<f32> = view(&data, l).iter().copied().collect();
            assert_eq!(gather(&data, l), want, "{l:?}");
            if l.shape.iter().zip(&l.strides).all(|(s, t)| *s <= 1 || *t != 0) {
                let mut a = data.clone();
                let vals: Vec<f32> = (0..l.numel()).map(|x| -(x as f32)).collect();
                scatter(&mut a, l, &vals);
                let mut b = data.clone();
                view_mut(&mut b, l).iter_mut().zip(&vals).for_each(|(d, v)| *d = *v);
                assert_eq!(a, b, "{l:?}");
            }
        }
    }

    #[test]
    fn gather_transposed_and_broadcast() {
        let data: Vec<f32> = (0..6).map(|x| x as f32).collect();
        let t = Layout::contiguous(&[2, 3]).permute(&[1, 0]);
        assert_eq!(gather(&data, &t), vec![0., 3., 1., 4., 2., 5.]);
        let b = Layout::contiguous(&[3]).broadcast_to("x", &[2, 3]).unwrap();
        assert_eq!(gather(&data, &b), vec![0., 1., 2., 0., 1., 2.]);
        let n = Layout::contiguous(&[2, 3]).narrow(1, 1, 2, 1);
        let mut d2 = data.clone();
        scatter(&mut d2, &n, &[9., 9., 9., 9.]);
        assert_eq!(d2, vec![0., 9., 9., 3., 9., 9.]);
    }
}
