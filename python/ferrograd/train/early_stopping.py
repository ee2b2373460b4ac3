"""Early stopping on a validation metric."""

from __future__ import annotations

import math
from typing import Dict, Optional

import numpy as np


class EarlyStopping:
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    Args:
        monitor: a key of the epoch metrics ("val_loss", "val_acc", "train_loss", ...).
        patience: epochs without improvement before stopping.
        mode: "min" (losses) or "max" (accuracies); by default "max" for keys ending in
            "acc", else "min".
        min_delta: the smallest change that counts as an improvement.
        restore_best: put back the best epoch's weights when training ends.
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, mode: Optional[str] = None,
                 min_delta: float = 0.0, restore_best: bool = True) -> None:
        if patience < 0:
            raise ValueError(f"EarlyStopping: patience must be >= 0, got {patience}")
        mode = mode or ("max" if monitor.endswith("acc") else "min")
        if mode not in ("min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'min' or 'max', got {mode!r}")
        self.monitor, self.patience, self.mode, self.min_delta = monitor, patience, mode, min_delta
        self.restore_best = restore_best
        self.best: float = math.inf if mode == "min" else -math.inf
        self.best_epoch: Optional[int] = None
        self.best_state: Optional[Dict[str, np.ndarray]] = None
        self.wait = 0

    def update(self, epoch: int, metrics: Dict[str, float], model: object) -> bool:
        """Records an epoch; returns True when training should stop."""
        if self.monitor not in metrics:
            raise KeyError(f"EarlyStopping: metric {self.monitor!r} not available (have {sorted(metrics)}); "
                           f"monitoring a validation metric needs a val_loader")
        value = metrics[self.monitor]
        better = value < self.best - self.min_delta if self.mode == "min" else value > self.best + self.min_delta
        if better:
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best:
                self.best_state = {k: v.numpy() for k, v in model.state_dict().items()}  # type: ignore[attr-defined]
            return False
        self.wait += 1
        return self.wait > self.patience

    def restore(self, model: object) -> None:
        """Loads the best epoch's weights back into ``model`` (if they were kept)."""
        if self.restore_best and self.best_state is not None:
            model.load_state_dict(self.best_state)  # type: ignore[attr-defined]
