"""Weight constraints applied after optimizer steps."""

from __future__ import annotations

from typing import Iterable, Union

from ferrograd import _core
from ferrograd._core import Tensor


def max_norm_(tensors: Union[Tensor, Iterable[Tensor]], max_norm: float) -> None:
    """The max-norm constraint of the dropout paper (Srivastava et al., 2014, §5.1), in place.

    For every tensor with two or more dimensions, each slice ``w[i]`` along dim 0 (a unit's
    incoming weight vector: a row of a Linear weight of shape (out, in), a filter ``weight[i]``
    of a conv weight (out, in, kh, kw)) whose L2 norm exceeds ``max_norm`` is rescaled to norm
    ``max_norm``; slices within the ball are untouched. 0-d and 1-d tensors (biases) are left
    alone. Runs in Rust (``ferrograd._core.max_norm_``); optimizers apply it after each step to
    a parameter group that sets ``max_norm``.

    Args:
        tensors: a Tensor or an iterable of Tensors (typically parameters: leaves that require
            grad are allowed; tensors inside an autograd graph are refused).
        max_norm: the radius c > 0 (``float("inf")`` changes nothing).
    """
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    _core.max_norm_(list(tensors), float(max_norm))
