#!/usr/bin/env python
"""Search under faults: a study of short trials on worker processes while this script kills
random workers and, several times, the master (SIGKILL), resuming the study each time.

    python benches/chaos_search.py                          # 200 trials, 2 workers, 5 master kills
    python benches/chaos_search.py --trials 40 --master-kills 2 --json

At the end it checks that every trial seen COMPLETE in the database while the study ran is
still there, once, with the same params and value; that every COMPLETE value is the objective's
value for its params; that no trial is RUNNING or WAITING; that trial numbers have no gap; and
that the counts add up: the `--trials` sampled trials plus one re-queued copy per interrupted
trial, each finished as COMPLETE or FAIL. Exit status 1 if any check fails.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time

NAME = "chaos"


def objective(params, trial):
    """A deterministic value of the params, after a short random sleep; about 5 % raise."""
    rng = random.Random(trial.seed)
    time.sleep(rng.uniform(0.02, 0.15))
    trial.report(1, params["x"])
    if rng.random() < 0.05:
        raise RuntimeError("planted failure")
    return expected_value(params)


def expected_value(params) -> float:
    return (params["x"] - 0.3) ** 2 + math.sin(5 * params["y"])


def space():
    from ferrograd.search import Space, Uniform

    return Space({"x": Uniform(-1.0, 1.0), "y": Uniform(0.0, 1.0)})


def run_master(url: str, trials: int, jobs: int) -> None:
    """One master's life: create or resume the study, run what is left of it."""
    from ferrograd.search import RandomSampler, Study, TrialState, load_study
    from ferrograd.search.storage import SQLiteStorage

    storage = SQLiteStorage(url[len("sqlite:///"):])
    if NAME in storage.study_names():
        study = load_study(NAME, storage, requeue_interrupted=True)
    else:
        study = Study(space(), sampler=RandomSampler(), seed=11, storage=storage, name=NAME)
    done = study.trials
    sampled = sum(1 for t in done if "requeued_from" not in t.user_attrs)
    waiting = sum(1 for t in done if t.state is TrialState.WAITING)
    study.optimize(objective, n_trials=max(0, trials - sampled) + waiting, n_jobs=jobs)


def rows(path: str) -> dict:
    if not os.path.exists(path):
        return {}
    con = sqlite3.connect(path, timeout=10)
    try:
        return {n: (s, p, v) for n, s, p, v in con.execute("SELECT number, state, params, value FROM search_trials")}
    except sqlite3.OperationalError:
        return {}
    finally:
        con.close()


def workers_of(pid: int) -> list:
    import psutil

    try:
        kids = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    out = []
    for k in kids:
        try:
            cmd = " ".join(k.cmdline())
        except psutil.Error:
            continue
        if "spawn_main" in cmd and "resource_tracker" not in cmd:
            out.append(k)
    return out


def chaos(trials: int, jobs: int, master_kills: int, seed: int, db: str, worker_kill_every: float = 1.0,
          log=print) -> dict:
    rng = random.Random(seed)
    url = f"sqlite:///{db}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([os.path.dirname(os.path.abspath(__file__)), *sys.path])}
    seen: dict = {}
    stats = {"master_kills": 0, "worker_kills": 0, "master_runs": 0, "orphans": 0}
    t_start = time.monotonic()
    while True:
        stats["master_runs"] += 1
        master = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--master", url, str(trials), str(jobs)],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        kill_master = stats["master_kills"] < master_kills
        # Kill number i once about i/(kills+1) of the trials have finished, so that every kill
        # happens mid-study whatever the machine's speed.
        target = trials * (stats["master_kills"] + 1) // (master_kills + 1) + rng.randint(-2, 2)
        next_worker_kill = time.monotonic() + rng.uniform(0.5, 1.5) * worker_kill_every
        while master.poll() is None:
            now = time.monotonic()
            current = rows(db)
            for n, (state, params, value) in current.items():
                if state == "COMPLETE":
                    seen.setdefault(n, (params, value))
            finished = sum(1 for state, _, _ in current.values() if state in ("COMPLETE", "FAIL", "PRUNED"))
            if now >= next_worker_kill:
                ws = workers_of(master.pid)
                if ws:
                    try:
                        rng.choice(ws).send_signal(signal.SIGKILL)
                        stats["worker_kills"] += 1
                    except Exception:  # noqa: BLE001 -- it died by itself meanwhile
                        pass
                next_worker_kill = now + rng.uniform(0.5, 1.5) * worker_kill_every
            if kill_master and finished >= target:
                ws = workers_of(master.pid)
                for n, (state, params, value) in rows(db).items():
                    if state == "COMPLETE":
                        seen.setdefault(n, (params, value))
                master.send_signal(signal.SIGKILL)
                master.wait(10)
                stats["master_kills"] += 1
                for w in ws:  # orphaned workers must notice that their master is gone
                    try:
                        w.wait(10)
                    except Exception:  # noqa: BLE001
                        stats["orphans"] += 1
                        w.kill()
                break
            time.sleep(0.05)
        err = master.stderr.read().decode(errors="replace")
        if master.returncode == 0:
            break
        if master.returncode != -signal.SIGKILL:
            raise RuntimeError(f"master exited with {master.returncode}:\n{err[-3000:]}")
        log(f"master killed ({stats['master_kills']}/{master_kills}) after {len(seen)} trials seen COMPLETE")
    stats["seconds"] = time.monotonic() - t_start
    return {**stats, **verify(url, trials, seen)}


