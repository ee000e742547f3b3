"""edgeR's library-size normalisation and expression filter, vectorized.

* :func:`calc_norm_factors`: ``calcNormFactors(method = "TMM")`` of edgeR 3.40
  (Robinson & Oshlack 2010).  Genes with a zero count in every sample are
  dropped first.  The reference sample is the one whose upper-quartile
  (type-7 quantile at 0.75 of its counts, over its library size) is closest
  to the mean of those upper-quartiles (the first one on a tie; when the
  median upper-quartile is below 1e-20 the sample with the largest sum of
  square-root counts).  For every sample the log-ratios
  ``M = log2((o/N_o)/(r/N_r))`` and average log-expressions
  ``A = (log2(o/N_o) + log2(r/N_r))/2`` of genes with finite M and A (no zero
  in either sample) are trimmed: a gene is kept when its rank (ties averaged)
  in M lies within ``[floor(n * 0.3) + 1, n - floor(n * 0.3)]`` and its rank
  in A within ``[floor(n * 0.05) + 1, n - floor(n * 0.05)]``.  The factor is
  ``2^(sum(M / v) / sum(1 / v))`` over kept genes, with the delta-method
  variance ``v = (N_o - o)/(N_o o) + (N_r - r)/(N_r r)`` (``doWeighting``), or
  1 when all |M| < 1e-6; the factors are finally divided by their geometric
  mean.
* :func:`filter_by_expr`: ``filterByExpr`` with its defaults.  A gene is kept
  when it has at least ``min_count / median(L) * 1e6`` counts per million in
  at least ``n_min`` samples and at least ``min_total_count`` counts in all;
  ``n_min`` is the smallest group size (or ``1 / max(hat values)`` of a
  design), reduced above ``large_n`` to ``large_n + (n_min - large_n) *
  min_prop``.  ``L`` are the effective library sizes (library size x
  normalisation factor) as ``filterByExpr`` on a ``DGEList`` uses them.

Everything works on all samples at once (a genes x samples array with NaN for
the genes a sample's TMM drops), never gene by gene.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sigrestore.errors import DesignError

__all__ = ["calc_norm_factors", "cpm", "filter_by_expr", "hat_values", "upper_quartile_factors"]

_TOL = 1e-14  # filterByExpr's tolerance on the sample counts


def cpm(counts: np.ndarray, lib_size: np.ndarray) -> np.ndarray:
    """Counts per million, ``count / (L / 1e6)`` (edgeR's ``cpm(log = FALSE)``)."""
    return counts / (np.asarray(lib_size, dtype=float) / 1e6)


def hat_values(design: np.ndarray) -> np.ndarray:
    """Leverages of a design (R's ``hat(design)``: diagonal of its projection)."""
    q, _ = np.linalg.qr(np.asarray(design, dtype=float))
    return np.einsum("ij,ij->i", q, q)


def filter_by_expr(
    counts: np.ndarray,
    *,
    group: Sequence | np.ndarray | None = None,
    design: np.ndarray | None = None,
    lib_size: np.ndarray | None = None,
    min_count: float = 10.0,
    min_total_count: float = 15.0,
    large_n: float = 10.0,
    min_prop: float = 0.7,
) -> np.ndarray:
    """edgeR's ``filterByExpr``: a boolean mask of the genes worth testing.

    Parameters
    ----------
    counts
        Genes x samples counts.
    group
        Group label of every sample (the smallest group sets ``n_min``).
    design
        Design matrix, used when ``group`` is None (``n_min = 1 / max(hat)``);
        with neither, all samples are one group.
    lib_size
        Effective library sizes; default the column sums.
    min_count, min_total_count, large_n, min_prop
        edgeR's thresholds (defaults as edgeR's).

    Returns
    -------
    numpy.ndarray of bool, one per gene.
    """
    y = np.asarray(counts, dtype=float)
    lib = y.sum(axis=0) if lib_size is None else np.asarray(lib_size, dtype=float)
    if group is not None:
        _, sizes = np.unique(np.asarray(group).astype(str), return_counts=True)
        n_min = float(sizes.min())
    elif design is not None:
        n_min = 1.0 / float(hat_values(design).max())
    else:
        n_min = float(y.shape[1])
    if n_min > large_n:
        n_min = large_n + (n_min - large_n) * min_prop
    cutoff = min_count / float(np.median(lib)) * 1e6
    keep_cpm = (cpm(y, lib) >= cutoff).sum(axis=1) >= n_min - _TOL
    keep_total = y.sum(axis=1) >= min_total_count - _TOL
    return keep_cpm & keep_total


def upper_quartile_factors(counts: np.ndarray, lib_size: np.ndarray, p: float = 0.75) -> np.ndarray:
    """Per-sample type-7 quantile ``p`` of the counts over the library size."""
    return np.quantile(np.ascontiguousarray(counts.T), p, axis=1) / lib_size


def calc_norm_factors(
    counts: np.ndarray,
    lib_size: np.ndarray | None = None,
    *,
    ref_column: int | None = None,
    logratio_trim: float = 0.3,
    sum_trim: float = 0.05,
    do_weighting: bool = True,
    a_cutoff: float = -1e10,
) -> tuple[np.ndarray, int]:
    """TMM normalisation factors, as edgeR's ``calcNormFactors(method = "TMM")``.

    Parameters
    ----------
    counts
        Genes x samples counts (no NaN).
    lib_size
        Library sizes; default the column sums.
    ref_column
        Index of the reference sample; default chosen as edgeR does (see the
        module docstring).
    logratio_trim, sum_trim, do_weighting, a_cutoff
        edgeR's TMM options (its defaults).

    Returns
    -------
    factors, ref_column
        The factors (geometric mean 1) and the reference sample used.
    """
    x = np.asarray(counts, dtype=float)
    if np.isnan(x).any():
        raise DesignError("calcNormFactors: NA counts are not permitted")
    nsamples = x.shape[1]
    lib = x.sum(axis=0) if lib_size is None else np.asarray(lib_size, dtype=float)
    x = x[(x > 0).any(axis=1)]
    if x.shape[0] == 0 or nsamples == 1:
        return np.ones(nsamples), 0 if ref_column is None else ref_column
    if ref_column is None:
        with np.errstate(divide="ignore", invalid="ignore"):
            f75 = upper_quartile_factors(x, lib)
        if np.median(f75) < 1e-20:
            ref_column = int(np.argmax(np.sqrt(x).sum(axis=0)))
        else:
            ref_column = int(np.argmin(np.abs(f75 - f75.mean())))
    f = _tmm(
        x, x[:, [ref_column]], lib, lib[ref_column], logratio_trim, sum_trim, do_weighting, a_cutoff
    )
    f = f / np.exp(np.mean(np.log(f)))
    return f, ref_column


def _rank_within(values: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``lo <= rank(v) <= hi`` for every finite value of every column (R's average ranks).

    Only the values at sorted positions ``lo`` and ``hi`` matter: a value
    above the one at position ``lo`` has average rank above ``lo``, a value
    below it one below ``lo``, and a value equal to it shares that tie
    group's average rank ``(#less + #less-or-equal + 1) / 2``; the same at
    ``hi``.  So one sort per column (NaN last) and comparisons replace the
    full ranking.
    """
    cols = np.ascontiguousarray(values.T)  # samples x genes: sort along contiguous rows
    srt = np.sort(cols, axis=1)
    out = np.ones(cols.shape, dtype=bool)
    for bound, upper in ((lo, False), (hi, True)):
        pos = np.clip(bound.astype(np.intp) - 1, 0, cols.shape[1] - 1)[:, None]
        edge = np.take_along_axis(srt, pos, axis=1)
        less = (cols < edge).sum(axis=1, keepdims=True)
        less_eq = (cols <= edge).sum(axis=1, keepdims=True)
        tie_rank = (less + less_eq + 1) / 2.0
        if upper:
            out &= (cols < edge) | ((cols == edge) & (tie_rank <= bound[:, None]))
        else:
            out &= (cols > edge) | ((cols == edge) & (tie_rank >= bound[:, None]))
    return out.T


def _tmm(obs, ref, n_obs, n_ref, logratio_trim, sum_trim, do_weighting, a_cutoff) -> np.ndarray:
    """edgeR's ``.calcFactorTMM`` for every column of ``obs`` against ``ref`` at once."""
    with np.errstate(divide="ignore", invalid="ignore"):
        lo = np.log2(obs / n_obs)
        lr = np.log2(ref / n_ref)
        logr = np.log2((obs / n_obs) / (ref / n_ref))
        abse = (lo + lr) / 2
        v = (n_obs - obs) / n_obs / obs + (n_ref - ref) / n_ref / ref
    fin = np.isfinite(logr) & np.isfinite(abse) & (abse > a_cutoff)
    logr = np.where(fin, logr, np.nan)
    abse = np.where(fin, abse, np.nan)
    n = fin.sum(axis=0)
    lo_l = np.floor(n * logratio_trim) + 1
    hi_l = n + 1 - lo_l
    lo_s = np.floor(n * sum_trim) + 1
    hi_s = n + 1 - lo_s
    keep = fin & _rank_within(logr, lo_l, hi_l) & _rank_within(abse, lo_s, hi_s)
    with np.errstate(divide="ignore", invalid="ignore"):
        if do_weighting:
            num = np.where(keep, logr / v, 0.0).sum(axis=0)
            den = np.where(keep, 1.0 / v, 0.0).sum(axis=0)
            f = num / den
        else:
            f = np.where(keep, logr, 0.0).sum(axis=0) / keep.sum(axis=0)
    f = np.where(np.isnan(f), 0.0, f)
    # a sample identical to the reference in proportions: factor 1
    tiny = np.nanmax(np.abs(np.where(fin, logr, 0.0)), axis=0) < 1e-6
    return np.where(tiny, 1.0, 2.0**f)
