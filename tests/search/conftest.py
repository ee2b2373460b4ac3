"""Markers for the search tests (registered here: the project's pytest config is not ours)."""
from __future__ import annotations


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: takes more than a few seconds")
    config.addinivalue_line("markers", "papers: reproduces a result of a paper in PAPERS.md")
