//! Python values → tensors, dims, shapes and index lists.

use super::tensor::PyTensor;
use crate::tensor::Tensor;
use numpy::{PyReadonlyArrayDyn, PyUntypedArrayMethods};
use pyo3::exceptions::{PyMemoryError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyFloat, PyInt, PyList, PySequence, PyTuple};

/// Copies any array-like (numpy array of any numeric dtype, nested lists, numbers) into a new
/// float32 tensor.
pub fn array_to_tensor(py: Python<'_>, obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Tensor> {
    let np = py.import("numpy")?;
    let kwargs = pyo3::types::PyDict::new(py);
    kwargs.set_item("dtype", np.getattr("float32")?)?;
    // asarray(order="C") rather than ascontiguousarray, which turns 0-d arrays into 1-d.
    kwargs.set_item("order", "C")?;
    let arr = match np.getattr("asarray")?.call((obj,), Some(&kwargs)) {
        Ok(a) => a,
        Err(e) => {
            return Err(PyTypeError::new_err(format!(
                "{op}: expected a number, a (nested) sequence of numbers or a numpy array, got {} ({})",
                obj.get_type().name()?,
                e.value(py)
            )))
        }
    };
    let arr: PyReadonlyArrayDyn<'_, f32> = arr.extract().map_err(|_| {
        PyTypeError::new_err(format!("{op}: could not convert {} to a float32 array", type_name(obj)))
    })?;
    let shape = arr.shape().to_vec();
    let data = match arr.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => arr.as_array().iter().copied().collect(),
    };
    Tensor::from_vec(data, &shape).map_err(super::errors::to_py)
}

/// The Python type name of `obj` for error messages ("?" if even that lookup fails: an error
/// message must never be the thing that panics).
pub fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into())
}

/// A tensor operand: a Tensor as is, a Python number as a 0-d tensor, anything else converted.
pub fn operand(py: Python<'_>, obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Tensor> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        return Ok(t.get().t.clone());
    }
    if obj.is_instance_of::<PyFloat>() || obj.is_instance_of::<PyInt>() {
        let v: f64 = obj.extract()?;
        return Ok(Tensor::scalar(v as f32));
    }
    array_to_tensor(py, obj, op)
}

/// `dim=` arguments: an int or a sequence of ints; None stays None.
pub fn dims(obj: Option<&Bound<'_, PyAny>>, op: &str) -> PyResult<Option<Vec<isize>>> {
    let Some(obj) = obj else { return Ok(None) };
    if obj.is_none() {
        return Ok(None);
    }
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{op}: dim must be an int or a tuple of ints, got bool")));
    }
    if let Ok(d) = obj.extract::<isize>() {
        return Ok(Some(vec![d]));
    }
    if let Ok(seq) = obj.cast::<PySequence>() {
        let mut out = Vec::new();
        for item in seq.try_iter()? {
            let item = item?;
            out.push(item.extract::<isize>().map_err(|_| {
                PyTypeError::new_err(format!("{op}: dims must be ints, got {}", type_name(&item)))
            })?);
        }
        return Ok(Some(out));
    }
    Err(PyTypeError::new_err(format!(
        "{op}: dim must be an int or a tuple of ints, got {}",
        obj.get_type().name()?
    )))
}

/// One int dim (required).
pub fn one_dim(obj: &Bound<'_, PyAny>, op: &str) -> PyResult<isize> {
    if obj.is_instance_of::<PyBool>() {
        return Err(PyTypeError::new_err(format!("{op}: dim must be an int, got bool")));
    }
    obj.extract::<isize>()
        .map_err(|_| PyTypeError::new_err(format!("{op}: dim must be an int, got {}", type_name(obj))))
}

/// The most elements one tensor may hold: its bytes must fit an `isize` (Rust's limit for
/// one allocation). Beyond it a shape is refused with ValueError rather than overflowing.
const MAX_NUMEL: usize = (isize::MAX as usize) / std::mem::size_of::<f32>();

/// Above this many elements a buffer is reserved fallibly first (an allocation failure would
/// otherwise abort the interpreter); below it the probe's cost is not worth paying.
const PROBE_NUMEL: usize = 1 << 24;

/// The element count of `shape`, or a ValueError naming it when the product of its non-zero
/// dims overflows or exceeds what one buffer may hold (a wrapped product would make a tensor
/// whose shape and storage disagree).
pub fn checked_numel(shape: &[usize], op: &str) -> PyResult<usize> {
    let nonzero = shape.iter().filter(|&&d| d != 0).try_fold(1usize, |n, &d| n.checked_mul(d));
    match nonzero {
        Some(n) if n <= MAX_NUMEL => Ok(if shape.contains(&0) { 0 } else { n }),
        _ => Err(PyValueError::new_err(format!("{op}: shape {shape:?} has too many elements"))),
    }
}

