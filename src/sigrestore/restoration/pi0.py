"""Estimates of the proportion of true null hypotheses (pi0).

:func:`pi0_local_fdr` is limma's ``propTrueNull(method = "lfdr")`` (the
default of the corrected restored fraction); :func:`pi0_storey` is the
estimator of ``qvalue::pi0est`` (Storey & Tibshirani 2003; Storey, Taylor
& Siegmund 2004), vectorized over rows so that many resamples of the same
features are estimated in one call:

* for every ``lambda`` of the grid (default 0.05, 0.10, ..., 0.95)
  ``pi0(lambda) = #{p >= lambda} / (m (1 - lambda))``;
* ``method="smoother"``: a natural cubic smoothing spline with 3 effective
  degrees of freedom through the points ``(lambda, pi0(lambda))`` (R's
  ``smooth.spline(lambda, pi0, df = 3)``), evaluated at the largest lambda;
* ``method="bootstrap"``: the lambda minimising Storey's estimate of the mean
  squared error, ``W/(m^2 (1-lambda)^2) (1 - W/m) + (pi0(lambda) - q10)^2``
  with ``W = #{p >= lambda}`` and ``q10`` the 10% quantile (R type 7) of the
  ``pi0(lambda)`` values; ties go to the smallest such pi0;
* either way the result is capped at 1.

The smoothing spline is linear in its data for a fixed abscissa and fixed
effective degrees of freedom, so it is one matrix (the "hat" matrix) for the
whole grid; its row at the largest lambda is all the smoother needs.  The
natural cubic smoothing spline with a given trace of its hat matrix is
unique, so matching the degrees of freedom reproduces R's fit up to the
tolerance R's own search for the smoothing parameter leaves.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import optimize
from scipy.interpolate import make_smoothing_spline

from sigrestore.errors import ConfigError

#: qvalue's default lambda grid: 0.05, 0.10, ..., 0.95.
DEFAULT_LAMBDAS: tuple[float, ...] = tuple(np.round(np.arange(0.05, 0.951, 0.05), 2).tolist())
PI0_METHODS = ("smoother", "bootstrap", "lfdr")


@functools.lru_cache(maxsize=16)
def _smoother_row(lambdas: tuple[float, ...], df: float) -> np.ndarray:
    """Weights that give the df-``df`` smoothing spline's value at the last lambda."""
    x = np.asarray(lambdas, dtype=float)
    eye = np.eye(x.size)

    def hat(log_lam: float) -> np.ndarray:
        lam = float(np.exp(log_lam))
        # Column j: the fit to the j-th unit vector, evaluated at the data points.
        return np.column_stack(
            [make_smoothing_spline(x, eye[j], lam=lam)(x) for j in range(x.size)]
        )

    def excess(log_lam: float) -> float:
        return float(np.trace(hat(log_lam))) - df

    # trace(hat) falls from n (lam -> 0, interpolation) to 2 (lam -> inf, a line).
    log_lam = optimize.brentq(excess, -30.0, 30.0, xtol=1e-12)
    return hat(log_lam)[-1].copy()


def pi0_lambda(p: np.ndarray, lambdas: tuple[float, ...] = DEFAULT_LAMBDAS) -> np.ndarray:
    """``pi0(lambda)`` for every lambda: an array of shape ``p.shape[:-1] + (len(lambdas),)``.

    ``p`` holds p-values along its last axis (NaN-free).
    """
    p = np.asarray(p, dtype=float)
    lam = np.asarray(lambdas, dtype=float)
    m = p.shape[-1]
    # counts of p >= lambda via sorting: vectorized over leading axes.
    s = np.sort(p, axis=-1)
    below = np.stack([(s < lv).sum(axis=-1) for lv in lam], axis=-1)
    return (m - below) / (m * (1.0 - lam))


def pi0_storey(
    p: np.ndarray,
    *,
    method: str = "smoother",
    lambdas: tuple[float, ...] = DEFAULT_LAMBDAS,
    smooth_df: float = 3.0,
) -> np.ndarray | float:
    """Storey's pi0 as ``qvalue::pi0est(p, lambda, pi0.method)`` computes it.

    Parameters
    ----------
    p : array
        p-values along the last axis (1-D: one estimate; 2-D: one per row).
        NaN are not allowed (drop them first).
    method : {"smoother", "bootstrap", "lfdr"}
        How the lambda is chosen (see the module docstring); "lfdr" is
        :func:`pi0_local_fdr` instead (limma's ``propTrueNull``).
    lambdas : tuple of float
        The grid, increasing, in [0, 1); one value gives the fixed-lambda estimate.
    smooth_df : float
        Effective degrees of freedom of the smoother.

    Returns
    -------
    float (1-D input) or array (one value per row), in [0, 1].
    """
    if method not in PI0_METHODS:
        raise ConfigError(f"pi0 method must be one of {list(PI0_METHODS)}, got {method!r}")
    p = np.asarray(p, dtype=float)
    if p.shape[-1] == 0 or np.isnan(p).any():
        raise ValueError("pi0_storey needs at least one p-value and no NaN")
    if method == "lfdr":
        return pi0_local_fdr(p)
    lambdas = tuple(float(v) for v in lambdas)
    est = pi0_lambda(p, lambdas)
    if len(lambdas) == 1:
        out = est[..., 0]
    elif method == "smoother":
        if len(lambdas) < 4:
            raise ConfigError("the smoother needs at least 4 lambdas")
        out = est @ _smoother_row(lambdas, float(smooth_df))
    else:
        m = p.shape[-1]
        lam = np.asarray(lambdas)
        w = est * m * (1.0 - lam)
        q10 = np.quantile(est, 0.1, axis=-1, keepdims=True)
        mse = w / (m**2 * (1.0 - lam) ** 2) * (1.0 - w / m) + (est - q10) ** 2
        best = mse <= mse.min(axis=-1, keepdims=True)
        out = np.where(best, est, np.inf).min(axis=-1)
    out = np.clip(out, 0.0, 1.0)
    return float(out) if out.ndim == 0 else out


def pi0_local_fdr(p: np.ndarray) -> np.ndarray | float:
    """limma's ``propTrueNull(p, method = "lfdr")``, vectorized over rows.

    With the p-values sorted decreasingly and ``i = m, m-1, ..., 1`` their
    ranks from the bottom, ``q_i = min(m p_(i) / i, 1)`` (the BH-type
    q-value without the monotone step) and
    ``pi0 = 2 sum_i i q_i / (m (m + 1))``: a weighted mean of the q-values
    that is exactly 1 for uniform p-values on average.
    """
    p = np.asarray(p, dtype=float)
    m = p.shape[-1]
    s = -np.sort(-p, axis=-1)
    i = np.arange(m, 0, -1, dtype=float)
    q = np.minimum(m / i * s, 1.0)
    out = (i * q).sum(axis=-1) / m / (m + 1) * 2.0
    return float(out) if np.ndim(out) == 0 else out
