"""Agilent single-colour Feature Extraction files and limma's normalization of them.

Reader
------
:func:`read_fe_file` reads one Feature Extraction (FE) text file (gzipped or
not): the ``FEPARAMS`` and ``STATS`` sections (``TYPE`` / name / ``DATA``
line triples, each ended by ``*``) and the ``FEATURES`` table (a ``TYPE``
line, the column line starting with ``FEATURES``, one ``DATA`` line per
feature).  Only the columns needed are parsed (pandas' C reader, no quoting,
as limma's ``read.maimages(source = "agilent")`` reads them).

Normalization
-------------
:func:`normalize_agilent` is the limma single-colour recipe::

    x <- read.maimages(files, source = "agilent", green.only = TRUE,
                       other.columns = "gIsWellAboveBG")
    y <- backgroundCorrect(x, method = "normexp", offset = 16)   # saddle
    y <- normalizeBetweenArrays(y, method = "quantile")          # then log2
    keep <- y$genes$ControlType == 0 & rowSums(y$other$gIsWellAboveBG > 0) >= k
    y <- avereps(y[keep, ], ID = y$genes$ProbeName[keep])

``source = "agilent"`` uses ``gMedianSignal`` - ``gBGMedianSignal``;
``"agilent.mean"`` uses ``gMeanSignal`` - ``gBGMedianSignal``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sigrestore.errors import FormatError, SigrestoreError
from sigrestore.platforms._text import (
    QUOTE_NONE,
    check_signals,
    find_header,
    numeric_columns,
    read_table,
)
from sigrestore.platforms.normalize import avereps, normalize_quantiles
from sigrestore.platforms.normexp import NormexpFit, normexp_fit_saddle, normexp_signal

__all__ = ["AgilentResult", "FeFile", "normalize_agilent", "read_fe_file", "read_fe_files"]

SIGNAL_COLUMNS = {"median": "gMedianSignal", "mean": "gMeanSignal"}
BACKGROUND_COLUMN = "gBGMedianSignal"
FLAG_COLUMNS = ("gIsWellAboveBG", "gIsSaturated", "gIsFeatNonUnifOL")
ANNOTATION_COLUMNS = ("ControlType", "ProbeName", "GeneName", "SystematicName")


@dataclass(frozen=True)
class FeFile:
    """One FE file.

    Attributes
    ----------
    path
        The file.
    params
        ``FEPARAMS`` name -> value (``Grid_Name`` is the array design).
    annotation
        ``ProbeName``, ``ControlType`` (int) and, when present, ``GeneName``,
        ``SystematicName``, one row per feature in file order.
    foreground, background
        Green foreground (median or mean) and ``gBGMedianSignal``, float64.
    flags
        Flag columns present (``gIsWellAboveBG`` ...), int8, by column name.
    first_line
        1-based line of the first feature (for messages).
    """

    path: Path
    params: dict[str, str]
    annotation: pd.DataFrame
    foreground: np.ndarray
    background: np.ndarray
    flags: dict[str, np.ndarray] = field(default_factory=dict)
    first_line: int = 0

    @property
    def design(self) -> str | None:
        """The array design (``Grid_Name``), when the file names it."""
        return self.params.get("Grid_Name")


def _is_features_line(fields: list[str]) -> bool:
    return bool(fields) and fields[0] == "FEATURES"


def read_fe_file(
    path: str | os.PathLike[str], *, signal: str = "median", annotation: bool = True
) -> FeFile:
    """Read one Agilent Feature Extraction text file.

    Parameters
    ----------
    path
        FE text file, optionally gzipped.
    signal
        ``"median"`` (``gMedianSignal``, limma's ``source = "agilent"``) or
        ``"mean"`` (``gMeanSignal``, ``"agilent.mean"``).
    annotation
        Also read ``GeneName`` and ``SystematicName`` (only the first file of
        a set needs them: the feature lists are checked to be identical).

    Raises
    ------
    FormatError
        No ``FEATURES`` section, a missing column, a row that is not a
        ``DATA`` row, a value that is not a number (line and column named),
        missing, non-finite or negative intensities (counted).
    """
    path = Path(path)
    if signal not in SIGNAL_COLUMNS:
        raise SigrestoreError(f"signal must be 'median' or 'mean', got {signal!r}")
    try:
        line0, fields, before = find_header(path, _is_features_line)
    except FormatError:
        raise FormatError(
            f"{path}: no FEATURES section (not an Agilent Feature Extraction text file)"
        ) from None
    params = _section(before, "FEPARAMS")
    fg_col = SIGNAL_COLUMNS[signal]
    needed = ["FEATURES", *ANNOTATION_COLUMNS[:2], fg_col, BACKGROUND_COLUMN]
    missing = [c for c in needed if c not in fields]
    if missing:
        raise FormatError(f"{path}, line {line0 + 1}: FEATURES has no column {missing[0]!r}")
    extra = (*ANNOTATION_COLUMNS[2:], *FLAG_COLUMNS) if annotation else FLAG_COLUMNS
    optional = [c for c in extra if c in fields]
    table = read_table(
        path,
        line0,
        fields,
        needed + optional,
        quoting=QUOTE_NONE,
        numeric=[
            "ControlType",
            fg_col,
            BACKGROUND_COLUMN,
            *(c for c in FLAG_COLUMNS if c in optional),
        ],
    )
    first_line = line0 + 2
    tag = table["FEATURES"].to_numpy()
    not_data = tag != "DATA"
    if not_data.any():
        # A closing "*" after the last feature is tolerated; anything else is not.
        trailing = np.flatnonzero(not_data)
        if trailing.size == 1 and trailing[0] == len(tag) - 1 and tag[-1].strip() == "*":
            table = table.iloc[:-1]
        else:
            row = int(trailing[0])
            raise FormatError(
                f"{path}, line {first_line + row}: expected a DATA row in FEATURES, got"
                f" {tag[row]!r}"
            )
    values = numeric_columns(
        table, [fg_col, BACKGROUND_COLUMN, "ControlType"], path=path, first_line=first_line
    )
    check_signals(
        values[:, :2],
        [fg_col, BACKGROUND_COLUMN],
        path=path,
        first_line=first_line,
        allow_negative=False,
        what="intensity",
    )
    bad_type = ~np.isin(values[:, 2], (-1.0, 0.0, 1.0))
    if bad_type.any():
        row = int(np.flatnonzero(bad_type)[0])
        raise FormatError(
            f"{path}, line {first_line + row}, column 'ControlType': {values[row, 2]!r}"
            " is not -1, 0 or 1"
        )
    flag_cols = [c for c in FLAG_COLUMNS if c in optional]
    flags = {}
    if flag_cols:
        fv = numeric_columns(table, flag_cols, path=path, first_line=first_line)
        flags = {c: np.nan_to_num(fv[:, k]).astype(np.int8) for k, c in enumerate(flag_cols)}
    ann = table[[c for c in ANNOTATION_COLUMNS if c in table.columns]].reset_index(drop=True)
    ann = ann.assign(ControlType=values[:, 2].astype(np.int64))
    return FeFile(path, params, ann, values[:, 0], values[:, 1], flags, first_line)


def _section(lines: list[list[str]], name: str) -> dict[str, str]:
    for k, fields in enumerate(lines):
        if fields and fields[0] == name and k + 1 < len(lines):
            values = lines[k + 1]
            return dict(zip(fields[1:], values[1:], strict=False))
    return {}


def read_fe_files(
    paths: Sequence[str | os.PathLike[str]], *, signal: str = "median"
) -> list[FeFile]:
    """Read FE files of one design; check they are the same design and probe list.

    Raises
    ------
    FormatError
        Files of different array designs (mixed platforms) or different
        feature lists (the first differing feature and probe named).
    """
    files: list[FeFile] = []
    for p in paths:
        f = read_fe_file(p, signal=signal, annotation=not files)
        if files:
            _check_same_layout(files[0], f)
        files.append(f)
    return files


def _check_same_layout(first: FeFile, other: FeFile) -> None:
    if first.design and other.design and first.design != other.design:
        raise FormatError(
            f"mixed platforms: {first.path} is design {first.design!r},"
            f" {other.path} is {other.design!r}"
        )
    a = first.annotation["ProbeName"].to_numpy()
    b = other.annotation["ProbeName"].to_numpy()
    if a.size != b.size or not np.array_equal(a, b):
        n = min(a.size, b.size)
        diff = np.flatnonzero(a[:n] != b[:n])
        k = int(diff[0]) if diff.size else n
        want = a[k] if k < a.size else "(no feature)"
        got = b[k] if k < b.size else "(no feature)"
        raise FormatError(
            f"{other.path}, line {other.first_line + k}: feature {k + 1} is probe {got!r},"
            f" {first.path} has {want!r} ({b.size} vs {a.size} features)"
        )


@dataclass(frozen=True)
class AgilentResult:
    """Output of :func:`normalize_agilent`.

    Attributes
    ----------
    expression
        Probes (averaged replicate features, by ``ProbeName``) x arrays, log2.
    features
        Per probe: ``GeneName``, ``SystematicName`` of its first feature.
    parameters
        Arrays x (``mu``, ``log_sigma``, ``log_alpha``, ``m2loglik``, ``fncount``).
    normalized
        All features x arrays, log2, before filtering and averaging.
    n_features, n_controls, n_filtered
        Features read, control features dropped, regular features dropped by
        the ``gIsWellAboveBG`` filter.
    """

    expression: pd.DataFrame
    features: pd.DataFrame
    parameters: pd.DataFrame
    normalized: pd.DataFrame
    n_features: int
    n_controls: int
    n_filtered: int


def normalize_agilent(
    files: Sequence[FeFile],
    names: Sequence[str],
    *,
    offset: float = 16.0,
    well_above_min_arrays: int | None = None,
    threads: int = 1,
) -> AgilentResult:
    """normexp (saddle) + offset, quantile, log2, controls dropped,
    ``gIsWellAboveBG`` filter, replicate features averaged.

    Parameters
    ----------
    files
        One :class:`FeFile` per array (same layout).
    names
        Array (sample) names, in the order of ``files``.
    offset
        Added after background correction (limma: 16).
    well_above_min_arrays
        Keep regular features well above background on at least this many
        arrays; None or 0 keeps every regular feature.
    threads
        Arrays fitted at the same time (numpy releases the GIL inside the
        likelihood); results do not depend on it.
    """
    if len(files) != len(names):
        raise SigrestoreError(f"{len(files)} FE files for {len(names)} names")
    if well_above_min_arrays:
        # Every file, before the normexp fits: the column is optional in FE
        # output and a later file may lack it.
        for f in files:
            if "gIsWellAboveBG" not in f.flags:
                raise FormatError(
                    f"{f.path}: no column 'gIsWellAboveBG' to filter on (the"
                    " well-above-background filter needs it in every FE file)"
                )
    x = np.column_stack([f.foreground - f.background for f in files])
    # One small Nelder-Mead search per array; the likelihood is vectorized over features.
    columns = [np.ascontiguousarray(x[:, j]) for j in range(x.shape[1])]
    if threads > 1:
        with ThreadPoolExecutor(max_workers=threads) as pool:
            fits: list[NormexpFit] = list(pool.map(normexp_fit_saddle, columns))
    else:
        fits = [normexp_fit_saddle(c) for c in columns]
    par = np.array([f.par for f in fits])
    corrected = normexp_signal(par, x) + offset
    logged = np.log2(normalize_quantiles(corrected))
    ann = files[0].annotation
    normalized = pd.DataFrame(logged, columns=list(names))
    regular = (ann["ControlType"] == 0).to_numpy()
    keep = regular.copy()
    if well_above_min_arrays:
        above = np.column_stack([f.flags["gIsWellAboveBG"] > 0 for f in files])
        keep &= above.sum(axis=1) >= well_above_min_arrays
    probe = ann["ProbeName"].to_numpy()[keep]
    expression = avereps(normalized.loc[keep], probe)
    expression.index.name = "probe"
    info = ann.loc[keep].drop_duplicates("ProbeName").set_index("ProbeName")
    features = info.reindex(expression.index).drop(columns=["ControlType"])
    parameters = pd.DataFrame(
        {
            "mu": par[:, 0],
            "log_sigma": par[:, 1],
            "log_alpha": par[:, 2],
            "m2loglik": [f.m2loglik for f in fits],
            "fncount": [f.fncount for f in fits],
        },
        index=pd.Index(list(names), name="array"),
    )
    return AgilentResult(
        expression,
        features,
        parameters,
        normalized,
        len(ann),
        int((~regular).sum()),
        int(regular.sum() - keep.sum()),
    )
