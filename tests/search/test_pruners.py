"""MedianPruner and SuccessiveHalvingPruner: decisions on hand-made histories, and in a study."""
from __future__ import annotations

import math

import pytest

from ferrograd.search import (FrozenTrial, MedianPruner, Space, Study, SuccessiveHalvingPruner,
                              TrialPruned, TrialState, Uniform, make_pruner)
from ferrograd.search.pruners import pruner_from_config


def complete(number, curve):
    return FrozenTrial(number, TrialState.COMPLETE, {}, curve[max(curve)], dict(curve))


def median_pruner(direction="minimize", **kw):
    p = MedianPruner(**kw)
    p.bind(direction)
    for i, c in enumerate([{1: 0.5, 2: 0.4}, {1: 0.7, 2: 0.6}, {1: 0.9, 2: 0.8}]):
        p.tell(complete(i, c))
    return p


def test_median_pruner_compares_with_the_median_at_the_same_step():
    p = median_pruner(n_startup_trials=3)
    assert p.median_at(1) == pytest.approx(0.7) and p.median_at(2) == pytest.approx(0.6)
    assert p.prune(10, 1, 0.71) is True
    assert p.prune(11, 1, 0.69) is False
    assert p.prune(12, 3, 5.0) is False  # nobody completed reported step 3


def test_median_pruner_uses_the_trials_best_value_so_far():
    p = median_pruner(n_startup_trials=3)
    assert p.prune(20, 1, 0.55) is False
    assert p.prune(20, 2, 0.65) is False  # best so far 0.55 <= median 0.6
    assert p.prune(21, 1, 0.69) is False
    assert p.prune(21, 2, 0.62) is True   # best so far 0.62 > 0.6


def test_median_pruner_startup_warmup_interval_and_min_trials():
    assert median_pruner(n_startup_trials=4).prune(10, 1, 0.99) is False
    assert median_pruner(n_startup_trials=0, n_warmup_steps=2).prune(10, 1, 0.99) is False
    assert median_pruner(n_startup_trials=0, n_warmup_steps=2).prune(11, 2, 0.99) is True
    assert median_pruner(n_startup_trials=0, interval_steps=2).prune(10, 1, 0.99) is False
    assert median_pruner(n_startup_trials=0, interval_steps=2).prune(10, 2, 0.99) is True
    assert median_pruner(n_startup_trials=0, n_min_trials=4).prune(10, 1, 0.99) is False


def test_median_pruner_in_maximize_direction_and_with_nan():
    p = median_pruner("maximize", n_startup_trials=3)  # median at step 1 is 0.7 either way
    assert p.prune(10, 1, 0.69) is True
    assert p.prune(11, 1, 0.71) is False
    assert median_pruner(n_startup_trials=3).prune(12, 1, math.nan) is True


def test_median_pruner_ignores_unfinished_and_pruned_trials():
    p = median_pruner(n_startup_trials=0)
    p.tell(FrozenTrial(5, TrialState.PRUNED, {}, 0.0, {1: 0.0}))
    assert p.median_at(1) == pytest.approx(0.7)


def asha(**kw):
    p = SuccessiveHalvingPruner(**kw)
    p.bind("minimize")
    return p


def test_asha_rungs_and_promotion_rule():
    p = asha(min_resource=1, reduction_factor=3)
    assert [p.rung_step(k) for k in range(3)] == [1, 3, 9]
    # each arrival at rung 0 continues only if among the best max(1, n // 3) values there
    assert p.prune(0, 1, 0.5) is False   # [0.5]: keep 1
    assert p.prune(1, 1, 0.6) is True    # [0.5, 0.6]: keep 1
    assert p.prune(2, 1, 0.4) is False   # [0.4, 0.5, 0.6]
    assert p.prune(3, 1, 0.45) is True
    assert p.prune(4, 1, 0.9) is True
    assert p.prune(5, 1, 0.42) is False  # 6 values: keep 2 -> 0.42 <= 0.42
    assert p.rung_values(0) == [0.4, 0.42, 0.45, 0.5, 0.6, 0.9]
    assert p.prune(0, 2, 0.1) is False   # step 2 is no rung: no decision
    assert p.prune(0, 3, 0.3) is False   # rung 1 at step 3
    assert p.prune(2, 3, 0.35) is True
    assert p.rung_values(1) == [0.3, 0.35]


def test_asha_records_every_rung_a_jump_passes_and_min_early_stopping_rate():
    p = asha(min_resource=2, reduction_factor=2)
    assert p.prune(0, 5, 0.5) is False  # passes rungs at 2 and 4 at once
    assert p.rung_values(0) == [0.5] and p.rung_values(1) == [0.5]
    q = asha(min_resource=1, reduction_factor=3, min_early_stopping_rate=1)
    assert q.rung_step(0) == 3
    assert q.prune(0, 1, 0.5) is False and q.rung_values(0) == []


def test_asha_state_rebuilt_from_finished_trials_equals_live_state():
    live = asha(min_resource=1, reduction_factor=2)
    curves = [{1: 0.9, 2: 0.8, 4: 0.5}, {1: 0.7, 2: 0.6}, {1: 0.3, 3: 0.2, 4: 0.1, 8: 0.05}]
    for n, c in enumerate(curves):
        for step, v in sorted(c.items()):
            live.prune(n, step, v)
        live.tell(complete(n, c))
    replay = asha(min_resource=1, reduction_factor=2)
    for n, c in enumerate(curves):
        replay.tell(complete(n, c))
    assert [live.rung_values(k) for k in range(4)] == [replay.rung_values(k) for k in range(4)]
    assert replay.rung_values(2) == [0.1, 0.5]  # rung at step 4


def curve_objective(params, trial):
    # a trial's curve decays towards its final value x; bad trials are recognisable early
    for step in range(1, 11):
        trial.report(step, params["x"] + 1.0 / step)
        if trial.should_prune():
            raise TrialPruned()
    return params["x"]


@pytest.mark.parametrize("pruner", [MedianPruner(n_startup_trials=3), SuccessiveHalvingPruner()])
def test_pruning_in_a_study_stops_bad_trials_early(pruner):
    study = Study(Space({"x": Uniform(0.0, 1.0)}), pruner=pruner, seed=0)
    study.optimize(curve_objective, n_trials=40)
    pruned = [t for t in study.trials if t.state is TrialState.PRUNED]
    done = [t for t in study.trials if t.state is TrialState.COMPLETE]
    assert len(pruned) >= 10 and len(done) >= 3
    for t in pruned:
        last = max(t.intermediate_values)
        assert last < 10 and t.value == t.intermediate_values[last]
    # the pruned trials were mostly the bad ones
    mean = lambda ts: sum(t.params["x"] for t in ts) / len(ts)
    assert mean(pruned) > mean(done)
    assert study.best_value == min(t.params["x"] for t in done)


def test_pruner_registry_and_argument_checks():
    assert isinstance(make_pruner("asha"), SuccessiveHalvingPruner)
    assert make_pruner(None).prune(0, 1, 1e9) is False
    with pytest.raises(ValueError, match="unknown pruner 'hyperband'"):
        make_pruner("hyperband")
    with pytest.raises(ValueError, match="reduction_factor must be >= 2"):
        SuccessiveHalvingPruner(reduction_factor=1)
    with pytest.raises(TypeError, match="n_startup_trials must be an int"):
        MedianPruner(n_startup_trials=2.5)
    cfg = MedianPruner(n_startup_trials=2, n_warmup_steps=1).config()
    assert pruner_from_config(cfg).config() == cfg
