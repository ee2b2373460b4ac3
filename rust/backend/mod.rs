//! Kernels, per device. Ops in `ops/` call the device-neutral functions here; each looks at
//! its operands' device and calls that device's kernel: `cpu` (ndarray, rayon, gemm) or
//! `wgpu` (WGSL compute shaders). An operand on the GPU sends the call to the GPU; CPU 0-d
//! constants that ops mix in (`Tensor::scalar`) are uploaded there.

pub mod cpu;
pub mod wgpu;

/// Elementwise functions of one tensor (the GPU backend will map each to a WGSL kernel).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnaryOp {
    Neg,
    Exp,
    Log,
    Sqrt,
    Abs,
    Sign,
    Tanh,
    Sigmoid,
    Relu,
    LeakyRelu(f32),
    Clamp(f32, f32),
    /// 1 where lo <= x <= hi, else 0: the derivative of clamp.
    ClampMask(f32, f32),
    PowScalar(f32),
    AddScalar(f32),
    MulScalar(f32),
}

/// Elementwise functions of two broadcast tensors.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BinaryOp {
    Add,
    Sub,
    Mul,
    Div,
    Pow,
    Maximum,
    Minimum,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    /// The (leaky) ReLU backward in one pass: a · (1 where b > 0, else the slope), with a the
    /// incoming gradient and b the layer's input.
    ReluGradMul(f32),
    /// The sigmoid backward in one pass: a · b · (1 − b), b the sigmoid's output.
    SigmoidGradMul,
    /// The tanh backward in one pass: a · (1 − b²), b the tanh's output.
    TanhGradMul,
}

