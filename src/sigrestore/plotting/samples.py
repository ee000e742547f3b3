"""Sample-level views of a normalized expression matrix.

* PCA of the arrays coloured by group (do replicates cluster, is there an
  outlier or a batch?);
* the sample-correlation heatmap, clustered, with a group colour bar;
* MA plots of every array against the median array (intensity-dependent
  bias left after normalization).

Each function takes the matrix (features x arrays, log2) and returns a
matplotlib figure; :func:`save_figure` writes it in several formats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import matplotlib
import matplotlib.patches
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from sigrestore.errors import SigrestoreError
from sigrestore.plotting.save import save_figure

__all__ = [
    "correlation_heatmap",
    "group_palette",
    "ma_plots",
    "pca",
    "pca_plot",
    "sample_figures",
    "save_figure",
]


def _groups_for(expr: pd.DataFrame, groups: Mapping[str, str] | pd.Series) -> pd.Series:
    groups = pd.Series(groups, dtype=object)
    missing = [c for c in expr.columns if c not in groups.index]
    if missing:
        raise SigrestoreError(f"no group given for arrays {missing}")
    return groups.reindex(expr.columns).astype(str)


def group_palette(groups: Iterable[str]) -> dict[str, tuple[float, float, float]]:
    """One colour per group, in order of first appearance."""
    levels = list(dict.fromkeys(groups))
    colours = sns.color_palette("tab20" if len(levels) > 10 else "tab10", len(levels))
    return dict(zip(levels, colours, strict=True))


def pca(expr: pd.DataFrame, *, n_components: int = 2) -> tuple[pd.DataFrame, np.ndarray]:
    """Principal components of the arrays.

    Features are centred (not scaled), as ``prcomp`` on the transposed matrix
    does; features with no finite value or no variance are dropped.

    Returns
    -------
    scores : DataFrame
        Arrays x components (``PC1``, ``PC2``, ...).
    explained : ndarray
        Share of the total variance of each returned component.
    """
    x = expr.to_numpy(dtype=float)
    keep = np.isfinite(x).all(axis=1)
    x = x[keep]
    x = x - x.mean(axis=1, keepdims=True)
    keep = x.std(axis=1) > 0
    x = x[keep]
    if x.shape[0] < 2 or x.shape[1] < 2:
        raise SigrestoreError("PCA needs at least two arrays and two varying features")
    # SVD of arrays x features; the scores are U * S.
    u, s, _ = np.linalg.svd(x.T, full_matrices=False)
    k = min(n_components, s.size)
    # Fix the sign of each component (largest loading positive) for stable plots.
    signs = np.sign(u[np.abs(u[:, :k]).argmax(axis=0), np.arange(k)])
    signs[signs == 0] = 1
    scores = u[:, :k] * s[:k] * signs
    explained = s[:k] ** 2 / np.sum(s**2)
    cols = [f"PC{i + 1}" for i in range(k)]
    return pd.DataFrame(scores, index=expr.columns, columns=cols), explained


def pca_plot(expr: pd.DataFrame, groups: Mapping[str, str] | pd.Series) -> Figure:
    """PCA of the arrays (PC1 vs PC2), coloured by group, arrays labelled."""
    groups = _groups_for(expr, groups)
    scores, explained = pca(expr, n_components=2)
    palette = group_palette(groups)
    fig, ax = plt.subplots(figsize=(7.5, 5.5), layout="constrained")
    for group, colour in palette.items():
        members = groups.index[groups == group]
        ax.scatter(
            scores.loc[members, "PC1"],
            scores.loc[members, "PC2"] if "PC2" in scores else np.zeros(len(members)),
            color=colour,
            label=group,
            s=40,
            edgecolor="black",
            linewidth=0.4,
        )
    ax.set_xlabel(f"PC1 ({100 * explained[0]:.1f}% of variance)")
    if explained.size > 1:
        ax.set_ylabel(f"PC2 ({100 * explained[1]:.1f}% of variance)")
    ax.set_title("Principal components of the normalized arrays")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), frameon=False, fontsize="small")
    return fig


def correlation_heatmap(expr: pd.DataFrame, groups: Mapping[str, str] | pd.Series) -> Figure:
    """Pearson correlation between arrays, hierarchically clustered, with group colours."""
    groups = _groups_for(expr, groups)
    corr = expr.corr(method="pearson")
    palette = group_palette(groups)
    colours = groups.map(palette).rename("group")
    n = corr.shape[0]
    size = min(4.0 + 0.28 * n, 16.0)
    grid = sns.clustermap(
        corr,
        method="average",
        metric="correlation",
        cmap="viridis",
        row_colors=colours,
        col_colors=colours,
        figsize=(size, size),
        xticklabels=n <= 60,
        yticklabels=n <= 60,
        cbar_kws={"label": "Pearson r"},
    )
    handles = [
        matplotlib.patches.Patch(facecolor=c, edgecolor="none", label=g) for g, c in palette.items()
    ]
    grid.ax_heatmap.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.02, 1.25),
        frameon=False,
        fontsize="small",
        title="group",
    )
    grid.figure.suptitle("Sample-correlation heatmap", y=1.01)
    return grid.figure


def ma_plots(
    expr: pd.DataFrame, *, max_points: int = 20000, seed: int = 0, ncols: int = 6
) -> Figure:
    """MA plot of every array against the median array.

    ``M = x_j - median_k(x_k)``, ``A = (x_j + median_k(x_k)) / 2``. At most
    ``max_points`` features (a seeded subsample) are drawn per panel; the red
    line is the running median of M over 40 bins of A (all features).
    """
    x = expr.to_numpy(dtype=float)
    median = np.nanmedian(x, axis=1)
    m = x - median[:, None]
    a = (x + median[:, None]) / 2
    n_features, n_arrays = x.shape
    rng = np.random.default_rng(seed)
    shown = (
        np.sort(rng.choice(n_features, size=max_points, replace=False))
        if n_features > max_points
        else np.arange(n_features)
    )
    ncols = min(ncols, n_arrays)
    nrows = -(-n_arrays // ncols)
    fig, axes = plt.subplots(
        nrows,
        ncols,
        figsize=(2.6 * ncols, 2.3 * nrows),
        sharex=True,
        sharey=True,
        squeeze=False,
        layout="constrained",
    )
    lim = np.nanpercentile(np.abs(m), 99.9) if np.isfinite(m).any() else 1.0
    edges = np.linspace(np.nanmin(a), np.nanmax(a), 41)
    for j, ax in enumerate(axes.flat):
        if j >= n_arrays:
            ax.set_visible(False)
            continue
        ax.scatter(a[shown, j], m[shown, j], s=1, color="0.35", alpha=0.3, rasterized=True)
        centres, medians = _binned_median(a[:, j], m[:, j], edges)
        ax.plot(centres, medians, color="tab:red", linewidth=1.2)
        ax.axhline(0.0, color="black", linewidth=0.6)
        ax.set_ylim(-lim * 1.05, lim * 1.05)
        ax.set_title(str(expr.columns[j]), fontsize="small")
    for ax in axes[-1]:
        ax.set_xlabel("A")
    for ax in axes[:, 0]:
        ax.set_ylabel("M")
    fig.suptitle("MA plots against the median array")
    return fig


def _binned_median(
    a: np.ndarray, m: np.ndarray, edges: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    ok = np.isfinite(a) & np.isfinite(m)
    a, m = a[ok], m[ok]
    bins = np.clip(np.searchsorted(edges, a, side="right") - 1, 0, edges.size - 2)
    order = np.lexsort((m, bins))
    bins, m = bins[order], m[order]
    starts = np.searchsorted(bins, np.arange(edges.size - 1), side="left")
    ends = np.searchsorted(bins, np.arange(edges.size - 1), side="right")
    counts = ends - starts
    has = counts >= 5
    lo = starts + (counts - 1) // 2
    hi = starts + counts // 2
    med = (m[np.minimum(lo, m.size - 1)] + m[np.minimum(hi, m.size - 1)]) / 2
    centres = (edges[:-1] + edges[1:]) / 2
    return centres[has], med[has]


def sample_figures(
    expr: pd.DataFrame, groups: Mapping[str, str] | pd.Series, *, seed: int = 0
) -> dict[str, Figure]:
    """All three views: ``{"pca": ..., "correlation": ..., "ma_plots": ...}``."""
    return {
        "pca": pca_plot(expr, groups),
        "correlation": correlation_heatmap(expr, groups),
        "ma_plots": ma_plots(expr, seed=seed),
    }
