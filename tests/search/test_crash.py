"""A master killed with SIGKILL mid-study: nothing completed is lost or duplicated, nothing
stays RUNNING, and the study resumes."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

import worker_objectives as wo
from ferrograd.search import TrialState, load_study
from ferrograd.search.study import INTERRUPTED

HERE = os.path.dirname(os.path.abspath(__file__))


def rows(path, state):
    con = sqlite3.connect(path, timeout=10)
    try:
        return {n: (p, v) for n, p, v in con.execute(
            "SELECT number, params, value FROM search_trials WHERE state=?", (state,))}
    except sqlite3.OperationalError:  # tables not created yet
        return {}
    finally:
        con.close()


def children_of(pid):
    try:
        import psutil
    except ImportError:
        return []
    return psutil.Process(pid).children(recursive=True)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_master_killed_with_sigkill_then_resumed(tmp_path):
    path = tmp_path / "crash.db"
    url = f"sqlite:///{path}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    master = subprocess.Popen([sys.executable, os.path.join(HERE, "crash_master.py"), url, "2"],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        # kill while trial 9 (a 2 s trial) is recorded RUNNING and more than 8 trials are done
        while len(rows(path, "COMPLETE")) < 8 or 9 not in rows(path, "RUNNING"):
            assert master.poll() is None, master.stderr.read().decode()
            assert time.monotonic() < deadline, "the master made no progress"
            time.sleep(0.02)
        workers = children_of(master.pid)
        seen = rows(path, "COMPLETE")  # read while the master runs on
        master.send_signal(signal.SIGKILL)
        master.wait(10)
    finally:
        if master.poll() is None:
            master.kill()
            master.wait()
    # orphaned worker processes notice that their master is gone and exit
    for w in workers:
        try:
            w.wait(10)
        except Exception:  # noqa: BLE001 -- still alive: clean up, then fail
            w.kill()
            pytest.fail(f"worker process {w.pid} outlived its master")

    study = load_study("crash", url, requeue_interrupted=True)
    trials = study.trials
    by = {t.number: t for t in trials}
    assert sorted(by) == list(range(len(trials)))            # no gap, no duplicate number
    assert not any(t.state is TrialState.RUNNING for t in trials)
    after_kill = {n: t for n, t in by.items() if t.state is TrialState.COMPLETE}
    for n, (params, value) in seen.items():                  # nothing completed was lost
        assert after_kill[n].value == value
    interrupted = [t for t in trials if t.state is TrialState.FAIL]
    assert 9 in [t.number for t in interrupted]
    assert all(t.error == INTERRUPTED for t in interrupted)
    requeued = [t for t in trials if t.state is TrialState.WAITING]
    assert [t.params for t in requeued] == [t.params for t in interrupted]
    assert [t.user_attrs["requeued_from"] for t in requeued] == [t.number for t in interrupted]

    study.optimize(wo.slow, n_trials=len(requeued) + 4)
    final = load_study("crash", url).trials
    assert [t.number for t in final] == list(range(len(final)))
    assert not any(t.state in (TrialState.RUNNING, TrialState.WAITING) for t in final)
    done = {t.number: t for t in final if t.state is TrialState.COMPLETE}
    assert len(done) == len(after_kill) + len(requeued) + 4
    for n, t in after_kill.items():                           # and nothing was rewritten
        assert done[n].value == t.value and done[n].params == t.params
    for t in requeued:
        assert done[t.number].params == t.params
