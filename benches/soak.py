#!/usr/bin/env python
"""Soak test: many training steps of a small model, watching for leaks.

    python benches/soak.py                    # 20 000 steps (about a minute on 2 cores)
    python benches/soak.py --steps 3000 --warmup 1000 --json

Trains an MLP with every common piece in the loop (Linear, BatchNorm1d, PReLU, Dropout,
cross-entropy, Adam with weight decay, an LR schedule, grad clipping, a no_grad evaluation and
a checkpoint round trip every `--every` steps) and samples, every `--every` steps, the resident
memory (RSS) and the number of live tensors (``ferrograd._core._live_tensors()``).

Pass criteria (exit status 1 otherwise): RSS grows by less than `--max-growth` (5 %) from the
end of warm-up to the end, and the live-tensor count at every sample after warm-up equals the
count at the end of warm-up (nothing accumulates, not even one tensor per step).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time

import numpy as np


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def soak(steps: int, warmup: int, every: int, seed: int = 0) -> dict:
    import ferrograd as fg
    from ferrograd import nn, optim
    from ferrograd.nn import functional as F
    from ferrograd.nn.utils import clip_grad_norm_

    fg.manual_seed(seed)
    rng = np.random.default_rng(seed)
    x_all = rng.standard_normal((2048, 64)).astype(np.float32)
    w_true = rng.standard_normal((64, 10)).astype(np.float32)
    y_all = (x_all @ w_true).argmax(axis=1)
    model = nn.Sequential(nn.Linear(64, 128), nn.BatchNorm1d(128), nn.PReLU(128), nn.Dropout(0.2),
                          nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-4)
    sched = optim.lr_scheduler.StepLR(opt, step_size=5000, gamma=0.5)
    ckpt = os.path.join(tempfile.mkdtemp(prefix="fg-soak-"), "m.safetensors")
    samples = []
    t0 = time.perf_counter()
    first_loss = last_loss = None
    for step in range(1, steps + 1):
        i = (step * 64) % 2048
        x, y = fg.tensor(x_all[i:i + 64]), y_all[i:i + 64]
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        sched.step()
        last_loss = loss.item()
        first_loss = last_loss if first_loss is None else first_loss
        del x, loss
        if step % every == 0:
            model.eval()
            with fg.no_grad():
                acc = float((model(fg.tensor(x_all)).argmax(dim=1).numpy() == y_all).mean())
            model.train()
            fg.save(model.state_dict(), ckpt)
            model.load_state_dict(fg.load(ckpt))
            samples.append({"step": step, "rss": rss_bytes(), "live": fg._core._live_tensors(),
                            "loss": last_loss, "acc": acc})
    elapsed = time.perf_counter() - t0
    os.remove(ckpt)
    warm = [s for s in samples if s["step"] >= warmup]
    base = warm[0]
    end = samples[-1]
    growth = (end["rss"] - base["rss"]) / base["rss"]
    live_after = sorted({s["live"] for s in warm})
    return {
        "steps": steps, "warmup": warmup, "steps_per_s": steps / elapsed,
        "rss_after_warmup_mib": base["rss"] / 2**20, "rss_end_mib": end["rss"] / 2**20,
        "rss_max_mib": max(s["rss"] for s in warm) / 2**20, "rss_growth": growth,
        "live_tensors_after_warmup": base["live"], "live_tensors_end": end["live"],
        "live_tensor_counts_seen": live_after, "first_loss": first_loss, "last_loss": last_loss,
        "final_acc": end["acc"], "samples": samples,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=20_000)
    ap.add_argument("--warmup", type=int, default=2_000)
    ap.add_argument("--every", type=int, default=500)
    ap.add_argument("--max-growth", type=float, default=0.05)
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    args = ap.parse_args()
    r = soak(args.steps, args.warmup, args.every)
    ok = r["rss_growth"] < args.max_growth and len(r["live_tensor_counts_seen"]) == 1
    r["ok"] = ok
    if args.json:
        print(json.dumps(r))
    else:
        print(f"{r['steps']} steps at {r['steps_per_s']:.0f} steps/s; loss {r['first_loss']:.3f} -> "
              f"{r['last_loss']:.3f}, accuracy {r['final_acc']:.3f}")
        print(f"RSS after warm-up {r['rss_after_warmup_mib']:.1f} MiB, at the end {r['rss_end_mib']:.1f} MiB "
              f"(max {r['rss_max_mib']:.1f}): growth {100 * r['rss_growth']:+.2f} % (limit {100 * args.max_growth:.0f} %)")
        print(f"live tensors after warm-up {r['live_tensors_after_warmup']}, at the end {r['live_tensors_end']}, "
              f"counts seen after warm-up {r['live_tensor_counts_seen']}")
        print("PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