impl BinaryOp {
    pub fn name(&self) -> &'static str {
        match self {
            BinaryOp::Add => "add",
            BinaryOp::Sub => "sub",
            BinaryOp::Mul => "mul",
            BinaryOp::Div => "div",
            BinaryOp::Pow => "pow",
            BinaryOp::Maximum => "maximum",
            BinaryOp::Minimum => "minimum",
            BinaryOp::Eq => "eq",
            BinaryOp::Ne => "ne",
            BinaryOp::Lt => "lt",
            BinaryOp::Le => "le",
            BinaryOp::Gt => "gt",
            BinaryOp::Ge => "ge",
            BinaryOp::ReluGradMul(_) => "relu_grad_mul",
            BinaryOp::SigmoidGradMul => "sigmoid_grad_mul",
            BinaryOp::TanhGradMul => "tanh_grad_mul",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ReduceOp {
    Sum,
    Max,
    Min,
}

// ---- Device-neutral entry points used by `ops/`. Each reads the operands' storage and runs
// ---- the kernel of their device. All operands of one call are on one device (ops check).

use crate::error::Result;
use crate::tensor::{Device, Layout, Storage, Tensor};

fn on_gpu(ts: &[&Tensor]) -> bool {
    ts.iter().any(|t| t.device() == Device::Wgpu)
}

/// Runs `f` on both operands' CPU data, taking one read lock when they share storage (a second
/// read lock on the same RwLock from one thread can deadlock behind a waiting writer).
fn with2<R>(a: &Tensor, b: &Tensor, f: impl FnOnce(&[f32], &[f32]) -> R) -> R {
    let ga = a.storage().read();
    if a.storage().same_as(b.storage()) {
        f(&ga, &ga)
    } else {
        let gb = b.storage().read();
        f(&ga, &gb)
    }
}

fn new_tensor(data: Vec<f32>, shape: &[usize]) -> Result<Tensor> {
    Tensor::from_vec(data, shape)
}

pub fn unary(x: &Tensor, op: UnaryOp) -> Result<Tensor> {
    match x.storage() {
        Storage::Cpu(_) => new_tensor(cpu::elementwise::unary(&x.storage().read(), x.layout(), op), x.shape()),
        Storage::Gpu(_) => wgpu::elementwise::unary(x, op),
    }
}

pub fn binary(a: &Tensor, b: &Tensor, out_shape: &[usize], op: BinaryOp) -> Result<Tensor> {
    if on_gpu(&[a, b]) {
        return wgpu::elementwise::binary(a, b, out_shape, op);
    }
    let out = with2(a, b, |da, db| cpu::elementwise::binary(da, a.layout(), db, b.layout(), out_shape, op));
    new_tensor(out, out_shape)
}

pub fn where_(c: &Tensor, a: &Tensor, b: &Tensor, out_shape: &[usize]) -> Result<Tensor> {
    if on_gpu(&[c, a, b]) {
        return wgpu::elementwise::where_(c, a, b, out_shape);
    }
    let (dc, da, db) = (c.to_vec(), a.to_vec(), b.to_vec());
    let (lc, la, lb) = (Layout::contiguous(c.shape()), Layout::contiguous(a.shape()), Layout::contiguous(b.shape()));
    new_tensor(cpu::elementwise::where_(&dc, &lc, &da, &la, &db, &lb, out_shape), out_shape)
}

/// Reduces `dims` (sorted, unique); the result has the kept dims.
pub fn reduce(x: &Tensor, dims: &[usize], op: ReduceOp) -> Result<Tensor> {
    if on_gpu(&[x]) {
        return wgpu::reduce::reduce(x, dims, op);
    }
    let kept: Vec<usize> = (0..x.ndim()).filter(|d| !dims.contains(d)).map(|d| x.shape()[d]).collect();
    new_tensor(cpu::reduce::reduce(&x.storage().read(), x.layout(), dims, op), &kept)
}

pub fn arg_extreme(x: &Tensor, dim: usize, largest: bool) -> Result<Tensor> {
    if on_gpu(&[x]) {
        return wgpu::reduce::arg_extreme(x, dim, largest);
    }
    let mut kept = x.shape().to_vec();
    kept.remove(dim);
    new_tensor(cpu::reduce::arg_extreme(&x.storage().read(), x.layout(), dim, largest), &kept)
}

/// A row-major copy of `x` (its layout becomes contiguous).
pub fn contiguous(x: &Tensor) -> Result<Tensor> {
    if on_gpu(&[x]) {
        return wgpu::elementwise::contiguous(x);
    }
    new_tensor(x.to_vec(), x.shape())
}

/// Batched matmul over already-broadcast batch shapes: a is (batch.., m, k), b (batch.., k, n).
pub fn matmul(a: &Tensor, b: &Tensor, batch: &[usize], m: usize, k: usize, n: usize) -> Result<Tensor> {
    if on_gpu(&[a, b]) {
        return wgpu::matmul::matmul(a, b, batch, m, k, n);
    }
    let (la, lb) = (a.layout(), b.layout());
    let nb: usize = batch.iter().product();
    // Every element is overwritten by the product: a pooled buffer needs no zero fill.
    let mut out = crate::tensor::pool::take(nb * m * n);
    with2(a, b, |da, db| matmul_batches(da, la, db, lb, &mut out, batch, m, k, n));
    let mut shape = batch.to_vec();
    shape.extend_from_slice(&[m, n]);
    new_tensor(out, &shape)
}

/// x (rows, in) · wᵀ (w is (out, in)) + b, into a new tensor of `out_shape` (rows·out elements).
pub fn linear(x: &Tensor, w: &Tensor, b: Option<&Tensor>, out_shape: &[usize]) -> Result<Tensor> {
    if on_gpu(&[x, w]) {
        return wgpu::matmul::linear(x, w, b, out_shape);
    }
    let (rows, in_f, out_f) = (x.shape()[0], x.shape()[1], w.shape()[0]);
    let mut out = crate::tensor::pool::take(rows * out_f);
    // The output starts as the bias rows and the GEMM accumulates into it: no separate pass.
    let accumulate = match b {
        Some(b) => {
            let bv = b.to_vec();
            for row in out.chunks_mut(out_f.max(1)) {
                row.copy_from_slice(&bv);
            }
            true
        }
        None => false,
    };
    let (lx, lw) = (x.layout(), w.layout());
    with2(x, w, |dx, dw| {
        let xr = cpu::matmul::MatRef { data: dx, offset: lx.offset, rs: lx.strides[0], cs: lx.strides[1] };
        // wᵀ through its strides: element (i, j) of wᵀ is w[j, i].
        let wt = cpu::matmul::MatRef { data: dw, offset: lw.offset, rs: lw.strides[1], cs: lw.strides[0] };
        cpu::matmul::matmul_into_acc(&mut out, xr, wt, rows, in_f, out_f, accumulate);
    });
    new_tensor(out, out_shape)
}

#[allow(clippy::too_many_arguments)]
fn matmul_batches(da: &[f32], la: &Layout, db: &[f32], lb: &Layout, out: &mut [f32], batch: &[usize], m: usize, k: usize, n: usize) {
    let nb: usize = batch.iter().product();
    let nd = batch.len();
    let mut idx = vec![0usize; nd];
    for bi in 0..nb {
        // Offsets of this batch element in a and b (broadcast dims have stride 0).
        let (mut oa, mut ob) = (la.offset, lb.offset);
        for d in 0..nd {
            oa += idx[d] * la.strides[d];
            ob += idx[d] * lb.strides[d];
        }
        let ar = cpu::matmul::MatRef { data: da, offset: oa, rs: la.strides[nd], cs: la.strides[nd + 1] };
        let br = cpu::matmul::MatRef { data: db, offset: ob, rs: lb.strides[nd], cs: lb.strides[nd + 1] };
        cpu::matmul::matmul_into(&mut out[bi * m * n..(bi + 1) * m * n], ar, br, m, k, n);
        for d in (0..nd).rev() {
            idx[d] += 1;
            if idx[d] < batch[d] {
                break;
            }
            idx[d] = 0;
        }
    }
}

/// Concatenation along `dim` of tensors whose other dims agree.
pub fn cat(xs: &[Tensor], dim: usize, out_shape: &[usize]) -> Result<Tensor> {
    if xs.iter().any(|x| x.device() == Device::Wgpu) {
        let y = wgpu::elementwise::full(out_shape, 0.0)?;
        let full = Layout::contiguous(out_shape);
        let mut start = 0;
        for x in xs {
            let len = x.shape()[dim];
            wgpu::elementwise::assign(x, wgpu::buf(&y), &full.narrow(dim, start, len, 1))?;
            start += len;
        }
        return Ok(y);
    }
    let mut out = vec![0.0f32; out_shape.iter().product()];
    let full = Layout::contiguous(out_shape);
    let mut start = 0;
    for x in xs {
        let len = x.shape()[dim];
        cpu::strided::scatter(&mut out, &full.narrow(dim, start, len, 1), &x.to_vec());
        start += len;
    }
    new_tensor(out, out_shape)
}

/// Zeros of `shape` with `src` written into the view `at` (a narrow/select of that shape):
/// the gradient of a view op.
pub fn embed(src: &Tensor, shape: &[usize], at: &Layout) -> Result<Tensor> {
    if on_gpu(&[src]) {
        let y = wgpu::elementwise::full(shape, 0.0)?;
        wgpu::elementwise::assign(src, wgpu::buf(&y), at)?;
        return Ok(y);
    }
    let mut out = vec![0.0f32; shape.iter().product()];
    cpu::strided::scatter(&mut out, at, &src.to_vec());
    new_tensor(out, shape)
}

pub fn gather_rows(x: &Tensor, idx: &[usize]) -> Result<Tensor> {
    let row_len: usize = x.shape()[1..].iter().product();
    if on_gpu(&[x]) {
        return wgpu::index::gather_rows(x, idx, row_len);
    }
    let mut shape = x.shape().to_vec();
    shape[0] = idx.len();
    // Read in place (a copy of the whole source per batch when it is a large dataset tensor).
    let out = with_dense(x, |xd| cpu::index::gather_rows(xd, row_len, idx));
    new_tensor(out, &shape)
}

pub fn scatter_add_rows(rows: &Tensor, idx: &[usize], shape: &[usize]) -> Result<Tensor> {
    let row_len: usize = shape[1..].iter().product();
    if on_gpu(&[rows]) {
        return wgpu::index::scatter_add_rows(rows, idx, shape, row_len);
    }
    let mut out = vec![0.0f32; shape.iter().product()];
    cpu::index::scatter_add_rows(&mut out, row_len, idx, &rows.to_vec());
    new_tensor(out, shape)
}

/// Softmax (or log-softmax) over the last dim.
pub fn softmax_last(x: &Tensor, log: bool) -> Result<Tensor> {
    if on_gpu(&[x]) {
        return wgpu::softmax::softmax_last(x, log);
    }
    let cols = *x.shape().last().unwrap_or(&1);
    let out = with_dense(x, |xc| if log { cpu::softmax::log_softmax_rows(xc, cols) } else { cpu::softmax::softmax_rows(xc, cols) });
    new_tensor(out, x.shape())
}

/// Per-row cross-entropy (N) and softmax probabilities (N, C) of logits (N, C).
pub fn cross_entropy(logits: &Tensor, targets: &[Option<usize>], eps: f32) -> Result<(Tensor, Tensor)> {
    if on_gpu(&[logits]) {
        return wgpu::softmax::cross_entropy(logits, targets, eps);
    }
    let cols = logits.shape()[1];
    let (loss, probs) = with_dense(logits, |l| cpu::softmax::cross_entropy_rows(l, cols, targets, eps));
    Ok((new_tensor(loss, &[targets.len()])?, new_tensor(probs, logits.shape())?))
}

pub use cpu::conv::ConvGeom;
pub use cpu::pool::PoolGeom;

/// Runs `f` on a CPU tensor's elements in row-major order: the storage itself (no copy) when
/// the view is contiguous, a gathered copy otherwise.
fn with_dense<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> R) -> R {
    let data = t.storage().read();
    f(&row_major(&data, t.layout()))
}

/// A view's elements in row-major order: a slice of the storage when contiguous, a gathered copy
/// otherwise.
fn row_major<'a>(d: &'a [f32], l: &Layout) -> std::borrow::Cow<'a, [f32]> {
    if l.is_contiguous() {
        std::borrow::Cow::Borrowed(&d[l.offset..l.offset + l.numel()])
    } else {
        std::borrow::Cow::Owned(cpu::strided::gather(d, l))
    }
}

