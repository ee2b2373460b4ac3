"""The CPU thread pools (rust/backend/cpu/threads.rs): Python's main thread is worker 0 of a
pool of its own whose other workers spin between its parallel regions; other threads use
rayon's global pool. Each case runs in a fresh process (the pools are set up once, at import)
with a timeout, so a deadlock fails instead of hanging."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

# Two threads whatever the machine; one BLAS thread so that numpy's own spinning threads
# (OpenBLAS keeps its idle threads busy for ~0.1 s) do not show in the CPU-time checks.
ENV = {"RAYON_NUM_THREADS": "2", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


# The defaults these tests expect (1 ms of spinning) hold when two threads fit on the cores.
pytestmark = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2 if hasattr(os, "sched_getaffinity") else
                                (os.cpu_count() or 1) < 2, reason="needs at least 2 cores")


def run(code: str, timeout: float = 120, **env: str) -> dict:
    r = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True,
                       timeout=timeout, env={**os.environ, **ENV, **env})
    assert r.returncode == 0, f"exit {r.returncode}:\n{r.stdout[-2000:]}\n{r.stderr[-4000:]}"
    return json.loads(r.stdout.strip().splitlines()[-1])


TRAIN = """
import json, numpy as np, ferrograd as fg
from ferrograd import models, optim
import ferrograd.nn.functional as F
fg.manual_seed(0)
rng = np.random.default_rng(0)
x = rng.random((600, 784), dtype=np.float32); y = rng.integers(0, 10, 600)
model = models.mlp(784, [100, 100], 10, activation="sigmoid", batch_norm=True)
opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
losses = []
for s in range(0, 600, 60):
    loss = F.cross_entropy(model(fg.tensor(x[s:s + 60])), y[s:s + 60])
    opt.zero_grad(); loss.backward(); opt.step()
    losses.append(loss.item())
