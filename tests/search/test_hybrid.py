"""HybridSampler: the k-d partition, exploring, adjusting, stopping rules, and its payoff."""
from __future__ import annotations

import numpy as np
import pytest

from ferrograd.search import (Choice, FrozenTrial, HybridSampler, RandomSampler, Space, Study,
                              TrialState, Uniform)
from ferrograd.search.samplers.hybrid import _Partition

UNIT2 = Space({"x": Uniform(0.0, 1.0), "y": Uniform(0.0, 1.0)})


def explorer(space, seed=0, **kw):
    s = HybridSampler(explore_start=1.0, explore_end=1.0, **kw)
    s.bind(space, seed, "minimize")
    return s


def leaves(tree):
    return [i for i in range(len(tree.lo)) if tree.children[i] is None]


def test_partition_separates_points_and_tiles_the_cube():
    tree = _Partition([None, None, None])
    rng = np.random.default_rng(0)
    for p in rng.random((200, 3)):
        tree.insert(p)
    ls = leaves(tree)
    assert sum(tree.volume(i) for i in ls) == pytest.approx(1.0)
    assert all(len(tree.points[i]) <= 1 for i in ls)
    assert sum(len(tree.points[i]) for i in ls) == 200
    for i in ls:
        for p in tree.points[i]:
            assert np.all(tree.lo[i] <= p) and np.all(p <= tree.hi[i])


def test_partition_does_not_depend_on_insertion_order():
    pts = np.random.default_rng(1).random((60, 2))
    a, b = _Partition([None, None]), _Partition([None, None])
    for p in pts:
        a.insert(p)
    for p in pts[::-1]:
        b.insert(p)
    boxes = lambda t: sorted((tuple(t.lo[i]), tuple(t.hi[i])) for i in leaves(t))
    assert boxes(a) == boxes(b)


def test_exploring_is_a_grid_like_refinement():
    s = explorer(UNIT2)
    first = s.sample(0, [])
    second = s.sample(1, [])
    # the first halving cuts x at 0.5: the second point lies in the other half
    assert (first["x"] < 0.5) != (second["x"] < 0.5)
    pts = [first, second] + [s.sample(i, []) for i in range(2, 16)]
    cells = {(int(p["x"] * 4), int(p["y"] * 4)) for p in pts}
    assert len(cells) == 16  # 16 explorations fill the 4 x 4 grid, one point per cell
    assert all(m == "explore" for m in s.moves.values())


def test_exploring_a_discrete_space_visits_every_cell_once_before_repeating():
    space = Space({"a": Choice(["p", "q", "r"]), "b": Choice([False, True])})
    s = explorer(space)
    seen = [tuple(s.sample(i, []).values()) for i in range(6)]
    assert len(set(seen)) == 6
    assert s._tree.largest_unexplored() is None  # nothing left to explore


def told(sampler, xs, losses):
    for i, (x, loss) in enumerate(zip(xs, losses)):
        sampler.tell(FrozenTrial(i, TrialState.COMPLETE, {"x": x}, loss, end=float(i)))


def test_neighbour_scores_are_inverse_distance_weighted_means():
    space = Space({"x": Uniform(0.0, 1.0)})
    s = HybridSampler(n_neighbors=2)
    s.bind(space, 0, "minimize")
    told(s, [0.0, 0.1, 1.0], [1.0, 2.0, 3.0])
    h = (0.1 + 0.1 + 0.9) / 3  # mean nearest-neighbour distance
    expected = [(1 / h * 1.0 + 1 / (0.1 + h) * 2.0) / (1 / h + 1 / (0.1 + h)),
                (1 / h * 2.0 + 1 / (0.1 + h) * 1.0) / (1 / h + 1 / (0.1 + h)),
                (1 / h * 3.0 + 1 / (0.9 + h) * 2.0) / (1 / h + 1 / (0.9 + h))]
    np.testing.assert_allclose(s.neighbour_scores(), expected, rtol=1e-12)


def test_adjusting_mutates_the_roulette_winner_with_gaussian_noise():
    space = Space({"x": Uniform(0.0, 1.0)})
    s = HybridSampler(explore_start=0.0, explore_end=0.0, n_neighbors=1, mutation_scale=0.05)
    s.bind(space, 0, "minimize")
    told(s, [0.5, 0.9], [0.0, 1.0])  # the worst point gets no slice of the wheel
    xs = np.array([s.sample(10 + i, [])["x"] for i in range(400)])
    assert set(s.moves.values()) == {"adjust"}
    assert abs(xs.mean() - 0.5) < 0.01
    assert 0.04 < xs.std() < 0.06
    assert xs.max() < 0.75  # never a child of the worst point (0.9)


