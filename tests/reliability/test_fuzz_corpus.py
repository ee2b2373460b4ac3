"""Replays the checkpoint loader's fuzz corpus (tests/reliability/corpus/: a small seed corpus
and every crasher the fuzzer found, see fuzz_load.py) through ``fg.load`` in a child process:
each file gives a dict of tensors or a ValueError; a crash, a panic or any other exception fails."""
from __future__ import annotations

import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

CHILD = r"""
import json, sys
sys.path.insert(0, sys.argv[1])
from fuzz_load import check
for path in sys.argv[2:]:
    print(json.dumps({"file": path, "start": True}), flush=True)
    with open(path, "rb") as f:
        data = f.read()
    try:
        check(data)
        result = "ok"
    except AssertionError as e:
        result = f"wrong result: {e}"
    except Exception as e:
        result = f"{type(e).__name__}: {e}"
    print(json.dumps({"file": path, "result": result}), flush=True)
"""


def test_every_corpus_file_loads_or_raises_value_error():
    files = sorted(os.path.join(CORPUS, f) for f in os.listdir(CORPUS))
    assert len(files) >= 10, "the seed corpus is missing"
    r = subprocess.run([sys.executable, "-X", "faulthandler", "-c", CHILD, HERE, *files],
                       capture_output=True, text=True, timeout=120)
    lines = [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]
    started = [d["file"] for d in lines if "start" in d]
    assert r.returncode == 0, f"the loader crashed on {started[-1] if started else '?'}:\n{r.stderr[-3000:]}"
    results = {d["file"]: d["result"] for d in lines if "result" in d}
    assert sorted(results) == files
    bad = {os.path.basename(f): res for f, res in results.items() if res != "ok"}
    assert not bad, bad


def test_valid_seed_files_load_with_their_values():
    import numpy as np

    import ferrograd as fg

    out = fg.load(os.path.join(CORPUS, "valid-ferrograd.safetensors"))
    assert list(out) == ["b", "s", "w"]
    np.testing.assert_array_equal(out["w"].numpy(), np.arange(6, dtype=np.float32).reshape(2, 3))
    assert out["b"].shape == (0,) and out["s"].item() == 1.5
    mixed = os.path.join(CORPUS, "valid-mixed-dtypes.safetensors")
    if os.path.exists(mixed):
        m = fg.load(mixed)
        assert m["h"].tolist() == [1.5, -2.0] and m["i"].tolist() == [0.0, 1.0, 2.0]
        assert m["u"].tolist() == [[1.0, 0.0]] and m["d"].shape == (1, 0, 2)


def test_the_fuzzers_crashers_are_value_errors():
    import pytest

    import ferrograd as fg

    crashers = [f for f in os.listdir(CORPUS) if f.startswith(("crash-", "bad-"))]
    assert crashers
    for name in crashers:
        with pytest.raises(ValueError, match="not a valid safetensors file"):
            fg.load(os.path.join(CORPUS, name))
