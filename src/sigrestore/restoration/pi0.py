"""Estimates of the proportion of true null hypotheses (pi0).

:func:`pi0_local_fdr` is limma's ``propTrueNull(method = "lfdr")`` (the
default of the corrected restored fraction); :func:`pi0_convest` is limma's
``convest`` (Langaas, Lindqvist & Ferkingstad 2005); :func:`pi0_storey` is the
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
PI0_METHODS = ("smoother", "bootstrap", "lfdr", "convest")


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
    method : {"smoother", "bootstrap", "lfdr", "convest"}
        How the lambda is chosen (see the module docstring); "lfdr" is
        :func:`pi0_local_fdr` instead (limma's ``propTrueNull``), "convest"
        :func:`pi0_convest` (limma's ``convest``).
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
    if method == "convest":
        return pi0_convest(p)
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


#: limma::convest's default number of iterations.
CONVEST_ITERATIONS = 100
#: limma::convest's default tolerance of its bisection for the step size.
CONVEST_TOLERANCE = 1e-6


def _bisection_steps(tol: float) -> int:
    """How many halvings of [0, 1] it takes until the bracket is no wider than ``tol``."""
    steps, width = 0, 1.0
    while width > tol:
        width /= 2.0
        steps += 1
    return steps


def pi0_convest(
    p: np.ndarray,
    *,
    niter: int = CONVEST_ITERATIONS,
    tol: float = CONVEST_TOLERANCE,
) -> np.ndarray | float:
    """limma's ``convest(p, niter, tol)`` (Langaas, Lindqvist & Ferkingstad 2005), row-wise.

    The p-value density is estimated as a convex decreasing density, a
    mixture of the uniform density and of the triangles
    ``g_theta(x) = 2 (theta - x)_+ / theta^2`` with ``theta`` on the grid
    0.01, ..., 1; pi0 is the estimate's value at 1 (the triangles vanish
    there, so it is the weight of the uniform).  As limma does, starting from
    the uniform density ``f``, every one of ``niter`` iterations

    1. picks the triangle ``theta`` maximising ``sum_i g_theta(p_i) / f(p_i)``
       (the likelihood's directional derivative towards it; the uniform when
       even that falls below ``sum_i 1 / f(p_i)``);
    2. finds the step ``eps`` maximising the likelihood of ``(1 - eps) f + eps g``
       by bisection of its derivative on [0, 1] to ``tol`` (0 when the
       derivative at 0 is negative);
    3. sets ``f = (1 - eps) f + eps g`` on the grid 0, 0.01, ..., 1 and its
       values at the p-values by linear interpolation on that grid.

    The bisection is run for every row at once (its number of halvings is
    fixed by ``tol``); the sums over ``p_i < theta`` for all 100 thetas come
    from cumulative sums over the sorted p-values, so one iteration costs a
    few passes over the data rather than 100.

    Parameters
    ----------
    p : array
        p-values in [0, 1] along the last axis (1-D: one estimate; 2-D: one per row).
    niter, tol : int, float
        limma's ``niter`` and ``tol``.

    Returns
    -------
    float (1-D input) or array (one value per row).
    """
    p = np.asarray(p, dtype=float)
    scalar = p.ndim == 1
    p = np.sort(np.atleast_2d(p), axis=-1)
    if p.shape[-1] == 0 or np.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("pi0_convest needs p-values in [0, 1] and no NaN")
    rows, m = p.shape
    r = np.arange(rows)[:, None]
    grid = np.arange(101) / 100.0  # x.grid
    t_grid = np.arange(1, 101) / 100.0  # the thetas the criterion is evaluated at
    # Linear interpolation of the grid density at the p-values (limma's
    # arithmetic, including R's truncation of a numeric index).
    p_c = np.ceil(100.0 * p) / 100.0
    p_f = np.floor(100.0 * p) / 100.0
    i_c = (100.0 * p_c + 1.0).astype(np.intp) - 1
    i_f = (100.0 * p_f + 1.0).astype(np.intp) - 1
    # #{p < theta} per row and theta: search every row at once by shifting
    # row j's sorted values by 2j.
    shift = 2.0 * np.arange(rows)[:, None]
    below = np.searchsorted((p + shift).ravel(), (t_grid + shift).ravel(), side="left")
    below = below.reshape(rows, t_grid.size) - m * np.arange(rows)[:, None]

    def best_theta(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """theta (0.01 k) maximising sum_{p < t} 2 (t - p) w / t^2; and that maximum."""
        zero = np.zeros((rows, 1))
        cw = np.concatenate([zero, np.cumsum(w, axis=-1)], axis=-1)
        cpw = np.concatenate([zero, np.cumsum(p * w, axis=-1)], axis=-1)
        sw = np.take_along_axis(cw, below, axis=-1)
        spw = np.take_along_axis(cpw, below, axis=-1)
        crit = 2.0 * (t_grid * sw - spw) / t_grid**2
        k = np.argmax(crit, axis=-1)  # first maximum, as which.max
        return 0.01 * (k + 1), crit[np.arange(rows), k]

    def triangle(theta: np.ndarray, x: np.ndarray) -> np.ndarray:
        th = theta[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            g = 2.0 * (th - x) * (x < th) / th**2
        # theta = 0 stands for the uniform density.
        return np.where(th > 0, g, 1.0)

    f_grid = np.ones((rows, 101))
    f_p = np.ones((rows, m))
    theta, _ = best_theta(np.ones((rows, m)))
    g_grid, g_p = triangle(theta, grid), triangle(theta, p)
    steps = _bisection_steps(tol)
    for _ in range(niter):
        diff = f_p - g_p
        ratio = diff / f_p
        climb = ratio.sum(axis=-1) <= 0
        lo, hi = np.zeros(rows), np.ones(rows)
        eps = np.zeros(rows)
        # f_p > 0 always (the uniform part keeps a weight >= prod(1 - eps) > 0),
        # so limma's restriction of the sum to f_p > 0 changes nothing.
        for _ in range(steps):
            eps = (lo + hi) / 2.0
            e = eps[:, None]
            rising = (diff / ((1.0 - e) * f_p + e * g_p)).sum(axis=-1) < 0
            lo = np.where(rising, eps, lo)
            hi = np.where(rising, hi, eps)
        eps = np.where(climb, eps, 0.0)
        e = eps[:, None]
        f_grid = (1.0 - e) * f_grid + e * g_grid
        lo_v = f_grid[r, i_f]
        hi_v = f_grid[r, i_c]
        f_p = 100.0 * (lo_v - hi_v) * (p_c - p) + hi_v
        w = 1.0 / f_p
        theta, top = best_theta(w)
        theta = np.where(top < w.sum(axis=-1), 0.0, theta)
        g_grid, g_p = triangle(theta, grid), triangle(theta, p)
    out = f_grid[:, 100]
    return float(out[0]) if scalar else out
