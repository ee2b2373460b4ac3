"""Numerical guards: a diverging training (loss NaN/inf) is detected and reported by ``fit``,
and recorded as a failed trial by the search, instead of running on silently."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import data, nn, optim, search
from ferrograd.search.objectives import MLPObjective, mlp_space
from ferrograd.train import DivergenceError, fit


def loaders(rng, n=256):
    x = rng.standard_normal((n, 20)).astype(np.float32) * 5
    y = rng.integers(0, 3, n)
    return data.DataLoader(data.TensorDataset(fg.tensor(x), fg.tensor(y.astype(np.float32))), batch_size=32)


def model():
    fg.manual_seed(0)
    return nn.Sequential(nn.Linear(20, 32), nn.ReLU(), nn.Linear(32, 3))


def test_fit_raises_divergence_error_as_soon_as_the_loss_is_not_finite(rng):
    m = model()
    seen = []
    with pytest.raises(DivergenceError, match=r"the training loss became (nan|inf) at epoch 1, step \d+") as info:
        fit(m, optim.SGD(m.parameters(), lr=1e4, momentum=0.9), loaders(rng), epochs=3, progress=False,
            callback=lambda epoch, row: seen.append(epoch))
    assert isinstance(info.value, FloatingPointError)
    assert seen == []  # stopped inside the first epoch, no epoch reported as if it had worked
    step = int(str(info.value).split("step ")[1].split()[0])
    assert step < 8  # noticed at once, not after the whole epoch


def test_fit_with_a_sane_learning_rate_does_not_trip_the_guard(rng):
    m = model()
    h = fit(m, optim.SGD(m.parameters(), lr=1e-3), loaders(rng), epochs=2, progress=False)
    assert len(h) == 2 and all(math.isfinite(v) for v in h["train_loss"])


def test_the_search_records_a_diverging_trial_as_failed():
    objective = MLPObjective("digits", epochs=2, hidden_layers=1, train_size=600)
    study = search.Study(mlp_space(), seed=0)
    diverging = {"lr": 1.0, "hidden": 64, "dropout": 0.0, "batch_norm": False, "activation": "prelu",
                 "init": "xavier", "optimizer": "sgd", "momentum": 0.99, "batch_size": 32}
    sane = {k: v for k, v in diverging.items() if k != "momentum"}
    sane.update(optimizer="adam", lr=3e-3)
    study.enqueue_trial(diverging)
    study.enqueue_trial(sane)
    study.optimize(objective, n_trials=2)
    bad, good = study.trials
    assert bad.state is search.TrialState.FAIL and bad.value is None
    assert "DivergenceError" in bad.error and "the training loss became" in bad.error
    assert good.state is search.TrialState.COMPLETE and 0.0 <= good.value < 0.5
    assert study.best_trial.number == good.number