/// Checks that `n` float32 elements can be allocated now: MemoryError instead of the abort a
/// failed allocation would cause inside an op.
pub fn ensure_memory(n: usize, op: &str) -> PyResult<()> {
    if n <= PROBE_NUMEL {
        return Ok(());
    }
    let refuse = || PyMemoryError::new_err(format!("{op}: not enough memory for {n} float32 elements ({} bytes)", n.saturating_mul(4)));
    // More than the machine's RAM and swap together can never be filled. The allocator may
    // still grant such a request (mimalloc reserves address space without committing it), and
    // filling it would then end the process: refuse it here.
    if system_memory_bytes().is_some_and(|total| n.saturating_mul(4) > total) {
        return Err(refuse());
    }
    let mut probe: Vec<f32> = Vec::new();
    probe.try_reserve_exact(n).map_err(|_| refuse())
}

/// RAM plus swap in bytes, from /proc/meminfo (None where there is no such file).
fn system_memory_bytes() -> Option<usize> {
    static TOTAL: std::sync::OnceLock<Option<usize>> = std::sync::OnceLock::new();
    *TOTAL.get_or_init(|| {
        let info = std::fs::read_to_string("/proc/meminfo").ok()?;
        let kib = |key: &str| -> Option<usize> {
            let line = info.lines().find(|l| l.starts_with(key))?;
            line.split_whitespace().nth(1)?.parse().ok()
        };
        Some(kib("MemTotal:")?.saturating_add(kib("SwapTotal:").unwrap_or(0)).saturating_mul(1024))
    })
}

/// `checked_numel` then `ensure_memory`: for results of `shape` about to be allocated.
pub fn check_alloc(shape: &[usize], op: &str) -> PyResult<usize> {
    let n = checked_numel(shape, op)?;
    ensure_memory(n, op)?;
    Ok(n)
}

/// Shapes given as varargs `f(2, 3)` or as one sequence `f((2, 3))`.
pub fn shape_args(args: &Bound<'_, PyTuple>, op: &str) -> PyResult<Vec<isize>> {
    let items: Bound<'_, PyAny> = if args.len() == 1 && !args.get_item(0)?.is_instance_of::<PyInt>() {
        args.get_item(0)?
    } else {
        args.clone().into_any()
    };
    let seq = items
        .cast::<PySequence>()
        .map_err(|_| PyTypeError::new_err(format!("{op}: expected a shape (ints or a sequence of ints)")))?;
    let mut out = Vec::new();
    for item in seq.try_iter()? {
        let item = item?;
        if item.is_instance_of::<PyBool>() || item.is_instance_of::<PyFloat>() {
            return Err(PyTypeError::new_err(format!(
                "{op}: shape entries must be ints, got {}",
                item.get_type().name()?
            )));
        }
        out.push(item.extract::<isize>().map_err(|_| {
            if item.is_instance_of::<PyInt>() {
                PyValueError::new_err(format!("{op}: shape entry {item} is out of range"))
            } else {
                PyTypeError::new_err(format!("{op}: shape entries must be ints, got {}", type_name(&item)))
            }
        })?);
    }
    Ok(out)
}

/// Integer indices from a list, a numpy integer array or a tensor holding integers.
pub fn int_indices(py: Python<'_>, obj: &Bound<'_, PyAny>, op: &str) -> PyResult<Vec<i64>> {
    if let Ok(t) = obj.cast::<PyTensor>() {
        let vals = t.get().t.try_to_vec().map_err(super::errors::to_py)?;
        return vals
            .into_iter()
            .map(|v| {
                if v.fract() == 0.0 && v.is_finite() {
                    Ok(v as i64)
                } else {
                    Err(PyValueError::new_err(format!("{op}: index tensor must hold integers, found {v}")))
                }
            })
            .collect();
    }
    let np = py.import("numpy")?;
    let arr = np.getattr("asarray")?.call1((obj,))?;
    let kind: String = arr.getattr("dtype")?.getattr("kind")?.extract()?;
    if kind == "b" {
        return Err(PyTypeError::new_err(format!(
            "{op}: boolean masks are not supported as indices; use numpy.nonzero(mask)[0]"
        )));
    }
    if kind != "i" && kind != "u" && !(kind == "f" && arr.getattr("size")?.extract::<usize>()? == 0) {
        return Err(PyTypeError::new_err(format!("{op}: indices must be integers, got an array of dtype kind {kind:?}")));
    }
    let flat = arr.call_method1("astype", ("int64",))?.call_method0("ravel")?;
    let list = flat.call_method0("tolist")?;
    let list = list.cast::<PyList>()?;
    list.iter().map(|x| x.extract::<i64>()).collect()
}
