"""Stochastic gradient descent, optionally with (Nesterov) momentum."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ferrograd._core import Tensor
from ferrograd.optim.optimizer import Optimizer, ParamsT, check_flag, check_nonneg, _number


class SGD(Optimizer):
    r"""Stochastic gradient descent with optional momentum, as torch.optim.SGD::

        g ← ∇f(θ)                 (−∇f(θ) with maximize)
        g ← g + λθ                (weight_decay λ)
        b ← g on the first step, else μ·b + (1−τ)·g
        g ← g + μ·b (nesterov)    or   g ← b
        θ ← θ − γ·g

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 1e-3, torch's current default).
        momentum: momentum factor μ (default 0: no momentum and no state).
        dampening: dampening τ of the gradient added to the momentum buffer (default 0).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        nesterov: use Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend the objective instead of descending it. torch's pseudo-code adds γ·g
            at the end; like torch's implementation, we negate the gradient first instead, so
            weight decay still shrinks the weights (identical when weight_decay = 0).
        max_norm: if set, the max-norm constraint applied after each step (see ``Optimizer``).

    State per parameter: ``momentum_buffer`` (only with momentum ≠ 0). No step count is kept.
    The Adam paper's "SGD with Nesterov momentum" is ``SGD(..., momentum=0.9, nesterov=True)``.
    """

    _kind = "sgd"
    _counts_steps = False

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        max_norm: Optional[float] = None,
    ) -> None:
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, max_norm=max_norm)
        super().__init__(params, defaults)

    def _validate_group(self, group: Dict[str, Any]) -> None:
        super()._validate_group(group)
        check_nonneg("SGD", "momentum", group["momentum"])
        check_nonneg("SGD", "weight_decay", group["weight_decay"])
        _number("SGD", "dampening", group["dampening"])
        check_flag("SGD", "nesterov", group["nesterov"])
        check_flag("SGD", "maximize", group["maximize"])
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(
                f"SGD: nesterov momentum requires momentum > 0 and dampening = 0, "
                f"got momentum={group['momentum']!r} dampening={group['dampening']!r}"
            )

    def _state_names(self, group: Dict[str, Any]) -> List[str]:
        return ["momentum_buffer"] if group["momentum"] != 0 else []

    def _next_step(self, state: Optional[Dict[str, Any]], fresh: Dict[str, Tensor]) -> int:
        # The Rust rule only needs to know whether the momentum buffer is new (step 1: the
        # buffer starts as the gradient itself, as in torch) or not.
        return 1 if "momentum_buffer" in fresh else 2
