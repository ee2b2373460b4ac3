//! Optimizer updates: one pure kernel per algorithm over flat `f32` slices, plus the driver that
//! applies a rule to a whole parameter group of tensors in place.
//!
//! Each algorithm lives in its own file as a hyper-parameter struct and a `*_step` function over
//! `&mut [f32]` parameter / `&[f32]` gradient / `&mut [f32]` state slices, following the update
//! rule torch.optim documents (where torch and the original paper differ, the file says so).
//! The Python optimizers (`ferrograd.optim`) keep the state tensors and call
//! [`step_tensors`] once per parameter group, so a step costs one call into Rust per group.
//!
//! ```
//! use ferrograd::optim::{adam_step, AdamParams};
//! let hp = AdamParams::default();
//! let (mut p, g) = (vec![1.0f32, -2.0], vec![0.5f32, -3.0]);
//! let (mut m, mut v) = (vec![0.0f32; 2], vec![0.0f32; 2]);
//! adam_step(&hp, 1, &mut p, &g, &mut m, &mut v, None).unwrap();
//! // The first bias-corrected Adam step is lr·sign(g).
//! assert!((p[0] - (1.0 - 1e-3)).abs() < 1e-6 && (p[1] - (-2.0 + 1e-3)).abs() < 1e-6);
//! ```

mod adadelta;
mod adagrad;
mod adam;
mod adamax;
pub mod max_norm;
mod rmsprop;
mod sgd;

pub use adadelta::{adadelta_step, AdadeltaParams};
pub use adagrad::{adagrad_step, AdagradParams};
pub use adam::{adam_step, AdamParams};
pub use adamax::{adamax_step, AdamaxParams};
pub use max_norm::{max_norm_, renorm_rows};
pub use rmsprop::{rmsprop_step, RmsPropParams};
pub use sgd::{sgd_step, SgdParams};

use crate::backend::cpu::PAR_CHUNK;
use crate::error::{Error, Result};
use crate::tensor::Tensor;
use rayon::prelude::*;

/// An update rule with its hyper-parameters: what one parameter group's step applies.
#[derive(Clone, Debug, PartialEq)]
pub enum Rule {
    Sgd(SgdParams),
    /// Adam and AdamW (`AdamParams::decoupled_weight_decay`), with or without AMSGrad.
    Adam(AdamParams),
    Adamax(AdamaxParams),
    Adagrad(AdagradParams),
    RmsProp(RmsPropParams),
    Adadelta(AdadeltaParams),
}

