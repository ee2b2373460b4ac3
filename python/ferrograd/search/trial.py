"""Trials: the record a study keeps (FrozenTrial), the handle an objective gets (Trial), states.

An objective is called as ``objective(params, trial)``. It may report intermediate values with
``trial.report(step, value)`` and ask ``trial.should_prune()``; when that is True it should
``raise TrialPruned()``. The handle works the same in the master process and in a worker:
it talks to the master through a *channel* (a direct call, or a socket to the master).
"""
from __future__ import annotations

import enum
import json
import warnings
from datetime import datetime, timezone
from numbers import Integral
from typing import Any, Protocol

import numpy as np

__all__ = ["TrialState", "FrozenTrial", "Trial", "TrialPruned", "trial_rng", "trial_seed"]


class TrialPruned(Exception):
    """Raise from an objective to stop a trial that ``trial.should_prune()`` condemned."""


class TrialState(str, enum.Enum):
    """Life cycle of a trial. WAITING: enqueued, not started; the others as named."""

    WAITING = "WAITING"
    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAIL = "FAIL"

    @property
    def is_finished(self) -> bool:
        """COMPLETE, PRUNED and FAIL are final."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

    def __str__(self) -> str:
        return self.value


def trial_rng(seed: int, number: int, stream: int = 0) -> np.random.Generator:
    """The random generator of trial ``number`` in a study seeded with ``seed``.

    It depends on (seed, number, stream) only, never on which worker or in which order trials
    run. ``stream`` separates independent uses (0: the sampler, 1: the objective's seed).
    """
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(number, stream)))


def trial_seed(seed: int, number: int) -> int:
    """A 32-bit seed for the objective's own RNGs (e.g. ``fg.manual_seed``) in trial ``number``."""
    ss = np.random.SeedSequence(seed, spawn_key=(number, 1))
    return int(ss.generate_state(1, dtype=np.uint32)[0])


class FrozenTrial:
    """What the study records about one trial.

    Attributes:
        number: 0, 1, 2, ... in order of creation within the study.
        state: a TrialState.
        params: {name: value} of the active hyper-parameters.
        value: the objective's result (COMPLETE), the last reported value (PRUNED), or None.
        intermediate_values: {step: value} reported through ``trial.report``.
        start, end: wall-clock times (seconds since the epoch) or None.
        error: text of the exception (with traceback) for FAIL trials, else None.
        user_attrs: {key: JSON value} set by the objective with ``trial.set_user_attr``.
    """

    # Thousands of these live in the master: no per-instance __dict__.
    __slots__ = ("number", "state", "params", "value", "intermediate_values", "start", "end",
                 "error", "user_attrs")

    def __init__(self, number: int, state: TrialState, params: dict, value: float | None = None,
                 intermediate_values: dict | None = None, start: float | None = None,
                 end: float | None = None, error: str | None = None,
                 user_attrs: dict | None = None) -> None:
        self.number = number
        self.state = TrialState(state)
        self.params = params
        self.value = value
        self.intermediate_values = {} if intermediate_values is None else intermediate_values
        self.start = start
        self.end = end
        self.error = error
        self.user_attrs = {} if user_attrs is None else user_attrs

    @property
    def duration(self) -> float | None:
        """Seconds from start to end, or None while unfinished."""
        if self.start is None or self.end is None:
            return None
        return self.end - self.start

    @property
    def datetime_start(self) -> datetime | None:
        """Start time as an aware UTC datetime."""
        return None if self.start is None else datetime.fromtimestamp(self.start, timezone.utc)

    @property
    def datetime_complete(self) -> datetime | None:
        """End time as an aware UTC datetime."""
        return None if self.end is None else datetime.fromtimestamp(self.end, timezone.utc)

    def copy(self) -> "FrozenTrial":
        """A copy whose dicts can be changed without touching this record."""
        return FrozenTrial(self.number, self.state, dict(self.params), self.value,
                           dict(self.intermediate_values), self.start, self.end, self.error,
                           dict(self.user_attrs))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FrozenTrial) and all(
            getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self) -> str:
        return (f"FrozenTrial(number={self.number}, state={self.state.value}, value={self.value!r}, "
                f"params={self.params!r})")


class Channel(Protocol):
    """How a Trial handle reaches the master: send one report, get the prune decision back."""

    def report(self, number: int, step: int, value: float) -> bool: ...


def as_float(value: Any, what: str) -> float:
    """``value`` as a float; TypeError naming ``what`` for bools and non-numbers."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not hasattr(type(value), "__float__"):
        raise TypeError(f"{what} must be a number, got {value!r} ({type(value).__name__})")
    return float(value)


class Trial:
    """The handle an objective receives as its second argument.

    Attributes:
        number: the trial's number in the study.
        params: the hyper-parameters to evaluate (the same dict as the first argument).
        seed: a 32-bit seed derived from (study seed, number), for the objective's own RNGs.
        user_attrs: what the objective stored with ``set_user_attr``.
    """

    def __init__(self, number: int, params: dict, seed: int, channel: Channel) -> None:
        self.number = number
        self.params = params
        self.seed = seed
        self.user_attrs: dict[str, Any] = {}
        self._channel = channel
        self._last_step: int | None = None
        self._steps: set[int] = set()
        self._prune = False

    def report(self, step: int, value: float) -> None:
        """Record an intermediate ``value`` (e.g. validation error) at ``step`` (an int >= 0).

        The master stores it and asks the pruner; ``should_prune()`` then gives the answer.
        A step reported twice keeps its first value (a warning says so).
        """
        if isinstance(step, bool) or not isinstance(step, Integral):
            raise TypeError(f"step must be an int, got {step!r} ({type(step).__name__})")
        step = int(step)
        if step < 0:
            raise ValueError(f"step must be >= 0, got {step}")
        value = as_float(value, "reported value")
        if step in self._steps:
            warnings.warn(f"trial {self.number}: step {step} was already reported; "
                          f"the new value {value!r} is ignored", stacklevel=2)
            return
        self._steps.add(step)
        self._last_step = step
        self._prune = bool(self._channel.report(self.number, step, value))

    def should_prune(self) -> bool:
        """Whether the pruner wants this trial stopped after the latest report (False before any)."""
        return self._prune

    def set_user_attr(self, key: str, value: Any) -> None:
        """Store a JSON-serialisable ``value`` under ``key`` with the trial (e.g. a test error)."""
        if not isinstance(key, str):
            raise TypeError(f"user attribute keys must be strings, got {key!r}")
        if isinstance(value, np.generic):
            value = value.item()
        try:
            json.dumps(value)
        except (TypeError, ValueError) as e:
            raise TypeError(f"user attribute {key!r} must be JSON-serialisable, got {value!r}: {e}") from None
        self.user_attrs[key] = value
