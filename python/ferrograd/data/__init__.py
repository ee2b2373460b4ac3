"""Datasets and batching: ``Dataset``, ``TensorDataset``, ``DataLoader``."""

from ferrograd.data.dataloader import DataLoader
from ferrograd.data.dataset import Dataset, TensorDataset

__all__ = ["Dataset", "TensorDataset", "DataLoader"]
