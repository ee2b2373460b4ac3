"""Checkpoints: ``save`` / ``load`` in the safetensors format (no pickle: loading an untrusted
file cannot run code). Files interoperate with the ``safetensors`` package (numpy flavour)."""

from __future__ import annotations

import os
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Union

from ferrograd import _core
from ferrograd._core import Tensor

PathLike = Union[str, "os.PathLike[str]"]


def save(state_dict: Mapping[str, Tensor], path: PathLike, metadata: Optional[Dict[str, str]] = None) -> None:
    """Writes a {name: Tensor} mapping (e.g. ``model.state_dict()``) to ``path``.

    Written to a temporary file and renamed, so an interrupted save never leaves a truncated
    checkpoint under ``path``. Values must be Tensors; keys strings; ``metadata`` str → str.
    """
    if not isinstance(state_dict, Mapping):
        raise TypeError(f"save: expected a mapping of names to tensors, got {type(state_dict).__name__}")
    if metadata is not None and not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise TypeError("save: metadata must map str to str")
    _core.save_safetensors(dict(state_dict), os.fspath(path), metadata)


def load(path: PathLike, with_metadata: bool = False):  # type: ignore[no-untyped-def]
    """Reads a safetensors file into an ordered {name: Tensor} dict (float32; other dtypes are
    converted). A corrupt or truncated file raises ValueError; a missing one RuntimeError.
    ``with_metadata=True`` returns (dict, metadata)."""
    items, meta = _core.load_safetensors(os.fspath(path))
    out = OrderedDict(items)
    return (out, meta) if with_metadata else out
