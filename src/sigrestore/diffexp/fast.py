"""Vectorized limma for the common case: no missing values, no block.

Then every gene shares the design, so ``lmFit`` is one QR decomposition and
two matrix products, ``contrasts.fit`` is a product with the contrast matrix,
and every gene has the same unscaled standard errors and residual degrees of
freedom.  Per-array weights ``w`` (one per array, the same for every gene, as
limma's ``lmFit(weights = <vector of length ncol>)``) keep this: the fit is
ordinary least squares of ``sqrt(w) y`` on ``sqrt(w) X`` (limma's ``lm.wfit``
on its one-QR path), so ``beta = (X'WX)^-1 X'W y``, ``stdev.unscaled`` from
``(X'WX)^-1`` and ``s2 = sum(w r^2) / (n - p)`` with ``n`` the number of
arrays, whatever the weights.  ``eBayes`` (without ``trend``/``robust``) follows limma 3.54.1:

* ``fitFDist``: ``e_g = log s2_g - digamma(d/2) + log(d/2)``;
  ``evar = var(e) - trigamma(d/2)``; ``d0 = 2 trigammaInverse(evar)``,
  ``s0^2 = exp(mean(e) + digamma(d0/2) - log(d0/2))`` (``d0 = Inf`` and
  ``s0^2 = mean(s2)`` when ``evar <= 0``);
* ``s~2_g = (d s2_g + d0 s0^2) / (d + d0)``; ``t = beta / (u sqrt(s~2))``,
  ``p = 2 P(T_{d + d0} > |t|)`` with ``d + d0`` capped at the pooled residual df;
* ``B``: the prior variance of non-zero effects from the top
  ``proportion / 2`` of ``|t|`` (``tmixture``), then the log-odds formula;
* moderated F: ``F = |t Q|^2`` with ``Q`` from the eigen-decomposition of the
  contrasts' correlation matrix (``classifyTestsF``), on ``(r, d + d0)`` df.

The result is an ``MArrayLM``-like dict with pylimma's key names, so pylimma's
``treat`` accepts it and :class:`~sigrestore.diffexp.fit.DEFit` reads it the
same way as pylimma's output.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator

import numpy as np
import pylimma
from scipy import special

__all__ = [
    "ebayes_fast",
    "fit_f_dist",
    "lm_contrasts_fast",
    "missing_patterns",
    "moderated_f",
    "trigamma_inverse",
]

_CHUNK = 8192  # rows per block when forming residuals (bounds temporary memory)


def lm_contrasts_fast(
    y: np.ndarray, x: np.ndarray, cm: np.ndarray, *, weights: np.ndarray | None = None
) -> pylimma.MArrayLM:
    """``contrasts.fit(lmFit(y, x, weights = w), cm)`` for complete data and a full-rank ``x``.

    ``weights``: one positive weight per array (``None``: all 1).  ``AveExpr``
    stays the unweighted mean over the arrays, as limma's ``Amean``.
    """
    n, p = x.shape
    root = None if weights is None else np.sqrt(np.asarray(weights, dtype=float))
    xw = x if root is None else x * root[:, None]
    q, r = np.linalg.qr(xw)
    rinv = np.linalg.inv(r)  # p x p, p is a handful
    qw = q if root is None else q * root[:, None]  # y @ qw == (y * root) @ q
    effects = y @ qw  # genes x p
    coef = effects @ rinv.T
    rss = np.empty(y.shape[0])
    for start in range(0, y.shape[0], _CHUNK):
        stop = start + _CHUNK
        block = y[start:stop] if root is None else y[start:stop] * root
        res = block - effects[start:stop] @ q.T  # sqrt(w) r
        rss[start:stop] = np.einsum("ij,ij->i", res, res)
    df = n - p
    unscaled = rinv @ rinv.T  # (X'WX)^-1
    cov = cm.T @ unscaled @ cm
    genes = y.shape[0]
    stdev = np.sqrt(np.diag(cov))
    return pylimma.MArrayLM(
        coefficients=coef @ cm,
        stdev_unscaled=np.broadcast_to(stdev, (genes, cm.shape[1])).copy(),
        sigma=np.sqrt(rss / df),
        df_residual=np.full(genes, float(df)),
        cov_coefficients=cov,
        Amean=y.mean(axis=1),
        rank=p,
        design=x,
        contrasts=cm,
    )


def trigamma_inverse(x: float) -> float:
    """Solve ``trigamma(y) = x`` by limma's Newton iteration."""
    if x > 1e7:
        return 1.0 / math.sqrt(x)
    if x < 1e-6:
        return 1.0 / x
    y = 0.5 + 1.0 / x
    for _ in range(51):
        tri = special.polygamma(1, y)
        dif = tri * (1.0 - tri / x) / special.polygamma(2, y)
        y += dif
        if -dif / y < 1e-8:
            return float(y)
    warnings.warn("trigammaInverse: iteration limit exceeded", stacklevel=2)
    return float(y)


