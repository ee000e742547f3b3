"""Probe-set annotation: read the files users have, collapse probe sets to genes.

Three layouts are recognized from their content (plain, gzip-compressed, or
the single file of a zip archive, as NetAffx distributes ``.csv.zip``):

* **Affymetrix NetAffx CSV** ("HG-U133A.na36.annot.csv"): comment lines starting
  with ``#``, then a comma-separated, double-quoted table with columns
  ``"Probe Set ID"``, ``"Gene Symbol"``, ``"Entrez Gene"``, ``"Gene Title"``;
  ``---`` marks a missing value and several genes are joined by ``" /// "``.
* **GEO platform tables** (GPL ``.annot`` files and GPL SOFT files): header lines
  starting with ``^``, ``!`` or ``#``, then a tab-separated table between
  ``!platform_table_begin`` and ``!platform_table_end`` with ``ID`` and a gene
  symbol column (``Gene symbol`` in annot files, ``Gene Symbol`` in SOFT files).
* **Plain TSV**: optional ``#`` comment lines, a header naming an id column (the
  first column, or one called ``ID``/``probe_set_id``/...) and a symbol column.

Every reader returns the same frame: index ``probe_set_id``; columns
``gene_symbol``, ``entrez_id``, ``gene_title`` (text; missing values are NaN;
multi-gene entries normalized to ``"A /// B"``).

The file is streamed to find the table, then parsed in chunks keeping only
those columns, so memory stays far below the size of a NetAffx file.
Gene-level steps refuse an annotation of another platform
(:func:`check_platform`).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import os
import re
import warnings
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd

from sigrestore.errors import ConfigError, FormatError
from sigrestore.textio import decompressed

__all__ = [
    "COLLAPSE_METHODS",
    "MIN_ANNOTATED_FRACTION",
    "annotate_table",
    "check_platform",
    "collapse_to_genes",
    "collapse_with_weights",
    "drop_controls",
    "gene_rows",
    "is_control_probe_set",
    "level_expression",
    "load_annotation",
    "read_annotation",
]

COLLAPSE_METHODS = ("max_mean", "max_iqr", "mean", "none")
#: Below this fraction of annotated non-control probe sets, the annotation is
#: taken to be of another platform (:func:`check_platform`).
MIN_ANNOTATED_FRACTION = 0.5
MULTI_SEP = " /// "
_MISSING = {"", "---", "NA", "na", "null", "NULL"}

# Normalized header (lower case, letters and digits only) -> output role.
_ROLES = {
    "probesetid": "id",
    "probeset": "id",
    "probesetname": "id",
    "probeid": "id",
    "id": "id",
    "genesymbol": "gene_symbol",
    "symbol": "gene_symbol",
    "entrezgene": "entrez_id",
    "entrezgeneid": "entrez_id",
    "entrezid": "entrez_id",
    "entrez": "entrez_id",
    "geneid": "entrez_id",
    "genetitle": "gene_title",
    "genename": "gene_title",
}


_ZIP_MAGIC = b"PK\x03\x04"
_CHUNK_ROWS = 2000  # rows parsed at a time: bounds memory whatever the column count


@contextlib.contextmanager
def _open_binary(path: Path) -> Iterator[tuple[BinaryIO, str]]:
    """The decompressed bytes of ``path`` as a stream, and a label for messages.

    gzip and zip (one member, as NetAffx distributes ``.csv.zip``) are
    detected from their magic bytes; nothing is read into memory at once.
    """
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
            fh.seek(0)
            if magic == _ZIP_MAGIC:
                with zipfile.ZipFile(fh) as zf:
                    member = _zip_member(zf, path)
                    with zf.open(member) as inner:
                        yield inner, f"{path} ({member.filename})"
            else:
                with decompressed(fh) as stream:
                    yield stream, str(path)
    except zipfile.BadZipFile as exc:
        raise FormatError(f"{path}: corrupt zip archive ({exc})") from None
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        raise FormatError(f"{path}: corrupt compressed data ({exc})") from None
    except OSError as exc:
        raise FormatError(f"{path}: cannot read annotation file ({exc.strerror})") from None


def _zip_member(zf: zipfile.ZipFile, path: Path) -> zipfile.ZipInfo:
    """The one file of a zip archive (folders and macOS metadata ignored)."""
    files = [
        info
        for info in zf.infolist()
        if not info.is_dir() and not info.filename.startswith("__MACOSX/")
    ]
    if len(files) != 1:
        names = [info.filename for info in files]
        raise FormatError(
            f"{path}: a zip archive must hold exactly one annotation file, found "
            f"{len(files)}: {names[:5]}; unzip it and give the annotation file itself"
        )
    return files[0]


def _decode(line: bytes) -> str:
    text = line.rstrip(b"\r\n")
    try:
        return text.decode("utf-8-sig")  # tolerate a byte-order mark
    except UnicodeDecodeError:
        return text.decode("latin-1")  # NetAffx files of some releases are Latin-1


@dataclass(frozen=True)
class _Layout:
    """Where the table of an annotation file is (file lines are 0-based here)."""

    kind: str  # "netaffx", "tsv" or "geo"
    header: int  # line of the table header
    header_text: str
    rows: int | None = None  # data rows (GEO tables end before the end marker)


def _scan(path: Path) -> tuple[_Layout, str]:
    """Stream the file once to find the table header (and a GEO table's end)."""
    with _open_binary(path) as (fh, label):
        first: tuple[int, str] | None = None
        begin: int | None = None
        rows = 0
        header_text = ""
        for number, raw in enumerate(fh):
            if begin is not None:
                # Inside a GEO platform table: count its rows up to the end marker.
                if raw.strip().lower() == b"!platform_table_end":
                    if number == begin + 1:
                        raise FormatError(f"{label}: the platform table is empty")
                    # ``rows`` counted the header line too.
                    return _Layout("geo", begin + 1, header_text, max(rows - 1, 0)), label
                if number == begin + 1:
                    header_text = _decode(raw)
                if raw.strip():  # pandas skips blank lines; they are not rows
                    rows += 1
                continue
            if first is None:
                if not raw.strip() or raw.startswith((b"#", b"\xef\xbb\xbf#")):
                    continue
                first = (number, _decode(raw))
                if not first[1].startswith(("^", "!")):
                    break
            if raw.strip().lower() == b"!platform_table_begin":
                begin = number
    if begin is not None:
        if rows == 0:
            raise FormatError(f"{label}: the platform table is empty")
        raise FormatError(f"{label}: '!platform_table_begin' without '!platform_table_end'")
    if first is None:
        raise FormatError(f"{label}: no table found (empty file or only comment lines)")
    skip, header = first
    if header.startswith(("^", "!")):
        raise FormatError(f"{label}: GEO file without a '!platform_table_begin' table")
    if "probe set id" in header.lower() and "," in header:
        return _Layout("netaffx", skip, header), label
    if "\t" in header:
        return _Layout("tsv", skip, header), label
    raise FormatError(
        f"{label}: line {skip + 1}: not a NetAffx CSV (no 'Probe Set ID' column), a GEO "
        "platform table or a tab-separated table"
    )


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.strip().strip('"').lower())


