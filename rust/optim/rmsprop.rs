//! RMSprop (Tieleman & Hinton, 2012), as torch.optim.RMSprop documents it:
//!
//! ```text
//! g ← ∇f(θ)  (−∇f(θ) with maximize) ;  g ← g + λθ
//! v ← α·v + (1−α)·g²
//! centered: g_avg ← α·g_avg + (1−α)·g ;  ṽ ← v − g_avg²     else ṽ ← v
//! momentum μ > 0: b ← μ·b + g/(√ṽ + ε) ; θ ← θ − γ·b
//! else            θ ← θ − γ·g/(√ṽ + ε)
//! ```
//!
//! One deviation: in the centered variant, a ṽ made slightly negative by float rounding (a
//! nearly constant gradient) is taken as 0, where torch would produce NaN.

use super::{check_lengths, check_nonneg, flush_subnormal, for_chunks};
use crate::error::{Error, Result};

/// RMSprop hyper-parameters (torch's names and defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct RmsPropParams {
    /// Learning rate γ.
    pub lr: f64,
    /// Smoothing constant α of the squared-gradient average.
    pub alpha: f64,
    /// ε added to the root.
    pub eps: f64,
    /// L2 penalty λ added to the gradient.
    pub weight_decay: f64,
    /// Momentum factor μ (0: no momentum buffer).
    pub momentum: f64,
    /// Normalise by an estimate of the variance (v − g_avg²) instead of the raw second moment.
    pub centered: bool,
    /// Ascend the objective instead of descending it.
    pub maximize: bool,
}

impl Default for RmsPropParams {
    fn default() -> Self {
        RmsPropParams { lr: 1e-2, alpha: 0.99, eps: 1e-8, weight_decay: 0.0, momentum: 0.0, centered: false, maximize: false }
    }
}

impl RmsPropParams {
    pub fn validate(&self) -> Result<()> {
        check_nonneg("RMSprop", "learning rate lr", self.lr)?;
        check_nonneg("RMSprop", "epsilon eps", self.eps)?;
        check_nonneg("RMSprop", "momentum", self.momentum)?;
        check_nonneg("RMSprop", "weight_decay", self.weight_decay)?;
        check_nonneg("RMSprop", "alpha", self.alpha)
    }
}

/// One RMSprop step. `momentum_buffer` is required when momentum > 0, `grad_avg` when centered;
/// each is ignored otherwise.
pub fn rmsprop_step(
    hp: &RmsPropParams,
    param: &mut [f32],
    grad: &[f32],
    square_avg: &mut [f32],
    momentum_buffer: Option<&mut [f32]>,
    grad_avg: Option<&mut [f32]>,
) -> Result<()> {
    hp.validate()?;
    let mut lens = vec![("square_avg", square_avg.len())];
    let mut states: Vec<&mut [f32]> = vec![square_avg];
    let use_momentum = hp.momentum > 0.0;
    if use_momentum {
        let b = momentum_buffer.ok_or_else(|| Error::Value(format!("RMSprop: momentum={} needs a momentum_buffer", hp.momentum)))?;
        lens.push(("momentum_buffer", b.len()));
        states.push(b);
    }
    if hp.centered {
        let a = grad_avg.ok_or_else(|| Error::Value("RMSprop: centered=True needs a grad_avg buffer".into()))?;
        lens.push(("grad_avg", a.len()));
        states.push(a);
    }
    check_lengths("RMSprop", param.len(), grad.len(), &lens)?;
    let (lr, alpha, one_alpha) = (hp.lr as f32, hp.alpha as f32, (1.0 - hp.alpha) as f32);
    let (eps, wd, mu) = (hp.eps as f32, hp.weight_decay as f32, hp.momentum as f32);
    // maximize as a sign, weight decay as a coefficient, and one specialised loop per variant
    // keep the inner loops branch-free.
    let sign = if hp.maximize { -1.0f32 } else { 1.0 };
    let k = Consts { lr, alpha, one_alpha, eps, wd, mu, sign };
    for_chunks(param, grad, &mut states, |p, g, s| match s {
        [v] => rms_loop::<false, false>(&k, p, g, v, &mut [], &mut []),
        [v, b] if use_momentum => rms_loop::<true, false>(&k, p, g, v, b, &mut []),
        [v, a] => rms_loop::<false, true>(&k, p, g, v, &mut [], a),
        [v, b, a] => rms_loop::<true, true>(&k, p, g, v, b, a),
        _ => unreachable!("one to three states"),
    });
    Ok(())
}

struct Consts {
    lr: f32,
    alpha: f32,
    one_alpha: f32,
    eps: f32,
    wd: f32,
    mu: f32,
    sign: f32,
}

/// The RMSprop update, specialised on momentum and centering (an unused buffer is empty).
#[inline(always)]
fn rms_loop<const MOMENTUM: bool, const CENTERED: bool>(k: &Consts, p: &mut [f32], g: &[f32], v: &mut [f32], b: &mut [f32], a: &mut [f32]) {
    // Equal lengths up front (checked by the caller) let the compiler drop bounds checks.
    let n = p.len();
    let (g, v) = (&g[..n], &mut v[..n]);
    let b = if MOMENTUM { &mut b[..n] } else { b };
    let a = if CENTERED { &mut a[..n] } else { a };
    for i in 0..n {
        let gi = k.sign * g[i] + k.wd * p[i];
        v[i] = flush_subnormal(k.alpha * v[i] + k.one_alpha * gi * gi);
        let var = if CENTERED {
            a[i] = flush_subnormal(k.alpha * a[i] + k.one_alpha * gi);
            (v[i] - a[i] * a[i]).max(0.0)
        } else {
            v[i]
        };
        let avg = var.sqrt() + k.eps;
        if MOMENTUM {
            b[i] = flush_subnormal(k.mu * b[i] + gi / avg);
            p[i] -= k.lr * b[i];
        } else {
            p[i] -= k.lr * gi / avg;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_centered_and_momentum() {
        let hp = RmsPropParams { lr: 0.1, alpha: 0.5, eps: 0.0, ..Default::default() };
        let (mut p, mut v) = (vec![0.0f32], vec![0.0f32]);
        rmsprop_step(&hp, &mut p, &[2.0], &mut v, None, None).unwrap();
        // v = 0.5·4 = 2; θ = −0.1·2/√2
        assert!((v[0] - 2.0).abs() < 1e-6 && (p[0] + 0.1 * 2.0 / 2f32.sqrt()).abs() < 1e-6);

        let hp = RmsPropParams { centered: true, momentum: 0.9, ..hp };
        let (mut p, mut v, mut b, mut a) = (vec![0.0f32], vec![0.0f32], vec![0.0f32], vec![0.0f32]);
        rmsprop_step(&hp, &mut p, &[2.0], &mut v, Some(&mut b), Some(&mut a)).unwrap();
        // v = 2, g_avg = 1, ṽ = 1; b = 2; θ = −0.2
        assert!((a[0] - 1.0).abs() < 1e-6 && (b[0] - 2.0).abs() < 1e-6 && (p[0] + 0.2).abs() < 1e-6, "{p:?} {b:?}");
    }

    #[test]
    fn missing_buffers_are_errors() {
        let hp = RmsPropParams { centered: true, ..Default::default() };
        assert!(rmsprop_step(&hp, &mut [0.0], &[1.0], &mut [0.0], None, None).is_err());
        let hp = RmsPropParams { momentum: 0.5, ..Default::default() };
        assert!(rmsprop_step(&hp, &mut [0.0], &[1.0], &mut [0.0], None, None).is_err());
    }
}
