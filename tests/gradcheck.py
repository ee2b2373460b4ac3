"""Forward-against-numpy and gradient-against-finite-differences checks.

``check(fg_fn, np_fn, inputs)``: ``fg_fn`` takes ferrograd tensors, ``np_fn`` the same
arguments as float64 numpy arrays. The forward must match numpy; the gradient of
sum(output · G) for a random G must match central differences of the numpy function in
float64 (so the reference is exact up to O(h²), independent of ferrograd).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

import ferrograd as fg


def check(fg_fn: Callable, np_fn: Callable, inputs: Sequence[np.ndarray], grad: Sequence[bool] | None = None,
          rtol: float = 1e-4, atol: float = 1e-5, grad_rtol: float = 2e-3, grad_atol: float = 2e-3,
          h: float = 1e-6, seed: int = 0) -> None:
    inputs = [np.asarray(x, dtype=np.float64) for x in inputs]
    grad = [True] * len(inputs) if grad is None else list(grad)
    tensors = [fg.tensor(x.astype(np.float32), requires_grad=g) for x, g in zip(inputs, grad)]
    out = fg_fn(*tensors)
    # The reference sees the float32-rounded inputs ferrograd saw.
    ref_inputs = [x.astype(np.float32).astype(np.float64) for x in inputs]
    ref = np.asarray(np_fn(*ref_inputs), dtype=np.float64)
    got = out.numpy()
    assert got.shape == ref.shape, f"forward shape {got.shape} != numpy {ref.shape}"
    np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg="forward differs from numpy")
    if not any(grad):
        return
    G = np.random.default_rng(seed).standard_normal(ref.shape)
    (out * fg.tensor(G.astype(np.float32))).sum().backward()
    for i, (x, g) in enumerate(zip(ref_inputs, grad)):
        if not g:
            assert tensors[i].grad is None
            continue
        num = np.zeros_like(x)
        flat = x.reshape(-1)
        for j in range(flat.size):
            old = flat[j]
            flat[j] = old + h
            fp = np.sum(np.asarray(np_fn(*ref_inputs)) * G)
            flat[j] = old - h
            fm = np.sum(np.asarray(np_fn(*ref_inputs)) * G)
            flat[j] = old
            num.reshape(-1)[j] = (fp - fm) / (2 * h)
        assert tensors[i].grad is not None, f"input {i} got no gradient"
        ana = tensors[i].grad.numpy()
        assert ana.shape == x.shape
        scale = max(1.0, float(np.abs(num).max()))
        np.testing.assert_allclose(ana, num, rtol=grad_rtol, atol=grad_atol * scale,
                                   err_msg=f"gradient of input {i} differs from finite differences")
