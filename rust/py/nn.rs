//! Bindings for the layer ops (conv, pooling, dropout, batch norm, PReLU) and checkpoints.

use super::errors::run;
use super::tensor::{wrap, PyTensor};
use crate::ops::{BatchNormArgs, Pool2d};
use crate::tensor::Tensor;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use std::collections::HashMap;

#[pyfunction]
#[pyo3(signature = (input, weight, bias, stride, padding, dilation))]
fn conv2d(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    weight: PyRef<'_, PyTensor>,
    bias: Option<PyRef<'_, PyTensor>>,
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
) -> PyResult<PyTensor> {
    let (x, w, b) = (input.t.clone(), weight.t.clone(), bias.map(|b| b.t.clone()));
    run(py, usize::MAX, move || x.conv2d(&w, b.as_ref(), stride, padding, dilation)).map(wrap)
}

/// y = x·wᵀ + b in one op (one autograd node).
#[pyfunction]
#[pyo3(signature = (input, weight, bias=None))]
fn linear(py: Python<'_>, input: PyRef<'_, PyTensor>, weight: PyRef<'_, PyTensor>, bias: Option<PyRef<'_, PyTensor>>) -> PyResult<PyTensor> {
    let (x, w, b) = (input.t.clone(), weight.t.clone(), bias.map(|b| b.t.clone()));
    let work = x.numel().saturating_mul(w.shape().first().copied().unwrap_or(1));
    run(py, work, move || x.linear(&w, b.as_ref())).map(wrap)
}

#[pyfunction]
fn max_pool2d(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    kernel_size: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    dilation: (usize, usize),
    ceil_mode: bool,
) -> PyResult<PyTensor> {
    let x = input.t.clone();
    let p = Pool2d { kernel: kernel_size, stride, padding, dilation, ceil_mode };
    run(py, x.numel(), move || x.max_pool2d(&p)).map(wrap)
}

#[pyfunction]
fn avg_pool2d(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    kernel_size: (usize, usize),
    stride: (usize, usize),
    padding: (usize, usize),
    ceil_mode: bool,
    count_include_pad: bool,
) -> PyResult<PyTensor> {
    let x = input.t.clone();
    let p = Pool2d { kernel: kernel_size, stride, padding, dilation: (1, 1), ceil_mode };
    run(py, x.numel(), move || x.avg_pool2d(&p, count_include_pad)).map(wrap)
}

#[pyfunction]
fn dropout(py: Python<'_>, input: PyRef<'_, PyTensor>, p: f64, training: bool) -> PyResult<PyTensor> {
    let x = input.t.clone();
    run(py, x.numel(), move || x.dropout(p as f32, training)).map(wrap)
}

#[pyfunction]
#[allow(clippy::too_many_arguments)]
fn batch_norm(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    running_mean: Option<PyRef<'_, PyTensor>>,
    running_var: Option<PyRef<'_, PyTensor>>,
    weight: Option<PyRef<'_, PyTensor>>,
    bias: Option<PyRef<'_, PyTensor>>,
    training: bool,
    momentum: f64,
    eps: f64,
) -> PyResult<PyTensor> {
    let x = input.t.clone();
    let (rm, rv) = (running_mean.map(|t| t.t.clone()), running_var.map(|t| t.t.clone()));
    let (w, b) = (weight.map(|t| t.t.clone()), bias.map(|t| t.t.clone()));
    run(py, x.numel(), move || {
        x.batch_norm(&BatchNormArgs {
            running_mean: rm.as_ref(),
            running_var: rv.as_ref(),
            weight: w.as_ref(),
            bias: b.as_ref(),
            training,
            momentum: momentum as f32,
            eps: eps as f32,
        })
    })
    .map(wrap)
}

#[pyfunction]
fn prelu(py: Python<'_>, input: PyRef<'_, PyTensor>, weight: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
    let (x, w) = (input.t.clone(), weight.t.clone());
    run(py, x.numel(), move || x.prelu(&w)).map(wrap)
}

/// Writes {name: Tensor} to a safetensors file (float32), with optional string metadata.
#[pyfunction]
#[pyo3(signature = (tensors, path, metadata = None))]
fn save_safetensors(py: Python<'_>, tensors: &Bound<'_, PyDict>, path: std::path::PathBuf, metadata: Option<HashMap<String, String>>) -> PyResult<()> {
    let mut items = Vec::with_capacity(tensors.len());
    for (k, v) in tensors.iter() {
        let name: String = k.extract().map_err(|_| PyTypeError::new_err("save: keys must be strings"))?;
        let t = v
            .cast::<PyTensor>()
            .map_err(|_| PyTypeError::new_err(format!("save: value for {name:?} is a {}, not a Tensor", super::convert::type_name(&v))))?;
        items.push((name, t.get().t.clone()));
    }
    run(py, usize::MAX, move || crate::io::save(&items, metadata, &path))
}

/// Reads a safetensors file: ({name: Tensor}, metadata).
#[pyfunction]
fn load_safetensors(py: Python<'_>, path: std::path::PathBuf) -> PyResult<(Vec<(String, PyTensor)>, HashMap<String, String>)> {
    let (items, meta) = run(py, usize::MAX, move || crate::io::load(&path))?;
    Ok((items.into_iter().map(|(n, t): (String, Tensor)| (n, wrap(t))).collect(), meta))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(linear, m)?)?;
    m.add_function(wrap_pyfunction!(conv2d, m)?)?;
    m.add_function(wrap_pyfunction!(max_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(avg_pool2d, m)?)?;
    m.add_function(wrap_pyfunction!(dropout, m)?)?;
    m.add_function(wrap_pyfunction!(batch_norm, m)?)?;
    m.add_function(wrap_pyfunction!(prelu, m)?)?;
    m.add_function(wrap_pyfunction!(save_safetensors, m)?)?;
    m.add_function(wrap_pyfunction!(load_safetensors, m)?)?;
    Ok(())
}
