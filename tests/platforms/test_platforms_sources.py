"""The Illumina and Agilent sources: ExpressionDataset from the simulated fixture files,
their settings, and every bad input the sources must name (file, line, column)."""

from __future__ import annotations

import gzip
import shutil
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.errors import ConfigError, FormatError
from sigrestore.sources.agilent import AgilentSettings, load_agilent
from sigrestore.sources.illumina import IlluminaSettings, load_illumina


@pytest.fixture(scope="module")
def ilmn(data_dir) -> Path:
    return data_dir / "platforms" / "illumina"


@pytest.fixture(scope="module")
def agil(data_dir) -> Path:
    return data_dir / "platforms" / "agilent"


def sheet(d: Path) -> pd.DataFrame:
    return pd.read_csv(d / "samples.tsv", sep="\t")


ILMN = IlluminaSettings(
    probe_profile="sample_probe_profile.txt", control_profile="control_probe_profile.txt"
)


# --------------------------------------------------------------------------- datasets


def test_illumina_dataset_equals_limma_and_carries_symbols(ilmn):
    ds = load_illumina(ILMN, sheet(ilmn), base_dir=ilmn)
    want = pd.read_csv(ilmn / "ref_neqc.tsv.gz", sep="\t", index_col=0)
    keep = pd.read_csv(ilmn / "ref_neqc_expressed.tsv.gz", sep="\t", index_col=0)["expressed"]
    want = want[keep.to_numpy().astype(bool)]
    assert ds.source == "illumina"
    assert list(ds.expression.index) == list(want.index)
    assert list(ds.expression.columns) == list(sheet(ilmn)["sample"])
    np.testing.assert_allclose(ds.expression.to_numpy(), want.to_numpy(), atol=1e-6, rtol=0)
    assert ds.features.loc["ILMN_1700000", "gene_symbol"] == "SIM00001"
    prov = ds.provenance
    assert prov["normalization"]["normexp_parameters_from"] == "control"
    assert prov["normalization"]["negative_controls"] == 200
    assert prov["filter"]["min_detected_arrays"] == 2  # smallest cell_line x treatment group
    assert prov["platform"].startswith("HumanHT-12")


def test_illumina_signature_recovered(ilmn):
    # The planted fulvestrant-retained genes move in resistant cells: the source's
    # values carry the design through.
    ds = load_illumina(ILMN, sheet(ilmn), base_dir=ilmn)
    truth = pd.read_csv(ilmn / "truth.tsv", sep="\t").set_index("probe")
    retained = truth.index[truth["status"] == "retained_restored"].intersection(ds.expression.index)
    s = sheet(ilmn)
    fulv = ds.expression[s["sample"][s["treatment"] == "fulvestrant"]].mean(axis=1)
    veh = ds.expression[s["sample"][s["treatment"] == "vehicle"]].mean(axis=1)
    lfc = (fulv - veh)[retained] * truth.loc[retained, "direction"]
    assert len(retained) > 10 and (lfc > 0.5).mean() > 0.9


def test_illumina_settings_from_mapping():
    s = IlluminaSettings.from_mapping(
        {"probe_profile": ["a.txt", "b.txt"], "normalization": "neqc", "min_detected": 3}
    )
    assert s.profiles == ("a.txt", "b.txt") and s.min_detected == 3
    with pytest.raises(ConfigError, match=r"data\.illumina\.bogus"):
        IlluminaSettings.from_mapping({"bogus": 1})
    with pytest.raises(ConfigError, match="normalization"):
        IlluminaSettings.from_mapping({"normalization": "rma"})


def test_agilent_dataset_equals_limma(agil):
    ds = load_agilent(AgilentSettings(), sheet(agil), base_dir=agil)
    want = pd.read_csv(agil / "ref_avereps.tsv.gz", sep="\t", index_col=0)
    assert ds.source == "agilent"
    assert list(ds.expression.index) == list(want.index)
    np.testing.assert_allclose(ds.expression.to_numpy(), want.to_numpy(), atol=1e-6, rtol=0)
    truth = pd.read_csv(agil / "truth.tsv", sep="\t", keep_default_na=False).set_index("probe")
    named = truth.index[truth["gene"] != ""].intersection(ds.expression.index)[:50]
    assert list(ds.features.loc[named, "gene_symbol"]) == list(truth.loc[named, "gene"])
    # probes without a gene carry no symbol (FE repeats the probe name as GeneName)
    extra = [p for p in ds.expression.index if p not in truth.index][:5]
    assert ds.features.loc[extra, "gene_symbol"].isna().all()
    assert ds.provenance["filter"]["control_features_dropped"] == 120
    assert ds.provenance["platform"] == "039494_D_F_20120628"
    assert len(ds.provenance["normalization"]["normexp_parameters"]["mu"]) == 8


