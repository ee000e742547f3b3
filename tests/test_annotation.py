"""Reading probe-set annotations and collapsing probe sets to genes."""

from __future__ import annotations

import gzip
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sigrestore.annotation import (
    annotate_table,
    check_platform,
    collapse_to_genes,
    read_annotation,
)
from sigrestore.errors import ConfigError, FormatError

COLUMNS = ["gene_symbol", "entrez_id", "gene_title"]


@pytest.fixture(scope="module")
def ann_dir(data_dir) -> Path:
    return data_dir / "annotation"


def test_netaffx_csv(ann_dir):
    a = read_annotation(ann_dir / "netaffx_small.annot.csv")
    assert list(a.columns) == COLUMNS
    assert a.index.name == "probe_set_id"
    assert len(a) == 18
    assert a.loc["1053_at", "gene_symbol"] == "RFC2"
    assert a.loc["1053_at", "entrez_id"] == "5982"
    # quoted field with a comma and doubled quotes elsewhere on the line
    assert a.loc["117_at", "gene_title"] == "heat shock 70kDa protein 6 (HSP70B')"
    assert a.loc["1007_s_at", "gene_symbol"] == "DDR1 /// MIR4640"
    assert a.loc["1007_s_at", "entrez_id"] == "780 /// 100616237"
    assert a.loc["1487_at"].isna().all()  # "---" is missing
    assert a.loc["AFFX-HUMGAPDH/M33197_3_at", "gene_symbol"] == "GAPDH"


def test_geo_annot(ann_dir):
    a = read_annotation(ann_dir / "GPL97_subset.annot.gz")
    assert list(a.columns) == COLUMNS
    assert len(a) == 310
    assert a.loc["200000_s_at"].tolist() == [
        "PRPF8", "10594", "PRP8 pre-mRNA processing factor 8 homolog (S. cerevisiae)"
    ]  # fmt: skip
    # GEO writes "A///B"; the reader normalizes to "A /// B"
    assert a.loc["200067_x_at", "gene_symbol"] == "SNX3 /// NR2E1"
    assert a.loc["AFFX-TrpnX-M_at"].isna().all()
    assert a["gene_symbol"].isna().sum() == 34  # 10 AFFX controls, 24 unannotated


def test_plain_tsv(ann_dir):
    a = read_annotation(ann_dir / "plain_small.tsv")
    assert list(a.index) == ["1007_s_at", "1053_at", "117_at", "121_at", "AFFX-BioB-5_at"]
    assert a.loc["117_at", "entrez_id"] == "3310"
    assert a.loc["117_at", "gene_title"] == "heat shock protein family A member 6"
    assert pd.isna(a.loc["121_at", "gene_symbol"])


def test_gzip_is_transparent(ann_dir, tmp_path):
    src = ann_dir / "netaffx_small.annot.csv"
    packed = tmp_path / "netaffx.csv.gz"
    with src.open("rb") as fin, gzip.open(packed, "wb") as fout:
        shutil.copyfileobj(fin, fout)
    pd.testing.assert_frame_equal(read_annotation(packed), read_annotation(src))


def test_bom_and_crlf_are_tolerated(ann_dir, tmp_path):
    src = ann_dir / "netaffx_small.annot.csv"
    windows = tmp_path / "netaffx_windows.csv"
    windows.write_bytes(b"\xef\xbb\xbf" + src.read_bytes().replace(b"\n", b"\r\n"))
    pd.testing.assert_frame_equal(read_annotation(windows), read_annotation(src))


