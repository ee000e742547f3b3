"""RMA background correction (normal + exponential convolution model).

The observed PM intensity is modelled as ``X = S + N`` with signal
``S ~ Exp(alpha)`` and background ``N ~ Normal(mu, sigma^2)``; the corrected
value is the conditional expectation ``E[S | X = x]``::

    a = x - mu - alpha * sigma^2
    E[S | X = x] = a + sigma * phi(a / sigma) / Phi(a / sigma)

The parameters are estimated per array exactly as preprocessCore's
``rma_bg_parameters`` does (the code behind ``affy::bg.correct.rma`` and
``affy::rma``):

1. ``mu0`` = mode of the kernel density of all PM values;
2. ``mu`` = mode of the density of the PM values below ``mu0``;
3. ``sigma`` = sqrt(sum((x - mu)^2) / (n - 1)) * sqrt(2) over the values below
   ``mu`` (a half-normal estimate);
4. ``1 / alpha`` = mode of the density of ``x - mu`` over the values above ``mu``.

The density is preprocessCore's ``KernelDensity_lowmem``: an Epanechnikov
kernel with bandwidth ``bw.nrd0``, linear binning on 16,384 points spanning
``[min - 7 bw, max + 7 bw]``, an FFT convolution on twice that many points,
and linear interpolation onto the output grid ``[min - 3 bw, max + 3 bw]``.
The mode is the first grid point with the largest density.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

from sigrestore.errors import SigrestoreError

__all__ = ["BackgroundParams", "density_mode", "rma_background", "rma_background_array"]

_N_POINTS = 16384
_SQRT5 = np.sqrt(5.0)
_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)


@dataclass(frozen=True)
class BackgroundParams:
    """Fitted background model of one array (``alpha`` is the exponential rate)."""

    alpha: float
    mu: float
    sigma: float


def _iqr_sorted(s: np.ndarray) -> float:
    """Interquartile range of sorted data, R's ``quantile(type = 7)`` rule."""
    n = s.size
    out = []
    for p in (0.25, 0.75):
        h = (n - 1) * p
        lo = int(np.floor(h))
        frac = h - lo
        q = s[lo]
        if frac > 1e-10:  # preprocessCore skips interpolation below this
            q = (1.0 - frac) * q + frac * s[lo + 1]
        out.append(q)
    return out[1] - out[0]


def _bw_nrd0(s: np.ndarray) -> float:
    """Silverman's rule of thumb as ``bw.nrd0`` (two-pass standard deviation)."""
    n = s.size
    mean = s.sum() / n
    d = s - mean
    hi = np.sqrt((d * d).sum() / (n - 1)) if n > 1 else 0.0
    iqr = _iqr_sorted(s)
    lo = min(hi, iqr / 1.34)
    if lo == 0:
        if hi != 0:
            lo = hi
        elif abs(s[0]) != 0:
            lo = abs(s[0])
        else:
            lo = 1.0
    return 0.9 * lo * n ** (-0.2)


