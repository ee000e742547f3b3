"""Array-quality figures drawn from a :class:`sigrestore.preprocess.RmaResult`.

The result carries only per-array summaries (boxplot statistics, densities on
a fixed grid, binned residual images), so these figures never need the
probe-level data and stay cheap for hundreds of arrays.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from sigrestore.errors import SigrestoreError
from sigrestore.plotting.selection import PanelCap, select_panels

__all__ = [
    "intensity_boxplots",
    "intensity_densities",
    "nuse_boxplots",
    "residual_image",
    "residual_images",
    "residual_spread",
    "rle_boxplots",
]


def _width(n: int) -> float:
    return min(max(6.0, 0.35 * n + 2.0), 40.0)


def _bxp(
    stats: pd.DataFrame,
    *,
    title: str,
    ylabel: str,
    flagged: pd.Series | None = None,
    hline: float | None = None,
) -> Figure:
    """Boxplots from precomputed statistics, one box per array."""
    if stats.empty or "med" not in stats.columns:
        raise SigrestoreError(f"{title}: no statistics to plot (was QC computed?)")
    records = [
        {
            "label": str(name),
            "med": row["med"],
            "q1": row["q1"],
            "q3": row["q3"],
            "whislo": row["whislo"],
            "whishi": row["whishi"],
            "fliers": [],
        }
        for name, row in stats.iterrows()
    ]
    fig = Figure(figsize=(_width(len(records)), 4.5), layout="constrained")
    ax = fig.subplots()
    boxes = ax.bxp(records, showfliers=False, patch_artist=True)
    palette = sns.color_palette("deep")
    for i, patch in enumerate(boxes["boxes"]):
        bad = flagged is not None and bool(flagged.iloc[i])
        patch.set_facecolor(palette[3] if bad else palette[0])
        patch.set_alpha(0.75)
    if hline is not None:
        ax.axhline(hline, color="0.4", lw=0.8, ls="--")
    ax.set_title(title)
    ax.set_ylabel(ylabel)
    ax.tick_params(axis="x", labelrotation=90, labelsize=7)
    return fig


def _flags(result, column: str) -> pd.Series | None:
    qc = getattr(result, "qc", None)
    return qc[column] if qc is not None and column in qc.columns else None


def intensity_boxplots(
    result, *, stage: str = "raw", values: str = "PM intensities", unit: str = "log2 intensity"
) -> Figure:
    """Boxplots of log2 PM intensities per array, ``stage`` ``"raw"`` or ``"normalized"``.

    ``values`` and ``unit`` name what is drawn (a matrix source's values,
    e.g. ``"voom log2-CPM"``) in the title and the axis label.
    """
    if stage not in ("raw", "normalized"):
        raise SigrestoreError(f"intensity_boxplots: stage must be raw or normalized, not {stage!r}")
    stats = result.raw_stats if stage == "raw" else result.normalized_stats
    return _bxp(
        stats,
        title=f"{stage.capitalize()} {values}",
        ylabel=unit,
        flagged=_flags(result, "outlier"),
    )


def intensity_densities(
    result, *, stage: str = "raw", values: str = "PM intensity", unit: str = "log2 intensity"
) -> Figure:
    """Density curves of log2 PM intensities, one line per array (``values``,
    ``unit``: as :func:`intensity_boxplots`)."""
    if stage not in ("raw", "normalized"):
        raise SigrestoreError(
            f"intensity_densities: stage must be raw or normalized, not {stage!r}"
        )
    dens = result.raw_density if stage == "raw" else result.normalized_density
    if dens.shape[1] == 0:
        raise SigrestoreError("intensity_densities: no densities (was QC computed?)")
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.subplots()
    colors = sns.color_palette("husl", dens.shape[1])
    grid = np.asarray(dens.index, dtype=float)
    nonzero = np.flatnonzero(dens.to_numpy().max(axis=1) > 0)
    lo, hi = grid[nonzero[0]], grid[nonzero[-1]]
    for color, name in zip(colors, dens.columns, strict=True):
        ax.plot(grid, dens[name].to_numpy(), color=color, lw=1, label=str(name))
    ax.set_xlim(lo, hi)
    ax.set_xlabel(unit)
    ax.set_ylabel("density")
    ax.set_title(f"{stage.capitalize()} {values} densities")
    if dens.shape[1] <= 20:
        ax.legend(fontsize=7, ncols=2, frameon=False)
    return fig


def rle_boxplots(result) -> Figure:
    """Relative log expression per array (centred at 0 for good arrays)."""
    return _bxp(
        result.rle_stats,
        title="Relative log expression (RLE)",
        ylabel="RLE",
        flagged=_flags(result, "rle_flag"),
        hline=0.0,
    )


def nuse_boxplots(result) -> Figure:
    """Normalized unscaled standard errors per array (centred at 1 for good arrays)."""
    return _bxp(
        result.nuse_stats,
        title="Normalized unscaled standard error (NUSE)",
        ylabel="NUSE",
        flagged=_flags(result, "nuse_flag"),
        hline=1.0,
    )


def _draw_image(ax, img: np.ndarray, vmax: float, title: str):
    im = ax.imshow(img, cmap="RdBu_r", vmin=-vmax, vmax=vmax, interpolation="nearest")
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])
    return im


def _vmax(images: np.ndarray) -> float:
    finite = np.abs(images[np.isfinite(images)])
    return float(np.quantile(finite, 0.99)) if finite.size else 1.0


def residual_image(result, sample: str | int) -> Figure:
    """Pseudo-image of one array's probe-level-model residuals on the chip."""
    imgs = result.residual_images
    if imgs is None:
        raise SigrestoreError("residual_image: no residual images (was QC computed?)")
    names = list(result.expression.columns)
    if isinstance(sample, str):
        if sample not in names:
            raise SigrestoreError(f"residual_image: unknown sample {sample!r}")
        j = names.index(sample)
    else:
        j = int(sample)
    fig = Figure(figsize=(5, 5), layout="constrained")
    ax = fig.subplots()
    im = _draw_image(ax, imgs.images[j], _vmax(imgs.images[j]), f"{names[j]} residuals")
    fig.colorbar(im, ax=ax, shrink=0.7, label="mean residual (log2)")
    return fig


