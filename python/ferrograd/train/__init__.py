"""The training loop: ``fit`` and ``evaluate``."""

from ferrograd.train.early_stopping import EarlyStopping
from ferrograd.train.loop import DivergenceError, History, evaluate, fit

__all__ = ["fit", "evaluate", "History", "EarlyStopping", "DivergenceError"]