/// `with_dense` for two operands.
fn with_dense2<R>(a: &Tensor, b: &Tensor, f: impl FnOnce(&[f32], &[f32]) -> R) -> R {
    let (la, lb) = (a.layout(), b.layout());
    with2(a, b, |da, db| f(&row_major(da, la), &row_major(db, lb)))
}

pub fn conv2d(x: &Tensor, w: &Tensor, b: Option<&Tensor>, g: &ConvGeom) -> Result<Tensor> {
    if on_gpu(&[x, w]) {
        return wgpu::conv::forward(x, w, b, g);
    }
    let bc = b.map(|b| b.to_vec());
    let y = with_dense2(x, w, |xd, wd| cpu::conv::forward(xd, wd, bc.as_deref(), g));
    new_tensor(y, &[g.n, g.o, g.oh, g.ow])
}

pub fn conv2d_backward_input(dy: &Tensor, w: &Tensor, g: &ConvGeom) -> Result<Tensor> {
    if on_gpu(&[dy, w]) {
        return wgpu::conv::backward_input(dy, w, g);
    }
    new_tensor(with_dense2(dy, w, |d, wd| cpu::conv::backward_input(d, wd, g)), &[g.n, g.c, g.h, g.w])
}

pub fn conv2d_backward_weight(dy: &Tensor, x: &Tensor, g: &ConvGeom) -> Result<Tensor> {
    if on_gpu(&[dy, x]) {
        return wgpu::conv::backward_weight(dy, x, g);
    }
    new_tensor(with_dense2(dy, x, |d, xd| cpu::conv::backward_weight(d, xd, g)), &[g.o, g.c, g.kh, g.kw])
}

