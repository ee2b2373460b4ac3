"""Every op: forward against numpy (broadcasting included) and gradient against float64
central finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from gradcheck import check


def away(rng, shape, lo=0.2):
    """Random values at least ``lo`` away from 0 (away from the kinks of relu/abs/sign)."""
    x = rng.standard_normal(shape)
    return np.sign(x) * (lo + np.abs(x))


def positive(rng, shape):
    return 0.5 + rng.random(shape) * 2.0


BROADCAST_SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 3, 4), (3, 1)), ((1, 4), (3, 1)), ((), (2, 3)), ((5,), ())]


@pytest.mark.parametrize("sa,sb", BROADCAST_SHAPES)
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div"])
def test_arithmetic_broadcasting(rng, op, sa, sb):
    a, b = away(rng, sa), away(rng, sb)
    fgf = {"add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y, "div": lambda x, y: x / y}[op]
    check(fgf, fgf, [a, b])


@pytest.mark.parametrize("sa,sb", BROADCAST_SHAPES[:4])
def test_pow_tensor_exponent(rng, sa, sb):
    check(lambda x, y: x ** y, lambda x, y: x ** y, [positive(rng, sa), rng.standard_normal(sb)])


@pytest.mark.parametrize("sa,sb", BROADCAST_SHAPES[:4])
@pytest.mark.parametrize("name", ["maximum", "minimum"])
def test_maximum_minimum(rng, name, sa, sb):
    a, b = rng.standard_normal(sa), rng.standard_normal(sb) + 0.05  # no ties
    check(lambda x, y: getattr(fg, name)(x, y), getattr(np, name), [a, b])


def test_maximum_tie_splits_gradient():
    a = fg.tensor([1.0, 2.0], requires_grad=True)
    b = fg.tensor([1.0, 3.0], requires_grad=True)
    fg.maximum(a, b).sum().backward()
    assert a.grad.tolist() == [0.5, 0.0] and b.grad.tolist() == [0.5, 1.0]


def test_scalars_on_both_sides(rng):
    x = away(rng, (3, 2))
    check(lambda t: 2.0 - t, lambda t: 2.0 - t, [x])
    check(lambda t: 3 / t, lambda t: 3 / t, [x])
    check(lambda t: t * 2 + 1, lambda t: t * 2 + 1, [x])
    check(lambda t: 1.5 ** t, lambda t: 1.5 ** t, [x])
    check(lambda t: t ** 3, lambda t: t ** 3, [x])
    check(lambda t: t ** 0.5, lambda t: t ** 0.5, [positive(rng, (4,))])
    check(lambda t: -t, lambda t: -t, [x])


UNARY = {
    "exp": (lambda t: t.exp(), np.exp, "any"),
    "log": (lambda t: t.log(), np.log, "pos"),
    "sqrt": (lambda t: t.sqrt(), np.sqrt, "pos"),
    "abs": (lambda t: t.abs(), np.abs, "away"),
    "tanh": (lambda t: t.tanh(), np.tanh, "any"),
    "sigmoid": (lambda t: t.sigmoid(), lambda x: 1 / (1 + np.exp(-x)), "any"),
    "relu": (lambda t: t.relu(), lambda x: np.maximum(x, 0), "away"),
    "leaky_relu": (lambda t: fg.nn.functional.leaky_relu(t, 0.2), lambda x: np.where(x > 0, x, 0.2 * x), "away"),
    "clamp": (lambda t: t.clamp(-0.5, 0.7), lambda x: np.clip(x, -0.5, 0.7), "clampsafe"),
    "clamp_min": (lambda t: t.clamp(min=0.1), lambda x: np.maximum(x, 0.1), "clampsafe"),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 2)])
def test_unary(rng, name, shape):
    f, ref, domain = UNARY[name]
    if domain == "pos":
        x = positive(rng, shape)
    elif domain == "away":
        x = away(rng, shape)
    elif domain == "clampsafe":
        x = rng.standard_normal(shape)
        x = np.where(np.abs(x + 0.5) < 0.05, x + 0.2, x)
        x = np.where(np.abs(x - 0.7) < 0.05, x + 0.2, x)
        x = np.where(np.abs(x - 0.1) < 0.05, x + 0.2, x)
    else:
        x = rng.standard_normal(shape)
    check(f, ref, [x])


def test_where_broadcasts_and_routes_gradient(rng):
    c = (rng.random((3, 4)) > 0.5).astype(np.float64)
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((4,))
    check(lambda x, y: fg.where(fg.tensor(c.astype(np.float32)), x, y), lambda x, y: np.where(c != 0, x, y), [a, b])


@pytest.mark.parametrize("name,ref", [("eq", np.equal), ("ne", np.not_equal), ("lt", np.less),
                                      ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal)])
def test_comparisons_have_no_grad(rng, name, ref):
    a = np.round(rng.standard_normal((3, 4)))
    b = np.round(rng.standard_normal((4,)))
    ta = fg.tensor(a, requires_grad=True)
    out = getattr(ta, name)(fg.tensor(b))
    np.testing.assert_array_equal(out.numpy(), ref(a, b).astype(np.float32))
    assert not out.requires_grad


MATMUL_SHAPES = [((4,), (4,)), ((3, 4), (4,)), ((4,), (4, 5)), ((3, 4), (4, 5)), ((2, 3, 4), (4, 5)),
                 ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (2, 4, 5))]


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES)
def test_matmul(rng, sa, sb):
    check(lambda x, y: x @ y, np.matmul, [rng.standard_normal(sa), rng.standard_normal(sb)])


def test_matmul_transposed_operands(rng):
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((5, 4))
    check(lambda x, y: x.T @ y.T, lambda x, y: x.T @ y.T, [a, b])
    check(lambda x, y: x.transpose(0, 1).matmul(y.permute(1, 0)), lambda x, y: x.T @ y.T, [a, b])


def test_matmul_large_matches_numpy(rng):
    a = rng.standard_normal((130, 300)).astype(np.float32)
    b = rng.standard_normal((300, 257)).astype(np.float32)
    np.testing.assert_allclose((fg.tensor(a) @ fg.tensor(b)).numpy(), a @ b, rtol=1e-4, atol=1e-3)


REDUCE_DIMS = [None, 0, 1, -1, (0, 2), (0, 1, 2)]


@pytest.mark.parametrize("dim", REDUCE_DIMS)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
def test_reductions(rng, name, dim, keepdim):
    x = rng.standard_normal((2, 3, 4))
    ref = {"sum": np.sum, "mean": np.mean, "amax": np.max, "amin": np.min}[name]
    kd = keepdim if dim is not None else False
    check(lambda t: getattr(t, name)(dim=dim, keepdim=kd), lambda a: ref(a, axis=dim, keepdims=kd), [x])


@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1)])
@pytest.mark.parametrize("unbiased", [True, False])
def test_var(rng, dim, unbiased):
    x = rng.standard_normal((4, 5))
    ddof = 1 if unbiased else 0
    check(lambda t: t.var(dim=dim, unbiased=unbiased), lambda a: np.var(a, axis=dim, ddof=ddof), [x])


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_with_dim_return_values_and_indices(rng, dim, keepdim):
    x = rng.standard_normal((4, 5))
    t = fg.tensor(x, requires_grad=True)
    r = t.max(dim=dim, keepdim=keepdim)
    values, indices = r
    np.testing.assert_allclose(r.values.numpy(), np.max(x, axis=dim, keepdims=keepdim).astype(np.float32))
    np.testing.assert_array_equal(indices.numpy(), np.argmax(x, axis=dim).reshape(values.shape))
    check(lambda a: a.max(dim=dim, keepdim=keepdim).values, lambda a: np.max(a, axis=dim, keepdims=keepdim), [x])
    check(lambda a: a.min(dim, keepdim)[0], lambda a: np.min(a, axis=dim, keepdims=keepdim), [x])
    np.testing.assert_array_equal(t.min(dim=dim).indices.numpy(), np.argmin(x, axis=dim))


def test_argmax_argmin(rng):
    x = rng.standard_normal((3, 7))
    t = fg.tensor(x)
    assert t.argmax().item() == np.argmax(x)
    np.testing.assert_array_equal(t.argmax(dim=1).numpy(), np.argmax(x, axis=1))
    np.testing.assert_array_equal(t.argmin(dim=0, keepdim=True).numpy(), np.argmin(x, axis=0)[None])
    assert fg.max(t).item() == pytest.approx(np.max(x), rel=1e-6)


def test_shape_ops(rng):
    x = rng.standard_normal((2, 3, 4))
    check(lambda t: t.reshape(4, 6), lambda a: a.reshape(4, 6), [x])
    check(lambda t: t.reshape(-1, 2), lambda a: a.reshape(-1, 2), [x])
    check(lambda t: t.view(6, 4), lambda a: a.reshape(6, 4), [x])
    check(lambda t: t.transpose(0, 2), lambda a: a.transpose(2, 1, 0), [x])
    check(lambda t: t.permute(1, 2, 0), lambda a: a.transpose(1, 2, 0), [x])
    check(lambda t: t.permute(2, 0, 1).reshape(4, 6), lambda a: a.transpose(2, 0, 1).reshape(4, 6), [x])
    check(lambda t: t.flatten(), lambda a: a.reshape(-1), [x])
    check(lambda t: t.flatten(1), lambda a: a.reshape(2, 12), [x])
    check(lambda t: t.unsqueeze(1), lambda a: a[:, None], [x])
    check(lambda t: t.unsqueeze(-1).squeeze(-1), lambda a: a, [x])
    check(lambda t: t.unsqueeze(0).squeeze(), lambda a: a, [x])
    y = rng.standard_normal((3, 1))
    check(lambda t: t.expand(2, 3, 4), lambda a: np.broadcast_to(a, (2, 3, 4)), [y])
    check(lambda t: t.expand(-1, 5), lambda a: np.broadcast_to(a, (3, 5)), [y])
    m = rng.standard_normal((3, 5))
    check(lambda t: t.T, lambda a: a.T, [m])
    check(lambda t: t.T.contiguous() * 2, lambda a: a.T * 2, [m])


def test_cat_and_stack(rng):
    a, b, c = rng.standard_normal((2, 3)), rng.standard_normal((1, 3)), rng.standard_normal((4, 3))
    check(lambda x, y, z: fg.cat([x, y, z]), lambda x, y, z: np.concatenate([x, y, z]), [a, b, c])
    d, e = rng.standard_normal((2, 3)), rng.standard_normal((2, 5))
    check(lambda x, y: fg.cat([x, y], dim=1), lambda x, y: np.concatenate([x, y], 1), [d, e])
    f, g = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    for dim in (0, 1, 2, -1):
        check(lambda x, y: fg.stack([x, y], dim=dim), lambda x, y: np.stack([x, y], axis=dim), [f, g])


def test_indexing(rng):
    x = rng.standard_normal((5, 4, 3))
    check(lambda t: t[1], lambda a: a[1], [x])
    check(lambda t: t[-1], lambda a: a[-1], [x])
    check(lambda t: t[1:4], lambda a: a[1:4], [x])
    check(lambda t: t[::2], lambda a: a[::2], [x])
    check(lambda t: t[:, 2], lambda a: a[:, 2], [x])
    check(lambda t: t[1, :, 1:], lambda a: a[1, :, 1:], [x])
    check(lambda t: t[..., 0], lambda a: a[..., 0], [x])
    check(lambda t: t[None, 2], lambda a: a[None, 2], [x])
    idx = np.array([4, 0, 0, 2])
    check(lambda t: t[idx], lambda a: a[idx], [x])
    check(lambda t: t[[1, 3]], lambda a: a[[1, 3]], [x])
    check(lambda t: t[fg.tensor([3, -1])], lambda a: a[[3, -1]], [x])
    check(lambda t: t[:, [0, 3]], lambda a: a[:, [0, 3]], [x])


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_log_softmax(rng, dim):
    x = rng.standard_normal((3, 4)) * 3

    def sm(a):
        e = np.exp(a - a.max(axis=dim, keepdims=True))
        return e / e.sum(axis=dim, keepdims=True)

    check(lambda t: t.softmax(dim), sm, [x])
    check(lambda t: fg.log_softmax(t, dim=dim), lambda a: np.log(sm(a)), [x])


def test_softmax_is_stable_for_huge_logits():
    t = fg.tensor([[1000.0, 1000.0, -1000.0]])
    np.testing.assert_allclose(t.softmax(-1).numpy(), [[0.5, 0.5, 0.0]])
    assert np.isfinite(t.log_softmax(-1).numpy()[0, :2]).all()


def np_log_softmax(a):
    m = a.max(axis=1, keepdims=True)
    return a - m - np.log(np.exp(a - m).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy_classes(rng, reduction, smoothing):
    x = rng.standard_normal((6, 5)) * 2
    y = rng.integers(0, 5, 6)

    def ref(a):
        lp = np_log_softmax(a)
        per = -(1 - smoothing) * lp[np.arange(6), y] - smoothing * lp.mean(axis=1)
        return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]

    check(lambda t: fg.nn.functional.cross_entropy(t, y, reduction=reduction, label_smoothing=smoothing), ref, [x])
    # Labels as an integer-valued tensor or a list give the same result.
    a = fg.nn.functional.cross_entropy(fg.tensor(x), fg.tensor(y), reduction=reduction, label_smoothing=smoothing)
    b = fg.nn.functional.cross_entropy(fg.tensor(x), y.tolist(), reduction=reduction, label_smoothing=smoothing)
    np.testing.assert_allclose(a.numpy(), b.numpy())


def test_cross_entropy_ignore_index_and_probs(rng):
    x = rng.standard_normal((5, 4))
    y = np.array([1, -100, 3, 0, -100])
    keep = y != -100

    def ref(a):
        lp = np_log_softmax(a)
        return -lp[np.arange(5)[keep], y[keep]].mean()

    check(lambda t: fg.nn.functional.cross_entropy(t, y), ref, [x])
    p = rng.random((5, 4))
    p /= p.sum(1, keepdims=True)
    check(lambda t: fg.nn.functional.cross_entropy(t, p), lambda a: -(np_log_softmax(a) * p).sum(1).mean(), [x])


def test_nll_mse_bce(rng):
    x = rng.standard_normal((4, 3))
    y = np.array([2, 0, 1, 2])
    check(lambda t: fg.nn.functional.nll_loss(t, y), lambda a: -a[np.arange(4), y].mean(), [x])
    check(lambda t: fg.nn.functional.nll_loss(t, y, reduction="none"), lambda a: -a[np.arange(4), y], [x])
    target = rng.standard_normal((4, 3))
    check(lambda t, u: fg.nn.functional.mse_loss(t, u), lambda a, b: ((a - b) ** 2).mean(), [x, target])
    check(lambda t: fg.nn.functional.mse_loss(t, fg.tensor(target), reduction="sum"),
          lambda a: ((a - target) ** 2).sum(), [x])
    z = rng.random((4, 3))
    check(lambda t: fg.nn.functional.binary_cross_entropy_with_logits(t, fg.tensor(z)),
          lambda a: np.mean(np.maximum(a, 0) - a * z + np.log1p(np.exp(-np.abs(a)))), [away(rng, (4, 3))])


def test_bce_with_logits_is_stable():
    big = fg.tensor([100.0, -100.0], requires_grad=True)
    loss = fg.nn.functional.binary_cross_entropy_with_logits(big, fg.tensor([1.0, 0.0]))
    assert np.isfinite(loss.item()) and loss.item() < 1e-6
    loss.backward()
    assert np.isfinite(big.grad.numpy()).all()


def test_composite_expression(rng):
    """A small network-shaped expression: gradients through a chain of ops."""
    w, b, x = rng.standard_normal((4, 3)), rng.standard_normal(3), rng.standard_normal((5, 4))
    check(lambda W, B, X: ((X @ W + B).tanh() * 2).softmax(-1).sum(0),
          lambda W, B, X: (lambda z: (np.exp(z) / np.exp(z).sum(-1, keepdims=True)).sum(0))(np.tanh(X @ W + B) * 2),
          [w, b, x])


# ---- fused ops (issue 7): each one forward-checked against numpy and gradient-checked ----------

@pytest.mark.parametrize("xshape", [(4,), (3, 4), (2, 3, 4)])
@pytest.mark.parametrize("with_bias", [True, False])
def test_fused_linear(rng, xshape, with_bias):
    from ferrograd.nn import functional as F

    w = rng.standard_normal((5, 4))
    if with_bias:
        check(lambda X, W, B: F.linear(X, W, B), lambda X, W, B: X @ W.T + B, [rng.standard_normal(xshape), w,
                                                                             rng.standard_normal(5)])
    else:
        check(lambda X, W: F.linear(X, W), lambda X, W: X @ W.T, [rng.standard_normal(xshape), w])


def test_fused_linear_strided_operands_and_one_node(rng):
    from ferrograd.nn import functional as F

    # Transposed (non-contiguous) input and weight views, and only some inputs requiring grad.
    check(lambda X, W, B: F.linear(X.T, W.T, B), lambda X, W, B: X.T @ W + B,
          [rng.standard_normal((4, 3)), rng.standard_normal((4, 5)), rng.standard_normal(5)], grad=[False, True, True])
    x = fg.tensor(rng.standard_normal((2, 4)).astype(np.float32))
    w = fg.tensor(rng.standard_normal((3, 4)).astype(np.float32), requires_grad=True)
    y = F.linear(x, w, fg.zeros(3))
    assert y.grad_fn == "LinearBackward"


def test_fused_linear_large_threaded_matches_numpy(rng):
    # Large enough for the two-thread GEMM split (rows and columns) and the pooled output buffers.
    from ferrograd.nn import functional as F

    for m, k, n in [(300, 70, 257), (37, 91, 333)]:
        x = rng.standard_normal((m, k)).astype(np.float32)
        w = rng.standard_normal((n, k)).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        want = x.astype(np.float64) @ w.T.astype(np.float64) + b
        for _ in range(3):  # reused (stale) buffers must be fully overwritten
            got = F.linear(fg.tensor(x), fg.tensor(w), fg.tensor(b)).numpy()
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-3)
        got = (fg.tensor(x) @ fg.tensor(w).T).numpy()
        np.testing.assert_allclose(got, want - b, rtol=1e-4, atol=1e-3)


def test_fused_linear_rejects_bad_shapes():
    from ferrograd.nn import functional as F

    with pytest.raises(ValueError, match="linear"):
        F.linear(fg.zeros(2, 3), fg.zeros(4, 5))
    with pytest.raises(ValueError, match="bias"):
        F.linear(fg.zeros(2, 3), fg.zeros(4, 3), fg.zeros(5))
