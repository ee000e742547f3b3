"""The count path against edgeR 3.40 / limma 3.54 (tests/data/counts/make/make_references.R)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from count_refs import CONTRASTS, FACTORS, max_rel, read_ref

from sigrestore.counts import filter_by_expr, lowess, voom, voom_with_quality_weights
from sigrestore.diffexp import differential_expression, duplicate_correlation

TOPTABLE = ["logFC", "AveExpr", "t", "P.Value", "adj.P.Val", "B"]


def test_filter_by_expr_mask_identical(counts_dir, count_table, count_samples, groups):
    counts = count_table[count_samples["sample"]].to_numpy(dtype=float)
    ref = read_ref(counts_dir, "ref_filter_keep.tsv")
    keep = filter_by_expr(counts, group=groups)
    assert ref["gene_id"].tolist() == count_table.index.tolist()
    np.testing.assert_array_equal(keep, ref["keep"].to_numpy().astype(bool))
    assert 0 < keep.sum() < keep.size  # the fixture has genes on both sides


def test_tmm_factors(counts_dir, filtered):
    _, _, lib, factors = filtered
    ref = read_ref(counts_dir, "ref_norm_factors.tsv")
    np.testing.assert_array_equal(lib, ref["lib_size"].to_numpy(dtype=float))
    np.testing.assert_allclose(factors, ref["norm_factor"], rtol=0, atol=1e-10)


@pytest.fixture(scope="module")
def voomed(filtered, group_design):
    _, kept, lib, factors = filtered
    return voom(kept, group_design, lib * factors)


def test_voom_expression_and_weights(counts_dir, filtered, voomed):
    genes = filtered[0]
    e = read_ref(counts_dir, "ref_voom_E.tsv.gz", index_col=0)
    w = read_ref(counts_dir, "ref_voom_weights.tsv.gz", index_col=0)
    assert e.index.tolist() == genes.tolist()
    np.testing.assert_allclose(voomed.expression, e.to_numpy(), rtol=0, atol=1e-8)
    np.testing.assert_allclose(voomed.weights, w.to_numpy(), rtol=1e-8, atol=1e-8)


def test_voom_trend_is_r_lowess(counts_dir, voomed):
    ref = read_ref(counts_dir, "ref_voom_lowess.tsv.gz")
    # x is the mean log-count, computed (same order as R, last bits may differ)
    np.testing.assert_allclose(voomed.trend.x, ref["x"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(voomed.trend.y, ref["y"], rtol=0, atol=1e-10)


def test_lowess_ties_outliers_even_n(counts_dir):
    ref = read_ref(counts_dir, "ref_lowess_ties.tsv.gz")
    fit = lowess(ref["x_in"].to_numpy(), ref["y_in"].to_numpy(), f=0.3)
    np.testing.assert_array_equal(fit.x, ref["x"].to_numpy())
    np.testing.assert_allclose(fit.y, ref["y"], rtol=0, atol=1e-10)


def _tables(filtered, samples, weights, **kw) -> dict[str, pd.DataFrame]:
    genes = filtered[0]
    expr = pd.DataFrame(kw.pop("expression"), index=genes, columns=samples["sample"])
    w = pd.DataFrame(weights, index=genes, columns=samples["sample"])
    return differential_expression(
        expr, samples, factors=FACTORS, contrasts=CONTRASTS, weights=w, **kw
    )


def _check(counts_dir, prefix, tables, columns=TOPTABLE, rtol=1e-6):
    for name, table in tables.items():
        ref = read_ref(counts_dir, f"ref_{prefix}_{name}.tsv.gz", index_col=0)
        assert table.index.tolist() == ref.index.tolist()
        for col in columns:
            assert max_rel(table[col], ref[col]) < rtol, (prefix, name, col)


def test_voom_toptable(counts_dir, filtered, count_samples, voomed):
    tables = _tables(filtered, count_samples, voomed.weights, expression=voomed.expression)
    _check(counts_dir, "voom", tables)


def test_voom_treat(counts_dir, filtered, count_samples, voomed):
    tables = _tables(
        filtered, count_samples, voomed.weights, expression=voomed.expression, treat_lfc=1.0
    )
    name = "fulvestrant_sensitive"
    _check(counts_dir, "voom_treat1", {name: tables[name]}, TOPTABLE[:-1])


def test_voom_with_quality_weights(counts_dir, filtered, count_samples, group_design):
    _, kept, lib, factors = filtered
    vq = voom_with_quality_weights(kept, group_design, lib * factors)
    ref_aw = read_ref(counts_dir, "ref_vqw_sample_weights.tsv")
    np.testing.assert_allclose(vq.sample_weights, ref_aw["weight"], rtol=1e-8)
    ref_w = read_ref(counts_dir, "ref_vqw_weights.tsv.gz", index_col=0)
    np.testing.assert_allclose(vq.weights, ref_w.to_numpy(), rtol=1e-8)
    tables = _tables(filtered, count_samples, vq.weights, expression=vq.expression)
    _check(counts_dir, "vqw", tables)


def test_blocked_design(counts_dir, filtered, count_samples, voomed, group_design):
    corr, _ = duplicate_correlation(
        voomed.expression,
        group_design,
        count_samples["replicate"].to_numpy(),
        weights=voomed.weights,
    )
    ref = read_ref(counts_dir, "ref_block_correlation.tsv")["consensus"].iat[0]
    assert abs(corr - ref) < 1e-8
    sheet = count_samples.assign(replicate=count_samples["replicate"].astype(str))
    tables = _tables(
        filtered, sheet, voomed.weights, expression=voomed.expression, block="replicate"
    )
    _check(counts_dir, "block", tables)
