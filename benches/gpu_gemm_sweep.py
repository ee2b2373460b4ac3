"""Times every GEMM plan (tile × slices of K) on the wgpu device for the products the models use.

    python benches/gpu_gemm_sweep.py [--json out.jsonl] [--budget 150]

The tile rule in rust/backend/wgpu/matmul.rs (`plan`) was derived from this sweep on an H100;
run it on a new GPU to see whether the rule still picks well there. Each line gives a product
(its name says where it comes from: the MLP of the CPU speed issue at batch 128/1024, the CNN's
convolutions and their gradients), the rule's time, and the best plan found with its time.
Times are medians of 3 blocks of back-to-back products, the device synchronised at each end.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

# (name, batch, m, k, n, layout): layout "nn" a(m,k)·b(k,n); "nt" a·wᵀ with w (n,k) as Linear
# reads it; "tn" aᵀ·b with a (k,m) as the weight gradients read it; batched ones share A (a
# convolution's weights) or, for "tn", take each image's dyᵀ.
SHAPES = [
    ("gemm 1024³", 1, 1024, 1024, 1024, "nn"),
    ("mlp b128 fc1", 1, 128, 784, 1024, "nt"),
    ("mlp b128 fc2", 1, 128, 1024, 1024, "nt"),
    ("mlp b128 dx", 1, 128, 1024, 784, "nn"),
    ("mlp b128 dW", 1, 1024, 128, 784, "tn"),
    ("mlp b1024 fc2", 1, 1024, 1024, 1024, "nt"),
    ("mlp b1024 dW", 1, 1024, 1024, 1024, "tn"),
    ("cnn fc1 b128", 1, 128, 3136, 1024, "nt"),
    ("cnn fc1 dW", 1, 1024, 128, 3136, "tn"),
    ("conv1 dW", 1, 32, 100352, 25, "nn"),
    ("conv2 dW", 1, 64, 25088, 800, "nn"),
    ("conv1 fwd", 128, 32, 25, 784, "shared"),
    ("conv2 fwd", 128, 64, 800, 196, "shared"),
    ("conv2 dx", 128, 196, 64, 800, "tn"),
]
TILES = [(128, 128, 8, 8, 8), (64, 128, 8, 8, 8), (128, 64, 8, 8, 8), (64, 64, 8, 8, 8),
         (32, 128, 8, 4, 8), (64, 64, 16, 4, 4), (32, 32, 16, 2, 2)]
SPLITS = [1, 2, 4, 8, 16, 32, 64]


def operands(fg, batch, m, k, n, layout):
    rng = np.random.default_rng(0)
    g = lambda *s: fg.tensor(rng.standard_normal(s, dtype=np.float32), device="wgpu")  # noqa: E731
    if layout == "nn":
        a, b = g(m, k), g(k, n)
        return lambda: a @ b
    if layout == "nt":
        a, w = g(m, k), g(n, k)
        return lambda: a @ w.T
    if layout == "shared":
        w, cols = g(m, k), g(batch, k, n)
        return lambda: w @ cols
    if batch == 1:
        a, b = g(k, m), g(k, n)
        return lambda: a.T @ b
    a, b = g(batch, k, m), g(k, n)
    return lambda: a.transpose(1, 2) @ b


def timed(fg, fn, flops):
    fn()
    fg.synchronize()
    t0 = time.perf_counter()
    fn()
    fg.synchronize()
    one = time.perf_counter() - t0
    reps = int(min(50, max(5, 0.02 / max(one, 1e-6))))
    times = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(reps):
            fn()
        fg.synchronize()
        times.append((time.perf_counter() - t0) / reps)
    t = statistics.median(times)
    return t * 1e6, flops / t / 1e12


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--json", default=None, help="append one JSON line per product here")
    ap.add_argument("--budget", type=float, default=150.0, help="seconds; stops (keeping what it has) past this")
    args = ap.parse_args()
    import ferrograd as fg
    info = fg._core.wgpu_open()
    print(f"GEMM plans on {info['name']} ({info['backend']})", flush=True)
    start = time.perf_counter()
    out = open(args.json, "a") if args.json else None
    for name, batch, m, k, n, layout in SHAPES:
        if time.perf_counter() - start > args.budget:
            print("budget spent; stopping", flush=True)
            break
        fn = operands(fg, batch, m, k, n, layout)
        flops = 2.0 * batch * m * k * n
        results = []
        for tile in TILES:
            for s in SPLITS if batch == 1 else [1]:
                if s > 1 and k // s < 64:
                    continue
                fg._core.wgpu_force_gemm_plan(tile + (s,))
                us, tf = timed(fg, fn, flops)
                results.append(dict(tile=tile, splits=s, us=us, tflops=tf))
        # The rule's own plan is timed last, when the outputs' buffers are pooled as for the
        # forced plans (timed first, it also paid for creating and clearing them).
        fg._core.wgpu_force_gemm_plan(None)
        rule_us, rule_tf = timed(fg, fn, flops)
        fg._core.wgpu_empty_cache()
        best = min(results, key=lambda r: r["us"])
        top = sorted(results, key=lambda r: r["us"])[:4]
        print(f"{name:<15} {batch}×{m}×{k}×{n} {layout}: rule {rule_us:9.1f} µs {rule_tf:6.2f} TF/s | best "
              + ", ".join(f"{r['tile'][:2]}/{r['tile'][3:]}s{r['splits']} {r['us']:.1f}" for r in top), flush=True)
        if out:
            out.write(json.dumps(dict(name=name, batch=batch, m=m, k=k, n=n, layout=layout, rule_us=rule_us,
                                      best=best, results=results)) + "\n")
            out.flush()


if __name__ == "__main__":
    main()
