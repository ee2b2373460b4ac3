"""``ferrograd search`` (cli.main) end to end with the synthetic objective."""
from __future__ import annotations

import io
import sys

import pytest

from ferrograd.search import TrialState, load_study
from ferrograd.search.cli import main
from ferrograd.search.progress import ProgressBar


def run(tmp_path, *args):
    return main(["--objective", "synthetic", "--out", str(tmp_path), "--no-progress", *args])


def test_a_search_prints_the_best_trials_and_relevance_and_writes_plots(tmp_path, capsys):
    assert run(tmp_path, "--sampler", "sobol", "--trials", "24") == 0
    out = capsys.readouterr().out
    assert "study 'synthetic-sobol': 24 complete" in out
    assert "best 10 trials (minimize):" in out
    header = next(line for line in out.splitlines() if line.strip().startswith("#"))
    for column in ("value", "test_error", "lr", "hidden", "momentum", "batch_size"):
        assert column in header
    assert "hyper-parameter relevance" in out
    ranking = out.split("most relevant first):")[1].split("plots:")[0].split()
    names = ranking[0::2]
    assert set(names) == {"lr", "hidden", "dropout", "batch_norm", "activation", "init",
                          "optimizer", "momentum", "batch_size"}
    assert names.index("lr") < 3  # the learning rate dominates the synthetic objective
    for png in ("history.png", "efficiency_curve.png", "relevance.png"):
        with open(tmp_path / png, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    study = load_study("synthetic-sobol", f"sqlite:///{tmp_path / 'study.db'}")
    assert len(study.trials) == 24 and study.sampler.name == "sobol"


def test_rerun_needs_resume_and_resume_tops_up_to_the_total(tmp_path, capsys):
    assert run(tmp_path, "--trials", "10") == 0
    assert run(tmp_path, "--trials", "10") == 2
    assert "pass --resume to continue it" in capsys.readouterr().err
    assert run(tmp_path, "--trials", "15", "--resume") == 0
    study = load_study("synthetic-random", f"sqlite:///{tmp_path / 'study.db'}")
    assert [t.number for t in study.trials] == list(range(15))
    assert run(tmp_path, "--trials", "12", "--resume", "--name", "nope") == 2
    assert "no study named 'nope'" in capsys.readouterr().err


def test_pruner_grid_and_worker_processes(tmp_path):
    assert run(tmp_path, "--trials", "20", "--pruner", "asha", "--sampler", "tpe", "--name", "a") == 0
    assert run(tmp_path, "--trials", "6", "--sampler", "grid", "--grid-points", "2", "--name", "g",
               "--jobs", "2") == 0
    url = f"sqlite:///{tmp_path / 'study.db'}"
    pruned = load_study("a", url).trials
    assert any(t.state is TrialState.PRUNED for t in pruned)
    grid = load_study("g", url)
    assert len(grid.trials) == 6 and grid.sampler.name == "grid"
    assert all(t.state is TrialState.COMPLETE for t in grid.trials)


def test_bad_arguments_exit_with_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        run(tmp_path, "--sampler", "annealing")
    assert e.value.code == 2 and "invalid choice: 'annealing'" in capsys.readouterr().err
    with pytest.raises(SystemExit) as e:
        run(tmp_path, "--trials", "0")
    assert e.value.code == 2 and "--trials must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        run(tmp_path, "--storage", "postgresql://db/x")


def test_progress_line_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails as if not installed
    from ferrograd.search import Space, Study, Uniform

    stream = io.StringIO()
    bar = ProgressBar(3, "minimize", stream=stream)
    study = Study(Space({"x": Uniform(0, 1)}), seed=0)
    values = iter([0.5, 0.25, 0.75])
    study.optimize(lambda p, t: next(values), n_trials=3, callbacks=[bar.update])
    bar.close()
    text = stream.getvalue()
    assert "trials 3/3  best 0.25" in text and text.endswith("\n")
