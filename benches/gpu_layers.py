"""Where a training step's time goes on the wgpu device: each layer's forward, and forward +
backward, of the CNN (or MLP) of benches/gpu_compare.py, then the loss, the optimizer step and
the whole step.

    python benches/gpu_layers.py [--model cnn|mlp] [--batch 128] [--steps 20] [--device wgpu] [--ops]

Each figure is the median of 3 blocks of `--steps` calls, the device synchronised at both ends
of a block, so it includes the dispatch overhead of the layer's kernels. A layer's backward is
timed as forward + backward of that layer alone (upstream gradient of ones) minus its forward;
as in training, the first layer computes no input gradient.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def timed(fn, sync, steps: int) -> float:
    fn()
    sync()
    out = []
    for _ in range(3):
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        sync()
        out.append((time.perf_counter() - t0) / steps)
    return statistics.median(out) * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", choices=["cnn", "mlp"], default="cnn")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--device", default="wgpu")
    ap.add_argument("--ops", action="store_true", help="also time the single ops of the CNN's backward")
    args = ap.parse_args()

    import ferrograd as fg
    import ferrograd.nn.functional as F
    from gpu_compare import _fg_model

    dev = args.device
    sync = fg.synchronize if dev == "wgpu" else (lambda: None)
    fg.manual_seed(0)
    model = _fg_model(args.model).to(dev)
    rng = np.random.default_rng(0)
    shape = (args.batch, 784) if args.model == "mlp" else (args.batch, 1, 28, 28)
    x = fg.tensor(rng.random(shape, dtype=np.float32), device=dev)
    y = rng.integers(0, 10, args.batch)
    print(f"{args.model} b{args.batch} on {dev}: ms per call (forward, backward)")
    h = x
    total_f = total_b = 0.0
    for i, layer in enumerate(model):
        # The input needs a gradient except at the first layer, as in training (a first layer
        # without parameters, the MLP's input dropout, takes one so that it has a backward).
        params = list(layer.parameters())
        inp = h.detach().requires_grad_(i > 0 or not params)
        with fg.no_grad():
            out = layer(inp)
        ones = fg.ones(*out.shape, device=dev)
        f_ms = timed(lambda: layer(inp), sync, args.steps)


        def fwd_bwd():
            for p in params:
                p.grad = None  # as after zero_grad: no accumulation
            layer(inp).backward(ones)

        fb_ms = timed(fwd_bwd, sync, args.steps)
        total_f += f_ms
        total_b += fb_ms - f_ms
        print(f"  {i:2d} {type(layer).__name__:<10} {str(tuple(out.shape)):<20} {f_ms:8.3f} {fb_ms - f_ms:8.3f}", flush=True)
        h = out
    print(f"  layers total{'':<20}{total_f:8.3f} {total_b:8.3f}")
    logits = model(x).detach().requires_grad_(True)
    print(f"  cross-entropy fwd+bwd {timed(lambda: F.cross_entropy(logits, y).backward(), sync, args.steps):8.3f}")
    opt = fg.optim.Adam(model.parameters(), lr=1e-3)
    F.cross_entropy(model(x), y).backward()
    print(f"  Adam step             {timed(opt.step, sync, args.steps):8.3f}")

    def step():
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()

    print(f"  whole step            {timed(step, sync, args.steps):8.3f}")
    if args.ops:
        ops(fg, dev, sync, args.batch, args.steps)


def ops(fg, dev, sync, b: int, steps: int) -> None:
    """The CNN's backward taken apart: its products, reductions, copies and accumulations."""
    import ferrograd.nn.functional as F

    rng = np.random.default_rng(1)
    t = lambda *s: fg.tensor(rng.standard_normal(s, dtype=np.float32), device=dev)  # noqa: E731
    g, w, x = t(b, 1024), t(1024, 3136), t(b, 3136)
    x2, w2, gy2 = t(b, 32, 14, 14), t(64, 32, 5, 5), t(b, 64, 14, 14)
    x1, w1 = t(b, 1, 28, 28), t(32, 1, 5, 5)
    big = t(1024, 3136)
    rows = [
        ("fc1 dx  g·W", lambda: g @ w),
        ("fc1 dW  gᵀ·x", lambda: g.T @ x),
        ("fc1 db  Σ rows", lambda: g.sum(0)),
        ("add 3.2M (grad accumulation)", lambda: big + big),
        ("conv2 forward", lambda: F.conv2d(x2, w2, padding=2)),
        ("conv1 forward", lambda: F.conv2d(x1, w1, padding=2)),
        ("conv2 db  Σ N,H,W", lambda: gy2.sum((0, 2, 3))),
        ("relu 1.6M", lambda: gy2.relu()),
        ("max_pool2d 2×2", lambda: F.max_pool2d(gy2, 2)),
    ]
    for name, fn in rows:
        print(f"  op {name:<32}{timed(fn, sync, steps):8.3f}", flush=True)
    xg = x2.detach().requires_grad_(True)
    wg = w2.detach().requires_grad_(True)
    out = F.conv2d(xg, wg, padding=2)

    def conv_bwd():
        xg.grad = None
        wg.grad = None
        F.conv2d(xg, wg, padding=2).backward(gy2)

    print(f"  op {'conv2 forward+backward':<32}{timed(conv_bwd, sync, steps):8.3f}")
    del out


if __name__ == "__main__":
    main()