def fit_f_dist(s2: np.ndarray, df1: float) -> tuple[float, float]:
    """limma's ``fitFDist(s2, df1)`` for a common ``df1``: returns (scale, df2)."""
    ok = np.isfinite(s2) & (s2 > -1e-15)
    nok = int(ok.sum())
    if not (np.isfinite(df1) and df1 > 1e-15) or nok == 0:
        return float("nan"), float("nan")
    if nok == 1:
        return float(s2[ok][0]), 0.0
    x = np.maximum(s2[ok], 0.0)
    m = float(np.median(x))
    if m == 0:
        warnings.warn("more than half of residual variances are exactly zero", stacklevel=3)
        m = 1.0
    elif (x == 0).any():
        warnings.warn("zero sample variances detected, offset away from zero", stacklevel=3)
    x = np.maximum(x, 1e-5 * m)
    e = np.log(x) - special.digamma(df1 / 2) + math.log(df1 / 2)
    emean = float(e.mean())
    evar = float(np.sum((e - emean) ** 2) / (nok - 1)) - float(special.polygamma(1, df1 / 2))
    if evar > 0:
        df2 = 2.0 * trigamma_inverse(evar)
        return float(np.exp(emean + special.digamma(df2 / 2) - math.log(df2 / 2))), df2
    return float(x.mean()), math.inf


def _tmixture(tstat: np.ndarray, v1: float, df: float, proportion: float, lim) -> float:
    """limma's ``tmixture.vector`` when all genes share ``df`` and ``stdev.unscaled``."""
    t = np.abs(tstat[~np.isnan(tstat)])
    ngenes = t.size
    ntarget = math.ceil(proportion / 2 * ngenes)
    if ntarget < 1:
        return float("nan")
    p = max(ntarget / ngenes, proportion)
    top = np.sort(np.partition(t, ngenes - ntarget)[ngenes - ntarget :])[::-1]
    ranks = np.arange(1, ntarget + 1)
    p0 = 2.0 * special.stdtr(df, -top)
    ptarget = ((ranks - 0.5) / ngenes - (1 - p) * p0) / p
    v0 = np.zeros(ntarget)
    pos = ptarget > p0
    if pos.any():
        qtarget = -special.stdtrit(df, ptarget[pos] / 2)
        v0[pos] = v1 * ((top[pos] / qtarget) ** 2 - 1)
    v0 = np.clip(v0, lim[0], lim[1])
    return float(v0.mean())


def _f_stat(t: np.ndarray, cov: np.ndarray) -> tuple[np.ndarray, int]:
    """Moderated F as ``classifyTestsF(fstat.only = TRUE)``: (F, df1)."""
    if t.shape[1] == 1:
        return t[:, 0] ** 2, 1
    cov = cov.copy()
    diag = np.diag(cov).copy()
    diag[diag == 0] = 1.0
    np.fill_diagonal(cov, diag)
    sd = np.sqrt(diag)
    cor = cov / np.outer(sd, sd)
    values, vectors = np.linalg.eigh(cor)
    values, vectors = values[::-1], vectors[:, ::-1]  # decreasing, as R's eigen
    r = int(np.sum(values / values[0] > 1e-8))
    q = vectors[:, :r] / np.sqrt(values[:r]) / math.sqrt(r)
    return ((t @ q) ** 2).sum(axis=1), r


