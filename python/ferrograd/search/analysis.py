"""Analyses of a finished study, after Bergstra & Bengio (2012): optimisation history,
random-experiment efficiency curves, and hyper-parameter relevance from a Gaussian process.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .trial import TrialState

__all__ = ["history", "EfficiencyCurve", "efficiency_curve", "relevance"]


def _complete(study) -> list:
    return [t for t in study.get_trials([TrialState.COMPLETE], copy=False) if t.value is not None]


def history(study) -> dict[str, np.ndarray]:
    """The study's trials in number order.

    Returns:
        {"number": int array (n,), "value": float array (n,) with NaN where a trial did not
        complete, "best": best COMPLETE value so far (n,) (NaN before the first),
        "state": array of state names (n,)}.
    """
    trials = study.get_trials(copy=False)
    number = np.array([t.number for t in trials], dtype=int)
    value = np.array([t.value if t.state is TrialState.COMPLETE and t.value is not None else np.nan
                      for t in trials], dtype=float)
    state = np.array([t.state.value for t in trials], dtype=object)
    oriented = np.where(np.isnan(value), np.inf, value * (1.0 if study.direction == "minimize" else -1.0))
    best_oriented = np.minimum.accumulate(oriented) if len(oriented) else oriented
    best = np.where(np.isinf(best_oriented), np.nan,
                    best_oriented * (1.0 if study.direction == "minimize" else -1.0))
    return {"number": number, "value": value, "best": best, "state": state}


@dataclass
class EfficiencyCurve:
    """Distribution of the best-of-``s`` result for each experiment size ``s``.

    Attributes:
        sizes: the experiment sizes s (ascending).
        scores: for each size, an array of S // s results, one per experiment: the reported
            score of the experiment's best trial (or the noise-weighted average, see
            ``efficiency_curve``).
        direction: "minimize" or "maximize" (how to read the scores).
        weighted: whether validation noise was accounted for.
    """

    sizes: list[int]
    scores: list[np.ndarray]
    direction: str
    weighted: bool

    def quantiles(self, q: Sequence[float] = (0.25, 0.5, 0.75)) -> np.ndarray:
        """Array (len(sizes), len(q)) of quantiles of each size's scores."""
        return np.array([np.quantile(s, q) for s in self.scores])

    def medians(self) -> np.ndarray:
        """Median score per size, shape (len(sizes),)."""
        return np.array([np.median(s) for s in self.scores])

    def means(self) -> np.ndarray:
        """Mean score per size, shape (len(sizes),)."""
        return np.array([np.mean(s) for s in self.scores])


def _validation_and_scores(source, score_attr: str | None, direction: str | None):
    if hasattr(source, "get_trials"):  # a Study
        trials = _complete(source)
        val = np.array([t.value for t in trials], dtype=float)
        if score_attr is None:
            score = val.copy()
        else:
            missing = [t.number for t in trials if score_attr not in t.user_attrs]
            if missing:
                raise ValueError(f"trials {missing[:10]} have no user attribute {score_attr!r}")
            score = np.array([t.user_attrs[score_attr] for t in trials], dtype=float)
        return val, score, source.direction
    if direction not in ("minimize", "maximize"):
        raise ValueError("with an array of values, pass direction='minimize' or 'maximize'")
    val = np.asarray(source, dtype=float)
    if val.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {val.shape}")
    if score_attr is not None:
        raise ValueError("score_attr needs a Study")
    return val, val.copy(), direction


def efficiency_curve(source, sizes: Sequence[int] | None = None, *, score_attr: str | None = None,
                     weighted: bool = False, n_valid: int | None = None, n_sim: int = 2000,
                     seed: int = 0, direction: str | None = None) -> EfficiencyCurve:
    """Random-experiment efficiency curve (Bergstra & Bengio 2012, section 2.1).

    The S completed trials, in number order, are split into S // s disjoint experiments of s
    consecutive trials for each size s; each experiment reports the score of its best trial by
    validation value. For random search the trials are i.i.d., so these are samples of
    "the result of a random experiment of size s".

    Args:
        source: a Study (its COMPLETE trials), or a 1-D array of validation values.
        sizes: experiment sizes (default 1, 2, 4, ... up to S).
        score_attr: report this user attribute of the best trial (e.g. "test_error") instead of
            its validation value.
        weighted: the paper's treatment of validation noise: each trial of an experiment is
            weighted by the probability that it is truly the best, given that a validation
            error rate p measured on n_valid examples has variance p(1-p)/(n_valid-1); the
            probabilities are estimated by simulation (``n_sim`` draws), and the experiment
            reports the weighted mean score. Needs values in [0, 1] and ``n_valid``.
        n_valid: size of the validation set (weighted only).
        n_sim: simulation draws per experiment (weighted only).
        seed: seed of the simulation.
        direction: for an array ``source``: "minimize" or "maximize".

    Returns:
        EfficiencyCurve.
    """
    val, score, direction = _validation_and_scores(source, score_attr, direction)
    S = len(val)
    if S == 0:
        raise ValueError("no completed trials to build an efficiency curve from")
    if sizes is None:
        sizes = [1 << k for k in range(int(math.log2(S)) + 1)]
    sizes = sorted({int(s) for s in sizes})
    bad = [s for s in sizes if not 1 <= s <= S]
    if bad:
        raise ValueError(f"experiment sizes {bad} are outside 1..{S} (the number of completed trials)")
    sign = 1.0 if direction == "minimize" else -1.0
    if weighted:
        if n_valid is None or int(n_valid) < 2:
            raise ValueError(f"weighted=True needs n_valid >= 2 (the validation set size), got {n_valid!r}")
        if np.any((val < 0) | (val > 1)):
            raise ValueError("weighted=True needs validation values that are error rates in [0, 1]")
        rng = np.random.default_rng(seed)
        sd = np.sqrt(val * (1.0 - val) / (int(n_valid) - 1))
    scores = []
    for s in sizes:
        m = S // s
        v = val[: m * s].reshape(m, s)
        sc = score[: m * s].reshape(m, s)
        if not weighted:
            best = np.argmin(sign * v, axis=1)
            scores.append(sc[np.arange(m), best])
            continue
        sdb = sd[: m * s].reshape(m, s)
        out = np.empty(m)
        for i in range(m):
            draws = v[i] + sdb[i] * rng.standard_normal((n_sim, s))
            wins = np.bincount(np.argmin(sign * draws, axis=1), minlength=s) / n_sim
            out[i] = float(wins @ sc[i])
        scores.append(out)
    return EfficiencyCurve(sizes, scores, direction, bool(weighted))


