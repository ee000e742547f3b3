"""The count source end to end on the simulated count example, and its refit for the bootstrap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from count_refs import CONTRASTS, FACTORS

from sigrestore.counts import calc_norm_factors, filter_by_expr, voom
from sigrestore.diffexp import DesignSpec, LimmaOptions, differential_expression
from sigrestore.errors import ConfigError
from sigrestore.restoration import ComparisonSpec, analyze_comparison
from sigrestore.simulate.counts import CountSpec, simulate_counts, write_count_example
from sigrestore.simulate.experiment import ExampleSpec
from sigrestore.sources.counts import CountsSettings, VoomRefit, load_counts, prepare_counts

SMALL = CountSpec(design=ExampleSpec(n_probesets=1500, signature_size=200, n_mtorc1=60))


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("counts_example")
    files = write_count_example(out, spec=SMALL)
    sheet = pd.read_csv(files.samples, sep="\t")
    return files, sheet


@pytest.fixture(scope="module")
def dataset(example):
    files, sheet = example
    settings = CountsSettings(table=files.counts.name)
    return load_counts(settings, sheet, factors=FACTORS, base_dir=files.counts.parent)


def test_simulated_counts_are_realistic():
    counts, _, truth = simulate_counts(SMALL)
    lib = counts.drop(columns="gene_name").sum(axis=0)
    assert ((lib > 9e6) & (lib < 41e6)).all()
    assert truth["dispersion"].between(0.005, 0.5).all()
    assert truth.loc[truth["mean_count"] > 1000, "dispersion"].median() < 0.05
    assert truth.loc[truth["mean_count"].between(5, 20), "dispersion"].median() > 0.1
    assert counts.drop(columns="gene_name").to_numpy().dtype.kind == "i"


def test_dataset_is_voom_of_the_filtered_tmm_counts(example, dataset):
    files, sheet = example
    table = pd.read_csv(files.counts, sep="\t", index_col=0)
    counts = table[sheet["sample"]].to_numpy(dtype=float)
    groups = (sheet["cell_line"] + "_" + sheet["treatment"]).to_numpy()
    keep = filter_by_expr(counts, group=groups)
    kept = counts[keep]
    lib = kept.sum(axis=0)
    nf, _ = calc_norm_factors(kept, lib)
    levels = np.array(sorted(set(groups)))
    v = voom(kept, (groups[:, None] == levels).astype(float), lib * nf)
    assert dataset.expression.index.tolist() == table.index[keep].tolist()
    assert dataset.expression.columns.tolist() == sheet["sample"].tolist()
    np.testing.assert_allclose(dataset.expression.to_numpy(), v.expression, atol=1e-12)
    np.testing.assert_allclose(dataset.weights.to_numpy(), v.weights, rtol=1e-10)
    assert (
        dataset.features["gene_symbol"].fillna("").tolist()
        == table.loc[keep, "gene_name"].fillna("").tolist()
    )
    prov = dataset.provenance
    assert dataset.source == "counts"
    assert prov["genes_in_table"] == len(table) and prov["genes_kept"] == int(keep.sum())
    assert prov["filter"]["method"] == "filterByExpr"
    np.testing.assert_allclose(list(prov["norm_factors"].values()), nf)


def test_restoration_on_counts_recovers_planted_fraction(example, dataset):
    files, sheet = example
    truth = pd.read_csv(files.truth, sep="\t").set_index("gene_id")
    tables = differential_expression(
        dataset.expression, sheet, factors=FACTORS, contrasts=CONTRASTS, weights=dataset.weights
    )
    spec = ComparisonSpec.from_dict(
        {
            "name": "fulvestrant_rapamycin",
            "reference": "fulvestrant_sensitive",
            "resistance": "fulvestrant_resistant",
            "restoration": "cotreatment_resistant",
            "fdr": 0.05,
            "lfc": 1.0,
            "bootstrap": {"n": 3, "seed": 1},
            "connectivity": {"permutations": 20, "seed": 1},
        }
    )
    prepared = prepare_counts(CountsSettings(table=str(files.counts)), sheet, factors=FACTORS)
    refit = VoomRefit.from_prepared(
        prepared, design=DesignSpec(factors=FACTORS), contrasts=CONTRASTS
    )
    result = analyze_comparison(
        tables, spec, expr=dataset.expression, samples=sheet, de_function=refit, factors=FACTORS
    )
    summary = result.summary.iloc[0]
    planted = SMALL.design.planted_restored_fraction
    assert abs(summary["restored_fraction"] - planted) < 0.08
    sig = truth.index[truth["signature"]]
    assert summary["signature_size"] == pytest.approx(len(sig), rel=0.15)
    assert summary["bootstrap_low"] <= summary["bootstrap_high"]


def test_refit_refuses_limmas_array_weights(example):
    # voom's quality weights are the count path's array weights.
    files, sheet = example
    prepared = prepare_counts(CountsSettings(table=str(files.counts)), sheet, factors=FACTORS)
    with pytest.raises(ConfigError, match=r"array_weights.*data\.counts\.quality_weights"):
        VoomRefit.from_prepared(
            prepared,
            design=DesignSpec(factors=FACTORS),
            limma=LimmaOptions(array_weights=True),
            contrasts=CONTRASTS,
        )


def test_refit_copies_mode_maps_renamed_columns(example, dataset):
    files, sheet = example
    prepared = prepare_counts(CountsSettings(table=str(files.counts)), sheet, factors=FACTORS)
    refit = VoomRefit.from_prepared(
        prepared, design=DesignSpec(factors=FACTORS), contrasts=CONTRASTS
    )
    full = refit(dataset.expression, sheet)
    direct = differential_expression(
        dataset.expression, sheet, factors=FACTORS, contrasts=CONTRASTS, weights=dataset.weights
    )
    for name in CONTRASTS:
        np.testing.assert_allclose(full[name]["t"], direct[name]["t"], rtol=1e-10)
    renamed = dataset.expression.copy()
    renamed.columns = [f"{c}@{i}" for i, c in enumerate(renamed.columns)]
    copies = refit(renamed, sheet.assign(sample=renamed.columns))
    np.testing.assert_allclose(
        copies["fulvestrant_sensitive"]["t"], direct["fulvestrant_sensitive"]["t"], rtol=1e-10
    )


def test_refit_with_the_expression_filter_reproduces_the_point_fit(example, dataset):
    """The reported tables take voom's weights of all filterByExpr genes, then
    differential_expression.filter's rows; a refit on the original samples
    must give the same t (voom's trend on the filtered rows only gave |dt| up
    to 0.29)."""
    from sigrestore.diffexp.filtering import filter_probe_sets

    files, sheet = example
    kept, summary = filter_probe_sets(
        dataset.expression, sheet, factors=FACTORS, filter={"enabled": True, "min_expr": 5.0}
    )
    assert summary is not None and 0 < summary.n_removed < summary.n_input
    direct = differential_expression(
        kept, sheet, factors=FACTORS, contrasts=CONTRASTS, weights=dataset.weights.loc[kept.index]
    )
    prepared = prepare_counts(CountsSettings(table=str(files.counts)), sheet, factors=FACTORS)
    refit = VoomRefit.from_prepared(
        prepared, design=DesignSpec(factors=FACTORS), contrasts=CONTRASTS
    )
    again = refit(kept, sheet)
    for name in CONTRASTS:
        np.testing.assert_allclose(again[name]["t"], direct[name]["t"], rtol=0, atol=1e-10)


def test_refit_from_the_count_jobs_outputs_equals_the_refit_from_the_table(example, tmp_path):
    """The restoration job rebuilds the prepared counts from the count job's
    kept counts (parquet) and provenance (JSON) instead of reading the table
    again: the refits are identical, resampled weights included."""
    import json

    from sigrestore.sources.counts import load, prepared_from_outputs

    files, sheet = example
    settings = CountsSettings(table=str(files.counts))
    result = load(settings, sheet, factors=FACTORS)
    path = tmp_path / "counts.parquet"
    result.tables["counts"].to_parquet(path)
    provenance = json.loads(json.dumps(result.dataset.provenance, default=str))
    rebuilt = prepared_from_outputs(pd.read_parquet(path), provenance)
    prepared = prepare_counts(settings, sheet, factors=FACTORS)
    pd.testing.assert_frame_equal(rebuilt.counts, prepared.counts, check_exact=True)
    pd.testing.assert_series_equal(rebuilt.lib_size, prepared.lib_size, check_exact=True)
    weights = np.tile([2.0, 1.0, 1.0], len(sheet) // 3)
    a = VoomRefit.from_prepared(rebuilt, design=DesignSpec(factors=FACTORS), contrasts=CONTRASTS)
    b = VoomRefit.from_prepared(prepared, design=DesignSpec(factors=FACTORS), contrasts=CONTRASTS)
    expr = result.dataset.expression
    for name, table in a(expr, sheet, weights=weights).items():
        pd.testing.assert_frame_equal(
            table, b(expr, sheet, weights=weights)[name], check_exact=True
        )
    with pytest.raises(ConfigError, match="no library size"):
        prepared_from_outputs(pd.read_parquet(path), {"lib_size": {}, "norm_factors": {}})


def test_no_gene_passes_filter(example):
    files, sheet = example
    with pytest.raises(ConfigError, match="no gene passes filterByExpr"):
        prepare_counts(
            CountsSettings(table=str(files.counts), min_count=1e9), sheet, factors=FACTORS
        )


def test_settings_from_mapping():
    s = CountsSettings.from_mapping({"table": "c.tsv", "quality_weights": True})
    assert s.quality_weights and s.format == "auto" and s.min_count == 10
    with pytest.raises(ConfigError, match="unknown key"):
        CountsSettings.from_mapping({"table": "c.tsv", "min_cout": 3})
    with pytest.raises(ConfigError, match="table"):
        CountsSettings.from_mapping({})
    with pytest.raises(ConfigError, match="format"):
        CountsSettings(table="c.tsv", format="bam")
