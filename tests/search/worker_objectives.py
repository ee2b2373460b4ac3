"""Objectives for tests that run trials in other processes (they must be importable there)."""
from __future__ import annotations

import math
import os
import time

from ferrograd.search import TrialPruned


def quadratic(params, trial):
    """x**2, reporting a decaying curve over 4 steps and honouring the pruner."""
    for step in range(1, 5):
        trial.report(step, params["x"] ** 2 + 1.0 / step)
        if trial.should_prune():
            raise TrialPruned()
    return params["x"] ** 2


def misbehaving(params, trial):
    """Trial 2 kills its worker process, trial 4 raises, trial 6 returns NaN; others sleep a
    little (so that two trials are in flight when the worker dies) and return x**2."""
    if trial.number == 2:
        time.sleep(0.2)
        os._exit(3)
    if trial.number == 4:
        raise KeyError("no such key")
    if trial.number == 6:
        return math.nan
    time.sleep(0.05)
    return params["x"] ** 2


def slow(params, trial):
    """x**2 after 50 ms (2 s for trial numbers ending in 9), with one report (used by the
    crashed-master test: it kills the master while such a long trial runs)."""
    time.sleep(2.0 if trial.number % 10 == 9 else 0.05)
    trial.report(1, params["x"])
    return params["x"] ** 2


def raise_value_error(params, trial):
    raise ValueError(f"trial {trial.number} refuses")


def spin_setting(params, trial):
    """The worker process's spin time of idle CPU threads (run_trial turns spinning off)."""
    import ferrograd

    return float(ferrograd.get_spin_us())