def relevance(study, n_fits: int = 10, subset: float = 0.8, seed: int = 0,
              max_trials: int = 400) -> dict[str, float]:
    """Hyper-parameter relevance (Bergstra & Bengio 2012, section 5): 1 / length-scale of a
    Gaussian process with one length-scale per dimension.

    Inputs are the unit-cube coordinates (log scale where a dimension is log; an inactive
    conditional dimension sits at 0.5), the target is the standardised value of COMPLETE trials.
    Length-scales range over [0.01, 100], except that a discrete dimension's floor is half the
    spacing of its values (below that the data cannot tell length-scales apart).
    The GP (scikit-learn, Constant * anisotropic RBF + WhiteKernel) is fitted on ``n_fits``
    random subsets of ``subset`` of the trials (the paper: 50 fits on 80 %), and the
    relevance of a dimension is the mean of 1/length-scale over the fits.

    Args:
        study: a Study with at least 5 completed trials.
        n_fits: number of GP fits.
        subset: fraction of trials in each fit.
        seed: seed for the subsets and the GP optimiser.
        max_trials: use at most this many (randomly chosen) trials; a GP fit costs O(n^3).

    Returns:
        {name: relevance}, most relevant first.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import RBF, ConstantKernel, WhiteKernel

    if not 0.0 < subset <= 1.0:
        raise ValueError(f"subset must be in (0, 1], got {subset!r}")
    if int(n_fits) < 1:
        raise ValueError(f"n_fits must be >= 1, got {n_fits!r}")
    trials = [t for t in _complete(study) if math.isfinite(t.value)]
    if len(trials) < 5:
        raise ValueError(f"relevance needs at least 5 completed trials, the study has {len(trials)}")
    rng = np.random.default_rng(seed)
    if len(trials) > max_trials:
        trials = [trials[i] for i in sorted(rng.choice(len(trials), max_trials, replace=False))]
    space = study.space
    X = np.array([space.to_unit(t.params) for t in trials])
    X[np.isnan(X)] = 0.5
    y = np.array([t.value for t in trials], dtype=float)
    y = (y - y.mean()) / (y.std() or 1.0)
    d = X.shape[1]
    # Between two values of a discrete dimension there is nothing to fit: any length-scale
    # well below their spacing explains the data equally, so the optimiser would run it to
    # the floor and the dimension would look arbitrarily relevant. Floor it at half a cell.
    floors = [1e-2 if e is None else max(1e-2, 0.5 * float(np.diff(e).min()))
              for e in (space[n].cell_edges() for n in space.names)]
    bounds = np.array([[f, 1e2] for f in floors])
    k = max(2, int(round(subset * len(y))))
    inverse = np.zeros(d)
    for _ in range(int(n_fits)):
        idx = rng.choice(len(y), k, replace=False) if k < len(y) else np.arange(len(y))
        kernel = (ConstantKernel(1.0, (1e-3, 1e3))
                  * RBF(length_scale=np.full(d, 0.5), length_scale_bounds=bounds)
                  + WhiteKernel(1e-2, (1e-6, 1e1)))
        gp = GaussianProcessRegressor(kernel, normalize_y=False,
                                      random_state=int(rng.integers(2**31)))
        with warnings.catch_warnings():
            # an irrelevant dimension drives its length-scale to the bound: expected here
            warnings.simplefilter("ignore", ConvergenceWarning)
            gp.fit(X[idx], y[idx])
        inverse += 1.0 / np.atleast_1d(gp.kernel_.k1.k2.length_scale)
    inverse /= int(n_fits)
    order = np.argsort(-inverse, kind="stable")
    return {space.names[i]: float(inverse[i]) for i in order}
