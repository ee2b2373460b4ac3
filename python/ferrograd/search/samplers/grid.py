"""Grid search: every combination of a few values per dimension, enumerated in order."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Sequence

import numpy as np

from ..space import Choice, IntLogUniform, IntUniform, Space
from ..trial import FrozenTrial
from .base import Sampler

__all__ = ["GridSampler"]

# A grid this large is a mistake (or a job for RandomSampler), not something to enumerate.
MAX_GRID_SIZE = 1_000_000


class GridSampler(Sampler):
    """Enumerate the product of per-dimension value lists: each new trial gets the first grid
    point (in product order, or a seeded shuffle of it) that no trial of the study has had yet,
    and the study stops when every grid point has been tried. Points already taken -- by
    enqueued trials, or before a study was resumed -- are skipped, so none runs twice.

    Args:
        points: how many values per dimension, or which ones. An int applies to every
            continuous and integer dimension; a mapping {name: int or list of values} sets them
            one by one. Continuous dimensions need an entry (n values spread evenly, in log
            space for log dimensions, bounds included); integer dimensions without one take
            every integer; Choice dimensions always take every option (``GridSampler()`` alone
            works on a space of Choices). Conditional dimensions are only expanded where active,
            so the grid holds no duplicates.
        seed: used only when ``shuffle`` is True.
        shuffle: visit the grid points in a seeded random order instead of product order
            (first dimension slowest), so that a budget smaller than the grid still spreads out.
    """

    name = "grid"

    def __init__(self, points: int | Mapping[str, int | Sequence[Any]] | None = None,
                 seed: int | None = None, shuffle: bool = False) -> None:
        super().__init__(seed)
        if points is not None and not isinstance(points, Mapping):
            if isinstance(points, bool) or not isinstance(points, (int, np.integer)):
                raise TypeError(f"points must be an int, a mapping or None, got {points!r}")
            if points < 1:
                raise ValueError(f"points must be >= 1, got {points}")
            points = int(points)
        elif isinstance(points, Mapping):
            points = {k: (list(v) if not isinstance(v, (int, np.integer)) else int(v))
                      for k, v in points.items()}
        self.points = points
        self.shuffle = bool(shuffle)
        self._grid: list[dict[str, Any]] | None = None
        self._taken: set[tuple] = set()
        self._cursor = 0

    def bind(self, space: Space, seed: int, direction: str) -> None:
        super().bind(space, seed, direction)
        self._grid = self._enumerate(space)
        if self.shuffle:
            order = np.random.default_rng(self.seed).permutation(len(self._grid))
            self._grid = [self._grid[i] for i in order]
        self._taken = set()
        self._cursor = 0

    def _key(self, params: dict) -> tuple:
        return tuple(params.get(n) for n in self.space.names)

    def _advance(self) -> int:
        """Index of the first grid point not taken yet (len(grid) when there is none)."""
        while self._cursor < len(self._grid) and self._key(self._grid[self._cursor]) in self._taken:
            self._cursor += 1
        return self._cursor

    def values(self, space: Space) -> dict[str, list]:
        """The list of values each dimension takes in the grid."""
        if isinstance(self.points, Mapping):
            unknown = [k for k in self.points if k not in space]
            if unknown:
                raise ValueError(f"GridSampler points name unknown dimensions {unknown}; "
                                 f"the space has {list(space.names)}")
        out: dict[str, list] = {}
        for name, dim in space.items():
            spec = self.points.get(name) if isinstance(self.points, Mapping) else self.points
            if isinstance(spec, list):
                if not spec:
                    raise ValueError(f"GridSampler: empty value list for {name!r}")
                bad = [v for v in spec if not dim.contains(v)]
                if bad:
                    raise ValueError(f"GridSampler values {bad!r} for {name!r} are outside {dim!r}")
                out[name] = list(spec)
            elif isinstance(dim, Choice):
                out[name] = dim.grid(None)
            elif spec is None and isinstance(dim, (IntUniform, IntLogUniform)):
                out[name] = dim.grid(None)
            elif spec is None:
                raise ValueError(
                    f"GridSampler needs a number of points (or a list of values) for the "
                    f"continuous dimension {name!r} ({dim!r}): pass points=n or "
                    f"points={{{name!r}: n}}")
            else:
                out[name] = dim.grid(spec)
        return out

    def _enumerate(self, space: Space) -> list[dict[str, Any]]:
        values = self.values(space)
        grid: list[dict[str, Any]] = [{}]
        for name in space.names:
            expanded = []
            for partial in grid:
                if space.is_active(name, partial):
                    expanded.extend({**partial, name: v} for v in values[name])
                else:
                    expanded.append(partial)
                if len(expanded) > MAX_GRID_SIZE:
                    raise ValueError(
                        f"the grid has more than {MAX_GRID_SIZE} points; use fewer points per "
                        f"dimension, or RandomSampler (values per dimension: "
                        f"{ {k: len(v) for k, v in values.items()} })")
            grid = expanded
        return grid

    def __len__(self) -> int:
        if self._grid is None:
            raise RuntimeError("GridSampler is not bound to a study yet")
        return len(self._grid)

    def sample(self, number: int, history: Sequence[FrozenTrial]) -> dict[str, Any]:
        if self._grid is None:
            self._require_space()
        i = self._advance()
        if i >= len(self._grid):
            raise IndexError(f"all {len(self._grid)} grid points have been tried")
        params = dict(self._grid[i])
        self._taken.add(self._key(params))
        return params

    def tell(self, trial: FrozenTrial) -> None:
        self._taken.add(self._key(trial.params))

    def exhausted(self, number: int) -> bool:
        return self._grid is not None and self._advance() >= len(self._grid)

    def config(self) -> dict[str, Any]:
        return {"type": self.name, "seed": self.seed, "points": self.points, "shuffle": self.shuffle}
