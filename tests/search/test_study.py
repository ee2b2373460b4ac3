"""The Study master loop in one process: numbering, states, failures, resumption, arguments."""
from __future__ import annotations

import math
import sqlite3
import time

import numpy as np
import pytest

from ferrograd.search import (Choice, GridSampler, RandomSampler, SobolSampler, Space, Study,
                              TPESampler, TrialState, Uniform, load_study)
from ferrograd.search.trial import trial_seed

SPACE = Space({"x": Uniform(-1.0, 1.0), "c": Choice(["a", "b"])})


def test_trials_are_numbered_in_order_with_timings_and_the_best_is_found():
    study = Study(SPACE, seed=1)
    seen = []
    study.optimize(lambda p, t: seen.append(t.number) or p["x"] ** 2, n_trials=12)
    trials = study.trials
    assert [t.number for t in trials] == list(range(12)) == seen
    assert all(t.state is TrialState.COMPLETE for t in trials)
    assert all(t.duration is not None and 0 <= t.duration < 1 for t in trials)
    assert all(t.datetime_start <= t.datetime_complete for t in trials)
    best = min(trials, key=lambda t: t.value)
    assert study.best_trial.number == best.number
    assert study.best_value == best.value == best.params["x"] ** 2
    study.optimize(lambda p, t: p["x"] ** 2, n_trials=3)  # optimize again: numbering goes on
    assert [t.number for t in study.trials] == list(range(15))


def test_maximize_picks_the_largest_value():
    study = Study(SPACE, direction="maximize", seed=1)
    study.optimize(lambda p, t: p["x"], n_trials=20)
    assert study.best_value == max(t.value for t in study.trials)


def test_trial_seed_is_a_function_of_study_seed_and_number():
    study = Study(SPACE, seed=9)
    got = []
    study.optimize(lambda p, t: got.append(t.seed) or 0.0, n_trials=4)
    assert got == [trial_seed(9, n) for n in range(4)]
    assert len(set(got)) == 4


def raising(p, t):
    if t.number % 3 == 1:
        raise ValueError(f"bad trial {t.number}")
    return p["x"]


def test_a_raising_objective_is_recorded_fail_and_the_study_goes_on():
    study = Study(SPACE, seed=0)
    study.optimize(raising, n_trials=9)
    states = [t.state for t in study.trials]
    assert states.count(TrialState.FAIL) == 3 and states.count(TrialState.COMPLETE) == 6
    failed = study.trials[1]
    assert failed.value is None and "ValueError: bad trial 1" in failed.error
    assert "Traceback" in failed.error


def test_exceptions_outside_catch_are_recorded_then_raised():
    study = Study(SPACE, seed=0, storage="sqlite:///:memory:")
    with pytest.raises(ValueError, match="bad trial 1"):
        study.optimize(raising, n_trials=9, catch=(KeyError,))
    assert [t.state for t in study.trials] == [TrialState.COMPLETE, TrialState.FAIL]
    study.optimize(lambda p, t: 0.0, n_trials=1)  # the master lease was released
    assert len(study.trials) == 3


@pytest.mark.parametrize("bad, text", [(math.nan, "returned nan"), (math.inf, "returned inf"),
                                       (-math.inf, "returned -inf")])
def test_non_finite_values_are_failures(bad, text):
    study = Study(SPACE, seed=0)
    study.optimize(lambda p, t: bad if t.number == 1 else 1.0, n_trials=3)
    t = study.trials[1]
    assert t.state is TrialState.FAIL and text in t.error and t.value is None
    assert study.trials[2].state is TrialState.COMPLETE


@pytest.mark.parametrize("bad", ["0.5", None, [1.0], True])
def test_a_non_number_is_a_type_error_recorded_as_fail(bad):
    study = Study(SPACE, seed=0)
    study.optimize(lambda p, t: bad, n_trials=2)
    assert all(t.state is TrialState.FAIL for t in study.trials)
    assert "TypeError: the objective's return value must be a number" in study.trials[0].error
    with pytest.raises(TypeError, match="must be a number"):
        Study(SPACE, seed=0).optimize(lambda p, t: bad, n_trials=2, catch=())


def test_numpy_scalars_and_zero_d_arrays_are_accepted():
    study = Study(SPACE, seed=0)
    study.optimize(lambda p, t: np.float32(0.5) if t.number else np.array(0.25), n_trials=2)
    assert [t.value for t in study.trials] == [0.25, 0.5]


def test_timeout_stops_launching_trials():
    study = Study(SPACE, seed=0)
    t0 = time.monotonic()
    study.optimize(lambda p, t: time.sleep(0.05) or 0.0, timeout=0.3)
    elapsed = time.monotonic() - t0
    assert 4 <= len(study.trials) <= 8 and elapsed < 0.6


def test_enqueued_trials_run_first_with_their_params():
    study = Study(SPACE, seed=0)
    n = study.enqueue_trial({"x": 0.25, "c": "b"})
    assert n == 0 and study.trials[0].state is TrialState.WAITING
    study.optimize(lambda p, t: p["x"], n_trials=3)
    assert study.trials[0].params == {"x": 0.25, "c": "b"} and study.trials[0].value == 0.25
    with pytest.raises(ValueError, match="outside"):
        study.enqueue_trial({"x": 2.0, "c": "a"})


