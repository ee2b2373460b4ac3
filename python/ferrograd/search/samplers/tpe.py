"""Tree-structured Parzen estimator (Bergstra et al., NeurIPS 2011): a model-based sampler.

Completed trials are split into the best ones ("below") and the rest ("above"). Each dimension
gets two densities on its unit coordinate: l(x) from the best trials and g(x) from the rest
(mixtures of Gaussians truncated to [0, 1], with a bandwidth per observation that widens
where observations are sparse, plus a flat prior component; categorical frequencies with a
prior count for Choice dimensions). Candidates are drawn from l and the one maximising
l(x)/g(x) -- the expected-improvement criterion of the paper -- is proposed, independently per
dimension. Conditional dimensions use only the trials where they were active.

Cost per trial: O(n) to select the best trials and bin the rest, then O(candidates x bins) per
dimension -- the "above" density is evaluated on a fixed histogram once it has more points than
bins, so the time per trial grows no faster than linearly in the number of trials.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from ..space import Choice, Space
from ..trial import FrozenTrial
from .base import Sampler

__all__ = ["TPESampler"]

_BINS = 256          # resolution of the histogram that stands in for a large "above" set
_MIN_BANDWIDTH = 0.01


def _log_norm_cdf_gap(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """log(Phi(b) - Phi(a)) for a < b, accurate enough for truncation constants."""
    from scipy.special import ndtr

    return np.log(np.maximum(ndtr(b) - ndtr(a), 1e-300))


class _Parzen:
    """A mixture of Gaussians truncated to [0, 1] (one per centre, weighted, each with its
    own bandwidth) plus a flat prior component."""

    def __init__(self, centres: np.ndarray, weights: np.ndarray, bandwidth: np.ndarray | float,
                 prior_weight: float) -> None:
        total = weights.sum() + prior_weight
        self.centres = centres
        self.bandwidth = np.broadcast_to(np.asarray(bandwidth, dtype=float), centres.shape)
        self.log_w = np.log(np.maximum(weights, 1e-300) / total)
        self.log_prior = math.log(prior_weight / total) if prior_weight > 0 else -math.inf
        # log of each truncated component's normaliser
        self.log_z = _log_norm_cdf_gap(-centres / self.bandwidth, (1.0 - centres) / self.bandwidth)
        self._log_norm = np.log(self.bandwidth * math.sqrt(2 * math.pi)) + self.log_z - self.log_w

    def log_pdf(self, x: np.ndarray) -> np.ndarray:
        z = (x[:, None] - self.centres[None, :]) / self.bandwidth[None, :]
        comp = -0.5 * z * z - self._log_norm[None, :]
        both = np.concatenate([comp, np.full((len(x), 1), self.log_prior)], axis=1)
        m = both.max(axis=1, keepdims=True)
        return (m + np.log(np.exp(both - m).sum(axis=1, keepdims=True)))[:, 0]

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        from scipy.special import ndtr, ndtri

        probs = np.exp(np.append(self.log_w, self.log_prior))
        probs /= probs.sum()
        which = rng.choice(len(probs), size=n, p=probs)
        out = rng.random(n)  # the prior component: uniform on [0, 1]
        comp = which < len(self.centres)
        mu, sd = self.centres[which[comp]], self.bandwidth[which[comp]]
        # inverse-CDF sampling of a Gaussian truncated to [0, 1]
        lo, hi = ndtr(-mu / sd), ndtr((1.0 - mu) / sd)
        u = lo + rng.random(comp.sum()) * (hi - lo)
        out[comp] = np.clip(mu + sd * ndtri(np.clip(u, 1e-12, 1 - 1e-12)), 0.0, 1.0)
        return out


def _bandwidths(x: np.ndarray, n: float, floor: float) -> np.ndarray:
    """One bandwidth per centre: the larger gap to its neighbours (the interval's ends count
    as neighbours), kept between max(floor, 1 / min(100, n + 1)) and 1. A centre in a sparse
    region gets a wide kernel, so few observations never make a density collapse; the floor
    shrinks as observations accumulate."""
    order = np.argsort(x, kind="stable")
    xs = np.concatenate([[0.0], x[order], [1.0]])
    gaps = np.diff(xs)
    sd = np.empty(len(x))
    sd[order] = np.maximum(gaps[:-1], gaps[1:])
    return np.clip(sd, max(floor, 1.0 / min(100.0, n + 1.0)), 1.0)


class TPESampler(Sampler):
    """Tree-structured Parzen estimator (independent per dimension).

    Args:
        seed: the seed; None uses the study's.
        n_startup_trials: completed trials drawn at random before the model is used.
        n_candidates: candidates drawn from l(x) per dimension; the best l/g wins.
        gamma: fraction of completed trials that form the "below" (good) set ...
        max_below: ... capped at this many, so that l(x) stays sharp in long studies.
        prior_weight: weight of the flat prior component in each density (1 = one trial's worth).
    """

    name = "tpe"

    def __init__(self, seed: int | None = None, n_startup_trials: int = 10, n_candidates: int = 24,
                 gamma: float = 0.15, max_below: int = 25, prior_weight: float = 1.0) -> None:
        super().__init__(seed)
        if int(n_startup_trials) < 0:
            raise ValueError(f"n_startup_trials must be >= 0, got {n_startup_trials!r}")
        if int(n_candidates) < 1:
            raise ValueError(f"n_candidates must be >= 1, got {n_candidates!r}")
        if not 0.0 < float(gamma) < 1.0:
            raise ValueError(f"gamma must be in (0, 1), got {gamma!r}")
        if int(max_below) < 1:
            raise ValueError(f"max_below must be >= 1, got {max_below!r}")
        if not float(prior_weight) > 0:
            raise ValueError(f"prior_weight must be > 0, got {prior_weight!r}")
        self.n_startup_trials = int(n_startup_trials)
        self.n_candidates = int(n_candidates)
        self.gamma = float(gamma)
        self.max_below = int(max_below)
        self.prior_weight = float(prior_weight)
        self._X = np.empty((0, 0))
        self._y = np.empty(0)
        self._n = 0

    def bind(self, space: Space, seed: int, direction: str) -> None:
        super().bind(space, seed, direction)
        self._X = np.empty((64, len(space)))
        self._y = np.empty(64)
        self._n = 0
        self._floors = []
        for name in space.names:
            edges = space[name].cell_edges()
            # a discrete dimension's kernel should not be narrower than half a cell
            self._floors.append(_MIN_BANDWIDTH if edges is None
                                else max(_MIN_BANDWIDTH, 0.5 * float(np.diff(edges).min())))

    def tell(self, trial: FrozenTrial) -> None:
        loss = self.loss(trial)
        if loss is None:
            return
        if self._n == len(self._y):  # amortised growth: no copy of the history per trial
            self._X = np.concatenate([self._X, np.empty_like(self._X)])
            self._y = np.concatenate([self._y, np.empty_like(self._y)])
        self._X[self._n] = self._require_space().to_unit(trial.params)
        self._y[self._n] = loss
        self._n += 1

    def sample(self, number: int, history: Sequence[FrozenTrial]) -> dict[str, Any]:
        space = self._require_space()
        rng = self.rng(number)
        n = self._n
        if n < max(self.n_startup_trials, 2):
            return space.from_unit(rng.random(len(space)))
        y = self._y[:n]
        n_below = min(max(1, math.ceil(self.gamma * n)), self.max_below, n - 1)
        below = np.zeros(n, dtype=bool)
        below[np.argpartition(y, n_below - 1)[:n_below]] = True
        u = np.empty(len(space))
        for j, name in enumerate(space.names):
            col = self._X[:n, j]
            active = ~np.isnan(col)
            xb, xa = col[below & active], col[~below & active]
            dim = space[name]
            if isinstance(dim, Choice):
                u[j] = self._categorical(dim, xb, xa, rng)
            else:
                u[j] = self._continuous(xb, xa, self._floors[j], rng)
        return space.from_unit(u)

    def _density(self, x: np.ndarray, floor: float) -> _Parzen:
        if len(x) > 2 * _BINS:
            counts = np.bincount(np.minimum((x * _BINS).astype(int), _BINS - 1), minlength=_BINS)
            centres = (np.arange(_BINS) + 0.5) / _BINS
            keep = counts > 0
            centres, weights = centres[keep], counts[keep].astype(float)
            floor = max(floor, 1.0 / _BINS)  # keep the binning error below the kernel width
        else:
            centres, weights = x, np.ones(len(x))
        return _Parzen(centres, weights, _bandwidths(centres, len(x), floor), self.prior_weight)

    def _continuous(self, xb: np.ndarray, xa: np.ndarray, floor: float,
                    rng: np.random.Generator) -> float:
        if len(xb) == 0:
            return float(rng.random())
        lower, upper = self._density(xb, floor), self._density(xa, floor)
        cand = lower.sample(self.n_candidates, rng)
        return float(cand[np.argmax(lower.log_pdf(cand) - upper.log_pdf(cand))])

    def _categorical(self, dim: Choice, xb: np.ndarray, xa: np.ndarray,
                     rng: np.random.Generator) -> float:
        k = len(dim.options)
        if len(xb) == 0:
            return float(rng.random())
        def probs(x: np.ndarray) -> np.ndarray:
            idx = np.minimum((x * k).astype(int), k - 1)
            c = np.bincount(idx, minlength=k) + self.prior_weight / k
            return c / c.sum()
        pb, pa = probs(xb), probs(xa)
        cand = rng.choice(k, size=self.n_candidates, p=pb)
        best = cand[np.argmax(np.log(pb[cand]) - np.log(pa[cand]))]
        return (best + 0.5) / k

    def config(self) -> dict[str, Any]:
        return {"type": self.name, "seed": self.seed, "n_startup_trials": self.n_startup_trials,
                "n_candidates": self.n_candidates, "gamma": self.gamma,
                "max_below": self.max_below, "prior_weight": self.prior_weight}
