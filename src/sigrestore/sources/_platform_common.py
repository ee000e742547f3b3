"""Helpers shared by the sources: settings from a mapping or the config,
group sizes, sheet checks, symbol lookup, paths relative to the config."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from sigrestore.annotation import read_annotation
from sigrestore.errors import ConfigError

T = TypeVar("T")


def settings_from_mapping(cls: type[T], mapping: Mapping[str, Any] | None, key: str) -> T:
    """Build the frozen settings ``cls`` from a config mapping (``data.<kind>``).

    Unknown keys are a ConfigError naming ``key.<name>``; lists become tuples.
    """
    mapping = dict(mapping or {})
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(mapping) - names)
    if unknown:
        raise ConfigError(f"{key}.{unknown[0]}: unknown key (known: {', '.join(sorted(names))})")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in mapping.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{key}: {exc}") from exc


def settings_from_config(cls: type[T], config: Mapping[str, Any], kind: str) -> T:
    """``data.<kind>`` of the schema-checked config as ``cls`` (null keys: the defaults).

    ``group_columns`` null means the design's factors (``design.factors``).
    """
    from sigrestore.sources import drop_unset

    branch = drop_unset((config.get("data") or {}).get(kind))
    if "group_columns" not in branch:
        factors = (config.get("design") or {}).get("factors")
        if factors:
            branch["group_columns"] = list(factors)
    return settings_from_mapping(cls, branch, f"data.{kind}")


def resolve(path: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None) -> Path:
    """``path`` relative to ``base_dir`` unless absolute."""
    p = Path(path)
    return p if p.is_absolute() or base_dir is None else Path(base_dir) / p


def check_sheet(samples: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    """ConfigError when the sheet lacks a column or repeats a sample."""
    for col in ("sample", *columns):
        if col not in samples.columns:
            raise ConfigError(f"sample sheet: no column {col!r} (needed by the {what} source)")
    check_unique(samples["sample"], "sample")


def check_unique(values: pd.Series, what: str) -> None:
    """ConfigError naming the first sheet row whose ``what`` repeats an earlier one."""
    dup = values.astype(str).duplicated().to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise ConfigError(f"sample sheet, row {row + 1}: {what} {values.iat[row]!r} is repeated")


def min_arrays(samples: pd.DataFrame, given: int | None, groups: Sequence[str]) -> int:
    """``given``, or the size of the smallest group of the sheet's ``groups``
    columns combined (the whole sheet when none of them exist)."""
    if given is not None:
        if given < 0 or given > len(samples):
            raise ConfigError(f"min_arrays must be between 0 and {len(samples)}, got {given}")
        return int(given)
    cols = [c for c in groups if c in samples.columns]
    if not cols:
        return len(samples)
    return int(samples.groupby(cols, dropna=False).size().min())


def annotation_features(
    path: str | os.PathLike[str], base_dir: str | os.PathLike[str] | None, index: pd.Index
) -> pd.DataFrame:
    """``gene_symbol`` and ``entrez_id`` of the probes ``index`` from an annotation table."""
    table = read_annotation(resolve(path, base_dir))
    return table.reindex(index)[["gene_symbol", "entrez_id"]]


def clean_symbols(values: pd.Series) -> pd.Series:
    """Text symbols with blanks, ``NA`` and ``---`` as missing."""
    s = values.astype("string").str.strip()
    return s.mask(s.isin(["", "NA", "---", "nan"])).astype(object)
