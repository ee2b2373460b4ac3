#!/usr/bin/env python
"""Two Python threads training two models at once: same results as one after the other, and
both cores busy (ferrograd releases the GIL for ops above 16 384 elements).

    python benches/threads.py               # 300 steps per model
    python benches/threads.py --steps 60 --json

Each model is an MLP 512-512-512-10 trained with SGD+momentum at batch 128 on its own data;
rayon is limited to one thread (RAYON_NUM_THREADS=1, set before ferrograd is imported) so
that any use of the second core comes from the two Python threads running Rust code at the
same time. Reports wall time and process CPU time of both runs; CPU/wall near 2 for the
threaded run means the threads ran in parallel, near 1 that they took turns.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")

import numpy as np  # noqa: E402


def make_job(seed: int, steps: int):
    import ferrograd as fg
    from ferrograd import nn, optim
    from ferrograd.nn import functional as F

    fg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512), nn.Tanh(), nn.Linear(512, 10))
    opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    rng = np.random.default_rng(seed)
    xs = rng.standard_normal((8, 128, 512)).astype(np.float32)
    ys = rng.integers(0, 10, (8, 128))

    def run() -> dict:
        losses = []
        for step in range(steps):
            x, y = fg.tensor(xs[step % 8]), ys[step % 8]
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return {"losses": losses, "params": [p.detach().numpy() for p in model.parameters()]}

    return run


def timed(fn):
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - w0, time.process_time() - c0


def measure(steps: int) -> dict:
    def sequential():
        return [make_job(1, steps)(), make_job(2, steps)()]

    def threaded():
        jobs = [make_job(1, steps), make_job(2, steps)]
        results: list = [None, None]

        def work(i):
            results[i] = jobs[i]()

        threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return results

    make_job(0, 3)()  # warm-up: rayon's pool, first allocations
    seq, seq_wall, seq_cpu = timed(sequential)
    thr, thr_wall, thr_cpu = timed(threaded)
    identical = all(
        a["losses"] == b["losses"] and all(np.array_equal(p, q) for p, q in zip(a["params"], b["params"]))
        for a, b in zip(seq, thr))
    return {"steps": steps, "identical": identical, "rayon_threads": os.environ["RAYON_NUM_THREADS"],
            "sequential_wall_s": seq_wall, "sequential_cpu_s": seq_cpu,
            "threaded_wall_s": thr_wall, "threaded_cpu_s": thr_cpu,
            "sequential_cpu_per_wall": seq_cpu / seq_wall, "threaded_cpu_per_wall": thr_cpu / thr_wall,
            "speedup": seq_wall / thr_wall, "final_losses": [r["losses"][-1] for r in thr]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    r = measure(args.steps)
    if args.json:
        print(json.dumps(r))
    else:
        print(f"{args.steps} steps per model, RAYON_NUM_THREADS={r['rayon_threads']}, {os.cpu_count()} CPUs")
        print(f"sequential: wall {r['sequential_wall_s']:.2f} s, CPU {r['sequential_cpu_s']:.2f} s "
              f"(CPU/wall {r['sequential_cpu_per_wall']:.2f})")
        print(f"threaded:   wall {r['threaded_wall_s']:.2f} s, CPU {r['threaded_cpu_s']:.2f} s "
              f"(CPU/wall {r['threaded_cpu_per_wall']:.2f}); speed-up {r['speedup']:.2f}x")
        print(f"results identical to the sequential run: {r['identical']}")
    return 0 if r["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
