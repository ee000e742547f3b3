"""Figures of a restoration comparison.

Every function takes a :class:`~sigrestore.restoration.RestorationResult`
(plus the expression matrix and sample sheet for the heatmap) and returns a
matplotlib Figure; :func:`restoration_figures` names them and
:func:`save_restoration_figures` writes them all as PNG and SVG through
:func:`sigrestore.plotting.save.save_figure`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Patch

from sigrestore.errors import DesignError
from sigrestore.plotting.save import save_figure

STATUS_COLORS = {"restored": "#1b9e77", "reversed": "#d95f02", "not_restored": "#b3b3b3"}
STATUS_LABELS = {"restored": "restored", "reversed": "reversed", "not_restored": "not restored"}
UP_COLOR, DOWN_COLOR = "#c0392b", "#2c6fbb"
CORRECTED_COLOR = "#00441b"


def _first(summary: pd.DataFrame, key: str) -> float:
    return float(summary[key].iloc[0]) if key in summary else float("nan")


def _pct(x: float) -> str:
    return "NA" if not np.isfinite(x) else f"{100 * x:.1f}%"


# --------------------------------------------------------------------------- scatter


def logfc_scatter(result) -> Figure:
    """Reference vs restoration logFC over S, coloured by status.

    Draws the identity line (full restoration) and the least-squares line
    through the origin whose slope is the summary's ``slope``.
    """
    spec, feats = result.spec, result.features
    x = feats[f"logFC_{spec.reference}"].to_numpy(dtype=float)
    y = feats[f"logFC_{spec.restoration}"].to_numpy(dtype=float)
    fig = Figure(figsize=(5.5, 5.0), layout="constrained")
    ax = fig.add_subplot()
    for status, color in STATUS_COLORS.items():
        sel = feats["status"].to_numpy() == status
        ax.scatter(
            x[sel],
            y[sel],
            s=10,
            c=color,
            alpha=0.8,
            linewidths=0,
            label=f"{STATUS_LABELS[status]} ({int(sel.sum())})",
        )
    finite = np.concatenate([x[np.isfinite(x)], y[np.isfinite(y)], [1.0, -1.0]])
    lim = float(np.max(np.abs(finite))) * 1.05
    grid = np.array([-lim, lim])
    ax.plot(grid, grid, color="black", lw=1, ls="--", label="identity (full restoration)")
    slope = _first(result.summary, "slope")
    if np.isfinite(slope):
        ax.plot(
            grid, slope * grid, color="#7b3294", lw=1.5, label=f"fit through 0: slope {slope:.3f}"
        )
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xlabel(f"logFC {spec.reference} (reference)")
    ax.set_ylabel(f"logFC {spec.restoration} (restoration)")
    rho = _first(result.summary, "spearman")
    ax.set_title(f"{spec.name}: |S| = {len(feats)}, Spearman {rho:.3f}", fontsize=10)
    ax.legend(fontsize=7, loc="upper left", frameon=False)
    return fig


# --------------------------------------------------------------------------- bars


def status_bars(result) -> Figure:
    """Stacked bars of the status shares per direction (all, up, down, lost part).

    The restored segment carries its Wilson interval (black) and, when the
    bootstrap ran, its bootstrap interval (purple), and is labelled with the
    fraction.  Beside every bar, a diamond marks the power-corrected fraction
    with its feature-bootstrap interval (dark green) and is labelled with it.
    """
    summary, feats = result.summary, result.features
    parts = [
        ("all", np.ones(len(feats), dtype=bool), ""),
        ("up", feats["direction"].to_numpy() == "up", "_up"),
        ("down", feats["direction"].to_numpy() == "down", "_down"),
    ]
    if "resistance_status" in feats:
        parts.append(("lost", feats["resistance_status"].to_numpy() == "lost", "lost"))
    fig = Figure(figsize=(1.6 * len(parts) + 2.8, 4.5), layout="constrained")
    ax = fig.add_subplot()
    status = feats["status"].to_numpy()
    ticks = []
    for i, (label, sel, key) in enumerate(parts):
        n = int(sel.sum())
        bottom = 0.0
        for s, color in STATUS_COLORS.items():
            share = (status[sel] == s).sum() / n if n else 0.0
            ax.bar(i, share, bottom=bottom, color=color, width=0.7, edgecolor="white")
            bottom += share
        if key == "lost":
            frac, ci = "lost_restored_fraction", ("lost_ci_low", "lost_ci_high")
            boot = ("lost_bootstrap_low", "lost_bootstrap_high")
            corr = ("lost_restored_fraction_corrected", "lost_corrected_low", "lost_corrected_high")
        else:
            frac, ci = f"restored_fraction{key}", (f"ci_low{key}", f"ci_high{key}")
            boot = (f"bootstrap_low{key}", f"bootstrap_high{key}")
            corr = (
                f"restored_fraction_corrected{key}",
                f"corrected_low{key}",
                f"corrected_high{key}",
            )
        c, clo, chi = (_first(summary, k) for k in corr)
        if np.isfinite(c):
            err = None
            if np.isfinite(clo) and np.isfinite(chi):
                err = [[max(c - clo, 0.0)], [max(chi - c, 0.0)]]
            ax.errorbar(
                i + 0.48, c, yerr=err, color=CORRECTED_COLOR, marker="D", ms=5, capsize=3, lw=1.2
            )
            ax.text(
                i + 0.48,
                1.07,
                _pct(c),
                ha="center",
                va="bottom",
                fontsize=7,
                color=CORRECTED_COLOR,
            )
        f = _first(summary, frac)
        if np.isfinite(f):
            lo, hi = _first(summary, ci[0]), _first(summary, ci[1])
            ax.errorbar(
                i - 0.08,
                f,
                yerr=[[max(f - lo, 0.0)], [max(hi - f, 0.0)]],
                color="black",
                capsize=3,
                lw=1,
            )
            blo, bhi = _first(summary, boot[0]), _first(summary, boot[1])
            if np.isfinite(blo) and np.isfinite(bhi):
                ax.errorbar(
                    i + 0.08,
                    f,
                    yerr=[[max(f - blo, 0)], [max(bhi - f, 0)]],
                    color="#7b3294",
                    capsize=3,
                    lw=1,
                )
            ax.text(i, 1.02, _pct(f), ha="center", va="bottom", fontsize=8)
        ticks.append(f"{label}\nn = {n}")
    ax.set_xticks(range(len(parts)), ticks)
    ax.set_xlim(-0.6, len(parts) - 0.3)
    ax.set_ylim(0, 1.14)
    ax.set_ylabel("share of signature features")
    conf = _first(summary, "confidence")
    handles = [Patch(color=c, label=STATUS_LABELS[s]) for s, c in STATUS_COLORS.items()]
    handles += [
        mpl.lines.Line2D([], [], color="black", label=f"Wilson {conf:.0%} interval"),
        mpl.lines.Line2D([], [], color="#7b3294", label=f"bootstrap {conf:.0%} interval"),
        mpl.lines.Line2D(
            [],
            [],
            color=CORRECTED_COLOR,
            marker="D",
            ms=5,
            label=f"power-corrected fraction\n({conf:.0%} feature-bootstrap interval)",
        ),
    ]
    ax.legend(handles=handles, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(f"{result.spec.name}: restoration status", fontsize=10)
    return fig


# --------------------------------------------------------------------------- heatmap


def signature_heatmap(
    result,
    expr: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    groups: pd.Series | None = None,
    sample_column: str = "sample",
    max_features: int = 2000,
) -> Figure:
    """Clustered heatmap of S over all arrays: rows z-scored, columns annotated by group.

    Rows (features) and columns (arrays) are clustered by average linkage on
    Euclidean distances of the z-scores.  When S has more than ``max_features``
    features, the ones with the smallest reference adjusted p-values are shown.
    Groups come from ``groups``, else ``result.groups``, else the sheet's
    ``group`` column.  The figure is created through pyplot (seaborn's
    clustermap needs it): close it with ``matplotlib.pyplot.close(fig)``.
    """
    import seaborn as sns

    feats = result.features
    ids = list(feats.index[feats.index.isin(expr.index)])
    if not ids:
        raise DesignError(f"comparison {result.spec.name!r}: no signature feature in the matrix")
    if len(ids) > max_features:
        p = feats.loc[ids, f"adj.P.Val_{result.spec.reference}"]
        ids = list(p.sort_values(kind="stable").index[:max_features])
    names = samples[sample_column].astype(str).tolist()
    absent = [n for n in names if n not in expr.columns]
    if absent:
        raise DesignError(f"expression matrix lacks array(s) of the sample sheet: {absent[:5]}")
    data = expr.loc[ids, names].to_numpy(dtype=float)
    sd = (
        np.nanstd(data, axis=1, ddof=1, keepdims=True)
        if data.shape[1] > 1
        else np.ones((len(ids), 1))
    )
    sd = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
    z = (data - np.nanmean(data, axis=1, keepdims=True)) / sd
    # Missing values (GEO matrices have them) are drawn at the row mean: the
    # clustering needs finite distances.
    z = np.where(np.isfinite(z), z, 0.0)
    frame = pd.DataFrame(z, index=ids, columns=names)
    if groups is None:
        groups = result.groups
    if groups is None and "group" in samples:
        groups = pd.Series(samples["group"].astype(str).to_numpy(), index=names)
    col_colors = None
    lut: dict[str, tuple] = {}
    if groups is not None:
        labels = groups.reindex(names).astype(str)
        levels = sorted(labels.unique())
        # Dark2 has no pure red or blue, which the row colours use for S-up and S-down.
        palette = sns.color_palette("Dark2" if len(levels) <= 8 else "tab20b", len(levels))
        lut = dict(zip(levels, palette, strict=True))
        col_colors = labels.map(lut).rename("group")
    row_colors = (
        feats.loc[ids, "direction"].map({"up": UP_COLOR, "down": DOWN_COLOR}).rename("direction")
    )
    cluster_rows = len(ids) > 1
    cluster_cols = len(names) > 1
    with warnings.catch_warnings():
        # seaborn 0.13 calls a colormap method matplotlib has scheduled for removal.
        warnings.simplefilter("ignore", PendingDeprecationWarning)
        # scipy's clustering is fine at our sizes; fastcluster is not a dependency.
        warnings.filterwarnings("ignore", message="Clustering large matrix", category=UserWarning)
        grid = _clustermap(sns, frame, cluster_rows, cluster_cols, col_colors, row_colors, names)
    grid.ax_heatmap.set_xlabel("array")
    grid.ax_heatmap.set_ylabel(f"signature features ({len(ids)})")
    # The legend gets its own strip on the right, clear of the heatmap's row label.
    legend_width = 2.6
    width, height = grid.figure.get_size_inches()
    grid.figure.set_size_inches(width + legend_width, height)
    grid.gs.update(right=width / (width + legend_width))
    x0, y0, w, h = grid.ax_cbar.get_position().bounds
    grid.ax_cbar.set_position([x0, y0, w * width / (width + legend_width) / 2, h])
    direction = [Patch(color=UP_COLOR, label="S-up"), Patch(color=DOWN_COLOR, label="S-down")]
    groups_legend = [Patch(color=c, label=g) for g, c in lut.items()]
    grid.figure.legend(
        handles=direction + groups_legend,
        fontsize=7,
        loc="center right",
        frameon=False,
        title="direction / group",
        title_fontsize=8,
    )
    grid.ax_col_dendrogram.set_title(f"{result.spec.name}: signature across arrays", fontsize=10)
    return grid.figure


def _clustermap(sns, frame, cluster_rows, cluster_cols, col_colors, row_colors, names):
    ids = frame.index
    height = float(np.clip(3 + 0.02 * len(ids), 5, 11))
    return sns.clustermap(
        frame,
        method="average",
        metric="euclidean",
        row_cluster=cluster_rows,
        col_cluster=cluster_cols,
        cmap="RdBu_r",
        center=0,
        vmin=-3,
        vmax=3,
        col_colors=col_colors,
        row_colors=row_colors,
        yticklabels=len(ids) <= 60,
        xticklabels=True,
        figsize=(max(6.0, 0.3 * len(names) + 4), height),
        cbar_kws={"label": "z-score"},
        # Keep SVGs small: a large matrix is embedded as an image, not as cells.
        rasterized=frame.size > 5000,
    )


# --------------------------------------------------------------------------- enrichment


def enrichment_plot(result) -> Figure:
    """Running enrichment scores of S-up and S-down in the restoration ranking (moderated t)."""
    conn = result.connectivity
    ranking = conn["ranking"]
    pos = np.arange(len(ranking))
    fig = Figure(figsize=(6.5, 5.5), layout="constrained")
    axes = fig.subplots(3, 1, sharex=True, height_ratios=[3, 0.8, 1.5])
    ax = axes[0]
    for key, color, name in (("up", UP_COLOR, "S-up"), ("down", DOWN_COLOR, "S-down")):
        res = conn[f"running_{key}"]
        if np.isfinite(res).any():
            ax.plot(pos, res, color=color, lw=1.2, label=f"{name}: ES {conn[f'es_{key}']:.3f}")
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_ylabel("running enrichment score")
    ax.legend(fontsize=8, frameon=False)
    score, p = conn["score"], conn["p"]
    ax.set_title(
        f"{result.spec.name}: connectivity {score:.3f} (p {p:.3g}) in {result.spec.restoration}",
        fontsize=10,
    )
    hits = axes[1]
    hits.eventplot(
        [conn["hits_up"], conn["hits_down"]],
        lineoffsets=[1, 0],
        linelengths=0.8,
        colors=[UP_COLOR, DOWN_COLOR],
        linewidths=0.5,
    )
    hits.set_yticks([1, 0], ["S-up", "S-down"])
    hits.set_ylim(-0.6, 1.6)
    metric = axes[2]
    metric.fill_between(
        pos, ranking.to_numpy(dtype=float), color="#777777", lw=0, rasterized=len(pos) > 2000
    )
    metric.axhline(0, color="black", lw=0.5)
    metric.set_ylabel("moderated t")
    metric.set_xlabel("rank in restoration contrast")
    return fig


# --------------------------------------------------------------------------- overlap

# Label positions of the regions of a symmetric 3-circle diagram, keyed by the
# membership bit code (1: first set, 2: second, 4: third).
_CENTRES3 = np.array([[-0.5, 0.35], [0.5, 0.35], [0.0, -0.5]])
_LABELS3 = {
    1: (-0.95, 0.6),
    2: (0.95, 0.6),
    4: (0.0, -1.05),
    3: (0.0, 0.75),
    5: (-0.55, -0.3),
    6: (0.55, -0.3),
    7: (0.0, 0.05),
}
_NAMES3 = [(-1.0, 1.45), (1.0, 1.45), (0.0, -1.65)]
_CENTRES2 = np.array([[-0.45, 0.0], [0.45, 0.0]])
_LABELS2 = {1: (-0.85, 0.0), 2: (0.85, 0.0), 3: (0.0, 0.0)}
_NAMES2 = [(-0.75, 1.1), (0.75, 1.1)]


def overlap_diagram(result) -> Figure:
    """Venn-style diagram of S, the resistance calls and the restoration calls.

    Sets are feature ids regardless of direction: S (the signature), the
    features the resistance contrast calls (if given) and those the
    restoration contrast calls.  Counts of every region are exact; the circle
    areas are not proportional.
    """
    calls = result.calls
    sets: list[tuple[str, np.ndarray]] = [("signature S", calls["signature"].to_numpy() != 0)]
    if "resistance" in calls:
        sets.append((f"{result.spec.resistance} calls", calls["resistance"].to_numpy() != 0))
    sets.append((f"{result.spec.restoration} calls", calls["restoration"].to_numpy() != 0))
    code = np.zeros(len(calls), dtype=np.int64)
    for bit, (_, member) in enumerate(sets):
        code |= member.astype(np.int64) << bit
    counts = np.bincount(code, minlength=2 ** len(sets))
    if len(sets) == 3:
        centres, labels, names = _CENTRES3, _LABELS3, _NAMES3
    else:
        centres, labels, names = _CENTRES2, _LABELS2, _NAMES2
    colors = ["#e41a1c", "#377eb8", "#4daf4a"]
    fig = Figure(figsize=(5.5, 5.0), layout="constrained")
    ax = fig.add_subplot()
    for (name, member), centre, where, color in zip(sets, centres, names, colors, strict=False):
        ax.add_patch(Circle(tuple(centre), 0.85, facecolor=color, alpha=0.25, edgecolor=color))
        ax.text(
            *where,
            f"{name}\n({int(member.sum())})",
            ha="center",
            va="center",
            fontsize=8,
            color=color,
        )
    for region, xy in labels.items():
        ax.text(*xy, str(int(counts[region])), ha="center", va="center", fontsize=9)
    ax.text(1.75, -1.9, f"in none: {int(counts[0])}", ha="right", va="bottom", fontsize=8)
    ax.set_xlim(-1.8, 1.8)
    ax.set_ylim(-1.95, 1.75)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title(f"{result.spec.name}: overlap of S and the calls", fontsize=10)
    return fig


# --------------------------------------------------------------------------- sensitivity


def sensitivity_heatmaps(table: pd.DataFrame, *, name: str = "") -> Figure:
    """Small multiples of the threshold-sensitivity table.

    Panels (rows: signature lfc, columns: signature fdr): |S|, the corrected
    fraction, then the count fraction at every restoration-call fdr.  Each
    cell is annotated with its value; the configured thresholds are framed.
    """
    sig_fdr = sorted(table["signature_fdr"].unique())
    sig_lfc = sorted(table["signature_lfc"].unique())
    res_fdr = sorted(table["restoration_fdr"].unique())
    first = table[table["restoration_fdr"] == res_fdr[0]]
    panels = [
        ("|S|", first, "signature_size", "Greys"),
        ("corrected fraction", first, "restored_fraction_corrected", "Greens"),
    ]
    panels += [
        (
            f"count fraction\ncalls at FDR {f:g}",
            table[table["restoration_fdr"] == f],
            "restored_fraction",
            "Purples",
        )
        for f in res_fdr
    ]
    configured = table[table["configured"].astype(bool)]
    fig = Figure(figsize=(2.3 * len(panels) + 0.5, 3.2), layout="constrained")
    axes = fig.subplots(1, len(panels), sharey=True)
    for ax, (title, part, column, cmap) in zip(np.atleast_1d(axes), panels, strict=True):
        grid = part.pivot_table(
            index="signature_lfc", columns="signature_fdr", values=column, dropna=False
        ).reindex(index=sig_lfc, columns=sig_fdr)
        values = grid.to_numpy(dtype=float)
        fraction = column != "signature_size"
        vmax = (
            1.0
            if fraction
            else max(float(np.nanmax(values)) if np.isfinite(values).any() else 1.0, 1.0)
        )
        ax.imshow(values, cmap=cmap, vmin=0.0, vmax=vmax, aspect="auto", origin="lower")
        for (r, c), v in np.ndenumerate(values):
            text = "NA" if not np.isfinite(v) else (f"{100 * v:.0f}" if fraction else f"{v:.0f}")
            dark = np.isfinite(v) and v > 0.6 * vmax
            ax.text(
                c, r, text, ha="center", va="center", fontsize=7, color="white" if dark else "black"
            )
        for row in configured.itertuples(index=False):
            if (
                column == "restored_fraction"
                and row.restoration_fdr != part["restoration_fdr"].iloc[0]
            ):
                continue
            r, c = sig_lfc.index(row.signature_lfc), sig_fdr.index(row.signature_fdr)
            ax.add_patch(
                mpl.patches.Rectangle(
                    (c - 0.5, r - 0.5), 1, 1, fill=False, lw=1.6, edgecolor="#e7298a"
                )
            )
        ax.set_xticks(range(len(sig_fdr)), [f"{v:g}" for v in sig_fdr], fontsize=7)
        ax.set_yticks(range(len(sig_lfc)), [f"{v:g}" for v in sig_lfc], fontsize=7)
        ax.set_xlabel("signature FDR", fontsize=8)
        ax.set_title(title, fontsize=8)
    np.atleast_1d(axes)[0].set_ylabel("signature |logFC| >=", fontsize=8)
    fig.suptitle(
        f"{name}: threshold sensitivity (fractions in %; configured thresholds framed)",
        fontsize=9,
    )
    return fig


# --------------------------------------------------------------------------- headline


def headline_figure(result) -> Figure:
    """The comparison's one-sentence result above count and corrected fraction bars.

    The sentence is :func:`sigrestore.restoration.headline.headline_sentence`;
    the bars show the count fraction with its Wilson interval and the
    corrected fraction with its feature-bootstrap interval, and the slope.
    """
    import textwrap

    from sigrestore.restoration.headline import headline_sentence

    row = result.summary.iloc[0]
    fig = Figure(figsize=(7.5, 3.4), layout="constrained")
    fig.suptitle("\n".join(textwrap.wrap(headline_sentence(row), 95)), fontsize=9)
    ax = fig.add_subplot()
    conf = float(row["confidence"])
    bars = [
        (
            "power-corrected",
            "restored_fraction_corrected",
            "corrected_low",
            "corrected_high",
            CORRECTED_COLOR,
        ),
        (
            f"called at FDR {float(row['restoration_fdr']):g}",
            "restored_fraction",
            "ci_low",
            "ci_high",
            STATUS_COLORS["restored"],
        ),
        ("effect-size share (slope)", "slope", None, None, "#7b3294"),
    ]
    for i, (_, key, lo_key, hi_key, color) in enumerate(bars):
        v = float(row[key])
        if not np.isfinite(v):
            ax.text(0.02, i, "NA", va="center", fontsize=8)
            continue
        err = None
        if lo_key is not None and np.isfinite(row[lo_key]) and np.isfinite(row[hi_key]):
            err = [[max(v - float(row[lo_key]), 0.0)], [max(float(row[hi_key]) - v, 0.0)]]
        ax.barh(i, v, color=color, height=0.6)
        if err is not None:
            ax.errorbar(v, i, xerr=err, color="black", capsize=4, lw=1)
        ax.text(
            min(v, 1.0) + 0.02,
            i + 0.3,
            f"{100 * v:.0f}%" if key != "slope" else f"{v:.2f}",
            va="center",
            fontsize=8,
        )
    ax.set_yticks(range(len(bars)), [b[0] for b in bars], fontsize=8)
    ax.set_xlim(0, 1.15)
    ax.invert_yaxis()
    ax.set_xlabel(
        f"share of the {int(row['signature_size'])}-feature signature (bars: {conf:.0%} intervals)",
        fontsize=8,
    )
    ax.set_title(result.spec.name, fontsize=9)
    return fig


# --------------------------------------------------------------------------- all


def restoration_figures(
    result,
    *,
    expr: pd.DataFrame | None = None,
    samples: pd.DataFrame | None = None,
    groups: pd.Series | None = None,
) -> dict[str, Callable[[], Figure]]:
    """Makers of every figure of a comparison, by name, each called when needed.

    Figures: ``headline``, ``scatter``, ``status``, ``heatmap`` (only with
    ``expr`` and ``samples``), ``enrichment``, ``overlap`` and ``sensitivity``
    (when the result has its threshold-sensitivity table).  Callables rather
    than figures, so a caller saving them holds one figure at a time.
    """
    makers: dict[str, Callable[[], Figure]] = {
        "headline": lambda: headline_figure(result),
        "scatter": lambda: logfc_scatter(result),
        "status": lambda: status_bars(result),
    }
    if expr is not None and samples is not None:
        makers["heatmap"] = lambda: signature_heatmap(result, expr, samples, groups=groups)
    makers["enrichment"] = lambda: enrichment_plot(result)
    makers["overlap"] = lambda: overlap_diagram(result)
    sensitivity = getattr(result, "sensitivity", None)
    if sensitivity is not None and len(sensitivity):
        makers["sensitivity"] = lambda: sensitivity_heatmaps(sensitivity, name=result.spec.name)
    return makers


def save_restoration_figures(
    result,
    outdir: str | os.PathLike[str],
    *,
    expr: pd.DataFrame | None = None,
    samples: pd.DataFrame | None = None,
    groups: pd.Series | None = None,
    formats: Sequence[str] = ("png", "svg"),
    dpi: int = 150,
) -> list[Path]:
    """Write every figure of a comparison into ``outdir`` as ``<figure>.<format>``.

    The figures of :func:`restoration_figures`, saved with
    :func:`sigrestore.plotting.save.save_figure` (reruns give identical files).
    Returns the paths written.
    """
    outdir = Path(outdir)
    written: list[Path] = []
    makers = restoration_figures(result, expr=expr, samples=samples, groups=groups)
    for name, make in makers.items():
        paths = [outdir / f"{name}.{fmt}" for fmt in formats]
        written += save_figure(make(), paths, dpi=dpi, tight=False)
    return written
