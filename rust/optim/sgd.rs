//! Stochastic gradient descent with optional (Nesterov) momentum, dampening and L2 weight decay,
//! as torch.optim.SGD documents it:
//!
//! ```text
//! g ← ∇f(θ)            (−∇f(θ) with maximize)
//! g ← g + λθ           (weight_decay λ)
//! b ← g on the first step, else μ·b + (1−τ)·g      (momentum μ, dampening τ)
//! g ← g + μ·b (nesterov) or g ← b
//! θ ← θ − γ·g
//! ```
//!
//! torch's pseudo-code writes `maximize` as `θ ← θ + γ·g` at the end, but its implementation
//! negates the gradient first (so weight decay still shrinks the weights); we do as the
//! implementation does. Both agree whenever weight_decay is 0.

use super::{check_lengths, check_nonneg, flush_subnormal, for_chunks};
use crate::error::{Error, Result};

/// SGD hyper-parameters (torch's names and defaults; `lr` defaults to torch's 1e-3).
#[derive(Clone, Debug, PartialEq)]
pub struct SgdParams {
    /// Learning rate γ.
    pub lr: f64,
    /// Momentum factor μ (0 disables momentum and its buffer).
    pub momentum: f64,
    /// Dampening τ of the gradient added to the momentum buffer.
    pub dampening: f64,
    /// L2 penalty λ added to the gradient.
    pub weight_decay: f64,
    /// Nesterov momentum (needs momentum > 0 and dampening = 0).
    pub nesterov: bool,
    /// Ascend the objective instead of descending it.
    pub maximize: bool,
}

impl Default for SgdParams {
    fn default() -> Self {
        SgdParams { lr: 1e-3, momentum: 0.0, dampening: 0.0, weight_decay: 0.0, nesterov: false, maximize: false }
    }
}

impl SgdParams {
    pub fn validate(&self) -> Result<()> {
        check_nonneg("SGD", "learning rate lr", self.lr)?;
        check_nonneg("SGD", "momentum", self.momentum)?;
        check_nonneg("SGD", "weight_decay", self.weight_decay)?;
        if !self.dampening.is_finite() {
            return Err(Error::Value(format!("SGD: invalid dampening: {}", self.dampening)));
        }
        if self.nesterov && (self.momentum <= 0.0 || self.dampening != 0.0) {
            return Err(Error::Value(format!(
                "SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum={} dampening={}",
                self.momentum, self.dampening
            )));
        }
        Ok(())
    }
}

/// One SGD step over a parameter slice. `first` says the momentum buffer is fresh (it is then
/// set to the gradient, as torch does, instead of decayed). `momentum_buffer` is required when
/// momentum ≠ 0 and ignored otherwise.
pub fn sgd_step(hp: &SgdParams, first: bool, param: &mut [f32], grad: &[f32], momentum_buffer: Option<&mut [f32]>) -> Result<()> {
    hp.validate()?;
    let n = param.len();
    let use_momentum = hp.momentum != 0.0;
    let mut states: Vec<&mut [f32]> = Vec::new();
    match momentum_buffer {
        Some(b) if use_momentum => {
            check_lengths("SGD", n, grad.len(), &[("momentum_buffer", b.len())])?;
            states.push(b);
        }
        None if use_momentum => {
            return Err(Error::Value(format!("SGD: momentum={} needs a momentum_buffer", hp.momentum)));
        }
        _ => check_lengths("SGD", n, grad.len(), &[])?,
    }
    let lr = hp.lr as f32;
    let mu = hp.momentum as f32;
    let damp = (1.0 - hp.dampening) as f32;
    // Branch-free inner loops (so they vectorise): maximize is a sign, weight decay a
    // coefficient that may be 0, and the momentum variants are separate loops.
    let sign = if hp.maximize { -1.0f32 } else { 1.0 };
    let wd = hp.weight_decay as f32;
    let nesterov = hp.nesterov;
    for_chunks(param, grad, &mut states, |p, g, s| match s {
        [] => {
            for (pi, &gi) in p.iter_mut().zip(g) {
                *pi -= lr * (sign * gi + wd * *pi);
            }
        }
        [b] => match (first, nesterov) {
            (true, false) => momentum_loop::<true, false>(p, g, b, lr, mu, damp, sign, wd),
            (true, true) => momentum_loop::<true, true>(p, g, b, lr, mu, damp, sign, wd),
            (false, false) => momentum_loop::<false, false>(p, g, b, lr, mu, damp, sign, wd),
            (false, true) => momentum_loop::<false, true>(p, g, b, lr, mu, damp, sign, wd),
        },
        _ => unreachable!("at most one state buffer"),
    });
    Ok(())
}

