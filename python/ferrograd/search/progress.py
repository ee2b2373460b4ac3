"""A live progress line for Study.optimize: tqdm if installed, otherwise a plain stderr line."""
from __future__ import annotations

import sys
import time
from typing import Any

__all__ = ["ProgressBar"]


class ProgressBar:
    """Counts finished trials and shows the best value so far.

    Args:
        total: the expected number of trials (None if unknown).
        direction: the study's direction, to print "best" correctly.
        stream: where the fallback line goes (default: sys.stderr).
    """

    def __init__(self, total: int | None, direction: str = "minimize", stream: Any = None) -> None:
        self.total = total
        self.direction = direction
        self._stream = stream if stream is not None else sys.stderr
        self._count = 0
        self._best: float | None = None
        self._last_draw = 0.0
        try:
            from tqdm.auto import tqdm
        except ImportError:
            self._bar = None
        else:
            self._bar = tqdm(total=total, unit="trial", file=self._stream, dynamic_ncols=True)

    def update(self, study: Any, trial: Any) -> None:
        """Count ``trial`` (a finished FrozenTrial) and redraw."""
        self._count += 1
        if trial.state.value == "COMPLETE" and trial.value is not None:
            better = (self._best is None or (trial.value < self._best if self.direction == "minimize"
                                             else trial.value > self._best))
            if better:
                self._best = trial.value
        text = f"best {self._best:.6g}" if self._best is not None else "no result yet"
        if self._bar is not None:
            self._bar.set_postfix_str(text, refresh=False)
            self._bar.update(1)
            return
        now = time.monotonic()
        if now - self._last_draw < 0.2 and self._count != self.total:
            return  # redrawing faster than the eye helps nobody and costs the master time
        self._last_draw = now
        of = f"/{self.total}" if self.total is not None else ""
        self._stream.write(f"\rtrials {self._count}{of}  {text}   ")
        self._stream.flush()

    def close(self) -> None:
        """Finish the line."""
        if self._bar is not None:
            self._bar.close()
        elif self._count:
            self._stream.write("\n")
            self._stream.flush()
