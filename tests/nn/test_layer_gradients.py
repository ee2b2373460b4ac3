"""Every layer: forward against a float64 numpy reference and gradients against finite
differences (BatchNorm in training mode and PReLU's slopes included)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn.functional as F
from gradcheck import check


def np_conv2d(x, w, b=None, stride=(1, 1), padding=(0, 0), dilation=(1, 1)):
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    xp = np.pad(x, ((0, 0), (0, 0), (padding[0], padding[0]), (padding[1], padding[1])))
    oh = (h + 2 * padding[0] - dilation[0] * (kh - 1) - 1) // stride[0] + 1
    ow = (wd + 2 * padding[1] - dilation[1] * (kw - 1) - 1) // stride[1] + 1
    out = np.zeros((n, o, oh, ow))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride[0]:i * stride[0] + dilation[0] * (kh - 1) + 1:dilation[0],
                       j * stride[1]:j * stride[1] + dilation[1] * (kw - 1) + 1:dilation[1]]
            out[:, :, i, j] = np.tensordot(patch, w, axes=([1, 2, 3], [1, 2, 3]))
    if b is not None:
        out += b[None, :, None, None]
    return out


def np_pool(x, k, s, p, mode):
    n, c, h, w = x.shape
    fill = -np.inf if mode == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])), constant_values=fill)
    oh, ow = (h + 2 * p[0] - k[0]) // s[0] + 1, (w + 2 * p[1] - k[1]) // s[1] + 1
    out = np.zeros((n, c, oh, ow))
    for i in range(oh):
        for j in range(ow):
            win = xp[:, :, i * s[0]:i * s[0] + k[0], j * s[1]:j * s[1] + k[1]]
            out[:, :, i, j] = win.max(axis=(2, 3)) if mode == "max" else win.mean(axis=(2, 3))
    return out


CONV_CASES = [
    dict(x=(2, 3, 6, 5), w=(4, 3, 3, 3), stride=(1, 1), padding=(0, 0), dilation=(1, 1)),
    dict(x=(1, 2, 7, 7), w=(3, 2, 3, 2), stride=(2, 1), padding=(1, 2), dilation=(1, 1)),
    dict(x=(3, 1, 8, 8), w=(2, 1, 3, 3), stride=(1, 2), padding=(2, 1), dilation=(2, 1)),
    dict(x=(1, 2, 5, 5), w=(2, 2, 5, 5), stride=(1, 1), padding=(0, 0), dilation=(1, 1)),
]


@pytest.mark.parametrize("case", CONV_CASES)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d(rng, case, bias):
    x, w = rng.standard_normal(case["x"]), rng.standard_normal(case["w"])
    kw = {k: case[k] for k in ("stride", "padding", "dilation")}
    if bias:
        b = rng.standard_normal(case["w"][0])
        check(lambda X, W, B: F.conv2d(X, W, B, **kw), lambda X, W, B: np_conv2d(X, W, B, **kw), [x, w, b])
    else:
        check(lambda X, W: F.conv2d(X, W, None, **kw), lambda X, W: np_conv2d(X, W, None, **kw), [x, w])


def test_conv2d_batch_larger_than_threads_matches_numpy(rng):
    """The per-sample parallel path (batch ≥ threads) agrees with the reference too."""
    x, w, b = rng.standard_normal((16, 3, 9, 9)), rng.standard_normal((5, 3, 3, 3)), rng.standard_normal(5)
    got = F.conv2d(fg.tensor(x), fg.tensor(w), fg.tensor(b), padding=1).numpy()
    np.testing.assert_allclose(got, np_conv2d(x, w, b, padding=(1, 1)), rtol=1e-4, atol=1e-4)
    check(lambda X, W: F.conv2d(X, W, None, stride=2), lambda X, W: np_conv2d(X, W, None, stride=(2, 2)),
          [rng.standard_normal((6, 2, 5, 5)), rng.standard_normal((3, 2, 3, 3))])


@pytest.mark.parametrize("k,s,p", [((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0))])
def test_max_pool2d(rng, k, s, p):
    x = rng.permutation(2 * 3 * 6 * 5).reshape(2, 3, 6, 5) / 7.0  # distinct values: no ties
    check(lambda X: F.max_pool2d(X, k, s, p), lambda X: np_pool(X, k, s, p, "max"), [x])


@pytest.mark.parametrize("k,s,p", [((2, 2), (2, 2), (0, 0)), ((3, 3), (1, 1), (1, 1)), ((3, 2), (2, 1), (1, 0))])
def test_avg_pool2d(rng, k, s, p):
    x = rng.standard_normal((2, 3, 6, 5))
    check(lambda X: F.avg_pool2d(X, k, s, p), lambda X: np_pool(X, k, s, p, "avg"), [x])


def test_pool_on_3d_input_and_modules(rng):
    x = rng.standard_normal((3, 4, 4))
    got = fg.nn.MaxPool2d(2)(fg.tensor(x)).numpy()
    np.testing.assert_allclose(got, np_pool(x[None], (2, 2), (2, 2), (0, 0), "max")[0], rtol=1e-6)
    got = fg.nn.AvgPool2d(2, stride=1)(fg.tensor(x)).numpy()
    np.testing.assert_allclose(got, np_pool(x[None], (2, 2), (1, 1), (0, 0), "avg")[0], rtol=1e-5)


def test_linear(rng):
    x, w, b = rng.standard_normal((5, 4)), rng.standard_normal((3, 4)), rng.standard_normal(3)
    check(lambda X, W, B: F.linear(X, W, B), lambda X, W, B: X @ W.T + B, [x, w, b])
    check(lambda X, W: F.linear(X, W), lambda X, W: X @ W.T, [rng.standard_normal((2, 5, 4)), w])


def np_batch_norm(x, w, b, eps=1e-5):
    axes = tuple(d for d in range(x.ndim) if d != 1)
    shape = [1] * x.ndim
    shape[1] = x.shape[1]
    mu = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w.reshape(shape) + b.reshape(shape)


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 4)])
def test_batch_norm_training_gradients(rng, shape):
    x = rng.standard_normal(shape) * 2 + 1
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    check(lambda X, W, B: F.batch_norm(X, None, None, W, B, training=True),
          lambda X, W, B: np_batch_norm(X, W, B), [x, w, b], rtol=1e-3, atol=1e-4)


def test_batch_norm_eval_uses_running_statistics(rng):
    x = rng.standard_normal((4, 3))
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    check(lambda X, W, B: F.batch_norm(X, fg.tensor(rm), fg.tensor(rv), W, B, training=False),
          lambda X, W, B: (X - rm) / np.sqrt(rv + 1e-5) * W + B, [x, w, b])


@pytest.mark.parametrize("shape,k", [((5, 4), 1), ((5, 4), 4), ((2, 3, 4, 4), 3), ((2, 3, 4, 4), 1), ((7,), 1)])
def test_prelu_gradients_shared_and_per_channel(rng, shape, k):
    x = rng.standard_normal(shape)
    x = np.sign(x) * (0.1 + np.abs(x))
    a = rng.random(k) * 0.5
    bshape = [1] * len(shape)
    if k > 1:
        bshape[1] = k

    def ref(X, A):
        return np.where(X > 0, X, A.reshape(bshape) * X)

    check(lambda X, A: F.prelu(X, A), ref, [x, a])


def test_dropout_gradient_is_the_mask(rng):
    fg.manual_seed(5)
    x = fg.tensor(rng.random((50, 40)) + 0.5, requires_grad=True)
    y = F.dropout(x, 0.3, training=True)
    mask = y.numpy() / x.numpy()
    kept = mask != 0
    np.testing.assert_allclose(mask[kept], 1 / 0.7, rtol=1e-5)
    assert 0 < kept.sum() < mask.size
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), mask, rtol=1e-6)


@pytest.mark.parametrize("name,ref", [
    ("ReLU", lambda x: np.maximum(x, 0)),
    ("Sigmoid", lambda x: 1 / (1 + np.exp(-x))),
    ("Tanh", np.tanh),
    ("Softmax", lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True)),
    ("LogSoftmax", lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True))),
    ("LeakyReLU", lambda x: np.where(x > 0, x, 0.01 * x)),
    ("Identity", lambda x: x),
    ("Flatten", lambda x: x.reshape(x.shape[0], -1)),
])
def test_activation_modules(rng, name, ref):
    x = rng.standard_normal((3, 2, 4))
    x = np.sign(x) * (0.1 + np.abs(x))
    m = getattr(fg.nn, name)()
    check(lambda X: m(X), ref, [x])
