//! Adam (Kingma & Ba, 2015), AdamW (Loshchilov & Hutter: decoupled weight decay) and AMSGrad
//! (Reddi et al.), as torch.optim.Adam / AdamW document them:
//!
//! ```text
//! g ← ∇f(θ)            (−∇f(θ) with maximize)
//! Adam:  g ← g + λθ    AdamW: θ ← θ − γλθ
//! m ← β1·m + (1−β1)·g ;  v ← β2·v + (1−β2)·g²
//! m̂ ← m/(1−β1^t)
//! AMSGrad: v_max ← max(v_max, v) ; v̂ ← v_max/(1−β2^t)    else v̂ ← v/(1−β2^t)
//! θ ← θ − γ·m̂/(√v̂ + ε)
//! ```
//!
//! ε is added to √v̂ after bias correction (torch and the paper's Algorithm 1 agree; the
//! paper's faster "efficient version" moves ε inside the correction, which torch does not).
//! AMSGrad takes the maximum of the *uncorrected* v and corrects after it, as torch's code and
//! its corrected documentation do.

use super::{check_lengths, check_nonneg, check_unit, flush_subnormal, for_chunks};
use crate::error::Result;
use multiversion::multiversion;

/// Adam / AdamW hyper-parameters (torch's names and defaults for Adam).
#[derive(Clone, Debug, PartialEq)]
pub struct AdamParams {
    /// Learning rate γ (α in the paper).
    pub lr: f64,
    /// Decay rate β1 of the first-moment average.
    pub beta1: f64,
    /// Decay rate β2 of the second-moment average.
    pub beta2: f64,
    /// ε added to the denominator √v̂.
    pub eps: f64,
    /// Weight decay λ: an L2 term in the gradient (Adam) or a decay of θ itself (AdamW).
    pub weight_decay: f64,
    /// Use the running maximum of v (AMSGrad).
    pub amsgrad: bool,
    /// Ascend the objective instead of descending it.
    pub maximize: bool,
    /// AdamW: decay the weights directly (θ ← θ − γλθ) instead of adding λθ to the gradient.
    pub decoupled_weight_decay: bool,
}

impl Default for AdamParams {
    fn default() -> Self {
        AdamParams {
            lr: 1e-3,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            amsgrad: false,
            maximize: false,
            decoupled_weight_decay: false,
        }
    }
}

impl AdamParams {
    pub fn validate(&self) -> Result<()> {
        let op = if self.decoupled_weight_decay { "AdamW" } else { "Adam" };
        check_nonneg(op, "learning rate lr", self.lr)?;
        check_nonneg(op, "epsilon eps", self.eps)?;
        check_unit(op, "beta parameter at index 0 (betas[0])", self.beta1, false)?;
        check_unit(op, "beta parameter at index 1 (betas[1])", self.beta2, false)?;
        check_nonneg(op, "weight_decay", self.weight_decay)
    }
}

