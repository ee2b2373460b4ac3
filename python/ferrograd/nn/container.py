"""Containers: ``Sequential`` and ``ModuleList``."""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable, Iterator, Union, overload

import weakref

from ferrograd._core import Tensor
from ferrograd.nn.fast import STRUCTURE_VERSION, build_plan
from ferrograd.nn.module import Module

# Plans live outside the modules (so deepcopy and pickling of a model never see them).
_PLANS: "weakref.WeakKeyDictionary[Any, Any]" = weakref.WeakKeyDictionary()


class Sequential(Module):
    """Applies its modules in order. Indexable (``seq[1]``, ``seq[1:]``), iterable, ``len``.

    ``Sequential(m1, m2, ...)`` or ``Sequential(OrderedDict(name=module, ...))``.
    """

    def __init__(self, *modules: Any) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, not a Module")
                self.add_module(str(i), m)

    def forward(self, x: Any) -> Any:
        plan = self._fast_plan() if isinstance(x, Tensor) else None
        if plan is not None:
            return plan.forward(x)
        for m in self._modules.values():
            x = m(x)
        return x

    def _fast_plan(self) -> Any:
        """The cached one-call plan of this Sequential (see ``nn.fast``), or None when a module
        is not a built-in layer or a module's forward has been overridden on the instance."""
        cached = _PLANS.get(self)
        if cached is not None and cached[0] == STRUCTURE_VERSION[0]:
            return cached[1]
        mods = list(self._modules.values())
        plan = None
        if all(m is not None and "forward" not in m.__dict__ and "__call__" not in m.__dict__ for m in mods):
            plan = build_plan(mods)
        _PLANS[self] = (STRUCTURE_VERSION[0], plan)
        return plan

    @overload
    def __getitem__(self, idx: int) -> Module: ...

    @overload
    def __getitem__(self, idx: slice) -> "Sequential": ...

    def __getitem__(self, idx: Union[int, slice]) -> Union[Module, "Sequential"]:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            return Sequential(OrderedDict(list(self._modules.items())[idx]))
        if not -len(mods) <= idx < len(mods):
            raise IndexError(f"Sequential index {idx} is out of range for {len(mods)} modules")
        return mods[idx]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> "Sequential":
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (no forward of its own)."""

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module: Module) -> "ModuleList":
        self.add_module(str(len(self)), module)
        return self

    def __getitem__(self, idx: int) -> Module:
        mods = list(self._modules.values())
        return mods[idx]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())