impl Rule {
    pub fn name(&self) -> &'static str {
        match self {
            Rule::Sgd(_) => "SGD",
            Rule::Adam(h) if h.decoupled_weight_decay => "AdamW",
            Rule::Adam(_) => "Adam",
            Rule::Adamax(_) => "Adamax",
            Rule::Adagrad(_) => "Adagrad",
            Rule::RmsProp(_) => "RMSprop",
            Rule::Adadelta(_) => "Adadelta",
        }
    }

    /// Errors (naming the value) unless every hyper-parameter is in its valid range.
    pub fn validate(&self) -> Result<()> {
        match self {
            Rule::Sgd(h) => h.validate(),
            Rule::Adam(h) => h.validate(),
            Rule::Adamax(h) => h.validate(),
            Rule::Adagrad(h) => h.validate(),
            Rule::RmsProp(h) => h.validate(),
            Rule::Adadelta(h) => h.validate(),
        }
    }

    /// The state buffers one parameter needs, in the order the kernels take them (torch's
    /// names). Each has the parameter's shape.
    pub fn state_names(&self) -> Vec<&'static str> {
        match self {
            Rule::Sgd(h) if h.momentum != 0.0 => vec!["momentum_buffer"],
            Rule::Sgd(_) => vec![],
            Rule::Adam(h) if h.amsgrad => vec!["exp_avg", "exp_avg_sq", "max_exp_avg_sq"],
            Rule::Adam(_) => vec!["exp_avg", "exp_avg_sq"],
            Rule::Adamax(_) => vec!["exp_avg", "exp_inf"],
            Rule::Adagrad(_) => vec!["sum"],
            Rule::RmsProp(h) => {
                let mut v = vec!["square_avg"];
                if h.momentum > 0.0 {
                    v.push("momentum_buffer");
                }
                if h.centered {
                    v.push("grad_avg");
                }
                v
            }
            Rule::Adadelta(_) => vec!["square_avg", "acc_delta"],
        }
    }

    /// Updates one parameter in place. `step` is the 1-based count of updates this parameter's
    /// state has seen, this one included (for SGD only `step == 1` matters: it marks a fresh
    /// momentum buffer, which starts as the gradient itself). `states` follow `state_names()`.
    pub fn step_slices(&self, step: u64, param: &mut [f32], grad: &[f32], states: &mut [&mut [f32]]) -> Result<()> {
        let want = self.state_names();
        if states.len() != want.len() {
            return Err(Error::Value(format!(
                "{}: expected {} state buffer(s) {:?}, got {}",
                self.name(),
                want.len(),
                want,
                states.len()
            )));
        }
        match (self, states) {
            (Rule::Sgd(h), []) => sgd_step(h, step == 1, param, grad, None),
            (Rule::Sgd(h), [b]) => sgd_step(h, step == 1, param, grad, Some(&mut **b)),
            (Rule::Adam(h), [m, v]) => adam_step(h, step, param, grad, m, v, None),
            (Rule::Adam(h), [m, v, vmax]) => adam_step(h, step, param, grad, m, v, Some(&mut **vmax)),
            (Rule::Adamax(h), [m, u]) => adamax_step(h, step, param, grad, m, u),
            (Rule::Adagrad(h), [s]) => adagrad_step(h, step, param, grad, s),
            (Rule::RmsProp(h), states) => {
                let (sq, rest) = states.split_first_mut().expect("length checked above");
                let (buf, rest) = if h.momentum > 0.0 {
                    let (b, r) = rest.split_first_mut().expect("length checked above");
                    (Some(&mut **b), r)
                } else {
                    (None, rest)
                };
                let gavg = rest.first_mut().map(|g| &mut **g);
                rmsprop_step(h, param, grad, sq, buf, gavg)
            }
            (Rule::Adadelta(h), [v, u]) => adadelta_step(h, param, grad, v, u),
            _ => unreachable!("state count checked above"),
        }
    }
}

/// Errors unless every slice has the parameter's length (kernels index them in lockstep).
/// `x`, or 0 when it is subnormal (|x| < f32::MIN_POSITIVE).
///
/// Decaying averages (Adam's m, momentum buffers) of parameters whose gradient stays zero (dead
/// ReLU units) shrink into the subnormal range and, rounding to nearest, stay at the smallest
/// subnormal forever; every later step then does subnormal arithmetic, which x86 CPUs run
/// ~100× slower (an MLP's whole step got 10× slower). Flushing them changes an update by less
/// than 1e-30 relative to a normal-sized one.
#[inline(always)]
pub(crate) fn flush_subnormal(x: f32) -> f32 {
    if x.abs() < f32::MIN_POSITIVE {
        0.0
    } else {
        x
    }
}

pub(crate) fn check_lengths(op: &str, n: usize, grad: usize, states: &[(&str, usize)]) -> Result<()> {
    if grad != n {
        return Err(Error::Shape(format!("{op}: gradient has {grad} elements but the parameter has {n}")));
    }
    for (name, len) in states {
        if *len != n {
            return Err(Error::Shape(format!("{op}: state '{name}' has {len} elements but the parameter has {n}")));
        }
    }
    Ok(())
}

// Parameters split across threads from `PAR_THRESHOLD` elements, like the other kernels.
// Measured in training steps with the workers kept awake (see `backend::cpu::threads`): the
// optimizer step of (c)'s 784-100×3-10 net (SGD, a 78k weight) 49 → 33 µs split; of 784-32-10
// (Adam, a 25k weight) 31 → 48 µs split: the gradient and state are fresh in the calling
// core's cache, and the other core's half has to move.

