"""GEO readers against GEOquery on the same files (tests/data/geo/reference, made by
tests/data/geo/make/geo_reference.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.errors import FormatError
from sigrestore.geo import read_platform_table, read_series_matrix, read_soft

DATA = Path(__file__).parent / "data" / "geo"
REF = DATA / "reference"
ANNOT = Path(__file__).parent / "data" / "annotation" / "GPL97_subset.annot.gz"


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(
        REF / name, sep="\t", index_col=0, keep_default_na=False, na_values=["NA"], dtype={0: str}
    )


def _assert_same_matrix(ours: pd.DataFrame, theirs: pd.DataFrame) -> None:
    assert list(ours.columns) == list(theirs.columns)
    assert sorted(ours.index) == sorted(theirs.index.astype(str))
    theirs = theirs.set_axis(theirs.index.astype(str)).loc[ours.index]
    np.testing.assert_array_equal(np.isnan(ours.to_numpy()), np.isnan(theirs.to_numpy(float)))
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(float), rtol=1e-12)


@pytest.mark.parametrize("name", ["GSE781-GPL97", "GSE781-GPL96", "GSE999999"])
def test_series_matrix_exprs_equal_geoquery(name):
    sm = read_series_matrix(DATA / f"{name}_series_matrix.txt.gz")
    ref = _ref(f"{name}_exprs.tsv")
    _assert_same_matrix(sm.expression, ref)
    # GEOquery keeps the file's row order too.
    assert list(sm.expression.index) == list(ref.index.astype(str))
    assert sm.expression.index.name == "ID_REF"
    assert sm.expression.dtypes.eq(np.float64).all()


@pytest.mark.parametrize("name", ["GSE781-GPL97", "GSE781-GPL96", "GSE999999"])
def test_series_matrix_samples_equal_pdata(name):
    sm = read_series_matrix(DATA / f"{name}_series_matrix.txt.gz")
    pdata = pd.read_csv(
        REF / f"{name}_pdata.tsv", sep="\t", index_col=0, dtype=str, keep_default_na=False
    )
    s = sm.samples.set_index("sample")
    assert list(s.index) == list(pdata["geo_accession"])
    for ours, theirs in [
        ("title", "title"),
        ("source_name", "source_name_ch1"),
        ("supplementary_file", "supplementary_file"),
        ("platform", "platform_id"),
    ]:
        assert list(s[ours]) == list(pdata[theirs]), ours
    keys = [c[: -len(":ch1")] for c in pdata.columns if c.endswith(":ch1")]
    assert sorted(keys) == sorted(
        c for c in s.columns if c not in ("title", "source_name", "supplementary_file", "platform")
    )
    for key in keys:
        assert list(s[key]) == list(pdata[f"{key}:ch1"]), key
    assert sm.platform == pdata["platform_id"].iloc[0]
    assert sm.accession == name.split("-")[0]


def test_series_matrix_plain_text_equals_gzip(tmp_path):
    import gzip

    plain = tmp_path / "GSE999999_series_matrix.txt"
    plain.write_bytes(gzip.decompress((DATA / "GSE999999_series_matrix.txt.gz").read_bytes()))
    a = read_series_matrix(plain)
    b = read_series_matrix(DATA / "GSE999999_series_matrix.txt.gz")
    pd.testing.assert_frame_equal(a.expression, b.expression)
    pd.testing.assert_frame_equal(a.samples, b.samples)


def test_series_matrix_missing_cells_are_nan():
    sm = read_series_matrix(DATA / "GSE999999_series_matrix.txt.gz")
    # The fixture has an empty cell, a "null" and an "NA" (make_fixtures.py).
    assert int(sm.expression.isna().to_numpy().sum()) == 3
    assert np.isnan(sm.expression.iloc[5, 2]) and np.isnan(sm.expression.iloc[6, 4])


def test_non_numeric_cells_become_nan_and_are_counted(tmp_path):
    text = (
        '!Series_geo_accession\t"GSE1"\n!Sample_geo_accession\t"GSM1"\t"GSM2"\n'
        '!Sample_platform_id\t"GPL1"\t"GPL1"\n!series_matrix_table_begin\n'
        '"ID_REF"\t"GSM1"\t"GSM2"\n"a"\t1.5\t<0.1\n"b"\t2\t3e2\n!series_matrix_table_end\n'
    )
    path = tmp_path / "GSE1_series_matrix.txt"
    path.write_text(text)
    sm = read_series_matrix(path)
    assert np.isnan(sm.expression.loc["a", "GSM2"])
    assert sm.expression.loc["b", "GSM2"] == 300.0
    assert sm.non_numeric == {"GSM2": 1}


def test_family_soft_values_equal_geoquery_tables():
    soft = read_soft(DATA / "GSE781_family_subset.soft.gz")
    assert soft.kind == "family" and soft.platform_ids == ["GPL96", "GPL97"]
    ours = soft.expression("GPL97")
    ref = _ref("GSE781_family_GPL97_values.tsv")
    _assert_same_matrix(ours, ref)
    # The GSM missing one probe set has NaN there (outer join on ID_REF).
    assert np.isnan(ours.loc["200004_at", "GSM11810"])
    samples = pd.read_csv(REF / "GSE781_family_GPL97_samples.tsv", sep="\t", dtype=str)
    sheet = soft.sample_table("GPL97")
    assert list(sheet["sample"]) == list(samples["sample"])
    assert list(sheet["title"]) == list(samples["title"])
    assert set(sheet["platform"]) == {"GPL97"}


def test_family_soft_equals_series_matrix_built_from_it():
    soft = read_soft(DATA / "GSE781_family_subset.soft.gz").expression("GPL97")
    sm = read_series_matrix(DATA / "GSE781-GPL97_series_matrix.txt.gz").expression
    pd.testing.assert_frame_equal(soft, sm.loc[soft.index], check_names=False)


def test_family_soft_several_platforms_need_a_choice():
    soft = read_soft(DATA / "GSE781_family_subset.soft.gz")
    with pytest.raises(FormatError, match=r"several platforms \(GPL96, GPL97\)"):
        soft.expression()
    with pytest.raises(FormatError, match="GPL1234"):
        soft.expression("GPL1234")


def test_gds_equals_gds2eset():
    soft = read_soft(DATA / "GDS507_subset.soft.gz")
    assert soft.kind == "gds" and soft.platform_ids == ["GPL97"]
    _assert_same_matrix(soft.expression(), _ref("GDS507_exprs.tsv"))
    pdata = pd.read_csv(REF / "GDS507_pdata.tsv", sep="\t", index_col=0, dtype=str)
    sheet = soft.sample_table().set_index("sample")
    assert list(sheet.index) == list(pdata["sample"])
    assert list(sheet["disease state"]) == list(pdata["disease.state"])
    assert list(sheet["individual"]) == list(pdata["individual"])


def test_gsm_soft_table():
    soft = read_soft(DATA / "GSM11805_subset.txt.gz")
    assert soft.kind == "gsm"
    values = soft.expression()
    assert values.shape == (300, 1) and list(values.columns) == ["GSM11805"]
    assert values.loc["AFFX-BioB-5_at", "GSM11805"] == pytest.approx(953.9)
    assert soft.samples["GSM11805"].first("platform_id") == "GPL96"


def test_platform_table_annot_and_check():
    sm = read_series_matrix(DATA / "GSE999999_series_matrix.txt.gz")
    table = read_platform_table(ANNOT, expression_ids=sm.expression.index)
    assert table.loc["200000_s_at", "gene_symbol"] == "PRPF8"
    assert table.loc["200000_s_at", "entrez_id"] == "10594"
    other = pd.Index([f"ILMN_{i}" for i in range(100)])
    with pytest.raises(FormatError, match="another array type"):
        read_platform_table(ANNOT, expression_ids=other)


@pytest.mark.parametrize(
    ("header", "row", "symbol", "entrez"),
    [
        # Affymetrix platform SOFT table
        (
            "ID\tGB_ACC\tGene Title\tGene Symbol\tENTREZ_GENE_ID",
            "1007_s_at\tU48705\tdiscoidin\tDDR1\t780",
            "DDR1",
            "780",
        ),
        # Illumina (GPL6947-like): Probe_Id comes after ID, Symbol after ILMN_Gene
        (
            "ID\tSpecies\tILMN_Gene\tEntrez_Gene_ID\tSymbol\tProbe_Id\tDefinition",
            "ILMN_1343291\tHomo sapiens\tEEF1A1\t1915\tEEF1A1\tILMN_1343291\tdesc",
            "EEF1A1",
            "1915",
        ),
        # Agilent (GPL6480-like): GENE is the Entrez id
        (
            "ID\tSPOT_ID\tCONTROL_TYPE\tREFSEQ\tGB_ACC\tGENE\tGENE_SYMBOL\tGENE_NAME",
            "A_23_P100001\tA_23_P100001\tFALSE\tNM_207446\tNM_207446\t400451\tFAM174B\tfam",
            "FAM174B",
            "400451",
        ),
        # Illumina without a Symbol column
        ("ID\tILMN_Gene\tEntrez_Gene_ID", "ILMN_1\tGAPDH\t2597", "GAPDH", "2597"),
    ],
)
def test_platform_columns_found_by_name(tmp_path, header, row, symbol, entrez):
    path = tmp_path / "GPL.soft"
    path.write_text(
        f"^PLATFORM = GPL1\n!Platform_title = x\n!platform_table_begin\n{header}\n{row}\n"
        "!platform_table_end\n"
    )
    table = read_platform_table(path)
    first = table.iloc[0]
    assert first["gene_symbol"] == symbol
    assert first["entrez_id"] == entrez


@pytest.mark.parametrize("name", ["GDS507_subset.soft.gz", "GSE781_family_subset.soft.gz"])
def test_soft_blocks_split_anywhere(monkeypatch, name):
    """Tables and lines cut by the decompression block edge read the same."""
    import sigrestore.geo._open as opener

    whole = read_soft(DATA / name)
    monkeypatch.setattr(opener, "CHUNK_BYTES", 997)
    small = read_soft(DATA / name)
    assert small.platform_ids == whole.platform_ids
    platform = whole.platform_ids[-1]
    if whole.kind == "gds":
        pd.testing.assert_frame_equal(small.expression(), whole.expression())
    else:
        pd.testing.assert_frame_equal(small.expression(platform), whole.expression(platform))
        assert set(small.platforms) == {"GPL96", "GPL97"}
        assert small.platforms["GPL97"].table.shape == whole.platforms["GPL97"].table.shape
    pd.testing.assert_frame_equal(small.sample_table(platform), whole.sample_table(platform))


def test_public_names_resolve_lazily():
    import sigrestore.geo as geo

    assert sorted(geo._WHERE) == sorted(geo.__all__)
    for name in geo.__all__:
        assert getattr(geo, name) is not None
    with pytest.raises(AttributeError):
        _ = geo.no_such_name


def test_crlf_matrix_reads_the_same(tmp_path):
    import gzip

    text = gzip.decompress((DATA / "GSE999999_series_matrix.txt.gz").read_bytes())
    path = tmp_path / "GSE999999_series_matrix.txt"
    path.write_bytes(text.replace(b"\n", b"\r\n"))
    a = read_series_matrix(path)
    b = read_series_matrix(DATA / "GSE999999_series_matrix.txt.gz")
    pd.testing.assert_frame_equal(a.expression, b.expression)
    pd.testing.assert_frame_equal(a.samples, b.samples)


def test_characteristics_matched_by_key_not_row(tmp_path):
    text = (
        '!Series_geo_accession\t"GSE1"\n'
        '!Sample_geo_accession\t"GSM1"\t"GSM2"\t"GSM3"\n'
        '!Sample_characteristics_ch1\t"treatment: F"\t"cell line: MCF-7"\t"treatment: V"\n'
        '!Sample_characteristics_ch1\t"cell line: MCF-7/F"\t"treatment: FR"\t""\n'
        '!Sample_characteristics_ch1\t"time: 24 h"\t"tissue"\t"time: 48 h: late"\n'
        '!series_matrix_table_begin\n"ID_REF"\t"GSM1"\t"GSM2"\t"GSM3"\n"p"\t1\t2\t3\n'
        "!series_matrix_table_end\n"
    )
    path = tmp_path / "GSE1_series_matrix.txt"
    path.write_text(text)
    s = read_series_matrix(path).samples
    assert list(s["treatment"]) == ["F", "FR", "V"]
    assert list(s["cell line"]) == ["MCF-7/F", "MCF-7", None]
    assert list(s["time"]) == ["24 h", None, "48 h: late"]
    assert list(s["characteristics_ch1"]) == [None, "tissue", None]
