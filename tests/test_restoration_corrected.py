"""Power-corrected restored fraction, pi0 estimators, threshold sensitivity, headline (issue 9)."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import special, stats

from sigrestore.diffexp import differential_expression
from sigrestore.errors import ConfigError
from sigrestore.restoration import ComparisonSpec, analyze_comparison, write_result
from sigrestore.restoration.corrected import (
    corrected_fraction,
    directional_pi1,
    implied_df,
    one_sided_p,
    signature_false_share,
)
from sigrestore.restoration.headline import headline_sentence
from sigrestore.restoration.pi0 import pi0_convest, pi0_local_fdr, pi0_storey
from sigrestore.restoration.sensitivity import SENSITIVITY_COLUMNS, threshold_sensitivity
from sigrestore.restoration.spec import CorrectedSettings, SensitivityGrid, SignatureThresholds
from sigrestore.simulate.experiment import ExampleSpec, gene_level_study

DATA = Path(__file__).parent / "data" / "restoration"
ROOT = Path(__file__).parents[1]
CONTRASTS = {
    "ref": "sensitive_fulvestrant - sensitive_vehicle",
    "res": "resistant_fulvestrant_rapamycin - resistant_vehicle",
    "resist": "resistant_fulvestrant - resistant_vehicle",
    "rapa": "resistant_rapamycin - resistant_vehicle",
}


# --------------------------------------------------------------------------- pi0 vs R


@pytest.fixture(scope="module")
def r_pi0():
    p = pd.read_csv(DATA / "pi0_pvalues.tsv", sep="\t")
    ref = pd.read_csv(DATA / "pi0_reference.tsv", sep="\t", index_col=0)
    return {case: g["p"].to_numpy() for case, g in p.groupby("case")}, ref


def test_pi0_equals_qvalue_pi0est_and_limma_proptruenull(r_pi0):
    cases, ref = r_pi0
    assert set(cases) == set(ref.index)
    for case, p in cases.items():
        r = ref.loc[case]
        # bootstrap, fixed lambda and limma's lfdr: the same arithmetic as R.
        assert pi0_storey(p, method="bootstrap") == pytest.approx(r["bootstrap"], abs=1e-12)
        assert pi0_storey(p, lambdas=(0.5,)) == pytest.approx(r["lambda_05"], abs=1e-12)
        assert pi0_local_fdr(p) == pytest.approx(r["propTrueNull_lfdr"], abs=1e-12)
        assert pi0_storey(p, method="lfdr") == pytest.approx(r["propTrueNull_lfdr"], abs=1e-12)
        # smoother: R's smooth.spline searches its smoothing parameter for df = 3
        # to a tolerance; the largest difference measured is 3.5e-5.
        assert pi0_storey(p, method="smoother") == pytest.approx(r["smoother"], abs=1e-4)
        # convest: limma's own iterations and bisection (sums in another order).
        assert pi0_storey(p, method="convest") == pytest.approx(r["convest"], abs=1e-10)


def test_pi0_convest_equals_limma_convest():
    p = pd.read_csv(DATA / "convest_pvalues.tsv", sep="\t")
    ref = pd.read_csv(DATA / "convest_reference.tsv", sep="\t", index_col=0)
    cases = {case: g["p"].to_numpy() for case, g in p.groupby("case")}
    assert set(cases) == set(ref.index)
    for case, values in cases.items():
        assert pi0_convest(values) == pytest.approx(ref.loc[case, "convest"], abs=1e-10), case
    # Rows are estimated independently, and shorter iteration stops earlier.
    rows = np.vstack([cases["weak_400"], cases["weak_400"][::-1], np.sort(cases["weak_400"])])
    np.testing.assert_allclose(pi0_convest(rows), ref.loc["weak_400", "convest"], atol=1e-10)
    assert pi0_convest(cases["weak_400"], niter=5) != pytest.approx(
        ref.loc["weak_400", "convest"], abs=1e-6
    )
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        pi0_convest(np.array([0.1, 1.5]))


def test_pi0_is_vectorized_over_rows(r_pi0):
    cases, _ = r_pi0
    p = cases["mixed_300"]
    rows = np.vstack([p, p[::-1], np.sort(p)])
    for method in ("smoother", "bootstrap", "lfdr", "convest"):
        np.testing.assert_allclose(
            pi0_storey(rows, method=method), pi0_storey(p, method=method), atol=1e-12
        )


def test_pi0_rejects_bad_input():
    with pytest.raises(ConfigError, match="pi0 method"):
        pi0_storey(np.array([0.1, 0.5]), method="nope")
    with pytest.raises(ValueError, match="NaN"):
        pi0_storey(np.array([0.1, np.nan]))


# --------------------------------------------------------------------------- pieces


def test_one_sided_p_and_implied_df_match_the_t_distribution():
    rng = np.random.default_rng(3)
    df = 7.3
    t = rng.normal(0, 3, 200)
    p_two = 2 * special.stdtr(df, -np.abs(t))
    d = rng.choice([-1, 1], 200)
    np.testing.assert_allclose(one_sided_p(p_two, t, d), stats.t.sf(d * t, df), rtol=1e-9)
    assert implied_df(t, p_two) == pytest.approx(df, rel=1e-6)


def test_directional_pi1_separates_restored_from_reversed():
    rng = np.random.default_rng(5)
    n = 4000
    # 50% moved in d (strongly), 10% moved against d, 40% null.
    kind = rng.choice(3, n, p=[0.5, 0.1, 0.4])
    t = np.where(kind == 0, rng.normal(6, 1, n), np.where(kind == 1, rng.normal(-6, 1, n), 0))
    t = np.where(kind == 2, rng.standard_t(10, n), t)
    p = 2 * special.stdtr(10, -np.abs(t))
    pi1 = directional_pi1(p, np.sign(t), pi0_method="lfdr")[0]
    assert pi1 == pytest.approx(0.5, abs=0.03)
    # One-sided p-values would count the reversed features as null-plus.
    one = one_sided_p(p, t, np.ones(n))
    assert 1 - pi0_storey(one, method="smoother") < 0.45


def test_signature_false_share_without_lfc_is_storeys_estimate():
    rng = np.random.default_rng(11)
    n = 2000
    t = np.concatenate([rng.normal(5, 1, 300), rng.standard_t(8, n - 300)])
    p = 2 * special.stdtr(8, -np.abs(t))
    from sigrestore.diffexp.fit import bh_adjust

    table = pd.DataFrame({"logFC": t * 0.3, "t": t, "P.Value": p, "adj.P.Val": bh_adjust(p)})
    sig = SignatureThresholds(fdr=0.05, lfc=0.0)
    size = int((table["adj.P.Val"] < 0.05).sum())
    cut = p[table["adj.P.Val"] < 0.05].max()
    expected = pi0_storey(p, method="lfdr") * n * cut / size
    got = signature_false_share(table, sig, size, pi0_method="lfdr")
    assert got == pytest.approx(expected, rel=1e-12)
    # An lfc threshold can only lower the null's chance to enter S.
    with_lfc = signature_false_share(
        table, SignatureThresholds(fdr=0.05, lfc=1.5), size, pi0_method="lfdr"
    )
    assert with_lfc < got


# --------------------------------------------------------------------------- on simulated studies


def _study(reps=4, planted=0.4, share=(0.3, 1.0), seed=7, noise=0.35):
    spec = ExampleSpec(
        n_probesets=3000,
        signature_size=300,
        replicates=reps,
        noise_sd=noise,
        restored_fraction=planted,
        retained_fraction=0.1,
        reversed_fraction=0.03,
        restored_share=share,
        effect_range=(1.0, 2.5),
        n_mtorc1=60,
        seed=seed,
    )
    expr, samples, truth = gene_level_study(spec)
    tables = differential_expression(
        expr, samples, factors=["cell_line", "treatment"], contrasts=CONTRASTS
    )
    return tables, truth


@pytest.fixture(scope="module")
def study():
    return _study()


def _spec(**extra):
    return ComparisonSpec.from_dict(
        {
            "name": "sim",
            "reference": "ref",
            "restoration": "res",
            "resistance": "resist",
            "modulator": "rapa",
            "bootstrap": {"n": 0},
            "connectivity": {"permutations": 0},
            **extra,
        }
    )


def test_corrected_fraction_recovers_the_planted_fraction(study):
    tables, _ = study
    result = analyze_comparison(tables, _spec())
    s = result.summary.iloc[0]
    # Partial restoration at 4 arrays per group: the count misses many weak ones.
    assert s.restored_fraction < 0.36
    assert s.restored_fraction_corrected == pytest.approx(0.4, abs=0.07)
    assert s.corrected_low < 0.4 < s.corrected_high
    assert s.corrected_low < s.restored_fraction_corrected < s.corrected_high
    for side in ("up", "down"):
        assert s[f"restored_fraction_corrected_{side}"] == pytest.approx(0.4, abs=0.1)
        assert s[f"corrected_low_{side}"] < s[f"corrected_high_{side}"]
    # Lost part: 10% of the pairs are retained (and restored) -> 30 of 90 lost ones.
    assert s.lost_restored_fraction_corrected == pytest.approx(0.3 / 0.9, abs=0.12)
    # Beyond the modulator: at most the overall corrected fraction.
    assert s.restored_beyond_modulator_fraction_corrected <= s.restored_fraction_corrected
    assert s.corrected_note == ""
    assert 0 <= s.signature_false_share < 0.05
    assert s.corrected_power_correction == "share_model"
    cols = list(result.summary.columns)
    assert cols.index("restored_fraction_corrected") == cols.index("bootstrap_high") + 1


def test_corrected_fraction_is_reproducible_and_seeded(study):
    tables, _ = study
    a = analyze_comparison(tables, _spec()).summary
    b = analyze_comparison(tables, _spec()).summary
    c = analyze_comparison(tables, _spec(corrected={"seed": 99})).summary
    assert a["corrected_low"].iloc[0] == b["corrected_low"].iloc[0]
    assert a["restored_fraction_corrected"].iloc[0] == c["restored_fraction_corrected"].iloc[0]
    assert a["corrected_low"].iloc[0] != c["corrected_low"].iloc[0]


def test_small_signature_gives_na_with_a_warning(study, caplog):
    tables, _ = study
    spec = _spec(signature={"method": "top", "top_n": 12})
    with caplog.at_level(logging.WARNING, logger="sigrestore.restoration.corrected"):
        s = analyze_comparison(tables, spec).summary.iloc[0]
    assert np.isnan(s.restored_fraction_corrected)
    assert np.isnan(s.corrected_low) and np.isnan(s.corrected_high)
    assert "fewer than corrected.min_features = 20" in s.corrected_note
    assert "comparison 'sim'" in caplog.text and "12 feature(s)" in caplog.text
    assert "NA (12 feature(s)" in headline_sentence(s)


def test_restoration_without_p_values_gives_na(study, caplog):
    tables, _ = study
    tables = dict(tables)
    tables["res"] = tables["res"].assign(**{"P.Value": np.nan})
    with caplog.at_level(logging.WARNING):
        s = analyze_comparison(tables, _spec()).summary.iloc[0]
    assert np.isnan(s.restored_fraction_corrected)
    assert "0 feature(s) with a restoration p-value" in caplog.text


def test_feature_bootstrap_interval_is_the_percentile_of_resamples(study):
    tables, _ = study
    # Without the power correction (its interval: tests/test_restoration_power.py).
    spec = _spec(corrected={"power_correction": "none"})
    result = analyze_comparison(tables, spec)
    s = result.summary.iloc[0]
    direction = pd.Series(
        np.where(result.features["direction"] == "up", 1, -1), index=result.features.index
    )
    # By hand: the same draws, lfdr percentiles, the upper bound widened to
    # the bootstrap-lambda estimator's upper percentile when that is larger.
    res = tables["res"].reindex(direction.index)
    p = res["P.Value"].to_numpy()
    agree = np.sign(res["t"].to_numpy()) * direction.to_numpy()
    rng = np.random.default_rng(spec.corrected.seed)
    idx = rng.integers(0, len(p), size=(spec.corrected.resamples, len(p)))
    divisor = 1 - s.signature_false_share
    lfdr = np.clip(directional_pi1(p[idx], agree[idx], pi0_method="lfdr") / divisor, 0, 1)
    boot = np.clip(directional_pi1(p[idx], agree[idx], pi0_method="bootstrap") / divisor, 0, 1)
    low, high = np.quantile(lfdr, [0.025, 0.975])
    high = max(high, np.quantile(boot, 0.975))
    assert s.corrected_low == pytest.approx(low, abs=1e-12)
    assert s.corrected_high == pytest.approx(high, abs=1e-12)
    est = corrected_fraction(
        tables["res"],
        direction,
        false_share=s.signature_false_share,
        settings=spec.corrected,
    )
    assert est.low == s.corrected_low and est.high == s.corrected_high
    wider = corrected_fraction(
        tables["res"],
        direction,
        false_share=s.signature_false_share,
        settings=spec.corrected,
        confidence=0.99,
    )
    assert wider.low <= est.low and wider.high >= est.high
    # With the bootstrap-lambda estimator itself, a plain percentile interval.
    own = corrected_fraction(
        tables["res"],
        direction,
        false_share=s.signature_false_share,
        settings=replace(spec.corrected, pi0_method="bootstrap"),
    )
    assert (own.low, own.high) == pytest.approx(tuple(np.quantile(boot, [0.025, 0.975])))
    # convest: its own percentiles, the upper bound widened as for lfdr.
    cv_settings = replace(spec.corrected, pi0_method="convest", resamples=100)
    cv = corrected_fraction(
        tables["res"], direction, false_share=s.signature_false_share, settings=cv_settings
    )
    idx = np.random.default_rng(spec.corrected.seed).integers(0, len(p), size=(100, len(p)))
    cv_boot = np.clip(directional_pi1(p[idx], agree[idx], pi0_method="convest") / divisor, 0, 1)
    boot = np.clip(directional_pi1(p[idx], agree[idx], pi0_method="bootstrap") / divisor, 0, 1)
    point = directional_pi1(p, agree, pi0_method="convest")[0] / divisor
    assert cv.estimate == pytest.approx(min(max(point, 0.0), 1.0), abs=1e-12)
    assert cv.low == pytest.approx(np.quantile(cv_boot, 0.025), abs=1e-12)
    assert cv.high == pytest.approx(
        max(np.quantile(cv_boot, 0.975), np.quantile(boot, 0.975)), abs=1e-12
    )


# --------------------------------------------------------------------------- sensitivity


def test_threshold_sensitivity_grid(study):
    tables, _ = study
    spec = _spec()
    result = analyze_comparison(tables, spec)
    table = result.sensitivity
    assert list(table.columns) == list(SENSITIVITY_COLUMNS)
    assert len(table) == 4 * 4 * 4
    mine = table[table["configured"]]
    assert len(mine) == 1
    s = result.summary.iloc[0]
    assert mine["signature_size"].iloc[0] == s.signature_size
    assert mine["restored_fraction"].iloc[0] == pytest.approx(s.restored_fraction)
    assert mine["restored_fraction_corrected"].iloc[0] == pytest.approx(
        s.restored_fraction_corrected
    )
    # |S| grows with the FDR and falls with the lfc threshold.
    sizes = table.groupby(["signature_fdr", "signature_lfc"])["signature_size"].first()
    assert sizes.loc[(0.25, 0.0)] >= sizes.loc[(0.01, 0.0)] >= sizes.loc[(0.01, 1.5)]
    # More permissive calls, more restored.
    at = table[(table["signature_fdr"] == 0.05) & (table["signature_lfc"] == 1.0)]
    assert at["restored"].is_monotonic_increasing


def test_threshold_sensitivity_custom_grid(study):
    tables, _ = study
    spec = _spec(sensitivity={"signature_fdr": [0.1], "signature_lfc": [2, 0.5]})
    assert spec.sensitivity == SensitivityGrid(
        signature_fdr=(0.1,), signature_lfc=(0.5, 2.0), restoration_fdr=(0.01, 0.05, 0.1, 0.25)
    )
    table = threshold_sensitivity(tables["ref"], tables["res"], spec)
    assert len(table) == 8 and not table["configured"].any()


@pytest.mark.parametrize(
    ("sensitivity", "key"),
    [
        ({"signature_fdr": [0.05, 1.5]}, "sensitivity.signature_fdr"),
        ({"signature_fdr": [0]}, "sensitivity.signature_fdr"),
        ({"signature_lfc": [-1]}, "sensitivity.signature_lfc"),
        ({"restoration_fdr": []}, "sensitivity.restoration_fdr"),
        ({"restoration_fdr": "0.05"}, "sensitivity.restoration_fdr"),
        ({"restoration_fdr": [True]}, "sensitivity.restoration_fdr"),
        ({"other": [0.1]}, "sensitivity.'other'"),
    ],
)
def test_bad_sensitivity_thresholds_name_the_key(sensitivity, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        _spec(sensitivity=sensitivity)


@pytest.mark.parametrize(
    ("corrected", "key"),
    [
        ({"pi0_method": "magic"}, "corrected.pi0_method"),
        ({"resamples": -1}, "corrected.resamples"),
        ({"min_features": 0}, "corrected.min_features"),
        ({"seed": "x"}, "corrected.seed"),
    ],
)
def test_bad_corrected_settings_name_the_key(corrected, key):
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        _spec(corrected=corrected)


def test_schema_defaults_equal_the_dataclass_defaults():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    entry = schema["properties"]["comparisons"]["items"]["properties"]
    corrected = {k: v["default"] for k, v in entry["corrected"]["properties"].items()}
    default = CorrectedSettings()
    assert corrected["pi0_method"] == default.pi0_method
    assert corrected["resamples"] == default.resamples
    assert corrected["min_features"] == default.min_features
    assert corrected["seed"] is None  # the config's seed
    assert corrected["power_correction"] == default.power_correction == "share_model"
    grid = {k: tuple(v["default"]) for k, v in entry["sensitivity"]["properties"].items()}
    assert grid == {
        "signature_fdr": SensitivityGrid().signature_fdr,
        "signature_lfc": SensitivityGrid().signature_lfc,
        "restoration_fdr": SensitivityGrid().restoration_fdr,
    }


# --------------------------------------------------------------------------- outputs


def test_outputs_headline_and_figures(study, tmp_path):
    from sigrestore.plotting.restoration import save_restoration_figures

    tables, _ = study
    result = analyze_comparison(tables, _spec())
    paths = write_result(result, tmp_path)
    names = {p.name for p in paths}
    assert {"threshold_sensitivity.tsv", "headline.tsv"} <= names
    head = pd.read_csv(tmp_path / "headline.tsv", sep="\t")
    s = result.summary.iloc[0]
    sentence = head["sentence"].iloc[0]
    x = f"{100 * s.restored_fraction_corrected:.0f}%"
    assert sentence.startswith(f"The cotreatment restores {x} (95% CI ")
    noun = {"gene": "gene", "probeset": "probe-set"}[s.level]
    assert f"of the {int(s.signature_size)}-{noun} reference signature" in sentence
    assert f"{100 * s.restored_fraction:.0f}% are called restored at FDR 0.05" in sentence
    assert f"is {s.slope:.2f}." in sentence
    sens = pd.read_csv(tmp_path / "threshold_sensitivity.tsv", sep="\t")
    assert len(sens) == 64
    figs = save_restoration_figures(result, tmp_path, formats=("png",))
    assert {p.stem for p in figs} == {
        "headline",
        "scatter",
        "status",
        "enrichment",
        "overlap",
        "sensitivity",
    }


def test_lost_corrected_fraction_divides_by_the_lost_parts_false_share(monkeypatch):
    """S's false members are almost all lost: their share of the lost part is
    false_share * |S| / |lost|, not false_share (review finding)."""
    import sigrestore.restoration.corrected as corrected_module
    from sigrestore.restoration.calls import LOST
    from sigrestore.restoration.corrected import corrected_columns

    size, n_true_lost, n_false = 3000, 450, 150
    monkeypatch.setattr(corrected_module, "signature_false_share", lambda *a, **k: n_false / size)
    ids = [f"g{i}" for i in range(size)]
    direction = pd.Series(np.where(np.arange(size) % 2 == 0, 1, -1), index=ids)
    status = np.array(["retained"] * size, dtype=object)
    n_lost = n_true_lost + n_false
    status[:n_lost] = LOST
    # Lost part: half of the true members strongly restored in d, the other
    # half and every false member null (evenly spaced p-values, either sign).
    p = np.full(size, 1e-12)
    t = direction.to_numpy() * 8.0
    n_null = n_true_lost // 2 + n_false
    null_rows = np.arange(n_true_lost // 2, n_lost)
    p[null_rows] = (np.arange(n_null) + 0.5) / n_null
    agree = np.where(np.arange(n_null) % 2 == 0, 1.0, -1.0)
    t[null_rows] = direction.to_numpy()[null_rows] * agree * special.ndtri(1 - p[null_rows] / 2)
    restoration = pd.DataFrame({"t": t, "P.Value": p}, index=ids)
    classified = pd.DataFrame({"direction": direction, "resistance_status": status}, index=ids)
    # Constructed p-values without logFC: the divisor, not the power model, is tested.
    spec = _spec(corrected={"resamples": 0, "power_correction": "none"})
    out = corrected_columns(pd.DataFrame(index=ids), restoration, classified, spec)
    # Truth: half of the true lost members are restored (0.39 before the fix).
    assert out["lost_restored_fraction_corrected"] == pytest.approx(0.5, abs=0.04)
    from sigrestore.restoration.corrected import lost_false_share

    assert lost_false_share(n_false / size, size, n_lost) == pytest.approx(n_false / n_lost)
    assert lost_false_share(0.5, 10, 2) == 1.0
    assert lost_false_share(0.05, 10, 0) == 0.05


def test_corrected_fraction_is_na_when_almost_no_feature_is_a_true_reference_change(caplog):
    """A false share near 1 leaves too few true features: NA with the reason,
    not pi1 divided by a share near 0 (which would clip any small pi1 to 1)."""
    from sigrestore.restoration.corrected import corrected_fraction

    n = 100
    ids = [f"g{i}" for i in range(n)]
    direction = pd.Series(1, index=ids)
    p = (np.arange(n) + 0.5) / n
    restoration = pd.DataFrame({"t": stats.norm.isf(p / 2), "P.Value": p}, index=ids)
    settings = CorrectedSettings(resamples=0, min_features=20, power_correction="none")
    kept = corrected_fraction(restoration, direction, false_share=0.5, settings=settings)
    assert np.isfinite(kept.estimate)
    with caplog.at_level(logging.WARNING, logger="sigrestore.restoration.corrected"):
        est = corrected_fraction(
            restoration, direction, false_share=0.9, settings=settings, label="cmp"
        )
    assert np.isnan(est.estimate) and np.isnan(est.low) and np.isnan(est.high)
    assert "true reference changes" in est.reason
    assert "cmp: corrected fraction is NA" in caplog.text
