"""Learning-rate and momentum schedules, with torch.optim.lr_scheduler's names and arguments.

Call ``scheduler.step()`` once per epoch (or per iteration, as you define the unit), after
``optimizer.step()``. Every schedule is computed from its closed form in the epoch counter
``last_epoch`` and the group's base value, so it is exact after any number of steps, and
``state_dict()`` / ``load_state_dict()`` (plus the optimizer's own state dict, which holds the
current ``lr``) resume it exactly. Build the optimizer and scheduler first, then load both.

Warm-up then decay, chained::

    warm = LinearLR(opt, start_factor=0.1, total_iters=5)
    decay = CosineAnnealingLR(opt, T_max=95)
    sched = SequentialLR(opt, [warm, decay], milestones=[5])

The Adam paper's α_t = α/√t: ``LambdaLR(opt, lambda e: 1 / math.sqrt(e + 1))``.

The dropout paper's momentum ramp (0.5 to 0.99, then constant):
``LinearMomentum(opt, start_momentum=0.5, end_momentum=0.99, total_iters=500)``; it sets
``group["momentum"]`` (SGD, RMSprop) or ``group["betas"][0]`` (Adam, AdamW, Adamax).
"""

from __future__ import annotations

import bisect
import math
import numbers
from typing import Any, Callable, Dict, List, Sequence, Union

from ferrograd.optim.optimizer import Optimizer

__all__ = [
    "LRScheduler", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR", "LambdaLR",
    "LinearLR", "SequentialLR", "MomentumScheduler", "LambdaMomentum", "LinearMomentum",
]


def _positive_int(cls: str, name: str, v: Any) -> int:
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or v <= 0:
        raise ValueError(f"{cls}: {name} must be a positive int, got {v!r}")
    return int(v)


