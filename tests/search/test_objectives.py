"""The built-in objectives. MLPObjective is checked against a recording stand-in of the
engine's PyTorch-shaped API (the agreed interface), and against the real engine when present."""
from __future__ import annotations

import contextlib
import types

import numpy as np
import pytest

import ferrograd
from ferrograd.search import Study, TrialPruned, TrialState
from ferrograd.search.objectives import (MLPObjective, PlantedQuadratic, SyntheticMLPObjective,
                                         _DATA, mlp_space)
from ferrograd.search.trial import Trial


class Recorder:
    def __init__(self):
        self.calls = []


def fake_engine(rec: Recorder):
    """Modules ferrograd (attributes), ferrograd.nn, ferrograd.optim, ferrograd.datasets."""
    class T:
        def __init__(self, a):
            self.a = np.asarray(a, dtype=np.float32)

        def numpy(self):
            return self.a

    class Module:
        training = True

        def train(self):
            self.training = True
            rec.calls.append(("train",))

        def eval(self):
            self.training = False
            rec.calls.append(("eval",))

    class Linear(Module):
        def __init__(self, i, o):
            self.weight, self.bias = T(np.zeros((o, i))), T(np.zeros(o))
            rec.calls.append(("Linear", i, o))

        def __call__(self, x):
            return T(x.a @ self.weight.a.T + self.bias.a)

    def layer(name):
        class Layer(Module):
            def __init__(self, *args):
                rec.calls.append((name, *args))

            def __call__(self, x):
                return x
        return Layer

    class Sequential(Module):
        def __init__(self, *layers):
            self.layers = layers

        def __call__(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

        def parameters(self):
            return [p for m in self.layers if isinstance(m, Linear) for p in (m.weight, m.bias)]

    def init(name):
        def f(w, **kw):
            rec.calls.append((name, w.a.shape, kw))
            if name != "zeros_":
                w.a[...] = np.random.default_rng(0).normal(size=w.a.shape)
        return f

    class Loss:
        def item(self):  # the objective checks every loss for divergence
            return 0.5

        def backward(self):
            rec.calls.append(("backward",))

    def optimizer(name):
        class Opt:
            def __init__(self, params, **kw):
                rec.calls.append((name, len(params), kw))

            def zero_grad(self):
                pass

            def step(self):
                rec.calls.append(("step",))
        return Opt

    rng = np.random.default_rng(0)
    split = lambda n: (rng.random((n, 8, 8), dtype=np.float32), rng.integers(0, 10, n))
    nn = types.SimpleNamespace(
        Linear=Linear, BatchNorm1d=layer("BatchNorm1d"), ReLU=layer("ReLU"), PReLU=layer("PReLU"),
        Dropout=layer("Dropout"), Sequential=Sequential,
        init=types.SimpleNamespace(kaiming_normal_=init("kaiming_normal_"),
                                   xavier_normal_=init("xavier_normal_"), zeros_=init("zeros_")),
        functional=types.SimpleNamespace(cross_entropy=lambda logits, y: Loss()))
    optim = types.SimpleNamespace(Adam=optimizer("Adam"), SGD=optimizer("SGD"))
    datasets = types.SimpleNamespace(digits=lambda: (split(40), split(20), split(30)))
    top = dict(manual_seed=lambda s: rec.calls.append(("manual_seed", s)), tensor=T,
               no_grad=contextlib.nullcontext, nn=nn, optim=optim, datasets=datasets)
    return top, nn, optim, datasets


@pytest.fixture
def engine(monkeypatch):
    rec = Recorder()
    top, nn, optim, datasets = fake_engine(rec)
    for k, v in top.items():
        monkeypatch.setattr(ferrograd, k, v, raising=False)
    monkeypatch.setitem(__import__("sys").modules, "ferrograd.nn", nn)
    monkeypatch.setitem(__import__("sys").modules, "ferrograd.optim", optim)
    monkeypatch.setitem(__import__("sys").modules, "ferrograd.datasets", datasets)
    monkeypatch.setattr("ferrograd.search.objectives._DATA", {})
    return rec


class Channel:
    def __init__(self, prune_at=None):
        self.reports, self.prune_at = [], prune_at

    def report(self, number, step, value):
        self.reports.append((step, value))
        return step == self.prune_at


PARAMS = {"lr": 0.01, "hidden": 32, "dropout": 0.25, "batch_norm": True, "activation": "prelu",
          "init": "xavier", "optimizer": "sgd", "momentum": 0.9, "batch_size": 16}


def test_mlp_objective_builds_trains_and_reports_per_epoch(engine):
    channel = Channel()
    trial = Trial(3, PARAMS, 1234, channel)
    err = MLPObjective("digits", epochs=3, hidden_layers=2)(PARAMS, trial)
    kinds = [c[0] for c in engine.calls]
    assert engine.calls[0] == ("manual_seed", 1234)
    layers = [c for c in engine.calls if c[0] in ("Linear", "BatchNorm1d", "PReLU", "ReLU", "Dropout")]
    assert layers == [("Linear", 64, 32), ("BatchNorm1d", 32), ("PReLU",), ("Dropout", 0.25),
                      ("Linear", 32, 32), ("BatchNorm1d", 32), ("PReLU",), ("Dropout", 0.25),
                      ("Linear", 32, 10)]
    assert [c for c in engine.calls if c[0] == "xavier_normal_"] == [
        ("xavier_normal_", (32, 64), {}), ("xavier_normal_", (32, 32), {}),
        ("xavier_normal_", (10, 32), {})]
    assert kinds.count("zeros_") == 3 and "kaiming_normal_" not in kinds
    assert ("SGD", 6, {"lr": 0.01, "momentum": 0.9, "nesterov": True}) in engine.calls
    assert kinds.count("step") == 3 * 3  # 40 examples in batches of 16, 3 epochs
    assert [s for s, _ in channel.reports] == [1, 2, 3]
    assert all(0.0 <= v <= 1.0 for _, v in channel.reports)
    assert err == channel.reports[-1][1]
    assert 0.0 <= trial.user_attrs["test_error"] <= 1.0
    assert kinds.count("eval") == 3 + 1 and kinds.count("train") == 3


def test_mlp_objective_adam_kaiming_relu_and_pruning(engine):
    params = {**PARAMS, "optimizer": "adam", "init": "kaiming", "activation": "relu",
              "batch_norm": False, "dropout": 0.0}
    del params["momentum"]
    channel = Channel(prune_at=2)
    with pytest.raises(TrialPruned):
        MLPObjective("digits", epochs=5, hidden_layers=1)(params, Trial(0, params, 1, channel))
    assert [s for s, _ in channel.reports] == [1, 2]
    assert ("Adam", 4, {"lr": 0.01}) in engine.calls
    assert [c for c in engine.calls if c[0] == "kaiming_normal_"] == [
        ("kaiming_normal_", (32, 64), {"nonlinearity": "relu"}),
        ("kaiming_normal_", (10, 32), {"nonlinearity": "relu"})]
    assert not any(c[0] in ("BatchNorm1d", "Dropout", "PReLU") for c in engine.calls)


def test_mlp_objective_fills_fixed_and_default_values(engine):
    objective = MLPObjective("digits", epochs=1, fixed={"optimizer": "sgd", "momentum": 0.0})
    objective({"lr": 0.1}, Trial(0, {"lr": 0.1}, 0, Channel()))
    assert ("SGD", 6, {"lr": 0.1, "momentum": 0.0, "nesterov": False}) in engine.calls
    with pytest.raises(ValueError, match="unknown hyper-parameters \\['width'\\]"):
        MLPObjective(fixed={"width": 3})
    with pytest.raises(ValueError, match="unknown dataset 'cifar'"):
        MLPObjective("cifar")


def test_mlp_objective_passes_the_data_root_to_the_loader(engine, monkeypatch):
    import sys

    seen = []
    digits = sys.modules["ferrograd.datasets"].digits
    monkeypatch.setattr(sys.modules["ferrograd.datasets"], "mnist",
                        lambda root=None: seen.append(root) or digits(), raising=False)
    MLPObjective("mnist", epochs=1, data_root="/data")({"lr": 0.1}, Trial(0, {"lr": 0.1}, 0, Channel()))
    assert seen == ["/data"]


def test_mlp_objective_on_the_real_engine():
    _DATA.clear()
    study = Study(mlp_space(), seed=0)
    study.optimize(MLPObjective("digits", epochs=2), n_trials=2)
    assert all(t.state is TrialState.COMPLETE for t in study.trials), [t.error for t in study.trials]
    assert all(0.0 <= t.value <= 1.0 and len(t.intermediate_values) == 2 for t in study.trials)


def test_synthetic_objective_has_planted_irrelevant_dimensions():
    base = {"lr": 3e-3, "hidden": 256, "dropout": 0.25, "batch_norm": False,
            "activation": "relu", "init": "kaiming", "optimizer": "adam", "batch_size": 64}
    f = SyntheticMLPObjective.true_error
    assert f(base) == pytest.approx(0.02)
    for name, other in (("activation", "prelu"), ("init", "xavier"), ("batch_size", 256)):
        assert f({**base, name: other}) == f(base)
    assert f({**base, "lr": 3e-2}) > f(base) + 0.2
    assert f({**base, "optimizer": "sgd", "momentum": 0.9, "lr": 0.03}) == pytest.approx(0.02)
    channel = Channel()
    value = SyntheticMLPObjective(epochs=4)(base, Trial(0, base, 5, channel))
    assert [s for s, _ in channel.reports] == [1, 2, 3, 4] and value == channel.reports[-1][1]
    assert channel.reports[0][1] > channel.reports[-1][1]


def test_planted_quadratic():
    f = PlantedQuadratic([0.2, 0.6])
    assert f({"x0": 0.2, "x1": 0.6, "dummy0": 0.9}) == 0.0
    assert f({"x0": 0.4, "x1": 0.6}) == pytest.approx(0.04)
    assert f({"x0": 0.2, "x1": 0.8}) == pytest.approx(0.25 * 0.04)
    with pytest.raises(ValueError, match="differ in length"):
        PlantedQuadratic([0.1], weights=[1.0, 2.0])
