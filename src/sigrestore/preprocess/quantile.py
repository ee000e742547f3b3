"""Quantile normalization as preprocessCore's ``normalize.quantiles``.

Every array's values are replaced by the mean, across arrays, of the values of
equal rank (the *target* distribution).  Ties follow preprocessCore: a run of
equal values occupying sorted positions ``s..e`` (0-based) gets the average
rank ``(s + e + 2) / 2``; an integer rank ``r`` maps to ``target[r - 1]`` and a
half-integer rank to the mean of the two neighbouring target values.  Both
cases are ``0.5 * (target[m // 2] + target[(m + 1) // 2])`` with ``m = s + e``,
so each value's mapping is fully described by the integer *rank code* ``m``.

That is what makes the two-pass streaming form cheap: pass one sorts each
array once, adds it into the target sum and keeps only its int32 rank codes;
pass two is a gather from the final target (:class:`QuantileAccumulator`).
"""

from __future__ import annotations

import numpy as np

from sigrestore.errors import SigrestoreError

__all__ = ["QuantileAccumulator", "quantile_normalize", "rank_codes"]


def rank_codes(
    values: np.ndarray, *, order: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted values and tie-aware rank codes ``m = s + e`` of one array.

    Parameters
    ----------
    values
        1-D float array.
    order
        A permutation believed to sort ``values`` (e.g. that of the raw values
        before a monotone transform); used only if it really does.

    Returns
    -------
    sorted_values : numpy.ndarray
        ``values`` in ascending order (float64).
    codes : numpy.ndarray
        int64, ``codes[i]`` is ``s + e`` for the tie run holding ``values[i]``.
    """
    v = np.asarray(values, dtype=np.float64)
    n = v.size
    sv = None
    if order is not None:
        sv = v[order]
        if not np.all(sv[1:] >= sv[:-1]):
            sv = None
    if sv is None:
        order = np.argsort(v)
        sv = v[order]
    # Run boundaries among sorted values: start index and end index of each run.
    new_run = np.empty(n, dtype=bool)
    new_run[:1] = True
    np.not_equal(sv[1:], sv[:-1], out=new_run[1:])
    run_id = np.cumsum(new_run) - 1
    starts = np.flatnonzero(new_run)
    ends = np.append(starts[1:] - 1, n - 1)
    codes = np.empty(n, dtype=np.int64)
    codes[order] = (starts + ends)[run_id]
    return sv, codes


def _map_codes(target: np.ndarray, codes: np.ndarray) -> np.ndarray:
    lo = codes >> 1
    hi = (codes + 1) >> 1
    return 0.5 * (target[lo] + target[hi])


class QuantileAccumulator:
    """Two-pass quantile normalization over arrays seen one at a time.

    Call :meth:`add` once per array (in any order); it returns that array's
    rank codes, which the caller keeps (int32 is enough).  After all arrays,
    :attr:`target` is the mean distribution and :meth:`normalize` maps codes
    to normalized values.
    """

    def __init__(self, n_values: int) -> None:
        self.n_values = int(n_values)
        self._sum = np.zeros(self.n_values, dtype=np.float64)
        self.n_arrays = 0

    def add(self, values: np.ndarray) -> np.ndarray:
        """Add one array to the target; return its rank codes as int32."""
        if np.asarray(values).shape != (self.n_values,):
            raise SigrestoreError(
                f"quantile normalization: array {self.n_arrays + 1} has shape "
                f"{np.asarray(values).shape}, expected ({self.n_values},)"
            )
        sv, codes = rank_codes(values)
        self.add_sorted(sv)
        return codes.astype(np.int32)

    def add_sorted(self, sorted_values: np.ndarray) -> None:
        """Add one array already sorted ascending (its codes are the caller's)."""
        self._sum += sorted_values
        self.n_arrays += 1

    @property
    def target(self) -> np.ndarray:
        """The mean of the sorted arrays (float64)."""
        if self.n_arrays == 0:
            raise SigrestoreError("quantile normalization: no arrays were added")
        return self._sum / self.n_arrays

    def normalize(self, codes: np.ndarray, target: np.ndarray | None = None) -> np.ndarray:
        """Normalized values for rank codes (any shape), float64."""
        t = self.target if target is None else target
        return _map_codes(t, np.asarray(codes))


def quantile_normalize(x: np.ndarray) -> np.ndarray:
    """Quantile-normalize the columns of ``x`` (preprocessCore's tie rule).

    Parameters
    ----------
    x
        ``n x n_arrays`` matrix without missing values.

    Returns
    -------
    numpy.ndarray
        float64 matrix of the same shape.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise SigrestoreError(f"quantile_normalize: expected a 2-D matrix, got {x.ndim}-D")
    if not np.all(np.isfinite(x)):
        raise SigrestoreError("quantile_normalize: the matrix contains NaN or infinite values")
    acc = QuantileAccumulator(x.shape[0])
    codes = [acc.add(x[:, j]) for j in range(x.shape[1])]
    target = acc.target
    return np.column_stack([_map_codes(target, c) for c in codes])
