"""Search spaces: typed dimensions, conditional dimensions, JSON round-trip and a stable hash.

Every dimension maps its values to and from the unit interval, so samplers work on the unit
hypercube ``[0, 1]^d`` (one coordinate per dimension, in the order the space was declared) and
never need to know a dimension's type. Log dimensions are uniform in log space, so the unit
coordinate is also the natural input for distances (HybridSampler), densities (TPESampler) and
the relevance analysis.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from numbers import Integral, Real
from typing import Any, Iterator, Sequence

import numpy as np

__all__ = [
    "Dimension",
    "Uniform",
    "LogUniform",
    "IntUniform",
    "IntLogUniform",
    "Choice",
    "Space",
]

# Option values a Choice may hold: they must survive a JSON round-trip unchanged.
_JSON_SCALARS = (str, bool, int, float, type(None))


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars, so that comparisons and JSON behave."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def _check_real(name: str, value: Any) -> float:
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value!r}")
    return value


def _check_int(name: str, value: Any) -> int:
    value = _plain(value)
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    return int(value)


def _normalise_when(when: Mapping[str, Any] | None) -> dict[str, tuple]:
    if when is None:
        return {}
    if not isinstance(when, Mapping):
        raise TypeError(f"when must be a mapping {{parent name: value or list of values}}, got {when!r}")
    out: dict[str, tuple] = {}
    for parent, values in when.items():
        if not isinstance(parent, str):
            raise TypeError(f"when: parent names must be strings, got {parent!r}")
        if isinstance(values, (list, tuple, set, frozenset)):
            values = tuple(_plain(v) for v in values)
        else:
            values = (_plain(values),)
        if not values:
            raise ValueError(f"when: no value given for parent {parent!r}")
        out[parent] = values
    return out


class Dimension:
    """One hyper-parameter's domain. Subclasses: Uniform, LogUniform, IntUniform, IntLogUniform, Choice.

    Every dimension accepts ``when={parent: value or [values]}``: the dimension is then active
    only when each named parent (declared earlier in the Space) is active and takes one of
    the listed values; an inactive dimension is absent from a trial's params.
    """

    kind: str = ""
    is_log: bool = False

    def __init__(self, when: Mapping[str, Any] | None = None) -> None:
        self.when = _normalise_when(when)

    # --- mapping to the unit interval -------------------------------------------------------
    def from_unit(self, u: float) -> Any:
        """The value at unit coordinate ``u`` in [0, 1] (uniform u gives this dimension's prior)."""
        raise NotImplementedError

    def to_unit(self, value: Any) -> float:
        """The unit coordinate of ``value`` (for discrete values: the centre of its cell)."""
        raise NotImplementedError

    def cell_edges(self) -> np.ndarray | None:
        """For discrete dimensions, the sorted unit-interval boundaries of the cells that map
        to each value (length n_values + 1, from 0 to 1); None for continuous dimensions."""
        return None

    def grid(self, n: int | None) -> list:
        """``n`` values spread over the domain (both bounds included when n >= 2)."""
        raise NotImplementedError

    def contains(self, value: Any) -> bool:
        """Whether ``value`` lies in this dimension's domain."""
        raise NotImplementedError

    # --- serialisation ------------------------------------------------------------------------
    def _fields(self) -> dict:
        raise NotImplementedError

    def to_dict(self) -> dict:
        """A JSON-ready description; ``Dimension.from_dict`` inverts it."""
        d = {"type": self.kind, **self._fields()}
        if self.when:
            d["when"] = {k: list(v) for k, v in self.when.items()}
        return d

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> "Dimension":
        """Rebuild a dimension from ``to_dict()`` output."""
        d = dict(d)
        kind = d.pop("type", None)
        cls = _KINDS.get(kind)
        if cls is None:
            raise ValueError(f"unknown dimension type {kind!r}; expected one of {sorted(_KINDS)}")
        return cls(**d)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Dimension) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(json.dumps(self.to_dict(), sort_keys=True))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._fields().items())
        if self.when:
            args += f", when={self.when!r}"
        return f"{type(self).__name__}({args})"


