//! 2-D max and average pooling over (N·C) planes, in parallel across planes.

use rayon::prelude::*;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolGeom {
    pub planes: usize,
    pub h: usize,
    pub w: usize,
    pub kh: usize,
    pub kw: usize,
    pub sh: usize,
    pub sw: usize,
    pub ph: usize,
    pub pw: usize,
    pub dh: usize,
    pub dw: usize,
    pub oh: usize,
    pub ow: usize,
}

/// Max over each window (padding counts as -inf); also the flat index (in its plane) of the
/// winner, which the backward pass routes the gradient to. NaN wins, as in torch.
pub fn max_forward(x: &[f32], g: &PoolGeom) -> (Vec<f32>, Vec<u32>) {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    let mut y = vec![0.0f32; g.planes * ohw];
    let mut idx = vec![0u32; g.planes * ohw];
    y.par_chunks_mut(ohw).zip(idx.par_chunks_mut(ohw)).enumerate().for_each(|(p, (yp, ip))| {
        let plane = &x[p * hw..(p + 1) * hw];
        for oi in 0..g.oh {
            for oj in 0..g.ow {
                let mut best = f32::NEG_INFINITY;
                let mut at = u32::MAX;
                for ki in 0..g.kh {
                    let i = (oi * g.sh + ki * g.dh) as isize - g.ph as isize;
                    if i < 0 || i as usize >= g.h {
                        continue;
                    }
                    for kj in 0..g.kw {
                        let j = (oj * g.sw + kj * g.dw) as isize - g.pw as isize;
                        if j < 0 || j as usize >= g.w {
                            continue;
                        }
                        let pos = i as usize * g.w + j as usize;
                        let v = plane[pos];
                        if at == u32::MAX || v > best || (v.is_nan() && !best.is_nan()) {
                            best = v;
                            at = pos as u32;
                        }
                    }
                }
                yp[oi * g.ow + oj] = best;
                ip[oi * g.ow + oj] = at;
            }
        }
    });
    (y, idx)
}

/// Routes each output gradient to its window's winner.
pub fn max_backward(dy: &[f32], idx: &[u32], g: &PoolGeom) -> Vec<f32> {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    let mut dx = crate::tensor::pool::zeroed(g.planes * hw);
    dx.par_chunks_mut(hw).enumerate().for_each(|(p, dp)| {
        for o in 0..ohw {
            let at = idx[p * ohw + o];
            if at != u32::MAX {
                dp[at as usize] += dy[p * ohw + o];
            }
        }
    });
    dx
}

/// Each window's divisor: the full window (count_include_pad) or only its in-bounds cells.
fn window_count(g: &PoolGeom, oi: usize, oj: usize, include_pad: bool) -> f32 {
    if include_pad {
        // torch counts padding cells but not cells beyond the padding.
        let hi = (oi * g.sh + (g.kh - 1) * g.dh + 1).min(g.h + 2 * g.ph) - oi * g.sh;
        let wi = (oj * g.sw + (g.kw - 1) * g.dw + 1).min(g.w + 2 * g.pw) - oj * g.sw;
        return (hi.div_ceil(g.dh) * wi.div_ceil(g.dw)) as f32;
    }
    let mut c = 0;
    for ki in 0..g.kh {
        let i = (oi * g.sh + ki * g.dh) as isize - g.ph as isize;
        for kj in 0..g.kw {
            let j = (oj * g.sw + kj * g.dw) as isize - g.pw as isize;
            if i >= 0 && (i as usize) < g.h && j >= 0 && (j as usize) < g.w {
                c += 1;
            }
        }
    }
    c.max(1) as f32
}

fn for_window(g: &PoolGeom, oi: usize, oj: usize, mut f: impl FnMut(usize)) {
    for ki in 0..g.kh {
        let i = (oi * g.sh + ki * g.dh) as isize - g.ph as isize;
        if i < 0 || i as usize >= g.h {
            continue;
        }
        for kj in 0..g.kw {
            let j = (oj * g.sw + kj * g.dw) as isize - g.pw as isize;
            if j >= 0 && (j as usize) < g.w {
                f(i as usize * g.w + j as usize);
            }
        }
    }
}

pub fn avg_forward(x: &[f32], g: &PoolGeom, include_pad: bool) -> Vec<f32> {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    let mut y = vec![0.0f32; g.planes * ohw];
    y.par_chunks_mut(ohw).enumerate().for_each(|(p, yp)| {
        let plane = &x[p * hw..(p + 1) * hw];
        for oi in 0..g.oh {
            for oj in 0..g.ow {
                let mut s = 0.0f32;
                for_window(g, oi, oj, |pos| s += plane[pos]);
                yp[oi * g.ow + oj] = s / window_count(g, oi, oj, include_pad);
            }
        }
    });
    y
}

pub fn avg_backward(dy: &[f32], g: &PoolGeom, include_pad: bool) -> Vec<f32> {
    let (hw, ohw) = (g.h * g.w, g.oh * g.ow);
    let mut dx = crate::tensor::pool::zeroed(g.planes * hw);
    dx.par_chunks_mut(hw).enumerate().for_each(|(p, dp)| {
        for oi in 0..g.oh {
            for oj in 0..g.ow {
                let share = dy[p * ohw + oi * g.ow + oj] / window_count(g, oi, oj, include_pad);
                for_window(g, oi, oj, |pos| dp[pos] += share);
            }
        }
    });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_and_avg_2x2() {
        let g = PoolGeom { planes: 1, h: 2, w: 4, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, dh: 1, dw: 1, oh: 1, ow: 2 };
        let x = [1.0, 5.0, 2.0, 0.0, 3.0, 4.0, 8.0, 1.0];
        let (y, idx) = max_forward(&x, &g);
        assert_eq!((y, idx.clone()), (vec![5.0, 8.0], vec![1, 6]));
        assert_eq!(max_backward(&[1.0, 2.0], &idx, &g), vec![0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 2.0, 0.0]);
        assert_eq!(avg_forward(&x, &g, true), vec![3.25, 2.75]);
        assert_eq!(avg_backward(&[4.0, 8.0], &g, true), vec![1.0, 1.0, 2.0, 2.0, 1.0, 1.0, 2.0, 2.0]);
    }
}
