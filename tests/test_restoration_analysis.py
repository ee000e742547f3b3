"""analyze_comparison, the bootstrap, the connectivity score, outputs and figures (issue 5)."""

from __future__ import annotations

import functools
import socket

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from test_restoration_calls import SPEC, TABLES

from sigrestore.errors import ConfigError, DesignError
from sigrestore.restoration import (
    SUMMARY_COLUMNS,
    ComparisonSpec,
    analyze_comparison,
    bootstrap_fraction,
    combine_scores,
    connectivity_score,
    resample_arrays,
    resample_distinct,
    sample_groups,
    wilson_interval,
    write_result,
)

GROUPS = ["S_veh", "S_fulv", "R_veh", "R_fulv", "R_rapa", "R_combo"]
CONTRASTS = {
    "fulv_S": ("S_fulv", "S_veh"),
    "fulv_R": ("R_fulv", "R_veh"),
    "rapa_R": ("R_rapa", "R_veh"),
    "combo_R": ("R_combo", "R_veh"),
}


def standin_de(
    expr: pd.DataFrame, samples: pd.DataFrame, weights: np.ndarray | None = None
) -> dict[str, pd.DataFrame]:
    """Ordinary two-group t-tests with a pooled variance over all groups, BH-adjusted.

    A stand-in for limma with the same table layout, so these tests do not
    depend on the differential-expression module.  ``weights``: precision weight
    per array (weighted group means, ``s2 = sum(w r^2) / (n - groups)``).
    """
    g = samples.set_index("sample").loc[expr.columns, "group"].to_numpy()
    x = expr.to_numpy(dtype=float)
    w = np.ones(x.shape[1]) if weights is None else np.asarray(weights, dtype=float)
    levels = sorted(set(g))
    wsum = {lv: w[g == lv].sum() for lv in levels}
    means = {lv: x[:, g == lv] @ w[g == lv] / wsum[lv] for lv in levels}
    resid = np.concatenate([x[:, g == lv] - means[lv][:, None] for lv in levels], axis=1)
    wr = np.concatenate([w[g == lv] for lv in levels])
    df = x.shape[1] - len(levels)
    if df < 1:
        raise DesignError("no residual degree of freedom")
    s2 = (resid**2 @ wr) / df
    out = {}
    for name, (a, b) in CONTRASTS.items():
        lfc = means[a] - means[b]
        t = lfc / np.sqrt(s2 * (1 / wsum[a] + 1 / wsum[b]))
        p = 2 * stats.t.sf(np.abs(t), df)
        out[name] = pd.DataFrame(
            {
                "logFC": lfc,
                "AveExpr": x.mean(axis=1),
                "t": t,
                "P.Value": p,
                "adj.P.Val": multipletests(p, method="fdr_bh")[1],
                "B": 0.0,
            },
            index=expr.index,
        )
    return out


