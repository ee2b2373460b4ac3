"""DataLoader batching and shuffling, and the data sets (never downloading)."""

from __future__ import annotations

import gzip
import os

import numpy as np
import pytest

import ferrograd as fg
from ferrograd.data import DataLoader, Dataset, TensorDataset
from ferrograd.datasets import digits, mnist
import ferrograd.datasets.mnist_loader as mnist_mod


def test_loader_batches_cover_the_data_once():
    x = np.arange(10, dtype=np.float32).reshape(10, 1)
    y = np.arange(10)
    dl = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and [len(b[1]) for b in batches] == [4, 4, 2]
    assert isinstance(batches[0][0], fg.Tensor) and isinstance(batches[0][1], np.ndarray)
    assert np.concatenate([b[1] for b in batches]).tolist() == list(range(10))
    dl2 = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dl2) == 2 and [len(b[1]) for b in dl2] == [4, 4]


def test_shuffle_is_seeded_and_changes_per_epoch():
    ds = TensorDataset(np.arange(100, dtype=np.float32), np.arange(100))
    a = DataLoader(ds, batch_size=100, shuffle=True, seed=3)
    b = DataLoader(ds, batch_size=100, shuffle=True, seed=3)
    e1a, e2a = [next(iter(a))[1] for _ in range(2)]
    e1b = next(iter(b))[1]
    np.testing.assert_array_equal(e1a, e1b)
    assert not np.array_equal(e1a, e2a)
    assert sorted(e1a.tolist()) == list(range(100))


def test_map_style_dataset_without_get_batch():
    class Squares(Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float32), i

    x, y = next(iter(DataLoader(Squares(), batch_size=5)))
    assert x.shape == (5, 2) and x.numpy()[3].tolist() == [3.0, 9.0] and y.tolist() == [0, 1, 2, 3, 4]


def test_bad_arguments():
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(np.zeros(3)), batch_size=0)
    with pytest.raises(ValueError, match="rows"):
        TensorDataset(np.zeros(3), np.zeros(4))
    with pytest.raises(TypeError, match="Dataset"):
        DataLoader(5)


def test_digits_split():
    (xtr, ytr), (xva, yva), (xte, yte) = digits()
    assert xtr.shape == (1197, 64) and xva.shape == (300, 64) and xte.shape == (300, 64)
    assert xtr.dtype == np.float32 and ytr.dtype == np.int64
    assert 0.0 <= xtr.min() and xtr.max() <= 1.0 and set(np.unique(ytr)) == set(range(10))


def _write_idx(path, arr, gz):
    header = bytes([0, 0, 8, arr.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in arr.shape)
    data = header + arr.astype(np.uint8).tobytes()
    (gzip.open if gz else open)(path, "wb").write(data)


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_reads_idx_files_from_root(tmp_path, monkeypatch, gz):
    monkeypatch.delenv("FERROGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    xtr = rng.integers(0, 256, (60000, 28, 28))
    ytr = rng.integers(0, 10, 60000)
    xte = rng.integers(0, 256, (10000, 28, 28))
    yte = rng.integers(0, 10, 10000)
    sfx = ".gz" if gz else ""
    for name, arr in [("train-images-idx3-ubyte", xtr), ("train-labels-idx1-ubyte", ytr),
                      ("t10k-images-idx3-ubyte", xte), ("t10k-labels-idx1-ubyte", yte)]:
        _write_idx(tmp_path / (name + sfx), arr, gz)
    (a, b), (c, d), (e, f) = mnist(root=str(tmp_path), download=False, flatten=False)
    assert a.shape == (50000, 1, 28, 28) and c.shape == (10000, 1, 28, 28) and e.shape == (10000, 1, 28, 28)
    np.testing.assert_allclose(a[7, 0], xtr[7] / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(d, ytr[50000:])
    np.testing.assert_array_equal(f, yte)


def test_mnist_not_found_offline_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.delenv("FERROGRAD_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match="FERROGRAD_DATA"):
        mnist(root=str(tmp_path / "nowhere"), download=False)


def test_idx_reader_rejects_corrupt_files(tmp_path):
    p = tmp_path / "bad-idx"
    p.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 5, 1, 2]))
    with pytest.raises(ValueError, match="expected 5 bytes"):
        mnist_mod.read_idx(p)
    p.write_bytes(b"\x01\x02\x03\x04")
    with pytest.raises(ValueError, match="magic"):
        mnist_mod.read_idx(p)


def test_download_verifies_checksums_and_tries_the_next_mirror(tmp_path, monkeypatch):
    """Exercises the downloader against local file:// mirrors (no network): a mirror serving a
    corrupt file is rejected by its checksum, the next mirror's good file is kept."""
    good, bad = tmp_path / "good", tmp_path / "bad"
    good.mkdir(), bad.mkdir()
    fake = {}
    for name in mnist_mod.FILES:
        payload = gzip.compress(name.encode() * 10)
        (good / f"{name}.gz").write_bytes(payload)
        (bad / f"{name}.gz").write_bytes(b"corrupt")
        import hashlib

        fake[name] = hashlib.md5(payload).hexdigest()
    monkeypatch.setattr(mnist_mod, "FILES", fake)
    dest = tmp_path / "dest"
    files = mnist_mod.download(dest, mirrors=[bad.as_uri() + "/", good.as_uri() + "/"])
    assert sorted(files) == sorted(fake)
    for name, path in files.items():
        assert path.read_bytes() == (good / f"{name}.gz").read_bytes()
    assert not [p for p in os.listdir(dest) if p.startswith(".")]  # no temporary files left
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        mnist_mod.download(tmp_path / "dest2", mirrors=[bad.as_uri() + "/"])


def test_mnist_from_shared_npz(mnist):
    """The real file, through the loader's own search path ($FERROGRAD_DATA)."""
    (xtr, ytr), (xva, yva), (xte, yte) = mnist_mod.mnist(download=False)
    assert xtr.shape == (50000, 784) and xva.shape == (10000, 784) and xte.shape == (10000, 784)
    assert abs(float(xtr.mean()) * 255 - 33.3) < 1.0
    np.testing.assert_array_equal(yte, mnist["y_test"])


def test_take_rows_gathers_like_numpy_and_refuses_bad_input():
    from ferrograd import _core
    a = np.arange(60, dtype=np.float32).reshape(5, 3, 4)
    idx = np.array([4, 0, -1, 2], dtype=np.int64)
    np.testing.assert_array_equal(_core.take_rows(a, idx).numpy(), a[idx])
    assert _core.take_rows(a, np.array([], dtype=np.int64)).shape == (0, 3, 4)
    with pytest.raises(IndexError, match="out of bounds"):
        _core.take_rows(a, np.array([5], dtype=np.int64))
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.take_rows(a.transpose(1, 0, 2).copy().transpose(1, 0, 2), idx)
    with pytest.raises(TypeError):
        _core.take_rows(a.astype(np.float64), idx)


def test_tensor_dataset_batches_are_float32_tensors_and_int_labels():
    x = np.random.default_rng(0).random((10, 2, 3))  # float64 in, float32 batches out
    y = np.arange(10)
    xb, yb = TensorDataset(x, y).get_batch([3, 1])
    assert isinstance(xb, fg.Tensor) and xb.shape == (2, 2, 3)
    np.testing.assert_allclose(xb.numpy(), x[[3, 1]].astype(np.float32))
    assert yb.dtype.kind == "i" and yb.tolist() == [3, 1]
