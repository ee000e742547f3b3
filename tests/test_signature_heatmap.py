"""signature_heatmap draws S (and only S) as row z-scores over every array; the
workflow's restoration outputs are written to exactly the paths asked for."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sigrestore.errors import ConfigError
from sigrestore.restoration import analyze_comparison

GROUPS = ["S_veh", "S_fulv", "R_veh", "R_fulv", "R_combo"]


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(3)
    n_rep, n = 3, 80
    samples = pd.DataFrame(
        {
            "sample": [f"{g}_{i}" for g in GROUPS for i in range(n_rep)],
            "group": [g for g in GROUPS for _ in range(n_rep)],
        }
    )
    effect = np.zeros((n, len(GROUPS)))
    effect[:12, 1] = 3.0
    effect[12:20, 1] = -3.0
    effect[:6, 4] = 3.0
    x = rng.normal(8, 1, (n, 1)) + np.repeat(effect, n_rep, axis=1) + rng.normal(0, 0.2, (n, 15))
    expr = pd.DataFrame(x, index=[f"f{i:02d}" for i in range(n)], columns=samples["sample"])
    from sigrestore.diffexp import differential_expression

    contrasts = {"fulv_S": "S_fulv - S_veh", "combo_R": "R_combo - R_veh"}
    tables = differential_expression(expr, samples, factors=["group"], contrasts=contrasts)
    spec = {
        "name": "h",
        "reference": "fulv_S",
        "restoration": "combo_R",
        "bootstrap": {"n": 0},
        "connectivity": {"permutations": 0},
    }
    return expr, samples, analyze_comparison(tables, spec)


def _heatmap_axis(fig):
    return next(ax for ax in fig.axes if ax.get_ylabel().startswith("signature features"))


def test_signature_heatmap_shows_the_signature_as_row_z_scores(case):
    import matplotlib.pyplot as plt

    from sigrestore.plotting.restoration import signature_heatmap

    expr, samples, result = case
    signature = list(result.features.index)
    assert len(signature) == 20
    fig = signature_heatmap(result, expr, samples)
    try:
        ax = _heatmap_axis(fig)
        assert ax.get_ylabel() == "signature features (20)"
        rows = [t.get_text() for t in ax.get_yticklabels()]
        cols = [t.get_text() for t in ax.get_xticklabels()]
        assert sorted(rows) == sorted(signature)
        assert sorted(cols) == sorted(samples["sample"])
        shown = np.asarray(ax.collections[0].get_array()).reshape(len(rows), len(cols))
        data = expr.loc[rows, cols].to_numpy()
        z = (data - data.mean(axis=1, keepdims=True)) / data.std(axis=1, ddof=1, keepdims=True)
        np.testing.assert_allclose(shown, z, rtol=1e-12, atol=1e-12)
        # S-up rows are coloured differently from S-down rows.
        assert result.features["direction"].value_counts().to_dict() == {"up": 12, "down": 8}
    finally:
        plt.close(fig)


def test_signature_heatmap_keeps_the_most_significant_features(case):
    import matplotlib.pyplot as plt

    from sigrestore.plotting.restoration import signature_heatmap

    expr, samples, result = case
    fig = signature_heatmap(result, expr, samples, max_features=5)
    try:
        ax = _heatmap_axis(fig)
        rows = {t.get_text() for t in ax.get_yticklabels()}
        p = result.features[f"adj.P.Val_{result.spec.reference}"].sort_values(kind="stable")
        assert rows == set(p.index[:5])
    finally:
        plt.close(fig)


def test_restoration_outputs_write_exactly_the_paths_given(case, tmp_path):
    from sigrestore.pipeline import RestorationOutputs

    expr, samples, result = case
    out = RestorationOutputs(result=result, expression=expr, samples=samples)
    paths = {
        "summary": tmp_path / "a" / "s.tsv",
        "bootstrap": tmp_path / "b.tsv",
        "scatter_png": tmp_path / "x" / "sc.png",
        "heatmap_svg": tmp_path / "h.svg",
    }
    written = out.write_to(paths)
    assert sorted(written) == sorted(paths.values())
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(paths.values())
    summary = pd.read_csv(paths["summary"], sep="\t", index_col=0)
    assert summary["signature_size"].iloc[0] == 20
    with pytest.raises(ConfigError, match="no figure named"):
        out.write_to({"volcano_png": tmp_path / "v.png"})


def test_restoration_outputs_write_the_headline_and_sensitivity_outputs(case, tmp_path):
    """Issue 9's outputs by their workflow names: the positional tables carry no
    index column, and a table name is never mistaken for a figure's file."""
    from sigrestore.pipeline import RestorationOutputs
    from sigrestore.restoration.headline import HEADLINE_COLUMNS
    from sigrestore.restoration.sensitivity import SENSITIVITY_COLUMNS

    expr, samples, result = case
    out = RestorationOutputs(result=result, expression=expr, samples=samples)
    paths = {
        "headline": tmp_path / "headline.tsv",
        "threshold_sensitivity": tmp_path / "threshold_sensitivity.tsv",
        "headline_png": tmp_path / "headline.png",
        "sensitivity_svg": tmp_path / "sensitivity.svg",
    }
    written = out.write_to(paths)
    assert sorted(written) == sorted(paths.values())
    assert sorted(p for p in tmp_path.rglob("*") if p.is_file()) == sorted(paths.values())
    headline = pd.read_csv(paths["headline"], sep="\t")
    assert list(headline.columns) == list(HEADLINE_COLUMNS)
    assert headline["comparison"].tolist() == ["h"]
    grid = pd.read_csv(paths["threshold_sensitivity"], sep="\t")
    assert list(grid.columns) == list(SENSITIVITY_COLUMNS)
    assert len(grid) == 4 * 4 * 4
    assert paths["headline_png"].read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ConfigError, match="no figure named"):
        out.write_to({"sensitivity_table": tmp_path / "x.tsv"})
