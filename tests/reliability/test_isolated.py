"""Runs the property tests that could crash the interpreter (props_nn.py: nn layers, losses,
optimizers, creation functions with huge sizes, autograd) in child pytest processes, one per
group, so that a segfault or an abort is a failed test here, with the child's output, rather
than a dead test run."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("hypothesis")

HERE = os.path.dirname(os.path.abspath(__file__))
GROUPS = {
    "layers": "linear or conv2d or pools",
    "normalisation": "batch_norm or dropout or prelu",
    "losses": "losses",
    "optimizers": "optimizer",
    "creation": "creation or arange or linspace or huge or devices",
    "autograd": "backward",
}


@pytest.mark.parametrize("group", [*GROUPS, "rest"])
def test_property_group_in_a_child_process(group):
    expr = GROUPS.get(group) or "not (" + " or ".join(f"({e})" for e in GROUPS.values()) + ")"
    cmd = [sys.executable, "-X", "faulthandler", "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore",
           os.path.join(HERE, "props_nn.py"), "-k", expr]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    out = r.stdout[-6000:] + r.stderr[-4000:]
    if group == "rest" and r.returncode == 5:  # every test belongs to a named group
        return
    assert r.returncode == 0, f"child exited with {r.returncode} (negative: killed by signal)\n{out}"
    assert " passed" in r.stdout and " failed" not in r.stdout, out