def test_agilent_no_filter_keeps_every_regular_probe(agil):
    ds = load_agilent(AgilentSettings(min_well_above=0), sheet(agil), base_dir=agil)
    assert ds.provenance["filter"]["regular_features_filtered"] == 0
    assert len(ds.expression) > len(pd.read_csv(agil / "ref_avereps.tsv.gz", sep="\t"))


# --------------------------------------------------------------------------- bad input


def _copy_illumina(ilmn: Path, tmp: Path) -> Path:
    for name in ("sample_probe_profile.txt", "control_probe_profile.txt", "samples.tsv"):
        shutil.copy(ilmn / name, tmp / name)
    return tmp


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, count))


def _set_field(path: Path, rows: tuple[int, ...], column: int, value: str) -> list[str]:
    """Set tab-separated field ``column`` of the 0-based lines ``rows`` of ``path``
    to ``value``; the fields it replaced."""
    lines = path.read_text().split("\n")
    old = []
    for k in rows:
        fields = lines[k].split("\t")
        old.append(fields[column])
        fields[column] = value
        lines[k] = "\t".join(fields)
    path.write_text("\n".join(lines))
    return old


def test_missing_avg_signal_column_named(ilmn, tmp_path):
    d = _copy_illumina(ilmn, tmp_path)
    _edit(d / "sample_probe_profile.txt", "resistant_rapamycin_2.AVG_Signal", "rr2.Signal")
    with pytest.raises(FormatError, match=r"'resistant_rapamycin_2\.AVG_Signal'.*resistant_rapamy"):
        load_illumina(ILMN, sheet(d), base_dir=d)


def test_missing_detection_column_named(ilmn, tmp_path):
    d = _copy_illumina(ilmn, tmp_path)
    _edit(d / "sample_probe_profile.txt", "resistant_vehicle_2.Detection Pval", "rv2.Other")
    with pytest.raises(FormatError, match=r"resistant_vehicle_2\.Detection Pval"):
        load_illumina(ILMN, sheet(d), base_dir=d)


def test_control_profile_without_negatives(ilmn, tmp_path):
    d = _copy_illumina(ilmn, tmp_path)
    path = d / "control_probe_profile.txt"
    path.write_text(path.read_text().replace("NEGATIVE", "UNKNOWN"))
    explicit = IlluminaSettings(
        probe_profile="sample_probe_profile.txt",
        control_profile="control_probe_profile.txt",
        normalization="neqc",
    )
    with pytest.raises(FormatError, match=r"control_probe_profile\.txt has 0 negative control"):
        load_illumina(explicit, sheet(d), base_dir=d)
    with pytest.warns(UserWarning, match="detection p-values"):
        ds = load_illumina(ILMN, sheet(d), base_dir=d)
    assert ds.provenance["normalization"]["normexp_parameters_from"] == "detection"


def test_illumina_non_numeric_and_non_finite(ilmn, tmp_path):
    d = _copy_illumina(ilmn, tmp_path)
    _set_field(d / "sample_probe_profile.txt", (10,), 2, "abc")
    with pytest.raises(FormatError, match=r"line 11, column 'resistant_vehicle_1\.AVG_Signal'"):
        load_illumina(ILMN, sheet(d), base_dir=d)
    _set_field(d / "sample_probe_profile.txt", (10, 12, 13), 2, "NaN")
    with pytest.raises(
        FormatError,
        match=r"3 missing or non-finite AVG_Signal value\(s\); the first at line 11,"
        r" column 'resistant_vehicle_1\.AVG_Signal'",
    ):
        load_illumina(ILMN, sheet(d), base_dir=d)


def test_illumina_negative_signals_counted_when_refused(ilmn, tmp_path):
    d = _copy_illumina(ilmn, tmp_path)
    _set_field(d / "sample_probe_profile.txt", (9, 20), 6, "-3.5")
    refuse = IlluminaSettings(
        probe_profile="sample_probe_profile.txt",
        control_profile="control_probe_profile.txt",
        allow_negative=False,
    )
    with pytest.raises(FormatError, match=r"2 negative AVG_Signal value\(s\)"):
        load_illumina(refuse, sheet(d), base_dir=d)
    load_illumina(ILMN, sheet(d), base_dir=d)  # accepted by default (normexp handles them)


