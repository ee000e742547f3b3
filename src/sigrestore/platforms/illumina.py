"""Illumina BeadChip probe profiles (GenomeStudio exports) and limma's ``neqc``.

Readers
-------
:func:`read_probe_profile` reads a GenomeStudio *Sample Probe Profile* or
*Control Probe Profile* text export (tab-separated, gzipped or not), as GEO
keeps them as ``..._non-normalized.txt(.gz)`` supplementary files:

* an optional header block (``Illumina Inc. GenomeStudio ...``,
  ``Array Content = ...``) above the column line;
* a probe id column (``PROBE_ID``, ``ID_REF``, ``ProbeID``, ``Probe_Id``);
* per array either ``<name>.AVG_Signal`` with ``<name>.Detection Pval``
  (GenomeStudio) or the GEO layout ``<name>`` followed by its
  ``Detection Pval`` column; ``BEAD_STDERR`` and ``Avg_NBEADS`` are ignored;
* annotation columns when present (``SYMBOL``, ``ILMN_Gene``, ``TargetID``,
  ``ENTREZ_GENE_ID``, ``ACCESSION``).

Normalization
-------------
:func:`neqc` is limma's ``neqc``: normexp background correction with
parameters from the negative controls (:func:`~sigrestore.platforms.normexp.normexp_fit_control`),
or from the detection p-values when there are none
(:func:`~sigrestore.platforms.normexp.normexp_fit_detection_p`, limma's
``nec`` fallback), plus an offset (16), quantile normalization of regular
and control probes together, log2, and removal of the control probes.
"""

from __future__ import annotations

import os
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sigrestore.errors import FormatError
from sigrestore.platforms._text import (
    QUOTE_MINIMAL,
    check_signals,
    column_key,
    find_header,
    numeric_columns,
    read_table,
)
from sigrestore.platforms.normalize import normalize_quantiles
from sigrestore.platforms.normexp import (
    normexp_fit_control,
    normexp_fit_detection_p,
    normexp_signal,
)

__all__ = [
    "NeqcResult",
    "ProbeProfile",
    "combine_profiles",
    "detection_filter",
    "negative_controls",
    "neqc",
    "read_probe_profile",
]

ID_COLUMNS = ("PROBE_ID", "ID_REF", "PROBEID", "PROBE ID", "ILMN_ID")
ANNOTATION_COLUMNS = ("SYMBOL", "ILMN_GENE", "TARGETID", "ENTREZ_GENE_ID", "ACCESSION")
_SIGNAL = re.compile(r"^(?P<name>.*?)[._ -]*AVG_Signal$", re.IGNORECASE)
_DETECTION = re.compile(
    r"^(?P<name>.*?)[._ -]*Detection(?:[ ._-]*p[-_ ]?val(?:ue)?)?$", re.IGNORECASE
)
_GEO_DETECTION = re.compile(r"^Detection(?:[ ._-]*p[-_ ]?val(?:ue)?)?(?:\.\d+)?$", re.IGNORECASE)
_IGNORED = re.compile(r"(BEAD_STDERR|Avg_NBEADS|NBEADS|STDERR|ARRAY_STDEV)$", re.IGNORECASE)


@dataclass(frozen=True)
class ProbeProfile:
    """One probe-profile file.

    Attributes
    ----------
    path
        The file.
    ids
        Probe ids in file order (unique).
    signal
        Probes x arrays ``AVG_Signal`` (float64), columns the array names.
    detection
        Detection p-values of the same shape, or None when the file has none.
    annotation
        Annotation columns present in the file (indexed by probe id).
    header
        ``key = value`` pairs of the header block (``Array Content`` ...).
    first_line
        1-based file line of the first probe (for messages).
    signal_columns
        Array name -> its column name in the file.
    """

    path: Path
    ids: pd.Index
    signal: pd.DataFrame
    detection: pd.DataFrame | None
    annotation: pd.DataFrame
    header: dict[str, str] = field(default_factory=dict)
    first_line: int = 2
    signal_columns: dict[str, str] = field(default_factory=dict)

    @property
    def platform(self) -> str | None:
        """``Array Content`` of the header block (the BeadChip's manifest), if given."""
        return self.header.get("Array Content")

    def check_signals(self, arrays: Sequence[str], *, allow_negative: bool) -> None:
        """FormatError counting missing / non-finite (and, unless allowed,
        negative) AVG_Signal values of ``arrays``, the first one's line and
        column named."""
        check_signals(
            self.signal[list(arrays)].to_numpy(),
            [self.signal_columns.get(a, a) for a in arrays],
            path=self.path,
            first_line=self.first_line,
            allow_negative=allow_negative,
            what="AVG_Signal",
        )


