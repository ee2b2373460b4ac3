"""Tensor creation functions, with torch's signatures.

Shapes are given as varargs (``zeros(2, 3)``) or one sequence (``zeros((2, 3))``). Random
functions draw from the global generator that ``ferrograd.manual_seed`` reseeds.
"""

from __future__ import annotations

import builtins
from typing import Any, Optional, Sequence, Union

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.device import get_default_device

Size = Union[int, Sequence[int]]


def _shape(size: tuple, op: str) -> list:
    if len(size) == 1 and not isinstance(size[0], (int, np.integer)):
        try:
            size = tuple(size[0])
        except TypeError:
            raise TypeError(f"{op}: size must be ints or a sequence of ints, got {type(size[0]).__name__}") from None
    out = []
    for s in size:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)):
            raise TypeError(f"{op}: size must be ints, got {type(s).__name__} ({s!r})")
        if s < 0:
            raise ValueError(f"{op}: negative dimension {s} in size {tuple(size)}")
        out.append(int(s))
    return out


def _finish(t: Tensor, requires_grad: bool, device: Optional[str], op: str) -> Tensor:
    if device is None:
        device = get_default_device()
    if device != "cpu" or t.device != "cpu":
        t = t.to(device)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _check_dtype(dtype: Any, op: str) -> None:
    if dtype is not None and str(dtype).replace("torch.", "").replace("numpy.", "") not in ("float32", "float", "f4", "<class 'float32'>"):
        if dtype not in (float, np.float32):
            raise TypeError(f"{op}: ferrograd tensors are float32 only, got dtype={dtype!r}")


def tensor(data: Any, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """A new float32 tensor copied from ``data`` (nested lists, numbers, numpy arrays, a Tensor).

    Integer and boolean inputs are converted to float32 (ferrograd has one dtype).
    """
    _check_dtype(dtype, "tensor")
    return _finish(Tensor(data), requires_grad, device, "tensor")


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor holding a float32 copy of ``array``.

    Unlike torch, memory is not shared: later changes to the array do not show in the tensor.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return _core.from_numpy(array)


def zeros(*size: Size, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """A tensor of zeros of the given shape."""
    _check_dtype(dtype, "zeros")
    return _finish(_core.full(_shape(size, "zeros"), 0.0), requires_grad, device, "zeros")


def empty(*size: Size, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """A tensor of the given shape (filled with zeros: ferrograd never hands out uninitialised memory)."""
    _check_dtype(dtype, "empty")
    return _finish(_core.full(_shape(size, "empty"), 0.0), requires_grad, device, "empty")


def ones(*size: Size, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """A tensor of ones of the given shape."""
    _check_dtype(dtype, "ones")
    return _finish(_core.full(_shape(size, "ones"), 1.0), requires_grad, device, "ones")


def full(size: Size, fill_value: float, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """A tensor of shape ``size`` filled with ``fill_value``."""
    _check_dtype(dtype, "full")
    if isinstance(size, (int, np.integer)):
        size = (size,)
    return _finish(_core.full(_shape(tuple(size), "full"), float(fill_value)), requires_grad, device, "full")


def arange(start: float, end: Optional[float] = None, step: float = 1, requires_grad: bool = False,
           dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """Values from ``start`` (default 0) up to but excluding ``end``, spaced by ``step``."""
    _check_dtype(dtype, "arange")
    if end is None:
        start, end = 0, start
    return _finish(_core.arange(float(start), float(end), float(step)), requires_grad, device, "arange")


def linspace(start: float, end: float, steps: int, requires_grad: bool = False, dtype: Any = None,
             device: Optional[str] = None) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    _check_dtype(dtype, "linspace")
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 0:
        raise ValueError(f"linspace: steps must be a non-negative int, got {steps!r}")
    return _finish(_core.linspace(float(start), float(end), int(steps)), requires_grad, device, "linspace")


def eye(n: int, m: Optional[int] = None, requires_grad: bool = False, dtype: Any = None,
        device: Optional[str] = None) -> Tensor:
    """An (n, m) matrix with ones on the diagonal (m defaults to n)."""
    _check_dtype(dtype, "eye")
    shape = _shape((n, n if m is None else m), "eye")
    return _finish(_core.eye(shape[0], shape[1]), requires_grad, device, "eye")


def rand(*size: Size, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """Uniform samples from [0, 1)."""
    _check_dtype(dtype, "rand")
    return _finish(_core.rand(_shape(size, "rand")), requires_grad, device, "rand")


def randn(*size: Size, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """Standard normal samples."""
    _check_dtype(dtype, "randn")
    return _finish(_core.randn(_shape(size, "randn")), requires_grad, device, "randn")


def _like(t: Tensor, op: str) -> list:
    if not isinstance(t, Tensor):
        raise TypeError(f"{op}: expected a Tensor, got {type(t).__name__}")
    return builtins.list(t.shape)


def zeros_like(input: Tensor, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """Zeros with the shape of ``input``."""
    return zeros(_like(input, "zeros_like"), requires_grad=requires_grad, dtype=dtype, device=device)


def ones_like(input: Tensor, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """Ones with the shape of ``input``."""
    return ones(_like(input, "ones_like"), requires_grad=requires_grad, dtype=dtype, device=device)


def full_like(input: Tensor, fill_value: float, requires_grad: bool = False, dtype: Any = None,
              device: Optional[str] = None) -> Tensor:
    """``fill_value`` everywhere, with the shape of ``input``."""
    return full(_like(input, "full_like"), fill_value, requires_grad=requires_grad, dtype=dtype, device=device)


def rand_like(input: Tensor, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """Uniform [0, 1) samples with the shape of ``input``."""
    return rand(_like(input, "rand_like"), requires_grad=requires_grad, dtype=dtype, device=device)


def randn_like(input: Tensor, requires_grad: bool = False, dtype: Any = None, device: Optional[str] = None) -> Tensor:
    """Standard normal samples with the shape of ``input``."""
    return randn(_like(input, "randn_like"), requires_grad=requires_grad, dtype=dtype, device=device)
