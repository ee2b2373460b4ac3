"""Shared pieces of the reproductions: data, a lean training loop with curves, evaluation,
seed statistics and the result record every paper returns."""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

import ferrograd as fg
from ferrograd.nn import functional as F


@dataclasses.dataclass
class PaperResult:
    """What one reproduction found.

    ``table``: rows of (quantity, value text) for the report; ``figures``: the raw numbers
    (per seed where it applies) that tests assert on; ``checks``: (claim, passed) pairs;
    ``plots``: PNG paths written; ``notes``: text for the report.
    """

    name: str
    title: str
    table: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    figures: Dict[str, Any] = dataclasses.field(default_factory=dict)
    checks: List[Tuple[str, bool]] = dataclasses.field(default_factory=list)
    plots: List[str] = dataclasses.field(default_factory=list)
    notes: str = ""
    seconds: float = 0.0


_MNIST_CACHE: Dict[Optional[str], Any] = {}


def mnist(data_root: Optional[str] = None) -> Any:
    """MNIST splits (float32 (n, 784), int64 labels), loaded once per process."""
    if data_root not in _MNIST_CACHE:
        from ferrograd.datasets import mnist as load

        _MNIST_CACHE[data_root] = load(root=data_root, download=data_root is None)
    return _MNIST_CACHE[data_root]


def mean_std(values: Sequence[float]) -> Tuple[float, float]:
    a = np.asarray(values, dtype=np.float64)
    return float(a.mean()), float(a.std(ddof=1)) if len(a) > 1 else 0.0


def fmt(values: Sequence[float], pct: bool = False, digits: int = 2) -> str:
    """"mean ± std (n seeds)" text."""
    m, s = mean_std(values)
    if pct:
        return f"{100 * m:.{digits}f} % ± {100 * s:.{digits}f}"
    return f"{m:.{digits + 2}f} ± {s:.{digits + 2}f}"


def accuracy(model: Any, x: np.ndarray, y: np.ndarray, batch: int = 2000) -> float:
    """Test accuracy in eval mode, without grad."""
    model.eval()
    correct = 0
    with fg.no_grad():
        for i in range(0, len(x), batch):
            correct += int((model(fg.tensor(x[i:i + batch])).argmax(dim=1).numpy() == y[i:i + batch]).sum())
    return correct / len(x)


def mean_loss(model: Any, x: np.ndarray, y: np.ndarray, batch: int = 2000) -> float:
    model.eval()
    total = 0.0
    with fg.no_grad():
        for i in range(0, len(x), batch):
            total += float(F.cross_entropy(model(fg.tensor(x[i:i + batch])), y[i:i + batch], reduction="sum").item())
    return total / len(x)


def train_steps(model: Any, opt: Any, x: np.ndarray, y: np.ndarray, steps: int, batch: int, seed: int,
                every: int = 0, on_record: Optional[Callable[[int], Dict[str, float]]] = None,
                after_step: Optional[Callable[[], None]] = None,
                step_hook: Optional[Callable[[int], None]] = None) -> Tuple[List[float], List[Dict[str, float]]]:
    """Trains for ``steps`` minibatch steps drawn epoch-wise from (x, y) in a seeded order.

    Returns the per-step training losses and, every ``every`` steps (and at the end), the dict
    ``on_record(step)`` returns. ``after_step`` runs after each update (e.g. max-norm);
    ``step_hook(step)`` before it (e.g. a schedule). A NaN/inf loss stops training early and
    is recorded as such (the divergent run is part of what some papers show).
    """
    rng = np.random.default_rng(seed)
    losses: List[float] = []
    records: List[Dict[str, float]] = []
    order = rng.permutation(len(x))
    pos = 0
    model.train()
    for step in range(1, steps + 1):
        if pos + batch > len(order):
            order, pos = rng.permutation(len(x)), 0
        idx = order[pos:pos + batch]
        pos += batch
        if step_hook is not None:
            step_hook(step)
        loss = F.cross_entropy(model(fg.tensor(x[idx])), y[idx])
        value = float(loss.item())
        losses.append(value)
        if not math.isfinite(value):
            break
        opt.zero_grad()
        loss.backward()
        opt.step()
        if after_step is not None:
            after_step()
        if on_record is not None and every and step % every == 0:
            records.append(dict(step=step, **on_record(step)))
            model.train()
    if on_record is not None and (not records or records[-1]["step"] != len(losses)) and math.isfinite(losses[-1]):
        records.append(dict(step=len(losses), **on_record(len(losses))))
    return losses, records


def smooth(values: Sequence[float], k: int) -> np.ndarray:
    """Mean over consecutive blocks of ``k`` (for plotting and comparing noisy loss curves)."""
    a = np.asarray(values, dtype=np.float64)
    n = len(a) // k
    return a[: n * k].reshape(n, k).mean(axis=1) if n else a


def savefig(fig: Any, out: Optional[str], name: str, result: PaperResult) -> None:
    if out is None:
        return
    import os

    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, name)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    result.plots.append(path)


def pyplot():  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
