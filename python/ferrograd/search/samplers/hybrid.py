"""HybridSampler: the adaptive explore/adjust search described with the random-search article.

Each trial either *explores* or *adjusts*, exploring with a probability that decreases with the
trial number:

* exploring finds the largest unexplored region of the unit cube and samples it. The cube is
  kept as a k-d partition in which every leaf box holds at most one evaluated point (boxes are
  halved along their longest side until points are separated). The largest unexplored region
  is either the largest empty leaf or the empty half of the largest occupied leaf, which is
  then halved: a grid-like refinement that visits big holes first.
* adjusting scores every evaluated point from its nearest neighbours (the distance-weighted
  mean of their losses), picks one point by roulette wheel on those scores, and mutates it in
  every dimension with Gaussian noise.

The search stops after ``max_trials`` trials or after ``patience`` finished trials without
improvement; the study's ``best_trial`` is the point it returns.
"""
from __future__ import annotations

import heapq
import math
from typing import Any, Sequence

import numpy as np

from ..space import Space
from ..trial import FrozenTrial, TrialState
from .base import Sampler

__all__ = ["HybridSampler"]

_SAME = 1e-12  # unit-cube coordinates closer than this are the same point


class _Partition:
    """A k-d partition of [0,1]^d whose leaves hold at most one distinct point.

    Splits are at the midpoint of a box's longest side; along a discrete dimension they are
    snapped to a cell boundary so that every box holds whole cells (a sample drawn inside a box
    then maps to a value whose cell centre lies in the same box). Splits depend only on the
    box, so the partition depends only on the set of points inserted, not on their order; an
    exploration halving is always followed by a point in its empty half, so replaying a
    study's points (when it is resumed) rebuilds the same partition.
    """

    def __init__(self, edges: list[np.ndarray | None]) -> None:
        self.d = len(edges)
        self.edges = edges
        self.centres = [None if e is None else 0.5 * (e[:-1] + e[1:]) for e in edges]
        self.lo: list[np.ndarray] = [np.zeros(self.d)]
        self.hi: list[np.ndarray] = [np.ones(self.d)]
        self.children: list[tuple[int, int, int, float] | None] = [None]  # (left, right, dim, at)
        self.points: list[list[np.ndarray]] = [[]]
        self.dead: list[bool] = [False]
        # Max-heaps (negated volumes) with lazy deletion: entries go stale when a leaf is split
        # or changes occupancy, and are dropped when they reach the top.
        self._empty: list[tuple[float, int]] = [(-1.0, 0)]
        self._occupied: list[tuple[float, int]] = []

    def volume(self, node: int) -> float:
        return float(np.prod(self.hi[node] - self.lo[node]))

    def leaf_of(self, u: np.ndarray) -> int:
        node = 0
        while self.children[node] is not None:
            left, right, dim, at = self.children[node]
            node = left if u[dim] < at else right
        return node

    def split_plan(self, node: int) -> tuple[int, float] | None:
        """(dimension, position) halving the longest splittable side of ``node``, or None."""
        lo, hi = self.lo[node], self.hi[node]
        widths = hi - lo
        for dim in np.argsort(-widths, kind="stable"):
            dim = int(dim)
            edges = self.edges[dim]
            mid = 0.5 * (lo[dim] + hi[dim])
            if edges is None:
                if widths[dim] > _SAME:
                    return dim, mid
                continue
            inner = edges[(edges > lo[dim] + _SAME) & (edges < hi[dim] - _SAME)]
            if inner.size:
                return dim, float(inner[np.argmin(np.abs(inner - mid))])
        return None

    def _push(self, node: int) -> None:
        entry = (-self.volume(node), node)
        heapq.heappush(self._occupied if self.points[node] else self._empty, entry)

    def split(self, node: int, dim: int, at: float) -> tuple[int, int]:
        ids = []
        for side in (0, 1):
            lo, hi = self.lo[node].copy(), self.hi[node].copy()
            if side == 0:
                hi[dim] = at
            else:
                lo[dim] = at
            ids.append(len(self.lo))
            self.lo.append(lo)
            self.hi.append(hi)
            self.children.append(None)
            self.points.append([])
            self.dead.append(False)
        left, right = ids
        for p in self.points[node]:
            self.points[left if p[dim] < at else right].append(p)
        self.points[node] = []
        self.children[node] = (left, right, dim, at)
        self._push(left)
        self._push(right)
        return left, right

    def _distinct(self, node: int) -> bool:
        pts = self.points[node]
        return len(pts) >= 2 and float(np.ptp(np.asarray(pts), axis=0).max()) > _SAME

    def insert(self, u: np.ndarray) -> int:
        """Add point ``u`` and split its leaf until points are separated; returns u's leaf."""
        leaf = self.leaf_of(u)
        self.points[leaf].append(u)
        if len(self.points[leaf]) == 1:
            self._push(leaf)
            return leaf
        node = leaf
        while self._distinct(node):
            plan = self.split_plan(node)
            if plan is None:
                break
            left, right = self.split(node, *plan)
            node = left if len(self.points[left]) >= 2 else right
        return self.leaf_of(u)

    def _top(self, heap: list, occupied: bool) -> int | None:
        while heap:
            node = heap[0][1]
            stale = (self.children[node] is not None or self.dead[node]
                     or bool(self.points[node]) != occupied
                     or (occupied and self.split_plan(node) is None))
            if not stale:
                return node
            heapq.heappop(heap)
        return None

    def largest_unexplored(self) -> int | None:
        """The largest empty box: an empty leaf, or the empty half of an occupied leaf (which is
        split to create it), whichever is larger. None when every cell of a discrete space is
        occupied."""
        while True:
            empty = self._top(self._empty, occupied=False)
            full = self._top(self._occupied, occupied=True)
            v_empty = self.volume(empty) if empty is not None else 0.0
            v_half = 0.5 * self.volume(full) if full is not None else 0.0
            if empty is None and full is None:
                return None
            if empty is not None and v_empty >= v_half:
                return empty
            left, right = self.split(full, *self.split_plan(full))
            for child in (left, right):
                if not self.points[child]:
                    return child
            # Both halves hold points (several equal points in one leaf): look again.

    def sample_in(self, node: int, rng: np.random.Generator) -> np.ndarray:
        """A uniform point of box ``node``; discrete coordinates are cell centres in the box."""
        lo, hi = self.lo[node], self.hi[node]
        u = rng.uniform(lo, hi)
        for dim, centres in enumerate(self.centres):
            if centres is not None:
                inside = centres[(centres >= lo[dim]) & (centres < hi[dim])]
                u[dim] = inside[rng.integers(len(inside))] if inside.size else 0.5 * (lo[dim] + hi[dim])
        return u


