"""Median-polish summarization of log2 PM probes into probe-set values.

For each probe set, the ``k x n`` matrix of log2 PM values (probes x arrays)
is fitted as ``y_ij = t + r_i + c_j + z_ij`` by Tukey's median polish exactly
as preprocessCore's ``median_polish_fit_no_copy`` (the routine ``affy::rma``
uses): each iteration sweeps row medians into ``r`` (then moves the median of
``c`` into ``t``), sweeps column medians into ``c`` (then moves the median of
``r`` into ``t``), and stops when ``sum |z|`` changed by less than
``eps = 0.01`` relative, or after ``max_iter = 10`` iterations.  The
expression value of array ``j`` is ``t + c_j``.

Probe sets are processed in blocks of equal probe count as ``G x k x n``
arrays, so every step is one numpy call for the whole block; probe sets that
have converged are dropped from the active set, as they stop iterating in R.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from sigrestore.errors import SigrestoreError

__all__ = [
    "GroupingError",
    "iter_size_blocks",
    "median_polish_block",
    "median_polish_summarize",
]


def _median(a: np.ndarray, axis: int) -> np.ndarray:
    """Median along ``axis``; much faster than ``np.median`` for short axes.

    Even counts average the two middle values, as R and preprocessCore do.
    """
    n = a.shape[axis]
    half = n // 2
    if n <= 64:
        s = np.sort(a, axis=axis)
    else:
        s = np.partition(a, [half - 1, half] if n % 2 == 0 else [half], axis=axis)
    if n % 2:
        return np.take(s, half, axis=axis)
    return 0.5 * (np.take(s, half - 1, axis=axis) + np.take(s, half, axis=axis))


def median_polish_block(
    z: np.ndarray, *, max_iter: int = 10, eps: float = 0.01
) -> tuple[np.ndarray, np.ndarray]:
    """Median polish of a block of probe sets that share a probe count.

    Parameters
    ----------
    z
        float64 array ``G x k x n`` (probe sets x probes x arrays); overwritten
        with the residuals.
    max_iter, eps
        Iteration limit and relative tolerance on ``sum |residuals|``.

    Returns
    -------
    estimates : numpy.ndarray
        ``G x n`` values ``t + c_j``.
    residuals : numpy.ndarray
        ``z`` itself, now holding the residuals.
    """
    g, _, n = z.shape
    r = np.zeros(z.shape[:2])
    c = np.zeros((g, n))
    t = np.zeros(g)
    oldsum = np.zeros(g)
    active = np.arange(g)
    for _ in range(max_iter):
        full = active.size == g
        za = z if full else z[active]
        ra = r if full else r[active]
        ca = c if full else c[active]
        ta = t if full else t[active]

        rdelta = _median(za, 2)
        za -= rdelta[:, :, None]
        ra += rdelta
        delta = _median(ca, 1)
        ca -= delta[:, None]
        ta += delta
        cdelta = _median(za, 1)
        za -= cdelta[:, None, :]
        ca += cdelta
        delta = _median(ra, 1)
        ra -= delta[:, None]
        ta += delta

        newsum = np.abs(za).sum(axis=(1, 2))
        if not full:
            z[active], r[active], c[active], t[active] = za, ra, ca, ta
        with np.errstate(divide="ignore", invalid="ignore"):
            done = (newsum == 0.0) | (np.abs(1.0 - oldsum[active] / newsum) < eps)
        oldsum[active] = newsum
        active = active[~done]
        if active.size == 0:
            break
    return t[:, None] + c, z


def iter_size_blocks(
    offsets: np.ndarray, *, n_arrays: int, max_bytes: int = 64 << 20
) -> Sequence[tuple[np.ndarray, np.ndarray]]:
    """Split probe sets into blocks of equal probe count and bounded size.

    Returns a list of ``(set_indices, rows)`` where ``rows`` is the
    ``G x k`` matrix of probe row indices (into the CSR value vector).
    Probe sets without probes are left out.
    """
    offsets = np.asarray(offsets, dtype=np.int64)
    sizes = np.diff(offsets)
    blocks = []
    for k in np.unique(sizes):
        if k == 0:
            continue
        sets = np.flatnonzero(sizes == k)
        per_set = int(k) * max(int(n_arrays), 1) * 8 * 3  # data + work copies
        step = max(1, max_bytes // per_set)
        for s in range(0, sets.size, step):
            chunk = sets[s : s + step]
            rows = offsets[chunk][:, None] + np.arange(k)[None, :]
            blocks.append((chunk, rows))
    return blocks


class GroupingError(SigrestoreError, ValueError):
    """The probe-to-probe-set grouping given to :func:`median_polish_summarize` is invalid."""


def _is_offsets(arr: np.ndarray, n_probes: int) -> bool:
    """CSR offsets: 1-D non-decreasing integers from 0 to ``n_probes``."""
    return bool(
        arr.ndim == 1
        and arr.dtype.kind in "iu"
        and arr.size >= 1
        and arr[0] == 0
        and arr[-1] == n_probes
        and np.all(np.diff(arr) >= 0)
    )


def _ids_to_offsets(ids: np.ndarray, n_probes: int) -> tuple[np.ndarray, np.ndarray]:
    """Offsets and the permutation making each id's probes contiguous (first-seen order)."""
    if ids.shape != (n_probes,):
        raise GroupingError(
            f"median_polish_summarize: ids must give one probe-set id per probe ({n_probes}); "
            f"got shape {ids.shape}"
        )
    import pandas as pd

    codes, _ = pd.factorize(ids, sort=False)
    order = np.argsort(codes, kind="stable")
    counts = np.bincount(codes)
    offsets = np.concatenate([[0], np.cumsum(counts)])
    return offsets, order


