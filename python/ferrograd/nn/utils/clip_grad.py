"""Gradient clipping by global norm."""

from __future__ import annotations

import math
from typing import Iterable, Union

from ferrograd._core import Tensor
from ferrograd.grad_mode import no_grad


def clip_grad_norm_(parameters: Union[Tensor, Iterable[Tensor]], max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False) -> float:
    """Rescales gradients in place so that their joint ``norm_type``-norm is at most
    ``max_norm``; returns the norm before clipping (as torch, but a Python float)."""
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    norm_type = float(norm_type)
    with no_grad():
        if math.isinf(norm_type):
            total = max(float(g.abs().max().item()) for g in grads)
        else:
            total = sum(float((g.abs() ** norm_type).sum().item()) for g in grads) ** (1.0 / norm_type)
        if error_if_nonfinite and not math.isfinite(total):
            raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} of the gradients is non-finite")
        coef = max_norm / (total + 1e-6)
        if coef < 1.0:
            for g in grads:
                g.mul_(coef)
    return total