def _is_column_line(fields: list[str]) -> bool:
    upper = {f.strip().strip('"').upper() for f in fields}
    if upper & set(ID_COLUMNS) and len(fields) > 1:
        return True
    return any(_SIGNAL.match(f.strip().strip('"')) for f in fields)


def read_probe_profile(
    path: str | os.PathLike[str], *, arrays: Sequence[str] | None = None
) -> ProbeProfile:
    """Read a GenomeStudio sample or control probe profile.

    Parameters
    ----------
    path
        Tab-separated export, optionally gzipped.
    arrays
        Array names to read (as they appear in the column names); all when None.

    Returns
    -------
    ProbeProfile

    Raises
    ------
    FormatError
        No column line, no probe id column, duplicate probe ids, a requested
        array without its ``AVG_Signal`` column, or a value that is not a
        number (file, line and column named).
    """
    path = Path(path)
    line0, fields, before = find_header(path, _is_column_line)
    names = [f.strip().strip('"') for f in fields]
    header: dict[str, str] = {}
    for row in before:
        text = "\t".join(row)
        if "=" in text:
            key, _, value = text.partition("=")
            header[key.strip()] = value.strip()
    upper = [n.upper() for n in names]
    id_col = next((names[upper.index(c)] for c in ID_COLUMNS if c in upper), None)
    if id_col is None:
        raise FormatError(
            f"{path}, line {line0 + 1}: no probe id column (one of PROBE_ID, ID_REF, ProbeID)"
        )
    signal_cols, det_cols = _array_columns(names, id_col)
    if not signal_cols:
        raise FormatError(f"{path}, line {line0 + 1}: no AVG_Signal (or sample) columns")
    if arrays is not None:
        missing = [a for a in arrays if a not in signal_cols]
        if missing:
            raise FormatError(
                f"{path}, line {line0 + 1}: no column {missing[0] + '.AVG_Signal'!r} for array"
                f" {missing[0]!r} ({len(missing)} of {len(arrays)} arrays missing; the file has"
                f" {', '.join(list(signal_cols)[:4])}{' ...' if len(signal_cols) > 4 else ''})"
            )
        signal_cols = {a: signal_cols[a] for a in arrays}
        det_cols = {a: det_cols[a] for a in arrays if a in det_cols}
    ann_cols = [n for n in names if n.upper() in ANNOTATION_COLUMNS and n != id_col]
    used = [id_col, *ann_cols, *signal_cols.values(), *det_cols.values()]
    table = read_table(
        path,
        line0,
        names,
        list(dict.fromkeys(used)),
        quoting=QUOTE_MINIMAL,
        numeric=[*signal_cols.values(), *det_cols.values()],
    )
    first_line = line0 + 2
    ids = table[id_col].str.strip()
    empty = (ids == "").to_numpy()
    if empty.any():
        raise FormatError(
            f"{path}, line {first_line + int(np.flatnonzero(empty)[0])}: empty probe id"
        )
    dup = ids.duplicated().to_numpy()
    if dup.any():
        row = int(np.flatnonzero(dup)[0])
        raise FormatError(f"{path}, line {first_line + row}: duplicate probe id {ids.iat[row]!r}")
    index = pd.Index(ids.to_numpy(), name="probe")
    sig = numeric_columns(table, list(signal_cols.values()), path=path, first_line=first_line)
    signal = pd.DataFrame(sig, index=index, columns=list(signal_cols))
    # Detection p-values of the arrays that have them (None when none has);
    # users of an array without them get the error naming its column.
    detection = None
    if det_cols:
        det = numeric_columns(table, list(det_cols.values()), path=path, first_line=first_line)
        detection = pd.DataFrame(det, index=index, columns=list(det_cols))
    annotation = table[ann_cols].set_axis(index, axis=0)
    return ProbeProfile(
        path, index, signal, detection, annotation, header, first_line, dict(signal_cols)
    )


