"""The dropout paper's max-norm constraint: each unit's incoming weight vector (a row of a
Linear weight (out, in), a filter of a conv weight (out, in, kh, kw)) is projected onto the
L2 ball of radius c after each step; biases are untouched."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import _core, optim


def project(w, c):
    """Reference: w[i] · min(1, c/‖w[i]‖) for every slice along dim 0."""
    w = w.astype(np.float64)
    flat = w.reshape(w.shape[0], -1)
    norms = np.linalg.norm(flat, axis=1, keepdims=True)
    return (flat * np.minimum(1.0, c / np.maximum(norms, 1e-300))).reshape(w.shape)


def row_norms(w):
    return np.linalg.norm(w.reshape(w.shape[0], -1).astype(np.float64), axis=1)


@pytest.mark.parametrize("shape", [(6, 9), (4, 3, 3, 3), (300, 200)])
def test_max_norm_matches_the_projection(shape):
    rng = np.random.default_rng(0)
    w0 = (rng.standard_normal(shape) * rng.uniform(0.05, 2.0, (shape[0],) + (1,) * (len(shape) - 1))).astype(np.float32)
    c = float(np.median(row_norms(w0)))  # half the units are over the limit
    w = fg.tensor(w0, requires_grad=True)
    optim.max_norm_(w, c)
    np.testing.assert_allclose(w.numpy(), project(w0, c), rtol=1e-6, atol=1e-7)
    assert np.all(row_norms(w.numpy()) <= c * (1 + 1e-6))
    inside = row_norms(w0) <= c
    assert 0 < inside.sum() < shape[0]
    np.testing.assert_array_equal(w.numpy()[inside], w0[inside])  # units within the ball: untouched


def test_one_dimensional_tensors_are_left_alone():
    b = fg.tensor([30.0, 40.0], requires_grad=True)
    _core.max_norm_([b], 1.0)
    np.testing.assert_array_equal(b.numpy(), [30.0, 40.0])


def test_group_max_norm_constrains_after_every_step():
    rng = np.random.default_rng(1)
    w = fg.tensor(rng.standard_normal((8, 5)).astype(np.float32), requires_grad=True)
    conv = fg.tensor(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), requires_grad=True)
    b = fg.tensor(np.full(8, 5.0, np.float32), requires_grad=True)
    free = fg.tensor(rng.standard_normal((8, 5)).astype(np.float32) * 5, requires_grad=True)
    opt = optim.SGD([{"params": [w, conv, b], "max_norm": 1.5}, {"params": [free]}], lr=0.5, momentum=0.9)
    for _ in range(10):
        for p in (w, conv, b, free):
            # Gradients that push every weight outwards.
            p.grad = fg.tensor(-np.sign(p.numpy()) * 3.0)
        opt.step()
        assert np.all(row_norms(w.numpy()) <= 1.5 * (1 + 1e-6))
        assert np.all(row_norms(conv.numpy()) <= 1.5 * (1 + 1e-6))
    # The constraint is active (rows sit on the sphere), biases and the other group are free.
    np.testing.assert_allclose(row_norms(w.numpy()), 1.5, rtol=1e-5)
    assert np.all(b.numpy() > 5.0)
    assert np.all(row_norms(free.numpy()) > 1.5)


def test_max_norm_errors():
    w = fg.randn(3, 3).requires_grad_()
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        optim.max_norm_(w, 0.0)
    with pytest.raises(ValueError, match="max_norm must be > 0"):
        optim.max_norm_(w, float("nan"))
    with pytest.raises(RuntimeError, match="autograd graph"):
        optim.max_norm_(w * 2.0, 1.0)
    with pytest.raises(ValueError, match="broadcast"):
        optim.max_norm_(fg.ones(1, 3).expand(4, 3), 1.0)
    with pytest.raises(TypeError):
        _core.max_norm_([np.zeros((2, 2))], 1.0)
