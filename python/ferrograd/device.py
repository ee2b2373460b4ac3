"""Devices: where tensors live and kernels run.

Two devices exist: ``"cpu"`` (the Rust core's ndarray / rayon / gemm kernels) and ``"wgpu"``
(WGSL compute shaders run through wgpu on Vulkan, Metal or DX12). The GPU is touched only when
asked for: importing ferrograd and all CPU work run on machines without any GPU driver.

The default device of the creation functions (``fg.zeros``, ``fg.tensor``, ..., and so of
new modules' parameters) is ``"cpu"`` unless the ``FERROGRAD_DEVICE`` environment variable or
``set_default_device`` says otherwise.

    >>> import ferrograd as fg
    >>> fg.get_default_device()
    'cpu'
"""

from __future__ import annotations

import os
from typing import Dict, List, Optional

from ferrograd import _core

_NAMES = {"cpu": "cpu", "wgpu": "wgpu", "gpu": "wgpu"}
_default: List[Optional[str]] = [None]


def _canonical(device: object, what: str) -> str:
    if not isinstance(device, str):
        raise TypeError(f"{what}: device must be a string ('cpu' or 'wgpu'), got {type(device).__name__}")
    name = _NAMES.get(device.strip().lower())
    if name is None:
        raise ValueError(f"{what}: unknown device {device!r}; expected 'cpu' or 'wgpu'")
    return name


def get_default_device() -> str:
    """The device creation functions use when given no ``device=``."""
    if _default[0] is None:
        env = os.environ.get("FERROGRAD_DEVICE")
        _default[0] = _canonical(env, "FERROGRAD_DEVICE") if env else "cpu"
    return _default[0]


def set_default_device(device: str) -> None:
    """Makes ``device`` ("cpu" or "wgpu") the default of the creation functions. Choosing
    "wgpu" opens the GPU now, so a machine without one fails here, with what to install."""
    name = _canonical(device, "set_default_device")
    if name == "wgpu":
        _core.wgpu_open()
    _default[0] = name


def is_available(device: str = "wgpu") -> bool:
    """True if ``device`` can be used here (for "wgpu": a GPU adapter opens)."""
    if _canonical(device, "is_available") == "cpu":
        return True
    try:
        _core.wgpu_open()
    except RuntimeError:
        return False
    return True


def devices() -> List[Dict[str, object]]:
    """What this machine offers: the CPU, then one entry per GPU adapter wgpu sees, each with
    its adapter name, graphics backend and whether it is a software (CPU-emulated) device such
    as Mesa's lavapipe. Listing adapters does not open any."""
    out: List[Dict[str, object]] = [{"device": "cpu", "name": "cpu", "backend": "native", "software": False}]
    for a in _core.wgpu_adapters():
        out.append({"device": "wgpu", **a})
    return out


def synchronize() -> None:
    """Waits until all recorded GPU work has run (for timing; reads back do this anyway)."""
    _core.wgpu_synchronize()


def empty_cache() -> None:
    """Returns the GPU buffers ferrograd keeps for reuse to the driver."""
    _core.wgpu_empty_cache()
