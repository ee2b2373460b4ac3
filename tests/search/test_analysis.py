"""History, efficiency curves (plain and noise-weighted) and GP relevance."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from ferrograd.search import (RandomSampler, Space, Study, Uniform,
                              efficiency_curve, history, relevance)
from ferrograd.search.objectives import PlantedQuadratic, planted_space


def study_with(values, direction="minimize", test=None):
    """A study whose COMPLETE trials have the given values (and test scores)."""
    study = Study(Space({"x": Uniform(0.0, 1.0)}), direction=direction, seed=0)
    it = iter(range(len(values)))

    def objective(p, t):
        i = next(it)
        if test is not None:
            t.set_user_attr("test", test[i])
        return values[i]

    study.optimize(objective, n_trials=len(values))
    return study


def test_history_tracks_the_best_so_far_and_skips_failures():
    study = study_with([3.0, 5.0, 1.0, 2.0])
    study.optimize(lambda p, t: math.nan, n_trials=1)
    h = history(study)
    np.testing.assert_array_equal(h["number"], [0, 1, 2, 3, 4])
    np.testing.assert_array_equal(h["value"][:4], [3.0, 5.0, 1.0, 2.0])
    assert math.isnan(h["value"][4])
    np.testing.assert_array_equal(h["best"], [3.0, 3.0, 1.0, 1.0, 1.0])
    assert list(h["state"]) == ["COMPLETE"] * 4 + ["FAIL"]
    hmax = history(study_with([3.0, 5.0, 1.0], direction="maximize"))
    np.testing.assert_array_equal(hmax["best"], [3.0, 5.0, 5.0])


def test_efficiency_curve_takes_the_best_of_each_block_of_s_trials():
    values = [5.0, 3.0, 4.0, 1.0, 2.0, 6.0, 0.0, 7.0]
    curve = efficiency_curve(study_with(values))
    assert curve.sizes == [1, 2, 4, 8]
    np.testing.assert_array_equal(curve.scores[0], values)
    np.testing.assert_array_equal(curve.scores[1], [3.0, 1.0, 2.0, 0.0])
    np.testing.assert_array_equal(curve.scores[2], [1.0, 0.0])
    np.testing.assert_array_equal(curve.scores[3], [0.0])
    np.testing.assert_array_equal(curve.medians(), [3.5, 1.5, 0.5, 0.0])
    # maximising, and reporting another score (the paper reports test accuracy)
    up = efficiency_curve(study_with(values, "maximize", test=[10, 20, 30, 40, 50, 60, 70, 80]),
                          sizes=[2, 4], score_attr="test")
    np.testing.assert_array_equal(up.scores[0], [10, 30, 60, 80])
    np.testing.assert_array_equal(up.scores[1], [10, 80])
    # arrays work too; extra trials beyond a multiple of s are left out
    arr = efficiency_curve(np.array([3.0, 1.0, 2.0]), sizes=[2], direction="minimize")
    np.testing.assert_array_equal(arr.scores[0], [1.0])


def test_noise_weighted_curve_uses_the_probability_of_being_truly_best():
    p1, p2, n = 0.10, 0.11, 100
    study = study_with([p1, p2], test=[1.0, 0.0])
    curve = efficiency_curve(study, sizes=[2], score_attr="test", weighted=True, n_valid=n,
                             n_sim=200_000, seed=1)
    # trial 0 is truly best with probability P(z1 < z2), z_i ~ N(p_i, p_i (1 - p_i) / (n - 1))
    expected = stats.norm.cdf((p2 - p1) / math.sqrt((p1 * (1 - p1) + p2 * (1 - p2)) / (n - 1)))
    assert curve.scores[0][0] == pytest.approx(expected, abs=0.005)
    assert 0.55 < expected < 0.7  # noise matters here: the unweighted answer would be 1.0
    huge = efficiency_curve(study, sizes=[2], score_attr="test", weighted=True, n_valid=10**9)
    assert huge.scores[0][0] == pytest.approx(1.0)


def test_efficiency_curve_argument_errors():
    study = study_with([0.2, 0.3, 1.5])
    with pytest.raises(ValueError, match=r"sizes \[4\] are outside 1..3"):
        efficiency_curve(study, sizes=[1, 4])
    with pytest.raises(ValueError, match="needs n_valid"):
        efficiency_curve(study, weighted=True)
    with pytest.raises(ValueError, match=r"error rates in \[0, 1\]"):
        efficiency_curve(study, weighted=True, n_valid=100)
    with pytest.raises(ValueError, match="no user attribute 'test'"):
        efficiency_curve(study, score_attr="test")
    with pytest.raises(ValueError, match="no completed trials"):
        efficiency_curve(Study(Space({"x": Uniform(0, 1)})))


def test_efficiency_of_random_search_improves_with_experiment_size():
    study = Study(planted_space(2, 2), sampler=RandomSampler(), seed=0)
    study.optimize(PlantedQuadratic([0.3, 0.7]), n_trials=128)
    med = efficiency_curve(study).medians()
    assert np.all(np.diff(med) <= 0) and med[-1] < 0.1 * med[0]


def test_relevance_ranks_planted_dummies_last():
    space = planted_space(2, 2)
    study = Study(space, sampler=RandomSampler(), seed=1)
    study.optimize(PlantedQuadratic([0.3, 0.7], weights=[1.0, 0.5]), n_trials=60)
    scores = relevance(study, n_fits=3, seed=0)
    assert list(scores)[:2] == ["x0", "x1"]
    assert set(list(scores)[2:]) == {"dummy0", "dummy1"}
    assert scores["x1"] > 10 * scores["dummy0"]
    with pytest.raises(ValueError, match="at least 5 completed trials"):
        relevance(study_with([1.0, 2.0]))
