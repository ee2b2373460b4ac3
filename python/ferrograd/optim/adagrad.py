"""AdaGrad (Duchi, Hazan & Singer, 2011)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.optim.optimizer import Optimizer, ParamsT, check_flag, check_nonneg


class Adagrad(Optimizer):
    r"""AdaGrad, as torch.optim.Adagrad::

        g ← ∇f(θ)  (−∇f(θ) with maximize)
        γ̃ ← γ/(1 + (t−1)·η)       (lr_decay η)
        g ← g + λθ
        s ← s + g²                 (s starts at initial_accumulator_value)
        θ ← θ − γ̃·g/(√s + ε)

    The Adam paper writes AdaGrad as θ −= α·g/√(Σg² + ε); torch adds ε after the root, and so
    do we.

    Args:
        params: tensors to optimize, or dicts defining parameter groups.
        lr: learning rate γ (default 1e-2).
        lr_decay: η, step t uses γ/(1 + (t−1)η) (default 0).
        weight_decay: L2 penalty λ added to the gradient (default 0).
        initial_accumulator_value: starting value of s (default 0).
        eps: ε added to √s (default 1e-10).
        maximize: ascend the objective instead of descending it.
        max_norm: if set, the max-norm constraint applied after each step (see ``Optimizer``).

    State per parameter: ``step``, ``sum`` (s).
    """

    _kind = "adagrad"

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
        max_norm: Optional[float] = None,
    ) -> None:
        defaults = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, eps=eps,
                        maximize=maximize, max_norm=max_norm)
        super().__init__(params, defaults)

    def _validate_group(self, group: Dict[str, Any]) -> None:
        super()._validate_group(group)
        check_nonneg("Adagrad", "lr_decay", group["lr_decay"])
        check_nonneg("Adagrad", "weight_decay", group["weight_decay"])
        check_nonneg("Adagrad", "initial_accumulator_value", group["initial_accumulator_value"])
        check_nonneg("Adagrad", "epsilon eps", group["eps"])
        check_flag("Adagrad", "maximize", group["maximize"])

    def _state_names(self, group: Dict[str, Any]) -> List[str]:
        return ["sum"]

    def _init_state(self, group: Dict[str, Any], p: Tensor, name: str) -> Tensor:
        return _core.full(list(p.shape), float(group["initial_accumulator_value"])).to(p.device)