def test_illumina_mixed_platforms(ilmn, tmp_path):
    d = _copy_illumina(ilmn, tmp_path)
    _edit(d / "control_probe_profile.txt", "HumanHT-12_V4_0_R2_15002873_B", "HumanWG-6_V3_0_R3")
    with pytest.raises(FormatError, match="mixed platforms"):
        load_illumina(ILMN, sheet(d), base_dir=d)


def test_geo_layout_profile(ilmn, tmp_path):
    # GEO's non-normalized supplementary layout: ID_REF, then <sample> and its
    # "Detection Pval", no header block, gzipped.
    raw = pd.read_csv(ilmn / "sample_probe_profile.txt", sep="\t", skiprows=7, dtype=str)
    s = sheet(ilmn)
    cols = {"ID_REF": raw["PROBE_ID"], "DEFINITION": "Homo sapiens simulated gene"}
    frame = pd.DataFrame(cols)
    header = ["ID_REF", "DEFINITION"]
    for a in s["array"]:
        frame[f"{a}"] = raw[f"{a}.AVG_Signal"]
        frame[f"{a}__p"] = raw[f"{a}.Detection Pval"]
        header += [a, "Detection Pval"]
    with gzip.open(tmp_path / "GSE0_non-normalized.txt.gz", "wt") as fh:
        fh.write("\t".join(header) + "\n")
        frame.to_csv(fh, sep="\t", index=False, header=False)
    settings = IlluminaSettings(probe_profile="GSE0_non-normalized.txt.gz")
    with pytest.warns(UserWarning, match="detection p-values"):
        ds = load_illumina(settings, s, base_dir=tmp_path)
    want = pd.read_csv(ilmn / "ref_nec.tsv.gz", sep="\t", index_col=0)
    got = ds.expression
    np.testing.assert_allclose(got.to_numpy(), want.loc[got.index].to_numpy(), atol=1e-6, rtol=0)


def _copy_agilent(agil: Path, tmp: Path) -> Path:
    shutil.copytree(agil / "fe", tmp / "fe")
    shutil.copy(agil / "samples.tsv", tmp / "samples.tsv")
    return tmp


def _plain(d: Path, k: int) -> Path:
    """The k-th sheet file, made plain text (the sheet updated)."""
    s = sheet(d)
    path = d / s["file"].iat[k]
    if path.suffix == ".gz":
        plain = path.with_suffix("")
        plain.write_bytes(gzip.decompress(path.read_bytes()))
        s.loc[k, "file"] = str(plain.relative_to(d))
        s.to_csv(d / "samples.tsv", sep="\t", index=False)
        path = plain
    return path


def test_agilent_without_features_section(agil, tmp_path):
    d = _copy_agilent(agil, tmp_path)
    path = _plain(d, 1)
    text = path.read_text()
    path.write_text(text[: text.index("TYPE\tinteger\tinteger\tinteger\tinteger")])
    with pytest.raises(FormatError, match=rf"{path.name}: no FEATURES section"):
        load_agilent(AgilentSettings(), sheet(d), base_dir=d)


def test_agilent_different_probe_list_names_first_probe(agil, tmp_path):
    d = _copy_agilent(agil, tmp_path)
    path = _plain(d, 3)
    # line 15: the 5th feature (10 lines of FEPARAMS, STATS and column lines)
    (old,) = _set_field(path, (14,), 5, "A_99_P0000001")
    with pytest.raises(FormatError, match=rf"line 15: feature 5 is probe 'A_99_P0000001'.*{old}"):
        load_agilent(AgilentSettings(), sheet(d), base_dir=d)


def test_agilent_mixed_designs(agil, tmp_path):
    d = _copy_agilent(agil, tmp_path)
    path = _plain(d, 4)
    _edit(path, "039494_D_F_20120628", "014850_D_F_20060807")
    with pytest.raises(FormatError, match=r"mixed platforms.*014850_D_F_20060807"):
        load_agilent(AgilentSettings(), sheet(d), base_dir=d)


def test_agilent_negative_and_missing_signals_counted(agil, tmp_path):
    d = _copy_agilent(agil, tmp_path)
    path = _plain(d, 0)
    _set_field(path, (20, 30, 40), 10, "-5.0")  # gMedianSignal
    with pytest.raises(FormatError, match=r"3 negative intensity value\(s\); the first at line 21"):
        load_agilent(AgilentSettings(), sheet(d), base_dir=d)
    _set_field(path, (50,), 11, "")  # gBGMedianSignal
    with pytest.raises(FormatError, match=r"1 missing or non-finite.*line 51.*gBGMedianSignal"):
        load_agilent(AgilentSettings(), sheet(d), base_dir=d)


