"""Run one function on the CPU and on wgpu from the same inputs; compare outputs and gradients.

The CPU kernels are checked against numpy and finite differences elsewhere
(tests/test_ops_forward_grad.py), so agreement here within float32 tolerance checks the GPU
kernels and that autograd runs the same rules on both devices.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

import ferrograd as fg


def same_on_gpu(fn: Callable, inputs: Sequence[np.ndarray], grad: Sequence[bool] | None = None,
                rtol: float = 1e-4, atol: float = 1e-5, seed: int = 0) -> None:
    grad = [True] * len(inputs) if grad is None else list(grad)
    arrays = [np.asarray(x, dtype=np.float32) for x in inputs]
    cpu = [fg.tensor(a, requires_grad=g) for a, g in zip(arrays, grad)]
    gpu = [fg.tensor(a, requires_grad=g, device="wgpu") for a, g in zip(arrays, grad)]
    assert all(t.device == "wgpu" for t in gpu)
    out_c, out_g = fn(*cpu), fn(*gpu)
    assert out_g.device == "wgpu", "the result left the GPU"
    assert out_g.shape == out_c.shape
    np.testing.assert_allclose(out_g.numpy(), out_c.numpy(), rtol=rtol, atol=atol, err_msg="forward: wgpu differs from cpu")
    if not any(grad) or not out_c.requires_grad:
        return
    G = np.random.default_rng(seed).standard_normal(out_c.shape).astype(np.float32)
    (out_c * fg.tensor(G)).sum().backward()
    (out_g * fg.tensor(G, device="wgpu")).sum().backward()
    for i, g in enumerate(grad):
        if not g:
            continue
        assert gpu[i].grad is not None, f"input {i}: no gradient on wgpu"
        assert gpu[i].grad.device == "wgpu"
        np.testing.assert_allclose(gpu[i].grad.numpy(), cpu[i].grad.numpy(), rtol=rtol * 10, atol=atol * 10,
                                   err_msg=f"gradient of input {i}: wgpu differs from cpu")
