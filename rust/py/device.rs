//! Device discovery and GPU housekeeping for the Python front (`ferrograd.devices()`, ...).

use super::errors::run;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The GPU adapters wgpu can see, without opening one: dicts of name, backend, device_type,
/// driver, software. Empty when no Vulkan/Metal/DX12 driver is installed.
#[pyfunction]
fn wgpu_adapters(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    let list = py.detach(crate::backend::wgpu::adapters);
    list.into_iter()
        .map(|a| {
            let d = PyDict::new(py);
            d.set_item("name", a.name)?;
            d.set_item("backend", a.backend)?;
            d.set_item("device_type", a.device_type)?;
            d.set_item("driver", a.driver)?;
            d.set_item("software", a.software)?;
            Ok(d)
        })
        .collect()
}

/// Opens the GPU (if not yet open) and returns the adapter it runs on: a RuntimeError naming
/// what to install when there is none.
#[pyfunction]
fn wgpu_open(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let (name, backend, software, max_binding) = run(py, usize::MAX, || {
        let g = crate::backend::wgpu::gpu()?;
        Ok((g.info.name.clone(), format!("{:?}", g.info.backend).to_lowercase(), g.info.device_type == wgpu::DeviceType::Cpu, g.max_binding_elems()))
    })?;
    let d = PyDict::new(py);
    d.set_item("name", name)?;
    d.set_item("backend", backend)?;
    d.set_item("software", software)?;
    d.set_item("max_tensor_elements", max_binding)?;
    Ok(d)
}

/// Submits all recorded GPU work and waits for it (for timing).
#[pyfunction]
fn wgpu_synchronize(py: Python<'_>) -> PyResult<()> {
    run(py, usize::MAX, || {
        let t = crate::backend::wgpu::upload(&crate::Tensor::scalar(0.0))?;
        t.try_to_vec().map(|_| ())
    })
}

/// Counters of GPU work so far: dispatches recorded, submits, read-backs.
#[pyfunction]
fn wgpu_stats(py: Python<'_>) -> PyResult<Bound<'_, PyDict>> {
    let (dispatches, submits, readbacks) = crate::backend::wgpu::queue::stats();
    let d = PyDict::new(py);
    d.set_item("dispatches", dispatches)?;
    d.set_item("submits", submits)?;
    d.set_item("readbacks", readbacks)?;
    Ok(d)
}

/// Releases the GPU buffers kept for reuse.
#[pyfunction]
fn wgpu_empty_cache(py: Python<'_>) -> PyResult<()> {
    run(py, usize::MAX, crate::backend::wgpu::empty_cache)
}

/// Forces the tile and K slices of every GPU matmul: (bm, bn, tk, tm, tn, splits), or None
/// for the built-in rule. For tuning that rule on a new GPU (benches/gpu_gemm_sweep.py).
#[pyfunction]
#[pyo3(signature = (plan=None))]
fn wgpu_force_gemm_plan(py: Python<'_>, plan: Option<crate::backend::wgpu::matmul::PlanSpec>) -> PyResult<()> {
    run(py, usize::MAX, || crate::backend::wgpu::matmul::force_plan(plan))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(wgpu_adapters, m)?)?;
    m.add_function(wrap_pyfunction!(wgpu_open, m)?)?;
    m.add_function(wrap_pyfunction!(wgpu_synchronize, m)?)?;
    m.add_function(wrap_pyfunction!(wgpu_empty_cache, m)?)?;
    m.add_function(wrap_pyfunction!(wgpu_stats, m)?)?;
    m.add_function(wrap_pyfunction!(wgpu_force_gemm_plan, m)?)?;
    Ok(())
}
