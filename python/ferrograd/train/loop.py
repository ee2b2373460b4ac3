"""``fit`` and ``evaluate``: the standard supervised loop, with progress, history, early
stopping, a per-epoch callback (pruners use it) and a guard against divergence."""

from __future__ import annotations

import math
import sys
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Union

import numpy as np

from ferrograd._core import Tensor
from ferrograd.grad_mode import no_grad
from ferrograd.nn import functional as F
from ferrograd.train.early_stopping import EarlyStopping


class DivergenceError(FloatingPointError):
    """The training loss became NaN or infinite."""


class History:
    """Per-epoch metrics: ``history.records`` is a list of dicts (epoch, train_loss,
    train_acc, val_loss, val_acc, lr, time); ``history["val_acc"]`` is one column."""

    def __init__(self) -> None:
        self.records: List[Dict[str, float]] = []
        self.stopped_early = False
        self.best_epoch: Optional[int] = None

    def append(self, row: Dict[str, float]) -> None:
        self.records.append(row)

    def __getitem__(self, key: str) -> List[float]:
        return [r[key] for r in self.records if key in r]

    def __len__(self) -> int:
        return len(self.records)

    @property
    def last(self) -> Dict[str, float]:
        return self.records[-1] if self.records else {}

    def __repr__(self) -> str:
        return f"History({len(self.records)} epochs, last={self.last})"


def _accuracy_count(logits: Any, y: Any) -> int:
    pred = logits.argmax(dim=1).numpy()
    return int((pred == np.asarray(y).reshape(-1)).sum())


def evaluate(model: Any, loader: Iterable, loss_fn: Callable = F.cross_entropy) -> Dict[str, float]:
    """Mean loss and accuracy of ``model`` over ``loader``, in eval mode and without grad
    (the model's previous mode is restored). Returns {"loss": ..., "acc": ...}."""
    was_training = getattr(model, "training", False)
    model.eval()
    total, loss_sum, correct = 0, 0.0, 0
    device = _device_of(model)
    with no_grad():
        for x, y in loader:
            x, y = _to(x, device), _to(y, device)
            out = model(x)
            n = len(y)
            loss_sum += float(loss_fn(out, y).item()) * n
            correct += _accuracy_count(out, y)
            total += n
    if was_training:
        model.train()
    if total == 0:
        raise ValueError("evaluate: the loader yielded no examples")
    return {"loss": loss_sum / total, "acc": correct / total}


def _device_of(model: Any) -> str:
    """The device of the model's parameters (batches are moved there)."""
    d = getattr(model, "device", "cpu")
    return d if isinstance(d, str) else "cpu"


def _to(t: Any, device: str) -> Any:
    """``t`` on ``device`` when it is a tensor elsewhere (data loaders yield CPU tensors)."""
    if isinstance(t, Tensor) and t.device != device:
        return t.to(device)
    return t


def _fast_plan(model: Any, loss_fn: Callable) -> Any:
    """The model's one-call plan when ``fit`` may use it: a built-in-layers ``Sequential``
    trained with the default cross-entropy (see ``nn.fast``); else None."""
    from ferrograd.nn import Sequential

    if loss_fn is not F.cross_entropy or not isinstance(model, Sequential):
        return None
    if type(model).forward is not Sequential.forward or "forward" in model.__dict__:
        return None
    return model._fast_plan()


def _bar(total: int, desc: str, enabled: bool):  # type: ignore[no-untyped-def]
    if not enabled:
        return None
    try:
        from tqdm import tqdm

        return tqdm(total=total, desc=desc, leave=False, file=sys.stderr, dynamic_ncols=True)
    except ImportError:
        return None


