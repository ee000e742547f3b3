"""Fit, moderate and test: limma's ``lmFit`` -> ``contrasts.fit`` -> ``eBayes``/``treat``.

Which code does the work (see docs/diffexp.md for the reasons):

* complete data, no block, with or without array weights (given
  ``weights``, estimated ``array_weights`` or both): :mod:`sigrestore.diffexp.fast`
  (one QR for all genes, weighted when there are weights; own eBayes unless
  ``trend``/``robust``); the weights themselves are estimated by pylimma's
  ``array_weights``;
* missing values without weights/block: the pattern-grouped fit of
  :mod:`~sigrestore.diffexp.fast`, then pylimma's ``e_bayes``;
* a block, or weights with missing values: pylimma 0.2.0 (``lm_fit`` with
  weights / GLS);
* ``trend``/``robust`` moderation and TREAT: pylimma, always with
  ``legacy=True`` (limma 3.54's estimator), its trend fit patched by
  :mod:`~sigrestore.diffexp._pylimma_fixes`;
* the intra-block correlation: :mod:`sigrestore.diffexp.dupcor`.

Result tables are assembled here (vectorized Benjamini-Hochberg), with the
column names of limma's ``topTable``/``topTreat``.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pylimma

from sigrestore.diffexp import _pylimma_fixes  # noqa: F401 - patches pylimma's trend fit
from sigrestore.diffexp.contrasts import estimable, make_contrasts
from sigrestore.diffexp.design import Covariate, Design, build_design
from sigrestore.diffexp.dupcor import duplicate_correlation
from sigrestore.diffexp.fast import (
    ebayes_fast,
    independent_columns,
    lm_contrasts_fast,
    lm_contrasts_missing,
    moderated_f,
)
from sigrestore.diffexp.obsweights import check_observation_weights, lm_contrasts_obs_weights
from sigrestore.errors import ConfigError, DesignError

__all__ = ["DEFit", "bh_adjust", "differential_expression", "fit_contrasts"]


def bh_adjust(p: np.ndarray) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values, as R's ``p.adjust(p, "BH")``.

    Missing p-values stay missing and do not count in the number of tests.
    """
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(p))
    n = ok.size
    if n == 0:
        return out
    order = ok[np.argsort(-p[ok], kind="stable")]  # decreasing p
    ranks = np.arange(n, 0, -1, dtype=float)
    adj = np.minimum.accumulate(p[order] * n / ranks)
    out[order] = np.minimum(adj, 1.0)
    return out


