"""``ferrograd search``: tune an MLP's hyper-parameters and report what mattered.

    ferrograd search                                  # random search on digits, 30 trials
    ferrograd search --sampler tpe --trials 60 --jobs 2 --pruner asha
    ferrograd search --resume                         # continue the study in --out
    ferrograd search --objective synthetic            # no training: a cheap planted objective
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import Sequence

from . import analysis, plots
from .objectives import MLPObjective, SyntheticMLPObjective, mlp_space
from .pruners import PRUNERS, make_pruner
from .samplers import SAMPLERS, GridSampler, HybridSampler, make_sampler
from .storage import StorageError, StudyExistsError, StudyNotFoundError
from .study import Study, load_study
from .trial import TrialState

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``ferrograd search``."""
    p = argparse.ArgumentParser(
        prog="ferrograd search",
        description="Search an MLP's hyper-parameters (lr, hidden units, dropout, batch norm, "
                    "activation, init, optimizer, batch size) and report the best trials, the "
                    "relevance of each hyper-parameter and plots.")
    p.add_argument("--objective", choices=["mlp", "synthetic"], default="mlp",
                   help="mlp: train with ferrograd; synthetic: a cheap stand-in with planted "
                        "irrelevant hyper-parameters (default: mlp)")
    p.add_argument("--dataset", choices=["digits", "mnist"], default="digits",
                   help="data for the mlp objective (default: digits, embedded)")
    p.add_argument("--sampler", choices=sorted(SAMPLERS), default="random",
                   help="search strategy (default: random)")
    p.add_argument("--pruner", choices=sorted(PRUNERS), default="none",
                   help="early stopping from per-epoch validation error (default: none)")
    p.add_argument("--trials", type=int, default=30,
                   help="total number of trials in the study (default: 30)")
    p.add_argument("--jobs", type=int, default=1,
                   help="trials run at once in worker processes (default: 1, in this process)")
    p.add_argument("--epochs", type=int, default=8, help="training epochs per trial (default: 8)")
    p.add_argument("--data-root", default=None,
                   help="folder with the MNIST files (default: $FERROGRAD_DATA or the cache)")
    p.add_argument("--train-size", type=int, default=None,
                   help="use only this many training examples (default: all)")
    p.add_argument("--timeout", type=float, default=None,
                   help="stop launching trials after this many seconds")
    p.add_argument("--seed", type=int, default=0, help="study seed (default: 0)")
    p.add_argument("--out", default="search-out",
                   help="directory for the database and plots (default: search-out)")
    p.add_argument("--storage", default=None,
                   help="sqlite:///path.db or a file path (default: <out>/study.db)")
    p.add_argument("--name", default=None,
                   help="study name (default: <objective>-<dataset>-<sampler>)")
    p.add_argument("--resume", action="store_true",
                   help="continue the stored study until it holds --trials trials")
    p.add_argument("--grid-points", type=int, default=3,
                   help="grid sampler: values per continuous/integer hyper-parameter (default: 3)")
    p.add_argument("--patience", type=int, default=None,
                   help="hybrid sampler: stop after this many trials without improvement")
    p.add_argument("--top", type=int, default=10, help="rows in the table of best trials")
    p.add_argument("--no-progress", action="store_true", help="no live progress bar")
    return p


def _storage_url(args) -> str:
    if args.storage is None:
        return "sqlite:///" + os.path.join(args.out, "study.db")
    if args.storage.startswith("sqlite:///"):
        return args.storage
    if "://" in args.storage:
        raise ValueError(f"--storage {args.storage!r}: only sqlite:/// URLs or file paths are supported")
    return "sqlite:///" + args.storage


def _sampler(args):
    if args.sampler == "grid":
        return GridSampler(points=args.grid_points, shuffle=True)
    if args.sampler == "hybrid":
        return HybridSampler(patience=args.patience)
    return make_sampler(args.sampler)


