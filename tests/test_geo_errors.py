"""Bad GEO inputs: FormatError/ConfigError naming the file and line, nothing half-written."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest

from sigrestore.cli import main
from sigrestore.errors import ConfigError, FormatError
from sigrestore.geo import check_accession, read_series_matrix, read_soft
from sigrestore.geo.fetch import FetchSettings, fetch_geo
from sigrestore.sources.geo import GeoSettings, load_geo

DATA = Path(__file__).parent / "data" / "geo"
ANNOT = Path(__file__).parent / "data" / "annotation" / "GPL97_subset.annot.gz"

HEADER = (
    '!Series_title\t"t"\n!Series_geo_accession\t"GSE1"\n'
    '!Sample_title\t"a"\t"b"\n!Sample_geo_accession\t"GSM1"\t"GSM2"\n'
    '!Sample_platform_id\t"GPL1"\t"GPL1"\n'
)  # 5 lines
BEGIN = '!series_matrix_table_begin\n"ID_REF"\t"GSM1"\t"GSM2"\n'  # lines 6-7
END = "!series_matrix_table_end\n"


def _write(tmp_path: Path, text: str, name: str = "GSE1_series_matrix.txt.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()))
    return path


def test_valid_minimal_matrix_reads(tmp_path):
    sm = read_series_matrix(_write(tmp_path, HEADER + BEGIN + '"p1"\t1\t2\n' + END))
    assert sm.expression.shape == (1, 2)


def test_missing_begin_marker(tmp_path):
    path = _write(tmp_path, HEADER + '"ID_REF"\t"GSM1"\t"GSM2"\n"p1"\t1\t2\n' + END)
    with pytest.raises(
        FormatError, match=r"GSE1_series_matrix.txt.gz: line \d+: no '!series_matrix_table_begin'"
    ):
        read_series_matrix(path)


def test_missing_end_marker(tmp_path):
    path = _write(tmp_path, HEADER + BEGIN + '"p1"\t1\t2\n"p2"\t3\t4\n')
    with pytest.raises(FormatError, match=r"line 9: no '!series_matrix_table_end'.*line 6"):
        read_series_matrix(path)


@pytest.mark.parametrize("row", ['"p2"\t3\n', '"p2"\t3\t4\t5\n'])
def test_wrong_field_count_names_line(tmp_path, row):
    path = _write(tmp_path, HEADER + BEGIN + '"p1"\t1\t2\n' + row + '"p3"\t1\t2\n' + END)
    with pytest.raises(
        FormatError, match=r"series_matrix.txt.gz: line 9: \d tab-separated fields, expected 3"
    ):
        read_series_matrix(path)


def test_wrong_sample_line_length(tmp_path):
    text = HEADER + '!Sample_source_name_ch1\t"x"\n' + BEGIN + '"p1"\t1\t2\n' + END
    with pytest.raises(FormatError, match=r"line 6: !Sample_source_name_ch1 has 1 values"):
        read_series_matrix(_write(tmp_path, text))


def test_duplicate_id_ref(tmp_path):
    path = _write(tmp_path, HEADER + BEGIN + '"p1"\t1\t2\n"p2"\t1\t2\n"p1"\t3\t4\n' + END)
    with pytest.raises(FormatError, match=r"line 10: ID_REF 'p1' appears twice"):
        read_series_matrix(path)


def test_sample_column_without_numbers(tmp_path):
    path = _write(tmp_path, HEADER + BEGIN + '"p1"\t1\tnull\n"p2"\t1\tx\n' + END)
    with pytest.raises(FormatError, match=r"line 7: sample column 'GSM2' has no numeric value"):
        read_series_matrix(path)


def test_table_columns_not_the_samples(tmp_path):
    text = HEADER + '!series_matrix_table_begin\n"ID_REF"\t"GSM1"\t"GSM9"\n"p1"\t1\t2\n' + END
    with pytest.raises(FormatError, match=r"line 7: .*in the table only: \['GSM9'\]"):
        read_series_matrix(_write(tmp_path, text))


def test_mixed_platforms_in_one_matrix(tmp_path):
    text = HEADER.replace('"GPL1"\t"GPL1"', '"GPL1"\t"GPL2"') + BEGIN + '"p1"\t1\t2\n' + END
    with pytest.raises(FormatError, match=r"line 5: .*several platforms \(GPL1, GPL2\)"):
        read_series_matrix(_write(tmp_path, text))


def test_html_page_saved_as_matrix(tmp_path):
    page = "<!DOCTYPE html>\n<html><body>502 Bad Gateway</body></html>\n"
    with pytest.raises(
        FormatError, match=r"GSE1_series_matrix.txt.gz: line 1: this is an HTML page"
    ):
        read_series_matrix(_write(tmp_path, page))
    plain = tmp_path / "GSE2_family.soft"
    plain.write_text(page)
    with pytest.raises(FormatError, match=r"GSE2_family.soft: line 1: this is an HTML page"):
        read_soft(plain)


@pytest.mark.parametrize("keep", [0.3, 0.9])
def test_truncated_gzip(tmp_path, keep):
    data = (DATA / "GSE781-GPL97_series_matrix.txt.gz").read_bytes()
    path = tmp_path / "GSE781-GPL97_series_matrix.txt.gz"
    path.write_bytes(data[: int(len(data) * keep)])
    with pytest.raises(FormatError, match=r"line \d+: the gzip data end early.*truncated"):
        read_series_matrix(path)


def test_truncated_soft(tmp_path):
    data = (DATA / "GDS507_subset.soft.gz").read_bytes()
    path = tmp_path / "GDS507.soft.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError, match=r"GDS507.soft.gz: line \d+: the gzip data end early"):
        read_soft(path)


def test_soft_table_without_end_and_bad_row(tmp_path):
    base = "^SAMPLE = GSM1\n!Sample_platform_id = GPL1\n!sample_table_begin\nID_REF\tVALUE\n"
    path = tmp_path / "a.soft"
    path.write_text(base + "p1\t1\n")
    with pytest.raises(FormatError, match=r"a.soft: line 5: the table begun on line 3 has no end"):
        read_soft(path)
    path.write_text(base + "p1\t1\np2\t2\t3\n!sample_table_end\n")
    with pytest.raises(FormatError, match=r"a.soft: line 6: 3 tab-separated fields, expected 2"):
        read_soft(path)
    path.write_text(base + "p1\t1\np1\t2\n!sample_table_end\n")
    with pytest.raises(FormatError, match=r"a.soft: line 6: ID_REF 'p1' appears twice"):
        read_soft(path).expression()


def test_sheet_gsm_not_in_matrix():
    settings = GeoSettings("GSE999999", matrix=str(DATA / "GSE999999_series_matrix.txt.gz"))
    sheet = pd.DataFrame({"sample": ["GSM999900", "GSM123"], "treatment": ["a", "b"]})
    with pytest.raises(
        FormatError, match=r"row 2 names GSM123, which is not a sample of .*GSE999999_series_matrix"
    ):
        load_geo(settings, sheet)


def test_annotation_of_another_platform(tmp_path):
    other = tmp_path / "GPL_other.annot"
    other.write_text(
        "^Annotation\n!platform_table_begin\nID\tGene symbol\tGene ID\n"
        + "".join(f"ILMN_{i}\tG{i}\t{i}\n" for i in range(50))
        + "!platform_table_end\n"
    )
    settings = GeoSettings(
        "GSE999999", matrix=str(DATA / "GSE999999_series_matrix.txt.gz"), annotation=str(other)
    )
    with pytest.raises(FormatError, match="another array type"):
        load_geo(settings)


@pytest.mark.parametrize("bad", ["GSE", "gse781", "GSM11805", "GSE78a", "GPL97", " ", "GSE781;rm"])
def test_bad_accession(bad, tmp_path):
    with pytest.raises(ConfigError, match="not a GEO series or dataset accession"):
        check_accession(bad)
    with pytest.raises(ConfigError, match="not a GEO series or dataset accession"):
        fetch_geo(FetchSettings(bad, cache_dir=str(tmp_path)))
    with pytest.raises(ConfigError):
        GeoSettings(bad)


def test_cli_sheet_error_leaves_no_file(tmp_path, capsys):
    out = tmp_path / "samples.tsv"
    status = main([
        "geo", "sheet", str(DATA / "GSE999999_series_matrix.txt.gz"),
        "--title-pattern", "(?P<x>nomatch)", "-o", str(out),
    ])  # fmt: skip
    assert status == 1
    assert (
        "does not match the title 'MCF7F_FULV_rep1' of sample GSM999900" in capsys.readouterr().err
    )
    assert list(tmp_path.iterdir()) == []