/// One Adam/AdamW step over a parameter slice; `step` is the 1-based step count t of this
/// parameter. `max_exp_avg_sq` is required with `amsgrad` and ignored without it.
pub fn adam_step(
    hp: &AdamParams,
    step: u64,
    param: &mut [f32],
    grad: &[f32],
    exp_avg: &mut [f32],
    exp_avg_sq: &mut [f32],
    max_exp_avg_sq: Option<&mut [f32]>,
) -> Result<()> {
    hp.validate()?;
    let op = if hp.decoupled_weight_decay { "AdamW" } else { "Adam" };
    if step == 0 {
        return Err(crate::value_err!(op, "step counts are 1-based, got 0"));
    }
    let n = param.len();
    let mut lens = vec![("exp_avg", exp_avg.len()), ("exp_avg_sq", exp_avg_sq.len())];
    let vmax = if hp.amsgrad {
        let v = max_exp_avg_sq.ok_or_else(|| crate::value_err!(op, "amsgrad=True needs a max_exp_avg_sq buffer"))?;
        lens.push(("max_exp_avg_sq", v.len()));
        Some(v)
    } else {
        None
    };
    check_lengths(op, n, grad.len(), &lens)?;
    // Scalars in double precision, as torch computes them from Python floats.
    let t = step.min(i32::MAX as u64) as i32;
    let bc1 = 1.0 - hp.beta1.powi(t);
    let bc2_sqrt = (1.0 - hp.beta2.powi(t)).sqrt();
    let step_size = (hp.lr / bc1) as f32;
    let inv_bc2_sqrt = (1.0 / bc2_sqrt) as f32;
    let (b1, b2) = (hp.beta1 as f32, hp.beta2 as f32);
    let (one_b1, one_b2) = ((1.0 - hp.beta1) as f32, (1.0 - hp.beta2) as f32);
    let eps = hp.eps as f32;
    // Branch-free inner loops (so they vectorise): maximize is a sign, and exactly one of the
    // two weight-decay forms has a non-zero coefficient. The decoupled form is θ − (γλ)·θ
    // rather than θ·(1 − γλ): 1 − γλ rounds to float32 with a relative error comparable to
    // γλ's own effect, which would accumulate over steps.
    let sign = if hp.maximize { -1.0f32 } else { 1.0 };
    let (l2, lr_wd) = if hp.decoupled_weight_decay {
        (0.0f32, (hp.lr * hp.weight_decay) as f32)
    } else {
        (hp.weight_decay as f32, 0.0f32)
    };
    let mut states: Vec<&mut [f32]> = vec![exp_avg, exp_avg_sq];
    if let Some(v) = vmax {
        states.push(v);
    }
    let k = AdamConsts { sign, l2, lr_wd, b1, b2, one_b1, one_b2, step_size, inv_bc2_sqrt, eps };
    for_chunks(param, grad, &mut states, |p, g, s| match s {
        [m, v] => adam_loop(p, g, m, v, k),
        [m, v, vm] => amsgrad_loop(p, g, m, v, vm, k),
        _ => unreachable!("two or three states"),
    });
    Ok(())
}

/// The per-step constants of the update (folded in double precision by `adam_step`).
#[derive(Clone, Copy)]
struct AdamConsts {
    sign: f32,
    l2: f32,
    lr_wd: f32,
    b1: f32,
    b2: f32,
    one_b1: f32,
    one_b2: f32,
    step_size: f32,
    inv_bc2_sqrt: f32,
    eps: f32,
}

/// Weight decay and the two moment updates for one element.
#[inline(always)]
fn moments(k: &AdamConsts, pi: &mut f32, gi: f32, mi: &mut f32, vi: &mut f32) {
    let gi = k.sign * gi + k.l2 * *pi;
    *pi -= k.lr_wd * *pi;
    *mi = flush_subnormal(k.b1 * *mi + k.one_b1 * gi);
    *vi = flush_subnormal(k.b2 * *vi + k.one_b2 * gi * gi);
}

