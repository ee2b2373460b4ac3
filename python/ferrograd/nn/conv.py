"""``Conv2d`` (im2col + gemm on the CPU)."""

from __future__ import annotations

import math
from typing import Any

from ferrograd._core import Tensor
from ferrograd.creation import empty
from ferrograd.nn import functional as F
from ferrograd.nn import init
from ferrograd.nn.module import Module
from ferrograd.nn.parameter import Parameter


class Conv2d(Module):
    """2-D convolution: input (N, C_in, H, W) → (N, C_out, H', W') with
    H' = ⌊(H + 2·padding − dilation·(kh − 1) − 1) / stride⌋ + 1.

    Weight (C_out, C_in, kh, kw), default-initialised as torch (kaiming_uniform_ with a=√5,
    i.e. U(−1/√fan_in, 1/√fan_in), fan_in = C_in·kh·kw), bias U(−1/√fan_in, 1/√fan_in).
    ``groups`` must be 1 and ``padding_mode`` "zeros".
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros") -> None:
        super().__init__()
        if groups != 1:
            raise NotImplementedError("Conv2d: groups != 1 is not supported")
        if padding_mode != "zeros":
            raise NotImplementedError(f"Conv2d: padding_mode {padding_mode!r} is not supported")
        for name, v in (("in_channels", in_channels), ("out_channels", out_channels)):
            if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
                raise ValueError(f"Conv2d: {name} must be a positive int, got {v!r}")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = F._pair(kernel_size, "kernel_size", "Conv2d")
        if 0 in self.kernel_size:
            raise ValueError(f"Conv2d: kernel_size must be positive, got {kernel_size!r}")
        self.stride = F._pair(stride, "stride", "Conv2d")
        if 0 in self.stride:
            raise ValueError(f"Conv2d: stride must be positive, got {stride!r}")
        self.padding = F._pair(padding, "padding", "Conv2d")
        self.dilation = F._pair(dilation, "dilation", "Conv2d")
        self.weight = Parameter(empty(out_channels, in_channels, *self.kernel_size))
        if bias:
            self.bias = Parameter(empty(out_channels))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
            bound = 1 / math.sqrt(fan_in)
            init.uniform_(self.bias, -bound, bound)

    def forward(self, x: Tensor) -> Tensor:
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            s += f", padding={self.padding}"
        if self.dilation != (1, 1):
            s += f", dilation={self.dilation}"
        if self.bias is None:
            s += ", bias=False"
        return s
