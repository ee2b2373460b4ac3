"""Adam (Kingma & Ba, 2015), with AMSGrad, and AdamW (decoupled weight decay)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from ferrograd.optim.optimizer import Optimizer, ParamsT, check_betas, check_flag, check_nonneg


class Adam(Optimizer):
    r"""Adam, as torch.optim.Adam (Kingma & Ba, "Adam: a method for stochastic optimization")::

        g ← ∇f(θ)                 (−∇f(θ) with maximize)
        g ← g + λθ                (weight_decay λ; AdamW decays θ directly instead)
        m ← β1·m + (1−β1)·g ;  v ← β2·v + (1−β2)·g²
        m̂ ← m/(1−β1^t)
        amsgrad: v_max ← max(v_max, v) ; v̂ ← v_max/(1−β2^t)     else v̂ ← v/(1−β2^t)
        θ ← θ − γ·m̂/(√v̂ + ε)

    The bias corrections make the first step exactly γ·sign(g) (up to ε) whatever the scale of
    g; without them, with β2 close to 1, early steps are about 1/√(1−β2) times too large (the
    paper's §6.4 point). ε sits outside the root, after bias correction, as in torch and the
    paper's Algorithm 1. With amsgrad, the running maximum is kept of the uncorrected v (as
    torch does), then corrected.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate γ (α in the paper; default 1e-3). The paper's α/√t decay is
            ``lr_scheduler.LambdaLR(opt, lambda e: 1 / math.sqrt(e + 1))``.
        betas: (β1, β2), decay rates of the first and second moment averages, each in [0, 1)
            (default (0.9, 0.999)).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: L2 penalty λ added to the gradient (default 0). For decoupled decay use
            ``AdamW`` (or ``decoupled_weight_decay=True``).
        amsgrad: use AMSGrad's running maximum of v (Reddi et al., 2018).
        maximize: ascend the objective instead of descending it.
        decoupled_weight_decay: decay θ directly (θ ← θ − γλθ), which makes this AdamW.
        max_norm: if set, the max-norm constraint applied after each step (see ``Optimizer``).

    State per parameter: ``step`` (int), ``exp_avg`` (m), ``exp_avg_sq`` (v) and, with
    amsgrad, ``max_exp_avg_sq``.
    """

    _kind = "adam"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
        max_norm: Optional[float] = None,
    ) -> None:
        defaults = dict(lr=lr, betas=tuple(betas) if isinstance(betas, list) else betas, eps=eps,
                        weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        decoupled_weight_decay=decoupled_weight_decay, max_norm=max_norm)
        super().__init__(params, defaults)

    def _validate_group(self, group: Dict[str, Any]) -> None:
        name = type(self).__name__
        super()._validate_group(group)
        check_nonneg(name, "epsilon eps", group["eps"])
        check_betas(name, group["betas"])
        check_nonneg(name, "weight_decay", group["weight_decay"])
        for flag in ("amsgrad", "maximize", "decoupled_weight_decay"):
            check_flag(name, flag, group[flag])

    def _state_names(self, group: Dict[str, Any]) -> List[str]:
        if group["amsgrad"]:
            return ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
        return ["exp_avg", "exp_avg_sq"]


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, "Decoupled weight decay regularization"), as
    torch.optim.AdamW: Adam whose weight decay shrinks the weights directly,
    θ ← θ − γλθ, before the Adam update, instead of adding λθ to the gradient (so the decay is
    not rescaled by 1/√v̂).

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 1e-3).
        betas: (β1, β2), each in [0, 1) (default (0.9, 0.999)).
        eps: ε added to the denominator (default 1e-8).
        weight_decay: decoupled decay coefficient λ (default 1e-2).
        amsgrad: use AMSGrad's running maximum of v.
        maximize: ascend the objective instead of descending it.
        max_norm: if set, the max-norm constraint applied after each step (see ``Optimizer``).

    State per parameter: as ``Adam``.
    """

    _kind = "adamw"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: Tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        max_norm: Optional[float] = None,
    ) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize, decoupled_weight_decay=True, max_norm=max_norm)
