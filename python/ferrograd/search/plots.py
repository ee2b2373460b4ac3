"""PNG plots of a study (matplotlib, Agg canvas; pyplot's global state is never touched, so
these work in headless workers and do not disturb a user's interactive backend)."""
from __future__ import annotations

import os
from typing import Any, Mapping

import numpy as np

from .analysis import EfficiencyCurve, efficiency_curve, history

__all__ = ["plot_history", "plot_efficiency_curve", "plot_relevance"]


def _figure(size=(6.4, 4.2)):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, dpi=100)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: str | os.PathLike) -> str:
    path = os.fspath(path)
    if not path.lower().endswith(".png"):
        raise ValueError(f"plots are written as PNG; the path should end in .png, got {path!r}")
    fig.tight_layout()
    fig.savefig(path, format="png")
    return path


def plot_history(study, path: str | os.PathLike, title: str | None = None) -> str:
    """Scatter of every completed trial's value against its number, with the best so far
    (pruned trials at their last reported value, failed trials as vertical lines).

    Args:
        study: a Study.
        path: the PNG file to write.
        title: figure title (default: the study's name).
    Returns:
        ``path``.
    """
    h = history(study)
    fig = _figure()
    ax = fig.add_subplot()
    ok = ~np.isnan(h["value"])
    ax.plot(h["number"][ok], h["value"][ok], "o", ms=3, alpha=0.6, label="trial value")
    ax.step(h["number"], h["best"], where="post", color="C3", label="best so far")
    pruned = [(t.number, t.value) for t in study.get_trials(copy=False)
              if t.state.value == "PRUNED" and t.value is not None]
    if pruned:
        x, y = zip(*pruned)
        ax.plot(x, y, "x", ms=4, color="0.55", label="pruned (last report)")
    for i, x in enumerate(h["number"][h["state"] == "FAIL"]):
        ax.axvline(x, color="C1", lw=0.6, alpha=0.5, zorder=0, label="failed" if i == 0 else None)
    ax.set_xlabel("trial number")
    ax.set_ylabel("value")
    ax.set_title(title or f"{study.name}: optimisation history")
    ax.legend(loc="best")
    return _save(fig, path)


def plot_efficiency_curve(curve: EfficiencyCurve | Any, path: str | os.PathLike,
                          title: str | None = None, ylabel: str = "best score", **kwargs) -> str:
    """Box plot of best-of-s results against experiment size s (the paper's figure).

    Args:
        curve: an EfficiencyCurve, or a Study (then ``efficiency_curve(study, **kwargs)``).
        path: the PNG file to write.
        title, ylabel: labels.
    Returns:
        ``path``.
    """
    if not isinstance(curve, EfficiencyCurve):
        curve = efficiency_curve(curve, **kwargs)
    fig = _figure()
    ax = fig.add_subplot()
    positions = np.arange(len(curve.sizes))
    ax.boxplot(curve.scores, positions=positions, widths=0.6, showfliers=True)
    ax.plot(positions, curve.means(), "--", color="C3", lw=1, label="mean")
    ax.set_xticks(positions)
    ax.set_xticklabels([str(s) for s in curve.sizes])
    ax.set_xlabel("experiment size (trials)")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "random experiment efficiency curve"
                 + (" (noise-weighted)" if curve.weighted else ""))
    ax.legend(loc="best")
    return _save(fig, path)


def plot_relevance(scores: Mapping[str, float], path: str | os.PathLike,
                   title: str = "hyper-parameter relevance (1 / GP length-scale)") -> str:
    """Horizontal bar chart of ``{name: relevance}`` (as returned by ``relevance``), log scale.

    Returns:
        ``path``.
    """
    if not scores:
        raise ValueError("no relevance scores to plot")
    names = list(scores)[::-1]
    values = [scores[n] for n in names]
    fig = _figure((6.4, 0.45 * len(names) + 1.5))
    ax = fig.add_subplot()
    ax.barh(names, values, color="C0")
    ax.set_xscale("log")
    ax.set_xlabel("relevance")
    ax.set_title(title)
    return _save(fig, path)
