"""Designs, contrast expressions, BH adjustment and the expression filter."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from sigrestore.diffexp import (
    bh_adjust,
    build_design,
    differential_expression,
    filter_expressed,
    fit_contrasts,
    make_contrasts,
    sanitize_name,
)
from sigrestore.errors import ConfigError, DesignError


@pytest.fixture
def sheet() -> pd.DataFrame:
    cell = ["sensitive"] * 6 + ["resistant"] * 6
    treat = [
        "vehicle", "vehicle", "fulvestrant", "fulvestrant", "vehicle", "fulvestrant",
        "vehicle", "vehicle", "fulvestrant+rapamycin", "fulvestrant+rapamycin",
        "fulvestrant", "fulvestrant",
    ]  # fmt: skip
    return pd.DataFrame(
        {
            "sample": [f"s{i}" for i in range(12)],
            "cell_line": cell,
            "treatment": treat,
            "batch": [1, 2] * 6,
            "rin": np.linspace(7.0, 9.0, 12),
        }
    )


def test_groups_are_factor_combinations(sheet):
    d = build_design(sheet, factors=["cell_line", "treatment"])
    assert d.group_names == [
        "resistant_fulvestrant",
        "resistant_fulvestrant_rapamycin",
        "resistant_vehicle",
        "sensitive_fulvestrant",
        "sensitive_vehicle",
    ]
    assert d.groups.loc["s8"] == "resistant_fulvestrant_rapamycin"
    assert "sensitive_fulvestrant_rapamycin" in d.empty_groups
    assert list(d.matrix.index) == list(sheet["sample"])
    # Cell means: each row has exactly one group indicator.
    np.testing.assert_array_equal(d.matrix[d.group_names].sum(axis=1), 1.0)


def test_covariates_treatment_coded_and_numeric(sheet):
    d = build_design(sheet, factors=["cell_line", "treatment"], covariates=["C(batch)", "rin"])
    assert d.coefficients[-2:] == ["batch2", "rin"]
    np.testing.assert_array_equal(d.matrix["batch2"], (sheet["batch"] == 2).astype(float))
    np.testing.assert_array_equal(d.matrix["rin"], sheet["rin"])
    numeric = build_design(sheet, factors=["cell_line"], covariates=["batch"])
    np.testing.assert_array_equal(numeric.matrix["batch"], sheet["batch"].astype(float))


def test_categorical_level_order_is_respected(sheet):
    sheet = sheet.assign(
        cell_line=pd.Categorical(sheet["cell_line"], categories=["sensitive", "resistant"])
    )
    d = build_design(sheet, factors=["cell_line"])
    assert d.group_names == ["sensitive", "resistant"]


def test_sanitize_name():
    assert sanitize_name("fulvestrant+rapamycin") == "fulvestrant_rapamycin"
    assert sanitize_name("1uM dose") == "X1uM_dose"
    assert sanitize_name("lambda") == "lambda_"
    assert sanitize_name("") == "X"


def test_sanitized_collision_is_an_error(sheet):
    sheet = sheet.assign(treatment=["a-b", "a_b"] * 6)
    with pytest.raises(DesignError, match="'a-b' and 'a_b'"):
        build_design(sheet, factors=["treatment"])


def test_covariate_colliding_with_group(sheet):
    sheet = sheet.assign(grp=["b2"] * 6 + ["x"] * 6, b=["1"] * 6 + ["2"] * 6)
    with pytest.raises(DesignError, match="b2"):
        build_design(sheet, factors=["grp"], covariates=[{"name": "b", "type": "factor"}])


def test_missing_or_empty_columns(sheet):
    with pytest.raises(ConfigError, match="'genotype'"):
        build_design(sheet, factors=["genotype"])
    holes = sheet.assign(treatment=[None, *sheet["treatment"][1:]])
    with pytest.raises(ConfigError, match="row 1"):
        build_design(holes, factors=["treatment"])
    with pytest.raises(DesignError, match="at least one factor"):
        build_design(sheet, factors=[])
    with pytest.raises(DesignError, match="single level"):
        build_design(sheet.assign(k="same"), factors=["cell_line"], covariates=["k"])


@pytest.fixture
def design(sheet):
    return build_design(sheet, factors=["cell_line", "treatment"])


def test_contrast_expressions(design):
    cm = make_contrasts(
        {
            "combo": "resistant_fulvestrant_rapamycin - resistant_vehicle",
            "avg": "(resistant_fulvestrant + resistant_vehicle)/2 - sensitive_vehicle",
            "scaled": "-0.5*sensitive_fulvestrant + sensitive_vehicle * 0.5",
        },
        design,
    )
    assert list(cm.index) == design.coefficients
    assert cm["combo"].to_dict() == {
        "resistant_fulvestrant": 0,
        "resistant_fulvestrant_rapamycin": 1,
        "resistant_vehicle": -1,
        "sensitive_fulvestrant": 0,
        "sensitive_vehicle": 0,
    }
    np.testing.assert_allclose(cm["avg"], [0.5, 0, 0.5, 0, -1])
    np.testing.assert_allclose(cm["scaled"], [0, 0, 0, -0.5, 0.5])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("resistant_vehicle - nonexistent", "unknown group 'nonexistent'"),
        ("sensitive_fulvestrant_rapamycin - sensitive_vehicle", "is empty"),
        ("resistant_vehicle * sensitive_vehicle", "not linear"),
        ("resistant_vehicle / sensitive_vehicle", "not linear"),
        ("resistant_vehicle / 0", "division by zero"),
        ("__import__('os').system('true')", "not allowed"),
        ("resistant_vehicle.real - sensitive_vehicle", "not allowed"),
        ("resistant_vehicle - sensitive_vehicle + 1", "constant term"),
        ("resistant_vehicle - resistant_vehicle", "identically zero"),
        ("resistant_vehicle -", "cannot parse"),
        ("   ", "empty expression"),
        ("True * resistant_vehicle", "not a number"),
        ("resistant_vehicle ** 2", "not allowed"),
    ],
)
def test_bad_contrasts_are_named(design, text, message):
    with pytest.raises(DesignError, match="'bad'") as info:
        make_contrasts({"bad": text}, design)
    assert message in str(info.value)


def test_no_contrast(design):
    with pytest.raises(DesignError, match="no contrast"):
        make_contrasts({}, design)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=-4, max_value=4), min_size=3, max_size=3),
    st.integers(min_value=1, max_value=5),
)
def test_expression_reduces_to_its_coefficients(weights, divisor):
    names = ["a", "b", "c"]
    d = build_design(pd.DataFrame({"sample": list("xyzuvw"), "g": names * 2}), factors=["g"])
    text = "(" + " + ".join(f"({w})*{n}" for w, n in zip(weights, names, strict=True)) + ")"
    text += f" / {divisor}"
    if not any(weights):
        with pytest.raises(DesignError):
            make_contrasts({"k": text}, d)
        return
    cm = make_contrasts({"k": text}, d)
    np.testing.assert_allclose(cm["k"], np.array(weights) / divisor)


def test_no_residual_degrees_of_freedom():
    sheet = pd.DataFrame({"sample": ["a", "b"], "g": ["x", "y"]})
    expr = pd.DataFrame(np.ones((3, 2)), columns=["a", "b"])
    with pytest.raises(DesignError, match="residual degree of freedom"):
        differential_expression(expr, sheet, factors=["g"], contrasts={"c": "x - y"})


def test_shape_mismatch(sheet, design):
    expr = pd.DataFrame(np.zeros((5, 11)))
    with pytest.raises(DesignError, match="11 arrays"):
        differential_expression(
            expr, sheet, factors=["cell_line"], contrasts={"c": "resistant - sensitive"}
        )
    with pytest.raises(DesignError, match="11 arrays"):
        fit_contrasts(
            expr, design, make_contrasts({"c": "resistant_vehicle - sensitive_vehicle"}, design)
        )


def test_bad_options(sheet):
    expr = pd.DataFrame(np.zeros((5, 12)), columns=sheet["sample"])
    with pytest.raises(ConfigError, match="treat_lfc"):
        differential_expression(
            expr, sheet, factors=["cell_line"], contrasts={"c": "resistant - sensitive"},
            treat_lfc=-1.0,
        )  # fmt: skip
    with pytest.raises(ConfigError, match="'pair'"):
        differential_expression(
            expr, sheet, factors=["cell_line"], contrasts={"c": "resistant - sensitive"},
            block="pair",
        )  # fmt: skip
    with pytest.raises(DesignError, match="without a block"):
        d = build_design(sheet, factors=["cell_line"])
        fit_contrasts(expr, d, make_contrasts({"c": "resistant - sensitive"}, d), correlation=0.3)


def test_bh_matches_statsmodels():
    rng = np.random.default_rng(1)
    p = rng.uniform(size=500) ** 3
    p[[3, 7]] = p[5]  # ties
    np.testing.assert_allclose(bh_adjust(p), multipletests(p, method="fdr_bh")[1], rtol=1e-14)
    with_nan = p.copy()
    with_nan[10] = np.nan
    got = bh_adjust(with_nan)
    assert np.isnan(got[10])
    keep = np.arange(p.size) != 10
    np.testing.assert_allclose(got[keep], multipletests(p[keep], method="fdr_bh")[1])


def test_filter_expressed():
    expr = pd.DataFrame(
        [[1.0, 2.0, 8.0, 9.0], [7.0, 7.0, 7.0, 7.0], [1.0, 1.0, 1.0, np.nan], [6.9, 7.0, 1, 1]],
        index=["p1", "p2", "p3", "p4"],
    )
    kept = filter_expressed(expr, min_expr=7.0, min_samples=2)
    assert list(kept.index) == ["p1", "p2"]
    assert list(filter_expressed(expr, min_expr=7.0, min_samples=1).index) == ["p1", "p2", "p4"]
    with pytest.raises(ConfigError, match="min_samples"):
        filter_expressed(expr, min_expr=7.0, min_samples=5)
    with pytest.raises(ConfigError, match="min_expr"):
        filter_expressed(expr, min_expr=float("nan"), min_samples=1)


def test_deeply_nested_contrast_is_a_design_error(sheet):
    d = build_design(sheet, factors=["cell_line"])
    with pytest.raises(DesignError, match="contrast 'x' is nested too deeply"):
        make_contrasts({"x": "-" * 1975 + "resistant - sensitive"}, d)
    # Moderate nesting is still parsed: an even number of minus signs is a plus.
    cm = make_contrasts({"x": "-" * 100 + "resistant - sensitive"}, d)
    assert cm["x"].tolist() == [1.0, -1.0]


def test_group_label_collision_names_both_level_tuples(sheet):
    sheet = sheet.assign(a=["x_y"] * 6 + ["x"] * 6, b=["z"] * 6 + ["y_z"] * 6)
    with pytest.raises(DesignError) as info:
        build_design(sheet, factors=["a", "b"])
    msg = str(info.value)
    assert "('x_y', 'z')" in msg and "('x', 'y_z')" in msg and "'x_y_z'" in msg
    assert "covariate" not in msg


def test_group_label_collision_of_absent_combination_is_harmless(sheet):
    # ("x", "y_z") never occurs: group x_y_z is ("x_y", "z") only, listed once.
    sheet = sheet.assign(a=["x_y"] * 6 + ["x"] * 6, b=["z"] * 6 + ["w"] * 6)
    sheet.loc[0, "b"] = "y_z"
    sheet.loc[0, "a"] = "q"
    d = build_design(sheet, factors=["a", "b"])
    assert d.group_names.count("x_y_z") == 1
    assert d.matrix.columns.is_unique


def test_design_table_lists_groups_with_their_samples_and_covariate_kinds():
    from sigrestore.diffexp.design import design_table

    sheet = pd.DataFrame(
        {
            "sample": ["a", "b", "c", "d", "e"],
            "treatment": ["veh", "veh", "drug", "drug", "drug"],
            "rin": ["7.5", "8", "6.5", "9", "7"],
            "batch": ["1", "2", "1", "2", "1"],
        }
    )
    design = build_design(
        sheet, factors=["treatment"], covariates=["rin", {"name": "batch", "type": "factor"}]
    )
    table = design_table(design)
    assert table.to_dict("records") == [
        {"term": "drug", "kind": "group", "arrays": 3, "samples": "c, d, e"},
        {"term": "veh", "kind": "group", "arrays": 2, "samples": "a, b"},
        {"term": "rin", "kind": "numeric covariate", "arrays": 5, "samples": "rin"},
        {"term": "batch", "kind": "factor covariate", "arrays": 5, "samples": "batch2"},
    ]
