//! AdaDelta (Zeiler, 2012), as torch.optim.Adadelta documents it:
//!
//! ```text
//! g ← ∇f(θ)  (−∇f(θ) with maximize) ;  g ← g + λθ
//! v ← ρ·v + (1−ρ)·g²
//! Δ ← √(u + ε)/√(v + ε) · g
//! u ← ρ·u + (1−ρ)·Δ²
//! θ ← θ − γ·Δ
//! ```
//!
//! The paper has no learning rate (γ = 1, torch's default).

use super::{check_lengths, check_nonneg, check_unit, flush_subnormal, for_chunks};
use crate::error::Result;

/// Adadelta hyper-parameters (torch's names and defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct AdadeltaParams {
    /// Coefficient γ that scales Δ before it is applied.
    pub lr: f64,
    /// Decay rate ρ of both running averages.
    pub rho: f64,
    /// ε inside both roots.
    pub eps: f64,
    /// L2 penalty λ added to the gradient.
    pub weight_decay: f64,
    /// Ascend the objective instead of descending it.
    pub maximize: bool,
}

impl Default for AdadeltaParams {
    fn default() -> Self {
        AdadeltaParams { lr: 1.0, rho: 0.9, eps: 1e-6, weight_decay: 0.0, maximize: false }
    }
}

impl AdadeltaParams {
    pub fn validate(&self) -> Result<()> {
        check_nonneg("Adadelta", "learning rate lr", self.lr)?;
        check_unit("Adadelta", "rho", self.rho, true)?;
        check_nonneg("Adadelta", "epsilon eps", self.eps)?;
        check_nonneg("Adadelta", "weight_decay", self.weight_decay)
    }
}

/// One Adadelta step: `square_avg` is v, `acc_delta` is u.
pub fn adadelta_step(hp: &AdadeltaParams, param: &mut [f32], grad: &[f32], square_avg: &mut [f32], acc_delta: &mut [f32]) -> Result<()> {
    hp.validate()?;
    check_lengths("Adadelta", param.len(), grad.len(), &[("square_avg", square_avg.len()), ("acc_delta", acc_delta.len())])?;
    let (lr, rho, one_rho) = (hp.lr as f32, hp.rho as f32, (1.0 - hp.rho) as f32);
    let (eps, wd) = (hp.eps as f32, hp.weight_decay as f32);
    // maximize as a sign and weight decay as a coefficient keep the loop branch-free.
    let sign = if hp.maximize { -1.0f32 } else { 1.0 };
    let mut states: Vec<&mut [f32]> = vec![square_avg, acc_delta];
    for_chunks(param, grad, &mut states, |p, g, s| {
        let [v, u] = s else { unreachable!("two states") };
        for (((pi, &gi), vi), ui) in p.iter_mut().zip(g).zip(v.iter_mut()).zip(u.iter_mut()) {
            let gi = sign * gi + wd * *pi;
            *vi = flush_subnormal(rho * *vi + one_rho * gi * gi);
            let delta = (*ui + eps).sqrt() / (*vi + eps).sqrt() * gi;
            *ui = flush_subnormal(rho * *ui + one_rho * delta * delta);
            *pi -= lr * delta;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_step_by_hand() {
        let hp = AdadeltaParams { rho: 0.5, eps: 1e-2, ..Default::default() };
        let (mut p, mut v, mut u) = (vec![0.0f32], vec![0.0f32], vec![0.0f32]);
        adadelta_step(&hp, &mut p, &[1.0], &mut v, &mut u).unwrap();
        // v = 0.5; Δ = √0.01/√0.51; u = 0.5·Δ²
        let d = (0.01f32).sqrt() / (0.51f32).sqrt();
        assert!((v[0] - 0.5).abs() < 1e-7 && (p[0] + d).abs() < 1e-6 && (u[0] - 0.5 * d * d).abs() < 1e-7);
    }

    #[test]
    fn rho_out_of_range_is_an_error() {
        let hp = AdadeltaParams { rho: 1.5, ..Default::default() };
        let e = adadelta_step(&hp, &mut [0.0], &[1.0], &mut [0.0], &mut [0.0]).unwrap_err();
        assert!(e.to_string().contains("rho"), "{e}");
    }
}
