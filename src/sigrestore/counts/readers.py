"""Readers of gene x sample count tables.

Formats (``format="auto"`` recognises them from the header):

* ``table``: a plain table, tab- or comma-separated (``.csv``), optionally
  gzipped: the first column (or ``id_column``) holds the gene ids, an optional
  symbol column (``name_column``, or one named ``gene_name``, ``symbol``,
  ``gene_symbol``, ``Symbol``), then one column per sample;
* ``salmon``: nf-core/rnaseq's ``salmon.merged.gene_counts.tsv`` and
  ``salmon.merged.gene_counts_length_scaled.tsv`` (``gene_id``,
  ``gene_name``, samples).  salmon's counts are estimates, not integers:
  fractional values are accepted (with a note in the log);
* ``featurecounts``: Subread featureCounts output (``#`` program line, then
  ``Geneid Chr Start End Strand Length`` and one column per BAM, named by its
  path);
* ``geo``: GEO's NCBI-generated raw counts (``GSE..._raw_counts_GRCh38.p13_NCBI.tsv.gz``:
  ``GeneID`` (Entrez) then one column per GSM), with symbols from its
  ``Human.GRCh38.p13.annot.tsv.gz`` (``GeneID``, ``Symbol``, ...).

Reading only parses the file; :mod:`sigrestore.counts.validate` checks the
values of the columns the sample sheet selects.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sigrestore.errors import FormatError
from sigrestore.textio import decompressed

__all__ = [
    "COUNT_FORMATS",
    "CountTable",
    "detect_format",
    "has_symbols",
    "read_count_table",
    "read_geo_annotation",
]

COUNT_FORMATS = ("auto", "table", "salmon", "featurecounts", "geo")
_NAME_COLUMNS = ("gene_name", "symbol", "gene_symbol", "Symbol", "GeneSymbol", "SYMBOL")
_FEATURECOUNTS_META = ("Geneid", "Chr", "Start", "End", "Strand", "Length")


@dataclass(frozen=True)
class CountTable:
    """A parsed count table (values not yet validated).

    Attributes
    ----------
    data
        Gene rows (index: gene ids as strings, in file order) and the table's
        value columns (every column that is not an id, symbol or featureCounts
        metadata column), as read.
    symbols
        Gene symbol per gene id ("" when unknown), or None without symbols.
    path
        The file read.
    format
        The format read (``table``, ``salmon``, ``featurecounts``, ``geo``).
    fractional_ok
        True for tables of estimated counts (salmon), whose values need not be
        integers.
    first_line
        Line number (1-based) of the first gene row in the file, for messages.
    """

    data: pd.DataFrame
    symbols: pd.Series | None
    path: Path
    format: str
    fractional_ok: bool
    first_line: int

    def line_of(self, row: int) -> int:
        """The file line of gene row ``row`` (0-based)."""
        return self.first_line + row


def _open_text(path: Path):
    return io.TextIOWrapper(
        decompressed(path.open("rb")), encoding="utf-8", errors="replace", newline=""
    )


def _head(path: Path, n: int = 3) -> list[str]:
    try:
        with _open_text(path) as fh:
            return [fh.readline().rstrip("\r\n") for _ in range(n)]
    except (OSError, EOFError) as exc:
        raise FormatError(f"{path}: cannot read the count table ({exc})") from None


def _sep(path: Path, header: str) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith(".csv") or ("\t" not in header and "," in header):
        return ","
    return "\t"


def detect_format(path: str | os.PathLike[str]) -> str:
    """The format of a count table from its first lines (see the module docstring)."""
    path = Path(path)
    lines = _head(path)
    header = next((ln for ln in lines if not ln.startswith("#")), "")
    if lines and lines[0].startswith("#") and "featureCounts" in lines[0]:
        return "featurecounts"
    cols = [c.strip('"') for c in header.split(_sep(path, header))]
    if tuple(cols[:6]) == _FEATURECOUNTS_META:
        return "featurecounts"
    if cols[:2] == ["gene_id", "gene_name"] and "salmon" in path.name.lower():
        return "salmon"
    if cols[:1] == ["GeneID"] and len(cols) > 1 and all(c.startswith("GSM") for c in cols[1:]):
        return "geo"
    return "table"


def has_symbols(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    name_column: str | None = None,
    annotation: str | os.PathLike[str] | None = None,
) -> bool:
    """Whether reading the table will give gene symbols, from its header only.

    Used when the workflow is parsed (before any job): symbols make the gene
    level (one row per symbol) the default, as an annotation does for arrays.
    A salmon table has ``gene_name``; a plain table a ``name_column`` or a
    column of a usual symbol name; a GEO NCBI table symbols from its
    ``annotation``; featureCounts output none.  A table that cannot be read
    yet says False (its reading error comes with the job).
    """
    path = Path(path)
    if not path.is_file():
        return False
    fmt = detect_format(path) if format == "auto" else format
    if fmt == "salmon":
        return True
    if fmt == "geo":
        return annotation is not None and bool(str(annotation))
    if fmt != "table":
        return False
    if name_column is not None:
        return True
    lines = [ln for ln in _head(path) if not ln.startswith("#")]
    header = lines[0] if lines else ""
    cols = [c.strip('"') for c in header.split(_sep(path, header))]
    return any(c in cols[1:] for c in _NAME_COLUMNS)


def read_count_table(
    path: str | os.PathLike[str],
    *,
    format: str = "auto",
    id_column: str | None = None,
    name_column: str | None = None,
    annotation: str | os.PathLike[str] | None = None,
) -> CountTable:
    """Read a count table.

    Parameters
    ----------
    path
        The table (gzip recognised from its content).
    format
        One of :data:`COUNT_FORMATS`.
    id_column, name_column
        Plain tables: the gene-id column (default the first) and the symbol
        column (default one with a usual name, if any).
    annotation
        GEO tables: the NCBI annotation table giving symbols (optional).

    Raises
    ------
    FormatError
        The file cannot be read, lacks the columns of its format, has no gene
        row, or repeats a gene id (the lines are named).
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: count table not found")
    if format not in COUNT_FORMATS:
        raise FormatError(f"{path}: unknown count format {format!r}; one of {list(COUNT_FORMATS)}")
    fmt = detect_format(path) if format == "auto" else format
    lines = _head(path)
    skip = 0
    while skip < len(lines) and lines[skip].startswith("#"):
        skip += 1
    header = lines[skip] if skip < len(lines) else ""
    sep = _sep(path, header)
    try:
        frame = pd.read_csv(
            path,
            sep=sep,
            skiprows=skip,
            dtype={0: str},
            compression="infer",
            low_memory=False,
            na_values=["", "NA", "NaN", "nan"],
            keep_default_na=False,
        )
    except (ValueError, OSError, EOFError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise FormatError(f"{path}: cannot parse the count table ({exc})") from None
    if frame.shape[0] == 0:
        raise FormatError(f"{path}: the count table has no gene rows")
    frame.columns = [str(c) for c in frame.columns]
    first_line = skip + 2
    symbols = None
    if fmt == "featurecounts":
        missing = [c for c in _FEATURECOUNTS_META if c not in frame.columns]
        if missing:
            raise FormatError(f"{path}: featureCounts output without column(s) {missing}")
        ids_col, drop = "Geneid", list(_FEATURECOUNTS_META)
    elif fmt == "salmon":
        missing = [c for c in ("gene_id", "gene_name") if c not in frame.columns]
        if missing:
            raise FormatError(f"{path}: nf-core salmon table without column(s) {missing}")
        ids_col, drop = "gene_id", ["gene_id", "gene_name"]
        symbols = frame["gene_name"]
    elif fmt == "geo":
        if "GeneID" not in frame.columns:
            raise FormatError(f"{path}: GEO NCBI count table without a 'GeneID' column")
        ids_col, drop = "GeneID", ["GeneID"]
    else:
        ids_col = id_column or frame.columns[0]
        if ids_col not in frame.columns:
            raise FormatError(
                f"{path}: no gene-id column {ids_col!r} (columns {list(frame.columns[:6])})"
            )
        drop = [ids_col]
        name = name_column or next((c for c in _NAME_COLUMNS if c in frame.columns), None)
        if name is not None:
            if name not in frame.columns:
                raise FormatError(f"{path}: no gene-name column {name!r}")
            symbols = frame[name]
            drop.append(name)
    ids = frame[ids_col]
    if ids.isna().any():
        row = int(np.flatnonzero(ids.isna().to_numpy())[0])
        raise FormatError(f"{path}, line {first_line + row}: empty gene id in column {ids_col!r}")
    ids = ids.astype(str).str.strip()
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        rows = np.flatnonzero(dup)
        first = ids.iat[rows[0]]
        where = [first_line + int(r) for r in rows if ids.iat[r] == first][:5]
        raise FormatError(
            f"{path}: duplicate gene id {first!r} (column {ids_col!r}, lines {where}); "
            f"{int(ids[dup].nunique())} id(s) repeated in all: ids must be unique"
        )
    data = frame.drop(columns=drop)
    data.index = pd.Index(ids.to_numpy(), name="gene_id")
    if symbols is not None:
        symbols = pd.Series(
            symbols.fillna("").astype(str).to_numpy(), index=data.index, name="gene_symbol"
        )
    if fmt == "geo" and annotation is not None:
        annot = read_geo_annotation(annotation)
        symbols = annot.reindex(data.index).fillna("").rename("gene_symbol")
    fractional = fmt == "salmon"
    return CountTable(data, symbols, path, fmt, fractional, first_line)


def read_geo_annotation(path: str | os.PathLike[str]) -> pd.Series:
    """GeneID -> Symbol from GEO's NCBI annotation table (``Human.GRCh38.p13.annot.tsv.gz``)."""
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"{path}: annotation table not found")
    try:
        annot = pd.read_csv(
            path,
            sep="\t",
            dtype=str,
            usecols=lambda c: c in ("GeneID", "Symbol"),
            compression="infer",
            keep_default_na=False,
        )
    except (ValueError, OSError, EOFError, pd.errors.ParserError) as exc:
        raise FormatError(f"{path}: cannot parse the annotation table ({exc})") from None
    missing = [c for c in ("GeneID", "Symbol") if c not in annot.columns]
    if missing:
        raise FormatError(f"{path}: GEO annotation table without column(s) {missing}")
    annot = annot.drop_duplicates("GeneID")
    return pd.Series(annot["Symbol"].to_numpy(), index=annot["GeneID"].str.strip().to_numpy())