/// Runs `f` over matching chunks of the parameter, gradient and state slices: in parallel when
/// `backend::cpu::parallel` says so, in one piece otherwise (where the hand-off costs more than
/// it saves, or with a single thread in the pool).
/// Every update rule is elementwise, so any split gives the same bits as the serial loop.
pub(crate) fn for_chunks<F>(param: &mut [f32], grad: &[f32], states: &mut [&mut [f32]], f: F)
where
    F: Fn(&mut [f32], &[f32], &mut [&mut [f32]]) + Sync,
{
    let n = param.len();
    debug_assert!(grad.len() == n && states.iter().all(|s| s.len() == n));
    if !crate::backend::cpu::parallel(n) {
        f(param, grad, states);
        return;
    }
    let p_chunks: Vec<&mut [f32]> = param.chunks_mut(PAR_CHUNK).collect();
    let mut s_chunks: Vec<Vec<&mut [f32]>> = (0..p_chunks.len()).map(|_| Vec::with_capacity(states.len())).collect();
    for s in states.iter_mut() {
        for (k, c) in s.chunks_mut(PAR_CHUNK).enumerate() {
            s_chunks[k].push(c);
        }
    }
    p_chunks
        .into_par_iter()
        .zip(grad.par_chunks(PAR_CHUNK))
        .zip(s_chunks.into_par_iter())
        .for_each(|((p, g), mut s)| f(p, g, &mut s));
}

/// The `(offset, len)` of a tensor's elements inside its storage buffer, for a contiguous tensor.
fn span(t: &Tensor, storage_len: usize, what: &str) -> Result<(usize, usize)> {
    let (off, n) = (t.layout().offset, t.numel());
    if off + n > storage_len {
        return Err(Error::Runtime(format!("{what}: view exceeds its storage ({off}+{n} > {storage_len})")));
    }
    Ok((off, n))
}

/// One optimizer step for a parameter group: updates every tensor of `params` in place from its
/// `.grad`, with `states[i]` (in `rule.state_names()` order) as its state and `steps[i]` as its
/// 1-based step count.
///
/// Everything is validated before any tensor is touched (nothing half-written): each parameter
/// must be a contiguous leaf with a gradient of its shape; each state tensor must be contiguous,
/// of the parameter's shape, and share memory with neither the parameter nor another state.
/// Writes go through `storage().write()`, which bumps the version counter, so a graph that saved
/// a parameter for backward notices the update.
pub fn step_tensors(rule: &Rule, params: &[Tensor], states: &[Vec<Tensor>], steps: &[u64]) -> Result<()> {
    let op = format!("{}.step", rule.name());
    rule.validate()?;
    if states.len() != params.len() || steps.len() != params.len() {
        return Err(Error::Value(format!(
            "{op}: got {} parameters but {} state lists and {} step counts",
            params.len(),
            states.len(),
            steps.len()
        )));
    }
    let names = rule.state_names();
    let mut grads = Vec::with_capacity(params.len());
    for (i, (p, st)) in params.iter().zip(states).enumerate() {
        if !p.is_leaf() {
            return Err(Error::Value(format!(
                "{op}: parameter {i} (shape {:?}) is not a leaf tensor; optimizers update leaves only",
                p.shape()
            )));
        }
        if !p.is_contiguous() {
            return Err(Error::Value(format!(
                "{op}: parameter {i} (shape {:?}, strides {:?}) is not contiguous; optimizers update contiguous leaves only",
                p.shape(),
                p.layout().strides
            )));
        }
        let g = p.grad().ok_or_else(|| {
            Error::Value(format!("{op}: parameter {i} (shape {:?}) has no gradient (.grad is None)", p.shape()))
        })?;
        if g.shape() != p.shape() {
            return Err(Error::Shape(format!(
                "{op}: parameter {i} has shape {:?} but its gradient has shape {:?}",
                p.shape(),
                g.shape()
            )));
        }
        if steps[i] == 0 {
            return Err(Error::Value(format!("{op}: step counts are 1-based, got 0 for parameter {i}")));
        }
        if st.len() != names.len() {
            return Err(Error::Value(format!(
                "{op}: parameter {i} needs {} state tensor(s) {:?}, got {}",
                names.len(),
                names,
                st.len()
            )));
        }
        for (k, s) in st.iter().enumerate() {
            if s.shape() != p.shape() {
                return Err(Error::Shape(format!(
                    "{op}: state '{}' of parameter {i} has shape {:?} but the parameter has shape {:?}",
                    names[k],
                    s.shape(),
                    p.shape()
                )));
            }
            if !s.is_contiguous() {
                return Err(Error::Value(format!("{op}: state '{}' of parameter {i} is not contiguous", names[k])));
            }
            // Locking the same buffer twice for writing would deadlock, and the rule assumes
            // independent buffers.
            if s.storage().same_as(p.storage()) || st[..k].iter().any(|o| o.storage().same_as(s.storage())) {
                return Err(Error::Value(format!(
                    "{op}: state '{}' of parameter {i} shares memory with the parameter or another state",
                    names[k]
                )));
            }
        }
        grads.push(g);
    }
    // Tensors are updated one at a time, so two parameters viewing one buffer cannot deadlock.
    for (i, p) in params.iter().enumerate() {
        let g = &grads[i];
        let devices_differ = g.device() != p.device() || states[i].iter().any(|s| s.device() != p.device());
        if devices_differ {
            return Err(Error::Device(format!(
                "{op}: parameter {i} is on '{}' but its gradient or state is elsewhere; move the model before creating the optimizer",
                p.device().name()
            )));
        }
        if p.device() == crate::tensor::Device::Wgpu {
            // A gradient sharing the parameter's or a state's buffer is copied first (a kernel
            // cannot read and write one buffer).
            let aliased = g.storage().same_as(p.storage()) || states[i].iter().any(|s| s.storage().same_as(g.storage()));
            let g = if aliased { crate::backend::contiguous(g)? } else { g.clone() };
            crate::backend::wgpu::optim::step(rule, steps[i], p, &g, &states[i])?;
            continue;
        }
        let aliased = g.storage().same_as(p.storage()) || states[i].iter().any(|s| s.storage().same_as(g.storage()));
        // A gradient that shares the parameter's (or a state's) buffer is read before the write
        // locks are taken; otherwise it is read in place under its own read lock.
        let g_owned = if aliased || !g.is_contiguous() { Some(g.to_vec()) } else { None };
        let mut s_guards: Vec<_> = states[i].iter().map(|s| s.storage().write()).collect();
        let mut s_slices: Vec<&mut [f32]> = Vec::with_capacity(s_guards.len());
        for (guard, s) in s_guards.iter_mut().zip(&states[i]) {
            let (off, n) = span(s, guard.len(), &op)?;
            s_slices.push(&mut guard[off..off + n]);
        }
        let mut p_guard = p.storage().write();
        let (off, n) = span(p, p_guard.len(), &op)?;
        let p_slice = &mut p_guard[off..off + n];
        match &g_owned {
            Some(v) => rule.step_slices(steps[i], p_slice, v, &mut s_slices)?,
            None => {
                let g_guard = g.storage().read();
                let (goff, gn) = span(g, g_guard.len(), &op)?;
                rule.step_slices(steps[i], p_slice, &g_guard[goff..goff + gn], &mut s_slices)?
            }
        }
    }
    Ok(())
}

