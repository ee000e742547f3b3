"""Power correction of the corrected restored fraction (corrected.power_correction)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import special

from sigrestore.errors import ConfigError
from sigrestore.restoration import ComparisonSpec
from sigrestore.restoration.corrected import _power_inputs, corrected_fraction
from sigrestore.restoration.pi0 import pi0_local_fdr
from sigrestore.restoration.power import (
    SHARE_GRID,
    power_corrected_pi1,
    power_tables,
    share_weights,
)
from sigrestore.restoration.spec import CorrectedSettings

SHARE_MODEL = CorrectedSettings(power_correction="share_model", resamples=0, seed=1)
NONE = replace(SHARE_MODEL, power_correction="none")


def _features(n=3000, restored=0.6, reversed_=0.03, share=(0.3, 1.0), se=0.45, df=20.0, seed=2):
    """Restoration and reference tables of a signature with a known restored share.

    Reference effects uniform in 1-2.5 (log2), observed with noise; restored
    features moved by a share drawn uniformly from ``share`` of their
    effect, reversed ones by such a share against d (the model's
    assumption; with reversed features moved by their full effect while the
    restored ones average 0.65 of theirs, 3% reversed overestimate 0.60 by
    about 0.03); t statistics
    ``effect / se + T`` with T Student's t on ``df``.
    """
    rng = np.random.default_rng(seed)
    ids = pd.Index([f"g{i}" for i in range(n)])
    d = rng.choice([-1.0, 1.0], n)
    beta = rng.uniform(1.0, 2.5, n)
    kind = rng.choice(3, n, p=[restored, reversed_, 1 - restored - reversed_])
    a = rng.uniform(*share, n)
    move = np.where(kind == 0, a * beta, np.where(kind == 1, -a * beta, 0.0))
    t = d * move / se + rng.standard_t(df, n)
    p = 2 * special.stdtr(df, -np.abs(t))
    res = pd.DataFrame({"logFC": t * se, "t": t, "P.Value": p}, index=ids)
    ref = pd.DataFrame({"logFC": d * (beta + rng.normal(0, 0.3, n))}, index=ids)
    return res, ref, pd.Series(d, index=ids), float((kind == 0).mean())


def test_lfdr_pi0_is_about_twice_the_mean_p_value():
    # The leak the correction divides out: propTrueNull("lfdr") ~ 2 mean(p).
    rng = np.random.default_rng(1)
    for shift in (0.0, 1.0, 3.0):
        t = np.where(rng.random(4000) < 0.5, rng.normal(shift, 1, 4000), rng.normal(0, 1, 4000))
        p = 2 * special.ndtr(-np.abs(t))
        assert pi0_local_fdr(p) == pytest.approx(2 * p.mean(), abs=0.01)


def test_power_tables_are_the_moments_of_a_shifted_t():
    df = 12.0
    effect = np.array([0.0, 0.5, 1.0, 3.0])
    w, q = power_tables(effect, np.full(4, 0.5), df)
    assert w.shape == q.shape == (4, SHARE_GRID.size)
    # No effect: null p-values, W = Q = 0; both rise with the share and reach 1.
    assert np.abs(w[0]).max() < 1e-3 and np.abs(q[0]).max() < 1e-12
    assert (np.diff(w[1:], axis=1) >= -1e-9).all() and (np.diff(q[1:], axis=1) >= -1e-9).all()
    assert w[3, -1] > 0.99 and q[3, -1] > 0.99
    # Monte Carlo of t = x + T at x = a * effect / se.
    rng = np.random.default_rng(4)
    x = 0.5 * 1.0 / 0.5  # share 0.5 of effect 1.0
    t = x + rng.standard_t(df, 400_000)
    p = 2 * special.stdtr(df, -np.abs(t))
    j = int(np.argmin(np.abs(SHARE_GRID - 0.5)))
    assert w[2, j] == pytest.approx(1 - 2 * p.mean(), abs=0.005)
    assert q[2, j] == pytest.approx(np.mean(np.sign(t) * (p < 0.5)), abs=0.005)
    # df = inf: the normal.
    w_inf, _ = power_tables(effect, np.full(4, 0.5), np.inf)
    assert np.abs(w_inf[0]).max() < 1e-3 and (w_inf[1:] >= w[1:] - 1e-9).all()


@pytest.mark.parametrize("abar", [0.05, 0.2, 0.5, 0.65, 0.9, 1.0])
def test_share_weights_are_uniform_with_the_given_mean(abar):
    w = share_weights(np.array([abar]))[0]
    assert w.sum() == pytest.approx(1.0)
    assert (w @ SHARE_GRID) == pytest.approx(abar, abs=0.015)
    support = SHARE_GRID[w > 0]
    assert support.min() >= max(0.0, 2 * abar - 1) - 1e-9
    assert support.max() <= min(1.0, 2 * abar) + 1e-9
    if abar == 1.0:
        assert w[-1] == 1.0


def test_power_correction_recovers_a_known_partial_restoration():
    res, ref, d, truth = _features()
    corrected = corrected_fraction(res, d, false_share=0.0, settings=SHARE_MODEL, reference=ref)
    plain = corrected_fraction(res, d, false_share=0.0, settings=NONE, reference=ref)
    # Without the power correction the weakly restored features leak into pi0.
    assert plain.estimate < truth - 0.05
    assert corrected.estimate == pytest.approx(truth, abs=0.03)
    assert corrected.pi1 == pytest.approx(corrected.estimate)


def test_power_correction_leaves_full_restoration_alone():
    res, ref, d, truth = _features(share=(1.0, 1.0), se=0.3)
    corrected = corrected_fraction(res, d, false_share=0.0, settings=SHARE_MODEL, reference=ref)
    plain = corrected_fraction(res, d, false_share=0.0, settings=NONE, reference=ref)
    assert corrected.estimate == pytest.approx(truth, abs=0.02)
    assert abs(corrected.estimate - plain.estimate) < 0.015


def test_power_correction_does_not_inflate_no_restoration():
    res, ref, d, _ = _features(restored=0.0, reversed_=0.0)
    corrected = corrected_fraction(res, d, false_share=0.0, settings=SHARE_MODEL, reference=ref)
    assert corrected.estimate < 0.05


def test_power_corrected_interval_covers_and_is_seeded():
    res, ref, d, truth = _features(n=600, seed=5)
    settings = replace(SHARE_MODEL, resamples=300)
    a = corrected_fraction(res, d, false_share=0.0, settings=settings, reference=ref)
    b = corrected_fraction(res, d, false_share=0.0, settings=settings, reference=ref)
    c = corrected_fraction(
        res, d, false_share=0.0, settings=replace(settings, seed=2), reference=ref
    )
    assert (a.low, a.high) == (b.low, b.high)
    assert a.estimate == c.estimate and a.low != c.low
    assert a.low < truth < a.high
    assert a.low <= a.estimate <= a.high


def test_power_corrected_interval_is_the_percentile_of_resampled_estimates():
    res, ref, d, _ = _features(n=300, seed=8)
    settings = replace(SHARE_MODEL, resamples=40, seed=3)
    got = corrected_fraction(res, d, false_share=0.1, settings=settings, reference=ref)
    # By hand: the same draws, every resample estimated on its own features
    # (no widening of the upper bound: the bias it allowed for is corrected).
    idx = np.random.default_rng(3).integers(0, len(d), size=(40, len(d)))
    boot = [
        corrected_fraction(
            res.iloc[row].set_axis(range(len(d))),
            pd.Series(d.to_numpy()[row]),
            false_share=0.1,
            settings=replace(settings, resamples=0),
            reference=ref.iloc[row].set_axis(range(len(d))),
        ).estimate
        for row in idx
    ]
    low, high = np.quantile(boot, [0.025, 0.975])
    assert got.low == pytest.approx(low, abs=1e-9)
    assert got.high == pytest.approx(high, abs=1e-9)


def test_power_correction_is_the_default():
    spec = ComparisonSpec.from_dict({"name": "x", "reference": "a", "restoration": "b"})
    assert spec.corrected.power_correction == "share_model"
    none = ComparisonSpec.from_dict(
        {
            "name": "x",
            "reference": "a",
            "restoration": "b",
            "corrected": {"power_correction": "none", "pi0_method": "smoother"},
        }
    )
    assert none.corrected.pi0_method == "smoother"
    with pytest.raises(ValueError, match="lfdr"):
        res, ref, d, _ = _features(n=100)
        corrected_fraction(
            res,
            d,
            false_share=0.0,
            settings=replace(SHARE_MODEL, pi0_method="bootstrap"),
            reference=ref,
        )


def test_bootstrap_counts_equal_the_resampled_features():
    res, ref, d, _ = _features(n=400, seed=6)
    ids = d.index
    inputs = _power_inputs(res, ref, ids, d.to_numpy())
    rng = np.random.default_rng(0)
    idx = rng.integers(0, len(ids), size=(3, len(ids)))
    counts = np.stack([np.bincount(row, minlength=len(ids)) for row in idx]).astype(float)
    p = res["P.Value"].to_numpy()
    pi0 = pi0_local_fdr(p[idx])
    start = np.full(3, 0.3)
    by_counts = inputs.pi1(counts, pi0, start)
    for r in range(3):
        one = _power_inputs(res, ref, ids[idx[r]], d.to_numpy()[idx[r]])
        assert by_counts[r] == pytest.approx(one.pi1(None, pi0[r : r + 1], start[:1])[0])


def test_no_signal_keeps_full_shares():
    # A non-positive effect ratio: shares taken as 1, nothing divided by a small power.
    w = np.tile(np.linspace(0.1, 1.0, SHARE_GRID.size), (1, 1))
    out = power_corrected_pi1(
        np.array([0.02]), np.array([0.0]), np.array([-0.1]), w, w, np.array([0.01])
    )
    assert out[0] == pytest.approx(0.01, abs=1e-12)


def test_share_model_needs_the_reference_table():
    res, _, d, _ = _features(n=100)
    with pytest.raises(ValueError, match="reference"):
        corrected_fraction(res, d, false_share=0.0, settings=SHARE_MODEL)


@pytest.mark.parametrize(
    ("corrected", "match"),
    [
        ({"power_correction": "magic"}, r"corrected\.power_correction' must be one of"),
        (
            {"power_correction": "share_model", "pi0_method": "smoother"},
            r"corrected\.power_correction' 'share_model' needs corrected\.pi0_method 'lfdr'",
        ),
    ],
)
def test_bad_power_correction_names_the_key(corrected, match):
    with pytest.raises(ConfigError, match=match):
        ComparisonSpec.from_dict(
            {"name": "x", "reference": "a", "restoration": "b", "corrected": corrected}
        )
