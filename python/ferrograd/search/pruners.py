"""Pruners: stop unpromising trials early from their intermediate reports.

The master calls ``prune(number, step, value)`` after each ``trial.report`` and sends the answer
back to the trial's ``should_prune()``; it calls ``tell(trial)`` when a trial finishes (also for
every old trial when a study is reloaded, so a pruner rebuilds its state from the history).
Values are oriented internally so that lower is better, whatever the study's direction.
"""
from __future__ import annotations

import bisect
import math
from typing import Any, Mapping

from .trial import FrozenTrial, TrialState

__all__ = ["Pruner", "NopPruner", "MedianPruner", "SuccessiveHalvingPruner", "PRUNERS",
           "make_pruner", "pruner_from_config"]


def _check_int(label: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{label} must be an int, got {value!r}")
    if value < low:
        raise ValueError(f"{label} must be >= {low}, got {value}")
    return value


class Pruner:
    """Base class: never prunes. Subclasses override ``prune`` and, if they keep state, ``tell``."""

    name = "none"

    def __init__(self) -> None:
        self._sign = 1.0

    def bind(self, direction: str) -> None:
        """Attach to a study; resets any state. ``direction`` orients the values."""
        self._sign = 1.0 if direction == "minimize" else -1.0

    def prune(self, number: int, step: int, value: float) -> bool:
        """Whether trial ``number``, having just reported ``value`` at ``step``, should stop."""
        return False

    def tell(self, trial: FrozenTrial) -> None:
        """Learn from a finished trial (its state and all its intermediate values)."""

    def config(self) -> dict[str, Any]:
        """JSON-ready {"type": name, **arguments}, stored with a study."""
        return {"type": self.name}

    def _loss(self, value: float) -> float:
        v = self._sign * float(value)
        return math.inf if math.isnan(v) else v  # a NaN report is as bad as it gets

    def __repr__(self) -> str:
        cfg = {k: v for k, v in self.config().items() if k != "type"}
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in cfg.items())})"


NopPruner = Pruner


