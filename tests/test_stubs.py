"""The hand-written stub `_core.pyi` matches the compiled module (mypy's stubtest)."""

from __future__ import annotations

import subprocess
import sys

import pytest


def test_stubtest_agrees_with_the_extension(tmp_path):
    pytest.importorskip("mypy")
    proc = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "ferrograd._core"],
        capture_output=True, text=True, timeout=600, cwd=tmp_path,  # mypy's cache goes to tmp
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_package_is_typed():
    import importlib.resources

    assert importlib.resources.files("ferrograd").joinpath("py.typed").is_file()