class _Bounded(Dimension):
    def __init__(self, low: Any, high: Any, when: Mapping[str, Any] | None = None) -> None:
        super().__init__(when)
        self.low, self.high = self._check_bounds(low, high)

    def _check_bounds(self, low: Any, high: Any) -> tuple:
        raise NotImplementedError

    def _fields(self) -> dict:
        return {"low": self.low, "high": self.high}

    integer = False  # values are ints (IntUniform, IntLogUniform) rather than reals

    def contains(self, value):
        value = _plain(value)
        return (not isinstance(value, bool) and isinstance(value, Integral if self.integer else Real)
                and self.low <= value <= self.high)


class Uniform(_Bounded):
    """A real value uniform on [low, high]. Requires low < high, both finite."""

    kind = "uniform"

    def _check_bounds(self, low, high):
        low, high = _check_real("Uniform low", low), _check_real("Uniform high", high)
        if not low < high:
            raise ValueError(f"Uniform needs low < high, got low={low!r}, high={high!r}")
        return low, high

    def from_unit(self, u):
        v = self.low + float(u) * (self.high - self.low)
        return min(max(v, self.low), self.high)

    def to_unit(self, value):
        return (float(value) - self.low) / (self.high - self.low)

    def grid(self, n):
        n = _grid_count(n)
        if n == 1:
            return [0.5 * (self.low + self.high)]
        return [float(v) for v in np.linspace(self.low, self.high, n)]


class LogUniform(_Bounded):
    """A real value whose logarithm is uniform on [log low, log high]. Requires 0 < low < high."""

    kind = "loguniform"
    is_log = True

    def _check_bounds(self, low, high):
        low, high = _check_real("LogUniform low", low), _check_real("LogUniform high", high)
        if not 0 < low < high:
            raise ValueError(f"LogUniform needs 0 < low < high, got low={low!r}, high={high!r}")
        return low, high

    def from_unit(self, u):
        lo, hi = math.log(self.low), math.log(self.high)
        v = math.exp(lo + float(u) * (hi - lo))
        return min(max(v, self.low), self.high)

    def to_unit(self, value):
        lo, hi = math.log(self.low), math.log(self.high)
        return (math.log(float(value)) - lo) / (hi - lo)

    def grid(self, n):
        n = _grid_count(n)
        if n == 1:
            return [math.sqrt(self.low * self.high)]
        return [float(v) for v in np.geomspace(self.low, self.high, n)]


