"""SQLite and in-memory storage: round trips, commit semantics, and clear errors."""
from __future__ import annotations

import math
import os
import sqlite3

import pytest

from ferrograd.search import (FrozenTrial, InMemoryStorage, SQLiteStorage, Space, StorageError,
                              Study, StudyExistsError, StudyNotFoundError, TrialState, Uniform,
                              load_study)
from ferrograd.search.storage import make_storage

TRIALS = [
    FrozenTrial(0, TrialState.COMPLETE, {"x": 0.5, "c": "a"}, 1.25, {1: 2.0, 2: 1.5}, 10.0, 11.5,
                None, {"test_error": 0.1}),
    FrozenTrial(1, TrialState.PRUNED, {"x": 0.1, "c": True}, 3.0, {1: 3.0, 2: math.nan}, 12.0, 12.5),
    FrozenTrial(2, TrialState.FAIL, {"x": 0.9}, None, {}, 13.0, 13.1, "Traceback ...\nValueError: boom"),
    FrozenTrial(3, TrialState.RUNNING, {"x": 0.3}, None, {}, 14.0),
    FrozenTrial(4, TrialState.WAITING, {"x": 0.4}),
]


def fill(storage):
    storage.create_study("s", {"direction": "minimize", "nested": {"a": [1, 2]}})
    for t in TRIALS:
        storage.write_trial("s", t)
        for step, v in t.intermediate_values.items():
            storage.write_report("s", t.number, step, v)
    storage.commit()


def same(a, b):
    assert a.number == b.number and a.state == b.state and a.params == b.params
    assert a.value == b.value and (a.start, a.end, a.error, a.user_attrs) == (b.start, b.end, b.error, b.user_attrs)
    assert a.intermediate_values.keys() == b.intermediate_values.keys()
    for k in a.intermediate_values:
        x, y = a.intermediate_values[k], b.intermediate_values[k]
        assert (math.isnan(x) and math.isnan(y)) or x == y


@pytest.mark.parametrize("kind", ["sqlite", "memory"])
def test_round_trip_of_every_trial_state(tmp_path, kind):
    path = tmp_path / "s.db"
    storage = SQLiteStorage(path) if kind == "sqlite" else InMemoryStorage()
    fill(storage)
    if kind == "sqlite":
        storage.close()
        storage = SQLiteStorage(path)
    got = storage.read_trials("s")
    assert len(got) == len(TRIALS)
    for a, b in zip(got, TRIALS):
        same(a, b)
    assert storage.get_study("s") == {"direction": "minimize", "nested": {"a": [1, 2]}}
    storage.update_study("s", {"direction": "maximize"})
    assert storage.get_study("s") == {"direction": "maximize"}
    assert storage.study_names() == ["s"]


def test_sqlite_uses_wal_and_commit_is_the_durability_point(tmp_path):
    path = tmp_path / "s.db"
    writer = SQLiteStorage(path)
    writer.create_study("s", {})
    mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
    writer.write_trial("s", TRIALS[0])
    reader = SQLiteStorage(path)  # a second process would see what this connection sees
    assert reader.read_trials("s") == []          # not committed yet
    writer.commit()
    assert [t.number for t in reader.read_trials("s")] == [0]
    assert SQLiteStorage(path, synchronous="FULL").synchronous == "FULL"


def test_study_errors_name_the_study_and_what_exists(tmp_path):
    storage = SQLiteStorage(tmp_path / "s.db")
    fill(storage)
    with pytest.raises(StudyExistsError, match="'s' already exists"):
        storage.create_study("s", {})
    with pytest.raises(StudyNotFoundError, match=r"no study named 'nope'.*studies: \['s'\]"):
        storage.read_trials("nope")
    with pytest.raises(KeyError):  # StudyNotFoundError is also a KeyError
        InMemoryStorage().get_study("nope")


def test_garbage_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is certainly not a database" * 10)
    with pytest.raises(StorageError, match="is not a SQLite database"):
        SQLiteStorage(path)


def test_foreign_sqlite_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "other.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE users (id INTEGER, name TEXT)")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match=r"not a ferrograd search store \(its tables: \['users'\]\)"):
        SQLiteStorage(path)


def test_truncated_store_gives_a_storage_error(tmp_path):
    path = tmp_path / "s.db"
    storage = SQLiteStorage(path)
    fill(storage)
    for i in range(300):  # enough rows to span many pages
        storage.write_trial("s", FrozenTrial(10 + i, TrialState.COMPLETE, {"x": "y" * 200}, 1.0))
    storage.commit()
    storage._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    storage.close()
    size = os.path.getsize(path)
    with open(path, "r+b") as f:
        f.truncate(size // 3)
    with pytest.raises(StorageError, match="malformed|not a database|corrupt") as info:
        SQLiteStorage(path).read_trials("s")
    assert str(path) in str(info.value)


def test_newer_format_is_refused(tmp_path):
    path = tmp_path / "s.db"
    SQLiteStorage(path).close()
    con = sqlite3.connect(path)
    con.execute("UPDATE search_meta SET value='99' WHERE key='format'")
    con.commit()
    con.close()
    with pytest.raises(StorageError, match="holds search format '99'"):
        SQLiteStorage(path)


def test_storage_urls(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rel = make_storage("sqlite:///rel.db")
    assert isinstance(rel, SQLiteStorage) and os.path.exists(tmp_path / "rel.db")
    absolute = make_storage(f"sqlite:///{tmp_path}/abs.db?synchronous=FULL")
    assert absolute.path == f"{tmp_path}/abs.db" and absolute.synchronous == "FULL"
    assert isinstance(make_storage(None), InMemoryStorage)
    with pytest.raises(ValueError, match="unsupported storage 'postgresql://x'"):
        make_storage("postgresql://x")
    with pytest.raises(ValueError, match="unknown option"):
        make_storage("sqlite:///x.db?journal=off")
    with pytest.raises(StorageError, match="does not exist"):
        make_storage(f"sqlite:///{tmp_path}/no/such/dir/x.db")
    with pytest.raises(ValueError, match="synchronous must be"):
        SQLiteStorage(tmp_path / "y.db", synchronous="SOMETIMES")


def test_load_study_rebuilds_a_study_with_its_sampler_and_seed(tmp_path):
    url = f"sqlite:///{tmp_path / 's.db'}"
    space = Space({"x": Uniform(0.0, 1.0)})
    s = Study(space, sampler="sobol", pruner="median", direction="maximize", storage=url,
              name="exp", seed=42)
    s.optimize(lambda p, t: p["x"], n_trials=5)
    back = load_study("exp", url)
    assert back.space == space and back.direction == "maximize" and back.seed == 42
    assert back.sampler.config() == s.sampler.config()
    assert back.pruner.config() == s.pruner.config()
    assert [t.params for t in back.trials] == [t.params for t in s.trials]
    assert back.best_trial.number == s.best_trial.number
    assert load_study(None, url).name == "exp"  # the only study
    with pytest.raises(StudyExistsError, match="load_if_exists=True"):
        Study(space, storage=url, name="exp")
    with pytest.raises(ValueError, match="different space"):
        Study(Space({"x": Uniform(0.0, 2.0)}), storage=url, name="exp", load_if_exists=True)
