"""MNIST: found locally (``mnist.npz`` or the four official IDX files, gzipped or not) or
downloaded from the usual public mirrors with checksum verification."""

from __future__ import annotations

import gzip
import hashlib
import os
import pathlib
import shutil
import sys
import tempfile
import urllib.request
from typing import Dict, Iterable, List, Optional, Tuple

import numpy as np

Split = Tuple[np.ndarray, np.ndarray]

MIRRORS = [
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
]
# md5 of the official gzipped IDX files (the same files every mirror serves).
FILES = {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}


def cache_dir() -> pathlib.Path:
    """Where downloads go: $XDG_CACHE_HOME/ferrograd (default ~/.cache/ferrograd)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "ferrograd"


def _search_dirs(root: Optional[str]) -> List[pathlib.Path]:
    dirs = []
    if root is not None:
        dirs.append(pathlib.Path(root))
    if os.environ.get("FERROGRAD_DATA"):
        dirs.append(pathlib.Path(os.environ["FERROGRAD_DATA"]))
    dirs.append(cache_dir())
    return dirs


def read_idx(path: pathlib.Path) -> np.ndarray:
    """Reads an IDX file (gzipped when its name ends in .gz) into a uint8 array."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:  # type: ignore[operator]
        data = f.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (bad magic number)")
    ndim = data[3]
    header = 4 + 4 * ndim
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    expected = int(np.prod(dims))
    if len(data) - header != expected:
        raise ValueError(f"{path}: expected {expected} bytes of data for shape {dims}, found {len(data) - header}")
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)


def _find_idx(d: pathlib.Path) -> Optional[Dict[str, pathlib.Path]]:
    found = {}
    for name in FILES:
        for candidate in (d / name, d / f"{name}.gz"):
            if candidate.is_file():
                found[name] = candidate
                break
    return found if len(found) == len(FILES) else None


def _md5(path: pathlib.Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _progress(total: Optional[int], desc: str):  # type: ignore[no-untyped-def]
    try:
        from tqdm import tqdm

        return tqdm(total=total, unit="B", unit_scale=True, desc=desc, file=sys.stderr)
    except ImportError:
        class _Plain:
            def __init__(self) -> None:
                self.n = 0

            def update(self, k: int) -> None:
                self.n += k
                pct = f" {100 * self.n // total}%" if total else ""
                print(f"\r{desc}: {self.n // 1024} KiB{pct}", end="", file=sys.stderr, flush=True)

            def close(self) -> None:
                print(file=sys.stderr)

        return _Plain()


def download(dest: pathlib.Path, mirrors: Iterable[str] = MIRRORS) -> Dict[str, pathlib.Path]:
    """Downloads the four gzipped IDX files into ``dest``, verifying each md5; a file that
    fails verification is deleted and the next mirror tried."""
    dest.mkdir(parents=True, exist_ok=True)
    out = {}
    mirrors = list(mirrors)
    for name, md5 in FILES.items():
        target = dest / f"{name}.gz"
        if target.is_file() and _md5(target) == md5:
            out[name] = target
            continue
        errors = []
        for base in mirrors:
            url = base + f"{name}.gz"
            fd, tmp = tempfile.mkstemp(dir=dest, prefix=f".{name}.")
            os.close(fd)
            try:
                with urllib.request.urlopen(url, timeout=60) as r, open(tmp, "wb") as f:
                    total = r.headers.get("Content-Length")
                    bar = _progress(int(total) if total else None, f"{name}.gz")
                    for chunk in iter(lambda: r.read(1 << 16), b""):
                        f.write(chunk)
                        bar.update(len(chunk))
                    bar.close()
                got = _md5(pathlib.Path(tmp))
                if got != md5:
                    raise ValueError(f"checksum mismatch (md5 {got}, expected {md5})")
                shutil.move(tmp, target)
                out[name] = target
                break
            except Exception as e:  # noqa: BLE001 - try the next mirror, report all at the end
                errors.append(f"{url}: {e}")
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        else:
            raise RuntimeError("could not download MNIST file " + name + ":\n  " + "\n  ".join(errors))
    return out


def _split(x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray,
           flatten: bool) -> Tuple[Split, Split, Split]:
    def prep(x: np.ndarray) -> np.ndarray:
        x = x.astype(np.float32) / 255.0
        return x.reshape(len(x), -1) if flatten else x.reshape(len(x), 1, 28, 28)

    xt, yt = prep(x_train), y_train.astype(np.int64)
    return (xt[:50000], yt[:50000]), (xt[50000:], yt[50000:]), (prep(x_test), y_test.astype(np.int64))


_download = download  # the parameter of mnist() shadows the function inside it


def mnist(root: Optional[str] = None, download: bool = True, flatten: bool = True) -> Tuple[Split, Split, Split]:
    """MNIST as ((x_train, y_train), (x_val, y_val), (x_test, y_test)).

    The classic split: the first 50 000 training images for training, the last 10 000 for
    validation, and the 10 000 test images. Pixels are float32 in [0, 1]; x has shape (n, 784)
    (or (n, 1, 28, 28) with ``flatten=False``); labels are int64.

    Looks in ``root``, then ``$FERROGRAD_DATA``, then the user cache (``cache_dir()``) for
    ``mnist.npz`` (keys x_train, y_train, x_test, y_test, uint8) or the four IDX files
    (``train-images-idx3-ubyte`` etc., optionally ``.gz``). Otherwise, with ``download=True``,
    fetches the IDX files into the cache, verifying their checksums.
    """
    dirs = _search_dirs(root)
    for d in dirs:
        npz = d / "mnist.npz"
        if npz.is_file():
            with np.load(npz) as f:
                missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
                if missing:
                    raise ValueError(f"{npz}: missing arrays {sorted(missing)}")
                return _split(f["x_train"], f["y_train"], f["x_test"], f["y_test"], flatten)
        idx = _find_idx(d)
        if idx:
            return _split(read_idx(idx["train-images-idx3-ubyte"]), read_idx(idx["train-labels-idx1-ubyte"]),
                          read_idx(idx["t10k-images-idx3-ubyte"]), read_idx(idx["t10k-labels-idx1-ubyte"]), flatten)
    where = ", ".join(str(d) for d in dirs)
    if not download:
        raise FileNotFoundError(
            f"MNIST not found in {where}. Put mnist.npz (or the four IDX files) in one of them, or set "
            f"FERROGRAD_DATA to the folder that holds it, or call mnist(download=True).")
    try:
        files = _download(cache_dir())
    except RuntimeError as e:
        raise RuntimeError(
            f"{e}\nMNIST was not found locally either ({where}). If this machine is offline, copy mnist.npz "
            f"or the four IDX files into {cache_dir()} or set FERROGRAD_DATA.") from None
    return _split(read_idx(files["train-images-idx3-ubyte"]), read_idx(files["train-labels-idx1-ubyte"]),
                  read_idx(files["t10k-images-idx3-ubyte"]), read_idx(files["t10k-labels-idx1-ubyte"]), flatten)
