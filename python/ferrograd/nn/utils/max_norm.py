"""The dropout paper's max-norm constraint."""

from __future__ import annotations

from typing import Iterable, List, Union

from ferrograd._core import Tensor
from ferrograd.grad_mode import no_grad


def _weights(module_or_params: Union["Module", Iterable[Tensor]]) -> List[Tensor]:  # noqa: F821
    from ferrograd.nn.module import Module

    params = module_or_params.parameters() if isinstance(module_or_params, Module) else module_or_params
    return [p for p in params if p.ndim >= 2]


def max_norm_(module_or_params: Union["Module", Iterable[Tensor]], max_norm: float, eps: float = 1e-12) -> None:  # noqa: F821
    """Projects each unit's incoming weight vector onto the ball ‖w‖₂ ≤ ``max_norm``, in place.

    A unit's incoming vector is a row of a Linear weight (out, in), or a whole filter
    ``weight[i]`` of a conv weight (out, in, kh, kw). Parameters with fewer than 2 dims
    (biases, BatchNorm, PReLU slopes) are left alone. Call it after ``optimizer.step()``.
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm_: max_norm must be positive, got {max_norm!r}")
    with no_grad():
        for w in _weights(module_or_params):
            rows = w.reshape(w.shape[0], -1)
            norms = (rows * rows).sum(dim=1, keepdim=True).sqrt()
            scale = (max_norm / (norms + eps)).clamp(max=1.0)
            w.copy_((rows * scale).reshape(w.shape))
