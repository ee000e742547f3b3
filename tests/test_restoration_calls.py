"""Signature and status calls, the statistics, and the comparison spec (issue 5).

The toy tables below are small enough to check every call by hand; the
statistics are compared with scipy / statsmodels / numpy and with R
(tests/data/restoration/r_reference_*.tsv, made by make/r_reference.R).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from sigrestore.errors import ConfigError, DesignError
from sigrestore.restoration import (
    ComparisonSpec,
    classify_signature,
    comparison_calls,
    direction_calls,
    hypergeometric_test,
    modulator_flags,
    percentile_interval,
    resistance_status,
    restoration_slope,
    restoration_status,
    signature_calls,
    spearman_correlation,
    status_counts,
    wilson_interval,
)

IDS = [f"f{i:02d}" for i in range(1, 13)]


def table(logfc, adj, ids=IDS):
    """A limma-like table; t = logFC / 0.3 and P.Value = adj / 2 (NaN stays NaN)."""
    logfc = np.asarray(logfc, dtype=float)
    adj = np.asarray(adj, dtype=float)
    return pd.DataFrame(
        {
            "logFC": logfc,
            "AveExpr": 8.0,
            "t": logfc / 0.3,
            "P.Value": adj / 2,
            "adj.P.Val": adj,
            "B": 0.0,
        },
        index=pd.Index(ids, name="id"),
    )


nan = float("nan")
# Reference: S = f01 up, f02 up, f03 down, f04 down, f07 up (see each comment).
REF = table(
    [2.0, 1.5, -2.0, -1.2, 3.0, 0.5, 1.0, -1.0, 2.5, 0.3, -0.2, 0.1],
    # f05 p too big, f06 |logFC| < 1, f07 on both boundaries (kept), f08 p == fdr (dropped),
    # f09 NaN p (dropped), f10-f12 null.
    [0.001, 0.01, 0.001, 0.04, 0.2, 0.001, 0.049, 0.05, nan, 0.9, 0.9, 0.9],
)
# Restoration: f01 restored, f02 reversed, f03 not restored, f04 restored, f07 restored;
# outside S, f05/f08/f09 are called in the reference's direction (hits), f06 against it.
RES = table(
    [1.8, -1.0, -0.5, -0.9, 0.4, -0.3, 0.2, -0.5, 1.0, 0.1, 0.1, 0.1],
    [0.01, 0.01, 0.3, 0.02, 0.01, 0.01, 0.049, 0.001, 0.01, 0.5, 0.5, 0.5],
)
# Resistance: f01, f04 retained; f02 (not called), f03 (opposite), f07 (not called) lost.
RST = table(
    [1.9, 0.1, 2.0, -1.0, 0, 0, 0.0, 0, 0, 0, 0, 0],
    [0.001, 0.8, 0.01, 0.01, 1, 1, 1.0, 1, 1, 1, 1, 1],
)
# Modulator: calls f01 (+, flagged), f04 (+, wrong direction), f02 (-, but f02 is reversed).
MOD = table(
    [1.0, -1.0, 0, 0.5, 0, 0, 0.5, 0, 0, 0, 0, 0],
    [0.01, 0.001, 1, 0.01, 1, 1, 0.3, 1, 1, 1, 1, 1],
)
TABLES = {"ref": REF, "res": RES, "rst": RST, "mod": MOD}
SPEC = ComparisonSpec.from_dict(
    {
        "name": "toy",
        "reference": "ref",
        "restoration": "res",
        "resistance": "rst",
        "modulator": "mod",
        "signature": {"fdr": 0.05, "lfc": 1.0},
    }
)


# --------------------------------------------------------------------------- calls


def test_signature_threshold_calls_by_hand():
    s = signature_calls(REF, fdr=0.05, lfc=1.0)
    expected = dict.fromkeys(IDS, 0) | {"f01": 1, "f02": 1, "f03": -1, "f04": -1, "f07": 1}
    assert s.to_dict() == expected
    assert s.dtype == np.int8


def test_signature_treat_uses_p_only():
    s = signature_calls(REF, fdr=0.05, lfc=1.0, method="treat")
    # f06 (|logFC| 0.5) is now in: TREAT p-values already test against lfc.
    assert set(s[s != 0].index) == {"f01", "f02", "f03", "f04", "f06", "f07"}


def test_signature_top_n_by_p_then_abs_t_then_id():
    s = signature_calls(REF, fdr=0.05, lfc=1.0, method="top", top_n=3)
    # P.Value: f01, f03, f06 tie at 0.0005; |t| breaks the tie: f01 (6.67) = f03 (6.67) > f06.
    assert set(s[s != 0].index) == {"f01", "f03", "f06"}
    s2 = signature_calls(REF, fdr=0.05, lfc=1.0, method="top", top_n=2)
    assert s2[s2 != 0].to_dict() == {"f01": 1, "f03": -1}
    # NaN p-values are never chosen, even when top_n exceeds the valid features.
    s_all = signature_calls(REF, fdr=0.05, lfc=1.0, method="top", top_n=len(REF))
    assert s_all["f09"] == 0 and (s_all != 0).sum() == 11
    # More than all the features is a mistake (issue 15), not "use them all".
    with pytest.raises(ConfigError, match="top_n 100 is more than the 12 features"):
        signature_calls(REF, fdr=0.05, lfc=1.0, method="top", top_n=100)


def test_signature_top_needs_top_n():
    with pytest.raises(ConfigError):
        signature_calls(REF, fdr=0.05, lfc=1.0, method="top")
    with pytest.raises(ConfigError):
        signature_calls(REF, fdr=0.05, lfc=1.0, method="nope")


def test_direction_calls_thresholds():
    c = direction_calls(RES, fdr=0.05, lfc=0.0)
    assert c.to_dict() == dict(zip(IDS, [1, -1, 0, -1, 1, -1, 1, -1, 1, 0, 0, 0], strict=True))
    c2 = direction_calls(RES, fdr=0.05, lfc=0.5)
    assert c2[["f01", "f02", "f04", "f07", "f08"]].tolist() == [1, -1, -1, 0, -1]


def test_every_status_by_hand():
    s = signature_calls(REF, fdr=0.05, lfc=1.0)
    status = restoration_status(s, direction_calls(RES, fdr=0.05))
    assert status.to_dict() == {
        "f01": "restored",
        "f02": "reversed",
        "f03": "not_restored",
        "f04": "restored",
        "f07": "restored",
    }
    rst = resistance_status(s, direction_calls(RST, fdr=0.05))
    assert rst.to_dict() == {
        "f01": "retained",
        "f02": "lost",
        "f03": "lost",
        "f04": "retained",
        "f07": "lost",
    }
    flags = modulator_flags(s, status, direction_calls(MOD, fdr=0.05))
    assert flags.to_dict() == {"f01": True, "f02": False, "f03": False, "f04": False, "f07": False}


def test_status_counts_by_hand():
    counts = status_counts(classify_signature(comparison_calls(TABLES, SPEC)))
    assert counts == {
        "signature_size": 5,
        "signature_up": 3,
        "signature_down": 2,
        "restored": 3,
        "reversed": 1,
        "not_restored": 1,
        "restored_up": 2,
        "restored_down": 1,
        "reversed_up": 1,
        "reversed_down": 0,
        "retained": 2,
        "lost": 3,
        "lost_up": 2,
        "lost_down": 1,
        "lost_restored": 1,
        "lost_reversed": 1,
        "lost_not_restored": 1,
        "modulator_flagged": 1,
        "restored_beyond_modulator": 2,
    }


def test_missing_features_and_columns_raise():
    s = signature_calls(REF, fdr=0.05, lfc=1.0)
    with pytest.raises(DesignError, match="missing"):
        restoration_status(s, direction_calls(RES.drop(index="f01"), fdr=0.05))
    with pytest.raises(DesignError, match=r"res.*adj\.P\.Val"):
        comparison_calls({**TABLES, "res": RES.drop(columns="adj.P.Val")}, SPEC)
    with pytest.raises(DesignError, match="missing from restoration"):
        comparison_calls({**TABLES, "res": RES.drop(index="f11")}, SPEC)
    with pytest.raises(ConfigError, match=r"'modulator'.*'mod'"):
        comparison_calls({k: v for k, v in TABLES.items() if k != "mod"}, SPEC)


def test_separate_call_thresholds():
    spec = ComparisonSpec.from_dict(
        {
            "name": "toy",
            "reference": "ref",
            "restoration": "res",
            "signature": {"fdr": 0.05, "lfc": 1.0},
            "calls": {"restoration": {"fdr": 0.015, "lfc": 0.5}},
        }
    )
    status = classify_signature(comparison_calls(TABLES, spec))["status"]
    # f04 (p 0.02) and f07 (|logFC| 0.2) are no longer called.
    assert status.to_dict() == {
        "f01": "restored",
        "f02": "reversed",
        "f03": "not_restored",
        "f04": "not_restored",
        "f07": "not_restored",
    }


# --------------------------------------------------------------------------- statistics


@pytest.fixture(scope="module")
def r_tests(data_dir):
    return pd.read_csv(
        data_dir / "restoration" / "r_reference_tests.tsv", sep="\t", skipinitialspace=True
    )


def test_hypergeometric_against_scipy_and_r(r_tests):
    # Toy: N = 12 features, K = 6 hits (3 restored + f05, f08, f09), n = |S| = 5, k = 3.
    assert hypergeometric_test(3, 5, 6, 12) == pytest.approx(
        stats.hypergeom.sf(2, 12, 6, 5), rel=1e-12
    )
    # By hand: P(X >= 3) = sum_{x=3..5} C(6,x) C(6,5-x) / C(12,5) = (300 + 90 + 6) / 792.
    assert hypergeometric_test(3, 5, 6, 12) == pytest.approx(396 / 792, rel=1e-12)
    for row in r_tests.itertuples():
        got = hypergeometric_test(int(row.k), int(row.n), int(row.K), int(row.N))
        assert got == pytest.approx(row.hypergeom_p, rel=1e-9)
    assert np.isnan(hypergeometric_test(0, 0, 3, 10))


def test_wilson_against_statsmodels_and_r(r_tests):
    for row in r_tests.itertuples():
        low, high = wilson_interval(int(row.k), int(row.n), confidence=row.conf)
        sm = proportion_confint(int(row.k), int(row.n), alpha=1 - row.conf, method="wilson")
        assert (low, high) == pytest.approx(sm, abs=1e-12)
        assert (low, high) == pytest.approx((row.wilson_low, row.wilson_high), abs=1e-9)
    assert all(np.isnan(wilson_interval(0, 0)))
    # Exact bounds at the ends, as R's prop.test.
    assert wilson_interval(5, 5)[1] == 1.0 and wilson_interval(0, 5)[0] == 0.0


def test_wilson_formula_by_hand():
    k, n = 3, 5
    z = stats.norm.ppf(0.975)
    p = k / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z / (1 + z**2 / n) * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2))
    assert wilson_interval(k, n) == pytest.approx((centre - half, centre + half), abs=1e-12)


def test_slope_and_spearman_against_numpy_and_r(data_dir):
    s = signature_calls(REF, fdr=0.05, lfc=1.0)
    ids = s[s != 0].index
    x = REF.loc[ids, "logFC"].to_numpy()
    y = RES.loc[ids, "logFC"].to_numpy()
    ref = pd.read_csv(data_dir / "restoration" / "r_reference_scores.tsv", sep="\t")
    slope = restoration_slope(x, y)
    lstsq = np.linalg.lstsq(x[:, None], y, rcond=None)[0][0]
    assert slope == pytest.approx(lstsq, rel=1e-12)
    assert slope == pytest.approx(ref["slope"].iloc[0], rel=1e-12)
    rho = spearman_correlation(x, y)
    rx, ry = stats.rankdata(x), stats.rankdata(y)
    assert rho == pytest.approx(np.corrcoef(rx, ry)[0, 1], rel=1e-12)
    assert rho == pytest.approx(ref["spearman"].iloc[0], rel=1e-12)


def test_scores_degenerate_inputs():
    assert np.isnan(restoration_slope(np.array([]), np.array([])))
    assert np.isnan(restoration_slope(np.zeros(3), np.ones(3)))
    assert restoration_slope(np.array([1.0, nan, 2.0]), np.array([2.0, 5.0, 4.0])) == 2.0
    assert np.isnan(spearman_correlation(np.array([1.0]), np.array([1.0])))
    assert np.isnan(spearman_correlation(np.array([1.0, 2.0]), np.array([3.0, 3.0])))
    with pytest.raises(DesignError):
        restoration_slope(np.ones(2), np.ones(3))


def test_percentile_interval_is_numpy_quantile():
    v = np.array([0.1, 0.5, 0.3, nan, 0.2, 0.9])
    finite = v[np.isfinite(v)]
    assert percentile_interval(v, confidence=0.9) == pytest.approx(
        tuple(np.quantile(finite, [0.05, 0.95]))
    )
    assert all(np.isnan(percentile_interval(np.array([nan]))))


# --------------------------------------------------------------------------- spec


def test_spec_defaults_and_flat_layout():
    spec = ComparisonSpec.from_dict({"name": "a", "reference": "x", "restoration": "y"})
    assert spec.signature.fdr == 0.05 and spec.signature.lfc == 1.0
    assert spec.signature.method == "threshold"
    assert spec.restoration_call.fdr == 0.05 and spec.restoration_call.lfc == 0.0
    assert spec.bootstrap.n == 200 and spec.bootstrap.confidence == 0.95
    assert spec.bootstrap.duplicates == "weights"
    assert spec.contrasts == ("x", "y")
    # The workflow config puts the signature keys at the top level; call fdr follows them.
    flat = ComparisonSpec.from_dict(
        {
            "name": "a",
            "reference": "x",
            "restoration": "y",
            "resistance": "z",
            "fdr": 0.1,
            "lfc": 0.5,
            "method": "top",
            "top_n": 50,
            "calls": {"modulator": {"lfc": 0.2}},
        }
    )
    assert flat.signature.fdr == 0.1 and flat.signature.top_n == 50
    assert flat.resistance_call.fdr == 0.1
    assert flat.modulator_call.lfc == 0.2 and flat.modulator_call.fdr == 0.1
    assert flat.contrasts == ("x", "y", "z")
    with pytest.raises(AttributeError):
        flat.name = "b"  # frozen


@pytest.mark.parametrize(
    ("patch", "key"),
    [
        ({"name": None}, "name"),
        ({"reference": ""}, "reference"),
        ({"restoration": 3}, "restoration"),
        ({"bogus": 1}, "bogus"),
        ({"signature": {"fdr": 0}}, "signature.fdr"),
        ({"signature": {"fdr": 1.5}}, "signature.fdr"),
        ({"signature": {"lfc": -1}}, "signature.lfc"),
        ({"signature": {"method": "fancy"}}, "signature.method"),
        ({"signature": {"method": "top"}}, "signature.top_n"),
        ({"signature": {"top_n": 0}}, "signature.top_n"),
        ({"signature": {"fdr": 0.1}, "fdr": 0.1}, "fdr"),
        ({"signature": {"colour": 1}}, "colour"),
        ({"calls": {"restoration": {"fdr": "x"}}}, "calls.restoration.fdr"),
        ({"calls": {"other": {}}}, "other"),
        ({"calls": {"resistance": {"lfc": -0.1}}}, "calls.resistance.lfc"),
        ({"bootstrap": {"n": -1}}, "bootstrap.n"),
        ({"bootstrap": {"n": 1.5}}, "bootstrap.n"),
        ({"bootstrap": {"seed": True}}, "bootstrap.seed"),
        ({"bootstrap": {"confidence": 1}}, "bootstrap.confidence"),
        ({"bootstrap": {"duplicates": "twice"}}, "bootstrap.duplicates"),
        ({"bootstrap": {"duplicates": None}}, "bootstrap.duplicates"),
        ({"bootstrap": {"replace": True}}, "replace"),
        ({"connectivity": {"permutations": -5}}, "connectivity.permutations"),
        ({"connectivity": 7}, "connectivity"),
        ({"name": "a/b"}, "name"),
    ],
)
def test_spec_errors_name_the_key(patch, key):
    d = {"name": "a", "reference": "x", "restoration": "y"} | patch
    d = {k: v for k, v in d.items() if v is not None}
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        ComparisonSpec.from_dict(d)


def test_spec_not_a_mapping():
    with pytest.raises(ConfigError):
        ComparisonSpec.from_dict(["name"])


# --------------------------------------------------------------------------- invariants

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from hypothesis.extra.numpy import arrays  # noqa: E402

_values = arrays(float, 30, elements=st.floats(-4, 4, allow_nan=False, width=32))
_pvals = arrays(float, 30, elements=st.floats(0, 1, allow_nan=False, width=32))


@settings(max_examples=60, deadline=None)
@given(_values, _pvals, _values, _pvals, st.floats(0.01, 0.5), st.floats(0, 2))
def test_count_invariants(ref_lfc, ref_p, res_lfc, res_p, fdr, lfc):
    ids = [f"g{i:02d}" for i in range(30)]
    tables = {"ref": table(ref_lfc, ref_p, ids), "res": table(res_lfc, res_p, ids)}
    spec = ComparisonSpec.from_dict(
        {"name": "h", "reference": "ref", "restoration": "res", "fdr": fdr, "lfc": lfc}
    )
    calls = comparison_calls(tables, spec)
    counts = status_counts(classify_signature(calls))
    n = counts["signature_size"]
    assert counts["signature_up"] + counts["signature_down"] == n
    assert counts["restored"] + counts["reversed"] + counts["not_restored"] == n
    assert counts["restored_up"] + counts["restored_down"] == counts["restored"]
    # Restored = signature features whose restoration call matches their reference sign.
    in_s = calls["signature"] != 0
    same = calls["restoration"] == np.sign(ref_lfc).astype(np.int8)
    assert counts["restored"] == int((in_s & same).sum())
    if n:
        low, high = wilson_interval(counts["restored"], n)
        assert 0 <= low <= counts["restored"] / n <= high <= 1


def test_config_schema_has_bootstrap_duplicates():
    """The workflow's schema fills bootstrap.duplicates (default weights) and rejects
    other values; the resolved entry builds the spec."""
    yaml = pytest.importorskip("yaml")
    config = pytest.importorskip("sigrestore.config")
    repo = Path(__file__).resolve().parents[1]
    raw = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    filled = config.apply_schema(raw, config.load_schema("config"), what="config")
    entry = filled["comparisons"][0]
    assert entry["bootstrap"]["duplicates"] == "weights"
    assert config.comparison_spec(entry, seed=1).bootstrap.duplicates == "weights"
    entry["bootstrap"]["duplicates"] = "copies"
    assert config.comparison_spec(entry, seed=1).bootstrap.duplicates == "copies"
    bad = yaml.safe_load((repo / "config" / "config.yaml").read_text())
    bad["comparisons"][0]["bootstrap"]["duplicates"] = "twice"
    with pytest.raises(ConfigError, match="duplicates"):
        config.apply_schema(bad, config.load_schema("config"), what="config")


def test_spec_level_defaults_to_probeset_and_is_validated():
    from sigrestore.errors import ConfigError
    from sigrestore.restoration import ComparisonSpec

    base = {"name": "a", "reference": "x", "restoration": "y"}
    assert ComparisonSpec.from_dict(base).level == "probeset"
    assert ComparisonSpec.from_dict(base | {"level": "gene"}).level == "gene"
    with pytest.raises(ConfigError, match="'level'"):
        ComparisonSpec.from_dict(base | {"level": "genes"})
