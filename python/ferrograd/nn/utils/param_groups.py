"""Optimizer parameter groups that exempt biases, BatchNorm and PReLU parameters from weight
decay (He et al. apply no decay to PReLU slopes; decaying BN scales or biases only hurts)."""

from __future__ import annotations

from typing import Any, Dict, List


def param_groups_without_decay(model: "Module", weight_decay: float) -> List[Dict[str, Any]]:  # noqa: F821
    """Two groups for an optimizer: weights of Linear/Conv layers with ``weight_decay``, and
    everything else (biases, BatchNorm weights and biases, PReLU slopes) with 0.

    >>> opt = optim.SGD(nn.utils.param_groups_without_decay(model, 5e-4), lr=0.1)
    """
    from ferrograd.nn.activation import PReLU
    from ferrograd.nn.batchnorm import _BatchNorm

    no_decay_ids = set()
    for m in model.modules():
        if isinstance(m, (_BatchNorm, PReLU)):
            no_decay_ids.update(id(p) for p in m.parameters(recurse=False))
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if id(p) in no_decay_ids or p.ndim < 2:
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]
