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
    m.add_class::<PyTensor>()?;
    functions::register(m)?;
    device::register(m)?;
    nn::register(m)?;
    optim::register(m)?;
    seq::register(m)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
