"""AdaDelta (Zeiler, 2012)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ferrograd.optim.optimizer import Optimizer, ParamsT, check_flag, check_nonneg, check_unit


class Adadelta(Optimizer):
    r"""AdaDelta, as torch.optim.Adadelta::

        g ← ∇f(θ)  (−∇f(θ) with maximize) ;  g ← g + λθ
        v ← ρ·v + (1−ρ)·g²
        Δ ← √(u + ε)/√(v + ε) · g
        u ← ρ·u + (1−ρ)·Δ²
        θ ← θ − γ·Δ

    The paper (and the Adam paper's summary) has no learning rate: γ = 1, torch's default.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: coefficient γ that scales Δ (default 1.0).
        rho: decay rate ρ of both running averages, in [0, 1] (default 0.9).
        eps: ε inside both roots (default 1e-6).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        maximize: ascend the objective instead of descending it.
        max_norm: if set, the max-norm constraint applied after each step (see ``Optimizer``).

    State per parameter: ``step``, ``square_avg`` (v), ``acc_delta`` (u).
    """

    _kind = "adadelta"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        max_norm: Optional[float] = None,
    ) -> None:
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, max_norm=max_norm)
        super().__init__(params, defaults)

    def _validate_group(self, group: Dict[str, Any]) -> None:
        super()._validate_group(group)
        check_unit("Adadelta", "rho", group["rho"], closed=True)
        check_nonneg("Adadelta", "epsilon eps", group["eps"])
        check_nonneg("Adadelta", "weight_decay", group["weight_decay"])
        check_flag("Adadelta", "maximize", group["maximize"])

    def _state_names(self, group: Dict[str, Any]) -> List[str]:
        return ["square_avg", "acc_delta"]