def _real(cls: str, name: str, v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
        raise TypeError(f"{cls}: {name} must be a finite number, got {v!r}")
    return float(v)


class _GroupScheduler:
    """Sets one value per parameter group from a closed form of the epoch counter.

    Subclasses name the group entry (``_get``/``_set``), where the base value is remembered
    (``_initial_key``) and the closed form (``_value(epoch, group_index, base)``).
    """

    _initial_key = ""
    optimizer: Optimizer
    last_epoch: int

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        cls = type(self).__name__
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{cls}: expected a ferrograd.optim.Optimizer, got {type(optimizer).__name__}")
        if isinstance(last_epoch, bool) or not isinstance(last_epoch, numbers.Integral) or last_epoch < -1:
            raise ValueError(f"{cls}: last_epoch must be an int >= -1, got {last_epoch!r}")
        self.optimizer = optimizer
        key = self._initial_key
        for i, group in enumerate(optimizer.param_groups):
            if last_epoch == -1:
                # The first scheduler on an optimizer fixes the base; later ones (e.g. the parts
                # of a SequentialLR) share it.
                group.setdefault(key, self._get(group))
            elif key not in group:
                raise KeyError(f"{cls}: param '{key}' is not specified in param_groups[{i}] when resuming (last_epoch={last_epoch})")
        self.base_values: List[float] = [g[key] for g in optimizer.param_groups]
        self.last_epoch = int(last_epoch)
        self._last_values: List[float] = []
        self.step()

    # -- subclass hooks --

    def _get(self, group: Dict[str, Any]) -> float:
        raise NotImplementedError

    def _set(self, group: Dict[str, Any], value: float) -> None:
        raise NotImplementedError

    def _value(self, epoch: int, i: int, base: float) -> float:
        raise NotImplementedError

    # -- public --

    def _values_at(self, epoch: int) -> List[float]:
        return [self._value(epoch, i, b) for i, b in enumerate(self.base_values)]

    def step(self, epoch: Union[int, None] = None) -> None:
        """Advances the epoch counter by one (or sets it to ``epoch``) and writes the scheduled
        value into every parameter group."""
        self.last_epoch = self.last_epoch + 1 if epoch is None else int(epoch)
        values = self._values_at(self.last_epoch)
        for group, v in zip(self.optimizer.param_groups, values):
            self._set(group, v)
        self._last_values = values

    def state_dict(self) -> Dict[str, Any]:
        """The scheduler's state (everything but the optimizer and any callables)."""
        return {k: v for k, v in self.__dict__.items() if k not in ("optimizer",) and not callable(v) and not k.endswith("_lambdas")}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restores what ``state_dict`` returned."""
        self.__dict__.update({k: v for k, v in state_dict.items() if k != "optimizer"})


# ---- learning rate ---------------------------------------------------------------------------


class LRScheduler(_GroupScheduler):
    """Base class of learning-rate schedules: sets ``group["lr"]`` to a function of the epoch
    counter and the group's base learning rate ``group["initial_lr"]`` (the lr when the first
    scheduler was attached).

    Args:
        optimizer: the optimizer whose groups' ``lr`` are scheduled.
        last_epoch: index of the last epoch when resuming (default -1: start from scratch).
    """

    _initial_key = "initial_lr"

    @property
    def base_lrs(self) -> List[float]:
        return self.base_values

    def _get(self, group: Dict[str, Any]) -> float:
        return group["lr"]

    def _set(self, group: Dict[str, Any], value: float) -> None:
        group["lr"] = value

    def get_lr(self) -> List[float]:
        """The learning rates the schedule gives at the current epoch."""
        return self._values_at(self.last_epoch)

    def get_last_lr(self) -> List[float]:
        """The learning rates last written into the optimizer, one per group."""
        return list(self._last_values)


class StepLR(LRScheduler):
    """lr = base · γ^⌊epoch / step_size⌋: decays by ``gamma`` every ``step_size`` epochs.

    Args:
        optimizer: the optimizer.
        step_size: period of the decay, in epochs (positive int).
        gamma: multiplicative factor of each decay (default 0.1).
        last_epoch: index of the last epoch when resuming (default -1).
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1) -> None:
        self.step_size = _positive_int("StepLR", "step_size", step_size)
        self.gamma = _real("StepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _value(self, epoch: int, i: int, base: float) -> float:
        return base * self.gamma ** (epoch // self.step_size)


class MultiStepLR(LRScheduler):
    """lr = base · γ^(number of milestones ≤ epoch): decays by ``gamma`` at each milestone.

    Args:
        optimizer: the optimizer.
        milestones: epochs at which to decay (ints; a repeated milestone decays twice).
        gamma: multiplicative factor of each decay (default 0.1).
        last_epoch: index of the last epoch when resuming (default -1).
    """

    def __init__(self, optimizer: Optimizer, milestones: Sequence[int], gamma: float = 0.1, last_epoch: int = -1) -> None:
        ms = list(milestones)
        for m in ms:
            if isinstance(m, bool) or not isinstance(m, numbers.Integral) or m < 0:
                raise ValueError(f"MultiStepLR: milestones must be non-negative ints, got {m!r}")
        self.milestones = sorted(int(m) for m in ms)
        self.gamma = _real("MultiStepLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _value(self, epoch: int, i: int, base: float) -> float:
        return base * self.gamma ** bisect.bisect_right(self.milestones, epoch)


class ExponentialLR(LRScheduler):
    """lr = base · γ^epoch.

    Args:
        optimizer: the optimizer.
        gamma: multiplicative factor per epoch.
        last_epoch: index of the last epoch when resuming (default -1).
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = _real("ExponentialLR", "gamma", gamma)
        super().__init__(optimizer, last_epoch)

    def _value(self, epoch: int, i: int, base: float) -> float:
        return base * self.gamma ** epoch


class CosineAnnealingLR(LRScheduler):
    """lr = η_min + (base − η_min)·(1 + cos(π·epoch/T_max))/2 (SGDR's schedule without
    restarts; torch's closed form, which keeps following the cosine past T_max).

    Args:
        optimizer: the optimizer.
        T_max: number of epochs of the half cosine (positive int).
        eta_min: the lowest learning rate (default 0).
        last_epoch: index of the last epoch when resuming (default -1).
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1) -> None:
        self.T_max = _positive_int("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = _real("CosineAnnealingLR", "eta_min", eta_min)
        super().__init__(optimizer, last_epoch)

    def _value(self, epoch: int, i: int, base: float) -> float:
        return self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * epoch / self.T_max)) / 2


class LambdaLR(LRScheduler):
    """lr = base · lr_lambda(epoch).

    Args:
        optimizer: the optimizer.
        lr_lambda: a function of the epoch (int) giving a multiplicative factor, or a list of
            such functions, one per parameter group. The Adam paper's α/√t is
            ``lambda e: 1 / math.sqrt(e + 1)``.
        last_epoch: index of the last epoch when resuming (default -1).

    The functions are not part of ``state_dict()``; recreate the scheduler with them, then load.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda: Union[Callable[[int], float], Sequence[Callable[[int], float]]],
                 last_epoch: int = -1) -> None:
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != n:
                raise ValueError(f"LambdaLR: expected {n} lr_lambdas (one per parameter group), got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * n
        for f in self.lr_lambdas:
            if not callable(f):
                raise TypeError(f"LambdaLR: lr_lambda must be callable, got {type(f).__name__}")
        super().__init__(optimizer, last_epoch)

    def _value(self, epoch: int, i: int, base: float) -> float:
        return base * float(self.lr_lambdas[i](epoch))


class LinearLR(LRScheduler):
    """lr = base · (start + (end − start)·min(epoch, total_iters)/total_iters): a linear
    warm-up (or decay) of the multiplicative factor from ``start_factor`` to ``end_factor`` over
    ``total_iters`` epochs, then constant.

    Args:
        optimizer: the optimizer.
        start_factor: factor at epoch 0, in (0, 1] (default 1/3).
        end_factor: factor from epoch ``total_iters`` on, in [0, 1] (default 1).
        total_iters: length of the ramp in epochs (positive int, default 5).
        last_epoch: index of the last epoch when resuming (default -1).
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1) -> None:
        s = _real("LinearLR", "start_factor", start_factor)
        e = _real("LinearLR", "end_factor", end_factor)
        if not 0 < s <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor!r}")
        if not 0 <= e <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor!r}")
        self.start_factor, self.end_factor = s, e
        self.total_iters = _positive_int("LinearLR", "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def _value(self, epoch: int, i: int, base: float) -> float:
        frac = min(epoch, self.total_iters) / self.total_iters
        return base * (self.start_factor + (self.end_factor - self.start_factor) * frac)


class SequentialLR(LRScheduler):
    """Runs ``schedulers`` one after another: ``schedulers[k]`` is in charge from
    ``milestones[k-1]`` on, restarted at its own epoch 0 (e.g. a LinearLR warm-up, then a
    CosineAnnealingLR decay).

    Args:
        optimizer: the optimizer every scheduler was built on.
        schedulers: the learning-rate schedulers, in order.
        milestones: the epochs at which control passes to the next scheduler (strictly
            increasing positive ints, one fewer than the schedulers).
        last_epoch: index of the last epoch when resuming (default -1).
    """

    def __init__(self, optimizer: Optimizer, schedulers: Sequence[LRScheduler], milestones: Sequence[int],
                 last_epoch: int = -1) -> None:
        scheds = list(schedulers)
        if not scheds:
            raise ValueError("SequentialLR: expected at least one scheduler")
        for k, s in enumerate(scheds):
            if not isinstance(s, LRScheduler):
                raise TypeError(f"SequentialLR: schedulers[{k}] is a {type(s).__name__}, not an LRScheduler")
            if s.optimizer is not optimizer:
                raise ValueError(f"SequentialLR: schedulers[{k}] was built on another optimizer than the one given")
        ms = [_positive_int("SequentialLR", "each milestone", m) for m in milestones]
        if len(ms) != len(scheds) - 1:
            raise ValueError(f"SequentialLR: expected {len(scheds) - 1} milestone(s) for {len(scheds)} schedulers, got {len(ms)}")
        if any(b <= a for a, b in zip(ms, ms[1:])):
            raise ValueError(f"SequentialLR: milestones must be strictly increasing, got {ms}")
        self._schedulers = scheds
        self._milestones = ms
        # Building each part already wrote its own epoch-0 value; start over from the first.
        super().__init__(optimizer, last_epoch)

    def _value(self, epoch: int, i: int, base: float) -> float:
        k = bisect.bisect_right(self._milestones, epoch)
        start = self._milestones[k - 1] if k else 0
        return self._schedulers[k]._value(epoch - start, i, self._schedulers[k].base_values[i])

    def step(self, epoch: Union[int, None] = None) -> None:
        super().step(epoch)
        # Keep the active part's own counter meaningful (its get_last_lr, its state).
        k = bisect.bisect_right(self._milestones, self.last_epoch)
        active = self._schedulers[k]
        active.last_epoch = self.last_epoch - (self._milestones[k - 1] if k else 0)
        active._last_values = list(self._last_values)

    def state_dict(self) -> Dict[str, Any]:
        sd = {k: v for k, v in super().state_dict().items() if k != "_schedulers"}
        sd["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return sd

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        parts = state_dict.get("_schedulers", [])
        if len(parts) != len(self._schedulers):
            raise ValueError(f"SequentialLR.load_state_dict: saved {len(parts)} schedulers, this one has {len(self._schedulers)}")
        super().load_state_dict({k: v for k, v in state_dict.items() if k != "_schedulers"})
        for s, p in zip(self._schedulers, parts):
            s.load_state_dict(p)


# ---- momentum ----------------------------------------------------------------------------------


class MomentumScheduler(_GroupScheduler):
    """Base class of momentum schedules: sets ``group["momentum"]`` (SGD, RMSprop) or the first
    beta ``group["betas"][0]`` (Adam, AdamW, Adamax, whose β1 plays the role of momentum) to a
    function of the epoch counter. The group's momentum when the first momentum scheduler was
    attached is kept in ``group["initial_momentum"]``.

    Args:
        optimizer: an optimizer whose groups have ``momentum`` or ``betas``.
        last_epoch: index of the last epoch when resuming (default -1).
    """

    _initial_key = "initial_momentum"

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if isinstance(optimizer, Optimizer):
            for i, g in enumerate(optimizer.param_groups):
                if "betas" not in g and "momentum" not in g:
                    raise ValueError(
                        f"{type(self).__name__}: parameter group {i} of {type(optimizer).__name__} has "
                        "neither 'momentum' nor 'betas' to schedule"
                    )
        super().__init__(optimizer, last_epoch)

    def _get(self, group: Dict[str, Any]) -> float:
        return group["betas"][0] if "betas" in group else group["momentum"]

    def _set(self, group: Dict[str, Any], value: float) -> None:
        if "betas" in group:
            group["betas"] = (value, group["betas"][1])
        else:
            group["momentum"] = value

    def get_last_momentum(self) -> List[float]:
        """The momentum values last written into the optimizer, one per group."""
        return list(self._last_values)


class LambdaMomentum(MomentumScheduler):
    """momentum = momentum_lambda(epoch) (an absolute value, not a factor).

    Args:
        optimizer: an optimizer whose groups have ``momentum`` or ``betas``.
        momentum_lambda: a function of the epoch (int) giving the momentum, or a list of such
            functions, one per parameter group.
        last_epoch: index of the last epoch when resuming (default -1).
    """

    def __init__(self, optimizer: Optimizer, momentum_lambda: Union[Callable[[int], float], Sequence[Callable[[int], float]]],
                 last_epoch: int = -1) -> None:
        n = len(optimizer.param_groups) if isinstance(optimizer, Optimizer) else 0
        if isinstance(momentum_lambda, (list, tuple)):
            if len(momentum_lambda) != n:
                raise ValueError(f"LambdaMomentum: expected {n} momentum_lambdas (one per group), got {len(momentum_lambda)}")
            self.momentum_lambdas = list(momentum_lambda)
        else:
            self.momentum_lambdas = [momentum_lambda] * n
        for f in self.momentum_lambdas:
            if not callable(f):
                raise TypeError(f"LambdaMomentum: momentum_lambda must be callable, got {type(f).__name__}")
        super().__init__(optimizer, last_epoch)

    def _value(self, epoch: int, i: int, base: float) -> float:
        return float(self.momentum_lambdas[i](epoch))


class LinearMomentum(MomentumScheduler):
    """momentum = start + (end − start)·min(epoch, total_iters)/total_iters: the dropout
    paper's ramp (Srivastava et al., 2014, and Hinton et al., 2012: momentum from 0.5 to 0.99 over the
    first epochs, then constant).

    Args:
        optimizer: an optimizer whose groups have ``momentum`` or ``betas``.
        start_momentum: momentum at epoch 0 (default 0.5).
        end_momentum: momentum from epoch ``total_iters`` on (default 0.99).
        total_iters: length of the ramp in epochs (positive int, default 500).
        last_epoch: index of the last epoch when resuming (default -1).
    """

    def __init__(self, optimizer: Optimizer, start_momentum: float = 0.5, end_momentum: float = 0.99,
                 total_iters: int = 500, last_epoch: int = -1) -> None:
        self.start_momentum = _real("LinearMomentum", "start_momentum", start_momentum)
        self.end_momentum = _real("LinearMomentum", "end_momentum", end_momentum)
        for name, v in (("start_momentum", self.start_momentum), ("end_momentum", self.end_momentum)):
            if not 0 <= v < 1:
                raise ValueError(f"LinearMomentum: {name} must be in [0, 1), got {v!r}")
        self.total_iters = _positive_int("LinearMomentum", "total_iters", total_iters)
        super().__init__(optimizer, last_epoch)

    def _value(self, epoch: int, i: int, base: float) -> float:
        frac = min(epoch, self.total_iters) / self.total_iters
        return self.start_momentum + (self.end_momentum - self.start_momentum) * frac
