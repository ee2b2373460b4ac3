"""Running trials: in the master process, or on any concurrent.futures.Executor.

Workers never touch the storage. A worker's ``trial.report`` goes to the master over a socket
(``multiprocessing.connection`` with a random key); the master records it, asks the pruner, and
answers, so pruning decisions are always made by the master with everything it knows. The same
channel works for local worker processes and for Dask workers (or any executor whose workers
can reach the master's address).

A runner tells the study's loop what happened through events:
``("done", number, Outcome)`` and ``("report", (number, step, value), reply)`` where ``reply``
is a function that sends the prune decision back.
"""
from __future__ import annotations

import collections
import concurrent.futures as cf
import math
import multiprocessing
import os
import pickle
import queue
import threading
import time
import traceback
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing.connection import Client, Listener
from typing import Any, Callable

from .trial import Trial, TrialPruned, TrialState, as_float

__all__ = ["Outcome", "evaluate", "run_trial", "InProcessRunner", "ExecutorRunner", "resolve_n_jobs"]


@dataclass
class Outcome:
    """What became of one evaluation of the objective (sent back from workers)."""

    state: TrialState
    value: float | None = None
    error: str | None = None
    exception: BaseException | None = None   # the objective's exception, for ``catch``
    start: float | None = None
    end: float | None = None
    user_attrs: dict = field(default_factory=dict)


def evaluate(objective: Callable, trial: Trial) -> Outcome:
    """Call ``objective(trial.params, trial)`` and classify the result.

    COMPLETE with a finite float; PRUNED if it raised TrialPruned; FAIL if it raised, returned a
    non-number (TypeError) or returned NaN/inf. Only BaseExceptions that are not Exceptions
    (KeyboardInterrupt, SystemExit) escape.
    """
    start = time.time()
    try:
        raw = objective(trial.params, trial)
        value = as_float(raw, "the objective's return value")
    except TrialPruned:
        return Outcome(TrialState.PRUNED, start=start, end=time.time(), user_attrs=trial.user_attrs)
    except Exception as e:  # noqa: BLE001 -- every failure of user code is recorded, then judged
        return Outcome(TrialState.FAIL, error=traceback.format_exc(), exception=e, start=start,
                       end=time.time(), user_attrs=trial.user_attrs)
    if not math.isfinite(value):
        return Outcome(TrialState.FAIL, error=f"the objective returned {value!r}", start=start,
                       end=time.time(), user_attrs=trial.user_attrs)
    return Outcome(TrialState.COMPLETE, value=value, start=start, end=time.time(),
                   user_attrs=trial.user_attrs)


class DirectChannel:
    """In-process channel: a report is a plain call into the master."""

    def __init__(self, on_report: Callable[[int, int, float], bool]) -> None:
        self.report = on_report


class _SocketChannel:
    """Worker side of the report channel; connects on the first report only."""

    def __init__(self, address: Any, authkey: bytes) -> None:
        self._address = address
        self._authkey = authkey
        self._conn = None

    def report(self, number: int, step: int, value: float) -> bool:
        if self._conn is None:
            self._conn = Client(self._address, authkey=self._authkey)
        self._conn.send((number, step, value))
        return self._conn.recv()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


def run_trial(objective: Callable, number: int, params: dict, seed: int, address: Any,
              authkey: bytes) -> Outcome:
    """Worker entry point: evaluate one trial, reporting to the master at ``address``."""
    # Trials in worker processes share the cores with each other: idle CPU threads sleep at
    # once instead of spinning for more work.
    from ferrograd import set_spin_us

    set_spin_us(0)
    channel = _SocketChannel(address, authkey)
    try:
        outcome = evaluate(objective, Trial(number, params, seed, channel))
    finally:
        channel.close()
    if outcome.exception is not None:
        try:  # the master needs the exception only to match it against ``catch``
            pickle.dumps(outcome.exception)
        except Exception:  # noqa: BLE001
            outcome.exception = RuntimeError(outcome.error)
    return outcome