/// Where max pooling's winners are (flat index in their plane), kept on the device that pooled.
pub enum PoolIndex {
    Cpu(Vec<u32>),
    /// u32 bit patterns in an f32 tensor of the output's shape.
    Gpu(Tensor),
}

/// Max pooling: the pooled tensor and, per output, the winner's flat index in its plane.
pub fn max_pool2d(x: &Tensor, g: &PoolGeom, out_shape: &[usize]) -> Result<(Tensor, PoolIndex)> {
    if on_gpu(&[x]) {
        let (y, idx) = wgpu::pool::max_forward(x, g, out_shape)?;
        return Ok((y, PoolIndex::Gpu(idx)));
    }
    let (y, idx) = with_dense(x, |xd| cpu::pool::max_forward(xd, g));
    Ok((new_tensor(y, out_shape)?, PoolIndex::Cpu(idx)))
}

pub fn max_pool2d_backward(dy: &Tensor, idx: &PoolIndex, g: &PoolGeom, in_shape: &[usize]) -> Result<Tensor> {
    match idx {
        PoolIndex::Gpu(i) => wgpu::pool::max_backward(dy, i, g, in_shape),
        PoolIndex::Cpu(i) => new_tensor(with_dense(dy, |d| cpu::pool::max_backward(d, i, g)), in_shape),
    }
}

