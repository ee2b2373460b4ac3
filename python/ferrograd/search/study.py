"""The Study: the master that samples, records and decides (Bergstra & Bengio's "master
process keeps track of the trials that have completed, the trials that are in progress, the
trials that were started but failed"). Trials run in workers; only the master writes storage.
"""
from __future__ import annotations

import collections
import concurrent.futures as cf
import logging
import math
import os
import secrets
import socket
import time
import uuid
from collections.abc import Mapping
from typing import Any, Callable, Iterable, Sequence

from .executors import ExecutorRunner, InProcessRunner, Outcome, resolve_n_jobs
from .pruners import Pruner, make_pruner, pruner_from_config
from .samplers import Sampler, make_sampler, sampler_from_config
from .space import Space
from .storage import SQLiteStorage, Storage, StorageError, StudyExistsError, make_storage
from .trial import FrozenTrial, TrialState, trial_seed

__all__ = ["Study", "load_study"]

logger = logging.getLogger("ferrograd.search")

DIRECTIONS = ("minimize", "maximize")
INTERRUPTED = "interrupted: the master process stopped while this trial was running"

# (storage key, study name) pairs this process is optimising right now: a lease naming this
# process is only alive if it is listed here.
_ACTIVE: set[tuple[str, str]] = set()


def _storage_key(storage: Storage) -> str:
    if isinstance(storage, SQLiteStorage):
        return os.path.abspath(storage.path)
    return f"memory:{id(storage)}"


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send CTRL_C_EVENT there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child that nobody reaped yet is a zombie: dead for our purpose
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