/// Shared checks of the hyper-parameters common to most rules; `what` names the value.
pub(crate) fn check_nonneg(op: &str, what: &str, v: f64) -> Result<()> {
    if v.is_nan() || v < 0.0 || v.is_infinite() {
        return Err(Error::Value(format!("{op}: invalid {what}: {v} (expected a finite value >= 0)")));
    }
    Ok(())
}

pub(crate) fn check_unit(op: &str, what: &str, v: f64, closed: bool) -> Result<()> {
    let ok = if closed { (0.0..=1.0).contains(&v) } else { (0.0..1.0).contains(&v) };
    if !ok {
        let range = if closed { "[0, 1]" } else { "[0, 1)" };
        return Err(Error::Value(format!("{op}: invalid {what}: {v} (expected a value in {range})")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::cpu::PAR_THRESHOLD;

    #[test]
    fn decaying_state_never_stays_subnormal() {
        // A parameter whose gradient became zero: its averages decay towards 0 and must reach
        // it, not stick at the smallest subnormal (which would slow every later step).
        let hp = AdamParams::default();
        let (mut p, g) = (vec![1.0f32; 4], vec![0.0f32; 4]);
        let (mut m, mut v) = (vec![1e-30f32; 4], vec![1e-30f32; 4]);
        for t in 1..=2000 {
            adam_step(&hp, t, &mut p, &g, &mut m, &mut v, None).unwrap();
            assert!(m.iter().chain(&v).all(|x| *x == 0.0 || x.is_normal()), "subnormal state at step {t}");
        }
        assert!(m.iter().all(|x| *x == 0.0));
        let sgd = SgdParams { lr: 0.1, momentum: 0.9, ..Default::default() };
        let mut b = vec![1e-36f32; 4];
        for _ in 0..100 {
            sgd_step(&sgd, false, &mut p, &g, Some(&mut b)).unwrap();
        }
        assert!(b.iter().all(|x| *x == 0.0));
    }

    #[test]
    fn for_chunks_matches_serial_above_threshold() {
        let n = PAR_THRESHOLD * 2 + 123;
        let g: Vec<f32> = (0..n).map(|i| (i as f32 * 0.37).sin()).collect();
        let mut p1: Vec<f32> = (0..n).map(|i| (i as f32 * 0.11).cos()).collect();
        let mut p2 = p1.clone();
        let (mut m1, mut v1) = (vec![0.0f32; n], vec![0.0f32; n]);
        let (mut m2, mut v2) = (vec![0.0f32; n], vec![0.0f32; n]);
        let hp = AdamParams::default();
        for t in 1..=3 {
            adam_step(&hp, t, &mut p1, &g, &mut m1, &mut v1, None).unwrap();
            // The same rule applied serially, piece by piece (each piece below the threshold).
            let piece = PAR_THRESHOLD - 1;
            let mut start = 0;
            while start < n {
                let end = (start + piece).min(n);
                adam_step(&hp, t, &mut p2[start..end], &g[start..end], &mut m2[start..end], &mut v2[start..end], None).unwrap();
                start = end;
            }
        }
        assert_eq!(p1, p2);
        assert_eq!(m1, m2);
    }

    #[test]
    fn step_slices_rejects_wrong_state_count() {
        let rule = Rule::Adam(AdamParams::default());
        let (mut p, g) = (vec![0.0f32; 3], vec![1.0f32; 3]);
        let mut m = vec![0.0f32; 3];
        let err = rule.step_slices(1, &mut p, &g, &mut [&mut m]).unwrap_err();
        assert!(err.to_string().contains("exp_avg_sq"), "{err}");
        assert_eq!(p, vec![0.0; 3]);
    }

    #[test]
    fn step_tensors_validates_before_writing() {
        let a = Tensor::from_vec(vec![1.0, 2.0], &[2]).unwrap().requires_grad(true);
        let b = Tensor::from_vec(vec![3.0, 4.0], &[2]).unwrap().requires_grad(true);
        a.set_grad(Some(Tensor::ones(&[2]))).unwrap();
        // b has no gradient: nothing, not even a, may be updated.
        let rule = Rule::Sgd(SgdParams { lr: 0.1, ..Default::default() });
        let err = step_tensors(&rule, &[a.clone(), b], &[vec![], vec![]], &[1, 1]).unwrap_err();
        assert!(err.to_string().contains("parameter 1"), "{err}");
        assert_eq!(a.to_vec(), vec![1.0, 2.0]);
        // With the gradient alone it works, and bumps the version counter.
        let v0 = a.storage().version();
        step_tensors(&rule, std::slice::from_ref(&a), &[vec![]], &[1]).unwrap();
        assert_eq!(a.to_vec(), vec![0.9, 1.9]);
        assert!(a.storage().version() > v0);
    }

    #[test]
    fn step_tensors_rejects_bad_state_shape_and_aliasing() {
        let p = Tensor::from_vec(vec![1.0, 2.0, 3.0], &[3]).unwrap().requires_grad(true);
        p.set_grad(Some(Tensor::ones(&[3]))).unwrap();
        let rule = Rule::Adagrad(AdagradParams::default());
        let err = step_tensors(&rule, std::slice::from_ref(&p), &[vec![Tensor::zeros(&[2])]], &[1]).unwrap_err();
        assert!(matches!(err, Error::Shape(_)), "{err}");
        let err = step_tensors(&rule, std::slice::from_ref(&p), &[vec![p.detach()]], &[1]).unwrap_err();
        assert!(err.to_string().contains("shares memory"), "{err}");
        assert_eq!(p.to_vec(), vec![1.0, 2.0, 3.0]);
    }

    #[test]
    fn gradient_sharing_the_parameter_buffer_does_not_deadlock() {
        let p = Tensor::from_vec(vec![1.0, -2.0], &[2]).unwrap().requires_grad(true);
        p.set_grad(Some(p.detach())).unwrap();
        let rule = Rule::Sgd(SgdParams { lr: 0.5, ..Default::default() });
        step_tensors(&rule, std::slice::from_ref(&p), &[vec![]], &[1]).unwrap();
        assert_eq!(p.to_vec(), vec![0.5, -1.0]);
    }
}
