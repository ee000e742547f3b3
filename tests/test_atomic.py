"""Atomic writes: complete files only, usual permissions, long names."""

from __future__ import annotations

import os
import stat

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
