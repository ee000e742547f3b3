"""The bundled example's simulator: design, planted truth, files, determinism."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.io import read_cdf, read_cel, read_cel_header
from sigrestore.simulate.experiment import (
    CELL_LINES,
    ESTROGEN_SET,
    MTORC1_SET,
    TREATMENTS,
    ExampleSpec,
    example_files,
    expression_matrix,
    plan_truth,
    sample_table,
    simulate_experiment,
    write_example,
)

SMALL = ExampleSpec(n_probesets=400, signature_size=60, n_mtorc1=40, seed=11)


def test_sample_table_is_the_study_design():
    table = sample_table()
    assert len(table) == 24
    assert table["sample"].is_unique
    counts = table.groupby(["cell_line", "treatment"]).size()
    assert set(counts.index) == {(c, t) for c in CELL_LINES for t in TREATMENTS}
    assert (counts == 3).all()
    # Every reader is exercised: text v3 and XDA v4, plain and gzipped.
    kinds = set(zip(table["format"], table["file"].str.endswith(".gz"), strict=True))
    assert kinds == {("text-v3", False), ("text-v3", True), ("xda-v4", False), ("xda-v4", True)}


def test_planted_counts_and_fraction():
    spec = ExampleSpec()
    truth = plan_truth(spec)
    sig = truth[truth["signature"]]
    assert len(sig) == 300
    assert (sig["direction"] == 1).sum() == (sig["direction"] == -1).sum() == 150
    restored = sig["status"].isin(["restored", "retained_restored"]).sum()
    assert restored / len(sig) == pytest.approx(0.40)
    assert spec.planted_restored_fraction == pytest.approx(0.40)
    # Resistance removes most of the signature.
    assert (sig["status"] == "retained_restored").sum() / len(sig) < 0.2
    assert sig["modulator"].sum() > 0
    assert not sig["modulator"][sig["status"] != "restored"].any()
    assert (truth.loc[truth["mtorc1_effect"] != 0, "signature"] == 0).all()
    assert truth["probeset"].is_unique
    assert truth["probeset"].str.startswith("AFFX-").sum() >= 10


def test_treatments_keep_the_distribution_of_true_expression():
    # Paired up/down changes: quantile normalization's assumption holds exactly.
    spec = ExampleSpec(noise_sd=0.0)
    truth = plan_truth(spec)
    expr, _samples = expression_matrix(truth, spec)
    ref = np.sort(expr.iloc[:, 0].to_numpy())
    for column in expr.columns:
        shift = truth["resistant_shift"].to_numpy() if column.startswith("resistant") else 0
        values = np.sort(expr[column].to_numpy() - shift)
        if column.startswith("sensitive"):
            np.testing.assert_allclose(values, ref, atol=1e-12)


def test_planted_effects_by_group():
    spec = ExampleSpec(noise_sd=0.0)
    truth = plan_truth(spec).set_index("probeset")
    expr, samples = expression_matrix(truth.reset_index(), spec)
    groups = samples["cell_line"] + "_" + samples["treatment"]
    means = expr.T.groupby(groups.to_numpy()).mean().T
    d = truth["direction"] * truth["effect"]
    fulv_sens = means["sensitive_fulvestrant"] - means["sensitive_vehicle"]
    np.testing.assert_allclose(fulv_sens, d, atol=1e-12)
    cotreat = means["resistant_fulvestrant_rapamycin"] - means["resistant_vehicle"]
    restored = truth["status"].isin(["restored", "retained_restored"])
    sig = truth["signature"]
    np.testing.assert_allclose(cotreat[sig & restored], d[sig & restored], atol=1e-12)
    np.testing.assert_allclose(cotreat[sig & ~restored & (truth["status"] == "not_restored")], 0)
    reversed_ = truth["status"] == "reversed"
    np.testing.assert_allclose(cotreat[reversed_], -d[reversed_], atol=1e-12)
    fulv_res = means["resistant_fulvestrant"] - means["resistant_vehicle"]
    retained = truth["status"] == "retained_restored"
    np.testing.assert_allclose(fulv_res[retained], d[retained], atol=1e-12)
    np.testing.assert_allclose(fulv_res[sig & ~retained], 0, atol=1e-12)


def test_spec_rejects_impossible_settings():
    with pytest.raises(ValueError, match="even"):
        ExampleSpec(signature_size=31)
    with pytest.raises(ValueError, match="retained_fraction"):
        ExampleSpec(retained_fraction=0.6, restored_fraction=0.4)
    with pytest.raises(ValueError, match="exceed"):
        ExampleSpec(restored_fraction=0.9, reversed_fraction=0.2)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("example")
    return out, write_example(out, spec=SMALL)


def test_write_example_files(written):
    out, files = written
    assert files == example_files(out, SMALL)
    for path in files.all():
        assert path.is_file() and path.stat().st_size > 0, path
    cdf = read_cdf(files.cdf)
    assert cdf.chip_type == SMALL.chip_type
    truth = pd.read_csv(files.truth, sep="\t", keep_default_na=False)
    assert cdf.probeset_names == truth["probeset"].tolist()
    table = sample_table(SMALL)
    for path, fmt in zip(files.cels, table["format"], strict=True):
        header = read_cel_header(path)
        assert header["format"] == fmt
        assert header["chip_type"] == SMALL.chip_type
        assert (header["rows"], header["cols"]) == (cdf.rows, cdf.cols)
        if path.name.endswith(".gz"):
            with gzip.open(path) as fh:
                fh.read(4)


def test_written_cels_hold_the_simulated_intensities(written):
    _out, files = written
    _, arrays, _, _ = simulate_experiment(SMALL)
    for path, data in zip(files.cels[:4], arrays[:4], strict=True):
        cel = read_cel(path)
        # XDA v4 stores float32; text v3 is exact.
        np.testing.assert_allclose(cel.intensity, data.intensity, rtol=1e-6)


def test_annotation_and_gene_sets_are_readable(written):
    from sigrestore.annotation import read_annotation
    from sigrestore.enrichment import read_gmt

    _, files = written
    ann = read_annotation(files.annotation)
    truth = pd.read_csv(files.truth, sep="\t", keep_default_na=False)
    assert set(ann.index) == set(truth["probeset"])
    first = truth[truth["gene"] != ""].iloc[0]
    assert ann.loc[first["probeset"], "gene_symbol"] == first["gene"]
    sets = read_gmt(files.gene_sets)
    assert ESTROGEN_SET in sets and MTORC1_SET in sets
    down = set(truth.loc[truth["direction"] == -1, "gene"])
    assert down <= set(sets[ESTROGEN_SET])


def test_same_seed_same_bytes(written, tmp_path):
    _out, files = written
    again = write_example(tmp_path, spec=SMALL)
    for a, b in zip(files.all(), again.all(), strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    other = write_example(tmp_path / "other", spec=ExampleSpec(**{**SMALL.__dict__, "seed": 12}))
    assert other.cels[0].read_bytes() != files.cels[0].read_bytes()


def test_rma_and_limma_recover_the_planted_fraction():
    """Independent of the workflow: RMA + limma + the definition by hand."""
    from sigrestore.diffexp import differential_expression
    from sigrestore.preprocess import run_rma

    spec = ExampleSpec(n_probesets=1500, signature_size=150, n_mtorc1=60, seed=5)
    cdf, arrays, samples, truth = simulate_experiment(spec)
    expr = run_rma(arrays, cdf, sample_names=samples["sample"].tolist(), qc=False).expression
    tables = differential_expression(
        expr,
        samples,
        factors=["cell_line", "treatment"],
        contrasts={
            "ref": "sensitive_fulvestrant - sensitive_vehicle",
            "rest": "resistant_fulvestrant_rapamycin - resistant_vehicle",
        },
    )
    ref, rest = tables["ref"], tables["rest"].reindex(tables["ref"].index)
    in_s = (ref["adj.P.Val"] < 0.05) & (ref["logFC"].abs() >= 1)
    restored = in_s & (rest["adj.P.Val"] < 0.05) & (np.sign(rest["logFC"]) == np.sign(ref["logFC"]))
    fraction = restored.sum() / in_s.sum()
    assert abs(fraction - spec.planted_restored_fraction) < 0.05
    truth = truth.set_index("probeset")
    assert in_s.sum() == pytest.approx(truth["signature"].sum(), abs=6)


def test_paths_are_under_outdir(tmp_path):
    files = example_files(tmp_path)
    assert all(Path(p).is_relative_to(tmp_path) for p in files.all())
    assert len(files.cels) == 24
