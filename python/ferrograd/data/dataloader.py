"""``DataLoader``: batches of a dataset as ferrograd tensors (features) and numpy arrays
(integer labels)."""

from __future__ import annotations

from typing import Any, Iterator, Optional, Tuple

import numpy as np

from ferrograd._core import Tensor
from ferrograd.creation import tensor
from ferrograd.data.dataset import Dataset


def _convert(a: Any) -> Any:
    # Integer arrays stay numpy (class labels for the losses); floats become float32 tensors.
    if isinstance(a, Tensor):
        return a
    a = np.asarray(a)
    if a.dtype.kind in "iub":
        return a
    return tensor(np.ascontiguousarray(a, dtype=np.float32))


class DataLoader:
    """Iterates over ``dataset`` in batches.

    Args:
        dataset: a ``Dataset`` (batched fast when it has ``get_batch``, as ``TensorDataset``).
        batch_size: examples per batch.
        shuffle: a new random order every epoch (iteration).
        drop_last: skip the last, smaller batch.
        seed: seeds the shuffling; epoch e of a loader with seed s is always the same order,
            whatever else used randomness. Without a seed, each loader draws one at creation.

    Each batch is a tuple with one entry per array of the dataset: float arrays as float32
    ``Tensor``s, integer arrays (labels) as numpy int arrays, which the losses accept.
    """

    def __init__(self, dataset: Dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 seed: Optional[int] = None) -> None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        if not hasattr(dataset, "__len__") or not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: expected a Dataset, got {type(dataset).__name__}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.seed = int(np.random.SeedSequence().entropy % (2**63)) if seed is None else int(seed)
        self.epoch = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _batch(self, idx: np.ndarray) -> Tuple[Any, ...]:
        if hasattr(self.dataset, "get_batch"):
            parts = self.dataset.get_batch(idx)
        else:
            rows = [self.dataset[int(i)] for i in idx]
            parts = tuple(np.stack([np.asarray(r[k]) for r in rows]) for k in range(len(rows[0])))
        return tuple(_convert(p) for p in parts)

    def __iter__(self) -> Iterator[Tuple[Any, ...]]:
        n = len(self.dataset)
        if self.shuffle:
            order = np.random.default_rng([self.seed, self.epoch]).permutation(n)
        else:
            order = np.arange(n)
        self.epoch += 1
        stop = n - n % self.batch_size if self.drop_last else n
        for start in range(0, stop, self.batch_size):
            yield self._batch(order[start:start + self.batch_size])