def test_agilent_missing_column_and_illumina_file_given(agil, ilmn, tmp_path):
    d = _copy_agilent(agil, tmp_path)
    path = _plain(d, 0)
    _edit(path, "\tgBGMedianSignal\t", "\tgBGMeanSignal\t")
    with pytest.raises(FormatError, match="FEATURES has no column 'gBGMedianSignal'"):
        load_agilent(AgilentSettings(), sheet(d), base_dir=d)
    shutil.copy(ilmn / "sample_probe_profile.txt", path)
    with pytest.raises(FormatError, match="no FEATURES section"):
        load_agilent(AgilentSettings(), sheet(d), base_dir=d)


def test_agilent_sheet_errors(agil):
    s = sheet(agil)
    with pytest.raises(ConfigError, match="no column 'file'"):
        load_agilent(AgilentSettings(), s.drop(columns="file"), base_dir=agil)
    s2 = s.copy()
    s2.loc[1, "file"] = s2.loc[0, "file"]
    with pytest.raises(ConfigError, match=r"row 2: file .* is repeated"):
        load_agilent(AgilentSettings(), s2, base_dir=agil)


def test_symbols_from_an_annotation_table(ilmn, agil, tmp_path):
    # A GPL-like table: ID, Symbol, Entrez_Gene_ID; symbols differ from the files' own.
    ann = tmp_path / "GPL_like.txt"
    ids = [f"ILMN_{1700000 + i}" for i in range(5)] + ["A_23_P100000", "A_23_P100007"]
    ann.write_text(
        "ID\tSymbol\tEntrez_Gene_ID\n"
        + "".join(f"{p}\tGENE{i}\t{1000 + i}\n" for i, p in enumerate(ids))
    )
    s = IlluminaSettings(
        probe_profile="sample_probe_profile.txt",
        control_profile="control_probe_profile.txt",
        annotation=str(ann),
    )
    ds = load_illumina(s, sheet(ilmn), base_dir=ilmn)
    assert ds.features.loc["ILMN_1700000", "gene_symbol"] == "GENE0"
    assert str(ds.features.loc["ILMN_1700000", "entrez_id"]) == "1000"
    assert ds.features["gene_symbol"].notna().sum() <= 5
    da = load_agilent(AgilentSettings(annotation=str(ann)), sheet(agil), base_dir=agil)
    assert set(da.features["gene_symbol"].dropna()) <= {"GENE5", "GENE6"}


def test_agilent_truncated_row_and_trailing_star(agil, tmp_path):
    d = _copy_agilent(agil, tmp_path)
    path = _plain(d, 2)
    text = path.read_text()
    # A closing "*" after the last feature is accepted.
    path.write_text(text.rstrip("\n") + "\n*\n")
    load_agilent(AgilentSettings(), sheet(d), base_dir=d)
    lines = text.split("\n")
    lines[30] = "\t".join(lines[30].split("\t")[:6])  # line 31 cut after ProbeName
    path.write_text("\n".join(lines))
    with pytest.raises(FormatError, match=r"line 31: 6 fields where the column line has 16"):
        load_agilent(AgilentSettings(), sheet(d), base_dir=d)


def test_agilent_threads_give_the_same_result(agil):
    one = load_agilent(AgilentSettings(), sheet(agil), base_dir=agil)
    two = load_agilent(AgilentSettings(threads=2), sheet(agil), base_dir=agil)
    pd.testing.assert_frame_equal(one.expression, two.expression, check_exact=True)


def test_illumina_nec_requested_and_no_filter(ilmn):
    s = IlluminaSettings(
        probe_profile="sample_probe_profile.txt",
        control_profile="control_probe_profile.txt",
        normalization="nec",
        min_detected=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # asked for: no fallback warning
        ds = load_illumina(s, sheet(ilmn), base_dir=ilmn)
    want = pd.read_csv(ilmn / "ref_nec.tsv.gz", sep="\t", index_col=0)
    assert ds.shape == (2500, 8)
    np.testing.assert_allclose(ds.expression.to_numpy(), want.to_numpy(), atol=1e-6, rtol=0)
    assert ds.provenance["filter"]["probes_kept"] == 2500
