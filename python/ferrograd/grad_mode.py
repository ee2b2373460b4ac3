"""Grad-mode switches: ``no_grad``, ``enable_grad``, ``set_grad_enabled``.

Grad mode is per thread (as in torch). Each works as a context manager and as a decorator.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, TypeVar

from ferrograd import _core

F = TypeVar("F", bound=Callable[..., Any])


class _GradMode:
    """Sets grad mode to ``self._mode`` inside a ``with`` block or a decorated function."""

    _mode: bool

    def __enter__(self) -> None:
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._mode)

    def __exit__(self, *exc: object) -> None:
        _core._set_grad_enabled(self._prev)

    def __call__(self, fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.__class__() if not isinstance(self, set_grad_enabled) else set_grad_enabled(self._mode):
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_GradMode):
    """Disables gradient recording: ops inside build no graph (saves memory and time).

    >>> with no_grad():
    ...     y = model(x)
    """

    _mode = False


class enable_grad(_GradMode):
    """Re-enables gradient recording inside a ``no_grad`` block."""

    _mode = True


class set_grad_enabled(_GradMode):
    """Sets grad mode to ``mode``: immediately when called, and restored when used with ``with``."""

    def __init__(self, mode: bool) -> None:
        self._mode = bool(mode)
        self._prev = _core.is_grad_enabled()
        _core._set_grad_enabled(self._mode)

    def __enter__(self) -> None:
        pass
