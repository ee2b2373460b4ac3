"""Where studies live: in memory, or in one SQLite file written only by the master process.

The interface is deliberately tiny (Optuna's storage grew to 19 abstract methods before it
was replaced by a journal with a handful): studies are a name plus a JSON ``info`` dict, trials
are written whole, intermediate reports are appended, and ``commit`` marks the point up to
which everything must survive a crash of the master.
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sqlite3
from typing import Any, Iterator
from urllib.parse import parse_qsl

from .trial import FrozenTrial, TrialState

__all__ = ["Storage", "InMemoryStorage", "SQLiteStorage", "StorageError", "StudyNotFoundError",
           "StudyExistsError", "make_storage"]

FORMAT_VERSION = 1
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StorageError(RuntimeError):
    """A storage file is unreadable, corrupt, foreign or from an incompatible version."""


class StudyNotFoundError(StorageError, KeyError):
    """No study of that name in the storage."""

    def __str__(self) -> str:  # KeyError would print the repr of the message
        return str(self.args[0]) if self.args else ""


class StudyExistsError(StorageError):
    """A study of that name already exists in the storage."""


class Storage:
    """The persistence interface of a study (implement these nine methods for a new backend).

    Writes may be buffered until ``commit``; after ``commit`` returns they must survive the
    master process being killed.
    """

    def create_study(self, name: str, info: dict[str, Any]) -> None:
        """Create study ``name`` with JSON-ready ``info``; StudyExistsError if it exists."""
        raise NotImplementedError

    def get_study(self, name: str) -> dict[str, Any]:
        """The ``info`` of study ``name``; StudyNotFoundError if absent."""
        raise NotImplementedError

    def update_study(self, name: str, info: dict[str, Any]) -> None:
        """Replace the ``info`` of study ``name``."""
        raise NotImplementedError

    def study_names(self) -> list[str]:
        """Names of all studies, in creation order."""
        raise NotImplementedError

    def write_trial(self, name: str, trial: FrozenTrial) -> None:
        """Insert or replace a trial's row (everything but its intermediate values)."""
        raise NotImplementedError

    def write_report(self, name: str, number: int, step: int, value: float) -> None:
        """Append intermediate ``value`` at ``step`` of trial ``number``."""
        raise NotImplementedError

    def read_trials(self, name: str) -> list[FrozenTrial]:
        """All trials of study ``name`` (with intermediate values), ordered by number."""
        raise NotImplementedError

    def commit(self) -> None:
        """Make every write so far durable."""

    def close(self) -> None:
        """Release the backend (commits first)."""


class InMemoryStorage(Storage):
    """Keeps studies in this process; lost when it exits. Used when a Study gets storage=None.

    It holds the study's own trial records rather than copies, so it costs no extra memory.
    """

    def __init__(self) -> None:
        self._studies: dict[str, dict[str, Any]] = {}
        self._trials: dict[str, dict[int, FrozenTrial]] = {}

    def create_study(self, name, info):
        if name in self._studies:
            raise StudyExistsError(f"a study named {name!r} already exists in memory")
        self._studies[name] = dict(info)
        self._trials[name] = {}

    def get_study(self, name):
        try:
            return dict(self._studies[name])
        except KeyError:
            raise StudyNotFoundError(
                f"no study named {name!r} in memory (studies: {list(self._studies)})") from None

    def update_study(self, name, info):
        self.get_study(name)
        self._studies[name] = dict(info)

    def study_names(self):
        return list(self._studies)

    def write_trial(self, name, trial):
        self._trials[name][trial.number] = trial

    def write_report(self, name, number, step, value):
        self._trials[name][number].intermediate_values.setdefault(step, value)

    def read_trials(self, name):
        self.get_study(name)
        return [self._trials[name][k].copy() for k in sorted(self._trials[name])]


_SCHEMA = """
CREATE TABLE search_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE search_studies (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, info TEXT NOT NULL);
CREATE TABLE search_trials (
    study_id INTEGER NOT NULL, number INTEGER NOT NULL, state TEXT NOT NULL,
    params TEXT NOT NULL, value REAL, t_start REAL, t_end REAL, error TEXT, user_attrs TEXT,
    PRIMARY KEY (study_id, number)) WITHOUT ROWID;
CREATE TABLE search_reports (
    study_id INTEGER NOT NULL, number INTEGER NOT NULL, step INTEGER NOT NULL, value REAL,
    PRIMARY KEY (study_id, number, step)) WITHOUT ROWID;
"""


