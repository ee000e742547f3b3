"""GEO series matrix files (``GSE..._series_matrix.txt[.gz]``).

Layout (GEO's "Series Matrix File" format): ``!Series_<key>`` lines with one
quoted value, ``!Sample_<key>`` lines with one quoted value per sample (a key
may repeat, e.g. ``!Sample_characteristics_ch1`` once per characteristic, each
cell ``"key: value"``), then the table between ``!series_matrix_table_begin``
and ``!series_matrix_table_end``: a header ``"ID_REF" "GSM1" ...`` and one row
per feature, tab-separated, empty (or ``null``) for a missing value.  Series on
several platforms come as one file per platform (``GSE...-GPL..._series_matrix``).

The header is read line by line; the table is decompressed in large blocks,
checked for its field counts with numpy and parsed by pandas' C reader.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sigrestore.errors import FormatError
from sigrestore.geo._open import (
    GZIP_ERRORS,
    check_not_html,
    decode_line,
    open_text_binary,
    read_all,
    truncated_gzip,
)
from sigrestore.geo.values import check_values, parse_table

__all__ = ["SeriesMatrix", "characteristics_table", "read_series_matrix"]

_BEGIN = b"!series_matrix_table_begin"
_END = b"!series_matrix_table_end"
_BASE_COLUMNS = ("sample", "title", "source_name", "supplementary_file", "platform")


@dataclass(frozen=True)
class SeriesMatrix:
    """A parsed series matrix.

    Attributes
    ----------
    expression : DataFrame
        Features x samples (float64, NaN where missing or not a number), index
        ``ID_REF`` (text), columns the GSM ids in file order.
    samples : DataFrame
        One row per GSM in the order of :attr:`expression`'s columns:
        ``sample`` (GSM id), ``title``, ``source_name``, one column per key of
        ``!Sample_characteristics_ch1`` (named by the key), ``supplementary_file``
        (further files in ``supplementary_file_2`` ...) and ``platform``.
    platform : str
        The GPL id (from ``!Sample_platform_id``, else ``!Series_platform_id``).
    series : dict
        ``!Series_<key>`` -> list of values, in file order.
    sample_fields : dict
        Every ``!Sample_<key>`` -> list of rows (each a list, one cell per sample).
    path : str
        The file read.
    non_numeric : dict
        Sample -> count of non-numeric text cells read as NaN.
    """

    expression: pd.DataFrame
    samples: pd.DataFrame
    platform: str
    series: dict[str, list[str]]
    sample_fields: dict[str, list[list[str]]] = field(repr=False)
    path: str = ""
    non_numeric: dict[str, int] = field(default_factory=dict)

    @property
    def accession(self) -> str:
        """The series' GSE id."""
        return (self.series.get("geo_accession") or [""])[0]


def _cells(line: str) -> list[str]:
    """Tab-separated cells of a header line without their surrounding quotes."""
    out = []
    for cell in line.split("\t")[1:]:
        c = cell.strip()
        if len(c) >= 2 and c[0] == '"' and c[-1] == '"':
            c = c[1:-1]
        out.append(c)
    return out


def characteristics_table(
    rows: list[list[str]], n: int, label: str = "characteristics_ch1"
) -> pd.DataFrame:
    """``key: value`` cells (one list per header row) -> one column per key.

    A sample may list its characteristics in another order than the others,
    so cells are assigned by key, not by row.  A cell without ``:`` goes to a
    column named ``label``; a key given twice for one sample keeps both values
    joined by ``"; "``.
    """
    columns: dict[str, list[str | None]] = {}
    for row in rows:
        for j, cell in enumerate(row):
            if not cell:
                continue
            key, sep, value = cell.partition(":")
            key, value = (key.strip(), value.strip()) if sep else (label, cell.strip())
            col = columns.setdefault(key, [None] * n)
            col[j] = value if col[j] is None else f"{col[j]}; {value}"
    return pd.DataFrame(columns, index=range(n), dtype=object)


def _samples_frame(fields: dict[str, list[list[str]]], gsms: list[str]) -> pd.DataFrame:
    n = len(gsms)

    def first(key: str) -> list[str | None]:
        rows = fields.get(key)
        return list(rows[0]) if rows else [None] * n

    frame = pd.DataFrame(
        {"sample": gsms, "title": first("title"), "source_name": first("source_name_ch1")},
        dtype=object,
    )
    chars = characteristics_table(fields.get("characteristics_ch1", []), n)
    for key in chars.columns:
        name = key if key not in _BASE_COLUMNS else f"{key}_ch1"
        frame[name] = chars[key].to_numpy()
    supp = fields.get("supplementary_file", [])
    for i, row in enumerate(supp):
        name = "supplementary_file" if i == 0 else f"supplementary_file_{i + 1}"
        frame[name] = [c if c and c.upper() != "NONE" else None for c in row]
    if not supp:
        frame["supplementary_file"] = None
    frame["platform"] = first("platform_id")
    return frame


