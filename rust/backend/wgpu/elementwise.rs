//! Elementwise kernels on strided views (kernels/elementwise.wgsl): unary and broadcast binary
//! maps, `where`, strided copies and fills. Views are read in place, never copied first.

use super::queue::{self, dispatch, grid, Kernel};
use super::{buf, on_gpu, tensor};
use crate::backend::{BinaryOp, UnaryOp};
use crate::error::{Error, Result};
use crate::tensor::{Layout, Tensor};

const SRC: &str = include_str!("kernels/elementwise.wgsl");
const MAX_DIMS: usize = 8;

fn kernel(entry: &'static str) -> Kernel<'static> {
    Kernel { key: entry, source: SRC, entry }
}

/// Merges neighbouring dims that every operand walks as one (so rank rarely exceeds 8).
fn coalesce(shape: &[usize], strides: &mut [Vec<usize>]) -> Vec<usize> {
    let mut out_shape: Vec<usize> = Vec::new();
    let mut out_strides: Vec<Vec<usize>> = vec![Vec::new(); strides.len()];
    for d in 0..shape.len() {
        if shape[d] == 1 {
            continue;
        }
        let merge = !out_shape.is_empty() && strides.iter().zip(&out_strides).all(|(s, o)| o[o.len() - 1] == s[d] * shape[d]);
        if merge {
            let last = out_shape.len() - 1;
            out_shape[last] *= shape[d];
            for (o, s) in out_strides.iter_mut().zip(strides.iter()) {
                let l = o.len() - 1;
                o[l] = s[d];
            }
        } else {
            out_shape.push(shape[d]);
            for (o, s) in out_strides.iter_mut().zip(strides.iter()) {
                o.push(s[d]);
            }
        }
    }
    for (s, o) in strides.iter_mut().zip(out_strides) {
        *s = o;
    }
    out_shape
}

/// The parameter block of elementwise.wgsl for `shape` and the operands' (offset, strides).
fn params(shape: &[usize], op: u32, s0: f32, s1: f32, operands: &[(usize, Vec<usize>)]) -> Result<Vec<u32>> {
    let n: usize = shape.iter().product();
    let mut strides: Vec<Vec<usize>> = operands.iter().map(|(_, s)| s.clone()).collect();
    let dims = coalesce(shape, &mut strides);
    if dims.len() > MAX_DIMS {
        return Err(Error::Runtime(format!(
            "wgpu: elementwise kernels take views of at most {MAX_DIMS} non-mergeable dims, got shape {shape:?}; call .contiguous() first"
        )));
    }
    let contiguous = {
        let want = crate::tensor::contiguous_strides(&dims);
        strides.iter().all(|s| *s == want)
    };
    let mut p = vec![0u32; 16 + 9 * operands.len()];
    p[0] = n as u32;
    p[1] = dims.len() as u32;
    p[2] = op;
    p[3] = s0.to_bits();
    p[4] = s1.to_bits();
    p[5] = contiguous as u32;
    for (d, s) in dims.iter().enumerate() {
        p[8 + d] = *s as u32;
    }
    for (k, ((off, _), st)) in operands.iter().zip(&strides).enumerate() {
        p[16 + 9 * k] = *off as u32;
        for (d, s) in st.iter().enumerate() {
            p[17 + 9 * k + d] = *s as u32;
        }
    }
    Ok(p)
}

/// (offset, strides) of `t` read as `shape` (broadcast dims get stride 0).
fn operand(t: &Tensor, shape: &[usize]) -> (usize, Vec<usize>) {
    let l = t.layout();
    let lead = shape.len() - l.ndim();
    let mut strides = vec![0usize; shape.len()];
    for d in 0..l.ndim() {
        strides[lead + d] = if l.shape[d] == 1 { 0 } else { l.strides[d] };
    }
    (l.offset, strides)
}

fn dense_operand(shape: &[usize]) -> (usize, Vec<usize>) {
    (0, crate::tensor::contiguous_strides(shape))
}

fn unary_code(op: UnaryOp) -> (u32, f32, f32) {
    match op {
        UnaryOp::Neg => (0, 0.0, 0.0),
        UnaryOp::Exp => (1, 0.0, 0.0),
        UnaryOp::Log => (2, 0.0, 0.0),
        UnaryOp::Sqrt => (3, 0.0, 0.0),
        UnaryOp::Abs => (4, 0.0, 0.0),
        UnaryOp::Sign => (5, 0.0, 0.0),
        UnaryOp::Tanh => (6, 0.0, 0.0),
        UnaryOp::Sigmoid => (7, 0.0, 0.0),
        UnaryOp::Relu => (8, 0.0, 0.0),
        UnaryOp::LeakyRelu(s) => (9, s, 0.0),
        UnaryOp::Clamp(lo, hi) => (11, lo, hi),
        UnaryOp::ClampMask(lo, hi) => (12, lo, hi),
        UnaryOp::PowScalar(e) => (13, e, 0.0),
        UnaryOp::AddScalar(c) => (14, c, 0.0),
        UnaryOp::MulScalar(c) => (15, c, 0.0),
    }
}

/// The kernel's op code and scalar for a binary op.
fn binary_code(op: BinaryOp) -> (u32, f32) {
    let code = match op {
        BinaryOp::ReluGradMul(s) => return (13, s),
        BinaryOp::SigmoidGradMul => 14,
        BinaryOp::TanhGradMul => 15,
        BinaryOp::Add => 0,
        BinaryOp::Sub => 1,
        BinaryOp::Mul => 2,
        BinaryOp::Div => 3,
        BinaryOp::Pow => 4,
        BinaryOp::Maximum => 5,
        BinaryOp::Minimum => 6,
        BinaryOp::Eq => 7,
        BinaryOp::Ne => 8,
        BinaryOp::Lt => 9,
        BinaryOp::Le => 10,
        BinaryOp::Gt => 11,
        BinaryOp::Ge => 12,
    };
    (code, 0.0)
}

pub fn unary(x: &Tensor, op: UnaryOp) -> Result<Tensor> {
    let shape = x.shape().to_vec();
    let n = x.numel();
    let y = queue::alloc(n)?;
    let (code, s0, s1) = unary_code(op);
    let p = params(&shape, code, s0, s1, &[operand(x, &shape), dense_operand(&shape)])?;
    dispatch(&kernel("unary"), &p, &[(1, buf(x)), (4, &y.buf)], grid(n))?;
    Ok(tensor(y, &shape))
}

pub fn binary(a: &Tensor, b: &Tensor, out_shape: &[usize], op: BinaryOp) -> Result<Tensor> {
    let (a, b) = (on_gpu(a)?, on_gpu(b)?);
    let n: usize = out_shape.iter().product();
    let y = queue::alloc(n)?;
    let (code, s0) = binary_code(op);
    let p = params(out_shape, code, s0, 0.0, &[operand(&a, out_shape), operand(&b, out_shape), dense_operand(out_shape)])?;
    dispatch(&kernel("binary"), &p, &[(1, buf(&a)), (2, buf(&b)), (4, &y.buf)], grid(n))?;
    Ok(tensor(y, out_shape))
}

pub fn where_(c: &Tensor, a: &Tensor, b: &Tensor, out_shape: &[usize]) -> Result<Tensor> {
    let (c, a, b) = (on_gpu(c)?, on_gpu(a)?, on_gpu(b)?);
    let n: usize = out_shape.iter().product();
    let y = queue::alloc(n)?;
    let ops = [operand(&c, out_shape), operand(&a, out_shape), operand(&b, out_shape), dense_operand(out_shape)];
    let p = params(out_shape, 0, 0.0, 0.0, &ops)?;
    dispatch(&kernel("where3"), &p, &[(1, buf(&a)), (2, buf(&b)), (3, buf(&c)), (4, &y.buf)], grid(n))?;
    Ok(tensor(y, out_shape))
}

/// Writes `src` (read through its layout, broadcast to `dst`'s shape) into the view `dst` of
/// the buffer `dst_buf`.
pub fn assign(src: &Tensor, dst_buf: &wgpu::Buffer, dst: &Layout) -> Result<()> {
    let src = on_gpu(src)?;
    let n = dst.numel();
    let p = params(&dst.shape, 0, 0.0, 0.0, &[operand(&src, &dst.shape), (dst.offset, dst.strides.clone())])?;
    dispatch(&kernel("assign"), &p, &[(1, buf(&src)), (4, dst_buf)], grid(n))
}

/// Sets every element of the view `dst` of `dst_buf` to `v`.
pub fn fill(dst_buf: &wgpu::Buffer, dst: &Layout, v: f32) -> Result<()> {
    let p = params(&dst.shape, 0, v, 0.0, &[(dst.offset, dst.strides.clone())])?;
    dispatch(&kernel("fill"), &p, &[(4, dst_buf)], grid(dst.numel()))
}

/// A row-major copy of `x` at offset 0.
pub fn contiguous(x: &Tensor) -> Result<Tensor> {
    let x = on_gpu(x)?;
    let y = queue::alloc(x.numel())?;
    assign(&x, &y.buf, &Layout::contiguous(x.shape()))?;
    Ok(tensor(y, x.shape()))
}

/// A new tensor of `shape` filled with `v`.
pub fn full(shape: &[usize], v: f32) -> Result<Tensor> {
    let n: usize = shape.iter().product();
    if v == 0.0 && v.is_sign_positive() {
        return Ok(tensor(queue::zeros(n)?, shape));
    }
    let y = queue::alloc(n)?;
    fill(&y.buf, &Layout::contiguous(shape), v)?;
    Ok(tensor(y, shape))
}
