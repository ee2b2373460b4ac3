//! Rust errors → Python exceptions (one place, as polars does), and the guard that keeps a
//! Rust panic from ever reaching Python as a PanicException.

use crate::error::Error;
use pyo3::exceptions::{PyIndexError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub fn to_py(e: Error) -> PyErr {
    match e {
        Error::Shape(m) | Error::Value(m) => PyValueError::new_err(m),
        Error::Index(m) => PyIndexError::new_err(m),
        Error::Type(m) => PyTypeError::new_err(m),
        Error::Device(m) | Error::Runtime(m) => PyRuntimeError::new_err(m),
    }
}

/// Elements above which an op runs with the GIL released.
const DETACH_NUMEL: usize = 1 << 14;

/// Runs `f`, releasing the GIL when `work` (elements touched) is large, and turns both errors
/// and panics into Python exceptions.
pub fn run<T: Send>(py: Python<'_>, work: usize, f: impl FnOnce() -> crate::Result<T> + Send) -> PyResult<T> {
    let guarded = move || catch_unwind(AssertUnwindSafe(f));
    let res = if work >= DETACH_NUMEL {
        // Grad mode is thread-local and `detach` stays on this thread, so it carries over.
        py.detach(guarded)
    } else {
        guarded()
    };
    match res {
        Ok(r) => r.map_err(to_py),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            Err(PyRuntimeError::new_err(format!("ferrograd internal error (please report it): {msg}")))
        }
    }
}
