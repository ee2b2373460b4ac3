"""scikit-learn's bundled 8×8 handwritten digits: the embedded default data set (no download)."""

from __future__ import annotations

from typing import Tuple

import numpy as np

Split = Tuple[np.ndarray, np.ndarray]


def digits(seed: int = 0) -> Tuple[Split, Split, Split]:
    """The 1 797 8×8 digits of ``sklearn.datasets.load_digits``, scaled to [0, 1].

    Returns ((x_train, y_train), (x_val, y_val), (x_test, y_test)): x float32 of shape (n, 64),
    y int64. The split is a fixed shuffle (``seed``, default 0): 1 197 train, 300 validation,
    300 test examples. Needs scikit-learn (``pip install scikit-learn``).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError("ferrograd.datasets.digits needs scikit-learn: pip install scikit-learn") from e
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32)
    y = y.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    tr, va, te = order[:1197], order[1197:1497], order[1497:]
    return (x[tr], y[tr]), (x[va], y[va]), (x[te], y[te])
