//! AdaMax (Kingma & Ba, 2015, §7.1): Adam with the infinity norm, as torch.optim.Adamax
//! documents it:
//!
//! ```text
//! g ← ∇f(θ)  (−∇f(θ) with maximize) ;  g ← g + λθ
//! m ← β1·m + (1−β1)·g
//! u ← max(β2·u, |g| + ε)
//! θ ← θ − γ·m/((1−β1^t)·u)
//! ```
//!
//! The paper has no ε (u ← max(β2·u, |g|)); torch adds ε inside the max so that u is never 0.

use super::{check_lengths, check_nonneg, check_unit, flush_subnormal, for_chunks};
use crate::error::Result;

/// Adamax hyper-parameters (torch's names and defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct AdamaxParams {
    /// Learning rate γ (α; the paper's default 0.002).
    pub lr: f64,
    /// Decay rate β1 of the first-moment average.
    pub beta1: f64,
    /// Decay rate β2 of the exponentially weighted infinity norm.
    pub beta2: f64,
    /// ε added to |g| inside the max.
    pub eps: f64,
    /// L2 penalty λ added to the gradient.
    pub weight_decay: f64,
    /// Ascend the objective instead of descending it.
    pub maximize: bool,
}

impl Default for AdamaxParams {
    fn default() -> Self {
        AdamaxParams { lr: 2e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay: 0.0, maximize: false }
    }
}

impl AdamaxParams {
    pub fn validate(&self) -> Result<()> {
        check_nonneg("Adamax", "learning rate lr", self.lr)?;
        check_nonneg("Adamax", "epsilon eps", self.eps)?;
        check_unit("Adamax", "beta parameter at index 0 (betas[0])", self.beta1, false)?;
        check_unit("Adamax", "beta parameter at index 1 (betas[1])", self.beta2, false)?;
        check_nonneg("Adamax", "weight_decay", self.weight_decay)
    }
}

/// One Adamax step over a parameter slice; `step` is the 1-based step count t.
pub fn adamax_step(hp: &AdamaxParams, step: u64, param: &mut [f32], grad: &[f32], exp_avg: &mut [f32], exp_inf: &mut [f32]) -> Result<()> {
    hp.validate()?;
    if step == 0 {
        return Err(crate::value_err!("Adamax", "step counts are 1-based, got 0"));
    }
    check_lengths("Adamax", param.len(), grad.len(), &[("exp_avg", exp_avg.len()), ("exp_inf", exp_inf.len())])?;
    let t = step.min(i32::MAX as u64) as i32;
    let clr = (hp.lr / (1.0 - hp.beta1.powi(t))) as f32;
    let (b1, one_b1, b2) = (hp.beta1 as f32, (1.0 - hp.beta1) as f32, hp.beta2 as f32);
    let (eps, wd) = (hp.eps as f32, hp.weight_decay as f32);
    // maximize as a sign and weight decay as a coefficient keep the loop branch-free.
    let sign = if hp.maximize { -1.0f32 } else { 1.0 };
    let mut states: Vec<&mut [f32]> = vec![exp_avg, exp_inf];
    for_chunks(param, grad, &mut states, |p, g, s| {
        let [m, u] = s else { unreachable!("two states") };
        for (((pi, &gi), mi), ui) in p.iter_mut().zip(g).zip(m.iter_mut()).zip(u.iter_mut()) {
            let gi = sign * gi + wd * *pi;
            *mi = flush_subnormal(b1 * *mi + one_b1 * gi);
            *ui = (b2 * *ui).max(gi.abs() + eps);
            *pi -= clr * *mi / *ui;
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_bounded_by_lr() {
        let hp = AdamaxParams::default();
        let n = 64;
        let mut p = vec![0.0f32; n];
        let (mut m, mut u) = (vec![0.0f32; n], vec![0.0f32; n]);
        let mut biggest = 0.0f32;
        for t in 1..=300u64 {
            let g: Vec<f32> = (0..n).map(|i| ((t * 31 + i as u64 * 7) as f32).sin() * 10f32.powi((i % 5) as i32 - 2)).collect();
            let before = p.clone();
            adamax_step(&hp, t, &mut p, &g, &mut m, &mut u).unwrap();
            for (a, b) in p.iter().zip(&before) {
                biggest = biggest.max((a - b).abs());
            }
        }
        assert!(biggest <= 2e-3 * 1.001, "{biggest}");
        assert!(biggest > 1.9e-3, "{biggest}");
    }

    #[test]
    fn first_step_and_infinity_norm() {
        let hp = AdamaxParams { lr: 0.1, eps: 0.0, ..Default::default() };
        let (mut p, mut m, mut u) = (vec![1.0f32], vec![0.0f32], vec![0.0f32]);
        adamax_step(&hp, 1, &mut p, &[-4.0], &mut m, &mut u).unwrap();
        assert_eq!(u[0], 4.0);
        assert!((p[0] - 1.1).abs() < 1e-6, "{}", p[0]);
        adamax_step(&hp, 2, &mut p, &[1.0], &mut m, &mut u).unwrap();
        assert!((u[0] - 4.0 * 0.999).abs() < 1e-6);
    }

    #[test]
    fn bad_values_are_errors() {
        let mut p = vec![0.0f32];
        let bad = AdamaxParams { eps: -1.0, ..Default::default() };
        assert!(adamax_step(&bad, 1, &mut p, &[1.0], &mut [0.0], &mut [0.0]).is_err());
        assert!(adamax_step(&AdamaxParams::default(), 1, &mut p, &[1.0], &mut [0.0], &mut []).is_err());
    }
}
