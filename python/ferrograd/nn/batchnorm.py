"""``BatchNorm1d`` and ``BatchNorm2d`` (Ioffe & Szegedy 2015)."""

from __future__ import annotations

from typing import Optional

from ferrograd._core import Tensor
from ferrograd.creation import ones, zeros
from ferrograd.nn import functional as F
from ferrograd.nn.module import Module
from ferrograd.nn.parameter import Parameter


class _BatchNorm(Module):
    _expected_ndims: tuple = ()

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: Optional[float] = 0.1, affine: bool = True,
                 track_running_stats: bool = True) -> None:
        super().__init__()
        if isinstance(num_features, bool) or not isinstance(num_features, int) or num_features <= 0:
            raise ValueError(f"{type(self).__name__}: num_features must be a positive int, got {num_features!r}")
        if not eps > 0:
            raise ValueError(f"{type(self).__name__}: eps must be positive, got {eps!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{type(self).__name__}: momentum must be in [0, 1] or None, got {momentum!r}")
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features))
            self.bias = Parameter(zeros(num_features))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features))
            self.register_buffer("running_var", ones(num_features))
            self.register_buffer("num_batches_tracked", zeros(()))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def forward(self, x: Tensor) -> Tensor:
        if x.ndim not in self._expected_ndims:
            raise ValueError(f"{type(self).__name__}: expected a {' or '.join(f'{d}-D' for d in self._expected_ndims)} "
                             f"input, got shape {tuple(x.shape)}")
        momentum = self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked += 1
            if momentum is None:
                # Cumulative moving average, as torch does with momentum=None.
                momentum = 1.0 / float(self.num_batches_tracked.item())
        use_batch = self.training or self.running_mean is None
        return F.batch_norm(
            x,
            self.running_mean if (not self.training or self.track_running_stats) else None,
            self.running_var if (not self.training or self.track_running_stats) else None,
            self.weight, self.bias, use_batch, momentum if momentum is not None else 0.0, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch norm per feature of (N, C) or per channel of (N, C, L).

    Training: normalises with the batch mean and biased variance (gradients flow through
    both) and updates running_mean / running_var (unbiased) with ``momentum`` (torch's
    convention: new = (1 − momentum)·old + momentum·batch). Eval: uses the running statistics,
    so an example's output does not depend on its batch.
    """

    _expected_ndims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm per channel of (N, C, H, W), statistics over N, H and W."""

    _expected_ndims = (4,)