def _assign_roles(
    columns: list[str],
    path: str,
    *,
    id_fallback: bool,
    extra_roles: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Map output role -> input column (first match wins).

    ``extra_roles`` (normalized header -> role) fill only roles that no
    standard column name provides.
    """
    roles: dict[str, str] = {}
    for table in (_ROLES, extra_roles or {}):
        found: dict[str, str] = {}
        for col in columns:
            role = table.get(_norm(col))
            if role and role not in roles and role not in found:
                found[role] = col
        roles.update(found)
    if "id" not in roles and id_fallback and columns:
        roles["id"] = columns[0]
    if "id" not in roles:
        raise FormatError(f"{path}: no probe-set id column among {columns}")
    if "gene_symbol" not in roles:
        raise FormatError(f"{path}: no gene symbol column among {columns}")
    return roles


def _clean(values: pd.Series) -> pd.Series:
    """Strip, map missing markers to NaN and normalize ``///`` separators."""
    text = values.astype("string").str.strip()
    text = text.where(~text.isin(_MISSING) & text.notna())
    text = text.str.replace(r"\s*///\s*", MULTI_SEP, regex=True)
    return text.astype(object).where(text.notna(), np.nan)


def _frame(table: pd.DataFrame, path: str, first_line: int) -> pd.DataFrame:
    """Normalize a table with role-named columns (:func:`_parse`).

    ``first_line`` is the file line of data row 0.
    """
    ids = table["id"].astype("string").str.strip()
    bad = ids.isna() | (ids == "")
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise FormatError(f"{path}: line {first_line + row}: empty probe-set id")
    dup = ids.duplicated().to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise FormatError(
            f"{path}: line {first_line + row}: probe-set id {ids.iloc[row]!r} appears twice"
        )
    out = pd.DataFrame(index=pd.Index(ids.astype(str).to_numpy(), name="probe_set_id"))
    for role in ("gene_symbol", "entrez_id", "gene_title"):
        if role in table.columns:
            out[role] = _clean(table[role]).to_numpy()
        else:
            out[role] = np.nan
    return out


def _header_columns(layout: _Layout) -> list[str]:
    """Column names of the header line, split as pandas will split it."""
    if layout.kind == "netaffx":
        return next(csv.reader([layout.header_text], delimiter=",", quotechar='"'))
    return layout.header_text.split("\t")


def _parse(
    path: Path,
    layout: _Layout,
    label: str,
    encoding: str,
    extra_roles: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """The needed columns of the table, parsed a chunk of rows at a time.

    Every column is tokenized (so a row with too many fields is still an error
    naming its line) but only the id, symbol, Entrez and title columns are
    kept, by position and renamed to their roles: a NetAffx CSV has ~40 long
    text columns.
    """
    names = _header_columns(layout)
    roles = _assign_roles(names, label, id_fallback=layout.kind == "tsv", extra_roles=extra_roles)
    wanted = [r for r in ("id", "gene_symbol", "entrez_id", "gene_title") if r in roles]
    keep = [names.index(roles[r]) for r in wanted]
    if layout.kind == "netaffx":
        style = {"sep": ",", "quotechar": '"'}
    else:
        style = {"sep": "\t", "quoting": csv.QUOTE_NONE}
    with _open_binary(path) as (fh, _):
        try:
            reader = pd.read_csv(
                fh,
                skiprows=layout.header,
                nrows=layout.rows,
                dtype=str,
                keep_default_na=False,
                na_filter=False,
                encoding=encoding,
                chunksize=_CHUNK_ROWS,
                **style,
            )
            chunks = [chunk.iloc[:, keep].set_axis(wanted, axis=1) for chunk in reader]
        except UnicodeDecodeError:
            raise
        except (pd.errors.ParserError, ValueError) as exc:
            # pandas numbers lines from the start of the file (skipped ones included).
            raise FormatError(
                f"{label}: cannot parse annotation table: {str(exc).strip()}"
            ) from None
    if not chunks:  # header only
        return pd.DataFrame({r: pd.Series(dtype=object) for r in wanted})
    return pd.concat(chunks, ignore_index=True)


def read_annotation(
    path: str | os.PathLike[str], *, extra_roles: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Read a probe-set annotation file (NetAffx CSV, GEO GPL annot/SOFT, or TSV).

    Parameters
    ----------
    path
        The file, optionally gzip-compressed or alone in a zip archive; the
        layout is detected from content.
    extra_roles
        Further column names (normalized: lower case, letters and digits
        only) -> role (``id``, ``gene_symbol``, ``entrez_id``, ``gene_title``),
        used only for roles no standard column provides (e.g. Agilent's
        ``GENE`` column of Entrez ids in GEO platform tables).

    Returns
    -------
    pandas.DataFrame
        Index ``probe_set_id``; columns ``gene_symbol``, ``entrez_id``,
        ``gene_title``.

    Raises
    ------
    FormatError
        Unknown layout, no id or symbol column, an empty or repeated probe-set
        id, a malformed row (the message names the file and line), a corrupt
        archive, or a zip archive holding several files.
    """
    path = Path(path)
    layout, label = _scan(path)
    try:
        table = _parse(path, layout, label, "utf-8-sig", extra_roles)  # tolerate a BOM
    except UnicodeDecodeError:
        # Some NetAffx releases are Latin-1.
        table = _parse(path, layout, label, "latin-1", extra_roles)
    frame = _frame(table, label, layout.header + 2)
    frame.attrs["source"] = label  # named by the platform-mismatch check
    return frame


def is_control_probe_set(ids: pd.Index) -> np.ndarray:
    """Affymetrix control probe sets (ids starting with ``AFFX``)."""
    return np.asarray(pd.Index(ids).astype(str).str.upper().str.startswith("AFFX"), dtype=bool)


def check_platform(
    ids: pd.Index, annotation: pd.DataFrame, *, min_fraction: float = MIN_ANNOTATED_FRACTION
) -> float:
    """Fraction of the non-control probe sets ``ids`` found in ``annotation``.

    An annotation of another array type shares few probe-set ids with the
    expression matrix; without this check every gene-level result would
    silently be empty or nearly so.

    Raises
    ------
    FormatError
        Fewer than ``min_fraction`` of the non-``AFFX`` ids are annotated (the
        message gives the fraction and the annotation's source file when known).
    """
    ids = pd.Index(ids).astype(str)
    probes = ids[~is_control_probe_set(ids)]
    if probes.empty:
        return 1.0
    found = float(probes.isin(annotation.index.astype(str)).mean())
    if found < min_fraction:
        source = annotation.attrs.get("source")
        named = f"the annotation {source}" if source else "the annotation"
        example = ", ".join(repr(x) for x in probes[:3])
        raise FormatError(
            f"only {found:.1%} of the expression matrix's {len(probes)} non-control probe "
            f"sets (e.g. {example}) are in {named} ({len(annotation)} probe sets): it is "
            f"probably for another array type; give the annotation of the arrays' platform"
        )
    return found


def collapse_to_genes(
    expr: pd.DataFrame, annotation: pd.DataFrame, *, method: str = "max_mean"
) -> pd.DataFrame:
    """Probe-set matrix -> gene matrix.

    Probe sets excluded from gene-level results: Affymetrix controls (``AFFX``
    ids), probe sets absent from the annotation or without a gene symbol, and
    probe sets annotated to several genes (``A /// B``: their signal cannot be
    attributed to one gene).

    Parameters
    ----------
    expr
        Probe sets x arrays (log2), unique index.
    annotation
        From :func:`read_annotation`.
    method
        ``"max_mean"``: per gene, the probe set with the highest mean;
        ``"max_iqr"``: the one with the highest interquartile range (R's
        default quantile definition); ``"mean"``: the mean of the gene's probe
        sets (log scale); ``"none"``: no collapse, ``expr`` is returned as is
        (probe-set level).  Ties go to the probe set listed first.

    Returns
    -------
    pandas.DataFrame
        Genes x arrays, index ``gene_symbol`` sorted, columns as in ``expr``.

    Raises
    ------
    FormatError
        Repeated probe-set ids, no ``gene_symbol`` column, or fewer than half
        of the non-control probe sets are annotated (an annotation of another
        platform, see :func:`check_platform`).
    """
    if method not in COLLAPSE_METHODS:
        raise ConfigError(f"collapse method {method!r} is not one of {list(COLLAPSE_METHODS)}")
    if method == "none":
        return expr.copy()
    if method == "mean":
        values, genes, _ = _gene_rows_of(expr, annotation)
        frame = pd.DataFrame(values).groupby(genes, sort=True).mean()
        frame.columns = expr.columns
        frame.index.name = "gene_symbol"
        return frame
    rows = gene_rows(expr, annotation, method=method)
    frame = expr.loc[rows.to_numpy()].astype(float)
    frame.index = rows.index
    return frame


def _gene_rows_of(
    expr: pd.DataFrame, annotation: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Values, gene symbols and labels of the rows that can enter a gene-level result."""
    if not expr.index.is_unique:
        raise FormatError("the expression matrix has repeated probe-set ids")
    if "gene_symbol" not in annotation.columns:
        raise FormatError("the annotation has no 'gene_symbol' column")
    check_platform(expr.index, annotation)
    symbol = annotation["gene_symbol"].reindex(expr.index)
    text = symbol.astype(str).str.strip()
    # An empty symbol (count tables write "" for unnamed genes) is no symbol.
    keep = (
        symbol.notna().to_numpy()
        & (text != "").to_numpy()
        & ~text.str.contains("///", regex=False).to_numpy()
        & ~is_control_probe_set(expr.index)
    )
    genes = text.to_numpy()[keep].astype(str)
    return expr.to_numpy(dtype=float)[keep], genes, expr.index[keep]


def gene_rows(
    expr: pd.DataFrame, annotation: pd.DataFrame, *, method: str = "max_mean"
) -> pd.Series:
    """The one row of ``expr`` that represents each gene (``max_mean`` or ``max_iqr``).

    The selection rules of :func:`collapse_to_genes`; a weighted source (the
    count source's voom weights) needs the chosen rows themselves, so that
    the weights, the counts of the bootstrap's voom refits and the values stay
    those of one feature per gene.

    Returns
    -------
    pandas.Series
        Index ``gene_symbol`` (sorted), values: the chosen row label of ``expr``.

    Raises
    ------
    ConfigError
        ``method`` is not a row selection (``mean`` and ``none`` are not).
    FormatError
        As :func:`collapse_to_genes`.
    """
    if method not in ("max_mean", "max_iqr"):
        raise ConfigError(
            f"collapse method {method!r} does not choose one row per gene; use max_mean or max_iqr"
        )
    values, genes, labels = _gene_rows_of(expr, annotation)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-missing rows give NaN
        if method == "max_mean":
            stat = np.nanmean(values, axis=1)
        else:
            q75, q25 = np.nanpercentile(values, [75, 25], axis=1)
            stat = q75 - q25
    scored = pd.Series(stat).dropna()
    best = scored.groupby(genes[scored.index.to_numpy()], sort=True).idxmax()
    rows = pd.Series(np.asarray(labels)[best.to_numpy()], index=best.index, name="row")
    rows.index.name = "gene_symbol"
    return rows


def collapse_with_weights(
    expr: pd.DataFrame,
    weights: pd.DataFrame,
    annotation: pd.DataFrame,
    *,
    method: str = "max_mean",
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Gene matrix and its observation weights: one chosen row per gene, weights alongside.

    With voom's weights (the count source) the chosen row is the gene's
    feature with the highest mean log-CPM (``max_mean``; or ``max_iqr``):
    its weights row goes with it unchanged.  Averaging rows (``mean``) would
    leave no weights that belong to the averaged values, so it is refused.

    Parameters
    ----------
    expr
        Features x samples (voom's log-CPM), unique index.
    weights
        Observation weights with (at least) ``expr``'s rows and columns.
    annotation
        ``gene_symbol`` per feature.
    method
        ``max_mean`` or ``max_iqr``.

    Returns
    -------
    genes, gene_weights, rows
        Genes x samples values and weights (index ``gene_symbol``, sorted,
        columns as ``expr``) and the chosen row per gene (:func:`gene_rows`).
    """
    rows = gene_rows(expr, annotation, method=method)
    missing = pd.Index(rows.to_numpy()).difference(weights.index)
    if len(missing):
        raise ConfigError(
            f"observation weights: {len(missing)} feature(s) have none (e.g. {list(missing[:3])})"
        )
    genes = expr.loc[rows.to_numpy()].astype(float)
    genes.index = rows.index
    gene_weights = weights.loc[rows.to_numpy(), list(expr.columns)].astype(float)
    gene_weights.index = rows.index
    return genes, gene_weights, rows


def annotate_table(
    table: pd.DataFrame, annotation: pd.DataFrame, *, expression_index: pd.Index | None = None
) -> pd.DataFrame:
    """Add ``gene_symbol`` and ``entrez_id`` columns (first) to a table indexed by probe set.

    Probe sets missing from the annotation get NaN.  With ``expression_index``
    (the probe sets of the whole expression matrix, not of a filtered table),
    the annotation is first checked to be of the same platform
    (:func:`check_platform`, FormatError otherwise).
    """
    missing = {"gene_symbol", "entrez_id"} - set(annotation.columns)
    if missing:
        raise FormatError(f"the annotation lacks column(s) {sorted(missing)}")
    if expression_index is not None:
        check_platform(expression_index, annotation)
    out = table.drop(columns=["gene_symbol", "entrez_id"], errors="ignore").copy()
    ann = annotation[["gene_symbol", "entrez_id"]].reindex(out.index)
    out.insert(0, "entrez_id", ann["entrez_id"].to_numpy())
    out.insert(0, "gene_symbol", ann["gene_symbol"].to_numpy())
    return out


# --------------------------------------------------------------------------- levels

AnnotationLike = pd.DataFrame | str | os.PathLike[str] | None


def load_annotation(annotation: AnnotationLike) -> pd.DataFrame | None:
    """An annotation frame from a frame, a file path, or nothing (None or ``""``)."""
    if annotation is None or isinstance(annotation, pd.DataFrame):
        return annotation
    if not str(annotation):
        return None
    return read_annotation(annotation)


def drop_controls(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` without its AFFX- control probe sets (rows)."""
    return table.loc[~is_control_probe_set(table.index)]


def level_expression(
    expression: pd.DataFrame,
    *,
    level: str,
    annotation: AnnotationLike = None,
    collapse: str = "max_mean",
) -> pd.DataFrame:
    """The expression matrix at ``level``: gene-collapsed (``"gene"``) or as is (``"probeset"``)."""
    if level == "probeset":
        return expression
    if level != "gene":
        raise ConfigError(f"level must be 'gene' or 'probeset', got {level!r}")
    frame = load_annotation(annotation)
    if frame is None:
        raise ConfigError("level 'gene' needs an annotation (platform.annotation)")
    if collapse == "none":
        raise ConfigError("level 'gene' needs a collapse method other than 'none'")
    return collapse_to_genes(expression, frame, method=collapse)
