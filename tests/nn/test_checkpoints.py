"""fg.save / fg.load: safetensors round trips, interop with the safetensors package, and
clear errors for corrupt or truncated files."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn


def test_round_trip_preserves_values_and_names(tmp_path, rng):
    m = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    m(fg.randn(5, 4))
    path = tmp_path / "m.safetensors"
    fg.save(m.state_dict(), path, metadata={"epoch": "3"})
    back, meta = fg.load(path, with_metadata=True)
    assert meta["epoch"] == "3"
    assert sorted(back) == sorted(m.state_dict())
    for k, v in m.state_dict().items():
        np.testing.assert_array_equal(back[k].numpy(), v.numpy())
    assert not list(tmp_path.glob(".*tmp*"))  # the temporary file was renamed away


def test_files_are_readable_by_the_safetensors_package_and_vice_versa(tmp_path, rng):
    st = pytest.importorskip("safetensors.numpy")
    p1 = tmp_path / "ours.safetensors"
    fg.save({"a": fg.tensor(rng.standard_normal((2, 3))), "b": fg.arange(4)}, p1)
    theirs = st.load_file(str(p1))
    assert theirs["a"].dtype == np.float32 and theirs["a"].shape == (2, 3)
    np.testing.assert_array_equal(theirs["b"], np.arange(4, dtype=np.float32))
    p2 = tmp_path / "theirs.safetensors"
    st.save_file({"w": rng.standard_normal((3, 2)).astype(np.float32), "i": np.arange(3, dtype=np.int64),
                  "d": np.ones(2, dtype=np.float64), "h": np.array([1.5, -2.0], dtype=np.float16)}, str(p2))
    ours = fg.load(p2)
    assert ours["w"].shape == (3, 2) and ours["i"].tolist() == [0.0, 1.0, 2.0]
    assert ours["d"].tolist() == [1.0, 1.0] and ours["h"].tolist() == [1.5, -2.0]


def test_corrupt_and_truncated_files_raise_clear_errors(tmp_path):
    p = tmp_path / "m.safetensors"
    fg.save({"w": fg.ones(10, 10)}, p)
    data = p.read_bytes()
    (tmp_path / "trunc.safetensors").write_bytes(data[:-17])
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        fg.load(tmp_path / "trunc.safetensors")
    (tmp_path / "junk.safetensors").write_bytes(b"\x00" * 3)
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        fg.load(tmp_path / "junk.safetensors")
    bad_header = bytearray(data)
    bad_header[8:12] = b"}}}}"
    (tmp_path / "hdr.safetensors").write_bytes(bytes(bad_header))
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        fg.load(tmp_path / "hdr.safetensors")
    with pytest.raises(RuntimeError, match="cannot read"):
        fg.load(tmp_path / "missing.safetensors")


def test_save_rejects_bad_values(tmp_path):
    with pytest.raises(TypeError, match="not a Tensor"):
        fg.save({"w": np.ones(3)}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="mapping"):
        fg.save([fg.ones(1)], tmp_path / "x.safetensors")
    with pytest.raises(RuntimeError, match="cannot write"):
        fg.save({"w": fg.ones(1)}, tmp_path / "no" / "such" / "dir" / "x.safetensors")
