"""Delving deep into rectifiers (He et al. 2015), initialisation: a 30-layer plain ReLU net.

With He's initialisation, std √(2/n_l), the net learns; with the "1/n" variance (std √(1/n_l),
what Xavier's rule gives for equal fan-in and fan-out) it stalls at chance. A signal
propagation check shows why: through 30 ReLU layers the activation variance keeps its scale
with He's init and shrinks by about 2^-30 with 1/n.
"""

from __future__ import annotations

import math
import time
from typing import Optional

import numpy as np

import ferrograd as fg
from ferrograd import models, optim
from ferrograd.papers.common import PaperResult, fmt, mnist, pyplot, savefig, smooth, train_steps

DEPTH, WIDTH = 30, 256


def variance_ratio(init: str, seed: int, depth: int = DEPTH, width: int = WIDTH, n: int = 1000) -> float:
    """Var(output of the last hidden ReLU layer) / Var(input) for random Gaussian inputs."""
    fg.manual_seed(seed)
    x = fg.randn(n, width)
    h = x
    std = math.sqrt((2.0 if init == "he" else 1.0) / width)
    with fg.no_grad():
        for _ in range(depth):
            w = fg.empty(width, width).normal_(0.0, std)
            h = (h @ w.T).relu()
    return float(h.numpy().var() / x.numpy().var())


def reproduce(quick: bool = True, seeds: int = 3, out: Optional[str] = None, data_root: Optional[str] = None) -> PaperResult:
    t0 = time.perf_counter()
    (xtr, ytr), _, _ = mnist(data_root)
    steps = 600 if quick else 3000
    res = PaperResult("he", "He initialisation at depth 30 (He et al. 2015)")
    losses = {"he": [], "lecun": []}
    for seed in range(seeds):
        for init in ("he", "lecun"):
            fg.manual_seed(seed)
            model = models.mlp(784, [WIDTH] * (DEPTH - 1), 10, "relu", init=init)
            opt = optim.SGD(model.parameters(), lr=0.01)
            ls, _ = train_steps(model, opt, xtr, ytr, steps, 64, seed)
            losses[init].append(ls)
    tail = lambda ls: float(np.mean(ls[-50:])) if np.all(np.isfinite(ls[-50:])) else float("nan")  # noqa: E731
    ratios = {init: [variance_ratio(init, s) for s in range(seeds)] for init in ("he", "lecun")}
    res.figures = {"steps": steps, "he_final_loss": [tail(l) for l in losses["he"]],
                   "lecun_final_loss": [tail(l) for l in losses["lecun"]],
                   "he_variance_ratio": ratios["he"], "lecun_variance_ratio": ratios["lecun"]}
    f = res.figures
    ln10 = math.log(10)
    res.table = [
        (f"training loss after {steps} steps, He init (√(2/n))", fmt(f["he_final_loss"])),
        (f"training loss after {steps} steps, 1/n init (√(1/n))", fmt(f["lecun_final_loss"])),
        ("chance level (ln 10)", f"{ln10:.4f}"),
        ("variance ratio over 30 ReLU layers, He init", fmt(f["he_variance_ratio"])),
        ("variance ratio over 30 ReLU layers, 1/n init", f"{np.mean(f['lecun_variance_ratio']):.3g} (2^-30 = {2**-30:.3g})"),
    ]
    res.checks = [
        ("He init learns: loss well below ln 10 (< 0.5·ln 10)", max(f["he_final_loss"]) < 0.5 * ln10),
        ("1/n init stalls at chance (loss > 0.95·ln 10)", min(f["lecun_final_loss"]) > 0.95 * ln10),
        ("He init keeps the activation variance (ratio within 4×)", all(0.25 < r < 4 for r in f["he_variance_ratio"])),
        ("1/n init shrinks it by ~2^-30 (< 2^-25)", max(f["lecun_variance_ratio"]) < 2 ** -25),
    ]
    res.notes = (f"{DEPTH} Linear layers of width {WIDTH} (29 hidden ReLU layers), no BN, plain SGD lr 0.01, "
                 f"batch 64, {steps} steps, {seeds} seeds. The paper trains a 30-layer net on ImageNet; the "
                 f"stall of the 1/n init is the claim reproduced here.")
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4))
    for init, color, label in (("he", "tab:blue", "He init √(2/n)"), ("lecun", "tab:red", "1/n init √(1/n)")):
        for i, ls in enumerate(losses[init]):
            s = smooth(ls, 20)
            ax.plot(np.arange(1, len(s) + 1) * 20, s, color=color, alpha=0.8, label=label if i == 0 else None)
    ax.axhline(ln10, color="gray", ls=":", label="chance (ln 10)")
    ax.set_xlabel("SGD step"), ax.set_ylabel("training loss"), ax.set_title("30-layer ReLU net on MNIST")
    ax.legend()
    savefig(fig, out, "he_init_depth30.png", res)
    plt.close(fig)
    res.seconds = time.perf_counter() - t0
    return res
