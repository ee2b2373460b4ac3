//! Layers as plain Rust data, so a whole `Sequential` runs forward — or forward, loss and
//! backward of a training step — in one call, with no per-layer trip through Python.
//!
//! A `Sequential` holds the same parameter and buffer tensors as the Python modules it was
//! built from (shared storage), and runs the very ops those modules' `forward` call, in the same
//! order (so dropout masks, running statistics and gradients are bit-for-bit those of the
//! layer-by-layer path). It is also the Rust API for training without Python (see the benches).

use crate::error::{Error, Result};
use crate::ops::{BatchNormArgs, Pool2d, Reduction, Targets};
use crate::tensor::Tensor;

/// One layer; `training` flags are those of the module at build time.
pub enum Layer {
    Linear { weight: Tensor, bias: Option<Tensor> },
    Conv2d { weight: Tensor, bias: Option<Tensor>, stride: (usize, usize), padding: (usize, usize), dilation: (usize, usize) },
    Relu,
    LeakyRelu(f32),
    Sigmoid,
    Tanh,
    PRelu { weight: Tensor },
    Dropout { p: f32, training: bool },
    BatchNorm(BatchNorm),
    MaxPool2d(Pool2d),
    AvgPool2d { pool: Pool2d, count_include_pad: bool },
    Flatten { start: isize, end: isize },
    Identity,
}

/// BatchNorm1d/2d as `nn.BatchNorm*d.forward` runs it.
pub struct BatchNorm {
    /// The layer's name for errors ("BatchNorm1d").
    pub name: String,
    /// Input ranks the layer accepts ((2, 3) for 1d, (4,) for 2d).
    pub ndims: Vec<usize>,
    pub weight: Option<Tensor>,
    pub bias: Option<Tensor>,
    /// None when the layer does not track running statistics.
    pub running_mean: Option<Tensor>,
    pub running_var: Option<Tensor>,
    pub num_batches_tracked: Option<Tensor>,
    /// None: cumulative moving average (1 / batches seen), as torch.
    pub momentum: Option<f32>,
    pub eps: f32,
    pub training: bool,
}

impl BatchNorm {
    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        if !self.ndims.contains(&x.ndim()) {
            let want: Vec<String> = self.ndims.iter().map(|d| format!("{d}-D")).collect();
            return Err(Error::Value(format!(
                "{}: expected a {} input, got shape {:?}",
                self.name,
                want.join(" or "),
                x.shape()
            )));
        }
        let tracking = self.running_mean.is_some();
        let mut momentum = self.momentum;
        if self.training && tracking {
            if let Some(n) = &self.num_batches_tracked {
                let _ng = crate::autograd::NoGradGuard::new();
                n.copy_(&n.add_scalar(1.0)?)?;
                if momentum.is_none() {
                    momentum = Some(1.0 / n.item()?);
                }
            }
        }
        x.batch_norm(&BatchNormArgs {
            running_mean: self.running_mean.as_ref(),
            running_var: self.running_var.as_ref(),
            weight: self.weight.as_ref(),
            bias: self.bias.as_ref(),
            training: self.training || !tracking,
            momentum: momentum.unwrap_or(0.0),
            eps: self.eps,
        })
    }
}

impl Layer {
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Layer::Linear { weight, bias } => x.linear(weight, bias.as_ref()),
            Layer::Conv2d { weight, bias, stride, padding, dilation } => {
                x.conv2d(weight, bias.as_ref(), *stride, *padding, *dilation)
            }
            Layer::Relu => x.relu(),
            Layer::LeakyRelu(s) => x.leaky_relu(*s),
            Layer::Sigmoid => x.sigmoid(),
            Layer::Tanh => x.tanh(),
            Layer::PRelu { weight } => x.prelu(weight),
            Layer::Dropout { p, training } => x.dropout(*p, *training),
            Layer::BatchNorm(bn) => bn.forward(x),
            Layer::MaxPool2d(p) => x.max_pool2d(p),
            Layer::AvgPool2d { pool, count_include_pad } => x.avg_pool2d(pool, *count_include_pad),
            Layer::Flatten { start, end } => x.flatten(*start, *end),
            Layer::Identity => Ok(x.clone()),
        }
    }
}