def _format_value(v) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def print_top(study: Study, k: int, file=None) -> None:
    """Print a table of the ``k`` best COMPLETE trials of ``study`` (to ``file``, default stdout)."""
    file = file if file is not None else sys.stdout
    done = study.get_trials([TrialState.COMPLETE], copy=False)
    sign = 1.0 if study.direction == "minimize" else -1.0
    done.sort(key=lambda t: (sign * t.value, t.number))
    names = list(study.space.names)
    extra = sorted({a for t in done[:k] for a in t.user_attrs if a != "requeued_from"})
    header = ["#", "value", *extra, *names]
    rows = [[str(t.number), _format_value(t.value),
             *[_format_value(t.user_attrs.get(a, "")) for a in extra],
             *[_format_value(t.params.get(n, "-")) for n in names]] for t in done[:k]]
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(header)]
    print("  ".join(h.rjust(w) for h, w in zip(header, widths)), file=file)
    for r in rows:
        print("  ".join(c.rjust(w) for c, w in zip(r, widths)), file=file)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``ferrograd search`` with ``argv`` (default: sys.argv[1:]); returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for flag in ("trials", "jobs", "epochs", "grid_points", "top"):
        if getattr(args, flag) < 1:
            parser.error(f"--{flag.replace('_', '-')} must be >= 1")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    os.makedirs(args.out, exist_ok=True)
    try:
        url = _storage_url(args)
    except ValueError as e:
        parser.error(str(e))
    name = args.name or (f"synthetic-{args.sampler}" if args.objective == "synthetic"
                         else f"mlp-{args.dataset}-{args.sampler}")
    if args.objective == "synthetic":
        objective = SyntheticMLPObjective(epochs=args.epochs)
    else:
        objective = MLPObjective(args.dataset, epochs=args.epochs, train_size=args.train_size,
                                 data_root=args.data_root)

    try:
        if args.resume:
            study = load_study(name, url, requeue_interrupted=True)
            if study.sampler.name != args.sampler:
                print(f"note: continuing with the study's own sampler {study.sampler.name!r}",
                      file=sys.stderr)
        else:
            study = Study(mlp_space(), sampler=_sampler(args), pruner=make_pruner(args.pruner),
                          storage=url, name=name, seed=args.seed)
    except StudyExistsError:
        print(f"error: study {name!r} already exists in {url}; pass --resume to continue it, "
              f"or --name to start another", file=sys.stderr)
        return 2
    except (StudyNotFoundError, StorageError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    remaining = args.trials - sum(1 for t in study.get_trials(copy=False) if t.state.is_finished)
    if remaining > 0:
        print(f"study {study.name!r}: {remaining} trials with {study.sampler!r}, "
              f"{args.jobs} job(s), storage {url}", file=sys.stderr)
        study.optimize(objective, n_trials=remaining, timeout=args.timeout, n_jobs=args.jobs,
                       show_progress_bar=not args.no_progress)
    report(study, args.out, args.top)
    return 0


def report(study: Study, out: str, top: int = 10, file=None) -> list[str]:
    """Print the best trials and the relevance ranking (to ``file``, default stdout); write PNG
    plots into ``out``. Returns the paths written."""
    file = file if file is not None else sys.stdout
    counts = {s.value: 0 for s in TrialState}
    for t in study.get_trials(copy=False):
        counts[t.state.value] += 1
    print(f"\nstudy {study.name!r}: " + ", ".join(f"{v} {k.lower()}" for k, v in counts.items() if v),
          file=file)
    paths = [plots.plot_history(study, os.path.join(out, "history.png"))]
    n_complete = counts["COMPLETE"]
    if not n_complete:
        print("no completed trial", file=file)
        return paths
    print(f"\nbest {top} trials ({study.direction}):", file=file)
    print_top(study, top, file=file)
    # best-of-s of consecutive trials: the paper's curve when trials are i.i.d. (random search)
    paths.append(plots.plot_efficiency_curve(
        study, os.path.join(out, "efficiency_curve.png"), ylabel=f"best {study.direction}d value",
        title=f"efficiency curve of {study.name!r} ({study.sampler.name} sampler)"))
    if n_complete >= 5:
        scores = analysis.relevance(study)
        print("\nhyper-parameter relevance (1 / GP length-scale, most relevant first):", file=file)
        for n, r in scores.items():
            print(f"  {n:>12}  {r:8.3f}", file=file)
        paths.append(plots.plot_relevance(scores, os.path.join(out, "relevance.png")))
    print("\nplots: " + ", ".join(paths), file=file)
    return paths


if __name__ == "__main__":  # python -m ferrograd.search.cli
    sys.exit(main())
