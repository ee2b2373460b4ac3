#!/usr/bin/env python
"""atheris fuzz target for the checkpoint loader: ``fg.load`` of any bytes must return a dict
of tensors or raise ValueError (never a panic, a crash, a hang or another exception).

    pip install atheris
    python tests/reliability/fuzz_load.py -max_total_time=300 /tmp/fuzz-corpus tests/reliability/corpus
    python tests/reliability/fuzz_load.py --make-seeds tests/reliability/corpus

The Rust extension is not built with coverage instrumentation, so libFuzzer is guided by the
Python side only; the custom mutator therefore knows the format: it rewrites the JSON header's
dtypes, shapes, offsets and length prefix with edge values (half of the time), and otherwise
mutates bytes. Crashers land in ./crash-* (libFuzzer's artifacts): copy them into
tests/reliability/corpus/ so test_fuzz_corpus.py replays them in CI.
"""
from __future__ import annotations

import json
import os
import random
import struct
import sys
import tempfile

EDGE = [0, 1, 2, 3, 4, 7, 8, 255, 256, 65535, 2**31, 2**32 - 1, 2**32, 2**62 + 1, 2**63 - 1, 2**63, 2**64 - 1, -1]
DTYPES = ["F32", "F64", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL", "U16", "U32", "U64",
          "F8_E4M3", "F8_E5M2", "C64", "", "f32", "XYZ"]
PATH = os.path.join("/dev/shm" if os.path.isdir("/dev/shm") else tempfile.gettempdir(),
                    f"fg-fuzz-{os.getpid()}.safetensors")


def split(data: bytes):
    """(header dict, payload) of a well-formed file, else None."""
    if len(data) < 8:
        return None
    (n,) = struct.unpack("<Q", data[:8])
    if n > len(data) - 8:
        return None
    try:
        header = json.loads(data[8:8 + n])
    except (ValueError, UnicodeDecodeError):
        return None
    return (header, data[8 + n:]) if isinstance(header, dict) else None


def join(header: dict, payload: bytes) -> bytes:
    h = json.dumps(header, separators=(",", ":")).encode()
    return struct.pack("<Q", len(h)) + h + payload


def mutate_header(header: dict, payload: bytes, rng: random.Random) -> bytes:
    names = [k for k in header if k != "__metadata__"]
    if not names or rng.random() < 0.1:
        name = f"t{rng.randrange(100)}"
        header[name] = {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}
        names.append(name)
    entry = header[rng.choice(names)]
    if not isinstance(entry, dict):
        entry = {}
    what = rng.randrange(6)
    if what == 0:
        entry["dtype"] = rng.choice(DTYPES)
    elif what == 1:
        entry["shape"] = [rng.choice(EDGE) if rng.random() < 0.4 else rng.randrange(5)
                          for _ in range(rng.randrange(6))]
    elif what == 2:
        entry["data_offsets"] = [rng.choice(EDGE), rng.choice(EDGE)]
    elif what == 3:
        a = rng.randrange(len(payload) + 1)
        entry["data_offsets"] = [a, a + rng.randrange(-2, 16)]
    elif what == 4:
        header["__metadata__"] = rng.choice([{"k": "v"}, {"k": 1}, [], None, {"": ""}])
    else:
        payload = payload[: rng.randrange(len(payload) + 1)] + bytes(rng.randrange(8))
    data = join(header, payload)
    if rng.random() < 0.1:  # a lying length prefix
        data = struct.pack("<Q", rng.choice(EDGE) % 2**64) + data[8:]
    return data


def custom_mutator(data: bytes, max_size: int, seed: int) -> bytes:
    import atheris

    rng = random.Random(seed)
    parsed = split(data)
    if parsed is not None and rng.random() < 0.5:
        return mutate_header(*parsed, rng)[:max_size]
    return atheris.Mutate(data, max_size)


def check(data: bytes) -> None:
    """The property: a dict of tensors, or ValueError. Anything else is a finding."""
    import ferrograd as fg

    with open(PATH, "wb") as f:
        f.write(data)
    try:
        out = fg.load(PATH)
    except ValueError:
        return
    assert isinstance(out, dict), type(out)
    for v in out.values():
        v.numpy()  # touch every element


def make_seeds(folder: str) -> None:
    import numpy as np

    import ferrograd as fg

    os.makedirs(folder, exist_ok=True)
    fg.save({"w": fg.arange(6).reshape(2, 3), "b": fg.zeros(0), "s": fg.tensor(1.5)},
            os.path.join(folder, "valid-ferrograd.safetensors"), metadata={"epoch": "3"})
    try:
        from safetensors.numpy import save_file

        save_file({"h": np.array([1.5, -2.0], np.float16), "i": np.arange(3, dtype=np.int64),
                   "u": np.array([[1, 0]], np.uint8), "d": np.ones((1, 0, 2))},
                  os.path.join(folder, "valid-mixed-dtypes.safetensors"))
    except ImportError:
        pass
    with open(os.path.join(folder, "valid-ferrograd.safetensors"), "rb") as f:
        good = f.read()
    bad = {
        "empty": b"", "short-prefix": b"\x05\x00\x00", "prefix-only": struct.pack("<Q", 2),
        "huge-prefix": struct.pack("<Q", 2**63) + b"{}", "not-json": struct.pack("<Q", 4) + b"}{}{",
        "truncated": good[:-5], "shape-overflow": join({"w": {"dtype": "F32", "shape": [2**32, 2**32],
                                                              "data_offsets": [0, 0]}}, b""),
        "offsets-past-end": join({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 2**62]}}, b"\0" * 8),
        "unknown-dtype": join({"w": {"dtype": "F8_E4M3", "shape": [2], "data_offsets": [0, 2]}}, b"\0\0"),
        "zero-dim-huge": join({"w": {"dtype": "F32", "shape": [0, 2**63], "data_offsets": [0, 0]}}, b""),
    }
    for name, data in bad.items():
        with open(os.path.join(folder, f"bad-{name}.safetensors"), "wb") as f:
            f.write(data)


def main() -> None:
    if sys.argv[1:2] == ["--make-seeds"]:
        make_seeds(sys.argv[2])
        return
    import atheris

    with atheris.instrument_imports():
        import ferrograd.serialization  # noqa: F401
    atheris.Setup(sys.argv, check, custom_mutator=custom_mutator)
    try:
        atheris.Fuzz()
    finally:
        if os.path.exists(PATH):
            os.remove(PATH)


if __name__ == "__main__":
    main()
