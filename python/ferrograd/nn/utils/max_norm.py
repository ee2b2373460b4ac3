"""The dropout paper's max-norm constraint, for a module or an iterable of parameters."""

from __future__ import annotations

from typing import Iterable, Union

from ferrograd._core import Tensor
from ferrograd.optim.constraints import max_norm_ as _max_norm_tensors


def max_norm_(module_or_params: Union["Module", Iterable[Tensor]], max_norm: float) -> None:  # noqa: F821
    """Projects each unit's incoming weight vector onto the ball ‖w‖₂ ≤ ``max_norm``, in place.

    A unit's incoming vector is a row of a Linear weight (out, in), or a whole filter
    ``weight[i]`` of a conv weight (out, in, kh, kw). Parameters with fewer than 2 dims
    (biases, BatchNorm, PReLU slopes) are left alone. Call it after ``optimizer.step()``, or
    give the optimizer ``max_norm=c`` to have it done for you. Runs in Rust.
    """
    from ferrograd.nn.module import Module

    if not max_norm > 0:
        raise ValueError(f"max_norm_: max_norm must be positive, got {max_norm!r}")
    params = module_or_params.parameters() if isinstance(module_or_params, Module) else module_or_params
    _max_norm_tensors(list(params), max_norm)
