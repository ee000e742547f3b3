"""The matrix sources as the config and the workflow see them: registry, the GEO
shorthand, paths of data.<kind> resolved, sheets without a file column, the
provenance line, the matrix QC and the observation weights' row subset."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sigrestore.config import load_config, load_schema, resolve_paths
from sigrestore.config.schema import apply_schema
from sigrestore.config.settings import gene_level, source_kind, source_settings
from sigrestore.errors import ConfigError
from sigrestore.pipeline import observation_weights
from sigrestore.preprocess.matrixqc import matrix_qc
from sigrestore.sources import MATRIX_SOURCES, SOURCES, source_module, value_transformation


def test_every_source_is_registered_with_the_contract():
    assert set(SOURCES) == {"affymetrix", "geo", "counts", "illumina", "agilent"}
    assert set(MATRIX_SOURCES) == set(SOURCES) - {"affymetrix"}
    for kind in SOURCES:
        assert kind == source_module(kind).KIND


def _filled(config: dict) -> dict:
    return apply_schema(config, load_schema("config"), what="config")


def test_geo_shorthand_selects_the_geo_source():
    config = _filled({"data": {"geo": "GSE999999"}})
    assert source_kind(config) == "geo"
    kind, settings = source_settings(config)
    assert (kind, settings.accession, settings.raw) == ("geo", "GSE999999", False)
    # The platform annotation the fetch rule caches gives the gene level.
    assert gene_level(settings)
    raw = {"data": {"source": "geo", "geo": {"accession": "GSE1", "raw": True}}}
    assert not gene_level(source_settings(_filled(raw))[1])
    # An explicit source wins; the default stays affymetrix.
    assert source_kind(_filled({})) == "affymetrix"
    assert source_kind(_filled({"data": {"source": "counts"}})) == "counts"


def test_unknown_key_of_a_branch_is_refused_by_the_schema():
    with pytest.raises(ConfigError, match="tabel"):
        _filled({"data": {"source": "counts", "counts": {"tabel": "x.tsv"}}})


def test_source_branch_without_its_required_file_names_the_key():
    with pytest.raises(ConfigError, match=r"data\.counts\.table"):
        source_settings(_filled({"data": {"source": "counts"}, "design": {"factors": ["a"]}}))
    with pytest.raises(ConfigError, match=r"data\.geo\.accession"):
        source_settings(_filled({"data": {"source": "geo"}}))


def test_paths_of_the_source_branches_are_resolved(tmp_path):
    config = _filled(
        {
            "data": {
                "source": "illumina",
                "counts": {"table": "c.tsv"},
                "illumina": {"probe_profile": ["a.txt", "/abs/b.txt"], "control_profile": "c.txt"},
                "geo": {"accession": "GSE1", "cache_dir": "cache"},
            }
        }
    )
    out = resolve_paths(config, tmp_path)["data"]
    assert out["counts"]["table"] == str(tmp_path / "c.tsv")
    assert out["illumina"]["probe_profile"] == [str(tmp_path / "a.txt"), "/abs/b.txt"]
    assert out["illumina"]["control_profile"] == str(tmp_path / "c.txt")
    assert out["geo"]["cache_dir"] == str(tmp_path / "cache")
    # The shorthand (a string) is left alone.
    assert resolve_paths(_filled({"data": {"geo": "GSE1"}}), tmp_path)["data"]["geo"] == "GSE1"


def test_counts_config_without_file_column_loads(tmp_path):
    (tmp_path / "samples.tsv").write_text(
        "sample\tgroup_\n" + "".join(f"s{i}\t{'ab'[i % 2]}\n" for i in range(6))
    )
    (tmp_path / "counts.tsv").write_text("gene\n")
    (tmp_path / "config.yaml").write_text(
        "samples: samples.tsv\n"
        "data: {source: counts, counts: {table: counts.tsv}}\n"
        "design: {factors: [group_]}\n"
        "contrasts: {ab: a - b}\n"
        "gene_sets: []\n"
    )
    exp = load_config(tmp_path / "config.yaml", workdir=tmp_path)
    assert exp.settings.source == "counts"
    assert exp.settings.source_settings.table == str(tmp_path / "counts.tsv")
    assert not exp.settings.has_annotation  # a table without a symbol column: row level only
    assert list(exp.samples["file"]) == [""] * 6


def test_count_table_with_symbols_has_a_gene_level_and_refuses_mean_collapse(tmp_path):
    (tmp_path / "samples.tsv").write_text(
        "sample\tgroup_\n" + "".join(f"s{i}\t{'ab'[i % 2]}\n" for i in range(6))
    )
    (tmp_path / "counts.tsv").write_text("gene_id\tgene_name\n")
    config = (
        "samples: samples.tsv\n"
        "data: {source: counts, counts: {table: counts.tsv}}\n"
        "design: {factors: [group_]}\n"
        "contrasts: {ab: a - b}\n"
        "comparisons: [{name: x, reference: ab, restoration: ab}]\n"
        "gene_sets: []\n"
    )
    (tmp_path / "config.yaml").write_text(config)
    exp = load_config(tmp_path / "config.yaml", workdir=tmp_path)
    assert exp.settings.has_annotation
    assert exp.settings.comparison("x").level == "gene"
    (tmp_path / "config.yaml").write_text(config + "differential_expression: {collapse: mean}\n")
    with pytest.raises(ConfigError, match=r"collapse: 'mean' cannot carry .* voom weights"):
        load_config(tmp_path / "config.yaml", workdir=tmp_path)


def test_count_source_refuses_array_weights_at_validation(tmp_path):
    """Accepted before, the combination let normalize/diffexp run and then
    failed every restoration job (even with bootstrap.n: 0)."""
    from sigrestore.config import check_config, read_config, read_sample_sheet

    (tmp_path / "samples.tsv").write_text(
        "sample\tgroup_\n" + "".join(f"s{i}\t{'ab'[i % 2]}\n" for i in range(6))
    )
    (tmp_path / "counts.tsv").write_text("gene_id\n")
    config = (
        "samples: samples.tsv\n"
        "data: {source: counts, counts: {table: counts.tsv}}\n"
        "design: {factors: [group_]}\n"
        "contrasts: {ab: a - b}\n"
        "comparisons: [{name: x, reference: ab, restoration: ab, bootstrap: {n: 0}}]\n"
        "gene_sets: []\n"
    )
    samples = read_sample_sheet(tmp_path / "samples.tsv")
    (tmp_path / "config.yaml").write_text(config)
    check_config(read_config(tmp_path / "config.yaml"), samples, check_files=False)
    (tmp_path / "config.yaml").write_text(
        config + "differential_expression: {array_weights: true}\n"
    )
    with pytest.raises(
        ConfigError,
        match=r"differential_expression\.array_weights.*data\.counts\.quality_weights",
    ):
        check_config(read_config(tmp_path / "config.yaml"), samples, check_files=False)


def test_affymetrix_sheet_needs_its_files(tmp_path):
    from sigrestore.sources import affymetrix

    sheet = pd.DataFrame({"sample": ["a", "b"], "path": ["x.CEL", ""]})
    with pytest.raises(ConfigError, match="row 2"):
        affymetrix.input_files(affymetrix.Settings(), sheet)


def test_value_transformation_names_each_source():
    assert value_transformation({"source": "affymetrix"}).startswith("RMA")
    assert "voom" in value_transformation(
        {"source": "counts", "transformation": "voom log2-CPM (prior count 0.5)"}
    )
    geo = {"source": "geo", "log2": {"log2": True, "mode": "auto"}, "normalization": "quantile"}
    assert value_transformation(geo) == (
        "submitter's values, log2 applied (log2: auto), quantile normalized"
    )
    assert value_transformation({"source": "illumina", "normalization": {"method": "neqc"}}) == (
        "neqc"
    )


def test_matrix_qc_flags_the_odd_sample_and_counts_missing_values():
    rng = np.random.default_rng(1)
    base = rng.normal(8, 2, size=(400, 1))
    x = base + rng.normal(0, 0.2, size=(400, 6))
    x[:, 5] = rng.normal(8, 2, size=400)  # unrelated to the others
    x[3, 2] = np.nan
    frame = pd.DataFrame(x, columns=[f"s{i}" for i in range(6)])
    qc = matrix_qc(frame)
    assert list(qc.qc.index) == list(frame.columns)
    assert qc.qc["missing"].tolist() == [0, 0, 1, 0, 0, 0]
    assert qc.qc["outlier"].tolist() == [False] * 5 + [True]
    np.testing.assert_allclose(qc.normalized_stats["med"], np.nanmedian(x, axis=0))
    # Densities integrate to one over the common grid.
    width = np.diff(qc.normalized_density.index.to_numpy())[0]
    np.testing.assert_allclose(qc.normalized_density.sum(axis=0) * width, 1.0)


def test_observation_weights_follow_the_filtered_rows():
    weights = pd.DataFrame(
        np.arange(12.0).reshape(4, 3), index=list("abcd"), columns=["x", "y", "z"]
    )
    expr = pd.DataFrame(0.0, index=["d", "b"], columns=["x", "y", "z"])
    np.testing.assert_array_equal(
        observation_weights(weights, expr).to_numpy(), [[9, 10, 11], [3, 4, 5]]
    )
    with pytest.raises(ConfigError, match="feature"):
        observation_weights(weights, pd.DataFrame(0.0, index=["e"], columns=["x"]))


def test_promised_gene_level_without_symbols_names_the_file():
    from sigrestore.dataset import ExpressionDataset
    from sigrestore.errors import FormatError
    from sigrestore.sources import gene_features

    expr = pd.DataFrame([[1.0, 2.0]], index=["p1"], columns=["GSM1", "GSM2"])
    sheet = pd.DataFrame({"sample": ["GSM1", "GSM2"]})
    prov = {"source": "geo", "files": ["cache/GSE1_series_matrix.txt.gz", "cache/GPL1.annot.gz"]}
    bare = pd.DataFrame({"gene_symbol": [np.nan]}, index=["p1"])
    for features in (None, bare):
        ds = ExpressionDataset(expr, sheet, features=features, provenance=prov)
        message = r"GPL1\.annot\.gz: no gene symbol .*data\.geo\.annotation"
        with pytest.raises(FormatError, match=message):
            gene_features(ds, "geo")
    named = pd.DataFrame({"gene_symbol": ["ESR1"]}, index=["p1"])
    ds = ExpressionDataset(expr, sheet, features=named, provenance=prov)
    assert gene_features(ds, "geo") is named
