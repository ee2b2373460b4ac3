"""Master overhead per trial of ferrograd.search (and Optuna, when installed), with SQLite storage.

A trivial objective makes the study's own cost visible: sampling, recording, committing.
Each configuration runs in a fresh process so that its resident memory is its own.

    python benches/search_overhead.py                       # 1 000 and 10 000 trials
    python benches/search_overhead.py --sizes 1000 --no-optuna
    python benches/search_overhead.py --optuna-tpe-max 10000  # Optuna TPE at 10 000 (slow)

Reports, per (library, sampler, trials): milliseconds per trial (on average, and over the
last 10 % of trials: how the cost grows with the history), the master's RSS after the run, and
its growth in bytes per trial between the first 10 % of trials and the end (constant means no
per-trial copies of the history).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; falls back to peak RSS elsewhere)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run_ferrograd(sampler: str, n: int, db: str, synchronous: str) -> dict:
    sys.path.insert(0, os.path.join(HERE, "..", "python"))
    from ferrograd.search import Choice, LogUniform, Space, Study, Uniform, make_sampler

    space = Space({"x": Uniform(-5, 5), "y": Uniform(-5, 5), "lr": LogUniform(1e-5, 1.0),
                   "c": Choice(["a", "b", "c"])})
    study = Study(space, sampler=make_sampler(sampler), seed=0,
                  storage=f"sqlite:///{db}?synchronous={synchronous}", name="bench")
    marks, clock = {}, {}

    def mark(study_, trial):
        if trial.number + 1 in (n // 10, n):
            marks[trial.number + 1] = rss_bytes()
        if trial.number + 1 in (9 * n // 10, n):
            clock[trial.number + 1] = time.perf_counter()

    objective = lambda p, t: p["x"] ** 2 + p["y"] ** 2 + (p["c"] == "b")
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n, callbacks=[mark])
    elapsed = time.perf_counter() - t0
    return {"seconds": elapsed, "marks": marks, "clock": clock, "rss": rss_bytes(),
            "best": study.best_value}


def run_optuna(sampler: str, n: int, db: str) -> dict:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    samplers = {"random": optuna.samplers.RandomSampler(seed=0),
                "tpe": optuna.samplers.TPESampler(seed=0)}
    study = optuna.create_study(sampler=samplers[sampler], storage=f"sqlite:///{db}",
                                study_name="bench")
    marks, clock = {}, {}

    def objective(trial):
        x = trial.suggest_float("x", -5, 5)
        y = trial.suggest_float("y", -5, 5)
        trial.suggest_float("lr", 1e-5, 1.0, log=True)
        c = trial.suggest_categorical("c", ["a", "b", "c"])
        return x ** 2 + y ** 2 + (c == "b")

    def mark(study_, trial):
        if trial.number + 1 in (n // 10, n):
            marks[trial.number + 1] = rss_bytes()
        if trial.number + 1 in (9 * n // 10, n):
            clock[trial.number + 1] = time.perf_counter()

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n, callbacks=[mark])
    elapsed = time.perf_counter() - t0
    return {"seconds": elapsed, "marks": marks, "clock": clock, "rss": rss_bytes(),
            "best": study.best_value}


def child(args: list[str]) -> None:
    library, sampler, n, synchronous = args[0], args[1], int(args[2]), args[3]
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "bench.db")
        if library == "ferrograd":
            res = run_ferrograd(sampler, n, db, synchronous)
        else:
            res = run_optuna(sampler, n, db)
    print(json.dumps(res))


def measure(library: str, sampler: str, n: int, synchronous: str = "NORMAL") -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", library, sampler, str(n), synchronous],
                         check=True, capture_output=True, text=True)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    marks = {int(k): v for k, v in res["marks"].items()}
    first, last = n // 10, n
    res["ms_per_trial"] = 1e3 * res["seconds"] / n
    clock = {int(k): v for k, v in res["clock"].items()}
    tail = n - 9 * n // 10
    res["ms_per_trial_last_10pct"] = 1e3 * (clock[n] - clock[9 * n // 10]) / tail
    res["bytes_per_trial"] = (marks[last] - marks[first]) / (last - first) if first in marks else None
    return res


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2:])
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    p.add_argument("--samplers", nargs="+", default=["random", "tpe"])
    p.add_argument("--no-optuna", action="store_true", help="skip the Optuna comparison")
    p.add_argument("--optuna-tpe-max", type=int, default=1000,
                   help="largest size at which Optuna's TPE is run (it is slow; default 1000)")
    p.add_argument("--full-sync", action="store_true",
                   help="also run ferrograd with synchronous=FULL (an fsync per commit)")
    args = p.parse_args()
    try:
        import optuna  # noqa: F401
        have_optuna = not args.no_optuna
    except ImportError:
        have_optuna = False
        print("optuna not installed: ferrograd only", file=sys.stderr)

    rows = []
    for sampler in args.samplers:
        for n in args.sizes:
            configs = [("ferrograd", "NORMAL")]
            if args.full_sync:
                configs.append(("ferrograd", "FULL"))
            if have_optuna and (sampler != "tpe" or n <= args.optuna_tpe_max):
                configs.append(("optuna", "-"))
            for library, sync in configs:
                res = measure(library, sampler, n, sync if sync != "-" else "NORMAL")
                label = library if library == "optuna" else f"ferrograd (sync={sync})"
                rows.append((label, sampler, n, res))
                bpt = res["bytes_per_trial"]
                print(f"{label:24} {sampler:7} {n:6d} trials  {res['ms_per_trial']:8.3f} ms/trial "
                      f"(last 10 %: {res['ms_per_trial_last_10pct']:8.3f})  "
                      f"RSS {res['rss'] / 2**20:7.1f} MiB  "
                      f"growth {'-' if bpt is None else f'{bpt:7.0f}'} B/trial", flush=True)


if __name__ == "__main__":
    main()
