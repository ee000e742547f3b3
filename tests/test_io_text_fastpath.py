"""The Arrow fast path of the text CEL reader gives exactly what the numpy parser gives.

Every variant below is read twice, with the fast path and with it switched
off (the reader as it was before the fast path): the arrays, or the error
message, must be identical.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sigrestore.errors import FormatError
from sigrestore.io import cel_text

TEXT = Path(__file__).parent / "data" / "affymetrix" / "Test3" / "Test3-1.v3.CEL"


def _outcome(data: bytes, *, fast: bool, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as m:
        if not fast:
            m.setattr(cel_text, "_parse_cells_arrow", lambda *a, **k: None)
        try:
            out = cel_text.read_text(data, "x.CEL")
        except FormatError as exc:
            return ("error", str(exc))
    return ("ok", {k: out[k] for k in ("intensity", "stdev", "npixels", "masks_xy")})


def _cell_line(data: bytes, k: int) -> tuple[int, int]:
    """Start and end (past the newline) of the k-th cell line."""
    pos = data.find(b"\n", data.find(b"CellHeader=")) + 1
    for _ in range(k):
        pos = data.find(b"\n", pos) + 1
    return pos, data.find(b"\n", pos) + 1


def _replace_line(data: bytes, k: int, line: bytes) -> bytes:
    s, e = _cell_line(data, k)
    return data[:s] + line + data[e:]


ORIGINAL = TEXT.read_bytes()
LF = ORIGINAL.replace(b"\r\n", b"\n")
VARIANTS = {
    "crlf_padded": ORIGINAL,
    "lf": LF,
    "spaces": LF.replace(b"\t", b" "),
    "trailing_blank": _replace_line(LF, 5, b"5\t0\t164.0\t57.9\t25  \n"),
    "lone_cr": _replace_line(LF, 5, b"5\t0\t164.0\t57.9\t25\r"),
    "nan": _replace_line(LF, 5, b"5\t0\tnan\t57.9\t25\n"),
    "NA": _replace_line(LF, 5, b"5\t0\tNA\t57.9\t25\n"),
    "inf": _replace_line(LF, 5, b"5\t0\tinf\t57.9\t25\n"),
    "exponent": _replace_line(LF, 5, b"5\t0\t1.64e2\t5.79E1\t25\n"),
    "plus_sign": _replace_line(LF, 5, b"+5\t0\t+164.0\t57.9\t25\n"),
    "float_in_int": _replace_line(LF, 5, b"5\t0\t164.0\t57.9\t25.5\n"),
    "quoted": _replace_line(LF, 5, b'"5"\t0\t164.0\t57.9\t25\n'),
    "empty_field": _replace_line(LF, 5, b"5\t\t164.0\t57.9\t25\n"),
    "extra_field": _replace_line(LF, 5, b"5\t0\t164.0\t57.9\t25\t1\n"),
    "missing_field": _replace_line(LF, 5, b"5\t0\t164.0\t25\n"),
    "empty_line": _replace_line(LF, 5, b"\n"),
    "huge_int": _replace_line(LF, 5, b"5\t0\t164.0\t57.9\t99999999999\n"),
    "negative_x": _replace_line(LF, 5, b"-5\t0\t164.0\t57.9\t25\n"),
    "long_float": _replace_line(LF, 5, b"5\t0\t164.00000000000000000000001\t0.1e-320\t25\n"),
    "hex": _replace_line(LF, 5, b"5\t0\t0x10\t57.9\t25\n"),
    "swapped": _replace_line(
        _replace_line(LF, 5, b"6\t0\t1.0\t2.0\t3\n"), 6, b"5\t0\t4.0\t5.0\t6\n"
    ),
}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_fast_path_matches_numpy_parser(variant: str, monkeypatch: pytest.MonkeyPatch) -> None:
    data = VARIANTS[variant]
    fast = _outcome(data, fast=True, monkeypatch=monkeypatch)
    slow = _outcome(data, fast=False, monkeypatch=monkeypatch)
    assert fast[0] == slow[0], (fast, slow)
    if fast[0] == "error":
        assert fast[1] == slow[1]
    else:
        for key, value in slow[1].items():
            assert fast[1][key].dtype == value.dtype, key
            np.testing.assert_array_equal(fast[1][key], value, err_msg=key)


def test_fast_path_takes_real_files() -> None:
    """The vendor's padded CRLF layout is parsed by Arrow, not by the fallback."""
    for data in (ORIGINAL, LF):
        start = data.find(b"\n", data.find(b"CellHeader=")) + 1
        end = _cell_line(data, 126 * 126 - 1)[1]
        cols = cel_text._parse_cells_arrow(data, start, end, 126 * 126, "iiffi")
        assert cols is not None
        assert cols["c2"][1] == 11263.3 and cols["c4"][0] == 25
        assert all(v.flags.writeable for v in cols.values())


def test_fast_path_floats_are_correctly_rounded() -> None:
    """Shortest round-trip and over-long decimals read as Python's float() reads them."""
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [
            rng.uniform(0, 1e5, 5000),
            np.exp(rng.uniform(-30, 30, 5000)),
            np.round(rng.uniform(0, 1e5, 5000), 1),
        ]
    )
    texts = [repr(float(v)) for v in values] + [f"{v:.25f}" for v in values[:2000]]
    block = "".join(f"1\t2\t{t}\t{t}\t3\n" for t in texts).encode()
    cols = cel_text._parse_cells_arrow(block, 0, len(block), len(texts), "iiffi")
    assert cols is not None
    np.testing.assert_array_equal(cols["c2"], np.array([float(t) for t in texts]))


#: Faults in the columns the intensities-only read does not convert (npixels).
UNCONVERTED_FAULTS = {"float_in_int", "huge_int"}


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_intensities_only_read_agrees_with_the_full_read(variant: str) -> None:
    """RMA's read (coordinates and means only) gives the full read's intensities,
    or its error; only faults in the unconverted pixel-count column pass."""
    data = VARIANTS[variant]
    try:
        full = ("ok", cel_text.read_text(data, "x.CEL")["intensity"])
    except FormatError as exc:
        full = ("error", str(exc))
    try:
        only = cel_text.read_text(data, "x.CEL", intensities_only=True)
        assert set(only) >= {"intensity", "rows", "cols"} and "stdev" not in only
        short = ("ok", only["intensity"])
    except FormatError as exc:
        short = ("error", str(exc))
    if variant in UNCONVERTED_FAULTS:
        assert full[0] == "error" and short[0] == "ok"
        return
    assert full[0] == short[0], (full, short)
    if full[0] == "error":
        assert full[1] == short[1]
    else:
        np.testing.assert_array_equal(full[1], short[1])
