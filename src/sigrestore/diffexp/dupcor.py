"""Intra-block correlation (limma's ``duplicateCorrelation`` with ``block=``), vectorized.

For each gene limma fits a two-variance-component mixed model, ``y = X b + Z u + e``
with ``Z`` the block indicators, by REML as statmod's ``mixedModel2Fit`` does:
rotate ``y`` onto the residual space of ``X`` and onto the singular vectors of
the projected ``Z``, so that the squared rotated values ``dy_k`` have
expectation ``s2_e + d_k s2_b`` (``d_k`` the squared singular values), then fit
that by a gamma GLM with identity link (statmod's ``glmgam.fit``: Fisher scoring
with Levenberg-Marquardt damping).  The gene's correlation is
``s2_b / (s2_e + s2_b)``; the consensus is ``tanh`` of the trimmed mean (15%) of
``atanh`` of the clipped gene-wise values.

Genes that share a pattern of observed values (all of them, without missing
values) share ``X``, ``Z`` and the rotation, so the rotation is one matrix
product and the GLM iterations run on all such genes at once.  The iteration
rules (start values, damping, line search, tolerance 1e-6, at most 21
iterations for ``maxit = 20``) follow statmod 1.5 exactly, so the result matches
R to rounding; pylimma 0.2.0's version stops one iteration earlier and differs
by about 1e-4 in the consensus correlation, which is why this module has its own.
"""

from __future__ import annotations

import warnings

import numpy as np

from sigrestore.diffexp.fast import missing_patterns

__all__ = ["duplicate_correlation"]

_TOL = 1e-6
_MAXIT = 20  # duplicateCorrelation calls mixedModel2Fit(..., maxit = 20)