class _ReportServer:
    """Master side of the report channel: a listener thread, one reader thread per worker
    connection; reports become events on the study's queue."""

    def __init__(self, events: "queue.Queue", host: str) -> None:
        self._events = events
        self.authkey = os.urandom(32)
        self._listener = Listener((host, 0), authkey=self.authkey)
        self.address = self._listener.address
        self._closed = False
        self._conns: list = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="search-report-listener", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn = self._listener.accept()
            except (OSError, EOFError, multiprocessing.AuthenticationError):
                if self._closed:
                    return
                continue
            if self._closed:
                conn.close()
                return
            with self._lock:
                self._conns.append(conn)
            threading.Thread(target=self._read, args=(conn,), name="search-report-reader",
                             daemon=True).start()

    def _read(self, conn) -> None:
        def reply(decision: bool) -> None:
            try:
                conn.send(bool(decision))
            except OSError:
                pass  # the worker is gone; its outcome will say why
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            self._events.put(("report", message, reply))
        with self._lock:
            if conn in self._conns:
                self._conns.remove(conn)
        conn.close()

    def close(self) -> None:
        self._closed = True
        try:  # wake the blocked accept() so that its thread can exit
            Client(self.address, authkey=self.authkey).close()
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()


def resolve_n_jobs(n_jobs: int | None, executor: cf.Executor | None) -> int:
    """How many trials may run at once. None: 1 without an executor, else what the executor
    reports (``_max_workers``, or a Dask cluster's thread count); -1: one per CPU."""
    if n_jobs is not None:
        if isinstance(n_jobs, bool) or not isinstance(n_jobs, int):
            raise TypeError(f"n_jobs must be an int or None, got {n_jobs!r}")
        if n_jobs == -1:
            return os.cpu_count() or 1
        if n_jobs < 1:
            raise ValueError(f"n_jobs must be >= 1 or -1, got {n_jobs}")
        return n_jobs
    if executor is None:
        return 1
    workers = getattr(executor, "_max_workers", None)
    if workers:
        return int(workers)
    client = getattr(executor, "_client", None)  # distributed.cfexecutor.ClientExecutor
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # noqa: BLE001 -- any failure here just means "unknown"
            pass
    return 1


class InProcessRunner:
    """Runs each trial in the calling process, one at a time (lambdas and closures work)."""

    def __init__(self, objective: Callable, on_report: Callable[[int, int, float], bool]) -> None:
        self._objective = objective
        self._channel = DirectChannel(on_report)
        self._pending: collections.deque = collections.deque()
        self.n_jobs = 1
        self.broken: RuntimeError | None = None  # never: nothing here can break

    # The runner interface the study's loop uses (ExecutorRunner has the same).
    @property
    def free(self) -> int:
        """How many more trials may be submitted now."""
        return 1 - len(self._pending)

    @property
    def idle(self) -> bool:
        """True when no trial is pending or running."""
        return not self._pending

    def submit(self, number: int, params: dict, seed: int) -> None:
        """Start trial ``number`` with ``params``; ``seed`` becomes ``trial.seed``."""
        self._pending.append((number, params, seed))

    def next_event(self, block: bool = True):
        """The next ("done", ...) or ("report", ...) event; None if there is none and
        ``block`` is False (or nothing runs). Here: runs the pending trial to completion."""
        if not self._pending or not block:
            return None
        number, params, seed = self._pending[0]
        outcome = evaluate(self._objective, Trial(number, params, seed, self._channel))
        self._pending.popleft()
        return ("done", number, outcome)

    def close(self, abort: bool = False) -> None:
        """Release resources; ``abort`` abandons trials still running."""
        self._pending.clear()


