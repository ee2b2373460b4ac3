"""Function forms of tensor ops (``fg.exp(x)``, ``fg.cat([...])``, ``fg.where(c, a, b)``...).

Each takes the same arguments as the method of the same name on ``Tensor``.
"""

from __future__ import annotations

from typing import Any, Optional, Sequence

from ferrograd import _core
from ferrograd._core import Tensor


def _t(x: Any, op: str) -> Tensor:
    if isinstance(x, Tensor):
        return x
    raise TypeError(f"{op}: expected a Tensor, got {type(x).__name__}")


def cat(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Concatenates tensors along ``dim``; all other dims must agree."""
    return _core.cat(tensors, dim)


def stack(tensors: Sequence[Tensor], dim: int = 0) -> Tensor:
    """Stacks equal-shaped tensors along a new dim ``dim``."""
    return _core.stack(tensors, dim)


def where(condition: Any, input: Any, other: Any) -> Tensor:
    """Elementwise ``input if condition != 0 else other`` (all three broadcast together)."""
    return _core.where(condition, input, other)


def matmul(input: Tensor, other: Any) -> Tensor:
    """Matrix product with torch.matmul's rules (1-D promotion, broadcast batch dims)."""
    return _t(input, "matmul").matmul(other)


def maximum(input: Tensor, other: Any) -> Tensor:
    """Elementwise maximum (NaN propagates; ties split the gradient)."""
    return _t(input, "maximum").maximum(other)


def minimum(input: Tensor, other: Any) -> Tensor:
    """Elementwise minimum (NaN propagates; ties split the gradient)."""
    return _t(input, "minimum").minimum(other)


def exp(input: Tensor) -> Tensor:
    """e ** input."""
    return _t(input, "exp").exp()


def log(input: Tensor) -> Tensor:
    """Natural logarithm."""
    return _t(input, "log").log()


def sqrt(input: Tensor) -> Tensor:
    """Square root."""
    return _t(input, "sqrt").sqrt()


def abs(input: Tensor) -> Tensor:
    """Absolute value (gradient 0 at 0)."""
    return _t(input, "abs").abs()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return _t(input, "tanh").tanh()


def sigmoid(input: Tensor) -> Tensor:
    """Logistic sigmoid 1 / (1 + e^-x)."""
    return _t(input, "sigmoid").sigmoid()


def relu(input: Tensor) -> Tensor:
    """max(0, x)."""
    return _t(input, "relu").relu()


def clamp(input: Tensor, min: Optional[float] = None, max: Optional[float] = None) -> Tensor:
    """Clamps into [min, max] (either may be None)."""
    return _t(input, "clamp").clamp(min, max)


def softmax(input: Tensor, dim: int = -1) -> Tensor:
    """Softmax over ``dim``."""
    return _t(input, "softmax").softmax(dim)


def log_softmax(input: Tensor, dim: int = -1) -> Tensor:
    """Log-softmax over ``dim`` (stable)."""
    return _t(input, "log_softmax").log_softmax(dim)


def sum(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Sum over ``dim`` (an int, a tuple, or None for all)."""
    return _t(input, "sum").sum(dim, keepdim)


def mean(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:
    """Mean over ``dim``."""
    return _t(input, "mean").mean(dim, keepdim)


def var(input: Tensor, dim: Any = None, unbiased: Optional[bool] = None, keepdim: bool = False, *,
        correction: Optional[float] = None) -> Tensor:
    """Variance over ``dim`` (unbiased by default, as torch)."""
    return _t(input, "var").var(dim, unbiased, keepdim, correction=correction)


def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """Largest element; with ``dim``, a (values, indices) named tuple; with a tensor, maximum."""
    return _t(input, "max").max(dim, keepdim)


def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """Smallest element; with ``dim``, a (values, indices) named tuple; with a tensor, minimum."""
    return _t(input, "min").min(dim, keepdim)


def argmax(input: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    """Index of the largest element (float32 integers)."""
    return _t(input, "argmax").argmax(dim, keepdim)


def argmin(input: Tensor, dim: Optional[int] = None, keepdim: bool = False) -> Tensor:
    """Index of the smallest element (float32 integers)."""
    return _t(input, "argmin").argmin(dim, keepdim)


def reshape(input: Tensor, shape: Sequence[int]) -> Tensor:
    """A tensor of ``shape`` with the same elements (a view when possible)."""
    return _t(input, "reshape").reshape(shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merges dims ``start_dim..=end_dim``."""
    return _t(input, "flatten").flatten(start_dim, end_dim)


def squeeze(input: Tensor, dim: Optional[int] = None) -> Tensor:
    """Removes size-1 dims (or only ``dim``)."""
    return _t(input, "squeeze").squeeze(dim)


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Inserts a size-1 dim at ``dim``."""
    return _t(input, "unsqueeze").unsqueeze(dim)


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swaps two dims (a view)."""
    return _t(input, "transpose").transpose(dim0, dim1)


def permute(input: Tensor, dims: Sequence[int]) -> Tensor:
    """Reorders dims (a view)."""
    return _t(input, "permute").permute(dims)