def residual_spread(images: np.ndarray) -> np.ndarray:
    """Per array, the standard deviation of its residual image's pixels.

    Spatial artefacts (scratches, bubbles, gradients) make the binned mean
    residuals vary over the chip, so this ranks arrays by how much of an
    image they have.
    """
    flat = images.reshape(images.shape[0], -1)
    with np.errstate(invalid="ignore"):
        return np.nanstd(flat, axis=1) if flat.size else np.zeros(images.shape[0])


def residual_images(result, *, ncols: int | None = None, cap: PanelCap | None = None) -> Figure:
    """Residual pseudo-images in a grid, on a common colour scale.

    Up to ``cap.max_panels`` arrays (default 36) all arrays are drawn; above
    it the QC outliers and then the arrays with the largest
    :func:`residual_spread`, ``cap.max_panels`` panels in all (see
    :mod:`sigrestore.plotting.selection`); the title says so.  Flagged arrays
    have red titles.  ``ncols`` defaults to 6 for up to 36 panels and to a
    near-square grid beyond; panels shrink so the figure stays at most 30
    inches wide.
    """
    imgs = result.residual_images
    if imgs is None:
        raise SigrestoreError("residual_images: no residual images (was QC computed?)")
    names = list(result.expression.columns)
    flagged = _flags(result, "outlier")
    flags = None if flagged is None else flagged.reindex(names, fill_value=False).to_numpy(bool)
    sel = select_panels(residual_spread(imgs.images), flags, cap)
    n = sel.positions.size
    if ncols is None:
        ncols = 6 if n <= 36 else int(np.ceil(np.sqrt(n)))
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    panel = min(2.2, 30.0 / ncols)
    fig = Figure(figsize=(panel * ncols + 1.0, (panel + 0.1) * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    # The colour scale from all arrays, so a selection looks as the full grid would.
    vmax = _vmax(imgs.images)
    im = None
    for k, ax in enumerate(axes.flat):
        if k < n:
            j = int(sel.positions[k])
            im = _draw_image(ax, imgs.images[j], vmax, names[j])
            if flags is not None and flags[j]:
                ax.title.set_color("tab:red")
            if panel < 1.5:
                ax.title.set_fontsize(5)
        else:
            ax.axis("off")
    fig.colorbar(im, ax=axes, shrink=0.6, label="mean residual (log2)")
    if not sel.complete:
        fig.suptitle("Residual images" + sel.caption("residual-image spread"))
    return fig
