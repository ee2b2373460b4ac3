//! Module-level functions of `ferrograd._core`: creation, joins, losses, seeding, grad mode.
//! The Python package wraps these with torch's signatures (varargs shapes, keywords).

use super::convert::{check_alloc, operand};
use super::errors::{run, to_py};
use super::tensor::{wrap, PyTensor};
use crate::ops::{Reduction, Targets};
use crate::tensor::Tensor;
use numpy::{PyReadonlyArray1, PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;

pub(super) fn tensor_list(objs: &Bound<'_, PyAny>, op: &str) -> PyResult<Vec<Tensor>> {
    let mut out = Vec::new();
    for item in objs.try_iter().map_err(|_| PyTypeError::new_err(format!("{op}: expected a sequence of tensors")))? {
        let item = item?;
        let t = item
            .cast::<PyTensor>()
            .map_err(|_| PyTypeError::new_err(format!("{op}: expected a sequence of tensors, found {}", super::convert::type_name(&item))))?;
        out.push(t.get().t.clone());
    }
    Ok(out)
}

#[pyfunction]
fn manual_seed(seed: u64) {
    crate::random::manual_seed(seed);
}

/// Sets how long (µs) idle CPU worker threads keep spinning for more work after a parallel op
/// before they sleep (default 1000, or ``FERROGRAD_SPIN_US``; 0 when ``RAYON_NUM_THREADS``
/// exceeds the cores). Spinning saves the tens of µs that waking a sleeping thread costs, at
/// the price of busy cores while ops keep coming; use 0 when several busy processes share the
/// cores (the search's worker processes do).
#[pyfunction]
fn set_spin_us(us: i64) -> PyResult<()> {
    if us < 0 {
        return Err(PyValueError::new_err(format!("set_spin_us: expected a number of µs >= 0, got {us}")));
    }
    crate::backend::cpu::threads::set_spin_us(us as u64);
    Ok(())
}

/// The current spin time of idle CPU worker threads, in µs (see ``set_spin_us``).
#[pyfunction]
fn get_spin_us() -> u64 {
    crate::backend::cpu::threads::spin_us()
}

/// Threads of the CPU pool (``RAYON_NUM_THREADS`` when set before import, else the cores).
#[pyfunction]
fn get_num_threads() -> usize {
    rayon::current_num_threads()
}

/// How many tensors are alive in this process (for leak tests).
#[pyfunction]
fn _live_tensors() -> usize {
    crate::tensor::live_tensors()
}

#[pyfunction]
fn _set_grad_enabled(flag: bool) {
    crate::autograd::set_grad_enabled(flag);
}

#[pyfunction]
fn is_grad_enabled() -> bool {
    crate::autograd::is_grad_enabled()
}

#[pyfunction]
fn full(shape: Vec<usize>, value: f64) -> PyResult<PyTensor> {
    check_alloc(&shape, "full")?;
    Ok(wrap(Tensor::full(&shape, value as f32)))
}

#[pyfunction]
#[pyo3(name = "rand")]
fn rand_(shape: Vec<usize>) -> PyResult<PyTensor> {
    check_alloc(&shape, "rand")?;
    Ok(wrap(crate::random::rand(&shape)))
}

#[pyfunction]
#[pyo3(name = "randn")]
fn randn_(shape: Vec<usize>) -> PyResult<PyTensor> {
    check_alloc(&shape, "randn")?;
    Ok(wrap(crate::random::randn(&shape)))
}

/// Values start, start+step, ... below end (above end for a negative step).
#[pyfunction]
fn arange(start: f64, end: f64, step: f64) -> PyResult<PyTensor> {
    if step == 0.0 || !step.is_finite() || !start.is_finite() || !end.is_finite() {
        return Err(PyValueError::new_err(format!("arange: invalid range start={start}, end={end}, step={step}")));
    }
    let n = ((end - start) / step).ceil().max(0.0);
    if n >= usize::MAX as f64 {
        return Err(PyValueError::new_err(format!("arange: {n} elements is too many")));
    }
    let n = n as usize;
    check_alloc(&[n], "arange")?;
    let v: Vec<f32> = (0..n).map(|i| (start + i as f64 * step) as f32).collect();
    Ok(wrap(Tensor::from_vec(v, &[n]).map_err(to_py)?))
}

#[pyfunction]
fn linspace(start: f64, end: f64, steps: usize) -> PyResult<PyTensor> {
    check_alloc(&[steps], "linspace")?;
    let v: Vec<f32> = match steps {
        0 => vec![],
        1 => vec![start as f32],
        _ => (0..steps).map(|i| (start + (end - start) * i as f64 / (steps - 1) as f64) as f32).collect(),
    };
    Tensor::from_vec(v, &[steps]).map(wrap).map_err(to_py)
}

#[pyfunction]
fn eye(n: usize, m: usize) -> PyResult<PyTensor> {
    check_alloc(&[n, m], "eye")?;
    let mut v = vec![0.0f32; n * m];
    for i in 0..n.min(m) {
        v[i * m + i] = 1.0;
    }
    Tensor::from_vec(v, &[n, m]).map(wrap).map_err(to_py)
}

/// Copies a numpy array (any numeric dtype) into a tensor.
#[pyfunction]
fn from_numpy(py: Python<'_>, array: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    if let Ok(a) = array.extract::<PyReadonlyArrayDyn<'_, f32>>() {
        let shape = a.shape().to_vec();
        let data = match a.as_slice() {
            Ok(s) => s.to_vec(),
            Err(_) => a.as_array().iter().copied().collect(),
        };
        return Ok(wrap(Tensor::from_vec(data, &shape).map_err(to_py)?));
    }
    Ok(wrap(super::convert::array_to_tensor(py, array, "from_numpy")?))
}

/// Rows `indices` (along the first dim; negative counts from the end) of a C-contiguous
/// float32 numpy array, as one new tensor: the data loader's batch gather, one copy.
#[pyfunction]
fn take_rows(py: Python<'_>, array: PyReadonlyArrayDyn<'_, f32>, indices: PyReadonlyArray1<'_, i64>) -> PyResult<PyTensor> {
    let shape = array.shape().to_vec();
    if shape.is_empty() {
        return Err(PyValueError::new_err("take_rows: expected an array with at least one dimension, got a 0-d array"));
    }
    let src = array
        .as_slice()
        .map_err(|_| PyValueError::new_err("take_rows: the array must be C-contiguous (use np.ascontiguousarray)"))?;
    let idx = indices.as_array();
    let n = shape[0] as i64;
    let mut rows = Vec::with_capacity(idx.len());
    for &i in idx.iter() {
        let r = if i < 0 { i + n } else { i };
        if r < 0 || r >= n {
            return Err(PyIndexError::new_err(format!("take_rows: index {i} is out of bounds for {n} rows")));
        }
        rows.push(r as usize);
    }
    let row: usize = shape[1..].iter().product();
    let mut out_shape = shape.clone();
    out_shape[0] = rows.len();
    run(py, rows.len() * row, move || {
        let mut out = crate::tensor::pool::take(rows.len() * row);
        crate::backend::cpu::index::gather_rows_into(&mut out, src, row, &rows);
        Tensor::from_vec(out, &out_shape)
    })
    .map(wrap)
}

#[pyfunction]
#[pyo3(signature = (tensors, dim = 0))]
fn cat(py: Python<'_>, tensors: &Bound<'_, PyAny>, dim: isize) -> PyResult<PyTensor> {
    let ts = tensor_list(tensors, "cat")?;
    let work = ts.iter().map(|t| t.numel()).sum();
    run(py, work, move || Tensor::cat(&ts, dim)).map(wrap)
}

#[pyfunction]
#[pyo3(signature = (tensors, dim = 0))]
fn stack(py: Python<'_>, tensors: &Bound<'_, PyAny>, dim: isize) -> PyResult<PyTensor> {
    let ts = tensor_list(tensors, "stack")?;
    let work = ts.iter().map(|t| t.numel()).sum();
    run(py, work, move || Tensor::stack(&ts, dim)).map(wrap)
}

#[pyfunction]
#[pyo3(name = "where")]
fn where_(py: Python<'_>, condition: &Bound<'_, PyAny>, input: &Bound<'_, PyAny>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
    let c = operand(py, condition, "where")?;
    let a = operand(py, input, "where")?;
    let b = operand(py, other, "where")?;
    let work = c.numel().max(a.numel()).max(b.numel());
    run(py, work, move || Tensor::where_(&c, &a, &b)).map(wrap)
}

/// Class-index or probability targets → `Targets` (the Python side decides which).
#[pyfunction]
#[pyo3(signature = (input, classes, probs, reduction, label_smoothing, ignore_index))]
fn cross_entropy(
    py: Python<'_>,
    input: PyRef<'_, PyTensor>,
    classes: Option<Vec<i64>>,
    probs: Option<PyRef<'_, PyTensor>>,
    reduction: &str,
    label_smoothing: f64,
    ignore_index: i64,
) -> PyResult<PyTensor> {
    let targets = match (classes, probs) {
        (Some(c), None) => Targets::Classes(c),
        (None, Some(p)) => Targets::Probs(p.t.clone()),
        _ => return Err(PyValueError::new_err("cross_entropy: give exactly one of class indices or probabilities")),
    };
    let r = Reduction::parse(reduction).map_err(to_py)?;
    let x = input.t.clone();
    run(py, x.numel(), move || x.cross_entropy(&targets, r, label_smoothing as f32, ignore_index)).map(wrap)
}

#[pyfunction]
fn nll_loss(py: Python<'_>, input: PyRef<'_, PyTensor>, classes: Vec<i64>, reduction: &str, ignore_index: i64) -> PyResult<PyTensor> {
    let r = Reduction::parse(reduction).map_err(to_py)?;
    let x = input.t.clone();
    run(py, x.numel(), move || x.nll_loss(&classes, r, ignore_index)).map(wrap)
}

#[pyfunction]
fn mse_loss(py: Python<'_>, input: PyRef<'_, PyTensor>, target: &Bound<'_, PyAny>, reduction: &str) -> PyResult<PyTensor> {
    let r = Reduction::parse(reduction).map_err(to_py)?;
    let (x, y) = (input.t.clone(), operand(py, target, "mse_loss")?);
    run(py, x.numel(), move || x.mse_loss(&y, r)).map(wrap)
}

#[pyfunction]
fn binary_cross_entropy_with_logits(py: Python<'_>, input: PyRef<'_, PyTensor>, target: &Bound<'_, PyAny>, reduction: &str) -> PyResult<PyTensor> {
    let r = Reduction::parse(reduction).map_err(to_py)?;
    let (x, y) = (input.t.clone(), operand(py, target, "binary_cross_entropy_with_logits")?);
    run(py, x.numel(), move || x.binary_cross_entropy_with_logits(&y, r)).map(wrap)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(manual_seed, m)?)?;
    m.add_function(wrap_pyfunction!(set_spin_us, m)?)?;
    m.add_function(wrap_pyfunction!(get_spin_us, m)?)?;
    m.add_function(wrap_pyfunction!(get_num_threads, m)?)?;
    m.add_function(wrap_pyfunction!(_set_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(_live_tensors, m)?)?;
    m.add_function(wrap_pyfunction!(is_grad_enabled, m)?)?;
    m.add_function(wrap_pyfunction!(full, m)?)?;
    m.add_function(wrap_pyfunction!(rand_, m)?)?;
    m.add_function(wrap_pyfunction!(randn_, m)?)?;
    m.add_function(wrap_pyfunction!(arange, m)?)?;
    m.add_function(wrap_pyfunction!(linspace, m)?)?;
    m.add_function(wrap_pyfunction!(eye, m)?)?;
    m.add_function(wrap_pyfunction!(from_numpy, m)?)?;
    m.add_function(wrap_pyfunction!(take_rows, m)?)?;
    m.add_function(wrap_pyfunction!(cat, m)?)?;
    m.add_function(wrap_pyfunction!(stack, m)?)?;
    m.add_function(wrap_pyfunction!(where_, m)?)?;
    m.add_function(wrap_pyfunction!(cross_entropy, m)?)?;
    m.add_function(wrap_pyfunction!(nll_loss, m)?)?;
    m.add_function(wrap_pyfunction!(mse_loss, m)?)?;
    m.add_function(wrap_pyfunction!(binary_cross_entropy_with_logits, m)?)?;
    Ok(())
}
