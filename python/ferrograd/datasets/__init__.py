"""Data sets: ``digits()`` (embedded, no download) and ``mnist()``."""

from ferrograd.datasets.digits import digits
from ferrograd.datasets.mnist import mnist

__all__ = ["digits", "mnist"]