pub fn avg_pool2d(x: &Tensor, g: &PoolGeom, include_pad: bool, out_shape: &[usize]) -> Result<Tensor> {
    if on_gpu(&[x]) {
        return wgpu::pool::avg_forward(x, g, include_pad, out_shape);
    }
    new_tensor(with_dense(x, |xd| cpu::pool::avg_forward(xd, g, include_pad)), out_shape)
}

pub fn avg_pool2d_backward(dy: &Tensor, g: &PoolGeom, include_pad: bool, in_shape: &[usize]) -> Result<Tensor> {
    if on_gpu(&[dy]) {
        return wgpu::pool::avg_backward(dy, g, include_pad, in_shape);
    }
    new_tensor(with_dense(dy, |d| cpu::pool::avg_backward(d, g, include_pad)), in_shape)
}

/// A dropout mask: 1/(1−p) where a uniform draw is ≥ p, else 0, from the global generator.
pub fn dropout_mask(shape: &[usize], p: f32, device: Device) -> Result<Tensor> {
    if device == Device::Wgpu {
        return wgpu::random::dropout_mask(shape, p);
    }
    let n: usize = shape.iter().product();
    let mut m = vec![0.0f32; n];
    let keep = 1.0 / (1.0 - p);
    crate::random::fill_with(&mut m, crate::random::next_key(), move |r| {
        if rand::Rng::random::<f32>(r) >= p {
            keep
        } else {
            0.0
        }
    });
    new_tensor(m, shape)
}

// ---- Batch normalization: fused kernels, CPU only. `Tensor::batch_norm` sends GPU tensors
// ---- down its composed tensor-op path (which the wgpu kernels run) and never calls these.

pub use cpu::batchnorm::BnStats;

fn cpu_only(name: &str, ts: &[&Tensor]) -> Result<()> {
    if on_gpu(ts) {
        return Err(crate::error::Error::Runtime(format!(
            "internal error: {name} is a CPU kernel but was handed a 'wgpu' tensor; please report this"
        )));
    }
    Ok(())
}

/// x (N, C, *) seen as the (N, C, S) of the batch-norm kernels, S the product of the rest.
fn bn_geom(x: &Tensor) -> cpu::batchnorm::BnGeom {
    let s = x.shape();
    cpu::batchnorm::BnGeom { n: s[0], c: s[1], s: s[2..].iter().product() }
}

/// `t` itself when contiguous, else a contiguous copy.
fn dense(t: &Tensor) -> Result<Tensor> {
    if t.is_contiguous() {
        Ok(t.clone())
    } else {
        contiguous(t)
    }
}

/// The row-major elements of a contiguous `t` within its storage data `d`.
fn elems<'a>(t: &Tensor, d: &'a [f32]) -> &'a [f32] {
    let o = t.layout().offset;
    &d[o..o + t.numel()]
}

/// Training-mode batch norm of x (N, C, *) in one kernel: y = (x − μ)/√(σ²+ε)·w + b with the
/// batch mean μ and biased variance σ² per channel (weight, bias: (C) or None), and those
/// statistics (f64) for the backward and the running averages.
pub fn batch_norm_train(x: &Tensor, w: Option<&Tensor>, b: Option<&Tensor>, eps: f32) -> Result<(Tensor, BnStats)> {
    bn_forward("batch_norm_train", x, w, b, |xs, g, wv, bv| cpu::batchnorm::forward_train(xs, g, wv, bv, eps))
}

