"""``sigrestore geo sheet``, title patterns, RAW tar / zipped CDF extraction, and the GEO source."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.cli import main
from sigrestore.errors import ConfigError, FormatError
from sigrestore.geo import (
    SheetOptions,
    build_sheet,
    cel_members,
    extract_cdf_zip,
    extract_raw_tar,
    read_series_matrix,
)
from sigrestore.sources.geo import GeoSettings, load_geo, raw_inputs

DATA = Path(__file__).parent / "data" / "geo"
TOY = DATA / "GSE999999_series_matrix.txt.gz"
PATTERN = r"(?P<cell_line>MCF7F?)_(?P<arm>[A-Z]+)_rep(?P<rep>\d+)"


def _tar(path: Path, names: list[str]) -> Path:
    with tarfile.open(path, "w") as tar:
        for name in names:
            data = name.encode() * 10
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_sheet_cli_writes_samples_and_characteristics(capsys):
    assert main(["geo", "sheet", str(TOY)]) == 0
    sheet = pd.read_csv(io.StringIO(capsys.readouterr().out), sep="\t", dtype=str)
    assert list(sheet.columns) == ["sample", "title", "cell line", "treatment", "replicate"]
    assert list(sheet["sample"]) == [f"GSM99990{i}" for i in range(9)]
    assert list(sheet["treatment"][:4]) == ["fulvestrant"] * 3 + ["fulvestrant+rapamycin"]


def test_sheet_title_pattern_and_raw_tar(tmp_path):
    tar = _tar(
        tmp_path / "GSE999999_RAW.tar",
        [f"GSM99990{i}_x.CEL.gz" for i in range(8)] + ["GSM999908_y.cel", "readme.txt"],
    )
    out = tmp_path / "samples.tsv"
    status = main(["geo", "sheet", str(TOY), "--raw-tar", str(tar), "--title-pattern", PATTERN,
                   "-o", str(out)])  # fmt: skip
    assert status == 0
    sheet = pd.read_csv(out, sep="\t", dtype=str)
    assert list(sheet.columns) == [
        "sample", "title", "cell line", "treatment", "replicate", "cell_line", "arm", "rep", "file",
    ]  # fmt: skip
    assert list(sheet["arm"]) == ["FULV"] * 3 + ["FR"] * 3 + ["VEHI"] * 3
    assert list(sheet["cell_line"][-3:]) == ["MCF7"] * 3
    assert (
        sheet["file"].iloc[0] == "GSM999900_x.CEL.gz" and sheet["file"].iloc[8] == "GSM999908_y.cel"
    )


def test_title_pattern_errors():
    sm = read_series_matrix(TOY)
    with pytest.raises(ConfigError, match="no named group"):
        build_sheet(sm, options=SheetOptions(title_pattern=r"MCF7.*"))
    with pytest.raises(ConfigError, match="not a valid regular expression"):
        build_sheet(sm, options=SheetOptions(title_pattern=r"(?P<a>"))
    with pytest.raises(ConfigError, match="clash"):
        build_sheet(sm, options=SheetOptions(title_pattern=r"(?P<title>.*)"))
    with pytest.raises(ConfigError, match=r"'MCF7_VEHI_rep1' of sample GSM999906"):
        build_sheet(sm, options=SheetOptions(title_pattern=r"(?P<x>MCF7F)_.*"))


def test_raw_tar_extraction_and_errors(tmp_path):
    tar = _tar(tmp_path / "a.tar", ["GSM1_a.CEL.gz", "sub/GSM2.CEL", "GSM3.txt"])
    members = cel_members(tar)
    assert members.to_dict() == {"GSM1": "GSM1_a.CEL.gz", "GSM2": "sub/GSM2.CEL"}
    paths = extract_raw_tar(tar, tmp_path / "cel")
    assert Path(paths["GSM2"]) == tmp_path / "cel" / "GSM2.CEL"  # no sub-folder: base names only
    assert Path(paths["GSM2"]).read_bytes() == b"sub/GSM2.CEL" * 10
    assert sorted(p.name for p in (tmp_path / "cel").iterdir()) == ["GSM1_a.CEL.gz", "GSM2.CEL"]
    dup = _tar(tmp_path / "b.tar", ["GSM1_a.CEL.gz", "GSM1_b.CEL.gz"])
    with pytest.raises(FormatError, match="two CEL files for GSM1"):
        cel_members(dup)
    cut = tmp_path / "c.tar"
    cut.write_bytes(tar.read_bytes()[:700])
    with pytest.raises(FormatError, match=r"c\.tar"):
        extract_raw_tar(cut, tmp_path / "cel2")


def test_cdf_inside_zip(tmp_path):
    z = tmp_path / "HGU133B_Hs_ENTREZG_25.0.0.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("HGU133B_Hs_ENTREZG/HGU133B_Hs_ENTREZG.cdf", "[CDF]\nVersion=GC3.0\n")
        zf.writestr("HGU133B_Hs_ENTREZG/README.txt", "x")
    cdf = extract_cdf_zip(z, tmp_path / "out")
    assert cdf == tmp_path / "out" / "HGU133B_Hs_ENTREZG.cdf"
    assert cdf.read_text().startswith("[CDF]")
    bad = tmp_path / "two.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("a.cdf", "x")
        zf.writestr("b.cdf", "y")
    with pytest.raises(FormatError, match=r"expected one \.cdf"):
        extract_cdf_zip(bad, tmp_path / "out")


def test_raw_inputs_for_the_affymetrix_source(tmp_path):
    folder = tmp_path / "cache" / "GSE999999"
    folder.mkdir(parents=True)
    (folder / TOY.name).write_bytes(TOY.read_bytes())
    _tar(folder / "GSE999999_RAW.tar", [f"GSM99990{i}_x.CEL.gz" for i in range(9)])
    z = tmp_path / "cdf.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("X.cdf", "[CDF]\n")
    settings = GeoSettings("GSE999999", raw=True, cache_dir=str(tmp_path / "cache"))
    inputs = raw_inputs(settings, cdf=z)
    assert inputs.cdf == folder / "cel" / "X.cdf"
    assert list(inputs.samples["file"]) == [
        str(folder / "cel" / f"GSM99990{i}_x.CEL.gz") for i in range(9)
    ]
    assert all(Path(f).is_file() for f in inputs.samples["file"])
    with pytest.raises(ConfigError, match="Affymetrix source"):
        load_geo(settings)
    sheet = pd.DataFrame({"sample": ["GSM999900", "GSM555"]})
    with pytest.raises(FormatError, match="no CEL file for GSM555"):
        raw_inputs(settings, sheet)


def test_source_with_user_sheet_orders_and_subsets(tmp_path):
    sheet = pd.DataFrame({
        "sample": ["GSM999903", "GSM999900", "GSM999904", "GSM999901"],
        "treatment": ["FR", "F", "FR", "F"],
    })  # fmt: skip
    ds = load_geo(GeoSettings("GSE999999", matrix=str(TOY), log2="auto"), sheet)
    assert list(ds.expression.columns) == list(sheet["sample"])
    assert ds.provenance["log2"]["log2"] is False  # already log2 (GEO2R rule)
    assert "already log scale" in ds.provenance["log2"]["reason"]
    sm = read_series_matrix(TOY)
    np.testing.assert_array_equal(
        ds.expression.to_numpy(), sm.expression[list(sheet["sample"])].to_numpy()
    )
    assert ds.features is None  # no annotation given or cached
    forced = load_geo(GeoSettings("GSE999999", matrix=str(TOY), log2="yes"), sheet)
    np.testing.assert_allclose(forced.expression.to_numpy(), np.log2(ds.expression.to_numpy()))
    with pytest.raises(ConfigError, match="normalize"):
        GeoSettings("GSE999999", normalize="rma")


def test_source_title_pattern_and_missing_cache(tmp_path):
    ds = load_geo(GeoSettings("GSE999999", matrix=str(TOY), title_pattern=PATTERN))
    assert list(ds.samples["arm"][:3]) == ["FULV"] * 3
    with pytest.raises(
        ConfigError, match=r"not in the cache folder .*sigrestore geo fetch GSE1 --out"
    ):
        load_geo(GeoSettings("GSE1", cache_dir=str(tmp_path)))


def test_source_reads_family_soft():
    settings = GeoSettings(
        "GSE781", matrix=str(DATA / "GSE781_family_subset.soft.gz"), platform="GPL97"
    )
    ds = load_geo(settings)
    assert ds.shape == (668, 17) and ds.provenance["log2"]["log2"] is True
    assert set(ds.samples["platform"]) == {"GPL97"}
    with pytest.raises(FormatError, match=r"several platforms \(GPL96, GPL97\)"):
        load_geo(GeoSettings("GSE781", matrix=str(DATA / "GSE781_family_subset.soft.gz")))


def test_settings_from_config_mapping():
    s = GeoSettings.from_mapping({"geo": "GSE781", "platform": "GPL97", "normalize": "quantile"})
    assert (s.accession, s.platform, s.normalize, s.log2, s.raw) == (
        "GSE781", "GPL97", "quantile", "auto", False,
    )  # fmt: skip
    assert GeoSettings.from_mapping("GDS507").accession == "GDS507"
    fetch = s.fetch_settings()
    assert (fetch.accession, fetch.platform, fetch.annotation, fetch.cache_dir) == (
        "GSE781", "GPL97", True, "resources/geo",
    )  # fmt: skip
    assert not GeoSettings("GSE1", annotation="a.annot.gz").fetch_settings().annotation
    with pytest.raises(ConfigError, match=r"unknown key\(s\) \['platfrom'\]"):
        GeoSettings.from_mapping({"accession": "GSE781", "platfrom": "GPL97"})
    with pytest.raises(ConfigError, match=r"data\.geo\.accession is required"):
        GeoSettings.from_mapping({"platform": "GPL97"})
    with pytest.raises(ConfigError, match=r"data\.geo\.platform 'GPL97a'"):
        GeoSettings.from_mapping({"geo": "GSE781", "platform": "GPL97a"})
    with pytest.raises(ConfigError, match="raw must be true or false"):
        GeoSettings.from_mapping({"geo": "GSE781", "raw": "yes"})