def _array_columns(names: list[str], id_col: str) -> tuple[dict[str, str], dict[str, str]]:
    """Array name -> signal column, array name -> detection column."""
    signal: dict[str, str] = {}
    detection: dict[str, str] = {}
    if any(_SIGNAL.match(n) for n in names):
        for n in names:
            if m := _SIGNAL.match(n):
                signal[m.group("name")] = n
        for n in names:
            m = _DETECTION.match(n)
            if m and m.group("name") in signal:
                detection[m.group("name")] = n
        return signal, detection
    # GEO layout: <sample> then its "Detection Pval" column; the repeated
    # detection names are told apart by their occurrence (column_key).
    previous = None
    seen: dict[str, int] = {}
    for n in names:
        upper = n.upper()
        if n == id_col or upper in ANNOTATION_COLUMNS or _IGNORED.search(n):
            previous = None
            continue
        if _GEO_DETECTION.match(n):
            occurrence = seen.get(n, 0)
            seen[n] = occurrence + 1
            if previous is not None:
                detection[previous] = column_key(n, occurrence)
            previous = None
            continue
        signal[n] = n
        previous = n
    if detection:
        # Samples come in (<sample>, Detection Pval) pairs: other unpaired
        # columns (DEFINITION, CHROMOSOME, ...) are annotation, not arrays.
        signal = {k: v for k, v in signal.items() if k in detection}
    return signal, detection


def combine_profiles(profiles: Sequence[ProbeProfile]) -> ProbeProfile:
    """Bind the arrays of several profiles of the same probes (``cbind``).

    Raises
    ------
    FormatError
        Different BeadChip manifests (mixed platforms), different probe
        lists (the first differing probe named), or an array in two files.
    """
    first = profiles[0]
    for other in profiles[1:]:
        if first.platform and other.platform and first.platform != other.platform:
            raise FormatError(
                f"mixed platforms: {first.path} is {first.platform!r},"
                f" {other.path} is {other.platform!r}"
            )
        if not other.ids.equals(first.ids):
            n = min(len(first.ids), len(other.ids))
            diff = np.flatnonzero(first.ids[:n].to_numpy() != other.ids[:n].to_numpy())
            k = int(diff[0]) if diff.size else n
            a = first.ids[k] if k < len(first.ids) else "(end of file)"
            b = other.ids[k] if k < len(other.ids) else "(end of file)"
            raise FormatError(
                f"{other.path}: probe list differs from {first.path} at probe {k + 1}:"
                f" {b!r} instead of {a!r}"
            )
        clash = set(first.signal.columns) & set(other.signal.columns)
        if clash:
            raise FormatError(f"{other.path}: array {sorted(clash)[0]!r} also in {first.path}")
    signal = pd.concat([p.signal for p in profiles], axis=1)
    det = None
    if all(p.detection is not None for p in profiles):
        det = pd.concat([p.detection for p in profiles], axis=1)
    columns = {k: v for p in profiles for k, v in p.signal_columns.items()}
    # Lines are those of the first file (all files list the same probes).
    return ProbeProfile(
        first.path, first.ids, signal, det, first.annotation, first.header,
        first.first_line, columns,
    )  # fmt: skip


# --------------------------------------------------------------------------- neqc


@dataclass(frozen=True)
class NeqcResult:
    """Output of :func:`neqc`.

    Attributes
    ----------
    expression
        Regular probes x arrays, log2.
    detection
        Detection p-values of the regular probes (or None).
    parameters
        Arrays x (``mu``, ``log_sigma``, ``log_alpha``): the normexp parameters.
    method
        ``"control"`` (negative controls) or ``"detection"`` (detection p-values).
    n_negative
        Negative-control probes used.
    """

    expression: pd.DataFrame
    detection: pd.DataFrame | None
    parameters: pd.DataFrame
    method: str
    n_negative: int


def negative_controls(control: ProbeProfile, status_column: str | None = None) -> np.ndarray:
    """Boolean mask of the control profile's negative controls.

    The status column is ``status_column`` or, as limma's ``read.ilmn`` does,
    the annotation column with the most ``negative`` entries (``TargetID``).
    """
    ann = control.annotation
    if status_column is not None:
        if status_column not in ann.columns:
            raise FormatError(f"{control.path}: no column {status_column!r}")
        return ann[status_column].str.lower().eq("negative").to_numpy()
    best = np.zeros(len(ann), dtype=bool)
    for col in ann.columns:
        mask = ann[col].str.lower().eq("negative").to_numpy()
        if mask.sum() > best.sum():
            best = mask
    return best


