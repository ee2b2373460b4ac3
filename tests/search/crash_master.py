"""A master process for test_crash.py: runs a long study until it is killed.

usage: python crash_master.py STORAGE_URL N_JOBS
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import worker_objectives as wo  # noqa: E402
from ferrograd.search import RandomSampler, Space, Study, Uniform  # noqa: E402

if __name__ == "__main__":
    url, n_jobs = sys.argv[1], int(sys.argv[2])
    study = Study(Space({"x": Uniform(-1.0, 1.0)}), sampler=RandomSampler(), seed=7, storage=url,
                  name="crash", load_if_exists=True)
    study.optimize(wo.slow, n_trials=100_000, n_jobs=n_jobs)
