"""limma's ``voom`` and ``voomWithQualityWeights`` (limma 3.54).

``voom(counts, design, lib.size)``:

1. log-CPM ``E = log2((count + 0.5) / (L + 1) * 1e6)`` with ``L`` the
   effective library sizes (library size x TMM factor);
2. a linear model of ``E`` on the design (with prior ``weights`` when given:
   array weights or an observation-weight matrix, as ``lmFit``), giving each
   gene its mean ``A`` and residual standard deviation ``s``;
3. the trend of ``sqrt(s)`` against the mean log-count
   ``A + mean(log2(L + 1)) - log2(1e6)`` by R's ``lowess`` with ``f = span``
   (genes with a zero count in every sample left out), turned into a function
   by ``approxfun(rule = 2, ties = list("ordered", mean))``;
4. for every observation the fitted log-count
   ``log2(2^fitted * (L + 1) / 1e6)`` is looked up on the trend and the
   weight is ``1 / trend^4``.

``voomWithQualityWeights``: voom, array weights (``arrayWeights(method =
"genebygene")``, voom's weights as prior weights), voom again with those
array weights, array weights again, and final weights voom's times the
array weights of the second round.

Without residual degrees of freedom (no replication) every weight is 1, as
limma does (with a warning).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pylimma

from sigrestore.counts.lowess import Lowess, approx_ordered_mean, lowess
from sigrestore.diffexp import _pylimma_fixes  # noqa: F401 - pylimma patched as everywhere
from sigrestore.diffexp.fast import independent_columns, lm_contrasts_fast
from sigrestore.diffexp.obsweights import lm_obs_weights
from sigrestore.errors import DesignError

__all__ = ["VoomResult", "log_cpm", "voom", "voom_with_quality_weights"]


@dataclass(frozen=True)
class VoomResult:
    """voom's output (limma's ``EList``).

    Attributes
    ----------
    expression
        ``E``: log2 counts per million, genes x samples.
    weights
        Precision weights, genes x samples (times the array weights with
        quality weights).
    lib_size
        Effective library sizes used.
    trend
        The lowess curve of ``sqrt(sd)`` on the mean log-count (None without
        replication).
    sample_weights
        Array quality weights (``voomWithQualityWeights``), or None.
    """

    expression: np.ndarray
    weights: np.ndarray
    lib_size: np.ndarray
    trend: Lowess | None
    sample_weights: np.ndarray | None = None


def log_cpm(counts: np.ndarray, lib_size: np.ndarray) -> np.ndarray:
    """voom's log-CPM: ``log2((count + 0.5) / (L + 1) * 1e6)``."""
    return np.log2((np.asarray(counts, dtype=float) + 0.5) / (lib_size + 1.0) * 1e6)


def _fit(e, x, weights, block, correlation):
    """(coefficients, sigma, df) of ``lmFit(E, x, weights, block, correlation)``."""
    n = e.shape[1]
    if block is not None:
        kw: dict = {"block": np.asarray(block), "correlation": float(correlation)}
        if weights is not None:
            kw["weights"] = np.broadcast_to(weights, e.shape).copy()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = pylimma.lm_fit(e, x, **kw)
        return np.asarray(fit["coefficients"]), np.asarray(fit["sigma"]), n - x.shape[1]
    w = None if weights is None else np.asarray(weights, dtype=float)
    if w is None or w.ndim == 1:
        p = x.shape[1]
        # the identity contrast leaves the coefficients; without residual df
        # sigma is not finite and voom falls back to unit weights
        with np.errstate(divide="ignore", invalid="ignore"):
            fit = lm_contrasts_fast(e, x, np.eye(p), weights=w)
        return np.asarray(fit["coefficients"]), np.asarray(fit["sigma"]), n - p
    coef, _, sigma = lm_obs_weights(e, x, w)
    return coef, sigma, n - x.shape[1]


def voom(
    counts: np.ndarray,
    design: np.ndarray,
    lib_size: np.ndarray | None = None,
    *,
    weights: np.ndarray | None = None,
    block: np.ndarray | None = None,
    correlation: float | None = None,
    span: float = 0.5,
) -> VoomResult:
    """limma's ``voom``: log-CPM and observation-level precision weights.

    Parameters
    ----------
    counts
        Genes x samples counts (non-negative, finite).
    design
        Samples x coefficients design matrix.
    lib_size
        Effective library sizes (``lib.size * norm.factors``); default the
        column sums.
    weights
        Prior weights for the trend's linear model: one per sample, or genes x
        samples.
    block, correlation
        Blocking labels and intra-block correlation for the trend's fit.
    span
        lowess span.

    Returns
    -------
    VoomResult
    """
    y = np.asarray(counts, dtype=float)
    if y.shape[0] < 2:
        raise DesignError("voom needs at least two genes to fit a mean-variance trend")
    if not np.isfinite(y).all() or (y < 0).any():
        raise DesignError("voom: counts must be finite and non-negative")
    lib = y.sum(axis=0) if lib_size is None else np.asarray(lib_size, dtype=float)
    x = np.asarray(design, dtype=float)
    x = x[:, independent_columns(x)]  # fitted values need only the estimable part
    e = log_cpm(y, lib)
    coef, sigma, df = _fit(e, x, weights, block, correlation)
    if df < 1 or np.isfinite(sigma).sum() < 2:
        warnings.warn("voom: the design has no replication; setting weights to 1", stacklevel=2)
        return VoomResult(e, np.ones_like(e), lib, None)
    sx = e.mean(axis=1) + np.mean(np.log2(lib + 1.0)) - np.log2(1e6)
    sy = np.sqrt(sigma)
    nonzero = y.sum(axis=1) != 0
    trend = lowess(sx[nonzero], sy[nonzero], f=span)
    fitted_count = 1e-6 * (2.0 ** (coef @ x.T) * (lib + 1.0))
    w = 1.0 / approx_ordered_mean(trend, np.log2(fitted_count)) ** 4
    return VoomResult(e, w, lib, trend)


def voom_with_quality_weights(
    counts: np.ndarray,
    design: np.ndarray,
    lib_size: np.ndarray | None = None,
    *,
    weights: np.ndarray | None = None,
    span: float = 0.5,
) -> VoomResult:
    """limma's ``voomWithQualityWeights`` (``method = "genebygene"``, no variance design).

    ``weights``: optional prior weight per sample (the restoration bootstrap's
    multiplicities); they multiply every weight used and returned, and are
    none of limma's function (with ``weights=None`` this is limma's exactly).
    """
    x = np.asarray(design, dtype=float)
    prior = np.ones(x.shape[0]) if weights is None else np.asarray(weights, dtype=float)
    first = voom(counts, x, lib_size, weights=weights, span=span)
    aw = _array_weights(first.expression, x, first.weights * prior)
    second = voom(counts, x, lib_size, weights=aw * prior, span=span)
    aw = _array_weights(second.expression, x, second.weights * prior)
    return VoomResult(
        second.expression,
        second.weights * (aw * prior)[None, :],
        second.lib_size,
        second.trend,
        aw,
    )


def _array_weights(e: np.ndarray, x: np.ndarray, w: np.ndarray) -> np.ndarray:
    x = x[:, independent_columns(x)]
    return np.asarray(pylimma.array_weights(e, x, weights=w, method="genebygene"), dtype=float)