def _reparametrize(x: np.ndarray, cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop aliased design columns and re-express estimable contrasts on the rest.

    For an estimable ``c`` there is ``a`` with ``c' = a' X``; with ``X = X_r M``
    the same linear function is ``a' X_r`` on the reduced coefficients, and
    ``a = pinv(X)' c``.
    """
    keep = independent_columns(x)
    if len(keep) == x.shape[1]:
        return x, cm
    xr = x[:, keep]
    return xr, xr.T @ np.linalg.pinv(x).T @ cm


@dataclass
class DEFit:
    """A fitted, moderated set of contrasts; tables are made on demand.

    Attributes
    ----------
    features
        Feature ids (``expr.index``).
    contrast_names
        Names of the contrasts, in order.
    trend, robust
        The eBayes options used (also used by :meth:`table` with ``treat=True``).
    correlation
        The intra-block correlation used (``None`` without a block).
    weights
        Array weights used: estimated (``array_weights=True``), given
        (``weights=``) or their product; ``None`` without either.
    """

    features: pd.Index
    contrast_names: list[str]
    trend: bool
    robust: bool
    correlation: float | None
    weights: np.ndarray | None
    _cfit: pylimma.MArrayLM = field(repr=False)
    _eb: pylimma.MArrayLM = field(repr=False)
    _treat_cache: dict = field(default_factory=dict, repr=False)

    @property
    def df_prior(self) -> float | np.ndarray:
        """Prior degrees of freedom (per gene with ``robust=True``)."""
        return _scalar_or_array(self._eb["df_prior"])

    @property
    def s2_prior(self) -> float | np.ndarray:
        """Prior variance (per gene with ``trend=True``)."""
        return _scalar_or_array(self._eb["s2_prior"])

    @property
    def coefficients(self) -> pd.DataFrame:
        """log2 fold changes, features x contrasts."""
        return pd.DataFrame(
            self._eb["coefficients"], index=self.features, columns=self.contrast_names
        )

    def _column(self, contrast: str | int) -> int:
        if isinstance(contrast, int | np.integer) and not isinstance(contrast, bool):
            if 0 <= contrast < len(self.contrast_names):
                return int(contrast)
        elif contrast in self.contrast_names:
            return self.contrast_names.index(contrast)
        raise DesignError(f"unknown contrast {contrast!r}; contrasts are {self.contrast_names}")

    def _treat_fit(self, lfc: float) -> pylimma.MArrayLM:
        if lfc not in self._treat_cache:
            self._treat_cache[lfc] = pylimma.treat(
                self._cfit, lfc=lfc, trend=self.trend, robust=self.robust, legacy=True
            )
        return self._treat_cache[lfc]

    def table(self, contrast: str | int, *, lfc: float = 0.0, treat: bool = False) -> pd.DataFrame:
        """Results for one contrast, in feature order (``topTable(sort.by="none")``).

        Parameters
        ----------
        contrast
            Contrast name (or position).
        lfc
            With ``treat=False``: keep only features with ``|logFC| >= lfc``
            after adjusting over all features, as ``topTable(lfc=)``.  With
            ``treat=True``: the fold-change threshold tested by limma's TREAT.
        treat
            Test ``|logFC| > lfc`` (``treat`` + ``topTreat``; no ``B`` column).

        Returns
        -------
        pandas.DataFrame
            Index: feature ids; columns ``logFC, AveExpr, t, P.Value, adj.P.Val``
            and ``B`` (not for treat).
        """
        j = self._column(contrast)
        if lfc < 0 or not np.isfinite(lfc):
            raise DesignError(f"lfc must be a non-negative number, got {lfc!r}")
        fit = self._treat_fit(float(lfc)) if treat else self._eb
        p = fit["p_value"][:, j]
        logfc = fit["coefficients"][:, j]
        cols = {
            "logFC": logfc,
            "AveExpr": fit["Amean"],
            # treat gives t = 0 for a missing (non-estimable) logFC; keep it missing
            "t": np.where(np.isnan(logfc), np.nan, fit["t"][:, j]),
            "P.Value": p,
            "adj.P.Val": bh_adjust(p),
        }
        if not treat:
            cols["B"] = fit["lods"][:, j]
        out = pd.DataFrame(cols, index=self.features)
        if lfc > 0 and not treat:
            out = out[np.abs(out["logFC"].to_numpy()) >= lfc]
        return out

    def f_table(self) -> pd.DataFrame:
        """Moderated F test of all contrasts together (``topTable(coef=NULL)``).

        Columns: one logFC column per contrast (named after it), then
        ``AveExpr, F, P.Value, adj.P.Val``.
        """
        out = pd.DataFrame(
            self._eb["coefficients"], index=self.features, columns=self.contrast_names
        )
        out["AveExpr"] = self._eb["Amean"]
        out["F"], out["P.Value"] = moderated_f(self._eb)
        out["adj.P.Val"] = bh_adjust(out["P.Value"].to_numpy())
        return out


def _scalar_or_array(value) -> float | np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=float))
    return float(arr[0]) if arr.size == 1 else arr


def _as_matrix(expr: pd.DataFrame) -> np.ndarray:
    y = expr.to_numpy(dtype=float)
    if y.ndim != 2 or y.shape[0] == 0:
        raise DesignError("the expression matrix is empty")
    if np.isinf(y).any():
        raise DesignError("the expression matrix holds infinite values (log of zero?)")
    return y


def fit_contrasts(
    expr: pd.DataFrame,
    design: Design,
    contrasts: pd.DataFrame,
    *,
    trend: bool = False,
    robust: bool = False,
    block: Sequence | np.ndarray | None = None,
    correlation: float | None = None,
    array_weights: bool = False,
    weights: Sequence[float] | np.ndarray | None = None,
) -> DEFit:
    """Per-gene linear model, contrasts and empirical-Bayes moderation.

    Parameters
    ----------
    expr
        Features x arrays (log2), columns in the order of ``design.matrix`` rows.
    design
        From :func:`~sigrestore.diffexp.build_design`.
    contrasts
        From :func:`~sigrestore.diffexp.make_contrasts` (coefficients x contrasts).
    trend, robust
        ``eBayes`` options: intensity-dependent prior variance; robust
        hyperparameters (outlier genes get a smaller prior df).
    block
        Blocking label per array (e.g. patient or replicate pair): the arrays
        of a block are correlated, and the fit is generalized least squares.
    correlation
        Intra-block correlation; estimated as limma's ``duplicateCorrelation``
        when ``block`` is given and this is ``None``.
    array_weights
        Estimate array quality weights (limma's ``arrayWeights``, REML) and fit
        with them.
    weights
        Given precision weights, one positive number per array (the same for
        every gene), as limma's ``lmFit(weights = w)`` with a vector of length
        ``ncol``: weighted least squares, ``s2 = sum(w r^2) / (n - p)`` with
        ``n`` the number of arrays.  An array with integer weight ``m`` gives the
        coefficients of ``m`` copies of it, but counts once in the residual
        degrees of freedom.  With ``array_weights`` too, the array weights are
        estimated with these as prior weights and the fit uses the product
        (``lmFit(weights = arrayWeights(x, design, weights = W) * w)``).
        A genes x arrays matrix gives observation-level weights (limma-voom's
        ``lmFit(v)``): every gene its own weighted least squares (see
        :mod:`sigrestore.diffexp.obsweights`).

    Returns
    -------
    DEFit

    Raises
    ------
    DesignError
        Shapes disagree, too few residual degrees of freedom, a contrast is
        not estimable, or the weights are not one positive number per array.
    """
    y = _as_matrix(expr)
    x = design.matrix.to_numpy(dtype=float)
    if y.shape[1] != x.shape[0]:
        raise DesignError(
            f"the expression matrix has {y.shape[1]} arrays but the design has {x.shape[0]} rows"
        )
    cm = contrasts.reindex(index=design.matrix.columns)
    if cm.isna().any().any():
        raise DesignError(
            "the contrast matrix rows do not match the design coefficients "
            f"{list(design.matrix.columns)}"
        )
    cmat = cm.to_numpy(dtype=float)
    ok = estimable(x, cmat)
    if not ok.all():
        bad = [c for c, good in zip(cm.columns, ok, strict=True) if not good]
        raise DesignError(f"contrast(s) {bad} cannot be estimated with this design")
    x, cmat = _reparametrize(x, cmat)
    if x.shape[0] - x.shape[1] < 1:
        raise DesignError(
            f"{x.shape[0]} arrays for {x.shape[1]} estimable coefficients leave no residual "
            "degree of freedom: replicates are needed to estimate variances"
        )

    if weights is not None and np.shape(weights) == y.shape and y.shape[0] > 1:
        # observation-level weights (voom): one weight per gene and array
        return _fit_observation_weights(
            expr,
            y,
            x,
            cm,
            cmat,
            weights,
            trend=trend,
            robust=robust,
            block=block,
            correlation=correlation,
            array_weights=array_weights,
        )
    given = None if weights is None else _array_weight_vector(weights, x.shape[0])
    weights = given
    if array_weights:
        # With given weights: estimated with them as prior weights, then the
        # product is used (limma's idiom, as voomWithQualityWeights does).
        prior = None if given is None else np.broadcast_to(given, y.shape).copy()
        weights = np.asarray(pylimma.array_weights(y, x, weights=prior), dtype=float)
        if given is not None:
            weights = weights * given
    block, correlation = _block_correlation(y, x, block, correlation, weights)
    complete = not np.isnan(y).any()
    eb = None
    if block is None and (complete or weights is None):
        # One design for all genes (complete data; array weights, given,
        # estimated or their product, are one vector for every gene) or one
        # per missing-value pattern: the vectorized paths.
        if complete:
            cfit = lm_contrasts_fast(y, x, cmat, weights=weights)
            if not (trend or robust):
                eb = ebayes_fast(cfit)
        else:
            cfit = lm_contrasts_missing(y, x, cmat)
    else:
        kwargs: dict = {} if weights is None else {"weights": weights}
        if block is not None:
            kwargs.update(block=block, correlation=float(correlation))
        with warnings.catch_warnings():
            # pylimma warns about genes without residual df, as limma does; the
            # NaN statistics in the table carry that information.
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = pylimma.lm_fit(y, x, **kwargs)
            cfit = pylimma.contrasts_fit(fit, cmat)
    if eb is None:
        eb = _e_bayes(cfit, trend=trend, robust=robust)
    return _de_fit(expr, cm, cfit, eb, trend, robust, correlation, weights)


def _block_correlation(y, x, block, correlation, weights):
    """``block`` as an array of one label per array and the intra-block
    correlation (given, or :func:`duplicate_correlation`'s with ``weights``);
    ``(None, None)`` without a block.  DesignError for a block of the wrong
    length, a correlation outside (-1, 1) or one given without a block."""
    if block is None:
        if correlation is not None:
            raise DesignError("an intra-block correlation was given without a block")
        return None, None
    block = np.asarray(block)
    if block.shape != (x.shape[0],):
        raise DesignError(f"block has {block.size} labels for {x.shape[0]} arrays")
    if correlation is None:
        correlation, _ = duplicate_correlation(y, x, block, weights=weights)
    if not -1 < correlation < 1:
        raise DesignError(f"intra-block correlation {correlation!r} is not in (-1, 1)")
    return block, correlation


def _e_bayes(cfit, *, trend: bool, robust: bool):
    """pylimma's eBayes without its warnings about genes lacking residual df."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # legacy=True: limma 3.54's hyperparameter estimation, also when
        # genes have unequal residual df (missing values).
        return pylimma.e_bayes(cfit, trend=trend, robust=robust, legacy=True)


def _de_fit(expr, cm, cfit, eb, trend, robust, correlation, weights) -> DEFit:
    """The :class:`DEFit` of a contrast fit and its eBayes statistics."""
    return DEFit(
        features=expr.index,
        contrast_names=[str(c) for c in cm.columns],
        trend=bool(trend),
        robust=bool(robust),
        correlation=None if correlation is None else float(correlation),
        weights=weights,
        _cfit=cfit,
        _eb=eb,
    )


def _fit_observation_weights(
    expr, y, x, cm, cmat, weights, *, trend, robust, block, correlation, array_weights
) -> DEFit:
    """:func:`fit_contrasts` with a genes x arrays weight matrix (limma-voom).

    Without a block: the vectorized gene-wise weighted fit of
    :mod:`sigrestore.diffexp.obsweights`; with a block: pylimma's GLS with the
    weight matrix, the correlation from :func:`duplicate_correlation` with the
    same weights.  ``array_weights``: limma's ``arrayWeights`` with the matrix
    as prior weights, then their product (voomWithQualityWeights' last step).
    eBayes is pylimma's (``legacy=True``), as genes have their own standard
    errors.
    """
    if np.isnan(y).any():
        raise DesignError("observation weights need a complete expression matrix")
    w = check_observation_weights(weights, y.shape)
    aw = None
    if array_weights:
        aw = np.asarray(pylimma.array_weights(y, x, weights=w), dtype=float)
        w = w * aw[None, :]
    block, correlation = _block_correlation(y, x, block, correlation, w)
    if block is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            fit = pylimma.lm_fit(y, x, weights=w, block=block, correlation=float(correlation))
            cfit = pylimma.contrasts_fit(fit, cmat)
    else:
        cfit = lm_contrasts_obs_weights(y, x, cmat, w)
    eb = _e_bayes(cfit, trend=trend, robust=robust)
    return _de_fit(expr, cm, cfit, eb, trend, robust, correlation, aw)


def _array_weight_vector(weights, n: int) -> np.ndarray:
    """``weights`` as a float vector of ``n`` positive finite numbers (DesignError otherwise)."""
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise DesignError(f"weights must be numbers, got {weights!r}") from None
    if w.ndim != 1 or w.size != n:
        raise DesignError(
            f"weights must be a vector of one weight per array ({n}), got shape {w.shape}"
        )
    # limma turns weights <= 0 into missing values (the array drops out of the
    # fit); here an array to ignore is left out of the matrix instead.
    bad = np.flatnonzero(~(np.isfinite(w) & (w > 0)))
    if bad.size:
        raise DesignError(
            f"weights must be positive and finite; array {int(bad[0])} has {w[bad[0]]!r}"
        )
    return w


def _aligned_samples(expr: pd.DataFrame, samples: pd.DataFrame, sample_column: str):
    """Sample sheet rows in the order of ``expr``'s columns.

    * The columns are the sheet's sample ids in the same order: the sheet as is
      (this covers both bootstrap modes: distinct arrays with weights, and
      copies renamed ``<sample>@<position>`` in the matrix and the sheet alike).
    * Unique columns that are the sheet's unique ids in another order: the
      sheet is reordered by name.
    * Repeated columns (arrays resampled with replacement, not renamed): the
      i-th column is the i-th sheet row; names cannot say which row is which.
    * Anything else (a renamed or foreign column, an id repeated in the sheet
      while the columns are unique) is an error: matching by position would
      silently give wrong results.
    """
    if expr.shape[1] != len(samples):
        raise DesignError(
            f"the expression matrix has {expr.shape[1]} arrays but the sample sheet has "
            f"{len(samples)} rows"
        )
    if sample_column not in samples.columns:
        raise ConfigError(f"sample sheet has no column {sample_column!r}")
    ids = samples[sample_column].astype(str).to_numpy()
    cols = expr.columns.astype(str).to_numpy()
    if (ids == cols).all():
        return samples
    if not pd.Index(cols).is_unique:
        return samples
    if pd.Index(ids).is_unique and set(ids) == set(cols):
        return samples.iloc[pd.Index(ids).get_indexer(cols)]
    differ = sorted(set(cols) ^ set(ids))[:5]
    repeated = sorted(pd.Index(ids)[pd.Index(ids).duplicated()].unique())[:5]
    also = f"; the sheet repeats sample id(s) {repeated}" if repeated else ""
    raise DesignError(
        f"the expression columns are not the sample sheet's {sample_column!r} ids "
        f"(in only one of them: {differ}{also}); rename the expression columns (or fix the "
        "sheet) so that every column is exactly the id of one sample-sheet row"
    )


def differential_expression(
    expr: pd.DataFrame,
    samples: pd.DataFrame,
    *,
    factors: list[str],
    contrasts: Mapping[str, str],
    covariates: Sequence[str | Mapping[str, object] | Covariate] = (),
    block: str | None = None,
    trend: bool = False,
    robust: bool = False,
    treat_lfc: float = 0.0,
    array_weights: bool = False,
    weights: Sequence[float] | np.ndarray | pd.Series | pd.DataFrame | None = None,
    sample_column: str = "sample",
) -> dict[str, pd.DataFrame]:
    """One limma results table per contrast, from an expression matrix and sample sheet.

    Parameters
    ----------
    expr
        Features x arrays (log2).  Columns are matched to the sheet's
        ``sample_column`` by name (the sheet is reordered when they are its ids
        in another order).  Only repeated columns (arrays resampled with
        replacement) are matched by position, so the sheet rows must then be
        resampled the same way.  Other mismatches raise DesignError.
    samples
        Sample sheet.
    factors, covariates, sample_column
        See :func:`~sigrestore.diffexp.build_design`.
    contrasts
        Contrast name -> expression over group names.
    block
        Sample-sheet column of a blocking factor (intra-block correlation
        estimated with ``duplicateCorrelation``).
    trend, robust
        eBayes options.
    treat_lfc
        When > 0, tables test ``|logFC| > treat_lfc`` (TREAT) instead of ``!= 0``.
    array_weights
        Fit with estimated array quality weights.
    weights
        Given precision weight of every array (see :func:`fit_contrasts`), in
        the order of ``expr``'s columns, or a Series indexed by them.  The
        restoration bootstrap passes an array drawn ``m`` times once, with
        weight ``m``.  A genes x arrays matrix or DataFrame (indexed like
        ``expr``) gives observation-level weights (limma-voom).

    Returns
    -------
    dict
        Contrast name -> table (see :meth:`DEFit.table`).
    """
    if not (np.isfinite(treat_lfc) and treat_lfc >= 0):
        raise ConfigError(f"treat_lfc must be a non-negative number, got {treat_lfc!r}")
    sheet = _aligned_samples(expr, samples, sample_column)
    design = build_design(
        sheet, factors=factors, covariates=covariates, sample_column=sample_column
    )
    cm = make_contrasts(contrasts, design)
    block_values = None
    if block is not None:
        if block not in sheet.columns:
            raise ConfigError(f"sample sheet has no column {block!r} (named as the block)")
        block_values = sheet[block].astype(str).to_numpy()
    if isinstance(weights, pd.DataFrame):
        # observation weights (voom), aligned to the expression by labels
        if not (weights.index.equals(expr.index) and set(expr.columns) <= set(weights.columns)):
            raise DesignError("a weights DataFrame must have the expression's rows and columns")
        weights = weights.loc[:, expr.columns].to_numpy(dtype=float)
    elif isinstance(weights, pd.Series):
        if not (weights.index.is_unique and expr.columns.is_unique) or not set(expr.columns) <= set(
            weights.index
        ):
            raise DesignError("a weights Series must have one entry per (unique) expression column")
        weights = weights.reindex(expr.columns).to_numpy(dtype=float)
    fit = fit_contrasts(
        expr,
        design,
        cm,
        trend=trend,
        robust=robust,
        block=block_values,
        array_weights=array_weights,
        weights=weights,
    )
    treat = treat_lfc > 0
    return {
        name: fit.table(name, lfc=treat_lfc if treat else 0.0, treat=treat)
        for name in fit.contrast_names
    }
