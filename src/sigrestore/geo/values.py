"""Numeric cells of GEO tables: parse, count fields, find bad lines.

GEO tables are tab-separated with quoted ids (series matrices) or bare ids
(SOFT).  Missing values appear as empty cells, ``null`` or ``NA``; other text in
a value column (``"<0.1"``, ``"n/a"``) is not a number and becomes NaN too.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv

from sigrestore.errors import FormatError

__all__ = ["MISSING", "check_field_counts", "parse_table"]

#: Cell texts read as missing values (besides the empty cell).
MISSING = ["", "null", "NULL", "Null", "NA", "na", "NaN", "nan", "N/A", "n/a", "---", "-"]


def check_field_counts(
    table: bytes, expected: int, path: str | os.PathLike[str], first_line: int
) -> int:
    """Raise on the first line of ``table`` without ``expected`` tab-separated fields.

    Counted on the raw bytes with numpy (no Python loop over lines): the tab
    positions are assigned to lines by a search among the newline positions.

    Returns
    -------
    int
        The number of lines (an unterminated last line counts).
    """
    arr = np.frombuffer(table, dtype=np.uint8)
    newlines = np.flatnonzero(arr == 10)
    n_lines = newlines.size + (1 if arr.size and arr[-1] != 10 else 0)
    tabs = np.flatnonzero(arr == 9)
    counts = np.bincount(np.searchsorted(newlines, tabs), minlength=n_lines)[:n_lines] + 1
    # Blank lines (length 0 or a lone \r) are skipped by the parser; do the same here.
    starts = np.concatenate(([0], newlines + 1))[:n_lines]
    ends = np.concatenate((newlines, [arr.size]))[:n_lines]
    length = ends - starts
    lone_cr = (length == 1) & (arr[np.minimum(starts, max(arr.size - 1, 0))] == 13)
    blank = (length == 0) | lone_cr
    bad = np.flatnonzero((counts != expected) & ~blank)
    if bad.size:
        i = int(bad[0])
        raise FormatError(
            f"{path}: line {first_line + i}: {counts[i]} tab-separated fields, expected "
            f"{expected} (one id and one value per sample)"
        )
    return n_lines


def parse_table(
    table: bytes,
    path: str | os.PathLike[str],
    *,
    quoted: bool,
    first_line: int = 1,
    numeric: bool = False,
    non_numeric: dict[str, int] | None = None,
) -> pd.DataFrame:
    """A tab-separated table with a header line; the first column is the (text) index.

    Parsed by Arrow's multi-threaded CSV reader: numeric columns come back as
    float64, a column with any non-numeric text as text (:func:`to_float`
    finishes the conversion).  A row with the wrong number of fields is
    located by :func:`check_field_counts` (line ``first_line`` is the header).
    With ``numeric``, every value column is converted to float64 (non-numeric
    text -> NaN, counted per column in ``non_numeric``).
    """
    if non_numeric is None:
        non_numeric = {}
    header = table[: table.find(b"\n")] if b"\n" in table else table
    names = [
        c.strip().strip('"') if quoted else c.strip()
        for c in header.decode("utf-8", "replace").rstrip("\r").split("\t")
    ]
    id_col = names[0]
    try:
        arrow = pacsv.read_csv(
            pa.py_buffer(table),
            read_options=pacsv.ReadOptions(
                column_names=[f"c{i}" for i in range(len(names))],
                skip_rows=1,
                block_size=1 << 22,
            ),
            parse_options=pacsv.ParseOptions(
                delimiter="\t",
                quote_char='"' if quoted else False,
                ignore_empty_lines=True,
                newlines_in_values=False,
            ),
            convert_options=pacsv.ConvertOptions(
                null_values=MISSING,
                strings_can_be_null=True,
                quoted_strings_can_be_null=True,
                column_types={"c0": pa.string()},
            ),
        )
    except pa.ArrowInvalid as exc:
        check_field_counts(table, len(names), path, first_line)
        raise FormatError(
            f"{path}: cannot parse the table after line {first_line}: {exc}"
        ) from None
    index = pd.Index(arrow.column(0).to_pandas(), name=id_col)
    if numeric:
        # One float64 block filled column by column: no per-column frame to stack.
        values = np.empty((len(index), len(names) - 1), dtype=np.float64, order="F")
        for i in range(1, len(names)):
            values[:, i - 1] = _as_float(arrow.column(i), names[i], non_numeric)
        return pd.DataFrame(values, index=index, columns=names[1:], copy=False)
    columns = {}
    for i, name in enumerate(names[1:], start=1):
        col = arrow.column(i)
        if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
            columns[name] = col.to_numpy().astype(np.float64, copy=False)
        elif pa.types.is_null(col.type):
            columns[name] = np.full(len(index), np.nan)
        else:
            columns[name] = col.to_pandas().to_numpy(dtype=object)
    frame = pd.DataFrame(columns, index=index, copy=False)
    frame.columns = names[1:]
    return frame


def _as_float(col: pa.ChunkedArray, name: str, non_numeric: dict[str, int]) -> np.ndarray:
    """An Arrow column as float64; text that is not a number becomes NaN (counted)."""
    if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
        return col.to_numpy().astype(np.float64, copy=False)
    if pa.types.is_null(col.type):
        return np.full(len(col), np.nan)
    text = col.to_pandas()
    num = pd.to_numeric(text, errors="coerce")
    lost = int((num.isna() & text.notna()).sum())
    if lost:
        non_numeric[name] = lost
    return num.to_numpy(dtype=np.float64)


def to_float(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, int]]:
    """Every column as float64; non-numeric text becomes NaN.

    Returns
    -------
    frame : DataFrame
        float64 values, same index and columns.
    non_numeric : dict
        Column -> number of non-numeric (non-missing) cells made NaN.
    """
    out = {}
    non_numeric: dict[str, int] = {}
    for col in frame.columns:  # columns are arrays; each conversion is vectorized
        s = frame[col]
        if s.dtype.kind in "fiu":
            out[col] = s.to_numpy(dtype=np.float64)
            continue
        num = pd.to_numeric(s, errors="coerce")
        lost = int((num.isna() & s.notna()).sum())
        if lost:
            non_numeric[str(col)] = lost
        out[col] = num.to_numpy(dtype=np.float64)
    result = pd.DataFrame(out, index=frame.index)
    result.columns = frame.columns
    return result, non_numeric


def check_values(
    frame: pd.DataFrame, path: str | os.PathLike[str], header_line: int, first_line: int
) -> None:
    """Refuse duplicate ids and a sample column without any number."""
    dup = frame.index.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise FormatError(f"{path}: line {first_line + i}: ID_REF {frame.index[i]!r} appears twice")
    empty_id = frame.index.isna()
    if empty_id.any():
        i = int(np.flatnonzero(empty_id)[0])
        raise FormatError(f"{path}: line {first_line + i}: empty ID_REF")
    if frame.shape[0]:
        empty = frame.columns[np.isnan(frame.to_numpy()).all(axis=0)]
        if len(empty):
            raise FormatError(
                f"{path}: line {header_line}: sample column {empty[0]!r} has no numeric value"
            )
