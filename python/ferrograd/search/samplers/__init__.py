"""Search strategies. ``make_sampler(name, **kwargs)`` builds one by its short name."""
from __future__ import annotations

from typing import Any, Mapping

from .base import Sampler
from .grid import GridSampler
from .hybrid import HybridSampler
from .random import RandomSampler
from .sobol import SobolSampler
from .tpe import TPESampler

__all__ = ["Sampler", "GridSampler", "RandomSampler", "SobolSampler", "HybridSampler",
           "TPESampler", "SAMPLERS", "make_sampler", "sampler_from_config"]

SAMPLERS: dict[str, type[Sampler]] = {
    cls.name: cls for cls in (GridSampler, RandomSampler, SobolSampler, HybridSampler, TPESampler)
}


def make_sampler(name: str, **kwargs: Any) -> Sampler:
    """The sampler called ``name`` ("grid", "random", "sobol", "hybrid" or "tpe"), built with
    ``kwargs``. ValueError names the known samplers when ``name`` is not one of them."""
    try:
        cls = SAMPLERS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown sampler {name!r}; expected one of {sorted(SAMPLERS)}") from None
    return cls(**kwargs)


def sampler_from_config(config: Mapping[str, Any]) -> Sampler:
    """Rebuild a sampler from ``Sampler.config()`` output (as stored with a study)."""
    config = dict(config)
    return make_sampler(config.pop("type", None), **config)