def _deviance(y: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Gamma deviance per row, as statmod's ``deviance.gamma`` (rows = genes)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        skip = (y < 1e-15) & (mu < 1e-15)
        term = (y - mu) / mu - np.log(y / mu)
        term = np.where(skip, 0.0, term)
        dev = 2.0 * term.sum(axis=1)
    return np.where((mu < 0).any(axis=1), np.inf, dev)


def _solve2(a, b, c, lam, g0, g1):
    """Solve [[a+lam, b], [b, c+lam]] x = g for many 2x2 systems via Cholesky."""
    l11 = np.sqrt(a + lam)
    l21 = b / l11
    l22 = np.sqrt(c + lam - l21 * l21)
    z0 = g0 / l11
    z1 = (g1 - l21 * z0) / l22
    x1 = z1 / l22
    x0 = (z0 - l21 * x1) / l11
    return x0, x1


def _glmgam_identity(d: np.ndarray, dy: np.ndarray, start: np.ndarray) -> np.ndarray:
    """statmod's glmgam.fit for design ``[1, d]`` on every row of ``dy`` at once."""
    g = dy.shape[0]
    beta = start.copy()
    mu = beta[:, :1] + beta[:, 1:] * d[None, :]
    dev = _deviance(dy, mu)
    lam = np.zeros(g)
    active = np.ones(g, dtype=bool)
    for it in range(1, _MAXIT + 2):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        y_a, mu_a = dy[idx], mu[idx]
        v = mu_a**2
        v = np.maximum(v, v.max(axis=1, keepdims=True) / 1e3)
        iv = 1.0 / v
        a = iv.sum(axis=1)
        b = (iv * d).sum(axis=1)
        c = (iv * d * d).sum(axis=1)
        maxinfo = np.maximum(a, c)
        if it == 1:
            lam[idx] = np.abs((a + c) / 2.0) / 2.0
        r = (y_a - mu_a) * iv
        g0 = r.sum(axis=1)
        g1 = (r * d).sum(axis=1)
        beta_old = beta[idx].copy()
        dev_old = dev[idx]
        lam_a = lam[idx]
        lev = np.zeros(idx.size, dtype=int)
        new_beta = beta_old.copy()
        new_mu = mu_a.copy()
        new_dev = dev_old.copy()
        db0 = np.zeros(idx.size)
        db1 = np.zeros(idx.size)
        damped_out = np.zeros(idx.size, dtype=bool)
        searching = np.ones(idx.size, dtype=bool)
        while searching.any():
            s = np.flatnonzero(searching)
            lev[s] += 1
            x0, x1 = _solve2(a[s], b[s], c[s], lam_a[s], g0[s], g1[s])
            db0[s], db1[s] = x0, x1
            trial = beta_old[s] + np.column_stack([x0, x1])
            m = trial[:, :1] + trial[:, 1:] * d[None, :]
            dv = _deviance(y_a[s], m)
            new_beta[s], new_mu[s], new_dev[s] = trial, m, dv
            with np.errstate(divide="ignore", invalid="ignore"):
                done = (dv <= dev_old[s]) | (dv / m.max(axis=1) < 1e-15)
            too_much = ~done & (lam_a[s] / maxinfo[s] > 1e15)
            new_beta[s[too_much]] = beta_old[s[too_much]]
            damped_out[s[too_much]] = True
            grow = ~done & ~too_much
            lam_a[s[grow]] *= 2.0
            searching[s[done | too_much]] = False
        lam_a = np.where((lev == 1) & ~damped_out, lam_a / 10.0, lam_a)
        beta[idx], mu[idx], dev[idx], lam[idx] = new_beta, new_mu, new_dev, lam_a
        with np.errstate(divide="ignore", invalid="ignore"):
            converged = (g0 * db0 + g1 * db1 < _TOL) | (new_dev / new_mu.max(axis=1) < 1e-15)
        stop = damped_out | converged | (it > _MAXIT)
        active[idx[stop]] = False
    return beta


def _null_basis(x: np.ndarray) -> np.ndarray:
    """Orthonormal basis of the residual space of ``x`` (n x (n - rank))."""
    u, s, _ = np.linalg.svd(x, full_matrices=True)
    rank = int(np.sum(s > 1e-7 * max(s[0], 1e-300))) if s.size else 0
    return u[:, rank:]


def _block_rho(y: np.ndarray, x: np.ndarray, block: np.ndarray) -> np.ndarray:
    """Gene-wise correlation for rows ``y`` sharing design ``x`` and ``block``."""
    nobs = y.shape[1]
    nbeta = x.shape[1]
    levels, codes = np.unique(block, return_inverse=True)
    out = np.full(y.shape[0], np.nan)
    if not (nobs > nbeta + 2 and 1 < levels.size < nobs - 1):
        return out
    z = np.eye(levels.size)[codes]
    q2 = _null_basis(x)
    mq = q2.shape[1]
    if mq == 0:
        return out
    u, s, _ = np.linalg.svd(q2.T @ z, full_matrices=True)
    d = np.zeros(mq)
    d[: s.size] = s**2
    dy = (y @ (q2 @ u)) ** 2
    dx = np.column_stack([np.ones(mq), d])
    if np.linalg.matrix_rank(dx) < 2:
        return out  # lm.fit would give an NA block component
    ols = np.linalg.lstsq(dx, dy.T, rcond=None)[0].T
    beta = ols
    if mq > 2 and np.sum(np.abs(d) > 1e-15) > 1 and np.var(d, ddof=1) > 1e-15:
        fitted = ols @ dx.T
        ok = (fitted >= 0).all(axis=1)
        start = np.where(ok[:, None], ols, np.column_stack([dy.mean(axis=1), np.zeros(len(dy))]))
        beta = _glmgam_identity(d, dy, start)
    with np.errstate(divide="ignore", invalid="ignore"):
        return beta[:, 1] / beta.sum(axis=1)


def _r_trimmed_mean(x: np.ndarray, trim: float) -> float:
    """R's ``mean(x, trim = trim, na.rm = TRUE)``."""
    x = np.sort(x[np.isfinite(x)])
    n = x.size
    if n == 0:
        return float("nan")
    if trim >= 0.5:
        return float(np.median(x))
    lo = int(np.floor(n * trim))
    return float(np.mean(x[lo : n - lo]))


def duplicate_correlation(
    expr: np.ndarray,
    design: np.ndarray,
    block: np.ndarray,
    *,
    weights: np.ndarray | None = None,
    trim: float = 0.15,
) -> tuple[float, np.ndarray]:
    """Consensus intra-block correlation, as ``limma::duplicateCorrelation(block=)``.

    Parameters
    ----------
    expr
        Genes x arrays, log scale (missing values allowed).
    design
        Arrays x coefficients.
    block
        Block label per array.
    weights
        Optional array weights (length n) or genes x arrays weights.
    trim
        Fraction trimmed from each end before averaging on the ``atanh`` scale.

    Returns
    -------
    consensus, atanh_correlations
        The consensus correlation and the gene-wise ``atanh`` correlations.
    """
    m = np.array(expr, dtype=float)
    x = np.asarray(design, dtype=float)
    block = np.asarray(block)
    n_genes = m.shape[0]
    zero = (0.0, np.zeros(n_genes))
    levels, counts = np.unique(block, return_counts=True)
    max_block = int(counts.max())
    if max_block == 1:
        warnings.warn("blocks all of size 1: intra-block correlation set to zero", stacklevel=2)
        return zero
    ind = (block[:, None] == levels[None, 1:]).astype(float)
    resid = ind - x @ np.linalg.lstsq(x, ind, rcond=None)[0]
    if np.max(np.abs(resid)) < 1e-8:
        warnings.warn(
            "block factor already encoded in the design: intra-block correlation set to zero",
            stacklevel=2,
        )
        return zero

    w = None
    if weights is not None:
        w = np.broadcast_to(np.asarray(weights, dtype=float), m.shape).copy()
        w[~(w > 0)] = np.nan
        m[~np.isfinite(w)] = np.nan
        if np.all(w == w[:1]):  # array weights: the same for every gene
            w = w[0]

    rho = np.full(n_genes, np.nan)
    finite = np.isfinite(m)
    if w is not None and w.ndim == 2:
        # Gene-specific weights: every gene has its own rotation.
        for i in range(n_genes):
            o = finite[i]
            sw = np.sqrt(w[i, o])
            rho[i] = _block_rho((m[i, o] * sw)[None, :], x[o] * sw[:, None], block[o])[0]
    else:
        for o, rows in missing_patterns(finite):
            sw = np.ones(int(o.sum())) if w is None else np.sqrt(w[o])
            rho[rows] = _block_rho(m[np.ix_(rows, o)] * sw, x[o] * sw[:, None], block[o])

    rho_min = 1.0 / (1.0 - max_block) + 0.01
    with np.errstate(invalid="ignore"):
        rho = np.where(rho < rho_min, rho_min, rho)
        rho = np.where(rho > 0.99, 0.99, rho)
        arho = np.arctanh(rho)
    return float(np.tanh(_r_trimmed_mean(arho, trim))), arho
