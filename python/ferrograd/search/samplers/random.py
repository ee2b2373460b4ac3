"""Random search (Bergstra & Bengio 2012): independent draws from each dimension's prior."""
from __future__ import annotations

from typing import Any, Sequence

from ..trial import FrozenTrial
from .base import Sampler

__all__ = ["RandomSampler"]


class RandomSampler(Sampler):
    """Each trial draws every dimension independently from its prior (uniform on the unit cube).

    Trial ``number``'s params depend only on (seed, number).

    Args:
        seed: the seed; None uses the study's.
    """

    name = "random"

    def sample(self, number: int, history: Sequence[FrozenTrial]) -> dict[str, Any]:
        space = self._require_space()
        return space.from_unit(self.rng(number).random(len(space)))
