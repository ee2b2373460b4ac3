"""How the size of the GPU's submission batches changes a training step's time on wgpu.

    FERROGRAD_WGPU_BATCH=N python benches/gpu_batching.py [--steps 30]

Prints, for the MLP (batch 128) and the CNN (batch 128) of benches/gpu_compare.py: the time
to record a step (no wait for the GPU), and the time per step with the device synchronised at
the end of each block of steps. With one submit per block the GPU idles while the CPU records;
smaller batches (`FERROGRAD_WGPU_BATCH`, default 1024 commands) let them overlap.
"""

import argparse
import os
import statistics
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=30)
    args = ap.parse_args()
    import ferrograd as fg
    import ferrograd.nn.functional as F
    from gpu_compare import _fg_model

    batch = os.environ.get("FERROGRAD_WGPU_BATCH", "1024 (default)")
    for kind in ("mlp", "cnn"):
        fg.manual_seed(0)
        model = _fg_model(kind).to("wgpu")
        opt = fg.optim.Adam(model.parameters(), lr=1e-3)
        rng = np.random.default_rng(0)
        shape = (128, 784) if kind == "mlp" else (128, 1, 28, 28)
        x = fg.tensor(rng.random(shape, dtype=np.float32), device="wgpu")
        y = rng.integers(0, 10, 128)

        def step():
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

        for _ in range(3):
            step()
        fg.synchronize()
        record, total = [], []
        for _ in range(3):
            t0 = time.perf_counter()
            for _ in range(args.steps):
                step()
            t1 = time.perf_counter()
            fg.synchronize()
            t2 = time.perf_counter()
            record.append((t1 - t0) / args.steps * 1e3)
            total.append((t2 - t0) / args.steps * 1e3)
        print(f"batch {batch:>14}  {kind} b128: record {statistics.median(record):6.3f} ms/step, "
              f"with the GPU {statistics.median(total):6.3f} ms/step", flush=True)


if __name__ == "__main__":
    main()
