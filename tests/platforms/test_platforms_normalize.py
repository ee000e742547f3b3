"""limma's normalizeQuantiles (ties, missing values) and avereps; normexp pieces."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sigrestore.errors import SigrestoreError
from sigrestore.platforms.nelder_mead import nelder_mead
from sigrestore.platforms.normalize import avereps, normalize_quantiles
from sigrestore.platforms.normexp import normexp_fit_saddle, normexp_signal
from sigrestore.preprocess import quantile_normalize


@pytest.fixture(scope="module")
def qdir(data_dir):
    return data_dir / "platforms" / "quantile"


def read(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", index_col=0)


def test_normalize_quantiles_with_missing_values_and_ties(qdir):
    a = read(qdir / "input.tsv.gz")
    want = read(qdir / "ref_normalizeQuantiles.tsv.gz").to_numpy()
    got = normalize_quantiles(a.to_numpy())
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_normalize_quantiles_heavy_ties_with_missing(qdir):
    a = np.round(read(qdir / "input.tsv.gz").to_numpy()[:, :3])
    want = read(qdir / "ref_ties.tsv.gz").to_numpy()
    np.testing.assert_allclose(normalize_quantiles(a), want, rtol=1e-12, atol=1e-12)


def test_complete_matrix_equals_preprocesscore_rule():
    rng = np.random.default_rng(3)
    x = np.round(rng.gamma(2.0, 3.0, (500, 5)), 1)
    np.testing.assert_allclose(normalize_quantiles(x), quantile_normalize(x), rtol=1e-14)


def test_normalize_quantiles_rejects_bad_input():
    with pytest.raises(SigrestoreError, match="infinite"):
        normalize_quantiles(np.array([[1.0, np.inf], [2.0, 3.0], [1.0, 1.0]]))
    with pytest.raises(SigrestoreError, match="array 2 has fewer than 2"):
        normalize_quantiles(np.array([[1.0, np.nan], [2.0, np.nan], [1.0, 1.0]]))


def test_avereps_means_ignore_missing_in_first_appearance_order():
    x = pd.DataFrame({"a": [1.0, 2.0, 3.0, np.nan], "b": [4.0, np.nan, 6.0, np.nan]})
    got = avereps(x, ["p2", "p1", "p2", "p3"])
    assert list(got.index) == ["p2", "p1", "p3"]
    np.testing.assert_allclose(got["a"], [2.0, 2.0, np.nan])
    np.testing.assert_allclose(got["b"], [5.0, np.nan, np.nan])


def test_normexp_saddle_recovers_simulated_parameters():
    rng = np.random.default_rng(5)
    x = rng.normal(100.0, 10.0, 20000) + rng.exponential(400.0, 20000)
    fit = normexp_fit_saddle(x)
    assert fit.convergence == 0
    assert abs(fit.mu - 100.0) < 3 and abs(np.exp(fit.log_sigma) - 10.0) < 1.5
    assert abs(np.exp(fit.log_alpha) - 400.0) < 15
    signal = normexp_signal(fit.par, x)
    assert np.all(signal > 0) and np.all(np.diff(signal[np.argsort(x)]) >= 0)


def test_normexp_saddle_degenerate_and_short_inputs():
    assert normexp_fit_saddle(np.full(10, 3.0)).log_alpha == -np.inf
    with pytest.raises(SigrestoreError, match="at least 4"):
        normexp_fit_saddle(np.array([1.0, 2.0, np.nan]))


def test_nelder_mead_minimizes_rosenbrock_like_r():
    # R: optim(c(-1.2, 1), fr)  ->  par 1.000260 1.000506, value 8.825241e-08, 195 evaluations
    def fr(p):
        return 100 * (p[1] - p[0] ** 2) ** 2 + (1 - p[0]) ** 2

    res = nelder_mead(fr, np.array([-1.2, 1.0]))
    np.testing.assert_allclose(res.par, [1.000260, 1.000506], atol=1e-6)
    assert res.fncount == 195
