//! The Python `Tensor` class: a handle on a Rust `Tensor`. Methods parse arguments and
//! forward to `ops/`; heavy ones release the GIL (see `errors::run`).

use super::convert::{check_alloc, checked_numel, dims, ensure_memory, int_indices, one_dim, operand, shape_args};
use super::errors::{run, to_py};
use crate::error::Error;
use crate::tensor::Tensor;
use numpy::{PyArray1, PyArrayMethods};
use pyo3::exceptions::{PyIndexError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyEllipsis, PyList, PySlice, PyTuple, PyType};

#[pyclass(name = "Tensor", module = "ferrograd", subclass, frozen)]
pub struct PyTensor {
    pub t: Tensor,
}

pub fn wrap(t: Tensor) -> PyTensor {
    PyTensor { t }
}

/// The (values, indices) named tuple returned by max(dim=) / min(dim=).
fn values_indices<'py>(py: Python<'py>, v: Tensor, i: Tensor) -> PyResult<Bound<'py, PyAny>> {
    static CLS: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
    let cls = CLS.get_or_try_init(py, || -> PyResult<Py<PyAny>> {
        let nt = py.import("collections")?.getattr("namedtuple")?;
        Ok(nt.call1(("values_indices", ("values", "indices")))?.unbind())
    })?;
    cls.bind(py).call1((wrap(v), wrap(i)))
}

fn repr_values(t: &Tensor) -> String {
    let v = t.to_vec();
    fn fmt(x: f32) -> String {
        if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e8 {
            format!("{x:.0}.")
        } else {
            format!("{x:.4}")
        }
    }
    fn rec(v: &[f32], shape: &[usize], depth: usize) -> String {
        if shape.is_empty() {
            return fmt(v[0]);
        }
        let n = shape[0];
        let stride: usize = shape[1..].iter().product();
        let show: Vec<usize> = if n > 6 { vec![0, 1, 2, n - 3, n - 2, n - 1] } else { (0..n).collect() };
        let sep = if shape.len() > 1 { format!(",\n{}", " ".repeat(depth + 8)) } else { ", ".into() };
        let mut parts = Vec::new();
        for (k, &i) in show.iter().enumerate() {
            if n > 6 && k == 3 {
                parts.push("...".to_string());
            }
            parts.push(rec(&v[i * stride..(i + 1) * stride], &shape[1..], depth + 1));
        }
        format!("[{}]", parts.join(&sep))
    }
    if t.numel() == 0 {
        return "[]".into();
    }
    rec(&v, t.shape(), 0)
}

/// The sizes of a reshape target without its inferred (-1) or invalid (negative) entries.
fn known_dims(shape: &[isize]) -> Vec<usize> {
    shape.iter().filter(|&&d| d >= 0).map(|&d| d as usize).collect()
}

impl PyTensor {
    fn binary(&self, py: Python<'_>, other: &Bound<'_, PyAny>, name: &str, reflected: bool, f: fn(&Tensor, &Tensor) -> crate::Result<Tensor>) -> PyResult<PyTensor> {
        let o = operand(py, other, name)?;
        let (a, b) = if reflected { (o, self.t.clone()) } else { (self.t.clone(), o) };
        // The result of broadcasting (or a matmul's rows x columns) may dwarf both inputs.
        let out_shape = if name == "matmul" {
            let (sa, sb) = (a.shape(), b.shape());
            match (sa.len() >= 2, sb.len() >= 2) {
                (true, true) => crate::tensor::broadcast_shapes(name, &sa[..sa.len() - 2], &sb[..sb.len() - 2])
                    .ok()
                    .map(|mut s| {
                        s.extend([sa[sa.len() - 2], sb[sb.len() - 1]]);
                        s
                    }),
                _ => None,
            }
        } else {
            crate::tensor::broadcast_shapes(name, a.shape(), b.shape()).ok()
        };
        if let Some(shape) = out_shape {
            check_alloc(&shape, name)?;
        }
        let work = a.numel().max(b.numel());
        run(py, work, move || f(&a, &b)).map(wrap)
    }

