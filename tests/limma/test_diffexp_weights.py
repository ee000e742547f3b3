"""Given per-array weights (limma's ``lmFit(weights = <vector of length ncol>)``) in the
vectorized fast path, against R limma 3.54.1 (tests/data/limma/make/make_limma_weights.R)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.diffexp import build_design, differential_expression, fit_contrasts
from sigrestore.diffexp import fit as fit_module
from sigrestore.errors import DesignError

RTOL = 1e-6  # statistics
PRIOR_RTOL = 1e-8  # df.prior, s2.prior
CONTRASTS = {"CancerVsNormal": "Cancer - Normal", "BiopsyVsNormal": "Biopsy - Normal"}


@pytest.fixture(scope="module")
def weights(expr) -> np.ndarray:
    # As the R script: multiplicities 1, 2, 3, 1, 2, 3, ...
    return (np.arange(expr.shape[1]) % 3 + 1).astype(float)


@pytest.fixture(scope="module")
def weighted(expr, design, contrasts, weights):
    return fit_contrasts(expr, design, contrasts, weights=weights)


@pytest.fixture(scope="module")
def priors(limma_dir) -> dict[str, float]:
    table = pd.read_csv(limma_dir / "ref_weights_priors.tsv", sep="\t")
    return dict(zip(table["key"], table["value"].astype(float), strict=True))


def ref(limma_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(limma_dir / f"ref_weights_{name}.tsv.gz", sep="\t", index_col=0)


def assert_table(got: pd.DataFrame, want: pd.DataFrame, rtol: float = RTOL) -> None:
    assert list(got.index) == list(want.index)
    assert list(got.columns) == list(want.columns)
    for col in want.columns:
        np.testing.assert_allclose(got[col], want[col], rtol=rtol, atol=0, err_msg=col)


def test_weighted_fit_takes_the_vectorized_path(expr, design, contrasts, weights, monkeypatch):
    import pylimma

    def forbidden(*args, **kwargs):
        raise AssertionError("pylimma.lm_fit must not be used for given array weights")

    monkeypatch.setattr(pylimma, "lm_fit", forbidden)
    fit = fit_contrasts(expr, design, contrasts, weights=weights)
    np.testing.assert_array_equal(fit.weights, weights)


@pytest.mark.parametrize("contrast", list(CONTRASTS))
def test_weighted_tables_match_limma(weighted, limma_dir, contrast):
    assert_table(weighted.table(contrast), ref(limma_dir, contrast))


def test_weighted_f_and_priors_match_limma(weighted, limma_dir, priors):
    want = ref(limma_dir, "F")
    assert_table(weighted.f_table()[want.columns], want)
    assert weighted.df_prior == pytest.approx(priors["weights_df.prior"], rel=PRIOR_RTOL)
    assert weighted.s2_prior == pytest.approx(priors["weights_s2.prior"], rel=PRIOR_RTOL)


def test_weighted_trend_and_treat_match_limma(expr, design, contrasts, weights, limma_dir,
                                              priors):  # fmt: skip
    trend = fit_contrasts(expr, design, contrasts, weights=weights, trend=True)
    assert_table(trend.table("CancerVsNormal"), ref(limma_dir, "trend_CancerVsNormal"))
    assert trend.df_prior == pytest.approx(priors["weights_trend_df.prior"], rel=PRIOR_RTOL)
    fit = fit_contrasts(expr, design, contrasts, weights=weights)
    assert_table(
        fit.table("CancerVsNormal", lfc=1.0, treat=True), ref(limma_dir, "treat1_CancerVsNormal")
    )


def test_differential_expression_passes_weights(expr, samples, weights, limma_dir):
    tables = differential_expression(
        expr, samples, factors=["group"], covariates=["C(batch)"], contrasts=CONTRASTS,
        weights=weights,
    )  # fmt: skip
    assert_table(tables["CancerVsNormal"], ref(limma_dir, "CancerVsNormal"))
    # A Series is aligned to the expression columns by name.
    series = pd.Series(weights, index=expr.columns)[::-1]
    again = differential_expression(
        expr, samples, factors=["group"], covariates=["C(batch)"], contrasts=CONTRASTS,
        weights=series,
    )  # fmt: skip
    pd.testing.assert_frame_equal(again["CancerVsNormal"], tables["CancerVsNormal"])


def test_unit_weights_equal_the_unweighted_fit(expr, design, contrasts):
    plain = fit_contrasts(expr, design, contrasts)
    ones = fit_contrasts(expr, design, contrasts, weights=np.ones(expr.shape[1]))
    for c in CONTRASTS:
        pd.testing.assert_frame_equal(ones.table(c), plain.table(c), rtol=1e-12)
    pd.testing.assert_frame_equal(ones.f_table(), plain.f_table(), rtol=1e-12)
    assert ones.df_prior == pytest.approx(plain.df_prior, rel=1e-12)


def test_integer_weights_give_the_coefficients_of_duplicated_columns(
    expr, samples, design, contrasts, weights
):
    """Weight m = the array repeated m times, for the coefficients only: the copies add
    sum(w) - n residual degrees of freedom and zero within-copy variance, which the
    weighted fit does not (its df is n - p and s2 = sum(w r^2) / (n - p))."""
    dup = np.repeat(np.arange(expr.shape[1]), weights.astype(int))
    expr_dup = expr.iloc[:, dup].copy()
    expr_dup.columns = [f"c{i}" for i in range(len(dup))]
    design_dup = build_design(
        samples.iloc[dup].assign(sample=expr_dup.columns),
        factors=["group"],
        covariates=["C(batch)"],
    )
    copies = fit_contrasts(expr_dup, design_dup, contrasts)
    weighted = fit_contrasts(expr, design, contrasts, weights=weights)
    np.testing.assert_allclose(weighted.coefficients, copies.coefficients, rtol=1e-10, atol=1e-12)
    n, p = design.matrix.shape
    assert weighted._cfit["df_residual"][0] == n - p
    assert copies._cfit["df_residual"][0] == weights.sum() - p
    # The weighted residual sum of squares equals the copies' (same fitted values), so
    # s2 differs exactly by the ratio of residual df.
    np.testing.assert_allclose(
        weighted._cfit["sigma"] ** 2 * (n - p),
        copies._cfit["sigma"] ** 2 * (weights.sum() - p),
        rtol=1e-9,
    )


def test_weighted_fast_path_equals_pylimma(expr, design, contrasts, weights):
    """Missing values send given weights to pylimma; on complete data both paths agree."""
    fast = fit_contrasts(expr, design, contrasts, weights=weights)
    import pylimma

    x = design.matrix.to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        slow = pylimma.e_bayes(
            pylimma.contrasts_fit(
                pylimma.lm_fit(expr.to_numpy(), x, weights=weights), contrasts.to_numpy()
            ),
            legacy=True,
        )
    np.testing.assert_allclose(fast._eb["t"], slow["t"], rtol=1e-9)
    np.testing.assert_allclose(fast._eb["lods"], slow["lods"], rtol=1e-9)


def test_weights_with_missing_values_use_pylimma(expr, design, contrasts, weights, monkeypatch):
    calls = []
    import pylimma

    original = pylimma.lm_fit

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights"))
        return original(*args, **kwargs)

    monkeypatch.setattr(pylimma, "lm_fit", spy)
    y = expr.iloc[:300].copy()
    y.iloc[3, 4] = np.nan
    fit = fit_contrasts(y, design, contrasts, weights=weights)
    assert len(calls) == 1
    np.testing.assert_array_equal(calls[0], weights)
    assert np.isfinite(fit.table("CancerVsNormal")["t"]).all()


@pytest.mark.parametrize(
    "bad, match",
    [
        (np.ones(3), "one weight per array"),
        (np.ones((57, 1)), "one weight per array"),
        (np.r_[0.0, np.ones(56)], "positive"),
        (np.r_[np.nan, np.ones(56)], "positive"),
        (np.r_[-1.0, np.ones(56)], "positive"),
        (["a"] * 57, "numbers"),
    ],
)
def test_bad_weights_are_design_errors(expr, design, contrasts, bad, match):
    with pytest.raises(DesignError, match=match):
        fit_contrasts(expr, design, contrasts, weights=bad)


def test_weights_with_estimated_array_weights_match_limma(
    expr, design, contrasts, weights, limma_dir, priors
):
    """arrayWeights(x, design, weights = W) estimated with the given weights as prior
    weights, then lmFit(weights = aw * w)."""
    fit = fit_contrasts(expr, design, contrasts, weights=weights, array_weights=True)
    aw = ref(limma_dir, "arrayw_weights")["weight"].to_numpy()
    np.testing.assert_allclose(fit.weights, aw * weights, rtol=RTOL)
    assert_table(fit.table("CancerVsNormal"), ref(limma_dir, "arrayw_CancerVsNormal"))
    assert fit.df_prior == pytest.approx(priors["weights_arrayw_df.prior"], rel=PRIOR_RTOL)


def test_weights_series_must_cover_the_columns(expr, samples, weights):
    with pytest.raises(DesignError, match="one entry per"):
        differential_expression(
            expr, samples, factors=["group"], contrasts=CONTRASTS,
            weights=pd.Series(weights[:10], index=expr.columns[:10]),
        )  # fmt: skip


def test_module_exposes_weights_keyword():
    import inspect

    for fn in (fit_module.fit_contrasts, fit_module.differential_expression):
        assert inspect.signature(fn).parameters["weights"].default is None
