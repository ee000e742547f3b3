"""The power-corrected restored fraction and its feature-bootstrap interval.

Estimand: among the features of the signature S that truly change under the
reference contrast in their direction d, the share that the restoration
contrast truly moves in direction d.  The count-based ``restored_fraction``
(features *called* restored over |S|) estimates this share times the power of
the restoration calls; the corrected fraction removes the power by counting
how many p-values of S are *not* null rather than how many pass a threshold,
and removes the false positives that S contains at its FDR.

Estimator (see docs/restoration.md for the measurements that chose it)::

    pi0_S      = the null share of the two-sided restoration p-values over S
                 (limma's propTrueNull "lfdr" by default; qvalue's pi0est
                 smoother or bootstrap on request)
    share_d    = share of S's non-null features moved in direction d, from the
                 excess over the null of small p-values (p < 1/2) with
                 sign(t) = d and with sign(t) = -d
    pi1_d      = (1 - pi0_S) * share_d
    power      = (power_correction "share_model", the default) pi1_d is
                 replaced by its power-corrected value: weakly moved features
                 leak into lfdr's pi0 by 2 E[p]; a model of the restored share
                 of each feature's reference effect divides that leak out
                 (sigrestore.restoration.power)
    fdp_S      = estimated false share of S (reference contrast: the same pi0
                 of all reference p-values times the null probability of
                 every feature to enter S, summed, over |S|)
    corrected  = pi1_d / (1 - fdp_S), clipped to [0, 1]

The two-sided p-values keep the reversed features (which one-sided p-values
put near 1, where Storey's estimator counts them as null with weight
``1/(1 - lambda)``) out of pi0; the direction share then splits the non-null
part.  The interval resamples the features of S with replacement and
recomputes ``pi0_S``, ``share_d`` and the power correction on every resample
(vectorized), a percentile interval at the comparison's ``confidence``.
Without the power correction its upper bound is widened to the same
percentile of qvalue's bootstrap-lambda estimator on the same resamples when
that is larger (pi0 estimators are conservative for weak restored effects;
the calibration benchmark decided this).  ``fdp_S`` is kept fixed (it is
small and estimated from all features).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from sigrestore.restoration.calls import LOST
from sigrestore.restoration.pi0 import pi0_storey
from sigrestore.restoration.power import power_corrected_pi1, power_tables
from sigrestore.restoration.spec import ComparisonSpec, CorrectedSettings, SignatureThresholds
from sigrestore.restoration.statistics import percentile_interval

log = logging.getLogger(__name__)

#: Below this share of p-values is the "small p" region of the direction split.
SPLIT_LAMBDA = 0.5
#: The interval's upper bound is the larger of the configured estimator's and
#: this (less conservative) estimator's upper percentile.
UPPER_PI0_METHOD = "bootstrap"


@dataclass(frozen=True)
class CorrectedEstimate:
    """One corrected fraction.

    Attributes
    ----------
    estimate, low, high : float
        The corrected fraction and its interval (NaN when not estimable).
    n : int
        Features it is computed over.
    pi1 : float
        Share of those features moved in direction d (before the FDP division).
    reason : str
        Why the estimate is NaN ("" when it is not).
    """

    estimate: float
    low: float
    high: float
    n: int
    pi1: float
    reason: str = ""


def one_sided_p(p_two: np.ndarray, t: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """One-sided p-values in ``direction`` from two-sided ones and the sign of ``t``.

    The moderated t is symmetric, so ``P(T >= d t)`` is ``p/2`` when ``t``
    points in ``d`` and ``1 - p/2`` otherwise (``t = 0``: 1/2).
    """
    p_two = np.asarray(p_two, dtype=float)
    s = np.sign(np.asarray(t, dtype=float)) * np.sign(np.asarray(direction, dtype=float))
    return np.where(s > 0, p_two / 2.0, np.where(s < 0, 1.0 - p_two / 2.0, 0.5))


def implied_df(t: np.ndarray, p_two: np.ndarray) -> float:
    """The t distribution's degrees of freedom behind two-sided ``p_two`` = ``2 P(T > |t|)``.

    limma's tables carry no ``df.total``; for the ordinary (non-robust) fit it
    is one number, recovered here from the features with the most informative
    pairs (median over those with ``1e-8 < p < 0.5``).  ``inf`` when none.
    """
    t = np.abs(np.asarray(t, dtype=float))
    p = np.asarray(p_two, dtype=float)
    ok = np.isfinite(t) & np.isfinite(p) & (p > 1e-8) & (p < 0.5) & (t > 0)
    if not ok.any():
        return float("inf")
    with np.errstate(all="ignore"):
        df = special.stdtridf(p[ok] / 2.0, -t[ok])
    df = df[np.isfinite(df) & (df > 0)]
    return float(np.median(df)) if df.size else float("inf")


def signature_false_share(
    reference: pd.DataFrame,
    signature: SignatureThresholds,
    size: int,
    *,
    pi0_method: str = "smoother",
) -> float:
    """Estimated share of S that is truly unchanged in the reference contrast.

    ``pi0_ref * sum_i P_null(feature i enters S) / |S|``: Storey's pi0 of all
    reference p-values, times the probability that a null feature with the
    standard error of feature i passes S's thresholds.  S's p-value cut-off
    ``p*`` is the largest p-value of the features with ``adj.P.Val < fdr``
    (the BH set; for method "top" the largest p-value in S); with an
    ``lfc`` threshold (method "threshold") a null feature also needs
    ``|t| >= lfc / SE_i``, so its probability is
    ``min(p*, 2 P(T > lfc / SE_i))`` (``SE_i = |logFC_i / t_i|``).  Without
    an lfc threshold this is Storey's ``pi0 m p* / |S|``.  Capped at 1; 0 for
    an empty S.
    """
    if size <= 0:
        return 0.0
    p = reference["P.Value"].to_numpy(dtype=float)
    t = reference["t"].to_numpy(dtype=float)
    logfc = reference["logFC"].to_numpy(dtype=float)
    ok = np.isfinite(p) & np.isfinite(t) & np.isfinite(logfc)
    p, t, logfc = p[ok], t[ok], logfc[ok]
    if p.size == 0:
        return 0.0
    if signature.method == "top":
        cut = float(np.sort(p)[min(size, p.size) - 1])
    else:
        adj = reference["adj.P.Val"].to_numpy(dtype=float)[ok]
        passed = p[adj < signature.fdr]
        cut = float(passed.max()) if passed.size else 0.0
    q = np.full(p.size, cut)
    if signature.method == "threshold" and signature.lfc > 0:
        df = implied_df(t, p)
        with np.errstate(divide="ignore", invalid="ignore"):
            se = np.abs(logfc / t)
            bound = signature.lfc / se
            tail = 2.0 * (special.stdtr(df, -bound) if np.isfinite(df) else special.ndtr(-bound))
        q = np.minimum(q, np.where(np.isfinite(tail), tail, cut))
    pi0_ref = pi0_storey(p, method=pi0_method)
    return float(min(1.0, pi0_ref * q.sum() / size))


def directional_pi1(p_two: np.ndarray, agree: np.ndarray, *, pi0_method: str) -> np.ndarray:
    """Share of features truly moved in direction d, per row of ``p_two``.

    ``agree`` is ``sign(t) * d`` (+1: the contrast moves the feature in d).
    ``(1 - pi0) * E+ / (E+ + E-)`` with ``pi0`` Storey's estimate from the
    two-sided p-values and ``E±`` the excess, over the null expectation
    ``pi0 * lambda / 2``, of the share of features with ``p < lambda``
    (``lambda`` = :data:`SPLIT_LAMBDA`) and ``agree = ±1``.
    """
    return _pi0_and_pi1(p_two, agree, pi0_method=pi0_method)[1]


def _pi0_and_pi1(
    p_two: np.ndarray, agree: np.ndarray, *, pi0_method: str
) -> tuple[np.ndarray, np.ndarray]:
    """``pi0`` and :func:`directional_pi1` per row (one pi0 estimate for both)."""
    p_two = np.atleast_2d(p_two)
    agree = np.atleast_2d(agree)
    n = p_two.shape[-1]
    pi0 = np.atleast_1d(pi0_storey(p_two, method=pi0_method))
    small = p_two < SPLIT_LAMBDA
    null_part = pi0 * SPLIT_LAMBDA / 2.0
    e_plus = np.maximum((small & (agree > 0)).sum(axis=-1) / n - null_part, 0.0)
    e_minus = np.maximum((small & (agree < 0)).sum(axis=-1) / n - null_part, 0.0)
    total = e_plus + e_minus
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, e_plus / total, 0.0)
    return pi0, (1.0 - pi0) * share


@dataclass(frozen=True)
class _PowerInputs:
    """Per-feature inputs of the power correction (:mod:`sigrestore.restoration.power`)."""

    w: np.ndarray  # (n, shares) power W of every feature at every share
    q: np.ndarray  # (n, shares) direction moment Q
    moved: np.ndarray  # (n,) d_i y_i: restoration logFC along d
    effect: np.ndarray  # (n,) |beta_i|: reference effect
    half: np.ndarray  # (n,) sign(t_i) d_i 1{p_i < 1/2}

    def pi1(self, counts: np.ndarray | None, pi0: np.ndarray, start: np.ndarray) -> np.ndarray:
        """Power-corrected pi1 for the features weighted by ``counts`` (rows; None: all once)."""
        if counts is None:
            counts = np.ones((1, self.moved.size))
        n = counts.sum(axis=1)
        w_bar = counts @ self.w / n[:, None]
        q_bar = counts @ self.q / n[:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = (counts @ self.moved) / (counts @ self.effect)
        moment = counts @ self.half / n
        return power_corrected_pi1(1.0 - pi0, moment, ratio, w_bar, q_bar, start)


def restoration_df(restoration: pd.DataFrame) -> float:
    """Degrees of freedom of the restoration contrast's t statistics (:func:`implied_df`)."""
    return implied_df(
        restoration["t"].to_numpy(dtype=float), restoration["P.Value"].to_numpy(dtype=float)
    )


