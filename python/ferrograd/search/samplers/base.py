"""The sampler interface: what every search strategy implements."""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..space import Space
from ..trial import FrozenTrial, TrialState, trial_rng

__all__ = ["Sampler"]


class Sampler:
    """Base class of search strategies.

    A sampler belongs to one study: ``Study`` calls ``bind`` once (which resets any state), then
    ``tell`` with every finished trial in the order they finished (also when a study is
    reloaded, so that a stateful sampler rebuilds itself from the history), and ``sample`` to
    propose the params of each new trial. All randomness in ``sample(number, ...)`` comes from
    ``self.rng(number)``, so a trial's params depend only on (seed, number, history).

    Args:
        seed: the sampler's seed; None uses the study's seed.
    """

    def __init__(self, seed: int | None = None) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise TypeError(f"seed must be an int or None, got {seed!r}")
        self.seed = None if seed is None else int(seed)
        self.space: Space | None = None
        self._sign = 1.0

    # --- lifecycle ----------------------------------------------------------------------------
    def bind(self, space: Space, seed: int, direction: str) -> None:
        """Attach to a study's space; ``seed`` is used when the sampler has none of its own.

        ``direction`` ("minimize" or "maximize") tells ``loss`` how to orient values.
        Subclasses that keep state must reset it here (and call this base method).
        """
        self.space = space
        if self.seed is None:
            self.seed = int(seed)
        self._sign = 1.0 if direction == "minimize" else -1.0

    def sample(self, number: int, history: Sequence[FrozenTrial]) -> dict[str, Any]:
        """Params for trial ``number``. ``history`` is the study's list of trials (read only)."""
        raise NotImplementedError

    def tell(self, trial: FrozenTrial) -> None:
        """Learn from a finished trial (COMPLETE, PRUNED or FAIL). Default: nothing."""

    def exhausted(self, number: int) -> bool:
        """True when the sampler has nothing left to propose for trial ``number`` (a finished
        grid, a stopping rule that fired); the study then stops launching trials."""
        return False

    def config(self) -> dict[str, Any]:
        """JSON-ready {"type": name, **arguments}; stored with a study to rebuild the sampler."""
        return {"type": self.name, "seed": self.seed}

    # --- helpers for subclasses ---------------------------------------------------------------
    name = "sampler"

    def rng(self, number: int) -> np.random.Generator:
        """The generator for trial ``number``: a function of (seed, number) only."""
        if self.seed is None:
            raise RuntimeError(f"{type(self).__name__} is not bound to a study (no seed yet)")
        return trial_rng(self.seed, number, 0)

    def loss(self, trial: FrozenTrial) -> float | None:
        """The trial's value oriented so that lower is better; None unless COMPLETE and finite."""
        if trial.state is not TrialState.COMPLETE or trial.value is None:
            return None
        v = self._sign * trial.value
        return v if math.isfinite(v) else None

    def _require_space(self) -> Space:
        if self.space is None:
            raise RuntimeError(f"{type(self).__name__} is not bound to a study; use it through Study")
        return self.space

    def __repr__(self) -> str:
        cfg = {k: v for k, v in self.config().items() if k != "type"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in cfg.items())})"
