"""Small helpers shared by the platform readers: opening, header scan, numeric columns."""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from sigrestore.errors import FormatError
from sigrestore.textio import decompressed

# How far a header block may reach before the column line (GenomeStudio
# writes ~8 lines, Feature Extraction ~10).
MAX_HEADER_LINES = 1000


def open_text(path: str | os.PathLike[str]) -> io.TextIOBase:
    """Open a text file, gunzipping when it starts with the gzip magic."""
    p = Path(path)
    try:
        raw = decompressed(open(p, "rb"))  # noqa: SIM115 - the text wrapper closes it
    except OSError as exc:
        raise FormatError(f"{p}: cannot open ({exc.strerror})") from exc
    return io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline="")


def find_header(
    path: str | os.PathLike[str], is_header: Callable[[list[str]], bool]
) -> tuple[int, list[str], list[list[str]]]:
    """The 0-based line number and fields of the first line ``is_header``
    accepts, and the tab-split lines before it (the header block)."""
    before: list[list[str]] = []
    with open_text(path) as fh:
        for i, line in enumerate(fh):
            fields = line.rstrip("\r\n").split("\t")
            if is_header(fields):
                return i, fields, before
            before.append(fields)
            if i >= MAX_HEADER_LINES:
                break
    raise FormatError(f"{path}: no column header line found")


_MISSING = ["", "NA", "NaN", "nan", "null"]


def read_table(
    path: str | os.PathLike[str],
    header_line: int,
    header: Sequence[str],
    usecols: Sequence[str],
    *,
    quoting: int,
    numeric: Sequence[str] = (),
) -> pd.DataFrame:
    """Read the tab-separated columns ``usecols`` of the table whose column
    line is the 0-based ``header_line`` with fields ``header``.

    Columns in ``numeric`` are parsed as float64 by the C parser (empty,
    ``NA`` and ``NaN`` fields become NaN); the others are text.  When a
    numeric field is not a number, the table is read again as text to name
    the line and column (:func:`numeric_columns`).

    Columns are picked by position (their first occurrence in ``header``), so
    repeated header names (GEO's ``Detection Pval`` after every sample) are
    read as the distinct columns they are: keys from :func:`column_key`.
    """
    positions = [_position(header, c) for c in usecols]
    num = {_position(header, c) for c in numeric}
    try:
        table = _read(path, header_line, positions, quoting, num, len(header))
    except ValueError:
        if not num:
            raise
        # Some numeric field is not a number: read as text and say where.
        text = _read(path, header_line, positions, quoting, set(), len(header))
        text = text[positions].set_axis(list(usecols), axis=1)
        numeric_columns(text, list(numeric), path=path, first_line=header_line + 2)
        raise
    return table[positions].set_axis(list(usecols), axis=1)


def _read(path, header_line: int, positions: list[int], quoting: int, num: set[int], width: int):
    """Arrow's CSV reader (much faster than pandas' on numeric columns), then
    pandas; a lone ``*`` line (the end of an FE section) is skipped, any other
    row with the wrong field count is an error naming its line."""
    invalid: list[tuple[int, str]] = []

    def on_invalid(row) -> str:
        if row.text.strip() != "*":
            invalid.append((row.number, row.text))
        return "skip"

    names = [f"c{i}" for i in range(width)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                skip_rows=header_line + 1, column_names=names, use_threads=True
            ),
            parse_options=pacsv.ParseOptions(
                delimiter="\t",
                quote_char='"' if quoting == QUOTE_MINIMAL else False,
                invalid_row_handler=on_invalid,
            ),
            convert_options=pacsv.ConvertOptions(
                include_columns=[names[p] for p in positions],
                column_types={
                    names[p]: pa.float64() if p in num else pa.string() for p in positions
                },
                null_values=_MISSING,
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except pa.ArrowInvalid as exc:
        if "conversion error" in str(exc):
            raise ValueError(str(exc)) from exc
        raise FormatError(
            f"{path}: cannot parse the table below line {header_line + 1}: {exc}"
        ) from exc
    if invalid:
        number, text = invalid[0]
        line = header_line + 1 + number if number and number > 0 else _find_line(path, text)
        where = f"line {line}" if line else "a row"
        raise FormatError(
            f"{path}, {where}: {len(text.split(chr(9)))} fields where the column line has"
            f" {width} ({len(invalid)} such row(s))"
        )
    frame = table.to_pandas()
    frame.columns = [int(c[1:]) for c in frame.columns]
    return frame


def _find_line(path, text: str) -> int | None:
    """1-based number of the first line equal to ``text`` (error path only)."""
    with open_text(path) as fh:
        for i, line in enumerate(fh, start=1):
            if line.rstrip("\r\n") == text:
                return i
    return None


def column_key(name: str, occurrence: int) -> str:
    """Key of the ``occurrence``-th (0-based) column called ``name``."""
    return name if occurrence == 0 else f"{name}\x00{occurrence}"


def _position(header: Sequence[str], key: str) -> int:
    name, _, occ = key.partition("\x00")
    hits = [i for i, h in enumerate(header) if h == name]
    return hits[int(occ) if occ else 0]


QUOTE_NONE = csv.QUOTE_NONE
QUOTE_MINIMAL = csv.QUOTE_MINIMAL


def numeric_columns(
    frame: pd.DataFrame, columns: Sequence[str], *, path: str | os.PathLike[str], first_line: int
) -> np.ndarray:
    """The given text columns as a float64 matrix; a FormatError naming the
    line and column of the first value that is not a number.

    ``first_line`` is the 1-based file line of the frame's first row.
    Empty fields, ``NA`` and ``NaN`` become NaN (checked by the caller).
    """
    out = np.empty((len(frame), len(columns)), dtype=np.float64)
    for k, col in enumerate(columns):
        text = frame[col]
        if text.dtype.kind == "f":
            out[:, k] = text.to_numpy()
            continue
        values = pd.to_numeric(
            text.where(~text.isin(["", "NA", "NaN", "nan", "null"])), errors="coerce"
        )
        bad = values.isna() & ~text.isin(["", "NA", "NaN", "nan", "null"])
        if bad.any():
            row = int(np.flatnonzero(bad.to_numpy())[0])
            raise FormatError(
                f"{path}, line {first_line + row}, column {col!r}: "
                f"{text.iat[row]!r} is not a number"
            )
        out[:, k] = values.to_numpy(dtype=np.float64)
    return out


def check_signals(
    values: np.ndarray,
    columns: Sequence[str],
    *,
    path: str | os.PathLike[str],
    first_line: int,
    allow_negative: bool,
    what: str,
) -> None:
    """FormatError counting missing/non-finite (and, unless allowed, negative)
    values, naming the first one's line and column."""
    bad = ~np.isfinite(values)
    kind = "missing or non-finite"
    if not bad.any() and not allow_negative:
        bad = values < 0
        kind = "negative"
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise FormatError(
            f"{path}: {int(bad.sum())} {kind} {what} value(s); the first at line"
            f" {first_line + int(row)}, column {columns[int(col)]!r}"
        )
