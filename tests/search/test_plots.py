"""The three plots are real PNG files with something drawn in them."""
from __future__ import annotations

import numpy as np
import pytest

from ferrograd.search import (RandomSampler, Study, efficiency_curve, plot_efficiency_curve,
                              plot_history, plot_relevance)
from ferrograd.search.objectives import PlantedQuadratic, planted_space

PNG = b"\x89PNG\r\n\x1a\n"


def read_png(path):
    import matplotlib.image as mpimg

    with open(path, "rb") as f:
        assert f.read(8) == PNG
    return mpimg.imread(path)


def test_plots_write_pngs_with_content(tmp_path):
    study = Study(planted_space(1, 1), sampler=RandomSampler(), seed=0)
    study.optimize(PlantedQuadratic([0.4]), n_trials=32)
    paths = [plot_history(study, tmp_path / "h.png"),
             plot_efficiency_curve(efficiency_curve(study), tmp_path / "e.png"),
             plot_efficiency_curve(study, tmp_path / "e2.png", sizes=[1, 4, 16]),
             plot_relevance({"x0": 3.0, "dummy0": 0.01}, tmp_path / "r.png")]
    for p in paths:
        img = read_png(p)
        assert img.shape[0] > 200 and img.shape[1] > 300
        assert np.std(img[..., :3]) > 0.05  # not a blank canvas


def test_plots_refuse_other_formats(tmp_path):
    with pytest.raises(ValueError, match="should end in .png"):
        plot_relevance({"x": 1.0}, tmp_path / "r.svg")
    with pytest.raises(ValueError, match="no relevance scores"):
        plot_relevance({}, tmp_path / "r.png")
