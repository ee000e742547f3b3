"""Illumina neqc / nec and the Agilent normexp + quantile recipe against R limma 3.54.1.

Fixtures and references: tests/data/platforms (see its README).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.diffexp import build_design, fit_contrasts, make_contrasts
from sigrestore.platforms.agilent import normalize_agilent, read_fe_files
from sigrestore.platforms.illumina import detection_filter, neqc, read_probe_profile
from sigrestore.platforms.normexp import normexp_fit_control, normexp_fit_detection_p

VALUES_ATOL = 1e-6  # normalized log2 values
PAR_RTOL = 1e-6  # normexp parameters
TABLE_RTOL = 1e-6  # topTable columns
CONTRASTS = {
    "Fulvestrant": "fulvestrant - vehicle",
    "Cotreatment": "fulvestrant_rapamycin - fulvestrant",
}


def ref(path) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", index_col=0)


@pytest.fixture(scope="module")
def ilmn(data_dir):
    return data_dir / "platforms" / "illumina"


@pytest.fixture(scope="module")
def agil(data_dir):
    return data_dir / "platforms" / "agilent"


@pytest.fixture(scope="module")
def profiles(ilmn):
    sheet = pd.read_csv(ilmn / "samples.tsv", sep="\t")
    regular = read_probe_profile(ilmn / "sample_probe_profile.txt", arrays=list(sheet["array"]))
    control = read_probe_profile(ilmn / "control_probe_profile.txt")
    return sheet, regular, control


@pytest.fixture(scope="module")
def agilent_result(agil):
    sheet = pd.read_csv(agil / "samples.tsv", sep="\t")
    files = read_fe_files([agil / f for f in sheet["file"]])
    return sheet, normalize_agilent(files, list(sheet["sample"]), well_above_min_arrays=2)


def test_agilent_filter_names_a_later_file_without_gisWellAboveBG(agil, tmp_path):
    """Only the first file used to be checked: a later one gave a bare KeyError."""
    import shutil

    from sigrestore.errors import FormatError

    sheet = pd.read_csv(agil / "samples.tsv", sep="\t")
    paths = []
    for name in sheet["file"]:
        target = tmp_path / Path(name).name
        shutil.copy(agil / name, target)
        paths.append(target)
    fourth = paths[3]
    assert fourth.suffix == ".txt"
    lines = fourth.read_text().splitlines(keepends=True)
    header = next(i for i, line in enumerate(lines) if line.startswith("FEATURES\t"))
    column = lines[header].rstrip("\n").split("\t").index("gIsWellAboveBG")
    for i in range(header - 1, len(lines)):
        fields = lines[i].rstrip("\n").split("\t")
        if len(fields) > column:
            del fields[column]
            lines[i] = "\t".join(fields) + "\n"
    fourth.write_text("".join(lines))
    files = read_fe_files(paths)
    with pytest.raises(FormatError, match=rf"{fourth.name}.*'gIsWellAboveBG'"):
        normalize_agilent(files, list(sheet["sample"]), well_above_min_arrays=2)


def check_tables(expr: pd.DataFrame, sheet: pd.DataFrame, prefix) -> None:
    design = build_design(sheet, factors=["treatment"])
    fit = fit_contrasts(expr[sheet["sample"]], design, make_contrasts(CONTRASTS, design))
    for name in CONTRASTS:
        want = ref(f"{prefix}_{name}.tsv.gz")
        got = fit.table(name)
        assert list(got.index) == list(want.index)
        for col in want.columns:
            np.testing.assert_allclose(got[col], want[col], rtol=TABLE_RTOL, atol=0, err_msg=col)


# --------------------------------------------------------------------------- Illumina


def test_neqc_parameters_match_normexp_fit_control(profiles, ilmn):
    _, regular, control = profiles
    neg = control.annotation["TargetID"].eq("NEGATIVE").to_numpy()
    par = normexp_fit_control(regular.signal.to_numpy(), control.signal.to_numpy()[neg])
    want = ref(ilmn / "ref_neqc_parameters.tsv.gz")
    np.testing.assert_allclose(par, want.to_numpy(), rtol=PAR_RTOL)


def test_neqc_values(profiles, ilmn):
    _, regular, control = profiles
    res = neqc(regular, control)
    assert res.method == "control" and res.n_negative == 200
    want = ref(ilmn / "ref_neqc.tsv.gz")
    assert list(res.expression.index) == list(want.index)
    np.testing.assert_allclose(res.expression.to_numpy(), want.to_numpy(), atol=VALUES_ATOL, rtol=0)
    np.testing.assert_allclose(
        res.parameters.to_numpy(),
        ref(ilmn / "ref_neqc_parameters.tsv.gz").to_numpy(),
        rtol=PAR_RTOL,
    )


def test_neqc_detection_filter_and_toptable(profiles, ilmn):
    sheet, regular, control = profiles
    res = neqc(regular, control)
    keep = detection_filter(res.detection, regular.signal, threshold=0.05, min_arrays=2)
    want = ref(ilmn / "ref_neqc_expressed.tsv.gz")["expressed"].to_numpy()
    np.testing.assert_array_equal(keep, want)
    assert 0 < keep.sum() < keep.size
    check_tables(res.expression[keep], sheet, ilmn / "ref_neqc_toptable")


def test_nec_without_controls(profiles, ilmn):
    _, regular, _ = profiles
    par = normexp_fit_detection_p(regular.signal.to_numpy(), regular.detection.to_numpy())
    np.testing.assert_allclose(
        par, ref(ilmn / "ref_nec_parameters.tsv.gz").to_numpy(), rtol=PAR_RTOL
    )
    with pytest.warns(UserWarning, match="detection p-values"):
        res = neqc(regular, None)
    assert res.method == "detection"
    want = ref(ilmn / "ref_nec.tsv.gz")
    np.testing.assert_allclose(res.expression.to_numpy(), want.to_numpy(), atol=VALUES_ATOL, rtol=0)


# --------------------------------------------------------------------------- Agilent


def test_agilent_saddle_parameters(agilent_result, agil):
    _, res = agilent_result
    want = ref(agil / "ref_normexp_parameters.tsv.gz")
    np.testing.assert_allclose(
        res.parameters[["mu", "log_sigma", "log_alpha"]].to_numpy(),
        want[["mu", "logsigma", "logalpha"]].to_numpy(),
        rtol=PAR_RTOL,
    )
    np.testing.assert_allclose(res.parameters["m2loglik"], want["m2loglik"], rtol=1e-9)


def test_agilent_normalized_values(agilent_result, agil):
    _, res = agilent_result
    want = ref(agil / "ref_normalized_all.tsv.gz")
    np.testing.assert_allclose(res.normalized.to_numpy(), want.to_numpy(), atol=VALUES_ATOL, rtol=0)


def test_agilent_filter_avereps_and_toptable(agilent_result, agil):
    sheet, res = agilent_result
    want = ref(agil / "ref_avereps.tsv.gz")
    assert list(res.expression.index) == list(want.index)
    np.testing.assert_allclose(res.expression.to_numpy(), want.to_numpy(), atol=VALUES_ATOL, rtol=0)
    assert res.n_controls == 120 and res.n_filtered > 0
    check_tables(res.expression, sheet, agil / "ref_toptable")