/// Layers applied in order.
#[derive(Default)]
pub struct Sequential {
    pub layers: Vec<Layer>,
}

/// What one training step's forward returns: the mean loss (in the graph, ready for
/// `backward`), its value, and how many rows the logits classify correctly.
pub struct StepOutput {
    pub loss: Tensor,
    pub value: f32,
    pub correct: usize,
}

impl Sequential {
    pub fn new(layers: Vec<Layer>) -> Sequential {
        Sequential { layers }
    }

    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let mut h = x.clone();
        for l in &self.layers {
            h = l.forward(&h)?;
        }
        Ok(h)
    }

    /// Forward, then mean cross-entropy of the logits against `classes` (rows equal to
    /// `ignore_index` skipped, as `cross_entropy`), and the count of correct argmax predictions.
    pub fn forward_loss(&self, x: &Tensor, classes: &[i64], ignore_index: i64) -> Result<StepOutput> {
        let logits = self.forward(x)?;
        let loss = logits.cross_entropy(&Targets::Classes(classes.to_vec()), Reduction::Mean, 0.0, ignore_index)?;
        let value = loss.item()?;
        let correct = count_correct(&logits, classes)?;
        Ok(StepOutput { loss, value, correct })
    }
}

/// Rows of logits (N, C) whose first maximum sits at the target class.
pub fn count_correct(logits: &Tensor, classes: &[i64]) -> Result<usize> {
    if logits.ndim() != 2 || logits.shape()[0] != classes.len() {
        return Err(Error::Shape(format!(
            "count_correct: logits of shape {:?} do not match {} targets",
            logits.shape(),
            classes.len()
        )));
    }
    let c = logits.shape()[1];
    let v = logits.try_to_vec()?;
    let mut correct = 0;
    for (row, &t) in v.chunks(c.max(1)).zip(classes) {
        let mut best = 0;
        for (j, &x) in row.iter().enumerate() {
            // NaN wins (as argmax), else the first maximum.
            if x > row[best] || (x.is_nan() && !row[best].is_nan()) {
                best = j;
            }
        }
        if c > 0 && best as i64 == t {
            correct += 1;
        }
    }
    Ok(correct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mlp_step_matches_layer_by_layer_and_learns() {
        crate::random::manual_seed(3);
        let w1 = crate::random::randn(&[8, 5]).mul_scalar(0.3).unwrap().requires_grad(true);
        let b1 = Tensor::zeros(&[8]).requires_grad(true);
        let w2 = crate::random::randn(&[3, 8]).mul_scalar(0.3).unwrap().requires_grad(true);
        let seq = Sequential::new(vec![
            Layer::Linear { weight: w1.clone(), bias: Some(b1.clone()) },
            Layer::Relu,
            Layer::Linear { weight: w2.clone(), bias: None },
        ]);
        let x = crate::random::randn(&[4, 5]);
        let y = [0i64, 2, 1, 2];
        let out = seq.forward_loss(&x, &y, -100).unwrap();
        out.loss.backward(None, false).unwrap();
        let g_fast = w1.grad().unwrap().to_vec();
        w1.set_grad(None).unwrap();
        let h = x.linear(&w1, Some(&b1)).unwrap().relu().unwrap().linear(&w2, None).unwrap();
        let l = h.cross_entropy(&Targets::Classes(y.to_vec()), Reduction::Mean, 0.0, -100).unwrap();
        assert_eq!(l.item().unwrap(), out.value);
        l.backward(None, false).unwrap();
        assert_eq!(w1.grad().unwrap().to_vec(), g_fast);
        assert!(out.correct <= 4);
    }

    #[test]
    fn count_correct_first_max() {
        let l = Tensor::from_vec(vec![1.0, 3.0, 3.0, 0.0, -1.0, 5.0], &[2, 3]).unwrap();
        assert_eq!(count_correct(&l, &[1, 2]).unwrap(), 2);
        assert_eq!(count_correct(&l, &[2, 0]).unwrap(), 0);
    }
}
