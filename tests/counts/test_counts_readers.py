"""Count-table readers and every bad input of issue 12, with messages naming file, column, row."""

from __future__ import annotations

import gzip
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.counts import detect_format, read_count_table
from sigrestore.counts.validate import check_counts, match_samples
from sigrestore.errors import ConfigError, FormatError

SHEET = pd.DataFrame({"sample": ["s1", "s2", "s3"]})


def _write(path: Path, text: str) -> Path:
    if path.suffix == ".gz":
        with gzip.open(path, "wt") as fh:
            fh.write(text)
    else:
        path.write_text(text)
    return path


def _values(path, sheet=SHEET, **kw):
    table = read_count_table(path)
    return table, check_counts(table, match_samples(table, sheet), **kw)


PLAIN = "gene\tsymbol\ts1\ts2\ts3\nG1\tA\t1\t2\t3\nG2\tB\t10\t0\t5\nG3\t\t0\t7\t9\n"


@pytest.mark.parametrize("name", ["c.tsv", "c.tsv.gz", "c.csv", "c.csv.gz"])
def test_plain_table_tsv_csv_gz(tmp_path, name):
    text = PLAIN.replace("\t", ",") if ".csv" in name else PLAIN
    table, values = _values(_write(tmp_path / name, text))
    assert table.format == "table"
    assert table.data.index.tolist() == ["G1", "G2", "G3"]
    assert table.symbols.tolist() == ["A", "B", ""]
    np.testing.assert_array_equal(values, [[1, 2, 3], [10, 0, 5], [0, 7, 9]])


def test_nf_core_salmon_fractional_logged(tmp_path, caplog):
    path = _write(
        tmp_path / "salmon.merged.gene_counts_length_scaled.tsv",
        "gene_id\tgene_name\ts1\ts2\ts3\nENSG1\tESR1\t10.5\t3\t4.25\nENSG2\tPGR\t1\t2\t3\n",
    )
    assert detect_format(path) == "salmon"
    with caplog.at_level(logging.INFO):
        table, values = _values(path)
    assert table.symbols.tolist() == ["ESR1", "PGR"]
    assert values[0, 0] == 10.5
    assert "fractional" in caplog.text


def test_featurecounts_mapped_by_file(tmp_path):
    path = _write(
        tmp_path / "fc.txt",
        "# Program:featureCounts v2.0.3; Command:...\n"
        "Geneid\tChr\tStart\tEnd\tStrand\tLength\t/data/bam/A.sorted.bam\t/data/bam/B.sorted.bam\n"
        "G1\tchr1\t1\t100\t+\t100\t5\t6\nG2\tchr1\t200\t300\t-\t101\t7\t8\n",
    )
    assert detect_format(path) == "featurecounts"
    sheet = pd.DataFrame({"sample": ["b", "a"], "file": ["bams/B.sorted.bam", "A.bam"]})
    table = read_count_table(path)
    cols = match_samples(table, sheet)
    assert cols == ["/data/bam/B.sorted.bam", "/data/bam/A.sorted.bam"]
    assert table.line_of(0) == 3
    np.testing.assert_array_equal(check_counts(table, cols), [[6, 5], [8, 7]])


def test_geo_ncbi_counts_with_annotation(tmp_path):
    path = _write(
        tmp_path / "GSE1_raw_counts_GRCh38.p13_NCBI.tsv.gz",
        "GeneID\tGSM1\tGSM2\n2099\t10\t20\n5241\t3\t4\n1\t0\t1\n",
    )
    annot = _write(
        tmp_path / "Human.GRCh38.p13.annot.tsv.gz",
        "GeneID\tSymbol\tDescription\n2099\tESR1\testrogen receptor 1\n5241\tPGR\tprogesterone\n",
    )
    assert detect_format(path) == "geo"
    table = read_count_table(path, annotation=annot)
    assert table.symbols.tolist() == ["ESR1", "PGR", ""]
    sheet = pd.DataFrame({"sample": ["x", "y"], "column": ["GSM2", "GSM1"]})
    np.testing.assert_array_equal(
        check_counts(table, match_samples(table, sheet))[:, 0], [20, 4, 1]
    )