print(json.dumps({"losses": losses}))
"""


def test_spinning_does_not_change_results():
    # The 60×784×100 products and the optimizer step split across threads either way; spinning
    # changes only who is awake to take the other half, never how the work is split: the same
    # bits. (One thread splits nothing, and gemm blocks its sums differently: close, not equal.)
    spin = run(TRAIN)
    still = run(TRAIN, FERROGRAD_SPIN_US="0")
    one = run(TRAIN, RAYON_NUM_THREADS="1")
    assert spin["losses"] == still["losses"]
    assert spin["losses"] == pytest.approx(one["losses"], rel=1e-5)
    assert spin["losses"][-1] < spin["losses"][0]


def test_spinning_workers_go_quiet_when_work_stops():
    r = run("""
        import json, os, time, ferrograd as fg
        a = fg.randn(256, 256); b = fg.randn(256, 256)
        for _ in range(200):
            a @ b   # 33 MFLOP: split over both threads, the other one left spinning
        t0 = os.times(); time.sleep(0.5); t1 = os.times()
        print(json.dumps({"idle_cpu": (t1.user + t1.system) - (t0.user + t0.system)}))
    """)
    # The spinner stops 1 ms after its last job; one that never stopped would burn ~0.5 s here.
    assert r["idle_cpu"] < 0.15, r


def test_regions_started_from_other_threads_while_main_waits():
    # The main thread sits in join(): regions started by the other threads run on the global
    # pool, concurrently, and must neither wait for the main thread nor mix up their results.
    r = run("""
        import json, threading, numpy as np, ferrograd as fg
        rng = np.random.default_rng(1)
        a_np = rng.random((300, 400), dtype=np.float32); b_np = rng.random((400, 500), dtype=np.float32)
        a, b = fg.tensor(a_np), fg.tensor(b_np)
        want = (a @ b).numpy()
        errors = []
        def work():
            for _ in range(30):
                got = (a @ b).numpy()
                if not np.array_equal(got, want):
                    errors.append(float(np.abs(got - want).max()))
                (a.exp() * 2).sum().item()
        threads = [threading.Thread(target=work) for _ in range(3)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps({"errors": errors}))
    """, timeout=180)
    assert r["errors"] == []


def test_imported_from_a_thread_that_then_exits():
    # Imported first from another thread: no pool may depend on that thread (it is not made a
    # member of any), and everything keeps working after the thread has gone.
    r = run("""
        import json, threading, numpy as np
        out = {}
        def first():
            import ferrograd as fg
            a = fg.ones(512, 512)
            out["t"] = float((a @ a).sum().item())
        t = threading.Thread(target=first); t.start(); t.join()
        import ferrograd as fg
        a = fg.ones(512, 512)
        out["main"] = float((a @ a).sum().item())
        print(json.dumps(out))
    """)
    assert r["t"] == r["main"] == 512.0 ** 3


def test_spin_can_be_turned_off_at_run_time():
    r = run("""
        import json, os, time, ferrograd as fg
        before = fg.get_spin_us()
        fg.set_spin_us(10_000_000)  # 10 s: idle workers would spin through the sleep below
        a = fg.randn(256, 256)
        for _ in range(50):
            a @ a
        fg.set_spin_us(0)           # ... unless turning it off stops them
        time.sleep(0.05)
        t0 = os.times(); time.sleep(0.5); t1 = os.times()
        print(json.dumps({"before": before, "after": fg.get_spin_us(), "threads": fg.get_num_threads(),
                          "idle_cpu": (t1.user + t1.system) - (t0.user + t0.system)}))
    """)
    assert r["before"] == 1000 and r["after"] == 0 and r["threads"] == 2, r
    assert r["idle_cpu"] < 0.15, r


def test_no_spinning_by_default_when_threads_outnumber_cores():
    threads = 4 * (os.cpu_count() or 1)
    r = run("""
        import json, ferrograd as fg
        print(json.dumps({"spin": fg.get_spin_us(), "threads": fg.get_num_threads()}))
    """, RAYON_NUM_THREADS=str(threads))
    assert r == {"spin": 0, "threads": threads}


def test_spin_setting_rejects_negative_values():
    import ferrograd as fg

    with pytest.raises(ValueError, match="set_spin_us"):
        fg.set_spin_us(-1)


@pytest.mark.parametrize("value", ["0", "50", "not-a-number"])
def test_spin_setting_values(value):
    # 0 turns spinning off; an unreadable value falls back to the default.
    r = run("""
        import json, ferrograd as fg
        a = fg.ones(300, 300)
        print(json.dumps({"s": float((a @ a).sum().item()), "spin": fg.get_spin_us()}))
    """, FERROGRAD_SPIN_US=value)
    assert r["s"] == 300.0 ** 3
    assert r["spin"] == (1000 if value == "not-a-number" else int(value))


@pytest.mark.skipif(sys.platform == "win32", reason="fork is POSIX")
def test_a_forked_child_runs_parallel_ops():
    # The child has only the forking thread. As a member of the pool it runs both halves of a
    # region itself when nobody takes the other half (an outside caller would wait forever).
    r = run("""
        import json, multiprocessing as mp, ferrograd as fg
        def child(q):
            a = fg.ones(512, 512)
            q.put(float((a @ a).sum().item()) + float(a.exp().sum().item()))
        if __name__ == "__main__":
            a = fg.ones(512, 512)
            (a @ a).sum().item()
            ctx = mp.get_context("fork")
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            p.join(60)
            if p.is_alive():
                p.kill()
            print(json.dumps({"exit": p.exitcode, "value": q.get(timeout=5) if p.exitcode == 0 else None}))
    """)
    assert r["exit"] == 0, r
    assert r["value"] == pytest.approx(512.0 ** 3 + 512 * 512 * 2.718281828, rel=1e-6)


def test_a_background_thread_gets_every_worker():
    # Python's main thread is worker 0 of its own pool; other threads' ops go to rayon's global
    # pool, all of whose workers are free for them. (With the main thread in the global pool, a
    # background thread's matmuls ran on one core while the main thread sat in join().)
    r = run("""
        import json, os, threading, time, ferrograd as fg
        a = fg.randn(1024, 1024)
        out = {}
        def work():
            a @ a
            t0, c0 = time.perf_counter(), os.times()
            while time.perf_counter() - t0 < 1.0:
                a @ a
            c1 = os.times()
            out["cpu_per_wall"] = ((c1.user + c1.system) - (c0.user + c0.system)) / (time.perf_counter() - t0)
        th = threading.Thread(target=work)
        th.start()
        th.join()
        print(json.dumps(out))
    """)
    assert r["cpu_per_wall"] > 1.4, r