class HybridSampler(Sampler):
    """Adaptive explore/adjust search (see the module docstring for the method).

    Args:
        seed: the seed; None uses the study's.
        explore_start, explore_end: exploration probability at trial 0 and in the limit.
        explore_half_life: trials after which the probability has moved half way from
            ``explore_start`` to ``explore_end``: p(n) = end + (start - end) * 2**(-n / half_life).
        n_neighbors: neighbours (the point itself included) averaged into a point's score.
        mutation_scale: standard deviation of the Gaussian mutation, in unit-cube coordinates
            (1.0 spans a dimension's whole range, in log space for log dimensions).
        selection_power: the roulette wheel gives point i a slice proportional to
            ((worst score - score_i) / (worst - best)) ** selection_power; 1 is the plain
            linear wheel, larger values favour the best points more.
        max_trials: stop after this many trials (None: no limit of its own).
        patience: stop after this many finished trials without a new best (None: never).
    """

    name = "hybrid"

    def __init__(self, seed: int | None = None, explore_start: float = 1.0,
                 explore_end: float = 0.1, explore_half_life: float = 16.0, n_neighbors: int = 5,
                 mutation_scale: float = 0.1, selection_power: float = 1.0,
                 max_trials: int | None = None, patience: int | None = None) -> None:
        super().__init__(seed)
        for label, p in (("explore_start", explore_start), ("explore_end", explore_end)):
            if not 0.0 <= float(p) <= 1.0:
                raise ValueError(f"{label} must be a probability in [0, 1], got {p!r}")
        if not explore_half_life > 0:
            raise ValueError(f"explore_half_life must be > 0, got {explore_half_life!r}")
        if int(n_neighbors) < 1:
            raise ValueError(f"n_neighbors must be >= 1, got {n_neighbors!r}")
        if not mutation_scale > 0:
            raise ValueError(f"mutation_scale must be > 0, got {mutation_scale!r}")
        for label, v in (("max_trials", max_trials), ("patience", patience)):
            if v is not None and int(v) < 1:
                raise ValueError(f"{label} must be >= 1 or None, got {v!r}")
        self.explore_start = float(explore_start)
        self.explore_end = float(explore_end)
        self.explore_half_life = float(explore_half_life)
        self.n_neighbors = int(n_neighbors)
        self.mutation_scale = float(mutation_scale)
        self.selection_power = float(selection_power)
        self.max_trials = None if max_trials is None else int(max_trials)
        self.patience = None if patience is None else int(patience)
        self._reset()

    def _reset(self) -> None:
        self._tree: _Partition | None = None
        self._placed: set[int] = set()
        self._seen: set[tuple] = set()
        self._X: list[np.ndarray] = []
        self._y: list[float] = []
        self._best = math.inf
        self._since_best = 0
        self.moves: dict[int, str] = {}  # trial number -> "explore" | "adjust", for diagnostics

    def bind(self, space: Space, seed: int, direction: str) -> None:
        super().bind(space, seed, direction)
        self._reset()
        self._tree = _Partition([space[name].cell_edges() for name in space.names])

    def explore_probability(self, number: int) -> float:
        """p(number) = end + (start - end) * 2**(-number / half_life)."""
        return self.explore_end + (self.explore_start - self.explore_end) * 2.0 ** (
            -number / self.explore_half_life)

    def _unit(self, params: dict) -> np.ndarray:
        u = self._require_space().to_unit(params)
        u[np.isnan(u)] = 0.5  # an inactive dimension sits in the middle, for distances
        return u

    def _key(self, params: dict) -> tuple:
        return tuple(params.get(n) for n in self._require_space().names)

    def _place(self, number: int, params: dict) -> None:
        if number not in self._placed:
            self._placed.add(number)
            self._seen.add(self._key(params))
            self._tree.insert(self._unit(params))

    # --- the two moves ----------------------------------------------------------------------------
    def neighbour_scores(self) -> np.ndarray:
        """Score of every COMPLETE point: the inverse-distance-weighted mean loss of its
        ``n_neighbors`` nearest points (itself included). The offset in the weights 1/(d + h)
        is h = the mean nearest-neighbour distance, so a point counts about twice as much as a
        typical nearest neighbour."""
        X, y = np.asarray(self._X), np.asarray(self._y)
        k = min(self.n_neighbors, len(X))
        if k == 1:
            return y.copy()
        from scipy.spatial import cKDTree

        dist, idx = cKDTree(X).query(X, k=k)
        h = float(dist[:, 1].mean()) or 1e-9
        w = 1.0 / (dist + h)
        return (w * y[idx]).sum(axis=1) / w.sum(axis=1)

    def _adjust(self, rng: np.random.Generator) -> dict[str, Any]:
        space = self._require_space()
        scores = self.neighbour_scores()
        # roulette wheels need "bigger is better": 1 for the best score, 0 for the worst
        spread = scores.max() - scores.min()
        fitness = ((scores.max() - scores) / spread) ** self.selection_power if spread > 0 else np.ones(len(scores))
        total = fitness.sum()
        p = fitness / total if total > 0 else np.full(len(scores), 1.0 / len(scores))
        parent = self._X[int(rng.choice(len(scores), p=p))]
        sigma = self.mutation_scale
        for _ in range(8):  # a mutation that lands on an evaluated point wastes a trial
            child = parent + rng.normal(0.0, sigma, size=len(parent))
            child = np.abs(child) % 2.0  # reflect into [0, 1]
            child = np.where(child > 1.0, 2.0 - child, child)
            params = space.from_unit(child)
            if self._key(params) not in self._seen:
                break
            sigma *= 2.0
        return params

    def _explore(self, rng: np.random.Generator) -> dict[str, Any] | None:
        node = self._tree.largest_unexplored()
        if node is None:
            return None
        params = self._require_space().from_unit(self._tree.sample_in(node, rng))
        if self._tree.leaf_of(self._unit(params)) != node:
            self._tree.dead[node] = True  # rounding moved the point out; do not retry this box
        return params

    def sample(self, number: int, history: Sequence[FrozenTrial]) -> dict[str, Any]:
        rng = self.rng(number)
        explore = not self._X or rng.random() < self.explore_probability(number)
        params = self._explore(rng) if explore else None
        if params is None:
            if self._X:
                params, move = self._adjust(rng), "adjust"
            else:  # a fully explored discrete space with no result yet
                params, move = self.space.from_unit(rng.random(len(self.space))), "explore"
        else:
            move = "explore"
        self.moves[number] = move
        # Placed now, not when finished, so that concurrent explorations spread out.
        self._place(number, params)
        return params

    def tell(self, trial: FrozenTrial) -> None:
        self._place(trial.number, trial.params)
        loss = self.loss(trial)
        if loss is not None:
            self._X.append(self._unit(trial.params))
            self._y.append(loss)
        if trial.state is TrialState.COMPLETE and loss is not None and loss < self._best:
            self._best, self._since_best = loss, 0
        else:
            self._since_best += 1

    def exhausted(self, number: int) -> bool:
        if self.max_trials is not None and number >= self.max_trials:
            return True
        return self.patience is not None and self._since_best >= self.patience

    def config(self) -> dict[str, Any]:
        return {"type": self.name, "seed": self.seed, "explore_start": self.explore_start,
                "explore_end": self.explore_end, "explore_half_life": self.explore_half_life,
                "n_neighbors": self.n_neighbors, "mutation_scale": self.mutation_scale,
                "selection_power": self.selection_power,
                "max_trials": self.max_trials, "patience": self.patience}
