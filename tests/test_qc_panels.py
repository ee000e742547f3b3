"""Capped per-array figures: which arrays get a panel above the cap."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from sigrestore.errors import ConfigError
from sigrestore.plotting import PanelCap, select_panels
from sigrestore.plotting.qc import residual_images
from sigrestore.plotting.samples import ma_plots
from sigrestore.preprocess import qc as qcm

matplotlib.use("Agg")


def test_below_the_cap_every_array_is_drawn() -> None:
    sel = select_panels([3.0, 1.0, 2.0], [False, True, False], PanelCap(3))
    assert sel.complete and list(sel.positions) == [0, 1, 2] and sel.caption("x") == ""


def test_above_the_cap_flagged_then_worst_in_array_order() -> None:
    scores = np.array([0.1, 5.0, 0.2, 9.0, np.nan, 4.0, 0.3])
    flagged = np.array([False, False, True, False, False, False, False])
    sel = select_panels(scores, flagged, PanelCap(3))
    # array 2 is flagged (low score, still drawn), then the two highest scores (3, 1)
    assert list(sel.positions) == [1, 2, 3]
    assert sel.n_flagged == 1 and sel.n_total == 7 and not sel.complete
    assert "3 of 7 arrays" in sel.caption("spread")


def test_more_flagged_than_the_cap_keeps_the_worst_flagged() -> None:
    sel = select_panels([1.0, 2.0, 3.0, 0.0], [True, True, True, False], PanelCap(2))
    assert list(sel.positions) == [1, 2] and sel.n_flagged == 2


def test_nan_scores_come_last() -> None:
    sel = select_panels([np.nan, np.nan, 0.0], None, PanelCap(1))
    assert list(sel.positions) == [2]


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "3"])
def test_cap_must_be_a_positive_integer(bad) -> None:
    with pytest.raises(ConfigError, match="max_panels"):
        PanelCap(bad)


class _Result:
    """The parts of an RmaResult the residual-image figure uses."""

    def __init__(self, n: int, bad: int) -> None:
        rng = np.random.default_rng(1)
        self.expression = pd.DataFrame(np.zeros((2, n)), columns=[f"a{j}" for j in range(n)])
        images = rng.normal(0, 0.1, (n, 10, 10))
        images[bad, :5] += 2.0  # a spatial artefact
        self.residual_images = qcm.ResidualImages(images=images, bin=1, rows=10, cols=10)
        flags = np.zeros(n, dtype=bool)
        flags[3] = True
        self.qc = pd.DataFrame({"outlier": flags}, index=self.expression.columns)


def test_residual_images_draws_the_capped_selection() -> None:
    result = _Result(50, bad=40)
    fig = residual_images(result, cap=PanelCap(4))
    titles = [ax.get_title() for ax in fig.axes if ax.get_images()]
    assert len(titles) == 4
    assert "a3" in titles and "a40" in titles  # the flagged one and the artefact
    assert "4 of 50 arrays" in fig._suptitle.get_text()
    full = residual_images(_Result(6, bad=2))
    assert len([ax for ax in full.axes if ax.get_images()]) == 6


def test_ma_plots_draws_the_capped_selection() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(8, 2, (400, 1)) + rng.normal(0, 0.1, (400, 40))
    x[:, 17] += rng.normal(0, 1.5, 400)  # a noisy array
    expr = pd.DataFrame(x, columns=[f"s{j}" for j in range(40)])
    fig = ma_plots(expr, cap=PanelCap(5), flagged=["s2"], max_points=100)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible() and ax.collections]
    assert len(titles) == 5 and "s2" in titles and "s17" in titles
    assert "5 of 40 arrays" in fig._suptitle.get_text()
