//! Conv2d as im2col + GEMM (kernels/conv.wgsl, matmul.rs), forward and both gradients.
//!
//! forward:      y_n (O, L)   = W (O, CK) · cols_nᵀ            (+ bias per row)
//! input grad:   dcols_n (L, CK) = dy_nᵀ · W, then col2im
//! weight grad:  dW (O, CK)   = dy as (O, N·L) · cols as (N·L, CK)
//! with L = OH·OW output positions and CK = C·KH·KW; transposes are strides, not copies.

use super::matmul::{gemm, Bias, Mat};
use super::queue::{self, dispatch, grid, Kernel};
use super::{buf, dense, tensor, u};
use crate::backend::ConvGeom;
use crate::error::Result;
use crate::tensor::{Layout, Tensor};

const SRC: &str = include_str!("kernels/conv.wgsl");

fn geom(g: &ConvGeom) -> Vec<u32> {
    [g.n, g.c, g.h, g.w, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.oh, g.ow].iter().map(|&v| u(v)).collect()
}

fn im2col(x: &Tensor, g: &ConvGeom) -> Result<queue::GpuBuffer> {
    let xd = dense(x)?;
    let n = g.n * g.l() * g.k();
    let cols = queue::alloc(n)?;
    // The column table packs the kernel offsets in 16 bits each (any real kernel fits).
    if g.kh * g.dh < 1 << 16 && g.kw * g.dw < 1 << 16 {
        let kk = g.kh * g.kw;
        let table: Vec<f32> = (0..g.k())
            .flat_map(|col| {
                let (ch, ki, kj) = (col / kk, (col % kk) / g.kw, col % g.kw);
                [u(ch * g.h * g.w), u(((ki * g.dh) << 16) | (kj * g.dw))]
            })
            .map(f32::from_bits)
            .collect();
        let t = queue::upload(&table)?;
        let k = Kernel { key: "im2col_table", source: SRC, entry: "im2col_table" };
        dispatch(&k, &geom(g), &[(1, buf(&xd)), (2, &t.buf), (4, &cols.buf)], grid(n))?;
    } else {
        dispatch(&Kernel { key: "im2col", source: SRC, entry: "im2col" }, &geom(g), &[(1, buf(&xd)), (4, &cols.buf)], grid(n))?;
    }
    Ok(cols)
}

pub fn forward(x: &Tensor, w: &Tensor, b: Option<&Tensor>, g: &ConvGeom) -> Result<Tensor> {
    let cols = im2col(x, g)?;
    let wd = dense(w)?;
    let (l, ck) = (g.l(), g.k());
    let y = queue::alloc(g.n * g.o * l)?;
    let bias = match b {
        Some(b) => Some(dense(b)?),
        None => None,
    };
    let a = Mat { off: 0, rs: ck, cs: 1, bs: 0 };
    let bm = Mat { off: 0, rs: 1, cs: ck, bs: l * ck };
    let c = Mat { off: 0, rs: l, cs: 1, bs: g.o * l };
    gemm(buf(&wd), a, &cols.buf, bm, &y.buf, c, g.n, g.o, ck, l, bias.as_ref().map(|t| (buf(t), Bias::PerRow)))?;
    Ok(tensor(y, &[g.n, g.o, g.oh, g.ow]))
}

pub fn backward_input(dy: &Tensor, w: &Tensor, g: &ConvGeom) -> Result<Tensor> {
    let (dyd, wd) = (dense(dy)?, dense(w)?);
    let (l, ck) = (g.l(), g.k());
    let dcols = queue::alloc(g.n * l * ck)?;
    let a = Mat { off: 0, rs: 1, cs: l, bs: g.o * l };
    let bm = Mat { off: 0, rs: ck, cs: 1, bs: 0 };
    let c = Mat { off: 0, rs: ck, cs: 1, bs: l * ck };
    gemm(buf(&dyd), a, buf(&wd), bm, &dcols.buf, c, g.n, l, g.o, ck, None)?;
    let n = g.n * g.c * g.h * g.w;
    let dx = queue::alloc(n)?;
    dispatch(&Kernel { key: "col2im", source: SRC, entry: "col2im" }, &geom(g), &[(1, &dcols.buf), (4, &dx.buf)], grid(n))?;
    Ok(tensor(dx, &[g.n, g.c, g.h, g.w]))
}

pub fn backward_weight(dy: &Tensor, x: &Tensor, g: &ConvGeom) -> Result<Tensor> {
    let cols = im2col(x, g)?;
    let (l, ck) = (g.l(), g.k());
    // dy (N, O, L) laid out as (O, N, L): one GEMM sums over images and positions at once.
    let dyg = super::on_gpu(dy)?;
    let dl = dyg.layout();
    let permuted = Layout {
        shape: vec![g.o, g.n, l],
        strides: vec![dl.strides[1], dl.strides[0], dl.strides[3]],
        offset: dl.offset,
    };
    // Positions (oh, ow) merge into one dim only for a dense (…, OH, OW) tail; otherwise copy.
    let dyp = if dl.strides[2] == dl.strides[3] * g.ow {
        dense(&dyg.view_with(permuted, None))?
    } else {
        let c = dense(&dyg)?;
        dense(&c.view_with(Layout { shape: vec![g.o, g.n, l], strides: vec![l, g.o * l, 1], offset: 0 }, None))?
    };
    let dw = queue::alloc(g.o * ck)?;
    let a = Mat { off: 0, rs: g.n * l, cs: 1, bs: 0 };
    let bm = Mat { off: 0, rs: ck, cs: 1, bs: 0 };
    let c = Mat { off: 0, rs: ck, cs: 1, bs: 0 };
    gemm(buf(&dyp), a, &cols.buf, bm, &dw.buf, c, 1, g.o, g.n * l, ck, None)?;
    Ok(tensor(dw, &[g.o, g.c, g.kh, g.kw]))
}
