"""Data sets: ``digits()`` (embedded, no download) and ``mnist()``."""

from ferrograd.datasets.digits_loader import digits
from ferrograd.datasets.mnist_loader import mnist

__all__ = ["digits", "mnist"]