    fn unary(&self, py: Python<'_>, f: fn(&Tensor) -> crate::Result<Tensor>) -> PyResult<PyTensor> {
        ensure_memory(self.t.numel(), "tensor op")?;
        let a = self.t.clone();
        run(py, a.numel(), move || f(&a)).map(wrap)
    }

    fn inplace(&self, py: Python<'_>, other: &Bound<'_, PyAny>, name: &str, f: fn(&Tensor, &Tensor) -> crate::Result<Tensor>) -> PyResult<()> {
        let o = operand(py, other, name)?;
        let a = self.t.clone();
        run(py, a.numel(), move || {
            a.check_inplace(name)?;
            let r = f(&a, &o)?;
            if r.shape() != a.shape() {
                return Err(Error::Shape(format!(
                    "{name}: result of shape {:?} does not fit the in-place target of shape {:?}",
                    r.shape(),
                    a.shape()
                )));
            }
            a.copy_(&r)
        })
    }
}

#[pymethods]
impl PyTensor {
    /// Tensor(data, requires_grad=False): a new float32 tensor copied from data (a Tensor
    /// shares its storage instead, like `Parameter(t)` in torch).
    #[new]
    #[pyo3(signature = (data, requires_grad = false))]
    fn py_new(py: Python<'_>, data: &Bound<'_, PyAny>, requires_grad: bool) -> PyResult<PyTensor> {
        let t = match data.cast::<PyTensor>() {
            Ok(t) => t.get().t.detach(),
            Err(_) => super::convert::array_to_tensor(py, data, "tensor")?,
        };
        Ok(wrap(t.requires_grad(requires_grad)))
    }

