"""``Dropout`` (Hinton et al. 2012; Srivastava et al. 2014)."""

from __future__ import annotations

from ferrograd._core import Tensor
from ferrograd.nn import functional as F
from ferrograd.nn.module import Module


class Dropout(Module):
    """Zeroes each element with probability ``p`` during training.

    ``p`` is the DROP probability, as in PyTorch. The dropout paper writes p for the KEEP
    probability (0.5 for hidden units, 0.8 for inputs there = ``Dropout(0.5)`` and
    ``Dropout(0.2)`` here). Survivors are scaled by 1/(1 − p) during training ("inverted
    dropout"), which equals the paper's scaling of the weights by its p at test time; in
    ``eval()`` the layer is the identity. Masks come from the global generator, so
    ``ferrograd.manual_seed`` makes them reproducible.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, got {p!r}")
        self.p = float(p)

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}"
