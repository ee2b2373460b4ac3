"""Ready-made models of the papers and benchmarks: an MLP and a small CNN built from flags."""

from __future__ import annotations

from typing import Optional, Sequence

from ferrograd import nn


def _activation(name: str, width: int) -> nn.Module:
    if name == "relu":
        return nn.ReLU()
    if name == "prelu":
        return nn.PReLU(width)
    if name == "prelu_shared":
        return nn.PReLU(1)
    if name == "sigmoid":
        return nn.Sigmoid()
    if name == "tanh":
        return nn.Tanh()
    if name == "leaky_relu":
        return nn.LeakyReLU(0.01)
    raise ValueError(f"unknown activation {name!r}: expected relu, prelu, prelu_shared, sigmoid, tanh or leaky_relu")


def init_weights(model: nn.Module, scheme: str, activation: str = "relu") -> nn.Module:
    """Initialises every Linear/Conv2d weight by ``scheme`` and zeroes the biases.

    "he": N(0, 2/fan_in) (He et al.; with PReLU the paper's 2/((1+a²)·fan_in), a = 0.25);
    "xavier": Glorot normal, N(0, 2/(fan_in+fan_out)); "lecun": N(0, 1/fan_in), the "1/n"
    variance He et al. compare against; "default": leave torch's default initialisation.
    """
    if scheme == "default":
        return model
    if scheme not in ("he", "xavier", "lecun"):
        raise ValueError(f"unknown init {scheme!r}: expected he, xavier, lecun or default")
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            if scheme == "he":
                slope = 0.25 if activation.startswith("prelu") else 0.0
                nn.init.kaiming_normal_(m.weight, a=slope, nonlinearity="leaky_relu")
            elif scheme == "xavier":
                nn.init.xavier_normal_(m.weight)
            else:
                nn.init.kaiming_normal_(m.weight, nonlinearity="linear")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
    return model


def mlp(in_features: int, hidden: Sequence[int], out_features: int = 10, activation: str = "relu",
        dropout_in: float = 0.0, dropout_hidden: float = 0.0, batch_norm: bool = False,
        init: str = "he") -> nn.Sequential:
    """in → hidden[0] → … → out, each hidden layer Linear [→ BatchNorm1d] → activation
    [→ Dropout]. BatchNorm goes before the nonlinearity (Ioffe & Szegedy); the input dropout
    applies to the input features."""
    layers = []
    if dropout_in > 0:
        layers.append(nn.Dropout(dropout_in))
    width = in_features
    for h in hidden:
        layers.append(nn.Linear(width, h, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(h))
        layers.append(_activation(activation, h))
        if dropout_hidden > 0:
            layers.append(nn.Dropout(dropout_hidden))
        width = h
    layers.append(nn.Linear(width, out_features))
    return init_weights(nn.Sequential(*layers), init, activation)


def cnn(in_channels: int = 1, image_size: int = 28, channels: Sequence[int] = (32, 64), hidden: int = 1024,
        out_features: int = 10, activation: str = "relu", dropout: float = 0.0, batch_norm: bool = False,
        init: str = "he", kernel_size: int = 5) -> nn.Sequential:
    """conv k×k (padding k//2) [→ BatchNorm2d] → activation → max-pool 2, per entry of
    ``channels``, then Linear(hidden) → activation [→ Dropout] → Linear(out). With the defaults
    this is the benchmark CNN conv5×5(32)-pool-conv5×5(64)-pool-FC1024-FC10."""
    layers = []
    c, size = in_channels, image_size
    for ch in channels:
        layers.append(nn.Conv2d(c, ch, kernel_size, padding=kernel_size // 2, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(ch))
        layers.append(_activation(activation, ch))
        layers.append(nn.MaxPool2d(2))
        c, size = ch, size // 2
    layers += [nn.Flatten(), nn.Linear(c * size * size, hidden), _activation(activation, hidden)]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(hidden, out_features))
    return init_weights(nn.Sequential(*layers), init, activation)


def count_parameters(model: nn.Module, trainable_only: Optional[bool] = True) -> int:
    """Number of scalar parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
