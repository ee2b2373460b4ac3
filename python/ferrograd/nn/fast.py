"""The one-call path of ``Sequential``: a ``_core.SequentialPlan`` built from the modules.

When every module of a ``Sequential`` is one of the built-in layers below (exact types, so a
subclass with its own ``forward`` keeps the layer-by-layer path), the whole forward runs in
Rust in one call, through the same ops the modules' ``forward`` would call, in the same order:
results, gradients, dropout masks and running statistics are identical; only the per-layer
Python overhead goes. ``fit`` uses the plan's ``forward_loss`` for a training step in one call.

The plan shares the modules' parameter and buffer tensors. It is rebuilt whenever any module
attribute is assigned or a mode changes (``Module.__setattr__`` and ``train()`` bump
``STRUCTURE_VERSION``), so replacing a parameter, changing ``Dropout.p`` or calling
``eval()`` is always seen.
"""

from __future__ import annotations

from typing import Any, List, Optional

from ferrograd import _core

#: bumped by every Module attribute assignment and mode change (plans built earlier are stale)
STRUCTURE_VERSION = [0]


def _spec(m: Any) -> Optional[tuple]:
    from ferrograd.nn import activation as A
    from ferrograd.nn import batchnorm as B
    from ferrograd.nn import conv as C
    from ferrograd.nn import dropout as D
    from ferrograd.nn import functional as F
    from ferrograd.nn import linear as L
    from ferrograd.nn import pooling as P

    t = type(m)
    if t is L.Linear:
        return ("linear", m.weight, m.bias)
    if t is A.ReLU:
        return ("relu",)
    if t is A.Sigmoid:
        return ("sigmoid",)
    if t is A.Tanh:
        return ("tanh",)
    if t is A.LeakyReLU:
        return ("leaky_relu", float(m.negative_slope))
    if t is A.PReLU:
        return ("prelu", m.weight)
    if t is D.Dropout:
        return ("dropout", float(m.p), bool(m.training))
    if t in (B.BatchNorm1d, B.BatchNorm2d):
        track = m.running_mean is not None and m.running_var is not None
        if not m.training and not track:
            return None
        return ("batch_norm", t.__name__, list(t._expected_ndims), m.weight, m.bias,
                m.running_mean if track else None, m.running_var if track else None,
                m.num_batches_tracked if (track and m.track_running_stats) else None,
                m.momentum, float(m.eps), bool(m.training))
    if t is C.Conv2d:
        return ("conv2d", m.weight, m.bias, F._pair(m.stride, "stride", "conv2d"),
                F._pair(m.padding, "padding", "conv2d"), F._pair(m.dilation, "dilation", "conv2d"))
    if t is P.MaxPool2d:
        if m.return_indices:
            return None
        k = F._pair(m.kernel_size, "kernel_size", "max_pool2d")
        s = k if m.stride is None else F._pair(m.stride, "stride", "max_pool2d")
        return ("max_pool2d", k, s, F._pair(m.padding, "padding", "max_pool2d"),
                F._pair(m.dilation, "dilation", "max_pool2d"), bool(m.ceil_mode))
    if t is P.AvgPool2d:
        k = F._pair(m.kernel_size, "kernel_size", "avg_pool2d")
        s = k if m.stride is None else F._pair(m.stride, "stride", "avg_pool2d")
        return ("avg_pool2d", k, s, F._pair(m.padding, "padding", "avg_pool2d"), bool(m.ceil_mode),
                bool(m.count_include_pad))
    if t is L.Flatten:
        return ("flatten", int(m.start_dim), int(m.end_dim))
    if t is L.Identity:
        return ("identity",)
    return None


def build_plan(modules: List[Any]) -> Optional[Any]:
    """A ``SequentialPlan`` for ``modules``, or None when one of them is not a built-in layer
    (or its settings are invalid: the layer-by-layer path then raises the usual error)."""
    specs = []
    for m in modules:
        try:
            s = _spec(m)
        except (TypeError, ValueError):
            return None
        if s is None:
            return None
        specs.append(s)
    try:
        return _core.SequentialPlan(specs)
    except (TypeError, ValueError):
        return None
