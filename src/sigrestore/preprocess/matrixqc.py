"""QC of an expression matrix (the matrix sources: GEO, counts, Illumina, Agilent).

A matrix has neither raw probe intensities nor a probe-level fit, so its QC
is the distribution of each sample's values (boxplot statistics and a
density, the tables :mod:`sigrestore.plotting.qc` draws) and a per-sample
quality table: distribution summaries, missing values and each sample's
median correlation with the others, flagged by the same Tukey-fence rule as
the RMA QC.  Everything is computed over all samples at once (no loop over
samples or features).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["MatrixQC", "matrix_qc"]

#: Points of the density grid.
DENSITY_POINTS = 200


@dataclass(frozen=True)
class MatrixQC:
    """What the matrix QC figures and table read.

    Attributes
    ----------
    normalized_stats : DataFrame
        Samples x boxplot statistics (``q1``, ``med``, ``q3``, ``whislo``,
        ``whishi``, ``mean``, ``iqr``), as :func:`~sigrestore.preprocess.qc.box_stats`.
    normalized_density : DataFrame
        Density of each sample's values (columns) on a common grid (index).
    qc : DataFrame
        Per-sample quality (see :func:`matrix_qc`).
    """

    normalized_stats: pd.DataFrame
    normalized_density: pd.DataFrame
    qc: pd.DataFrame


def matrix_qc(expression: pd.DataFrame, *, min_excess: float = 0.02) -> MatrixQC:
    """Distributions and per-sample quality of a features x samples matrix.

    The quality table has ``median``, ``iqr``, ``missing`` (NaN count),
    ``median_correlation`` (Pearson correlation with every other sample over
    the features complete in both, then the median) and ``outlier``: the
    correlation lies below the lower Tukey fence ``Q1 - 1.5 IQR`` of all
    samples' values (with at least 4 samples) and below their median by more
    than ``min_excess``, or the IQR lies above the upper fence likewise.
    """
    names = pd.Index([str(c) for c in expression.columns], name="sample")
    x = expression.to_numpy(dtype=np.float64)
    q1, med, q3 = np.nanquantile(x, [0.25, 0.5, 0.75], axis=0)
    iqr = q3 - q1
    lo_fence, hi_fence = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    inside = np.isfinite(x) & (x >= lo_fence) & (x <= hi_fence)
    whislo = np.where(inside, x, np.inf).min(axis=0)
    whishi = np.where(inside, x, -np.inf).max(axis=0)
    stats = pd.DataFrame(
        {
            "q1": q1,
            "med": med,
            "q3": q3,
            "whislo": np.where(np.isfinite(whislo), whislo, q1),
            "whishi": np.where(np.isfinite(whishi), whishi, q3),
            "mean": np.nanmean(x, axis=0),
            "iqr": iqr,
        },
        index=names,
    )
    density = _densities(x, names)
    corr = expression.set_axis(names, axis=1).corr(min_periods=3).to_numpy()
    np.fill_diagonal(corr, np.nan)
    med_corr = np.nanmedian(corr, axis=1) if len(names) > 1 else np.full(len(names), np.nan)
    many = len(names) >= 4  # fences over fewer samples mean little

    def fence(values: np.ndarray, low: bool) -> np.ndarray:
        a, b = np.nanquantile(values, [0.25, 0.75])
        if low:
            return (
                many & (values < a - 1.5 * (b - a)) & (values < np.nanmedian(values) - min_excess)
            )
        return many & (values > b + 1.5 * (b - a)) & (values > np.nanmedian(values) + min_excess)

    qc = pd.DataFrame(
        {
            "median": med,
            "iqr": iqr,
            "missing": np.isnan(x).sum(axis=0),
            "median_correlation": med_corr,
        },
        index=names,
    )
    qc["correlation_flag"] = fence(med_corr, low=True)
    qc["iqr_flag"] = fence(iqr, low=False)
    qc["outlier"] = qc["correlation_flag"] | qc["iqr_flag"]
    return MatrixQC(normalized_stats=stats, normalized_density=density, qc=qc)


def _densities(x: np.ndarray, names: pd.Index) -> pd.DataFrame:
    """Histogram densities of every column on one grid spanning all finite values."""
    finite = np.isfinite(x)
    if not finite.any():
        return pd.DataFrame(0.0, index=pd.Index([0.0], name="value"), columns=names)
    lo, hi = float(np.min(x[finite])), float(np.max(x[finite]))
    if hi <= lo:
        hi = lo + 1.0
    edges = np.linspace(lo, hi, DENSITY_POINTS + 1)
    width = edges[1] - edges[0]
    bins = np.clip(
        ((np.where(finite, x, lo) - lo) / width).astype(np.int64, copy=False), 0, DENSITY_POINTS - 1
    )
    cols = np.broadcast_to(np.arange(x.shape[1]), x.shape)
    flat = (cols * DENSITY_POINTS + np.where(finite, bins, 0))[finite]
    counts = np.bincount(flat, minlength=DENSITY_POINTS * x.shape[1]).reshape(
        x.shape[1], DENSITY_POINTS
    )
    n = np.maximum(finite.sum(axis=0), 1)
    dens = counts.T / (n * width)
    grid = pd.Index((edges[:-1] + edges[1:]) / 2, name="value")
    return pd.DataFrame(dens, index=grid, columns=names)
