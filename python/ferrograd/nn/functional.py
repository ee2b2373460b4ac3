"""Functional activations and losses, with torch.nn.functional's names and arguments.

Class targets (``cross_entropy``, ``nll_loss``) may be a numpy integer array, a list of ints,
or a ferrograd tensor holding integers; a float tensor or array with the input's shape is read
as class probabilities (as in torch).
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor

_REDUCTIONS = ("mean", "sum", "none")


def _input(x: Any, op: str) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(x).__name__}")
    return x


def _reduction(reduction: str, op: str) -> str:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{op}: reduction must be one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _class_indices(target: Any, op: str) -> np.ndarray:
    """Integer class labels from a numpy array, a list or an integer-valued tensor."""
    arr = target.numpy() if isinstance(target, Tensor) else np.asarray(target)
    if arr.dtype.kind == "b":
        raise TypeError(f"{op}: target must hold class indices, got a boolean array")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{op}: class-index targets must be integers, got non-integer values")
    elif arr.dtype.kind not in "iu":
        raise TypeError(f"{op}: target must hold class indices, got dtype {arr.dtype}")
    return arr.astype(np.int64).reshape(-1)


def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(0, x). ``inplace`` is accepted for torch compatibility and ignored."""
    return _input(input, "relu").relu()


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """max(0, x) + negative_slope · min(0, x)."""
    return _input(input, "leaky_relu").leaky_relu(negative_slope)


