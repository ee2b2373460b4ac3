"""ferrograd.search: hyper-parameter search (grid, random, quasi-random, adaptive, TPE) with
pruning, SQLite-backed studies, process and Dask execution, and the analyses of Bergstra &
Bengio (2012): random-experiment efficiency curves and hyper-parameter relevance.

    from ferrograd import search
    space = search.Space({"lr": search.LogUniform(1e-4, 1e-1), "units": search.IntLogUniform(16, 512)})
    study = search.Study(space, sampler=search.SobolSampler(), storage="sqlite:///runs.db", name="mlp")
    study.optimize(lambda params, trial: train(**params), n_trials=64)
    study.best_params
"""
from __future__ import annotations

from .analysis import EfficiencyCurve, efficiency_curve, history, relevance
from .plots import plot_efficiency_curve, plot_history, plot_relevance
from .pruners import MedianPruner, NopPruner, Pruner, SuccessiveHalvingPruner, make_pruner
from .samplers import (GridSampler, HybridSampler, RandomSampler, Sampler, SobolSampler,
                       TPESampler, make_sampler)
from .space import Choice, Dimension, IntLogUniform, IntUniform, LogUniform, Space, Uniform
from .storage import (InMemoryStorage, SQLiteStorage, Storage, StorageError, StudyExistsError,
                      StudyNotFoundError)
from .study import Study, load_study
from .trial import FrozenTrial, Trial, TrialPruned, TrialState

__all__ = [
    "Space", "Dimension", "Uniform", "LogUniform", "IntUniform", "IntLogUniform", "Choice",
    "Sampler", "GridSampler", "RandomSampler", "SobolSampler", "HybridSampler", "TPESampler",
    "make_sampler",
    "Pruner", "NopPruner", "MedianPruner", "SuccessiveHalvingPruner", "make_pruner",
    "Study", "load_study", "Trial", "FrozenTrial", "TrialState", "TrialPruned",
    "Storage", "InMemoryStorage", "SQLiteStorage", "StorageError", "StudyExistsError",
    "StudyNotFoundError",
    "efficiency_curve", "EfficiencyCurve", "relevance", "history",
    "plot_history", "plot_efficiency_curve", "plot_relevance",
]
