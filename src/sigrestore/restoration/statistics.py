"""Intervals, the over-representation test and the threshold-free scores."""

from __future__ import annotations

import warnings

import numpy as np
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from sigrestore.errors import DesignError


def wilson_interval(count: int, nobs: int, *, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for the proportion ``count / nobs``.

    With ``z`` the two-sided normal quantile, ``p = count / nobs`` and ``n = nobs``::

        centre = (p + z²/(2n)) / (1 + z²/n)
        half   = z / (1 + z²/n) * sqrt(p(1-p)/n + z²/(4n²))

    Computed by statsmodels ``proportion_confint(..., method="wilson")``, with
    the bound set to exactly 0 (``count == 0``) or 1 (``count == nobs``), as in
    R's ``prop.test(count, nobs, correct = FALSE)``.  Returns ``(nan, nan)``
    when ``nobs`` is 0.
    """
    if nobs <= 0:
        return float("nan"), float("nan")
    low, high = proportion_confint(count, nobs, alpha=1.0 - confidence, method="wilson")
    # At p = 0 or 1 the bound is exactly 0 or 1 (statsmodels can be 1 ulp off).
    low = 0.0 if count <= 0 else min(max(float(low), 0.0), 1.0)
    high = 1.0 if count >= nobs else min(max(float(high), 0.0), 1.0)
    return low, high


def hypergeometric_test(hits: int, drawn: int, population_hits: int, population: int) -> float:
    """One-sided over-representation p-value ``P(X >= hits)``.

    ``X ~ Hypergeometric(population, population_hits, drawn)``: the number of
    hits among ``drawn`` features taken at random from ``population`` features
    of which ``population_hits`` are hits.  Equals the one-sided ("greater")
    Fisher exact test of the 2 x 2 table (drawn / not drawn) x (hit / no hit).
    NaN when nothing is drawn.
    """
    if drawn <= 0 or population <= 0:
        return float("nan")
    return float(stats.hypergeom.sf(hits - 1, population, population_hits, drawn))


def restoration_slope(reference: np.ndarray, restoration: np.ndarray) -> float:
    """Least-squares slope through the origin: ``sum(x * y) / sum(x ** 2)``.

    ``x`` is the reference logFC and ``y`` the restoration logFC over the
    signature; 1 means the full effect size is restored, 0 none, negative a
    reversal.  Pairs with a NaN are dropped; NaN when no pair is left or all
    ``x`` are 0.
    """
    x, y = _pairs(reference, restoration)
    sxx = float(np.dot(x, x))
    return float(np.dot(x, y)) / sxx if sxx > 0 else float("nan")


def spearman_correlation(reference: np.ndarray, restoration: np.ndarray) -> float:
    """Spearman rank correlation (scipy; average ranks for ties); NaN if undefined."""
    x, y = _pairs(reference, restoration)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.spearmanr(x, y).statistic)


def percentile_interval(values: np.ndarray, *, confidence: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval: the (1-c)/2 and (1+c)/2 quantiles of the finite values.

    Quantiles use numpy's default (linear interpolation, R's type 7).
    """
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return float("nan"), float("nan")
    low, high = np.quantile(v, [(1.0 - confidence) / 2.0, (1.0 + confidence) / 2.0])
    return float(low), float(high)


def _pairs(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape:
        raise DesignError(f"logFC vectors differ in length: {x.shape} vs {y.shape}")
    keep = np.isfinite(x) & np.isfinite(y)
    return x[keep], y[keep]