def test_geo_soft_platform_table(tmp_path):
    soft = tmp_path / "GPL570_family.soft"
    soft.write_text(
        "^PLATFORM = GPL570\n!Platform_title = [HG-U133_Plus_2]\n#ID = Affymetrix probe set\n"
        "!platform_table_begin\n"
        "ID\tGB_ACC\tGene Title\tGene Symbol\tENTREZ_GENE_ID\n"
        "1007_s_at\tU48705\tdiscoidin domain receptor\tDDR1 /// MIR4640\t780 /// 100616237\n"
        "1053_at\tM87338\treplication factor C\tRFC2\t5982\n"
        "!platform_table_end\n"
    )
    a = read_annotation(soft)
    assert a.loc["1053_at"].tolist() == ["RFC2", "5982", "replication factor C"]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("empty.tsv", "", "no table found"),
        ("comments.csv", "#%a=1\n#%b=2\n", "no table found"),
        ("other.csv", "a,b,c\n1,2,3\n", "line 1: not a NetAffx CSV"),
        ("nosym.tsv", "ID\tfoo\np1\tx\n", "no gene symbol column"),
        ("dup.tsv", "ID\tSymbol\np1\tA\np2\tB\np1\tC\n", "line 4: probe-set id 'p1' appears twice"),
        ("blank.tsv", "#c\nID\tSymbol\np1\tA\n\tB\n", "line 4: empty probe-set id"),
        (
            "ragged.csv",
            '#%x=1\n"Probe Set ID","Gene Symbol"\n"p1","A"\n"p2","B","extra"\n',
            "line 4",
        ),
        ("geo.annot", "^Annotation\n!platform_table_begin\nID\tGene symbol\np1\tA\n", "without"),
        ("geo2.annot", "^Annotation\n!Annotation_platform = GPL1\n", "GEO file without"),
    ],
)
def test_bad_files_name_file_and_row(tmp_path, name, text, message):
    path = _write(tmp_path, name, text)
    with pytest.raises(FormatError, match=name) as info:
        read_annotation(path)
    assert message in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(FormatError, match="cannot read"):
        read_annotation(tmp_path / "absent.csv")


@pytest.fixture
def expr_and_annotation():
    ann = pd.DataFrame(
        {
            "gene_symbol": ["A", "A", "A", "B", "C /// D", np.nan, "GAPDH", "E", "E"],
            "entrez_id": ["1", "1", "1", "2", "3 /// 4", np.nan, "2597", "5", "5"],
            "gene_title": [np.nan] * 9,
        },
        index=pd.Index(
            ["a1", "a2", "a3", "b1", "cd1", "none1", "AFFX-HUMGAPDH/M33197_3_at", "e1", "e2"],
            name="probe_set_id",
        ),
    )
    expr = pd.DataFrame(
        [
            [1.0, 2.0, 3.0, 4.0],  # a1: mean 2.5, IQR 1.5
            [0.0, 0.0, 10.0, 10.0],  # a2: mean 5, IQR 10
            [6.0, 6.0, 6.0, 6.5],  # a3: mean 6.125, IQR 0.125
            [5.0, 5.0, 5.0, 5.0],  # b1
            [9.0, 9.0, 9.0, 9.0],  # cd1: two genes -> dropped
            [9.0, 9.0, 9.0, 9.0],  # none1: no gene -> dropped
            [12.0, 12.0, 12.0, 12.0],  # control -> dropped
            [3.0, 3.0, 3.0, 3.0],  # e1: tie with e2 on mean and IQR -> e1
            [3.0, 3.0, 3.0, 3.0],
            [8.0, 8.0, 8.0, 8.0],  # unannotated -> dropped
        ],
        index=["a1", "a2", "a3", "b1", "cd1", "none1", "AFFX-HUMGAPDH/M33197_3_at", "e1", "e2",
               "zz"],
        columns=["s1", "s2", "s3", "s1"],  # repeated column names (a resampled matrix)
    )  # fmt: skip
    return expr, ann


def test_collapse_max_mean(expr_and_annotation):
    expr, ann = expr_and_annotation
    genes = collapse_to_genes(expr, ann, method="max_mean")
    assert genes.index.name == "gene_symbol"
    assert list(genes.index) == ["A", "B", "E"]
    assert list(genes.columns) == ["s1", "s2", "s3", "s1"]
    np.testing.assert_array_equal(genes.loc["A"], expr.loc["a3"])
    np.testing.assert_array_equal(genes.loc["E"], expr.loc["e1"])