def test_roulette_wheel_slices_follow_scores():
    space = Space({"x": Uniform(0.0, 1.0)})
    s = HybridSampler(explore_start=0.0, explore_end=0.0, n_neighbors=1, mutation_scale=0.01)
    s.bind(space, 0, "minimize")
    told(s, [0.1, 0.5, 0.9], [0.0, 0.5, 1.0])  # slices 1 : 0.5 : 0
    xs = np.array([s.sample(10 + i, [])["x"] for i in range(3000)])
    frac_near_01 = np.mean(np.abs(xs - 0.1) < 0.05)
    frac_near_05 = np.mean(np.abs(xs - 0.5) < 0.05)
    assert frac_near_01 == pytest.approx(2 / 3, abs=0.03)
    assert frac_near_05 == pytest.approx(1 / 3, abs=0.03)


def test_exploration_probability_decreases_from_start_to_end():
    s = HybridSampler(explore_start=0.9, explore_end=0.1, explore_half_life=10)
    assert s.explore_probability(0) == pytest.approx(0.9)
    assert s.explore_probability(10) == pytest.approx(0.5)
    assert s.explore_probability(1000) == pytest.approx(0.1)
    study = Study(UNIT2, sampler=HybridSampler(explore_half_life=8), seed=3)
    study.optimize(lambda p, t: (p["x"] - 0.3) ** 2 + (p["y"] - 0.6) ** 2, n_trials=80)
    moves = [study.sampler.moves[i] for i in range(80)]
    early = moves[:16].count("explore") / 16
    late = moves[40:].count("explore") / 40
    assert early > 0.6 and late < 0.3


def test_stops_after_max_trials_or_patience():
    s = Study(UNIT2, sampler=HybridSampler(max_trials=7), seed=0)
    s.optimize(lambda p, t: p["x"], n_trials=100)
    assert len(s.trials) == 7
    s = Study(UNIT2, sampler=HybridSampler(patience=5), seed=0)
    s.optimize(lambda p, t: 1.0, n_trials=100)  # nothing ever improves on the first trial
    assert len(s.trials) == 6
    counter = iter(range(100, 0, -1))
    s = Study(UNIT2, sampler=HybridSampler(patience=5), seed=0)
    s.optimize(lambda p, t: float(next(counter)), n_trials=30)  # always improving
    assert len(s.trials) == 30


def test_resumed_hybrid_search_proposes_what_an_uninterrupted_one_would(tmp_path):
    obj = lambda p, t: (p["x"] - 0.3) ** 2 + abs(p["y"] - 0.6)
    straight = Study(UNIT2, sampler=HybridSampler(), seed=4)
    straight.optimize(obj, n_trials=40)
    url = f"sqlite:///{tmp_path / 'h.db'}"
    first = Study(UNIT2, sampler=HybridSampler(), seed=4, storage=url, name="h")
    first.optimize(obj, n_trials=25)
    from ferrograd.search import load_study
    again = load_study("h", url)
    again.optimize(obj, n_trials=15)
    assert [t.params for t in again.trials] == [t.params for t in straight.trials]


def test_hybrid_beats_random_search_on_a_smooth_objective():
    space = Space({f"x{i}": Uniform(0.0, 1.0) for i in range(3)})
    sphere = lambda p, t: sum((v - 0.3) ** 2 for v in p.values())
    best = {"hybrid": [], "random": []}
    for r in range(30):
        for name, make in (("hybrid", HybridSampler), ("random", RandomSampler)):
            study = Study(space, sampler=make(), seed=100 + r)
            study.optimize(sphere, n_trials=64)
            best[name].append(study.best_value)
    assert np.median(best["hybrid"]) < 0.85 * np.median(best["random"])


def test_bad_arguments():
    with pytest.raises(ValueError, match="explore_start must be a probability"):
        HybridSampler(explore_start=1.5)
    with pytest.raises(ValueError, match="mutation_scale must be > 0"):
        HybridSampler(mutation_scale=0)
    with pytest.raises(ValueError, match="patience must be >= 1"):
        HybridSampler(patience=0)
