//! Shape, strides and offset of a view into a storage buffer.
//!
//! Views (transpose, permute, narrow, select, expand, reshape of contiguous data) only build a
//! new `Layout`; they never copy. Strides are in elements and never negative; a stride of 0
//! repeats an element (expand / broadcasting).

use crate::error::{Error, Result};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub shape: Vec<usize>,
    pub strides: Vec<usize>,
    pub offset: usize,
}

/// Row-major strides of a contiguous tensor of `shape`.
pub fn contiguous_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![0; shape.len()];
    let mut acc = 1usize;
    for i in (0..shape.len()).rev() {
        strides[i] = acc;
        acc = acc.saturating_mul(shape[i].max(1));
    }
    strides
}

pub fn numel(shape: &[usize]) -> usize {
    shape.iter().product()
}

/// Normalises a possibly negative dim against `ndim`, as torch does (`-1` is the last dim).
pub fn normalize_dim(op: &str, dim: isize, ndim: usize) -> Result<usize> {
    let n = ndim as isize;
    // A 0-d tensor accepts dim 0 and -1, as in torch.
    let bound = n.max(1);
    if dim < -bound || dim >= bound {
        return Err(Error::Value(format!(
            "{op}: dim {dim} is out of range for a tensor with {ndim} dimension(s) (expected -{bound}..{})",
            bound - 1
        )));
    }
    Ok(if dim < 0 { (dim + bound) as usize } else { dim as usize })
}

/// The shape two operands broadcast to (numpy / torch rules), or a shape error naming `op`.
pub fn broadcast_shapes(op: &str, a: &[usize], b: &[usize]) -> Result<Vec<usize>> {
    let n = a.len().max(b.len());
    let mut out = vec![0; n];
    for i in 0..n {
        let da = if i + a.len() >= n { a[i + a.len() - n] } else { 1 };
        let db = if i + b.len() >= n { b[i + b.len() - n] } else { 1 };
        out[i] = if da == db || db == 1 {
            da
        } else if da == 1 {
            db
        } else {
            return Err(Error::Shape(format!(
                "{op}: shapes {a:?} and {b:?} cannot be broadcast together (dimension {i}: {da} vs {db})"
            )));
        };
    }
    Ok(out)
}

impl Layout {
    pub fn contiguous(shape: &[usize]) -> Layout {
        Layout { shape: shape.to_vec(), strides: contiguous_strides(shape), offset: 0 }
    }

    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    pub fn numel(&self) -> usize {
        numel(&self.shape)
    }

    /// True when the elements are laid out row-major without gaps from `offset`.
    pub fn is_contiguous(&self) -> bool {
        // An empty view holds no elements, so any layout of it is contiguous (and treating it
        // otherwise sends reshape into an endless copy-and-retry).
        if self.numel() == 0 {
            return true;
        }
        let mut expected = 1usize;
        for i in (0..self.shape.len()).rev() {
            if self.shape[i] != 1 && self.strides[i] != expected {
                return false;
            }
            expected *= self.shape[i];
        }
        true
    }

    /// One past the largest storage index this view touches (0 when empty).
    pub fn span_end(&self) -> usize {
        if self.numel() == 0 {
            return self.offset;
        }
        self.offset + self.shape.iter().zip(&self.strides).map(|(s, st)| (s - 1) * st).sum::<usize>() + 1
    }

    /// The layout seen through `broadcast_to(shape)`: new leading dims and size-1 dims get stride 0.
    pub fn broadcast_to(&self, op: &str, shape: &[usize]) -> Result<Layout> {
        if shape.len() < self.ndim() {
            return Err(Error::Shape(format!("{op}: cannot expand shape {:?} to {:?}", self.shape, shape)));
        }
        let lead = shape.len() - self.ndim();
        let mut strides = vec![0; shape.len()];
        for i in 0..self.ndim() {
            let (have, want) = (self.shape[i], shape[lead + i]);
            if have == want {
                strides[lead + i] = self.strides[i];
            } else if have == 1 {
                strides[lead + i] = 0;
            } else {
                return Err(Error::Shape(format!(
                    "{op}: cannot expand shape {:?} to {:?} (dimension {i}: {have} is not 1 and differs from {want})",
                    self.shape, shape
                )));
            }
        }
        Ok(Layout { shape: shape.to_vec(), strides, offset: self.offset })
    }