def copies_only_de(expr: pd.DataFrame, samples: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """A DE function without a weights keyword (only usable with duplicates="copies")."""
    return standin_de(expr, samples)


def simulate(n_features=400, n_rep=3, seed=0):
    """S: 30 up + 30 down features; the combination restores the first 24 (40%)."""
    rng = np.random.default_rng(seed)
    samples = pd.DataFrame(
        {
            "sample": [f"{g}_{i}" for g in GROUPS for i in range(n_rep)],
            "group": [g for g in GROUPS for _ in range(n_rep)],
        }
    )
    effect = np.zeros((n_features, len(GROUPS)))
    sig = np.r_[np.full(30, 2.0), np.full(30, -2.0)]
    effect[:60, 1] = sig
    effect[:60:2, 3] = sig[::2]  # resistance keeps every other feature
    effect[np.r_[0:12, 30:42], 5] = sig[np.r_[0:12, 30:42]]  # restored: 12 up + 12 down
    effect[np.r_[0:4, 30:34], 4] = sig[np.r_[0:4, 30:34]]  # the modulator alone: 8 of them
    x = rng.normal(8, 1, size=(n_features, 1)) + np.repeat(effect, n_rep, axis=1)
    x = x + rng.normal(0, 0.3, size=x.shape)
    ids = [f"p{i:04d}" for i in range(n_features)]
    expr = pd.DataFrame(x, index=ids, columns=samples["sample"])
    return expr, samples


SIM_SPEC = {
    "name": "sim",
    "reference": "fulv_S",
    "restoration": "combo_R",
    "resistance": "fulv_R",
    "modulator": "rapa_R",
    "signature": {"fdr": 0.05, "lfc": 1.0},
    "bootstrap": {"n": 30, "seed": 7},
    "connectivity": {"permutations": 200, "seed": 3},
}


@pytest.fixture(scope="module")
def sim():
    expr, samples = simulate()
    return expr, samples, standin_de(expr, samples)


# --------------------------------------------------------------------------- toy summary


def test_toy_summary_by_hand():
    result = analyze_comparison(TABLES, SPEC)
    s = result.summary
    assert list(s.columns[: len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS)
    assert s.index.tolist() == ["toy"] and s.index.name == "comparison"
    row = s.iloc[0]
    assert (row.signature_size, row.signature_up, row.signature_down) == (5, 3, 2)
    assert (row.restored, row.reversed, row.not_restored) == (3, 1, 1)
    assert row.restored_fraction == 0.6
    assert (row.ci_low, row.ci_high) == pytest.approx(wilson_interval(3, 5))
    assert np.isnan(row.bootstrap_low) and np.isnan(row.bootstrap_high)
    assert (row.universe, row.universe_hits) == (12, 6)
    assert row.hypergeom_p == pytest.approx(396 / 792)
    x = np.array([2, 1.5, -2, -1.2, 1.0])
    y = np.array([1.8, -1.0, -0.5, -0.9, 0.2])
    assert row.slope == pytest.approx(x @ y / (x @ x))
    assert (row.restored_fraction_up, row.restored_fraction_down) == (2 / 3, 1 / 2)
    assert (row.lost, row.lost_restored, row.lost_restored_fraction) == (3, 1, 1 / 3)
    assert (row.lost_ci_low, row.lost_ci_high) == pytest.approx(wilson_interval(1, 3))
    assert (row.modulator_flagged, row.restored_beyond_modulator) == (1, 2)
    assert row.restored_beyond_modulator_fraction == 0.4
    f = result.features
    assert f.index.tolist() == ["f01", "f02", "f03", "f04", "f07"]
    assert f["direction"].tolist() == ["up", "up", "down", "down", "up"]
    assert f["status"].tolist() == ["restored", "reversed", "not_restored", "restored", "restored"]
    assert f["resistance_status"].tolist() == ["retained", "lost", "lost", "retained", "lost"]
    assert f["modulator"].tolist() == [True, False, False, False, False]
    for c in ("ref", "res", "rst", "mod"):
        for stat in ("logFC", "t", "adj.P.Val"):
            assert f"{stat}_{c}" in f
    assert f.loc["f02", "logFC_res"] == -1.0


def test_summary_without_optional_contrasts_has_no_lost_or_modulator_columns():
    spec = {"name": "plain", "reference": "ref", "restoration": "res"}
    result = analyze_comparison(TABLES, spec)
    assert not any(c.startswith("lost") for c in result.summary)
    assert "modulator_flagged" not in result.summary
    assert "resistance_status" not in result.features
    assert "gene" not in result.features


def test_gene_column_is_carried():
    tables = {k: v.assign(gene=[f"G{i}" for i in range(12)]) for k, v in TABLES.items()}
    result = analyze_comparison(tables, SPEC)
    assert result.features.columns[0] == "gene"
    assert result.features.loc["f03", "gene"] == "G2"


def test_empty_signature_gives_nan_fractions():
    spec = {"name": "e", "reference": "ref", "restoration": "res", "signature": {"lfc": 10}}
    row = analyze_comparison(TABLES, spec).summary.iloc[0]
    assert row.signature_size == 0
    assert np.isnan(row.restored_fraction) and np.isnan(row.ci_low)
    assert np.isnan(row.hypergeom_p) and np.isnan(row.slope) and np.isnan(row.connectivity)


# --------------------------------------------------------------------------- simulation


def test_simulated_restored_fraction_and_scores(sim):
    expr, samples, tables = sim
    result = analyze_comparison(
        tables, SIM_SPEC, expr=expr, samples=samples, de_function=standin_de
    )
    row = result.summary.iloc[0]
    assert row.signature_size == 60 and row.restored == 24
    assert row.restored_fraction == pytest.approx(0.4)
    assert row.bootstrap_low <= 0.4 + 0.05 and row.bootstrap_high >= 0.4 - 0.05
    assert row.bootstrap_resamples == 30 and row.bootstrap_valid == 30
    assert row.bootstrap_mean == pytest.approx(result.bootstrap["restored_fraction"].mean())
    assert row.modulator_flagged == 8
    assert row.hypergeom_p < 1e-10
    # The combination restores 40% of the effect size: slope near 0.4, strong connectivity.
    assert 0.3 < row.slope < 0.5
    assert row.connectivity > 0.3 and row.es_up > 0 > row.es_down
    assert row.connectivity_p <= 0.01
    assert len(result.bootstrap) == 30
    assert result.groups.loc["R_combo_1"] == "R_combo"


def test_bootstrap_determinism_and_seed(sim):
    expr, samples, _ = sim
    spec = ComparisonSpec.from_dict(SIM_SPEC)
    groups = sample_groups(samples)
    run = functools.partial(
        bootstrap_fraction, expr, samples, spec, de_function=standin_de, groups=groups, n=15
    )
    a, b = run(seed=11), run(seed=11)
    pd.testing.assert_frame_equal(a, b)
    c = run(seed=12)
    assert not a.equals(c)
    assert list(a.columns[:3]) == ["signature_size", "restored", "restored_fraction"]
    assert "lost_restored_fraction" in a and "restored_beyond_modulator_fraction" in a


def test_resample_keeps_groups_and_renames_uniquely(sim):
    expr, samples, _ = sim
    groups = sample_groups(samples)
    rng = np.random.default_rng(0)
    matrix, sheet = resample_arrays(expr, samples, groups, rng)
    assert sheet["sample"].is_unique and list(matrix.columns) == sheet["sample"].tolist()
    assert sheet["group"].value_counts().to_dict() == samples["group"].value_counts().to_dict()
    for name, group in zip(sheet["sample"], sheet["group"], strict=True):
        original = name.split("@")[0]
        assert groups[original] == group
        np.testing.assert_array_equal(matrix[name].to_numpy(), expr[original].to_numpy())
    # Some array is drawn twice in a 3-array group sooner or later.
    assert any(sheet["sample"].str.split("@").str[0].duplicated())


def test_resample_distinct_is_the_same_draw_with_multiplicities(sim):
    expr, samples, _ = sim
    groups = sample_groups(samples)
    for seed in range(5):
        _, sheet_c = resample_arrays(expr, samples, groups, np.random.default_rng(seed))
        matrix, sheet, weights = resample_distinct(
            expr, samples, groups, np.random.default_rng(seed)
        )
        drawn = sheet_c["sample"].str.split("@").str[0].value_counts()
        assert sheet["sample"].is_unique and list(matrix.columns) == sheet["sample"].tolist()
        assert dict(zip(sheet["sample"], weights, strict=True)) == drawn.to_dict()
        assert weights.sum() == len(samples)
        for g, size in samples["group"].value_counts().items():
            assert weights[sheet["group"].to_numpy() == g].sum() == size
        np.testing.assert_array_equal(matrix.to_numpy(), expr[sheet["sample"]].to_numpy())
        # The generator ends in the same state whichever form is drawn.
        a, b = np.random.default_rng(seed), np.random.default_rng(seed)
        resample_arrays(expr, samples, groups, a)
        resample_distinct(expr, samples, groups, b)
        assert a.integers(1 << 30) == b.integers(1 << 30)


def test_bootstrap_weights_mode_refits_distinct_arrays_with_multiplicities(sim):
    expr, samples, _ = sim
    spec = ComparisonSpec.from_dict(SIM_SPEC)
    groups = sample_groups(samples)
    seen = []

    def spy(m, sheet, weights=None):
        seen.append((list(m.columns), weights))
        return standin_de(m, sheet, weights)

    boot = bootstrap_fraction(expr, samples, spec, de_function=spy, groups=groups, n=4, seed=3)
    rng = np.random.default_rng(3)
    for cols, weights in seen:
        matrix, _, want = resample_distinct(expr, samples, groups, rng)
        assert cols == list(matrix.columns)
        np.testing.assert_array_equal(weights, want)
    assert len(boot) == 4 and boot["restored_fraction"].notna().all()
    # Unit weights (no array drawn twice) would be the plain fit; duplicates are not.
    assert any((w > 1).any() for _, w in seen)


def test_bootstrap_copies_mode_is_the_old_refit(sim):
    expr, samples, _ = sim
    groups = sample_groups(samples)
    spec = ComparisonSpec.from_dict(SIM_SPEC | {"bootstrap": {"n": 6, "duplicates": "copies"}})
    got = bootstrap_fraction(expr, samples, spec, de_function=copies_only_de, groups=groups)
    rng = np.random.default_rng(spec.bootstrap.seed)
    want = []
    for _ in range(6):
        m, sheet = resample_arrays(expr, samples, groups, rng)
        want.append(standin_de(m, sheet))
    sizes = [
        int((tabs["fulv_S"]["adj.P.Val"].lt(0.05) & tabs["fulv_S"]["logFC"].abs().ge(1)).sum())
        for tabs in want
    ]
    assert got["signature_size"].tolist() == sizes
    weighted = bootstrap_fraction(
        expr, samples, spec, de_function=standin_de, groups=groups, duplicates="weights"
    )
    assert not weighted.equals(got)


def test_copies_bias_the_bootstrap_upward(sim):
    """Duplicates refitted as copies shrink s2 and call more features than weights do
    (same draws in both modes): on average more signature features per resample."""
    expr, samples, _ = sim
    groups = sample_groups(samples)
    spec = ComparisonSpec.from_dict(SIM_SPEC | {"bootstrap": {"n": 20, "seed": 2}})
    run = functools.partial(
        bootstrap_fraction, expr, samples, spec, de_function=standin_de, groups=groups
    )
    copies, weights = run(duplicates="copies"), run(duplicates="weights")
    assert (copies["signature_size"] >= weights["signature_size"]).all()
    assert copies["signature_size"].mean() > weights["signature_size"].mean()


def test_weights_mode_needs_a_weights_keyword(sim):
    expr, samples, _ = sim
    spec = ComparisonSpec.from_dict(SIM_SPEC)
    groups = sample_groups(samples)
    with pytest.raises(ConfigError, match="weights= keyword"):
        bootstrap_fraction(expr, samples, spec, de_function=copies_only_de, groups=groups, n=1)
    with pytest.raises(ConfigError, match=r"bootstrap\.duplicates"):
        bootstrap_fraction(
            expr, samples, spec, de_function=standin_de, groups=groups, n=1, duplicates="x"
        )
    # **kwargs counts as accepting weights.
    boot = bootstrap_fraction(
        expr, samples, spec, groups=groups, n=1,
        de_function=lambda m, s, **kw: standin_de(m, s, kw.get("weights")),
    )  # fmt: skip
    assert len(boot) == 1


def test_resample_without_residual_df_is_invalid_not_a_crash():
    """2 arrays per group: a resample drawing one distinct array in every group leaves
    no residual df (each group 1/2, all six 1/64); such rows are NaN and not counted."""
    expr, samples = simulate(n_rep=2, seed=4)
    tables = standin_de(expr, samples)
    spec = SIM_SPEC | {"bootstrap": {"n": 200, "seed": 5}}
    result = analyze_comparison(tables, spec, expr=expr, samples=samples, de_function=standin_de)
    boot = result.bootstrap
    invalid = boot["restored_fraction"].isna() & boot["signature_size"].isna()
    assert 0 < invalid.sum() < 20
    row = result.summary.iloc[0]
    assert row.bootstrap_resamples == 200
    assert row.bootstrap_valid == int(boot["restored_fraction"].notna().sum())
    assert np.isfinite(row.bootstrap_low) and np.isfinite(row.bootstrap_high)
    assert row.bootstrap_duplicates == "weights"
    assert row.level == "probeset"  # the spec default, recorded with the provenance


def test_all_resamples_invalid_raises_the_refit_error(sim):
    expr, samples, _ = sim
    spec = ComparisonSpec.from_dict(SIM_SPEC)

    def broken(m, s, weights=None):
        raise DesignError("contrast cannot be estimated")

    with pytest.raises(DesignError, match="cannot be estimated"):
        bootstrap_fraction(
            expr, samples, spec, de_function=broken, groups=sample_groups(samples), n=3
        )


def test_bootstrap_errors(sim):
    expr, samples, tables = sim
    with pytest.raises(DesignError, match="de_function"):
        analyze_comparison(tables, SIM_SPEC, expr=expr, samples=samples)
    spec = ComparisonSpec.from_dict(SIM_SPEC)
    with pytest.raises(DesignError, match="lacks array"):
        bootstrap_fraction(
            expr.drop(columns="S_veh_0"),
            samples,
            spec,
            de_function=standin_de,
            groups=sample_groups(samples),
            n=1,
        )
    with pytest.raises(DesignError, match="group"):
        sample_groups(samples.drop(columns="group"))


def test_byte_identical_outputs(sim, tmp_path):
    expr, samples, tables = sim
    written = []
    for run in ("a", "b"):
        result = analyze_comparison(
            tables, SIM_SPEC, expr=expr, samples=samples, de_function=standin_de
        )
        written.append(write_result(result, tmp_path / run))
    for pa, pb in zip(*written, strict=True):
        assert pa.read_bytes() == pb.read_bytes()
    assert [p.name for p in written[0]] == [
        "summary.tsv",
        "features.tsv",
        "bootstrap.tsv",
        "threshold_sensitivity.tsv",
        "headline.tsv",
    ]
    back = pd.read_csv(written[0][0], sep="\t", index_col=0)
    assert list(back.columns[: len(SUMMARY_COLUMNS)]) == list(SUMMARY_COLUMNS)
    assert back.index.tolist() == ["sim"]
    assert back["restored"].iloc[0] == 24
    assert not list(tmp_path.glob("*/.*tmp*"))


def test_real_differential_expression_when_available(sim, tmp_path):
    diffexp = pytest.importorskip("sigrestore.diffexp")
    if not hasattr(diffexp, "differential_expression"):
        pytest.skip("sigrestore.diffexp.differential_expression not available yet")
    expr, samples, _ = sim
    de = functools.partial(
        diffexp.differential_expression,
        factors=["group"],
        contrasts={k: f"{a} - {b}" for k, (a, b) in CONTRASTS.items()},
    )
    tables = de(expr, samples)
    spec = SIM_SPEC | {"bootstrap": {"n": 5, "seed": 1}}
    result = analyze_comparison(
        tables, spec, expr=expr, samples=samples, de_function=de, factors=["group"]
    )
    row = result.summary.iloc[0]
    assert row.signature_size == 60 and row.restored_fraction == pytest.approx(0.4)
    assert row.bootstrap_valid == 5
    # limma refits too: same inputs and seed, byte-identical summary.
    again = analyze_comparison(
        tables, spec, expr=expr, samples=samples, de_function=de, factors=["group"]
    )
    a = write_result(result, tmp_path / "a")[0].read_bytes()
    b = write_result(again, tmp_path / "b")[0].read_bytes()
    assert a == b


# --------------------------------------------------------------------------- connectivity


def linear_ranking(n=200):
    ids = [f"g{i:03d}" for i in range(n)]
    return pd.Series(np.linspace(5, -5, n), index=ids), ids


def test_connectivity_sign_on_constructed_ranking():
    ranking, ids = linear_ranking()
    same = connectivity_score(ranking, ids[:20], ids[-20:], permutations=200, seed=1)
    assert same["es_up"] > 0.9 and same["es_down"] < -0.9
    assert same["score"] == pytest.approx((same["es_up"] - same["es_down"]) / 2)
    assert same["score"] > 0.9 and same["p"] <= 0.01
    opposite = connectivity_score(ranking, ids[-20:], ids[:20], permutations=200, seed=1)
    assert opposite["score"] < -0.9
    both_up = connectivity_score(ranking, ids[:20], ids[20:40], permutations=200, seed=1)
    assert both_up["es_up"] > 0 and both_up["es_down"] > 0
    assert both_up["score"] == 0 and both_up["p"] == 1
    assert len(same["running_up"]) == 200 and same["hits_up"] == list(range(20))


def test_connectivity_deterministic_and_offline(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("gseapy tried the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    rng = np.random.default_rng(5)
    ranking = pd.Series(rng.normal(size=300), index=[f"g{i}" for i in range(300)])
    up, down = list(ranking.index[:15]), list(ranking.index[15:30])
    a = connectivity_score(ranking, up, down, permutations=100, seed=4)
    b = connectivity_score(ranking, up, down, permutations=100, seed=4)
    for key in ("score", "p", "es_up", "es_down", "p_up", "p_down"):
        assert a[key] == b[key] or (np.isnan(a[key]) and np.isnan(b[key]))
    np.testing.assert_array_equal(a["running_up"], b["running_up"])


def test_connectivity_missing_side_and_no_permutations():
    ranking, ids = linear_ranking()
    one_sided = connectivity_score(ranking, ids[:10], [], permutations=50, seed=1)
    assert np.isnan(one_sided["score"]) and one_sided["size_down"] == 0
    no_p = connectivity_score(ranking, ids[:10], ids[-10:], permutations=0, seed=1)
    assert no_p["score"] > 0 and np.isnan(no_p["p"])


def test_combine_scores_rule():
    assert combine_scores(0.6, -0.4, 0.01, 0.03) == (0.5, 0.03)
    assert combine_scores(-0.6, 0.4, 0.01, 0.03) == (-0.5, 0.03)
    assert combine_scores(0.6, 0.4, 0.01, 0.03) == (0.0, 1.0)
    assert all(np.isnan(combine_scores(np.nan, 0.4, 0.01, 0.03)))


# --------------------------------------------------------------------------- figures


def test_figures(sim, tmp_path):
    import matplotlib.pyplot as plt

    from sigrestore.plotting import restoration as rplot

    expr, samples, tables = sim
    result = analyze_comparison(tables, SIM_SPEC | {"bootstrap": {"n": 0}})
    fig = rplot.logfc_scatter(result)
    assert sum(len(c.get_offsets()) for c in fig.axes[0].collections) == 60
    fig = rplot.status_bars(result)
    assert [t.get_text().split("\n")[0] for t in fig.axes[0].get_xticklabels()] == [
        "all",
        "up",
        "down",
        "lost",
    ]
    fig = rplot.overlap_diagram(result)
    texts = {t.get_text() for t in fig.axes[0].texts}
    calls = result.calls != 0
    s, r, t = calls["signature"], calls["resistance"], calls["restoration"]
    assert str(int((s & r & t).sum())) in texts and str(int((s & ~r & ~t).sum())) in texts
    fig = rplot.enrichment_plot(result)
    assert len(fig.axes) == 3
    heat = rplot.signature_heatmap(result, expr, samples)
    assert heat is not None
    plt.close(heat)
    paths = rplot.save_restoration_figures(result, tmp_path / "a", expr=expr, samples=samples)
    assert {p.name for p in paths} == {
        f"{n}.{e}"
        for n in (
            "headline",
            "scatter",
            "status",
            "heatmap",
            "enrichment",
            "overlap",
            "sensitivity",
        )
        for e in ("png", "svg")
    }
    # Same calls, same bytes (the heatmap, the slow one, is left out here).
    first = rplot.save_restoration_figures(result, tmp_path / "b")
    again = rplot.save_restoration_figures(result, tmp_path / "c")
    assert len(first) == 12
    for pa, pb in zip(first, again, strict=True):
        assert pa.read_bytes() == pb.read_bytes()


def test_bootstrap_table_without_resamples_replaces_a_stale_one(sim, tmp_path):
    """With bootstrap.n = 0 the bootstrap table is header-only, never left over."""
    expr, samples, tables = sim
    with_boot = analyze_comparison(
        tables, SIM_SPEC, expr=expr, samples=samples, de_function=standin_de
    )
    write_result(with_boot, tmp_path)
    assert len(pd.read_csv(tmp_path / "bootstrap.tsv", sep="\t")) > 0
    spec = ComparisonSpec.from_dict(SIM_SPEC | {"bootstrap": {"n": 0}})
    without = analyze_comparison(tables, spec, expr=expr, samples=samples)
    write_result(without, tmp_path)
    table = pd.read_csv(tmp_path / "bootstrap.tsv", sep="\t")
    assert table.empty
    assert list(table.columns) == ["resample", "restored_fraction"]
