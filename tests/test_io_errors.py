"""Bad input: every problem is a FormatError that names the file and says what is wrong."""

from __future__ import annotations

import dataclasses
import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from sigrestore.errors import FormatError, SigrestoreError
from sigrestore.io import (
    CdfData,
    _source,
    read_cdf,
    read_cel,
    read_cel_header,
    write_cdf,
    write_cel,
)
from sigrestore.io.cdf_xda import encode_xda_cdf
from sigrestore.io.cel_calvin import CDF_TYPE, MULTI_INTENSITY_TYPE, encode_calvin
from sigrestore.io.cel_xda import encode_xda

TEST3 = Path(__file__).parent / "data" / "affymetrix" / "Test3"
TEXT = TEST3 / "Test3-1.v3.CEL"
CALVIN = TEST3 / "Test3-1.calvin.CEL"
XDA = TEST3 / "Test3-3.xda.CEL"
CDF_ASCII = TEST3 / "Test3.ascii.CDF"
CDF_XDA = TEST3 / "Test3.xda.CDF"


def _write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _raises(path: Path, *patterns: str, reader=read_cel) -> str:
    """Read ``path``, expect a FormatError naming it and matching ``patterns``."""
    with pytest.raises(FormatError) as info:
        reader(path)
    msg = str(info.value)
    assert isinstance(info.value, SigrestoreError)
    assert str(path) in msg, msg
    for pat in patterns:
        assert pat.lower() in msg.lower(), f"{pat!r} not in {msg!r}"
    return msg


