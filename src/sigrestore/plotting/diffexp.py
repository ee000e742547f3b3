"""Volcano and MA plots of a differential-expression table (``topTable`` columns).

Both functions return a :class:`matplotlib.figure.Figure` built without pyplot
(no global state, no display needed); save it with
:func:`sigrestore.atomic.write_figure`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sigrestore.errors import FormatError

__all__ = ["ma_plot", "volcano_plot"]

_UP, _DOWN, _NS = "#b2182b", "#2166ac", "#9e9e9e"


def _need(table: pd.DataFrame, columns: list[str]) -> None:
    missing = [c for c in columns if c not in table.columns]
    if missing:
        raise FormatError(f"DE table lacks column(s) {missing}; columns are {list(table.columns)}")


def _calls(table: pd.DataFrame, fdr: float, lfc: float) -> tuple[np.ndarray, np.ndarray]:
    """Masks of significant up and down features."""
    logfc = table["logFC"].to_numpy(dtype=float)
    sig = table["adj.P.Val"].to_numpy(dtype=float) < fdr
    big = np.abs(logfc) >= lfc
    return sig & big & (logfc > 0), sig & big & (logfc < 0)


def _scatter(ax, x, y, up, down, size) -> None:
    rest = ~(up | down)
    # Rasterize the points so a 54,675-point plot stays small as PDF/SVG.
    ax.scatter(x[rest], y[rest], s=size, c=_NS, alpha=0.5, linewidths=0, rasterized=True)
    ax.scatter(
        x[up],
        y[up],
        s=size * 1.5,
        c=_UP,
        linewidths=0,
        rasterized=True,
        label=f"up ({int(up.sum())})",
    )
    ax.scatter(
        x[down],
        y[down],
        s=size * 1.5,
        c=_DOWN,
        linewidths=0,
        rasterized=True,
        label=f"down ({int(down.sum())})",
    )


def _label_top(ax, table, x, y, label_column, top) -> None:
    if not top or label_column is None:
        return
    labels = table[label_column] if label_column in table.columns else pd.Series(table.index)
    order = np.argsort(table["P.Value"].to_numpy(dtype=float), kind="stable")[:top]
    for i in order:
        text = labels.iloc[i]
        if pd.isna(text):
            text = table.index[i]
        ax.annotate(str(text), (x[i], y[i]), fontsize=7, xytext=(3, 3), textcoords="offset points")


def volcano_plot(
    table: pd.DataFrame,
    *,
    fdr: float = 0.05,
    lfc: float = 1.0,
    label_column: str | None = "gene_symbol",
    top: int = 10,
    title: str | None = None,
    point_size: float = 4.0,
) -> Figure:
    """Volcano plot: log2 fold change against -log10 p-value.

    Parameters
    ----------
    table
        A DE table with ``logFC``, ``P.Value`` and ``adj.P.Val``.
    fdr, lfc
        A feature is coloured as up/down when ``adj.P.Val < fdr`` and
        ``|logFC| >= lfc``; dashed lines mark ``±lfc``.
    label_column, top
        Label the ``top`` features with the smallest p-values by this column
        (the index when the column is absent or empty).
    title
        Figure title.
    """
    _need(table, ["logFC", "P.Value", "adj.P.Val"])
    x = table["logFC"].to_numpy(dtype=float)
    with np.errstate(divide="ignore"):
        y = -np.log10(table["P.Value"].to_numpy(dtype=float))
    up, down = _calls(table, fdr, lfc)
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    _scatter(ax, x, y, up, down, point_size)
    if lfc > 0:
        for v in (-lfc, lfc):
            ax.axvline(v, color="0.3", lw=0.8, ls="--")
    ax.set_xlabel("log2 fold change")
    ax.set_ylabel("-log10 p-value")
    ax.legend(loc="lower left", frameon=False, fontsize=8)
    _label_top(ax, table, x, y, label_column, top)
    if title:
        ax.set_title(title)
    return fig


def ma_plot(
    table: pd.DataFrame,
    *,
    fdr: float = 0.05,
    lfc: float = 1.0,
    title: str | None = None,
    point_size: float = 4.0,
) -> Figure:
    """MA plot: log2 fold change against average log2 expression.

    Parameters
    ----------
    table
        A DE table with ``logFC``, ``AveExpr`` and ``adj.P.Val``.
    fdr, lfc
        Colouring of significant features, as in :func:`volcano_plot` (same
        defaults, so the two plots of one table call the same features; the
        workflow passes ``differential_expression.fdr`` and ``.lfc`` to both).
    title
        Figure title.
    """
    _need(table, ["logFC", "AveExpr", "adj.P.Val"])
    x = table["AveExpr"].to_numpy(dtype=float)
    y = table["logFC"].to_numpy(dtype=float)
    up, down = _calls(table, fdr, lfc)
    fig = Figure(figsize=(6, 5), layout="constrained")
    ax = fig.add_subplot()
    _scatter(ax, x, y, up, down, point_size)
    ax.axhline(0.0, color="0.3", lw=0.8)
    ax.set_xlabel("average log2 expression")
    ax.set_ylabel("log2 fold change")
    ax.legend(loc="upper right", frameon=False, fontsize=8)
    if title:
        ax.set_title(title)
    return fig
