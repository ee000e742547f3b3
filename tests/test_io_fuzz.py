"""Fuzzing the readers: mutated and truncated copies of every fixture.

Whatever the damage, the only exception a reader may raise is the package's
FormatError; anything else (IndexError, struct.error, MemoryError, a crash)
fails.  Runs are derandomized, so the suite is reproducible.
"""

from __future__ import annotations

import gzip
import os
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sigrestore.errors import FormatError
from sigrestore.io import read_cel_header
from sigrestore.io._source import decode_content
from sigrestore.io.cdf import parse_cdf_bytes
from sigrestore.io.cel import parse_cel_bytes

TEST3 = Path(__file__).parent / "data" / "affymetrix" / "Test3"
HEAD = 4096  # half of the mutations hit the first bytes, where the structure is


@st.composite
def mutated(draw: st.DrawFn, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        in_head = draw(st.booleans())
        hi = min(len(data), HEAD) if in_head else len(data)
        pos = draw(st.integers(0, hi - 1))
        op = draw(st.sampled_from(["truncate", "flip", "set", "delete", "insert", "digits"]))
        if op == "truncate":
            del data[pos:]
        elif op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            value = draw(st.sampled_from([0, 0xFF, 0x7F, 0x80, ord("\n"), ord("\t"), ord("-")]))
            for k in range(draw(st.integers(1, 4))):
                if pos + k < len(data):
                    data[pos + k] = value
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        else:
            # Replace a run of digits: plausible-looking but wrong numbers.
            digits = draw(st.text("0123456789-.eE", min_size=1, max_size=6)).encode()
            data[pos : pos + len(digits)] = digits
    wrap = draw(st.sampled_from(["plain", "plain", "gzip", "gzip-cut"]))
    out = bytes(data)
    if wrap != "plain":
        out = gzip.compress(out, compresslevel=1, mtime=0)
        if wrap == "gzip-cut":
            out = out[: draw(st.integers(0, max(len(out) - 1, 0)))]
    return out


def _check(parse, data: bytes, name: str) -> None:
    try:
        parse(decode_content(data, name), name)
    except FormatError as exc:
        assert name in str(exc)


FUZZ = dict(
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Examples per fixture, sized to the suite's time budget (the ASCII CDF parse
# is the slowest; its full copy gets fewer, a 20-unit excerpt more).
CEL_CASES = [
    ("Test3-1.v3.CEL", 1500),
    ("Test3-2.v3.CEL", 1500),
    ("Test3-1.calvin.CEL", 2000),
    ("Test3-2.calvin.CEL", 2000),
    ("Test3-3.xda.CEL", 2000),
]


def _ascii_cdf_excerpt() -> bytes:
    raw = (TEST3 / "Test3.ascii.CDF").read_bytes()
    starts = [m.start() for m in re.finditer(rb"^\[Unit\d+\]", raw, re.M)]
    units, cut = starts[0], starts[20]
    head = raw[:units].replace(b"NumberOfUnits=345", b"NumberOfUnits=20", 1)
    return head + raw[units:cut]


@pytest.mark.parametrize(("name", "n"), CEL_CASES)
def test_fuzz_cel(name: str, n: int) -> None:
    raw = (TEST3 / name).read_bytes()

    @settings(max_examples=n, **FUZZ)
    @given(mutated(raw))
    def run(data: bytes) -> None:
        _check(parse_cel_bytes, data, name)

    run()


@pytest.mark.parametrize(
    ("label", "n"), [("Test3.xda.CDF", 1500), ("Test3.ascii.CDF", 300), ("excerpt", 1500)]
)
def test_fuzz_cdf(label: str, n: int) -> None:
    raw = _ascii_cdf_excerpt() if label == "excerpt" else (TEST3 / label).read_bytes()
    if label == "excerpt":
        assert parse_cdf_bytes(raw, label).n_probesets == 20

    @settings(max_examples=n, **FUZZ)
    @given(mutated(raw))
    def run(data: bytes) -> None:
        _check(parse_cdf_bytes, data, label)

    run()


def test_fuzz_header_reader() -> None:
    """``read_cel_header`` (partial reads) on mutated copies of every CEL format."""
    raws = [(TEST3 / name).read_bytes() for name, _ in CEL_CASES]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "x.CEL")

        @settings(max_examples=600, **FUZZ)
        @given(st.integers(0, len(raws) - 1).flatmap(lambda i: mutated(raws[i])))
        def run(data: bytes) -> None:
            with open(path, "wb") as fh:
                fh.write(data)
            try:
                head = read_cel_header(path)
            except FormatError as exc:
                assert path in str(exc)
            else:
                assert head["rows"] > 0 and head["cols"] > 0

        run()


def test_fuzz_finds_no_silent_fill() -> None:
    """A read that succeeds on a mutated text CEL never leaves cells unset."""
    raw = (TEST3 / "Test3-1.v3.CEL").read_bytes()
    lines = raw.split(b"\r\n")
    rng = np.random.default_rng(7)
    for k in rng.choice(np.arange(30, 15000), size=25, replace=False):
        damaged = b"\r\n".join(lines[:k] + lines[k + 1 :])
        with pytest.raises(FormatError, match=r"line|truncated|cells"):
            parse_cel_bytes(damaged, "x.CEL")