class SQLiteStorage(Storage):
    """Studies in one SQLite file (stdlib sqlite3, WAL journal).

    Only the master process writes, so there are no lock fights; readers (another process
    loading the study to plot it) never block it, thanks to WAL.

    Args:
        path: the database file (created if missing; its directory must exist).
        synchronous: SQLite's synchronous mode. "NORMAL" (default): a committed trial survives
            the master being killed, and the file stays consistent after a power cut, which may
            lose the last commits. "FULL": commits also survive a power cut (one fsync each).
    """

    def __init__(self, path: str | os.PathLike, synchronous: str = "NORMAL") -> None:
        self.path = os.fspath(path)
        synchronous = str(synchronous).upper()
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(f"synchronous must be OFF, NORMAL, FULL or EXTRA, got {synchronous!r}")
        self.synchronous = synchronous
        self._ids: dict[str, int] = {}
        self._conn = self._open()

    # --- opening, with clear errors for files that are not ours -----------------------------------
    def _open(self) -> sqlite3.Connection:
        memory = self.path == ":memory:"
        if not memory and os.path.exists(self.path):
            with open(self.path, "rb") as f:
                head = f.read(len(_SQLITE_MAGIC))
            if head and head != _SQLITE_MAGIC:
                raise StorageError(f"{self.path!r} is not a SQLite database (it starts with {head!r})")
        elif not memory:
            parent = os.path.dirname(os.path.abspath(self.path))
            if not os.path.isdir(parent):
                raise StorageError(f"cannot create {self.path!r}: directory {parent!r} does not exist")
        try:
            # The master is the only user, but it may call optimize() from another thread.
            conn = sqlite3.connect(self.path, timeout=30.0, check_same_thread=False)
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            if not memory:
                conn.execute("PRAGMA journal_mode=WAL")
            conn.execute(f"PRAGMA synchronous={self.synchronous}")
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.path!r} is not a usable SQLite database: {e}") from e
        if not tables:
            with conn:
                conn.executescript(_SCHEMA)
                conn.execute("INSERT INTO search_meta VALUES ('format', ?)", (str(FORMAT_VERSION),))
        elif "search_meta" not in tables:
            conn.close()
            raise StorageError(
                f"{self.path!r} is a SQLite database, but not a ferrograd search store "
                f"(its tables: {sorted(tables)})")
        else:
            try:
                row = conn.execute("SELECT value FROM search_meta WHERE key='format'").fetchone()
            except sqlite3.DatabaseError as e:
                conn.close()
                raise StorageError(f"{self.path!r}: corrupt search store: {e}") from e
            if row is None or row[0] != str(FORMAT_VERSION):
                conn.close()
                raise StorageError(
                    f"{self.path!r} holds search format {row[0] if row else None!r}; "
                    f"this version reads format {FORMAT_VERSION}")
        return conn

    @contextlib.contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.DatabaseError as e:
            raise StorageError(f"{self.path!r}: {e}") from e

    def _id(self, name: str) -> int:
        sid = self._ids.get(name)
        if sid is None:
            with self._errors():
                row = self._conn.execute("SELECT id FROM search_studies WHERE name=?", (name,)).fetchone()
            if row is None:
                raise StudyNotFoundError(
                    f"no study named {name!r} in {self.path!r} (studies: {self.study_names()})")
            sid = self._ids[name] = row[0]
        return sid

    # --- the interface ------------------------------------------------------------------------
    def create_study(self, name, info):
        with self._errors():
            try:
                self._conn.execute("INSERT INTO search_studies(name, info) VALUES (?, ?)",
                                   (name, json.dumps(info)))
            except sqlite3.IntegrityError:
                raise StudyExistsError(f"a study named {name!r} already exists in {self.path!r}") from None
            self._conn.commit()

    def get_study(self, name):
        sid = self._id(name)
        with self._errors():
            (info,) = self._conn.execute("SELECT info FROM search_studies WHERE id=?", (sid,)).fetchone()
        return json.loads(info)

    def update_study(self, name, info):
        sid = self._id(name)
        with self._errors():
            self._conn.execute("UPDATE search_studies SET info=? WHERE id=?", (json.dumps(info), sid))

    def study_names(self):
        with self._errors():
            return [r[0] for r in self._conn.execute("SELECT name FROM search_studies ORDER BY id")]

    def write_trial(self, name, trial):
        sid = self._id(name)
        with self._errors():
            self._conn.execute(
                "INSERT OR REPLACE INTO search_trials VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sid, trial.number, trial.state.value, json.dumps(trial.params), trial.value,
                 trial.start, trial.end, trial.error,
                 json.dumps(trial.user_attrs) if trial.user_attrs else None))

    def write_report(self, name, number, step, value):
        sid = self._id(name)
        with self._errors():
            self._conn.execute("INSERT OR IGNORE INTO search_reports VALUES (?, ?, ?, ?)",
                               (sid, number, step, value))

    def read_trials(self, name):
        sid = self._id(name)
        with self._errors():
            rows = self._conn.execute(
                "SELECT number, state, params, value, t_start, t_end, error, user_attrs "
                "FROM search_trials WHERE study_id=? ORDER BY number", (sid,)).fetchall()
            trials = {}
            for number, state, params, value, t0, t1, error, attrs in rows:
                trials[number] = FrozenTrial(number, TrialState(state), json.loads(params), value,
                                             {}, t0, t1, error, json.loads(attrs) if attrs else {})
            for number, step, value in self._conn.execute(
                    "SELECT number, step, value FROM search_reports WHERE study_id=? "
                    "ORDER BY number, step", (sid,)):
                if number in trials:  # SQLite stores NaN as NULL
                    trials[number].intermediate_values[step] = math.nan if value is None else value
        return list(trials.values())

    def commit(self):
        with self._errors():
            self._conn.commit()

    def close(self):
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):
                self._conn.commit()
            self._conn.close()
            self._conn = None

    def __repr__(self) -> str:
        return f"SQLiteStorage({self.path!r}, synchronous={self.synchronous!r})"


def make_storage(storage: "Storage | str | None") -> Storage:
    """A Storage from None (in memory), a Storage, or a URL ``sqlite:///relative/path.db``,
    ``sqlite:////absolute/path.db``, optionally with ``?synchronous=FULL``."""
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, Storage):
        return storage
    if isinstance(storage, str) and storage.startswith("sqlite:///"):
        rest = storage[len("sqlite:///"):]
        path, _, query = rest.partition("?")
        if not path:
            raise ValueError(f"storage URL {storage!r} names no file")
        options = dict(parse_qsl(query, strict_parsing=bool(query)))
        unknown = set(options) - {"synchronous"}
        if unknown:
            raise ValueError(f"unknown option(s) {sorted(unknown)} in storage URL {storage!r}")
        return SQLiteStorage(path, **options)
    raise ValueError(
        f"unsupported storage {storage!r}; expected None, a Storage, or 'sqlite:///path.db'")
