"""sigrestore.diffexp against R limma 3.54.1 (tests/data/limma, see its README)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.diffexp import (
    Covariate,
    build_design,
    differential_expression,
    duplicate_correlation,
    fit_contrasts,
    make_contrasts,
)
from sigrestore.errors import DesignError

RTOL = 1e-6  # statistics
PRIOR_RTOL = 1e-8  # df.prior, s2.prior
CONTRASTS = {"CancerVsNormal": "Cancer - Normal", "BiopsyVsNormal": "Biopsy - Normal"}
SHARED = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "limma"


@pytest.fixture(scope="module")
def priors(limma_dir) -> dict[str, float]:
    table = pd.read_csv(limma_dir / "ref_priors.tsv", sep="\t")
    return dict(zip(table["key"], table["value"].astype(float), strict=True))


def ref(limma_dir: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(limma_dir / f"ref_{name}.tsv.gz", sep="\t", index_col=0)


def assert_table(got: pd.DataFrame, want: pd.DataFrame) -> None:
    assert list(got.index) == list(want.index)
    assert list(got.columns) == list(want.columns)
    for col in want.columns:
        np.testing.assert_allclose(got[col], want[col], rtol=RTOL, atol=0, err_msg=col)


@pytest.fixture(scope="module")
def ordinary(expr, design, contrasts):
    return fit_contrasts(expr, design, contrasts)


def test_design_matches_r_model_matrix(design):
    assert design.group_names == ["Biopsy", "Cancer", "Normal"]
    assert design.coefficients == [
        "Biopsy", "Cancer", "Normal", "batch2", "batch3", "batch4", "batch5"
    ]  # fmt: skip


@pytest.mark.parametrize("contrast", list(CONTRASTS))
def test_ordinary_tables(ordinary, limma_dir, contrast):
    assert_table(ordinary.table(contrast), ref(limma_dir, f"ordinary_{contrast}"))


def test_ordinary_f_and_priors(ordinary, limma_dir, priors):
    want = ref(limma_dir, "ordinary_F")
    assert_table(ordinary.f_table()[want.columns], want)
    assert ordinary.df_prior == pytest.approx(priors["ordinary_df.prior"], rel=PRIOR_RTOL)
    assert ordinary.s2_prior == pytest.approx(priors["ordinary_s2.prior"], rel=PRIOR_RTOL)


def test_robust(expr, design, contrasts, limma_dir, priors):
    fit = fit_contrasts(expr, design, contrasts, robust=True)
    assert_table(fit.table("CancerVsNormal"), ref(limma_dir, "robust_CancerVsNormal"))
    want_f = ref(limma_dir, "robust_F")
    assert_table(fit.f_table()[want_f.columns], want_f)
    df_prior = ref(limma_dir, "robust_df_prior")["df.prior"]
    np.testing.assert_allclose(fit.df_prior, df_prior, rtol=PRIOR_RTOL)
    assert fit.s2_prior == pytest.approx(priors["robust_s2.prior"], rel=PRIOR_RTOL)


def test_trend(expr, design, contrasts, limma_dir, priors):
    fit = fit_contrasts(expr, design, contrasts, trend=True)
    assert_table(fit.table("CancerVsNormal"), ref(limma_dir, "trend_CancerVsNormal"))
    want_f = ref(limma_dir, "trend_F")
    assert_table(fit.f_table()[want_f.columns], want_f)
    s2_prior = ref(limma_dir, "trend_s2_prior")["s2.prior"]
    np.testing.assert_allclose(fit.s2_prior, s2_prior, rtol=PRIOR_RTOL)
    assert fit.df_prior == pytest.approx(priors["trend_df.prior"], rel=PRIOR_RTOL)


def test_trend_robust(expr, design, contrasts, limma_dir):
    fit = fit_contrasts(expr, design, contrasts, trend=True, robust=True)
    assert_table(fit.table("CancerVsNormal"), ref(limma_dir, "trend_robust_CancerVsNormal"))


@pytest.mark.parametrize("contrast", list(CONTRASTS))
def test_treat(ordinary, limma_dir, contrast):
    got = ordinary.table(contrast, lfc=1.0, treat=True)
    assert "B" not in got.columns
    assert_table(got, ref(limma_dir, f"treat1_{contrast}"))


def test_treat_robust(expr, design, contrasts, limma_dir):
    fit = fit_contrasts(expr, design, contrasts, robust=True)
    got = fit.table("CancerVsNormal", lfc=1.0, treat=True)
    assert_table(got, ref(limma_dir, "treat1_robust_CancerVsNormal"))


def test_duplicate_correlation_with_block(expr, samples, limma_dir, priors):
    design = build_design(samples, factors=["group"])
    cm = make_contrasts(CONTRASTS, design)
    fit = fit_contrasts(expr, design, cm, block=samples["batch"].to_numpy())
    assert fit.correlation == pytest.approx(priors["dupcor_consensus.correlation"], rel=PRIOR_RTOL)
    assert_table(fit.table("CancerVsNormal"), ref(limma_dir, "dupcor_CancerVsNormal"))
    assert fit.df_prior == pytest.approx(priors["dupcor_df.prior"], rel=PRIOR_RTOL)
    assert fit.s2_prior == pytest.approx(priors["dupcor_s2.prior"], rel=PRIOR_RTOL)


def test_block_through_differential_expression(expr, samples, limma_dir):
    tables = differential_expression(
        expr, samples, factors=["group"], contrasts=CONTRASTS, block="batch"
    )
    assert_table(tables["CancerVsNormal"], ref(limma_dir, "dupcor_CancerVsNormal"))


def test_block_encoded_in_design_gives_zero_correlation(expr, samples, design):
    with pytest.warns(UserWarning, match="already encoded"):
        rho, arho = duplicate_correlation(
            expr.to_numpy()[:50], design.matrix.to_numpy(), samples["batch"].to_numpy()
        )
    assert rho == 0.0
    assert not arho.any()


def test_array_weights(expr, design, contrasts, limma_dir, priors):
    fit = fit_contrasts(expr, design, contrasts, array_weights=True)
    weights = ref(limma_dir, "arrayw_weights")["weight"]
    np.testing.assert_allclose(fit.weights, weights, rtol=RTOL)
    assert_table(fit.table("CancerVsNormal"), ref(limma_dir, "arrayw_CancerVsNormal"))
    want_f = ref(limma_dir, "arrayw_F")
    assert_table(fit.f_table()[want_f.columns], want_f)
    assert fit.df_prior == pytest.approx(priors["arrayw_df.prior"], rel=PRIOR_RTOL)
    assert fit.s2_prior == pytest.approx(priors["arrayw_s2.prior"], rel=PRIOR_RTOL)


def test_differential_expression_one_call(expr, samples, limma_dir):
    tables = differential_expression(
        expr, samples, factors=["group"], covariates=["C(batch)"], contrasts=CONTRASTS
    )
    assert list(tables) == list(CONTRASTS)
    for name in CONTRASTS:
        assert_table(tables[name], ref(limma_dir, f"ordinary_{name}"))
    treat = differential_expression(
        expr, samples, factors=["group"], covariates=["C(batch)"], contrasts=CONTRASTS,
        treat_lfc=1.0,
    )  # fmt: skip
    assert_table(treat["CancerVsNormal"], ref(limma_dir, "treat1_CancerVsNormal"))


@pytest.mark.parametrize("covariate", [{"name": "batch", "type": "factor"}, "C(batch)"])
def test_text_batch_declared_a_factor_is_a_factor(expr, samples, limma_dir, covariate):
    # The workflow reads the sheet as text; batch 1..5 is a factor only when declared one
    # (a numeric column is otherwise one slope, see test_numeric_covariate_*).
    sheet = samples.assign(batch=samples["batch"].astype(str))
    tables = differential_expression(
        expr, sheet, factors=["group"], covariates=[covariate], contrasts=CONTRASTS
    )
    assert_table(tables["CancerVsNormal"], ref(limma_dir, "ordinary_CancerVsNormal"))


@pytest.fixture(scope="module")
def rin_samples(limma_dir) -> pd.DataFrame:
    # Read as the workflow reads a sheet: every column text.
    return pd.read_csv(limma_dir / "bladder_samples_rin.tsv", sep="\t", dtype=str)


@pytest.mark.parametrize("covariate", ["rin", {"name": "rin"}, {"name": "rin", "type": "numeric"}])
def test_numeric_covariate_is_one_slope_as_in_r(expr, rin_samples, limma_dir, covariate):
    """limma 3.54.1 with design ~0 + group + rin (rin: 24 distinct values, read as text)."""
    design = build_design(rin_samples, factors=["group"], covariates=[covariate])
    assert design.coefficients == ["Biopsy", "Cancer", "Normal", "rin"]
    tables = differential_expression(
        expr, rin_samples, factors=["group"], covariates=[covariate], contrasts=CONTRASTS
    )
    for name in CONTRASTS:
        assert_table(tables[name], ref(limma_dir, f"rin_{name}"))


def test_numeric_covariate_slope_itself_as_in_r(expr, rin_samples, limma_dir):
    design = build_design(rin_samples, factors=["group"], covariates=["rin"])
    slope = make_contrasts({"rin": "rin"}, design)
    got = fit_contrasts(expr, design, slope).table("rin")
    assert_table(got, ref(limma_dir, "rin_slope"))


@pytest.mark.parametrize(
    "covariate", ["rin", {"name": "rin", "type": "numeric"}, Covariate("rin", "numeric")]
)
def test_typed_settings_carry_the_numeric_covariate_into_the_jobs_fit(
    expr, rin_samples, limma_dir, covariate
):
    """The config's covariate, through DESettings, is the slope of the DE and restoration jobs.

    pipeline.ContrastRefit is the fit both jobs run (the restoration job's
    bootstrap refits with it too); its tables equal limma's ``~0 + group + rin``.
    """
    from sigrestore.diffexp import DESettings
    from sigrestore.pipeline import ContrastRefit

    de = DESettings.from_options(factors=["group"], covariates=[covariate])
    assert de.design.covariates == (Covariate("rin", "numeric" if covariate != "rin" else "auto"),)
    hash(de.design)  # typed and frozen: usable as a rule's params / fingerprint
    assert de.design.build(rin_samples).coefficients == ["Biopsy", "Cancer", "Normal", "rin"]
    tables = ContrastRefit.from_settings(de, CONTRASTS)(expr, rin_samples)
    for name in CONTRASTS:
        assert_table(tables[name], ref(limma_dir, f"rin_{name}"))


def test_numeric_covariate_forced_to_a_factor_has_one_column_per_level(rin_samples):
    design = build_design(
        rin_samples, factors=["group"], covariates=[{"name": "rin", "type": "factor"}]
    )
    assert len(design.coefficients) == 3 + 23


def test_sheet_in_another_order_is_aligned_by_name(expr, samples, limma_dir):
    shuffled = samples.sample(frac=1.0, random_state=3)
    tables = differential_expression(
        expr, shuffled, factors=["group"], covariates=["C(batch)"], contrasts=CONTRASTS
    )
    assert_table(tables["CancerVsNormal"], ref(limma_dir, "ordinary_CancerVsNormal"))


def test_resampled_arrays_align_by_position(expr, samples):
    rng = np.random.default_rng(11)
    pick = np.concatenate(
        [rng.choice(np.flatnonzero(samples["group"] == g), size=n, replace=True)
         for g, n in samples["group"].value_counts().items()]
    )  # fmt: skip
    boot_expr = expr.iloc[:, pick]
    boot_sheet = samples.iloc[pick].reset_index(drop=True)
    assert not boot_expr.columns.is_unique
    got = differential_expression(
        boot_expr, boot_sheet, factors=["group"], contrasts={"c": "Cancer - Normal"}
    )["c"]
    # Same fit from an explicit design built on the resampled rows.
    design = build_design(boot_sheet, factors=["group"])
    fit = fit_contrasts(boot_expr, design, make_contrasts({"c": "Cancer - Normal"}, design))
    pd.testing.assert_frame_equal(got, fit.table("c"))
    want_logfc = boot_expr.loc[:, (boot_sheet["group"] == "Cancer").to_numpy()].mean(
        axis=1
    ) - boot_expr.loc[:, (boot_sheet["group"] == "Normal").to_numpy()].mean(axis=1)
    np.testing.assert_allclose(got["logFC"], want_logfc, rtol=1e-10)


def test_aliased_covariate_keeps_estimable_contrasts(expr, samples, ordinary):
    # "site" separates Normal from the rest: it is aliased with the groups.
    sheet = samples.assign(site=np.where(samples["group"] == "Normal", "a", "b"))
    design = build_design(sheet, factors=["group"], covariates=["site"])
    with pytest.raises(DesignError, match="CancerVsNormal"):
        make_contrasts({"CancerVsNormal": "Cancer - Normal"}, design)
    cm = make_contrasts({"CancerVsBiopsy": "Cancer - Biopsy"}, design)
    got = fit_contrasts(expr, design, cm).table("CancerVsBiopsy")
    plain = build_design(sheet, factors=["group"])
    want = fit_contrasts(
        expr, plain, make_contrasts({"CancerVsBiopsy": "Cancer - Biopsy"}, plain)
    ).table("CancerVsBiopsy")
    pd.testing.assert_frame_equal(got, want, rtol=1e-9)


def test_topTable_lfc_filters_after_adjustment(ordinary):
    full = ordinary.table("CancerVsNormal")
    kept = ordinary.table("CancerVsNormal", lfc=1.0)
    assert (kept["logFC"].abs() >= 1.0).all()
    pd.testing.assert_frame_equal(kept, full[full["logFC"].abs() >= 1.0])


@pytest.fixture(scope="module")
def expr_missing(expr, limma_dir) -> pd.DataFrame:
    pos = pd.read_csv(limma_dir / "ref_missing_positions.tsv", sep="\t")
    values = expr.to_numpy().copy()
    values[pos["row"].to_numpy() - 1, pos["col"].to_numpy() - 1] = np.nan  # R is 1-based
    return pd.DataFrame(values, index=expr.index, columns=expr.columns)


def test_missing_values(expr_missing, design, contrasts, limma_dir, priors):
    fit = fit_contrasts(expr_missing, design, contrasts)
    for name in CONTRASTS:
        want = ref(limma_dir, f"missing_{name}")
        assert_table(fit.table(name), want)
    # probe set 2 has no Normal array: both contrasts are NA, as in R
    assert fit.table("CancerVsNormal").iloc[1][["logFC", "t", "P.Value", "B"]].isna().all()
    # limma 3.54.1's treat() stops on NA coefficients; here the row stays missing
    treat = fit.table("CancerVsNormal", lfc=1.0, treat=True)
    assert treat.iloc[1][["logFC", "t", "P.Value", "adj.P.Val"]].isna().all()
    assert treat.drop(index=treat.index[1])["P.Value"].notna().all()
    want_f = ref(limma_dir, "missing_F")
    assert_table(fit.f_table()[want_f.columns], want_f)
    assert fit.df_prior == pytest.approx(priors["missing_df.prior"], rel=PRIOR_RTOL)
    assert fit.s2_prior == pytest.approx(priors["missing_s2.prior"], rel=PRIOR_RTOL)


def test_pylimma_trend_fix_is_active_and_equivalent():
    import importlib

    from sigrestore.diffexp import _pylimma_fixes as fixes

    module = importlib.import_module("pylimma.squeeze_var")
    assert module._fit_spline_trend is fixes.fit_spline_trend_reduced
    rng = np.random.default_rng(2)
    cov = rng.uniform(3, 14, 400)
    e = np.sin(cov) + rng.normal(0, 0.3, 400)
    new = fixes.fit_spline_trend_reduced(e, cov, 4)
    old = fixes.ORIGINAL_FIT_SPLINE_TREND(e, cov, 4)
    np.testing.assert_allclose(new[0], old[0], rtol=1e-12)  # fitted values
    assert new[1] == pytest.approx(old[1], rel=1e-12)  # residual mean square
    np.testing.assert_allclose(new[2], old[2], rtol=1e-10)  # coefficients


def test_unknown_contrast_name(ordinary):
    with pytest.raises(DesignError, match="nope"):
        ordinary.table("nope")


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared limma fixture not present")
def test_full_shared_fixture():
    expr = pd.read_csv(SHARED / "bladder_expr.tsv.gz", sep="\t", index_col=0)
    samples = pd.read_csv(SHARED / "bladder_samples.tsv", sep="\t")
    design = build_design(samples, factors=["group"], covariates=["C(batch)"])
    fit = fit_contrasts(expr, design, make_contrasts(CONTRASTS, design))
    assert fit.df_prior == pytest.approx(3.27282526, rel=1e-8)
    assert fit.s2_prior == pytest.approx(0.09099711516, rel=1e-8)
    for name in CONTRASTS:
        want = pd.read_csv(SHARED / f"bladder_{name}.tsv.gz", sep="\t", index_col=0)
        assert_table(fit.table(name), want)
    want = pd.read_csv(SHARED / "bladder_CancerVsNormal_treat1.tsv.gz", sep="\t", index_col=0)
    assert_table(fit.table("CancerVsNormal", lfc=1.0, treat=True), want)
    want = pd.read_csv(SHARED / "bladder_F.tsv.gz", sep="\t", index_col=0)
    assert_table(fit.f_table()[want.columns], want)
    robust = fit_contrasts(expr, design, make_contrasts(CONTRASTS, design), robust=True)
    want = pd.read_csv(SHARED / "bladder_CancerVsNormal_robust.tsv.gz", sep="\t", index_col=0)
    assert_table(robust.table("CancerVsNormal"), want)


def test_fast_path_matches_pylimma_general_path():
    """The vectorized path equals pylimma's lm_fit/contrasts_fit/e_bayes (3 contrasts,
    non-orthogonal, constant rows included)."""
    import pylimma

    rng = np.random.default_rng(5)
    y = rng.normal(8, 1, (2000, 12))
    y[:5] = 7.0
    sheet = pd.DataFrame({"sample": [f"s{i}" for i in range(12)], "g": list("abc") * 4})
    d = build_design(sheet, factors=["g"])
    cm = make_contrasts({"ab": "a - b", "c": "c - (a + b)/2", "ac": "a - c"}, d)
    with pytest.warns(UserWarning, match="zero sample variances"):
        fit = fit_contrasts(pd.DataFrame(y), d, cm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_fit = pylimma.e_bayes(
            pylimma.contrasts_fit(pylimma.lm_fit(y, d.matrix.to_numpy()), cm.to_numpy())
        )
    for j in range(3):
        table = fit.table(j)
        for col, key in [("logFC", "coefficients"), ("t", "t"), ("P.Value", "p_value"),
                         ("B", "lods")]:  # fmt: skip
            np.testing.assert_allclose(table[col], ref_fit[key][:, j], rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(fit.f_table()["F"], ref_fit["F"], rtol=1e-12)
    assert fit.df_prior == pytest.approx(float(ref_fit["df_prior"]), rel=1e-12)


def _reversed(expr: pd.DataFrame) -> pd.DataFrame:
    return expr.iloc[:, ::-1]


def test_foreign_column_name_is_an_error_not_a_positional_match(expr, samples):
    # Columns reordered and one renamed: matching by position would pair
    # arrays with the wrong sheet rows without any error.
    cols = list(_reversed(expr).columns)
    renamed = _reversed(expr).set_axis(["D.CEL", *cols[1:]], axis=1)
    with pytest.raises(DesignError, match="not the sample sheet's 'sample' ids") as info:
        differential_expression(renamed, samples, factors=["group"], contrasts=CONTRASTS)
    assert str(sorted({"D.CEL", cols[0]})) in str(info.value)
    assert "rename the expression columns" in str(info.value)


def test_unique_renamed_columns_in_sheet_order_are_an_error(expr, samples):
    # Unique names that are not the sheet's ids: no way to tell the order.
    renamed = expr.set_axis([c.replace(".CEL", "") for c in expr.columns], axis=1)
    with pytest.raises(DesignError, match="GSM71019"):
        differential_expression(renamed, samples, factors=["group"], contrasts=CONTRASTS)


def test_sheet_repeating_an_id_with_unique_columns_is_an_error(expr, samples):
    sheet = samples.copy()
    sheet.loc[1, "sample"] = sheet.loc[0, "sample"]  # id 0 twice, id 1 absent
    with pytest.raises(DesignError, match="repeats sample id") as info:
        differential_expression(_reversed(expr), sheet, factors=["group"], contrasts=CONTRASTS)
    assert samples.loc[1, "sample"] in str(info.value)


def test_reordered_columns_are_aligned_by_name(expr, samples, limma_dir):
    tables = differential_expression(
        _reversed(expr), samples, factors=["group"], covariates=["C(batch)"], contrasts=CONTRASTS
    )
    assert_table(tables["CancerVsNormal"], ref(limma_dir, "ordinary_CancerVsNormal"))


@pytest.mark.parametrize("duplicates", ["weights", "copies"])
def test_bootstrap_resamples_align_with_their_sheet(expr, samples, duplicates):
    from sigrestore.restoration.bootstrap import resample_arrays, resample_distinct, sample_groups

    groups = sample_groups(samples, factors=["group"])
    contrast = {"c": "Cancer - Normal"}
    rng = np.random.default_rng(5)
    if duplicates == "weights":
        matrix, sheet, weights = resample_distinct(expr, samples, groups, rng)
    else:
        matrix, sheet = resample_arrays(expr, samples, groups, rng)
        weights = None
        assert matrix.columns.is_unique and all("@" in c for c in matrix.columns)
    got = differential_expression(
        matrix, sheet, factors=["group"], contrasts=contrast, weights=weights
    )
    design = build_design(sheet, factors=["group"])
    want = fit_contrasts(matrix, design, make_contrasts(contrast, design), weights=weights)
    pd.testing.assert_frame_equal(got["c"], want.table("c"))
    # Reordering the resampled matrix does not change the fit (aligned by name).
    if weights is None:
        again = differential_expression(
            _reversed(matrix), sheet, factors=["group"], contrasts=contrast
        )
        pd.testing.assert_frame_equal(again["c"], got["c"], rtol=1e-9)


def test_estimated_array_weights_take_the_vectorized_path(expr, design, contrasts, monkeypatch):
    import pylimma

    def forbidden(*args, **kwargs):
        raise AssertionError("pylimma.lm_fit must not be used for one vector of array weights")

    monkeypatch.setattr(pylimma, "lm_fit", forbidden)
    fit = fit_contrasts(expr, design, contrasts, array_weights=True)
    assert fit.weights.shape == (expr.shape[1],)
    assert np.isfinite(fit.table("CancerVsNormal")["t"]).all()
