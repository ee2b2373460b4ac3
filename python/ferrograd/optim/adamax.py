"""AdaMax: Adam with the infinity norm (Kingma & Ba, 2015, §7.1)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ferrograd.optim.optimizer import Optimizer, ParamsT, check_betas, check_flag, check_nonneg


class Adamax(Optimizer):
    r"""AdaMax, as torch.optim.Adamax::

        g ← ∇f(θ)  (−∇f(θ) with maximize) ;  g ← g + λθ
        m ← β1·m + (1−β1)·g
        u ← max(β2·u, |g| + ε)
        θ ← θ − γ·m/((1−β1^t)·u)

    The paper has no ε (u ← max(β2·u, |g|)); torch adds it inside the max, and so do we. Each
    step's magnitude is bounded by about γ (the paper's |Δ| ≤ α).

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 2e-3, the paper's α).
        betas: (β1, β2), each in [0, 1) (default (0.9, 0.999)).
        eps: ε added to |g| inside the max (default 1e-8).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        maximize: ascend the objective instead of descending it.
        max_norm: if set, the max-norm constraint applied after each step (see ``Optimizer``).

    State per parameter: ``step``, ``exp_avg`` (m), ``exp_inf`` (u).
    """

    _kind = "adamax"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 2e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
        max_norm: Optional[float] = None,
    ) -> None:
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, eps=eps,
                        weight_decay=weight_decay, maximize=maximize, max_norm=max_norm)
        super().__init__(params, defaults)

    def _validate_group(self, group: Dict[str, Any]) -> None:
        super()._validate_group(group)
        check_nonneg("Adamax", "epsilon eps", group["eps"])
        check_betas("Adamax", group["betas"])
        check_nonneg("Adamax", "weight_decay", group["weight_decay"])
        check_flag("Adamax", "maximize", group["maximize"])

    def _state_names(self, group: Dict[str, Any]) -> List[str]:
        return ["exp_avg", "exp_inf"]
