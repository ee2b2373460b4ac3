//! AdaGrad (Duchi et al., 2011), as torch.optim.Adagrad documents it:
//!
//! ```text
//! g ← ∇f(θ)  (−∇f(θ) with maximize)
//! γ̃ ← γ/(1 + (t−1)·η)          (lr_decay η)
//! g ← g + λθ
//! s ← s + g²                    (s starts at initial_accumulator_value)
//! θ ← θ − γ̃·g/(√s + ε)
//! ```
//!
//! The Adam paper writes AdaGrad as θ −= α·g/√(Σg² + ε); torch (and we) add ε after the root.

use super::{check_lengths, check_nonneg, for_chunks};
use crate::error::Result;

/// Adagrad hyper-parameters (torch's names and defaults).
#[derive(Clone, Debug, PartialEq)]
pub struct AdagradParams {
    /// Learning rate γ.
    pub lr: f64,
    /// Learning-rate decay η: step t uses γ/(1 + (t−1)η).
    pub lr_decay: f64,
    /// L2 penalty λ added to the gradient.
    pub weight_decay: f64,
    /// ε added to √s.
    pub eps: f64,
    /// Ascend the objective instead of descending it.
    pub maximize: bool,
}

impl Default for AdagradParams {
    fn default() -> Self {
        AdagradParams { lr: 1e-2, lr_decay: 0.0, weight_decay: 0.0, eps: 1e-10, maximize: false }
    }
}

impl AdagradParams {
    pub fn validate(&self) -> Result<()> {
        check_nonneg("Adagrad", "learning rate lr", self.lr)?;
        check_nonneg("Adagrad", "lr_decay", self.lr_decay)?;
        check_nonneg("Adagrad", "weight_decay", self.weight_decay)?;
        check_nonneg("Adagrad", "epsilon eps", self.eps)
    }
}

/// One Adagrad step; `step` is the 1-based step count t, `sum` the accumulated squares (filled
/// with initial_accumulator_value before the first step).
pub fn adagrad_step(hp: &AdagradParams, step: u64, param: &mut [f32], grad: &[f32], sum: &mut [f32]) -> Result<()> {
    hp.validate()?;
    if step == 0 {
        return Err(crate::value_err!("Adagrad", "step counts are 1-based, got 0"));
    }
    check_lengths("Adagrad", param.len(), grad.len(), &[("sum", sum.len())])?;
    let clr = (hp.lr / (1.0 + (step - 1) as f64 * hp.lr_decay)) as f32;
    let (eps, wd) = (hp.eps as f32, hp.weight_decay as f32);
    // maximize as a sign and weight decay as a coefficient keep the loop branch-free.
    let sign = if hp.maximize { -1.0f32 } else { 1.0 };
    let mut states: Vec<&mut [f32]> = vec![sum];
    for_chunks(param, grad, &mut states, |p, g, s| {
        let [s] = s else { unreachable!("one state") };
        for ((pi, &gi), si) in p.iter_mut().zip(g).zip(s.iter_mut()) {
            let gi = sign * gi + wd * *pi;
            *si += gi * gi;
            *pi -= clr * gi / (si.sqrt() + eps);
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accumulates_squares_and_decays_lr() {
        let hp = AdagradParams { lr: 1.0, lr_decay: 1.0, eps: 0.0, ..Default::default() };
        let (mut p, mut s) = (vec![0.0f32], vec![0.0f32]);
        adagrad_step(&hp, 1, &mut p, &[3.0], &mut s).unwrap();
        assert_eq!((p[0], s[0]), (-1.0, 9.0));
        adagrad_step(&hp, 2, &mut p, &[4.0], &mut s).unwrap();
        // γ̃ = 1/2; s = 25; Δ = 0.5·4/5
        assert!((p[0] + 1.4).abs() < 1e-6 && s[0] == 25.0, "{p:?} {s:?}");
    }

    #[test]
    fn errors() {
        let mut p = vec![0.0f32];
        assert!(adagrad_step(&AdagradParams { lr_decay: -0.1, ..Default::default() }, 1, &mut p, &[1.0], &mut [0.0]).is_err());
        assert!(adagrad_step(&AdagradParams::default(), 1, &mut p, &[1.0, 2.0], &mut [0.0]).is_err());
    }
}
