"""Volcano and MA plots of a DE table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from sigrestore.atomic import write_figure
from sigrestore.errors import FormatError
from sigrestore.plotting.diffexp import ma_plot, volcano_plot


@pytest.fixture
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "gene_symbol": ["UP1", "UP2", "DOWN", "SMALL", "NS", np.nan],
            "logFC": [2.0, 1.5, -3.0, 0.2, 0.1, -0.1],
            "AveExpr": [8.0, 6.0, 9.0, 7.0, 5.0, 4.0],
            "P.Value": [1e-8, 1e-5, 1e-9, 1e-6, 0.5, 0.9],
            "adj.P.Val": [1e-7, 1e-4, 1e-8, 1e-5, 0.6, 0.9],
        },
        index=[f"p{i}" for i in range(6)],
    )


def _points(fig: Figure) -> list[int]:
    """Number of points in each scatter layer: not significant, up, down."""
    return [len(c.get_offsets()) for c in fig.axes[0].collections]


def test_volcano(table, tmp_path):
    fig = volcano_plot(table, fdr=0.05, lfc=1.0, top=2, title="c")
    assert isinstance(fig, Figure)
    assert _points(fig) == [3, 2, 1]
    labels = {t.get_text() for t in fig.axes[0].texts}
    assert labels == {"UP1", "DOWN"}  # the two smallest p-values
    write_figure(fig, tmp_path / "volcano.png")
    assert (tmp_path / "volcano.png").stat().st_size > 0


def test_ma(table):
    fig = ma_plot(table, fdr=0.05, lfc=0.0)
    assert _points(fig) == [2, 3, 1]  # lfc=0: SMALL counts as up
    np.testing.assert_allclose(fig.axes[0].collections[2].get_offsets(), [[9.0, -3.0]])


def test_missing_columns(table):
    with pytest.raises(FormatError, match="AveExpr"):
        ma_plot(table.drop(columns="AveExpr"))
    with pytest.raises(FormatError, match=r"adj\.P\.Val"):
        volcano_plot(table.drop(columns="adj.P.Val"))


def test_volcano_and_ma_plot_colour_the_same_features():
    """Issue 11: the volcano coloured |logFC| >= 1, the MA plot of the same table >= 0."""
    import inspect

    vol = inspect.signature(volcano_plot).parameters
    ma = inspect.signature(ma_plot).parameters
    assert vol["fdr"].default == ma["fdr"].default
    assert vol["lfc"].default == ma["lfc"].default
    table = pd.DataFrame(
        {
            "logFC": [2.0, 0.5, -3.0, 0.1],
            "AveExpr": [8.0, 7.0, 6.0, 5.0],
            "P.Value": [1e-6, 1e-6, 1e-6, 0.5],
            "adj.P.Val": [1e-5, 1e-5, 1e-5, 0.6],
        }
    )

    def coloured(fig):
        ax = fig.axes[0]
        return sorted(len(c.get_offsets()) for c in ax.collections)

    assert coloured(volcano_plot(table, label_column=None)) == coloured(ma_plot(table))
