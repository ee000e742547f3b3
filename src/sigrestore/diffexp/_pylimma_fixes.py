"""A memory fix for pylimma 0.2.0's intensity-trend fit, applied on import.

pylimma's ``squeeze_var._fit_spline_trend`` (used by ``eBayes(trend=TRUE)``,
``treat(trend=TRUE)`` and the robust variants) regresses the log-variances on a
natural-spline basis with a *full* QR decomposition, whose ``Q`` is
genes x genes: 4 GB and ~40 s for 22,283 probe sets, and 24 GB for a 54,675
probe-set array.  limma only needs the fitted values and the residual mean
square ``mean(effects[-(1:rank)]^2) = RSS / (n - rank)``, which a reduced QR
gives exactly.  The replacement below computes the same quantities that way
and returns the same tuple; everything else (the spline basis, R's column
pivoting rule) is pylimma's own.  Only pylimma 0.2.0 is patched.
"""

from __future__ import annotations

import importlib

import numpy as np
import pylimma
from scipy import linalg

# The package re-exports a *function* named squeeze_var, which hides the module
# of that name from attribute access; fetch the modules themselves.
_sv = importlib.import_module("pylimma.squeeze_var")
_dqrdc2_pivot = importlib.import_module("pylimma.lmfit")._dqrdc2_pivot

__all__ = ["ORIGINAL_FIT_SPLINE_TREND", "fit_spline_trend_reduced"]

ORIGINAL_FIT_SPLINE_TREND = getattr(_sv, "_fit_spline_trend", None)


def fit_spline_trend_reduced(e: np.ndarray, covariate: np.ndarray, splinedf: int) -> tuple:
    """Drop-in for ``pylimma.squeeze_var._fit_spline_trend`` using a reduced QR."""
    try:
        design, knots = _sv._natural_spline_basis(
            covariate, df=splinedf, intercept=True, return_knots=True
        )
    except ValueError as err:
        raise ValueError("Problem with covariate") from err
    pivot, rank = _dqrdc2_pivot(design, 1e-7)
    q, r = np.linalg.qr(design[:, pivot[:rank]])
    effects = q.T @ e
    coef = np.full(design.shape[1], np.nan)
    coef[pivot[:rank]] = linalg.solve_triangular(r, effects)
    fitted = q @ effects
    resid = e - fitted
    residual_var = float(resid @ resid) / (e.size - rank)
    return fitted, residual_var, coef, design, knots


if pylimma.__version__ == "0.2.0" and hasattr(_sv, "_fit_spline_trend"):
    _sv._fit_spline_trend = fit_spline_trend_reduced
