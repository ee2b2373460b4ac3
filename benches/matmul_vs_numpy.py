"""ferrograd's matmul against numpy's (OpenBLAS) on the same machine, side by side.

    python benches/matmul_vs_numpy.py [--repeats 20] [--json out.json]

Prints GFLOP/s for each and the ratio ferrograd/numpy at the shapes the issues name:
an MLP layer at batch 128 (128×784 @ 784×1024) and 1024³. The two libraries alternate in
blocks of calls, with a pause at each switch: OpenBLAS's worker threads spin for a while
after each call, and a call of the other library made meanwhile would find its cores taken
(call-by-call alternation halves ferrograd's figure at 1024³ for that reason alone). The
median over all calls is reported.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import ferrograd as fg

SHAPES = [(128, 784, 1024), (1024, 1024, 1024), (512, 512, 512)]


def _time(fn, repeats: int) -> list:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--json", default=None, help="write the results here")
    args = ap.parse_args()
    rows = []
    print(f"{'shape (m×k×n)':>20} {'ferrograd GFLOP/s':>18} {'numpy GFLOP/s':>14} {'ratio':>6}")
    for m, k, n in SHAPES:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        ta, tb = fg.tensor(a), fg.tensor(b)
        np.testing.assert_allclose((ta @ tb).numpy(), a @ b, rtol=1e-3, atol=1e-2)
        for _ in range(3):  # warm-up: thread pools, caches
            ta @ tb
            a @ b
        t_fg, t_np = [], []
        block = max(1, args.repeats // 4)
        for _ in range(4):
            time.sleep(0.2)
            t_fg += _time(lambda: ta @ tb, block)
            time.sleep(0.2)
            t_np += _time(lambda: a @ b, block)
        flops = 2.0 * m * k * n
        g_fg, g_np = flops / np.median(t_fg) / 1e9, flops / np.median(t_np) / 1e9
        rows.append({"m": m, "k": k, "n": n, "ferrograd_gflops": g_fg, "numpy_gflops": g_np, "ratio": g_fg / g_np})
        print(f"{f'{m}×{k}×{n}':>20} {g_fg:18.1f} {g_np:14.1f} {g_fg / g_np:6.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