def _calvin_bytes(**kwargs) -> bytes:
    cel = read_cel(CALVIN)
    fields = dict(
        chip_type=cel.chip_type,
        rows=cel.rows,
        cols=cel.cols,
        intensity=cel.intensity,
        stdev=cel.stdev,
        npixels=cel.npixels,
        masks_xy=np.zeros((0, 2), dtype=np.int64),
        outliers_xy=np.column_stack([cel.outliers % cel.cols, cel.outliers // cel.cols]),
    )
    fields.update(kwargs)
    return encode_calvin(**fields)


# ------------------------------------------------------------- not a CEL at all
def test_empty_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "empty.CEL", b"")
    _raises(path, "empty")
    _raises(path, "empty", reader=read_cdf)
    _raises(path, "empty", reader=read_cel_header)


def test_empty_gzip(tmp_path: Path) -> None:
    _raises(_write(tmp_path, "empty.CEL.gz", gzip.compress(b"")), "empty")


@pytest.mark.parametrize(
    ("content", "hint"),
    [
        (b"<!DOCTYPE html>\n<html><body>404 Not Found</body></html>\n", "HTML"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG"),
        (struct.pack("<ii", 65, 1) + bytes(100), "CHP"),
        (b"[CHP]\nVersion=1\n", "CHP"),
        (b"hello world", "starts with"),
    ],
)
def test_not_a_cel_file_lists_formats_tried(tmp_path: Path, content: bytes, hint: str) -> None:
    path = _write(tmp_path, "GSM1.CEL", content)
    _raises(path, "text v3", "XDA v4", "Command Console", hint)
    _raises(path, "text v3", hint, reader=read_cel_header)
    _raises(path, "ASCII", "XDA", hint, reader=read_cdf)


def test_cdf_given_as_cel_and_vice_versa() -> None:
    _raises(CDF_ASCII, "CDF", "not a CEL")
    _raises(CDF_XDA, "CDF", "not a CEL")
    _raises(TEXT, "CEL", "not a CDF", reader=read_cdf)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    _raises(tmp_path / "nope.CEL", "no such file")
    _raises(tmp_path, "directory")


# ------------------------------------------------------------------- truncation
@pytest.mark.parametrize("where", [30, 300])
def test_text_truncated_in_header(tmp_path: Path, where: int) -> None:
    assert TEXT.read_bytes().index(b"[INTENSITY]") > where
    path = _write(tmp_path, "t.CEL", TEXT.read_bytes()[:where])
    _raises(path, "truncated")
    _raises(path, "truncated", reader=read_cel_header)


def test_text_truncated_in_cell_block(tmp_path: Path) -> None:
    raw = TEXT.read_bytes()
    cut = raw.index(b"[INTENSITY]") + 200_000
    cut = raw.index(b"\n", cut) + 1
    msg = _raises(_write(tmp_path, "t.CEL", raw[:cut]), "truncated", "[INTENSITY]", "15876")
    assert "available" in msg


def test_text_truncated_mid_line(tmp_path: Path) -> None:
    raw = TEXT.read_bytes()
    cut = raw.index(b"[INTENSITY]") + 100_003
    _raises(_write(tmp_path, "t.CEL", raw[:cut]), "truncated")


def test_text_truncated_in_outliers(tmp_path: Path) -> None:
    raw = TEXT.read_bytes()
    cut = raw.index(b"[OUTLIERS]") + 50
    _raises(_write(tmp_path, "t.CEL", raw[:cut]), "truncated", "OUTLIERS", "expected 5")


@pytest.mark.parametrize("where", [12, 40, 300])
def test_xda_truncated_in_header(tmp_path: Path, where: int) -> None:
    path = _write(tmp_path, "x.CEL", XDA.read_bytes()[:where])
    _raises(path, "truncated", "expected", "available")
    _raises(path, "truncated", "expected", "available", reader=read_cel_header)


def test_too_short_for_any_format(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.CEL", XDA.read_bytes()[:3])
    _raises(path, "truncated (3 bytes)")
    _raises(path, "truncated (3 bytes)", reader=read_cdf)


def test_xda_truncated_in_cell_block(tmp_path: Path) -> None:
    raw = XDA.read_bytes()
    msg = _raises(_write(tmp_path, "x.CEL", raw[:100_000]), "truncated", "cell block", "15876")
    assert "bytes" in msg


def test_xda_truncated_in_outliers(tmp_path: Path) -> None:
    raw = XDA.read_bytes()
    _raises(_write(tmp_path, "x.CEL", raw[:-2]), "truncated", "outlier")


@pytest.mark.parametrize("where", [5, 60, 1000])
def test_calvin_truncated_in_header(tmp_path: Path, where: int) -> None:
    path = _write(tmp_path, "c.CEL", CALVIN.read_bytes()[:where])
    _raises(path, "truncated", "available")
    _raises(path, "truncated", reader=read_cel_header)


def test_calvin_truncated_in_data_set(tmp_path: Path) -> None:
    raw = CALVIN.read_bytes()
    msg = _raises(_write(tmp_path, "c.CEL", raw[: len(raw) // 2]), "truncated", "data set")
    assert "expected" in msg and "available" in msg


def test_truncated_gzip_stream(tmp_path: Path) -> None:
    gz = gzip.compress(XDA.read_bytes())
    path = _write(tmp_path, "x.CEL.gz", gz[: len(gz) // 2])
    _raises(path, "gzip", "truncated")


def test_gzip_bad_crc(tmp_path: Path) -> None:
    gz = bytearray(gzip.compress(TEXT.read_bytes()))
    gz[-8] ^= 0xFF  # the CRC32 of the trailer
    _raises(_write(tmp_path, "t.CEL.gz", bytes(gz)), "gzip", "CRC")


def test_gzip_corrupt_deflate_data(tmp_path: Path) -> None:
    gz = bytearray(gzip.compress(TEXT.read_bytes()))
    gz[len(gz) // 2 : len(gz) // 2 + 64] = bytes(64)
    _raises(_write(tmp_path, "t.CEL.gz", bytes(gz)), "gzip")


def test_gzip_concatenated_members_are_read(tmp_path: Path) -> None:
    raw = XDA.read_bytes()
    path = _write(tmp_path, "x.CEL.gz", gzip.compress(raw[:1000]) + gzip.compress(raw[1000:]))
    np.testing.assert_array_equal(read_cel(path).intensity, read_cel(XDA).intensity)


def test_gzip_trailing_garbage(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.CEL.gz", gzip.compress(XDA.read_bytes()) + b"garbage!")
    _raises(path, "garbage")


def test_truncated_ascii_cdf(tmp_path: Path) -> None:
    raw = CDF_ASCII.read_bytes()
    _raises(_write(tmp_path, "a.CDF", raw[: len(raw) // 2]), "truncated", reader=read_cdf)
    # Cut exactly after a unit: the unit count no longer matches.
    cut = raw.index(b"[Unit1200]")
    _raises(_write(tmp_path, "b.CDF", raw[:cut]), "NumberOfUnits=345", reader=read_cdf)


def test_truncated_xda_cdf(tmp_path: Path) -> None:
    raw = CDF_XDA.read_bytes()
    for cut in (10, 30, 5000, len(raw) - 3):
        _raises(_write(tmp_path, "x.CDF", raw[:cut]), "truncated", reader=read_cdf)


# ------------------------------------------------------ counts and dimensions
def test_text_cell_count_not_rows_times_cols(tmp_path: Path) -> None:
    raw = TEXT.read_bytes().replace(b"NumberCells=15876", b"NumberCells=15875", 1)
    _raises(_write(tmp_path, "t.CEL", raw), "NumberCells=15875", "126*126")


def test_text_rows_disagree_with_cells(tmp_path: Path) -> None:
    raw = TEXT.read_bytes().replace(b"Rows=126", b"Rows=125", 1)
    _raises(_write(tmp_path, "t.CEL", raw), "NumberCells=15876", "125*126")


def test_xda_cell_count_not_rows_times_cols(tmp_path: Path) -> None:
    raw = bytearray(XDA.read_bytes())
    raw[16:20] = struct.pack("<i", 15000)
    _raises(_write(tmp_path, "x.CEL", bytes(raw)), "15000", "rows*cols")


def test_calvin_cell_count_not_rows_times_cols(tmp_path: Path) -> None:
    raw = _calvin_bytes(rows=125)
    _raises(_write(tmp_path, "c.CEL", raw), "Intensity", "15876", "rows*cols")


# --------------------------------------------------------- unsupported versions
def test_unsupported_xda_cel_version(tmp_path: Path) -> None:
    raw = bytearray(XDA.read_bytes())
    raw[4:8] = struct.pack("<i", 5)
    _raises(_write(tmp_path, "x.CEL", bytes(raw)), "XDA", "version 5", "not supported")


def test_unsupported_text_cel_version(tmp_path: Path) -> None:
    raw = TEXT.read_bytes().replace(b"Version=3", b"Version=2", 1)
    _raises(_write(tmp_path, "t.CEL", raw), "version 2", "not supported")


@pytest.mark.parametrize("version", [0, 2, 3])
def test_unsupported_calvin_version(tmp_path: Path, version: int) -> None:
    # Detected as Command Console from the magic byte, whatever the version:
    # the reader then names the version instead of "not a CEL file".
    raw = bytearray(CALVIN.read_bytes())
    raw[1] = version
    path = _write(tmp_path, "c.CEL", bytes(raw))
    for reader in (read_cel, read_cel_header):
        msg = _raises(path, f"Command Console version {version}", "not supported", reader=reader)
        assert "not a CEL" not in msg


def test_text_starting_with_semicolon_is_not_calvin(tmp_path: Path) -> None:
    # 59 is ";": a text file starting with it is not taken for Command Console.
    for content in (b";; a comment line\nsomething else\n", b";\n\nsomething else\n"):
        path = _write(tmp_path, "c.CEL", content)
        msg = _raises(path, "not a CEL file in any supported format")
        assert "Command Console version" not in msg


@pytest.mark.parametrize("version", [0, 5, 99])
def test_unsupported_xda_cdf_version(tmp_path: Path, version: int) -> None:
    raw = bytearray(CDF_XDA.read_bytes())
    raw[4:8] = struct.pack("<i", version)
    _raises(
        _write(tmp_path, "x.CDF", bytes(raw)),
        f"version {version}",
        "not supported",
        reader=read_cdf,
    )


def test_unsupported_ascii_cdf_version(tmp_path: Path) -> None:
    raw = CDF_ASCII.read_bytes().replace(b"Version=GC3.0", b"Version=GC2.0", 1)
    _raises(_write(tmp_path, "a.CDF", raw), "GC2.0", "not supported", reader=read_cdf)


# ------------------------------------------------------------- Command Console
def test_calvin_multichannel_not_supported(tmp_path: Path) -> None:
    path = _write(tmp_path, "m.CEL", _calvin_bytes(data_type_id=MULTI_INTENSITY_TYPE))
    _raises(path, "multi-channel", MULTI_INTENSITY_TYPE, "not supported")
    _raises(path, "multi-channel", reader=read_cel_header)


def test_calvin_other_data_type_not_supported(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "s.CEL", _calvin_bytes(data_type_id="affymetrix-calvin-scan-acquisition")
    )
    _raises(path, "affymetrix-calvin-scan-acquisition", "not supported")


def test_calvin_cdf_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, "HuGene.CDF", _calvin_bytes(data_type_id=CDF_TYPE))
    msg = _raises(path, "Command Console CDF", CDF_TYPE, "not supported", reader=read_cdf)
    assert "CEL (scan)" not in msg
    _raises(path, "Command Console CDF", "not a CEL file")
    # A Calvin CEL given as a CDF is still named as such.
    _raises(CALVIN, "CEL (scan) file, not a CDF", reader=read_cdf)
    other = _write(tmp_path, "x.CDF", _calvin_bytes(data_type_id="affymetrix-calvin-scan"))
    _raises(other, "affymetrix-calvin-scan", "not a supported CDF", reader=read_cdf)
    short = _write(tmp_path, "s.CDF", CALVIN.read_bytes()[:12])
    _raises(short, "Command Console file with an unreadable header", reader=read_cdf)


def test_calvin_unsigned_short_intensities_are_read(tmp_path: Path) -> None:
    cel = read_cel(CALVIN)
    ushort = np.round(cel.intensity).astype(np.uint16)
    path = _write(tmp_path, "u.CEL", _calvin_bytes(intensity=ushort, intensity_dtype=">u2"))
    back = read_cel(path)
    assert back.intensity.dtype == np.float64
    np.testing.assert_array_equal(back.intensity, ushort.astype(np.float64))
    np.testing.assert_array_equal(back.stdev, cel.stdev)


def test_calvin_missing_intensity_set(tmp_path: Path) -> None:
    raw = _calvin_bytes()
    # Rename the data set "Intensity" (UTF-16 big-endian) to "Intensitz".
    name = "Intensity".encode("utf-16-be")
    raw = raw.replace(name, "Intensitz".encode("utf-16-be"), 1)
    _raises(_write(tmp_path, "c.CEL", raw), "no 'Intensity' data set")


def test_calvin_offset_past_end(tmp_path: Path) -> None:
    raw = bytearray(CALVIN.read_bytes())
    raw[6:10] = struct.pack(">I", len(raw) + 100)
    _raises(_write(tmp_path, "c.CEL", bytes(raw)), "past the end")


# ---------------------------------------------------------------- text v3 lines
def _text_with_line(tmp_path: Path, line_no: int, new: bytes) -> Path:
    lines = TEXT.read_bytes().split(b"\r\n")
    lines[line_no - 1] = new
    return _write(tmp_path, "t.CEL", b"\r\n".join(lines))


def test_text_short_cell_line_names_line(tmp_path: Path) -> None:
    path = _text_with_line(tmp_path, 1000, b"100\t7\t123.0\t12.0")
    _raises(path, "line 1000", "expected 5 fields", "found 4")


def test_text_malformed_number_names_line(tmp_path: Path) -> None:
    path = _text_with_line(tmp_path, 2000, b"10\t15\t12x.5\t12.0\t25")
    _raises(path, "line 2000", "malformed")


def test_text_empty_cell_line_names_line(tmp_path: Path) -> None:
    path = _text_with_line(tmp_path, 3000, b"")
    _raises(path, "line 3000")


@pytest.mark.parametrize("xy", [b"126\t20", b"5\t-1", b"5\t126"])
def test_text_xy_out_of_range_names_line(tmp_path: Path, xy: bytes) -> None:
    path = _text_with_line(tmp_path, 500, xy + b"\t100.0\t10.0\t25")
    _raises(path, "line 500", "outside the 126 x 126 array")


@pytest.mark.parametrize("line", [b"2.5\t20\t100.0\t10.0\t25", b"2\t20\t100.0\t10.0\t2.5"])
def test_text_non_integer_coordinate_or_pixels(tmp_path: Path, line: bytes) -> None:
    _raises(_text_with_line(tmp_path, 500, line), "line 500", "malformed integer '2.5'")


def test_text_extra_cell_lines(tmp_path: Path) -> None:
    raw = TEXT.read_bytes().replace(b"NumberCells=15876", b"NumberCells=15875", 1)
    raw = raw.replace(b"Rows=126", b"Rows=125", 1).replace(b"Cols=126", b"Cols=127", 1)
    _raises(_write(tmp_path, "t.CEL", raw), "15876 cell lines", "NumberCells=15875")


def test_text_duplicate_cell_names_line(tmp_path: Path) -> None:
    lines = TEXT.read_bytes().split(b"\r\n")
    lines[30] = lines[29]  # line 31 repeats cell of line 30
    msg = _raises(_write(tmp_path, "t.CEL", b"\r\n".join(lines)), "more than once")
    assert "line 31" in msg


def test_text_outlier_out_of_range(tmp_path: Path) -> None:
    raw = TEXT.read_bytes().replace(b"72\t12\r\n", b"172\t12\r\n", 1)
    _raises(_write(tmp_path, "t.CEL", raw), "OUTLIERS", "outside")


def test_text_missing_chip_type(tmp_path: Path) -> None:
    raw = TEXT.read_bytes().replace(b"Test3.1sq", b"Test3.xyz", 1)
    _raises(_write(tmp_path, "t.CEL", raw), "chip type")


# ----------------------------------------------------------------- bad values
@pytest.mark.parametrize("fmt", ["text-v3", "xda-v4", "calvin"])
def test_nan_inf_negative_intensities_counted(tmp_path: Path, fmt: str) -> None:
    cel = read_cel(XDA)
    bad = cel.intensity.copy()
    bad[[1, 2, 3]] = np.nan
    bad[10] = np.inf
    bad[[20, 21]] = -5.0
    path = tmp_path / "bad.CEL"
    write_cel(path, dataclasses.replace(cel, intensity=bad), format=fmt)
    _raises(path, "3 NaN", "1 infinite", "2 negative", "intensity")


def test_nan_stdev_counted(tmp_path: Path) -> None:
    cel = read_cel(XDA)
    bad = cel.stdev.copy()
    bad[:4] = np.nan
    path = tmp_path / "bad.CEL"
    write_cel(path, dataclasses.replace(cel, stdev=bad), format="xda-v4")
    _raises(path, "4 NaN", "standard deviation")


@pytest.mark.parametrize("which", ["mask", "outlier"])
@pytest.mark.parametrize("fmt", ["xda-v4", "calvin"])
def test_mask_or_outlier_outside_array(tmp_path: Path, which: str, fmt: str) -> None:
    cel = read_cel(XDA)
    bad = np.array([[300, 0]])
    good = np.array([[5, 0]])
    lists = {"masks_xy": bad if which == "mask" else good}
    lists["outliers_xy"] = bad if which == "outlier" else good
    common = dict(intensity=cel.intensity, stdev=cel.stdev, npixels=cel.npixels, **lists)
    if fmt == "xda-v4":
        raw = encode_xda(
            rows=cel.rows,
            cols=cel.cols,
            header_text=f"Cols=126\nRows=126\nDatHeader={cel.header['DatHeader']}\n",
            algorithm="Percentile",
            params="",
            **common,
        )
    else:
        raw = encode_calvin(chip_type="Test3", rows=cel.rows, cols=cel.cols, **common)
    path = _write(tmp_path, "m.CEL", raw)
    _raises(path, which, "outside the 126 x 126 array", "x=300")


# ------------------------------------------------------------------- binary CDF
def test_xda_cdf_offset_past_end(tmp_path: Path) -> None:
    raw = bytearray(CDF_XDA.read_bytes())
    n_ps, n_qc = struct.unpack_from("<ii", raw, 12)
    table = 24 + 64 * n_ps + 4 * n_qc
    raw[table + 4 * 7 : table + 4 * 8] = struct.pack("<I", len(raw) + 10)
    _raises(_write(tmp_path, "x.CDF", bytes(raw)), "probe set 8", "past the end", reader=read_cdf)


def test_xda_cdf_probe_outside_array(tmp_path: Path) -> None:
    cdf = read_cdf(CDF_XDA)
    raw = bytearray(encode_xda_cdf(cdf))
    raw[10:12] = struct.pack("<H", 100)  # rows: 126 -> 100
    _raises(_write(tmp_path, "x.CDF", bytes(raw)), "outside the 126 x 100 array", reader=read_cdf)


def test_xda_cdf_negative_cell_count(tmp_path: Path) -> None:
    cdf = read_cdf(CDF_XDA)
    raw = bytearray(encode_xda_cdf(cdf))
    n = cdf.n_probesets
    first = struct.unpack_from("<I", raw, 24 + 64 * n)[0]
    # Block header follows the 20-byte unit header: its cell count at +4.
    raw[first + 20 + 4 : first + 20 + 8] = struct.pack("<i", -3)
    _raises(_write(tmp_path, "x.CDF", bytes(raw)), "negative", reader=read_cdf)


def test_ascii_cdf_probe_outside_array(tmp_path: Path) -> None:
    raw = CDF_ASCII.read_bytes().replace(b"Cell1=111\t80\t", b"Cell1=911\t80\t", 1)
    _raises(_write(tmp_path, "a.CDF", raw), "outside the 126 x 126 array", "x=911", reader=read_cdf)


def test_ascii_cdf_malformed_cell_line(tmp_path: Path) -> None:
    raw = CDF_ASCII.read_bytes().replace(b"Cell1=111\t80\t", b"Cell1=abc\t80\t", 1)
    _raises(_write(tmp_path, "a.CDF", raw), "malformed", reader=read_cdf)


def test_ascii_cdf_block_cell_count(tmp_path: Path) -> None:
    raw = CDF_ASCII.read_bytes()
    at = raw.index(b"[Unit1000_Block1]")
    raw = raw[:at] + raw[at:].replace(b"NumCells=32", b"NumCells=30", 1)
    _raises(_write(tmp_path, "a.CDF", raw), "NumCells=30", "32 cell lines", reader=read_cdf)


def test_write_cdf_then_corrupt_gzip(tmp_path: Path) -> None:
    path = tmp_path / "t.CDF.gz"
    write_cdf(path, read_cdf(CDF_XDA))
    raw = bytearray(path.read_bytes())
    raw[-5] ^= 0x55  # the ISIZE field of the trailer
    path.write_bytes(bytes(raw))
    _raises(path, "gzip", "CRC or length", reader=read_cdf)


# ------------------------------------------------------------- memory, names
class _Exhausted:
    """A stand-in decompressor that runs out of memory (a gzip bomb)."""

    def __init__(self, *args, **kwargs) -> None:
        pass

    def decompress(self, *args, **kwargs) -> bytes:
        raise MemoryError


@pytest.mark.parametrize("reader", [read_cel, read_cel_header, read_cdf])
def test_gzip_memory_error_is_a_format_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader
) -> None:
    path = _write(tmp_path, "bomb.CEL.gz", gzip.compress(TEXT.read_bytes()))
    monkeypatch.setattr(_source.zlib, "decompressobj", _Exhausted)
    if _source._fast_inflate is not None:  # the ISA-L path runs first on whole files
        monkeypatch.setattr(_source._isal_zlib, "decompressobj", _Exhausted)
    _raises(path, "out of memory", "gzip", reader=reader)


def _cdf_with_names(names: list[str]) -> CdfData:
    src = read_cdf(CDF_ASCII)
    n = len(names)
    return CdfData(
        chip_type="Test3",
        rows=src.rows,
        cols=src.cols,
        probeset_names=names,
        pm_index=src.pm_index[: src.pm_offsets[n]],
        pm_offsets=src.pm_offsets[: n + 1],
        mm_index=src.mm_index[: src.mm_offsets[n]],
        mm_offsets=src.mm_offsets[: n + 1],
    )


@pytest.mark.parametrize("fmt", ["ascii", "xda"])
def test_duplicate_probe_set_names(tmp_path: Path, fmt: str) -> None:
    cdf = _cdf_with_names(["a_at", "dup_at", "b_at", "dup_at"])
    path = tmp_path / "dup.CDF"
    write_cdf(path, cdf, format=fmt)
    _raises(path, "'dup_at'", "more than once", reader=read_cdf)
