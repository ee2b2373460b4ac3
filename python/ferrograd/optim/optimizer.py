"""The ``Optimizer`` base class: parameter groups, lazily created state, a fused Rust step per
group, ``zero_grad``, and ``state_dict`` / ``load_state_dict`` in torch's layout.

Subclasses (``SGD``, ``Adam``, ...) only declare their defaults, validate a group's
hyper-parameters and name their state buffers; the update itself runs in Rust
(``ferrograd._core.optim_step``), one call per parameter group, over all of the group's tensors
at once, with the GIL released for large groups.
"""

from __future__ import annotations

import numbers
from collections import defaultdict
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from ferrograd import _core
from ferrograd._core import Tensor
from ferrograd.grad_mode import enable_grad

ParamsT = Union[Iterable[Tensor], Iterable[Dict[str, Any]]]


# ---- hyper-parameter checks shared by the optimizers ------------------------------------------


def _number(opt: str, name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{opt}: {name} must be a number, got {type(value).__name__} ({value!r})")
    return float(value)


def check_nonneg(opt: str, name: str, value: Any) -> None:
    """ValueError unless ``value`` is a finite number >= 0 (TypeError if not a number)."""
    v = _number(opt, name, value)
    if not (v >= 0.0) or v == float("inf"):
        raise ValueError(f"{opt}: invalid {name}: {value!r} (expected a finite value >= 0)")


def check_unit(opt: str, name: str, value: Any, closed: bool = False) -> None:
    """ValueError unless 0 <= value < 1 (or <= 1 with ``closed``)."""
    v = _number(opt, name, value)
    ok = 0.0 <= v <= 1.0 if closed else 0.0 <= v < 1.0
    if not ok:
        raise ValueError(f"{opt}: invalid {name}: {value!r} (expected a value in {'[0, 1]' if closed else '[0, 1)'})")


def check_betas(opt: str, betas: Any) -> Tuple[float, float]:
    """The (beta1, beta2) pair, each in [0, 1)."""
    try:
        b1, b2 = betas
    except (TypeError, ValueError):
        raise TypeError(f"{opt}: betas must be a pair (beta1, beta2), got {betas!r}") from None
    check_unit(opt, "beta parameter at index 0 (betas[0])", b1)
    check_unit(opt, "beta parameter at index 1 (betas[1])", b2)
    return (float(b1), float(b2))


def check_flag(opt: str, name: str, value: Any) -> None:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{opt}: {name} must be a bool, got {type(value).__name__} ({value!r})")


def check_max_norm(opt: str, value: Any) -> None:
    if value is None:
        return
    v = _number(opt, "max_norm", value)
    if not v > 0.0:
        raise ValueError(f"{opt}: invalid max_norm: {value!r} (expected a value > 0, or None for no constraint)")


# ---- the base class ----------------------------------------------------------------------------


class Optimizer:
    """Base class of all optimizers (torch.optim.Optimizer's interface).

    Args:
        params: the tensors to optimize, as an iterable of Tensors, or an iterable of dicts
            (parameter groups), each with a ``"params"`` entry and optional per-group
            hyper-parameters that override ``defaults``.
        defaults: the hyper-parameters of every group that does not set its own.

    Attributes:
        param_groups: list of dicts, one per group: ``"params"`` (a list of Tensors) and the
            group's hyper-parameters. Schedulers and users may change the values between steps.
        state: dict from parameter (Tensor) to its state dict (e.g. ``{"step": 3, "exp_avg":
            Tensor, ...}``), filled on the parameter's first step (a defaultdict, as in torch).
            State tensors are ferrograd Tensors of the parameter's shape.

    Every group may also hold ``max_norm`` (a float, or None): after each step every tensor of
    that group with two or more dimensions is projected so that each slice ``w[i]`` (a unit's
    incoming weights: a row of a Linear weight (out, in), a filter of a conv weight
    (out, in, kh, kw)) has L2 norm at most ``max_norm`` (the max-norm constraint of the dropout
    paper, Srivastava et al. 2014, §5.1). 1-d tensors (biases) are never constrained.
    """

    #: name of the update rule in ``ferrograd._core.optim_step``
    _kind: str = ""
    #: whether ``state[p]["step"]`` counts the parameter's updates (SGD keeps no count)
    _counts_steps: bool = True

    def __init__(self, params: ParamsT, defaults: Dict[str, Any]) -> None:
        self.defaults: Dict[str, Any] = dict(defaults)
        # A defaultdict, as in torch: opt.state[p] is an empty dict before p's first step.
        self.state: Dict[Tensor, Dict[str, Any]] = defaultdict(dict)
        self.param_groups: List[Dict[str, Any]] = []
        name = type(self).__name__
        if isinstance(params, (Tensor, dict)):
            raise TypeError(
                f"{name}: params must be an iterable of Tensors or of dicts (parameter groups), "
                f"got a single {type(params).__name__}; wrap it in a list"
            )
        if isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: params must be an ordered iterable (a list), not a set: the order fixes state_dict indices")
        try:
            groups: List[Any] = list(params)
        except TypeError:
            raise TypeError(f"{name}: params must be an iterable of Tensors or dicts, got {type(params).__name__}") from None
        if not groups:
            raise ValueError(f"{name}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for g in groups:
            self.add_param_group(g)

    # -- subclass hooks --

    def _validate_group(self, group: Dict[str, Any]) -> None:
        """Raises ValueError/TypeError naming a bad hyper-parameter of ``group``."""
        check_nonneg(type(self).__name__, "learning rate lr", group["lr"])
        check_max_norm(type(self).__name__, group.get("max_norm"))

    def _state_names(self, group: Dict[str, Any]) -> List[str]:
        """The state tensors one parameter of ``group`` needs, in the Rust kernel's order."""
        raise NotImplementedError

    def _init_state(self, group: Dict[str, Any], p: Tensor, name: str) -> Tensor:
        """A fresh state tensor ``name`` for ``p`` (zeros unless a subclass says otherwise), on
        ``p``'s device."""
        return _core.full(list(p.shape), 0.0).to(p.device)

    # -- groups --

    def add_param_group(self, param_group: Dict[str, Any]) -> None:
        """Adds a group of parameters with its own hyper-parameters (missing ones are taken
        from ``defaults``). Useful to unfreeze layers while fine-tuning.

        Args:
            param_group: a dict with ``"params"`` (a Tensor or an iterable of Tensors) and
                optional hyper-parameters.
        """
        name = type(self).__name__
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise ValueError(f"{name}: a parameter group needs a 'params' entry, got keys {sorted(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, (set, frozenset)):
            raise TypeError(f"{name}: a group's params must be an ordered iterable (a list), not a set")
        else:
            params = list(params)
        seen = set()
        for i, p in enumerate(params):
            if not isinstance(p, Tensor):
                raise TypeError(f"{name}: can only optimize Tensors, but parameter {i} of the group is a {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"{name}: parameter {i} of the group (shape {tuple(p.shape)}) does not require grad; optimizers update tensors with requires_grad=True")
            if not p.is_leaf:
                raise ValueError(f"{name}: parameter {i} of the group (shape {tuple(p.shape)}) is not a leaf tensor; optimize leaves (parameters), not results of ops")
            if id(p) in seen:
                raise ValueError(f"{name}: parameter {i} of the group (shape {tuple(p.shape)}) appears twice in the group")
            seen.add(id(p))
        for g_index, g in enumerate(self.param_groups):
            if any(id(q) in seen for q in g["params"]):
                raise ValueError(f"{name}: some parameters appear in more than one parameter group (already in group {g_index})")
        group = dict(param_group)
        group["params"] = params
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._validate_group(group)
        self.param_groups.append(group)

    # -- stepping --

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the gradients of every parameter.

        Args:
            set_to_none: set ``.grad`` to None (the default: saves memory, and a parameter with no
                gradient is skipped by ``step``); with False, zero the gradient tensors in place.
        """
        for group in self.param_groups:
            _core.zero_grad_(group["params"], bool(set_to_none))

    def step(self, closure: Optional[Callable[[], Any]] = None) -> Any:
        """Performs one optimization step on every parameter that has a gradient (parameters
        whose ``.grad`` is None are skipped, and their step count does not advance).

        Args:
            closure: optional callable that re-evaluates the model and returns the loss (it
                usually calls ``zero_grad`` and ``backward``). It runs with grad mode enabled,
                before the update. Needed by no optimizer here; accepted for torch parity.

        Returns:
            the closure's return value, or None.
        """
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        for i, group in enumerate(self.param_groups):
            # Schedulers and users may have changed the group since the last step: validate
            # again whenever its hyper-parameters differ from those last validated.
            snapshot = [(k, v) for k, v in group.items() if k != "params"]
            validated = self.__dict__.setdefault("_validated", {})
            if validated.get(i) != snapshot:
                self._validate_group(group)
                validated[i] = snapshot
            params = [p for p in group["params"] if p.grad is not None]
            if params:
                self._step_group(group, params)
            c = group.get("max_norm")
            if c is not None:
                _core.max_norm_(group["params"], float(c))
        return loss

    def _step_group(self, group: Dict[str, Any], params: List[Tensor]) -> None:
        names = self._state_names(group)
        state = self.state
        if not names and not self._counts_steps:
            # No per-parameter state to look up, create or count (plain SGD): one call, then
            # the (empty) state entries torch also keeps.
            _core.optim_step(self._kind, params, [()] * len(params), group, [self._next_step(None, {})] * len(params))
            for p in params:
                if p not in state:
                    state[p] = {}
            return
        states: List[List[Tensor]] = []
        steps: List[int] = []
        fresh_all: List[Optional[Dict[str, Tensor]]] = []
        for p in params:
            st = state.get(p)
            fresh: Optional[Dict[str, Tensor]] = None
            tensors = []
            for n in names:
                t = st.get(n) if st is not None else None
                if t is None:
                    if fresh is None:
                        fresh = {}
                    t = fresh[n] = self._init_state(group, p, n)
                tensors.append(t)
            states.append(tensors)
            steps.append(self._next_step(st, fresh or {}))
            fresh_all.append(fresh)
        _core.optim_step(self._kind, params, states, group, steps)
        # State is committed only after the update succeeded, so a failed step changes nothing.
        counts = self._counts_steps
        for p, fresh, step in zip(params, fresh_all, steps):
            st = state.setdefault(p, {})
            if fresh:
                st.update(fresh)
            if counts:
                st["step"] = step

    def _next_step(self, state: Optional[Dict[str, Any]], fresh: Dict[str, Tensor]) -> int:
        return (0 if state is None else int(state.get("step", 0))) + 1

    # -- checkpoints --

    def state_dict(self) -> Dict[str, Any]:
        """The optimizer's state in torch's layout::

            {"state": {index: {"step": int, "exp_avg": np.ndarray, ...}},
             "param_groups": [{"lr": ..., ..., "params": [index, ...]}, ...]}

        Parameters are numbered 0, 1, ... in group order. State tensors are returned as float32
        numpy arrays (copies: later steps do not change a saved dict), so the dict can be
        stored with ``np.savez``, safetensors or (after ``.tolist()``) JSON, and loading it
        into a fresh optimizer continues bit for bit on the same trajectory.
        """
        index: Dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            saved = {k: v for k, v in group.items() if k != "params"}
            saved["params"] = ids
            groups.append(saved)
        state = {}
        for group in self.param_groups:
            for p in group["params"]:
                st = self.state.get(p)
                if st:
                    state[index[id(p)]] = {k: (v.numpy() if isinstance(v, Tensor) else v) for k, v in st.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        """Restores what ``state_dict`` returned (possibly after a trip through numpy or JSON:
        state values may be numpy arrays, Tensors or nested lists; state keys may be ints or
        their strings). Group hyper-parameters are replaced by the saved ones.

        Everything is checked before anything changes: a ValueError names a group whose size
        differs, an unknown parameter index, or a state of the wrong shape.
        """
        name = type(self).__name__
        if not isinstance(state_dict, dict) or "state" not in state_dict or "param_groups" not in state_dict:
            raise ValueError(f"{name}.load_state_dict: expected a dict with 'state' and 'param_groups'")
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(
                f"{name}.load_state_dict: the saved state has {len(saved_groups)} parameter group(s), "
                f"this optimizer has {len(self.param_groups)}"
            )
        by_index: Dict[int, Tensor] = {}
        for gi, (cur, saved) in enumerate(zip(self.param_groups, saved_groups)):
            ids = list(saved.get("params", []))
            if len(ids) != len(cur["params"]):
                raise ValueError(
                    f"{name}.load_state_dict: saved parameter group {gi} has {len(ids)} parameter(s), "
                    f"this optimizer's group {gi} has {len(cur['params'])}"
                )
            for idx, p in zip(ids, cur["params"]):
                by_index[int(idx)] = p
        new_state: Dict[Tensor, Dict[str, Any]] = defaultdict(dict)
        for key, st in state_dict["state"].items():
            try:
                idx = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"{name}.load_state_dict: state key {key!r} is not a parameter index") from None
            if idx not in by_index:
                raise ValueError(f"{name}.load_state_dict: state for parameter {idx}, which no group holds")
            p = by_index[idx]
            shape = tuple(p.shape)
            conv: Dict[str, Any] = {}
            for k, v in st.items():
                if k == "step":
                    step = int(v)
                    if step != v or step < 0:
                        raise ValueError(f"{name}.load_state_dict: state 'step' of parameter {idx} must be a count, got {v!r}")
                    conv[k] = step
                    continue
                arr = np.asarray(v.numpy() if isinstance(v, Tensor) else v, dtype=np.float32)
                if arr.shape != shape:
                    raise ValueError(
                        f"{name}.load_state_dict: state {k!r} of parameter {idx} has shape {arr.shape}, "
                        f"but the parameter has shape {shape}"
                    )
                conv[k] = _core.from_numpy(np.ascontiguousarray(arr)).to(p.device)
            new_state[p] = conv
        new_groups = []
        for cur, saved in zip(self.param_groups, saved_groups):
            # Keys the saved group lacks (e.g. a checkpoint from before an option existed) keep
            # their current values.
            g = {k: v for k, v in cur.items() if k != "params"}
            g.update((k, v) for k, v in saved.items() if k != "params")
            if "betas" in g:  # JSON turns tuples into lists
                g["betas"] = tuple(g["betas"])
            g["params"] = cur["params"]
            self._validate_group(g)
            new_groups.append(g)
        self.state = new_state
        self.param_groups = new_groups

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        lines.append(")")
        return "\n".join(lines)
