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
    if layout.ndim() == 2 {
        // The common non-contiguous case (a transposed matrix): a blocked transpose keeps
        // both sides in cache.
        return gather_2d(data, layout);
    }
    view(data, layout).iter().copied().collect()
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
    let mut dst = view_mut(data, layout);
    for (d, v) in dst.iter_mut().zip(values) {
        *d = *v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
