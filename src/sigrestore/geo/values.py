"""Numeric cells of GEO tables: parse, count fields, find bad lines.

GEO tables are tab-separated with quoted ids (series matrices) or bare ids
(SOFT).  Missing values appear as empty cells, ``null`` or ``NA``; other text in
a value column (``"<0.1"``, ``"n/a"``) is not a number and becomes NaN too.
"""

from __future__ import annotations

import csv
import io
import os

import numpy as np
import pandas as pd

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


def parse_table(table: bytes, path: str | os.PathLike[str], *, quoted: bool) -> pd.DataFrame:
    """A tab-separated table with a header line; first column as text, the rest as text too.

    Values are kept as parsed by pandas' C reader (floats where a whole column
    is numeric, else text); :func:`to_float` finishes the conversion.
    """
    return pd.read_csv(
        io.BytesIO(table),
        sep="\t",
        header=0,
        index_col=0,
        dtype={0: str},
        na_values=MISSING,
        keep_default_na=False,
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        skip_blank_lines=True,
        engine="c",
        low_memory=False,
    )


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
