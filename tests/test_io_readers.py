"""CEL and CDF readers against R/Bioconductor (affyio, makecdfenv) references."""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from sigrestore.errors import FormatError
from sigrestore.io import (
    CelData,
    load_cdf,
    read_cdf,
    read_cdf_cache,
    read_cel,
    read_cel_header,
    read_cel_intensity,
    write_cdf,
    write_cel,
)
from sigrestore.io.cdf_xda import encode_xda_cdf

TEST3 = Path(__file__).parent / "data" / "affymetrix" / "Test3"
CEL_REF = json.loads((TEST3 / "cel_reference.json").read_text())
CEL_FILES = sorted(CEL_REF)
FORMAT_OF = {"v3": "text-v3", "calvin": "calvin", "xda": "xda-v4"}


def _f32(values) -> np.ndarray:
    """Reference values at float32 precision (binary files store float32)."""
    return np.asarray(values, dtype=np.float32)


@pytest.mark.parametrize("name", CEL_FILES)
def test_cel_matches_affyio(name: str) -> None:
    ref = CEL_REF[name]
    cel = read_cel(TEST3 / name)
    assert cel.format == FORMAT_OF[name.split(".")[-2]]
    assert cel.chip_type == ref["chip_type"]
    assert (cel.rows, cel.cols, cel.n_cells) == (ref["rows"], ref["cols"], ref["cells"])
    assert cel.intensity.dtype == np.float64
    assert cel.intensity.shape == (ref["cells"],)
    if cel.format == "text-v3":
        # Text values are parsed correctly rounded, as affyio's strtod does: the
        # same float64, bit for bit (the reference has 15 significant digits,
        # more than the file's, so it names that float64 exactly).
        np.testing.assert_array_equal(cel.intensity[:5], np.array(ref["intensity_first5"]))
        np.testing.assert_array_equal(cel.stdev[:5], np.array(ref["stdev_first5"]))
        # R sums in long double; 15 digits of it leave a last-digit rounding.
        assert cel.intensity.sum() == pytest.approx(ref["intensity_sum"], rel=1e-14)
    else:
        np.testing.assert_array_equal(_f32(cel.intensity[:5]), _f32(ref["intensity_first5"]))
        np.testing.assert_array_equal(_f32(cel.stdev[:5]), _f32(ref["stdev_first5"]))
        # The sum over 15,876 float32 values: relative 1e-7 is float32 precision.
        assert cel.intensity.sum() == pytest.approx(ref["intensity_sum"], rel=1e-7)
    np.testing.assert_array_equal(cel.npixels[:5], ref["npixels_first5"])
    assert len(cel.outliers) == ref["n_outliers"]
    assert len(cel.masks) == ref["n_masks"]
    for idx in (cel.masks, cel.outliers):
        assert idx.dtype == np.int64
        assert np.all(np.diff(idx) > 0)
        assert idx.size == 0 or (idx.min() >= 0 and idx.max() < cel.n_cells)


@pytest.mark.parametrize("scan", ["1", "2"])
def test_text_and_calvin_copies_agree(scan: str) -> None:
    text = read_cel(TEST3 / f"Test3-{scan}.v3.CEL")
    calvin = read_cel(TEST3 / f"Test3-{scan}.calvin.CEL")
    # Command Console stores float32: the text values rounded to float32.
    np.testing.assert_array_equal(_f32(text.intensity), calvin.intensity.astype(np.float32))
    np.testing.assert_array_equal(_f32(text.stdev), calvin.stdev.astype(np.float32))
    np.testing.assert_array_equal(text.npixels, calvin.npixels)
    np.testing.assert_array_equal(text.outliers, calvin.outliers)
    np.testing.assert_array_equal(text.masks, calvin.masks)


def test_text_header_fields() -> None:
    cel = read_cel(TEST3 / "Test3-1.v3.CEL")
    assert cel.header["Algorithm"] == "Percentile"
    assert cel.header["GridCornerUL"] == "154 164"
    assert "Test3.1sq" in cel.header["DatHeader"]


