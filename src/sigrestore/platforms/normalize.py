"""Between-array quantile normalization and replicate averaging as limma does them.

:func:`normalize_quantiles` is limma's ``normalizeQuantiles`` (what
``normalizeBetweenArrays(method = "quantile")`` calls for a single-channel
matrix).  Without missing values it equals preprocessCore's rule (the target
is the mean of the sorted arrays; tied values get the target at their average
rank, a half-integer rank the mean of the two neighbouring target values).
With missing values limma differs: each array's sorted observed values are
first interpolated onto ``n`` evenly spaced quantiles (``n`` = number of rows),
the target is the mean of those, and each observed value gets the target
interpolated at ``(rank - 1) / (n_observed - 1)``; missing values stay missing.

:func:`avereps` is limma's ``avereps``: rows with the same id are replaced by
their mean (missing values ignored), in order of first appearance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from sigrestore.errors import SigrestoreError

__all__ = ["avereps", "normalize_quantiles"]


def normalize_quantiles(x: np.ndarray) -> np.ndarray:
    """Quantile-normalize the columns of ``x`` as limma's ``normalizeQuantiles``.

    Parameters
    ----------
    x
        ``n x n_arrays`` matrix; NaN marks a missing value.

    Returns
    -------
    numpy.ndarray
        float64 matrix of the same shape (a copy; one column is returned as is).
    """
    a = np.array(x, dtype=np.float64)
    if a.ndim != 2:
        raise SigrestoreError(f"normalize_quantiles: expected a 2-D matrix, got {a.ndim}-D")
    n, k = a.shape
    if k == 1 or n == 0:
        return a
    if np.any(np.isinf(a)):
        raise SigrestoreError("normalize_quantiles: the matrix contains infinite values")
    missing = np.isnan(a)
    nobs = n - missing.sum(axis=0)
    if np.any(nobs < 2) and n > 1:
        bad = int(np.flatnonzero(nobs < 2)[0])
        raise SigrestoreError(
            f"normalize_quantiles: array {bad + 1} has fewer than 2 observed values"
        )
    if not missing.any():
        return _complete(a)
    grid = np.arange(n) / (n - 1)
    # Sorting puts NaN last, so the first nobs[j] sorted entries are the data.
    s = np.sort(a, axis=0)
    full = nobs == n
    for j in np.flatnonzero(~full):
        m = nobs[j]
        s[:, j] = np.interp(grid, np.arange(m) / (m - 1), s[:m, j])
    target = s.mean(axis=1)
    ranks = rankdata(a, method="average", axis=0, nan_policy="omit")
    out = np.full_like(a, np.nan)
    for j in range(k):
        obs = ~missing[:, j]
        out[obs, j] = np.interp((ranks[obs, j] - 1) / (nobs[j] - 1), grid, target)
    return out


def _complete(a: np.ndarray) -> np.ndarray:
    """Complete matrix: every array sorted once, ties found along the sorted
    columns all at once.

    A tie run at sorted positions ``s..e`` has average rank ``(s + e + 2) / 2``;
    limma interpolates the target at ``(rank - 1) / (n - 1)``, which is
    ``target[m // 2]`` averaged with ``target[(m + 1) // 2]`` for ``m = s + e``
    (equal entries when the rank is an integer).
    """
    # Arrays as rows: each array's values contiguous for sorting.
    at = np.ascontiguousarray(a.T)
    n = at.shape[1]
    order = np.argsort(at, axis=1)
    s = np.take_along_axis(at, order, axis=1)
    target = s.mean(axis=0)
    pos = np.arange(n, dtype=np.int32)
    differs = s[:, 1:] != s[:, :-1]
    first = np.ones(s.shape, dtype=bool)
    first[:, 1:] = differs
    last = np.ones(s.shape, dtype=bool)
    last[:, :-1] = differs
    del s, differs
    # Untied values take the target at their position; only tie runs need
    # their run bounds (rare with real intensities, common with rounded ones).
    values = np.repeat(target[None, :], at.shape[0], axis=0)
    tied = ~(first & last)
    if tied.any():
        start = np.maximum.accumulate(np.where(first, pos, 0), axis=1)[tied]
        end = np.minimum.accumulate(np.where(last, pos, n - 1)[:, ::-1], axis=1)[:, ::-1][tied]
        m = start.astype(np.int64) + end
        values[tied] = 0.5 * (target[m >> 1] + target[(m + 1) >> 1])
    out = np.empty_like(at)
    np.put_along_axis(out, order, values, axis=1)
    return out.T.copy()


def avereps(x: pd.DataFrame, ids: pd.Series | np.ndarray) -> pd.DataFrame:
    """Average the rows of ``x`` that share an id (limma's ``avereps``).

    Parameters
    ----------
    x
        Rows x arrays.
    ids
        One id per row.

    Returns
    -------
    DataFrame
        One row per distinct id in order of first appearance, indexed by id;
        each value the mean of the non-missing values of its rows (NaN when
        all are missing).
    """
    ids = np.asarray(ids).astype(str)
    if ids.size != x.shape[0]:
        raise SigrestoreError(f"avereps: {ids.size} ids for {x.shape[0]} rows")
    codes, uniques = pd.factorize(ids, sort=False)
    values = x.to_numpy(dtype=np.float64)
    ok = ~np.isnan(values)
    sums = np.zeros((uniques.size, values.shape[1]))
    counts = np.zeros((uniques.size, values.shape[1]))
    np.add.at(sums, codes, np.where(ok, values, 0.0))
    np.add.at(counts, codes, ok)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = sums / counts
    return pd.DataFrame(mean, index=pd.Index(uniques, name=x.index.name), columns=x.columns)
