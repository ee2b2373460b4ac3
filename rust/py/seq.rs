//! Bindings for `crate::nn::Sequential`: a whole model's forward (or a training step's forward
//! and loss) in one call. `ferrograd.nn.Sequential` builds one from its modules when every
//! module is a known layer; the specs below are what it passes. Conversion only.

use super::errors::run;
use super::tensor::{wrap, PyTensor};
use crate::nn::{BatchNorm, Layer, Sequential};
use crate::ops::Pool2d;
use crate::tensor::Tensor;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

#[pyclass(name = "SequentialPlan", module = "ferrograd", frozen)]
pub struct PySequential {
    seq: Sequential,
}

fn tensor(obj: &Bound<'_, PyAny>) -> PyResult<Tensor> {
    Ok(obj.cast::<PyTensor>().map_err(|_| PyTypeError::new_err("SequentialPlan: expected a Tensor"))?.get().t.clone())
}

fn opt_tensor(obj: &Bound<'_, PyAny>) -> PyResult<Option<Tensor>> {
    if obj.is_none() {
        Ok(None)
    } else {
        tensor(obj).map(Some)
    }
}

fn layer(spec: &Bound<'_, PyTuple>) -> PyResult<Layer> {
    let kind: String = spec.get_item(0)?.extract()?;
    let it = |i: usize| spec.get_item(i);
    Ok(match kind.as_str() {
        "linear" => Layer::Linear { weight: tensor(&it(1)?)?, bias: opt_tensor(&it(2)?)? },
        "conv2d" => Layer::Conv2d {
            weight: tensor(&it(1)?)?,
            bias: opt_tensor(&it(2)?)?,
            stride: it(3)?.extract()?,
            padding: it(4)?.extract()?,
            dilation: it(5)?.extract()?,
        },
        "relu" => Layer::Relu,
        "leaky_relu" => Layer::LeakyRelu(it(1)?.extract::<f64>()? as f32),
        "sigmoid" => Layer::Sigmoid,
        "tanh" => Layer::Tanh,
        "prelu" => Layer::PRelu { weight: tensor(&it(1)?)? },
        "dropout" => Layer::Dropout { p: it(1)?.extract::<f64>()? as f32, training: it(2)?.extract()? },
        "batch_norm" => Layer::BatchNorm(BatchNorm {
            name: it(1)?.extract()?,
            ndims: it(2)?.extract()?,
            weight: opt_tensor(&it(3)?)?,
            bias: opt_tensor(&it(4)?)?,
            running_mean: opt_tensor(&it(5)?)?,
            running_var: opt_tensor(&it(6)?)?,
            num_batches_tracked: opt_tensor(&it(7)?)?,
            momentum: it(8)?.extract::<Option<f64>>()?.map(|m| m as f32),
            eps: it(9)?.extract::<f64>()? as f32,
            training: it(10)?.extract()?,
        }),
        "max_pool2d" => Layer::MaxPool2d(Pool2d {
            kernel: it(1)?.extract()?,
            stride: it(2)?.extract()?,
            padding: it(3)?.extract()?,
            dilation: it(4)?.extract()?,
            ceil_mode: it(5)?.extract()?,
        }),
        "avg_pool2d" => Layer::AvgPool2d {
            pool: Pool2d {
                kernel: it(1)?.extract()?,
                stride: it(2)?.extract()?,
                padding: it(3)?.extract()?,
                dilation: (1, 1),
                ceil_mode: it(4)?.extract()?,
            },
            count_include_pad: it(5)?.extract()?,
        },
        "flatten" => Layer::Flatten { start: it(1)?.extract()?, end: it(2)?.extract()? },
        "identity" => Layer::Identity,
        other => return Err(PyValueError::new_err(format!("SequentialPlan: unknown layer kind {other:?}"))),
    })
}

#[pymethods]
impl PySequential {
    /// SequentialPlan(specs): one tuple per layer, ("linear", weight, bias), ("relu",), ...
    #[new]
    fn new(specs: Vec<Bound<'_, PyTuple>>) -> PyResult<PySequential> {
        let layers = specs.iter().map(layer).collect::<PyResult<Vec<_>>>()?;
        Ok(PySequential { seq: Sequential::new(layers) })
    }

    fn __len__(&self) -> usize {
        self.seq.layers.len()
    }

    /// The output of every layer in turn, as the modules' forward would compute it.
    fn forward(&self, py: Python<'_>, x: PyRef<'_, PyTensor>) -> PyResult<PyTensor> {
        let x = x.t.clone();
        let seq = &self.seq;
        run(py, usize::MAX, move || seq.forward(&x)).map(wrap)
    }

    /// (loss, loss value, correct count): forward, mean cross-entropy against integer
    /// `classes`, and the number of rows whose argmax is the target.
    #[pyo3(signature = (x, classes, ignore_index = -100))]
    fn forward_loss(&self, py: Python<'_>, x: PyRef<'_, PyTensor>, classes: Vec<i64>, ignore_index: i64) -> PyResult<(PyTensor, f64, usize)> {
        let x = x.t.clone();
        let seq = &self.seq;
        let out = run(py, usize::MAX, move || seq.forward_loss(&x, &classes, ignore_index))?;
        Ok((wrap(out.loss), out.value as f64, out.correct))
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySequential>()
}
