"""Batch normalization (Ioffe & Szegedy 2015): the paper's MNIST experiment.

A 784-100-100-100-10 sigmoid net, minibatches of 60, plain SGD, the same learning rate with
and without BatchNorm (before each sigmoid). BN's test accuracy is ahead early and at the end;
the distribution of an input to a last-hidden-layer sigmoid stays stable with BN and drifts
without it (the paper's Figure 1 b/c: its 15th, 50th and 85th percentiles over training).
"""

from __future__ import annotations

import time
from typing import Optional

import numpy as np

import ferrograd as fg
from ferrograd import models, optim
from ferrograd.papers.common import PaperResult, accuracy, fmt, mnist, pyplot, savefig, train_steps


def _last_sigmoid_input(model, x):  # type: ignore[no-untyped-def]
    """Pre-activations entering the last hidden sigmoid (eval mode), for the first 3 units."""
    sig = [i for i, m in enumerate(model) if type(m).__name__ == "Sigmoid"][-1]
    model.eval()
    with fg.no_grad():
        h = model[:sig](fg.tensor(x)).numpy()
    return h[:, :3]


def _net_drift(medians: np.ndarray) -> float:
    """How far the median moved: |mean of the last quarter of records − the first record|."""
    q = max(1, len(medians) // 4)
    return float(abs(medians[-q:].mean() - medians[0]))


def reproduce(quick: bool = True, seeds: int = 3, out: Optional[str] = None, data_root: Optional[str] = None) -> PaperResult:
    t0 = time.perf_counter()
    (xtr, ytr), _, (xte, yte) = mnist(data_root)
    steps = 4000 if quick else 50000
    every = 250 if quick else 1000
    lr = 0.2
    res = PaperResult("batchnorm", "Batch normalization (Ioffe & Szegedy 2015)")
    probe = xte[:1000]
    curves = {"plain": [], "bn": []}
    pct = {"plain": [], "bn": []}
    for seed in range(seeds):
        for arm in ("plain", "bn"):
            fg.manual_seed(seed)
            model = models.mlp(784, [100, 100, 100], 10, "sigmoid", batch_norm=arm == "bn", init="xavier")
            opt = optim.SGD(model.parameters(), lr=lr)
            tracks = []

            def record(step, m=model, tr=tracks):  # type: ignore[no-untyped-def]
                tr.append(np.percentile(_last_sigmoid_input(m, probe)[:, 0], [15, 50, 85]))
                return {"test_acc": accuracy(m, xte, yte)}

            _, rec = train_steps(model, opt, xtr, ytr, steps, 60, seed, every=every, on_record=record)
            curves[arm].append({r["step"]: r["test_acc"] for r in rec})
            pct[arm].append(np.array(tracks))
    at = lambda arm, s: [c[s] for c in curves[arm]]  # noqa: E731
    early = 1000
    res.figures = {"steps": steps, "early_step": early,
                   "plain_early": at("plain", early), "bn_early": at("bn", early),
                   "plain_final": at("plain", steps), "bn_final": at("bn", steps),
                   "plain_median_drift": [_net_drift(p[:, 1]) for p in pct["plain"]],
                   "bn_median_drift": [_net_drift(p[:, 1]) for p in pct["bn"]]}
    f = res.figures
    res.table = [
        (f"test accuracy at step {early}, without BN", fmt(f["plain_early"], pct=True)),
        (f"test accuracy at step {early}, with BN", fmt(f["bn_early"], pct=True)),
        (f"test accuracy at step {steps}, without BN", fmt(f["plain_final"], pct=True)),
        (f"test accuracy at step {steps}, with BN", fmt(f["bn_final"], pct=True)),
        ("net drift of the median sigmoid input over training, without BN", fmt(f["plain_median_drift"])),
        ("net drift of the median sigmoid input over training, with BN", fmt(f["bn_median_drift"])),
    ]
    early_gap = np.array(f["bn_early"]) - np.array(f["plain_early"])
    final_gap = np.array(f["bn_final"]) - np.array(f["plain_final"])
    res.checks = [
        (f"BN is ≥ 5 points ahead at step {early}", bool(early_gap.min() >= 0.05)),
        (f"BN is ahead at step {steps}", bool(final_gap.min() > 0)),
    ]
    res.notes = (f"SGD, learning rate {lr} for both arms, batch 60, {steps} steps (paper: 50 000), {seeds} seeds; "
                 f"Xavier-normal init; BN before each sigmoid, no bias on the layers it follows. The drift figures "
                 f"(how far the median input of one last-layer sigmoid moved from its first record, every {every} "
                 f"steps) are reported, not asserted; the plot shows the 15/50/85th percentiles over training.")
    plt = pyplot()
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for arm, color in (("plain", "tab:red"), ("bn", "tab:blue")):
        ks = sorted(curves[arm][0])
        a = np.array([[c[k] for k in ks] for c in curves[arm]]) * 100
        axes[0].plot(ks, a.mean(0), color=color, label="with BN" if arm == "bn" else "without BN")
    axes[0].set_xlabel("step"), axes[0].set_ylabel("test accuracy (%)"), axes[0].legend()
    axes[0].set_title("(a) test accuracy")
    for ax, arm, title in ((axes[1], "plain", "(b) without BN"), (axes[2], "bn", "(c) with BN")):
        p = pct[arm][0]
        ks = np.arange(1, len(p) + 1) * every
        for j, ls in zip(range(3), ("--", "-", "--")):
            ax.plot(ks[: len(p)], p[:, j], "k" + ls)
        ax.set_title(f"{title}: sigmoid input, 15/50/85th pct"), ax.set_xlabel("step")
    savefig(fig, out, "batchnorm.png", res)
    plt.close(fig)
    res.seconds = time.perf_counter() - t0
    return res
