"""Trains a 64-128-10 MLP on scikit-learn's bundled 8×8 digits (no download) with ferrograd's
tensor ops and a hand-written SGD step, printing loss and test accuracy per epoch."""

from __future__ import annotations

import time

import numpy as np
from sklearn.datasets import load_digits

import ferrograd as fg
import ferrograd.nn.functional as F


def main(epochs: int = 30, lr: float = 0.1, batch: int = 32, seed: int = 0) -> float:
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(x))
    train, test = order[:1500], order[1500:]
    fg.manual_seed(seed)
    w1 = (fg.randn(64, 128) * np.sqrt(2 / 64)).requires_grad_()
    b1 = fg.zeros(128, requires_grad=True)
    w2 = (fg.randn(128, 10) * np.sqrt(2 / 128)).requires_grad_()
    b2 = fg.zeros(10, requires_grad=True)
    params = [w1, b1, w2, b2]

    def forward(xb: fg.Tensor) -> fg.Tensor:
        return (xb @ w1 + b1).relu() @ w2 + b2

    acc = 0.0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        perm = rng.permutation(train)
        losses = []
        for i in range(0, len(perm), batch):
            idx = perm[i:i + batch]
            loss = F.cross_entropy(forward(fg.tensor(x[idx])), y[idx])
            for p in params:
                p.grad = None
            loss.backward()
            with fg.no_grad():
                for p in params:
                    p -= lr * p.grad
            losses.append(loss.item())
        with fg.no_grad():
            acc = float((forward(fg.tensor(x[test])).argmax(dim=1).numpy() == y[test]).mean())
        print(f"epoch {epoch:2d}  loss {np.mean(losses):.4f}  test accuracy {acc:.4f}  ({time.perf_counter() - t0:.2f}s)")
    return acc


if __name__ == "__main__":
    main()
