"""The count source's gene level: one table row per symbol with its voom weights.

The rule is the array path's ``max_mean`` (the row with the highest mean
log-CPM); the weights row goes with the chosen row, and the bootstrap's voom
refits fit the same rows (voom recomputed over every kept gene).
"""

from __future__ import annotations

import gzip

import numpy as np
import pandas as pd
import pytest
from count_refs import CONTRASTS, FACTORS

from sigrestore.annotation import collapse_to_genes, collapse_with_weights, gene_rows
from sigrestore.counts.readers import has_symbols
from sigrestore.diffexp import DESettings, DesignSpec, differential_expression
from sigrestore.errors import ConfigError
from sigrestore.pipeline import LevelMatrices, fit_contrast_tables, gene_level_matrix
from sigrestore.simulate.counts import CountSpec, write_count_example
from sigrestore.simulate.experiment import ExampleSpec
from sigrestore.sources.counts import CountsSettings, VoomRefit, load_counts, prepare_counts
from sigrestore.sources.geo import GeoSettings

SMALL = CountSpec(design=ExampleSpec(n_probesets=600, signature_size=80, n_mtorc1=20))


def _toy():
    expr = pd.DataFrame(
        [[1.0, 3.0], [5.0, 5.0], [4.0, 8.0], [9.0, 9.0], [7.0, 7.0], [2.0, 2.0]],
        index=["g1", "g2", "g3", "g4", "g5", "g6"],
        columns=["s1", "s2"],
    )
    weights = pd.DataFrame(
        np.arange(12, dtype=float).reshape(6, 2) + 1, index=expr.index, columns=expr.columns
    )
    features = pd.DataFrame(
        {"gene_symbol": ["A", "A", "B", "", np.nan, "C /// D"], "entrez_id": [np.nan] * 6},
        index=expr.index,
    )
    return expr, weights, features


def test_gene_rows_choose_the_highest_mean_and_skip_rows_without_one_symbol():
    expr, _weights, features = _toy()
    rows = gene_rows(expr, features, method="max_mean")
    # A: g1 (mean 2) vs g2 (mean 5); B: g3; "" / NaN / "C /// D" are no gene.
    assert rows.to_dict() == {"A": "g2", "B": "g3"}
    assert gene_rows(expr, features, method="max_iqr").to_dict() == {"A": "g1", "B": "g3"}
    with pytest.raises(ConfigError, match="one row per gene"):
        gene_rows(expr, features, method="mean")


def test_collapse_with_weights_carries_the_chosen_rows_weights():
    expr, weights, features = _toy()
    genes, gene_weights, _rows = collapse_with_weights(expr, weights, features)
    assert list(genes.index) == ["A", "B"] and genes.index.name == "gene_symbol"
    np.testing.assert_array_equal(genes.to_numpy(), expr.loc[["g2", "g3"]].to_numpy())
    np.testing.assert_array_equal(gene_weights.to_numpy(), weights.loc[["g2", "g3"]].to_numpy())
    # The same genes and values as the array path's collapse.
    pd.testing.assert_frame_equal(genes, collapse_to_genes(expr, features, method="max_mean"))
    with pytest.raises(ConfigError, match="have none"):
        collapse_with_weights(expr, weights.drop(index="g2"), features)


def test_gene_level_matrix_refuses_mean_with_weights_and_keeps_rows_with_none():
    expr, weights, features = _toy()
    with pytest.raises(ConfigError, match="max_mean"):
        gene_level_matrix(expr, features, collapse="mean", weights=weights)
    kept = gene_level_matrix(expr, features, collapse="none", weights=weights)
    pd.testing.assert_frame_equal(kept.weights, weights)
    assert kept.rows.tolist() == list(expr.index)
    plain = gene_level_matrix(expr, features, collapse="mean")
    assert plain.weights is None and plain.rows is None