/// The gradients of `batch_norm_train` for the output gradient dy: (dx like x, dw (C), db (C)),
/// given the forward's batch mean and 1/√(σ²+ε) per channel.
pub fn batch_norm_train_backward(dy: &Tensor, x: &Tensor, mean: &[f64], invstd: &[f64], w: Option<&Tensor>) -> Result<(Tensor, Tensor, Tensor)> {
    bn_backward("batch_norm_train_backward", dy, x, w, |d, xs, g, wv| cpu::batchnorm::backward_train(d, xs, g, mean, invstd, wv))
}

/// Eval-mode batch norm of x (N, C, *) with given per-channel statistics (C): one affine pass,
/// y = (x − mean)/√(var+ε)·w + b. Also returns 1/√(var+ε) for the backward.
pub fn batch_norm_eval(x: &Tensor, mean: &[f32], var: &[f32], w: Option<&Tensor>, b: Option<&Tensor>, eps: f32) -> Result<(Tensor, Vec<f64>)> {
    bn_forward("batch_norm_eval", x, w, b, |xs, g, wv, bv| cpu::batchnorm::forward_eval(xs, g, mean, var, wv, bv, eps))
}

/// The gradients of `batch_norm_eval` (statistics held constant): (dx, dw (C), db (C)).
pub fn batch_norm_eval_backward(dy: &Tensor, x: &Tensor, mean: &[f32], invstd: &[f64], w: Option<&Tensor>) -> Result<(Tensor, Tensor, Tensor)> {
    bn_backward("batch_norm_eval_backward", dy, x, w, |d, xs, g, wv| cpu::batchnorm::backward_eval(d, xs, g, mean, invstd, wv))
}

type BnKernelOut<S> = (Vec<f32>, S);

/// The shared frame of the batch-norm forwards: CPU operands, x densified, the kernel run on
/// its elements with the weight and bias as slices; y shaped like x, and the kernel's extra.
fn bn_forward<S>(
    op: &str,
    x: &Tensor,
    w: Option<&Tensor>,
    b: Option<&Tensor>,
    kernel: impl FnOnce(&[f32], &cpu::batchnorm::BnGeom, Option<&[f32]>, Option<&[f32]>) -> BnKernelOut<S>,
) -> Result<(Tensor, S)> {
    let mut all = vec![x];
    all.extend(w);
    all.extend(b);
    cpu_only(op, &all)?;
    let g = bn_geom(x);
    let (wv, bv) = (w.map(|t| t.to_vec()), b.map(|t| t.to_vec()));
    let x = dense(x)?;
    let (y, extra) = {
        let d = x.storage().read();
        kernel(elems(&x, &d), &g, wv.as_deref(), bv.as_deref())
    };
    Ok((new_tensor(y, x.shape())?, extra))
}

/// The shared frame of the batch-norm backwards: (dx like x, dw (C), db (C)) from the kernel.
fn bn_backward(
    op: &str,
    dy: &Tensor,
    x: &Tensor,
    w: Option<&Tensor>,
    kernel: impl FnOnce(&[f32], &[f32], &cpu::batchnorm::BnGeom, Option<&[f32]>) -> (Vec<f32>, Vec<f32>, Vec<f32>),
) -> Result<(Tensor, Tensor, Tensor)> {
    let mut all = vec![dy, x];
    all.extend(w);
    cpu_only(op, &all)?;
    let g = bn_geom(x);
    let wv = w.map(|t| t.to_vec());
    let (dy, x) = (dense(dy)?, dense(x)?);
    let (dx, dw, db) = with2(&dy, &x, |dd, xd| kernel(elems(&dy, dd), elems(&x, xd), &g, wv.as_deref()));
    Ok((new_tensor(dx, x.shape())?, new_tensor(dw, &[g.c])?, new_tensor(db, &[g.c])?))
}
