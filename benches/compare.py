"""ferrograd against PyTorch (and numpy for GEMM) on the same machine, side by side.

    python benches/compare.py [--json out.json] [--repeats 3] [--quick] [--only a,b,gemm]

Each workload runs in ferrograd and in PyTorch (when installed) in the same process,
alternating (ferrograd, torch, ferrograd, torch, ...), after a warm-up of each; the median of
the repeats is reported with the ratio ferrograd/PyTorch (higher is better for ferrograd).
Both libraries get 2 threads (RAYON_NUM_THREADS / torch.set_num_threads), float32, random
MNIST-shaped data (784 features or 1×28×28 images, 10 classes).

Workloads (training: samples/s over an epoch of the given number of samples):
  a  MLP 784-1024-1024-10, dropout 0.2 (input) / 0.5 (hidden), ReLU, Adam, batch 128
  b  the same with BatchNorm1d and no dropout
  c  Ioffe & Szegedy's 784-100-100-100-10 sigmoid + BatchNorm net, SGD, batch 60
  d  CNN conv5×5(32)-ReLU-pool-conv5×5(64)-ReLU-pool-FC1024-FC10, Adam, batch 128
  e  logistic regression 784-10, Adam, batch 128
  f  per-step overhead: MLP 784-32-10, Adam, batch 32
  g  inference of (a) over 10k test images (eval mode, no grad, batches of 1000)
  gemm  1024³ and 128×784×1024 float32 matmul, GFLOP/s, against numpy (OpenBLAS)
  rss   peak resident set size of a process that trains (a) for one epoch (one process per library)

ferrograd trains through ``ferrograd.train.fit`` (one epoch, no progress bar) over a shuffled
``ferrograd.data.DataLoader``; PyTorch through the idiomatic loop (zero_grad, forward,
cross_entropy, backward, step) over shuffled index batches of one pre-made tensor, tracking
the loss and the number correct per step as ``fit`` does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

THREADS = 2
os.environ.setdefault("RAYON_NUM_THREADS", str(THREADS))
for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_v, str(THREADS))

import numpy as np  # noqa: E402

# (name, hidden sizes etc.) → how each library builds and trains it.
TRAIN = {
    "a": dict(kind="mlp", hidden=[1024, 1024], act="relu", dropout=(0.2, 0.5), bn=False, batch=128, opt="adam", samples=12800),
    "b": dict(kind="mlp", hidden=[1024, 1024], act="relu", dropout=(0.0, 0.0), bn=True, batch=128, opt="adam", samples=12800),
    "c": dict(kind="mlp", hidden=[100, 100, 100], act="sigmoid", dropout=(0.0, 0.0), bn=True, batch=60, opt="sgd", samples=60000),
    "d": dict(kind="cnn", batch=128, opt="adam", samples=2560),
    "e": dict(kind="mlp", hidden=[], act="relu", dropout=(0.0, 0.0), bn=False, batch=128, opt="adam", samples=60000),
    "f": dict(kind="mlp", hidden=[32], act="relu", dropout=(0.0, 0.0), bn=False, batch=32, opt="adam", samples=60000),
}
TITLES = {
    "a": "(a) MLP 784-1024-1024-10 dropout, Adam, b128",
    "b": "(b) MLP 784-1024-1024-10 BatchNorm, Adam, b128",
    "c": "(c) 784-100×3-10 sigmoid+BN, SGD, b60",
    "d": "(d) CNN 32-64-1024, Adam, b128",
    "e": "(e) logistic regression, Adam, b128",
    "f": "(f) MLP 784-32-10, Adam, b32",
    "g": "(g) inference of (a), 10k images",
}


def _data(n: int, image: bool, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 784), dtype=np.float32)
    if image:
        x = x.reshape(n, 1, 28, 28)
    y = rng.integers(0, 10, n).astype(np.int64)
    return x, y


# ---- ferrograd ------------------------------------------------------------------------------

def fg_model(cfg):
    from ferrograd import models

    if cfg["kind"] == "cnn":
        return models.cnn()
    d_in, d_h = cfg["dropout"]
    return models.mlp(784, cfg["hidden"], 10, activation=cfg["act"], dropout_in=d_in, dropout_hidden=d_h,
                      batch_norm=cfg["bn"])


def fg_opt(cfg, model):
    from ferrograd import optim

    if cfg["opt"] == "adam":
        return optim.Adam(model.parameters(), lr=1e-3)
    return optim.SGD(model.parameters(), lr=0.1)


def fg_trainer(cfg, x, y):
    import ferrograd as fg
    from ferrograd.data import DataLoader, TensorDataset
    from ferrograd.train import fit

    model = fg_model(cfg)
    opt = fg_opt(cfg, model)
    loader = DataLoader(TensorDataset(x, y), batch_size=cfg["batch"], shuffle=True, seed=0)

    def epoch(n_batches=None):
        ld = loader
        if n_batches is not None:
            sub = min(len(x), n_batches * cfg["batch"])
            ld = DataLoader(TensorDataset(x[:sub], y[:sub]), batch_size=cfg["batch"], shuffle=True, seed=1)
        fit(model, opt, ld, epochs=1, progress=False)

    del fg
    return epoch


def fg_inference(x):
    import ferrograd as fg

    model = fg_model(TRAIN["a"])
    model.eval()
    xs = [fg.tensor(x[i:i + 1000]) for i in range(0, len(x), 1000)]

    def run(n_batches=None):
        with fg.no_grad():
            for xb in xs[:n_batches]:
                model(xb).numpy()

    return run


# ---- PyTorch --------------------------------------------------------------------------------

def torch_model(cfg):
    import torch
    from torch import nn

    if cfg["kind"] == "cnn":
        return nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                             nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Linear(1024, 10))
    d_in, d_h = cfg["dropout"]
    layers = [nn.Dropout(d_in)] if d_in > 0 else []
    width = 784
    for h in cfg["hidden"]:
        layers.append(nn.Linear(width, h, bias=not cfg["bn"]))
        if cfg["bn"]:
            layers.append(nn.BatchNorm1d(h))
        layers.append(nn.ReLU() if cfg["act"] == "relu" else nn.Sigmoid())
        if d_h > 0:
            layers.append(nn.Dropout(d_h))
        width = h
    layers.append(nn.Linear(width, 10))
    del torch
    return nn.Sequential(*layers)


def torch_trainer(cfg, x, y):
    import torch
    import torch.nn.functional as F

    model = torch_model(cfg)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3) if cfg["opt"] == "adam" else \
        torch.optim.SGD(model.parameters(), lr=0.1)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)
    b = cfg["batch"]

    def epoch(n_batches=None):
        model.train()
        n = len(tx) if n_batches is None else min(len(tx), n_batches * b)
        perm = torch.randperm(n)
        loss_sum, correct = 0.0, 0
        for s in range(0, n, b):
            idx = perm[s:s + b]
            xb, yb = tx[idx], ty[idx]
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            correct += int((out.argmax(1) == yb).sum())

    return epoch


def torch_inference(x):
    import torch

    model = torch_model(TRAIN["a"])
    model.eval()
    xs = [torch.from_numpy(x[i:i + 1000]) for i in range(0, len(x), 1000)]

    def run(n_batches=None):
        with torch.no_grad():
            for xb in xs[:n_batches]:
                model(xb).numpy()

    return run


# ---- measurement ----------------------------------------------------------------------------

def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def side_by_side(runs: dict, repeats: int, warm: int, pause: float = 0.0) -> dict:
    """{lib: fn(n_batches|None)} → {lib: [seconds per full run]}, alternating libraries.

    ``pause`` seconds of sleep before each timed run let the previous library's worker threads
    go idle: OpenBLAS and OpenMP threads spin for a while after a call and would otherwise
    take the cores from the next library's threads (which makes call-by-call GEMM comparisons
    halve whichever library comes second)."""
    for fn in runs.values():
        fn(warm)
    times: dict = {k: [] for k in runs}
    for _ in range(repeats):
        for k, fn in runs.items():
            if pause:
                time.sleep(pause)
            times[k].append(_timed(fn))
    return times


def have_torch() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def bench_training(key: str, repeats: int, scale: float, use_torch: bool) -> dict:
    cfg = dict(TRAIN[key])
    n = max(cfg["batch"], int(cfg["samples"] * scale) // cfg["batch"] * cfg["batch"])
    x, y = _data(n, cfg["kind"] == "cnn")
    runs = {"ferrograd": fg_trainer(cfg, x, y)}
    if use_torch:
        runs["torch"] = torch_trainer(cfg, x, y)
    # The pause lets the other library's spinning worker threads (OpenMP, rayon) go idle
    # first: without it a short epoch of whichever library runs second loses a core.
    t = side_by_side(runs, repeats, warm=3, pause=0.5)
    return {k: n / float(np.median(v)) for k, v in t.items()} | {"unit": "samples/s", "samples": n}


def bench_inference(repeats: int, use_torch: bool) -> dict:
    x, _ = _data(10000, False, seed=1)
    runs = {"ferrograd": fg_inference(x)}
    if use_torch:
        runs["torch"] = torch_inference(x)
    t = side_by_side(runs, repeats, warm=2, pause=0.5)
    return {k: len(x) / float(np.median(v)) for k, v in t.items()} | {"unit": "images/s", "samples": len(x)}


def bench_gemm(repeats: int, use_torch: bool) -> list:
    import ferrograd as fg

    rows = []
    for m, k, n in [(1024, 1024, 1024), (128, 784, 1024)]:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        ta, tb = fg.tensor(a), fg.tensor(b)
        np.testing.assert_allclose((ta @ tb).numpy(), a @ b, rtol=1e-3, atol=1e-2)
        inner = max(5, int(2e10 / (2 * m * k * n)))  # a block of calls (≥ 5, ~10 GFLOP) per timed sample
        runs = {"ferrograd": lambda _=None: [ta @ tb for _ in range(inner)],
                "numpy": lambda _=None: [a @ b for _ in range(inner)]}
        if use_torch:
            import torch

            xa, xb = torch.from_numpy(a), torch.from_numpy(b)
            runs["torch"] = lambda _=None: [xa @ xb for _ in range(inner)]
        t = side_by_side(runs, repeats * 3, warm=1, pause=0.2)
        flops = 2.0 * m * k * n * inner
        rows.append({"shape": f"{m}×{k}×{n}", "unit": "GFLOP/s"}
                    | {lib: flops / float(np.median(v)) / 1e9 for lib, v in t.items()})
    return rows


def rss_child(lib: str, scale: float) -> None:
    """Trains (a) for one epoch in this process alone and prints the peak RSS in MiB."""
    cfg = TRAIN["a"]
    n = max(cfg["batch"], int(cfg["samples"] * scale) // cfg["batch"] * cfg["batch"])
    x, y = _data(n, False)
    if lib == "torch":
        import torch

        torch.set_num_threads(THREADS)
        torch_trainer(cfg, x, y)()
    else:
        fg_trainer(cfg, x, y)()
    print(json.dumps({"peak_rss_mib": _peak_rss_mib()}))


def _peak_rss_mib() -> float:
    # VmHWM belongs to this process's own address space (ru_maxrss would carry the parent's
    # peak over fork + exec on Linux).
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_rss(scale: float, use_torch: bool) -> dict:
    out = {"unit": "MiB (peak RSS)"}
    for lib in (["ferrograd", "torch"] if use_torch else ["ferrograd"]):
        r = subprocess.run([sys.executable, __file__, "--rss-child", lib, "--scale", str(scale)],
                           capture_output=True, text=True, check=True)
        out[lib] = json.loads(r.stdout.strip().splitlines()[-1])["peak_rss_mib"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", default=None, help="write the results here")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="a quarter of the samples (a rough check)")
    ap.add_argument("--scale", type=float, default=None, help="multiply every workload's sample count")
    ap.add_argument("--only", default="a,b,c,d,e,f,g,gemm,rss", help="comma-separated workload keys")
    ap.add_argument("--rss-child", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    scale = args.scale if args.scale is not None else (0.25 if args.quick else 1.0)
    if args.rss_child:
        rss_child(args.rss_child, scale)
        return
    use_torch = have_torch()
    if use_torch:
        import torch

        torch.set_num_threads(THREADS)
        print(f"PyTorch {torch.__version__}, {THREADS} threads", flush=True)
    else:
        print("PyTorch is not installed: ferrograd numbers only", flush=True)
    results: dict = {"threads": THREADS, "workloads": {}}
    keys = [k.strip() for k in args.only.split(",") if k.strip()]
    print(f"{'workload':<48} {'ferrograd':>12} {'PyTorch':>12} {'ratio':>7}  unit", flush=True)

    def show(title, r, other="torch"):
        o = r.get(other)
        ratio = r["ferrograd"] / o if o else float("nan")
        r["ratio"] = ratio
        print(f"{title:<48} {r['ferrograd']:12.1f} {o if o else float('nan'):12.1f} {ratio:7.2f}  {r['unit']}",
              flush=True)

    for k in keys:
        if k in TRAIN:
            r = bench_training(k, args.repeats, scale, use_torch)
            results["workloads"][k] = r
            show(TITLES[k], r)
        elif k == "g":
            r = bench_inference(args.repeats, use_torch)
            results["workloads"][k] = r
            show(TITLES[k], r)
        elif k == "gemm":
            for r in bench_gemm(args.repeats, use_torch):
                results["workloads"]["gemm " + r["shape"]] = r
                show(f"GEMM {r['shape']} (vs numpy)", r, other="numpy")
                if "torch" in r:
                    print(f"{'':<48} {'':>12} {r['torch']:12.1f}          (PyTorch GFLOP/s)")
        elif k == "rss":
            r = bench_rss(scale, use_torch)
            results["workloads"]["rss"] = r
            o = r.get("torch", float("nan"))
            r["ratio"] = r["ferrograd"] / o
            print(f"{'peak RSS while training (a), own process':<48} {r['ferrograd']:12.1f} {o:12.1f} "
                  f"{r['ratio']:7.2f}  {r['unit']} (lower is better)", flush=True)
        else:
            raise SystemExit(f"unknown workload {k!r}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