def _power_inputs(
    restoration: pd.DataFrame,
    reference: pd.DataFrame,
    ids: pd.Index,
    d: np.ndarray,
    df: float | None = None,
) -> _PowerInputs:
    """The power model's tables for the features ``ids`` (direction ``d``).

    ``df``: the restoration contrast's df (None: :func:`restoration_df`).
    """
    res = restoration.reindex(ids)
    t = res["t"].to_numpy(dtype=float)
    p = res["P.Value"].to_numpy(dtype=float)
    y = res["logFC"].to_numpy(dtype=float)
    beta = np.abs(reference["logFC"].reindex(ids).to_numpy(dtype=float))
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.abs(y / t)
    if df is None:
        # One df for the contrast, from all its features (limma's df.total).
        df = restoration_df(restoration)
    w, q = power_tables(beta, se, df)
    half = np.sign(t) * d * (p < SPLIT_LAMBDA)
    return _PowerInputs(w=w, q=q, moved=d * y, effect=beta, half=half)


def corrected_fraction(
    restoration: pd.DataFrame,
    direction: pd.Series,
    *,
    false_share: float,
    settings: CorrectedSettings,
    confidence: float = 0.95,
    scale: float = 1.0,
    label: str = "",
    reference: pd.DataFrame | None = None,
    df: float | None = None,
) -> CorrectedEstimate:
    """The corrected fraction over the features of ``direction`` (a subset of S).

    Parameters
    ----------
    restoration : DataFrame
        The restoration contrast's table (``t``, ``P.Value``), indexed by feature id.
    direction : Series
        +1/-1 direction d of every feature the fraction is computed over.
    false_share : float
        Estimated false share of S (:func:`signature_false_share`).
    settings : CorrectedSettings
        pi0 method, feature-bootstrap resamples and seed, minimum size.
    confidence : float
        Level of the percentile interval.
    scale : float
        Multiplies estimate and bounds (the beyond-modulator fraction is
        expressed over all of S: ``|S'| / |S|``).
    label : str
        Names the fraction in the warning logged when it is not estimable.
    reference : DataFrame, optional
        The reference contrast's table (``logFC``); needed by
        ``settings.power_correction = "share_model"`` (the reference effects
        of the power model, :mod:`sigrestore.restoration.power`).
    df : float, optional
        The restoration contrast's degrees of freedom for the power model
        (None: :func:`restoration_df` of ``restoration``; callers computing
        several fractions of one contrast pass it once).

    Returns
    -------
    CorrectedEstimate
    """
    table = restoration.reindex(direction.index)
    p = table["P.Value"].to_numpy(dtype=float)
    t = table["t"].to_numpy(dtype=float)
    d = direction.to_numpy(dtype=float)
    keep = np.isfinite(p) & np.isfinite(t)
    if settings.power_correction == "share_model" and reference is not None:
        # The power model also needs both logFCs and a standard error.
        y = table["logFC"].to_numpy(dtype=float)
        beta = reference["logFC"].reindex(direction.index).to_numpy(dtype=float)
        keep &= np.isfinite(y) & np.isfinite(beta) & (t != 0)
    n = int(keep.sum())
    nan = float("nan")
    true_features = (1.0 - false_share) * n
    reason = ""
    if n < settings.min_features:
        reason = (
            f"{n} feature(s) with a restoration p-value (fewer than corrected.min_features"
            f" = {settings.min_features})"
        )
    elif true_features < settings.min_features:
        # Dividing by a true share near 0 would turn any small pi1 into 1.
        reason = (
            f"about {true_features:.1f} of its {n} features are estimated to be true"
            f" reference changes (false share {false_share:.2f}; fewer than"
            f" corrected.min_features = {settings.min_features})"
        )
    if reason:
        if label:
            log.warning("%s: corrected fraction is NA: %s", label, reason)
        return CorrectedEstimate(nan, nan, nan, n, nan, reason)
    p, agree = p[keep], (np.sign(t) * d)[keep]
    divisor = 1.0 - false_share
    power = None
    if settings.power_correction == "share_model":
        if reference is None:
            raise ValueError("power_correction 'share_model' needs the reference table")
        if settings.pi0_method != "lfdr":
            # The model divides out lfdr's leak; other pi0 estimators leak differently.
            raise ValueError("power_correction 'share_model' needs pi0_method 'lfdr'")
        power = _power_inputs(restoration, reference, direction.index[keep], d[keep], df)
    pi0, pi1_rows = _pi0_and_pi1(p, agree, pi0_method=settings.pi0_method)
    if power is not None:
        pi1_rows = power.pi1(None, pi0, pi1_rows)
    pi1 = float(pi1_rows[0])
    estimate = min(max(pi1 / divisor, 0.0), 1.0) * scale
    low = high = nan
    if settings.resamples > 0:
        rng = np.random.default_rng(settings.seed)
        rows, upper_rows = [], []
        # Chunks bound the memory of the (resamples x n) index matrix.
        chunk = max(1, 2_000_000 // n)
        for start in range(0, settings.resamples, chunk):
            k = min(chunk, settings.resamples - start)
            idx = rng.integers(0, n, size=(k, n))
            # Gather the resampled (k x n) matrices once for both pi0 methods.
            p_boot, agree_boot = p[idx], agree[idx]
            pi0_boot, pi1_boot = _pi0_and_pi1(p_boot, agree_boot, pi0_method=settings.pi0_method)
            if power is not None:
                # How often each feature is drawn: the power model's means
                # are weighted means over the features.
                counts = np.bincount(
                    (idx + n * np.arange(k)[:, None]).ravel(), minlength=k * n
                ).reshape(k, n)
                pi1_boot = power.pi1(counts.astype(float), pi0_boot, pi1_boot)
            rows.append(pi1_boot)
            if power is None and settings.pi0_method != UPPER_PI0_METHOD:
                upper_rows.append(directional_pi1(p_boot, agree_boot, pi0_method=UPPER_PI0_METHOD))
        boot = np.clip(np.concatenate(rows) / divisor, 0.0, 1.0) * scale
        low, high = percentile_interval(boot, confidence=confidence)
        if upper_rows:
            # pi0 estimates are conservative when restored effects are weak;
            # the upper bound also allows for the less conservative choice
            # (calibration in docs/restoration.md).
            upper = np.clip(np.concatenate(upper_rows) / divisor, 0.0, 1.0) * scale
            high = max(high, percentile_interval(upper, confidence=confidence)[1])
    return CorrectedEstimate(estimate, low, high, n, pi1)


def lost_false_share(false_share: float, size: int, n_lost: int) -> float:
    """Estimated false share of the lost part of S.

    S's false members do not move in the reference, so the resistance
    contrast almost never calls them in d: nearly all of them are lost. Taking
    all of them as lost, their share of the lost part is
    ``false_share * |S| / |lost|`` (capped at 1), not S's own ``false_share``,
    which would understate the divisor of the lost corrected fraction by about
    ``|S| / |lost|``.

    Parameters
    ----------
    false_share : float
        Estimated false share of S (:func:`signature_false_share`).
    size : int
        ``|S|``.
    n_lost : int
        Number of features of S in the lost part.

    Returns
    -------
    float
        ``min(1, false_share * size / n_lost)``; ``false_share`` when nothing
        is lost.
    """
    if n_lost <= 0:
        return false_share
    return min(1.0, false_share * size / n_lost)


def corrected_columns(
    reference: pd.DataFrame,
    restoration: pd.DataFrame,
    classified: pd.DataFrame,
    spec: ComparisonSpec,
    *,
    modulator_calls: pd.Series | None = None,
) -> dict[str, float | int | str]:
    """Every corrected summary column of one comparison.

    ``restored_fraction_corrected``, ``corrected_low``, ``corrected_high`` over
    S; the same with suffix ``_up`` / ``_down`` per direction; over the lost
    part (``lost_restored_fraction_corrected``, ``lost_corrected_low``,
    ``lost_corrected_high``; its false share is :func:`lost_false_share`, as
    S's false members are almost all lost) when the spec has a resistance
    contrast; beyond
    the modulator (``modulator_calls``, the modulator contrast's +1/-1/0
    calls; ``restored_beyond_modulator_fraction_corrected``,
    ``beyond_modulator_corrected_low`` / ``_high``: the share of S truly
    restored among the features the modulator alone does not call in d,
    scaled by their share of S) when it has a modulator; then the details
    ``corrected_features``, ``corrected_pi1``, ``signature_false_share`` and
    ``corrected_note`` (why the fraction is NA, else "").
    """
    settings = spec.corrected
    confidence = spec.bootstrap.confidence
    direction = classified["direction"]
    size = len(direction)
    false_share = signature_false_share(
        reference, spec.signature, size, pi0_method=settings.pi0_method
    )
    df = restoration_df(restoration) if settings.power_correction == "share_model" else None

    def one(
        subset: pd.Series, what: str, scale: float = 1.0, share: float | None = None
    ) -> CorrectedEstimate:
        return corrected_fraction(
            restoration,
            subset,
            false_share=false_share if share is None else share,
            settings=settings,
            confidence=confidence,
            scale=scale,
            label=f"comparison {spec.name!r}: {what}",
            reference=reference,
            df=df,
        )

    out: dict[str, float | int | str] = {}
    overall = one(direction, "restored_fraction_corrected")
    out["restored_fraction_corrected"] = overall.estimate
    out["corrected_low"] = overall.low
    out["corrected_high"] = overall.high
    for side, sign in (("up", 1), ("down", -1)):
        est = one(direction[direction.to_numpy() == sign], f"restored_fraction_corrected_{side}")
        out[f"restored_fraction_corrected_{side}"] = est.estimate
        out[f"corrected_low_{side}"] = est.low
        out[f"corrected_high_{side}"] = est.high
    if "resistance_status" in classified:
        lost = direction[classified["resistance_status"].to_numpy() == LOST]
        est = one(
            lost,
            "lost_restored_fraction_corrected",
            share=lost_false_share(false_share, size, len(lost)),
        )
        out["lost_restored_fraction_corrected"] = est.estimate
        out["lost_corrected_low"] = est.low
        out["lost_corrected_high"] = est.high
    if modulator_calls is not None:
        # Features the modulator alone calls in d are set aside (whatever their
        # restoration status); the share restored among the others is scaled
        # back to all of S, as restored_beyond_modulator_fraction is.
        by_modulator = modulator_calls.reindex(direction.index).to_numpy() == direction.to_numpy()
        rest = direction[~by_modulator]
        est = one(
            rest,
            "restored_beyond_modulator_fraction_corrected",
            scale=len(rest) / size if size else 1.0,
        )
        out["restored_beyond_modulator_fraction_corrected"] = est.estimate
        out["beyond_modulator_corrected_low"] = est.low
        out["beyond_modulator_corrected_high"] = est.high
    out["corrected_features"] = overall.n
    out["corrected_pi1"] = overall.pi1
    out["signature_false_share"] = false_share
    out["corrected_note"] = overall.reason
    return out
