"""Atomic writes: complete files only, usual permissions, long names."""

from __future__ import annotations

import os
import stat

import numpy as np
import pandas as pd
import pytest

from sigrestore.atomic import atomic_path, write_tsv


def test_failed_write_leaves_nothing(tmp_path):
    target = tmp_path / "table.tsv"
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []


def test_existing_file_survives_a_failed_rewrite(tmp_path):
    target = tmp_path / "table.tsv"
    target.write_text("complete\n")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half")
        raise RuntimeError("interrupted")
    assert target.read_text() == "complete\n"


def test_mode_follows_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_tsv(pd.DataFrame({"a": [1.0]}), tmp_path / "t.tsv")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "t.tsv").stat().st_mode) == 0o644


def test_long_dotted_name(tmp_path):
    name = "GSM1234567_MCF7." + ".".join(["fulvestrant_rapamycin"] * 9) + ".CEL.gz"
    assert len(name) > 200
    with atomic_path(tmp_path / name) as tmp:
        assert tmp.name.endswith(".gz")  # writers that infer compression still do
        assert len(tmp.name) < 255
        tmp.write_bytes(b"x")
    assert (tmp_path / name).read_bytes() == b"x"


def test_tsv_is_byte_stable(tmp_path):
    frame = pd.DataFrame({"x": [0.1234567890123456, 1e-300, 12345678.9]}, index=["a", "b", "c"])
    write_tsv(frame, tmp_path / "1.tsv")
    write_tsv(frame, tmp_path / "2.tsv")
    assert (tmp_path / "1.tsv").read_bytes() == (tmp_path / "2.tsv").read_bytes()
    lines = (tmp_path / "1.tsv").read_text().splitlines()
    assert lines[1] == "a\t0.123456789"  # 10 significant digits
    assert lines[3] == "c\t12345678.9"


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame(
            {
                "a": [1.0, -0.0, 1e-300, 123456789.123456, np.inf, -np.inf, 7.25],
                "b with space": [2.0, 3.5, 1e22, -1e-5, 0.1 + 0.2, 5e-324, 1 / 3],
            },
            index=pd.Index([f"p{k}" for k in range(7)], name="probeset"),
        ),
        pd.DataFrame({"x": [0.5, 1.5]}, index=["a", "b"]),  # unnamed index
        pd.DataFrame({"x": [0.5, np.nan]}, index=["a", "b"]),  # NaN: pandas writes it
        pd.DataFrame({"x": [0.5, 1.5]}, index=["a\tb", "c"]),  # quoted label: pandas
        pd.DataFrame({"x": [0.5, 1.5]}, index=[1, 2]),  # non-string labels: pandas
        pd.DataFrame({"x": [0.5, 1.5], "n": [1, 2]}, index=["a", "b"]),  # mixed dtypes
    ],
    ids=["floats", "unnamed", "nan", "quoted", "int-labels", "mixed"],
)
@pytest.mark.parametrize("index", [True, False])
def test_write_tsv_is_what_pandas_writes(tmp_path, frame, index):
    """The row-at-a-time writer of float matrices gives pandas' bytes exactly."""
    path = tmp_path / "t.tsv"
    write_tsv(frame, path, index=index, na_rep="NA")
    want = frame.to_csv(
        sep="\t", index=index, float_format="%.10g", na_rep="NA", lineterminator="\n"
    )
    assert path.read_text() == want


def test_write_tsv_in_row_chunks_is_what_pandas_writes(tmp_path, monkeypatch):
    """Rows are converted a chunk at a time; the chunk boundaries leave no trace."""
    import sigrestore.atomic as atomic

    monkeypatch.setattr(atomic, "_ROWS_PER_CHUNK", 3)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        rng.normal(8, 2, (10, 4)),
        index=pd.Index([f"p{k}" for k in range(10)], name="probeset"),
        columns=list("abcd"),
    )
    for index in (True, False):
        write_tsv(frame, tmp_path / "t.tsv", index=index)
        want = frame.to_csv(sep="\t", index=index, float_format="%.10g", lineterminator="\n")
        assert (tmp_path / "t.tsv").read_text() == want