/// The momentum update, specialised on whether the buffer is fresh and on Nesterov.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn momentum_loop<const FIRST: bool, const NESTEROV: bool>(
    p: &mut [f32],
    g: &[f32],
    b: &mut [f32],
    lr: f32,
    mu: f32,
    damp: f32,
    sign: f32,
    wd: f32,
) {
    for ((pi, &gi), bi) in p.iter_mut().zip(g).zip(b.iter_mut()) {
        let d = sign * gi + wd * *pi;
        *bi = if FIRST { d } else { flush_subnormal(mu * *bi + damp * d) };
        let d = if NESTEROV { d + mu * *bi } else { *bi };
        *pi -= lr * d;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_step_is_lr_times_gradient() {
        let hp = SgdParams { lr: 0.1, ..Default::default() };
        let mut p = vec![1.0f32, 2.0];
        sgd_step(&hp, true, &mut p, &[1.0, -2.0], None).unwrap();
        assert_eq!(p, vec![0.9, 2.2]);
    }

    #[test]
    fn momentum_buffer_starts_at_gradient_then_accumulates() {
        let hp = SgdParams { lr: 1.0, momentum: 0.5, dampening: 0.5, ..Default::default() };
        let (mut p, mut b) = (vec![0.0f32], vec![123.0f32]);
        sgd_step(&hp, true, &mut p, &[2.0], Some(&mut b)).unwrap();
        assert_eq!((p[0], b[0]), (-2.0, 2.0)); // fresh buffer: b = g, dampening not applied
        sgd_step(&hp, false, &mut p, &[2.0], Some(&mut b)).unwrap();
        assert_eq!((p[0], b[0]), (-4.0, 2.0)); // b = 0.5·2 + 0.5·2
    }

    #[test]
    fn nesterov_and_weight_decay() {
        let hp = SgdParams { lr: 0.1, momentum: 0.9, weight_decay: 0.5, nesterov: true, ..Default::default() };
        let (mut p, mut b) = (vec![2.0f32], vec![0.0f32]);
        sgd_step(&hp, true, &mut p, &[1.0], Some(&mut b)).unwrap();
        // g = 1 + 0.5·2 = 2; b = 2; d = 2 + 0.9·2 = 3.8; θ = 2 − 0.38
        assert!((b[0] - 2.0).abs() < 1e-6 && (p[0] - 1.62).abs() < 1e-6, "{p:?} {b:?}");
    }

    #[test]
    fn maximize_ascends() {
        let hp = SgdParams { lr: 0.1, maximize: true, ..Default::default() };
        let mut p = vec![0.0f32];
        sgd_step(&hp, true, &mut p, &[1.0], None).unwrap();
        assert!((p[0] - 0.1).abs() < 1e-7);
    }

    #[test]
    fn bad_values_are_errors_not_panics() {
        let mut p = vec![0.0f32; 2];
        let e = sgd_step(&SgdParams { lr: -1.0, ..Default::default() }, true, &mut p, &[0.0; 2], None).unwrap_err();
        assert!(e.to_string().contains("-1"), "{e}");
        let hp = SgdParams { momentum: 0.9, nesterov: true, dampening: 0.1, ..Default::default() };
        assert!(sgd_step(&hp, true, &mut p, &[0.0; 2], Some(&mut [0.0; 2])).is_err());
        let hp = SgdParams { momentum: 0.9, ..Default::default() };
        assert!(sgd_step(&hp, true, &mut p, &[0.0; 2], None).is_err());
        assert!(sgd_step(&hp, true, &mut p, &[0.0; 3], Some(&mut [0.0; 2])).is_err());
        assert!(sgd_step(&hp, true, &mut p, &[0.0; 2], Some(&mut [0.0; 1])).is_err());
    }
}