    // ---- properties -------------------------------------------------------------------

    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.t.shape())
    }

    #[getter]
    fn ndim(&self) -> usize {
        self.t.ndim()
    }

    #[getter]
    fn device(&self) -> &'static str {
        self.t.device().name()
    }

    #[getter]
    fn dtype(&self) -> &'static str {
        "float32"
    }

    #[getter]
    fn get_requires_grad(&self) -> bool {
        self.t.requires_grad_flag()
    }

    #[setter]
    fn set_requires_grad(&self, flag: bool) -> PyResult<()> {
        self.t.set_requires_grad(flag).map_err(to_py)
    }

    #[getter]
    fn is_leaf(&self) -> bool {
        self.t.is_leaf()
    }

    /// Name of the op that made this tensor (None for leaves).
    #[getter]
    fn grad_fn(&self) -> Option<&'static str> {
        self.t.grad_fn().map(|n| n.name)
    }

    #[getter]
    fn get_grad(&self) -> Option<PyTensor> {
        self.t.grad().map(wrap)
    }

    #[setter]
    fn set_grad(&self, g: Option<PyRef<'_, PyTensor>>) -> PyResult<()> {
        self.t.set_grad(g.map(|g| g.t.detach())).map_err(to_py)
    }

    /// The data without autograd history (shares storage).
    #[getter]
    fn data(&self) -> PyTensor {
        wrap(self.t.detach())
    }

    #[getter(T)]
    fn transposed(&self) -> PyResult<PyTensor> {
        let nd = self.t.ndim() as isize;
        let perm: Vec<isize> = (0..nd).rev().collect();
        self.t.permute(&perm).map(wrap).map_err(to_py)
    }

    // ---- conversion ---------------------------------------------------------------------

    fn numel(&self) -> usize {
        self.t.numel()
    }

    fn dim(&self) -> usize {
        self.t.ndim()
    }

    /// size() → shape tuple; size(d) → the size of dim d.
    #[pyo3(signature = (dim = None))]
    fn size<'py>(&self, py: Python<'py>, dim: Option<isize>) -> PyResult<Bound<'py, PyAny>> {
        match dim {
            None => Ok(self.shape(py)?.into_any()),
            Some(d) => {
                let d = crate::tensor::normalize_dim("size", d, self.t.ndim()).map_err(to_py)?;
                Ok(self.t.shape()[d].into_pyobject(py)?.into_any())
            }
        }
    }

    fn item(&self) -> PyResult<f64> {
        self.t.item().map(|v| v as f64).map_err(to_py)
    }

    /// A float32 numpy array holding a copy of the data.
    fn numpy<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let t = self.t.clone();
        let v = run(py, t.numel(), move || t.try_to_vec())?;
        let arr = PyArray1::from_vec(py, v);
        Ok(arr.reshape(self.t.shape().to_vec())?.into_any())
    }

    #[pyo3(signature = (dtype = None, copy = None))]
    fn __array__<'py>(&self, py: Python<'py>, dtype: Option<&Bound<'py, PyAny>>, copy: Option<bool>) -> PyResult<Bound<'py, PyAny>> {
        let _ = copy;
        let a = self.numpy(py)?;
        match dtype {
            Some(d) if !d.is_none() => a.call_method1("astype", (d,)),
            _ => Ok(a),
        }
    }

    fn tolist<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.numpy(py)?.call_method0("tolist")
    }

    fn detach(&self) -> PyTensor {
        wrap(self.t.detach())
    }

    #[pyo3(signature = (requires_grad = true))]
    fn requires_grad_(slf: Bound<'_, Self>, requires_grad: bool) -> PyResult<Bound<'_, Self>> {
        slf.get().t.set_requires_grad(requires_grad).map_err(to_py)?;
        Ok(slf)
    }

    /// Back-propagates; `gradient` is required for non-scalar tensors.
    #[pyo3(signature = (gradient = None, retain_graph = false))]
    fn backward(&self, py: Python<'_>, gradient: Option<&Bound<'_, PyAny>>, retain_graph: bool) -> PyResult<()> {
        let g = match gradient {
            Some(g) if !g.is_none() => Some(operand(py, g, "backward")?),
            _ => None,
        };
        let t = self.t.clone();
        run(py, usize::MAX, move || t.backward(g.as_ref(), retain_graph))
    }

    /// A copy that stays in the graph (gradients flow back to the original).
    fn clone(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.add_scalar(0.0))
    }

    fn contiguous(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.contiguous())
    }

    /// ferrograd tensors are always float32; provided so torch code (`.float()`) runs.
    fn float(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// This tensor on `device` ("cpu" or "wgpu"): itself when already there, else a copy that
    /// gradients flow back through (as torch's `.to`).
    fn to(slf: Bound<'_, Self>, device: &str) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let d = crate::tensor::Device::parse(device).map_err(to_py)?;
        let t = slf.get().t.clone();
        if t.device() == d {
            return Ok(slf.into_any().unbind());
        }
        let moved = run(py, t.numel(), move || t.to_device(d))?;
        Ok(Py::new(py, wrap(moved))?.into_any())
    }

    fn cpu(slf: Bound<'_, Self>) -> PyResult<Py<PyAny>> {
        PyTensor::to(slf, "cpu")
    }

    // ---- in-place (for initialisers and hand-written updates under no_grad) ----------------

    fn zero_(slf: Bound<'_, Self>) -> PyResult<Bound<'_, Self>> {
        slf.get().t.fill_(0.0).map_err(to_py)?;
        Ok(slf)
    }

    fn fill_(slf: Bound<'_, Self>, value: f64) -> PyResult<Bound<'_, Self>> {
        slf.get().t.fill_(value as f32).map_err(to_py)?;
        Ok(slf)
    }

    fn copy_<'py>(slf: Bound<'py, Self>, src: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        let s = operand(slf.py(), src, "copy_")?;
        slf.get().t.copy_(&s).map_err(to_py)?;
        Ok(slf)
    }

    /// Fills with N(mean, std²) samples from the global generator.
    #[pyo3(signature = (mean = 0.0, std = 1.0))]
    fn normal_(slf: Bound<'_, Self>, mean: f64, std: f64) -> PyResult<Bound<'_, Self>> {
        if !(std >= 0.0) {
            return Err(PyValueError::new_err(format!("normal_: std must be non-negative, got {std}")));
        }
        let t = &slf.get().t;
        let v: Vec<f32> = crate::random::normal_vec(t.numel()).into_iter().map(|x| (mean + std * x as f64) as f32).collect();
        t.copy_(&Tensor::from_vec(v, t.shape()).map_err(to_py)?).map_err(to_py)?;
        Ok(slf)
    }

    /// Fills with U(a, b) samples from the global generator.
    #[pyo3(signature = (a = 0.0, b = 1.0))]
    fn uniform_(slf: Bound<'_, Self>, a: f64, b: f64) -> PyResult<Bound<'_, Self>> {
        if !(a <= b) {
            return Err(PyValueError::new_err(format!("uniform_: expected a <= b, got a={a}, b={b}")));
        }
        let t = &slf.get().t;
        let v: Vec<f32> = crate::random::uniform_vec(t.numel()).into_iter().map(|x| (a + (b - a) * x as f64) as f32).collect();
        t.copy_(&Tensor::from_vec(v, t.shape()).map_err(to_py)?).map_err(to_py)?;
        Ok(slf)
    }

    fn __iadd__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, other, "add_", |a, b| a.add(b))
    }
    fn __isub__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, other, "sub_", |a, b| a.sub(b))
    }
    fn __imul__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, other, "mul_", |a, b| a.mul(b))
    }
    fn __itruediv__(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<()> {
        self.inplace(py, other, "div_", |a, b| a.div(b))
    }
    fn add_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().inplace(slf.py(), other, "add_", |a, b| a.add(b))?;
        Ok(slf)
    }
    fn sub_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().inplace(slf.py(), other, "sub_", |a, b| a.sub(b))?;
        Ok(slf)
    }
    fn mul_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().inplace(slf.py(), other, "mul_", |a, b| a.mul(b))?;
        Ok(slf)
    }
    fn div_<'py>(slf: Bound<'py, Self>, other: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Self>> {
        slf.get().inplace(slf.py(), other, "div_", |a, b| a.div(b))?;
        Ok(slf)
    }
    #[pyo3(signature = (min = None, max = None))]
    fn clamp_<'py>(slf: Bound<'py, Self>, min: Option<f64>, max: Option<f64>) -> PyResult<Bound<'py, Self>> {
        let t = slf.get().t.clone();
        t.check_inplace("clamp_").map_err(to_py)?;
        let r = t.clamp(min.map(|v| v as f32), max.map(|v| v as f32)).map_err(to_py)?;
        t.copy_(&r).map_err(to_py)?;
        Ok(slf)
    }

    // ---- arithmetic operators -----------------------------------------------------------

    fn __add__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "add", false, |a, b| a.add(b))
    }
    fn __radd__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "add", true, |a, b| a.add(b))
    }
    fn __sub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "sub", false, |a, b| a.sub(b))
    }
    fn __rsub__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "sub", true, |a, b| a.sub(b))
    }
    fn __mul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "mul", false, |a, b| a.mul(b))
    }
    fn __rmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "mul", true, |a, b| a.mul(b))
    }
    fn __truediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "div", false, |a, b| a.div(b))
    }
    fn __rtruediv__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "div", true, |a, b| a.div(b))
    }
    fn __pow__(&self, py: Python<'_>, o: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Err(PyTypeError::new_err("pow: the modulo argument is not supported"));
        }
        self.pow(py, o)
    }
    fn __rpow__(&self, py: Python<'_>, o: &Bound<'_, PyAny>, modulo: Option<&Bound<'_, PyAny>>) -> PyResult<PyTensor> {
        if modulo.is_some_and(|m| !m.is_none()) {
            return Err(PyTypeError::new_err("pow: the modulo argument is not supported"));
        }
        self.binary(py, o, "pow", true, |a, b| a.pow(b))
    }
    fn __matmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "matmul", false, |a, b| a.matmul(b))
    }
    fn __rmatmul__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "matmul", true, |a, b| a.matmul(b))
    }
    fn __neg__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.neg())
    }
    fn __pos__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }
    fn __abs__(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.abs())
    }

    // Comparisons return 0./1. tensors (no gradient), as torch's bool tensors would.
    fn __eq__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "eq", false, |a, b| a.eq(b))
    }
    fn __ne__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "ne", false, |a, b| a.ne(b))
    }
    fn __lt__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "lt", false, |a, b| a.lt(b))
    }
    fn __le__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "le", false, |a, b| a.le(b))
    }
    fn __gt__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "gt", false, |a, b| a.gt(b))
    }
    fn __ge__(&self, py: Python<'_>, o: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, o, "ge", false, |a, b| a.ge(b))
    }
    fn __hash__(slf: &Bound<'_, Self>) -> isize {
        slf.as_ptr() as isize
    }

    fn add(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, "add", false, |a, b| a.add(b))
    }
    fn sub(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, "sub", false, |a, b| a.sub(b))
    }
    fn mul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, "mul", false, |a, b| a.mul(b))
    }
    fn div(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, "div", false, |a, b| a.div(b))
    }
    fn eq(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.__eq__(py, other)
    }
    fn ne(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.__ne__(py, other)
    }
    fn lt(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.__lt__(py, other)
    }
    fn le(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.__le__(py, other)
    }
    fn gt(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.__gt__(py, other)
    }
    fn ge(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.__ge__(py, other)
    }
    fn matmul(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.__matmul__(py, other)
    }
    fn maximum(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, "maximum", false, |a, b| a.maximum(b))
    }
    fn minimum(&self, py: Python<'_>, other: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        self.binary(py, other, "minimum", false, |a, b| a.minimum(b))
    }

    /// Elementwise power; a Python number exponent uses the faster scalar form.
    fn pow(&self, py: Python<'_>, exponent: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        if exponent.cast::<PyTensor>().is_err() {
            if let Ok(e) = exponent.extract::<f64>() {
                let a = self.t.clone();
                return run(py, a.numel(), move || a.pow_scalar(e as f32)).map(wrap);
            }
        }
        self.binary(py, exponent, "pow", false, |a, b| a.pow(b))
    }

    // ---- maths --------------------------------------------------------------------------

    fn neg(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.neg())
    }
    fn exp(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.exp())
    }
    fn log(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.log())
    }
    fn sqrt(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.sqrt())
    }
    fn abs(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.abs())
    }
    fn tanh(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.tanh())
    }
    fn sigmoid(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.sigmoid())
    }
    fn relu(&self, py: Python<'_>) -> PyResult<PyTensor> {
        self.unary(py, |t| t.relu())
    }
    #[pyo3(signature = (negative_slope = 0.01))]
    fn leaky_relu(&self, py: Python<'_>, negative_slope: f64) -> PyResult<PyTensor> {
        let a = self.t.clone();
        run(py, a.numel(), move || a.leaky_relu(negative_slope as f32)).map(wrap)
    }
    #[pyo3(signature = (min = None, max = None))]
    fn clamp(&self, py: Python<'_>, min: Option<f64>, max: Option<f64>) -> PyResult<PyTensor> {
        let a = self.t.clone();
        run(py, a.numel(), move || a.clamp(min.map(|v| v as f32), max.map(|v| v as f32))).map(wrap)
    }
    #[pyo3(signature = (dim = -1))]
    fn softmax(&self, py: Python<'_>, dim: isize) -> PyResult<PyTensor> {
        let a = self.t.clone();
        run(py, a.numel(), move || a.softmax(dim)).map(wrap)
    }
    #[pyo3(signature = (dim = -1))]
    fn log_softmax(&self, py: Python<'_>, dim: isize) -> PyResult<PyTensor> {
        let a = self.t.clone();
        run(py, a.numel(), move || a.log_softmax(dim)).map(wrap)
    }

    // ---- reductions ---------------------------------------------------------------------

    #[pyo3(signature = (dim = None, keepdim = false))]
    fn sum(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        let d = dims(dim, "sum")?;
        let a = self.t.clone();
        run(py, a.numel(), move || a.sum(d.as_deref(), keepdim)).map(wrap)
    }

    #[pyo3(signature = (dim = None, keepdim = false))]
    fn mean(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        let d = dims(dim, "mean")?;
        let a = self.t.clone();
        run(py, a.numel(), move || a.mean(d.as_deref(), keepdim)).map(wrap)
    }

    /// Variance with Bessel's correction by default (`unbiased=False` or `correction=0` for
    /// the population variance).
    #[pyo3(signature = (dim = None, unbiased = None, keepdim = false, *, correction = None))]
    fn var(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, unbiased: Option<bool>, keepdim: bool, correction: Option<f64>) -> PyResult<PyTensor> {
        if unbiased.is_some() && correction.is_some() {
            return Err(PyValueError::new_err("var: pass either unbiased or correction, not both"));
        }
        let c = correction.unwrap_or(if unbiased.unwrap_or(true) { 1.0 } else { 0.0 }) as f32;
        let d = dims(dim, "var")?;
        let a = self.t.clone();
        run(py, a.numel(), move || a.var(d.as_deref(), c, keepdim)).map(wrap)
    }

    /// max() → the largest element; max(dim) → (values, indices); max(other) → maximum.
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn max<'py>(&self, py: Python<'py>, dim: Option<&Bound<'py, PyAny>>, keepdim: bool) -> PyResult<Bound<'py, PyAny>> {
        self.extreme(py, dim, keepdim, true)
    }

    #[pyo3(signature = (dim = None, keepdim = false))]
    fn min<'py>(&self, py: Python<'py>, dim: Option<&Bound<'py, PyAny>>, keepdim: bool) -> PyResult<Bound<'py, PyAny>> {
        self.extreme(py, dim, keepdim, false)
    }

    #[pyo3(signature = (dim = None, keepdim = false))]
    fn amax(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        let d = dims(dim, "amax")?;
        let a = self.t.clone();
        run(py, a.numel(), move || a.amax(d.as_deref(), keepdim)).map(wrap)
    }

    #[pyo3(signature = (dim = None, keepdim = false))]
    fn amin(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        let d = dims(dim, "amin")?;
        let a = self.t.clone();
        run(py, a.numel(), move || a.amin(d.as_deref(), keepdim)).map(wrap)
    }

    /// Indices (as float32 integers) of the largest elements along `dim` (None: flattened).
    #[pyo3(signature = (dim = None, keepdim = false))]
    fn argmax(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        let d = match dim {
            Some(d) if !d.is_none() => Some(one_dim(d, "argmax")?),
            _ => None,
        };
        let a = self.t.clone();
        run(py, a.numel(), move || a.argmax(d, keepdim)).map(wrap)
    }

    #[pyo3(signature = (dim = None, keepdim = false))]
    fn argmin(&self, py: Python<'_>, dim: Option<&Bound<'_, PyAny>>, keepdim: bool) -> PyResult<PyTensor> {
        let d = match dim {
            Some(d) if !d.is_none() => Some(one_dim(d, "argmin")?),
            _ => None,
        };
        let a = self.t.clone();
        run(py, a.numel(), move || a.argmin(d, keepdim)).map(wrap)
    }

    // ---- shapes -------------------------------------------------------------------------

    #[pyo3(signature = (*shape))]
    fn reshape(&self, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let s = shape_args(shape, "reshape")?;
        checked_numel(&known_dims(&s), "reshape")?;
        self.t.reshape_infer(&s).map(wrap).map_err(to_py)
    }

    #[pyo3(signature = (*shape))]
    fn view(&self, shape: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let s = shape_args(shape, "view")?;
        checked_numel(&known_dims(&s), "view")?;
        self.t.view(&s).map(wrap).map_err(to_py)
    }

    #[pyo3(signature = (*dims))]
    fn permute(&self, dims: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let d = shape_args(dims, "permute")?;
        self.t.permute(&d).map(wrap).map_err(to_py)
    }

    fn transpose(&self, dim0: isize, dim1: isize) -> PyResult<PyTensor> {
        self.t.transpose(dim0, dim1).map(wrap).map_err(to_py)
    }

    /// Broadcast view; -1 keeps a dim's size.
    #[pyo3(signature = (*sizes))]
    fn expand(&self, sizes: &Bound<'_, PyTuple>) -> PyResult<PyTensor> {
        let s = shape_args(sizes, "expand")?;
        let lead = s.len().saturating_sub(self.t.ndim());
        let mut shape = Vec::with_capacity(s.len());
        for (i, &v) in s.iter().enumerate() {
            if v == -1 && i >= lead {
                shape.push(self.t.shape()[i - lead]);
            } else if v < 0 {
                return Err(PyValueError::new_err(format!("expand: invalid size {v} at dim {i}")));
            } else {
                shape.push(v as usize);
            }
        }
        checked_numel(&shape, "expand")?;
        self.t.expand(&shape).map(wrap).map_err(to_py)
    }

    fn expand_as(&self, other: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        self.t.expand(other.t.shape()).map(wrap).map_err(to_py)
    }

    #[pyo3(signature = (dim = None))]
    fn squeeze(&self, dim: Option<isize>) -> PyResult<PyTensor> {
        match dim {
            None => self.t.squeeze(),
            Some(d) => self.t.squeeze_dim(d),
        }
        .map(wrap)
        .map_err(to_py)
    }

    fn unsqueeze(&self, dim: isize) -> PyResult<PyTensor> {
        self.t.unsqueeze(dim).map(wrap).map_err(to_py)
    }

    #[pyo3(signature = (start_dim = 0, end_dim = -1))]
    fn flatten(&self, start_dim: isize, end_dim: isize) -> PyResult<PyTensor> {
        self.t.flatten(start_dim, end_dim).map(wrap).map_err(to_py)
    }

    fn __len__(&self) -> PyResult<usize> {
        self.t.shape().first().copied().ok_or_else(|| PyTypeError::new_err("len() of a 0-d tensor"))
    }

    fn __bool__(&self) -> PyResult<bool> {
        if self.t.numel() != 1 {
            return Err(PyValueError::new_err(format!(
                "the truth value of a tensor with {} elements is ambiguous",
                self.t.numel()
            )));
        }
        Ok(self.t.item().map_err(to_py)? != 0.0)
    }

    fn __float__(&self) -> PyResult<f64> {
        self.item()
    }

    fn __int__(&self) -> PyResult<i64> {
        Ok(self.item()? as i64)
    }

    fn __index__(&self) -> PyResult<i64> {
        let v = self.item()?;
        if v.fract() != 0.0 {
            return Err(PyTypeError::new_err(format!("only integer-valued tensors can be used as an index, got {v}")));
        }
        Ok(v as i64)
    }

    /// Indexing: ints, slices (step > 0), None and ... in any position; an integer list,
    /// numpy array or tensor selects rows of the first indexed dim (a copy).
    fn __getitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<PyTensor> {
        let t = index(py, &self.t, key)?;
        Ok(wrap(t))
    }

    /// `t[key] = value` for int/slice keys (writes into the view; use under no_grad for leaves).
    fn __setitem__(&self, py: Python<'_>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let target = {
            let _ng = crate::autograd::NoGradGuard::new();
            index(py, &self.t.detach(), key)?
        };
        if !target.storage().same_as(self.t.storage()) {
            return Err(PyTypeError::new_err("assignment through an index array is not supported; use int/slice keys"));
        }
        self.t.check_inplace("__setitem__").map_err(to_py)?;
        let v = operand(py, value, "__setitem__")?;
        target.copy_(&v).map_err(to_py)
    }

    fn __repr__(&self) -> String {
        let body = repr_values(&self.t);
        let mut extra = String::new();
        if let Some(f) = self.t.grad_fn() {
            extra = format!(", grad_fn=<{}>", f.name);
        } else if self.t.requires_grad_flag() {
            extra = ", requires_grad=True".into();
        }
        if self.t.numel() > 0 && self.t.ndim() > 0 && self.t.numel() <= 1000 {
            format!("tensor({body}{extra})")
        } else {
            format!("tensor({body}, shape={:?}{extra})", self.t.shape())
        }
    }

    /// Pickling (and copy.deepcopy) rebuild the tensor from its values: (type, (array, requires_grad)).
    /// Gradients and graph history are not kept. Checkpoints should use ferrograd.save.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (Bound<'py, PyAny>, bool))> {
        let py = slf.py();
        let t = slf.get();
        Ok((slf.get_type().into_any(), (t.numpy(py)?, t.t.requires_grad_flag() && t.t.is_leaf())))
    }

    #[classmethod]
    fn __class_getitem__(cls: &Bound<'_, PyType>, item: &Bound<'_, PyAny>) -> Py<PyType> {
        let _ = item;
        cls.clone().unbind()
    }
}

