"""The sources layer: the Affymetrix source gives the ExpressionDataset the workflow's
rma job writes (same numbers as run_rma), QC data round-trip without pickle, and the
registry refuses unknown kinds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sigrestore.config import load_config, resolve_paths
from sigrestore.dataset import ExpressionDataset
from sigrestore.errors import ConfigError, FormatError
from sigrestore.io.npz import read_npz, write_npz
from sigrestore.preprocess import run_rma
from sigrestore.preprocess.qcdata import qc_arrays, qc_data
from sigrestore.simulate.experiment import ExampleSpec, write_example
from sigrestore.sources import SOURCES, source_module

SPEC = ExampleSpec(n_probesets=120, signature_size=20, n_mtorc1=6, duplicate_share=0.1)


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    out = tmp_path_factory.mktemp("example")
    files = write_example(out, spec=SPEC)
    config = out / "config.yaml"
    config.write_text(
        "samples: samples.tsv\n"
        f"platform: {{cdf: {files.cdf.name}, annotation: {files.annotation.name}}}\n"
        "contrasts: {fulv: sensitive_fulvestrant - sensitive_vehicle}\n"
    )
    exp = load_config(config, workdir=out)
    return files, exp


def test_affymetrix_source_is_run_rma_over_the_sheet(example):
    files, exp = example
    module = source_module(exp.settings.source)
    loaded = module.load(exp.settings.source_settings, exp.samples)
    dataset = loaded.dataset
    assert isinstance(dataset, ExpressionDataset)
    assert dataset.source == "affymetrix"
    direct = run_rma(list(exp.samples["path"]), files.cdf, sample_names=list(exp.samples["sample"]))
    # Bit-identical to the RMA the workflow always ran.
    np.testing.assert_array_equal(dataset.expression.to_numpy(), direct.expression.to_numpy())
    assert list(dataset.expression.columns) == list(exp.samples["sample"])
    assert dataset.expression.index.name == "probeset"
    assert list(dataset.features.columns) == ["gene_symbol", "entrez_id"]
    assert dataset.features.index.equals(dataset.expression.index)
    assert dataset.features["gene_symbol"].notna().mean() > 0.5
    pd.testing.assert_frame_equal(loaded.quality, direct.qc)


def test_qc_data_round_trips_through_npz_without_pickle(example, tmp_path):
    files, exp = example
    result = run_rma(list(exp.samples["path"]), files.cdf, sample_names=list(exp.samples["sample"]))
    path = tmp_path / "qc.npz"
    write_npz(path, qc_arrays(result))
    with np.load(path, allow_pickle=False) as z:  # loadable without pickle
        assert "residual.images" in z.files
    back = qc_data(read_npz(path))
    for name in ("raw_stats", "normalized_stats", "rle_stats", "nuse_stats", "qc"):
        pd.testing.assert_frame_equal(
            getattr(back, name), getattr(result, name), check_dtype=False, check_names=False
        )
    pd.testing.assert_frame_equal(
        back.raw_density, result.raw_density, check_names=False, check_index_type=False
    )
    np.testing.assert_array_equal(back.residual_images.images, result.residual_images.images)
    assert list(back.expression.columns) == list(result.expression.columns)


def test_npz_refuses_python_objects(tmp_path):
    with pytest.raises(FormatError, match="Python objects"):
        write_npz(tmp_path / "x.npz", {"a": np.array([{"x": 1}], dtype=object)})
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(FormatError, match=r"bad\.npz"):
        read_npz(tmp_path / "bad.npz")


def test_registry():
    assert "affymetrix" in SOURCES
    with pytest.raises(ConfigError, match="unknown source 'nope'"):
        source_module("nope")


def test_data_block_paths_are_resolved(tmp_path):
    config = {
        "samples": "s.tsv",
        "platform": {"cdf": "a.CDF"},
        "data": {"affymetrix": {"cdf": "b.CDF", "annotation": None}},
        "gene_sets": [],
    }
    out = resolve_paths(config, tmp_path)
    assert out["data"]["affymetrix"]["cdf"] == str(tmp_path / "b.CDF")
    assert out["data"]["affymetrix"]["annotation"] is None