def read_series_matrix(path: str | os.PathLike[str]) -> SeriesMatrix:
    """Read a GEO series matrix (plain or gzip-compressed).

    Parameters
    ----------
    path
        ``GSE..._series_matrix.txt[.gz]`` or a per-platform
        ``GSE...-GPL..._series_matrix.txt[.gz]``.

    Returns
    -------
    SeriesMatrix

    Raises
    ------
    FormatError
        An HTML page or a truncated gzip instead of the file; no
        ``!series_matrix_table_begin`` or ``_end`` marker; a ``!Sample_`` line
        or a table row with the wrong number of fields; a table header that is
        not ``ID_REF`` and the samples' GSM ids; a repeated ``ID_REF``; a
        sample column without any numeric value; samples on several platforms.
        Every message names the file and the line.
    """
    path = Path(path)
    series: dict[str, list[str]] = {}
    fields: dict[str, list[list[str]]] = {}
    field_lines: dict[str, int] = {}
    gsms: list[str] | None = None
    line_no = 0
    with open_text_binary(path) as fh:
        try:
            while True:
                raw = fh.readline()
                if not raw:
                    break
                line_no += 1
                if line_no == 1:
                    check_not_html(raw, path)
                stripped = raw.strip()
                if stripped.lower() == _BEGIN:
                    break
                if not stripped:
                    continue
                line = decode_line(raw)
                if line.startswith("!Series_"):
                    key = line.split("\t", 1)[0][len("!Series_") :]
                    series.setdefault(key, []).append(" ".join(_cells(line)))
                elif line.startswith("!Sample_"):
                    key = line.split("\t", 1)[0][len("!Sample_") :]
                    cells = _cells(line)
                    if key == "geo_accession" and gsms is None:
                        gsms = cells
                    fields.setdefault(key, []).append(cells)
                    field_lines.setdefault(key, line_no)
                elif line_no == 1 and not line.startswith(("!", "^", "#")):
                    raise FormatError(
                        f"{path}: line 1: not a GEO series matrix (it should start with "
                        f"'!Series_' lines, found {line[:40]!r})"
                    )
        except GZIP_ERRORS as exc:
            raise truncated_gzip(path, line_no + 1, exc) from None
        else:
            if not raw:
                raise FormatError(
                    f"{path}: line {line_no}: no '!series_matrix_table_begin' line: not a "
                    "complete GEO series matrix"
                )
        begin_line = line_no
        body = read_all(fh, path, begin_line)
    return _build(path, body, begin_line, series, fields, field_lines, gsms)


def _build(
    path: Path,
    body: bytes,
    begin_line: int,
    series: dict[str, list[str]],
    fields: dict[str, list[list[str]]],
    field_lines: dict[str, int],
    gsms: list[str] | None,
) -> SeriesMatrix:
    end = _find_end(body)
    if end < 0:
        n = begin_line + body.count(b"\n")
        raise FormatError(
            f"{path}: line {n}: no '!series_matrix_table_end' line after the table begun on "
            f"line {begin_line}: the file is incomplete"
        )
    table = body[:end]
    header_end = table.find(b"\n")
    header = decode_line(table[: header_end if header_end >= 0 else len(table)])
    columns = [c.strip().strip('"') for c in header.split("\t")]
    header_line = begin_line + 1
    if not columns or columns[0].upper() != "ID_REF":
        raise FormatError(f"{path}: line {header_line}: the table header must start with ID_REF")
    table_gsms = columns[1:]
    if gsms is None:
        gsms = table_gsms
    if sorted(table_gsms) != sorted(gsms):
        extra = sorted(set(table_gsms) - set(gsms))
        missing = sorted(set(gsms) - set(table_gsms))
        raise FormatError(
            f"{path}: line {header_line}: the table's columns are not the samples of the "
            f"!Sample_geo_accession line (in the table only: {extra[:5]}, missing: {missing[:5]})"
        )
    n = len(table_gsms)
    for key, rows in fields.items():
        for row in rows:
            if len(row) != len(gsms):
                raise FormatError(
                    f"{path}: line {field_lines[key]}: !Sample_{key} has {len(row)} values, "
                    f"expected one per sample ({len(gsms)})"
                )
    non_numeric: dict[str, int] = {}
    if header_end < 0:
        raise FormatError(f"{path}: line {header_line}: the series matrix table has no rows")
    expression = parse_table(
        table, path, quoted=True, first_line=header_line, numeric=True, non_numeric=non_numeric
    )
    if expression.shape[0] == 0:
        raise FormatError(f"{path}: line {header_line}: the series matrix table has no rows")
    expression.columns = table_gsms
    check_values(expression, path, header_line, header_line + 1)
    expression.index = pd.Index(expression.index.astype(str), name="ID_REF")
    samples = _samples_frame(fields, gsms)
    samples = samples.set_index("sample", drop=False).loc[table_gsms].reset_index(drop=True)
    platforms = sorted({p for p in samples["platform"] if p})
    if len(platforms) > 1:
        raise FormatError(
            f"{path}: line {field_lines['platform_id']}: the samples are on several platforms "
            f"({', '.join(platforms)}); GEO gives one series matrix per platform"
        )
    platform = platforms[0] if platforms else (series.get("platform_id") or [""])[0]
    if not platforms:
        samples["platform"] = platform or None
    return SeriesMatrix(
        expression=expression,
        samples=samples,
        platform=platform,
        series=series,
        sample_fields=fields,
        path=str(path),
        non_numeric=non_numeric,
    )


def _find_end(body: bytes) -> int:
    """Offset of the end-marker line (case-insensitive), or -1."""
    pos = body.rfind(_END)
    if pos < 0:
        pos = body.lower().rfind(_END)
    # The marker must start a line.
    if pos > 0 and body[pos - 1 : pos] != b"\n":
        return -1
    return pos
