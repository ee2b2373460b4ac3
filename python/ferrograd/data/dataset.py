"""Map-style datasets."""

from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor


class Dataset:
    """A map-style dataset: ``len(ds)`` examples, ``ds[i]`` one example.

    Subclasses that can also return many examples at once from an index array
    (``get_batch(indices)``) let ``DataLoader`` batch without a Python loop per example.
    """

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Any:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Examples are the i-th rows of several equally long arrays (numpy arrays or tensors),
    e.g. ``TensorDataset(images, labels)``. Batches are gathered with one fancy-indexing
    operation per array."""

    def __init__(self, *arrays: Any) -> None:
        if not arrays:
            raise ValueError("TensorDataset: give at least one array")
        # Float arrays are kept as C-contiguous float32 (the dtype batches become), so each
        # batch is one gather; labels keep their integer dtype.
        self.arrays: Tuple[np.ndarray, ...] = tuple(_as_stored(a) for a in arrays)
        n = len(self.arrays[0])
        for i, a in enumerate(self.arrays):
            if a.ndim == 0 or len(a) != n:
                raise ValueError(f"TensorDataset: array {i} has {len(a) if a.ndim else 0} rows but array 0 has {n}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> Tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices: Sequence[int]) -> Tuple[Any, ...]:
        """The rows ``indices`` of every array: float32 arrays come back as tensors, gathered
        in one copy by the Rust core; other arrays as numpy arrays."""
        idx = np.asarray(indices, dtype=np.int64)
        return tuple(_core.take_rows(a, idx) if _gatherable(a) else a[idx] for a in self.arrays)


def _as_stored(a: Any) -> np.ndarray:
    a = a.numpy() if isinstance(a, Tensor) else np.asarray(a)
    if a.dtype.kind == "f" and a.ndim >= 1:
        a = np.ascontiguousarray(a, dtype=np.float32)
    return a


def _gatherable(a: np.ndarray) -> bool:
    return a.dtype == np.float32 and a.ndim >= 1 and bool(a.flags.c_contiguous)
