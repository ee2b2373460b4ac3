"""Shared fixtures. MNIST comes from $FERROGRAD_DATA (CI points it at ../shared/data); without
it, tests that need MNIST skip and say how to provide it."""

from __future__ import annotations

import os
import pathlib

import numpy as np
import pytest


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def mnist_path() -> pathlib.Path | None:
    root = os.environ.get("FERROGRAD_DATA")
    if not root:
        return None
    p = pathlib.Path(root) / "mnist.npz"
    return p if p.exists() else None


@pytest.fixture(scope="session")
def mnist() -> dict:
    """MNIST as float32 in [0, 1]: keys x_train (60000, 784), y_train, x_test, y_test."""
    p = mnist_path()
    if p is None:
        if os.environ.get("CI"):
            pytest.fail("FERROGRAD_DATA must point at a folder holding mnist.npz in CI")
        pytest.skip("MNIST not found: set FERROGRAD_DATA to a folder holding mnist.npz")
    d = np.load(p)
    return {
        "x_train": d["x_train"].reshape(-1, 784).astype(np.float32) / 255.0,
        "y_train": d["y_train"].astype(np.int64),
        "x_test": d["x_test"].reshape(-1, 784).astype(np.float32) / 255.0,
        "y_test": d["y_test"].astype(np.int64),
    }


try:  # Hypothesis: in CI, the same examples every run (a new random failure should show up in a
    # developer's run and be fixed there, not turn a submission red at random).
    from hypothesis import settings as _hsettings

    _hsettings.register_profile("ci", derandomize=True, print_blob=True)
    if os.environ.get("CI"):
        _hsettings.load_profile("ci")
except ImportError:  # hypothesis is a test extra
    pass