class MedianPruner(Pruner):
    """Stop a trial whose best value so far is worse than the median of the values that
    completed trials reported at the same step.

    Args:
        n_startup_trials: prune nothing until this many trials have completed.
        n_warmup_steps: prune nothing at steps below this.
        interval_steps: decide only at steps n_warmup_steps + k * interval_steps.
        n_min_trials: how many completed trials must have reported the step for a decision.
    """

    name = "median"

    def __init__(self, n_startup_trials: int = 5, n_warmup_steps: int = 0, interval_steps: int = 1,
                 n_min_trials: int = 1) -> None:
        super().__init__()
        self.n_startup_trials = _check_int("n_startup_trials", n_startup_trials, 0)
        self.n_warmup_steps = _check_int("n_warmup_steps", n_warmup_steps, 0)
        self.interval_steps = _check_int("interval_steps", interval_steps, 1)
        self.n_min_trials = _check_int("n_min_trials", n_min_trials, 1)
        self._reset()

    def _reset(self) -> None:
        self._completed = 0
        self._by_step: dict[int, list[float]] = {}   # step -> sorted losses of completed trials
        self._running_best: dict[int, float] = {}    # unfinished trial -> best loss so far

    def bind(self, direction: str) -> None:
        super().bind(direction)
        self._reset()

    def median_at(self, step: int) -> float | None:
        """Median loss of the completed trials at ``step`` (None if fewer than n_min_trials)."""
        values = self._by_step.get(step)
        if not values or len(values) < self.n_min_trials:
            return None
        m = len(values)
        return values[m // 2] if m % 2 else 0.5 * (values[m // 2 - 1] + values[m // 2])

    def prune(self, number: int, step: int, value: float) -> bool:
        loss = self._loss(value)
        best = min(loss, self._running_best.get(number, math.inf))
        self._running_best[number] = best
        if self._completed < self.n_startup_trials or step < self.n_warmup_steps:
            return False
        if (step - self.n_warmup_steps) % self.interval_steps:
            return False
        median = self.median_at(step)
        return median is not None and best > median

    def tell(self, trial: FrozenTrial) -> None:
        self._running_best.pop(trial.number, None)
        if trial.state is not TrialState.COMPLETE:
            return
        self._completed += 1
        for step, value in trial.intermediate_values.items():
            bisect.insort(self._by_step.setdefault(int(step), []), self._loss(value))

    def config(self) -> dict[str, Any]:
        return {"type": self.name, "n_startup_trials": self.n_startup_trials,
                "n_warmup_steps": self.n_warmup_steps, "interval_steps": self.interval_steps,
                "n_min_trials": self.n_min_trials}


class SuccessiveHalvingPruner(Pruner):
    """Asynchronous successive halving (ASHA, Li et al. 2020) without suspending trials.

    Rung k sits at step ``min_resource * reduction_factor**(min_early_stopping_rate + k)``.
    When a trial first reports a step at or past a rung, its value there joins that rung's
    record (values from every trial that reached it, finished or not). The trial goes on only
    if its value is among the best ``max(1, n // reduction_factor)`` of the n values recorded
    at the rung; otherwise it is pruned. Decisions never wait for other trials, so the pruner
    works with any number of workers.

    Args:
        min_resource: step of the first rung (e.g. 1 epoch).
        reduction_factor: eta; roughly 1/eta of the trials pass each rung.
        min_early_stopping_rate: skip this many rungs at the bottom.
    """

    name = "asha"

    def __init__(self, min_resource: int = 1, reduction_factor: int = 3,
                 min_early_stopping_rate: int = 0) -> None:
        super().__init__()
        self.min_resource = _check_int("min_resource", min_resource, 1)
        self.reduction_factor = _check_int("reduction_factor", reduction_factor, 2)
        self.min_early_stopping_rate = _check_int("min_early_stopping_rate",
                                                  min_early_stopping_rate, 0)
        self._reset()

    def _reset(self) -> None:
        self._rungs: list[list[float]] = []        # rung -> sorted losses recorded there
        self._reached: dict[int, int] = {}         # trial -> number of rungs it has entered

    def bind(self, direction: str) -> None:
        super().bind(direction)
        self._reset()

    def rung_step(self, k: int) -> int:
        """The step at which rung ``k`` sits."""
        return self.min_resource * self.reduction_factor ** (self.min_early_stopping_rate + k)

    def rung_values(self, k: int) -> list[float]:
        """Sorted losses recorded at rung ``k``."""
        return list(self._rungs[k]) if k < len(self._rungs) else []

    def _enter(self, number: int, step: int, loss: float) -> int | None:
        """Record ``loss`` at every rung newly reached by ``step``; the highest such rung."""
        k = self._reached.get(number, 0)
        top = None
        while self.rung_step(k) <= step:
            while len(self._rungs) <= k:
                self._rungs.append([])
            bisect.insort(self._rungs[k], loss)
            top = k
            k += 1
        self._reached[number] = k
        return top

    def prune(self, number: int, step: int, value: float) -> bool:
        loss = self._loss(value)
        k = self._enter(number, step, loss)
        if k is None:
            return False
        values = self._rungs[k]
        n_keep = max(1, len(values) // self.reduction_factor)
        return loss > values[n_keep - 1]

    def tell(self, trial: FrozenTrial) -> None:
        # A finished trial's reports may never have passed through prune() (a reloaded study).
        for step in sorted(trial.intermediate_values):
            self._enter(trial.number, int(step), self._loss(trial.intermediate_values[step]))
        self._reached.pop(trial.number, None)  # it reports no more

    def config(self) -> dict[str, Any]:
        return {"type": self.name, "min_resource": self.min_resource,
                "reduction_factor": self.reduction_factor,
                "min_early_stopping_rate": self.min_early_stopping_rate}


PRUNERS: dict[str, type[Pruner]] = {
    "none": Pruner, "median": MedianPruner, "asha": SuccessiveHalvingPruner}


def make_pruner(name: str | None, **kwargs: Any) -> Pruner:
    """The pruner called ``name`` ("none", "median" or "asha"; None means "none")."""
    try:
        cls = PRUNERS["none" if name is None else name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown pruner {name!r}; expected one of {sorted(PRUNERS)}") from None
    return cls(**kwargs)


def pruner_from_config(config: Mapping[str, Any]) -> Pruner:
    """Rebuild a pruner from ``Pruner.config()`` output."""
    config = dict(config)
    return make_pruner(config.pop("type", None), **config)