    pub fn permute(&self, perm: &[usize]) -> Layout {
        Layout {
            shape: perm.iter().map(|&p| self.shape[p]).collect(),
            strides: perm.iter().map(|&p| self.strides[p]).collect(),
            offset: self.offset,
        }
    }

    /// Elements `start..start+len` (every `step`-th) of dimension `dim`.
    pub fn narrow(&self, dim: usize, start: usize, len: usize, step: usize) -> Layout {
        let mut out = self.clone();
        out.offset += start * self.strides[dim];
        out.shape[dim] = len;
        out.strides[dim] *= step;
        out
    }

    /// Index `i` of dimension `dim`, which disappears.
    pub fn select(&self, dim: usize, i: usize) -> Layout {
        let mut out = self.clone();
        out.offset += i * self.strides[dim];
        out.shape.remove(dim);
        out.strides.remove(dim);
        out
    }

    /// A view with `shape` over the same elements, when the strides allow one without copying
    /// (always when contiguous; also when only size-1 dims are added or removed).
    pub fn reshape_view(&self, shape: &[usize]) -> Option<Layout> {
        if self.is_contiguous() {
            return Some(Layout { shape: shape.to_vec(), strides: contiguous_strides(shape), offset: self.offset });
        }
        // Non-contiguous: only handle insertion/removal of size-1 dims.
        let kept: Vec<(usize, usize)> =
            self.shape.iter().zip(&self.strides).filter(|(s, _)| **s != 1).map(|(s, t)| (*s, *t)).collect();
        let new_kept: Vec<usize> = shape.iter().copied().filter(|s| *s != 1).collect();
        if kept.len() != new_kept.len() || kept.iter().zip(&new_kept).any(|((a, _), b)| a != b) {
            return None;
        }
        let mut it = kept.iter();
        let strides = shape.iter().map(|&s| if s == 1 { 0 } else { it.next().unwrap().1 }).collect();
        Some(Layout { shape: shape.to_vec(), strides, offset: self.offset })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strides_and_contiguity() {
        let l = Layout::contiguous(&[2, 3, 4]);
        assert_eq!(l.strides, vec![12, 4, 1]);
        assert!(l.is_contiguous());
        let t = l.permute(&[0, 2, 1]);
        assert!(!t.is_contiguous());
        assert_eq!(t.shape, vec![2, 4, 3]);
        assert_eq!(l.span_end(), 24);
    }

    #[test]
    fn broadcasting_rules() {
        assert_eq!(broadcast_shapes("add", &[3, 1], &[4]).unwrap(), vec![3, 4]);
        assert_eq!(broadcast_shapes("add", &[], &[2, 2]).unwrap(), vec![2, 2]);
        assert!(broadcast_shapes("add", &[3], &[4]).is_err());
        let b = Layout::contiguous(&[3, 1]).broadcast_to("expand", &[2, 3, 5]).unwrap();
        assert_eq!(b.strides, vec![0, 1, 0]);
    }

    #[test]
    fn narrow_select_reshape() {
        let l = Layout::contiguous(&[4, 5]);
        let n = l.narrow(0, 1, 2, 1);
        assert_eq!((n.offset, n.shape.clone()), (5, vec![2, 5]));
        assert!(n.is_contiguous());
        let s = l.select(1, 2);
        assert_eq!((s.offset, s.shape.clone(), s.strides.clone()), (2, vec![4], vec![5]));
        assert!(l.permute(&[1, 0]).reshape_view(&[20]).is_none());
        assert_eq!(s.reshape_view(&[4, 1]).unwrap().strides, vec![5, 0]);
        assert_eq!(normalize_dim("sum", -1, 3).unwrap(), 2);
        assert!(Layout::contiguous(&[3, 0]).is_contiguous());
        assert!(normalize_dim("sum", 3, 3).is_err());
    }
}
