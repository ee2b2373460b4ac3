"""Bad calls of every op raise a clear Python exception naming the op and the shapes — never a
Rust panic (which would surface as pyo3's PanicException, a BaseException)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn.functional as F

A = fg.ones(2, 3)
B = fg.ones(4, 5)

BAD_CALLS = [
    ("add", lambda: A + B, ValueError, r"add: shapes \[2, 3\] and \[4, 5\]"),
    ("sub", lambda: A - B, ValueError, "sub"),
    ("mul", lambda: A * B, ValueError, "mul"),
    ("div", lambda: A / B, ValueError, "div"),
    ("pow", lambda: A ** B, ValueError, "pow"),
    ("maximum", lambda: fg.maximum(A, B), ValueError, "maximum"),
    ("minimum", lambda: fg.minimum(A, B), ValueError, "minimum"),
    ("eq", lambda: A == B, ValueError, "eq"),
    ("lt", lambda: A < B, ValueError, "lt"),
    ("where", lambda: fg.where(A, A, B), ValueError, "where"),
    ("matmul", lambda: A @ A, ValueError, r"matmul: shapes \[2, 3\] and \[2, 3\]"),
    ("matmul0d", lambda: fg.tensor(1.0) @ A, ValueError, "at least 1 dimension"),
    ("matmul_batch", lambda: fg.ones(2, 3, 4) @ fg.ones(3, 4, 5), ValueError, "matmul"),
    ("sum_dim", lambda: A.sum(dim=2), ValueError, "sum: dim 2 is out of range"),
    ("sum_dup", lambda: A.sum(dim=(0, 0)), ValueError, "more than once"),
    ("sum_type", lambda: A.sum(dim="x"), TypeError, "dim"),
    ("mean_dim", lambda: A.mean(dim=-3), ValueError, "mean"),
    ("var_dim", lambda: A.var(dim=5), ValueError, "var"),
    ("max_dim", lambda: A.max(dim=3), ValueError, "max"),
    ("max_empty", lambda: fg.zeros(0).max(), ValueError, "empty"),
    ("argmax_empty", lambda: fg.zeros(0).argmax(), ValueError, "argmax"),
    ("argmax_dim", lambda: A.argmax(dim=4), ValueError, "argmax"),
    ("reshape", lambda: A.reshape(4, 2), ValueError, r"reshape: shape \[4, 2\] is invalid for input of shape \[2, 3\]"),
    ("reshape_two_infer", lambda: A.reshape(-1, -1), ValueError, "only one dimension"),
    ("reshape_type", lambda: A.reshape(2.0, 3), TypeError, "ints"),
    ("view_noncontig", lambda: A.T.view(6), RuntimeError, "reshape"),
    ("permute_len", lambda: A.permute(0), ValueError, "permute"),
    ("permute_dup", lambda: A.permute(0, 0), ValueError, "permute"),
    ("transpose", lambda: A.transpose(0, 2), ValueError, "transpose"),
    ("expand", lambda: A.expand(4, 3), ValueError, "expand"),
    ("expand_neg", lambda: A.expand(-2, 3), ValueError, "expand"),
    ("unsqueeze", lambda: A.unsqueeze(4), ValueError, "unsqueeze"),
    ("squeeze", lambda: A.squeeze(3), ValueError, "squeeze"),
    ("flatten", lambda: A.flatten(1, 0), ValueError, "flatten"),
    ("cat_empty", lambda: fg.cat([]), ValueError, "cat"),
    ("cat_shape", lambda: fg.cat([A, B]), ValueError, r"cat: tensor 1 has shape \[4, 5\]"),
    ("cat_type", lambda: fg.cat([A, 1]), TypeError, "cat"),
    ("stack_shape", lambda: fg.stack([A, B]), ValueError, "stack"),
    ("index_int", lambda: A[5], IndexError, "out of bounds"),
    ("index_too_many", lambda: A[0, 0, 0], IndexError, "too many"),
    ("index_array", lambda: A[[0, 7]], IndexError, "out of bounds"),
    ("index_float_array", lambda: A[np.array([0.5])], TypeError, "integers"),
    ("index_bool", lambda: A[np.array([True, False])], TypeError, "boolean"),
    ("index_step", lambda: A[::-1], ValueError, "step"),
    ("softmax", lambda: A.softmax(dim=2), ValueError, "softmax"),
    ("log_softmax", lambda: A.log_softmax(dim=-3), ValueError, "log_softmax"),
    ("clamp", lambda: A.clamp(), ValueError, "clamp"),
    ("ce_shape", lambda: F.cross_entropy(fg.ones(2, 3, 4, 5), [0, 1]), ValueError, "cross_entropy"),
    ("ce_len", lambda: F.cross_entropy(A, [0, 1, 2]), ValueError, "expected 2 targets"),
    ("ce_class", lambda: F.cross_entropy(A, [0, 3]), ValueError, "out of bounds for 3 classes"),
    ("ce_float_labels", lambda: F.cross_entropy(A, np.array([0.5, 1.0])), ValueError, "integers"),
    ("ce_reduction", lambda: F.cross_entropy(A, [0, 1], reduction="avg"), ValueError, "reduction"),
    ("ce_smoothing", lambda: F.cross_entropy(A, [0, 1], label_smoothing=2.0), ValueError, "label_smoothing"),
    ("ce_input_type", lambda: F.cross_entropy(np.ones((2, 3)), [0, 1]), TypeError, "Tensor"),
    ("nll_class", lambda: F.nll_loss(A, [0, -2]), ValueError, "nll_loss"),
    ("mse_shape", lambda: F.mse_loss(A, B), ValueError, "mse_loss"),
    ("bce_shape", lambda: F.binary_cross_entropy_with_logits(A, B), ValueError, "binary_cross_entropy"),
    ("tensor_type", lambda: fg.tensor("abc"), TypeError, "tensor"),
    ("tensor_ragged", lambda: fg.tensor([[1, 2], [3]]), TypeError, "tensor"),
    ("zeros_neg", lambda: fg.zeros(-1), ValueError, "negative"),
    ("zeros_type", lambda: fg.zeros(2.5), TypeError, "ints"),
    ("arange_step", lambda: fg.arange(0, 1, 0), ValueError, "arange"),
    ("linspace", lambda: fg.linspace(0, 1, -1), ValueError, "linspace"),
    ("from_numpy", lambda: fg.from_numpy([1, 2]), TypeError, "numpy"),
    ("device", lambda: A.to("tpu"), ValueError, "unknown device"),
    ("normal_std", lambda: fg.zeros(2).normal_(0, -1), ValueError, "std"),
    ("grad_shape", lambda: setattr(fg.zeros(2, requires_grad=True), "grad", fg.zeros(3)), ValueError, "grad"),
    ("len_0d", lambda: len(fg.tensor(1.0)), TypeError, "0-d"),
    ("inplace_shape", lambda: A.add_(B), ValueError, "add"),
    ("pow_modulo", lambda: pow(A, 2, 3), TypeError, "modulo"),
]


@pytest.mark.parametrize("name,call,exc,pattern", BAD_CALLS, ids=[c[0] for c in BAD_CALLS])
def test_bad_call_raises_clear_error(name, call, exc, pattern):
    try:
        call()
    except BaseException as e:  # noqa: BLE001 — we want to see panics too
        assert type(e).__name__ != "PanicException", f"{name}: a Rust panic reached Python: {e}"
        assert isinstance(e, exc), f"{name}: expected {exc.__name__}, got {type(e).__name__}: {e}"
        import re

        assert re.search(pattern, str(e)), f"{name}: message {str(e)!r} does not match {pattern!r}"
    else:
        pytest.fail(f"{name}: no exception raised")


def test_internal_errors_surface_as_runtime_error_not_panic():
    """Even a failure we did not foresee must arrive as an ordinary exception."""
    x = fg.ones(2, requires_grad=True)
    y = (x * 2).sum()
    y.backward()
    with pytest.raises(RuntimeError):
        y.backward()