@pytest.mark.parametrize(
    ("cell", "match"),
    [
        ("-1", r"negative count at .*line 3, column 's2' \(gene 'G2'\)"),
        ("inf", r"non-finite .*line 3, column 's2'"),
        ("", r"non-finite or missing .*line 3, column 's2'"),
        ("2.5", r"non-integer count at .*line 3, column 's2' \(gene 'G2'\): 2.5"),
        ("abc", r"line 3, column 's2' \(gene 'G2'\): 'abc' is not a number"),
    ],
)
def test_bad_values_name_file_line_column(tmp_path, cell, match):
    path = _write(tmp_path / "bad.tsv", PLAIN.replace("G2\tB\t10\t0", f"G2\tB\t10\t{cell}"))
    with pytest.raises(FormatError, match=match) as info:
        _values(path)
    assert "bad.tsv" in str(info.value)


def test_fractional_allowed_when_asked(tmp_path):
    path = _write(tmp_path / "frac.tsv", PLAIN.replace("G2\tB\t10\t0", "G2\tB\t10\t0.5"))
    _, values = _values(path, allow_fractional=True)
    assert values[1, 1] == 0.5


def test_duplicate_gene_ids(tmp_path):
    path = _write(tmp_path / "dup.tsv", PLAIN.replace("G3", "G1"))
    with pytest.raises(FormatError, match=r"dup.tsv: duplicate gene id 'G1' .*lines \[2, 4\]"):
        read_count_table(path)


def test_all_missing_samples_in_one_error(tmp_path):
    path = _write(tmp_path / "c.tsv", PLAIN)
    sheet = pd.DataFrame({"sample": ["s1", "t2", "t3"], "column": ["s1", "u2", ""]})
    with pytest.raises(ConfigError) as info:
        match_samples(read_count_table(path), sheet, sheet_name="samples.tsv")
    msg = str(info.value)
    assert "2 sample(s)" in msg and "t2 (row 3, column 'u2')" in msg and "t3 (row 4" in msg
    assert "c.tsv" in msg and "samples.tsv" in msg


def test_zero_library(tmp_path):
    path = _write(tmp_path / "z.tsv", "gene\ts1\ts2\ts3\nG1\t1\t0\t1\nG2\t2\t0\t2\n")
    with pytest.raises(FormatError, match=r"library size 0 .*\['s2'\]"):
        _values(path)


def test_cpm_table_refused(tmp_path):
    rng = np.random.default_rng(1)
    raw = rng.integers(0, 1000, (50, 3)).astype(float)
    cpm = raw / raw.sum(axis=0) * 1e6
    frame = pd.DataFrame(cpm, columns=["s1", "s2", "s3"], index=[f"G{i}" for i in range(50)])
    frame.index.name = "gene"
    frame.to_csv(tmp_path / "cpm.tsv", sep="\t")
    with pytest.raises(FormatError, match=r"sums to one million.*CPM or TPM"):
        _values(tmp_path / "cpm.tsv")


def test_log_scale_table_refused(tmp_path):
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.uniform(0, 15, (200, 3)), columns=["s1", "s2", "s3"])
    frame.index = [f"G{i}" for i in range(200)]
    path = tmp_path / "log.tsv"
    frame.to_csv(path, sep="\t")
    with pytest.raises(FormatError, match="log-transformed"):
        _values(path)


def test_missing_file_and_missing_columns(tmp_path):
    with pytest.raises(FormatError, match="not found"):
        read_count_table(tmp_path / "nope.tsv")
    path = _write(tmp_path / "x_salmon.tsv", "gene_id\ts1\nG\t1\n")
    with pytest.raises(FormatError, match=r"without column\(s\) \['gene_name'\]"):
        read_count_table(path, format="salmon")