@pytest.mark.parametrize("name", CEL_FILES)
def test_header_only(name: str) -> None:
    head = read_cel_header(TEST3 / name)
    ref = CEL_REF[name]
    assert head["format"] == FORMAT_OF[name.split(".")[-2]]
    assert (head["chip_type"], head["rows"], head["cols"]) == (
        ref["chip_type"],
        ref["rows"],
        ref["cols"],
    )
    assert head["gzipped"] is False


@pytest.mark.parametrize("name", CEL_FILES)
def test_gzipped_copy_reads_identically(name: str, tmp_path: Path) -> None:
    gz = tmp_path / (name + ".gz")
    gz.write_bytes(gzip.compress((TEST3 / name).read_bytes()))
    # The name says nothing: content decides (a gzipped file without .gz too).
    odd = tmp_path / "sample.txt"
    shutil.copy(gz, odd)
    plain = read_cel(TEST3 / name)
    for path in (gz, odd):
        other = read_cel(path)
        assert other.format == plain.format
        for field in ("intensity", "stdev", "npixels", "masks", "outliers"):
            np.testing.assert_array_equal(getattr(other, field), getattr(plain, field))
        assert read_cel_header(path)["gzipped"] is True


@pytest.mark.parametrize("name", CEL_FILES)
def test_intensity_only_read_equals_the_full_read(name: str, tmp_path: Path) -> None:
    """RMA's reader (read_cel_intensity) gives read_cel's intensities, plain and gzipped."""
    gz = tmp_path / (name + ".gz")
    gz.write_bytes(gzip.compress((TEST3 / name).read_bytes()))
    full = read_cel(TEST3 / name).intensity
    for path in (TEST3 / name, gz):
        only = read_cel_intensity(path)
        assert only.dtype == np.float64 and only.flags.c_contiguous
        np.testing.assert_array_equal(only, full)


def test_text_cells_in_any_order_for_the_intensity_only_read(tmp_path: Path) -> None:
    raw = (TEST3 / "Test3-1.v3.CEL").read_bytes().replace(b"\r\n", b"\n")
    head, rest = raw.split(b"CellHeader=X\tY\tMEAN\tSTDV\tNPIXELS\n", 1)
    lines = rest.split(b"\n")
    n = 126 * 126
    order = np.random.default_rng(2).permutation(n)
    path = tmp_path / "shuffled.CEL"
    body = b"\n".join([lines[i] for i in order] + lines[n:])
    path.write_bytes(head + b"CellHeader=X\tY\tMEAN\tSTDV\tNPIXELS\n" + body)
    np.testing.assert_array_equal(
        read_cel_intensity(path), read_cel(TEST3 / "Test3-1.v3.CEL").intensity
    )
    # A cell listed twice is named, as by the full read.
    twice = tmp_path / "twice.CEL"
    twice.write_bytes(
        path.read_bytes().replace(lines[order[1]] + b"\n", lines[order[0]] + b"\n", 1)
    )
    with pytest.raises(FormatError, match=r"twice\.CEL.*more than once"):
        read_cel_intensity(twice)


def test_lf_line_ends_read_like_crlf(tmp_path: Path) -> None:
    raw = (TEST3 / "Test3-2.v3.CEL").read_bytes()
    assert b"\r\n" in raw
    lf = tmp_path / "lf.CEL"
    lf.write_bytes(raw.replace(b"\r\n", b"\n"))
    a, b = read_cel(TEST3 / "Test3-2.v3.CEL"), read_cel(lf)
    np.testing.assert_array_equal(a.intensity, b.intensity)
    np.testing.assert_array_equal(a.outliers, b.outliers)


def test_text_cells_in_any_order(tmp_path: Path) -> None:
    raw = (TEST3 / "Test3-1.v3.CEL").read_bytes().replace(b"\r\n", b"\n")
    head, rest = raw.split(b"CellHeader=X\tY\tMEAN\tSTDV\tNPIXELS\n", 1)
    lines = rest.split(b"\n")
    n = 126 * 126
    shuffled = [lines[i] for i in np.random.default_rng(1).permutation(n)] + lines[n:]
    path = tmp_path / "shuffled.CEL"
    path.write_bytes(head + b"CellHeader=X\tY\tMEAN\tSTDV\tNPIXELS\n" + b"\n".join(shuffled))
    np.testing.assert_array_equal(
        read_cel(path).intensity, read_cel(TEST3 / "Test3-1.v3.CEL").intensity
    )