def ebayes_fast(
    fit: pylimma.MArrayLM, *, proportion: float = 0.01, stdev_coef_lim=(0.1, 4.0)
) -> pylimma.MArrayLM:
    """``eBayes(fit)`` (no trend, not robust) for a fit from :func:`lm_contrasts_fast`.

    Everything eBayes gives but ``F`` and ``F.p.value``: :func:`moderated_f`.
    """
    coef = fit["coefficients"]
    stdev = fit["stdev_unscaled"]
    s2 = fit["sigma"] ** 2
    d = float(fit["df_residual"][0])
    genes = coef.shape[0]
    s2_prior, df_prior = fit_f_dist(s2, d)
    if math.isnan(df_prior):
        raise ValueError("could not estimate the prior degrees of freedom")
    if math.isinf(df_prior):
        s2_post = np.full(genes, s2_prior)
    else:
        s2_post = (d * s2 + df_prior * s2_prior) / (d + df_prior)
    t = coef / stdev / np.sqrt(s2_post)[:, None]
    df_total = min(d + df_prior, d * genes)
    p_value = 2.0 * special.stdtr(df_total, -np.abs(t))
    lim = np.asarray(stdev_coef_lim, dtype=float) ** 2 / s2_prior
    v1 = stdev[0] ** 2
    var_prior = np.array(
        [_tmixture(t[:, j], v1[j], df_total, proportion, lim) for j in range(t.shape[1])]
    )  # one value per contrast
    if np.isnan(var_prior).any():
        var_prior[np.isnan(var_prior)] = 1.0 / s2_prior
        warnings.warn("estimation of var.prior failed - set to default value", stacklevel=2)
    r = (v1 + var_prior) / v1  # same for every gene
    t2 = t**2
    if df_prior > 1e6:
        kernel = t2 * (1 - 1 / r) / 2
    else:
        kernel = (1 + df_total) / 2 * np.log((t2 + df_total) / (t2 / r + df_total))
    lods = math.log(proportion / (1 - proportion)) - np.log(r) / 2 + kernel
    out = pylimma.MArrayLM(fit)
    out.update(
        df_prior=df_prior,
        s2_prior=s2_prior,
        var_prior=var_prior,
        proportion=proportion,
        s2_post=s2_post,
        t=t,
        df_total=np.full(genes, df_total),
        p_value=p_value,
        lods=lods,
    )
    return out


def moderated_f(eb: pylimma.MArrayLM) -> tuple[np.ndarray, np.ndarray]:
    """The moderated F statistic of all contrasts and its p-value, as ``eBayes``'s
    ``F`` and ``F.p.value``, for a fit from :func:`ebayes_fast`.

    Computed on demand (only the F table needs it), not in :func:`ebayes_fast`:
    the restoration bootstrap refits hundreds of times and never looks at F.
    """
    if "F" in eb:
        return eb["F"], eb["F_p_value"]
    f_stat, df1 = _f_stat(eb["t"], eb["cov_coefficients"])
    df2 = float(eb["df_residual"][0]) + eb["df_prior"]
    # An infinite denominator df makes r F chi-squared on r df.
    if math.isinf(df2):
        return f_stat, special.chdtrc(df1, f_stat * df1)
    return f_stat, special.fdtrc(df1, df2, f_stat)


def independent_columns(x: np.ndarray, tol: float = 1e-7) -> list[int]:
    """Columns kept in order, as R's ``qr()`` (LINPACK dqrdc2) keeps them.

    A column is aliased (moved to the end, its coefficient NA in ``lm.fit``) when
    its norm after projecting out the kept columns is below ``tol`` times its
    own norm; an all-zero column is aliased.
    """
    keep: list[int] = []
    basis = np.zeros((x.shape[0], 0))
    for j in range(x.shape[1]):  # a handful of coefficients, not genes
        col = x[:, j]
        norm = np.linalg.norm(col)
        resid = col - basis @ (basis.T @ col)
        rnorm = np.linalg.norm(resid)
        if norm > 0 and rnorm >= tol * norm:
            keep.append(j)
            basis = np.column_stack([basis, resid / rnorm])
    return keep


