//! Reverse-mode autograd: the graph machinery only. It knows no op: each op in `ops/` records
//! a `Node` with a backward closure written in tensor ops.

mod engine;
mod grad_mode;

pub use engine::backward;
pub use grad_mode::{is_grad_enabled, set_grad_enabled, NoGradGuard};

use crate::error::{Error, Result};
use crate::tensor::Tensor;
use std::sync::{Arc, Mutex};

/// Maps the gradient of an op's output to the gradients of its inputs (None = no gradient).
pub type BackwardFn = Box<dyn Fn(&Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync>;

/// One recorded op: its inputs (edges to earlier nodes or leaves) and its backward rule.
/// Both are dropped after a backward pass that does not retain the graph, freeing what the
/// rule had saved.
pub struct Node {
    pub name: &'static str,
    state: Mutex<Option<(Vec<Tensor>, BackwardFn)>>,
}

impl Node {
    pub(crate) fn take_or_clone(&self, retain: bool) -> Result<(Vec<Tensor>, Option<BackwardFn>)> {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if retain {
            match st.as_ref() {
                Some((inputs, _)) => Ok((inputs.clone(), None)),
                None => Err(freed_error(self.name)),
            }
        } else {
            match st.take() {
                Some((inputs, f)) => Ok((inputs, Some(f))),
                None => Err(freed_error(self.name)),
            }
        }
    }

    /// Runs the rule while the graph is retained (the state stays in place).
    pub(crate) fn call_retained(&self, g: &Tensor) -> Result<Vec<Option<Tensor>>> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match st.as_ref() {
            Some((_, f)) => f(g),
            None => Err(freed_error(self.name)),
        }
    }

    pub(crate) fn inputs(&self) -> Vec<Tensor> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.as_ref().map(|(i, _)| i.clone()).unwrap_or_default()
    }
}

fn freed_error(name: &str) -> Error {
    Error::Runtime(format!(
        "backward: trying to backward through the graph a second time (through {name}): its saved values were freed by the first backward; call backward(retain_graph=True) the first time"
    ))
}

/// True when an op on `inputs` must be recorded.
pub fn needs_grad(inputs: &[&Tensor]) -> bool {
    is_grad_enabled() && inputs.iter().any(|t| t.requires_grad_flag())
}

/// Attaches `backward` to the freshly computed `out` when any input requires grad (and grad
/// mode is on); otherwise returns `out` unchanged. `backward` returns one gradient per input,
/// in order.
pub fn record<F>(name: &'static str, inputs: &[&Tensor], out: Tensor, backward: F) -> Tensor
where
    F: Fn(&Tensor) -> Result<Vec<Option<Tensor>>> + Send + Sync + 'static,
{
    if !needs_grad(inputs) {
        return out;
    }
    let node = Node {
        name,
        state: Mutex::new(Some((inputs.iter().map(|t| (*t).clone()).collect(), Box::new(backward)))),
    };
    Tensor::from_parts(out.0.storage.clone(), out.0.layout.clone(), Some(Arc::new(node)))
}

/// A tensor saved for backward, with the version of its storage at save time, so that an
/// in-place write between forward and backward is an error instead of a wrong gradient.
#[derive(Clone)]
pub struct Saved {
    tensor: Tensor,
    version: u64,
}

impl Saved {
    pub fn new(t: &Tensor) -> Saved {
        Saved { tensor: t.clone(), version: t.storage().version() }
    }

    pub fn get(&self) -> Result<Tensor> {
        if self.tensor.storage().version() != self.version {
            return Err(Error::Runtime(
                "backward: a tensor needed for gradient computation has been modified by an in-place operation".into(),
            ));
        }
        Ok(self.tensor.clone())
    }
}
