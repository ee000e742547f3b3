"""limma's normal + exponential background model (``normexp``).

An observed intensity is ``x = b + s`` with background ``b ~ N(mu, sigma^2)``
and signal ``s ~ Exp(mean alpha)``.  The corrected intensity is the
conditional mean ``E[s | x]`` (:func:`normexp_signal`).  The parameters come
from one of three estimators, each as limma 3.54 computes it:

* :func:`normexp_fit_saddle` -- ``normexp.fit(x, method = "saddle")``:
  maximizes a second-order saddle-point approximation of the likelihood with
  R's Nelder-Mead (:mod:`sigrestore.platforms.nelder_mead`) from limma's
  starting values, over ``(mu, log sigma, log alpha)``.  The saddle point of
  each observation is found by a guarded Newton iteration, vectorized over
  probes.  This is what ``backgroundCorrect(method = "normexp")`` uses.
* :func:`normexp_fit_control` -- ``normexp.fit.control``: ``mu`` and
  ``sigma`` are the mean and standard deviation of the negative-control
  probes, ``alpha = max(mean(regular) - mu, 10)`` (Illumina ``neqc``).
* :func:`normexp_fit_detection_p` -- ``normexp.fit.detection.p``: the same,
  with the negative-control distribution inferred from the detection
  p-values (``nec`` without control probes).

Parameters are returned as ``(mu, log sigma, log alpha)`` per array, limma's
``par``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.special import log_ndtr

from sigrestore.errors import SigrestoreError
from sigrestore.platforms.nelder_mead import nelder_mead

__all__ = [
    "NormexpFit",
    "normexp_background",
    "normexp_fit_control",
    "normexp_fit_detection_p",
    "normexp_fit_saddle",
    "normexp_m2loglik_saddle",
    "normexp_signal",
    "normexp_start",
]

_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


@dataclass(frozen=True)
class NormexpFit:
    """Parameters of one array: ``mu``, ``log_sigma``, ``log_alpha``; and, for
    the saddle-point fit, ``m2loglik`` (minus twice the approximate
    log-likelihood), ``fncount`` and ``convergence`` (R's codes)."""

    mu: float
    log_sigma: float
    log_alpha: float
    m2loglik: float = math.nan
    fncount: int = 0
    convergence: int = 0

    @property
    def par(self) -> np.ndarray:
        """``(mu, log sigma, log alpha)`` as limma's ``par``."""
        return np.array([self.mu, self.log_sigma, self.log_alpha])


# --------------------------------------------------------------------------- R arithmetic


def _r_mean(x: np.ndarray) -> float:
    """R's ``mean``: long-double sum, then one correction pass.

    The starting values feed a Nelder-Mead search whose path depends on every
    bit, so they are computed as R does.
    """
    if x.size == 0:
        return math.nan
    xl = x.astype(np.longdouble)
    s = np.cumsum(xl)[-1] / x.size
    if np.isfinite(s):
        s = s + np.cumsum(xl - s)[-1] / x.size
    return float(s)


def _r_quantile7(sorted_x: np.ndarray, probs: tuple[float, ...]) -> list[float]:
    """R's ``quantile(type = 7)`` of already sorted data."""
    n = sorted_x.size
    out = []
    for p in probs:
        index = 1.0 + (n - 1) * p
        lo = math.floor(index)
        hi = math.ceil(index)
        q = float(sorted_x[lo - 1])
        if index > lo and sorted_x[hi - 1] != q:
            h = index - lo
            q = (1.0 - h) * q + h * float(sorted_x[hi - 1])
        out.append(q)
    return out


# --------------------------------------------------------------------------- saddle point


# Observations are processed in blocks: temporaries of this size stay in the
# CPU cache and in malloc's free lists (large temporaries are mmap-ed and
# page-faulted on every call), which makes an evaluation ~3x faster.
_BLOCK = 8192


def normexp_m2loglik_saddle(par: np.ndarray, x: np.ndarray) -> float:
    """Minus twice the saddle-point log-likelihood of ``x`` at
    ``par = (mu, log sigma, log alpha)`` (limma's C objective).

    The arithmetic follows the reference's order of operations and sums the
    observations sequentially, so the optimizer sees the same numbers.
    """
    mu = float(par[0])
    sigma = math.exp(float(par[1]))
    alpha = math.exp(float(par[2]))
    total = 0.0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for start in range(0, x.size, _BLOCK):
            logf = _saddle_logf(x[start : start + _BLOCK], mu, sigma * sigma, alpha)
            # Sequential sum continued from the previous blocks.
            logf[0] += total
            total = float(np.cumsum(logf)[-1])
    return -2.0 * total


def _saddle_logf(x: np.ndarray, mu: float, sigma2: float, alpha: float) -> np.ndarray:
    """Per-observation second-order saddle-point log-density."""
    alpha2 = alpha * alpha
    alpha3 = alpha * alpha2
    alpha4 = alpha2 * alpha2
    c2 = sigma2 * alpha
    err = x - mu
    # Upper bounds of the saddle point: small-sigma and small-alpha limits.
    upper = np.fmin(np.fmax(0.0, (err - alpha) / (alpha * np.abs(err))), err / sigma2)
    c1 = -sigma2 - err * alpha
    c0 = -alpha + err
    # Root of the quadratic approximation (exact in theory, but subject to
    # cancellation, hence the Newton polish below).
    theta = np.fmin((-c1 - np.sqrt(c1 * c1 - 4 * c0 * c2)) / (2 * c2), upper)
    # Newton steps (at most 51), each observation until its step is < 1e-10;
    # the first step, on all observations, is capped by the upper bound.
    omat = 1 - alpha * theta
    dk = mu + sigma2 * theta + alpha / omat
    ddk = sigma2 + alpha2 / (omat * omat)
    delta = (x - dk) / ddk
    theta = np.fmin(theta + delta, upper)
    active = np.flatnonzero(~(np.abs(delta) < 1e-10))
    for _ in range(50):
        if active.size == 0:
            break
        th = theta[active]
        omat = 1 - alpha * th
        dk = mu + sigma2 * th + alpha / omat
        ddk = sigma2 + alpha2 / (omat * omat)
        delta = (x[active] - dk) / ddk
        theta[active] = th + delta
        active = active[~(np.abs(delta) < 1e-10)]
    omat = 1 - alpha * theta
    omat2 = omat * omat
    k1 = mu * theta + 0.5 * sigma2 * theta * theta - np.log(omat)
    k2 = sigma2 + alpha2 / omat2
    logf = -0.5 * np.log(2.0 * math.pi * k2) - x * theta + k1
    k3 = 2.0 * alpha3 / (omat * omat2)
    k4 = 6.0 * alpha4 / (omat2 * omat2)
    logf += k4 / (8.0 * k2 * k2) - (5.0 * k3 * k3) / (24.0 * k2 * k2 * k2)
    return logf


def normexp_start(x: np.ndarray) -> np.ndarray | None:
    """limma's starting values ``(mu, log sigma, log alpha)`` for ``x``
    (finite values), or None when all values are equal.

    ``mu`` is the 5% quantile (or the 10%, or the minimum plus 5% of the
    range when those equal the minimum), ``sigma^2`` the mean squared
    distance of the values below ``mu``, ``alpha = mean(x) - mu`` (at least
    1e-6).
    """
    sx = np.sort(x)
    q0, q5, q10, q100 = _r_quantile7(sx, (0.0, 0.05, 0.1, 1.0))
    if q0 == q100:
        return None
    if q5 > q0:
        mu = q5
    elif q10 > q0:
        mu = q10
    else:
        mu = q0 + 0.05 * (q100 - q0)
    below = x[x < mu]
    sigma2 = _r_mean((below - mu) ** 2)
    alpha = _r_mean(x) - mu
    if alpha <= 0:
        alpha = 1e-6
    return np.array([mu, math.log(sigma2) / 2, math.log(alpha)])


def normexp_fit_saddle(x: np.ndarray, *, maxit: int = 500) -> NormexpFit:
    """``normexp.fit(x, method = "saddle")`` of one array.

    Parameters
    ----------
    x
        Intensities (background-subtracted ones may be negative); NaN values
        are ignored.
    maxit
        Evaluation limit of the Nelder-Mead search (limma: 500).

    Returns
    -------
    NormexpFit

    Raises
    ------
    SigrestoreError
        Fewer than 4 finite values.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x[~np.isnan(x)]
    if x.size < 4:
        raise SigrestoreError(
            "normexp: need at least 4 non-missing intensities to fit the background model"
        )
    start = normexp_start(x)
    if start is None:
        return NormexpFit(float(x[0]), -math.inf, -math.inf)
    res = nelder_mead(lambda p: normexp_m2loglik_saddle(p, x), start, maxit=maxit)
    return NormexpFit(
        float(res.par[0]),
        float(res.par[1]),
        float(res.par[2]),
        m2loglik=res.value,
        fncount=res.fncount,
        convergence=res.convergence,
    )


# --------------------------------------------------------------------------- signal


def normexp_signal(par: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Background-corrected intensities ``E[signal | x]`` (limma's ``normexp.signal``).

    Parameters
    ----------
    par
        ``(mu, log sigma, log alpha)`` of one array, or an ``(n_arrays, 3)``
        matrix whose rows apply to the columns of ``x``.
    x
        Intensities: a vector, or probes x arrays.

    Returns
    -------
    numpy.ndarray
        Same shape as ``x``; values below 1e-6 (numerical limit with very low
        intensities or very high background) are raised to 1e-6 with a
        warning, as limma does.
    """
    par = np.asarray(par, dtype=np.float64)
    x = np.asarray(x, dtype=np.float64)
    mu, sigma, alpha = par[..., 0], np.exp(par[..., 1]), np.exp(par[..., 2])
    if np.any(~(alpha > 0)) or np.any(~(sigma > 0)):
        raise SigrestoreError("normexp: alpha and sigma must be positive")
    sigma2 = sigma * sigma
    mu_sf = x - mu - sigma2 / alpha
    z = mu_sf / sigma
    # log dnorm(0; mu_sf, sigma) - log P(N(mu_sf, sigma) > 0)
    log_ratio = -_LOG_SQRT_2PI - np.log(sigma) - 0.5 * z * z - log_ndtr(z)
    signal = mu_sf + sigma2 * np.exp(log_ratio)
    low = signal < 0
    if np.any(low):
        warnings.warn(
            "normexp: limit of numerical accuracy reached with very low intensity or very"
            f" high background; {int(low.sum())} corrected values set to 1e-6",
            RuntimeWarning,
            stacklevel=2,
        )
        signal = np.where(low, np.maximum(signal, 1e-6), signal)
    return signal


def normexp_background(x: np.ndarray, par: np.ndarray, *, offset: float = 16.0) -> np.ndarray:
    """Corrected intensities plus ``offset`` for probes x arrays, one
    parameter row per array."""
    return normexp_signal(par, x) + offset


# --------------------------------------------------------------------------- neqc / nec


def normexp_fit_control(regular: np.ndarray, negative: np.ndarray) -> np.ndarray:
    """``normexp.fit.control``: parameters from negative-control probes.

    Parameters
    ----------
    regular
        Regular probes x arrays.
    negative
        Negative-control probes x arrays (at least 2).

    Returns
    -------
    numpy.ndarray
        ``(n_arrays, 3)``: ``mu`` (control mean), ``log sigma`` (control
        standard deviation, divisor ``n - 1``), ``log alpha`` with
        ``alpha = max(mean(regular) - mu, 10)``.  Missing values are ignored.
    """
    regular = np.asarray(regular, dtype=np.float64)
    negative = np.asarray(negative, dtype=np.float64)
    if regular.shape[0] == 0:
        raise SigrestoreError("normexp: no regular probes")
    if negative.shape[0] < 2:
        raise SigrestoreError("normexp: fewer than two negative control probes")
    mu = np.nanmean(negative, axis=0)
    sigma = np.sqrt(np.nansum((negative - mu) ** 2, axis=0) / (negative.shape[0] - 1))
    alpha = np.maximum(np.nanmean(regular, axis=0) - mu, 10.0)
    return np.column_stack([mu, np.log(sigma), np.log(alpha)])


def normexp_fit_detection_p(x: np.ndarray, detection: np.ndarray) -> np.ndarray:
    """``normexp.fit.detection.p``: negative-control moments from detection p-values.

    Illumina's detection p-value of a probe is the share of negative controls
    brighter than it, so the sorted distinct p-values trace the negative
    controls' distribution: the midpoints of intensities between consecutive
    distinct p-values, weighted by the p-value steps, give their mean and
    standard deviation.

    Parameters
    ----------
    x
        Probes x arrays intensities.
    detection
        Detection p-values of the same shape (p-values or ``1 - p`` scores;
        the orientation is taken from the first array as limma does).

    Returns
    -------
    numpy.ndarray
        ``(n_arrays, 3)`` parameters as :func:`normexp_fit_control`.
    """
    x = np.asarray(x, dtype=np.float64)
    p = np.asarray(detection, dtype=np.float64)
    if x.shape != p.shape:
        raise SigrestoreError(f"normexp: detection p-values are {p.shape}, intensities {x.shape}")
    y0, p0 = x[:, 0], p[:, 0]
    if p0[np.nanargmax(y0)] < p0[np.nanargmin(y0)]:
        p = 1 - p
    n_arrays = x.shape[1]
    mu = np.empty(n_arrays)
    sigma = np.empty(n_arrays)
    # One small weighted-moment computation per array, vectorized over probes.
    for i in range(n_arrays):
        order = np.lexsort((x[:, i], p[:, i]))
        y = x[order, i]
        pp = p[order, i]
        first = np.flatnonzero(np.r_[True, pp[1:] != pp[:-1]])[1:]
        if first.size == 0:
            raise SigrestoreError(
                f"normexp: array {i + 1} has a single detection p-value; cannot infer"
                " the negative-control distribution"
            )
        ync = (y[first] + y[first - 1]) / 2
        d = pp[first] - pp[first - 1]
        freq = d / d.min()
        n = freq.sum()
        mu[i] = np.sum(ync * freq) / n
        v = (ync - mu[i]) ** 2
        sigma[i] = math.sqrt(np.sum(v * freq) / n * n / (n - 1))
    alpha = np.maximum(np.nanmean(x, axis=0) - mu, 10.0)
    return np.column_stack([mu, np.log(sigma), np.log(alpha)])
