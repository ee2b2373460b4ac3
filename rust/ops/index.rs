//! Indexing: `select` (t[i]), `narrow` / `slice` (t[a:b:step]) — views — and `index_select`
//! on the first dim (t[idx], a copy whose gradient scatter-adds).

use crate::autograd::record;
use crate::backend;
use crate::error::{Error, Result};
use crate::tensor::{normalize_dim, Layout, Tensor};

impl Tensor {
    /// Index `index` (negative counts from the end) of `dim`, which disappears.
    pub fn select(&self, dim: isize, index: isize) -> Result<Tensor> {
        if self.ndim() == 0 {
            return Err(Error::Value("select: cannot index a 0-d tensor".into()));
        }
        let d = normalize_dim("select", dim, self.ndim())?;
        let size = self.shape()[d] as isize;
        if index < -size || index >= size {
            return Err(Error::Index(format!("index {index} is out of bounds for dimension {d} with size {size}")));
        }
        let i = if index < 0 { index + size } else { index } as usize;
        let out = self.view_with(self.layout().select(d, i), None);
        let shape = self.shape().to_vec();
        Ok(record("SelectBackward", &[self], out, move |g| {
            Ok(vec![Some(backend::embed(g, &shape, &Layout::contiguous(&shape).select(d, i))?)])
        }))
    }

    /// Elements start..start+len of `dim` (a view).
    pub fn narrow(&self, dim: isize, start: isize, len: usize) -> Result<Tensor> {
        self.slice(dim, start, start + len as isize, 1)
    }

    /// Python-style slice start:stop:step of `dim` (bounds clipped as Python does; step > 0).
    pub fn slice(&self, dim: isize, start: isize, stop: isize, step: usize) -> Result<Tensor> {
        if self.ndim() == 0 {
            return Err(Error::Value("slice: cannot slice a 0-d tensor".into()));
        }
        if step == 0 {
            return Err(Error::Value("slice: step must be positive, got 0".into()));
        }
        let d = normalize_dim("slice", dim, self.ndim())?;
        let size = self.shape()[d] as isize;
        let clip = |v: isize| if v < 0 { (v + size).max(0) } else { v.min(size) };
        let (s, e) = (clip(start), clip(stop));
        let len = if e > s { ((e - s) as usize).div_ceil(step) } else { 0 };
        let l = self.layout().narrow(d, s as usize, len, step);
        let out = self.view_with(l, None);
        let shape = self.shape().to_vec();
        let s = s as usize;
        Ok(record("SliceBackward", &[self], out, move |g| {
            Ok(vec![Some(backend::embed(g, &shape, &Layout::contiguous(&shape).narrow(d, s, len, step))?)])
        }))
    }

    /// Rows `idx` of the first dim (negative indices count from the end), copied.
    pub fn index_select0(&self, idx: &[i64]) -> Result<Tensor> {
        if self.ndim() == 0 {
            return Err(Error::Value("index: cannot index a 0-d tensor with an array".into()));
        }
        let n = self.shape()[0] as i64;
        let mut rows = Vec::with_capacity(idx.len());
        for &i in idx {
            if i < -n || i >= n {
                return Err(Error::Index(format!("index {i} is out of bounds for dimension 0 with size {n}")));
            }
            rows.push(if i < 0 { i + n } else { i } as usize);
        }
        let out = backend::gather_rows(self, &rows)?;
        let shape = self.shape().to_vec();
        Ok(record("IndexBackward", &[self], out, move |g| Ok(vec![Some(backend::scatter_add_rows(g, &rows, &shape)?)])))
    }
}