class Study:
    """A hyper-parameter search: a space, a sampler, a pruner and the record of all trials.

    Args:
        space: a Space (or a mapping {name: Dimension}).
        sampler: a Sampler, a sampler name ("grid", "random", "sobol", "hybrid", "tpe"), or None
            for RandomSampler. One sampler instance per study (it keeps state).
        pruner: a Pruner, a pruner name ("none", "median", "asha"), or None for no pruning.
        direction: "minimize" or "maximize" the objective's value.
        storage: None (in memory), a Storage, or "sqlite:///path.db".
        name: the study's name in the storage; None makes a unique one.
        seed: the study seed; every trial's randomness derives from (seed, trial number).
            None draws one (and stores it, so the study stays reproducible).
        load_if_exists: if the storage already holds ``name``, continue it instead of raising
            StudyExistsError (the space must be the same).
    """

    def __init__(self, space: Space | Mapping, sampler: Sampler | str | None = None,
                 pruner: Pruner | str | None = None, direction: str = "minimize",
                 storage: Storage | str | None = None, name: str | None = None,
                 seed: int | None = None, load_if_exists: bool = False) -> None:
        if not isinstance(space, Space):
            space = Space(space)
        if direction not in DIRECTIONS:
            raise ValueError(f"direction must be 'minimize' or 'maximize', got {direction!r}")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
            raise ValueError(f"seed must be a non-negative int or None, got {seed!r}")
        if name is not None and (not isinstance(name, str) or not name):
            raise ValueError(f"name must be a non-empty string or None, got {name!r}")
        sampler = _as_sampler(sampler)
        pruner = _as_pruner(pruner)
        self._storage = make_storage(storage)
        self.name = name if name is not None else f"study-{uuid.uuid4().hex[:12]}"
        self.space = space
        self.direction = direction
        self._sign = 1.0 if direction == "minimize" else -1.0

        if self.name in self._storage.study_names():
            if not load_if_exists:
                raise StudyExistsError(
                    f"study {self.name!r} already exists in {self._storage!r}; pass "
                    f"load_if_exists=True (or use load_study) to continue it")
            info = self._storage.get_study(self.name)
            if info["space_hash"] != space.hash:
                raise ValueError(
                    f"study {self.name!r} was created with a different space "
                    f"(stored {Space.from_dict(info['space'])!r}, given {space!r})")
            if info["direction"] != direction:
                raise ValueError(f"study {self.name!r} is stored with direction "
                                 f"{info['direction']!r}, not {direction!r}")
            if seed is not None and seed != info["seed"]:
                raise ValueError(f"study {self.name!r} is stored with seed {info['seed']}, not {seed}")
            self.seed = int(info["seed"])
        else:
            self.seed = seed if seed is not None else secrets.randbits(63)
            info = None
        self.sampler = sampler
        self.pruner = pruner
        sampler.bind(space, self.seed, direction)
        pruner.bind(direction)
        if info is None:
            self._info = {"space": space.to_dict(), "space_hash": space.hash,
                          "direction": direction, "seed": self.seed,
                          "sampler": sampler.config(), "pruner": pruner.config(),
                          "created": time.time(), "master": None}
            self._storage.create_study(self.name, self._info)
        else:
            self._info = info
        self._load()

    # --- loading and recovery -------------------------------------------------------------------
    def _load(self) -> None:
        self._trials: list[FrozenTrial] = self._storage.read_trials(self.name)
        self._running: dict[int, FrozenTrial] = {}
        self._waiting: collections.deque[int] = collections.deque()
        self._best: FrozenTrial | None = None
        self._next_number = self._trials[-1].number + 1 if self._trials else 0
        self._interrupted: list[int] = []
        self._uncaught: list[BaseException] = []
        # Bumped by every master at start and end: tells whether this snapshot is current.
        self._epoch = self._info.get("epoch", 0)
        if not self._lease_alive():
            self._recover()
        finished = [t for t in self._trials if t.state.is_finished]
        finished.sort(key=lambda t: (t.end if t.end is not None else math.inf, t.number))
        for t in finished:  # replay, in finishing order, so stateful samplers rebuild themselves
            self.sampler.tell(t)
            self.pruner.tell(t)
            self._consider_best(t)
        self._waiting.extend(t.number for t in self._trials if t.state is TrialState.WAITING)

    def _trials_by_number(self, number: int) -> FrozenTrial:
        return next(t for t in reversed(self._trials) if t.number == number)

    def _recover(self) -> None:
        stale = [t for t in self._trials if t.state is TrialState.RUNNING]
        self._interrupted = [t.number for t in stale]
        for t in stale:
            t.state, t.end, t.error = TrialState.FAIL, t.end or time.time(), INTERRUPTED
            self._storage.write_trial(self.name, t)
        if self._info.get("master"):
            self._info["master"] = None
            self._storage.update_study(self.name, self._info)
        self._storage.commit()
        if stale:
            logger.warning("study %r: trials %s were running when the master stopped; marked FAIL",
                           self.name, [t.number for t in stale])

    def _lease_alive(self) -> bool:
        master = self._info.get("master")
        if not master:
            return False
        if master["host"] != socket.gethostname():
            return True  # cannot tell from here; see break_lease()
        if master["pid"] == os.getpid():
            return (_storage_key(self._storage), self.name) in _ACTIVE
        return _process_alive(master["pid"])

    def break_lease(self, requeue_interrupted: bool = False) -> None:
        """Declare the master recorded in the storage dead (use when it ran on another host and
        is known to be gone): its RUNNING trials become FAIL (and are re-queued if asked)."""
        self._info = self._storage.get_study(self.name)
        self._info["master"] = None
        self._storage.update_study(self.name, self._info)
        self._storage.commit()
        self._reload()
        if requeue_interrupted:
            self._requeue_interrupted()

    def _reload(self) -> None:
        """Forget the in-memory view and rebuild it (and the sampler and pruner) from storage."""
        self._info = self._storage.get_study(self.name)
        self.sampler.bind(self.space, self.seed, self.direction)
        self.pruner.bind(self.direction)
        self._load()

    def _requeue_interrupted(self) -> None:
        for number in self._interrupted:
            self.enqueue_trial(self._trials_by_number(number).params, {"requeued_from": number})
        self._interrupted = []

    # --- results --------------------------------------------------------------------------------
    def _consider_best(self, t: FrozenTrial) -> None:
        if t.state is TrialState.COMPLETE and t.value is not None:
            if self._best is None or self._sign * t.value < self._sign * self._best.value:
                self._best = t

    @property
    def trials(self) -> list[FrozenTrial]:
        """Copies of all trials, ordered by number."""
        return [t.copy() for t in self._trials]

    def get_trials(self, states: Iterable[TrialState] | None = None,
                   copy: bool = True) -> list[FrozenTrial]:
        """The trials whose state is in ``states`` (all if None), ordered by number.

        ``copy=False`` returns the study's own records, without copying them (for analyses of
        large studies); they must then be treated as read-only.
        """
        wanted = None if states is None else {TrialState(s) for s in states}
        return [t.copy() if copy else t for t in self._trials if wanted is None or t.state in wanted]

    @property
    def best_trial(self) -> FrozenTrial:
        """The COMPLETE trial with the best value (the lowest number among ties)."""
        if self._best is None:
            raise ValueError(f"study {self.name!r} has no completed trial yet")
        return self._best.copy()

    @property
    def best_value(self) -> float:
        """The best trial's value."""
        return self.best_trial.value

    @property
    def best_params(self) -> dict[str, Any]:
        """The best trial's params: the point a search returns."""
        return self.best_trial.params

    def to_dataframe(self):
        """A pandas DataFrame, one row per trial: number, state, value, times, duration,
        ``params_<name>`` and ``user_attrs_<key>`` columns, error. Needs pandas."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Study.to_dataframe needs pandas: pip install pandas") from e
        rows = []
        for t in self._trials:
            row = {"number": t.number, "state": t.state.value, "value": t.value,
                   "datetime_start": t.datetime_start, "datetime_complete": t.datetime_complete,
                   "duration": t.duration}
            row.update({f"params_{k}": v for k, v in t.params.items()})
            row.update({f"user_attrs_{k}": v for k, v in t.user_attrs.items()})
            row["error"] = t.error
            rows.append(row)
        columns = ["number", "state", "value", "datetime_start", "datetime_complete", "duration"]
        columns += [f"params_{n}" for n in self.space.names]
        extra = sorted({c for r in rows for c in r if c.startswith("user_attrs_")})
        return pd.DataFrame(rows, columns=columns + extra + ["error"])

    def __repr__(self) -> str:
        return (f"Study(name={self.name!r}, direction={self.direction!r}, "
                f"trials={len(self._trials)}, sampler={self.sampler!r}, storage={self._storage!r})")

    # --- creating trials --------------------------------------------------------------------------
    def enqueue_trial(self, params: Mapping[str, Any], user_attrs: Mapping[str, Any] | None = None) -> int:
        """Queue a trial with given ``params`` (and ``user_attrs`` to record with it); it runs
        before any sampled trial. Returns its number."""
        params = self.space.validate(params)
        t = FrozenTrial(self._next_number, TrialState.WAITING, params,
                        user_attrs=dict(user_attrs or {}))
        self._next_number += 1
        self._trials.append(t)
        self._waiting.append(t.number)
        self._storage.write_trial(self.name, t)
        self._storage.commit()
        return t.number

    def _start_trial(self) -> FrozenTrial | None:
        if self._waiting:
            number = self._waiting.popleft()
            t = self._trials_by_number(number)
        else:
            number = self._next_number
            if self.sampler.exhausted(number):
                return None
            params = self.sampler.sample(number, self._trials)
            t = FrozenTrial(number, TrialState.WAITING, params)
            self._next_number += 1
            self._trials.append(t)
        t.state, t.start = TrialState.RUNNING, time.time()
        self._running[t.number] = t
        # Not committed here: a trial that was running when the master died is lost anyway.
        self._storage.write_trial(self.name, t)
        return t

    # --- handling workers' events -------------------------------------------------------------
    def _on_report(self, number: int, step: int, value: float) -> bool:
        t = self._running.get(number)
        if t is None:
            return True  # a trial already written off (e.g. an executor's retry): stop it
        if step in t.intermediate_values:
            return False
        t.intermediate_values[step] = value
        self._storage.write_report(self.name, number, step, value)
        decision = bool(self.pruner.prune(number, step, value))
        if time.monotonic() - self._last_commit > 1.0:  # bound what a crash can lose
            self._commit()
        return decision

    def _finish(self, number: int, outcome: Outcome) -> FrozenTrial:
        t = self._running.pop(number)
        t.state = outcome.state
        if outcome.state is TrialState.COMPLETE:
            t.value = outcome.value
        elif outcome.state is TrialState.PRUNED and t.intermediate_values:
            t.value = t.intermediate_values[max(t.intermediate_values)]
        t.error = outcome.error
        if outcome.start is not None:
            t.start = outcome.start
        t.end = outcome.end if outcome.end is not None else time.time()
        if outcome.user_attrs:
            t.user_attrs = {**t.user_attrs, **outcome.user_attrs}
        self._storage.write_trial(self.name, t)
        self.sampler.tell(t)
        self.pruner.tell(t)
        self._consider_best(t)
        if outcome.exception is not None:
            self._uncaught.append(outcome.exception)
        if t.state is TrialState.FAIL:
            last_line = (t.error or "").strip().splitlines()[-1:] or [""]
            logger.warning("trial %d failed: %s", t.number, last_line[0])
        return t

    def _commit(self) -> None:
        self._storage.commit()
        self._last_commit = time.monotonic()

    # --- the master loop ----------------------------------------------------------------------
    def optimize(self, objective: Callable[[dict, Any], float], n_trials: int | None = None,
                 timeout: float | None = None, n_jobs: int | None = None,
                 executor=None, catch: type | Sequence[type] = (Exception,),
                 callbacks: Sequence[Callable[["Study", FrozenTrial], None]] | None = None,
                 show_progress_bar: bool = False, host: str = "127.0.0.1") -> None:
        """Run trials until ``n_trials`` more have started, ``timeout`` seconds have passed, or
        the sampler is exhausted; trials in flight then finish. ``study.best_trial`` holds the
        result.

        Args:
            objective: ``objective(params, trial) -> float``; may call ``trial.report(step,
                value)`` and ``trial.should_prune()`` and raise TrialPruned.
            n_trials: how many new trials to run (None: no limit).
            timeout: stop launching trials after this many seconds (None: no limit).
            n_jobs: trials at once. Without ``executor``: 1 runs them in this process (lambdas
                work); more starts that many spawned worker processes (the objective must be
                picklable); -1 means one per CPU. With ``executor``: default is its worker count.
            executor: any concurrent.futures.Executor, e.g. a Dask
                ``distributed.Client(...).get_executor()``; its workers must reach ``host``.
            catch: exception classes recorded as FAIL while the study goes on (default: all
                Exceptions). Any other exception is recorded as FAIL, then re-raised.
            callbacks: ``callback(study, frozen_trial)`` after each finished trial, once it is
                committed to storage.
            show_progress_bar: a live bar with the best value so far (tqdm if installed).
            host: the address the master listens on for workers' reports.
        """
        if not callable(objective):
            raise TypeError(f"objective must be callable, got {objective!r}")
        if n_trials is not None and (isinstance(n_trials, bool) or not isinstance(n_trials, int)
                                     or n_trials < 0):
            raise ValueError(f"n_trials must be a non-negative int or None, got {n_trials!r}")
        if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                    or not timeout > 0):
            raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")
        if executor is not None and not isinstance(executor, cf.Executor):
            raise TypeError(f"executor must be a concurrent.futures.Executor, got {executor!r}")
        if isinstance(catch, type):
            catch = (catch,)
        catch = tuple(catch)
        if not all(isinstance(c, type) and issubclass(c, BaseException) for c in catch):
            raise TypeError(f"catch must hold exception classes, got {catch!r}")
        callbacks = list(callbacks or [])
        n_jobs = resolve_n_jobs(n_jobs, executor)

        key = (_storage_key(self._storage), self.name)
        self._acquire_lease(key)
        progress = None
        if show_progress_bar:
            from .progress import ProgressBar
            progress = ProgressBar(n_trials, self.direction)
        runner = None
        try:
            if executor is None and n_jobs == 1:
                runner = InProcessRunner(objective, self._on_report)
            else:
                runner = ExecutorRunner(objective, n_jobs, executor, host)
            self._loop(runner, n_trials, timeout, catch, callbacks, progress)
        except BaseException as e:
            if runner is not None:
                self._abandon(runner, f"aborted: {type(e).__name__}: {e}")
            raise
        else:
            runner.close()
        finally:
            if progress is not None:
                progress.close()
            self._release_lease(key)

    def _acquire_lease(self, key: tuple[str, str]) -> None:
        if key in _ACTIVE:
            raise RuntimeError(f"study {self.name!r} is already being optimised in this process")
        self._info = self._storage.get_study(self.name)
        if self._lease_alive():
            m = self._info["master"]
            raise StorageError(
                f"study {self.name!r} is being optimised by process {m['pid']} on {m['host']}; "
                f"if that process is dead, call study.break_lease()")
        if self._info.get("epoch", 0) != self._epoch or self._info.get("master"):
            # Another master ran the study since this view was loaded, or died running it.
            self._reload()
        _ACTIVE.add(key)
        self._info["master"] = {"pid": os.getpid(), "host": socket.gethostname(),
                                "since": time.time()}
        self._info["epoch"] = self._epoch = self._info.get("epoch", 0) + 1
        self._storage.update_study(self.name, self._info)
        self._commit()

    def _release_lease(self, key: tuple[str, str]) -> None:
        _ACTIVE.discard(key)
        self._info["master"] = None
        self._info["epoch"] = self._epoch = self._info.get("epoch", 0) + 1
        try:
            self._storage.update_study(self.name, self._info)
            self._commit()
        except StorageError:
            logger.exception("study %r: could not release the master lease", self.name)

    def _abandon(self, runner, reason: str) -> None:
        """Record every trial in flight as FAIL and stop the runner (on an exception)."""
        try:
            runner.close(abort=True)
        finally:
            for number in list(self._running):
                self._finish(number, Outcome(TrialState.FAIL, error=reason, end=time.time()))
            self._commit()

    def _loop(self, runner, n_trials, timeout, catch, callbacks, progress) -> None:
        self._last_commit = time.monotonic()
        self._uncaught = []
        deadline = None if timeout is None else time.monotonic() + timeout
        launched = 0
        stopping = False
        while True:
            while not stopping and runner.free > 0:
                if ((n_trials is not None and launched >= n_trials)
                        or (deadline is not None and time.monotonic() >= deadline)):
                    stopping = True
                    break
                t = self._start_trial()
                if t is None:
                    stopping = True
                    break
                runner.submit(t.number, t.params, trial_seed(self.seed, t.number))
                launched += 1
            if runner.idle:
                break
            finished: list[FrozenTrial] = []
            event = runner.next_event(block=True)
            while event is not None:
                if event[0] == "report":
                    number, step, value = event[1]
                    event[2](self._on_report(number, step, value))
                else:
                    finished.append(self._finish(event[1], event[2]))
                event = runner.next_event(block=False)
            if not finished:
                continue
            self._commit()  # durable before anyone hears of it
            for t in finished:
                for cb in callbacks:
                    cb(self, t)
                if progress is not None:
                    progress.update(self, t)
            exc = next((e for e in self._uncaught if not isinstance(e, catch)), None)
            self._uncaught.clear()
            if exc is not None:
                raise exc
            if runner.broken is not None:
                raise runner.broken


def _as_sampler(sampler: Sampler | str | None) -> Sampler:
    if sampler is None:
        return make_sampler("random")
    if isinstance(sampler, str):
        return make_sampler(sampler)
    if not isinstance(sampler, Sampler):
        raise TypeError(f"sampler must be a Sampler, a sampler name or None, got {sampler!r}")
    return sampler


def _as_pruner(pruner: Pruner | str | None) -> Pruner:
    if pruner is None or isinstance(pruner, str):
        return make_pruner(pruner)
    if not isinstance(pruner, Pruner):
        raise TypeError(f"pruner must be a Pruner, a pruner name or None, got {pruner!r}")
    return pruner


def load_study(name: str | None, storage: Storage | str, sampler: Sampler | None = None,
               pruner: Pruner | None = None, requeue_interrupted: bool = False) -> Study:
    """Reopen a stored study, with the sampler and pruner it was created with unless others
    are given. ``name`` may be None when the storage holds exactly one study.

    If the master that ran it is dead, its trials left RUNNING become FAIL (and, with
    ``requeue_interrupted``, their params are queued to run again).
    """
    storage = make_storage(storage)
    if name is None:
        names = storage.study_names()
        if len(names) != 1:
            raise ValueError(f"name=None needs a storage with exactly one study; it has {names}")
        name = names[0]
    info = storage.get_study(name)
    study = Study(Space.from_dict(info["space"]),
                  sampler=sampler if sampler is not None else sampler_from_config(info["sampler"]),
                  pruner=pruner if pruner is not None else pruner_from_config(info["pruner"]),
                  direction=info["direction"], storage=storage, name=name, seed=info["seed"],
                  load_if_exists=True)
    if requeue_interrupted:
        study._requeue_interrupted()
    return study