def density_mode(x: np.ndarray, *, assume_sorted: bool = False) -> float:
    """Mode of preprocessCore's kernel density estimate of ``x``.

    Parameters
    ----------
    x
        1-D finite values (at least two).
    assume_sorted
        ``x`` is already in ascending order (saves a sort).

    Returns
    -------
    float
        The x coordinate of the first maximum of the density on its
        16,384-point output grid.
    """
    s = np.asarray(x, dtype=np.float64)
    if not assume_sorted:
        s = np.sort(s)
    if s.size < 2:
        raise SigrestoreError(
            f"RMA background: need at least 2 values for the density, got {s.size}"
        )
    n = _N_POINTS
    bw = _bw_nrd0(s)
    low = s[0] - 7.0 * bw
    high = s[-1] + 7.0 * bw

    # Kernel ordinates on 2n points, wrapped (negative lags in the upper half).
    kords = np.arange(2 * n, dtype=np.float64)
    kords[: n + 1] = kords[: n + 1] / (2 * n - 1) * 2.0 * (high - low)
    kords[n + 1 :] = -kords[n - 1 : 0 : -1]
    a = bw * _SQRT5
    u = np.abs(kords) / a
    kern = np.where(np.abs(kords) < a, 3.0 / (4.0 * a) * (1.0 - u * u), 0.0)

    # Linear binning of the data onto n grid points (weights 1/n_x each).
    delta = (high - low) / (n - 1)
    pos = (s - low) / delta
    ix = np.floor(pos).astype(np.int64)
    fx = pos - ix
    y = np.zeros(2 * n)
    inside = (ix >= 0) & (ix <= n - 2)
    y[:n] += np.bincount(ix[inside], weights=1.0 - fx[inside], minlength=n)[:n]
    y[:n] += np.bincount(ix[inside] + 1, weights=fx[inside], minlength=n)[:n]
    # (points exactly at the edges cannot occur: the grid extends 7 bw beyond the data)
    y[:n] /= s.size

    # Circular correlation of the binned data with the (symmetric) kernel.
    conv = np.fft.irfft(np.fft.rfft(y) * np.conj(np.fft.rfft(kern)), 2 * n)[:n]

    xords = np.arange(n) / (n - 1) * (high - low) + low
    frm = low + 4.0 * bw
    to = high - 4.0 * bw
    out_x = np.arange(n) / (n - 1) * (to - frm) + frm
    dens = np.interp(out_x, xords, conv)
    return float(out_x[int(np.argmax(dens))])


def fit_background(pm: np.ndarray, *, assume_sorted: bool = False) -> BackgroundParams:
    """Estimate ``alpha``, ``mu`` and ``sigma`` of one array's PM intensities.

    The three density fits work on subsets of the sorted PM values, which are
    prefixes and suffixes of the sorted vector: one sort serves all three.
    """
    s = np.asarray(pm, dtype=np.float64)
    if not assume_sorted:
        s = np.sort(s)
    mode0 = density_mode(s, assume_sorted=True)
    below = s[: np.searchsorted(s, mode0, side="left")]  # values < mode0
    if below.size < 2:
        raise SigrestoreError("RMA background: fewer than 2 PM values below the density mode")
    mu = density_mode(below, assume_sorted=True)
    lower = s[: np.searchsorted(s, mu, side="left")]  # values < mu
    if lower.size < 2:
        raise SigrestoreError("RMA background: fewer than 2 PM values below the density mode")
    d = lower - mu
    sigma = np.sqrt((d * d).sum() / (lower.size - 1)) * np.sqrt(2.0)
    above = s[np.searchsorted(s, mu, side="right") :] - mu  # values > mu
    alpha = 1.0 / density_mode(above, assume_sorted=True)
    return BackgroundParams(alpha=float(alpha), mu=float(mu), sigma=float(sigma))


def adjust_background(pm: np.ndarray, params: BackgroundParams) -> np.ndarray:
    """Apply ``E[S | X = x]`` with the given parameters (float64 result)."""
    sigma = params.sigma
    a = np.asarray(pm, dtype=np.float64) - params.mu - params.alpha * sigma * sigma
    z = a / sigma
    return a + sigma * (_INV_SQRT_2PI * np.exp(-0.5 * z * z)) / ndtr(z)


def rma_background_array(pm: np.ndarray) -> tuple[np.ndarray, BackgroundParams]:
    """Background-correct one array's PM vector; return values and parameters."""
    params = fit_background(pm)
    return adjust_background(pm, params), params


def rma_background(pm: np.ndarray) -> np.ndarray:
    """RMA background correction of a PM matrix, column by column.

    Parameters
    ----------
    pm
        ``n_probes x n_arrays`` raw PM intensities (a 1-D vector is one array).

    Returns
    -------
    numpy.ndarray
        float64 corrected intensities, same shape.
    """
    x = np.asarray(pm, dtype=np.float64)
    if x.ndim == 1:
        return rma_background_array(x)[0]
    if x.ndim != 2:
        raise SigrestoreError(f"rma_background: expected a 1-D or 2-D array, got {x.ndim}-D")
    if not np.all(np.isfinite(x)):
        raise SigrestoreError("rma_background: PM intensities contain NaN or infinite values")
    out = np.empty_like(x)
    for j in range(x.shape[1]):  # one density fit per array; arrays are few
        out[:, j] = rma_background_array(x[:, j])[0]
    return out