def test_collapse_max_iqr(expr_and_annotation):
    expr, ann = expr_and_annotation
    genes = collapse_to_genes(expr, ann, method="max_iqr")
    np.testing.assert_array_equal(genes.loc["A"], expr.loc["a2"])
    assert list(genes.index) == ["A", "B", "E"]


def test_collapse_mean(expr_and_annotation):
    expr, ann = expr_and_annotation
    genes = collapse_to_genes(expr, ann, method="mean")
    np.testing.assert_allclose(genes.loc["A"], expr.loc[["a1", "a2", "a3"]].mean(axis=0))
    np.testing.assert_allclose(genes.loc["B"], expr.loc["b1"])


def test_collapse_none_and_bad_method(expr_and_annotation):
    expr, ann = expr_and_annotation
    pd.testing.assert_frame_equal(collapse_to_genes(expr, ann, method="none"), expr)
    with pytest.raises(ConfigError, match="median"):
        collapse_to_genes(expr, ann, method="median")


def test_collapse_real_annotation(ann_dir):
    ann = read_annotation(ann_dir / "GPL97_subset.annot.gz")
    rng = np.random.default_rng(0)
    expr = pd.DataFrame(rng.normal(8, 1, (len(ann), 6)), index=ann.index)
    genes = collapse_to_genes(expr, ann)
    single = ann["gene_symbol"].dropna()
    single = single[~single.str.contains("///") & ~single.index.str.startswith("AFFX")]
    assert genes.index.is_unique
    assert set(genes.index) == set(single)
    # every gene row is the row of its probe set with the highest mean
    means = expr.mean(axis=1)
    best = means[single.index].groupby(single).max()
    np.testing.assert_allclose(genes.mean(axis=1), best[genes.index])


def test_annotate_table(expr_and_annotation):
    _, ann = expr_and_annotation
    table = pd.DataFrame({"logFC": [1.0, -2.0, 0.5]}, index=["b1", "zz", "cd1"])
    out = annotate_table(table, ann)
    assert list(out.columns) == ["gene_symbol", "entrez_id", "logFC"]
    assert out.loc["b1", "gene_symbol"] == "B"
    assert pd.isna(out.loc["zz", "gene_symbol"])
    assert out.loc["cd1", "entrez_id"] == "3 /// 4"
    np.testing.assert_array_equal(out["logFC"], table["logFC"])


