"""Power correction of the restored share (``corrected.power_correction: share_model``).

limma's ``propTrueNull(method = "lfdr")`` is, for many p-values, twice their
mean: ``pi0_hat ~ 2 mean(p)`` (the q-values ``min(m p_(i) / i, 1)`` are about
``p_(i) / (i / m)`` averaged with weights ``i``, i.e. ``2 integral F^-1``).
A null feature contributes ``2 E[p] = 1``; a moved feature contributes
``2 E[p_i] = 1 - W_i``, where ``W_i`` is its *power*: 1 for an effect far
beyond the noise, 0 for none.  So ``1 - pi0_hat`` estimates
``sum_moved W_i / m``, not the share of moved features: weakly moved features
leak into pi0 (the conservative bias of the corrected fraction where
restoration is partial and noise high).  Likewise the direction moment
``B = mean(sign(t_i) d_i 1{p_i < 1/2})`` is 0 for null features (their sign
is a fair coin independent of p) and ``Q_i = E[sign(t) 1{p < 1/2}]`` for a
feature moved in direction d.

The model behind ``W_i`` and ``Q_i``: a restored feature is moved by a share
``a`` of its reference effect, its restoration t statistic is
``a |beta_i| / se_i + T`` with ``beta_i`` the reference logFC, ``se_i`` the
restoration contrast's standard error (``|logFC / t|``) and ``T`` Student's t
on the contrast's degrees of freedom (a shifted rather than noncentral t).
Reversed features are moved the same amount against d.  The shares follow a uniform distribution on
``(max(0, 2 abar - 1), min(1, 2 abar))``: its mean is ``abar`` and it is a
point mass at 1 when the effect is fully restored.  ``abar`` is estimated
from the restoration logFC: ``mean(d_i y_i) / mean(|beta_i|)`` is
``(pi_plus - pi_minus) abar`` when which features are restored does not depend
on their reference effect (the estimand's stated assumption), and the
selection bias of ``|beta_i|`` (winner's curse) cancels to first order in the
product ``abar |beta_i|``.

With ``W`` and ``Q`` averaged over S and over the share distribution,

    1 - pi0_hat = (pi_plus + pi_minus) W
    B           = (pi_plus - pi_minus) Q

are solved for ``pi_plus`` (moved in d) and ``pi_minus`` (reversed); starting
from the uncorrected estimate, ``abar`` and the two equations are updated
:data:`ITERATIONS` times (two steps: see there why not to the fixed
point).  Every step is row-wise, so the same code estimates one set of
features or a feature bootstrap's thousand resamples at once.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import special

#: The shares ``a`` of the reference effect at which the power is tabulated.
SHARE_GRID = np.arange(1, 41) / 40.0
#: Equally likely values of the t statistic's noise the power is averaged over.
_QUANTILES = 256
#: Correction steps from the uncorrected estimate.  Each step re-estimates
#: the mean share from the current (pi_plus, pi_minus) and re-solves the two
#: moment equations.  Iterated to the fixed point the estimate is unbiased
#: on the calibration studies but the noise of the mean share feeds back
#: (the sd roughly doubled at planted 0.2, partial restoration, high noise);
#: two steps remove most of the bias at a smaller sd (measured in
#: docs/restoration.md, "Power correction").
ITERATIONS = 2
#: No restoration signal (a non-positive mean share or direction moment):
#: the shares are taken as full (power correction only where effects are
#: strong), so noise around 0 is not divided by a small power.
NO_SIGNAL_SHARE = 1.0


def power_tables(effect: np.ndarray, se: np.ndarray, df: float) -> tuple[np.ndarray, np.ndarray]:
    """Per feature and share ``a`` of :data:`SHARE_GRID`: power ``W`` and direction moment ``Q``.

    Parameters
    ----------
    effect : array (n,)
        ``|beta_i|``, the reference effect (log2) of every feature.
    se : array (n,)
        The restoration contrast's standard error of every feature.
    df : float
        Degrees of freedom of the restoration t statistics (``inf``: normal).

    Returns
    -------
    W, Q : arrays (n, len(SHARE_GRID))
        ``W = 1 - 2 E[p]`` and ``Q = E[sign(t) 1{p < 1/2}]`` for a feature
        moved by ``a |beta_i|`` in direction d (t measured along d).
    """
    ncp = np.asarray(effect, dtype=float) / np.asarray(se, dtype=float)
    # W and Q depend on a and the feature only through a |beta| / se: one
    # curve per df on a fine grid, interpolated (beyond its end both are 1).
    grid_w, grid_q = _moment_curves(_df_key(df))
    x = ncp[:, None] * SHARE_GRID[None, :]
    return np.interp(x, _NCP_GRID, grid_w), np.interp(x, _NCP_GRID, grid_q)


#: Signal-to-noise ratios at which W and Q are computed (then interpolated).
_NCP_GRID = np.linspace(0.0, 12.0, 1201)


def _df_key(df: float) -> float:
    """The df the curves are computed for: 0.1 steps, ``inf`` beyond 1000."""
    return float("inf") if not np.isfinite(df) or df > 1000 else round(float(df), 1)


@functools.lru_cache(maxsize=32)
def _moment_curves(df: float) -> tuple[np.ndarray, np.ndarray]:
    """``W`` and ``Q`` of a feature with signal-to-noise ratio ``x`` on :data:`_NCP_GRID`.

    The t statistic of a feature moved by ``x`` standard errors is taken as
    ``x + T`` with ``T`` Student's t on ``df`` (exactly null at ``x = 0``;
    an approximation of the noncentral t), integrated over 256 equally
    likely values of ``T`` (its quantiles at the midpoints of 256 bins).
    """
    u = (np.arange(_QUANTILES) + 0.5) / _QUANTILES
    if np.isfinite(df):
        noise = special.stdtrit(df, u)
        cdf = functools.partial(special.stdtr, df)
        c = special.stdtrit(df, 0.75)
    else:
        noise, cdf, c = special.ndtri(u), special.ndtr, special.ndtri(0.75)
    t = _NCP_GRID[:, None] + noise[None, :]
    w = (1.0 - 4.0 * cdf(-np.abs(t))).mean(axis=-1)
    # p < 1/2 exactly when |t| exceeds the 75% quantile c: Q = P(t > c) - P(t < -c).
    q = cdf(_NCP_GRID - c) - cdf(-_NCP_GRID - c)
    return w, q


def share_weights(mean_share: np.ndarray) -> np.ndarray:
    """Weights over :data:`SHARE_GRID` of the uniform share distribution with mean ``mean_share``.

    Uniform on ``(max(0, 2 abar - 1), min(1, 2 abar))`` (one row per value of
    ``abar``, clipped to the grid's range): the grid points inside get equal
    weight; when none is inside (a narrow interval) the two grid points around
    ``abar`` share the weight linearly, so the mean is kept.
    """
    abar = np.clip(np.atleast_1d(np.asarray(mean_share, dtype=float)), SHARE_GRID[0], 1.0)
    lo = np.maximum(0.0, 2.0 * abar - 1.0)[:, None]
    hi = np.minimum(1.0, 2.0 * abar)[:, None]
    inside = (SHARE_GRID[None, :] >= lo - 1e-12) & (SHARE_GRID[None, :] <= hi + 1e-12)
    count = inside.sum(axis=1, keepdims=True)
    uniform = inside / np.maximum(count, 1)
    # Linear split between neighbouring grid points (exact mean) when empty.
    j = np.clip(np.searchsorted(SHARE_GRID, abar), 1, SHARE_GRID.size - 1)
    left, right = SHARE_GRID[j - 1], SHARE_GRID[j]
    frac = np.clip((abar - left) / (right - left), 0.0, 1.0)
    point = np.zeros((abar.size, SHARE_GRID.size))
    rows = np.arange(abar.size)
    point[rows, j - 1] = 1.0 - frac
    point[rows, j] += frac
    return np.where(count > 0, uniform, point)


def power_corrected_pi1(
    nonnull: np.ndarray,
    direction_moment: np.ndarray,
    effect_ratio: np.ndarray,
    w_bar: np.ndarray,
    q_bar: np.ndarray,
    start: np.ndarray,
    *,
    iterations: int = ITERATIONS,
) -> np.ndarray:
    """Share of features moved in direction d, corrected for power (row-wise).

    Parameters
    ----------
    nonnull : array (k,)
        ``1 - pi0_hat`` (limma's propTrueNull "lfdr" over the two-sided p-values).
    direction_moment : array (k,)
        ``B = mean(sign(t_i) d_i 1{p_i < 1/2})``.
    effect_ratio : array (k,)
        ``mean(d_i y_i) / mean(|beta_i|)`` (restoration logFC ``y``, reference logFC ``beta``).
    w_bar, q_bar : arrays (k, len(SHARE_GRID))
        :func:`power_tables`' ``W`` and ``Q`` averaged over the features.
    start : array (k,)
        The uncorrected share (:func:`sigrestore.restoration.corrected.directional_pi1`).
    iterations : int
        Correction steps (:data:`ITERATIONS`).

    Returns
    -------
    array (k,)
        ``pi_plus`` in [0, 1].
    """
    nonnull = np.asarray(nonnull, dtype=float)
    moment = np.asarray(direction_moment, dtype=float)
    ratio = np.asarray(effect_ratio, dtype=float)
    plus = np.clip(np.asarray(start, dtype=float), 0.0, 1.0)
    minus = np.clip(nonnull - plus, 0.0, 1.0)
    for _ in range(iterations):
        net = plus - minus
        with np.errstate(divide="ignore", invalid="ignore"):
            abar = np.where((net > 0) & (ratio > 0), ratio / net, NO_SIGNAL_SHARE)
        weights = share_weights(abar)
        w = np.maximum((w_bar * weights).sum(axis=1), 1e-6)
        q = np.maximum((q_bar * weights).sum(axis=1), 1e-6)
        total = nonnull / w
        diff = moment / q
        plus = np.clip((total + diff) / 2.0, 0.0, 1.0)
        minus = np.clip((total - diff) / 2.0, 0.0, 1.0)
    return plus
