"""Neural-network building blocks. Today: ``nn.functional`` (activations and losses)."""

from ferrograd.nn import functional

__all__ = ["functional"]
