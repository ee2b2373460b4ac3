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
