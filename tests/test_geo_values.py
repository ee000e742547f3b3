"""GEO2R's log2 decision, limma's quantile normalization and limma tables on a GEO
matrix, against R (tests/data/geo/make/geo_reference.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.diffexp import build_design, fit_contrasts, make_contrasts
from sigrestore.errors import ConfigError
from sigrestore.geo import (
    apply_log2,
    decide_log2,
    normalize_quantiles,
    read_series_matrix,
    read_soft,
)
from sigrestore.sources.geo import GeoSettings, load_geo

DATA = Path(__file__).parent / "data" / "geo"
REF = DATA / "reference"


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name, sep="\t", index_col=0, na_values=["NA"], dtype={0: str})


def _matrix(name: str) -> pd.DataFrame:
    if name == "GDS507":
        return read_soft(DATA / "GDS507_subset.soft.gz").expression()
    return read_series_matrix(DATA / f"{name}_series_matrix.txt.gz").expression


@pytest.mark.parametrize("name", ["GSE781-GPL97", "GSE781-GPL96", "GSE999999", "GDS507"])
def test_log2_decision_equals_geo2r(name):
    ref = _ref("log2_decisions.tsv").loc[name]
    decision = decide_log2(_matrix(name))
    np.testing.assert_allclose(decision.quantiles, ref.iloc[:6].to_numpy(float), rtol=1e-12)
    assert decision.transform == bool(ref["LogC"])
    assert "GEO2R rule" in decision.reason


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (np.linspace(0.0, 14.0, 101), False),  # log scale
        (np.linspace(1.0, 60.0, 101), True),  # range > 50 and q25 > 0
        (np.linspace(-40.0, 20.0, 101), False),  # range > 50 but q25 <= 0 (log ratios)
        (np.r_[np.linspace(1.0, 10.0, 98), 500.0, 600.0], True),  # q99 > 100
    ],
)
def test_log2_rule_branches(values, expected):
    assert decide_log2(values.reshape(-1, 1)).transform is expected


def test_log2_forced_and_invalid():
    x = np.linspace(0.0, 14.0, 50).reshape(-1, 2)
    assert decide_log2(x, "yes").transform
    assert not decide_log2(x * 1000, "no").transform
    with pytest.raises(ConfigError, match="log2"):
        decide_log2(x, "maybe")


def test_apply_log2_sets_nonpositive_missing():
    frame = pd.DataFrame({"a": [0.0, -1.0, 8.0, np.nan], "b": [4.0, 2.0, 1.0, 16.0]})
    decision = decide_log2(np.array([[1.0], [1000.0]]))
    out = apply_log2(frame, decision)
    assert np.isnan(out["a"].iloc[:2]).all() and out["a"].iloc[2] == 3.0
    assert np.isnan(out["a"].iloc[3])
    np.testing.assert_array_equal(out["b"], [2.0, 1.0, 0.0, 4.0])


def _log2_gse781() -> pd.DataFrame:
    ex = _matrix("GSE781-GPL97")
    return apply_log2(ex, decide_log2(ex))


def test_quantile_normalization_equals_limma_with_missing_value():
    ours = normalize_quantiles(_log2_gse781())
    ref = _ref("GSE781-GPL97_log2_quantile.tsv").loc[ours.index]
    assert int(np.isnan(ours.to_numpy()).sum()) == 1
    np.testing.assert_array_equal(np.isnan(ours.to_numpy()), np.isnan(ref.to_numpy()))
    np.testing.assert_allclose(ours.to_numpy(), ref.to_numpy(), rtol=1e-12)


def test_quantile_normalization_without_missing_gives_equal_distributions():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(50, 4)))
    out = normalize_quantiles(frame)
    sorted_cols = np.sort(out.to_numpy(), axis=0)
    np.testing.assert_allclose(sorted_cols, sorted_cols[:, [0]].repeat(4, axis=1))
    np.testing.assert_allclose(sorted_cols[:, 0], np.sort(frame.to_numpy(), axis=0).mean(axis=1))


@pytest.mark.parametrize(
    ("normalize", "ref_name"),
    [
        ("none", "GSE781-GPL97_limma_RCC_vs_normal.tsv"),
        ("quantile", "GSE781-GPL97_quantile_limma_RCC_vs_normal.tsv"),
    ],
)
def test_limma_on_geo_matrix_equals_r(normalize, ref_name):
    settings = GeoSettings(
        "GSE781",
        matrix=str(DATA / "GSE781-GPL97_series_matrix.txt.gz"),
        normalize=normalize,
    )
    ds = load_geo(settings)
    assert ds.provenance["log2"]["log2"] is True
    assert ds.provenance["normalization"] == normalize
    assert ds.provenance["missing_values"] == 1
    samples = ds.samples.assign(disease=ds.samples["disease state"])
    design = build_design(samples, factors=["disease"])
    contrasts = make_contrasts({"RCC_vs_normal": "RCC - normal"}, design)
    table = fit_contrasts(ds.expression, design, contrasts).table("RCC_vs_normal")
    ref = _ref(ref_name).loc[table.index]
    for col in ["logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]:
        np.testing.assert_allclose(table[col], ref[col], rtol=1e-6, err_msg=col)


def test_decision_is_logged_and_recorded(caplog):
    settings = GeoSettings("GSE781", matrix=str(DATA / "GSE781-GPL97_series_matrix.txt.gz"))
    with caplog.at_level("INFO", logger="sigrestore.geo"):
        ds = load_geo(settings)
    assert "GSE781: GEO2R rule: log2 taken" in caplog.text
    assert ds.provenance["log2"]["reason"] in caplog.text
    assert ds.provenance["log2"]["quantiles"]["q99"] == pytest.approx(68176.84)
