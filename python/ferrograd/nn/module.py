"""``Module``: the base class of layers and models, with torch.nn.Module's interface.

Assigning a ``Parameter``, a ``Module`` or (through ``register_buffer``) a buffer tensor to an
attribute registers it; ``parameters()``, ``state_dict()``, ``train()``/``eval()`` and ``to()``
then walk the tree. Subclass it, create layers in ``__init__`` and write ``forward``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable, Dict, Iterator, List, Mapping, NamedTuple, Optional, Tuple

from ferrograd._core import Tensor
from ferrograd.grad_mode import no_grad
from ferrograd.nn.fast import STRUCTURE_VERSION as _STRUCTURE_VERSION
from ferrograd.nn.parameter import Parameter


class IncompatibleKeys(NamedTuple):
    missing_keys: List[str]
    unexpected_keys: List[str]


class Module:
    """Base class for all layers and models."""

    training: bool

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())

    # ---- registration ----------------------------------------------------------------

    def _check_init(self) -> None:
        _STRUCTURE_VERSION[0] += 1  # every registration passes here
        if "_parameters" not in self.__dict__:
            raise RuntimeError(
                f"{type(self).__name__}: call super().__init__() in __init__ before assigning attributes")

    def __setattr__(self, name: str, value: Any) -> None:
        _STRUCTURE_VERSION[0] += 1  # any change may invalidate a Sequential's fast plan
        if isinstance(value, Parameter):
            self._check_init()
            self._remove_from(name, "_buffers", "_modules")
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._check_init()
            self._remove_from(name, "_parameters", "_buffers")
            self._modules[name] = value
        elif "_parameters" in self.__dict__ and name in self._parameters:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to parameter {name!r} (expected a Parameter or None)")
            self._parameters[name] = None
        elif "_buffers" in self.__dict__ and name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"cannot assign {type(value).__name__} to buffer {name!r} (expected a Tensor or None)")
            self._buffers[name] = value
        elif "_modules" in self.__dict__ and name in self._modules:
            if value is not None:
                raise TypeError(f"cannot assign {type(value).__name__} to submodule {name!r} (expected a Module or None)")
            self._modules[name] = None
        else:
            object.__setattr__(self, name, value)

    def _remove_from(self, name: str, *dicts: str) -> None:
        for d in dicts:
            self.__dict__[d].pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup fails: look in the registries.
        d = self.__dict__
        for reg in ("_parameters", "_buffers", "_modules"):
            if reg in d and name in d[reg]:
                return d[reg][name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __delattr__(self, name: str) -> None:
        _STRUCTURE_VERSION[0] += 1
        for reg in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(reg, {}):
                del self.__dict__[reg][name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param: Optional[Parameter]) -> None:
        """Registers ``param`` (or None, for an absent optional parameter such as a bias)."""
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"register_parameter: {name!r} must be a Parameter or None, got {type(param).__name__}")
        self._check_init()
        self._remove_from(name, "_buffers", "_modules")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor: Optional[Tensor], persistent: bool = True) -> None:
        """Registers a non-learnable tensor (e.g. BatchNorm's running mean) saved in the state_dict
        unless ``persistent=False``."""
        if tensor is not None and not isinstance(tensor, Tensor):
            raise TypeError(f"register_buffer: {name!r} must be a Tensor or None, got {type(tensor).__name__}")
        self._check_init()
        self._remove_from(name, "_parameters", "_modules")
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent.discard(name)
        else:
            self._non_persistent.add(name)

    def add_module(self, name: str, module: Optional["Module"]) -> None:
        """Registers a submodule under ``name``."""
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module: {name!r} must be a Module or None, got {type(module).__name__}")
        self._check_init()
        self._remove_from(name, "_parameters", "_buffers")
        self._modules[name] = module

    # ---- traversal ---------------------------------------------------------------------

    def named_modules(self, prefix: str = "", memo: Optional[set] = None) -> Iterator[Tuple[str, "Module"]]:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def named_children(self) -> Iterator[Tuple[str, "Module"]]:
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[Tuple[str, Parameter]]:
        """(name, parameter) pairs, each parameter once even if shared."""
        seen: set = set()
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mname, m in mods:
            for pname, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[Tuple[str, Tensor]]:
        mods = self.named_modules(prefix) if recurse else iter([(prefix, self)])
        for mname, m in mods:
            for bname, b in m._buffers.items():
                if b is not None:
                    yield (f"{mname}.{bname}" if mname else bname), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn: Callable[["Module"], Any]) -> "Module":
        """Calls ``fn`` on every submodule (children first) and on self."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes ---------------------------------------------------------------------------

    def train(self, mode: bool = True) -> "Module":
        """Sets training mode (dropout active, batch norm on batch statistics) recursively."""
        if not isinstance(mode, bool):
            raise TypeError(f"train: mode must be a bool, got {type(mode).__name__}")
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        _STRUCTURE_VERSION[0] += 1
        return self

    def eval(self) -> "Module":
        """Sets evaluation mode: ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clears the gradients of every parameter (to None, or to zeros in place)."""
        for p in self.parameters():
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                with no_grad():
                    p.grad.zero_()

    def to(self, device: str) -> "Module":
        """Moves every parameter and buffer to ``device`` ("cpu" or "wgpu") and returns self.

        Parameters are replaced by new ``Parameter`` objects on the device (their gradients
        move too), so create the optimizer after moving the model, as torch advises.
        """
        from ferrograd.device import _canonical
        from ferrograd.nn import fast
        from ferrograd.nn.parameter import Parameter

        device = _canonical(device, "Module.to")
        for m in self.modules():
            for name, p in list(m._parameters.items()):
                if p is None or p.device == device:
                    continue
                moved = Parameter(p.detach().to(device), requires_grad=p.requires_grad)
                if p.grad is not None:
                    moved.grad = p.grad.to(device)
                m._parameters[name] = moved
            for name, b in list(m._buffers.items()):
                if b is not None and b.device != device:
                    m._buffers[name] = b.to(device)
        fast.STRUCTURE_VERSION[0] += 1
        return self

    @property
    def device(self) -> str:
        """Where the first parameter (or buffer) lives; "cpu" for a module holding neither."""
        for t in self.parameters():
            return t.device
        for t in self.buffers():
            return t.device
        return "cpu"

    # ---- state ---------------------------------------------------------------------------

    def state_dict(self, prefix: str = "") -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by dotted name (values share storage, detached)."""
        out: "OrderedDict[str, Tensor]" = OrderedDict()
        for mname, m in self.named_modules(prefix.rstrip(".")):
            p = f"{mname}." if mname else ""
            for name, t in m._parameters.items():
                if t is not None:
                    out[p + name] = t.detach()
            for name, t in m._buffers.items():
                if t is not None and name not in m._non_persistent:
                    out[p + name] = t.detach()
        return out

    def load_state_dict(self, state_dict: Mapping[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copies values into the parameters and buffers of the same names.

        ``strict``: missing or unexpected keys raise a KeyError listing them. A shape mismatch
        always raises ValueError, before anything is copied (nothing is half-loaded).
        """
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"load_state_dict for {type(self).__name__}: missing keys {missing}, unexpected keys {unexpected}")
        from ferrograd.creation import tensor as _tensor

        staged = {}
        for k, dst in own.items():
            if k not in state_dict:
                continue
            src = state_dict[k]
            src = src if isinstance(src, Tensor) else _tensor(src)
            if tuple(src.shape) != tuple(dst.shape):
                raise ValueError(f"load_state_dict: {k!r} has shape {tuple(src.shape)} in the checkpoint "
                                 f"but {tuple(dst.shape)} in the model")
            staged[k] = src
        with no_grad():
            for k, src in staged.items():
                own[k].copy_(src)
        return IncompatibleKeys(missing, unexpected)

    # ---- calling and printing -------------------------------------------------------------

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must implement forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line."""
        return ""

    def __repr__(self) -> str:
        lines = []
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {sub}")
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | set(self._parameters) | set(self._buffers) | set(self._modules))
