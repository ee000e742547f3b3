"""limma's ``lmFit`` with observation-level weights (a genes x arrays matrix), vectorized.

voom gives every count its own precision weight, so each gene has its own
weighted least-squares problem.  limma solves them one gene at a time
(``lm.series``: ``lm.wfit`` per gene); here blocks of genes are solved at
once through their normal equations ``(X' W_g X) b_g = X' W_g y_g`` (``p``, the
number of coefficients, is a handful, so the ``p x p`` systems are well
conditioned and batched inversion is cheap):

* ``coefficients`` ``b_g``; ``stdev.unscaled`` the square roots of the
  diagonal of ``(X' W_g X)^-1``;
* ``sigma^2 = sum_i w_gi r_gi^2 / (n - p)``, ``df.residual = n - p``;
* ``cov.coefficients`` is that of the *unweighted* design, as ``lm.series``
  returns it; ``contrasts.fit`` then combines the gene-wise standard errors
  through its correlation (exact for designs with orthogonal coefficients,
  limma's approximation otherwise), which
  :func:`sigrestore.diffexp.fast.contrasts_fit_r` reproduces.
"""

from __future__ import annotations

import numpy as np
import pylimma

from sigrestore.diffexp.fast import contrasts_fit_r
from sigrestore.errors import DesignError

__all__ = ["check_observation_weights", "lm_contrasts_obs_weights", "lm_obs_weights"]

_CHUNK = 4096  # genes per block: bounds the genes x arrays x coefficients temporary


def check_observation_weights(weights: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``weights`` as a float matrix of ``shape`` with positive finite entries (DesignError)."""
    w = np.asarray(weights, dtype=float)
    if w.shape != shape:
        raise DesignError(f"observation weights are {w.shape}, the expression is {shape}")
    bad = ~(np.isfinite(w) & (w > 0))
    if bad.any():
        g, a = np.argwhere(bad)[0]
        raise DesignError(
            f"observation weights must be positive and finite; row {int(g)}, array {int(a)} "
            f"has {w[g, a]!r}"
        )
    return w


def lm_obs_weights(
    y: np.ndarray, x: np.ndarray, w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gene-wise weighted least squares: (coefficients, stdev_unscaled, sigma).

    ``y``, ``w``: genes x arrays (complete, positive weights); ``x``: arrays x
    coefficients, full column rank.
    """
    genes, n = y.shape
    p = x.shape[1]
    coef = np.empty((genes, p))
    stdev = np.empty((genes, p))
    sigma = np.empty(genes)
    df = n - p
    for start in range(0, genes, _CHUNK):  # blocks of genes, each solved at once
        stop = min(start + _CHUNK, genes)
        yb, wb = y[start:stop], w[start:stop]
        xtw = wb[:, None, :] * x.T[None, :, :]  # block x p x n
        xtwx = xtw @ x  # block x p x p
        inv = np.linalg.inv(xtwx)
        b = np.einsum("gpq,gq->gp", inv, np.einsum("gpn,gn->gp", xtw, yb))
        res = yb - b @ x.T
        coef[start:stop] = b
        stdev[start:stop] = np.sqrt(np.einsum("gpp->gp", inv))
        sigma[start:stop] = np.sqrt(np.einsum("gn,gn->g", wb * res, res) / df)
    return coef, stdev, sigma


def lm_contrasts_obs_weights(
    y: np.ndarray, x: np.ndarray, cm: np.ndarray, w: np.ndarray
) -> pylimma.MArrayLM:
    """``contrasts.fit(lmFit(y, x, weights = W), cm)`` for complete data and full-rank ``x``."""
    genes, n = y.shape
    p = x.shape[1]
    if n - p < 1:
        raise DesignError("no residual degree of freedom for the weighted fit")
    coef, stdev, sigma = lm_obs_weights(y, x, w)
    cov = np.linalg.inv(x.T @ x)  # lm.series: cov.coefficients of the unweighted design
    c_coef, c_sd, c_cov = contrasts_fit_r(coef, stdev, cov, cm)
    return pylimma.MArrayLM(
        coefficients=c_coef,
        stdev_unscaled=c_sd,
        sigma=sigma,
        df_residual=np.full(genes, float(n - p)),
        cov_coefficients=c_cov,
        Amean=y.mean(axis=1),
        rank=p,
        design=x,
        contrasts=cm,
    )