def _resolve_grouping(groups, offsets, ids, n_probes: int) -> tuple[np.ndarray, np.ndarray | None]:
    """CSR offsets and, for ids, the permutation that makes groups contiguous."""
    given = [
        name
        for name, v in (("groups", groups), ("offsets", offsets), ("ids", ids))
        if v is not None
    ]
    if len(given) != 1:
        raise GroupingError(
            "median_polish_summarize: give exactly one of offsets=, ids= (or the positional "
            f"groups); got {given or 'none'}"
        )
    if offsets is not None:
        arr = np.asarray(offsets)
        if not _is_offsets(arr, n_probes):
            raise GroupingError(
                "median_polish_summarize: offsets must be non-decreasing integers from 0 to "
                f"n_probes ({n_probes}); got shape {arr.shape}"
            )
        return arr.astype(np.int64), None
    if ids is not None:
        return _ids_to_offsets(np.asarray(ids), n_probes)
    arr = np.asarray(groups)
    as_offsets = _is_offsets(arr, n_probes)
    as_ids = arr.shape == (n_probes,)
    if as_offsets and as_ids:
        # n_sets + 1 == n_probes: e.g. [0, 1, 3] for 3 probes is 2 sets as
        # offsets or 3 sets as ids; guessing would silently change the result.
        raise GroupingError(
            f"median_polish_summarize: groups {arr.tolist()[:6]} for {n_probes} probes can be "
            "read as CSR offsets or as one id per probe; pass offsets= or ids= instead"
        )
    if as_offsets:
        return arr.astype(np.int64), None
    if as_ids:
        return _ids_to_offsets(arr, n_probes)
    raise GroupingError(
        "median_polish_summarize: groups must be CSR offsets (0 ... n_probes) or one "
        f"id per probe ({n_probes}); got shape {arr.shape}"
    )


