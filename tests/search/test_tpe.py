"""TPESampler: its Parzen densities, its start-up, and that the model pays off."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate

from ferrograd.search import (Choice, LogUniform, RandomSampler, Space, Study, TPESampler,
                              Uniform)
from ferrograd.search.samplers import tpe


def test_parzen_density_is_normalised_on_the_unit_interval_and_sampled_from():
    centres = np.array([0.05, 0.5, 0.97])
    p = tpe._Parzen(centres, np.array([1.0, 2.0, 1.0]), bandwidth=0.1, prior_weight=1.0)
    total, _ = integrate.quad(lambda x: np.exp(p.log_pdf(np.array([x]))[0]), 0.0, 1.0, limit=200)
    assert total == pytest.approx(1.0, abs=1e-6)
    xs = p.sample(20000, np.random.default_rng(0))
    assert xs.min() >= 0.0 and xs.max() <= 1.0
    cdf = lambda x: integrate.quad(lambda t: np.exp(p.log_pdf(np.array([t]))[0]), 0.0, x)[0]
    grid = np.linspace(0.05, 0.95, 10)
    empirical = np.array([np.mean(xs <= g) for g in grid])
    np.testing.assert_allclose(empirical, [cdf(g) for g in grid], atol=0.015)


def test_bandwidths_widen_where_observations_are_sparse():
    sd = tpe._bandwidths(np.array([0.5, 0.1, 0.12]), 3, 0.01)
    # 0.12: gaps 0.02 and 0.38 -> 0.38; 0.5: 0.38 and 0.5 -> 0.5; 0.1: gaps 0.1 (to 0) and
    # 0.02 -> 0.1, raised to the floor 1 / (3 + 1) of three observations
    np.testing.assert_allclose(sd, [0.5, 0.25, 0.38])
    dense = tpe._bandwidths(np.linspace(0, 1, 1000), 1000, 0.01)
    np.testing.assert_allclose(dense, 0.01)  # floor: max(0.01, 1/min(100, n + 1))
    np.testing.assert_allclose(tpe._bandwidths(np.array([0.3, 0.31]), 2, 0.01)[1], 0.69)


def test_binned_density_matches_the_exact_mixture():
    rng = np.random.default_rng(1)
    x = np.clip(rng.normal(0.4, 0.15, 5000), 0, 1)
    s = TPESampler()
    binned = s._density(x, 0.01)
    exact = tpe._Parzen(x, np.ones(len(x)), tpe._bandwidths(x, len(x), 0.01), s.prior_weight)
    grid = np.linspace(0.01, 0.99, 99)
    pb, pe = np.exp(binned.log_pdf(grid)), np.exp(exact.log_pdf(grid))
    assert np.abs(pb - pe).max() < 0.02 * pe.max()
    bulk = pe > 0.1 * pe.max()  # in the far tails both are rough estimates anyway
    np.testing.assert_allclose(np.log(pb[bulk]), np.log(pe[bulk]), atol=0.04)
    assert len(binned.centres) <= tpe._BINS


def test_startup_trials_are_random_search():
    space = Space({"x": Uniform(0, 1), "lr": LogUniform(1e-4, 1), "c": Choice(["a", "b"])})
    a = Study(space, sampler=TPESampler(n_startup_trials=8), seed=3)
    a.optimize(lambda p, t: p["x"], n_trials=12)
    b = Study(space, sampler=RandomSampler(), seed=3)
    b.optimize(lambda p, t: p["x"], n_trials=12)
    assert [t.params for t in a.trials[:8]] == [t.params for t in b.trials[:8]]
    assert [t.params for t in a.trials[8:]] != [t.params for t in b.trials[8:]]


def test_proposals_concentrate_where_values_are_good():
    space = Space({"x": Uniform(0.0, 1.0), "noise": Uniform(0.0, 1.0)})
    study = Study(space, sampler=TPESampler(), seed=0)
    study.optimize(lambda p, t: (p["x"] - 0.3) ** 2, n_trials=60)
    late = np.array([t.params["x"] for t in study.trials[30:]])
    assert np.median(np.abs(late - 0.3)) < 0.08  # random: about 0.25
    # the irrelevant dimension does not collapse (uniform: std 0.29; collapsed: ~0)
    assert np.std([t.params["noise"] for t in study.trials[30:]]) > 0.1


def test_categorical_dimension_learns_the_good_option():
    space = Space({"c": Choice(["a", "b", "c", "d"]), "x": Uniform(0, 1)})
    study = Study(space, sampler=TPESampler(n_startup_trials=10), seed=1)
    study.optimize(lambda p, t: (0.0 if p["c"] == "b" else 1.0) + 0.1 * p["x"], n_trials=50)
    late = [t.params["c"] for t in study.trials[20:]]
    assert late.count("b") / len(late) > 0.7


def test_conditional_dimensions_use_only_trials_where_they_were_active():
    space = Space({"opt": Choice(["sgd", "adam"]),
                   "momentum": Uniform(0.0, 1.0, when={"opt": "sgd"})})
    study = Study(space, sampler=TPESampler(n_startup_trials=10), seed=2)
    study.optimize(lambda p, t: abs(p.get("momentum", 0.5) - 0.9) + (p["opt"] == "adam"), n_trials=50)
    for t in study.trials:
        study.space.validate(t.params)
    late = [t.params["momentum"] for t in study.trials[25:] if "momentum" in t.params]
    assert len(late) > 15 and np.median(np.abs(np.array(late) - 0.9)) < 0.1


def test_tpe_beats_random_search_at_equal_budget():
    space = Space({"x": Uniform(-5, 5), "y": Uniform(-5, 5), "z": LogUniform(1e-3, 1.0)})
    f = lambda p, t: (p["x"] - 1) ** 2 + (p["y"] + 2) ** 2 + np.log10(p["z"] / 0.05) ** 2
    best = {"tpe": [], "random": []}
    for r in range(12):
        for name, make in (("tpe", TPESampler), ("random", RandomSampler)):
            s = Study(space, sampler=make(), seed=r)
            s.optimize(f, n_trials=60)
            best[name].append(s.best_value)
    assert np.median(best["tpe"]) < 0.5 * np.median(best["random"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="gamma must be in"):
        TPESampler(gamma=1.0)
    with pytest.raises(ValueError, match="n_candidates must be >= 1"):
        TPESampler(n_candidates=0)
