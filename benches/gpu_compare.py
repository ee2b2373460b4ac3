"""ferrograd on wgpu against PyTorch on CUDA, side by side.

    python benches/gpu_compare.py [--quick] [--json out.json] [--steps 50]

Rows:
  gemm N       N×N×N float32 matmul (N = 1024, 4096, 8192), TFLOP/s. PyTorch with TF32 off,
               so both do full float32 arithmetic.
  mlp b128     one training step of the MLP of the CPU speed issue (784-1024-1024-10, ReLU,
  mlp b1024    dropout 0.2 / 0.5, Adam) at batch 128 and 1024: forward, cross-entropy,
               backward, optimizer step; ms per step and samples/s.
  cnn b128     the same for the CNN (conv5×5(32)-pool-conv5×5(64)-pool-FC1024-FC10, Adam).

Each figure is the median of `--repeats` timed blocks of `--steps` steps (or GEMMs) after a
warm-up, with the device synchronised before the clock stops (ferrograd: a read-back;
PyTorch: torch.cuda.synchronize). Without CUDA (or without torch) only ferrograd's column is
filled. On a software Vulkan device (lavapipe) use --quick: smaller GEMMs and fewer steps.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np


def _median_time(fn, sync, steps: int, repeats: int) -> float:
    fn()
    sync()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        sync()
        times.append((time.perf_counter() - t0) / steps)
    return statistics.median(times)


# ---- ferrograd ------------------------------------------------------------------------------

def fg_warm_up(seconds: float = 1.0) -> None:
    """Keeps the GPU busy for a second first: an idle GPU runs at a fraction of its clock, and the
    first rows would otherwise be measured while it ramps up (PyTorch's rows come later)."""
    import ferrograd as fg
    a = fg.ones((2048, 2048), device="wgpu")
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        for _ in range(10):
            a @ a
        fg.synchronize()


def fg_gemm(n: int, steps: int, repeats: int) -> float:
    import ferrograd as fg
    rng = np.random.default_rng(0)
    a = fg.tensor(rng.standard_normal((n, n), dtype=np.float32), device="wgpu")
    b = fg.tensor(rng.standard_normal((n, n), dtype=np.float32), device="wgpu")
    t = _median_time(lambda: a @ b, fg.synchronize, steps, repeats)
    return 2 * n ** 3 / t / 1e12


def _fg_model(kind: str):
    import ferrograd.nn as nn
    if kind == "mlp":
        return nn.Sequential(nn.Dropout(0.2), nn.Linear(784, 1024), nn.ReLU(), nn.Dropout(0.5),
                             nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 10))
    return nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Linear(1024, 10))


def fg_step(kind: str, batch: int, steps: int, repeats: int) -> float:
    import ferrograd as fg
    import ferrograd.nn.functional as F
    fg.manual_seed(0)
    model = _fg_model(kind).to("wgpu")
    opt = fg.optim.Adam(model.parameters(), lr=1e-3)
    rng = np.random.default_rng(0)
    shape = (batch, 784) if kind == "mlp" else (batch, 1, 28, 28)
    x = fg.tensor(rng.random(shape, dtype=np.float32), device="wgpu")
    y = rng.integers(0, 10, batch)

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return _median_time(step, fg.synchronize, steps, repeats)


# ---- PyTorch --------------------------------------------------------------------------------

def have_cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def torch_gemm(n: int, steps: int, repeats: int) -> float:
    import torch
    torch.backends.cuda.matmul.allow_tf32 = False
    a = torch.randn(n, n, device="cuda")
    b = torch.randn(n, n, device="cuda")
    t = _median_time(lambda: a @ b, torch.cuda.synchronize, steps, repeats)
    return 2 * n ** 3 / t / 1e12


def torch_step(kind: str, batch: int, steps: int, repeats: int) -> float:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.manual_seed(0)
    if kind == "mlp":
        model = nn.Sequential(nn.Dropout(0.2), nn.Linear(784, 1024), nn.ReLU(), nn.Dropout(0.5),
                              nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 10))
        x = torch.rand(batch, 784, device="cuda")
    else:
        model = nn.Sequential(nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Conv2d(32, 64, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                              nn.Flatten(), nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Linear(1024, 10))
        x = torch.rand(batch, 1, 28, 28, device="cuda")
    model = model.cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    y = torch.randint(0, 10, (batch,), device="cuda")

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    return _median_time(step, torch.cuda.synchronize, steps, repeats)


# ---- driver ---------------------------------------------------------------------------------

def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes for a software Vulkan device")
    ap.add_argument("--steps", type=int, default=None, help="steps (or GEMMs) per timed block")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", default=None, help="also write the rows here")
    args = ap.parse_args()

    import ferrograd as fg
    info = fg._core.wgpu_open()
    cuda = have_cuda()
    steps = args.steps or (3 if args.quick else 50)
    sizes = [256, 512] if args.quick else [1024, 4096, 8192]
    runs = [("mlp", 128), ("mlp", 1024), ("cnn", 128)]
    if args.quick:
        runs = [("mlp", 128), ("cnn", 16)]
    print(f"ferrograd wgpu on {info['name']} ({info['backend']}{', software' if info['software'] else ''})")
    if cuda:
        import torch
        print(f"PyTorch {torch.__version__} CUDA on {torch.cuda.get_device_name()} (TF32 off)")
    else:
        print("PyTorch CUDA: not available (ferrograd's column only)")
    rows = []
    print(f"{'workload':<14}{'ferrograd':>16}{'pytorch':>16}{'fg/pt':>8}", flush=True)

    def report(row):
        # Each row is printed and saved as soon as it is measured, so a run cut short by a
        # time limit still leaves every figure taken before it.
        rows.append(row)
        p = f"{row['pytorch']:.3f}" if row["pytorch"] is not None else "-"
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
        unit = row["unit"] if row["unit"] == "ms/step" else "TF/s"
        print(f"{row['workload']:<14}{row['ferrograd']:>12.3f} {unit:<4}{p:>15} {ratio:>7}", flush=True)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(dict(device=info, cuda=cuda, rows=rows), f, indent=2)

    fg_warm_up()
    for n in sizes:
        gsteps = max(1, steps // (1 if n <= 1024 else 5))
        f_t = fg_gemm(n, gsteps, args.repeats)
        p_t = torch_gemm(n, gsteps, args.repeats) if cuda else None
        report(dict(workload=f"gemm {n}", unit="TFLOP/s", ferrograd=f_t, pytorch=p_t,
                    ratio=(f_t / p_t) if p_t else None))
    for kind, batch in runs:
        f_s = fg_step(kind, batch, steps, args.repeats)
        p_s = torch_step(kind, batch, steps, args.repeats) if cuda else None
        # For step times the ratio is speed: PyTorch's time over ferrograd's (> 1: ferrograd faster).
        report(dict(workload=f"{kind} b{batch}", unit="ms/step", ferrograd=f_s * 1e3,
                    pytorch=p_s * 1e3 if p_s else None, ratio=(p_s / f_s) if p_s else None,
                    samples_per_s=batch / f_s))

if __name__ == "__main__":
    main()