def contrasts_fit_r(
    coef: np.ndarray, stdev: np.ndarray, cov: np.ndarray, cm: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """limma's ``contrasts.fit`` for gene-wise ``stdev`` and a common ``cov``.

    Coefficients unused by every contrast are dropped; NA coefficients become 0
    with a huge standard error, so the contrasts that use them come out NA;
    gene-wise standard errors combine through the correlation matrix of the
    full design (limma's approximation for genes with missing values).

    Returns coefficients, stdev_unscaled (genes x contrasts) and the contrasts'
    covariance matrix.
    """
    used = np.abs(cm).sum(axis=1) != 0
    cm_u = cm[used]
    cov_u = cov[np.ix_(used, used)]
    sd = np.sqrt(np.diag(cov_u))
    cor = cov_u / np.outer(sd, sd)
    na = np.isnan(coef[:, used])
    coef_u = np.where(na, 0.0, coef[:, used])
    st_u = np.where(na, 1e30, stdev[:, used])
    out_coef = coef_u @ cm_u
    low = cor[np.tril_indices_from(cor, k=-1)]
    if cor.size < 2 or np.all(np.abs(low) < 1e-14):
        out_sd = np.sqrt(st_u**2 @ cm_u**2)
    else:
        upper = np.linalg.cholesky(cor).T  # R's chol(): upper triangle, R'R = cor
        ruc = np.einsum("ab,gb,bj->gaj", upper, st_u, cm_u)
        out_sd = np.sqrt(np.einsum("gaj,gaj->gj", ruc, ruc))
    big = out_sd > 1e20
    out_coef[big] = np.nan
    out_sd[big] = np.nan
    return out_coef, out_sd, cm.T @ cov @ cm


def missing_patterns(finite: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Genes grouped by their pattern of observed arrays.

    Yields ``(observed, rows)`` once per distinct row of the boolean genes x
    arrays matrix ``finite``: the pattern and the (ascending) genes having it.
    """
    patterns, inverse = np.unique(finite, axis=0, return_inverse=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(len(patterns) + 1))
    for k, obs in enumerate(patterns):  # one iteration per pattern, not per gene
        yield obs, order[bounds[k] : bounds[k + 1]]


def lm_contrasts_missing(y: np.ndarray, x: np.ndarray, cm: np.ndarray) -> pylimma.MArrayLM:
    """``contrasts.fit(lmFit(y, x), cm)`` with missing values, no weights.

    Genes are grouped by their pattern of observed arrays; each pattern is one
    QR decomposition of the observed rows of the design (coefficients the
    pattern cannot estimate are NA, as in ``lm.fit``), solved for all its genes
    at once.
    """
    genes = y.shape[0]
    p = x.shape[1]
    finite = np.isfinite(y)
    coef = np.full((genes, p), np.nan)
    stdev = np.full((genes, p), np.nan)
    sigma = np.full(genes, np.nan)
    df = np.zeros(genes)
    for obs, rows in missing_patterns(finite):
        if not obs.any():
            continue
        xo = x[obs]
        keep = independent_columns(xo)
        q, r = np.linalg.qr(xo[:, keep])
        rinv = np.linalg.inv(r)
        yo = y[np.ix_(rows, np.flatnonzero(obs))]
        effects = yo @ q
        coef[np.ix_(rows, keep)] = effects @ rinv.T
        stdev[np.ix_(rows, keep)] = np.sqrt(np.diag(rinv @ rinv.T))
        d = int(obs.sum()) - len(keep)
        df[rows] = d
        if d > 0:
            res = yo - effects @ q.T
            sigma[rows] = np.sqrt(np.einsum("ij,ij->i", res, res) / d)
    cov_full = np.linalg.inv(x.T @ x)
    c_coef, c_sd, c_cov = contrasts_fit_r(coef, stdev, cov_full, cm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing rows
        amean = np.nanmean(y, axis=1)
    return pylimma.MArrayLM(
        coefficients=c_coef,
        stdev_unscaled=c_sd,
        sigma=sigma,
        df_residual=df,
        cov_coefficients=c_cov,
        Amean=amean,
        rank=p,
        design=x,
        contrasts=cm,
    )