impl PyTensor {
    fn extreme<'py>(&self, py: Python<'py>, dim: Option<&Bound<'py, PyAny>>, keepdim: bool, largest: bool) -> PyResult<Bound<'py, PyAny>> {
        let a = self.t.clone();
        let op = if largest { "max" } else { "min" };
        match dim {
            Some(d) if d.cast::<PyTensor>().is_ok() => {
                let o = d.cast::<PyTensor>()?.get().t.clone();
                let r = run(py, a.numel(), move || if largest { a.maximum(&o) } else { a.minimum(&o) })?;
                Ok(Bound::new(py, wrap(r))?.into_any())
            }
            Some(d) if !d.is_none() => {
                let d = one_dim(d, op)?;
                let (v, i) = run(py, a.numel(), move || if largest { a.max_dim(d, keepdim) } else { a.min_dim(d, keepdim) })?;
                values_indices(py, v, i)
            }
            _ => {
                let r = run(py, a.numel(), move || if largest { a.amax(None, false) } else { a.amin(None, false) })?;
                Ok(Bound::new(py, wrap(r))?.into_any())
            }
        }
    }
}

/// Applies an index key (see `__getitem__`).
fn index(py: Python<'_>, t: &Tensor, key: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    let items: Vec<Bound<'_, PyAny>> = if let Ok(tup) = key.cast::<PyTuple>() {
        tup.iter().collect()
    } else {
        vec![key.clone()]
    };
    let consumes = |k: &Bound<'_, PyAny>| !(k.is_none() || k.is_instance_of::<PyEllipsis>());
    let n_consume = items.iter().filter(|k| consumes(k)).count();
    if n_consume > t.ndim() {
        return Err(PyIndexError::new_err(format!(
            "too many indices for tensor of dimension {} (got {n_consume})",
            t.ndim()
        )));
    }
    if items.iter().filter(|k| k.is_instance_of::<PyEllipsis>()).count() > 1 {
        return Err(PyIndexError::new_err("an index can only have a single ellipsis ('...')"));
    }
    let mut out = t.clone();
    let mut dim: isize = 0;
    let mut arrays_used = false;
    for k in &items {
        if k.is_none() {
            out = out.unsqueeze(dim).map_err(to_py)?;
            dim += 1;
        } else if k.is_instance_of::<PyEllipsis>() {
            dim += (t.ndim() - n_consume) as isize;
        } else if let Ok(s) = k.cast::<PySlice>() {
            let start: Option<isize> = s.getattr("start")?.extract()?;
            let stop: Option<isize> = s.getattr("stop")?.extract()?;
            let step: Option<isize> = s.getattr("step")?.extract()?;
            let step = step.unwrap_or(1);
            if step <= 0 {
                return Err(PyValueError::new_err(format!("slice step must be positive, got {step}")));
            }
            out = out.slice(dim, start.unwrap_or(0), stop.unwrap_or(isize::MAX), step as usize).map_err(to_py)?;
            dim += 1;
        } else if k.cast::<PyTensor>().is_err() && k.extract::<isize>().is_ok() && !k.is_instance_of::<PyList>() {
            out = out.select(dim, k.extract::<isize>()?).map_err(to_py)?;
        } else {
            if arrays_used {
                return Err(PyIndexError::new_err("only one index array per indexing expression is supported"));
            }
            if let Ok(tk) = k.cast::<PyTensor>() {
                if tk.get().t.ndim() == 0 {
                    let i = tk.get().__index__()? as isize;
                    out = out.select(dim, i).map_err(to_py)?;
                    continue;
                }
            }
            arrays_used = true;
            let idx = int_indices(py, k, "index")?;
            // Move the indexed dim first, gather rows, move it back.
            let moved = out.transpose(0, dim).map_err(to_py)?;
            let picked = moved.index_select0(&idx).map_err(to_py)?;
            out = picked.transpose(0, dim).map_err(to_py)?;
            dim += 1;
        }
    }
    Ok(out)
}
