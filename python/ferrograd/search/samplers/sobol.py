"""Quasi-random search: a scrambled Sobol' sequence over the unit cube (scipy.stats.qmc)."""
from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np

from ..space import Space
from ..trial import FrozenTrial
from .base import Sampler

__all__ = ["SobolSampler"]


class SobolSampler(Sampler):
    """Trial ``number`` gets point ``number`` of a scrambled Sobol' sequence in [0,1]^d, mapped
    through each dimension (Bergstra & Bengio found such points a few percent better than
    random ones). The sequence is a function of the seed, so params depend on (seed, number).

    Budgets that are powers of two keep the sequence's balance properties best.

    Args:
        seed: seeds the scrambling; None uses the study's.
        scramble: Owen scrambling (recommended; without it the first point is the origin).
    """

    name = "sobol"

    def __init__(self, seed: int | None = None, scramble: bool = True) -> None:
        super().__init__(seed)
        self.scramble = bool(scramble)
        self._points = np.empty((0, 0))
        self._engine = None

    def bind(self, space: Space, seed: int, direction: str) -> None:
        super().bind(space, seed, direction)
        from scipy.stats import qmc

        try:
            self._engine = qmc.Sobol(len(space), scramble=self.scramble, rng=self.seed)
        except TypeError:  # scipy < 1.15 names the argument seed
            self._engine = qmc.Sobol(len(space), scramble=self.scramble, seed=self.seed)
        self._points = np.empty((0, len(space)))

    def point(self, number: int) -> np.ndarray:
        """The unit-cube point of trial ``number``."""
        self._require_space()
        have = len(self._points)
        if number >= have:
            # Grow to the next power of two: few calls into scipy, balanced blocks.
            want = 1 << max(int(number).bit_length(), 6)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # balance warning: we do draw powers of two
                extra = self._engine.random(want - have)
            self._points = np.vstack([self._points, extra])
        return self._points[number]

    def sample(self, number: int, history: Sequence[FrozenTrial]) -> dict[str, Any]:
        return self._require_space().from_unit(self.point(number))

    def config(self) -> dict[str, Any]:
        return {"type": self.name, "seed": self.seed, "scramble": self.scramble}
