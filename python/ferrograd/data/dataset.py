"""Map-style datasets."""

from __future__ import annotations

from typing import Any, Sequence, Tuple

import numpy as np

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
        self.arrays: Tuple[np.ndarray, ...] = tuple(a.numpy() if isinstance(a, Tensor) else np.asarray(a) for a in arrays)
        n = len(self.arrays[0])
        for i, a in enumerate(self.arrays):
            if a.ndim == 0 or len(a) != n:
                raise ValueError(f"TensorDataset: array {i} has {len(a) if a.ndim else 0} rows but array 0 has {n}")

    def __len__(self) -> int:
        return len(self.arrays[0])

    def __getitem__(self, index: int) -> Tuple[np.ndarray, ...]:
        return tuple(a[index] for a in self.arrays)

    def get_batch(self, indices: Sequence[int]) -> Tuple[np.ndarray, ...]:
        idx = np.asarray(indices)
        return tuple(a[idx] for a in self.arrays)
