//! PyO3 bindings (feature `python`): argument conversion and forwarding only, no maths.

mod convert;
mod device;
mod errors;
mod functions;
mod nn;
mod optim;
mod seq;
mod tensor;

use pyo3::prelude::*;

pub use tensor::PyTensor;

#[pymodule]
#[pyo3(name = "_core")]
fn core_module(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // Set up the CPU pools now, from the importing thread: when that is Python's main thread it
    // becomes worker 0 of a pool of its own (see backend::cpu::threads).
    let threading = m.py().import("threading")?;
    let is_main = threading.call_method0("current_thread")?.is(&threading.call_method0("main_thread")?);
    crate::backend::cpu::threads::init(is_main);
    m.add_class::<PyTensor>()?;
    functions::register(m)?;
    device::register(m)?;
    nn::register(m)?;
    optim::register(m)?;
    seq::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