@pytest.fixture(scope="module")
def duplicated(tmp_path_factory):
    """The simulated counts with some symbols repeated (several ids per gene)."""
    out = tmp_path_factory.mktemp("counts_dups")
    files = write_count_example(out, spec=SMALL)
    table = pd.read_csv(files.counts, sep="\t", index_col=0, keep_default_na=False)
    # Rows 1..40 take the symbol of the row before them: 20 genes with 2 ids.
    names = table["gene_name"].to_numpy(dtype=object)
    names[1:40:2] = names[0:40:2]
    table["gene_name"] = names
    path = out / "dups.tsv.gz"
    with gzip.open(path, "wt") as fh:
        table.to_csv(fh, sep="\t")
    sheet = pd.read_csv(files.samples, sep="\t")
    return path, sheet


def test_gene_level_tables_and_voom_refit_use_the_chosen_rows(duplicated):
    path, sheet = duplicated
    settings = CountsSettings(table=str(path))
    assert settings.gene_level
    dataset = load_counts(settings, sheet, factors=FACTORS)
    features = dataset.features.reindex(columns=["gene_symbol", "entrez_id"])
    level = gene_level_matrix(
        dataset.expression, features, collapse="max_mean", weights=dataset.weights
    )
    genes = level.matrix
    assert genes.index.is_unique and len(genes) < len(dataset.expression)
    # One row per symbol: the row with the highest mean log-CPM, with its weights.
    means = dataset.expression.mean(axis=1)
    symbol = features["gene_symbol"]
    for gene in genes.index[:50]:
        ids = symbol.index[symbol == gene]
        assert level.rows[gene] == means.loc[ids].idxmax()
    np.testing.assert_array_equal(
        level.weights.to_numpy(), dataset.weights.loc[level.rows.to_numpy()].to_numpy()
    )
    # The diffexp rule's gene table: limma with the carried weights.
    de = DESettings.from_options(factors=FACTORS)
    tables = fit_contrast_tables(
        LevelMatrices(probeset=dataset.expression, gene=genes),
        sheet,
        de,
        contrasts=CONTRASTS,
        features=features,
        weights=dataset.weights,
        gene_weights=level.weights,
    )["fulvestrant_sensitive"]
    direct = differential_expression(
        genes, sheet, factors=FACTORS, contrasts=CONTRASTS, weights=level.weights
    )["fulvestrant_sensitive"]
    np.testing.assert_allclose(tables.genes.loc[direct.index, "t"], direct["t"], rtol=1e-10)
    assert "gene_symbol" in tables.probesets.columns
    # The bootstrap's refit on the full sample set reproduces the gene table:
    # voom over every kept gene, then the chosen rows.
    prepared = prepare_counts(settings, sheet, factors=FACTORS)
    refit = VoomRefit.from_prepared(
        prepared, design=DesignSpec(factors=FACTORS), contrasts=CONTRASTS, rows=level.rows
    )
    again = refit(genes, sheet)["fulvestrant_sensitive"]
    np.testing.assert_allclose(again.loc[direct.index, "t"], direct["t"], rtol=1e-10)
    with pytest.raises(ConfigError, match="without a chosen row"):
        refit(genes.rename(index={genes.index[0]: "NOT_A_GENE"}), sheet)


def test_symbols_decide_the_gene_level(tmp_path, duplicated):
    path, _ = duplicated
    assert has_symbols(path)
    plain = tmp_path / "plain.tsv"
    plain.write_text("gene_id\ts1\ts2\nE1\t1\t2\n")
    assert not has_symbols(plain)
    assert has_symbols(plain, name_column="label")
    assert not CountsSettings(table=str(plain)).gene_level
    assert not has_symbols(tmp_path / "absent.tsv")
    ncbi = tmp_path / "GSE1_raw_counts.tsv"
    ncbi.write_text("GeneID\tGSM1\tGSM2\n1\t3\t4\n")
    assert not has_symbols(ncbi)
    assert has_symbols(ncbi, annotation="Human.GRCh38.p13.annot.tsv.gz")


def test_geo_gene_level_defaults_to_the_fetched_platform_table():
    assert GeoSettings.from_mapping("GSE12345").gene_level
    assert not GeoSettings.from_mapping({"geo": "GSE12345", "matrix": "m.txt.gz"}).gene_level
    assert GeoSettings.from_mapping(
        {"geo": "GSE12345", "matrix": "m.txt.gz", "annotation": "a.annot.gz"}
    ).gene_level
    assert not GeoSettings.from_mapping({"geo": "GSE12345", "raw": True}).gene_level