def sigmoid(input: Tensor) -> Tensor:
    """Logistic sigmoid."""
    return _input(input, "sigmoid").sigmoid()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _input(input, "tanh").tanh()


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    """Softmax over ``dim``."""
    return _input(input, "softmax").softmax(dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    """Log-softmax over ``dim``."""
    return _input(input, "log_softmax").log_softmax(dim)


def cross_entropy(input: Tensor, target: Any, weight: Optional[Any] = None, ignore_index: int = -100,
                  reduction: str = "mean", label_smoothing: float = 0.0) -> Tensor:
    """Cross-entropy of logits ``input`` (N, C) or (C,) against ``target``.

    ``target``: class indices of shape (N,) (or a scalar for a (C,) input), or probabilities
    of the input's shape. Computed as one fused log-softmax + NLL. With ``reduction="mean"``
    and class indices, the mean is over targets not equal to ``ignore_index``.
    ``label_smoothing`` ε mixes the target with the uniform distribution: (1-ε)·y + ε/C.
    Class ``weight`` is not supported (raises).
    """
    x = _input(input, "cross_entropy")
    _reduction(reduction, "cross_entropy")
    if weight is not None:
        raise NotImplementedError("cross_entropy: class weights are not supported yet")
    if not isinstance(label_smoothing, (int, float)) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    is_probs = False
    if isinstance(target, Tensor):
        is_probs = tuple(target.shape) == tuple(x.shape) and x.ndim >= 1 and not (x.ndim == 1 and target.ndim == 0)
    else:
        arr = np.asarray(target)
        is_probs = arr.dtype.kind == "f" and arr.shape == tuple(x.shape)
        if is_probs:
            target = _core.from_numpy(arr)
    if is_probs:
        return _core.cross_entropy(x, None, target, reduction, float(label_smoothing), int(ignore_index))
    classes = _class_indices(target, "cross_entropy")
    return _core.cross_entropy(x, classes.tolist(), None, reduction, float(label_smoothing), int(ignore_index))


def nll_loss(input: Tensor, target: Any, weight: Optional[Any] = None, ignore_index: int = -100,
             reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of log-probabilities ``input`` (N, C) at class indices ``target``."""
    x = _input(input, "nll_loss")
    _reduction(reduction, "nll_loss")
    if weight is not None:
        raise NotImplementedError("nll_loss: class weights are not supported yet")
    classes = _class_indices(target, "nll_loss")
    return _core.nll_loss(x, classes.tolist(), reduction, int(ignore_index))


def mse_loss(input: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Mean squared error; ``input`` and ``target`` must have the same shape."""
    return _core.mse_loss(_input(input, "mse_loss"), target, _reduction(reduction, "mse_loss"))


def binary_cross_entropy_with_logits(input: Tensor, target: Any, weight: Optional[Any] = None,
                                     reduction: str = "mean", pos_weight: Optional[Any] = None) -> Tensor:
    """Binary cross-entropy on logits, computed stably: max(x,0) − x·y + log(1 + e^−|x|)."""
    if weight is not None or pos_weight is not None:
        raise NotImplementedError("binary_cross_entropy_with_logits: weight and pos_weight are not supported yet")
    return _core.binary_cross_entropy_with_logits(
        _input(input, "binary_cross_entropy_with_logits"), target,
        _reduction(reduction, "binary_cross_entropy_with_logits"))


# ---- layers ---------------------------------------------------------------------------------

def _pair(v: Any, name: str, op: str) -> tuple:
    if isinstance(v, bool):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got bool")
    if isinstance(v, (int, np.integer)):
        v = (int(v), int(v))
    try:
        a, b = v
    except (TypeError, ValueError):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints, got {v!r}") from None
    for x in (a, b):
        if isinstance(x, bool) or not isinstance(x, (int, np.integer)):
            raise TypeError(f"{op}: {name} must be ints, got {v!r}")
        if x < 0:
            raise ValueError(f"{op}: {name} must be non-negative, got {v!r}")
    return (int(a), int(b))


def linear(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None) -> Tensor:
    """y = x · weightᵀ + bias, for input (..., in), weight (out, in), bias (out,)."""
    # One fused op (GEMM into the bias rows, one autograd node); it checks the shapes.
    return _core.linear(_input(input, "linear"), weight, bias)


def conv2d(input: Tensor, weight: Tensor, bias: Optional[Tensor] = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-D convolution of input (N, C, H, W) with weight (O, C, kh, kw) (im2col + gemm).
    ``groups`` other than 1 is not supported."""
    if groups != 1:
        raise NotImplementedError("conv2d: groups != 1 is not supported")
    x = _input(input, "conv2d")
    if isinstance(padding, str):
        raise NotImplementedError("conv2d: string padding ('same'/'valid') is not supported; give ints")
    return _core.conv2d(x, weight, bias, _pair(stride, "stride", "conv2d"), _pair(padding, "padding", "conv2d"),
                        _pair(dilation, "dilation", "conv2d"))


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Tensor:
    """Max over kh×kw windows of (N, C, H, W) or (C, H, W); stride defaults to the kernel size."""
    if return_indices:
        raise NotImplementedError("max_pool2d: return_indices is not supported")
    k = _pair(kernel_size, "kernel_size", "max_pool2d")
    s = k if stride is None else _pair(stride, "stride", "max_pool2d")
    return _core.max_pool2d(_input(input, "max_pool2d"), k, s, _pair(padding, "padding", "max_pool2d"),
                            _pair(dilation, "dilation", "max_pool2d"), bool(ceil_mode))


def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """Mean over kh×kw windows; stride defaults to the kernel size."""
    k = _pair(kernel_size, "kernel_size", "avg_pool2d")
    s = k if stride is None else _pair(stride, "stride", "avg_pool2d")
    return _core.avg_pool2d(_input(input, "avg_pool2d"), k, s, _pair(padding, "padding", "avg_pool2d"),
                            bool(ceil_mode), bool(count_include_pad))


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zeroes each element with probability ``p`` (the DROP probability, as torch; the dropout
    paper's p is the keep probability 1 − p) and scales survivors by 1/(1 − p) ("inverted
    dropout"), so evaluation needs no rescaling. Identity when not training."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout: probability has to be between 0 and 1, got {p!r}")
    return _core.dropout(_input(input, "dropout"), float(p), bool(training))


def batch_norm(input: Tensor, running_mean: Optional[Tensor], running_var: Optional[Tensor],
               weight: Optional[Tensor] = None, bias: Optional[Tensor] = None, training: bool = False,
               momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Batch normalization over dim 1 of (N, C, ...). In training (or without running
    statistics) it uses the batch's mean and biased variance and updates the running ones in
    place: running = (1 − momentum)·running + momentum·batch (variance unbiased)."""
    return _core.batch_norm(_input(input, "batch_norm"), running_mean, running_var, weight, bias,
                            bool(training), float(momentum), float(eps))


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """max(0, x) + a·min(0, x) with slopes ``weight`` (1 shared or one per channel, dim 1)."""
    return _core.prelu(_input(input, "prelu"), weight)