def summarize_blocks(
    fetch: Callable[[np.ndarray], np.ndarray],
    offsets: np.ndarray,
    n_arrays: int,
    *,
    max_iter: int = 10,
    eps: float = 0.01,
    max_bytes: int = 64 << 20,
    block_fit: Callable[[np.ndarray], Any] | None = None,
    on_block: Callable[[np.ndarray, np.ndarray, Any], None] | None = None,
    n_jobs: int = 1,
) -> np.ndarray:
    """Median polish over all probe sets, pulling log2 values block by block.

    ``fetch(rows)`` must return a fresh float64 array of log2 values of shape
    ``rows.shape + (n_arrays,)`` (median polish overwrites it); with
    ``n_jobs > 1`` it is called from several threads at once and must not
    modify shared state.  ``block_fit(log2_values)`` (e.g. the QC's probe-level
    fit) runs beside the median polish of each block, on the values as
    fetched, in the same worker; ``on_block(sets, rows, fitted)`` then receives
    its result in block order, in the calling thread, so whatever it
    accumulates does not depend on ``n_jobs``.  Probe sets without probes get
    NaN.  The blocks are the same for every ``n_jobs`` and so are the results,
    bit for bit.
    """
    n_sets = len(offsets) - 1
    out = np.full((n_sets, n_arrays), np.nan)

    def work(block: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, Any]:
        y = fetch(block[1])
        # keep the fetched values only for a fit that needs them
        polished = median_polish_block(
            y.copy() if block_fit is not None else y, max_iter=max_iter, eps=eps
        )[0]
        return polished, None if block_fit is None else block_fit(y)

    blocks = iter_size_blocks(offsets, n_arrays=n_arrays, max_bytes=max_bytes)
    pool = ThreadPoolExecutor(max_workers=n_jobs) if n_jobs > 1 else None
    try:
        # numpy's reductions and arithmetic release the GIL: blocks run in parallel.
        results = pool.map(work, blocks) if pool is not None else map(work, blocks)
        for (sets, rows), (polished, fitted) in zip(blocks, results, strict=True):
            out[sets] = polished
            if on_block is not None:
                on_block(sets, rows, fitted)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return out


def median_polish_summarize(
    log2_pm: np.ndarray,
    groups: np.ndarray | Sequence | None = None,
    *,
    offsets: np.ndarray | Sequence[int] | None = None,
    ids: np.ndarray | Sequence | None = None,
    max_iter: int = 10,
    eps: float = 0.01,
) -> np.ndarray:
    """Summarize log2 PM values into probe-set values by median polish.

    Parameters
    ----------
    log2_pm
        ``n_probes x n_arrays`` log2 intensities.
    groups
        Positional shorthand for ``offsets`` or ``ids``, accepted only when it
        can be read one way: CSR offsets have ``n_sets + 1`` entries, ids have
        ``n_probes``; when ``n_sets + 1 == n_probes`` and the values are valid
        offsets too, :class:`GroupingError` is raised (use a keyword).
    offsets
        CSR offsets: ``n_sets + 1`` non-decreasing integers from 0 to
        ``n_probes``; probe set ``i`` is rows ``offsets[i]:offsets[i+1]``.
    ids
        One probe-set id per row (sets in order of first appearance).
    max_iter, eps
        affy's values are 10 and 0.01.

    Returns
    -------
    numpy.ndarray
        ``n_sets x n_arrays`` float64 expression values (NaN for empty sets).

    Raises
    ------
    GroupingError
        (a :class:`~sigrestore.errors.SigrestoreError` and ``ValueError``) not
        exactly one grouping given, an invalid one, or an ambiguous ``groups``.
    """
    y = np.asarray(log2_pm, dtype=np.float64)
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise SigrestoreError(f"median_polish_summarize: expected a 2-D matrix, got {y.ndim}-D")
    csr, order = _resolve_grouping(groups, offsets, ids, y.shape[0])
    if order is not None:
        y = y[order]
    return summarize_blocks(lambda rows: y[rows], csr, y.shape[1], max_iter=max_iter, eps=eps)
