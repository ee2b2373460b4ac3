"""End to end: a 2-layer MLP written with tensor ops (x @ w + b, .relu(), cross_entropy) and
trained with Adam learns a synthetic problem that no linear model can separate."""

from __future__ import annotations

import numpy as np

import ferrograd as fg
import ferrograd.nn.functional as F
from ferrograd import optim


def xor_blobs(n, rng):
    """Four Gaussian blobs at (±2, ±2), labelled by XOR of the signs, plus 8 noise dims."""
    centers = np.array([[2, 2], [-2, -2], [2, -2], [-2, 2]], np.float32)
    k = rng.integers(0, 4, n)
    x = np.concatenate([centers[k] + 0.5 * rng.standard_normal((n, 2)), rng.standard_normal((n, 8))], axis=1)
    return x.astype(np.float32), (k >= 2).astype(np.int64)


def accuracy(params, x, y):
    w1, b1, w2, b2 = params
    with fg.no_grad():
        logits = (fg.tensor(x) @ w1 + b1).relu() @ w2 + b2
    return float((logits.argmax(dim=1).numpy() == y).mean())


def test_mlp_trained_with_adam_reaches_high_accuracy():
    rng = np.random.default_rng(0)
    fg.manual_seed(0)
    x, y = xor_blobs(2000, rng)
    xt, yt = xor_blobs(1000, rng)
    w1 = (fg.randn(10, 32) * np.sqrt(2 / 10)).requires_grad_()
    b1 = fg.zeros(32, requires_grad=True)
    w2 = (fg.randn(32, 2) * np.sqrt(2 / 32)).requires_grad_()
    b2 = fg.zeros(2, requires_grad=True)
    params = [w1, b1, w2, b2]
    opt = optim.Adam(params, lr=1e-2)
    start_acc = accuracy(params, xt, yt)
    losses = []
    for epoch in range(10):
        order = rng.permutation(len(x))
        for i in range(0, len(x), 50):
            idx = order[i:i + 50]
            loss = F.cross_entropy((fg.tensor(x[idx]) @ w1 + b1).relu() @ w2 + b2, y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
    acc = accuracy(params, xt, yt)
    print(f"XOR blobs: test accuracy {start_acc:.3f} -> {acc:.3f}, loss {losses[0]:.3f} -> {np.mean(losses[-40:]):.3f}")
    assert acc >= 0.97
    assert np.mean(losses[-40:]) < 0.1 < losses[0]