class ExecutorRunner:
    """Runs trials on a concurrent.futures.Executor, at most ``n_jobs`` at a time.

    With ``executor=None`` it owns a ProcessPoolExecutor of ``n_jobs`` spawned processes; when
    a worker process dies the pool breaks, every trial in flight is recorded as FAIL and a
    fresh pool is started. A broken pool that the caller owns cannot be replaced: the runner
    then raises RuntimeError after recording the lost trials.
    """

    def __init__(self, objective: Callable, n_jobs: int, executor: cf.Executor | None = None,
                 host: str = "127.0.0.1") -> None:
        self._objective = objective
        self.n_jobs = n_jobs
        self._owned = executor is None
        if self._owned:
            try:
                pickle.dumps(objective)
            except Exception as e:  # noqa: BLE001
                raise TypeError(
                    f"the objective must be picklable to run in worker processes (n_jobs={n_jobs}): "
                    f"{e}. Define it at module level, or use n_jobs=1 to run it in this process."
                ) from e
        self._executor = executor if executor is not None else self._new_pool()
        self._events: queue.Queue = queue.Queue()
        self._server = _ReportServer(self._events, host)
        self._inflight: dict[int, cf.Future] = {}
        self._synthetic: collections.deque = collections.deque()
        self.broken: RuntimeError | None = None  # set when a caller's process pool broke

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        # spawn, not fork: the master has threads (report listener) and maybe a GPU context.
        return cf.ProcessPoolExecutor(self.n_jobs, mp_context=multiprocessing.get_context("spawn"),
                                      initializer=_exit_with_parent, initargs=(os.getpid(),))

    @property
    def free(self) -> int:
        return self.n_jobs - len(self._inflight)

    @property
    def idle(self) -> bool:
        return not self._inflight and not self._synthetic

    def submit(self, number: int, params: dict, seed: int) -> None:
        future = self._executor.submit(run_trial, self._objective, number, params, seed,
                                       self._server.address, self._server.authkey)
        self._inflight[number] = future
        future.add_done_callback(lambda f, n=number: self._events.put(("done", n, f)))

    def next_event(self, block: bool = True):
        while True:
            if self._synthetic:
                return self._synthetic.popleft()
            try:
                event = self._events.get(block=block)
            except queue.Empty:
                return None
            if event[0] != "done":
                return event
            _, number, future = event
            if self._inflight.get(number) is not future:
                continue  # a future of a pool already written off
            del self._inflight[number]
            try:
                return ("done", number, future.result())
            except BrokenProcessPool as e:
                self._pool_broke(number, e)
            except cf.CancelledError:
                return ("done", number, _lost("the trial was cancelled"))
            except Exception as e:  # noqa: BLE001 -- the executor, not the objective, failed
                return ("done", number, _lost(f"the executor failed to run the trial: "
                                              f"{type(e).__name__}: {e}"))

    def _pool_broke(self, number: int, error: BaseException) -> None:
        lost = [number, *self._inflight]
        self._inflight.clear()
        message = (f"a worker process died abruptly while this trial was running "
                   f"(trials in flight: {lost}): {error}")
        for n in lost:
            self._synthetic.append(("done", n, _lost(message)))
        if self._owned:
            self._executor.shutdown(wait=False)
            self._executor = self._new_pool()
        else:
            self.broken = RuntimeError(
                "the executor's process pool is broken (a worker died); trials "
                f"{lost} were recorded as failed. Pass a fresh executor to continue.")

    def close(self, abort: bool = False) -> None:
        self._server.close()
        if self._owned:
            if abort:
                for process in list(getattr(self._executor, "_processes", {}).values()):
                    process.terminate()  # do not wait for trials nobody will record
            self._executor.shutdown(wait=not abort, cancel_futures=abort)
        elif abort:
            for future in self._inflight.values():
                future.cancel()
        self._inflight.clear()


def _exit_with_parent(parent: int) -> None:
    """Pool worker initializer: exit when the master dies. A killed master cannot shut its pool
    down, and its workers would otherwise wait for work forever (they hold the task pipe's
    write end themselves, so they never see it close)."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    if os.name == "posix":  # elsewhere a child's parent id does not change when the parent dies
        threading.Thread(target=watch, name="search-parent-watch", daemon=True).start()


def _lost(message: str) -> Outcome:
    now = time.time()
    return Outcome(TrialState.FAIL, error=message, start=None, end=now)