// The loops run in AVX2 / AVX-512 clones where the CPU has them (the wheel targets baseline
// x86-64): the square root and division make the update compute-bound in SSE2. The same IEEE
// operations in any width, so every clone gives the same bits.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx512bw", "x86_64+avx2+fma"))]
fn adam_loop(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], k: AdamConsts) {
    for (((pi, &gi), mi), vi) in p.iter_mut().zip(g.iter()).zip(m.iter_mut()).zip(v.iter_mut()) {
        moments(&k, pi, gi, mi, vi);
        *pi -= k.step_size * *mi / (vi.sqrt() * k.inv_bc2_sqrt + k.eps);
    }
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx512bw", "x86_64+avx2+fma"))]
fn amsgrad_loop(p: &mut [f32], g: &[f32], m: &mut [f32], v: &mut [f32], vm: &mut [f32], k: AdamConsts) {
    let it = p.iter_mut().zip(g.iter()).zip(m.iter_mut()).zip(v.iter_mut()).zip(vm.iter_mut());
    for ((((pi, &gi), mi), vi), vmi) in it {
        moments(&k, pi, gi, mi, vi);
        *vmi = vmi.max(*vi);
        *pi -= k.step_size * *mi / (vmi.sqrt() * k.inv_bc2_sqrt + k.eps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_is_lr_sign_g() {
        let hp = AdamParams { lr: 0.01, ..Default::default() };
        let g = [3.0f32, -0.02, 1e-3];
        let mut p = vec![0.0f32; 3];
        let (mut m, mut v) = (vec![0.0f32; 3], vec![0.0f32; 3]);
        adam_step(&hp, 1, &mut p, &g, &mut m, &mut v, None).unwrap();
        for (pi, gi) in p.iter().zip(g) {
            assert!((pi + 0.01 * gi.signum()).abs() < 1e-4 * 0.01 + 1e-8, "{pi} for g={gi}");
        }
    }

    #[test]
    fn matches_a_double_precision_reference() {
        for (amsgrad, decoupled, wd) in [(false, false, 0.0), (true, false, 0.1), (false, true, 0.1), (true, true, 0.01)] {
            let hp = AdamParams { lr: 0.01, weight_decay: wd, amsgrad, decoupled_weight_decay: decoupled, ..Default::default() };
            let n = 5;
            let mut p = vec![0.5f32; n];
            let (mut m, mut v, mut vm) = (vec![0.0f32; n], vec![0.0f32; n], vec![0.0f32; n]);
            let mut rp = vec![0.5f64; n];
            let (mut rm, mut rv, mut rvm) = (vec![0.0f64; n], vec![0.0f64; n], vec![0.0f64; n]);
            for t in 1..=50u64 {
                let g: Vec<f32> = (0..n).map(|i| ((t as f32) * 1.3 + i as f32).sin() * (1.0 + i as f32)).collect();
                adam_step(&hp, t, &mut p, &g, &mut m, &mut v, if amsgrad { Some(&mut vm) } else { None }).unwrap();
                for i in 0..n {
                    let mut gi = g[i] as f64;
                    if decoupled {
                        rp[i] *= 1.0 - hp.lr * wd;
                    } else {
                        gi += wd * rp[i];
                    }
                    rm[i] = 0.9 * rm[i] + 0.1 * gi;
                    rv[i] = 0.999 * rv[i] + 0.001 * gi * gi;
                    rvm[i] = rvm[i].max(rv[i]);
                    let vv = if amsgrad { rvm[i] } else { rv[i] };
                    let vhat = vv / (1.0 - 0.999f64.powi(t as i32));
                    let mhat = rm[i] / (1.0 - 0.9f64.powi(t as i32));
                    rp[i] -= hp.lr * mhat / (vhat.sqrt() + 1e-8);
                }
            }
            for i in 0..n {
                assert!((p[i] as f64 - rp[i]).abs() < 1e-5 * rp[i].abs().max(1.0), "{amsgrad} {decoupled}: {} vs {}", p[i], rp[i]);
            }
        }
    }

    #[test]
    fn errors_name_the_bad_value() {
        let mut p = vec![0.0f32; 2];
        let (mut m, mut v) = (vec![0.0f32; 2], vec![0.0f32; 2]);
        let bad = AdamParams { beta2: 1.0, ..Default::default() };
        let e = adam_step(&bad, 1, &mut p, &[1.0; 2], &mut m, &mut v, None).unwrap_err();
        assert!(e.to_string().contains("betas[1]"), "{e}");
        let ams = AdamParams { amsgrad: true, ..Default::default() };
        assert!(adam_step(&ams, 1, &mut p, &[1.0; 2], &mut m, &mut v, None).is_err());
        assert!(adam_step(&AdamParams::default(), 0, &mut p, &[1.0; 2], &mut m, &mut v, None).is_err());
        assert!(adam_step(&AdamParams::default(), 1, &mut p, &[1.0; 2], &mut m, &mut [0.0; 1], None).is_err());
        assert_eq!(p, vec![0.0; 2]);
    }
}
