"""Checks of a count table against the sample sheet, with messages naming file, column and row.

* :func:`match_samples`: every sheet row is matched to a table column by the
  sheet's ``column`` (the table's column name), else its ``file`` (a
  featureCounts column is the BAM path: matched exactly, by file name, or by
  file name without ``.bam``/``.sorted``/... suffixes), else its ``sample``
  (the column named like the sample).  Every sample without a column is
  listed in one error.
* :func:`check_counts`: the selected columns hold finite, non-negative
  numbers; integers unless the table holds estimated counts (salmon) or
  fractional values are allowed; no sample has library size 0; the table
  does not look normalised (every column summing to one million, as CPM or
  TPM do, or all values small and fractional, as log-scale values are).
"""

from __future__ import annotations

import logging
from pathlib import PurePath

import numpy as np
import pandas as pd

from sigrestore.counts.readers import CountTable
from sigrestore.errors import ConfigError, FormatError

__all__ = ["check_counts", "match_samples"]

log = logging.getLogger(__name__)

_BAM_SUFFIXES = (".bam", ".sorted", ".markdup", ".Aligned.sortedByCoord.out", ".Aligned.out")


def _stem(name: str) -> str:
    base = PurePath(name.replace("\\", "/")).name
    changed = True
    while changed:
        changed = False
        for suffix in _BAM_SUFFIXES:
            if base.endswith(suffix) and len(base) > len(suffix):
                base = base[: -len(suffix)]
                changed = True
    return base


def match_samples(
    table: CountTable, samples: pd.DataFrame, *, sheet_name: str = "sample sheet"
) -> list[str]:
    """The table column of every sheet row, in sheet order.

    Raises
    ------
    ConfigError
        The sheet has no ``sample`` column, two samples map to one column, or
        samples have no column in the table (all of them named).
    """
    if "sample" not in samples.columns:
        raise ConfigError(f"{sheet_name}: no 'sample' column")
    columns = [str(c) for c in table.data.columns]
    present = set(columns)
    by_name: dict[str, list[str]] = {}
    for c in columns:
        by_name.setdefault(PurePath(c.replace("\\", "/")).name, []).append(c)
    by_stem: dict[str, list[str]] = {}
    for c in columns:
        by_stem.setdefault(_stem(c), []).append(c)
    chosen, missing = [], []
    for i, row in enumerate(samples.to_dict("records")):
        sample = str(row["sample"])
        keys = []
        for key in ("column", "file"):
            value = row.get(key)
            if not pd.isna(value) and str(value).strip():
                keys.append((key, str(value).strip()))
        keys.append(("sample", sample))
        hit = None
        for key, value in keys:
            if value in present:
                hit = value
            elif key == "file":
                name = PurePath(value.replace("\\", "/")).name
                cands = by_name.get(name) or by_stem.get(_stem(value)) or []
                hit = cands[0] if len(cands) == 1 else None
            if hit is not None or key == "column":
                break  # an explicit column must exist as given
        if hit is None:
            missing.append(f"{sample} (row {i + 2}, {keys[0][0]} {keys[0][1]!r})")
        chosen.append(hit)
    if missing:
        raise ConfigError(
            f"{sheet_name}: {len(missing)} sample(s) have no column in {table.path}: "
            + "; ".join(missing)
            + f". Table columns: {columns[:8]}{' ...' if len(columns) > 8 else ''}"
        )
    dup = pd.Index(chosen)[pd.Index(chosen).duplicated()]
    if len(dup):
        raise ConfigError(f"{sheet_name}: several samples use table column {dup[0]!r}")
    return chosen


def _cell(table: CountTable, values: np.ndarray, bad: np.ndarray, columns: list[str]) -> str:
    r, c = np.argwhere(bad)[0]
    return (
        f"{table.path}, line {table.line_of(int(r))}, column {columns[c]!r} "
        f"(gene {table.data.index[r]!r}): {float(values[r, c])!r}"
    )


def check_counts(
    table: CountTable, columns: list[str], *, allow_fractional: bool = False
) -> np.ndarray:
    """The selected columns as a validated float64 genes x samples matrix.

    Raises
    ------
    FormatError
        A value is not a number, negative, not finite, or not an integer where
        integers are required; a column sums to 0; the table looks normalised
        or log-transformed (100 genes or more, mostly fractional, all below
        32).  The message names the file, line, column and gene.
    """
    sub = table.data.loc[:, columns]
    for col in columns:
        if not pd.api.types.is_numeric_dtype(sub[col]):
            parsed = pd.to_numeric(sub[col], errors="coerce")
            bad = parsed.isna() & sub[col].notna()
            r = int(np.flatnonzero(bad.to_numpy())[0])
            raise FormatError(
                f"{table.path}, line {table.line_of(r)}, column {col!r} "
                f"(gene {table.data.index[r]!r}): {sub[col].iat[r]!r} is not a number"
            )
    values = sub.to_numpy(dtype=float)
    bad = ~np.isfinite(values)
    if bad.any():
        raise FormatError(f"non-finite or missing count at {_cell(table, values, bad, columns)}")
    bad = values < 0
    if bad.any():
        raise FormatError(f"negative count at {_cell(table, values, bad, columns)}")
    fractional = values != np.round(values)
    sums = values.sum(axis=0)
    if len(columns) > 1 and np.all(np.abs(sums / 1e6 - 1) < 0.005):
        raise FormatError(
            f"{table.path}: every sample column sums to one million ({sums.min():.6g} to "
            f"{sums.max():.6g}): these look like CPM or TPM values, not counts; give the raw "
            "(or estimated) read counts (e.g. salmon.merged.gene_counts.tsv, not "
            "salmon.merged.gene_tpm.tsv)"
        )
    # log2 expression of a real table: thousands of genes, mostly fractional, none
    # above ~20 (counts of a whole table never stay that small)
    if values.shape[0] >= 100 and fractional.mean() > 0.5 and values.max() < 32:
        raise FormatError(
            f"{table.path}: all values are below 32 and fractional: this looks like "
            "log-transformed expression, not counts; give the raw read counts"
        )
    if fractional.any():
        if table.fractional_ok or allow_fractional:
            log.info(
                "%s: %d fractional count(s) accepted (estimated counts, e.g. salmon's or "
                "length-scaled tables); voom treats them as counts",
                table.path,
                int(fractional.sum()),
            )
        else:
            raise FormatError(
                f"non-integer count at {_cell(table, values, fractional, columns)}; only "
                "estimated-count tables (salmon, length-scaled) may hold fractions "
                "(set allow_fractional to accept them)"
            )
    zero = np.flatnonzero(sums == 0)
    if zero.size:
        raise FormatError(
            f"{table.path}: library size 0 (all counts zero) in column(s) "
            f"{[columns[k] for k in zero]}"
        )
    return values
