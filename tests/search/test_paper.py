"""PAPERS.md item 6: Bergstra & Bengio (2012), random search for hyper-parameter optimization."""
from __future__ import annotations

import numpy as np
import pytest

from ferrograd.search.paper import reproduce


@pytest.mark.papers
def test_random_beats_grid_efficiency_rises_and_dummies_rank_last(tmp_path):
    res = reproduce(quick=True, out=str(tmp_path))
    rvg = res["random_vs_grid"]
    # 2 relevant + 3 dummy dimensions; the grid uses cell centres, the fairest grid there is
    assert rvg[243]["budget"] == 243 and len(rvg[243]["random_best"]) == 200
    assert rvg[243]["random_wins"] >= 0.9
    assert rvg[32]["random_wins"] > 0.5
    assert np.median(rvg[243]["random_best"]) < 0.2 * np.median(rvg[243]["grid_best"])
    medians = res["efficiency_curve"]["medians"]
    assert np.all(np.diff(medians) <= 0) and medians[-1] < 0.05 * medians[0]
    ranking = list(res["relevance"])
    assert ranking[-1].startswith("dummy")
    assert set(ranking[:2]) == {"x0", "x1"}
    assert [ok for _, ok in res["checks"]] == [True, True, True]
    assert len(res["pngs"]) == 3
    for p in res["pngs"]:
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