class IntUniform(_Bounded):
    """An integer uniform on {low, ..., high} (both included). Requires low <= high."""

    kind = "int"
    integer = True

    def _check_bounds(self, low, high):
        low, high = _check_int("IntUniform low", low), _check_int("IntUniform high", high)
        if low > high:
            raise ValueError(f"IntUniform needs low <= high, got low={low!r}, high={high!r}")
        return low, high

    def _count(self) -> int:
        return self.high - self.low + 1

    def from_unit(self, u):
        k = self._count()
        return self.low + min(max(int(float(u) * k), 0), k - 1)

    def to_unit(self, value):
        return (int(value) - self.low + 0.5) / self._count()

    def cell_edges(self):
        return np.linspace(0.0, 1.0, self._count() + 1)

    def grid(self, n):
        if n is None or n >= self._count():
            return list(range(self.low, self.high + 1))
        n = _grid_count(n)
        if n == 1:
            return [(self.low + self.high) // 2]
        return sorted({int(round(v)) for v in np.linspace(self.low, self.high, n)})


class IntLogUniform(_Bounded):
    """An integer in {low, ..., high} drawn log-uniformly: P(k) is proportional to log((k+1)/k).

    Requires 1 <= low <= high.
    """

    kind = "intlog"
    is_log = True
    integer = True

    def _check_bounds(self, low, high):
        low, high = _check_int("IntLogUniform low", low), _check_int("IntLogUniform high", high)
        if not 1 <= low <= high:
            raise ValueError(f"IntLogUniform needs 1 <= low <= high, got low={low!r}, high={high!r}")
        return low, high

    def _span(self) -> float:
        # The cell of integer k is [log k, log(k+1)): the top value gets a cell of its own.
        return math.log(self.high + 1) - math.log(self.low)

    def from_unit(self, u):
        v = int(math.floor(math.exp(math.log(self.low) + float(u) * self._span())))
        return min(max(v, self.low), self.high)

    def to_unit(self, value):
        k = int(value)
        lo = math.log(self.low)
        return 0.5 * ((math.log(k) - lo) + (math.log(k + 1) - lo)) / self._span()

    def cell_edges(self):
        ks = np.arange(self.low, self.high + 2, dtype=float)
        edges = (np.log(ks) - math.log(self.low)) / self._span()
        edges[0], edges[-1] = 0.0, 1.0
        return edges

    def grid(self, n):
        if n is None or n >= self.high - self.low + 1:
            return list(range(self.low, self.high + 1))
        n = _grid_count(n)
        if n == 1:
            return [int(round(math.sqrt(self.low * self.high)))]
        return sorted({int(round(v)) for v in np.geomspace(self.low, self.high, n)})


class Choice(Dimension):
    """One of a fixed list of options (str, int, float, bool or None), each equally likely.

    The unit interval is cut into ``len(options)`` equal cells, one per option, in list order.
    """

    kind = "choice"

    def __init__(self, options: Sequence[Any], when: Mapping[str, Any] | None = None) -> None:
        super().__init__(when)
        if isinstance(options, (str, bytes)) or not isinstance(options, Sequence):
            raise TypeError(f"Choice options must be a list, got {options!r}")
        options = [_plain(o) for o in options]
        if not options:
            raise ValueError("Choice needs at least one option")
        self._index: dict[tuple, int] = {}
        for i, o in enumerate(options):
            if not isinstance(o, _JSON_SCALARS) or (isinstance(o, float) and not math.isfinite(o)):
                raise TypeError(
                    f"Choice options must be str, int, finite float, bool or None, got {o!r} "
                    f"({type(o).__name__})")
            key = self._key(o)
            if key in self._index:
                raise ValueError(f"Choice option {o!r} appears twice in {options!r}")
            self._index[key] = i
        self.options = options

    @staticmethod
    def _key(value: Any) -> tuple:
        # True == 1 in Python; keep bool and int options apart.
        return (type(value) is bool, value)

    def index(self, value: Any) -> int:
        """The position of ``value`` among the options (ValueError if absent)."""
        try:
            return self._index[self._key(_plain(value))]
        except (KeyError, TypeError):
            raise ValueError(f"{value!r} is not one of the options {self.options!r}") from None

    def from_unit(self, u):
        k = len(self.options)
        return self.options[min(max(int(float(u) * k), 0), k - 1)]

    def to_unit(self, value):
        return (self.index(value) + 0.5) / len(self.options)

    def cell_edges(self):
        return np.linspace(0.0, 1.0, len(self.options) + 1)

    def grid(self, n):
        return list(self.options)

    def contains(self, value):
        try:
            self.index(value)
            return True
        except ValueError:
            return False

    def _fields(self):
        return {"options": list(self.options)}


_KINDS = {cls.kind: cls for cls in (Uniform, LogUniform, IntUniform, IntLogUniform, Choice)}


def _grid_count(n: Any) -> int:
    if n is None:
        raise ValueError("a continuous dimension needs a number of grid points")
    n = _check_int("number of grid points", n)
    if n < 1:
        raise ValueError(f"number of grid points must be >= 1, got {n}")
    return n


class Space(Mapping):
    """An ordered mapping {name: Dimension}: the hyper-parameters a study searches.

    Args:
        dims: mapping from hyper-parameter name to its Dimension, in a fixed order (the order
            of the unit-cube coordinates). A conditional dimension's parents must come first.

    Example::

        Space({"optimizer": Choice(["sgd", "adam"]),
               "lr": LogUniform(1e-4, 1e-1),
               "momentum": Uniform(0.5, 0.99, when={"optimizer": "sgd"})})
    """

    def __init__(self, dims: Mapping[str, Dimension]) -> None:
        if isinstance(dims, Space):
            dims = dict(dims.items())
        if not isinstance(dims, Mapping):
            raise TypeError(f"Space takes a mapping {{name: Dimension}}, got {type(dims).__name__}")
        if not dims:
            raise ValueError("a Space needs at least one dimension")
        self._dims: dict[str, Dimension] = {}
        for name, dim in dims.items():
            if not isinstance(name, str) or not name:
                raise TypeError(f"dimension names must be non-empty strings, got {name!r}")
            if not isinstance(dim, Dimension):
                raise TypeError(
                    f"dimension {name!r} must be a Dimension (Uniform, LogUniform, IntUniform, "
                    f"IntLogUniform, Choice), got {dim!r}")
            for parent, values in dim.when.items():
                if parent not in self._dims:
                    raise ValueError(
                        f"dimension {name!r} depends on {parent!r}, which must be declared "
                        f"before it (declared so far: {list(self._dims)})")
                bad = [v for v in values if not self._dims[parent].contains(v)]
                if bad:
                    raise ValueError(
                        f"dimension {name!r} is conditional on {parent!r} taking {bad!r}, "
                        f"outside that dimension's domain {self._dims[parent]!r}")
            self._dims[name] = dim
        self.names: tuple[str, ...] = tuple(self._dims)
        self._conditional = any(d.when for d in self._dims.values())
        self._hash: str | None = None

    # --- Mapping protocol ---------------------------------------------------------------------
    def __getitem__(self, name: str) -> Dimension:
        return self._dims[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dims)

    def __len__(self) -> int:
        return len(self._dims)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Space) and self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.hash)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k!r}: {v!r}" for k, v in self._dims.items())
        return f"Space({{{inner}}})"

    # --- conditional structure ----------------------------------------------------------------
    @property
    def is_conditional(self) -> bool:
        """True when some dimension has a ``when=`` condition."""
        return self._conditional

    def is_active(self, name: str, params: Mapping[str, Any]) -> bool:
        """Whether dimension ``name`` is active given the (parents') values in ``params``."""
        for parent, values in self._dims[name].when.items():
            if parent not in params or not any(
                    Choice._key(_plain(params[parent])) == Choice._key(v) for v in values):
                return False
        return True

    # --- unit cube ----------------------------------------------------------------------------
    def from_unit(self, u: Sequence[float]) -> dict[str, Any]:
        """Map a point ``u`` of [0, 1]^len(space) to params; inactive dimensions are dropped."""
        if len(u) != len(self._dims):
            raise ValueError(f"unit vector has {len(u)} coordinates, the space has {len(self)}")
        params: dict[str, Any] = {}
        for (name, dim), ui in zip(self._dims.items(), u):
            if not dim.when or self.is_active(name, params):
                params[name] = dim.from_unit(min(max(float(ui), 0.0), 1.0))
        return params

    def to_unit(self, params: Mapping[str, Any]) -> np.ndarray:
        """Map params to a float64 vector in [0, 1]^len(space); NaN where a dimension is absent."""
        out = np.full(len(self._dims), np.nan)
        for i, (name, dim) in enumerate(self._dims.items()):
            if name in params:
                out[i] = dim.to_unit(params[name])
        return out

    def validate(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Check ``params`` against the space and return them as plain Python values.

        Raises ValueError naming the missing, unexpected, inactive or out-of-domain entries.
        """
        if not isinstance(params, Mapping):
            raise TypeError(f"params must be a mapping, got {type(params).__name__}")
        unknown = [k for k in params if k not in self._dims]
        if unknown:
            raise ValueError(f"unknown hyper-parameters {unknown}; the space has {list(self.names)}")
        out: dict[str, Any] = {}
        for name, dim in self._dims.items():
            active = self.is_active(name, out)
            if active and name not in params:
                raise ValueError(f"missing value for hyper-parameter {name!r}")
            if not active:
                if name in params:
                    raise ValueError(
                        f"hyper-parameter {name!r} is inactive here (it needs {dim.when!r})")
                continue
            value = _plain(params[name])
            if not dim.contains(value):
                raise ValueError(f"value {value!r} for {name!r} is outside {dim!r}")
            out[name] = float(value) if isinstance(dim, (Uniform, LogUniform)) else value
        return out

    # --- serialisation ------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """JSON-ready description. Dimensions are a list of [name, spec] so that order survives."""
        return {"dims": [[name, dim.to_dict()] for name, dim in self._dims.items()]}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "Space":
        """Rebuild a Space from ``to_dict()`` output."""
        try:
            items = d["dims"]
        except (KeyError, TypeError):
            raise ValueError(f"not a serialised Space: {d!r}") from None
        return cls({name: Dimension.from_dict(spec) for name, spec in items})

    def to_json(self) -> str:
        """Canonical JSON text (fixed key order, no whitespace); the input of ``hash``."""
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> "Space":
        """Rebuild a Space from ``to_json()`` text."""
        return cls.from_dict(json.loads(text))

    @property
    def hash(self) -> str:
        """SHA-256 hex digest of the canonical JSON: equal across processes, runs and machines."""
        if self._hash is None:
            self._hash = hashlib.sha256(self.to_json().encode()).hexdigest()
        return self._hash
