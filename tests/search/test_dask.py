"""Trials on a real Dask cluster: scheduler and two worker processes on loopback."""
from __future__ import annotations

import pytest

import worker_objectives as wo
from ferrograd.search import RandomSampler, Space, Study, SuccessiveHalvingPruner, TrialState, Uniform

distributed = pytest.importorskip("distributed", reason="the Dask test needs dask[distributed]")
dask = pytest.importorskip("dask")

SPACE = Space({"x": Uniform(-1.0, 1.0)})


@pytest.fixture(scope="module")
def executor():
    # A worker that dies fails its task at once instead of being retried on the other worker.
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      host="127.0.0.1", dashboard_address=None) as cluster:
            with distributed.Client(cluster) as client:
                yield client.get_executor()


def test_dask_runs_trials_with_reports_pruning_and_the_same_params(executor, tmp_path):
    local = Study(SPACE, sampler=RandomSampler(), seed=3)
    local.optimize(wo.quadratic, n_trials=10)
    study = Study(SPACE, sampler=RandomSampler(), seed=3, storage=f"sqlite:///{tmp_path / 'd.db'}",
                  pruner=SuccessiveHalvingPruner(min_resource=1, reduction_factor=2))
    study.optimize(wo.quadratic, n_trials=10, executor=executor)
    assert [t.params for t in study.trials] == [t.params for t in local.trials]
    states = [t.state for t in study.trials]
    assert TrialState.PRUNED in states and TrialState.COMPLETE in states
    assert all(t.intermediate_values for t in study.trials)
    for t in study.trials:
        if t.state is TrialState.COMPLETE:
            assert t.value == t.params["x"] ** 2
    # the default concurrency is the cluster's thread count
    from ferrograd.search.executors import resolve_n_jobs
    assert resolve_n_jobs(None, executor) == 2


def test_dask_failures_are_recorded_and_the_study_goes_on(executor):
    study = Study(SPACE, seed=0)
    study.optimize(wo.misbehaving, n_trials=8, executor=executor)
    by = {t.number: t for t in study.trials}
    assert not any(t.state is TrialState.RUNNING for t in by.values())
    assert by[2].state is TrialState.FAIL and "executor failed to run the trial" in by[2].error
    assert by[4].state is TrialState.FAIL and "KeyError" in by[4].error
    assert by[6].state is TrialState.FAIL and "returned nan" in by[6].error
    assert all(by[n].state is TrialState.COMPLETE for n in (0, 1, 3, 5, 7))
    # lambdas travel to Dask workers (cloudpickle)
    study.optimize(lambda p, t: p["x"] + 1.0, n_trials=2, executor=executor)
    assert [t.state for t in study.trials[-2:]] == [TrialState.COMPLETE] * 2
