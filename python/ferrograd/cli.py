"""The ``ferrograd`` command: ``train`` a model from flags, run the ``papers``' reproductions,
or ``search`` hyper-parameters (the main job)."""

from __future__ import annotations

import argparse
import sys
import time
from typing import List, Optional

import numpy as np

OPTIMIZERS = ("sgd", "nesterov", "adam", "adamw", "adamax", "adagrad", "rmsprop", "adadelta")


def make_optimizer(name: str, params, lr: Optional[float], momentum: float = 0.9, weight_decay: float = 0.0):  # type: ignore[no-untyped-def]
    """An optimizer by name with its usual defaults (``lr=None`` keeps the optimizer's default)."""
    from ferrograd import optim

    kw = {"weight_decay": weight_decay}
    if lr is not None:
        kw["lr"] = lr
    if name == "sgd":
        return optim.SGD(params, momentum=momentum, **({"lr": 0.01} | kw))
    if name == "nesterov":
        return optim.SGD(params, momentum=momentum, nesterov=True, **({"lr": 0.01} | kw))
    classes = {"adam": optim.Adam, "adamw": optim.AdamW, "adamax": optim.Adamax, "adagrad": optim.Adagrad,
               "rmsprop": optim.RMSprop, "adadelta": optim.Adadelta}
    if name not in classes:
        raise ValueError(f"unknown optimizer {name!r}: expected one of {', '.join(OPTIMIZERS)}")
    return classes[name](params, **kw)


def load_dataset(name: str, root: Optional[str] = None, image: bool = False):  # type: ignore[no-untyped-def]
    """((x_train, y_train), (x_val, y_val), (x_test, y_test)) for "mnist" or "digits"."""
    from ferrograd import datasets

    if name == "digits":
        splits = datasets.digits()
        if image:
            splits = tuple((x.reshape(-1, 1, 8, 8), y) for x, y in splits)
        return splits
    if name == "mnist":
        return datasets.mnist(root=root, flatten=not image)
    raise ValueError(f"unknown dataset {name!r}: expected mnist or digits")


def _train_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train an MLP or CNN from flags and report test accuracy",
                       formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--dataset", default="mnist", choices=["mnist", "digits"])
    p.add_argument("--data-root", default=None, help="folder holding mnist.npz or the IDX files")
    p.add_argument("--model", default="mlp", choices=["mlp", "cnn"])
    p.add_argument("--hidden", type=int, nargs="+", default=[1024, 1024], help="MLP hidden widths")
    p.add_argument("--channels", type=int, nargs="+", default=[32, 64], help="CNN conv channels")
    p.add_argument("--fc", type=int, default=1024, help="CNN fully connected width")
    p.add_argument("--activation", default="relu", choices=["relu", "prelu", "prelu_shared", "sigmoid", "tanh", "leaky_relu"])
    p.add_argument("--dropout-in", type=float, default=0.0, help="input drop probability (MLP)")
    p.add_argument("--dropout", type=float, default=0.0, help="hidden drop probability")
    p.add_argument("--batch-norm", action="store_true")
    p.add_argument("--init", default="he", choices=["he", "xavier", "lecun", "default"])
    p.add_argument("--optimizer", default="adam", choices=OPTIMIZERS)
    p.add_argument("--lr", type=float, default=None, help="learning rate (default: the optimizer's)")
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--weight-decay", type=float, default=0.0)
    p.add_argument("--max-norm", type=float, default=None, help="max-norm constraint c on incoming weights")
    p.add_argument("--schedule", default="none", choices=["none", "cosine", "step"],
                   help="learning-rate schedule over the epochs: cosine annealing to 0, or ×0.1 every third of them")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu", choices=["cpu", "wgpu"], help="where to train (wgpu: the GPU backend)")
    p.add_argument("--checkpoint", default=None, help="save the trained weights here (safetensors)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def cmd_train(args: argparse.Namespace) -> int:
    import ferrograd as fg
    from ferrograd import models, optim
    from ferrograd.data import DataLoader, TensorDataset
    from ferrograd.train import evaluate, fit

    fg.manual_seed(args.seed)
    image = args.model == "cnn"
    (xtr, ytr), (xva, yva), (xte, yte) = load_dataset(args.dataset, args.data_root, image=image)
    if image:
        model = models.cnn(xtr.shape[1], xtr.shape[2], args.channels, args.fc, activation=args.activation,
                           dropout=args.dropout, batch_norm=args.batch_norm, init=args.init)
    else:
        model = models.mlp(xtr.shape[1], args.hidden, 10, args.activation, args.dropout_in, args.dropout,
                           args.batch_norm, args.init)
    model.to(args.device)
    opt = make_optimizer(args.optimizer, model.parameters(), args.lr, args.momentum, args.weight_decay)
    train = DataLoader(TensorDataset(xtr, ytr), args.batch_size, shuffle=True, seed=args.seed)
    val = DataLoader(TensorDataset(xva, yva), 1000)
    print(f"{args.model} with {models.count_parameters(model):,} parameters on {args.dataset} "
          f"({len(xtr)} train / {len(xva)} val / {len(xte)} test), {args.optimizer}", file=sys.stderr)
    t0 = time.perf_counter()
    scheduler = None
    if args.schedule == "cosine":
        scheduler = optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(args.epochs, 1))
    elif args.schedule == "step":
        scheduler = optim.lr_scheduler.StepLR(opt, step_size=max(args.epochs // 3, 1), gamma=0.1)
    history = fit(model, opt, train, args.epochs, val_loader=val, scheduler=scheduler, max_norm=args.max_norm,
                  progress=not args.quiet)
    elapsed = time.perf_counter() - t0
    test = evaluate(model, DataLoader(TensorDataset(xte, yte), 1000))
    per_epoch = np.mean(history["time"]) if len(history) else 0.0
    print(f"test accuracy {test['acc']:.4f}  test loss {test['loss']:.4f}  "
          f"({elapsed:.1f}s, {per_epoch:.1f}s per epoch)")
    if args.checkpoint:
        fg.save(model.state_dict(), args.checkpoint, metadata={"test_acc": f"{test['acc']:.6f}"})
        print(f"saved {args.checkpoint}", file=sys.stderr)
    return 0


def _papers_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("papers", help="reproduce the papers' results on real MNIST and write a report")
    p.add_argument("names", nargs="*", help="which (dropout adam batchnorm he prelu random_search); default all")
    p.add_argument("--out", default="papers-report", help="folder for report.md and the plots")
    p.add_argument("--quick", action="store_true", help="smaller budgets (minutes, not hours)")
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--data-root", default=None)


def cmd_papers(args: argparse.Namespace) -> int:
    from ferrograd.papers import run_papers

    return run_papers(args.names, out=args.out, quick=args.quick, seeds=args.seeds, data_root=args.data_root)


def main(argv: Optional[List[str]] = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] == "search":
        from ferrograd.search.cli import main as search_main

        return int(search_main(argv[1:]) or 0)
    parser = argparse.ArgumentParser(prog="ferrograd", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("search", help="search an MLP's hyper-parameters (see `ferrograd search --help`)")
    _train_parser(sub)
    _papers_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "train":
        return cmd_train(args)
    return cmd_papers(args)


if __name__ == "__main__":
    sys.exit(main())
