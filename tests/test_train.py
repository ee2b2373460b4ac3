"""fit / evaluate / EarlyStopping and the `ferrograd train` command."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import models, nn, optim
from ferrograd.data import DataLoader, TensorDataset
from ferrograd.train import DivergenceError, EarlyStopping, evaluate, fit


def blobs(n=600, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((3, 10)) * 3
    y = rng.integers(0, 3, n)
    x = (centres[y] + rng.standard_normal((n, 10))).astype(np.float32)
    return x, y


def loaders(seed=0):
    x, y = blobs(seed=seed)
    return (DataLoader(TensorDataset(x[:480], y[:480]), 32, shuffle=True, seed=seed),
            DataLoader(TensorDataset(x[480:], y[480:]), 120))


def test_fit_learns_and_records_history():
    fg.manual_seed(0)
    train, val = loaders()
    model = models.mlp(10, [32], 3)
    opt = optim.Adam(model.parameters(), lr=1e-2)
    sched = optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
    seen = []
    h = fit(model, opt, train, 6, val_loader=val, scheduler=sched, progress=False,
            callback=lambda epoch, m: seen.append((epoch, m["val_loss"])))
    assert len(h) == 6 and [e for e, _ in seen] == list(range(1, 7))
    assert h["val_acc"][-1] > 0.95 and h["train_loss"][-1] < h["train_loss"][0]
    assert h["lr"] == [1e-2, 1e-2, 5e-3, 5e-3, 2.5e-3, 2.5e-3]
    assert all(t > 0 for t in h["time"])
    ev = evaluate(model, val)
    assert ev["acc"] == pytest.approx(h["val_acc"][-1])


def test_evaluate_restores_training_mode_and_uses_no_grad():
    model = models.mlp(10, [8], 3, dropout_hidden=0.5)
    model.train()
    _, val = loaders()
    r1 = evaluate(model, val)
    r2 = evaluate(model, val)
    assert r1 == r2  # eval mode: dropout off, deterministic
    assert model.training


def test_early_stopping_stops_and_restores_best_weights():
    fg.manual_seed(1)
    train, val = loaders()
    model = models.mlp(10, [32], 3)
    opt = optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    es = EarlyStopping("val_loss", patience=1)
    h = fit(model, opt, train, 50, val_loader=val, early_stopping=es, progress=False)
    assert h.stopped_early and len(h) < 50
    assert h.best_epoch == es.best_epoch
    assert evaluate(model, val)["loss"] == pytest.approx(es.best, rel=1e-5)


def test_divergence_is_detected():
    fg.manual_seed(0)
    train, _ = loaders()
    model = models.mlp(10, [32], 3)
    opt = optim.SGD(model.parameters(), lr=1e6)
    with pytest.raises(DivergenceError, match="loss became"):
        fit(model, opt, train, 5, progress=False)


def test_callback_exception_ends_training():
    train, val = loaders()
    model = models.mlp(10, [8], 3)

    class Stop(Exception):
        pass

    def cb(epoch, metrics):
        if epoch == 2:
            raise Stop()

    with pytest.raises(Stop):
        fit(model, optim.Adam(model.parameters()), train, 5, val_loader=val, callback=cb, progress=False)


def test_fit_argument_errors():
    train, _ = loaders()
    model = models.mlp(10, [8], 3)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, optim.Adam(model.parameters()), train, -1)
    with pytest.raises(ValueError, match="val_loader"):
        fit(model, optim.Adam(model.parameters()), train, 1, early_stopping=2)


def test_models_builders():
    m = models.mlp(784, [64, 32], 10, "prelu", 0.2, 0.5, batch_norm=True)
    kinds = [type(x).__name__ for x in m]
    assert kinds == ["Dropout", "Linear", "BatchNorm1d", "PReLU", "Dropout", "Linear", "BatchNorm1d", "PReLU",
                     "Dropout", "Linear"]
    assert m[1].bias is None and m[3].weight.shape == (64,)
    c = models.cnn()
    assert c(fg.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert models.count_parameters(c) == (32 * 25 + 32) + (64 * 32 * 25 + 64) + (64 * 7 * 7 * 1024 + 1024) + (1024 * 10 + 10)
    w = models.mlp(100, [100] * 3, 10, init="he")[0].weight.numpy()
    assert abs(w.std() / math.sqrt(2 / 100) - 1) < 0.1
    with pytest.raises(ValueError, match="activation"):
        models.mlp(4, [4], 2, "swish")
    with pytest.raises(ValueError, match="init"):
        models.mlp(4, [4], 2, init="orthogonal")


def test_train_command_on_digits(capsys, tmp_path):
    from ferrograd.cli import main

    ckpt = tmp_path / "m.safetensors"
    rc = main(["train", "--dataset", "digits", "--hidden", "64", "--epochs", "15", "--optimizer", "adam",
               "--batch-size", "32", "--checkpoint", str(ckpt), "--quiet"])
    assert rc == 0
    out = capsys.readouterr().out
    acc = float(out.split("test accuracy ")[1].split()[0])
    assert acc > 0.93, out
    state = fg.load(ckpt)
    assert state["0.weight"].shape == (64, 64)


def test_train_command_rejects_bad_flags():
    from ferrograd.cli import main

    with pytest.raises(SystemExit):
        main(["train", "--optimizer", "lbfgs"])
