"""RMSprop (Tieleman & Hinton, 2012)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ferrograd.optim.optimizer import Optimizer, ParamsT, check_flag, check_nonneg


class RMSprop(Optimizer):
    r"""RMSprop, as torch.optim.RMSprop::

        g ← ∇f(θ)  (−∇f(θ) with maximize) ;  g ← g + λθ
        v ← α·v + (1−α)·g²
        centered: g_avg ← α·g_avg + (1−α)·g ;  ṽ ← v − g_avg²     else ṽ ← v
        momentum μ > 0: b ← μ·b + g/(√ṽ + ε) ;  θ ← θ − γ·b
        else            θ ← θ − γ·g/(√ṽ + ε)

    The Adam paper's RMSProp is the plain form (v = ρv + (1−ρ)g², θ −= α·g/(√v + ε)), with
    ρ = alpha. One deviation from torch: in the centered form, a ṽ pushed slightly below 0 by
    float rounding is taken as 0, where torch would produce NaN.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 1e-2).
        alpha: smoothing constant α of the squared-gradient average (default 0.99).
        eps: ε added to the root (default 1e-8).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        momentum: momentum factor μ (default 0).
        centered: normalise by an estimate of the gradient's variance (default False).
        maximize: ascend the objective instead of descending it.
        max_norm: if set, the max-norm constraint applied after each step (see ``Optimizer``).

    State per parameter: ``step``, ``square_avg`` (v), ``momentum_buffer`` (with momentum > 0),
    ``grad_avg`` (centered).
    """

    _kind = "rmsprop"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
        max_norm: Optional[float] = None,
    ) -> None:
        defaults = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                        centered=centered, maximize=maximize, max_norm=max_norm)
        super().__init__(params, defaults)

    def _validate_group(self, group: Dict[str, Any]) -> None:
        super()._validate_group(group)
        check_nonneg("RMSprop", "alpha", group["alpha"])
        check_nonneg("RMSprop", "epsilon eps", group["eps"])
        check_nonneg("RMSprop", "weight_decay", group["weight_decay"])
        check_nonneg("RMSprop", "momentum", group["momentum"])
        check_flag("RMSprop", "centered", group["centered"])
        check_flag("RMSprop", "maximize", group["maximize"])

    def _state_names(self, group: Dict[str, Any]) -> List[str]:
        names = ["square_avg"]
        if group["momentum"] > 0:
            names.append("momentum_buffer")
        if group["centered"]:
            names.append("grad_avg")
        return names