def test_zip_with_one_csv_is_read(ann_dir, tmp_path):
    # NetAffx distributes its annotation CSVs as .csv.zip.
    src = ann_dir / "netaffx_small.annot.csv"
    packed = tmp_path / "HG-U133A.na36.annot.csv.zip"
    with zipfile.ZipFile(packed, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("HG-U133A.na36/", "")  # a folder entry is not a member file
        zf.write(src, "HG-U133A.na36/HG-U133A.na36.annot.csv")
    pd.testing.assert_frame_equal(read_annotation(packed), read_annotation(src))


def test_zip_with_several_files_is_refused(ann_dir, tmp_path):
    src = ann_dir / "netaffx_small.annot.csv"
    packed = tmp_path / "two.zip"
    with zipfile.ZipFile(packed, "w") as zf:
        zf.write(src, "a.annot.csv")
        zf.write(src, "b.annot.csv")
    with pytest.raises(FormatError, match=r"two\.zip") as info:
        read_annotation(packed)
    assert "exactly one annotation file, found 2" in str(info.value)
    assert "a.annot.csv" in str(info.value)


def test_corrupt_zip_is_a_format_error(tmp_path):
    path = _write(tmp_path, "broken.csv.zip", "")
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(FormatError, match=r"broken\.csv\.zip"):
        read_annotation(path)


def _wide_netaffx(path: Path, rows: int, extra: int) -> None:
    """A NetAffx-like CSV whose bulk is in columns the reader does not need."""
    names = ["Probe Set ID", "Gene Title", "Gene Symbol", "Entrez Gene"]
    names += [f"Extra {i}" for i in range(extra)]
    tail = "," + ",".join(['"' + "x" * 28 + '"'] * extra)
    with path.open("w") as fh:
        fh.write("#%netaffx-annotation-tabular-format-version=1.0\n")
        fh.write(",".join(f'"{n}"' for n in names) + "\n")
        fh.writelines(f'"{i}_at","title {i}","G{i}","{i}"{tail}\n' for i in range(rows))


def test_large_netaffx_is_read_in_bounded_memory(tmp_path):
    # Reading the whole text (and parsing every column) peaks at several times
    # the file size; streaming and keeping four columns stays well below it.
    path = tmp_path / "wide.annot.csv"
    _wide_netaffx(path, rows=20_000, extra=36)
    size = path.stat().st_size
    tracemalloc.start()
    try:
        ann = read_annotation(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(ann) == 20_000
    assert ann.loc["19999_at"].tolist() == ["G19999", "19999", "title 19999"]
    assert peak < 0.6 * size, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB file"


def test_collapse_refuses_an_annotation_of_another_platform(ann_dir):
    ann = read_annotation(ann_dir / "GPL97_subset.annot.gz")
    annotated = [i for i in ann.index if not i.startswith("AFFX")][:30]
    controls = [f"AFFX-ctl{i}_at" for i in range(20)]  # not annotated, not counted
    ids = [f"{i}_at" for i in range(40)] + annotated + controls
    expr = pd.DataFrame(np.ones((len(ids), 2)), index=ids, columns=["s1", "s2"])
    with pytest.raises(FormatError, match=r"GPL97_subset\.annot\.gz") as info:
        collapse_to_genes(expr, ann)
    assert "42.9%" in str(info.value)  # 30 of the 70 non-control probe sets
    # The table check is opt-in, with the expression matrix's probe sets.
    table = pd.DataFrame({"logFC": np.zeros(len(ids))}, index=ids)
    assert annotate_table(table, ann).shape == (len(ids), 3)
    with pytest.raises(FormatError, match=r"42\.9%"):
        annotate_table(table, ann, expression_index=expr.index)


def test_platform_check_ignores_controls_and_accepts_half(expr_and_annotation):
    expr, ann = expr_and_annotation
    # Without a source file the message names "the annotation".
    foreign = pd.DataFrame(
        {"gene_symbol": ["X"], "entrez_id": ["1"], "gene_title": [np.nan]},
        index=pd.Index(["AFFX-HUMGAPDH/M33197_3_at"], name="probe_set_id"),
    )
    with pytest.raises(FormatError, match=r"only 0\.0% .* in the annotation \(1 probe sets\)"):
        collapse_to_genes(expr, foreign)
    assert check_platform(expr.index, ann) == pytest.approx(8 / 9)
    half = ann.loc[["a1", "a2", "a3", "b1", "cd1"]]  # 5 of the 9 non-control probe sets
    assert check_platform(pd.Index([*half.index, "x1", "x2", "x3", "x4"]), half) == 5 / 9
    assert check_platform(pd.Index(["a1", "x1"]), half) == 0.5  # exactly half passes
    with pytest.raises(FormatError):
        check_platform(pd.Index(["a1", "x1", "x2"]), half)


def test_geo_table_stops_at_its_end_marker(tmp_path):
    # Rows are counted while streaming; text after the end marker (another
    # SOFT section) and blank lines inside the table are not rows.
    soft = _write(
        tmp_path,
        "GPL1_family.soft",
        "^PLATFORM = GPL1\n!platform_table_begin\nID\tGene Symbol\n"
        "p1\tA\n\np2\tB\n!platform_table_end\n^SAMPLE = GSM1\n!sample_table_begin\n"
        "ID_REF\tVALUE\np1\t1.0\n!sample_table_end\n",
    )
    a = read_annotation(soft)
    assert list(a.index) == ["p1", "p2"]
    assert a["gene_symbol"].tolist() == ["A", "B"]
