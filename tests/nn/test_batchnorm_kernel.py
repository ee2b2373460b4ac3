"""The fused CPU batch-norm kernels against a float64 numpy reference: shapes above the
parallel threshold, non-contiguous input, large values with a small spread, no affine
parameters, eval mode with gradients, and running statistics of 4-D input."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn.functional as F
from ferrograd import nn

EPS = 1e-5


def reference(x, dy, w, b):
    """(y, dx, dw, db) of training-mode batch norm, in float64."""
    x, dy = x.astype(np.float64), dy.astype(np.float64)
    axes = tuple(d for d in range(x.ndim) if d != 1)
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    m = x.size // x.shape[1]
    mu = x.mean(axis=axes, keepdims=True)
    inv = 1 / np.sqrt(x.var(axis=axes, keepdims=True) + EPS)
    xhat = (x - mu) * inv
    y = xhat * w.reshape(shape) + b.reshape(shape)
    sdy = dy.sum(axis=axes, keepdims=True)
    sdyx = (dy * xhat).sum(axis=axes, keepdims=True)
    dx = w.reshape(shape) * inv / m * (m * dy - sdy - xhat * sdyx)
    return y, dx, sdyx.reshape(-1), sdy.reshape(-1)


def run(x, dy, w, b, training=True, rm=None, rv=None):
    X = fg.tensor(x, requires_grad=True)
    W = None if w is None else fg.tensor(w, requires_grad=True)
    B = None if b is None else fg.tensor(b, requires_grad=True)
    y = F.batch_norm(X, rm, rv, W, B, training=training)
    y.backward(fg.tensor(dy))
    return y.numpy(), X.grad.numpy(), None if W is None else W.grad.numpy(), None if B is None else B.grad.numpy()


@pytest.mark.parametrize("shape", [(256, 300), (4, 33, 16, 16), (300, 1, 120), (2, 1), (5, 7, 3), (1, 4, 3, 3)])
def test_training_matches_float64_reference(rng, shape):
    c = shape[1]
    x = (rng.standard_normal(shape) * 3 + 2).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    w, b = (rng.standard_normal(c) + 1).astype(np.float32), rng.standard_normal(c).astype(np.float32)
    y, dx, dw, db = run(x, dy, w, b)
    ry, rdx, rdw, rdb = reference(x, dy, w, b)
    np.testing.assert_allclose(y, ry, rtol=1e-4, atol=1e-4)
    scale = np.abs(w).max() / x.std(axis=tuple(d for d in range(x.ndim) if d != 1)).min()
    np.testing.assert_allclose(dx, rdx, rtol=1e-3, atol=1e-4 * scale)
    np.testing.assert_allclose(dw, rdw, rtol=1e-4, atol=1e-3)
    np.testing.assert_allclose(db, rdb, rtol=1e-4, atol=1e-3)


def test_large_values_with_a_small_spread(rng):
    x = (1e4 + 1e-2 * rng.standard_normal((64, 5))).astype(np.float32)
    dy = rng.standard_normal((64, 5)).astype(np.float32)
    w, b = np.ones(5, np.float32), np.zeros(5, np.float32)
    y, dx, dw, db = run(x, dy, w, b)
    ry, rdx, rdw, rdb = reference(x, dy, w, b)
    # The float32 data hold the spread to about 1e-3 (their spacing near 1e4): the output
    # must still be the standardised values of those data, not of the mean's rounding.
    np.testing.assert_allclose(y, ry, atol=1e-3)
    np.testing.assert_allclose(dx, rdx, rtol=1e-3, atol=1e-3 * np.abs(rdx).max())
    np.testing.assert_allclose(dw, rdw, atol=1e-2)


def test_non_contiguous_input_matches_contiguous(rng):
    a = rng.standard_normal((6, 40)).astype(np.float32)  # (C, N): its transpose is (N, C), strided
    dy = rng.standard_normal((40, 6)).astype(np.float32)
    w, b = rng.standard_normal(6).astype(np.float32), rng.standard_normal(6).astype(np.float32)
    A = fg.tensor(a, requires_grad=True)
    y = F.batch_norm(A.transpose(0, 1), None, None, fg.tensor(w), fg.tensor(b), training=True)
    y.backward(fg.tensor(dy))
    ry, rdx, _, _ = reference(a.T.copy(), dy, w, b)
    np.testing.assert_allclose(y.numpy(), ry, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(A.grad.numpy(), rdx.T, rtol=1e-3, atol=1e-4)


def test_without_affine_parameters(rng):
    x = rng.standard_normal((8, 3, 2, 2)).astype(np.float32)
    dy = rng.standard_normal((8, 3, 2, 2)).astype(np.float32)
    y, dx, _, _ = run(x, dy, None, None)
    ry, rdx, _, _ = reference(x, dy, np.ones(3), np.zeros(3))
    np.testing.assert_allclose(y, ry, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(dx, rdx, rtol=1e-3, atol=1e-4)


def test_eval_mode_gradients(rng):
    shape = (4, 3, 5, 5)
    x = rng.standard_normal(shape).astype(np.float32)
    dy = rng.standard_normal(shape).astype(np.float32)
    w, b = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    rm, rv = rng.standard_normal(3).astype(np.float32), (rng.random(3) + 0.5).astype(np.float32)
    y, dx, dw, db = run(x, dy, w, b, training=False, rm=fg.tensor(rm), rv=fg.tensor(rv))
    s = (1, 3, 1, 1)
    inv = 1 / np.sqrt(rv.astype(np.float64) + EPS).reshape(s)
    xhat = (x - rm.reshape(s)) * inv
    np.testing.assert_allclose(y, xhat * w.reshape(s) + b.reshape(s), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, dy * w.reshape(s) * inv, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dw, (dy * xhat).sum(axis=(0, 2, 3)), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(db, dy.sum(axis=(0, 2, 3)), rtol=1e-4, atol=1e-4)


def test_running_statistics_of_4d_input(rng):
    bn = nn.BatchNorm2d(3, momentum=0.1)
    x = (rng.standard_normal((5, 3, 4, 4)) * 2 + 3).astype(np.float32)
    bn(fg.tensor(x))
    mean = x.astype(np.float64).mean(axis=(0, 2, 3))
    var = x.astype(np.float64).var(axis=(0, 2, 3), ddof=1)
    np.testing.assert_allclose(bn.running_mean.numpy(), 0.1 * mean, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), 0.9 + 0.1 * var, rtol=1e-5)


def test_input_changed_in_place_before_backward_is_an_error(rng):
    x = fg.tensor(rng.standard_normal((6, 3)).astype(np.float32))
    w = fg.tensor(np.ones(3, np.float32), requires_grad=True)
    y = F.batch_norm(x, None, None, w, None, training=True)
    x.mul_(2.0)
    with pytest.raises(RuntimeError, match="in-place"):
        y.sum().backward()
