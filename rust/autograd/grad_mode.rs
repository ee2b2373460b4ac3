//! Grad mode is per thread, as in torch: `no_grad` in one Python thread leaves others alone.

use std::cell::Cell;

thread_local! {
    static GRAD_ENABLED: Cell<bool> = const { Cell::new(true) };
}

pub fn is_grad_enabled() -> bool {
    GRAD_ENABLED.with(|g| g.get())
}

pub fn set_grad_enabled(flag: bool) {
    GRAD_ENABLED.with(|g| g.set(flag));
}

/// Disables grad mode until dropped, then restores the previous mode.
pub struct NoGradGuard {
    prev: bool,
}

impl NoGradGuard {
    #[allow(clippy::new_without_default)]
    pub fn new() -> NoGradGuard {
        let prev = is_grad_enabled();
        set_grad_enabled(false);
        NoGradGuard { prev }
    }
}

impl Drop for NoGradGuard {
    fn drop(&mut self) {
        set_grad_enabled(self.prev);
    }
}
