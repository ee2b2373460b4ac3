"""The Tensor object: creation, conversion, properties, repr, numpy interop."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg


def test_creation_functions():
    assert fg.zeros(2, 3).shape == (2, 3) and fg.zeros((2, 3)).numpy().sum() == 0
    assert fg.ones([4]).tolist() == [1, 1, 1, 1]
    assert fg.full((2,), 7.5).tolist() == [7.5, 7.5]
    np.testing.assert_allclose(fg.arange(5).numpy(), np.arange(5))
    np.testing.assert_allclose(fg.arange(1, 2, 0.25).numpy(), np.arange(1, 2, 0.25))
    np.testing.assert_allclose(fg.arange(5, 0, -2).numpy(), np.arange(5, 0, -2))
    np.testing.assert_allclose(fg.linspace(0, 1, 5).numpy(), np.linspace(0, 1, 5))
    np.testing.assert_array_equal(fg.eye(3).numpy(), np.eye(3))
    np.testing.assert_array_equal(fg.eye(2, 3).numpy(), np.eye(2, 3))
    z = fg.zeros_like(fg.ones(2, 2), requires_grad=True)
    assert z.requires_grad and z.shape == (2, 2)
    assert fg.ones_like(z).tolist() == [[1, 1], [1, 1]]
    assert fg.full_like(z, 3).numpy().sum() == 12
    assert fg.rand_like(z).shape == (2, 2) and fg.randn(0).shape == (0,)


def test_tensor_from_lists_arrays_and_scalars():
    t = fg.tensor([[1, 2], [3, 4]])
    assert t.shape == (2, 2) and t.dtype == "float32" and t.ndim == 2 and len(t) == 2
    assert fg.tensor(3.5).shape == () and fg.tensor(3.5).item() == 3.5
    assert fg.tensor(np.array(2.0)).shape == ()
    a = np.arange(6, dtype=np.float64).reshape(2, 3)
    f = fg.from_numpy(a)
    np.testing.assert_array_equal(f.numpy(), a.astype(np.float32))
    # Non-contiguous arrays convert correctly.
    np.testing.assert_array_equal(fg.tensor(a.T).numpy(), a.T)
    assert fg.tensor(np.array([True, False])).tolist() == [1.0, 0.0]
    assert fg.tensor(np.arange(3, dtype=np.int64)).tolist() == [0.0, 1.0, 2.0]


def test_properties_and_conversions():
    t = fg.tensor([[1.0, 2.0, 3.0]])
    assert t.numel() == 3 and t.dim() == 2 and t.size() == (1, 3) and t.size(1) == 3 and t.size(-1) == 3
    assert t.device == "cpu"
    assert isinstance(t.numpy(), np.ndarray) and t.numpy().dtype == np.float32
    assert np.asarray(t).shape == (1, 3)
    assert t.tolist() == [[1.0, 2.0, 3.0]]
    assert float(fg.tensor([2.5])) == 2.5 and int(fg.tensor(3.0)) == 3
    assert bool(fg.tensor(1.0)) and not bool(fg.tensor(0.0))
    with pytest.raises(ValueError, match="ambiguous"):
        bool(t)
    with pytest.raises(ValueError, match="one element"):
        t.item()
    assert t.to("cpu") is t and t.float() is t
    assert [r.tolist() for r in fg.tensor([[1.0], [2.0]])] == [[1.0], [2.0]]


def test_repr():
    r = repr(fg.tensor([[1.0, 2.5], [3.0, 4.0]]))
    assert r.startswith("tensor([[1., 2.5000]") and "4." in r
    assert "requires_grad=True" in repr(fg.ones(2, requires_grad=True))
    assert "grad_fn=<MulBackward>" in repr(fg.ones(2, requires_grad=True) * 2)
    assert "shape=[2000]" in repr(fg.zeros(2000))


def test_tensor_is_hashable_and_usable_as_dict_key():
    a, b = fg.zeros(1), fg.zeros(1)
    d = {a: 1, b: 2}
    assert d[a] == 1 and d[b] == 2


def test_numpy_returns_a_copy():
    t = fg.zeros(3)
    a = t.numpy()
    a[0] = 9.0
    assert t.tolist() == [0.0, 0.0, 0.0]


def test_dtype_argument():
    assert fg.zeros(2, dtype=np.float32).shape == (2,)
    with pytest.raises(TypeError, match="float32"):
        fg.zeros(2, dtype=np.int64)
