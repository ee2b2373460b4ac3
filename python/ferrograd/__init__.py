"""ferrograd: float32 tensors with reverse-mode autograd on a Rust core, with a PyTorch-shaped API.

    >>> import ferrograd as fg
    >>> x = fg.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad.tolist()
    [2.0, 4.0, 6.0]

Tensors are always float32. Integer results (``argmax``, the indices of ``max(dim=)``) are
float32 tensors holding exact integers (exact below 2**24); class labels for losses may be
given as numpy integer arrays, Python lists of ints, or such integer-valued tensors.
"""

from ferrograd._core import Tensor, __version__
from ferrograd._core import is_grad_enabled, manual_seed
from ferrograd._core import get_num_threads, get_spin_us, set_spin_us
from ferrograd.creation import (
    arange,
    empty,
    eye,
    from_numpy,
    full,
    full_like,
    linspace,
    ones,
    ones_like,
    rand,
    rand_like,
    randn,
    randn_like,
    tensor,
    zeros,
    zeros_like,
)
from ferrograd.device import devices, get_default_device, is_available, set_default_device, synchronize, empty_cache
from ferrograd.grad_mode import enable_grad, no_grad, set_grad_enabled
from ferrograd.functions import (
    abs,
    argmax,
    argmin,
    cat,
    clamp,
    exp,
    flatten,
    log,
    log_softmax,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    permute,
    relu,
    reshape,
    sigmoid,
    softmax,
    sqrt,
    squeeze,
    stack,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from ferrograd import nn, optim
from ferrograd.serialization import load, save

float32 = "float32"

__all__ = [
    "Tensor", "__version__", "is_grad_enabled", "manual_seed", "get_num_threads", "get_spin_us", "set_spin_us", "arange", "empty", "eye",
    "from_numpy", "full", "full_like", "linspace", "ones", "ones_like", "rand", "rand_like",
    "randn", "randn_like", "tensor", "zeros", "zeros_like", "enable_grad", "no_grad",
    "set_grad_enabled", "abs", "argmax", "argmin", "cat", "clamp", "exp", "flatten", "log",
    "log_softmax", "matmul", "max", "maximum", "mean", "min", "minimum", "permute", "relu",
    "reshape", "sigmoid", "softmax", "sqrt", "squeeze", "stack", "sum", "tanh", "transpose",
    "unsqueeze", "var", "where", "nn", "optim", "float32", "save", "load", "devices",
    "get_default_device", "is_available", "set_default_device", "synchronize", "empty_cache",
]
