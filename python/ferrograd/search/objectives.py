"""Built-in objectives: the MLP that ``ferrograd search`` tunes, and cheap synthetic stand-ins.

The MLP objective is the only code of the search package that needs the ferrograd engine; it
imports it when called, so everything else works (and is tested) without it.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

from .space import Choice, IntLogUniform, LogUniform, Space, Uniform
from .trial import TrialPruned

__all__ = ["mlp_space", "MLPObjective", "SyntheticMLPObjective", "PlantedQuadratic",
           "planted_space"]


def mlp_space() -> Space:
    """The hyper-parameters of the MLP objective.

    lr: learning rate (log-uniform); hidden: units per hidden layer (log-uniform integer);
    dropout: drop probability after each hidden layer (PyTorch convention); batch_norm;
    activation; init (He/Kaiming or Xavier/Glorot normal); optimizer; momentum (Nesterov SGD
    only: a conditional dimension); batch_size.
    """
    return Space({
        "lr": LogUniform(1e-4, 1.0),
        "hidden": IntLogUniform(16, 512),
        "dropout": Uniform(0.0, 0.6),
        "batch_norm": Choice([False, True]),
        "activation": Choice(["relu", "prelu"]),
        "init": Choice(["kaiming", "xavier"]),
        "optimizer": Choice(["adam", "sgd"]),
        "momentum": Uniform(0.0, 0.99, when={"optimizer": "sgd"}),
        "batch_size": Choice([32, 64, 128, 256]),
    })


# Per worker process: datasets are loaded once, not once per trial.
_DATA: dict[str, tuple] = {}


def _dataset(name: str, root: str | None = None):
    if (name, root) not in _DATA:
        from ferrograd import datasets

        if name not in ("digits", "mnist"):
            raise ValueError(f"unknown dataset {name!r}; expected 'digits' or 'mnist'")
        load = getattr(datasets, name)
        # ((x, y) train, (x, y) validation, (x, y) test)
        splits = load() if root is None else load(root=root)
        _DATA[name, root] = tuple((np.ascontiguousarray(x.reshape(len(x), -1), dtype=np.float32),
                             np.asarray(y, dtype=np.int64)) for x, y in splits)
    return _DATA[name, root]


class MLPObjective:
    """Train an MLP with the ferrograd engine and return its validation error rate.

    A training loss that becomes NaN or infinite raises ``ferrograd.train.DivergenceError``, so
    the study records the trial as FAIL instead of a meaningless error rate.

    Reports the validation error after every epoch (``trial.report(epoch, error)``) and stops
    with TrialPruned when the pruner says so; records the final test error as the user
    attribute ``test_error`` (used for the paper's efficiency curves). Picklable, so it runs in
    worker processes.

    Args:
        dataset: "digits" (embedded, small) or "mnist".
        epochs: training epochs per trial.
        hidden_layers: number of hidden layers (each of ``params["hidden"]`` units).
        train_size: use only the first ``train_size`` training examples (None: all).
        fixed: values for hyper-parameters of ``mlp_space()`` that the searched space leaves
            out (e.g. {"optimizer": "adam"} when searching a smaller space); the defaults in
            ``DEFAULTS`` fill whatever is still missing.
        data_root: folder holding the data set files (MNIST), passed to the loader as ``root``.
    """

    DEFAULTS = {"lr": 1e-3, "hidden": 128, "dropout": 0.0, "batch_norm": False,
                "activation": "relu", "init": "kaiming", "optimizer": "adam", "momentum": 0.9,
                "batch_size": 64}

    def __init__(self, dataset: str = "digits", epochs: int = 10, hidden_layers: int = 2,
                 train_size: int | None = None, fixed: dict[str, Any] | None = None,
                 data_root: str | None = None) -> None:
        if dataset not in ("digits", "mnist"):
            raise ValueError(f"unknown dataset {dataset!r}; expected 'digits' or 'mnist'")
        if int(epochs) < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs!r}")
        if int(hidden_layers) < 1:
            raise ValueError(f"hidden_layers must be >= 1, got {hidden_layers!r}")
        self.dataset = dataset
        self.epochs = int(epochs)
        self.hidden_layers = int(hidden_layers)
        self.train_size = None if train_size is None else int(train_size)
        unknown = sorted(set(fixed or {}) - set(self.DEFAULTS))
        if unknown:
            raise ValueError(f"fixed names unknown hyper-parameters {unknown}; "
                             f"known: {sorted(self.DEFAULTS)}")
        self.fixed = dict(fixed or {})
        self.data_root = data_root

    def build(self, params: dict[str, Any], n_in: int, n_out: int):
        """The model for ``params``: [Linear, (BatchNorm1d), activation, Dropout] x layers, Linear."""
        from ferrograd import nn

        layers, linears = [], []
        width = n_in
        for _ in range(self.hidden_layers):
            linear = nn.Linear(width, params["hidden"])
            linears.append(linear)
            layers.append(linear)
            if params["batch_norm"]:
                layers.append(nn.BatchNorm1d(params["hidden"]))
            layers.append(nn.ReLU() if params["activation"] == "relu" else nn.PReLU())
            if params["dropout"] > 0:
                layers.append(nn.Dropout(params["dropout"]))
            width = params["hidden"]
        head = nn.Linear(width, n_out)
        linears.append(head)
        layers.append(head)
        for linear in linears:
            if params["init"] == "kaiming":
                nn.init.kaiming_normal_(linear.weight, nonlinearity="relu")
            else:
                nn.init.xavier_normal_(linear.weight)
            nn.init.zeros_(linear.bias)
        return nn.Sequential(*layers)

    @staticmethod
    def _error(model, x: np.ndarray, y: np.ndarray, fg) -> float:
        model.eval()
        wrong = 0
        with fg.no_grad():
            for i in range(0, len(x), 1024):
                logits = model(fg.tensor(x[i:i + 1024])).numpy()
                wrong += int((logits.argmax(axis=1) != y[i:i + 1024]).sum())
        return wrong / len(x)

    def __call__(self, params: dict[str, Any], trial) -> float:
        import ferrograd as fg
        from ferrograd import nn, optim

        params = {**self.DEFAULTS, **self.fixed, **params}
        (x_train, y_train), (x_val, y_val), (x_test, y_test) = _dataset(self.dataset, self.data_root)
        if self.train_size is not None:
            x_train, y_train = x_train[: self.train_size], y_train[: self.train_size]
        fg.manual_seed(trial.seed)
        rng = np.random.default_rng(trial.seed)
        model = self.build(params, x_train.shape[1], int(y_train.max()) + 1)
        if params["optimizer"] == "adam":
            opt = optim.Adam(model.parameters(), lr=params["lr"])
        else:
            opt = optim.SGD(model.parameters(), lr=params["lr"], momentum=params["momentum"],
                            nesterov=params["momentum"] > 0)
        batch = int(params["batch_size"])
        val_error = 1.0
        for epoch in range(1, self.epochs + 1):
            model.train()
            order = rng.permutation(len(x_train))
            for i in range(0, len(order), batch):
                idx = order[i:i + batch]
                if len(idx) < 2 and params["batch_norm"]:
                    continue  # batch statistics of one example are undefined
                loss = nn.functional.cross_entropy(model(fg.tensor(x_train[idx])), y_train[idx])
                value = loss.item()
                if not math.isfinite(value):
                    # Training on after this would give garbage that looks like a result (an
                    # error rate near chance): fail the trial instead, with the reason.
                    from ferrograd.train import DivergenceError

                    raise DivergenceError(
                        f"the training loss became {value} at epoch {epoch} (lr={params['lr']:.4g}, "
                        f"optimizer={params['optimizer']!r})")
                opt.zero_grad()
                loss.backward()
                opt.step()
            val_error = self._error(model, x_val, y_val, fg)
            trial.report(epoch, val_error)
            if trial.should_prune():
                raise TrialPruned()
        trial.set_user_attr("test_error", self._error(model, x_test, y_test, fg))
        return val_error


class SyntheticMLPObjective:
    """A cheap stand-in for MLPObjective on ``mlp_space()``, for tests and demos.

    The "validation error" depends strongly on the learning rate (relative to an optimum that
    depends on the optimizer and, for SGD, on momentum), mildly on hidden units, dropout and
    batch norm, and not at all on activation, init or batch_size: planted irrelevant
    dimensions that the relevance analysis should rank last. Each epoch reports an error
    that decays towards the final one; the final error is measured on ``n_valid`` simulated
    validation examples (binomial noise), so it behaves like a real error rate. Results are
    a function of (params, trial.seed).

    Args:
        epochs: number of reports (steps 1..epochs).
        n_valid: size of the simulated validation set (0: no noise).
        delay: seconds to sleep per epoch (to mimic work in tests of parallelism).
    """

    irrelevant = ("activation", "init", "batch_size")

    def __init__(self, epochs: int = 5, n_valid: int = 360, delay: float = 0.0) -> None:
        self.epochs = int(epochs)
        self.n_valid = int(n_valid)
        self.delay = float(delay)

    @staticmethod
    def true_error(params: dict[str, Any]) -> float:
        """The noiseless final error rate of ``params``."""
        if params["optimizer"] == "adam":
            log_lr_gap = math.log10(params["lr"] / 3e-3)
        else:  # SGD's effective step is lr / (1 - momentum)
            log_lr_gap = math.log10(params["lr"] / (1.0 - params["momentum"]) / 0.3)
        err = 0.02 + 0.5 * (1.0 - math.exp(-log_lr_gap ** 2))
        err += 0.04 * (math.log2(params["hidden"] / 256.0) / 4.0) ** 2
        err += 0.1 * (params["dropout"] - 0.25) ** 2
        err -= 0.005 if params["batch_norm"] else 0.0
        return min(max(err, 0.0), 0.9)

    def __call__(self, params: dict[str, Any], trial) -> float:
        import time

        final = self.true_error(params)
        rng = np.random.default_rng(trial.seed)
        err = final
        for epoch in range(1, self.epochs + 1):
            if self.delay:
                time.sleep(self.delay)
            err = final + (0.9 - final) * math.exp(-1.5 * epoch)
            if self.n_valid:
                err = rng.binomial(self.n_valid, err) / self.n_valid
            trial.report(epoch, err)
            if trial.should_prune():
                raise TrialPruned()
        if self.n_valid:
            trial.set_user_attr("test_error", rng.binomial(4 * self.n_valid, final) / (4 * self.n_valid))
        return err


def planted_space(n_relevant: int = 2, n_dummy: int = 2) -> Space:
    """Unit-interval dimensions ``x0 .. x{n_relevant-1}`` followed by dummies ``dummy0 ..``."""
    dims = {f"x{i}": Uniform(0.0, 1.0) for i in range(n_relevant)}
    dims.update({f"dummy{i}": Uniform(0.0, 1.0) for i in range(n_dummy)})
    return Space(dims)


class PlantedQuadratic:
    """f(x) = sum_i w_i (x_i - c_i)^2 over the relevant dimensions of ``planted_space``: an
    objective of low effective dimensionality (dummies have weight 0), the setting in which
    Bergstra & Bengio show random search beating grid search.

    Args:
        optimum: the planted optimum c (one coordinate per relevant dimension).
        weights: w; default 1, 1/4, 1/16, ... (the first dimension matters most).
    """

    def __init__(self, optimum: Sequence[float], weights: Sequence[float] | None = None) -> None:
        self.optimum = np.asarray(optimum, dtype=float)
        if weights is None:
            weights = 0.25 ** np.arange(len(self.optimum))
        self.weights = np.asarray(weights, dtype=float)
        if self.weights.shape != self.optimum.shape:
            raise ValueError(f"weights {self.weights.shape} and optimum {self.optimum.shape} differ in length")

    def __call__(self, params: dict[str, Any], trial=None) -> float:
        x = np.array([params[f"x{i}"] for i in range(len(self.optimum))])
        return float(self.weights @ (x - self.optimum) ** 2)