def fit(model: Any, optimizer: Any, train_loader: Iterable, epochs: int, val_loader: Optional[Iterable] = None,
        scheduler: Any = None, loss_fn: Callable = F.cross_entropy,
        early_stopping: Union[EarlyStopping, int, None] = None,
        callback: Optional[Callable[[int, Dict[str, float]], Any]] = None,
        max_norm: Optional[float] = None, progress: bool = True, log: Optional[Callable[[str], Any]] = None) -> History:
    """Trains ``model`` for ``epochs`` passes over ``train_loader``.

    Args:
        model: an ``nn.Module`` mapping a batch of inputs to logits.
        optimizer: anything with ``zero_grad()`` and ``step()`` (``ferrograd.optim``).
        train_loader / val_loader: iterables of (inputs, labels) batches (``data.DataLoader``).
        scheduler: stepped once per epoch, after the optimizer (torch's convention).
        loss_fn: (logits, labels) → scalar loss tensor.
        early_stopping: an ``EarlyStopping``, or an int patience on "val_loss".
        callback: called as ``callback(epoch, metrics)`` after each epoch; the search's
            pruners use it (an exception it raises, e.g. ``TrialPruned``, ends training).
        max_norm: apply the dropout paper's max-norm projection after every step.
        progress: show a progress bar (tqdm, when installed) and a line per epoch.
        log: where epoch lines go (default: print to stderr when ``progress``).

    Returns a ``History``. Raises ``DivergenceError`` as soon as the training loss is NaN or
    infinite (the model is left as it was at that step).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise ValueError(f"fit: epochs must be a non-negative int, got {epochs!r}")
    if isinstance(early_stopping, int) and not isinstance(early_stopping, bool):
        early_stopping = EarlyStopping("val_loss", patience=early_stopping)
    if early_stopping is not None and val_loader is None and early_stopping.monitor.startswith("val"):
        raise ValueError("fit: early stopping on a validation metric needs a val_loader")
    if log is None:
        log = (lambda s: print(s, file=sys.stderr)) if progress else (lambda s: None)
    history = History()
    if max_norm is not None:
        from ferrograd.nn.utils import max_norm_
    device = _device_of(model)
    for epoch in range(1, epochs + 1):
        model.train()
        t0 = time.perf_counter()
        total, loss_sum, correct = 0, 0.0, 0
        n_batches = len(train_loader) if hasattr(train_loader, "__len__") else 0  # type: ignore[arg-type]
        bar = _bar(n_batches, f"epoch {epoch}/{epochs}", progress)
        plan = _fast_plan(model, loss_fn)
        for step, (x, y) in enumerate(train_loader):
            x, y = _to(x, device), _to(y, device)
            fast = plan is not None and isinstance(x, Tensor) and isinstance(y, np.ndarray) and y.dtype.kind in "iu"
            if fast:
                # Forward, loss and accuracy in one call into Rust (same ops, same results).
                loss, value, n_correct = plan.forward_loss(x, y.reshape(-1).tolist())
            else:
                out = model(x)
                loss = loss_fn(out, y)
                value = float(loss.item())
            if not math.isfinite(value):
                if bar is not None:
                    bar.close()
                raise DivergenceError(f"fit: the training loss became {value} at epoch {epoch}, step {step} "
                                      f"(try a smaller learning rate)")
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if max_norm is not None:
                max_norm_(model, max_norm)
            n = len(y)
            total += n
            loss_sum += value * n
            correct += n_correct if fast else _accuracy_count(out, y)
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{loss_sum / total:.4f}")
        if bar is not None:
            bar.close()
        row: Dict[str, float] = {"epoch": epoch, "train_loss": loss_sum / max(total, 1),
                                 "train_acc": correct / max(total, 1)}
        if val_loader is not None:
            v = evaluate(model, val_loader, loss_fn)
            row["val_loss"], row["val_acc"] = v["loss"], v["acc"]
        groups = getattr(optimizer, "param_groups", None)
        if groups:
            row["lr"] = float(groups[0]["lr"])
        if scheduler is not None:
            scheduler.step()
        row["time"] = time.perf_counter() - t0
        history.append(row)
        log("  ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
        if callback is not None:
            callback(epoch, row)
        if early_stopping is not None and early_stopping.update(epoch, row, model):
            history.stopped_early = True
            break
    if early_stopping is not None:
        history.best_epoch = early_stopping.best_epoch
        early_stopping.restore(model)
    return history