def verify(url: str, trials: int, seen: dict) -> dict:
    from ferrograd.search import TrialState, load_study
    from ferrograd.search.study import INTERRUPTED

    study = load_study(NAME, url)
    ts = study.trials
    problems = []
    numbers = [t.number for t in ts]
    if numbers != list(range(len(ts))):
        problems.append(f"trial numbers have gaps or duplicates: {numbers}")
    by = {t.number: t for t in ts}
    stuck = [t.number for t in ts if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    if stuck:
        problems.append(f"trials left RUNNING/WAITING: {stuck}")
    for n, (params, value) in seen.items():
        t = by.get(n)
        if t is None or t.state is not TrialState.COMPLETE or t.value != value or t.params != json.loads(params):
            problems.append(f"trial {n} was COMPLETE with {value} and is now {t!r}")
    complete = [t for t in ts if t.state is TrialState.COMPLETE]
    for t in complete:
        if not math.isclose(t.value, expected_value(t.params), rel_tol=1e-12, abs_tol=1e-12):
            problems.append(f"trial {t.number} value {t.value} != objective {expected_value(t.params)}")
    failed = [t for t in ts if t.state is TrialState.FAIL]
    interrupted = [t for t in failed if t.error == INTERRUPTED]
    requeued = [t for t in ts if "requeued_from" in t.user_attrs]
    origins = [t.user_attrs["requeued_from"] for t in requeued]
    if sorted(origins) != sorted(t.number for t in interrupted):
        problems.append(f"re-queued {sorted(origins)} != interrupted {sorted(t.number for t in interrupted)}")
    for t in requeued:
        if t.params != by[t.user_attrs["requeued_from"]].params:
            problems.append(f"trial {t.number} re-queued with other params than {t.user_attrs['requeued_from']}")
    sampled = len(ts) - len(requeued)
    if sampled != trials:
        problems.append(f"{sampled} sampled trials, expected {trials}")
    pruned = [t for t in ts if t.state is TrialState.PRUNED]
    if len(complete) + len(failed) + len(pruned) != len(ts):
        problems.append("states do not add up")
    worker_died = [t for t in failed if "worker process died" in (t.error or "")]
    raised = [t for t in failed if "planted failure" in (t.error or "")]
    other = [t for t in failed if t not in interrupted and t not in worker_died and t not in raised]
    if other:
        problems.append(f"failed for unexpected reasons: {[(t.number, t.error) for t in other]}")
    return {"trials_total": len(ts), "sampled": sampled, "complete": len(complete), "failed": len(failed),
            "failed_interrupted_by_master_kill": len(interrupted), "failed_worker_killed": len(worker_died),
            "failed_objective_raised": len(raised), "requeued": len(requeued),
            "seen_complete_during_run": len(seen), "problems": problems, "ok": not problems}


def main() -> int:
    if sys.argv[1:2] == ["--master"]:
        run_master(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=200)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--master-kills", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--worker-kill-every", type=float, default=1.0,
                    help="mean seconds between worker kills (0.5 to 1.5 times this)")
    ap.add_argument("--db", default=None, help="SQLite file (default: a fresh temporary one)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    db = args.db or os.path.join(tempfile.mkdtemp(prefix="fg-chaos-"), "chaos.db")
    r = chaos(args.trials, args.jobs, args.master_kills, args.seed, db, args.worker_kill_every,
              log=(lambda s: print(s, file=sys.stderr)) if args.json else print)
    if args.json:
        print(json.dumps(r))
    else:
        for k, v in r.items():
            print(f"{k}: {v}")
        print("PASS" if r["ok"] else "FAIL")
    return 0 if r["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