# ----------------------------------------------------------------------------- CDF
def _cdf_reference() -> dict[str, tuple[list[int], list[int]]]:
    with open(TEST3 / "cdf_reference.tsv", newline="") as fh:
        return {
            r["probeset"]: (
                [int(v) - 1 for v in r["pm"].split(",")],
                [int(v) - 1 for v in r["mm"].split(",")],
            )
            for r in csv.DictReader(fh, delimiter="\t")
        }


@pytest.mark.parametrize("name", ["Test3.ascii.CDF", "Test3.xda.CDF"])
def test_cdf_matches_makecdfenv(name: str) -> None:
    ref = _cdf_reference()
    cdf = read_cdf(TEST3 / name)
    assert cdf.chip_type == "Test3"
    assert (cdf.rows, cdf.cols) == (126, 126)
    assert sorted(cdf.probeset_names) == sorted(ref)
    assert cdf.n_probesets == 345
    # File order: the first unit of the file.
    assert cdf.probeset_names[0] == "Pae_16SrRNA_s_at"
    for ps, (pm, mm) in ref.items():
        assert cdf.pm(ps).tolist() == pm, ps
        assert cdf.mm(ps).tolist() == mm, ps
    for arr in (cdf.pm_index, cdf.pm_offsets, cdf.mm_index, cdf.mm_offsets):
        assert arr.dtype == np.int64


def test_ascii_and_xda_cdf_identical() -> None:
    a, b = read_cdf(TEST3 / "Test3.ascii.CDF"), read_cdf(TEST3 / "Test3.xda.CDF")
    assert a.probeset_names == b.probeset_names
    for field in ("pm_index", "pm_offsets", "mm_index", "mm_offsets"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))


def test_gzipped_cdf(tmp_path: Path) -> None:
    gz = tmp_path / "Test3.CDF.gz"
    gz.write_bytes(gzip.compress((TEST3 / "Test3.ascii.CDF").read_bytes()))
    a, b = read_cdf(gz), read_cdf(TEST3 / "Test3.ascii.CDF")
    np.testing.assert_array_equal(a.pm_index, b.pm_index)
    assert a.probeset_names == b.probeset_names


def test_unknown_probe_set_name() -> None:
    with pytest.raises(KeyError, match="not in the Test3 CDF"):
        read_cdf(TEST3 / "Test3.xda.CDF").pm("no_such_at")


# ----------------------------------------------------------------------- writers
@pytest.mark.parametrize("fmt", ["text-v3", "xda-v4", "calvin"])
@pytest.mark.parametrize("suffix", [".CEL", ".CEL.gz"])
@pytest.mark.parametrize("name", ["Test3-1.calvin.CEL", "Test3-3.xda.CEL"])
def test_write_cel_round_trip(name: str, fmt: str, suffix: str, tmp_path: Path) -> None:
    # float32-valued sources round-trip exactly through every format.
    src = read_cel(TEST3 / name)
    out = tmp_path / ("x" + suffix)
    write_cel(out, src, format=fmt)
    back = read_cel(out)
    assert back.format == fmt
    assert (back.chip_type, back.rows, back.cols) == (src.chip_type, src.rows, src.cols)
    for field in ("intensity", "stdev", "npixels", "masks", "outliers"):
        np.testing.assert_array_equal(getattr(back, field), getattr(src, field), err_msg=field)


def test_write_text_is_exact_for_float64(tmp_path: Path) -> None:
    src = read_cel(TEST3 / "Test3-2.v3.CEL")
    rng = np.random.default_rng(0)
    noisy = CelData(
        path="",
        format="x",
        chip_type="Test3",
        rows=src.rows,
        cols=src.cols,
        intensity=src.intensity * rng.uniform(0.5, 2.0, src.n_cells),
        stdev=src.stdev / 3.0,
        npixels=src.npixels,
        masks=np.array([3, 70], dtype=np.int64),
        outliers=src.outliers,
    )
    write_cel(tmp_path / "a.CEL", noisy)
    back = read_cel(tmp_path / "a.CEL")
    np.testing.assert_array_equal(back.intensity, noisy.intensity)
    np.testing.assert_array_equal(back.stdev, noisy.stdev)
    np.testing.assert_array_equal(back.masks, noisy.masks)
    # XDA keeps float32: equal after rounding to float32.
    write_cel(tmp_path / "b.CEL", noisy, format="xda-v4")
    np.testing.assert_array_equal(
        read_cel(tmp_path / "b.CEL").intensity, noisy.intensity.astype(np.float32)
    )