def neqc(
    regular: ProbeProfile,
    control: ProbeProfile | None = None,
    *,
    offset: float = 16.0,
    require_controls: bool = False,
    status_column: str | None = None,
    allow_negative: bool = True,
) -> NeqcResult:
    """limma's ``neqc`` on a sample probe profile and its control profile.

    Parameters
    ----------
    regular
        The sample probe profile.
    control
        The control probe profile with the same arrays, or None.
    offset
        Added after background correction (limma: 16).
    require_controls
        Raise instead of warning when there are no negative controls.
    status_column
        Control-profile column whose ``NEGATIVE`` entries mark negative controls
        (default: the column with the most of them).
    allow_negative
        Accept negative intensities (GenomeStudio background-subtracted exports).

    Returns
    -------
    NeqcResult

    Raises
    ------
    FormatError
        Non-finite intensities, arrays missing from the control profile, no
        negative controls when ``require_controls``, no detection p-values
        when they are needed.
    """
    arrays = list(regular.signal.columns)
    x_reg = regular.signal.to_numpy()
    regular.check_signals(arrays, allow_negative=allow_negative)
    x_neg = np.empty((0, len(arrays)))
    x_ctrl = np.empty((0, len(arrays)))
    if control is not None:
        missing = [a for a in arrays if a not in control.signal.columns]
        if missing:
            raise FormatError(
                f"{control.path}: no column {missing[0] + '.AVG_Signal'!r} for array"
                f" {missing[0]!r} of the sample probe profile"
            )
        x_ctrl = control.signal[arrays].to_numpy()
        control.check_signals(arrays, allow_negative=allow_negative)
        x_neg = x_ctrl[negative_controls(control, status_column)]
    if x_neg.shape[0] >= 2:
        par = normexp_fit_control(x_reg, x_neg)
        method = "control"
    else:
        where = (
            "no control probe profile"
            if control is None
            else (f"{control.path} has {x_neg.shape[0]} negative control probe(s)")
        )
        if require_controls:
            raise FormatError(f"neqc: {where}; at least two NEGATIVE controls are needed")
        if regular.detection is None:
            raise FormatError(
                f"{regular.path}: {where} and no Detection Pval columns to infer the"
                " background from"
            )
        warnings.warn(
            f"neqc: {where}; inferring the negative-control distribution from the"
            " detection p-values (limma's nec)",
            UserWarning,
            stacklevel=2,
        )
        par = normexp_fit_detection_p(x_reg, regular.detection[arrays].to_numpy())
        method = "detection"
    # Parameters broadcast over the last axis: one row per array.
    corrected = normexp_signal(par, np.vstack([x_reg, x_ctrl]))
    normalized = normalize_quantiles(corrected + offset)
    with np.errstate(divide="ignore", invalid="ignore"):
        logged = np.log2(normalized[: x_reg.shape[0]])
    expression = pd.DataFrame(logged, index=regular.ids, columns=arrays)
    parameters = pd.DataFrame(
        par, index=pd.Index(arrays, name="array"), columns=["mu", "log_sigma", "log_alpha"]
    )
    det = None if regular.detection is None else regular.detection[arrays]
    return NeqcResult(expression, det, parameters, method, int(x_neg.shape[0]))


def detection_filter(
    detection: pd.DataFrame, signal: pd.DataFrame, *, threshold: float, min_arrays: int
) -> np.ndarray:
    """Probes detected (p < ``threshold``) on at least ``min_arrays`` arrays.

    Detection scores (``1 - p``, high = detected; older GenomeStudio
    versions) are recognised as limma does, from the first array (the
    brightest probe has the larger value), and turned into p-values first.
    """
    p = detection.to_numpy(dtype=np.float64)
    y = signal.to_numpy(dtype=np.float64)[:, 0]
    if p[np.nanargmax(y), 0] > p[np.nanargmin(y), 0]:
        p = 1.0 - p
    return (p < threshold).sum(axis=1) >= min_arrays