def test_callbacks_run_after_the_trial_is_committed(tmp_path):
    path = tmp_path / "s.db"
    study = Study(SPACE, seed=0, storage=f"sqlite:///{path}", name="cb")
    seen = []

    def callback(study_, trial):
        # a separate connection (another process, say) already sees the finished trial
        row = sqlite3.connect(path).execute(
            "SELECT state, value FROM search_trials WHERE number=?", (trial.number,)).fetchone()
        seen.append((trial.number, row))

    study.optimize(lambda p, t: p["x"], n_trials=3, callbacks=[callback])
    assert [n for n, _ in seen] == [0, 1, 2]
    assert all(row[0] == "COMPLETE" and row[1] == study.trials[n].value for n, row in seen)


def test_resuming_continues_numbering_and_the_sampler_sequence(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    obj = lambda p, t: (p["x"] - 0.2) ** 2 + (p["c"] == "a")
    for make in (RandomSampler, SobolSampler, TPESampler):
        straight = Study(SPACE, sampler=make(), seed=3)
        straight.optimize(obj, n_trials=30)
        first = Study(SPACE, sampler=make(), seed=3, storage=url, name=make.name)
        first.optimize(obj, n_trials=17)
        again = load_study(make.name, url)
        again.optimize(obj, n_trials=13)
        assert [t.number for t in again.trials] == list(range(30))
        assert [t.params for t in again.trials] == [t.params for t in straight.trials], make.name


def test_a_grid_study_stops_when_the_grid_is_exhausted_even_across_resumes(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = Space({"a": Choice([1, 2, 3]), "b": Choice([1, 2])})
    s = Study(space, sampler=GridSampler(), storage=url, name="g", seed=0)
    s.optimize(lambda p, t: p["a"] * p["b"], n_trials=4)
    again = load_study("g", url)
    again.optimize(lambda p, t: p["a"] * p["b"])  # no n_trials: until the grid is done
    assert len({tuple(t.params.values()) for t in again.trials}) == 6 == len(again.trials)


def test_to_dataframe():
    pd = pytest.importorskip("pandas", reason="to_dataframe needs pandas")
    study = Study(SPACE, seed=0)
    study.optimize(lambda p, t: t.set_user_attr("note", t.number) or p["x"], n_trials=3)
    df = study.to_dataframe()
    assert isinstance(df, pd.DataFrame) and len(df) == 3
    assert list(df.columns[:8]) == ["number", "state", "value", "datetime_start",
                                    "datetime_complete", "duration", "params_x", "params_c"]
    assert df["user_attrs_note"].tolist() == [0, 1, 2]
    assert df["value"].tolist() == [t.value for t in study.trials]


def test_one_master_per_study():
    study = Study(SPACE, seed=0)

    def nested(p, t):
        study.optimize(lambda p, t: 0.0, n_trials=1)
        return 0.0

    with pytest.raises(RuntimeError, match="already being optimised in this process"):
        study.optimize(nested, n_trials=1, catch=())


def test_bad_arguments_give_clear_errors():
    with pytest.raises(ValueError, match="direction must be 'minimize' or 'maximize', got 'min'"):
        Study(SPACE, direction="min")
    with pytest.raises(ValueError, match="unknown sampler 'annealing'"):
        Study(SPACE, sampler="annealing")
    with pytest.raises(TypeError, match="sampler must be a Sampler"):
        Study(SPACE, sampler=42)
    with pytest.raises(TypeError, match="pruner must be a Pruner"):
        Study(SPACE, pruner=object())
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        Study(SPACE, seed=-1)
    study = Study(SPACE)
    with pytest.raises(TypeError, match="objective must be callable"):
        study.optimize("f", n_trials=1)
    with pytest.raises(ValueError, match="n_trials must be a non-negative int"):
        study.optimize(lambda p, t: 0.0, n_trials=-1)
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        study.optimize(lambda p, t: 0.0, timeout=0)
    with pytest.raises(ValueError, match="n_jobs must be >= 1 or -1"):
        study.optimize(lambda p, t: 0.0, n_trials=1, n_jobs=0)
    with pytest.raises(TypeError, match="catch must hold exception classes"):
        study.optimize(lambda p, t: 0.0, n_trials=1, catch=(int,))
    with pytest.raises(TypeError, match="executor must be a concurrent.futures.Executor"):
        study.optimize(lambda p, t: 0.0, n_trials=1, executor="dask")
    with pytest.raises(ValueError, match="no completed trial yet"):
        study.best_trial


def test_report_argument_checks():
    study = Study(SPACE, seed=0)

    def bad_step(p, t):
        t.report(1.5, 0.1)

    study.optimize(bad_step, n_trials=1)
    assert "TypeError: step must be an int" in study.trials[0].error

    def twice(p, t):
        t.report(1, 0.5)
        with pytest.warns(UserWarning, match="step 1 was already reported"):
            t.report(1, 0.7)
        return 0.0

    study.optimize(twice, n_trials=1)
    assert study.trials[1].intermediate_values == {1: 0.5}


def test_ctrl_c_marks_the_running_trial_failed_and_propagates(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    study = Study(SPACE, seed=0, storage=url, name="k")

    def interrupted(p, t):
        if t.number == 2:
            raise KeyboardInterrupt
        return 0.0

    with pytest.raises(KeyboardInterrupt):
        study.optimize(interrupted, n_trials=5)
    stored = load_study("k", url).trials
    assert [t.state for t in stored] == [TrialState.COMPLETE] * 2 + [TrialState.FAIL]
    assert stored[2].error.startswith("aborted: KeyboardInterrupt")
