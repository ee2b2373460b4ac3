"""Grid, random and Sobol samplers, and the sampler registry."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.stats import qmc

from ferrograd.search import (Choice, GridSampler, IntUniform, LogUniform, RandomSampler,
                              SobolSampler, Space, Study, Uniform, make_sampler)
from ferrograd.search.samplers import sampler_from_config


def bound(sampler, space, seed=0):
    sampler.bind(space, seed, "minimize")
    return sampler


def draw(sampler, n, start=0):
    return [sampler.sample(i, []) for i in range(start, start + n)]


# --- grid ---------------------------------------------------------------------------------------
def test_grid_enumerates_the_product_in_order_and_stops():
    space = Space({"a": Choice([1, 2]), "b": Uniform(0.0, 1.0)})
    study = Study(space, sampler=GridSampler(points={"b": 3}), seed=0)
    study.optimize(lambda p, t: p["a"] + p["b"], n_trials=100)
    assert [t.params for t in study.trials] == [
        {"a": 1, "b": 0.0}, {"a": 1, "b": 0.5}, {"a": 1, "b": 1.0},
        {"a": 2, "b": 0.0}, {"a": 2, "b": 0.5}, {"a": 2, "b": 1.0}]
    assert study.best_params == {"a": 1, "b": 0.0}


def test_grid_alone_works_on_a_space_of_choices():
    space = Space({"x": Choice(["a", "b", "c"]), "y": Choice([True, False])})
    s = bound(GridSampler(), space)
    assert len(s) == 6
    got = draw(s, 5)
    assert not s.exhausted(5)
    got += draw(s, 1, start=5)
    assert s.exhausted(6)
    assert len({(p["x"], p["y"]) for p in got}) == 6


def test_grid_skips_points_that_trials_already_had():
    space = Space({"x": Choice([1, 2, 3])})
    study = Study(space, sampler=GridSampler(), seed=0)
    study.enqueue_trial({"x": 2})
    study.optimize(lambda p, t: p["x"], n_trials=10)
    assert [t.params["x"] for t in study.trials] == [2, 1, 3]


def test_grid_points_per_dimension_log_int_and_explicit():
    space = Space({"lr": LogUniform(1e-3, 1e-1), "n": IntUniform(1, 4), "w": Uniform(0, 1)})
    s = bound(GridSampler(points={"lr": 3, "w": [0.25, 0.75]}), space)
    vals = s.values(space)
    np.testing.assert_allclose(vals["lr"], [1e-3, 1e-2, 1e-1])
    assert vals["n"] == [1, 2, 3, 4]  # integer dimension without an entry: every integer
    assert vals["w"] == [0.25, 0.75]
    assert len(s) == 3 * 4 * 2
    s2 = bound(GridSampler(points=2), space)
    assert s2.values(space)["n"] == [1, 4] and len(s2) == 8


def test_grid_expands_conditional_dimensions_only_where_active():
    space = Space({"opt": Choice(["sgd", "adam"]),
                   "momentum": Uniform(0.0, 0.9, when={"opt": "sgd"})})
    s = bound(GridSampler(points=2), space)
    assert draw(s, len(s)) == [{"opt": "sgd", "momentum": 0.0}, {"opt": "sgd", "momentum": 0.9},
                               {"opt": "adam"}]


def test_grid_shuffle_is_a_seeded_permutation():
    space = Space({"x": Choice(list(range(10)))})
    a = draw(bound(GridSampler(shuffle=True), space, seed=1), 10)
    b = draw(bound(GridSampler(shuffle=True), space, seed=1), 10)
    c = draw(bound(GridSampler(shuffle=True), space, seed=2), 10)
    assert a == b and a != c
    assert sorted(p["x"] for p in a) == list(range(10))
    assert [p["x"] for p in a] != list(range(10))


def test_grid_errors_name_the_problem():
    space = Space({"lr": LogUniform(1e-3, 1e-1)})
    with pytest.raises(ValueError, match="continuous dimension 'lr'"):
        bound(GridSampler(), space)
    with pytest.raises(ValueError, match="unknown dimensions \\['rate'\\]"):
        bound(GridSampler(points={"rate": 3}), space)
    with pytest.raises(ValueError, match="outside"):
        bound(GridSampler(points={"lr": [0.5]}), space)
    with pytest.raises(ValueError, match="more than"):
        bound(GridSampler(points=40), Space({f"x{i}": Uniform(0, 1) for i in range(4)}))
    with pytest.raises(TypeError):
        GridSampler(points=2.5)


# --- random -------------------------------------------------------------------------------------
SPACE = Space({"x": Uniform(-1.0, 3.0), "lr": LogUniform(1e-5, 1e-1), "c": Choice(["a", "b", "c", "d"])})


def test_random_is_a_function_of_seed_and_number_only():
    s1 = bound(RandomSampler(), SPACE, seed=7)
    forward = draw(s1, 20)
    s2 = bound(RandomSampler(), SPACE, seed=7)
    backward = [s2.sample(i, []) for i in reversed(range(20))][::-1]
    assert forward == backward
    assert draw(bound(RandomSampler(seed=8), SPACE, seed=7), 20) != forward  # own seed wins
    assert len({p["x"] for p in forward}) == 20


def test_random_draws_follow_each_prior():
    params = draw(bound(RandomSampler(), SPACE, seed=3), 4000)
    x = np.array([p["x"] for p in params])
    loglr = np.log10([p["lr"] for p in params])
    assert stats.kstest((x + 1.0) / 4.0, "uniform").pvalue > 1e-3
    assert stats.kstest((loglr + 5.0) / 4.0, "uniform").pvalue > 1e-3
    counts = np.unique([p["c"] for p in params], return_counts=True)[1]
    assert stats.chisquare(counts).pvalue > 1e-3
    # and a wrong prior is detected by the same checks
    assert stats.kstest(np.log10(x + 1.0 + 1e-9) / np.log10(4.0), "uniform").pvalue < 1e-3


# --- Sobol --------------------------------------------------------------------------------------
def test_sobol_points_are_scipys_scrambled_sequence():
    space = Space({"a": Uniform(0, 1), "b": Uniform(0, 1), "c": Uniform(0, 1)})
    s = bound(SobolSampler(), space, seed=11)
    try:
        ref = qmc.Sobol(3, scramble=True, rng=11).random(128)
    except TypeError:
        ref = qmc.Sobol(3, scramble=True, seed=11).random(128)
    got = np.array([[p["a"], p["b"], p["c"]] for p in draw(s, 128)])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    # out of order: asking point 100 first changes nothing
    s2 = bound(SobolSampler(), space, seed=11)
    assert s2.sample(100, []) == s.sample(100, [])
    assert s2.sample(3, []) == s.sample(3, [])


def test_sobol_covers_the_cube_more_evenly_than_random():
    space = Space({f"x{i}": Uniform(0, 1) for i in range(4)})
    sob = np.array([list(p.values()) for p in draw(bound(SobolSampler(), space, seed=0), 256)])
    rnd = np.array([list(p.values()) for p in draw(bound(RandomSampler(), space, seed=0), 256)])
    assert qmc.discrepancy(sob) < 0.25 * qmc.discrepancy(rnd)


# --- registry -----------------------------------------------------------------------------------
def test_make_sampler_and_config_round_trip():
    with pytest.raises(ValueError, match="unknown sampler 'anneal'; expected one of"):
        make_sampler("anneal")
    for name in ("grid", "random", "sobol", "hybrid", "tpe"):
        s = make_sampler(name, seed=5)
        rebuilt = sampler_from_config(s.config())
        assert type(rebuilt) is type(s) and rebuilt.config() == s.config()
    with pytest.raises(TypeError, match="seed must be an int"):
        RandomSampler(seed="1")
