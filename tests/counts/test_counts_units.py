"""Unit checks of the count statistics' building blocks (beyond the R references)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from sigrestore.counts import approx_ordered_mean, lowess, voom
from sigrestore.counts.lowess import Lowess
from sigrestore.counts.normalize import _rank_within, calc_norm_factors


@pytest.mark.parametrize("seed", range(5))
def test_rank_window_equals_average_ranks(seed):
    rng = np.random.default_rng(seed)
    values = rng.integers(0, 6, (40, 7)).astype(float)  # heavy ties
    values[rng.random(values.shape) < 0.2] = np.nan
    n = np.isfinite(values).sum(axis=0)
    lo = np.floor(n * 0.3) + 1
    hi = n + 1 - lo
    ranks = stats.rankdata(values, axis=0, nan_policy="omit")
    expected = np.isfinite(values) & (ranks >= lo) & (ranks <= hi)
    got = np.isfinite(values) & _rank_within(values, lo, hi)
    np.testing.assert_array_equal(got, expected)


def test_tmm_identical_samples_and_scaling():
    rng = np.random.default_rng(3)
    base = rng.poisson(50, 500).astype(float)
    counts = np.column_stack([base, base * 2, base])
    factors, ref = calc_norm_factors(counts)
    np.testing.assert_allclose(factors, 1.0)  # same composition: no correction
    assert 0 <= ref < 3


def test_approx_ties_mean_and_rule_2():
    curve = Lowess(np.array([0.0, 1.0, 1.0, 2.0]), np.array([0.0, 1.0, 3.0, 4.0]))
    got = approx_ordered_mean(curve, np.array([-1.0, 0.5, 1.0, 1.5, 9.0]))
    np.testing.assert_allclose(got, [0.0, 1.0, 2.0, 3.0, 4.0])


def test_lowess_straight_line_is_exact():
    x = np.linspace(0, 10, 101)
    fit = lowess(x, 3 * x + 1, f=0.5)
    np.testing.assert_allclose(fit.y, 3 * x + 1, atol=1e-10)


def test_voom_without_replication_gives_unit_weights():
    counts = np.random.default_rng(0).poisson(20, (50, 2)).astype(float)
    with pytest.warns(UserWarning, match="no replication"):
        v = voom(counts, np.eye(2))
    np.testing.assert_array_equal(v.weights, 1.0)
