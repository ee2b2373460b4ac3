"""Autograd semantics: accumulation, graph freeing, no_grad, leaves, in-place safety."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg


def test_gradients_accumulate_in_leaves():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert x.grad.tolist() == [3.0 + 2.0, 3.0 + 4.0]


def test_shared_subexpression_gets_summed_gradient():
    x = fg.tensor([2.0], requires_grad=True)
    y = x * x
    z = y + y * x  # dz/dx = 2x + 3x² = 4 + 12
    z.sum().backward()
    assert x.grad.tolist() == [16.0]


def test_second_backward_needs_retain_graph():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="second time"):
        y.backward()
    z = (x.exp() * 2).sum()
    x.grad = None
    z.backward(retain_graph=True)
    z.backward()
    np.testing.assert_allclose(x.grad.numpy(), 4 * np.exp([1.0, 2.0]), rtol=1e-6)


def test_backward_with_gradient_argument_and_nonscalar_error():
    x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="scalar outputs"):
        y.backward()
    y.backward(fg.tensor([1.0, 0.0, -1.0]))
    assert x.grad.tolist() == [2.0, 0.0, -2.0]
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(fg.tensor([1.0, 2.0]))


def test_backward_on_tensor_without_grad_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        fg.tensor([1.0]).sum().backward()


def test_no_grad_context_and_decorator():
    x = fg.tensor([1.0], requires_grad=True)
    with fg.no_grad():
        y = x * 2
        assert not fg.is_grad_enabled()
        with fg.enable_grad():
            assert (x * 2).requires_grad
    assert fg.is_grad_enabled()
    assert not y.requires_grad and y.grad_fn is None

    @fg.no_grad()
    def f(t):
        return t * 3

    assert not f(x).requires_grad
    assert fg.is_grad_enabled()
    with fg.set_grad_enabled(False):
        assert not (x * 1).requires_grad
    assert fg.is_grad_enabled()


def test_no_grad_restores_mode_after_exception():
    with pytest.raises(KeyError):
        with fg.no_grad():
            raise KeyError("boom")
    assert fg.is_grad_enabled()


def test_leaf_flags_detach_and_requires_grad_():
    x = fg.randn(3)
    assert x.is_leaf and not x.requires_grad
    assert x.requires_grad_() is x and x.requires_grad
    y = x * 2
    assert not y.is_leaf and y.grad_fn == "MulBackward"
    d = y.detach()
    assert d.is_leaf and not d.requires_grad
    with pytest.raises(RuntimeError, match="leaf"):
        y.requires_grad = False


def test_inplace_on_leaf_requiring_grad_is_refused_then_allowed_under_no_grad():
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="in-place"):
        w -= 1.0
    with fg.no_grad():
        w -= fg.tensor([0.5, 0.5])
    assert w.tolist() == [0.5, 1.5] and w.requires_grad


def test_inplace_change_of_saved_tensor_is_detected():
    x = fg.tensor([1.0, 2.0], requires_grad=True)
    y = x * 1  # a non-leaf copy
    a = fg.tensor([3.0, 4.0])
    z = (y * a).sum()  # saves a
    a += 1.0
    with pytest.raises(RuntimeError, match="modified by an in-place"):
        z.backward()


def test_views_share_storage_and_writes_show_through():
    x = fg.zeros(3, 4)
    row = x[1]
    row.fill_(2.0)
    assert x.numpy()[1].tolist() == [2.0] * 4 and x.numpy()[0].sum() == 0
    x[2, 1:3] = 5.0
    assert x.numpy()[2].tolist() == [0.0, 5.0, 5.0, 0.0]
    with pytest.raises(RuntimeError, match="expanded"):
        fg.zeros(1, 4).expand(3, 4).fill_(1.0)


def test_deep_graph_does_not_overflow():
    x = fg.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(20000):
        y = y * 1.0
    y.sum().backward()
    assert x.grad.tolist() == [1.0]


def test_graph_is_freed_after_backward():
    """Saved tensors are released: the second backward reports the graph freed, and the
    op's inputs (held by the node) are gone, so memory does not pile up in training loops."""
    import gc
    import weakref

    x = fg.tensor(np.ones((100, 100)), requires_grad=True)
    y = (x * 2).exp().sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()
    del y
    gc.collect()
    assert x.grad is not None


def test_manual_seed_reproduces_every_random_op():
    fg.manual_seed(3)
    a = (fg.randn(4, 5).numpy(), fg.rand(7).numpy(), fg.randn_like(fg.zeros(2)).numpy(), fg.zeros(3).normal_().numpy())
    fg.manual_seed(3)
    b = (fg.randn(4, 5).numpy(), fg.rand(7).numpy(), fg.randn_like(fg.zeros(2)).numpy(), fg.zeros(3).normal_().numpy())
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    fg.manual_seed(4)
    assert not np.array_equal(fg.randn(4, 5).numpy(), a[0])


def test_random_moments():
    fg.manual_seed(0)
    n = fg.randn(200_000).numpy()
    u = fg.rand(200_000).numpy()
    assert abs(n.mean()) < 0.01 and abs(n.std() - 1) < 0.01
    assert 0 <= u.min() and u.max() < 1 and abs(u.mean() - 0.5) < 0.005
