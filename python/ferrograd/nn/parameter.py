"""``Parameter``: a tensor that a ``Module`` registers as learnable."""

from __future__ import annotations

from typing import Any

from ferrograd._core import Tensor


class Parameter(Tensor):
    """A leaf tensor that requires grad by default and is registered by ``Module`` attributes.

    ``Parameter(t)`` shares ``t``'s storage (as in torch); ``Parameter(array)`` copies.
    """

    def __new__(cls, data: Any = None, requires_grad: bool = True) -> "Parameter":
        if data is None:
            data = []
        return super().__new__(cls, data, requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()
