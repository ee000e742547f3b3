"""Probe-set annotation: read the files users have, collapse probe sets to genes.

Three layouts are recognized from their content (gzip-compressed or not):

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
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from sigrestore.errors import ConfigError, FormatError

__all__ = [
    "COLLAPSE_METHODS",
    "annotate_table",
    "collapse_to_genes",
    "is_control_probe_set",
    "read_annotation",
]

COLLAPSE_METHODS = ("max_mean", "max_iqr", "mean", "none")
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


def _open_text(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"{path}: cannot read annotation file ({exc.strerror})") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise FormatError(f"{path}: corrupt gzip data ({exc})") from None
    try:
        text = raw.decode("utf-8-sig")  # tolerate a byte-order mark
    except UnicodeDecodeError:
        text = raw.decode("latin-1")  # NetAffx files of some releases are Latin-1
    return text.splitlines()


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.strip().strip('"').lower())


def _assign_roles(columns: list[str], path: Path, *, id_fallback: bool) -> dict[str, str]:
    """Map output role -> input column (first match wins)."""
    roles: dict[str, str] = {}
    for col in columns:
        role = _ROLES.get(_norm(col))
        if role and role not in roles:
            roles[role] = col
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


def _frame(table: pd.DataFrame, path: Path, first_line: int, *, id_fallback: bool) -> pd.DataFrame:
    """Normalize a parsed table; ``first_line`` is the file line of data row 0."""
    roles = _assign_roles(list(table.columns), path, id_fallback=id_fallback)
    ids = table[roles["id"]].astype("string").str.strip()
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
        if role in roles:
            out[role] = _clean(table[roles[role]]).to_numpy()
        else:
            out[role] = np.nan
    return out


def _parse(block: list[str], path: Path, first_line: int, **kwargs) -> pd.DataFrame:
    try:
        return pd.read_csv(
            io.StringIO("\n".join(block)),
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            **kwargs,
        )
    except (pd.errors.ParserError, ValueError) as exc:
        # pandas counts lines from the start of the block it was given.
        msg = re.sub(
            r"line (\d+)",
            lambda m: f"line {int(m.group(1)) + first_line - 1}",
            str(exc).strip(),
        )
        raise FormatError(f"{path}: cannot parse annotation table: {msg}") from None


def _read_geo(lines: list[str], path: Path) -> pd.DataFrame:
    low = [ln.strip().lower() for ln in lines]
    start = low.index("!platform_table_begin")
    try:
        end = low.index("!platform_table_end", start)
    except ValueError:
        raise FormatError(
            f"{path}: '!platform_table_begin' without '!platform_table_end'"
        ) from None
    block = lines[start + 1 : end]
    if not block:
        raise FormatError(f"{path}: the platform table is empty")
    table = _parse(block, path, start + 2, sep="\t", quoting=csv.QUOTE_NONE)
    return _frame(table, path, start + 3, id_fallback=False)


def read_annotation(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a probe-set annotation file (NetAffx CSV, GEO GPL annot/SOFT, or TSV).

    Parameters
    ----------
    path
        The file, optionally gzip-compressed; the layout is detected from content.

    Returns
    -------
    pandas.DataFrame
        Index ``probe_set_id``; columns ``gene_symbol``, ``entrez_id``,
        ``gene_title``.

    Raises
    ------
    FormatError
        Unknown layout, no id or symbol column, an empty or repeated probe-set
        id, or a malformed row (the message names the file and line).
    """
    path = Path(path)
    lines = _open_text(path)
    if any(ln.strip().lower() == "!platform_table_begin" for ln in lines):
        return _read_geo(lines, path)
    skip = 0
    while skip < len(lines) and (not lines[skip].strip() or lines[skip].startswith("#")):
        skip += 1
    if skip == len(lines):
        raise FormatError(f"{path}: no table found (empty file or only comment lines)")
    header = lines[skip]
    if lines[0].startswith(("^", "!")):
        raise FormatError(f"{path}: GEO file without a '!platform_table_begin' table")
    if "probe set id" in header.lower() and "," in header:
        table = _parse(lines[skip:], path, skip + 1, sep=",", quotechar='"')
        return _frame(table, path, skip + 2, id_fallback=False)
    if "\t" in header:
        table = _parse(lines[skip:], path, skip + 1, sep="\t", quoting=csv.QUOTE_NONE)
        return _frame(table, path, skip + 2, id_fallback=True)
    raise FormatError(
        f"{path}: line {skip + 1}: not a NetAffx CSV (no 'Probe Set ID' column), a GEO "
        "platform table or a tab-separated table"
    )


def is_control_probe_set(ids: pd.Index) -> np.ndarray:
    """Affymetrix control probe sets (ids starting with ``AFFX``)."""
    return np.asarray(pd.Index(ids).astype(str).str.upper().str.startswith("AFFX"), dtype=bool)


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
    """
    if method not in COLLAPSE_METHODS:
        raise ConfigError(f"collapse method {method!r} is not one of {list(COLLAPSE_METHODS)}")
    if method == "none":
        return expr.copy()
    if not expr.index.is_unique:
        raise FormatError("the expression matrix has repeated probe-set ids")
    if "gene_symbol" not in annotation.columns:
        raise FormatError("the annotation has no 'gene_symbol' column")
    symbol = annotation["gene_symbol"].reindex(expr.index)
    keep = (
        symbol.notna().to_numpy()
        & ~symbol.astype(str).str.contains("///", regex=False).to_numpy()
        & ~is_control_probe_set(expr.index)
    )
    values = expr.to_numpy(dtype=float)[keep]
    genes = symbol.to_numpy()[keep].astype(str)
    columns = expr.columns
    if method == "mean":
        frame = pd.DataFrame(values).groupby(genes, sort=True).mean()
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # all-missing rows give NaN
            if method == "max_mean":
                stat = np.nanmean(values, axis=1)
            else:
                q75, q25 = np.nanpercentile(values, [75, 25], axis=1)
                stat = q75 - q25
        scored = pd.Series(stat).dropna()
        best = scored.groupby(genes[scored.index.to_numpy()], sort=True).idxmax()
        frame = pd.DataFrame(values[best.to_numpy()], index=best.index)
    frame.columns = columns
    frame.index.name = "gene_symbol"
    return frame


def annotate_table(table: pd.DataFrame, annotation: pd.DataFrame) -> pd.DataFrame:
    """Add ``gene_symbol`` and ``entrez_id`` columns (first) to a table indexed by probe set.

    Probe sets missing from the annotation get NaN.
    """
    missing = {"gene_symbol", "entrez_id"} - set(annotation.columns)
    if missing:
        raise FormatError(f"the annotation lacks column(s) {sorted(missing)}")
    out = table.drop(columns=["gene_symbol", "entrez_id"], errors="ignore").copy()
    ann = annotation[["gene_symbol", "entrez_id"]].reindex(out.index)
    out.insert(0, "entrez_id", ann["entrez_id"].to_numpy())
    out.insert(0, "gene_symbol", ann["gene_symbol"].to_numpy())
    return out