def test_write_cel_is_deterministic(tmp_path: Path) -> None:
    src = read_cel(TEST3 / "Test3-3.xda.CEL")
    for fmt in ("text-v3", "xda-v4", "calvin"):
        write_cel(tmp_path / "a.gz", src, format=fmt)
        write_cel(tmp_path / "b.gz", src, format=fmt)
        assert (tmp_path / "a.gz").read_bytes() == (tmp_path / "b.gz").read_bytes()


def test_write_cel_rejects_unknown_format(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown CEL format"):
        write_cel(tmp_path / "x.CEL", read_cel(TEST3 / "Test3-3.xda.CEL"), format="chp")
    assert not (tmp_path / "x.CEL").exists()


@pytest.mark.parametrize("fmt", ["ascii", "xda"])
def test_write_cdf_round_trip(fmt: str, tmp_path: Path) -> None:
    src = read_cdf(TEST3 / "Test3.ascii.CDF")
    out = tmp_path / "Test3.CDF"
    write_cdf(out, src, format=fmt)
    back = read_cdf(out)
    assert back.chip_type == "Test3"
    assert back.probeset_names == src.probeset_names
    for field in ("pm_index", "pm_offsets", "mm_index", "mm_offsets"):
        np.testing.assert_array_equal(getattr(back, field), getattr(src, field))


def test_write_cdf_pm_only_probe_sets(tmp_path: Path) -> None:
    src = read_cdf(TEST3 / "Test3.ascii.CDF")
    n = src.n_probesets
    pm_only = type(src)(
        chip_type=src.chip_type,
        rows=src.rows,
        cols=src.cols,
        probeset_names=src.probeset_names,
        pm_index=src.pm_index,
        pm_offsets=src.pm_offsets,
        mm_index=src.mm_index[: src.mm_offsets[n // 2]],
        mm_offsets=np.minimum(src.mm_offsets, src.mm_offsets[n // 2]),
    )
    for fmt in ("ascii", "xda"):
        write_cdf(tmp_path / f"p.{fmt}", pm_only, format=fmt)
        back = read_cdf(tmp_path / f"p.{fmt}")
        np.testing.assert_array_equal(back.pm_index, pm_only.pm_index)
        np.testing.assert_array_equal(back.mm_offsets, pm_only.mm_offsets)
        assert back.mm(src.probeset_names[-1]).size == 0


# ------------------------------------------------------------------------- cache
def test_cdf_cache(tmp_path: Path) -> None:
    cdf_path = tmp_path / "Test3.CDF"
    shutil.copy(TEST3 / "Test3.ascii.CDF", cdf_path)
    cache = tmp_path / "cache"
    first = load_cdf(cdf_path, cache_dir=cache)
    files = list(cache.glob("*.npz"))
    assert len(files) == 1
    cached = read_cdf_cache(files[0])
    assert cached is not None
    second = load_cdf(cdf_path, cache_dir=cache)
    for cdf in (cached, second):
        assert cdf.probeset_names == first.probeset_names
        assert (cdf.chip_type, cdf.rows, cdf.cols) == ("Test3", 126, 126)
        for field in ("pm_index", "pm_offsets", "mm_index", "mm_offsets"):
            np.testing.assert_array_equal(getattr(cdf, field), getattr(first, field))
            assert getattr(cdf, field).dtype == np.int64


def test_cdf_cache_follows_the_file(tmp_path: Path) -> None:
    cdf_path = tmp_path / "chip.CDF"
    shutil.copy(TEST3 / "Test3.ascii.CDF", cdf_path)
    cache = tmp_path / "cache"
    load_cdf(cdf_path, cache_dir=cache)
    # Replace the CDF by another layout: the cache must not answer for it.
    src = read_cdf(TEST3 / "Test3.ascii.CDF")
    smaller = type(src)(
        chip_type="Test3",
        rows=126,
        cols=126,
        probeset_names=src.probeset_names[:10],
        pm_index=src.pm_index[: src.pm_offsets[10]],
        pm_offsets=src.pm_offsets[:11],
        mm_index=src.mm_index[: src.mm_offsets[10]],
        mm_offsets=src.mm_offsets[:11],
    )
    write_cdf(cdf_path, smaller, format="xda")
    assert load_cdf(cdf_path, cache_dir=cache).n_probesets == 10


def test_corrupt_cache_is_rebuilt(tmp_path: Path) -> None:
    cdf_path = tmp_path / "chip.CDF"
    shutil.copy(TEST3 / "Test3.xda.CDF", cdf_path)
    cache = tmp_path / "cache"
    load_cdf(cdf_path, cache_dir=cache)
    (npz,) = cache.glob("*.npz")
    npz.write_bytes(npz.read_bytes()[:100])
    assert read_cdf_cache(npz) is None
    assert load_cdf(cdf_path, cache_dir=cache).n_probesets == 345
    assert read_cdf_cache(npz) is not None


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_xda_cdf_versions(version: int, tmp_path: Path) -> None:
    src = read_cdf(TEST3 / "Test3.xda.CDF")
    path = tmp_path / "renamed.cdf"
    path.write_bytes(encode_xda_cdf(src, version=version))
    back = read_cdf(path)
    # Versions 1-3 do not store the chip type (taken from the file name, as affy
    # does); version 4 does.
    assert back.chip_type == ("Test3" if version == 4 else "renamed")
    assert back.header["Version"] == str(version)
    for field in ("pm_index", "pm_offsets", "mm_index", "mm_offsets"):
        np.testing.assert_array_equal(getattr(back, field), getattr(src, field))


@pytest.mark.parametrize("gz", [False, True])
def test_header_larger_than_first_read(tmp_path: Path, gz: bool) -> None:
    raw = (TEST3 / "Test3-1.v3.CEL").read_bytes()
    raw = raw.replace(b"Algorithm=", b"Comment=" + b"x" * 200_000 + b"\r\nAlgorithm=", 1)
    path = tmp_path / "big.CEL"
    path.write_bytes(gzip.compress(raw) if gz else raw)
    head = read_cel_header(path)
    assert (head["chip_type"], head["rows"], head["gzipped"]) == ("Test3", 126, gz)
    assert len(head["header"]["Comment"]) == 200_000


# ------------------------------------------------------------- probe-set names
_CELL_HEADER = (
    "CellHeader=X\tY\tPROBE\tFEAT\tQUAL\tEXPOS\tPOS\tCBASE\tPBASE\tTBASE\tATOM\tINDEX"
    "\tCODONIND\tCODON\tREGIONTYPE\tREGION"
)


def _gc6_cdf(units: list[tuple[str, int, list[str]]]) -> bytes:
    """A small GC6.0 ASCII CDF: per unit its [Unit] Name=, UnitType= and block names.

    Every block holds one PM/MM pair in its own row of a 6 x 10 array.
    """
    lines = ["[CDF]", "Version=GC6.0", "", "[Chip]", "Name=Tiny", "Rows=10", "Cols=6"]
    lines += [f"NumberOfUnits={len(units)}", f"MaxUnit={len(units)}", "NumQCUnits=0", ""]
    row = 0
    for u, (unit_name, unit_type, blocks) in enumerate(units, start=1):
        lines += [f"[Unit{u}]", f"Name={unit_name}", "Direction=1", f"NumAtoms={len(blocks)}"]
        lines += [f"NumCells={2 * len(blocks)}", f"UnitNumber={u}", f"UnitType={unit_type}"]
        lines += [f"NumberBlocks={len(blocks)}", ""]
        for b, block_name in enumerate(blocks, start=1):
            lines += [f"[Unit{u}_Block{b}]", f"Name={block_name}", f"BlockNumber={b}"]
            lines += ["NumAtoms=1", "NumCells=2", "StartPosition=0", "StopPosition=0"]
            lines += [_CELL_HEADER]
            # PBASE A against TBASE T is a PM probe, T against T an MM probe.
            for x, pbase in ((0, "A"), (1, "T")):
                lines.append(
                    f"Cell{x + 1}={x}\t{row}\tN\tcontrol\t{block_name}\t0\t13\t{pbase}\t{pbase}"
                    f"\tT\t0\t{row * 6 + x}\t-1\t-1\t99\t"
                )
            lines.append("")
            row += 1
    return "\r\n".join(lines).encode() + b"\r\n"


def test_probe_set_names_as_fusion_sdk(tmp_path: Path) -> None:
    path = tmp_path / "Tiny.CDF"
    path.write_bytes(
        _gc6_cdf(
            [
                # Axiom-style genotyping units: named by the unit, blocks are NONE.
                ("AX-11111111", 2, ["NONE", "NONE"]),
                ("AX-22222222", 2, ["A", "B"]),
                # Expression units: named by the block (units are "NONE" in vendor files).
                ("NONE", 3, ["1000_at"]),
                ("unit_name_ignored", 3, ["1001_at"]),
                # An expression unit whose block is unnamed falls back to the unit name.
                ("1002_at", 3, ["NONE"]),
                # Copy number (8), tag (7): unit names.
                ("CN_0001", 8, ["CN_0001_block"]),
                ("TAG_1", 7, ["NONE"]),
            ]
        )
    )
    cdf = read_cdf(path)
    assert cdf.probeset_names == [
        "AX-11111111",
        "AX-22222222",
        "1000_at",
        "1001_at",
        "1002_at",
        "CN_0001",
        "TAG_1",
    ]
    assert cdf.pm("AX-11111111").tolist() == [0, 6]
    assert cdf.mm("AX-22222222").tolist() == [13, 19]


def test_axiom_style_duplicate_names_are_refused(tmp_path: Path) -> None:
    # Two expression units whose blocks are both NONE and units both NONE.
    path = tmp_path / "Dup.CDF"
    path.write_bytes(_gc6_cdf([("NONE", 3, ["NONE"]), ("NONE", 3, ["NONE"])]))
    with pytest.raises(FormatError, match=r"Dup\.CDF.*'NONE'.*more than once"):
        read_cdf(path)


def test_duplicate_mask_entries_are_merged() -> None:
    # affyio's read.celfile lists every [MASKS]/[OUTLIERS] line: 4 masks and
    # 2 outliers here (tests/data/affymetrix/make/dup_masks.R). CelData holds
    # sorted unique cell indices, so a cell listed twice is counted once
    # (documented in docs/io.md, "Known deviations from R").
    cel = read_cel(TEST3.parent / "dup_masks" / "DupMasks.v3.CEL")
    assert (cel.rows, cel.cols) == (4, 5)
    assert cel.masks.tolist() == [0 * 5 + 3, 2 * 5 + 1]
    assert cel.outliers.tolist() == [3 * 5 + 0]


def test_non_square_xda_files_match_affyio() -> None:
    # Reference: tests/data/affymetrix/make/skew_refs.R (affyio). XDA CEL
    # headers hold rows before cols (Fusion SDK order, which affyio follows);
    # a swap would go unnoticed on a square chip.
    skew = TEST3.parent / "skew"
    cel = read_cel(skew / "Skew.xda.CEL")
    assert (cel.cols, cel.rows) == (34, 20)
    assert cel.intensity[0 * 34 + 33] == 34.0
    assert cel.intensity[19 * 34 + 0] == 647.0
    assert read_cel_header(skew / "Skew.xda.CEL")["cols"] == 34
    cdf = read_cdf(skew / "Skew.xda.CDF")
    assert (cdf.cols, cdf.rows) == (34, 20)
    assert cdf.probeset_names[0] == "ps0_at"
    # Cells (33, 0), (33, 1) are the PMs and (0, 0), (0, 1) the MMs.
    assert cdf.pm("ps0_at").tolist() == [33, 34 + 33]
    assert cdf.mm("ps0_at").tolist() == [0, 34]
